"""Architectures of segmentation-models-pytorch (SMP), usable when that package imports.

SMP is an optional extra (``pip install "segscore[smp]"``, i.e. ``segmentation-models-pytorch``
with ``timm`` and ``torchvision``). Models are built with random weights (``encoder_weights=None``):
nothing is downloaded. SMP encoders need sizes divisible by 32; :class:`PadToMultiple` pads the
input and crops the logits back, so any image size works as with the built-in U-Net.
"""

from __future__ import annotations

import importlib
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from segscore.errors import InputError

__all__ = ["PadToMultiple", "build_smp", "import_smp"]

EXTRA_HINT = 'install the "smp" extra: pip install segmentation-models-pytorch timm torchvision'


class PadToMultiple(nn.Module):
    """Wrap a segmentation network: pad inputs to a multiple, crop the output back.

    Parameters
    ----------
    net : nn.Module
        Maps (N, C, H, W) to (N, K, H, W) for H, W multiples of ``multiple``.
    multiple : int
        Input sizes are padded (reflect, or zeros when too small) to a multiple of this.
    spec : dict
        Constructor record stored in checkpoints.

    Examples
    --------
    >>> m = PadToMultiple(torch.nn.Conv2d(1, 1, 1), 32, {"arch": "conv"})
    >>> m(torch.zeros(1, 1, 37, 53)).shape
    torch.Size([1, 1, 37, 53])
    """

    def __init__(self, net: nn.Module, multiple: int, spec: dict[str, Any]) -> None:
        super().__init__()
        self.net = net
        self.multiple = int(multiple)
        self._spec = dict(spec)
        self.out_channels = int(spec.get("out_channels", 1))

    def spec(self) -> dict[str, Any]:
        """Return the constructor record stored in checkpoints."""
        return dict(self._spec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pad, run the wrapped network, crop back to the input size."""
        h, w = int(x.shape[-2]), int(x.shape[-1])
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        pads = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "constant"
            x = F.pad(x, pads, mode=mode)
        out: torch.Tensor = self.net(x)
        return out[..., pads[2] : pads[2] + h, pads[0] : pads[0] + w]

    def activation(self, logits: torch.Tensor) -> torch.Tensor:
        """Sigmoid (one channel) or softmax over channels."""
        if self.out_channels == 1:
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=1)


def import_smp() -> Any:
    """Import segmentation-models-pytorch, or raise an InputError naming the extra."""
    try:
        return importlib.import_module("segmentation_models_pytorch")
    except Exception as exc:  # ImportError, or a broken install of its dependencies
        raise InputError(
            f"`arch` 'smp:...' needs segmentation-models-pytorch, which cannot be imported here "
            f"({type(exc).__name__}: {exc}); {EXTRA_HINT}."
        ) from None


def build_smp(
    architecture: str, *, encoder: str, in_channels: int, out_channels: int
) -> PadToMultiple:
    """Build an SMP model (random weights) wrapped in :class:`PadToMultiple` (32).

    Parameters
    ----------
    architecture : str
        SMP class name, e.g. ``"Unet"``, ``"FPN"``, ``"DeepLabV3Plus"``.
    encoder : str
        SMP encoder name, e.g. ``"resnet18"``.
    in_channels, out_channels : int
        Image channels and output channels (1 binary, C classes).

    Raises
    ------
    InputError
        If segmentation-models-pytorch cannot be imported (the message names the extra), or the
        architecture is unknown.
    """
    smp = import_smp()
    cls = getattr(smp, architecture, None)
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise InputError(
            f"`arch` must name a segmentation-models-pytorch architecture such as 'smp:Unet', "
            f"got 'smp:{architecture}'."
        )
    net = cls(
        encoder_name=encoder,
        encoder_weights=None,
        in_channels=in_channels,
        classes=out_channels,
        activation=None,
    )
    spec = {
        "arch": f"smp:{architecture}",
        "encoder": encoder,
        "in_channels": in_channels,
        "out_channels": out_channels,
    }
    return PadToMultiple(net, 32, spec)

"""A compact U-Net for 2-D segmentation that accepts any image size.

The network pads its input inside ``forward`` to a multiple of ``2**depth`` (reflect padding, or
zeros where the image is too small to reflect) and crops the logits back, so callers never have to
resize or pad images themselves. It returns logits; :meth:`UNet.activation` turns them into
probabilities (sigmoid for one output channel, softmax over classes otherwise).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PaddingMode", "UNet", "count_parameters"]

PaddingMode = Literal["reflect", "zeros"]


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters of ``model``.

    Examples
    --------
    >>> count_parameters(torch.nn.Conv2d(1, 2, kernel_size=3))
    20
    """
    return sum(int(p.numel()) for p in model.parameters() if p.requires_grad)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015) with batch norm, max pooling and transposed convolutions.

    Parameters
    ----------
    in_channels : int, default 1
        Image channels (1 gray, 3 RGB).
    out_channels : int, default 1
        1 for a binary mask (sigmoid), ``C >= 2`` for ``C`` classes (softmax).
    base_channels : int, default 16
        Width of the first encoder block; each level doubles it.
    depth : int, default 3
        Number of down-sampling steps; inputs are padded to a multiple of ``2**depth``.
    padding : {'reflect', 'zeros'}, default 'reflect'
        How the input is padded to that multiple (reflect falls back to zeros on tiny images).

    Examples
    --------
    >>> net = UNet(in_channels=1, out_channels=1, base_channels=4, depth=2)
    >>> net(torch.zeros(2, 1, 37, 53)).shape
    torch.Size([2, 1, 37, 53])
    >>> [name for name, _ in net.stages(torch.zeros(1, 1, 8, 8))]
    ['input', 'padded', 'encoder 1', 'encoder 2', 'bottleneck', 'decoder 2', 'decoder 1', 'logits']
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        *,
        base_channels: int = 16,
        depth: int = 3,
        padding: PaddingMode = "reflect",
    ) -> None:
        super().__init__()
        for name, value, low in (
            ("in_channels", in_channels, 1),
            ("out_channels", out_channels, 1),
            ("base_channels", base_channels, 1),
            ("depth", depth, 1),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                from segscore._validation import fail

                fail(f"`{name}` must be an integer >= {low}, got {value!r}.")
        if padding not in ("reflect", "zeros"):
            from segscore._validation import fail

            fail(f"`padding` must be one of 'reflect', 'zeros', got {padding!r}.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.base_channels = base_channels
        self.depth = depth
        self.padding = padding
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.encoders = nn.ModuleList()
        c_prev = in_channels
        for w in widths[:-1]:
            self.encoders.append(_block(c_prev, w))
            c_prev = w
        self.bottleneck = _block(widths[-2], widths[-1])
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in reversed(range(depth)):
            self.ups.append(nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size=2, stride=2))
            self.decoders.append(_block(2 * widths[i], widths[i]))
        self.head = nn.Conv2d(widths[0], out_channels, kernel_size=1)

    @property
    def multiple(self) -> int:
        """Input sizes are padded to a multiple of this number (``2**depth``)."""
        return int(2**self.depth)

    def spec(self) -> dict[str, Any]:
        """Return the constructor arguments, as stored in checkpoints."""
        return {
            "arch": "unet",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "base_channels": self.base_channels,
            "depth": self.depth,
            "padding": self.padding,
        }

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        h, w = int(x.shape[-2]), int(x.shape[-1])
        m = self.multiple
        ph, pw = (-h) % m, (-w) % m
        if ph == 0 and pw == 0:
            return x
        pads = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
        if self.padding == "reflect" and ph < h and pw < w:
            return F.pad(x, pads, mode="reflect")
        return F.pad(x, pads, mode="constant", value=0.0)

    def _run(self, x: torch.Tensor, record: list[tuple[str, torch.Tensor]] | None) -> torch.Tensor:
        if x.ndim != 4 or int(x.shape[1]) != self.in_channels:
            from segscore._validation import fail

            fail(f"`x` must have shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}.")
        h, w = int(x.shape[-2]), int(x.shape[-1])
        y = self._pad(x)
        top, left = ((-h) % self.multiple) // 2, ((-w) % self.multiple) // 2
        if record is not None:
            record += [("input", x), ("padded", y)]
        skips = []
        for i, enc in enumerate(self.encoders):
            y = enc(y)
            skips.append(y)
            if record is not None:
                record.append((f"encoder {i + 1}", y))
            y = F.max_pool2d(y, 2)
        y = self.bottleneck(y)
        if record is not None:
            record.append(("bottleneck", y))
        for j, (up, dec) in enumerate(zip(self.ups, self.decoders, strict=True)):
            y = dec(torch.cat([up(y), skips[-1 - j]], dim=1))
            if record is not None:
                record.append((f"decoder {self.depth - j}", y))
        logits: torch.Tensor = self.head(y)[..., top : top + h, left : left + w]
        if record is not None:
            record.append(("logits", logits))
        return logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits of shape (N, out_channels, H, W) for images of shape (N, in_channels, H, W)."""
        return self._run(x, None)

    def stages(self, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """Return ``(name, tensor)`` for the input, padding, each block and the logits."""
        record: list[tuple[str, torch.Tensor]] = []
        self._run(x, record)
        return record

    def activation(self, logits: torch.Tensor) -> torch.Tensor:
        """Turn logits into probabilities: sigmoid (one channel) or softmax over channels."""
        if self.out_channels == 1:
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=1)

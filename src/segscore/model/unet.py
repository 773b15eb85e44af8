"""A compact U-Net for 2-D segmentation that accepts any image size.

The network pads its input inside ``forward`` to a multiple of :attr:`UNet.multiple` (reflect
padding, or zeros where the image is too small to reflect) and crops the logits back, so callers
never have to resize or pad images themselves. It returns logits; :meth:`UNet.activation` turns them
into probabilities (sigmoid for one output channel, softmax over classes otherwise).

Two stems: ``"conv"`` is the classic U-Net, whose first and last blocks (two 3x3 convolutions each)
run at the input's resolution; ``"space_to_depth"`` folds every 2x2 block of pixels into channels
first (:func:`torch.nn.functional.pixel_unshuffle`), runs all blocks at half resolution or less,
and returns to full resolution through one transposed convolution and a thin full-resolution path
(one 3x3 convolution of the input, then the 3x3 head). Full-resolution layers with few channels are
memory-bound on CPUs: at 128x128 the space-to-depth U-Net of the same widths costs about 40% of
the time per training step (docs/benchmarks.md, "The demo's time, session 6").
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "FULL_RESOLUTION_CHANNELS",
    "PaddingMode",
    "Stem",
    "UNet",
    "count_parameters",
    "padding_multiple",
]

PaddingMode = Literal["reflect", "zeros"]
Stem = Literal["conv", "space_to_depth"]

FULL_RESOLUTION_CHANNELS = 4
"""Width of each of the two full-resolution feature maps of the ``"space_to_depth"`` stem."""


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters of ``model``.

    Examples
    --------
    >>> count_parameters(torch.nn.Conv2d(1, 2, kernel_size=3))
    20
    """
    return sum(int(p.numel()) for p in model.parameters() if p.requires_grad)


def padding_multiple(depth: int, stem: Stem = "conv") -> int:
    """Return the number :class:`UNet` pads input sides to a multiple of.

    ``2**depth`` (one halving per level), times 2 for the ``"space_to_depth"`` stem, which halves
    the padded input once more before the first block.

    Examples
    --------
    >>> padding_multiple(3), padding_multiple(3, "space_to_depth")
    (8, 16)
    """
    return int(2 ** (depth + (1 if stem == "space_to_depth" else 0)))


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
    stem : {'conv', 'space_to_depth'}, default 'conv'
        ``'conv'``: the classic U-Net, its first encoder and last decoder block at full
        resolution. ``'space_to_depth'``: the padded input is folded into 2x2 blocks
        (``in_channels * 4`` channels at half the side) and every block runs at half resolution
        or less; a transposed convolution unfolds the last decoder block to
        :data:`FULL_RESOLUTION_CHANNELS` full-resolution channels, which are concatenated with as
        many channels of one 3x3 convolution (+ ReLU) of the input before the head, a 3x3
        convolution. Inputs are padded to a multiple of ``2**(depth + 1)``. About 40% of
        the training time of ``'conv'`` at the same widths on CPUs.

    Examples
    --------
    >>> net = UNet(in_channels=1, out_channels=1, base_channels=4, depth=2)
    >>> net(torch.zeros(2, 1, 37, 53)).shape
    torch.Size([2, 1, 37, 53])
    >>> [name for name, _ in net.stages(torch.zeros(1, 1, 8, 8))]
    ['input', 'padded', 'encoder 1', 'encoder 2', 'bottleneck', 'decoder 2', 'decoder 1', 'logits']
    >>> fast = UNet(base_channels=4, depth=2, stem="space_to_depth").eval()
    >>> fast(torch.zeros(2, 1, 37, 53)).shape, fast.multiple
    (torch.Size([2, 1, 37, 53]), 8)
    >>> [(name, tuple(t.shape[1:])) for name, t in fast.stages(torch.zeros(1, 1, 8, 8))]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('input', (1, 8, 8)), ('padded', (1, 8, 8)), ('folded', (4, 4, 4)), ('encoder 1', (4, 4, 4)),
     ('encoder 2', (8, 2, 2)), ('bottleneck', (16, 1, 1)), ('decoder 2', (8, 2, 2)),
     ('decoder 1', (4, 4, 4)), ('full resolution', (8, 8, 8)), ('logits', (1, 8, 8))]
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        *,
        base_channels: int = 16,
        depth: int = 3,
        padding: PaddingMode = "reflect",
        stem: Stem = "conv",
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
        if stem not in ("conv", "space_to_depth"):
            from segscore._validation import fail

            fail(f"`stem` must be one of 'conv', 'space_to_depth', got {stem!r}.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.base_channels = base_channels
        self.depth = depth
        self.padding = padding
        self.stem = stem
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.encoders = nn.ModuleList()
        c_prev = in_channels if stem == "conv" else 4 * in_channels
        for w in widths[:-1]:
            self.encoders.append(_block(c_prev, w))
            c_prev = w
        self.bottleneck = _block(widths[-2], widths[-1])
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in reversed(range(depth)):
            self.ups.append(nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size=2, stride=2))
            self.decoders.append(_block(2 * widths[i], widths[i]))
        if stem == "conv":
            self.head = nn.Conv2d(widths[0], out_channels, kernel_size=1)
        else:
            k = FULL_RESOLUTION_CHANNELS
            self.unfold = nn.ConvTranspose2d(widths[0], k, kernel_size=2, stride=2)
            self.full_resolution = nn.Sequential(
                nn.Conv2d(in_channels, k, kernel_size=3, padding=1), nn.ReLU(inplace=True)
            )
            self.head = nn.Conv2d(2 * k, out_channels, kernel_size=3, padding=1)

    @property
    def multiple(self) -> int:
        """Input sizes are padded to a multiple of this number.

        ``2**depth``, or ``2**(depth + 1)`` with the ``"space_to_depth"`` stem.
        """
        return padding_multiple(self.depth, self.stem)

    def spec(self) -> dict[str, Any]:
        """Return the constructor arguments, as stored in checkpoints.

        ``stem`` is recorded only when it is not ``"conv"``, so the record of a classic U-Net is
        the one checkpoints held before the option existed (they load and resume unchanged).
        """
        spec: dict[str, Any] = {
            "arch": "unet",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "base_channels": self.base_channels,
            "depth": self.depth,
            "padding": self.padding,
        }
        if self.stem != "conv":
            spec["stem"] = self.stem
        return spec

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
        padded = y
        if self.stem == "space_to_depth":
            y = F.pixel_unshuffle(y, 2)
            if record is not None:
                record.append(("folded", y))
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
        if self.stem == "space_to_depth":
            y = torch.cat([self.unfold(y), self.full_resolution(padded)], dim=1)
            if record is not None:
                record.append(("full resolution", y))
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

"""Text and pictures of a training run and of one prediction: epoch rows, loss chart, stage trace.

Functions here build strings and images; they print nothing and write no file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "EPOCH_HEADER",
    "STAGE_COLUMNS",
    "array_stats",
    "describe_array",
    "epoch_row",
    "loss_chart",
    "stage_lines",
    "stage_records",
    "stages_picture",
]

EPOCH_HEADER = "epoch | train loss    acc    IoU   Dice |  val loss    acc    IoU   Dice |   time"
"""Header of the epoch table (columns of :func:`epoch_row`)."""


def _f(value: float, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if math.isnan(value) else f"{value:>{width}.{digits}f}"


def epoch_row(record: Mapping[str, Any], seconds: float) -> str:
    """Format one epoch of the trace as a table row under :data:`EPOCH_HEADER`.

    Examples
    --------
    >>> row = {"epoch": 1, "train_loss": 0.65, "train_accuracy": 0.9, "train_iou": 0.5,
    ...        "train_dice": 0.6, "val_loss": 0.6, "val_accuracy": 0.91, "val_iou": 0.55,
    ...        "val_dice": float("nan")}
    >>> epoch_row(row, 3.21)
    '    1 |     0.6500  0.900  0.500  0.600 |    0.6000  0.910  0.550      - |   3.2s'
    """
    r = record
    return (
        f"{int(r['epoch']):>5} | {_f(r['train_loss'], 10, 4)} {_f(r['train_accuracy'], 6, 3)} "
        f"{_f(r['train_iou'], 6, 3)} {_f(r['train_dice'], 6, 3)} | {_f(r['val_loss'], 9, 4)} "
        f"{_f(r['val_accuracy'], 6, 3)} {_f(r['val_iou'], 6, 3)} {_f(r['val_dice'], 6, 3)} | "
        + (f"{seconds:>5.1f}s" if math.isfinite(seconds) else "     -")
    )


def loss_chart(losses: Sequence[float], *, width: int = 40, label: str = "loss") -> str:
    """Draw an ASCII bar chart of the loss per epoch, bars scaled to the largest loss.

    Examples
    --------
    >>> print(loss_chart([0.65, 0.4, 0.1], width=10))
    epoch  loss
        1  0.650 |**********
        2  0.400 |******
        3  0.100 |**
    """
    values = [float(v) for v in losses]
    finite = [v for v in values if math.isfinite(v)]
    top = max(finite) if finite else 1.0
    lines = [f"epoch  {label}"]
    for i, v in enumerate(values, start=1):
        n = 0 if not math.isfinite(v) or top <= 0 else max(1, round(width * v / top))
        lines.append(f"{i:>5}  {v:.3f} |{'*' * n}")
    return "\n".join(lines)


def _numpy(array: Any) -> NDArray[Any]:
    return array.detach().cpu().numpy() if hasattr(array, "detach") else np.asarray(array)


def array_stats(array: Any) -> dict[str, Any]:
    """Shape, dtype and the min, max and mean of an array or tensor (None when it is empty).

    Examples
    --------
    >>> array_stats(np.array([[0.25, 1.0]], dtype=np.float32))
    {'shape': (1, 2), 'dtype': 'float32', 'min': 0.25, 'max': 1.0, 'mean': 0.625}
    """
    a = _numpy(array)
    empty = a.size == 0
    return {
        "shape": tuple(int(s) for s in a.shape),
        "dtype": str(a.dtype),
        "min": None if empty else float(a.min()),
        "max": None if empty else float(a.max()),
        "mean": None if empty else float(a.mean(dtype=np.float64)),
    }


def describe_array(array: Any, *, mean: bool = False) -> str:
    """Shape, dtype and value range of an array or tensor (and its mean), in one short string.

    Examples
    --------
    >>> describe_array(np.array([[0.25, 1.0]], dtype=np.float32))
    'shape (1, 2) float32 range [0.25, 1]'
    >>> describe_array(np.array([[0.25, 1.0]], dtype=np.float32), mean=True)
    'shape (1, 2) float32 range [0.25, 1] mean 0.625'
    """
    st = array_stats(array)
    if st["min"] is None:
        return f"shape {st['shape']} {st['dtype']} (empty)"
    text = f"shape {st['shape']} {st['dtype']} range [{st['min']:.4g}, {st['max']:.4g}]"
    return f"{text} mean {st['mean']:.4g}" if mean else text


def stage_lines(stages: Sequence[tuple[str, Any]]) -> list[str]:
    """One line per stage: ``name: shape dtype range [min, max] mean``.

    Examples
    --------
    >>> stage_lines([("input", np.zeros((1, 2, 2), np.float32))])
    ['input       shape (1, 2, 2) float32 range [0, 0] mean 0']
    """
    width = max(11, *(len(name) + 1 for name, _ in stages))
    return [f"{name:<{width}} {describe_array(a, mean=True)}" for name, a in stages]


STAGE_COLUMNS = ("stage", "shape", "dtype", "min", "max", "mean")
"""The columns of :func:`stage_records` (the demo's ``stages.csv``)."""


def stage_records(stages: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """One record per stage with the columns of :data:`STAGE_COLUMNS` (shape as ``'1x8x8'``).

    Examples
    --------
    >>> stage_records([("logits", np.array([[-1.0, 3.0]]))])
    [{'stage': 'logits', 'shape': '1x2', 'dtype': 'float64', 'min': -1.0, 'max': 3.0, 'mean': 1.0}]
    """
    records = []
    for name, a in stages:
        st = array_stats(a)
        records.append({**st, "stage": name, "shape": "x".join(str(n) for n in st["shape"])})
    return [{k: r[k] for k in STAGE_COLUMNS} for r in records]


def _panel(a: NDArray[Any], side: int) -> NDArray[np.uint8]:
    """Make a gray panel: the mean over channels (and batch), min-max scaled to 0..255, side × side."""
    x = np.asarray(a, dtype=np.float64)
    while x.ndim > 2:
        x = x.mean(axis=0)
    lo, hi = float(x.min()), float(x.max())
    scaled = np.zeros(x.shape) if hi <= lo else (x - lo) / (hi - lo)
    img = (scaled * 255).round().astype(np.uint8)
    rows = (np.arange(side) * img.shape[0] // side).clip(0, img.shape[0] - 1)
    cols = (np.arange(side) * img.shape[1] // side).clip(0, img.shape[1] - 1)
    panel: NDArray[np.uint8] = img[np.ix_(rows, cols)]
    return panel


def stages_picture(stages: Sequence[tuple[str, Any]], *, side: int = 128) -> Any:
    """Draw a row of panels, one per stage, each titled with its name and shape (a ``PIL.Image``).

    Feature maps show the mean over channels, scaled to their own range (nearest-neighbour
    resized to ``side`` pixels).
    """
    from PIL import Image, ImageDraw

    title = 28
    gap = 6
    n = len(stages)
    canvas = Image.new("L", (n * side + (n + 1) * gap, side + title + gap), color=255)
    draw = ImageDraw.Draw(canvas)
    for k, (name, a) in enumerate(stages):
        arr = _numpy(a)
        x0 = gap + k * (side + gap)
        canvas.paste(Image.fromarray(_panel(arr, side)), (x0, title))
        shape = "x".join(str(int(s)) for s in arr.shape)
        draw.text((x0, 2), name, fill=0)
        draw.text((x0, 14), shape, fill=0)
    return canvas

"""Counting on torch tensors, on the tensors' own device (CPU or CUDA).

Imported by :func:`segscore.confusion` only when a tensor arrives, so ``import segscore`` never
imports torch. The masks stay on their device; only the (N, C) counts and a few scalars used for
validation come back to the host. The rules and messages are those of the numpy path.

CPU tensors whose dtype numpy shares are counted by the numpy path on a zero-copy view (the
compiled kernel): torch's CPU bincount is single-threaded and needs several int64 temporaries,
so 200 label maps of 512x512 took 7.5 s that way against 14 ms. The device path below serves
CUDA, and CPU tensors when the caller passes ``cpu_counting="torch"`` (the tests do, to check
it equal on machines without CUDA).

This module imports :mod:`segscore.metrics.counts`, never :mod:`segscore.metrics.counting`
(which imports it when a tensor arrives).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch

from segscore._types import Comparison, CpuCounting
from segscore._validation import (
    check_finite_probabilities,
    check_not_empty,
    check_same_shape,
    fail,
    fail_binary_values,
    fail_labels,
)
from segscore.metrics.counts import (
    CountingSpec,
    Counts,
    Mode,
    _batch_shape,
    count_arrays,
)
from segscore.metrics.options import CountingOptions, above_threshold

__all__ = ["TensorCounts", "confusion_torch", "count_torch"]

_NUMPY_DTYPES = {
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.float16,
    torch.float32,
    torch.float64,
}


@dataclass(frozen=True)
class TensorCounts:
    """Confusion counts as int64 torch tensors of shape (N, C), on the inputs' device.

    Attributes
    ----------
    tp, fp, fn, tn : torch.Tensor of int64, shape (N, C)
        As the fields of :class:`~segscore.metrics.counts.Counts`.
    spec : CountingSpec
        How the counts were made.
    """

    tp: torch.Tensor
    fp: torch.Tensor
    fn: torch.Tensor
    tn: torch.Tensor
    spec: CountingSpec

    def stacked(self) -> torch.Tensor:
        """Return the four fields stacked into one (4, N, C) tensor."""
        return torch.stack([self.tp, self.fp, self.fn, self.tn])

    def to_counts(self) -> Counts:
        """Copy the counts to the host (one transfer) as :class:`~segscore.metrics.counts.Counts`."""
        out = _to_numpy(self.stacked())
        return Counts(out[0], out[1], out[2], out[3], self.spec)


def _as_binary(
    name: str, x: torch.Tensor, threshold: float, comparison: Comparison, is_target: bool
) -> torch.Tensor:
    if x.dtype == torch.bool:
        return x
    if x.is_floating_point():
        finite = torch.isfinite(x)
        n_bad = int(x.numel() - int(finite.sum()))
        if is_target:
            if n_bad or not bool(((x == 0) | (x == 1)).all()):
                values = torch.unique(x[finite]).cpu().numpy()[:9] if n_bad == 0 else [np.nan]
                fail_binary_values(name, values)
            return x != 0
        low = float(x.min()) if n_bad == 0 else 0.0
        high = float(x.max()) if n_bad == 0 else 0.0
        check_finite_probabilities(name, low, high, n_bad)
        return cast(torch.Tensor, above_threshold(x, threshold, comparison))
    if x.is_complex():
        fail(f"`{name}` must be a bool, integer or float tensor, got dtype {x.dtype}.")
    low, high = int(x.min()), int(x.max())
    if (low < 0 or high > 1) and (low < 0 or high != 255 or bool(((x != 0) & (x != 255)).any())):
        fail_binary_values(name, torch.unique(x).cpu().numpy())
    return x != 0


def _check_labels(name: str, x: torch.Tensor, num_classes: int, ignore_index: int | None) -> None:
    if x.is_floating_point() or x.is_complex():
        fail(
            f"`{name}` must be an integer label map when `num_classes` is set, got dtype {x.dtype} "
            "(for probabilities, take the argmax over the class axis first)."
        )
    if x.dtype == torch.bool:
        if num_classes < 2 and bool(x.any()):
            fail_labels(name, [1], num_classes, ignore_index)
        return
    low, high = int(x.min()), int(x.max())
    if low < 0 or high >= num_classes:
        labels = torch.unique(x).cpu().numpy()
        bad = labels[((labels < 0) | (labels >= num_classes)) & (labels != ignore_index)]
        if bad.size:
            fail_labels(name, bad, num_classes, ignore_index)


def _to_numpy(x: torch.Tensor) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.ascontiguousarray(x.to(torch.int64).cpu().numpy())


def _check_pair(pred: Any, target: Any) -> None:
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        fail(
            "`pred` and `target` must both be torch tensors or both be arrays, got "
            f"{type(pred).__name__} and {type(target).__name__}."
        )
    if pred.device != target.device:
        fail(
            f"`pred` and `target` must be on the same device, got {pred.device} and {target.device}."
        )


def _count(
    pred: Any, target: Any, options: CountingOptions, *, cpu_counting: CpuCounting = "kernel"
) -> Counts | TensorCounts:
    """Count a pair of tensors: numpy ``Counts`` from the numpy path, else ``TensorCounts``.

    With ``cpu_counting="kernel"``, CPU tensors of a dtype numpy shares are counted by the numpy
    engine on zero-copy views (the compiled kernel); others (CUDA, bfloat16, or every tensor with
    ``cpu_counting="torch"``) by torch operations on their device.
    """
    _check_pair(pred, target)
    pred, target = pred.detach(), target.detach()  # counting never needs their gradients
    if (
        cpu_counting == "kernel"
        and pred.device.type == "cpu"
        and pred.dtype in _NUMPY_DTYPES
        and target.dtype in _NUMPY_DTYPES
    ):
        return count_arrays(pred.numpy(), target.numpy(), options)
    return _count_on_device(pred, target, options)


def confusion_torch(
    pred: Any, target: Any, options: CountingOptions, *, cpu_counting: CpuCounting = "kernel"
) -> Counts:
    """Count like :func:`segscore.confusion` on torch tensors; the counts as numpy ``Counts``."""
    counted = _count(pred, target, options, cpu_counting=cpu_counting)
    return counted if isinstance(counted, Counts) else counted.to_counts()


def count_torch(
    pred: Any, target: Any, options: CountingOptions, *, cpu_counting: CpuCounting = "kernel"
) -> TensorCounts:
    """Count like :func:`segscore.confusion`; the counts stay on the tensors' device (int64)."""
    counted = _count(pred, target, options, cpu_counting=cpu_counting)
    if isinstance(counted, TensorCounts):
        return counted
    assert counted.spec is not None
    tp, fp, fn, tn = (torch.from_numpy(a) for a in (counted.tp, counted.fp, counted.fn, counted.tn))
    return TensorCounts(tp, fp, fn, tn, counted.spec)


def _count_on_device(
    pred: torch.Tensor, target: torch.Tensor, options: CountingOptions
) -> TensorCounts:
    """Count on the tensors' device; only validation scalars come to the host."""
    num_classes, threshold = options.num_classes, options.threshold
    ignore_index, multilabel = options.ignore_index, options.multilabel
    check_same_shape(tuple(pred.shape), tuple(target.shape))
    shape = _batch_shape("pred", tuple(pred.shape), options.spatial_dims, channel_axis=multilabel)
    check_not_empty("pred", tuple(pred.shape))
    if num_classes is None:
        mode: Mode = "multilabel" if multilabel else "binary"
        cols = shape[1] if multilabel else 1
        rows = shape[0] * cols
        comparison = options.threshold_test
        p = _as_binary("pred", pred, threshold, comparison, is_target=False).reshape(rows, -1)
        t = _as_binary("target", target, threshold, comparison, is_target=True).reshape(rows, -1)
        tp = (p & t).sum(dim=1, dtype=torch.int64).reshape(-1, cols)
        predicted = p.sum(dim=1, dtype=torch.int64).reshape(-1, cols)
        support = t.sum(dim=1, dtype=torch.int64).reshape(-1, cols)
        n_pix = int(p.shape[1])
        fp = predicted - tp
        fn = support - tp
        is_float = pred.is_floating_point()
        spec = CountingSpec(
            mode,
            cols,
            threshold if is_float else None,
            None,
            comparison if is_float else None,
        )
        return TensorCounts(tp, fp, fn, n_pix - tp - fp - fn, spec)
    c = num_classes
    _check_labels("pred", pred, c, ignore_index)
    _check_labels("target", target, c, ignore_index)
    n = shape[0]
    t64 = target.reshape(n, -1).to(torch.int64)
    p64 = pred.reshape(n, -1).to(torch.int64)
    rows_t = torch.arange(n, device=t64.device, dtype=torch.int64)[:, None].expand_as(t64) * c
    keep = torch.ones_like(t64, dtype=torch.bool) if ignore_index is None else t64 != ignore_index
    # Per-class counts straight from three bincounts on the device: memory O(N C), not O(N C²).
    # A prediction of the ignore label (outside [0, C)) is "no class": a miss, no false positive.
    hit = keep & (p64 == t64)
    in_range = keep & (p64 >= 0) & (p64 < c)
    size = n * c
    tp_m = torch.bincount((rows_t + t64)[hit], minlength=size).reshape(n, c)
    predicted = torch.bincount((rows_t + p64)[in_range], minlength=size).reshape(n, c)
    support = torch.bincount((rows_t + t64)[keep], minlength=size).reshape(n, c)
    fp_m = predicted - tp_m
    fn_m = support - tp_m
    total = keep.sum(dim=1, dtype=torch.int64)[:, None]
    return TensorCounts(
        tp_m.contiguous(),
        fp_m,
        fn_m,
        total - tp_m - fp_m - fn_m,
        CountingSpec("multiclass", c, None, ignore_index),
    )

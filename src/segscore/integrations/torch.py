"""Exact counts in a training loop: an accumulator that keeps int64 counts on the tensors' device.

:class:`TensorEvaluator` counts each batch where the tensors live (CPU or CUDA) and appends the
batch's per-image rows as an int64 tensor on that device: no host copy per batch (only the few
scalars of input validation are read). At the end the ``(N, C)`` counts move to the host once, and
any metric under any aggregation of :func:`segscore.score` is computed from them.

Importing this module imports torch; ``import segscore`` does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from segscore._types import CPU_COUNTINGS, Aggregation, Comparison, CpuCounting
from segscore._validation import (
    check_option,
    fail,
    fail_changed,
    fail_merge,
    fail_must,
)
from segscore.metrics._torch_counts import TensorCounts, count_torch
from segscore.metrics.counts import CountingSpec, Counts, _batch_shape
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.options import CountingOptions, resolve_options
from segscore.metrics.reduce import Score, score

__all__ = ["TensorCounts", "TensorEvaluator"]


@dataclass(frozen=True)
class _Layout:
    """What every update of one accumulator must share."""

    device: torch.device
    dtypes: tuple[torch.dtype, torch.dtype]
    image_shape: tuple[int, ...]


class _UpdateGuard:
    """Checks that the updates of an accumulator agree; shared with the torchmetrics adapter."""

    def __init__(
        self, options: CountingOptions, fixed_shape: bool, cpu_counting: CpuCounting
    ) -> None:
        check_option("cpu_counting", cpu_counting, CPU_COUNTINGS)
        self.options = options
        self.fixed_shape = fixed_shape
        self.cpu_counting: CpuCounting = cpu_counting
        self.layout: _Layout | None = None
        self.spec: CountingSpec | None = None

    def reset(self) -> None:
        self.layout = None
        self.spec = None

    def count(self, pred: Any, target: Any) -> tuple[TensorCounts, _Layout]:
        """Validate a batch against the earlier ones and count it on its device (state unchanged)."""
        for name, value in (("pred", pred), ("target", target)):
            if not isinstance(value, torch.Tensor):
                fail_must(name, "be a torch tensor", type(value).__name__)
        layout = _Layout(
            pred.device,
            (pred.dtype, target.dtype),
            _batch_shape(
                "pred",
                tuple(pred.shape),
                self.options.spatial_dims,
                channel_axis=self.options.multilabel,
            )[1:],
        )
        first = self.layout
        if first is not None:
            if layout.device != first.device:
                fail_changed("device", first.device, layout.device)
            if layout.dtypes != first.dtypes:
                fail_changed(
                    "dtypes (pred, target)",
                    f"({first.dtypes[0]}, {first.dtypes[1]})",
                    f"({layout.dtypes[0]}, {layout.dtypes[1]})",
                )
            if self.fixed_shape and layout.image_shape != first.image_shape:
                fail_changed(
                    "image shape (set `fixed_shape=False` to allow sizes to vary)",
                    first.image_shape,
                    layout.image_shape,
                )
        counts = count_torch(pred, target, self.options, cpu_counting=self.cpu_counting)
        if self.spec is not None and counts.spec.num_classes != self.spec.num_classes:
            fail_changed("number of classes", self.spec.num_classes, counts.spec.num_classes)
        return counts, layout

    def accept(self, layout: _Layout, spec: CountingSpec) -> None:
        """Record the layout of the first accepted batch."""
        if self.layout is None:
            self.layout, self.spec = layout, spec


class TensorEvaluator:
    """Accumulate exact confusion counts of torch tensors on their own device.

    Parameters
    ----------
    options : CountingOptions, optional
        What is counted (:mod:`segscore.metrics.options`), fixed for the accumulator's life.
    num_classes, threshold, ignore_index, multilabel, spatial_dims, threshold_comparison
        As for :func:`segscore.confusion`: keywords that build ``options`` (not with it).
    fixed_shape : bool, default True
        Every update must have the same image shape (a changed shape usually means a wrong axis
        order). Set False for datasets of varying image sizes.
    cpu_counting : {'kernel', 'torch'}, default 'kernel'
        How CPU tensors are counted: by the compiled kernel on zero-copy views, or by torch
        operations as CUDA tensors are. The counts are the same; the kernel is much faster.

    Attributes
    ----------
    rows : TensorCounts
        All rows so far, on the device, int64 tensors of shape (N, C).
    counts : Counts
        All rows so far, on the host (one transfer), as :class:`~segscore.Counts`.

    Raises
    ------
    InputError
        On invalid options or ``cpu_counting``; in ``update`` on a non-tensor, a batch on another device, with other
        dtypes or (with ``fixed_shape``) another image shape than the first batch, a changed number
        of classes, and every error of :func:`segscore.confusion`; in ``merge`` on accumulators with
        other options or another device. A rejected batch leaves the accumulator unchanged.

    Notes
    -----
    Counts are exact int64 on the device: ``update`` copies the batch's ``(4, n, C)`` rows into one
    device buffer that doubles when full (32 bytes per image and class); ``compute`` copies the
    ``(N, C)`` counts to the host once, then calls :func:`segscore.score`. Validation reads a few scalars per batch
    (min/max of the inputs), as :func:`segscore.confusion` does on tensors.

    Examples
    --------
    >>> import torch
    >>> ev = TensorEvaluator()
    >>> _ = ev.update(torch.tensor([[[1, 1], [0, 0]]]), torch.tensor([[[1, 0], [0, 0]]]))
    >>> _ = ev.update(torch.tensor([[[0, 1], [0, 1]]]), torch.tensor([[[0, 1], [0, 1]]]))
    >>> ev.n_images, ev.rows.tp.device.type, ev.compute("iou").per_image
    (2, 'cpu', array([0.5, 1. ]))
    """

    def __init__(
        self,
        *,
        options: CountingOptions | None = None,
        num_classes: int | None = None,
        threshold: float = 0.5,
        ignore_index: int | None = None,
        multilabel: bool = False,
        spatial_dims: int | None = None,
        threshold_comparison: Comparison | None = None,
        fixed_shape: bool = True,
        cpu_counting: CpuCounting = "kernel",
    ) -> None:
        self._options = resolve_options(
            options,
            num_classes=num_classes,
            threshold=threshold,
            ignore_index=ignore_index,
            multilabel=multilabel,
            spatial_dims=spatial_dims,
            threshold_comparison=threshold_comparison,
        )
        self._guard = _UpdateGuard(self._options, fixed_shape, cpu_counting)
        # Rows live in one (4, capacity, C) int64 buffer on the device that grows geometrically:
        # one long-lived allocation instead of one per batch (no heap fragmentation on CPU).
        self._buffer: torch.Tensor | None = None
        self._n = 0

    @property
    def options(self) -> CountingOptions:
        """What is counted."""
        return self._options

    @property
    def device(self) -> torch.device | None:
        """Device of the counts; None before the first update."""
        return None if self._guard.layout is None else self._guard.layout.device

    @property
    def spec(self) -> CountingSpec | None:
        """How the counts were made; None before the first update."""
        return self._guard.spec

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> TensorCounts:
        """Count one batch on its device and keep its rows; return the batch's counts."""
        counts, layout = self._guard.count(pred, target)
        self._guard.accept(layout, counts.spec)
        self._append(counts.stacked())
        return counts

    def _append(self, rows: torch.Tensor) -> None:
        """Copy ``(4, n, C)`` rows into the buffer, growing it (doubling) when full."""
        n = int(rows.shape[1])
        end = self._n + n
        if self._buffer is None or end > self._buffer.shape[1]:
            capacity = max(end, 64, 0 if self._buffer is None else 2 * int(self._buffer.shape[1]))
            grown = torch.empty(
                (4, capacity, int(rows.shape[2])), dtype=torch.int64, device=rows.device
            )
            if self._buffer is not None:
                grown[:, : self._n] = self._buffer[:, : self._n]
            self._buffer = grown
        self._buffer[:, self._n : end] = rows
        self._n = end

    def merge(self, other: TensorEvaluator) -> TensorEvaluator:
        """Append the rows of another accumulator (same options, same device); return self."""
        if not isinstance(other, TensorEvaluator):
            fail_must("other", "be a TensorEvaluator", type(other).__name__)
        if other._options.as_dict() != self._options.as_dict():  # as resolved: unset = default
            fail_merge("conventions", self._options.as_dict(), other._options.as_dict())
        if other._guard.layout is None:
            return self
        mine, theirs = self._guard.layout, other._guard.layout
        if mine is not None:
            if mine.device != theirs.device:
                fail_merge("device", mine.device, theirs.device)
            if self.spec != other.spec:
                assert self.spec is not None
                assert other.spec is not None
                fail_merge("counting spec", self.spec.as_dict(), other.spec.as_dict())
        else:
            self._guard.layout, self._guard.spec = theirs, other.spec
        if other._buffer is not None and other._n:
            self._append(other._buffer[:, : other._n].clone())  # a copy: `other` may be `self`
        return self

    def reset(self) -> None:
        """Forget every row (and the first batch's device, dtypes and shape)."""
        self._buffer = None
        self._n = 0
        self._guard.reset()

    @property
    def n_images(self) -> int:
        """Number of rows (images) counted so far."""
        return self._n

    def _stacked(self) -> torch.Tensor:
        if self._buffer is None or self._n == 0:
            fail(
                "the accumulator is empty: call `update` with at least one batch before `compute`."
            )
        return self._buffer[:, : self._n]

    @property
    def rows(self) -> TensorCounts:
        """All rows so far as int64 tensors (N, C) on the device."""
        stacked = self._stacked()
        assert self.spec is not None
        return TensorCounts(stacked[0], stacked[1], stacked[2], stacked[3], self.spec)

    @property
    def counts(self) -> Counts:
        """All rows so far as host :class:`~segscore.Counts` (one device-to-host copy)."""
        return self.rows.to_counts()

    def compute(
        self,
        metric: str = "iou",
        *,
        aggregation: Aggregation = "images_then_classes",
        empty: float | EmptyPolicy = math.nan,
        include_background: bool | None = None,
    ) -> Score:
        """Return :func:`segscore.score` of the rows so far (background rule from the options)."""
        return score(
            self.counts,
            metric,
            aggregation=aggregation,
            empty=empty,
            include_background=include_background,
            options=self._options,
        )

"""A streaming accumulator: ``update`` batch by batch, ``merge`` partial results, ``compute`` scores.

It stores only the exact per-image counts, so any metric and any aggregation can be computed at
the end without the masks. Merging accumulators in any order gives the same scores as one pass
over all data (the counts are integers and the means are exactly rounded).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from segscore._types import Aggregation, Comparison
from segscore._validation import fail, fail_changed
from segscore.metrics.counting import confusion
from segscore.metrics.counts import CountingSpec, Counts
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.options import CountingOptions, resolve_options
from segscore.metrics.reduce import Score, score

__all__ = ["Evaluator"]

_BLOCK_BYTES = 1 << 16


class Evaluator:
    """Accumulate confusion counts over batches.

    Parameters
    ----------
    options : CountingOptions, optional
        What is counted (:mod:`segscore.metrics.options`), fixed for the accumulator's life.
    num_classes, threshold, ignore_index, multilabel, spatial_dims, threshold_comparison
        As for :func:`segscore.confusion`: keywords that build ``options`` (not with it).

    Examples
    --------
    >>> ev = Evaluator()
    >>> _ = ev.update(np.array([[[1, 1], [0, 0]]]), np.array([[[1, 0], [0, 0]]]))
    >>> _ = ev.update(np.array([[[0, 1], [0, 1]]]), np.array([[[0, 1], [0, 1]]]))
    >>> ev.n_images, ev.compute("iou").per_image
    (2, array([0.5, 1. ]))
    >>> other = Evaluator()
    >>> _ = other.update(np.zeros((1, 2, 2), bool), np.ones((1, 2, 2), bool))
    >>> round(ev.merge(other).compute("dice").value, 6)
    0.555556
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
        # New rows go into fixed-size int64 blocks of shape (4, rows, C), about 64 KiB each,
        # filled in place: memory grows only with the rows themselves (32 bytes per image and
        # class), with no doubling copies and no large freed buffers left to fragment the heap.
        # `counts` moves the blocks' rows into one joined array (rows [0, n_joined)), whose
        # capacity doubles when a later `counts` needs more: each row is copied O(1) times however
        # often `compute` is called, and spare capacity that was never written costs no memory.
        self._joined: np.ndarray[Any, np.dtype[np.int64]] | None = None
        self._n_joined = 0
        self._blocks: list[np.ndarray[Any, np.dtype[np.int64]]] = []  # rows [n_joined, n)
        self._n = 0
        self._block_start = 0  # index of the first row of the last block
        self._n_classes: int | None = None
        self._spec: CountingSpec | None = None

    def update(self, pred: Any, target: Any) -> Counts:
        """Count one batch and keep its rows; return the batch's counts."""
        counts = confusion(pred, target, options=self._options)
        self._add(counts)
        return counts

    def _add(self, counts: Counts) -> None:
        if self._n_classes is not None and counts.n_classes != self._n_classes:
            fail(
                "every update must have the same number of classes, got "
                f"{self._n_classes} and then {counts.n_classes}."
            )
        if (
            self._spec is not None
            and counts.spec is not None
            and counts.spec.mode != self._spec.mode
        ):
            fail(
                f"every update must be of one mode, got {self._spec.mode!r} and then {counts.spec.mode!r}."
            )
        if (
            self._spec is not None
            and counts.spec is not None
            and (counts.spec.threshold is None) != (self._spec.threshold is None)
        ):  # the record keeps one spec: masks and thresholded probabilities would mislabel rows
            kinds = ("integer/bool masks", "float probabilities")
            first = kinds[self._spec.threshold is not None]
            fail_changed("input kind", first, kinds[counts.spec.threshold is not None])
        self._spec = self._spec if self._spec is not None else counts.spec
        n_classes = self._n_classes = counts.n_classes
        per_block = max(16, _BLOCK_BYTES // (32 * n_classes))
        sources = (counts.tp, counts.fp, counts.fn, counts.tn)
        done, m = 0, counts.n_images
        while done < m:
            filled = self._n - self._block_start
            if not self._blocks or filled == self._blocks[-1].shape[1]:
                self._blocks.append(np.empty((4, per_block, n_classes), dtype=np.int64))
                self._block_start, filled = self._n, 0
            block = self._blocks[-1]
            take = min(m - done, block.shape[1] - filled)
            for k, source in enumerate(sources):
                block[k, filled : filled + take] = source[done : done + take]
            done += take
            self._n += take

    def merge(self, other: Evaluator) -> Evaluator:
        """Add the rows of another accumulator made with the same options; return self."""
        if not isinstance(other, Evaluator):
            fail(f"`other` must be an Evaluator, got {type(other).__name__}.")
        if other._options.as_dict() != self._options.as_dict():  # as resolved: unset = default
            fail(
                "accumulators to merge must use the same conventions, got "
                f"{self._options.as_dict()} and {other._options.as_dict()}."
            )
        if other._n:
            self._add(other.counts)  # a copy of its rows: `other` may be `self`
        return self

    def reset(self) -> None:
        """Forget every row."""
        self._joined = None
        self._n_joined = 0
        self._blocks = []
        self._n = 0
        self._block_start = 0
        self._n_classes = None
        self._spec = None

    @property
    def n_images(self) -> int:
        """Number of images counted so far."""
        return self._n

    @property
    def counts(self) -> Counts:
        """All rows so far as one ``(N, C)`` Counts of read-only arrays.

        The first call after an update moves the new rows into the joined array (one copy of
        those rows; the joined array doubles its capacity when full); later calls return views
        of it. Rows already written are never rewritten, so returned Counts stay valid and
        unchanged by later updates.
        """
        if self._n == 0:
            fail(
                "the accumulator is empty: call `update` with at least one batch before `compute`."
            )
        if self._n_joined < self._n:
            self._join()
        assert self._joined is not None
        rows = self._joined[:, : self._n]
        rows.flags.writeable = False
        return Counts(rows[0], rows[1], rows[2], rows[3], self._spec)

    def _join(self) -> None:
        """Move the rows of the blocks into the joined array."""
        n, n_classes = self._n, self._blocks[0].shape[2]
        joined = self._joined
        if joined is None or joined.shape[1] < n:
            capacity = n if joined is None else max(n, 2 * joined.shape[1])
            grown = np.empty((4, capacity, n_classes), dtype=np.int64)
            if joined is not None:
                grown[:, : self._n_joined] = joined[:, : self._n_joined]
            joined = self._joined = grown
        start = self._n_joined
        for block in self._blocks:
            take = min(block.shape[1], n - start)
            joined[:, start : start + take] = block[:, :take]
            start += take
        self._blocks = []
        self._n_joined = n

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

    @property
    def options(self) -> CountingOptions:
        """What is counted."""
        return self._options

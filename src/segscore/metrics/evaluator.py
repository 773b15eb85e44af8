"""A streaming accumulator: ``update`` batch by batch, ``merge`` partial results, ``compute`` scores.

It stores only the exact per-image counts, so any metric and any aggregation can be computed at
the end without the masks. Merging accumulators in any order gives the same scores as one pass
over all data (the counts are integers and the means are exactly rounded).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from segscore._types import Aggregation
from segscore._validation import fail
from segscore.metrics.counts import CountingSpec, Counts, confusion
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.reduce import Score, score

__all__ = ["Evaluator"]


class Evaluator:
    """Accumulate confusion counts over batches.

    Parameters
    ----------
    num_classes, threshold, ignore_index, multilabel, spatial_dims
        As for :func:`segscore.confusion`; fixed for the accumulator's life.

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
        num_classes: int | None = None,
        threshold: float = 0.5,
        ignore_index: int | None = None,
        multilabel: bool = False,
        spatial_dims: int | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "num_classes": num_classes,
            "threshold": threshold,
            "ignore_index": ignore_index,
            "multilabel": multilabel,
            "spatial_dims": spatial_dims,
        }
        # Rows live in one int64 buffer of shape (4, capacity, C) that doubles when full, so
        # memory grows only with the rows themselves (32 bytes per image and class) and the heap
        # is not fragmented by one small array per batch.
        self._rows: np.ndarray[Any, np.dtype[np.int64]] | None = None
        self._n = 0
        self._spec: CountingSpec | None = None

    def update(self, pred: Any, target: Any) -> Counts:
        """Count one batch and keep its rows; return the batch's counts."""
        counts = confusion(pred, target, **self._options)
        self._add(counts)
        return counts

    def _add(self, counts: Counts) -> None:
        if self._rows is not None and counts.n_classes != self._rows.shape[2]:
            fail(
                "every update must have the same number of classes, got "
                f"{self._rows.shape[2]} and then {counts.n_classes}."
            )
        if (
            self._spec is not None
            and counts.spec is not None
            and counts.spec.mode != self._spec.mode
        ):
            fail(
                f"every update must be of one mode, got {self._spec.mode!r} and then {counts.spec.mode!r}."
            )
        self._spec = self._spec if self._spec is not None else counts.spec
        m = counts.n_images
        if self._rows is None:
            self._rows = np.empty((4, max(16, m), counts.n_classes), dtype=np.int64)
        elif self._n + m > self._rows.shape[1]:
            grown = np.empty(
                (4, max(2 * self._rows.shape[1], self._n + m), self._rows.shape[2]), dtype=np.int64
            )
            grown[:, : self._n] = self._rows[:, : self._n]
            self._rows = grown
        block = self._rows[:, self._n : self._n + m]
        block[0], block[1], block[2], block[3] = counts.tp, counts.fp, counts.fn, counts.tn
        self._n += m

    def merge(self, other: Evaluator) -> Evaluator:
        """Add the rows of another accumulator made with the same options; return self."""
        if not isinstance(other, Evaluator):
            fail(f"`other` must be an Evaluator, got {type(other).__name__}.")
        if other._options != self._options:
            fail(
                "accumulators to merge must use the same conventions, got "
                f"{self._options} and {other._options}."
            )
        if other._n:
            self._add(other.counts)  # a copy of its rows: `other` may be `self`
        return self

    def reset(self) -> None:
        """Forget every row."""
        self._rows = None
        self._n = 0
        self._spec = None

    @property
    def n_images(self) -> int:
        """Number of images counted so far."""
        return self._n

    @property
    def counts(self) -> Counts:
        """All rows so far as one ``(N, C)`` Counts (read-only views: no copy of the rows).

        The rows of the buffer are never rewritten (a full buffer is copied into a new one), so
        the views stay valid and unchanged by later updates.
        """
        if self._rows is None or self._n == 0:
            fail(
                "the accumulator is empty: call `update` with at least one batch before `compute`."
            )
        rows = self._rows[:, : self._n]
        rows.flags.writeable = False
        return Counts(rows[0], rows[1], rows[2], rows[3], self._spec)

    def compute(
        self,
        metric: str = "iou",
        *,
        aggregation: Aggregation = "images_then_classes",
        empty: float | EmptyPolicy = math.nan,
        include_background: bool = True,
    ) -> Score:
        """Return :func:`segscore.score` of the rows so far."""
        return score(
            self.counts,
            metric,
            aggregation=aggregation,
            empty=empty,
            include_background=include_background,
        )

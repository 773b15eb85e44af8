"""A streaming accumulator: ``update`` batch by batch, ``merge`` partial results, ``compute`` scores.

It stores only the exact per-image counts, so any metric and any aggregation can be computed at
the end without the masks. Merging accumulators in any order gives the same scores as one pass
over all data (the counts are integers and the means are exactly rounded).
"""

from __future__ import annotations

import math
from typing import Any

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
        self._parts: list[Counts] = []
        self._spec: CountingSpec | None = None

    def update(self, pred: Any, target: Any) -> Counts:
        """Count one batch and keep its rows; return the batch's counts."""
        counts = confusion(pred, target, **self._options)
        self._add(counts)
        return counts

    def _add(self, counts: Counts) -> None:
        if self._parts and counts.n_classes != self._parts[0].n_classes:
            fail(
                "every update must have the same number of classes, got "
                f"{self._parts[0].n_classes} and then {counts.n_classes}."
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
        self._parts.append(counts)

    def merge(self, other: Evaluator) -> Evaluator:
        """Add the rows of another accumulator made with the same options; return self."""
        if not isinstance(other, Evaluator):
            fail(f"`other` must be an Evaluator, got {type(other).__name__}.")
        if other._options != self._options:
            fail(
                "accumulators to merge must use the same conventions, got "
                f"{self._options} and {other._options}."
            )
        for part in list(other._parts):  # a copy: `other` may be `self`
            self._add(part)
        return self

    def reset(self) -> None:
        """Forget every row."""
        self._parts.clear()
        self._spec = None

    @property
    def n_images(self) -> int:
        """Number of images counted so far."""
        return sum(p.n_images for p in self._parts)

    @property
    def counts(self) -> Counts:
        """All rows so far as one ``(N, C)`` Counts."""
        if not self._parts:
            fail(
                "the accumulator is empty: call `update` with at least one batch before `compute`."
            )
        if len(self._parts) > 1:
            self._parts = [Counts.concat(self._parts)]
        return self._parts[0]

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

"""Metric names used in reports, the CLI and :func:`segscore.score`.

Short names (``"iou"``, ``"dice"``, ``"f2"``) exist only here; functions use full names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from segscore._types import FloatArray
from segscore._validation import fail
from segscore.metrics import overlap
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyPolicy

__all__ = ["METRICS", "MetricSpec", "get_metric"]

CellMetric = Callable[..., FloatArray]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A named metric computed per (image, class) cell from counts.

    Attributes
    ----------
    name : str
        Short name used in reports and on the command line.
    fn : callable
        ``fn(counts, *, empty=...) -> ndarray`` of the counts' shape.
    higher_is_better : bool
        Direction of the score.
    bounds : tuple of float
        Range of valid values.
    """

    name: str
    fn: CellMetric
    higher_is_better: bool = True
    bounds: tuple[float, float] = (0.0, 1.0)

    def cells(self, counts: Counts, empty: EmptyPolicy) -> FloatArray:
        """Return the metric for every cell of ``counts``."""
        return self.fn(counts, empty=empty)


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("iou", overlap.iou),
        MetricSpec("dice", overlap.dice),
        MetricSpec("precision", overlap.precision),
        MetricSpec("recall", overlap.recall),
        MetricSpec("specificity", overlap.specificity),
        MetricSpec("accuracy", overlap.accuracy),
        MetricSpec("balanced_accuracy", overlap.balanced_accuracy),
        MetricSpec("mcc", overlap.matthews_corrcoef, bounds=(-1.0, 1.0)),
        MetricSpec("f2", partial(overlap.fbeta, beta=2.0)),
        MetricSpec("f0.5", partial(overlap.fbeta, beta=0.5)),
    )
}
"""Metrics available by name. ``fbeta@B`` names any F-beta (``fbeta@2`` is ``f2``)."""

ALIASES = {
    "jaccard": "iou",
    "f1": "dice",
    "sensitivity": "recall",
    "tpr": "recall",
    "tnr": "specificity",
}


def get_metric(name: str) -> MetricSpec:
    """Return the metric registered under ``name`` (aliases and ``fbeta@B`` accepted).

    Examples
    --------
    >>> get_metric("jaccard").name
    'iou'
    >>> get_metric("fbeta@3").name
    'fbeta@3'
    >>> get_metric("hd95")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `metric` must be one of 'iou', 'dice', 'precision', 'recall', 'specificity', 'accuracy', 'balanced_accuracy', 'mcc', 'f2', 'f0.5', 'fbeta@B', got 'hd95'.
    """
    key = ALIASES.get(name, name) if isinstance(name, str) else name
    if isinstance(key, str) and key in METRICS:
        return METRICS[key]
    if isinstance(key, str) and key.startswith("fbeta@"):
        try:
            beta = float(key.split("@", 1)[1])
        except ValueError:
            beta = -1.0
        if beta > 0:
            return MetricSpec(key, partial(overlap.fbeta, beta=beta))
    names = ", ".join(repr(n) for n in [*METRICS, "fbeta@B"])
    fail(f"`metric` must be one of {names}, got {name!r}.")

"""Per-image score tables and dataset summaries built from counts (no masks, no printing).

A :class:`ScoreReport` holds, for named cases, the exact counts and a :class:`~segscore.Score` per
metric. It turns into per-image rows (for CSV) and a summary record (for JSON), each carrying the
conventions that made the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segscore._types import Aggregation
from segscore._validation import fail
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.reduce import Score, score

__all__ = ["DEFAULT_METRICS", "ScoreReport", "build_report"]

DEFAULT_METRICS = ("iou", "dice", "accuracy")


@dataclass(frozen=True)
class ScoreReport:
    """Scores of a set of named cases.

    Attributes
    ----------
    names : list of str
        One name per image (row of ``counts``).
    counts : Counts
        Exact counts, shape (N, C).
    scores : dict of str to Score
        One aggregated score per metric name.
    """

    names: list[str]
    counts: Counts
    scores: dict[str, Score]

    def per_image_rows(self) -> list[dict[str, Any]]:
        """One dict per (image, class): case, class, every metric, tp, fp, fn, tn.

        Examples
        --------
        >>> from segscore import confusion
        >>> c = confusion(np.array([[[1, 1], [0, 0]]]), np.array([[[1, 0], [0, 0]]]))
        >>> build_report(c, ["a"], ("iou",)).per_image_rows()
        [{'case': 'a', 'class': 0, 'iou': 0.5, 'tp': 1, 'fp': 1, 'fn': 0, 'tn': 2}]
        """
        rows = []
        classes = next(iter(self.scores.values())).conventions.classes
        for i, name in enumerate(self.names):
            for j, k in enumerate(classes):
                row: dict[str, Any] = {"case": name, "class": int(k)}
                for metric, s in self.scores.items():
                    row[metric] = float(s.cells[i, j])
                for field in ("tp", "fp", "fn", "tn"):
                    row[field] = int(getattr(self.counts, field)[i, k])
                rows.append(row)
        return rows

    def summary(self) -> dict[str, Any]:
        """Per metric: value, mean/median/std/min/max over images, pooled value, valid and excluded."""
        out: dict[str, Any] = {"n_images": len(self.names), "metrics": {}}
        for metric, s in self.scores.items():
            per_image = s.per_image[~np.isnan(s.per_image)]
            stats = {
                "value": s.value,
                "mean_over_images": float(np.mean(per_image)) if per_image.size else math.nan,
                "median": float(np.median(per_image)) if per_image.size else math.nan,
                "std": float(np.std(per_image)) if per_image.size else math.nan,
                "min": float(np.min(per_image)) if per_image.size else math.nan,
                "max": float(np.max(per_image)) if per_image.size else math.nan,
                "pooled": _pooled(self.counts, metric, s),
                "n_valid": s.n_valid,
                "n_excluded": s.n_excluded,
                "images_valid": int(per_image.size),
                "per_class": s.per_class.tolist(),
                "empty_cases": s.empty_cases,
                "conventions": s.conventions.as_dict(),
            }
            out["metrics"][metric] = stats
        return out


def _pooled(counts: Counts, metric: str, s: Score) -> float:
    conv = s.conventions
    pooled = score(
        counts,
        metric,
        aggregation="pooled",
        empty=conv.empty,
        include_background=conv.include_background,
        classes=list(conv.classes),
    )
    return pooled.value


def build_report(
    counts: Counts,
    names: Sequence[str],
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    aggregation: Aggregation = "images_then_classes",
    empty: float | EmptyPolicy = math.nan,
    include_background: bool = True,
) -> ScoreReport:
    """Score ``counts`` with every metric and keep the case names.

    Raises
    ------
    InputError
        If the number of names differs from the number of rows, or a metric or option is invalid.
    """
    if len(names) != counts.n_images:
        fail(f"`names` must hold one name per image ({counts.n_images}), got {len(names)}.")
    scores = {
        m: score(
            counts, m, aggregation=aggregation, empty=empty, include_background=include_background
        )
        for m in metrics
    }
    return ScoreReport(list(names), counts, {s.conventions.metric: s for s in scores.values()})

"""Turn an :class:`~segscore.evaluation.runner.Evaluation` into per-case rows and a summary record."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from segscore import __version__
from segscore._types import Aggregation
from segscore.evaluation.runner import SWEEP_THRESHOLDS, Evaluation
from segscore.metrics.bootstrap import bootstrap_ci
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.reduce import Score, score

__all__ = ["per_case_rows", "summarize", "threshold_sweep"]

EmptyArg = float | EmptyPolicy | Mapping[str, float | EmptyPolicy]
"""One empty policy for every metric, or one per metric name (presets differ per metric)."""


def _empty_for(empty: EmptyArg, metric: str) -> float | EmptyPolicy:
    if isinstance(empty, Mapping):
        return empty.get(metric, math.nan)
    return empty


def _scores(
    evaluation: Evaluation,
    metrics: Sequence[str],
    aggregation: Aggregation,
    empty: EmptyArg,
    include_background: bool,
) -> dict[str, Score]:
    out = {}
    for m in metrics:
        s = score(
            evaluation.counts,
            m,
            aggregation=aggregation,
            empty=_empty_for(empty, m),
            include_background=include_background,
        )
        out[s.conventions.metric] = s
    return out


def per_case_rows(
    evaluation: Evaluation,
    metrics: Sequence[str],
    *,
    aggregation: Aggregation = "images_then_classes",
    empty: EmptyArg = math.nan,
    include_background: bool = True,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return one tidy row per (case, class) and the column names; failed cases get an error row."""
    scores = _scores(evaluation, metrics, aggregation, empty, include_background)
    first = next(iter(scores.values()))
    classes = first.conventions.classes
    c = evaluation.counts
    rows: list[dict[str, Any]] = []
    distances = evaluation.distances or {}
    binary = c.n_classes == 1
    position = {label: j for j, label in enumerate(evaluation.distance_classes)}
    for i, name in enumerate(evaluation.names):
        for j, k in enumerate(classes):
            row: dict[str, Any] = {"case": name, "class": int(k)}
            for m, s in scores.items():
                row[m] = float(s.cells[i, j])
            col = 0 if binary else position.get(int(k))
            for m, values in distances.items():
                row[m] = math.nan if col is None else float(values[i, col])
            tp, fp, fn, tn = (int(getattr(c, f)[i, k]) for f in ("tp", "fp", "fn", "tn"))
            row.update(
                tp=tp,
                fp=fp,
                fn=fn,
                tn=tn,
                target_empty=tp + fn == 0,
                prediction_empty=tp + fp == 0,
                error="",
            )
            rows.append(row)
    for name, error in evaluation.failures:
        rows.append({"case": name, "error": error})
    columns = [
        "case",
        "class",
        *scores,
        *distances,
        "tp",
        "fp",
        "fn",
        "tn",
        "target_empty",
        "prediction_empty",
        "error",
    ]
    return rows, columns


def threshold_sweep(
    sweep: np.ndarray[Any, Any],
    *,
    aggregation: Aggregation = "images_then_classes",
    empty: EmptyArg = math.nan,
    best_metric: str = "iou",
) -> dict[str, Any]:
    """IoU and Dice at every sweep threshold from exact counts (N, T, 4), and the best threshold."""
    curves: dict[str, list[float]] = {"iou": [], "dice": []}
    for k in range(sweep.shape[1]):
        block = sweep[:, k, :].astype(np.int64)
        counts = Counts(block[:, :1], block[:, 1:2], block[:, 2:3], block[:, 3:4])
        for m in curves:
            curves[m].append(
                score(counts, m, aggregation=aggregation, empty=_empty_for(empty, m)).value
            )
    values = np.asarray(curves[best_metric], dtype=np.float64)
    best = int(np.nanargmax(values)) if np.any(~np.isnan(values)) else 0
    return {
        "thresholds": list(SWEEP_THRESHOLDS),
        "iou": curves["iou"],
        "dice": curves["dice"],
        "best_metric": best_metric,
        "best_threshold": SWEEP_THRESHOLDS[best],
        "best_value": float(values[best]),
    }


def summarize(
    evaluation: Evaluation,
    metrics: Sequence[str],
    *,
    aggregation: Aggregation = "images_then_classes",
    empty: EmptyArg = math.nan,
    include_background: bool = True,
    bootstrap: int = 0,
    seed: int = 0,
    inputs: dict[str, Any] | None = None,
    unmatched: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Build the summary record written to ``summary.json``.

    For every metric: the aggregated value, the mean/median/std/min/max of the per-image values, the
    pooled (dataset-level) value, the per-class values and their mean, the valid and excluded counts,
    and with ``bootstrap > 0`` the 95% percentile bootstrap intervals of the value and the pooled
    value (seeded). Plus the conventions record, the inputs (with a content hash), unmatched and
    failed cases, segscore's version, and the threshold sweep for probability predictions.
    """
    scores = _scores(evaluation, metrics, aggregation, empty, include_background)
    out_metrics: dict[str, Any] = {}
    for m, s in scores.items():
        values = s.per_image[~np.isnan(s.per_image)]
        pooled = score(
            evaluation.counts,
            m,
            aggregation="pooled",
            empty=s.conventions.empty,
            include_background=include_background,
        )
        entry: dict[str, Any] = {
            "value": s.value,
            "mean": float(np.mean(values)) if values.size else math.nan,
            "median": float(np.median(values)) if values.size else math.nan,
            "std": float(np.std(values)) if values.size else math.nan,
            "min": float(np.min(values)) if values.size else math.nan,
            "max": float(np.max(values)) if values.size else math.nan,
            "pooled": pooled.value,
            "per_class": {
                str(k): float(v) for k, v in zip(s.conventions.classes, s.per_class, strict=True)
            },
            "class_mean": float(np.nanmean(s.per_class))
            if np.any(~np.isnan(s.per_class))
            else math.nan,
            "n_valid": s.n_valid,
            "n_excluded": s.n_excluded,
            "images_valid": int(values.size),
            "empty_cases": s.empty_cases,
            "empty": s.conventions.empty.as_dict(),
            "ci95": None,
            "ci95_pooled": None,
        }
        if bootstrap > 0:
            entry["ci95"] = list(
                bootstrap_ci(
                    evaluation.counts,
                    m,
                    n_resamples=bootstrap,
                    rng=seed,
                    aggregation=aggregation,
                    empty=s.conventions.empty,
                    include_background=include_background,
                )
            )
            entry["ci95_pooled"] = list(
                bootstrap_ci(
                    evaluation.counts,
                    m,
                    n_resamples=bootstrap,
                    rng=seed,
                    aggregation="pooled",
                    empty=s.conventions.empty,
                    include_background=include_background,
                )
            )
        out_metrics[m] = entry
    conventions = next(iter(scores.values())).conventions.as_dict()
    conventions.pop("metric", None)
    if bootstrap > 0:
        conventions["bootstrap"] = {
            "method": "percentile",
            "resamples": bootstrap,
            "seed": seed,
            "over": "cases",
        }
    record: dict[str, Any] = {
        "segscore_version": __version__,
        "inputs": {
            **(inputs or {}),
            "n_cases": len(evaluation.names),
            "hash": "sha256:" + evaluation.input_hash,
        },
        "conventions": conventions,
        "metrics": out_metrics,
        "threshold_sweep": None,
        "unmatched": unmatched or {"pred": [], "gt": []},
        "failed": [{"case": n, "error": e} for n, e in evaluation.failures],
    }
    if evaluation.distances:
        for m, values in evaluation.distances.items():
            record["metrics"][m] = _distance_summary(values, evaluation.distance_classes)
        record["conventions"]["distance"] = evaluation.distance_conventions
    if evaluation.sweep is not None:
        record["threshold_sweep"] = threshold_sweep(
            evaluation.sweep, aggregation=aggregation, empty=empty
        )
    return record


def _distance_summary(values: np.ndarray[Any, Any], classes: Sequence[int]) -> dict[str, Any]:
    """Summary of one boundary metric over (case, class) cells: NaN excluded, inf kept and counted.

    Distances do not pool across images, so the value is the mean over valid cells (a single
    infinite distance makes it infinite: a missed structure is not averaged away).
    """
    flat = values.reshape(-1)
    valid = flat[~np.isnan(flat)]
    finite = valid[np.isfinite(valid)]
    per_case = values[:, 0] if values.shape[1] == 1 else None
    stats = valid if per_case is None else per_case[~np.isnan(per_case)]

    def mean(v: np.ndarray[Any, Any]) -> float:
        if v.size == 0:
            return math.nan
        return math.inf if np.isinf(v).any() else math.fsum(v.tolist()) / v.size

    per_class = {}
    for j, k in enumerate(classes):
        col = values[:, j]
        per_class[str(k)] = mean(col[~np.isnan(col)])
    return {
        "kind": "distance",
        "higher_is_better": False,
        "value": mean(valid),
        "mean": mean(stats),
        "median": float(np.median(stats)) if stats.size else math.nan,
        "std": float(np.std(finite)) if finite.size else math.nan,
        "min": float(np.min(stats)) if stats.size else math.nan,
        "max": float(np.max(stats)) if stats.size else math.nan,
        "pooled": None,
        "per_class": per_class,
        "class_mean": None,
        "n_valid": int(valid.size),
        "n_excluded": int(flat.size - valid.size),
        "n_inf": int(np.isinf(valid).sum()),
        "ci95": None,
        "ci95_pooled": None,
    }

"""Percentile bootstrap over images, from stored counts (no image is read again).

Resampling draws image indices with replacement; each resample's score is computed from the
stored per-image counts (summed for pooled rules) or per-image values, exactly as the point
estimate is. The confidence interval is the percentile interval of the resampled scores.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from segscore._types import Aggregation, FloatArray
from segscore._validation import check_int, check_number, fail
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.reduce import score

__all__ = [
    "PairedComparison",
    "bootstrap_ci",
    "bootstrap_statistic",
    "bootstrap_values",
    "paired_comparison",
]


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None:
        check_int("rng", rng, low=0)
    return np.random.default_rng(rng)


def _nanmean(values: FloatArray, axis: int) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as intended
        return np.asarray(np.nanmean(values, axis=axis), dtype=np.float64)


def bootstrap_ci(
    counts: Counts,
    metric: str = "iou",
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    rng: np.random.Generator | int | None = None,
    aggregation: Aggregation = "images_then_classes",
    empty: float | EmptyPolicy = math.nan,
    include_background: bool = True,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of :func:`segscore.score` over images.

    Parameters
    ----------
    counts : Counts
        Per-image counts, shape (N, C).
    metric, aggregation, empty, include_background
        As for :func:`segscore.score`.
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    confidence : float, default 0.95
        Coverage of the interval, in (0, 1).
    rng : numpy.random.Generator or int, optional
        Source of randomness (a seed gives a reproducible interval).

    Returns
    -------
    (low, high) : tuple of float
        NaN when fewer than two resamples have a valid score.

    Notes
    -----
    Pooled rules resample images and sum their counts; the other rules resample rows of the
    per-(image, class) values and aggregate them as :func:`segscore.score` does (NaN skipped).
    Endpoints agree with ``scipy.stats.bootstrap(..., method="percentile")`` within Monte-Carlo
    error (the resampling streams differ).

    Examples
    --------
    >>> from segscore import confusion
    >>> rng = np.random.default_rng(0)
    >>> c = confusion(rng.random((30, 8, 8)) > 0.5, rng.random((30, 8, 8)) > 0.5)
    >>> low, high = bootstrap_ci(c, "dice", n_resamples=200, rng=1)
    >>> low < score(c, "dice").value < high
    True
    """
    b = check_int("n_resamples", n_resamples, low=1)
    level = check_number(
        "confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    gen = _generator(rng)
    base = score(
        counts, metric, aggregation=aggregation, empty=empty, include_background=include_background
    )
    kept = list(base.columns)
    used = counts.select(classes=kept)
    n = used.n_images
    stats = np.empty(b, dtype=np.float64)
    chunk = max(1, min(b, 2_000_000 // max(1, n * len(kept))))
    for start in range(0, b, chunk):
        stop = min(b, start + chunk)
        idx = gen.integers(0, n, size=(stop - start, n))
        stats[start:stop] = _resample(
            used, base.cells, base.per_image, idx, metric, aggregation, base.conventions.empty
        )
    valid = stats[~np.isnan(stats)]
    if valid.size < 2:
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    low, high = np.percentile(valid, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high)


def _resample(
    counts: Counts,
    cells: FloatArray,
    per_image: FloatArray,
    idx: np.ndarray[Any, np.dtype[np.int64]],
    metric: str,
    aggregation: str,
    empty: EmptyPolicy,
) -> FloatArray:
    if aggregation in ("pooled", "pooled_micro"):
        out = np.empty(idx.shape[0], dtype=np.float64)
        for i, rows in enumerate(idx):
            weights = np.bincount(rows, minlength=counts.n_images).astype(np.int64)
            summed = Counts(
                weights @ counts.tp, weights @ counts.fp, weights @ counts.fn, weights @ counts.tn
            )
            if aggregation == "pooled":
                pooled = score(
                    Counts(summed.tp[None], summed.fp[None], summed.fn[None], summed.tn[None]),
                    metric,
                    aggregation="pooled",
                    empty=empty,
                )
                out[i] = pooled.value
            else:
                out[i] = score(
                    Counts(summed.tp[None], summed.fp[None], summed.fn[None], summed.tn[None]),
                    metric,
                    aggregation="pooled_micro",
                    empty=empty,
                ).value
        return out
    if aggregation in ("classes_then_images", "per_image_micro"):
        return _nanmean(per_image[idx], axis=1)
    sampled = cells[idx]  # (B, N, C)
    if aggregation == "images_then_classes":
        return _nanmean(_nanmean(sampled, axis=1), axis=1)
    if aggregation == "per_image_per_class":
        return _nanmean(sampled.reshape(sampled.shape[0], -1), axis=1)
    fail(f"`aggregation` {aggregation!r} has no bootstrap rule.")


def _interval(stats: FloatArray, level: float) -> tuple[float, float]:
    """Return the percentile interval of resampled statistics (NaN left out; NaN if < 2 remain)."""
    valid = stats[~np.isnan(stats)]
    if valid.size < 2:
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    q = [100 * alpha, 100 * (1 - alpha)]
    below, above = np.percentile(valid, q, method="lower"), np.percentile(valid, q, method="higher")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf while interpolating
        linear = np.percentile(valid, q)
    # between two equal neighbours (two infinities too) the endpoint is that value
    low, high = np.where(below == above, below, linear)
    return float(low), float(high)


def bootstrap_values(
    cells: FloatArray,
    *,
    aggregation: Aggregation = "images_then_classes",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the aggregate of per-(case, class) values.

    For metrics that are values, not counts (boundary distances, per-image object scores):
    cases are resampled with replacement and each resample is aggregated as
    :func:`segscore.metrics.reduce.score_values` aggregates (NaN cells skipped). Infinite values
    (a distance to an empty surface) make the resamples that draw them infinite, and so the
    endpoints when they are frequent enough.

    Parameters
    ----------
    cells : array_like of float, shape (N,) or (N, C)
        One row per case.
    aggregation : {'images_then_classes', 'classes_then_images', 'per_image_per_class'}
        How a resample is reduced (the pooled rules need counts: :func:`bootstrap_ci`).
    n_resamples, confidence, rng
        As for :func:`bootstrap_ci`.

    Examples
    --------
    >>> values = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    >>> low, high = bootstrap_values(values, n_resamples=500, rng=0)
    >>> bool(low < values.mean() < high)
    True
    """
    b = check_int("n_resamples", n_resamples, low=1)
    level = check_number(
        "confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    values = _floats("cells", cells)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] == 0:
        fail(f"`cells` must have shape (N,) or (N, C) with N >= 1, got {values.shape}.")
    rules = ("images_then_classes", "classes_then_images", "per_image_per_class")
    if aggregation not in rules:
        fail(
            f"`aggregation` must be one of {', '.join(map(repr, rules))} for values (pooled "
            f"rules need counts: bootstrap_ci), got {aggregation!r}."
        )
    gen = _generator(rng)
    n = values.shape[0]
    per_image = _nanmean(values, axis=1)
    stats = np.empty(b, dtype=np.float64)
    chunk = max(1, min(b, 2_000_000 // max(1, values.size)))
    for start in range(0, b, chunk):
        idx = gen.integers(0, n, size=(min(b, start + chunk) - start, n))
        if aggregation == "classes_then_images":
            stats[start : start + idx.shape[0]] = _nanmean(per_image[idx], axis=1)
        elif aggregation == "images_then_classes":
            stats[start : start + idx.shape[0]] = _nanmean(_nanmean(values[idx], axis=1), axis=1)
        else:
            flat = values[idx].reshape(idx.shape[0], -1)
            stats[start : start + idx.shape[0]] = _nanmean(flat, axis=1)
    return _interval(stats, level)


def bootstrap_statistic(
    n: int,
    statistic: Callable[[np.ndarray[Any, np.dtype[np.int64]]], float],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of any statistic of ``n`` cases, given the drawn rows.

    ``statistic(rows)`` gets the case indices of one resample (with repetitions) and returns its
    value: e.g. a pooled object score of the resampled per-image counts.

    Examples
    --------
    >>> x = np.arange(20.0)
    >>> low, high = bootstrap_statistic(20, lambda rows: float(x[rows].mean()), rng=0)
    >>> bool(low < 9.5 < high)
    True
    """
    b = check_int("n_resamples", n_resamples, low=1)
    level = check_number(
        "confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    count = check_int("n", n, low=1)
    gen = _generator(rng)
    stats = np.array(
        [statistic(gen.integers(0, count, size=count)) for _ in range(b)], dtype=np.float64
    )
    return _interval(stats, level)


def _floats(name: str, values: Any) -> FloatArray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"`{name}` must hold numbers, got {str(values)[:60]!r}.")


@dataclass(frozen=True)
class PairedComparison:
    """Two scorings of the same cases compared case by case.

    Attributes
    ----------
    n : int
        Cases with a valid value in both.
    mean_difference : float
        Mean of ``b - a`` over those cases.
    ci95 : tuple of float
        Percentile bootstrap 95% interval of the mean difference (NaN for fewer than 2 pairs:
        resampling one value gives a zero-width interval that says nothing).
    wilcoxon_p : float
        Two-sided Wilcoxon signed-rank p-value (NaN when every difference is zero or n < 2).
    differences : ndarray of float64
        ``b - a`` per valid case, in the order of the input.
    n_nonfinite : int
        Pairs left out because a value is NaN or infinite.
    """

    n: int
    mean_difference: float
    ci95: tuple[float, float]
    wilcoxon_p: float
    differences: FloatArray
    n_nonfinite: int = 0


def paired_comparison(
    a: FloatArray,
    b: FloatArray,
    *,
    n_resamples: int = 2000,
    rng: np.random.Generator | int | None = None,
) -> PairedComparison:
    """Compare per-case values ``a`` and ``b`` of the same cases (NaN or infinite pairs are dropped).

    Examples
    --------
    >>> r = paired_comparison(np.array([0.5, 0.6, 0.7, 0.8, 0.4]), np.array([0.6, 0.7, 0.9, 0.8, 0.6]), rng=0)
    >>> r.n, round(r.mean_difference, 6)
    (5, 0.12)
    """
    va, vb = _floats("a", a), _floats("b", b)
    if va.shape != vb.shape or va.ndim != 1:
        fail(
            f"`a` and `b` must be 1-D and of the same length, got shapes {va.shape} and {vb.shape}."
        )
    # NaN (undefined) and infinite values (e.g. a distance to a missed structure) have no finite
    # difference: such pairs are left out and counted in `n_nonfinite`.
    keep = np.isfinite(va) & np.isfinite(vb)
    diff = vb[keep] - va[keep]
    n = int(diff.size)
    n_nonfinite = int(va.size - n)
    resamples = check_int("n_resamples", n_resamples, low=1)
    gen = _generator(rng)
    if n < 2:  # no interval from fewer than two pairs
        mean = float(diff[0]) if n else math.nan
        return PairedComparison(n, mean, (math.nan, math.nan), math.nan, diff, n_nonfinite)
    idx = gen.integers(0, n, size=(resamples, n))
    means = diff[idx].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    p = math.nan
    if n >= 2 and np.any(diff != 0):
        from scipy.stats import wilcoxon

        p = float(wilcoxon(diff).pvalue)
    return PairedComparison(
        n, float(math.fsum(diff.tolist()) / n), (float(low), float(high)), p, diff, n_nonfinite
    )

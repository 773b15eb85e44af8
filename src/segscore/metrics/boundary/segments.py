"""Hausdorff reductions of many surfaces at once: one array of distances cut into segments.

Each segment is the pair of surfaces of one class (:func:`hausdorff_distance`) or of one lesion
(:mod:`segscore.metrics.instance.pair_distances`): its distances lie next to each other in one
array per direction, and a segment is given by its element count. The reductions equal those of
:func:`~segscore.metrics.boundary.reductions.hausdorff_distance` on each segment alone, bit for
bit (tests/metrics/test_boundary_segments.py): per segment, the elements are put in order in
place (a partition around the two ranks that :func:`numpy.percentile`'s linear interpolation
reads, or a sort for the area-weighted rank), and the interpolation runs once over all
segments, with numpy's own formulas (``_lerp``: ``a + (b - a) * g``, or ``b - (b - a) * (1 -
g)`` for ``g >= 0.5``). Calling :func:`numpy.percentile` once per segment costs about 50 us of
Python each, more than the work on a lesion's few hundred distances.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from segscore._types import FloatArray, IntArray, PercentileRule

__all__: list[str] = []


def _starts(counts: IntArray) -> IntArray:
    """First element of each segment, and the end: shape (S + 1,)."""
    starts = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return starts


def _larger(a: FloatArray, b: FloatArray) -> FloatArray:
    """Python's ``max(a, b)`` elementwise (``b`` only where it is larger: NaN as ``max``)."""
    return np.where(b > a, b, a)


def segment_max(values: FloatArray, counts: IntArray) -> FloatArray:
    """Largest value of each segment (every segment non-empty; NaN propagates as ``max``)."""
    starts = _starts(counts)
    return np.asarray(np.maximum.reduceat(values, starts[:-1]), dtype=np.float64)


def segment_percentile(
    values: FloatArray, counts: IntArray, q: float, method: str = "linear"
) -> FloatArray:
    """``np.percentile(segment, q, method=method)`` of every segment (every one non-empty).

    The linear method (numpy's default) is computed for all segments at once from the two
    order statistics it reads; the other methods call :func:`numpy.percentile` per segment.
    ``values`` is not modified.
    """
    starts = _starts(counts)
    out = np.empty(counts.size, dtype=np.float64)
    if method != "linear":
        how = cast(Any, method)
        for k in range(counts.size):
            out[k] = np.percentile(values[starts[k] : starts[k + 1]], q, method=how)
        return out
    # numpy: quantile = q / 100; index = (n - 1) * quantile; below = floor(index), above it the
    # next element; an index at or past the last element reads the last one (numpy's -1) and
    # keeps gamma = index - (-1).
    quantile = np.true_divide(q, 100)
    n = counts.astype(np.int64)
    index = (n - 1) * quantile
    below = np.floor(index)
    last = index >= n - 1
    below[last] = -1.0
    gamma = index - below
    lo = np.where(last, n - 1, below.astype(np.int64))
    hi = np.where(last, n - 1, lo + 1)
    work = np.array(values, dtype=np.float64, copy=True)
    for k in range(counts.size):
        a, b = int(starts[k]), int(starts[k + 1])
        j, m = int(lo[k]), int(hi[k])
        work[a:b].partition((j, m) if j != m else j)
    a_val = work[starts[:-1] + lo]
    b_val = work[starts[:-1] + hi]
    diff = b_val - a_val
    result = a_val + diff * gamma
    upper = gamma >= 0.5
    result[upper] = (b_val - diff * (1 - gamma))[upper]
    out[:] = result
    return out


def segment_weighted_rank(
    distances: FloatArray, weights: FloatArray, counts: IntArray, q: float
) -> FloatArray:
    """Per segment, the smallest distance whose cumulative weight share reaches ``q`` in [0, 1].

    :func:`~segscore.metrics.boundary.reductions._weighted_rank` of every segment: the elements
    in (distance, weight) order, the weights summed in that order. The integer key
    ``rank(distance) * n_weights + rank(weight)`` is ranked over all segments at once (ranks
    keep the order inside each segment) and sorted per segment in place.
    """
    starts = _starts(counts)
    d_values = np.unique(distances)
    w_values = np.unique(weights)
    nw = w_values.size
    key = np.searchsorted(d_values, distances).astype(np.int64) * nw + np.searchsorted(
        w_values, weights
    )
    picked = np.empty(counts.size, dtype=np.int64)
    for k in range(counts.size):
        a, b = int(starts[k]), int(starts[k + 1])
        part = key[a:b]
        part.sort()
        w = w_values[part % nw]
        cumulative = np.cumsum(w) / np.sum(w)
        index = int(np.searchsorted(cumulative, q))
        picked[k] = part[min(index, b - a - 1)]
    return np.asarray(d_values[picked // nw], dtype=np.float64)


def _pool(
    d_pt: FloatArray, n_pt: IntArray, d_tp: FloatArray, n_tp: IntArray
) -> tuple[FloatArray, IntArray]:
    """Both directions' distances of each segment side by side: (values, counts)."""
    counts = n_pt + n_tp
    if counts.size == 1:  # one class of a large image: a copy, no scatter
        return np.concatenate([d_pt, d_tp]).astype(np.float64, copy=False), counts
    starts = _starts(counts)[:-1]
    out = np.empty(d_pt.size + d_tp.size, dtype=np.float64)
    into_pt = np.repeat(starts - _starts(n_pt)[:-1], n_pt) + np.arange(d_pt.size)
    into_tp = np.repeat(starts + n_pt - _starts(n_tp)[:-1], n_tp) + np.arange(d_tp.size)
    out[into_pt] = d_pt
    out[into_tp] = d_tp
    return out, counts


def segment_hausdorff(
    d_pt: FloatArray,
    w_pt: FloatArray,
    n_pt: IntArray,
    d_tp: FloatArray,
    w_tp: FloatArray,
    n_tp: IntArray,
    *,
    percentile: float | None,
    rule: PercentileRule,
    interpolation: str,
) -> FloatArray:
    """Hausdorff distance or percentile of every segment whose two surfaces are non-empty.

    ``d_pt``, ``w_pt``: distances and weights of the prediction's elements, segment after
    segment, ``n_pt[k]`` of segment k (> 0); ``d_tp``, ``w_tp``, ``n_tp`` the target's. The
    options are :func:`~segscore.metrics.boundary.reductions.hausdorff_distance`'s (checked by
    the caller); ``percentile`` in [0, 100]. Returns shape (S,), the value of each segment.
    """
    if rule == "directed":
        if percentile is None:
            return segment_max(d_pt, n_pt)
        return segment_percentile(d_pt, n_pt, percentile, interpolation)
    if percentile is None:
        return _larger(segment_max(d_pt, n_pt), segment_max(d_tp, n_tp))
    if rule == "pooled":
        pooled, counts = _pool(d_pt, n_pt, d_tp, n_tp)
        return segment_percentile(pooled, counts, percentile, interpolation)
    if rule == "max_directed":
        return _larger(
            segment_percentile(d_pt, n_pt, percentile, interpolation),
            segment_percentile(d_tp, n_tp, percentile, interpolation),
        )
    q = percentile / 100.0
    return _larger(
        segment_weighted_rank(d_pt, w_pt, n_pt, q), segment_weighted_rank(d_tp, w_tp, n_tp, q)
    )

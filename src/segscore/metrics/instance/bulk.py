"""Matching counts and the Kumar AJI of many overlap tables at once, equal to the per-table path.

The tables of a batch are joined (their pairs concatenated, object indices offset per image),
and each threshold is one numpy pass over all the pairs: the candidate pairs (those passing the
threshold, decided in integers by :func:`~segscore.metrics.instance.matching._passes`) of an
image where no object is in two candidates are its matches under every rule (``optimal``,
``greedy``, ``unique``: each keeps all candidates when they are one-to-one, see
:func:`~segscore.metrics.instance.matching._match`). At IoU > 0.5 candidates are always
one-to-one; an image where an object is in two candidates (IoU exactly 0.5 with ``'>='``, or a
threshold below 0.5) is matched alone by :func:`~segscore.metrics.instance.matching._match`, so
every count equals the per-table path's.

Score sums are exactly rounded per image, as :func:`math.fsum` rounds them: a score in
``[2**-10, 1]`` is a multiple of ``2**-62``, so ``score * 2**62`` is an integer below ``2**62``,
split into two 31-bit halves whose per-image sums are exact int64; the sum is then
``high * 2**-31 + low * 2**-62``, two exact floats added with one correct rounding (when a score
is smaller, or an image has ``2**22`` matches, the sums fall back to :func:`math.fsum`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from segscore._types import FloatArray, IntArray
from segscore.metrics.instance.matching import _match, _passes, _ratio, one_to_one
from segscore.metrics.instance.table import OverlapTable

__all__ = ["JoinedTables", "bulk_counts", "bulk_kumar", "join_tables"]

_SCALE = 62  # scores times 2**62 are integers when they are at least 2**-10
_LOW_BITS = 31
_MIN_SCORE = 2.0**-10
_MAX_MATCHES = 1 << 22  # per image: sums of 31-bit halves stay below 2**53 (exact floats)


@dataclass(frozen=True, slots=True)
class JoinedTables:
    """The pairs of several tables concatenated, objects numbered across the whole batch.

    Attributes
    ----------
    n_images : int
    pair_image : ndarray of int64, shape (K,)
        The image of each pair (non-decreasing).
    pair_offsets : ndarray of int64, shape (N + 1,)
        Where each image's pairs start in the joined pairs.
    pair_pred, pair_target : ndarray of int64, shape (K,)
        Global object index of each pair: index in its table plus the objects of the tables
        before it.
    pair_intersection, pair_pred_area, pair_target_area : ndarray of int64, shape (K,)
    pred_areas, target_areas : ndarray of int64, shape (P,) and (G,)
        All objects, the images in turn.
    pred_offsets, target_offsets : ndarray of int64, shape (N + 1,)
        Where each image's objects start.
    """

    n_images: int
    pair_image: IntArray
    pair_offsets: IntArray
    pair_pred: IntArray
    pair_target: IntArray
    pair_intersection: IntArray
    pair_pred_area: IntArray
    pair_target_area: IntArray
    pred_areas: IntArray
    target_areas: IntArray
    pred_offsets: IntArray
    target_offsets: IntArray


def _starts(sizes: list[int]) -> IntArray:
    out = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out[1:])
    return out


def _cat(arrays: list[IntArray]) -> IntArray:
    return np.concatenate(arrays).astype(np.int64, copy=False) if arrays else np.zeros(0, np.int64)


def join_tables(tables: Sequence[OverlapTable]) -> JoinedTables:
    """Join the tables of a batch (see :class:`JoinedTables`)."""
    n = len(tables)
    pair_offsets = _starts([t.n_pairs for t in tables])
    pred_offsets = _starts([t.n_pred for t in tables])
    target_offsets = _starts([t.n_target for t in tables])
    image = np.repeat(np.arange(n, dtype=np.int64), np.diff(pair_offsets))
    pred = _cat([t.pair_pred for t in tables]) + pred_offsets[image]
    target = _cat([t.pair_target for t in tables]) + target_offsets[image]
    pred_areas = _cat([t.pred_areas for t in tables])
    target_areas = _cat([t.target_areas for t in tables])
    return JoinedTables(
        n,
        image,
        pair_offsets,
        pred,
        target,
        _cat([t.pair_intersection for t in tables]),
        pred_areas[pred],
        target_areas[target],
        pred_areas,
        target_areas,
        pred_offsets,
        target_offsets,
    )


def _joined_ratio(j: JoinedTables, criterion: str) -> tuple[IntArray, IntArray]:
    """Return the criterion of every pair as (numerator, denominator): ``_ratio`` on the joined pairs."""
    inter = j.pair_intersection
    if criterion == "iou":
        return inter, j.pair_pred_area + j.pair_target_area - inter
    if criterion == "dice":
        return 2 * inter, j.pair_pred_area + j.pair_target_area
    if criterion == "iop":
        return inter, j.pair_pred_area
    return inter, j.pair_target_area


def _sums(values: IntArray, offsets: IntArray) -> IntArray:
    """Exact int64 sums of consecutive segments of ``values`` (segment i: offsets[i:i + 2])."""
    total = np.zeros(values.size + 1, dtype=np.int64)
    np.cumsum(values, out=total[1:])
    out: IntArray = total[offsets[1:]] - total[offsets[:-1]]
    return out


def _score_sums(scores: FloatArray, offsets: IntArray, n_matches: IntArray) -> FloatArray | None:
    """Per-image sums of ``scores`` (segments of ``offsets``), exactly rounded; None if unsure."""
    if scores.size and (float(scores.min()) < _MIN_SCORE or int(n_matches.max()) >= _MAX_MATCHES):
        return None
    scaled = (scores * 2.0**_SCALE).astype(np.int64)  # exact: integers below 2**62
    high = _sums(scaled >> _LOW_BITS, offsets).astype(np.float64)  # exact: below 2**53
    low = _sums(scaled & ((1 << _LOW_BITS) - 1), offsets).astype(np.float64)
    out: FloatArray = high * 2.0 ** (_LOW_BITS - _SCALE) + low * 2.0**-_SCALE
    return out


def _conflicted(j: JoinedTables, cand: IntArray) -> IntArray:
    """Images where an object is in two candidate pairs (flags, shape (N,))."""
    bad = np.zeros(j.n_images, dtype=bool)
    for objects, offsets in (
        (j.pair_pred[cand], j.pred_offsets),
        (j.pair_target[cand], j.target_offsets),
    ):
        seen = np.bincount(objects, minlength=int(offsets[-1]))
        twice = np.flatnonzero(seen > 1)
        if twice.size:
            bad[np.searchsorted(offsets, twice, side="right") - 1] = True
    return bad


def bulk_counts(
    tables: Sequence[OverlapTable],
    thresholds: Sequence[Fraction],
    matching: str,
    criterion: str,
    comparison: str,
) -> tuple[IntArray, FloatArray]:
    """Return matched pairs and score sums per image and threshold, shape (N, T) each.

    Equal to :func:`~segscore.metrics.instance.matching.match_sweep` on each table (``tp``
    and ``score_sum`` of its matchings); the options must have been checked.

    Examples
    --------
    >>> from segscore.metrics.instance.table import overlap_table
    >>> tables = overlap_table(np.array([[[1, 1, 2, 0]], [[1, 1, 1, 1]]]),
    ...                        np.array([[[3, 3, 3, 4]], [[2, 2, 3, 3]]]))
    >>> bulk_counts(tables, [Fraction(1, 2)], "optimal", "iou", ">=")  # image 2: a tie at 1/2
    (array([[1],
           [1]]), array([[0.66666667],
           [0.5       ]]))
    """
    j = join_tables(tables)
    n = j.n_images
    tp = np.zeros((n, len(thresholds)), dtype=np.int64)
    sums = np.zeros((n, len(thresholds)), dtype=np.float64)
    num, den = _joined_ratio(j, criterion)
    alone: dict[int, tuple[IntArray, IntArray]] = {}  # per-table ratios, for conflicted images
    for col, t in enumerate(thresholds):
        cand = np.flatnonzero(_passes(num, den, t, comparison))
        if one_to_one(criterion, t, comparison):  # no conflict is possible: no count needed
            bad = np.zeros(n, dtype=bool)
        else:
            bad = _conflicted(j, cand)
            cand = cand[~bad[j.pair_image[cand]]]
        offsets = np.searchsorted(cand, j.pair_offsets)
        tp[:, col] = np.diff(offsets)
        scores = num[cand] / den[cand]
        found = _score_sums(scores, offsets, tp[:, col])
        if found is None:
            found = np.array([math.fsum(s) for s in np.split(scores, offsets[1:-1])])
        sums[:, col] = found
        for i in np.flatnonzero(bad).tolist():
            table = tables[i]
            if i not in alone:
                alone[i] = _ratio(table, criterion)
            m = _match(table, t, matching, criterion, comparison, alone[i])
            tp[i, col] = m.tp
            sums[i, col] = m.score_sum
    return tp, sums


def bulk_kumar(tables: Sequence[OverlapTable]) -> tuple[IntArray, IntArray]:
    """Kumar's AJI numerator and denominator per image (the per-table ``kumar`` variant).

    Each target object takes the pair of the largest IoU (ties: the smallest prediction
    index); the union adds the targets without a pair and the predictions never taken.

    Examples
    --------
    >>> from segscore.metrics.instance.table import overlap_table
    >>> bulk_kumar(overlap_table(np.array([[1, 1, 1, 1]]), np.array([[2, 2, 3, 3]])))
    (array([4]), array([8]))
    """
    j = join_tables(tables)
    n_pairs = j.pair_target.size
    union = j.pair_pred_area + j.pair_target_area - j.pair_intersection
    iou = j.pair_intersection / np.maximum(union, 1)
    # each target's largest IoU, then the first pair reaching it: an image's pairs are sorted by
    # prediction, so the first is the smallest prediction (the per-table lexsort's tie rule)
    best = np.zeros(j.target_areas.size, dtype=np.float64)
    np.maximum.at(best, j.pair_target, iou)
    top = np.flatnonzero(iou == best[j.pair_target])
    first = np.full(j.target_areas.size, n_pairs, dtype=np.int64)
    np.minimum.at(first, j.pair_target[top], top)
    paired = first < n_pairs
    chosen = first[paired]
    used_pred = np.zeros(j.pred_areas.size, dtype=bool)
    used_pred[j.pair_pred[chosen]] = True
    # per target: its pair's intersection and union, or (0, its area) without a pair
    inter = np.zeros(j.target_areas.size, dtype=np.int64)
    inter[paired] = j.pair_intersection[chosen]
    target_union = j.target_areas.copy()
    target_union[paired] = union[chosen]
    total = _sums(target_union, j.target_offsets) + _sums(
        np.where(used_pred, 0, j.pred_areas), j.pred_offsets
    )
    return _sums(inter, j.target_offsets), total

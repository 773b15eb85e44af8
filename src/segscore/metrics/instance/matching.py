"""One-to-one matching of predicted and target objects, each rule a named convention.

The peers disagree on three choices (CONVENTIONS-objects §3); each is an option here:

==============  ====================================================================  =====================
option          values                                                                as in
==============  ====================================================================  =====================
``matching``    ``'optimal'``: the most matches, then the largest score sum, among    StarDist, cellpose
                pairs passing the threshold (Hungarian on the conflicting pairs only)
                ``'greedy'``: pairs by decreasing score, each object used once          panoptica (Naive)
                ``'unique'``: every pair passing a threshold that makes matches        PQ (Kirillov),
                unique (IoU > 0.5); refused for thresholds that do not                 torchmetrics, MONAI
``criterion``   ``'iou'``, ``'dice'``, ``'iop'`` (intersection over prediction),        StarDist's criteria
                ``'iot'`` (intersection over target)
``comparison``  ``'>='`` (StarDist, cellpose, panoptica, COCO) or ``'>'`` (MONAI,
                torchmetrics)
==============  ====================================================================  =====================

The threshold test is exact: the criterion is a ratio of integers ``a / b`` and the threshold a
fraction ``n / d``, and ``a * d >= n * b`` is decided in integers, so the exact ties of pixel
grids (24 pairs at IoU 0.5 in W5) are decided by ``comparison`` alone. A threshold given as a
float is read as the simple fraction it stands for (:func:`read_threshold`: ``0.6`` is 3/5, and so
is ``np.arange``'s ``0.6000000000000001``; ``2 / 3`` is 2/3); a :class:`fractions.Fraction` or a
string is read exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from segscore._types import (
    COMPARISONS,
    CRITERIA,
    MATCHINGS,
    Comparison,
    Criterion,
    FloatArray,
    IntArray,
    MatchingRule,
)
from segscore._validation import check_option, fail, fail_must
from segscore.metrics.instance.table import OverlapTable, overlap_table
from segscore.metrics.options import CountingOptions

__all__ = [
    "COMPARISONS",
    "CRITERIA",
    "MATCHINGS",
    "Comparison",
    "Criterion",
    "Matching",
    "MatchingRule",
    "match",
    "match_instances",
    "read_threshold",
    "threshold_range",
]

Threshold = float | str | Fraction


def read_threshold(value: object, name: str = "threshold") -> Fraction:
    """Return a threshold in (0, 1] as an exact fraction.

    A float that prints in at most 12 significant digits (its shortest decimal, in its own
    precision: ``0.55``, ``np.float32(0.7)``) is that decimal. One that needs more is the result
    of arithmetic, and is read as the fraction of smallest denominator (bounds 10, 100, ...,
    10**12) within a relative 1e-12 of it: ``np.arange(0.5, 1, 0.05)[2]`` (0.6000000000000001)
    and ``np.linspace``'s 0.8999999999999999 mean 3/5 and 9/10, and ``2 / 3``
    (0.6666666666666666, the IoU of a Dice of 0.8) means 2/3, so that a pair whose IoU is exactly
    2/3 passes it under ``'>='``, as in every peer (read with 12 significant digits, as before,
    2/3 became 0.666666666667 and such ties were lost). Strings and fractions are read exactly.

    Examples
    --------
    >>> read_threshold(0.6000000000000001), read_threshold("0.5"), read_threshold(1)
    (Fraction(3, 5), Fraction(1, 2), Fraction(1, 1))
    >>> read_threshold(2 / 3), read_threshold(np.float32(0.7)), read_threshold(0.55)
    (Fraction(2, 3), Fraction(7, 10), Fraction(11, 20))
    >>> read_threshold(0.0)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `threshold` must be a number in (0, 1], got 0.0.
    """
    number: Fraction | None = None
    if isinstance(value, Fraction):
        number = value
    elif isinstance(value, str):
        try:
            number = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            number = None
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number = Fraction(int(value))
    elif isinstance(value, (float, np.floating)) and math.isfinite(float(value)):
        number = _float_fraction(value)
    if number is None or not 0 < number <= 1:
        fail_must(name, "be a number in (0, 1]", repr(value))
    return number


def _float_fraction(value: float | np.floating[Any]) -> Fraction:
    """Read a finite float as a threshold (see :func:`read_threshold`)."""
    text = str(value)  # the shortest decimal that reads back as the value, in its precision
    digits = text.lower().split("e")[0].replace("-", "").replace(".", "").strip("0")
    if len(digits) <= 12:
        return Fraction(text)
    exact = Fraction(float(value))
    tolerance = abs(exact) / 10**12
    for k in range(1, 13):
        near = exact.limit_denominator(10**k)
        if abs(near - exact) <= tolerance:
            return near
    return exact


def threshold_range(
    low: Threshold = "0.5", high: Threshold = "0.95", step: Threshold = "0.05"
) -> tuple[Fraction, ...]:
    """Return the exact thresholds ``low, low + step, ..., high`` (DSB2018's 0.5:0.05:0.95).

    Examples
    --------
    >>> [str(t) for t in threshold_range("0.5", "0.6", "0.05")]
    ['1/2', '11/20', '3/5']
    """
    lo, hi, st = (
        read_threshold(low, "low"),
        read_threshold(high, "high"),
        read_threshold(step, "step"),
    )
    if hi < lo:
        fail(f"`high` must be at least `low`, got {hi} < {lo}.")
    n = int((hi - lo) / st)
    return tuple(lo + k * st for k in range(n + 1))


def _ratio(table: OverlapTable, criterion: str) -> tuple[IntArray, IntArray]:
    """Return the criterion of every pair as an exact ratio (numerator, denominator) of int64."""
    inter = table.pair_intersection
    if criterion == "iou":
        return inter, table.pair_union
    if criterion == "dice":
        return 2 * inter, table.pair_pred_area + table.pair_target_area
    if criterion == "iop":
        return inter, table.pair_pred_area
    return inter, table.pair_target_area


def _passes(num: IntArray, den: IntArray, t: Fraction, comparison: str) -> Any:
    """Return ``num / den (>= or >) t``, decided in integers."""
    big = int(den.max()) if den.size else 0
    if big * max(t.numerator, t.denominator) * 2 < 2**62:
        left, right = num * t.denominator, den * t.numerator
    else:  # exact Python integers where int64 could overflow
        left = num.astype(object) * t.denominator
        right = den.astype(object) * t.numerator
    return np.asarray(left >= right if comparison == ">=" else left > right, dtype=bool)


def one_to_one(criterion: str, t: Fraction, comparison: str) -> bool:
    """Whether the pairs passing ``t`` are one-to-one whatever the objects.

    IoU > 1/2 (and Dice > 2/3, the same pairs) holds for one partner only: two disjoint
    partners would each share more than half of the object. IoP and IoT promise nothing.
    """
    if criterion in ("iop", "iot"):
        return False
    iou = t / (2 - t) if criterion == "dice" else t
    return iou > Fraction(1, 2) or (iou == Fraction(1, 2) and comparison == ">")


def check_matching(
    matching: str, criterion: str, comparison: str, thresholds: Iterable[Fraction]
) -> None:
    """Check the options; ``'unique'`` needs thresholds that make every match unique."""
    check_option("matching", matching, MATCHINGS)
    check_option("criterion", criterion, CRITERIA)
    check_option("comparison", comparison, COMPARISONS)
    if matching != "unique":
        return
    for t in thresholds:
        if not one_to_one(criterion, t, comparison):
            fail(
                "`matching='unique'` needs a threshold that makes matches unique (IoU > 0.5: "
                "criterion 'iou' with threshold > 0.5, or 0.5 with comparison '>'), got "
                f"criterion={criterion!r}, threshold={t}, comparison={comparison!r}; use "
                "'optimal' or 'greedy'."
            )


@dataclass(frozen=True, slots=True)
class Matching:
    """The one-to-one matches of one image at one threshold.

    Attributes
    ----------
    table : OverlapTable
        The overlap table the matches were made from.
    pairs : ndarray of int64, shape (M,)
        The matched pairs, as indices into the table's pairs (sorted).
    scores : ndarray of float64, shape (M,)
        The criterion of each matched pair (the exact ratio, correctly rounded).
    threshold : Fraction
        The threshold, exact.
    matching, criterion, comparison : str
        The conventions used.

    Examples
    --------
    >>> m = match_instances(np.array([[1, 1, 2, 0]]), np.array([[3, 3, 3, 4]]))[0]
    >>> m.tp, m.fp, m.fn, m.matched_ids(), m.scores
    (1, 1, 1, [(1, 3)], array([0.66666667]))
    """

    table: OverlapTable
    pairs: IntArray
    scores: FloatArray
    threshold: Fraction
    matching: str = "optimal"
    criterion: str = "iou"
    comparison: str = ">="

    @property
    def tp(self) -> int:
        """Matched pairs."""
        return int(self.pairs.size)

    @property
    def fp(self) -> int:
        """Predicted objects without a match."""
        return self.table.n_pred - self.tp

    @property
    def fn(self) -> int:
        """Target objects without a match."""
        return self.table.n_target - self.tp

    @property
    def score_sum(self) -> float:
        """Sum of the matched scores, exactly rounded (:func:`math.fsum`)."""
        return math.fsum(self.scores.tolist())

    @property
    def pred_index(self) -> IntArray:
        """Index (into ``table.pred_ids``) of each match's predicted object."""
        return self.table.pair_pred[self.pairs]

    @property
    def target_index(self) -> IntArray:
        """Index (into ``table.target_ids``) of each match's target object."""
        return self.table.pair_target[self.pairs]

    def matched_ids(self) -> list[tuple[int, int]]:
        """Return the (prediction id, target id) of every match."""
        p = self.table.pred_ids[self.pred_index].tolist()
        t = self.table.target_ids[self.target_index].tolist()
        return list(zip(p, t, strict=True))


def _resolve_optimal(
    table: OverlapTable,
    cand: IntArray,
    scores: FloatArray,
    *,
    count_first: bool = True,
    counted: Any = None,
) -> IntArray:
    """Among candidate pairs, the most matches, then the largest score sum.

    The Hungarian algorithm runs on each connected component of the candidate graph with more
    than one pair, so its cost matrices stay small. ``count_first=False`` maximises the score sum
    alone (AJI+). ``counted`` (booleans, one per candidate) counts only those pairs as matches,
    the score sum still running over every assigned pair (cellpose's AJI assignment). Returns
    indices into ``cand``, sorted.
    """
    # scipy is imported here: `import segscore` (and the CLI's start) stays free of it.
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    p, g = table.pair_pred[cand], table.pair_target[cand]
    n_p, n_g = table.n_pred, table.n_target
    graph = coo_matrix((np.ones(cand.size), (p, n_p + g)), shape=(n_p + n_g, n_p + n_g)).tocsr()
    _, comp = connected_components(graph, directed=False)
    edge_comp = comp[p]
    keep = []
    order = np.argsort(edge_comp, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_comp[order])) + 1
    for group in np.split(order, bounds):
        if group.size == 1:
            keep.append(group)
            continue
        rows, r_idx = np.unique(p[group], return_inverse=True)
        cols, c_idx = np.unique(g[group], return_inverse=True)
        n = min(rows.size, cols.size)
        weight = np.zeros((rows.size, cols.size))
        # count first (1 per match), then the score sum (< 1/2 in all) as the tie-breaker
        gain = scores[group] / (2 * n)
        if not count_first:
            weight[r_idx, c_idx] = np.maximum(scores[group], 1e-300)
        else:
            base = 1.0 if counted is None else np.asarray(counted)[group].astype(np.float64)
            weight[r_idx, c_idx] = base + np.maximum(gain, 1e-300)
        ri, ci = linear_sum_assignment(weight, maximize=True)
        chosen = weight[ri, ci] > 0
        lookup = np.full((rows.size, cols.size), -1, dtype=np.int64)
        lookup[r_idx, c_idx] = group
        keep.append(lookup[ri[chosen], ci[chosen]])
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)


def _resolve_greedy(table: OverlapTable, cand: IntArray, scores: FloatArray) -> IntArray:
    """Pairs by decreasing score (ties: table order), each object used at most once."""
    order = np.lexsort((np.arange(cand.size), -scores))
    used_p: set[int] = set()
    used_g: set[int] = set()
    keep = []
    for k in order.tolist():
        a, b = int(table.pair_pred[cand[k]]), int(table.pair_target[cand[k]])
        if a not in used_p and b not in used_g:
            used_p.add(a)
            used_g.add(b)
            keep.append(k)
    return np.sort(np.asarray(keep, dtype=np.int64))


def match(
    table: OverlapTable,
    *,
    threshold: Threshold = 0.5,
    matching: MatchingRule = "optimal",
    criterion: Criterion = "iou",
    comparison: Comparison = ">=",
) -> Matching:
    """Match the objects of one overlap table (module docstring for the conventions).

    Parameters
    ----------
    table : OverlapTable
        One image's table (:func:`~segscore.metrics.instance.table.overlap_table`).
    threshold : float, str or Fraction, default 0.5
        In (0, 1]; read exactly (:func:`read_threshold`).
    matching : {'optimal', 'greedy', 'unique'}, default 'optimal'
    criterion : {'iou', 'dice', 'iop', 'iot'}, default 'iou'
    comparison : {'>=', '>'}, default '>='

    Returns
    -------
    Matching

    Raises
    ------
    InputError
        On an unknown option, a threshold outside (0, 1], or ``'unique'`` with a threshold that
        does not make matches unique.

    Examples
    --------
    >>> from segscore.metrics.instance.table import overlap_table
    >>> table = overlap_table(np.array([[1, 1, 1, 1]]), np.array([[2, 2, 3, 3]]))[0]
    >>> match(table).tp, match(table, comparison=">").tp     # IoU exactly 0.5, twice
    (1, 0)
    """
    t = read_threshold(threshold)
    check_matching(matching, criterion, comparison, [t])
    return _match(table, t, matching, criterion, comparison, _ratio(table, criterion))


def _repeats(index: IntArray) -> bool:
    """Whether an object index occurs twice (a counting pass: no sort)."""
    return index.size > 1 and int(np.bincount(index).max()) > 1


def _match(
    table: OverlapTable,
    t: Fraction,
    matching: str,
    criterion: str,
    comparison: str,
    ratio: tuple[IntArray, IntArray],
) -> Matching:
    num, den = ratio
    cand = np.flatnonzero(_passes(num, den, t, comparison))
    scores = num[cand] / den[cand]
    conflict = _repeats(table.pair_pred[cand]) or _repeats(table.pair_target[cand])
    if conflict and matching == "optimal":
        keep = _resolve_optimal(table, cand, scores)
        cand, scores = cand[keep], scores[keep]
    elif conflict and matching == "greedy":
        keep = _resolve_greedy(table, cand, scores)
        cand, scores = cand[keep], scores[keep]
    elif conflict:  # pragma: no cover - check_matching makes unique matches one-to-one
        fail("`matching='unique'` found a pair that is not unique; this is a bug.")
    return Matching(
        table,
        cand.astype(np.int64),
        np.asarray(scores, dtype=np.float64),
        t,
        matching,
        criterion,
        comparison,
    )


def match_sweep(
    table: OverlapTable,
    thresholds: Sequence[Fraction],
    matching: str,
    criterion: str,
    comparison: str,
) -> list[Matching]:
    """Match one table at every threshold (the criterion is computed once)."""
    ratio = _ratio(table, criterion)
    return [_match(table, t, matching, criterion, comparison, ratio) for t in thresholds]


def match_instances(
    pred: Any,
    target: Any,
    *,
    threshold: Threshold = 0.5,
    matching: MatchingRule = "optimal",
    criterion: Criterion = "iou",
    comparison: Comparison = ">=",
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
    ignore_index: int | None = None,
) -> tuple[Matching, ...]:
    """Match the objects of instance label maps, one :class:`Matching` per image.

    Parameters
    ----------
    pred, target : array_like of int, shape (*S) or (N, *S)
        Instance label maps (0 = background); the layout rule of :func:`overlap_table`.
    threshold, matching, criterion, comparison
        As in :func:`match`.
    options, spatial_dims, ignore_index
        As in :func:`overlap_table`.

    Returns
    -------
    tuple of Matching

    Raises
    ------
    InputError
        On bad ids or shapes (:func:`overlap_table`) or options (:func:`match`).

    Examples
    --------
    >>> pred = np.array([[1, 1, 1, 1, 0, 5]])        # one prediction over two targets, one FP
    >>> target = np.array([[7, 7, 9, 9, 0, 0]])
    >>> [(m.tp, m.fp, m.fn) for m in match_instances(pred, target)]
    [(1, 1, 1)]
    """
    t = read_threshold(threshold)
    check_matching(matching, criterion, comparison, [t])
    tables = overlap_table(
        pred, target, options=options, spatial_dims=spatial_dims, ignore_index=ignore_index
    )
    return tuple(
        _match(table, t, matching, criterion, comparison, _ratio(table, criterion))
        for table in tables
    )

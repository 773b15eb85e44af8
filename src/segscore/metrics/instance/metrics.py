"""Object-level scores from overlap tables: detection counts, F1, DSB2018, PQ, AJI.

Every score is a formula in per-image integers, so that results merge exactly and the empty
cases are the same four as for pixels (:mod:`segscore.metrics.empty`), named by the *objects*
of an image: ``both_empty`` (no target and no predicted object), ``target_empty`` (predicted
objects only), ``prediction_empty`` (target objects only), ``both_present``.

=================  ==================================  ==========  ==========  ==========  ==========
name               formula (per image, or pooled)      both_empty  target_e.   pred_e.     as in
=================  ==================================  ==========  ==========  ==========  ==========
``tp@T`` ...       matched pairs (count)               0           0           0           all
``precision@T``    tp / (tp + fp)                      NaN         0           NaN         StarDist
``recall@T``       tp / (tp + fn)                      NaN         NaN         0
``f1@T``, ``rq``   2 tp / (2 tp + fp + fn)             NaN         0           0
``dsb@T``          tp / (tp + fp + fn)                 NaN         0           0           DSB2018,
                                                                                           StarDist
                                                                                           accuracy
``dsb@A:B``        the mean of ``dsb@T`` over T in A:0.05:B (per image; pooled: per T)
``sq``             sum of matched scores / tp          NaN         NaN         NaN         mean
                                                                                           matched
                                                                                           score
``pq``             sum of matched scores /             NaN         0           0           Kirillov
                   (tp + fp / 2 + fn / 2)
``aji``            sum I / sum U (Kumar 2017)          NaN         0           0
``aji+``           the same, one-to-one (HoVer-Net)    NaN         0           0
=================  ==================================  ==========  ==========  ==========  ==========

NaN is the policy's ``zero_division`` (default NaN: excluded from means and counted); StarDist
gives 0 in every empty case (``EmptyPolicy(zero_division=0)``). ``pq``, ``sq`` and ``rq`` use the
threshold 0.5 unless named ``pq@T``. Matched scores are those of the matching ``criterion``
(IoU by default), each the correctly rounded ratio of two exact integers, summed with
:func:`math.fsum` (the sum does not depend on the order of the images).

Aggregation uses the names of the pixel metrics (:mod:`segscore.metrics.reduce`): the
``pooled`` rules sum the counts (and score sums) over images before the formula (StarDist's
``matching_dataset`` default, torchmetrics, MONAI's ``mean_batch``); every per-image rule
(default ``images_then_classes``; all are the same for one class of objects) averages the
per-image values (StarDist ``by_image=True``, DSB2018, cellpose, panoptica).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from segscore._types import Aggregation, FloatArray, IntArray
from segscore._validation import check_option, fail, fail_must
from segscore.metrics.conventions import Conventions
from segscore.metrics.empty import (
    EmptyPolicy,
    apply_policy,
    as_empty_policy,
    empty_cases,
)
from segscore.metrics.instance.matching import (
    Comparison,
    Criterion,
    MatchingRule,
    _resolve_optimal,
    check_matching,
    match_sweep,
    read_threshold,
    threshold_range,
)
from segscore.metrics.instance.table import OverlapTable, overlap_table
from segscore.metrics.options import BINARY_FOREGROUND, CountingOptions
from segscore.metrics.reduce import AGGREGATIONS, DEFAULT_AGGREGATION, Score, score_values
from segscore.metrics.registry import MetricSpec, get_metric

__all__ = [
    "InstanceCounts",
    "aggregated_jaccard",
    "instance_counts",
    "instance_scores",
    "score_counts",
    "score_tables",
]

_POOLED = ("pooled", "pooled_micro")


@dataclass(frozen=True, slots=True)
class InstanceCounts:
    """Detection counts per image and threshold, from one overlap table per image.

    Attributes
    ----------
    thresholds : tuple of Fraction
        The thresholds (exact), one column each.
    tp, fp, fn : ndarray of int64, shape (N, T)
        Matched pairs, unmatched predictions and unmatched targets.
    score_sum : ndarray of float64, shape (N, T)
        Sum of the matched pairs' criterion scores (exactly rounded).
    n_pred, n_target : ndarray of int64, shape (N,)
        Objects per image.
    matching, criterion, comparison : str
        The conventions of the matching.

    Examples
    --------
    >>> from segscore.metrics.instance import overlap_table
    >>> tables = overlap_table(np.array([[1, 1, 2, 0]]), np.array([[3, 3, 3, 4]]))
    >>> c = instance_counts(tables, thresholds=(0.5, 0.7))
    >>> c.tp, c.fp, c.fn
    (array([[1, 0]]), array([[1, 2]]), array([[1, 2]]))
    """

    thresholds: tuple[Fraction, ...]
    tp: IntArray
    fp: IntArray
    fn: IntArray
    score_sum: FloatArray
    n_pred: IntArray
    n_target: IntArray
    matching: str = "optimal"
    criterion: str = "iou"
    comparison: str = ">="

    @property
    def n_images(self) -> int:
        """Number of images (rows)."""
        return int(self.tp.shape[0])

    def column(self, threshold: Fraction) -> int:
        """Return the column of ``threshold``."""
        try:
            return self.thresholds.index(threshold)
        except ValueError:
            fail(f"`threshold` must be one of the counted thresholds, got {threshold}.")

    def take(self, rows: Any) -> InstanceCounts:
        """Return the counts of the given image rows (repetitions allowed: bootstrap draws)."""
        index = np.asarray(rows, dtype=np.int64)
        return InstanceCounts(
            self.thresholds,
            matching=self.matching,
            criterion=self.criterion,
            comparison=self.comparison,
            **{f: getattr(self, f)[index] for f in _ROW_FIELDS},
        )

    @staticmethod
    def concat(parts: Sequence[InstanceCounts]) -> InstanceCounts:
        """Join the rows of counts made with the same thresholds and conventions (exact)."""
        if not parts:
            fail("`parts` must hold at least one InstanceCounts, got none.")
        first = parts[0]
        key = (first.thresholds, first.matching, first.criterion, first.comparison)
        for part in parts[1:]:
            other = (part.thresholds, part.matching, part.criterion, part.comparison)
            if other != key:
                fail(
                    f"counts to join must have the same thresholds and matching, got {key} and {other}."
                )
        rows = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _ROW_FIELDS}
        return InstanceCounts(
            first.thresholds,
            matching=first.matching,
            criterion=first.criterion,
            comparison=first.comparison,
            **rows,
        )


_ROW_FIELDS = ("tp", "fp", "fn", "score_sum", "n_pred", "n_target")


def instance_counts(
    tables: Sequence[OverlapTable],
    *,
    thresholds: Iterable[float | str | Fraction] = (0.5,),
    matching: MatchingRule = "optimal",
    criterion: Criterion = "iou",
    comparison: Comparison = ">=",
) -> InstanceCounts:
    """Match every table at every threshold and keep the counts (one table, many thresholds).

    Parameters
    ----------
    tables : sequence of OverlapTable
        One per image (:func:`~segscore.metrics.instance.table.overlap_table`).
    thresholds : iterable of float, str or Fraction, default (0.5,)
        Read exactly (:func:`~segscore.metrics.instance.matching.read_threshold`).
    matching, criterion, comparison
        The conventions of :mod:`segscore.metrics.instance.matching`.

    Returns
    -------
    InstanceCounts

    Raises
    ------
    InputError
        On a threshold outside (0, 1] or an unknown or contradictory matching option.
    """
    ts = tuple(read_threshold(t) for t in thresholds)
    if not ts:
        fail("`thresholds` must hold at least one threshold, got none.")
    check_matching(matching, criterion, comparison, ts)
    n, k = len(tables), len(ts)
    tp = np.zeros((n, k), np.int64)
    sums = np.zeros((n, k), np.float64)
    n_pred = np.array([t.n_pred for t in tables], dtype=np.int64)
    n_target = np.array([t.n_target for t in tables], dtype=np.int64)
    for i, table in enumerate(tables):
        for j, m in enumerate(match_sweep(table, ts, matching, criterion, comparison)):
            tp[i, j] = m.tp
            sums[i, j] = m.score_sum
    return InstanceCounts(
        ts,
        tp,
        n_pred[:, None] - tp,
        n_target[:, None] - tp,
        sums,
        n_pred,
        n_target,
        matching,
        criterion,
        comparison,
    )


def aggregated_jaccard(
    tables: Sequence[OverlapTable], *, one_to_one: bool = False
) -> tuple[IntArray, IntArray]:
    """Return the exact numerator and denominator of the aggregated Jaccard index per image.

    Kumar et al. (2017): each target object takes the prediction of largest IoU with it (a
    prediction may serve several targets; ties go to the smallest prediction id); the
    intersections are summed into ``I``, the unions into ``U``, and the areas of targets
    without any overlap and of predictions never taken are added to ``U``. ``one_to_one=True``
    is AJI+ (Graham et al. 2019, HoVer-Net): the pairs are a one-to-one assignment of maximum
    IoU sum instead. AJI = I / U.

    Returns
    -------
    intersection, union : ndarray of int64, shape (N,)

    Examples
    --------
    >>> from segscore.metrics.instance import overlap_table
    >>> tables = overlap_table(np.array([[1, 1, 1, 1]]), np.array([[2, 2, 3, 3]]))
    >>> aggregated_jaccard(tables), aggregated_jaccard(tables, one_to_one=True)
    ((array([4]), array([8])), (array([2]), array([6])))
    """
    inter = np.zeros(len(tables), np.int64)
    union = np.zeros(len(tables), np.int64)
    for i, t in enumerate(tables):
        iou = t.pair_intersection / np.maximum(t.pair_union, 1)
        if one_to_one:
            chosen = _resolve_optimal(t, np.arange(t.n_pairs), iou, count_first=False)
        else:
            # pairs sorted by target, then decreasing IoU, then prediction: first of each target
            order = np.lexsort((t.pair_pred, -iou, t.pair_target))
            first = np.ones(order.size, bool)
            first[1:] = t.pair_target[order][1:] != t.pair_target[order][:-1]
            chosen = order[first]
        used_pred = np.zeros(t.n_pred, bool)
        used_pred[t.pair_pred[chosen]] = True
        used_target = np.zeros(t.n_target, bool)
        used_target[t.pair_target[chosen]] = True
        inter[i] = int(t.pair_intersection[chosen].sum())
        union[i] = (
            int(t.pair_union[chosen].sum())
            + int(t.target_areas[~used_target].sum())
            + int(t.pred_areas[~used_pred].sum())
        )
    return inter, union


# -- scores -----------------------------------------------------------------------------------------


def _threshold_of(spec: MetricSpec) -> Fraction:
    return read_threshold(spec.params.get("threshold", "0.5"))


def _refuse_coco(spec: MetricSpec) -> None:
    """COCO's ``ap``/``ar`` need detection scores: they are scored by ``coco_scores``."""
    if spec.base in ("ap", "ar"):
        fail_must(
            "scores",
            f"be given for the COCO metric {spec.name!r} (one detection score per predicted "
            "object): score it with `coco_scores(pred, target, scores, metrics)`",
            "none",
        )


def thresholds_of(spec: MetricSpec) -> tuple[Fraction, ...]:
    """Return the exact matching thresholds an instance metric needs (none for AJI).

    A COCO name (``ap``, ``ar``...) is refused here, so that every path that matches without
    scores (``score_tables``, ``InstanceEvaluator``, folder evaluation) says so before it starts.
    """
    _refuse_coco(spec)
    if "low" in spec.params:
        p = spec.params
        return threshold_range(p["low"], p["high"], p.get("step", "0.05"))
    if spec.base in ("aji", "aji+"):
        return ()
    return (_threshold_of(spec),)


def _fraction(num: Any, den: Any, cases: Any, policy: EmptyPolicy) -> FloatArray:
    tp, fp, fn = cases
    return apply_policy(num, den, tp, fp, fn, policy)


def _formula(base: str, tp: Any, fp: Any, fn: Any, s: Any) -> tuple[Any, Any]:
    """(numerator, denominator) of a ratio metric."""
    if base == "precision":
        return tp, tp + fp
    if base == "recall":
        return tp, tp + fn
    if base in ("f1", "rq"):
        return 2 * tp, 2 * tp + fp + fn
    if base == "dsb":
        return tp, tp + fp + fn
    if base == "sq":
        return s, tp
    return 2 * s, 2 * tp + fp + fn  # pq


def _pooled_sum(values: Any) -> Any:
    """Sum over images (axis 0); float sums exactly rounded."""
    a = np.asarray(values)
    if a.dtype.kind == "f":
        return np.array([math.fsum(col) for col in a.reshape(a.shape[0], -1).T]).reshape(
            a.shape[1:]
        )
    return a.sum(axis=0)


def _score(
    spec: MetricSpec,
    counts: InstanceCounts,
    aji: tuple[IntArray, IntArray] | None,
    aggregation: str,
    policy: EmptyPolicy,
    conventions: Conventions,
) -> Score:
    n = counts.n_images
    # the empty case of an image is named by its objects: (tp, fp, fn) = (0, P, G)
    zeros = np.zeros(n, np.int64)
    cases = (zeros, counts.n_pred, counts.n_target)
    case_counts = {c.value: int(w.sum()) for c, w in empty_cases(*cases).items()}
    pooled = aggregation in _POOLED
    pooled_cases = tuple(np.atleast_1d(_pooled_sum(c)) for c in cases)
    if spec.base == "aji" or spec.base == "aji+":
        assert aji is not None
        cells = _fraction(aji[0], aji[1], cases, policy)
        value = _fraction(
            np.atleast_1d(aji[0].sum()), np.atleast_1d(aji[1].sum()), pooled_cases, policy
        )[0]
    else:
        cols = [counts.column(t) for t in thresholds_of(spec)]
        tp, fp, fn, s = (getattr(counts, f)[:, cols] for f in ("tp", "fp", "fn", "score_sum"))
        if spec.unit == "count":
            chosen = {"tp": tp, "fp": fp, "fn": fn}[spec.base][:, 0]
            cells = chosen.astype(np.float64)
            value = float(chosen.sum())
        else:
            num, den = _formula(spec.base, tp, fp, fn, s)
            per_t = np.stack(
                [_fraction(num[:, j], den[:, j], cases, policy) for j in range(len(cols))],
                axis=1,
            )
            cells = np.asarray([math.fsum(r) / len(cols) for r in per_t], dtype=np.float64)
            pooled_t = [
                _fraction(
                    np.atleast_1d(_pooled_sum(num[:, j])),
                    np.atleast_1d(_pooled_sum(den[:, j])),
                    pooled_cases,
                    policy,
                )[0]
                for j in range(len(cols))
            ]
            value = math.fsum(pooled_t) / len(cols)
    if not pooled:
        return score_values(cells[:, None], conventions, empty_cases=case_counts)
    finite = math.isfinite(value)
    return Score(
        value=float(value),
        per_image=np.asarray(cells, dtype=np.float64),
        per_class=np.array([value], dtype=np.float64),
        cells=np.asarray(cells, dtype=np.float64)[:, None],
        n_valid=int(finite),
        n_excluded=int(math.isnan(value)),
        empty_cases=case_counts,
        conventions=conventions,
        n_nan=int(math.isnan(value)),
        n_inf=int(math.isinf(value)),
        class_ids=(BINARY_FOREGROUND,),
        columns=(0,),
    )


def score_tables(
    tables: Sequence[OverlapTable],
    metrics: str | Iterable[str] = ("f1@0.5",),
    *,
    aggregation: Aggregation = DEFAULT_AGGREGATION,
    matching: MatchingRule = "optimal",
    criterion: Criterion = "iou",
    comparison: Comparison = ">=",
    empty: float | EmptyPolicy = math.nan,
    preset: str | None = None,
) -> dict[str, Score]:
    """Score overlap tables by instance metrics of the registry (see :func:`instance_scores`)."""
    from segscore.metrics.registry import parse_metrics

    specs = parse_metrics(metrics)
    for spec in specs:
        if spec.kind != "instance":
            get_metric(spec.name, kind="instance")
        _refuse_coco(spec)
        if spec.base.startswith("lesion_"):
            fail(
                f"`metrics` must name metrics of overlap tables here, got {spec.name!r}: lesion "
                "metrics are computed from masks by lesion_scores(pred, target, ...)."
            )
    check_option("aggregation", aggregation, AGGREGATIONS)
    thresholds: dict[Fraction, None] = {}
    for spec in specs:
        for t in thresholds_of(spec):
            thresholds[t] = None
    ts = tuple(thresholds) or (Fraction(1, 2),)
    counts = instance_counts(
        tables, thresholds=ts, matching=matching, criterion=criterion, comparison=comparison
    )
    need_aji = {s.base for s in specs} & {"aji", "aji+"}
    aji = {b: aggregated_jaccard(tables, one_to_one=b == "aji+") for b in need_aji}
    return score_counts(counts, aji, specs, aggregation=aggregation, empty=empty, preset=preset)


def score_counts(
    counts: InstanceCounts,
    aji: Mapping[str, tuple[IntArray, IntArray]],
    specs: Sequence[MetricSpec],
    *,
    aggregation: Aggregation = DEFAULT_AGGREGATION,
    empty: float | EmptyPolicy = math.nan,
    preset: str | None = None,
) -> dict[str, Score]:
    """Score instance metrics from exact per-image counts (the last step of :func:`score_tables`).

    ``counts`` must hold every threshold the metrics need, and ``aji`` the per-image numerator
    and denominator of ``'aji'`` / ``'aji+'`` when asked for (:func:`aggregated_jaccard`).
    """
    matching, criterion, comparison = counts.matching, counts.criterion, counts.comparison
    out: dict[str, Score] = {}
    for spec in specs:
        policy = as_empty_policy(empty, spec.name) if spec.unit == "ratio" else EmptyPolicy()
        record: dict[str, Any] = {
            "matching": matching,
            "criterion": criterion,
            "comparison": comparison,
        }
        if spec.base in ("aji", "aji+"):
            record = {"variant": "kumar" if spec.base == "aji" else "one_to_one (aji+)"}
        else:
            record["thresholds"] = [str(t) for t in thresholds_of(spec)]
        conventions = Conventions(
            spec.name,
            "instance",
            None,
            True,
            (BINARY_FOREGROUND,),
            None,
            policy,
            aggregation,
            preset=preset,
            instance=record,
        )
        out[spec.name] = _score(spec, counts, aji.get(spec.base), aggregation, policy, conventions)
    return out


def instance_scores(
    pred: Any,
    target: Any,
    metrics: str | Iterable[str] = ("f1@0.5",),
    *,
    aggregation: Aggregation = DEFAULT_AGGREGATION,
    matching: MatchingRule = "optimal",
    criterion: Criterion = "iou",
    comparison: Comparison = ">=",
    empty: float | EmptyPolicy = math.nan,
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
    ignore_index: int | None = None,
) -> dict[str, Score]:
    """Score instance label maps by object-level metrics, from one overlap table per image.

    Parameters
    ----------
    pred, target : array_like of int, shape (*S) or (N, *S)
        Instance label maps, 0 = background (layout rule of
        :func:`~segscore.metrics.instance.table.overlap_table`).
    metrics : str or iterable of str, default ('f1@0.5',)
        Instance metrics of the registry: ``f1@T``, ``precision@T``, ``recall@T``, ``dsb@T``,
        ``dsb@A:B``, ``pq``, ``sq``, ``rq`` (``@T`` optional), ``aji``, ``aji+``, ``tp@T``,
        ``fp@T``, ``fn@T`` (module docstring). Every threshold is matched once.
    aggregation : str, default 'images_then_classes'
        ``'pooled'`` sums counts over images first; every per-image rule averages the
        per-image values (:mod:`segscore.metrics.reduce`'s names).
    matching, criterion, comparison
        The conventions of :mod:`segscore.metrics.instance.matching`.
    empty : float or EmptyPolicy, default NaN
        The empty policy of the ratio metrics (module docstring).
    options, spatial_dims, ignore_index
        As in :func:`~segscore.metrics.instance.table.overlap_table`.

    Returns
    -------
    dict of str to Score
        One :class:`~segscore.metrics.reduce.Score` per metric (``per_image`` holds the values
        of every image; ``conventions.instance`` the matching conventions).

    Raises
    ------
    InputError
        On bad ids or shapes, an unknown or non-instance metric, or contradictory options.

    Examples
    --------
    >>> pred = np.array([[[1, 1, 0, 2]], [[0, 0, 0, 0]]])     # two 1x4 images
    >>> target = np.array([[[1, 1, 1, 0]], [[0, 0, 3, 3]]])
    >>> s = instance_scores(pred, target, ["f1@0.5", "pq", "tp@0.5"])
    >>> s["f1@0.5"].per_image, s["f1@0.5"].value, s["pq"].value
    (array([0.66666667, 0.        ]), 0.3333333333333333, 0.2222222222222222)
    >>> instance_scores(pred, target, "f1@0.5", aggregation="pooled")["f1@0.5"].value
    0.5
    >>> s["tp@0.5"].per_image, s["f1@0.5"].empty_cases["prediction_empty"]
    (array([1., 0.]), 1)
    """
    tables = overlap_table(
        pred, target, options=options, spatial_dims=spatial_dims, ignore_index=ignore_index
    )
    return score_tables(
        tables,
        metrics,
        aggregation=aggregation,
        matching=matching,
        criterion=criterion,
        comparison=comparison,
        empty=empty,
    )

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
``aji_cellpose``   cellpose's: U = all foreground      NaN         0           0           cellpose
=================  ==================================  ==========  ==========  ==========  ==========

NaN is the policy's ``zero_division`` (default NaN: excluded from means and counted); StarDist
gives 0 in every empty case (``EmptyPolicy(zero_division=0)``). A preset
(:class:`~segscore.metrics.presets.InstanceConventions`: ``preset='stardist'``, ``'panoptica'``,
``'cellpose'``, ``'coco'``, ``'monai'``, ``'torchmetrics'``) sets the policy of each metric, the
matching conventions and the aggregation of its library (``docs/conventions.md``, Objects). The
AJI variants are defined in :mod:`segscore.metrics.instance.aji`. ``pq``, ``sq`` and ``rq`` use the
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

from segscore._types import (
    Aggregation,
    Comparison,
    Criterion,
    FloatArray,
    IntArray,
    MatchingRule,
)
from segscore._validation import fail, fail_must
from segscore.metrics.conventions import Conventions
from segscore.metrics.empty import (
    EmptyPolicy,
    apply_policy,
    empty_cases,
)
from segscore.metrics.instance.aji import AJI_METRICS, aggregated_jaccard
from segscore.metrics.instance.bulk import bulk_counts
from segscore.metrics.instance.matching import (
    check_matching,
    read_threshold,
    threshold_range,
)
from segscore.metrics.instance.settings import POOLED, ChosenConventions, choose_conventions
from segscore.metrics.instance.table import OverlapTable, overlap_table
from segscore.metrics.options import BINARY_FOREGROUND, CountingOptions
from segscore.metrics.reduce import Score, score_values
from segscore.metrics.registry import MetricSpec, get_metric

__all__ = [
    "InstanceCounts",
    "aggregated_jaccard",
    "instance_counts",
    "instance_scores",
    "score_counts",
    "score_tables",
]


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
    n_pred = np.array([t.n_pred for t in tables], dtype=np.int64)
    n_target = np.array([t.n_target for t in tables], dtype=np.int64)
    # all tables at once; equal to match_sweep on each (images with conflicting candidates are
    # matched alone: segscore.metrics.instance.bulk)
    tp, sums = bulk_counts(tables, ts, matching, criterion, comparison)
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
    if spec.base in AJI_METRICS:
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
    pooled = aggregation in POOLED
    pooled_cases = tuple(np.atleast_1d(_pooled_sum(c)) for c in cases)
    if spec.base in AJI_METRICS:
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
            if len(cols) == 1:  # fsum([x]) / 1 is x (-0.0 made 0.0, as fsum makes it)
                cells = np.asarray(per_t[:, 0] + 0.0, dtype=np.float64)
            else:
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


def _objects_only(tables: Sequence[OverlapTable], chosen: ChosenConventions) -> InstanceCounts:
    """Return counts at no threshold: the objects of each image (all that AJI scores need)."""
    n = len(tables)
    none = np.zeros((n, 0), np.int64)
    return InstanceCounts(
        (),
        none,
        none,
        none,
        np.zeros((n, 0), np.float64),
        np.array([t.n_pred for t in tables], dtype=np.int64),
        np.array([t.n_target for t in tables], dtype=np.int64),
        chosen.matching,
        chosen.criterion,
        chosen.comparison,
    )


def score_tables(
    tables: Sequence[OverlapTable],
    metrics: str | Iterable[str] = ("f1@0.5",),
    *,
    aggregation: Aggregation | None = None,
    matching: MatchingRule | None = None,
    criterion: Criterion | None = None,
    comparison: Comparison | None = None,
    empty: float | EmptyPolicy | None = None,
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
    chosen = choose_conventions(
        specs,
        preset,
        empty,
        aggregation=aggregation,
        matching=matching,
        criterion=criterion,
        comparison=comparison,
    )
    thresholds: dict[Fraction, None] = {}
    for spec in specs:
        for t in thresholds_of(spec):
            thresholds[t] = None
    if thresholds:
        counts = instance_counts(
            tables,
            thresholds=tuple(thresholds),
            matching=chosen.matching,  # type: ignore[arg-type]
            criterion=chosen.criterion,  # type: ignore[arg-type]
            comparison=chosen.comparison,  # type: ignore[arg-type]
        )
    else:  # AJI only: the objects of each image name its empty case; nothing is matched
        check_matching(chosen.matching, chosen.criterion, chosen.comparison, [Fraction(1, 2)])
        counts = _objects_only(tables, chosen)
    need_aji = {s.base for s in specs} & set(AJI_METRICS)
    aji = {b: aggregated_jaccard(tables, variant=AJI_METRICS[b]) for b in need_aji}
    return _score_chosen(counts, aji, specs, chosen)


def score_counts(
    counts: InstanceCounts,
    aji: Mapping[str, tuple[IntArray, IntArray]],
    specs: Sequence[MetricSpec],
    *,
    aggregation: Aggregation | None = None,
    empty: float | EmptyPolicy | None = None,
    preset: str | None = None,
) -> dict[str, Score]:
    """Score instance metrics from exact per-image counts (the last step of :func:`score_tables`).

    ``counts`` must hold every threshold the metrics need, and ``aji`` the per-image numerator
    and denominator of ``'aji'`` / ``'aji+'`` / ``'aji_cellpose'`` when asked for
    (:func:`aggregated_jaccard`). ``aggregation``, ``empty`` and ``preset`` as in
    :func:`instance_scores`; counts matched under other conventions than the preset's are an
    error.
    """
    chosen = choose_conventions(
        specs,
        preset,
        empty,
        aggregation=aggregation,
        matching=counts.matching,
        criterion=counts.criterion,
        comparison=counts.comparison,
    )
    return _score_chosen(counts, aji, specs, chosen)


def _score_chosen(
    counts: InstanceCounts,
    aji: Mapping[str, tuple[IntArray, IntArray]],
    specs: Sequence[MetricSpec],
    chosen: ChosenConventions,
) -> dict[str, Score]:
    out: dict[str, Score] = {}
    for spec in specs:
        if spec.base in AJI_METRICS and spec.base not in aji:
            fail(
                f"`aji` must hold the per-image numerator and denominator of {spec.base!r} "
                f"(aggregated_jaccard(tables, variant={AJI_METRICS[spec.base]!r})), got "
                f"{sorted(aji)}."
            )
        policy = chosen.policies[spec.name]
        record: dict[str, Any] = {
            "matching": chosen.matching,
            "criterion": chosen.criterion,
            "comparison": chosen.comparison,
        }
        if spec.base in AJI_METRICS:
            record = {"variant": AJI_METRICS[spec.base]}
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
            chosen.aggregation,
            preset=chosen.preset,
            instance=record,
        )
        out[spec.name] = _score(
            spec, counts, aji.get(spec.base), chosen.aggregation, policy, conventions
        )
    return out


def instance_scores(
    pred: Any,
    target: Any,
    metrics: str | Iterable[str] = ("f1@0.5",),
    *,
    aggregation: Aggregation | None = None,
    matching: MatchingRule | None = None,
    criterion: Criterion | None = None,
    comparison: Comparison | None = None,
    empty: float | EmptyPolicy | None = None,
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
    ignore_index: int | None = None,
    preset: str | None = None,
) -> dict[str, Score]:
    """Score instance label maps by object-level metrics, from one overlap table per image.

    Parameters
    ----------
    pred, target : array_like of int, shape (*S) or (N, *S)
        Instance label maps, 0 = background (layout rule of
        :func:`~segscore.metrics.instance.table.overlap_table`).
    metrics : str or iterable of str, default ('f1@0.5',)
        Instance metrics of the registry: ``f1@T``, ``precision@T``, ``recall@T``, ``dsb@T``,
        ``dsb@A:B``, ``pq``, ``sq``, ``rq`` (``@T`` optional), ``aji``, ``aji+``,
        ``aji_cellpose``, ``tp@T``, ``fp@T``, ``fn@T`` (module docstring). Every threshold is
        matched once.
    aggregation : str, optional
        ``'pooled'`` sums counts over images first; every per-image rule averages the
        per-image values (:mod:`segscore.metrics.reduce`'s names). Default: the preset's, else
        ``'images_then_classes'``.
    matching, criterion, comparison : str, optional
        The conventions of :mod:`segscore.metrics.instance.matching`. Default: the preset's,
        else ``'optimal'``, ``'iou'``, ``'>='``.
    empty : float or EmptyPolicy, optional
        The empty policy of the ratio metrics (module docstring). Default: the preset's per
        metric, else NaN.
    options, spatial_dims, ignore_index
        As in :func:`~segscore.metrics.instance.table.overlap_table`.
    preset : str, optional
        A preset with object-level conventions (:data:`segscore.metrics.presets.PRESETS`:
        ``'stardist'``, ``'panoptica'``, ``'cellpose'``, ``'coco'``, ``'monai'``,
        ``'torchmetrics'``); it fills every option left unset. An option set to another value
        than the preset's is an error (a per-image aggregation agrees with any other per-image
        rule).

    Returns
    -------
    dict of str to Score
        One :class:`~segscore.metrics.reduce.Score` per metric (``per_image`` holds the values
        of every image; ``conventions.instance`` the matching conventions,
        ``conventions.preset`` the preset).

    Raises
    ------
    InputError
        On bad ids or shapes, an unknown or non-instance metric, contradictory options, a
        preset without object-level conventions, or an option that contradicts the preset.

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

    A tie at IoU exactly 1/2 matches under StarDist's ``>=`` and not under MONAI's ``>``:

    >>> pred, target = np.array([[1, 1, 1, 1]]), np.array([[2, 2, 3, 3]])
    >>> [instance_scores(pred, target, "tp@0.5", preset=p)["tp@0.5"].value
    ...  for p in ("stardist", "monai")]
    [1.0, 0.0]
    >>> instance_scores(pred, target, "pq", preset="monai", matching="optimal")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `matching` must agree with preset='monai' (matching='unique') or be left unset, got 'optimal'.
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
        preset=preset,
    )

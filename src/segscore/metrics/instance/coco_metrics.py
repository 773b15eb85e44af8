"""COCO mask AP and AR as scores of the one registry: ``coco_scores`` and ``coco_score_tables``.

The definition (pycocotools' ``COCOeval(iouType='segm')``, one category) and its exactness are
in :mod:`.coco`; here the registry names become :class:`~segscore.metrics.reduce.Score` values
with their conventions record.

The registry names (:mod:`segscore.metrics.registry`), ``M`` = ``max_detections``:

====================  ======================================================  ===================
name                  meaning                                                 pycocotools stats
====================  ======================================================  ===================
``ap``                AP over IoU 0.5:0.05:0.95, all sizes, ``M`` per image   [0]
``ap@T``              AP at IoU ``T`` (``ap@0.5``, ``ap@0.75``)                [1], [2]
``ap@A:B``            AP over IoU ``A:0.05:B`` (``ap@A:B:S``: step ``S``)
``ap_small`` ...      AP of small / medium / large objects                    [3], [4], [5]
``arN``               AR over 0.5:0.95, all sizes, ``N`` per image            [6], [7], [8]
                      (``ar1``, ``ar10``, ``ar100``)
``ar``                the same with ``M`` per image
``ar_small`` ...      AR of small / medium / large objects, ``M`` per image   [9], [10], [11]
====================  ======================================================  ===================

Suffixes combine (``ap@0.5_large``, ``ar10@0.5``). pycocotools' ``summarize`` reports -1 for
AP@[.5:.95] (``stats[0]``) whenever 100 is not among its ``maxDets`` (its ``_summarize``
defaults to 100; the other lines use ``maxDets[2]``), so crowded images (nuclei: 100-200
objects), which need ``max_detections`` above 100, are read from ``eval['precision']`` there;
COCO's default 100 lowers AP on them (W5: 0.389 instead of 0.513 with 1000,
CONVENTIONS-objects §3 #6). Do not confuse ``ap`` with the DSB2018 score that cellpose calls
"ap" (``dsb@T`` here: no scores, optimal matching, TP / (TP + FP + FN)).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from segscore._types import Aggregation, FloatArray, IntArray
from segscore._validation import check_int, check_option, fail_must
from segscore.metrics.conventions import Conventions
from segscore.metrics.counts import _batch_shape
from segscore.metrics.empty import EmptyPolicy, apply_policy, as_empty_policy, empty_cases
from segscore.metrics.instance.coco import (
    _AREAS,
    COCO_AREA_RANGES,
    COCO_MAX_DETECTIONS,
    N_RECALL_POINTS,
    RECALL_RULES,
    RecallRule,
    _curve,
    _mean,
    _prepare,
)
from segscore.metrics.instance.matching import read_threshold, threshold_range
from segscore.metrics.instance.table import OverlapTable, _as_ids, overlap_table
from segscore.metrics.options import BINARY_FOREGROUND, CountingOptions
from segscore.metrics.reduce import AGGREGATIONS, Score, score_values
from segscore.metrics.registry import MetricSpec, get_metric, parse_metrics

__all__ = ["coco_score_tables", "coco_scores"]

_COCO_BASES = ("ap", "ar")


def _spec_thresholds(spec: MetricSpec) -> tuple[Fraction, ...]:
    p = spec.params
    if "threshold" in p:
        return (read_threshold(p["threshold"]),)
    return threshold_range(p.get("low", "0.5"), p.get("high", "0.95"), p.get("step", "0.05"))


def _spec_detections(spec: MetricSpec, max_detections: int) -> int:
    return int(spec.params["max_detections"]) if "max_detections" in spec.params else max_detections


def _value(spec: MetricSpec, rows: IntArray, precision: FloatArray, recall: FloatArray) -> float:
    """AP: the mean of the chosen thresholds' precision rows; AR: of their recalls."""
    return _mean(precision[rows] if spec.base == "ap" else recall[rows])


def coco_score_tables(
    tables: Sequence[OverlapTable],
    scores: Sequence[Any] | None,
    metrics: str | Iterable[str] = ("ap",),
    *,
    max_detections: int = COCO_MAX_DETECTIONS,
    aggregation: Aggregation = "pooled",
    empty: float | EmptyPolicy = math.nan,
    recall_rule: RecallRule = "pycocotools",
    crowd: Sequence[Any] | None = None,
    preset: str | None = None,
) -> dict[str, Score]:
    """Score overlap tables by COCO metrics of the registry (see :func:`coco_scores`)."""
    specs = parse_metrics(metrics)
    for spec in specs:
        if spec.base not in _COCO_BASES:
            get_metric(spec.name, kind="instance")  # a non-instance name: the family's message
            fail_must(
                "metrics",
                "name COCO metrics here (ap, ap@T, ap_small, ar, arN, ...); score the other "
                "instance metrics with `instance_scores`",
                repr(spec.name),
            )
    max_det = check_int("max_detections", max_detections, low=1)
    check_option("aggregation", aggregation, AGGREGATIONS)
    check_option("recall_rule", recall_rule, RECALL_RULES)
    policies = {spec.name: as_empty_policy(empty, spec.name) for spec in specs}
    thresholds = sorted({t for spec in specs for t in _spec_thresholds(spec)})
    n_dets = max(_spec_detections(spec, max_det) for spec in specs)
    images = _prepare(tables, scores, crowd, thresholds, n_dets)
    pooled = aggregation in ("pooled", "pooled_micro")
    n = len(images)
    n_pred = np.array([t.n_pred for t in tables], np.int64)
    n_target = np.array([img.crowd.size - np.count_nonzero(img.crowd) for img in images], np.int64)
    zeros = np.zeros(n, np.int64)
    case_counts = {c.value: int(w.sum()) for c, w in empty_cases(zeros, n_pred, n_target).items()}
    pooled_case = (np.zeros(1, np.int64), n_pred.sum(keepdims=True), n_target.sum(keepdims=True))
    curves: dict[tuple[int, int, int], tuple[FloatArray, FloatArray]] = {}

    def curve(area: int, dets: int, image: int) -> tuple[FloatArray, FloatArray]:
        key = (area, dets, image)
        if key not in curves:
            chosen = images if image < 0 else images[image : image + 1]
            q, r, _ = _curve(chosen, area, dets, recall_rule, len(thresholds))
            curves[key] = (q, r)
        return curves[key]

    out: dict[str, Score] = {}
    for spec in specs:
        policy = policies[spec.name]
        area = _AREAS.index(str(spec.params.get("area", "all")))
        dets = _spec_detections(spec, max_det)
        spec_ts = _spec_thresholds(spec)
        rows = np.array([thresholds.index(t) for t in spec_ts], np.int64)
        per_image = np.array([_value(spec, rows, *curve(area, dets, i)) for i in range(n)])
        # the natural value (NaN without targets) becomes the policy's: zero division, overrides
        cells = _apply(per_image, (zeros, n_pred, n_target), policy)
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
            instance=_record(spec_ts, dets, spec, recall_rule, crowd is not None, pooled),
        )
        if not pooled:
            out[spec.name] = score_values(cells[:, None], conventions, empty_cases=case_counts)
            continue
        natural = np.array([_value(spec, rows, *curve(area, dets, -1))])
        value = float(_apply(natural, pooled_case, policy)[0])
        out[spec.name] = Score(
            value=value,
            per_image=cells,
            per_class=np.array([value]),
            cells=cells[:, None],
            n_valid=int(math.isfinite(value)),
            n_excluded=int(math.isnan(value)),
            empty_cases=case_counts,
            conventions=conventions,
            n_nan=int(math.isnan(value)),
            n_inf=int(math.isinf(value)),
            class_ids=(BINARY_FOREGROUND,),
            columns=(0,),
        )
    return out


def _apply(values: FloatArray, cases: tuple[Any, Any, Any], policy: EmptyPolicy) -> FloatArray:
    """NaN (no target) becomes the zero-division value; then the policy's case overrides."""
    nan = np.isnan(values)
    return apply_policy(np.where(nan, 0.0, values), np.where(nan, 0.0, 1.0), *cases, policy)


def _record(
    thresholds: Sequence[Fraction],
    dets: int,
    spec: MetricSpec,
    rule: str,
    crowd: bool,
    pooled: bool,
) -> dict[str, Any]:
    area = str(spec.params.get("area", "all"))
    return {
        "definition": "coco (pycocotools 2.0.11 COCOeval iouType='segm', one category)",
        "matching": "greedy by detection score",
        "criterion": "iou",
        "comparison": ">=",
        "thresholds": [str(t) for t in thresholds],
        "max_detections": dets,
        "area_range": area,
        "area_bounds": list(COCO_AREA_RANGES[area]),
        "recall_points": N_RECALL_POINTS,
        "recall_rule": rule,
        "crowd": crowd,
        "pooling": (
            "detections of all images ranked together (COCO)"
            if pooled
            else "each image's own value, then the mean over images"
        ),
    }


def coco_scores(
    pred: Any,
    target: Any,
    scores: Sequence[Any] | None,
    metrics: str | Iterable[str] = ("ap",),
    *,
    max_detections: int = COCO_MAX_DETECTIONS,
    aggregation: Aggregation = "pooled",
    empty: float | EmptyPolicy = math.nan,
    recall_rule: RecallRule = "pycocotools",
    crowd: Sequence[Any] | None = None,
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
    ignore_index: int | None = None,
) -> dict[str, Score]:
    """Score instance label maps by COCO mask AP and AR (module docstring for the definition).

    Parameters
    ----------
    pred, target : array_like of int, shape (*S) or (N, *S)
        Instance label maps, 0 = background (layout rule of
        :func:`~segscore.metrics.instance.table.overlap_table`).
    scores : sequence of array_like or mapping
        Per image, one detection score per predicted object: an array in increasing id order
        (as :func:`~segscore.metrics.instance.detection_scores.object_scores` returns), or a
        mapping from predicted id to score. A single image may give its array alone.
    metrics : str or iterable of str, default ('ap',)
        COCO names of the registry: ``ap``, ``ap@T``, ``ap@A:B``, ``ap_small``, ``ap_medium``,
        ``ap_large``, ``ar``, ``arN``, ``ar@T``, ``ar_small``... (module docstring).
    max_detections : int, default 100
        Detections kept per image (the best-scored) for ``ap*`` and ``ar``/``ar_*``; COCO's
        100 is too few for crowded images (nuclei: use e.g. 1000).
    aggregation : str, default 'pooled'
        ``'pooled'`` (COCO): the detections of all images ranked together; a per-image rule
        (``'images_then_classes'``...) averages the per-image values.
    empty : float or EmptyPolicy, default NaN
        The value without any target (pycocotools: -1), and the case overrides.
    recall_rule : {'pycocotools', 'exact'}, default 'pycocotools'
        How a recall equal to a recall point is read (module docstring).
    crowd : sequence of array_like of int, optional
        Per image, the target ids that are crowd regions (ignored, matched by any number of
        detections, IoU = intersection over the detection's area).
    options, spatial_dims, ignore_index
        As in :func:`~segscore.metrics.instance.table.overlap_table`. With ``ignore_index``,
        a predicted object lying wholly in ignored pixels leaves the image (give mappings, or
        arrays in the id order of the whole prediction: they are aligned here).

    Returns
    -------
    dict of str to Score
        One :class:`~segscore.metrics.reduce.Score` per metric: ``value`` the dataset value,
        ``per_image`` each image's own value (NaN without targets), ``conventions.instance`` the
        COCO conventions (thresholds, max detections, size range, recall points).

    Raises
    ------
    InputError
        On missing scores, scores of the wrong length or with NaN, ``max_detections < 1``, bad
        ids or shapes, or a name that is not a COCO metric.

    Examples
    --------
    >>> pred = np.array([[[1, 1, 2, 2]], [[0, 4, 4, 0]]])      # two 1x4 images
    >>> target = np.array([[[5, 5, 5, 0]], [[0, 6, 6, 0]]])
    >>> s = coco_scores(pred, target, [[0.9, 0.3], [0.8]], ["ap@0.5", "ap", "ar1"])
    >>> s["ap@0.5"].value, s["ap@0.5"].per_image, s["ar1"].value
    (1.0, array([1., 1.]), 0.7)
    >>> s["ap"].conventions.instance["max_detections"]
    100
    """
    tables = overlap_table(
        pred, target, options=options, spatial_dims=spatial_dims, ignore_index=ignore_index
    )
    if ignore_index is not None or (options is not None and options.ignore_index is not None):
        scores = _align(pred, tables, scores, options, spatial_dims)
    return coco_score_tables(
        tables,
        scores,
        metrics,
        max_detections=max_detections,
        aggregation=aggregation,
        empty=empty,
        recall_rule=recall_rule,
        crowd=crowd,
    )


def _align(
    pred: Any,
    tables: Sequence[OverlapTable],
    scores: Any,
    options: CountingOptions | None,
    spatial_dims: int | None,
) -> Any:
    """Scores given in the id order of the whole prediction, as mappings from id to score."""
    if isinstance(scores, np.ndarray) and scores.ndim == 1 and len(tables) == 1:
        scores = [scores]
    if (
        scores is None
        or isinstance(scores, (str, bytes, Mapping))
        or not hasattr(scores, "__len__")
        or len(scores) != len(tables)
    ):
        return scores  # the checks word the error
    p = _as_ids("pred", pred)
    dims = options.spatial_dims if options is not None else spatial_dims
    p = p.reshape(_batch_shape("pred", p.shape, dims, channel_axis=False))
    out: list[Any] = []
    for image, given in zip(p, scores, strict=True):
        ids = np.unique(image)
        ids = ids[ids != 0]
        a = given if isinstance(given, Mapping) else np.asarray(given)
        if isinstance(a, np.ndarray) and a.ndim == 1 and a.size == ids.size:
            out.append(dict(zip(ids.tolist(), a.tolist(), strict=True)))
        else:
            out.append(given)
    return out

"""COCO AP and AR on tiny label maps with scores: a worked example and the conventions.

The objects are those of the instance family's example (:mod:`.instance_example`), scored by
their mean probability in a probability map drawn in tenths. Every number is computed by
segscore's functions (:func:`object_scores`, :func:`overlap_table`, :func:`coco_evaluate`,
:func:`coco_scores`, :func:`instance_scores`); the maps are the only fixed inputs.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import numpy as np

from segscore.metrics.empty import EmptyCase
from segscore.metrics.instance.coco import (
    COCO_AREA_RANGES,
    COCO_MAX_DETECTIONS,
    _ignored,
    _prepare,
    coco_evaluate,
)
from segscore.metrics.instance.coco_metrics import (
    _spec_detections,
    _spec_thresholds,
    coco_scores,
)
from segscore.metrics.instance.detection_scores import object_scores
from segscore.metrics.instance.metrics import instance_scores
from segscore.metrics.instance.table import overlap_table
from segscore.metrics.registry import MetricSpec
from segscore.report.explain.instance_example import (
    INSTANCE_PRED,
    INSTANCE_TARGET,
    PRED_SYMBOLS,
    TARGET_SYMBOLS,
)
from segscore.report.explain.text import draw_labels, fmt, parse_grid, side_by_side, table, wrap

__all__ = ["COCO_PROBABILITY", "coco_conventions", "coco_example"]

COCO_PROBABILITY = parse_grid(
    """
    76100000
    65100870
    00000760
    01000000
    99999910
    88888800
    """,
    "0123456789",
)
"""The prediction's foreground probability in tenths (9 = 0.9): c, the merge, is the surest."""

_CALL = "(segscore.coco_scores)"


def _scores() -> Any:
    return object_scores(COCO_PROBABILITY / 10, INSTANCE_PRED)[0]


def _value(name: str, pred: Any, target: Any, scores: Any, **kw: Any) -> float:
    return coco_scores(pred, target, scores, [name], **kw)[name].value


def _mean(values: Any) -> float:
    flat = [float(v) for v in np.ravel(values) if not math.isnan(v)]
    return math.fsum(flat) / len(flat) if flat else math.nan


def _runs(values: Any) -> str:
    """``'51 x 0.6667 + 50 x 0.0000'``: equal consecutive values counted."""
    parts: list[tuple[int, float]] = []
    for v in np.ravel(values).tolist():
        if parts and parts[-1][1] == v:
            parts[-1] = (parts[-1][0] + 1, v)
        else:
            parts.append((1, v))
    return " + ".join(f"{n} x {v:.4f}" for n, v in parts)


def _statuses(spec: MetricSpec, scores: Any) -> tuple[list[str], list[list[str]], int]:
    """Return the detections by score, their outcome per threshold, and G (targets scored)."""
    tables = overlap_table(INSTANCE_PRED, INSTANCE_TARGET)
    tab = tables[0]
    ts = _spec_thresholds(spec)
    dets = _spec_detections(spec, COCO_MAX_DETECTIONS)
    area = str(spec.params.get("area", "all"))
    a = list(COCO_AREA_RANGES).index(area)
    img = _prepare(tables, [scores], None, ts, dets)[0]
    by_score = np.argsort(-np.asarray(scores), kind="stable")
    names = [f"{PRED_SYMBOLS[int(tab.pred_ids[k])]} {float(scores[k]):.2f}" for k in by_score]
    ignore_t = img.crowd | _ignored(img.target_areas, area)
    ignore_d = _ignored(img.areas, area)
    rows = []
    for j in range(len(ts)):
        matched = img.matched[a if img.matched.shape[0] > 1 else 0, j]
        row = []
        for d in range(len(names)):
            if d >= matched.size:
                row.append("-")  # beyond max_detections: not kept
            elif matched[d] >= 0:
                row.append("ign" if ignore_t[matched[d]] else "TP")
            else:
                row.append("ign" if ignore_d[d] else "FP")
        rows.append(row)
    return names, rows, int(np.count_nonzero(~ignore_t))


def _curve_lines(spec: MetricSpec, row: list[str], g: int, q: Any, t: Fraction) -> list[str]:
    tp = fp = 0
    prec, rec = [], []
    for s in row:
        if s in ("TP", "FP"):
            tp, fp = tp + (s == "TP"), fp + (s == "FP")
            prec.append(f"{tp}/{tp + fp}")
            rec.append(f"{tp}/{g}")
    lines = wrap(
        f"At T = {float(t):g}, after each kept detection that is not ignored: precision "
        f"{', '.join(prec) or 'none'}; recall {', '.join(rec) or 'none'}",
        indent="  ",
    )
    if spec.base == "ap":
        lines += [
            "101 recall points, each reading the best precision at that recall or beyond:",
            f"AP@{float(t):g} = ({_runs(q)}) / 101 = {fmt(_mean(q))}",
        ]
    return lines


def _final_lines(spec: MetricSpec, per_t: list[float], value: float) -> list[str]:
    if math.isnan(value):
        area = str(spec.params.get("area", "all"))
        return [
            f"{spec.name} = NaN   {_CALL}",
            f"G = 0: no {area} target (pycocotools writes -1 and summarize skips it)",
        ]
    if len(per_t) == 1:
        return [f"{spec.name} = {fmt(value)}   {_CALL}"]
    return [f"{spec.name} = ({_runs(per_t)}) / {len(per_t)} = {fmt(value)}   {_CALL}"]


def coco_example(spec: MetricSpec) -> list[str]:
    """Return the worked example: the objects, their scores, the ranked matches and the metric."""
    scores = _scores()
    rows, cols = INSTANCE_TARGET.shape
    tab = overlap_table(INSTANCE_PRED, INSTANCE_TARGET)[0]
    ts = _spec_thresholds(spec)
    dets = _spec_detections(spec, COCO_MAX_DETECTIONS)
    area = str(spec.params.get("area", "all"))
    a = list(COCO_AREA_RANGES).index(area)
    ev = coco_evaluate([tab], [scores], iou_thresholds=ts, max_detections=(dets,))
    value = _value(spec.name, INSTANCE_PRED, INSTANCE_TARGET, [scores])
    names, outcome, g = _statuses(spec, scores)
    per_t = [
        _mean(ev.precision[j, :, a, 0]) if spec.base == "ap" else float(ev.recall[j, a, 0])
        for j in range(len(ts))
    ]
    objects = [
        [PRED_SYMBOLS[int(p)], str(int(n)), fmt(float(s))]
        for p, n, s in zip(tab.pred_ids, tab.pred_areas, scores, strict=True)
    ]
    pairs = ", ".join(
        f"{PRED_SYMBOLS[int(tab.pred_ids[tab.pair_pred[k]])]}-"
        f"{TARGET_SYMBOLS[int(tab.target_ids[tab.pair_target[k]])]} "
        f"{fmt(int(tab.pair_intersection[k]) / int(tab.pair_union[k]))}"
        for k in range(tab.n_pairs)
    )
    low, high = COCO_AREA_RANGES[area]
    top = "1e10" if high >= 10**10 else str(high)
    sizes = "(all sizes)" if area == "all" else f"of size {area} ([{low}, {top}] pixels)"
    column = "AP@T" if spec.base == "ap" else "AR@T = tp/G"
    body = [
        [f"{float(t):g}", *outcome[j], "NaN" if g == 0 else fmt(per_t[j])] for j, t in enumerate(ts)
    ]
    lines = [
        *wrap(
            f"One {rows} x {cols} image: target objects 1-4, predicted objects (detections) a-c, "
            "and the prediction's probability map in tenths (9 = 0.9)."
        ),
        "",
        *side_by_side(
            [
                ("target", draw_labels(INSTANCE_TARGET, TARGET_SYMBOLS)),
                ("prediction", draw_labels(INSTANCE_PRED, PRED_SYMBOLS)),
                ("probability", draw_labels(COCO_PROBABILITY, "0123456789")),
            ]
        ),
        "",
        "Scores: the mean probability inside each object (segscore.object_scores):",
        *("  " + line for line in table(["object", "pixels", "score"], objects)),
        *wrap(f"IoU of the overlapping pairs (segscore.overlap_table): {pairs}"),
        *wrap(
            f"G = {g} target objects {sizes}; max_detections {dets} per image. Detections by "
            "decreasing score, each taking the unmatched "
            "target of largest IoU >= T (segscore.coco_evaluate; ign: outside the size range, "
            "-: not kept):"
        ),
        *("  " + line for line in table(["T", *names, column], body)),
    ]
    if g > 0:
        lines += _curve_lines(spec, outcome[0], g, ev.precision[0, :, a, 0], ts[0])
    if len(ts) > 1 and g > 0:
        lines.append(f"{spec.name}: the mean over the {len(ts)} thresholds")
    lines += _final_lines(spec, per_t, value)
    return lines


# -- conventions ------------------------------------------------------------------------------


def _plain(spec: MetricSpec) -> str:
    """Return the name without its detections count (``ar10`` -> ``ar``)."""
    return re.sub(r"^ar\d+", "ar", spec.name)


def _ranking(spec: MetricSpec) -> list[str]:
    scores = _scores()
    flipped = scores[::-1].copy()
    same = _value(spec.name, INSTANCE_PRED, INSTANCE_TARGET, [scores])
    other = _value(spec.name, INSTANCE_PRED, INSTANCE_TARGET, [flipped])
    given = ", ".join(
        f"{PRED_SYMBOLS[k + 1]} {float(s):.2f}" for k, s in enumerate(flipped.tolist())
    )
    return wrap(
        f"Scores: the same objects scored the other way round ({given}: the merge c last) give "
        f"{spec.name} = {fmt(other)} instead of {fmt(same)}. A model that gives no score "
        "needs one per object: the mean probability (object_scores) is the usual choice; a "
        "constant score ranks objects by id."
    )


def _max_detections(spec: MetricSpec) -> list[str]:
    name = _plain(spec)
    scores = [_scores()]
    parts = [
        f"{k}: {fmt(_value(name, INSTANCE_PRED, INSTANCE_TARGET, scores, max_detections=k))}"
        for k in (1, 2, 3)
    ]
    return wrap(
        f"max_detections (pycocotools maxDets): {name} keeping the k best-scored detections "
        f"per image, k = {', '.join(parts)}. COCO's 100 is too few for crowded images: W5 "
        "(100-200 nuclei per image) AP@[.5:.95] 0.389 instead of 0.513 with 1000, and "
        "pycocotools' summarize() then prints -1 for stats[0] (CONVENTIONS-objects §3 #6); "
        "segscore evaluate --max-detections."
    )


def _two_maps(spec: MetricSpec) -> list[str]:
    if spec.base != "ap":
        return []
    dsb = instance_scores(INSTANCE_PRED, INSTANCE_TARGET, ["dsb@0.5:0.95"])["dsb@0.5:0.95"]
    ap = _value("ap", INSTANCE_PRED, INSTANCE_TARGET, [_scores()])
    return [
        *wrap(
            "'mAP' means two things: the DSB2018 score (stardist 'accuracy', cellpose 'ap'; "
            "dsb@0.5:0.95 here: no scores, optimal matching, tp / (tp + fp + fn) averaged over "
            f"thresholds) is {fmt(dsb.value)} on the worked example, COCO's ap {fmt(ap)}; W5: "
            "0.4941 vs 0.5132 from the same matches (CONVENTIONS-objects §3 #7)."
        ),
        "",
    ]


def _recall_rule(spec: MetricSpec) -> list[str]:
    if spec.base != "ap":
        return wrap(
            "recall_rule ('pycocotools' or 'exact') changes AP only: AR is the final recall."
        )
    target = np.zeros((1, 40), np.int64)
    target[0, ::2] = np.arange(1, 21)
    pred = np.where(target <= 7, target, 0)
    ones = [np.ones(7)]
    coco = _value("ap@0.5", pred, target, ones, recall_rule="pycocotools")
    exact = _value("ap@0.5", pred, target, ones, recall_rule="exact")
    return wrap(
        "recall_rule: 20 one-pixel targets, 7 found exactly, no false positive: recall 7/20 = "
        f"0.35 exactly. ap@0.5 = {fmt(coco)} with 'pycocotools' (default: its float recall "
        "point 0.35 lies above 7/20, so that point reads 0) and "
        f"{fmt(exact)} with 'exact' (>= at all 101 points)."
    )


def _sizes(spec: MetricSpec) -> list[str]:
    base = "ap" if spec.base == "ap" else "ar"
    names = [base, *(f"{base}_{a}" for a in ("small", "medium", "large"))]
    found = coco_scores(INSTANCE_PRED, INSTANCE_TARGET, [_scores()], names)
    parts = ", ".join(f"{n} {fmt(found[n].value)}" for n in names)
    areas = ", ".join(
        str(int(n)) for n in overlap_table(INSTANCE_PRED, INSTANCE_TARGET)[0].target_areas
    )
    return wrap(
        f"Size ranges (pixel counts, voxels in 3-D, both ends included): the targets have "
        f"{areas} pixels, all small (<= 32² = 1024): {parts} (NaN: no target in the range; "
        "pycocotools -1)."
    )


def _aggregation(spec: MetricSpec) -> list[str]:
    second_target = np.zeros_like(INSTANCE_TARGET)
    second_target[1:3, 1:3] = 1
    second_target[3:5, 5:7] = 2
    second_pred = np.where(second_target == 1, 1, 0)
    second_pred[0, 7] = 2  # a false positive, scored above every detection of image 1
    pred = np.stack([INSTANCE_PRED, second_pred])
    target = np.stack([INSTANCE_TARGET, second_target])
    scores = [_scores(), np.array([0.9, 0.95])]
    pooled = coco_scores(pred, target, scores, [spec.name])[spec.name]
    mean = coco_scores(pred, target, scores, [spec.name], aggregation="images_then_classes")
    return wrap(
        "Aggregation: with a second image (two targets, one found exactly at score 0.9, a "
        f"false positive at 0.95), {spec.name} per image {fmt(pooled.per_image)}; COCO ranks "
        f"the detections of all images together: {fmt(pooled.value)} (aggregation 'pooled', "
        f"default; pycocotools), vs the mean of the per-image values {fmt(mean[spec.name].value)}"
        " (a per-image rule)."
    )


_EMPTY = {
    EmptyCase.BOTH_EMPTY: ([0, 0, 0, 0], [0, 0, 0, 0]),
    EmptyCase.TARGET_EMPTY: ([1, 1, 0, 0], [0, 0, 0, 0]),
    EmptyCase.PREDICTION_EMPTY: ([0, 0, 0, 0], [1, 1, 0, 0]),
    EmptyCase.BOTH_PRESENT: ([1, 1, 0, 0], [1, 1, 0, 0]),
}


def _empty(spec: MetricSpec) -> list[str]:
    pred = np.array([[p] for p, _ in _EMPTY.values()])
    target = np.array([[t] for _, t in _EMPTY.values()])
    scores = [np.ones(int(p.max())) for p in pred]
    rows = []
    for label, empty in (("segscore default", math.nan), ("empty=0", 0.0)):
        found = coco_scores(pred, target, scores, [spec.name], empty=empty)[spec.name]
        rows.append([label, *(fmt(v) for v in found.per_image)])
    return [
        *wrap(
            f"Empty images: {spec.name} of one 1 x 4 image per case (prediction vs target: "
            "0000 vs 0000, 1100 vs 0000, 0000 vs 1100, 1100 vs 1100). pycocotools: -1 without "
            "a target (its false positives ignored), IndexError in loadRes([]) when the whole "
            "set has no detection (CONVENTIONS-objects §4)."
        ),
        *("  " + line for line in table(["policy", *(c.value for c in _EMPTY)], rows)),
    ]


def _tie(spec: MetricSpec) -> list[str]:
    pred, target = np.array([[1, 1, 0, 0]]), np.array([[1, 1, 1, 1]])
    name = "ap@0.5" if spec.base == "ap" else "ar@0.5"
    v = _value(name, pred, target, [np.ones(1)])
    return wrap(
        "Threshold test: IoU >= T, decided in integers (T exact: 0.55 is 11/20). pycocotools "
        "compares float IoUs with np.linspace thresholds, each at or below its decimal, so an "
        f"IoU of exactly 0.5 matches in both: 1100 vs 1111 gives {name} = {fmt(v)}."
    )


def coco_conventions(spec: MetricSpec) -> list[str]:
    """Return the conventions that change a COCO metric, each computed on a tiny example."""
    return [
        *_ranking(spec),
        "",
        *_max_detections(spec),
        "",
        *_two_maps(spec),
        *_recall_rule(spec),
        "",
        *_sizes(spec),
        "",
        *_tie(spec),
        "",
        *_aggregation(spec),
        "",
        *_empty(spec),
    ]

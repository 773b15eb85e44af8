"""The instance family on tiny label maps: a worked example and the conventions that change it.

Every number is computed by segscore's functions (:func:`overlap_table`, :func:`match_instances`,
:func:`instance_scores`, :func:`label_components`); the label maps are the only fixed inputs.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from segscore.metrics.counting import confusion
from segscore.metrics.empty import EmptyCase, EmptyPolicy
from segscore.metrics.instance.components import label_components
from segscore.metrics.instance.matching import match_instances
from segscore.metrics.instance.metrics import instance_scores, thresholds_of
from segscore.metrics.overlap import iou
from segscore.metrics.registry import MetricSpec
from segscore.report.explain.base import substitute
from segscore.report.explain.text import draw_labels, fmt, parse_grid, side_by_side, table, wrap

__all__ = ["INSTANCE_PRED", "INSTANCE_TARGET", "instance_conventions", "instance_example"]

TARGET_SYMBOLS = ".123456789"
PRED_SYMBOLS = ".abcdefghi"

INSTANCE_TARGET = parse_grid(
    """
    111.....
    111..22.
    .....22.
    ........
    33..44..
    33..44..
    """,
    TARGET_SYMBOLS,
)
"""Target objects 1-4 of the worked example (6 x 8)."""

INSTANCE_PRED = parse_grid(
    """
    aa......
    aa...bb.
    .....bb.
    ........
    cccccc..
    cccccc..
    """,
    PRED_SYMBOLS,
)
"""Predicted objects a-c: a inside 1, b exactly 2, c one object over 3 and 4 (a merge)."""

# Greedy and optimal matching disagree on this row at T = 0.3 (a-2 is the best pair, but a-1
# and b-2 make two matches).
_GREEDY_TARGET = parse_grid("11112220", "0123")
_GREEDY_PRED = parse_grid("00111120", "0123")
_TIE_TARGET = parse_grid("1111", "01")  # a 1 x 4 object, and a prediction with IoU exactly 0.5
_TIE_PRED = parse_grid("1100", "01")
_EMPTY = {
    EmptyCase.BOTH_EMPTY: ("0000", "0000"),
    EmptyCase.TARGET_EMPTY: ("1100", "0000"),
    EmptyCase.PREDICTION_EMPTY: ("0000", "1100"),
    EmptyCase.BOTH_PRESENT: ("1100", "1100"),
}


def _fv(spec: MetricSpec, value: Any) -> str:
    """Write a value: counts as integers, ratios with four decimals."""
    if spec.unit != "count":
        return fmt(value)
    parts = [f"{float(v):g}" for v in np.ravel(value)]
    return f"({', '.join(parts)})" if len(parts) > 1 else parts[0]


def _threshold(spec: MetricSpec) -> Fraction:
    found = thresholds_of(spec)
    return found[0] if found else Fraction(1, 2)


def _at(spec: MetricSpec, t: str) -> str:
    """Return the name of the same metric at matching threshold ``t`` (AJI has none)."""
    if spec.base in ("aji", "aji+", "aji_cellpose"):
        return spec.name
    return f"{spec.base}@{t}"


def _value(spec: MetricSpec, pred: Any, target: Any, name: str | None = None, **kw: Any) -> Any:
    key = spec.name if name is None else name
    return instance_scores(pred, target, [key], **kw)[key]


def _pairs(t: Fraction) -> tuple[list[str], Any]:
    m = match_instances(INSTANCE_PRED, INSTANCE_TARGET, threshold=t)[0]
    tab = m.table
    matched = set(m.pairs.tolist())
    rows = []
    for k in range(tab.n_pairs):
        p = PRED_SYMBOLS[int(tab.pred_ids[tab.pair_pred[k]])]
        g = TARGET_SYMBOLS[int(tab.target_ids[tab.pair_target[k]])]
        inter, union = int(tab.pair_intersection[k]), int(tab.pair_union[k])
        rows.append(
            [
                f"{p}-{g}",
                str(inter),
                str(union),
                fmt(inter / union),
                "yes" if k in matched else "no",
            ]
        )
    lines = table(["pair", "intersection", "union", "IoU", "matched"], rows)
    return lines, m


def _aji_lines(spec: MetricSpec) -> list[str]:
    tab = match_instances(INSTANCE_PRED, INSTANCE_TARGET)[0].table
    inter, union = tab.pair_intersection, tab.pair_union
    rows, used, total_i, total_u = [], set(), 0, 0
    for g in range(tab.n_target):
        where = np.flatnonzero(tab.pair_target == g)
        gid = TARGET_SYMBOLS[int(tab.target_ids[g])]
        if where.size == 0:
            rows.append([gid, "-", "0", str(int(tab.target_areas[g]))])
            total_u += int(tab.target_areas[g])
            continue
        best = where[np.argmax(inter[where] / union[where])]
        used.add(int(tab.pair_pred[best]))
        total_i += int(inter[best])
        total_u += int(union[best])
        pid = PRED_SYMBOLS[int(tab.pred_ids[tab.pair_pred[best]])]
        rows.append([gid, pid, str(int(inter[best])), str(int(union[best]))])
    unused = [k for k in range(tab.n_pred) if k not in used]
    total_u += int(sum(int(tab.pred_areas[k]) for k in unused))
    names = ", ".join(PRED_SYMBOLS[int(tab.pred_ids[k])] for k in unused) or "none"
    plus = _value(spec, INSTANCE_PRED, INSTANCE_TARGET, "aji+").value
    kumar = _value(spec, INSTANCE_PRED, INSTANCE_TARGET, "aji").value
    cellpose = _value(spec, INSTANCE_PRED, INSTANCE_TARGET, "aji_cellpose").value
    return [
        "Kumar's pairing: each target object with the prediction of largest IoU (reuse allowed):",
        *("  " + line for line in table(["target", "prediction", "I", "U"], rows)),
        f"unused predictions (added to the union): {names}",
        f"AJI = {total_i} / {total_u} = {fmt(kumar)}   (segscore.instance_scores 'aji')",
        f"AJI+ (one-to-one pairs) = {fmt(plus)}   (segscore.instance_scores 'aji+')",
        "cellpose's AJI (pairs matched at IoU 0.5, over the union of all foreground)",
        f"  = {fmt(cellpose)}   (segscore.instance_scores 'aji_cellpose')",
    ]


def _formula_lines(spec: MetricSpec, formula: str, m: Any, value: float) -> list[str]:
    if "low" in spec.params:
        parts = []
        for t in thresholds_of(spec):
            v = _value(spec, INSTANCE_PRED, INSTANCE_TARGET, f"dsb@{float(t):g}").value
            parts.append(f"{float(t):g}: {fmt(v)}")
        return [
            *wrap("DSB@T per threshold: " + ", ".join(parts), indent="  "),
            f"{spec.name} = their mean = {fmt(value)}   (segscore.instance_scores)",
        ]
    numbers = {"tp": m.tp, "fp": m.fp, "fn": m.fn, "S": round(m.score_sum, 4)}
    left = spec.label if spec.base in ("pq", "sq", "rq") else spec.name
    text = formula.split(" = ", 1)[1] if " = " in formula else formula
    if spec.base in ("tp", "fp", "fn"):
        return [f"{spec.name} = {value:g}   (segscore.instance_scores)"]
    return [
        f"{left} = {substitute(text, numbers)} = {fmt(value)}   (segscore.instance_scores)",
    ]


def instance_example(spec: MetricSpec, formula: str) -> list[str]:
    """Return the worked example: two label maps, their overlapping pairs, the metric."""
    t = _threshold(spec)
    value = _value(spec, INSTANCE_PRED, INSTANCE_TARGET).value
    rows, cols = INSTANCE_TARGET.shape
    pixel = iou(confusion(INSTANCE_PRED > 0, INSTANCE_TARGET > 0))[0, 0]
    lines = [
        *wrap(
            f"One {rows} x {cols} image, instance label maps: target objects 1-4, predicted "
            "objects a-c, '.' background."
        ),
        "",
        *side_by_side(
            [
                ("target", draw_labels(INSTANCE_TARGET, TARGET_SYMBOLS)),
                ("prediction", draw_labels(INSTANCE_PRED, PRED_SYMBOLS)),
            ]
        ),
        "",
    ]
    if spec.base in ("aji", "aji+", "aji_cellpose"):
        lines += _aji_lines(spec)
    else:
        pair_lines, m = _pairs(t)
        lines += [
            *wrap(
                "overlapping pairs (segscore.overlap_table), matched one-to-one at IoU >= "
                f"{float(t):g} (segscore.match_instances, optimal):"
            ),
            *("  " + line for line in pair_lines),
            *wrap(
                f"tp = {m.tp} matched, fp = {m.fp} unmatched predictions, fn = {m.fn} "
                f"unmatched targets; S = sum of matched IoU = {m.score_sum:.4f}"
            ),
            *_formula_lines(spec, formula, m, value),
        ]
    lines += wrap(
        f"Pixel IoU of the same masks (objects ignored): {fmt(pixel)}; the merge of 3 and 4 "
        "costs objects, not pixels."
    )
    return lines


def _components() -> list[str]:
    mask = parse_grid("10\n01", "01")
    face = int(label_components(mask, connectivity="face").max())
    full = int(label_components(mask, connectivity="full").max())
    return wrap(
        "Objects from masks (segscore evaluate --instances labels|components): binary masks "
        f"become objects by connected components; two diagonal pixels are {face} objects with "
        f"connectivity 'face' (default) and {full} with 'full' (segscore.label_components; "
        "panoptica: 26-connectivity in 3-D, CONVENTIONS-objects §3 #9)."
    )


def _tie(spec: MetricSpec) -> list[str]:
    if spec.base in ("aji", "aji+", "aji_cellpose"):
        return []
    name = _at(spec, "0.5")
    ge = _value(spec, _TIE_PRED, _TIE_TARGET, name, comparison=">=").value
    gt = _value(spec, _TIE_PRED, _TIE_TARGET, name, comparison=">").value
    return [
        *wrap(
            f"Threshold test (comparison=): a prediction with IoU exactly 0.5 (1100 vs 1111) "
            f"gives {name} = {_fv(spec, ge)} with '>=' (segscore default; stardist, cellpose, "
            f"panoptica, COCO) and {_fv(spec, gt)} with '>' (MONAI, torchmetrics; CONVENTIONS-objects "
            "§3 #1). Thresholds are exact fractions: 0.6 is 3/5."
        ),
        "",
    ]


def _matching(spec: MetricSpec) -> list[str]:
    if spec.base in ("aji", "aji+", "aji_cellpose"):
        kumar = _value(spec, INSTANCE_PRED, INSTANCE_TARGET, "aji").value
        plus = _value(spec, INSTANCE_PRED, INSTANCE_TARGET, "aji+").value
        return wrap(
            f"Pairing rule: Kumar's AJI {fmt(kumar)} vs AJI+ {fmt(plus)} on the worked example "
            "(c serves both 3 and 4 in AJI; cellpose's own variant is not offered: "
            "CONVENTIONS-objects §3 #8)."
        )
    name = _at(spec, "0.3")
    opt = _value(spec, _GREEDY_PRED, _GREEDY_TARGET, name, matching="optimal").value
    greedy = _value(spec, _GREEDY_PRED, _GREEDY_TARGET, name, matching="greedy").value
    return wrap(
        "Matching rule (matching=): at T >= 0.5 a pair above T is one-to-one, so optimal, "
        "greedy and unique agree but for exact ties at 0.5 (CONVENTIONS-objects §3 #3); below "
        "0.5 they differ. Target "
        f"11112220, prediction 00111120 ('1' = a, '2' = b): {name} = {_fv(spec, opt)} optimal "
        f"(stardist: the most matches), {_fv(spec, greedy)} greedy (panoptica's default: the best "
        "pair a-2 first)."
    )


def _aggregation(spec: MetricSpec) -> list[str]:
    second_target = np.zeros_like(INSTANCE_TARGET)
    second_target[1:3, 1:3] = 1
    second_target[3:5, 5:7] = 2
    second_pred = np.where(second_target == 1, 1, 0)
    pred = np.stack([INSTANCE_PRED, second_pred])
    target = np.stack([INSTANCE_TARGET, second_target])
    per_image = _value(spec, pred, target)
    pooled = _value(spec, pred, target, aggregation="pooled")
    return wrap(
        "Aggregation: two images, the worked example and one whose two target objects are "
        f"found once, exactly: {spec.name} per image {_fv(spec, per_image.per_image)}; their mean "
        f"{_fv(spec, per_image.value)} (per-image rules, segscore default; stardist by_image=True, "
        f"cellpose, panoptica) vs {_fv(spec, pooled.value)} pooled (counts and sums added over "
        "images first; stardist's default, torchmetrics, MONAI mean_batch; "
        "CONVENTIONS-objects §3 #4)."
    )


def _empty(spec: MetricSpec) -> list[str]:
    pred = np.array([[[int(b) for b in p]] for p, _ in _EMPTY.values()])
    target = np.array([[[int(b) for b in t]] for _, t in _EMPTY.values()])
    rows = []
    for label, policy in (
        ("segscore default", EmptyPolicy()),
        ("zero_division=0 (stardist)", EmptyPolicy(zero_division=0.0)),
    ):
        values = _value(spec, pred, target, empty=policy).per_image
        rows.append([label, *(_fv(spec, v) for v in values)])
    return [
        *wrap(
            f"Empty images (EmptyPolicy; cases named by the objects): {spec.name} of one 1 x 4 "
            "image per case (prediction vs target: 0000 vs 0000, 1100 vs 0000, 0000 vs 1100, "
            "1100 vs 1100). Peers: stardist 0, cellpose NaN, MONAI PQ 0, panoptica NaN or "
            "ZeroDivisionError (CONVENTIONS-objects §4)."
        ),
        *("  " + line for line in table(["policy", *(c.value for c in _EMPTY)], rows)),
    ]


def instance_conventions(spec: MetricSpec) -> list[str]:
    """Return the conventions that change an instance metric, each on a tiny example."""
    return [
        *_components(),
        "",
        *_tie(spec),
        *_matching(spec),
        "",
        *_aggregation(spec),
        "",
        *_empty(spec),
    ]

"""The lesion-wise metrics on a tiny mask: a worked example and the conventions that change it.

The mask has a lesion found with a shifted outline, a lesion missed, a lesion too small to
count and a false-positive blob. Every number is computed by segscore's functions
(:func:`~segscore.metrics.instance.lesion.lesion_scores`, :func:`lesion_tables`,
:func:`label_components`); the masks are the only fixed inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from segscore.metrics.instance.components import label_components
from segscore.metrics.instance.lesion import BRATS_2023, BRATS_PENALTY, lesion_scores
from segscore.metrics.instance.lesion_masks import lesion_tables
from segscore.metrics.registry import MetricSpec, get_metric
from segscore.report.explain.text import (
    OVERLAY_LEGEND,
    draw_labels,
    draw_overlay,
    fmt,
    parse_grid,
    side_by_side,
    table,
    wrap,
)

__all__ = ["LESION_PRED", "LESION_TARGET", "lesion_conventions", "lesion_example"]

TARGET_SYMBOLS = ".123456789"
PRED_SYMBOLS = ".abcdefghi"

LESION_TARGET = parse_grid(
    """
    ..............
    .###..........
    .###.....##...
    .###.....##...
    ..............
    ..............
    ..............
    ............#.
    """
)
"""Target lesions of the worked example (8 x 14): 9 pixels, 4 pixels, and 1 pixel."""

LESION_PRED = parse_grid(
    """
    ..............
    ..###.........
    ..###.........
    ..###.........
    ..............
    .......#......
    ........#.....
    ..............
    """
)
"""The prediction: the first lesion shifted one column, the others missed, a diagonal blob."""

EXAMPLE_SETTINGS: dict[str, Any] = {
    "dilation": BRATS_2023["MET"][0],
    "min_volume": BRATS_2023["MET"][1],
}
"""The worked example's rules: BraTS 2023 MET's (dilation 1, min volume 2); the GLI defaults
(dilation 3, min volume 50) drop every lesion of a mask this small (see the conventions)."""

_ALL = ("lesion_dice", "lesion_hd95", "lesion_tp", "lesion_fp", "lesion_fn")


def _scores(pred: Any, target: Any, **kw: Any) -> dict[str, float]:
    found = lesion_scores(pred.astype(bool), target.astype(bool), list(_ALL), **kw)
    return {name: found[name].value for name in _ALL}


def _fv(spec: MetricSpec, value: float) -> str:
    return f"{value:g}" if spec.unit == "count" else fmt(value)


def _lesion_rows(tab: Any) -> list[list[str]]:
    rows = []
    for k in range(tab.target_voxels.size):
        kept = bool(tab.kept[k])
        hd = float(tab.hd[k])
        rows.append(
            [
                TARGET_SYMBOLS[k + 1],
                str(int(tab.target_voxels[k])),
                "yes" if kept else f"no (<= {EXAMPLE_SETTINGS['min_volume']:g})",
                str(int(tab.n_matched[k])),
                str(int(tab.intersection[k])),
                fmt(float(tab.dice[k])) if kept else "-",
                ("inf -> 374" if math.isinf(hd) else fmt(hd)) if kept else "-",
            ]
        )
    return rows


def _formula_line(spec: MetricSpec, tab: Any, value: float) -> str:
    kept = np.flatnonzero(tab.kept)
    n_kept, n_fp = int(kept.size), tab.n_fp
    if spec.base == "lesion_dice":
        terms = " + ".join(f"{float(tab.dice[k]):.4f}" for k in kept) or "0"
        return f"lesion_dice = ({terms}) / ({n_kept} + {n_fp}) = {fmt(value)}   " + _CALL
    if spec.base == "lesion_hd95":
        hd = [BRATS_PENALTY if math.isinf(tab.hd[k]) else float(tab.hd[k]) for k in kept]
        terms = " + ".join(f"{h:g}" for h in hd) or "0"
        return (
            f"lesion_hd95 = ({terms} + {n_fp}*{BRATS_PENALTY:g}) / ({n_kept} + {n_fp}) = "
            f"{fmt(value)}   " + _CALL
        )
    return f"{spec.name} = {value:g}   " + _CALL


_CALL = "(segscore.lesion_scores)"


def lesion_example(spec: MetricSpec) -> list[str]:
    """Return the worked example: the masks, their lesions, and the metric."""
    pred, target = LESION_PRED, LESION_TARGET
    rows, cols = target.shape
    t_lab = label_components(target, connectivity="full")
    p_lab = label_components(pred, connectivity="full")
    tab = lesion_tables(pred.astype(bool), target.astype(bool), **EXAMPLE_SETTINGS)[0][0]
    value = _scores(pred, target, **EXAMPLE_SETTINGS)[spec.name]
    d, v = EXAMPLE_SETTINGS["dilation"], EXAMPLE_SETTINGS["min_volume"]
    pred_rows = [
        [
            PRED_SYMBOLS[k + 1],
            str(int(tab.pred_voxels[k])),
            "yes" if tab.pred_matched[k] else "no: a false positive",
        ]
        for k in range(tab.pred_voxels.size)
    ]
    return [
        *wrap(
            f"One {rows} x {cols} image, binary masks, spacing 1; lesions = connected "
            "components with 8-connectivity (26 in 3-D), target lesions 1-3, predicted lesions "
            f"a-b. BraTS 2023 MET rules: dilation {d}, min_volume {v:g} (the GLI defaults, "
            "dilation 3 and min volume 50, would drop every lesion here). Overlay: "
            f"{OVERLAY_LEGEND}."
        ),
        "",
        *side_by_side(
            [
                ("target", draw_labels(t_lab, TARGET_SYMBOLS)),
                ("prediction", draw_labels(p_lab, PRED_SYMBOLS)),
                ("overlay", draw_overlay(pred, target)),
            ]
        ),
        "",
        *wrap(
            f"Target lesions (segscore.lesion_tables): matched = predicted lesions touching the "
            f"lesion dilated {d} time(s); Dice and HD95 with their union:"
        ),
        *(
            "  " + line
            for line in table(
                ["lesion", "pixels", "kept", "matched", "overlap", "Dice", "HD95"],
                _lesion_rows(tab),
            )
        ),
        "Predicted lesions: does each touch a dilated target lesion?",
        *("  " + line for line in table(["lesion", "pixels", "touches"], pred_rows)),
        *wrap(
            f"tp = {tab.n_tp} found, fn = {tab.n_fn} missed, fp = {tab.n_fp} false "
            f"positive(s); L = {int(tab.kept.sum())} kept target lesions"
        ),
        _formula_line(spec, tab, value),
    ]


def _settings_table(spec: MetricSpec) -> list[str]:
    pred, target = LESION_PRED, LESION_TARGET
    met = EXAMPLE_SETTINGS
    cases: list[tuple[str, dict[str, Any]]] = [
        ("MET: dilation 1, min volume 2 (above)", dict(met)),
        ("GLI default: dilation 3, min volume 50", {}),
        ("dilation 3, min volume 2", {"dilation": 3, "min_volume": 2.0}),
        ("dilation 0, min volume 0", {"dilation": 0, "min_volume": 0.0}),
        ("connectivity 'face' (4 / 6)", {**met, "connectivity": "face"}),
        ("penalty 10 instead of 374", {**met, "penalty": 10.0}),
    ]
    rows = []
    for label, kw in cases:
        values = _scores(pred, target, **kw)
        rows.append([label, *(_fv(get_metric(n), values[n]) for n in _ALL)])
    return [
        *wrap(
            f"Each rule on the worked example (segscore.lesion_scores; {spec.name} is one "
            "column). GLI's min volume drops all three target lesions here, and the blob then "
            "touches a dropped lesion, so nothing is counted: no lesion gives Dice 1 and HD95 "
            "0. Dilation 3 joins the three target lesions into one (target components whose "
            "dilations touch are one lesion) and the blob touches it. 'face' splits the "
            "diagonal blob into two false positives (CONVENTIONS-objects §3 #9)."
        ),
        *(
            "  " + line
            for line in table(
                ["rules", "dice", "hd95", "tp", "fp", "fn"],
                rows,
            )
        ),
    ]


def _panoptica() -> list[str]:
    tab = lesion_tables(
        LESION_PRED.astype(bool),
        LESION_TARGET.astype(bool),
        connectivity="face",
        dilation=0,
        min_volume=0.0,
        surface="voxel",
        rule="pooled",
    )[0][0]
    matched = tab.n_matched > 0
    dice = float(np.mean(tab.dice[matched])) if matched.any() else math.nan
    hd = float(np.mean(tab.hd[matched])) if matched.any() else math.nan
    return wrap(
        "panoptica 2.1.7 scores matched pairs only: its per-lesion DSC and HD95 (4-connectivity "
        "in 2-D, no dilation, no volume threshold, boundary voxels, pooled percentile) averaged "
        f"over the matched lesions are {fmt(dice)} and {fmt(hd)} here: the miss and the false "
        "positive do not enter (segscore.lesion_tables with connectivity='face', dilation=0, "
        "min_volume=0, surface='voxel', rule='pooled'; its object F1 and PQ count them, at IoU "
        ">= T)."
    )


def _aggregation(spec: MetricSpec) -> list[str]:
    empty = np.zeros_like(LESION_TARGET)
    pred = np.stack([LESION_PRED, empty]).astype(bool)
    target = np.stack([LESION_TARGET, empty]).astype(bool)
    per_image = lesion_scores(pred, target, [spec.name], **EXAMPLE_SETTINGS)[spec.name]
    pooled = lesion_scores(pred, target, [spec.name], aggregation="pooled", **EXAMPLE_SETTINGS)
    return wrap(
        "Aggregation: the worked example and an image without any lesion on either side "
        f"(BraTS: Dice 1, HD95 0): {spec.name} per image {_fv(spec, per_image.per_image[0])} "
        f"and {_fv(spec, per_image.per_image[1])}, mean {_fv(spec, per_image.value)} (BraTS: "
        f"the mean over cases; segscore default) vs {_fv(spec, pooled[spec.name].value)} "
        "pooled (sums and lesion counts added over images first). empty=NaN leaves lesion-free "
        "images out of the mean."
    )


def lesion_conventions(spec: MetricSpec) -> list[str]:
    """Return the conventions that change a lesion metric, each computed on the example."""
    return [
        *_settings_table(spec),
        "",
        *_panoptica(),
        "",
        *_aggregation(spec),
        "",
        *_spacing(spec),
    ]


def _spacing(spec: MetricSpec) -> list[str]:
    pred, target = LESION_PRED.astype(bool), LESION_TARGET.astype(bool)
    wide = _scores(pred, target, spacing=(2.0, 2.0), **EXAMPLE_SETTINGS)
    unit = _scores(pred, target, **EXAMPLE_SETTINGS)
    volume = lesion_tables(pred, target, spacing=(2.0, 2.0), **EXAMPLE_SETTINGS)[0][0]
    last = float(volume.target_volume[-1])
    changed = ", ".join(
        f"{n} {_fv(get_metric(n), wide[n])} instead of {_fv(get_metric(n), unit[n])}"
        for n in dict.fromkeys([spec.name, "lesion_fn"])
    )
    return wrap(
        "Spacing: HD95 is in the units of spacing and min_volume in those units cubed (squared "
        f"in 2-D; BraTS: 1 mm voxels). With spacing (2, 2) lesion 3 has volume {last:g} > "
        f"{EXAMPLE_SETTINGS['min_volume']:g} and counts as a miss: {changed}."
    )

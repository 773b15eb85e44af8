"""The overlap family on tiny masks: a worked example and the conventions that change the number.

Every number is computed here by segscore's own functions (:func:`segscore.confusion`, the
registry's formula, :func:`segscore.score`, the presets); the masks are the only fixed inputs.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from segscore.metrics.counting import confusion
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyCase, EmptyPolicy
from segscore.metrics.presets import PRESETS
from segscore.metrics.reduce import AGGREGATIONS, DEFAULT_AGGREGATION, score
from segscore.metrics.registry import MetricSpec
from segscore.report.explain.base import substitute
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

__all__ = [
    "EMPTY_CASES",
    "EXAMPLE_PRED",
    "EXAMPLE_TARGET",
    "overlap_conventions",
    "overlap_example",
]

EXAMPLE_TARGET = parse_grid(
    """
    ........
    .####...
    .####...
    .####...
    ........
    ........
    """
)
"""The target of the worked example (6 x 8, one object)."""

EXAMPLE_PRED = parse_grid(
    """
    ........
    ..####..
    ..####..
    ..####..
    ........
    .......#
    """
)
"""The prediction of the worked example: the object shifted right, and one stray pixel."""

EMPTY_CASES: dict[EmptyCase, tuple[str, str]] = {
    EmptyCase.BOTH_EMPTY: ("0000", "0000"),
    EmptyCase.TARGET_EMPTY: ("1100", "0000"),
    EmptyCase.PREDICTION_EMPTY: ("0000", "1100"),
    EmptyCase.BOTH_PRESENT: ("1100", "1000"),
}
"""One 1 x 4 image (prediction, target) per empty case."""

# Two label maps of classes 0..2 for the aggregation rules (class 2 absent from both masks of
# image B: a NaN cell), and a row with the ignore label 255.
_AGG = {
    "A target": "0011\n0011\n2200\n2200",
    "A pred": "0011\n0111\n2000\n2220",
    "B target": "0000\n0110\n0110\n0000",
    "B pred": "0000\n0110\n0010\n0000",
}
_IGNORE_TARGET = np.array([[0, 1, 1, 255, 255, 2, 2, 0]])
_IGNORE_PRED = np.array([[0, 1, 1, 1, 2, 2, 0, 0]])
_PROBS = np.array([[0.10, 0.40, 0.45, 0.60, 0.90, 0.70, 0.55, 0.20]])
_PROBS_TARGET = np.array([[0, 0, 1, 1, 1, 1, 0, 0]])

_RULES = {
    "pooled": "sum counts over images; per class; mean over classes",
    "pooled_micro": "sum counts over images and classes; one value",
    "images_then_classes": "per cell; per class mean over images; then over classes",
    "classes_then_images": "per cell; per image mean over classes; then over images",
    "per_image_per_class": "per cell; one mean over all valid cells",
    "per_image_micro": "per image sum over classes; mean over images",
}


def cells(spec: MetricSpec, counts: Counts, policy: EmptyPolicy | None = None) -> Any:
    """Return the registry's formula of ``spec`` on ``counts`` (default: NaN for 0 / 0)."""
    return spec.cells(counts, EmptyPolicy() if policy is None else policy)


def function_name(spec: MetricSpec) -> str:
    """Return the dotted name of the function behind an overlap metric of the registry.

    Examples
    --------
    >>> from segscore.metrics.registry import get_metric
    >>> function_name(get_metric("f2")), function_name(get_metric("iou"))
    ('segscore.metrics.overlap.fbeta(beta=2.0)', 'segscore.metrics.overlap.iou')
    """
    fn: Any = spec.fn
    if isinstance(fn, partial):
        args = ", ".join(f"{k}={v!r}" for k, v in fn.keywords.items())
        return f"{fn.func.__module__}.{fn.func.__name__}({args})"
    return f"{fn.__module__}.{fn.__name__}"


def beta_of(spec: MetricSpec) -> float | None:
    """Return the beta of an F-beta metric of the registry (None for other metrics)."""
    if "beta" in spec.params:
        return float(spec.params["beta"])
    fn: Any = spec.fn
    if isinstance(fn, partial) and "beta" in fn.keywords:
        return float(fn.keywords["beta"])
    return None


def overlap_example(spec: MetricSpec, formula: str) -> list[str]:
    """Return the worked example: the masks, their counts, the metric with its numbers."""
    counts = confusion(EXAMPLE_PRED, EXAMPLE_TARGET)
    value = cells(spec, counts)[0, 0]
    numbers: dict[str, float] = {
        "tp": int(counts.tp[0, 0]),
        "fp": int(counts.fp[0, 0]),
        "fn": int(counts.fn[0, 0]),
        "tn": int(counts.tn[0, 0]),
    }
    beta = beta_of(spec)
    if beta is not None:
        numbers["B"] = beta
    rows, cols = EXAMPLE_TARGET.shape
    return [
        *wrap(
            f"One {rows} x {cols} image, binary masks ('#' the object). Overlay: {OVERLAY_LEGEND}."
        ),
        "",
        *side_by_side(
            [
                ("target", draw_labels(EXAMPLE_TARGET)),
                ("prediction", draw_labels(EXAMPLE_PRED)),
                ("overlay", draw_overlay(EXAMPLE_PRED, EXAMPLE_TARGET)),
            ]
        ),
        "",
        f"counts (segscore.confusion): tp = {numbers['tp']}, fp = {numbers['fp']}, "
        f"fn = {numbers['fn']}, tn = {numbers['tn']}",
        f"{spec.label} = {substitute(formula, numbers)}",
        f"{' ' * len(spec.label)} = {fmt(value)}   ({function_name(spec)})",
    ]


def _one_row(bits: str) -> list[int]:
    return [int(b) for b in bits]


def _empty_table(spec: MetricSpec) -> list[str]:
    pred = np.array([[_one_row(p)] for p, _ in EMPTY_CASES.values()])
    target = np.array([[_one_row(t)] for _, t in EMPTY_CASES.values()])
    counts = confusion(pred, target)  # four 1 x 4 images
    policies = [("segscore default", EmptyPolicy())]
    policies += [
        (f"preset {name}", p.empty_for(spec)) for name, p in PRESETS.items() if p.has_overlap
    ]
    policies.append(("zero_division=1", EmptyPolicy(zero_division=1.0)))
    rows = [
        [label, *(fmt(v) for v in cells(spec, counts, policy)[:, 0])] for label, policy in policies
    ]
    header = ["policy", *(case.value for case in EMPTY_CASES)]
    examples = ", ".join(f"{c.value} {p} vs {t}" for c, (p, t) in EMPTY_CASES.items())
    return [
        *wrap(
            f"Empty masks (segscore.metrics.empty.EmptyPolicy): {spec.label} of one 1 x 4 image "
            f"in each case (prediction vs target: {examples})."
        ),
        *("  " + line for line in table(header, rows)),
        *wrap(
            "NaN is left out of every mean and counted (n_nan); a preset's row is its peer's "
            "value (docs/conventions.md)."
        ),
    ]


def _aggregation(spec: MetricSpec) -> list[str]:
    maps = {k: parse_grid(v, "012") for k, v in _AGG.items()}
    pred = np.stack([maps["A pred"], maps["B pred"]])
    target = np.stack([maps["A target"], maps["B target"]])
    counts = confusion(pred, target, num_classes=3)
    per_cell = cells(spec, counts)
    users = {
        rule: sorted(
            n for n, p in PRESETS.items() if p.has_overlap and p.aggregation_for(spec.name) == rule
        )
        for rule in AGGREGATIONS
    }
    rows = []
    for rule in AGGREGATIONS:
        who = ["segscore default"] if rule == DEFAULT_AGGREGATION else []
        who += [f"preset {name}" for name in users[rule]]
        value = score(counts, spec.name, aggregation=rule).value
        rows.append([rule, fmt(value), ", ".join(who)])
    no_bg = score(counts, spec.name, include_background=False).value
    grids = side_by_side([(k, draw_labels(v, "012")) for k, v in maps.items()])
    return [
        *wrap(
            "Aggregation (segscore.score, aggregation=...; CONVENTIONS §5.3): two 4 x 4 label "
            "maps, classes 0-2; class 2 is absent from both masks of image B (a NaN cell)."
        ),
        *("  " + line for line in grids),
        f"  {spec.label} per (image, class): A {fmt(per_cell[0])}, B {fmt(per_cell[1])}",
        *("  " + line for line in table(["rule", "value", "used by"], rows, align="lrl")),
        *(f"  {rule}: {text}" for rule, text in _RULES.items()),
        *wrap(
            f"Background: include_background=False (classes 1-2) gives {fmt(no_bg)} with "
            f"{DEFAULT_AGGREGATION}; binary masks always score their foreground only."
        ),
    ]


def _threshold(spec: MetricSpec) -> list[str]:
    parts = []
    for t in (0.3, 0.5, 0.7):
        c = confusion(_PROBS, _PROBS_TARGET, threshold=t)
        parts.append(f"t = {t:g}: {fmt(cells(spec, c)[0, 0])}")
    probs = " ".join(f"{p:.2f}" for p in _PROBS[0])
    return [
        *wrap(
            "Threshold (probabilities to masks: p >= t is foreground; segscore.confusion "
            "threshold=, default 0.5):"
        ),
        f"  probabilities {probs}; target {''.join(map(str, _PROBS_TARGET[0]))}",
        f"  {spec.label}: " + ", ".join(parts),
    ]


def _ignore(spec: MetricSpec) -> list[str]:
    kept = confusion(_IGNORE_PRED, _IGNORE_TARGET, num_classes=3, ignore_index=255)
    as_bg = confusion(
        _IGNORE_PRED, np.where(_IGNORE_TARGET == 255, 0, _IGNORE_TARGET), num_classes=3
    )
    target = " ".join(str(v) for v in _IGNORE_TARGET[0])
    pred = " ".join(str(v) for v in _IGNORE_PRED[0])
    return [
        *wrap(
            "Ignore label (ignore_index=255: target pixels with it leave every count, whatever "
            "is predicted there; CONVENTIONS §5.4):"
        ),
        f"  target {target}; prediction {pred}",
        *wrap(
            f"  {spec.label} (mean of classes 0-2): {fmt(score(kept, spec.name).value)} with "
            f"ignore_index=255, {fmt(score(as_bg, spec.name).value)} if those pixels were "
            "background (label 0)",
            indent="  ",
        ),
    ]


def overlap_conventions(spec: MetricSpec) -> list[str]:
    """Return the conventions that change an overlap metric, each on a tiny example."""
    return [
        *_empty_table(spec),
        "",
        *_aggregation(spec),
        "",
        *_threshold(spec),
        "",
        *_ignore(spec),
    ]

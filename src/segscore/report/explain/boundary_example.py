"""The boundary family on tiny masks: a worked example and the conventions that change the number.

The worked example uses the overlap family's masks (one object shifted, one stray pixel); the
peers' conventions are shown on CONVENTIONS §5.1's masks, where they disagree most. Every number
is computed by segscore's functions (:func:`surface_distances`, :func:`distance_metrics`, the
reducers, :func:`score_values`, the presets).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from segscore._types import BoundaryMetric
from segscore.metrics.boundary.dispatch import distance_metrics
from segscore.metrics.boundary.distances import SurfaceDistances, surface_distances
from segscore.metrics.boundary.iou import _boundary_region, _width_in_units
from segscore.metrics.boundary.reductions import hausdorff_distance
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.presets import PRESETS
from segscore.metrics.reduce import score_values
from segscore.metrics.registry import MetricSpec
from segscore.report.explain.overlap_example import EMPTY_CASES, EXAMPLE_PRED, EXAMPLE_TARGET
from segscore.report.explain.text import (
    OVERLAY_LEGEND,
    draw_labels,
    draw_overlay,
    fmt,
    side_by_side,
    table,
    wrap,
)

__all__ = ["boundary_conventions", "boundary_example", "conventions_51_masks"]


def conventions_51_masks() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Return CONVENTIONS §5.1's masks: a 20 x 20 square, and it shifted 1 px plus a 2 x 2 blob.

    Examples
    --------
    >>> pred, target = conventions_51_masks()
    >>> pred.shape, int(pred.sum()), int(target.sum())
    ((64, 64), 404, 400)
    """
    target = np.zeros((64, 64), dtype=bool)
    target[22:42, 22:42] = True
    pred = np.roll(target, 1, axis=0)
    pred[5:7, 5:7] = True
    return pred, target


def _depth(spec: MetricSpec) -> BoundaryMetric:
    return "euclidean" if spec.params.get("width_unit") == "mm" else "chessboard"


def _values(spec: MetricSpec, pred: Any, target: Any, **options: Any) -> Any:
    """``distance_metrics`` of one metric (Boundary IoU in mm needs the Euclidean depth)."""
    if spec.base == "biou" and spec.params.get("width_unit") == "mm":
        options.setdefault("boundary_metric", "euclidean")
    return distance_metrics(pred, target, [spec.name], **options)[spec.name]


def _short(d: Any) -> str:
    return " ".join(f"{float(x):.3g}" for x in np.sort(np.asarray(d)))


def _sum(d: Any) -> str:
    return f"{float(np.sum(d)):.4g}"


def _distance_lines(spec: MetricSpec, sd: SurfaceDistances, value: Any) -> list[str]:
    d_pg, d_gp = sd.pred_to_target[0], sd.target_to_pred[0]
    n_p, n_g = d_pg.size, d_gp.size
    label = spec.label
    lines = [
        f"border elements (voxel border, face connectivity): n_P = {n_p}, n_G = {n_g}",
        f"d(P->G), sorted: {_short(d_pg)}   (segscore.surface_distances)",
        f"d(G->P), sorted: {_short(d_gp)}",
    ]
    if spec.base == "hd" and "percentile" not in spec.params:
        lines.append(
            f"{label} = max({fmt(d_pg.max())}, {fmt(d_gp.max())}) = {fmt(value)}   "
            "(segscore.distance_metrics)"
        )
    elif spec.base == "hd":
        q = float(spec.params["percentile"])
        back = surface_distances(EXAMPLE_TARGET, EXAMPLE_PRED)  # the other direction
        a = hausdorff_distance(sd, percentile=q, rule="directed")[0]
        b = hausdorff_distance(back, percentile=q, rule="directed")[0]
        lines += [
            f"{label} = max(p{q:g} d(P->G), p{q:g} d(G->P)) = max({fmt(a)}, {fmt(b)})",
            f"{' ' * len(label)} = {fmt(value)}   (rule max_directed, linear interpolation; "
            "segscore.distance_metrics)",
        ]
    elif spec.base == "asd":
        lines.append(
            f"ASD = ({_sum(d_pg)} / {n_p}, {_sum(d_gp)} / {n_g}) = {fmt(value)}   "
            "(segscore.average_surface_distance)"
        )
    elif spec.base == "assd":
        lines.append(
            f"ASSD = ({_sum(d_pg)} + {_sum(d_gp)}) / ({n_p} + {n_g}) = {fmt(value)}   "
            "(segscore.assd, variant 'pooled')"
        )
    elif spec.base == "masd":
        lines.append(
            f"MASD = ({_sum(d_pg)} / {n_p} + {_sum(d_gp)} / {n_g}) / 2 = {fmt(value)}   "
            "(segscore.assd, variant 'mean_of_means')"
        )
    else:  # nsd
        t = float(spec.params["tolerance"])
        k_p, k_g = int(np.count_nonzero(d_pg <= t)), int(np.count_nonzero(d_gp <= t))
        lines.append(
            f"{label} = ({k_p} + {k_g}) / ({n_p} + {n_g}) = {fmt(value)}   (segscore.surface_dice)"
        )
    return lines


def _bands(spec: MetricSpec, value: Any) -> list[str]:
    unit = str(spec.params["width_unit"])
    width = _width_in_units(float(spec.params["width"]), unit, EXAMPLE_TARGET.shape)  # type: ignore[arg-type]
    spacing = (1.0, 1.0) if unit == "mm" else None
    band_g = _boundary_region(EXAMPLE_TARGET.astype(bool), width, _depth(spec), spacing)
    band_p = _boundary_region(EXAMPLE_PRED.astype(bool), width, _depth(spec), spacing)
    inter = int(np.count_nonzero(band_p & band_g))
    union = int(np.count_nonzero(band_p | band_g))
    return [
        f"bands B(M): pixels of M within {width:g} of the background ({_depth(spec)} depth)",
        *side_by_side(
            [
                ("B(target)", draw_labels(band_g)),
                ("B(prediction)", draw_labels(band_p)),
                ("overlay", draw_overlay(band_p, band_g)),
            ]
        ),
        f"{spec.label} = {inter} / {union} = {fmt(value)}   (segscore.distance_metrics)",
    ]


def boundary_example(spec: MetricSpec) -> list[str]:
    """Return the worked example: the masks, their border distances and the metric."""
    rows, cols = EXAMPLE_TARGET.shape
    value = _values(spec, EXAMPLE_PRED, EXAMPLE_TARGET)[0, 0]
    head = [
        *wrap(f"One {rows} x {cols} image, binary masks; spacing 1. Overlay: {OVERLAY_LEGEND}."),
        "",
        *side_by_side(
            [
                ("target G", draw_labels(EXAMPLE_TARGET)),
                ("prediction P", draw_labels(EXAMPLE_PRED)),
                ("overlay", draw_overlay(EXAMPLE_PRED, EXAMPLE_TARGET)),
            ]
        ),
        "",
    ]
    if spec.base == "biou":
        return head + _bands(spec, value)
    sd = surface_distances(EXAMPLE_PRED, EXAMPLE_TARGET)
    return head + _distance_lines(spec, sd, value)


def _spacing(spec: MetricSpec) -> list[str]:
    parts = []
    for spacing in ((1.0, 1.0), (2.0, 1.0), (1.0, 2.0)):
        v = _values(spec, EXAMPLE_PRED, EXAMPLE_TARGET, spacing=spacing)[0, 0]
        parts.append(f"{spacing}: {fmt(v)}")
    unit = (
        "pixels, whatever the spacing"
        if spec.params.get("width_unit") in ("px", "diagonal")
        else "units of spacing (numpy axis order; mm from a NIfTI header)"
    )
    return [
        *wrap(
            f"Spacing (distances in {unit}): the worked example with spacing " + "; ".join(parts)
        ),
    ]


def _how(spec: MetricSpec, surface: str, rule: str, variant: str) -> str:
    if spec.base in ("asd", "assd", "masd"):
        return f"{surface}, {'mean_of_means' if spec.base == 'masd' else variant}"
    return f"{surface}, {rule}" if spec.base == "hd" else surface


def _biou_rows(spec: MetricSpec, pred: Any, target: Any) -> list[list[str]]:
    """Boundary IoU under the two papers' conventions (no other peer computes it)."""
    rows = []
    choices = [
        (spec.name, _depth(spec), f"{spec.name}, {_depth(spec)} depth (this name)"),
        ("biou@0.02diag", "chessboard", "biou@0.02diag, chessboard: boundary-iou-api default"),
        ("biou@1px", "euclidean", "biou@1px, Euclidean: Metrics Reloaded default"),
    ]
    for name, depth, how in choices:
        v = distance_metrics(pred, target, [name], boundary_metric=depth)[name][0, 0]
        rows.append([name, fmt(v), how])
    return rows


def _peers(spec: MetricSpec) -> list[str]:
    pred, target = conventions_51_masks()
    if spec.base == "biou":
        rows = _biou_rows(spec, pred, target)
        header = ["name", spec.label, "convention"]
    else:
        what = {"hd": "surface, rule", "nsd": "surface"}.get(spec.base, "surface, variant")
        header = ["conventions", spec.label, what]
        default = _how(spec, "voxel", "max_directed", "pooled")
        rows = [["segscore default", fmt(_values(spec, pred, target)[0, 0]), default]]
        for name, preset in PRESETS.items():
            if not preset.has_distance:
                continue
            v = fmt(_values(spec, pred, target, preset=name)[0, 0])
            how = _how(spec, preset.surface, preset.rule, preset.assd_variant)
            rows.append([f"preset {name}", v, how])
    return [
        *wrap(
            "The peers' conventions on CONVENTIONS §5.1's masks: a 20 x 20 square in 64 x 64, "
            "the prediction shifted 1 px down plus a 2 x 2 blob 15 px away (presets: "
            "docs/conventions.md):"
        ),
        *("  " + line for line in table(header, rows, align="lrl")),
    ]


def _empty(spec: MetricSpec) -> list[str]:
    pred = np.array([[[int(b) for b in p]] for p, _ in EMPTY_CASES.values()])
    target = np.array([[[int(b) for b in t]] for _, t in EMPTY_CASES.values()])
    options: list[tuple[str, dict[str, Any]]] = [("segscore default", {})]
    options += [(f"preset {n}", {"preset": n}) for n, p in PRESETS.items() if p.has_distance]
    if spec.unit == "distance":
        diagonal = EmptyPolicy(target_empty="diagonal", prediction_empty="diagonal")
        options.append(("one empty = 'diagonal'", {"empty": diagonal}))
    else:
        options.append(("zero_division=1", {"empty": EmptyPolicy(zero_division=1.0)}))
    digits = 2 if spec.base == "asd" else 4  # pairs: narrower, to fit the table
    rows = [
        [label, *(fmt(v, digits) for v in _values(spec, pred, target, **kw)[:, 0])]
        for label, kw in options
    ]
    return [
        *wrap(
            f"Empty masks (EmptyPolicy per metric; distance_metrics empty=...): {spec.label} of "
            "one 1 x 4 image in each case (the overlap family's cases):"
        ),
        *("  " + line for line in table(["policy", *(c.value for c in EMPTY_CASES)], rows)),
    ]


def _aggregation(spec: MetricSpec) -> list[str]:
    pred = np.stack([EXAMPLE_PRED, np.zeros_like(EXAMPLE_PRED)])
    target = np.stack([EXAMPLE_TARGET, EXAMPLE_TARGET])
    lines = [
        *wrap(
            "Aggregation: boundary values do not pool, so only the per-image rules apply "
            "(images_then_classes, classes_then_images, per_image_per_class); an infinite "
            "value enters the mean. Two images: the worked example, and the same target with "
            "an empty prediction:"
        )
    ]
    policies: list[tuple[str, Any]] = [("natural values", None)]
    if spec.unit == "distance":
        policies.append(("one empty = 'diagonal'", EmptyPolicy(prediction_empty="diagonal")))
    for label, policy in policies:
        result = distance_metrics(
            pred, target, [spec.name], empty=policy, boundary_metric=_depth(spec)
        )
        values = result[spec.name]
        conventions = dataclasses.replace(
            result.conventions[spec.name], aggregation="images_then_classes"
        )
        cells = values.reshape(values.shape[0], -1)[:, :1] if spec.base == "asd" else values
        mean = score_values(cells, conventions).value
        name = "ASD (P->G)" if spec.base == "asd" else spec.label
        lines += wrap(
            f"  {label}: {name} per image {fmt(cells[:, 0])}, mean {fmt(mean)} "
            "(segscore.metrics.reduce.score_values)",
            indent="    ",
        )
    return lines


def boundary_conventions(spec: MetricSpec) -> list[str]:
    """Return the conventions that change a boundary metric, each shown on a tiny example."""
    return [*_spacing(spec), "", *_peers(spec), "", *_empty(spec), "", *_aggregation(spec)]

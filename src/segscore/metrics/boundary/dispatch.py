"""Names and the one-call entry point: :func:`get_distance_metric`, :func:`distance_metrics`.

A name such as ``"hd95"``, ``"nsd@1.0"`` or ``"biou@2px"`` is parsed into a
:class:`DistanceMetricSpec`; :func:`distance_metrics` extracts each surface once for all the
named metrics, fills unset conventions from a preset or the defaults, and returns a
:class:`DistanceResult` with the conventions record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike

from segscore._types import (
    ASSD_VARIANTS,
    INTERPOLATIONS,
    PERCENTILE_RULES,
    AssdVariant,
    BoundaryMetric,
    FloatArray,
    PercentileRule,
    SurfaceModel,
    WidthUnit,
)
from segscore._validation import check_number, check_option, fail
from segscore.metrics.boundary.distances import SurfaceDistances, surface_distances
from segscore.metrics.boundary.inputs import _prepare, _Prepared
from segscore.metrics.boundary.iou import _boundary_iou_masks, _check_boundary_options
from segscore.metrics.boundary.reductions import (
    assd,
    average_surface_distance,
    hausdorff_distance,
    surface_dice,
)
from segscore.metrics.empty import (
    DEFAULT_DISTANCE_EMPTY,
    DistanceEmpty,
    EmptyValue,
    _as_distance_empty,
)
from segscore.metrics.presets import get_preset

__all__ = ["DistanceMetricSpec", "DistanceResult", "distance_metrics", "get_distance_metric"]


@dataclass(frozen=True, slots=True)
class DistanceMetricSpec:
    """A parsed boundary-metric name.

    Attributes
    ----------
    name : str
        The name as given (``'hd95'``, ``'nsd@1.0'``, ``'biou@2px'``...).
    kind : {'hd', 'asd', 'assd', 'masd', 'nsd', 'biou'}
        The metric.
    percentile : float or None
        For ``hdP``.
    tolerance : float or None
        For ``nsd@T`` (units of spacing).
    width, unit : float and str, or None
        For ``biou@W{px,mm,diag}``.
    higher_is_better : bool
        False for distances, True for NSD and Boundary IoU.
    """

    name: str
    kind: str
    percentile: float | None = None
    tolerance: float | None = None
    width: float | None = None
    unit: WidthUnit | None = None
    higher_is_better: bool = False


_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"


def get_distance_metric(name: str) -> DistanceMetricSpec:
    """Parse a boundary-metric name.

    Names: ``hd``, ``hd95``, ``hdP`` (any percentile P in [0, 100]), ``asd``, ``assd``,
    ``masd``, ``nsd@T`` (or ``nsd@Tmm``; T in the units of spacing), ``biou@Wpx``,
    ``biou@Wdiag`` (W a fraction of the image diagonal), ``biou@Wmm``.

    Examples
    --------
    >>> get_distance_metric("hd99.5").percentile
    99.5
    >>> get_distance_metric("biou@0.02diag").unit
    'diagonal'
    >>> get_distance_metric("hd101")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `metric` must be one of 'hd', 'hdP' (0 <= P <= 100), 'asd', 'assd', 'masd', 'nsd@T', 'biou@W{px,mm,diag}', got 'hd101'.
    """
    key = name.strip().lower() if isinstance(name, str) else ""
    if key in ("hd", "asd", "assd", "masd"):
        return DistanceMetricSpec(name, key)
    match = re.fullmatch(r"hd" + _NUMBER, key)
    if match and float(match.group(1)) <= 100:
        return DistanceMetricSpec(name, "hd", percentile=float(match.group(1)))
    match = re.fullmatch(r"nsd@" + _NUMBER + r"(mm)?", key)
    if match:
        return DistanceMetricSpec(
            name, "nsd", tolerance=float(match.group(1)), higher_is_better=True
        )
    match = re.fullmatch(r"biou@" + _NUMBER + r"(px|mm|diag)", key)
    if match and float(match.group(1)) > 0:
        unit = cast(WidthUnit, {"diag": "diagonal"}.get(match.group(2), match.group(2)))
        return DistanceMetricSpec(
            name, "biou", width=float(match.group(1)), unit=unit, higher_is_better=True
        )
    fail(
        "`metric` must be one of 'hd', 'hdP' (0 <= P <= 100), 'asd', 'assd', 'masd', 'nsd@T', "
        f"'biou@W{{px,mm,diag}}', got {name!r}."
    )


@dataclass(frozen=True, slots=True)
class DistanceResult:
    """Boundary metrics of one case, with counts and the conventions record.

    Attributes
    ----------
    values : dict of str to ndarray
        Per metric name: shape (C,) (``'asd'``: (C, 2), the two directions).
    classes : tuple of int
        Class label of each row.
    n_valid, n_nan, n_inf : dict of str to int
        Per metric: finite, NaN (excluded from means) and infinite entries.
    empty_cases : dict of str to int
        Number of classes in each empty case (``both_present``, ``target_empty``, ...).
    conventions : dict
        Surface model, percentile rule and interpolation, ASSD variant, empty policy, spacing,
        boundary IoU widths, ignore, preset.
    """

    values: dict[str, FloatArray]
    classes: tuple[int, ...]
    n_valid: dict[str, int]
    n_nan: dict[str, int]
    n_inf: dict[str, int]
    empty_cases: dict[str, int]
    conventions: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> FloatArray:
        return self.values[name]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict."""
        return {
            "values": {k: v.tolist() for k, v in self.values.items()},
            "classes": list(self.classes),
            "n_valid": dict(self.n_valid),
            "n_nan": dict(self.n_nan),
            "n_inf": dict(self.n_inf),
            "empty_cases": dict(self.empty_cases),
            "conventions": dict(self.conventions),
        }


def distance_metrics(
    pred: ArrayLike,
    target: ArrayLike,
    metrics: Sequence[str] = ("hd95", "assd", "nsd@1.0"),
    *,
    preset: str | None = None,
    spacing: float | Sequence[float] | None = None,
    surface: SurfaceModel | None = None,
    connectivity: int | None = None,
    rule: PercentileRule | None = None,
    interpolation: str | None = None,
    assd_variant: AssdVariant | None = None,
    empty: DistanceEmpty | EmptyValue | None = None,
    boundary_metric: BoundaryMetric | None = None,
    num_classes: int | None = None,
    include_background: bool = False,
    ignore_index: int | None = None,
    ignore_mask: ArrayLike | None = None,
) -> DistanceResult:
    """Compute named boundary metrics of one case, extracting each surface once.

    Parameters
    ----------
    pred, target : array_like, shape (H, W) or (D, H, W)
        Binary masks or, with ``num_classes``, label maps.
    metrics : sequence of str, default ('hd95', 'assd', 'nsd@1.0')
        Names parsed by :func:`get_distance_metric`.
    preset : str, optional
        A name of :data:`segscore.metrics.presets.PRESETS`: its conventions fill every option
        left as None.
    spacing, num_classes, include_background, ignore_index, ignore_mask
        As in :func:`surface_distances`.
    surface, connectivity, rule, interpolation, assd_variant, empty, boundary_metric : optional
        Conventions (default: the preset's, else ``'voxel'``, 1, ``'max_directed'``,
        ``'linear'``, ``'pooled'``, :data:`DEFAULT_DISTANCE_EMPTY`, ``'chessboard'``).
        ``assd_variant`` applies to ``'assd'``; ``'masd'`` is always the mean of means.

    Returns
    -------
    DistanceResult

    Raises
    ------
    InputError
        On an unknown metric name or preset and on every error of :func:`surface_distances`.

    Examples
    --------
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> r = distance_metrics(pred, target, ["hd", "masd", "nsd@0.5"])
    >>> r["hd"], r["masd"], r["nsd@0.5"]
    (array([1.]), array([0.2125]), array([0.77777778]))
    >>> r.conventions["hd_percentile_rule"], r.empty_cases["both_present"]
    ('max_directed', 1)
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    specs = [get_distance_metric(m) for m in metrics]
    options: dict[str, Any] = {}
    if preset is not None:
        options = get_preset(preset).distance_kwargs()
    chosen: dict[str, Any] = {
        "surface": surface,
        "connectivity": connectivity,
        "rule": rule,
        "interpolation": interpolation,
        "assd_variant": assd_variant,
        "empty": empty,
        "boundary_metric": boundary_metric,
    }
    defaults: dict[str, Any] = {
        "surface": "voxel",
        "connectivity": 1,
        "rule": "max_directed",
        "interpolation": "linear",
        "assd_variant": "pooled",
        "empty": DEFAULT_DISTANCE_EMPTY,
        "boundary_metric": "chessboard",
    }
    opt = {k: (v if v is not None else options.get(k, defaults[k])) for k, v in chosen.items()}
    policy = _as_distance_empty(opt["empty"])
    check_option("rule", opt["rule"], PERCENTILE_RULES)
    check_option("interpolation", opt["interpolation"], INTERPOLATIONS)
    check_option("assd_variant", opt["assd_variant"], ASSD_VARIANTS)
    for spec in specs:
        if spec.kind == "nsd":
            check_number("tolerance", spec.tolerance, low=0)
        if spec.kind == "biou":
            _check_boundary_options(spec.width, cast(str, spec.unit), opt["boundary_metric"])

    values: dict[str, FloatArray] = {}
    sd: SurfaceDistances | None = None
    needs_surfaces = any(s.kind != "biou" for s in specs)
    if needs_surfaces:
        sd = surface_distances(
            pred,
            target,
            spacing=spacing,
            surface=opt["surface"],
            connectivity=opt["connectivity"],
            num_classes=num_classes,
            include_background=include_background,
            ignore_index=ignore_index,
            ignore_mask=ignore_mask,
        )
    prepared: _Prepared | None = None
    for spec in specs:
        if spec.kind == "biou":
            if prepared is None:
                prepared = _prepare(
                    pred,
                    target,
                    spacing,
                    num_classes,
                    include_background,
                    ignore_index,
                    ignore_mask,
                )
            assert spec.width is not None
            assert spec.unit is not None
            values[spec.name] = _boundary_iou_masks(
                prepared, spec.width, spec.unit, opt["boundary_metric"], policy.overlap_both_empty
            )
            continue
        assert sd is not None
        if spec.kind == "hd":
            values[spec.name] = hausdorff_distance(
                sd,
                percentile=spec.percentile,
                rule=opt["rule"],
                interpolation=opt["interpolation"],
                empty=policy,
            )
        elif spec.kind == "asd":
            values[spec.name] = average_surface_distance(sd, empty=policy)
        elif spec.kind in ("assd", "masd"):
            variant: AssdVariant = "mean_of_means" if spec.kind == "masd" else opt["assd_variant"]
            values[spec.name] = assd(sd, variant=variant, empty=policy)
        else:
            assert spec.tolerance is not None
            values[spec.name] = surface_dice(sd, tolerance=spec.tolerance, empty=policy)

    if sd is not None:
        classes = sd.classes
        cases = sd.cases()
        base = sd.conventions()
    else:
        assert prepared is not None
        classes = prepared.classes
        cases = ["n/a"] * len(classes)
        base = {
            "spacing": list(prepared.spacing),
            "spacing_axis_order": "numpy (axis 0 first)",
            "classes": list(classes),
            "ignore": prepared.ignore_name,
        }
    biou_widths = {s.name: f"{s.width:g} {s.unit}" for s in specs if s.kind == "biou"}
    conventions = {
        **base,
        "preset": preset,
        "hd_percentile_rule": opt["rule"],
        "hd_interpolation": (
            "area-weighted nearest rank" if opt["rule"] == "area_weighted" else opt["interpolation"]
        ),
        "assd_variant": opt["assd_variant"],
        "empty": policy.as_dict(),
        "boundary_iou_width": biou_widths,
        "boundary_iou_metric": opt["boundary_metric"] if biou_widths else None,
        "include_background": include_background,
    }
    return DistanceResult(
        values=values,
        classes=classes,
        n_valid={k: int(np.isfinite(v).sum()) for k, v in values.items()},
        n_nan={k: int(np.isnan(v).sum()) for k, v in values.items()},
        n_inf={k: int(np.isinf(v).sum()) for k, v in values.items()},
        empty_cases={
            c: cases.count(c)
            for c in ("both_present", "target_empty", "prediction_empty", "both_empty")
        },
        conventions=conventions,
    )

"""The one-call entry point, :func:`distance_metrics`, and its result, :class:`DistanceResult`.

Names such as ``"hd95"``, ``"nsd@1.0"`` or ``"biou@2px"`` are parsed by the one registry
(:func:`segscore.metrics.registry.get_metric` with ``kind="boundary"``); :func:`distance_metrics`
reads the inputs with the counting options every family shares, extracts each surface once per
case for all the named metrics, fills unset conventions from a preset or the defaults, applies one
:class:`~segscore.metrics.empty.EmptyPolicy` per metric and returns a :class:`DistanceResult` with
one :class:`~segscore.metrics.conventions.Conventions` record per metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    Comparison,
    FloatArray,
    PercentileRule,
    SurfaceModel,
    WidthUnit,
)
from segscore._validation import check_number, check_option, fail_must
from segscore.metrics.boundary.distances import SurfaceDistances, _case_distances, _check_surface
from segscore.metrics.boundary.inputs import _options, _prepare
from segscore.metrics.boundary.iou import _boundary_iou_case, _check_boundary_options
from segscore.metrics.boundary.reductions import (
    assd,
    average_surface_distance,
    hausdorff_distance,
    surface_dice,
)
from segscore.metrics.boundary.surfel_tables import surfel_area_table
from segscore.metrics.conventions import Conventions, jsonable
from segscore.metrics.empty import (
    DEFAULT_EMPTY,
    EmptyCase,
    EmptyPolicy,
    EmptyValue,
    _override,
    lookup_policy,
)
from segscore.metrics.options import CountingOptions
from segscore.metrics.presets import Preset, get_preset
from segscore.metrics.registry import MetricSpec, _parse_or_none, get_metric

__all__ = ["DistanceResult", "distance_metrics", "get_distance_metric"]


def get_distance_metric(name: str) -> MetricSpec:
    """Parse a boundary-metric name: ``get_metric(name, kind="boundary")`` (kept as an alias).

    Examples
    --------
    >>> get_distance_metric("hd99.5").params["percentile"]
    99.5
    """
    return get_metric(name, kind="boundary")


@dataclass(frozen=True, slots=True)
class DistanceResult:
    """Boundary metrics of N cases, with counters and one conventions record per metric.

    Attributes
    ----------
    values : dict of str to ndarray
        Per metric name: shape (N, C) (``'asd'``: (N, C, 2), prediction → target then target →
        prediction), one row per case and one column per class of ``class_ids``.
    class_ids : tuple of int
        Class id of each column (``(1,)`` for binary masks: their foreground).
    n_valid, n_nan, n_inf, n_excluded : dict of str to int
        Per metric: finite, NaN, infinite entries, and those left out of means (the NaN ones).
    empty_cases : dict of str to dict of str to int
        Per metric: the number of (case, class) cells in each
        :class:`~segscore.metrics.empty.EmptyCase` (keys are its values, e.g. ``'target_empty'``).
    conventions : dict of str to Conventions
        Per metric: how the number was made (``boundary`` holds the surface model, spacing,
        percentile rule...; ``empty`` the policy applied to that metric).
    """

    values: dict[str, FloatArray]
    class_ids: tuple[int, ...]
    n_valid: dict[str, int]
    n_nan: dict[str, int]
    n_inf: dict[str, int]
    n_excluded: dict[str, int]
    empty_cases: dict[str, dict[str, int]]
    conventions: dict[str, Conventions] = field(default_factory=dict)

    def __getitem__(self, name: str) -> FloatArray:
        return self.values[name]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (non-finite values encoded by ``jsonable``)."""
        return cast(
            dict[str, Any],
            jsonable(
                {
                    "values": self.values,
                    "class_ids": list(self.class_ids),
                    "n_valid": self.n_valid,
                    "n_nan": self.n_nan,
                    "n_inf": self.n_inf,
                    "n_excluded": self.n_excluded,
                    "empty_cases": self.empty_cases,
                    "conventions": {k: c.as_dict() for k, c in self.conventions.items()},
                }
            ),
        )


EmptyArgument = EmptyPolicy | Mapping[str, EmptyPolicy] | EmptyValue | None

_BASES = ("hd", "hdP", "asd", "assd", "masd", "nsd", "biou")


def _check_mapping(empty: Mapping[Any, Any]) -> Mapping[str, EmptyPolicy]:
    for key, policy in empty.items():
        known = isinstance(key, str) and (key in _BASES or _parse_or_none(key) is not None)
        if not known:
            fail_must(
                "empty",
                "map metric names, 'hdP' or base names (hd, asd, assd, masd, nsd, biou) to "
                "EmptyPolicy",
                f"the key {key!r}",
            )
        if not isinstance(policy, EmptyPolicy):
            fail_must("empty", "map metric names to EmptyPolicy", f"{key!r}: {policy!r}")
    return cast(Mapping[str, EmptyPolicy], empty)


def _policies(
    specs: Sequence[MetricSpec], empty: EmptyArgument, preset: Preset | None
) -> dict[str, EmptyPolicy]:
    """One policy per metric: ``empty`` where it names one, else the preset's, else the default."""
    mapping = _check_mapping(empty) if isinstance(empty, Mapping) else None
    value = (
        None
        if empty is None or mapping is not None or isinstance(empty, EmptyPolicy)
        else _override("empty", empty)
    )
    out: dict[str, EmptyPolicy] = {}
    for spec in specs:
        percentile = spec.base == "hd" and "percentile" in spec.params
        policy: EmptyPolicy | None = None
        if isinstance(empty, EmptyPolicy):
            policy = empty
        elif mapping is not None:
            policy = lookup_policy(mapping, spec.name, spec.base, percentile)
        elif value is not None and spec.unit == "distance":
            policy = EmptyPolicy(target_empty=value, prediction_empty=value)
        if policy is None:
            policy = DEFAULT_EMPTY if preset is None else preset.empty_for(spec)
        out[spec.name] = policy.check_ratio(spec.name) if spec.unit == "ratio" else policy
    return out


def distance_metrics(
    pred: ArrayLike,
    target: ArrayLike,
    metrics: Sequence[str] | str = ("hd95", "assd", "nsd@1.0"),
    *,
    options: CountingOptions | None = None,
    preset: str | None = None,
    spacing: float | Sequence[float] | None = None,
    surface: SurfaceModel | None = None,
    connectivity: int | None = None,
    rule: PercentileRule | None = None,
    interpolation: str | None = None,
    assd_variant: AssdVariant | None = None,
    empty: EmptyArgument = None,
    boundary_metric: BoundaryMetric | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    ignore_index: int | None = None,
    multilabel: bool = False,
    spatial_dims: int | None = None,
    include_background: bool | None = None,
    ignore_mask: ArrayLike | None = None,
    threshold_comparison: Comparison | None = None,
) -> DistanceResult:
    """Compute named boundary metrics of one case or a batch, extracting each surface once.

    Parameters
    ----------
    pred, target : array_like, shape (*S) or (N, *S)
        Binary masks (bool, {0, 1}, {0, 255}; float predictions are thresholded at
        ``threshold``) or, with ``num_classes``, integer label maps. The layout rule of
        :func:`~segscore.metrics.counting.confusion`: a 2-D array is one image, a 3-D array a batch
        of 2-D images (N, H, W) unless ``spatial_dims=3`` (one volume), a 4-D array a batch of
        volumes.
    metrics : sequence of str, default ('hd95', 'assd', 'nsd@1.0')
        Boundary names of the registry (:mod:`segscore.metrics.registry`).
    options : CountingOptions, optional
        The counting options (:mod:`segscore.metrics.options`); ``num_classes``, ``threshold``,
        ``ignore_index``, ``multilabel``, ``spatial_dims``, ``include_background`` and
        ``threshold_comparison`` build the same object and must not be given with it. Class 0
        of label maps is scored unless ``include_background=False``; binary masks score their
        foreground, class id 1.
        Multilabel stacks are refused (score each channel as a binary mask).
    preset : str, optional
        A name of :data:`segscore.metrics.presets.PRESETS`: its conventions fill every option
        left as None, and its per-metric empty policies apply (``Preset.empty_for``). That
        includes the counting options left unchosen: ``include_background`` takes the preset's
        distance rule (``Preset.distance_background``: False for ``'monai'`` and
        ``'torchmetrics'``, whose distance metrics leave the background out by default) and
        ``threshold_comparison`` the preset's (``'>'`` for ``'torchmetrics'``).
    spacing : float or sequence of float, optional
        Voxel spacing, one value per spatial axis (numpy order); default 1.
    surface, connectivity, rule, interpolation, assd_variant, boundary_metric : optional
        Conventions (default: the preset's, else ``'voxel'``, 1, ``'max_directed'``,
        ``'linear'``, ``'pooled'``, ``'chessboard'``). ``assd_variant`` applies to ``'assd'``;
        ``'masd'`` is always the mean of means.
    empty : EmptyPolicy, mapping, str or float, optional
        Empty policy (:mod:`segscore.metrics.empty`): one :class:`EmptyPolicy` for every metric;
        a mapping of metric names (``'hd95'``), ``'hdP'`` or base names (``'hd'``, ``'nsd'``) to
        policies; a number or word (``'nan'``, ``'inf'``, ``'diagonal'``) for both one-empty
        cases of the distance metrics. Metrics it does not name take the preset's policy, else
        the natural values (distances inf with one surface empty, NaN with both).
    ignore_mask : array_like of bool, optional
        True where ignored, the shape of ``target``; surface elements there are dropped.

    Returns
    -------
    DistanceResult
        ``values[name]`` of shape (N, C) (``asd``: (N, C, 2)); a single image or volume is N = 1.

    Raises
    ------
    InputError
        On an unknown metric name or preset, a bad option or empty policy (inf or 'diagonal' for
        a ratio metric), a bad layout, and every error of :func:`surface_distances`. All are found
        before the first surface is extracted.

    Examples
    --------
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> r = distance_metrics(pred, target, ["hd", "masd", "nsd@0.5"])
    >>> r["hd"], r["masd"], r["nsd@0.5"]
    (array([[1.]]), array([[0.2125]]), array([[0.77777778]]))
    >>> r.class_ids, r.conventions["hd"].boundary["hd_percentile_rule"]
    ((1,), 'max_directed')
    >>> r.empty_cases["hd"]["both_present"], r.n_valid["hd"]
    (1, 1)

    A batch of two images, the second with an empty prediction:

    >>> batch = distance_metrics(np.stack([pred, 0 * pred]), np.stack([target, target]), ["hd", "asd"])
    >>> batch["hd"], batch["asd"][1], batch.n_inf["hd"], batch.n_nan["asd"]
    (array([[ 1.],
           [inf]]), array([[nan, inf]]), 1, 1)

    MONAI's distance metrics leave the background class out unless told otherwise:

    >>> labels = np.array([[0, 1, 1], [0, 2, 2]])
    >>> distance_metrics(labels, labels, ["hd"], num_classes=3, preset="monai").class_ids
    (1, 2)
    >>> distance_metrics(labels, labels, ["hd"], num_classes=3, preset="monai",
    ...                  include_background=True).class_ids
    (0, 1, 2)
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    specs = [get_metric(m, kind="boundary") for m in metrics]
    opts = _options(
        options,
        {
            "num_classes": num_classes,
            "threshold": threshold,
            "ignore_index": ignore_index,
            "multilabel": multilabel,
            "spatial_dims": spatial_dims,
            "include_background": include_background,
            "threshold_comparison": threshold_comparison,
        },
    )
    chosen_preset = None if preset is None else get_preset(preset)
    given = {} if chosen_preset is None else chosen_preset.distance_kwargs()
    # the counting options the preset decides where they were left unchosen
    unset = {
        k: given[k]
        for k in ("include_background", "threshold_comparison")
        if k in given and getattr(opts, k) is None
    }
    if unset:
        opts = opts.replace(**unset)
    defaults: dict[str, Any] = {
        "surface": "voxel",
        "connectivity": 1,
        "rule": "max_directed",
        "interpolation": "linear",
        "assd_variant": "pooled",
        "boundary_metric": "chessboard",
    }
    defaults.update(given)
    chosen: dict[str, Any] = {
        "surface": surface,
        "connectivity": connectivity,
        "rule": rule,
        "interpolation": interpolation,
        "assd_variant": assd_variant,
        "boundary_metric": boundary_metric,
    }
    opt = {k: (v if v is not None else defaults[k]) for k, v in chosen.items()}
    check_option("rule", opt["rule"], PERCENTILE_RULES)
    check_option("interpolation", opt["interpolation"], INTERPOLATIONS)
    check_option("assd_variant", opt["assd_variant"], ASSD_VARIANTS)
    for spec in specs:
        if spec.base == "nsd":
            check_number("tolerance", spec.params["tolerance"], low=0)
        if spec.base == "biou":
            _check_boundary_options(
                spec.params["width"], cast(str, spec.params["width_unit"]), opt["boundary_metric"]
            )
    policies = _policies(specs, empty, chosen_preset)
    prepared = _prepare(pred, target, spacing, opts, ignore_mask)
    needs_surfaces = any(s.base != "biou" for s in specs)
    conn = _check_surface(opt["surface"], opt["connectivity"], len(prepared.shape))
    table = (
        surfel_area_table(prepared.spacing)
        if needs_surfaces and opt["surface"] == "surfel"
        else None
    )

    n_cases, n_classes = prepared.n_cases, len(prepared.class_ids)
    values = {
        s.name: np.empty((n_cases, n_classes, 2) if s.base == "asd" else (n_cases, n_classes))
        for s in specs
    }
    cases = {s.name: dict.fromkeys([c.value for c in EmptyCase], 0) for s in specs}
    sd: SurfaceDistances | None = None
    for n in range(n_cases):
        if needs_surfaces:
            sd = _case_distances(prepared, n, opt["surface"], conn, table)
        for spec in specs:
            policy = policies[spec.name]
            if spec.base == "biou":
                row, found = _boundary_iou_case(
                    prepared,
                    n,
                    float(spec.params["width"]),
                    cast(WidthUnit, spec.params["width_unit"]),
                    opt["boundary_metric"],
                    policy,
                )
            else:
                assert sd is not None
                row, found = _reduce(spec, sd, policy, opt), sd.cases()
            values[spec.name][n] = row
            for case in found:
                cases[spec.name][case.value] += 1

    boundary = _boundary_conventions(prepared.spacing, prepared.ignore_name, opt, conn)
    conventions = {
        spec.name: Conventions(
            metric=spec.name,
            kind="boundary",
            counting=prepared.spec,
            include_background=opts.background,
            classes=prepared.class_ids,
            class_names=(
                None
                if opts.class_names is None
                else tuple(opts.class_names[k] for k in prepared.columns)
            ),
            empty=policies[spec.name],
            aggregation=None,
            boundary={**boundary, **_metric_conventions(spec)},
            preset=None if chosen_preset is None else chosen_preset.name,
        )
        for spec in specs
    }
    n_nan = {k: int(np.isnan(v).sum()) for k, v in values.items()}
    return DistanceResult(
        values=values,
        class_ids=prepared.class_ids,
        n_valid={k: int(np.isfinite(v).sum()) for k, v in values.items()},
        n_nan=n_nan,
        n_inf={k: int(np.isinf(v).sum()) for k, v in values.items()},
        n_excluded=dict(n_nan),
        empty_cases=cases,
        conventions=conventions,
    )


def _reduce(
    spec: MetricSpec, sd: SurfaceDistances, policy: EmptyPolicy, opt: Mapping[str, Any]
) -> FloatArray:
    if spec.base == "hd":
        percentile = spec.params.get("percentile")
        return hausdorff_distance(
            sd,
            percentile=None if percentile is None else float(percentile),
            rule=opt["rule"],
            interpolation=opt["interpolation"],
            empty=policy,
        )
    if spec.base == "asd":
        return average_surface_distance(sd, empty=policy)
    if spec.base in ("assd", "masd"):
        variant: AssdVariant = "mean_of_means" if spec.base == "masd" else opt["assd_variant"]
        return assd(sd, variant=variant, empty=policy)
    return surface_dice(sd, tolerance=float(spec.params["tolerance"]), empty=policy)


def _boundary_conventions(
    spacing: tuple[float, ...], ignore: str | None, opt: Mapping[str, Any], connectivity: int
) -> dict[str, Any]:
    voxel = opt["surface"] == "voxel"
    return {
        "surface_model": (
            f"voxel_border(connectivity={connectivity})" if voxel else "surfel(marching-cubes area)"
        ),
        "connectivity": connectivity if voxel else None,
        "spacing": list(spacing),
        "spacing_axis_order": "numpy (axis 0 first)",
        "hd_percentile_rule": opt["rule"],
        "hd_interpolation": (
            "area-weighted nearest rank" if opt["rule"] == "area_weighted" else opt["interpolation"]
        ),
        "assd_variant": opt["assd_variant"],
        "boundary_iou_metric": opt["boundary_metric"],
        "ignore": ignore,
    }


def _metric_conventions(spec: MetricSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"boundary_iou_width": None}
    if spec.base == "biou":
        out["boundary_iou_width"] = f"{float(spec.params['width']):g} {spec.params['width_unit']}"
    if spec.base == "masd":
        out["assd_variant"] = "mean_of_means"
    return out

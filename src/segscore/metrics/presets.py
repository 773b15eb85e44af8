"""Presets: every convention of a peer library, so that segscore reproduces its numbers.

A :class:`Preset` fixes the overlap conventions (aggregation rule of
:data:`segscore.metrics.reduce.AGGREGATIONS`, :class:`~segscore.metrics.empty.EmptyPolicy`,
``include_background``) and the boundary conventions (surface model, erosion connectivity,
Hausdorff percentile rule and interpolation, ASSD variant, boundary IoU depth). Empty masks take
one :class:`~segscore.metrics.empty.EmptyPolicy` per metric: :meth:`Preset.empty_for` looks up the
metric's exact name, then ``'hdP'`` for any Hausdorff percentile, then its base name, then the
family default (``empty`` for overlap metrics, ``boundary_empty`` for boundary metrics).
``overlap_kwargs()`` feeds :func:`segscore.score`, ``distance_kwargs()`` and ``empty_for()``
feed :func:`~segscore.metrics.boundary.distance_metrics`.

The full table, with the peer function each row reproduces and the tests that check it, is in
``docs/conventions.md``. Libraries without distance metrics (``mmseg``, ``nnunet``, ``smp``)
carry segscore's distance defaults and ``has_distance=False``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from segscore._types import Aggregation, AssdVariant, BoundaryMetric, PercentileRule, SurfaceModel
from segscore._validation import fail
from segscore.metrics.empty import EmptyPolicy, lookup_policy
from segscore.metrics.registry import MetricSpec, _parse_or_none

__all__ = ["PRESETS", "Preset", "get_preset"]

NAN = math.nan
INF = math.inf

_DISTANCES = ("hd", "asd", "assd", "masd")


def _distances(policy: EmptyPolicy) -> dict[str, EmptyPolicy]:
    """Return the same policy for every distance metric (the base names hd, asd, assd, masd)."""
    return dict.fromkeys(_DISTANCES, policy)


@dataclass(frozen=True, slots=True)
class Preset:
    """The conventions of one library.

    Attributes
    ----------
    name : str
        Preset name.
    library : str
        The library and version whose numbers the preset reproduces.
    aggregation : str
        Overlap aggregation rule (:data:`segscore.metrics.reduce.AGGREGATIONS`).
    metric_aggregation : dict of str to str
        Per-metric rules where the library's metrics disagree (torchmetrics: ``DiceScore``
        averages each image over classes first, ``MeanIoU`` pools the image x class cells).
    empty : EmptyPolicy
        Overlap empty policy (the overlap family default).
    include_background : bool
        Whether class 0 enters overlap means.
    metric_empty : dict of str to EmptyPolicy
        Per-metric policies, keyed by exact name (``'hd95'``), ``'hdP'`` (every Hausdorff
        percentile) or base name (``'hd'``, ``'nsd'``, ``'iou'``); MedPy's ``dc`` and ``jc``
        disagree, MONAI's HD and HD95 too.
    boundary_empty : EmptyPolicy
        The boundary family default (the natural values of :mod:`segscore.metrics.empty`).
    surface, connectivity, rule, interpolation, assd_variant, boundary_metric
        Boundary conventions (:mod:`segscore.metrics.boundary`).
    has_distance : bool
        Whether the library defines boundary metrics at all.
    notes : str
        Quirks the preset cannot reproduce.

    Examples
    --------
    >>> p = get_preset("medpy")
    >>> p.distance_kwargs()["rule"], p.overlap_kwargs("iou")["empty"].zero_division
    ('pooled', 1.0)
    >>> from segscore.metrics.registry import get_metric
    >>> get_preset("monai").empty_for(get_metric("hd95")).target_empty
    nan
    """

    name: str
    library: str
    aggregation: Aggregation
    empty: EmptyPolicy
    include_background: bool
    surface: SurfaceModel = "voxel"
    connectivity: int = 1
    rule: PercentileRule = "max_directed"
    interpolation: str = "linear"
    assd_variant: AssdVariant = "pooled"
    boundary_empty: EmptyPolicy = field(default_factory=EmptyPolicy)
    boundary_metric: BoundaryMetric = "chessboard"
    has_distance: bool = True
    metric_empty: Mapping[str, EmptyPolicy] = field(default_factory=dict)
    metric_aggregation: Mapping[str, Aggregation] = field(default_factory=dict)
    notes: str = ""

    def aggregation_for(self, metric: str) -> Aggregation:
        """Return the aggregation rule of a metric (its own rule, else the preset's).

        Examples
        --------
        >>> p = get_preset("torchmetrics")
        >>> p.aggregation_for("dice"), p.aggregation_for("iou")
        ('classes_then_images', 'per_image_per_class')
        """
        spec = _parse_or_none(metric)
        if spec is not None:
            for key in (spec.name, spec.base):
                if key in self.metric_aggregation:
                    return self.metric_aggregation[key]
        return self.aggregation

    def empty_for(self, spec: MetricSpec) -> EmptyPolicy:
        """Return the empty policy of a metric (exact name, ``'hdP'``, base name, family default).

        Examples
        --------
        >>> from segscore.metrics.registry import get_metric
        >>> dm = get_preset("deepmind")
        >>> dm.empty_for(get_metric("hd99")).both_empty, dm.empty_for(get_metric("hd")).both_empty
        (inf, None)
        """
        found = lookup_policy(
            self.metric_empty,
            spec.name,
            spec.base,
            spec.base == "hd" and "percentile" in spec.params,
        )
        if found is not None:
            return found
        return self.empty if spec.kind == "overlap" else self.boundary_empty

    def overlap_kwargs(self, metric: str | None = None) -> dict[str, Any]:
        """Keyword arguments for :func:`segscore.score` (``metric`` picks a per-metric policy)."""
        empty = self.empty
        spec = _parse_or_none(metric) if isinstance(metric, str) else None
        if spec is not None and spec.kind == "overlap":
            empty = self.empty_for(spec)
        return {
            "aggregation": self.aggregation if metric is None else self.aggregation_for(metric),
            "empty": empty,
            "include_background": self.include_background,
        }

    def distance_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`~segscore.metrics.boundary.distance_metrics`."""
        return {
            "surface": self.surface,
            "connectivity": self.connectivity,
            "rule": self.rule,
            "interpolation": self.interpolation,
            "assd_variant": self.assd_variant,
            "boundary_metric": self.boundary_metric,
        }

    def as_dict(self) -> dict[str, Any]:
        """Return every convention as a JSON-friendly dict."""
        return {
            "name": self.name,
            "library": self.library,
            "aggregation": self.aggregation,
            "empty": self.empty.as_dict(),
            "metric_empty": {k: v.as_dict() for k, v in self.metric_empty.items()},
            "metric_aggregation": dict(self.metric_aggregation),
            "include_background": self.include_background,
            "surface": self.surface,
            "connectivity": self.connectivity,
            "rule": self.rule,
            "interpolation": self.interpolation,
            "assd_variant": self.assd_variant,
            "boundary_empty": self.boundary_empty.as_dict(),
            "boundary_metric": self.boundary_metric,
            "has_distance": self.has_distance,
            "notes": self.notes,
        }


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "monai",
            "MONAI 1.6 (DiceMetric/MeanIoU ignore_empty=True, reduction='mean'; "
            "compute_hausdorff_distance, compute_average_surface_distance symmetric=True, "
            "compute_surface_dice)",
            aggregation="classes_then_images",
            empty=EmptyPolicy(target_empty=NAN),
            include_background=True,
            rule="max_directed",
            assd_variant="pooled",
            metric_empty={
                # MONAI: HD inf with one mask empty, but HD95 NaN (#9095); directed ASD inf.
                "hdP": EmptyPolicy(target_empty=NAN, prediction_empty=NAN),
                "asd": EmptyPolicy(target_empty=INF, prediction_empty=INF),
            },
            notes="MONAI's aggregate gives 0 when every value is NaN; segscore gives NaN. "
            "MONAI distances are float32 (agreement to ~1e-7 relative). percentile=0 means max "
            "in MONAI (`if not percentile`).",
        ),
        Preset(
            "medpy",
            "MedPy 0.5.2 (metric.binary hd, hd95, asd, assd, dc, jc)",
            aggregation="per_image_per_class",
            empty=EmptyPolicy(),
            include_background=True,
            metric_empty={
                "iou": EmptyPolicy(zero_division=1.0),
                **_distances(EmptyPolicy(target_empty=NAN, prediction_empty=NAN)),
            },
            rule="pooled",
            assd_variant="pooled",
            notes="MedPy raises RuntimeError on any empty mask; the preset returns NaN (counted). "
            "dc of two empty masks is NaN under NumPy 2 (observed), jc is 1.",
        ),
        Preset(
            "deepmind",
            "DeepMind surface-distance 0.1 (compute_surface_distances, compute_robust_hausdorff, "
            "compute_average_surface_distance, compute_surface_dice_at_tolerance)",
            aggregation="per_image_per_class",
            empty=EmptyPolicy(),
            include_background=True,
            surface="surfel",
            rule="area_weighted",
            assd_variant="mean_of_means",
            # compute_robust_hausdorff gives inf for two empty surfaces; the rest is natural:
            # asd (inf, NaN) in DeepMind's order when the prediction is empty, NSD 0 / NaN.
            metric_empty={"hdP": EmptyPolicy(both_empty=INF)},
            notes="DeepMind gives no symmetric ASSD (average_surface_distance gives its two "
            "directed values, in reverse order). Under NumPy 2 it raises on an empty surface "
            "(np.Inf); the values shown are those of its code under NumPy 1.",
        ),
        Preset(
            "metrics-reloaded",
            "Metrics Reloaded (MetricsReloaded.metrics.pairwise_measures and "
            "processes.overall_process.ProcessEvaluation; code reading)",
            aggregation="classes_then_images",
            empty=EmptyPolicy(),
            include_background=False,
            metric_empty={
                "dice": EmptyPolicy(both_empty=1.0),
                **_distances(
                    EmptyPolicy(zero_division=0.0, target_empty=NAN, prediction_empty=NAN)
                ),
                "nsd": EmptyPolicy(zero_division=1.0),
                "biou": EmptyPolicy(zero_division=1.0),
            },
            rule="max_directed",
            assd_variant="pooled",
            boundary_metric="euclidean",
            notes="Not installed here: checked against numbers worked out from its code. "
            "'masd' gives its MASD. Boundary IoU uses d = 1 px, Euclidean ('biou@1px').",
        ),
        Preset(
            "torchmetrics",
            "torchmetrics 1.9 (MeanIoU, DiceScore, GeneralizedDiceScore, "
            "functional.segmentation.hausdorff_distance)",
            aggregation="per_image_per_class",
            metric_aggregation={"dice": "classes_then_images"},
            empty=EmptyPolicy(),
            include_background=True,
            rule="max_directed",
            notes="MeanIoU pools the image x class cells (per_image_per_class); DiceScore "
            "(average='macro') averages each image over its classes first (classes_then_images). "
            "MeanIoU(per_class=True) reports -1 for a class absent from prediction and target in "
            "every image; segscore reports NaN there (excluded and counted), and the means agree. "
            "torchmetrics has only the maximum HD, 2-D only; it raises when both masks are "
            "empty and misplaces distances on non-square crops (z[i * h + j]).",
        ),
        Preset(
            "mmseg",
            "MMSegmentation IoUMetric / HF evaluate mean_iou (dataset-pooled per class)",
            aggregation="pooled",
            empty=EmptyPolicy(),
            include_background=True,
            has_distance=False,
            notes="No boundary metrics: segscore defaults. Also HF evaluate's mean_iou.",
        ),
        Preset(
            "nnunet",
            "nnU-Net v2 evaluation (per-class nanmean over cases, then mean over foreground)",
            aggregation="images_then_classes",
            empty=EmptyPolicy(),
            include_background=False,
            has_distance=False,
            notes="No boundary metrics: segscore defaults. A label empty in both masks of every "
            "case: nnU-Net's foreground_mean is NaN (np.mean); segscore skips the NaN class.",
        ),
        Preset(
            "smp",
            "segmentation_models_pytorch 0.6 metrics (reduction='micro-imagewise', "
            "zero_division=1.0)",
            aggregation="per_image_micro",
            empty=EmptyPolicy(zero_division=1.0),
            include_background=True,
            has_distance=False,
            notes="SMP's other reductions: 'micro' = pooled_micro (NaN on zero division), "
            "'macro' = pooled, 'macro-imagewise' = images_then_classes.",
        ),
    )
}
"""Every preset by name (``docs/conventions.md`` has the table)."""

_ALIASES = {
    "mr": "metrics-reloaded",
    "metrics_reloaded": "metrics-reloaded",
    "metricsreloaded": "metrics-reloaded",
    "hf": "mmseg",
    "evaluate": "mmseg",
    "mmsegmentation": "mmseg",
    "surface-distance": "deepmind",
    "segmentation_models_pytorch": "smp",
}


def get_preset(name: str) -> Preset:
    """Return the preset named ``name`` (aliases such as ``'mr'`` and ``'hf'`` accepted).

    Examples
    --------
    >>> get_preset("deepmind").surface
    'surfel'
    >>> get_preset("sklearn")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `preset` must be one of 'monai', 'medpy', 'deepmind', 'metrics-reloaded', 'torchmetrics', 'mmseg', 'nnunet', 'smp', got 'sklearn'.
    """
    key = name.lower() if isinstance(name, str) else name
    key = _ALIASES.get(key, key) if isinstance(key, str) else key
    if isinstance(key, str) and key in PRESETS:
        return PRESETS[key]
    options = ", ".join(repr(n) for n in PRESETS)
    fail(f"`preset` must be one of {options}, got {name!r}.")

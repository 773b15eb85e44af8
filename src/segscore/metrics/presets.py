"""Presets: every convention of a peer library, so that segscore reproduces its numbers.

A :class:`Preset` fixes the overlap conventions (aggregation rule of
:data:`segscore.metrics.reduce.AGGREGATIONS`, :class:`~segscore.metrics.empty.EmptyPolicy`,
``include_background``) and the boundary conventions (surface model, erosion connectivity,
Hausdorff percentile rule and interpolation, ASSD variant, :class:`DistanceEmpty` policy, boundary
IoU depth). ``overlap_kwargs()`` feeds :func:`segscore.score`, ``distance_kwargs()`` feeds
:func:`~segscore.metrics.boundary.distance_metrics`.

The full table, with the peer function each row reproduces and the tests that check it, is in
``docs/conventions.md``. Libraries without distance metrics (``mmseg``, ``nnunet``, ``smp``)
carry segscore's distance defaults and ``has_distance=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from segscore._types import Aggregation, AssdVariant, BoundaryMetric, PercentileRule, SurfaceModel
from segscore._validation import fail
from segscore.metrics.empty import DistanceEmpty, EmptyPolicy

__all__ = ["PRESETS", "Preset", "get_preset"]

NAN = math.nan


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
    empty : EmptyPolicy
        Overlap empty policy.
    include_background : bool
        Whether class 0 enters overlap means.
    metric_empty : dict of str to EmptyPolicy
        Per-metric overrides of ``empty`` (MedPy's ``dc`` and ``jc`` disagree).
    surface, connectivity, rule, interpolation, assd_variant, distance_empty, boundary_metric
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
    distance_empty: DistanceEmpty = field(default_factory=DistanceEmpty)
    boundary_metric: BoundaryMetric = "chessboard"
    has_distance: bool = True
    metric_empty: dict[str, EmptyPolicy] = field(default_factory=dict)
    notes: str = ""

    def overlap_kwargs(self, metric: str | None = None) -> dict[str, Any]:
        """Keyword arguments for :func:`segscore.score` (``metric`` picks a per-metric policy)."""
        empty = self.metric_empty.get(metric, self.empty) if metric is not None else self.empty
        return {
            "aggregation": self.aggregation,
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
            "empty": self.distance_empty,
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
            "include_background": self.include_background,
            "surface": self.surface,
            "connectivity": self.connectivity,
            "rule": self.rule,
            "interpolation": self.interpolation,
            "assd_variant": self.assd_variant,
            "distance_empty": self.distance_empty.as_dict(),
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
            distance_empty=DistanceEmpty(
                one_empty="inf", both_empty="nan", percentile_one_empty="nan"
            ),
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
            metric_empty={"iou": EmptyPolicy(zero_division=1.0)},
            rule="pooled",
            assd_variant="pooled",
            distance_empty=DistanceEmpty(one_empty="nan", both_empty="nan"),
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
            distance_empty=DistanceEmpty(
                one_empty="inf", both_empty="nan", percentile_both_empty="inf"
            ),
            notes="DeepMind gives no symmetric ASSD (average_surface_distance gives its two "
            "directed values, in reverse order). Under NumPy 2 it raises on an empty surface "
            "(np.Inf); the values shown are those of its code under NumPy 1.",
        ),
        Preset(
            "metrics-reloaded",
            "Metrics Reloaded (MetricsReloaded.metrics.pairwise_measures; code reading)",
            aggregation="images_then_classes",
            empty=EmptyPolicy(),
            include_background=False,
            metric_empty={"dice": EmptyPolicy(both_empty=1.0)},
            rule="max_directed",
            assd_variant="pooled",
            distance_empty=DistanceEmpty(one_empty="nan", both_empty=0.0, overlap_both_empty=1.0),
            boundary_metric="euclidean",
            notes="Not installed here: checked against numbers worked out from its code. "
            "'masd' gives its MASD. Boundary IoU uses d = 1 px, Euclidean ('biou@1px').",
        ),
        Preset(
            "torchmetrics",
            "torchmetrics 1.9 (MeanIoU, DiceScore, GeneralizedDiceScore, "
            "functional.segmentation.hausdorff_distance)",
            aggregation="per_image_per_class",
            empty=EmptyPolicy(),
            include_background=True,
            rule="max_directed",
            distance_empty=DistanceEmpty(one_empty="inf", both_empty="nan"),
            notes="torchmetrics has only the maximum HD, 2-D only; it raises when both masks are "
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

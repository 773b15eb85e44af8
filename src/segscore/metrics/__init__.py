"""The metrics core: pure functions of arrays and counts. No files, no printing, no global state.

Empty-mask policy
-----------------
Written once here and followed by every overlap metric: a zero denominator gives the policy's
``zero_division`` value, NaN by default. For IoU and Dice that happens only when both masks are
empty; one empty mask gives 0. NaN values are excluded from every mean and the number excluded is
reported with every :class:`~segscore.metrics.reduce.Score`. See :mod:`segscore.metrics.empty`
for the four named cases and the overrides.
"""

from typing import TYPE_CHECKING

from segscore._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and readers; at run time each on first use
    from segscore.metrics.bootstrap import bootstrap_ci, paired_comparison
    from segscore.metrics.boundary import (
        DistanceEmpty,
        DistanceResult,
        SurfaceDistances,
        assd,
        average_surface_distance,
        boundary_iou,
        distance_metrics,
        get_distance_metric,
        hausdorff_distance,
        surface_dice,
        surface_distances,
    )
    from segscore.metrics.conventions import Conventions
    from segscore.metrics.counting import confusion, confusion_matrix
    from segscore.metrics.counts import CountingSpec, Counts
    from segscore.metrics.empty import EmptyCase, EmptyPolicy
    from segscore.metrics.evaluator import Evaluator
    from segscore.metrics.instance import (
        InstanceCounts,
        InstanceEvaluator,
        Matching,
        OverlapTable,
        instance_scores,
        label_components,
        match_instances,
        overlap_table,
    )
    from segscore.metrics.options import CountingOptions
    from segscore.metrics.overlap import (
        accuracy,
        balanced_accuracy,
        dice,
        fbeta,
        generalized_dice,
        iou,
        matthews_corrcoef,
        pixel_accuracy,
        precision,
        recall,
        specificity,
    )
    from segscore.metrics.presets import PRESETS, Preset, get_preset
    from segscore.metrics.reduce import AGGREGATIONS, Score, score
    from segscore.metrics.registry import METRICS, get_metric

__all__ = [
    "AGGREGATIONS",
    "METRICS",
    "PRESETS",
    "Conventions",
    "CountingOptions",
    "CountingSpec",
    "Counts",
    "DistanceEmpty",
    "DistanceResult",
    "EmptyCase",
    "EmptyPolicy",
    "Evaluator",
    "InstanceCounts",
    "InstanceEvaluator",
    "Matching",
    "OverlapTable",
    "Preset",
    "Score",
    "SurfaceDistances",
    "accuracy",
    "assd",
    "average_surface_distance",
    "balanced_accuracy",
    "bootstrap_ci",
    "boundary_iou",
    "confusion",
    "confusion_matrix",
    "dice",
    "distance_metrics",
    "fbeta",
    "generalized_dice",
    "get_distance_metric",
    "get_metric",
    "get_preset",
    "hausdorff_distance",
    "instance_scores",
    "iou",
    "label_components",
    "match_instances",
    "matthews_corrcoef",
    "overlap_table",
    "paired_comparison",
    "pixel_accuracy",
    "precision",
    "recall",
    "score",
    "specificity",
    "surface_dice",
    "surface_distances",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "segscore.metrics.bootstrap": (
            "bootstrap_ci",
            "paired_comparison",
        ),
        "segscore.metrics.boundary": (
            "DistanceEmpty",
            "DistanceResult",
            "SurfaceDistances",
            "assd",
            "average_surface_distance",
            "boundary_iou",
            "distance_metrics",
            "get_distance_metric",
            "hausdorff_distance",
            "surface_dice",
            "surface_distances",
        ),
        "segscore.metrics.conventions": ("Conventions",),
        "segscore.metrics.counting": (
            "confusion",
            "confusion_matrix",
        ),
        "segscore.metrics.counts": (
            "CountingSpec",
            "Counts",
        ),
        "segscore.metrics.empty": (
            "EmptyCase",
            "EmptyPolicy",
        ),
        "segscore.metrics.evaluator": ("Evaluator",),
        "segscore.metrics.instance": (
            "InstanceCounts",
            "InstanceEvaluator",
            "Matching",
            "OverlapTable",
            "instance_scores",
            "label_components",
            "match_instances",
            "overlap_table",
        ),
        "segscore.metrics.options": ("CountingOptions",),
        "segscore.metrics.overlap": (
            "accuracy",
            "balanced_accuracy",
            "dice",
            "fbeta",
            "generalized_dice",
            "iou",
            "matthews_corrcoef",
            "pixel_accuracy",
            "precision",
            "recall",
            "specificity",
        ),
        "segscore.metrics.presets": (
            "PRESETS",
            "Preset",
            "get_preset",
        ),
        "segscore.metrics.reduce": (
            "AGGREGATIONS",
            "Score",
            "score",
        ),
        "segscore.metrics.registry": (
            "METRICS",
            "get_metric",
        ),
    },
)

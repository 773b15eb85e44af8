"""segscore: train, run and above all score image segmentation models, exactly and explicitly.

The metrics core needs only numpy; ``import segscore`` never imports torch.

Examples
--------
>>> import numpy as np
>>> import segscore
>>> c = segscore.confusion(np.array([[0, 1, 1]]), np.array([[0, 1, 0]]), num_classes=2)
>>> segscore.iou(c)
array([[0.5, 0.5]])
"""

from typing import TYPE_CHECKING

from segscore._lazy import lazy_exports
from segscore._version import __version__
from segscore.errors import CheckpointError, DatasetError, InputError, SegscoreError

if TYPE_CHECKING:  # for type checkers and readers; at run time each on first use
    from segscore.metrics import (
        AGGREGATIONS,
        METRICS,
        PRESETS,
        Conventions,
        CountingOptions,
        CountingSpec,
        Counts,
        DistanceEmpty,
        DistanceResult,
        EmptyCase,
        EmptyPolicy,
        Evaluator,
        InstanceCounts,
        InstanceEvaluator,
        Matching,
        OverlapTable,
        Preset,
        Score,
        SurfaceDistances,
        accuracy,
        assd,
        average_surface_distance,
        balanced_accuracy,
        bootstrap_ci,
        boundary_iou,
        confusion,
        confusion_matrix,
        dice,
        distance_metrics,
        fbeta,
        generalized_dice,
        get_distance_metric,
        get_metric,
        get_preset,
        hausdorff_distance,
        instance_scores,
        iou,
        label_components,
        match_instances,
        matthews_corrcoef,
        overlap_table,
        paired_comparison,
        pixel_accuracy,
        precision,
        recall,
        score,
        specificity,
        surface_dice,
        surface_distances,
    )

__all__ = [
    "AGGREGATIONS",
    "METRICS",
    "PRESETS",
    "CheckpointError",
    "Conventions",
    "CountingOptions",
    "CountingSpec",
    "Counts",
    "DatasetError",
    "DistanceEmpty",
    "DistanceResult",
    "EmptyCase",
    "EmptyPolicy",
    "Evaluator",
    "InputError",
    "InstanceCounts",
    "InstanceEvaluator",
    "Matching",
    "OverlapTable",
    "Preset",
    "Score",
    "SegscoreError",
    "SurfaceDistances",
    "__version__",
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

_EAGER = {"CheckpointError", "DatasetError", "InputError", "SegscoreError", "__version__"}

# every other public name is the metrics core's
__getattr__, __dir__ = lazy_exports(
    __name__, {"segscore.metrics": tuple(n for n in __all__ if n not in _EAGER)}
)

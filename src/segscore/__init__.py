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

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("segscore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

from segscore.errors import CheckpointError, DatasetError, InputError, SegscoreError
from segscore.metrics import (
    AGGREGATIONS,
    METRICS,
    PRESETS,
    Conventions,
    CountingSpec,
    Counts,
    DistanceEmpty,
    DistanceResult,
    EmptyCase,
    EmptyPolicy,
    Evaluator,
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
    iou,
    matthews_corrcoef,
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
    "CountingSpec",
    "Counts",
    "DatasetError",
    "DistanceEmpty",
    "DistanceResult",
    "EmptyCase",
    "EmptyPolicy",
    "Evaluator",
    "InputError",
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
    "iou",
    "matthews_corrcoef",
    "paired_comparison",
    "pixel_accuracy",
    "precision",
    "recall",
    "score",
    "specificity",
    "surface_dice",
    "surface_distances",
]

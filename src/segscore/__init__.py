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
    Conventions,
    CountingSpec,
    Counts,
    EmptyCase,
    EmptyPolicy,
    Evaluator,
    Score,
    accuracy,
    balanced_accuracy,
    confusion,
    confusion_matrix,
    dice,
    fbeta,
    generalized_dice,
    get_metric,
    iou,
    matthews_corrcoef,
    precision,
    recall,
    score,
    specificity,
)

__all__ = [
    "AGGREGATIONS",
    "METRICS",
    "CheckpointError",
    "Conventions",
    "CountingSpec",
    "Counts",
    "DatasetError",
    "EmptyCase",
    "EmptyPolicy",
    "Evaluator",
    "InputError",
    "Score",
    "SegscoreError",
    "__version__",
    "accuracy",
    "balanced_accuracy",
    "confusion",
    "confusion_matrix",
    "dice",
    "fbeta",
    "generalized_dice",
    "get_metric",
    "iou",
    "matthews_corrcoef",
    "precision",
    "recall",
    "score",
    "specificity",
]

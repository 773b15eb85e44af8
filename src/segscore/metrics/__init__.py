"""The metrics core: pure functions of arrays and counts. No files, no printing, no global state.

Empty-mask policy
-----------------
Written once here and followed by every overlap metric: a zero denominator gives the policy's
``zero_division`` value, NaN by default. For IoU and Dice that happens only when both masks are
empty; one empty mask gives 0. NaN values are excluded from every mean and the number excluded is
reported with every :class:`~segscore.metrics.reduce.Score`. See :mod:`segscore.metrics.empty`
for the four named cases and the overrides.
"""

from segscore.metrics.counts import CountingSpec, Counts, confusion, confusion_matrix
from segscore.metrics.empty import EmptyCase, EmptyPolicy
from segscore.metrics.evaluator import Evaluator
from segscore.metrics.overlap import (
    accuracy,
    balanced_accuracy,
    dice,
    fbeta,
    generalized_dice,
    iou,
    matthews_corrcoef,
    precision,
    recall,
    specificity,
)
from segscore.metrics.reduce import AGGREGATIONS, Conventions, Score, score
from segscore.metrics.registry import METRICS, get_metric

__all__ = [
    "AGGREGATIONS",
    "METRICS",
    "Conventions",
    "CountingSpec",
    "Counts",
    "EmptyCase",
    "EmptyPolicy",
    "Evaluator",
    "Score",
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

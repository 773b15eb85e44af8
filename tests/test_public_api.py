"""The public names of segscore, pinned (httpx's test): a change here is an API change."""

from __future__ import annotations

import segscore
import segscore.metrics

PUBLIC = [
    "AGGREGATIONS",
    "CheckpointError",
    "Conventions",
    "CountingSpec",
    "Counts",
    "DatasetError",
    "EmptyCase",
    "EmptyPolicy",
    "Evaluator",
    "InputError",
    "METRICS",
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


def test_all_is_pinned():
    assert sorted(segscore.__all__) == PUBLIC
    assert len(set(segscore.__all__)) == len(segscore.__all__)


def test_every_public_name_exists():
    for name in segscore.__all__:
        assert hasattr(segscore, name), name


def test_metrics_names_are_reexported_unchanged():
    for name in segscore.metrics.__all__:
        assert getattr(segscore, name) is getattr(segscore.metrics, name), name
    assert set(segscore.metrics.__all__) <= set(segscore.__all__)

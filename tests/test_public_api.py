"""The public names of segscore, pinned (httpx's test): a change here is an API change."""

from __future__ import annotations

import segscore
import segscore.metrics

PUBLIC = [
    "AGGREGATIONS",
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
    "METRICS",
    "Matching",
    "OverlapTable",
    "PRESETS",
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

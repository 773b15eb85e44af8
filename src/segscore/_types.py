"""Type aliases and option literals shared by the whole package."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AGGREGATIONS",
    "ASSD_VARIANTS",
    "COMPARISONS",
    "CONNECTIVITIES",
    "CPU_COUNTINGS",
    "CRITERIA",
    "DEFAULT_AGGREGATION",
    "INTERPOLATIONS",
    "MATCHINGS",
    "PERCENTILE_RULES",
    "SURFACE_MODELS",
    "Aggregation",
    "AssdVariant",
    "Average",
    "BoolArray",
    "BoundaryMetric",
    "Comparison",
    "Connectivity",
    "CpuCounting",
    "Criterion",
    "FloatArray",
    "IntArray",
    "MatchingRule",
    "PercentileRule",
    "SurfaceModel",
    "WidthUnit",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

Average = Literal["none", "micro", "macro", "weighted"]
"""How per-class values are combined within one row of counts.

- ``"none"``: one value per class.
- ``"micro"``: counts summed over classes, then the formula.
- ``"macro"``: the formula per class, then the mean over the valid (non-NaN) classes.
- ``"weighted"``: like ``"macro"`` but weighted by the class support ``tp + fn``.
"""

Aggregation = Literal[
    "pooled",
    "pooled_micro",
    "images_then_classes",
    "classes_then_images",
    "per_image_per_class",
    "per_image_micro",
]
"""How a dataset of per-image, per-class counts becomes one number (see :mod:`segscore.metrics.reduce`)."""

AGGREGATIONS: tuple[Aggregation, ...] = get_args(Aggregation)
"""Every :data:`Aggregation`, in its order (re-exported by :mod:`segscore.metrics.reduce`)."""

DEFAULT_AGGREGATION: Aggregation = "images_then_classes"
"""segscore's default aggregation, for every function, accumulator and command alike."""

CpuCounting = Literal["kernel", "torch"]
"""How CPU torch tensors are counted: by the compiled kernel on zero-copy views, or by torch
operations as CUDA tensors are (the counts are the same)."""
CPU_COUNTINGS: tuple[CpuCounting, ...] = ("kernel", "torch")

# Boundary-metric options (see :mod:`segscore.metrics.boundary` for what each value means).

SurfaceModel = Literal["voxel", "surfel"]
"""Surface elements: border voxels (one erosion) or surfels (grid corners, DeepMind)."""
PercentileRule = Literal["pooled", "max_directed", "directed", "area_weighted"]
"""How a Hausdorff percentile combines the two directed distance sets."""
AssdVariant = Literal["pooled", "mean_of_means"]
"""ASSD: weighted mean of both directions' distances, or the mean of the two directed means."""
WidthUnit = Literal["px", "mm", "diagonal"]
"""Unit of the Boundary IoU band width."""
BoundaryMetric = Literal["chessboard", "euclidean"]
"""Depth metric of the Boundary IoU band."""

SURFACE_MODELS: tuple[SurfaceModel, ...] = ("voxel", "surfel")
PERCENTILE_RULES: tuple[PercentileRule, ...] = (
    "pooled",
    "max_directed",
    "directed",
    "area_weighted",
)
ASSD_VARIANTS: tuple[AssdVariant, ...] = ("pooled", "mean_of_means")
INTERPOLATIONS = (
    "linear",
    "lower",
    "higher",
    "nearest",
    "midpoint",
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
)

# Instance-metric options (see :mod:`segscore.metrics.instance.matching` and
# :mod:`segscore.metrics.instance.components` for what each value means).

MatchingRule = Literal["optimal", "greedy", "unique"]
"""One-to-one matching: most matches then largest score sum, greedy by score, or unique pairs."""
Criterion = Literal["iou", "dice", "iop", "iot"]
"""The pair score a threshold is applied to."""
Comparison = Literal[">=", ">"]
"""Whether a value exactly at the threshold passes: a pair's score (object matching) or a
probability (``CountingOptions.threshold_comparison``)."""
Connectivity = Literal["face", "full"]
"""Connected components through faces only, or through faces, edges and corners."""

MATCHINGS: tuple[MatchingRule, ...] = ("optimal", "greedy", "unique")
CRITERIA: tuple[Criterion, ...] = ("iou", "dice", "iop", "iot")
COMPARISONS: tuple[Comparison, ...] = (">=", ">")
CONNECTIVITIES: tuple[Connectivity, ...] = ("face", "full")

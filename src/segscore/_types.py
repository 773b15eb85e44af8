"""Type aliases and option literals shared by the whole package."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Aggregation",
    "Average",
    "BoolArray",
    "FloatArray",
    "IntArray",
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

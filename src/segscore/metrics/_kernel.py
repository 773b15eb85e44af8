"""Counting kernels: the compiled fused pass where it was built, else the numpy reference.

Both functions take 2-D C-contiguous arrays ``(rows, pixels)`` that :func:`segscore.confusion`
has already validated, and return exact int64 counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segscore._types import IntArray

__all__ = ["HAVE_COMPILED", "binary_counts", "confusion_matrix"]

HAVE_COMPILED = False


def binary_counts(pred: Any, target: Any) -> tuple[IntArray, IntArray, IntArray]:
    """Return per-row ``(tp, predicted, support)`` of binary masks (nonzero is foreground)."""
    from segscore.metrics.counts import _binary_counts_reference

    return _binary_counts_reference(pred, target)


def confusion_matrix(
    pred: Any, target: Any, num_classes: int, ignore_index: int | None
) -> IntArray:
    """Return per-row confusion matrices of shape ``(rows, C, C + 1)`` (see the reference)."""
    from segscore.metrics.counts import confusion_matrix_reference

    return confusion_matrix_reference(
        pred, target, num_classes=num_classes, ignore_index=ignore_index
    )

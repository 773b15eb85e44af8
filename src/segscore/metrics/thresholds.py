"""From probabilities to masks: pure numpy, no torch.

Shared by training (validation scores) and prediction; :mod:`segscore.predict.thresholds`
re-exports it.

Binary probability maps become {0, 1} masks by ``p >= threshold``, or ``p > threshold`` with
``threshold_comparison='>'`` (the same rule, :func:`~segscore.metrics.options.above_threshold`, as
:func:`segscore.confusion` uses for float predictions); class probabilities become label maps by
the arg-max over the class axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from segscore._types import COMPARISONS, Comparison
from segscore._validation import check_number, check_option, fail
from segscore.metrics.options import above_threshold

__all__ = ["DEFAULT_THRESHOLD", "to_mask"]

DEFAULT_THRESHOLD = 0.5


def to_mask(
    probabilities: Any,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    threshold_comparison: Comparison = ">=",
) -> NDArray[np.uint8]:
    """Turn probability maps into masks.

    Parameters
    ----------
    probabilities : array_like of float, shape (..., K, H, W)
        ``K = 1``: foreground probability (binary); ``K >= 2``: class probabilities (softmax).
    threshold : float, default 0.5
        Binary only: a pixel is foreground when ``p >= threshold``. Must lie in (0, 1).
    threshold_comparison : {'>=', '>'}, default '>='
        Binary only: ``'>'`` makes a probability exactly at ``threshold`` background
        (torchmetrics' rule); compared in the array's dtype.

    Returns
    -------
    ndarray of uint8, shape (..., H, W)
        {0, 1} masks, or class labels (arg-max; ties go to the lower class).

    Raises
    ------
    InputError
        If the array has fewer than 3 axes, holds NaN, the threshold is outside (0, 1) or the
        comparison is not one of '>=', '>'.

    Examples
    --------
    >>> to_mask(np.array([[[0.8, 0.3], [0.5, 0.49]]]))
    array([[1, 0],
           [1, 0]], dtype=uint8)
    >>> to_mask(np.array([[[0.8, 0.3]]]), threshold=0.9)
    array([[0, 0]], dtype=uint8)
    >>> to_mask(np.array([[[0.5, 0.6]]]), threshold_comparison=">")
    array([[0, 1]], dtype=uint8)
    >>> to_mask(np.array([[[0.2, 0.6]], [[0.7, 0.3]], [[0.1, 0.1]]]))  # three classes
    array([[1, 0]], dtype=uint8)
    """
    threshold = check_number(
        "threshold", threshold, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    check_option("threshold_comparison", threshold_comparison, COMPARISONS)
    p = np.asarray(probabilities)
    if p.ndim < 3:
        fail(f"`probabilities` must have shape (..., K, H, W), got {p.shape}.")
    if p.dtype.kind != "f":
        fail(f"`probabilities` must be a float array, got dtype {p.dtype}.")
    if np.isnan(p).any():
        fail("`probabilities` must not contain NaN, got NaN values.")
    if p.shape[-3] == 1:
        fg = above_threshold(p[..., 0, :, :], threshold, threshold_comparison)
        mask: NDArray[np.uint8] = fg.astype(np.uint8)
        return mask
    if p.shape[-3] > 256:
        fail(f"`probabilities` must have at most 256 classes, got {p.shape[-3]}.")
    labels: NDArray[np.uint8] = np.argmax(p, axis=-3).astype(np.uint8)
    return labels

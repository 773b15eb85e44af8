"""The obviously-right counting references that every fast path must equal exactly.

- :func:`confusion_matrix_reference`: per-image confusion matrices by one ``np.bincount`` in int64;
- :func:`binary_counts_reference`: per-row ``(tp, predicted, support)`` by ``np.count_nonzero``.

Both take inputs that the counting engine (:mod:`segscore.metrics.counts`) has already
validated. They are the fallback of :mod:`segscore.metrics._kernel` where the compiled kernel is
not built (or not chosen), and the oracle of its tests. This module imports nothing of segscore
beyond its type aliases, so both the engine and the kernel can import it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segscore._types import IntArray

__all__ = ["binary_counts_reference", "confusion_matrix_reference"]


def confusion_matrix_reference(
    pred: Any, target: Any, *, num_classes: int, ignore_index: int | None = None
) -> IntArray:
    """Per-image confusion matrices by ``np.bincount``: the reference every fast path must equal.

    Parameters
    ----------
    pred, target : ndarray of int, shape (N, *S)
        Label maps, already validated; the first axis indexes images.
    num_classes : int
        Number of classes ``C``.
    ignore_index : int, optional
        Target label whose pixels are dropped. A prediction equal to it on a counted pixel goes to
        the extra last column ("no class").

    Returns
    -------
    ndarray of int64, shape (N, C, C + 1)
        ``m[n, t, p]`` is the number of pixels of image ``n`` with target ``t`` and prediction ``p``;
        column ``C`` counts predictions of the ignore label.

    Examples
    --------
    >>> confusion_matrix_reference(np.array([[0, 1, 1]]), np.array([[0, 1, 0]]), num_classes=2)
    array([[[1, 1, 0],
            [0, 1, 0]]])
    """
    n = pred.shape[0]
    c = num_classes
    t = np.asarray(target, dtype=np.int64).reshape(n, -1)
    p = np.asarray(pred, dtype=np.int64).reshape(n, -1)
    p = np.where((p < 0) | (p >= c), c, p)  # only the ignore label remains out of range here
    rows = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None], t.shape)
    keep = np.ones(t.shape, dtype=bool) if ignore_index is None else t != ignore_index
    keys = (rows[keep] * c + t[keep]) * (c + 1) + p[keep]
    return np.bincount(keys, minlength=n * c * (c + 1)).astype(np.int64).reshape(n, c, c + 1)


def binary_counts_reference(pred: Any, target: Any) -> tuple[IntArray, IntArray, IntArray]:
    """Per-row ``(tp, predicted, support)`` of 2-D arrays ``(rows, pixels)``: the obvious way.

    Nonzero is foreground.

    Examples
    --------
    >>> binary_counts_reference(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 1, 0]]))
    (array([1]), array([2]), array([2]))
    """
    p = pred != 0
    t = target != 0
    tp = np.count_nonzero(p & t, axis=1).astype(np.int64)
    predicted = np.count_nonzero(p, axis=1).astype(np.int64)
    support = np.count_nonzero(t, axis=1).astype(np.int64)
    return tp, predicted, support

"""The public counting functions: :func:`confusion` and :func:`confusion_matrix`.

They check the options, then count numpy arrays with the engine of
:mod:`segscore.metrics.counts`; torch tensors go to :mod:`segscore.metrics._torch_counts`, which
is imported only when a tensor arrives (so ``import segscore`` never imports torch). The
dependencies run one way: ``counting -> _torch_counts -> counts -> _kernel -> _reference``.
"""

from __future__ import annotations

from typing import Any

from segscore._types import Comparison, IntArray
from segscore._validation import fail
from segscore.metrics.counts import (
    MATRIX_MAX_CLASSES,
    Counts,
    confusion_matrix_arrays,
    count_arrays,
)
from segscore.metrics.options import CountingOptions, resolve_options

__all__ = ["confusion", "confusion_matrix"]


def _is_tensor(x: object) -> bool:
    return type(x).__module__.split(".", 1)[0] == "torch"


def confusion(
    pred: Any,
    target: Any,
    *,
    options: CountingOptions | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    ignore_index: int | None = None,
    multilabel: bool = False,
    spatial_dims: int | None = None,
    threshold_comparison: Comparison | None = None,
) -> Counts:
    """Count ``tp, fp, fn, tn`` per image and class in one exact pass.

    Parameters
    ----------
    pred : array_like or torch.Tensor, shape (N, *S) or (*S)
        Prediction. Binary mode (``num_classes=None``): bool, integers {0, 1} or {0, 255}, or float
        probabilities thresholded at ``threshold``. Multiclass: integer label map. Multilabel:
        shape (N, C, *S) or (C, *S) of probabilities or {0, 1}.
    target : array_like or torch.Tensor, same shape as ``pred``
        Ground truth: binary masks (bool, {0, 1}, {0, 255}) or integer label maps.
    options : CountingOptions, optional
        Every counting option in one object (:mod:`segscore.metrics.options`); the keyword
        arguments below build the same object and must not be given with it.
    num_classes : int, optional
        Number of classes ``C`` of label maps. None means binary masks (``C = 1``).
    threshold : float, default 0.5
        For float predictions, a pixel is foreground when ``p >= threshold`` (``p > threshold``
        with ``threshold_comparison='>'``). Must lie in (0, 1).
    ignore_index : int, optional
        Target label (outside ``[0, C)``, e.g. 255) whose pixels are excluded from every count, whatever
        the prediction there. A prediction equal to it on a counted pixel is "no class": a false
        negative for the target's class and a false positive for none.
    multilabel : bool, default False
        Inputs hold one binary mask per class on axis 1 (axis 0 for a single image).
    spatial_dims : {2, 3}, optional
        Number of spatial axes. By default a 2-D array is one image, 3-D is a batch of 2-D images
        (N, H, W) and 4-D a batch of volumes (N, D, H, W); set 3 to pass one volume (D, H, W).
    threshold_comparison : {'>=', '>'}, optional
        Whether a probability exactly at ``threshold`` is foreground: ``'>='`` (None, the
        default; SMP, MONAI) or ``'>'`` (torchmetrics). Compared in the prediction's dtype.

    Returns
    -------
    Counts
        int64 fields of shape (N, C), one row per image and one column per class.

    Raises
    ------
    InputError
        On a shape mismatch, a wrong number of axes, an empty array, labels out of range, negative
        labels, non-binary values in a binary mask, NaN, infinite or out-of-[0, 1] probabilities, a
        threshold outside (0, 1), or a label dtype too small for ``num_classes``.

    Notes
    -----
    For class ``k`` of image ``n``: ``tp`` = pixels with target k and prediction k; ``fp`` = prediction
    k, target another class; ``fn`` = target k, prediction another class (or the ignore label);
    ``tn`` = the rest of the counted pixels. ``tp + fp + fn + tn`` is the number of pixels whose
    target is not ``ignore_index``. Counting is exact in int64 at any size.

    Examples
    --------
    >>> c = confusion(np.array([[0, 1, 1]]), np.array([[0, 1, 0]]), num_classes=2)
    >>> c.tp, c.fp, c.fn, c.tn
    (array([[1, 1]]), array([[0, 1]]), array([[1, 0]]), array([[1, 1]]))
    >>> confusion(np.array([[0.2, 0.7], [0.5, 0.1]]), np.array([[0, 1], [0, 0]])).fp
    array([[1]])
    >>> confusion(np.array([[0.2, 0.7], [0.5, 0.1]]), np.array([[0, 1], [0, 0]]),
    ...           threshold_comparison=">").fp
    array([[0]])
    """
    opts = resolve_options(
        options,
        num_classes=num_classes,
        threshold=threshold,
        ignore_index=ignore_index,
        multilabel=multilabel,
        spatial_dims=spatial_dims,
        threshold_comparison=threshold_comparison,
    )
    if _is_tensor(pred) or _is_tensor(target):
        # Imported only when a tensor arrives: `import segscore` never imports torch.
        from segscore.metrics import _torch_counts

        return _torch_counts.confusion_torch(pred, target, opts)
    return count_arrays(pred, target, opts)


def confusion_matrix(
    pred: Any,
    target: Any,
    *,
    num_classes: int,
    ignore_index: int | None = None,
    spatial_dims: int | None = None,
) -> IntArray:
    """Per-image ``C × C`` confusion matrices of label maps (rows: target, columns: prediction).

    Parameters
    ----------
    pred, target : array_like of int, shape (N, *S) or (*S)
        Label maps, as for :func:`confusion`.
    num_classes : int
        Number of classes ``C``.
    ignore_index : int, optional
        Target label excluded from the counts (outside ``[0, C)``).
    spatial_dims : {2, 3}, optional
        As for :func:`confusion`.

    Returns
    -------
    ndarray of int64, shape (N, C, C)
        ``m[n, t, p]``: pixels of image ``n`` with target ``t`` and prediction ``p``. Pixels predicted
        as the ignore label are in no column (they are false negatives in :func:`confusion`).

    Examples
    --------
    >>> confusion_matrix(np.array([[0, 1, 1]]), np.array([[0, 1, 0]]), num_classes=2)
    array([[[1, 1],
            [0, 1]]])
    """
    if isinstance(num_classes, int) and num_classes > MATRIX_MAX_CLASSES:
        fail(
            f"`num_classes` must be at most {MATRIX_MAX_CLASSES} for a confusion matrix, got "
            f"{num_classes}; use confusion() for per-class counts."
        )
    opts = CountingOptions.checked(
        num_classes=num_classes, ignore_index=ignore_index, spatial_dims=spatial_dims
    )
    return confusion_matrix_arrays(pred, target, opts)

"""Detection scores for predicted objects: how a segmentation model ranks its objects for COCO AP.

A detector gives each object a confidence; a segmentation model gives a probability per pixel.
:func:`object_scores` turns the second into the first: the score of a predicted object is the
mean probability over its pixels (the rule of Mask R-CNN's mask scoring without the detector's
class score, and of cellpose and StarDist users scoring their label maps for COCO).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segscore._types import FloatArray
from segscore._validation import check_same_shape, fail_must
from segscore.metrics.counting import _is_tensor
from segscore.metrics.counts import _batch_shape
from segscore.metrics.instance.table import _as_ids
from segscore.metrics.options import CountingOptions

__all__ = ["object_scores"]


def _mean_per_object(p: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> FloatArray:
    flat = labels.ravel()
    weights = p.ravel()
    top = int(flat.max()) if flat.size else 0
    if top <= 4 * flat.size + 1024:  # ids small enough to count directly
        ids: Any = None
        codes = flat
    else:  # large ids: relabel to 0..n-1 first
        ids, codes = np.unique(flat, return_inverse=True)
        codes = codes.ravel()
        top = int(ids.size) - 1
    counts = np.bincount(codes, minlength=top + 1)
    sums = np.bincount(codes, weights=weights, minlength=top + 1)
    present = np.flatnonzero(counts)
    present = present[(present if ids is None else ids[present]) != 0]
    return np.asarray(sums[present] / counts[present], dtype=np.float64)


def object_scores(
    probabilities: Any,
    labels: Any,
    *,
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
) -> tuple[FloatArray, ...]:
    """Return the mean probability inside each predicted object, per image.

    Parameters
    ----------
    probabilities : array_like or torch.Tensor of float, shape (*S) or (N, *S)
        The foreground probability of every pixel (any finite numbers: logits work too, but
        their mean ranks objects differently from the mean probability).
    labels : array_like or torch.Tensor of int, shape like ``probabilities``
        The predicted instance label map (0 = background), as for
        :func:`~segscore.metrics.instance.table.overlap_table`.
    options, spatial_dims
        The layout rule of :class:`~segscore.metrics.options.CountingOptions` (2-D is one
        image, 3-D a batch of 2-D images unless ``spatial_dims=3``).

    Returns
    -------
    tuple of ndarray of float64
        Per image, one score per object in increasing id order: the order of
        ``overlap_table(...).pred_ids``, and the ``scores`` that
        :func:`~segscore.metrics.instance.coco.coco_scores` reads.

    Raises
    ------
    InputError
        On different shapes, float or negative ids, or non-finite probabilities.

    Notes
    -----
    Per-object sums and pixel counts by ``np.bincount`` over the ids (relabelled to
    ``0 .. n-1`` first when they are large): one pass, float64 sums, exact counts.

    Examples
    --------
    >>> prob = np.array([[0.9, 0.7, 0.2, 0.4]])
    >>> labels = np.array([[3, 3, 0, 8]])
    >>> object_scores(prob, labels)
    (array([0.8, 0.4]),)
    """
    if _is_tensor(probabilities):
        probabilities = probabilities.detach().cpu().numpy()
    p = np.asarray(probabilities)
    if p.dtype.kind not in "fiub":
        fail_must("probabilities", "hold real numbers", f"dtype {p.dtype}")
    p = p.astype(np.float64, copy=False)
    lab = _as_ids("labels", labels)
    check_same_shape(p.shape, lab.shape, names=("probabilities", "labels"))
    finite = np.isfinite(p)
    if not finite.all():
        fail_must(
            "probabilities",
            "be finite",
            f"{int(p.size - np.count_nonzero(finite))} non-finite values",
        )
    dims = options.spatial_dims if options is not None else spatial_dims
    shape = _batch_shape("labels", lab.shape, dims, channel_axis=False)
    p = p.reshape(shape)
    lab = lab.reshape(shape)
    return tuple(_mean_per_object(p[i], lab[i]) for i in range(shape[0]))

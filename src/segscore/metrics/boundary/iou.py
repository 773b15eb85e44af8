"""Boundary IoU: the IoU of the inner boundary bands of the two masks (Cheng et al., CVPR 2021)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from segscore._types import BoolArray, BoundaryMetric, FloatArray, WidthUnit
from segscore._validation import check_number, check_option, fail
from segscore.metrics.boundary.extraction import _bounds, _window
from segscore.metrics.boundary.inputs import _prepare, _Prepared

__all__ = ["boundary_iou"]


def _width_in_units(width: float, unit: WidthUnit, shape: tuple[int, ...]) -> float:
    if unit == "diagonal":
        # Cheng et al. (boundary-iou-api): int(round(ratio * diag)) erosion steps, at least 1.
        pixels = round(width * math.sqrt(sum(n * n for n in shape)))
        return float(max(pixels, 1))
    return width


def _boundary_region(
    mask: BoolArray,
    width: float,
    metric: BoundaryMetric,
    spacing: tuple[float, ...] | None,
) -> BoolArray:
    """Voxels of ``mask`` within ``width`` of the background (outside the image is background)."""
    box = _bounds(mask)
    if box is None:
        return np.zeros(mask.shape, dtype=bool)
    lo, hi = box
    padded = _window(mask, lo, hi, 1)
    from scipy import ndimage

    if metric == "chessboard":
        depth = ndimage.distance_transform_cdt(padded, metric="chessboard")
    else:
        depth = ndimage.distance_transform_edt(padded, sampling=spacing)
    region = padded & (depth <= width)
    out = np.zeros(mask.shape, dtype=bool)
    inner = tuple(slice(1, -1) for _ in range(mask.ndim))
    out[tuple(slice(a, b + 1) for a, b in zip(lo, hi, strict=True))] = region[inner]
    return out


def _boundary_iou_masks(
    prepared: _Prepared,
    width: float,
    unit: WidthUnit,
    metric: BoundaryMetric,
    empty_value: float,
) -> FloatArray:
    w = _width_in_units(width, unit, prepared.shape)
    spacing = prepared.spacing if unit == "mm" else None
    out = np.empty(len(prepared.classes), dtype=np.float64)
    for i, (p, t) in enumerate(prepared.masks):
        bp = _boundary_region(p, w, metric, spacing)
        bt = _boundary_region(t, w, metric, spacing)
        if prepared.ignore is not None:
            bp &= ~prepared.ignore
            bt &= ~prepared.ignore
        union = int(np.count_nonzero(bp | bt))
        out[i] = empty_value if union == 0 else np.count_nonzero(bp & bt) / union
    return out


def _check_boundary_options(width: object, unit: str, metric: str) -> float:
    check_option("unit", unit, ("px", "mm", "diagonal"))
    check_option("metric", metric, ("chessboard", "euclidean"))
    w = check_number("width", width, low=0, low_inclusive=False)
    if unit == "mm" and metric == "chessboard":
        fail(
            "`metric` must be 'euclidean' for a width in physical units (unit='mm'), got "
            "'chessboard'."
        )
    return w


def boundary_iou(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    width: float = 0.02,
    unit: WidthUnit = "diagonal",
    metric: BoundaryMetric = "chessboard",
    spacing: float | Sequence[float] | None = None,
    num_classes: int | None = None,
    include_background: bool = False,
    ignore_index: int | None = None,
    ignore_mask: ArrayLike | None = None,
    empty_value: float = math.nan,
) -> FloatArray:
    """Boundary IoU: IoU of the inner boundary bands of the two masks, per class.

    Parameters
    ----------
    pred, target : array_like, shape (H, W) or (D, H, W)
        Binary masks or, with ``num_classes``, label maps.
    width : float > 0, default 0.02
        Band width, in ``unit``.
    unit : {'diagonal', 'px', 'mm'}, default 'diagonal'
        ``'diagonal'``: a fraction of the image diagonal in pixels, rounded to whole pixels
        (at least 1) as in Cheng et al.; ``'px'``: pixels; ``'mm'``: units of ``spacing``.
    metric : {'chessboard', 'euclidean'}, default 'chessboard'
        Depth of a voxel: chessboard steps (Cheng et al.'s 3×3 erosions) or Euclidean distance
        (Metrics Reloaded; required for ``unit='mm'``).
    spacing : float or sequence of float, optional
        Voxel spacing, for ``unit='mm'``.
    num_classes, include_background, ignore_index, ignore_mask
        As in :func:`surface_distances`; ignored voxels leave both bands.
    empty_value : float, default NaN
        Value when both bands are empty (pycocotools: 0, Metrics Reloaded: 1).

    Returns
    -------
    ndarray of float64, shape (C,)

    Notes
    -----
    ``B_d(M) = {x in M : depth(x) <= d}`` where ``depth(x)`` is the distance from ``x`` to the
    nearest background voxel, the outside of the image being background (a voxel next to the
    background has depth 1). ``BIoU = |B_d(P) ∩ B_d(T)| / |B_d(P) ∪ B_d(T)|`` (Cheng et al.,
    CVPR 2021; no min with the mask IoU).

    Examples
    --------
    >>> pred = np.zeros((8, 8), dtype=bool); pred[1:7, 1:7] = True
    >>> target = np.zeros((8, 8), dtype=bool); target[1:7, 2:8] = True
    >>> boundary_iou(pred, target, width=1, unit="px")
    array([0.33333333])
    """
    w = _check_boundary_options(width, unit, metric)
    prepared = _prepare(
        pred, target, spacing, num_classes, include_background, ignore_index, ignore_mask
    )
    value = check_number("empty_value", empty_value) if not math.isnan(empty_value) else math.nan
    return _boundary_iou_masks(prepared, w, unit, metric, value)

"""Boundary IoU: the IoU of the inner boundary bands of the two masks (Cheng et al., CVPR 2021)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from segscore._types import BoolArray, BoundaryMetric, FloatArray, WidthUnit
from segscore._validation import check_number, check_option, fail
from segscore.metrics.boundary.distances import _case
from segscore.metrics.boundary.extraction import _bounds, _window
from segscore.metrics.boundary.inputs import _one_case, _options, _prepare, _Prepared
from segscore.metrics.empty import DEFAULT_EMPTY, EmptyCase, EmptyPolicy, _zero_division
from segscore.metrics.options import CountingOptions

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


def _boundary_iou_case(
    prepared: _Prepared,
    n: int,
    width: float,
    unit: WidthUnit,
    metric: BoundaryMetric,
    policy: EmptyPolicy,
) -> tuple[FloatArray, list[EmptyCase]]:
    """Boundary IoU of every kept class of case ``n``, and the empty case of the two bands."""
    w = _width_in_units(width, unit, prepared.shape)
    spacing = prepared.spacing if unit == "mm" else None
    ignore = prepared.ignore_of(n)
    masks = prepared.masks(n)
    out = np.empty(len(masks), dtype=np.float64)
    cases = []
    for i, (p, t) in enumerate(masks):
        bp = _boundary_region(p, w, metric, spacing)
        bt = _boundary_region(t, w, metric, spacing)
        if ignore is not None:
            bp &= ~ignore
            bt &= ~ignore
        case = _case(bool(bp.any()), bool(bt.any()))
        cases.append(case)
        union = int(np.count_nonzero(bp | bt))
        natural = policy.zero_division if union == 0 else np.count_nonzero(bp & bt) / union
        out[i] = policy.value(case, natural)
    return out, cases


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
    empty: EmptyPolicy | float | None = None,
    options: CountingOptions | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    ignore_index: int | None = None,
    spatial_dims: int | None = None,
    include_background: bool | None = None,
    ignore_mask: ArrayLike | None = None,
    empty_value: float | None = None,
) -> FloatArray:
    """Boundary IoU of one case: IoU of the inner boundary bands of the two masks, per class.

    Parameters
    ----------
    pred, target : array_like, shape (H, W), (D, H, W) with ``spatial_dims=3``, or (1, *S)
        One case, read as in :func:`surface_distances` (binary masks or label maps).
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
    empty : EmptyPolicy or float, optional
        Empty policy (:mod:`segscore.metrics.empty`); a number is the zero-division value, the
        value when both bands are empty (pycocotools: 0, Metrics Reloaded: 1; default NaN).
    options, num_classes, threshold, ignore_index, spatial_dims, include_background, ignore_mask
        As in :func:`surface_distances`; ignored voxels leave both bands.
    empty_value : float, optional
        Deprecated: use ``empty``.

    Returns
    -------
    ndarray of float64, shape (C,)

    Notes
    -----
    ``B_d(M) = {x in M : depth(x) <= d}`` where ``depth(x)`` is the distance from ``x`` to the
    nearest background voxel, the outside of the image being background (a voxel next to the
    background has depth 1). ``BIoU = |B_d(P) ∩ B_d(T)| / |B_d(P) ∪ B_d(T)|`` (Cheng et al.,
    CVPR 2021; no min with the mask IoU). One empty band gives 0, two give ``zero_division``.

    Examples
    --------
    >>> pred = np.zeros((8, 8), dtype=bool); pred[1:7, 1:7] = True
    >>> target = np.zeros((8, 8), dtype=bool); target[1:7, 2:8] = True
    >>> boundary_iou(pred, target, width=1, unit="px")
    array([0.33333333])
    >>> boundary_iou(np.zeros((4, 4)), np.zeros((4, 4)), width=1, unit="px", empty=1.0)
    array([1.])
    """
    w = _check_boundary_options(width, unit, metric)
    if empty_value is not None:
        import warnings

        warnings.warn(
            "`empty_value` is deprecated: use `empty=` (a number is the zero-division value).",
            DeprecationWarning,
            stacklevel=2,
        )
        if empty is None:
            empty = empty_value
    if empty is None:
        policy = DEFAULT_EMPTY
    elif isinstance(empty, EmptyPolicy):
        policy = empty.check_ratio("biou")
    else:
        policy = EmptyPolicy(zero_division=_zero_division("empty", empty))
    opts = _options(
        options,
        {
            "num_classes": num_classes,
            "threshold": threshold,
            "ignore_index": ignore_index,
            "spatial_dims": spatial_dims,
            "include_background": include_background,
        },
    )
    prepared = _prepare(pred, target, spacing, opts, ignore_mask)
    _one_case(prepared, "boundary_iou")
    return _boundary_iou_case(prepared, 0, w, unit, metric, policy)[0]

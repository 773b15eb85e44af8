"""Surface extraction: the surface elements of one (case, class) and their weights.

The masks are cropped to the bounding box of their union (plus one voxel of zero padding, since
outside the image is background). The voxel model keeps the voxels that one erosion removes; the
surfel model keeps the grid corners whose 2^d neighbourhood code is mixed and weighs them by
:func:`~segscore.metrics.boundary.surfel_tables.surfel_area_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from segscore._types import BoolArray, FloatArray, SurfaceModel
from segscore.metrics.boundary.search import _directed_pair


def _bounds(mask: BoolArray) -> tuple[list[int], list[int]] | None:
    """Inclusive bounding box of a mask, or None when empty."""
    flat_first = mask.reshape(mask.shape[0], -1).any(axis=1)
    hit0 = np.flatnonzero(flat_first)
    if hit0.size == 0:
        return None
    lo, hi = [int(hit0[0])], [int(hit0[-1])]
    rest: BoolArray = np.asarray(mask[lo[0] : hi[0] + 1].any(axis=0), dtype=bool)
    for axis in range(rest.ndim):
        others = tuple(a for a in range(rest.ndim) if a != axis)
        hit = np.flatnonzero(np.any(rest, axis=others) if others else rest)
        lo.append(int(hit[0]))
        hi.append(int(hit[-1]))
    return lo, hi


def _union_bounds(a: BoolArray, b: BoolArray) -> tuple[list[int], list[int]] | None:
    box_a, box_b = _bounds(a), _bounds(b)
    if box_a is None or box_b is None:
        return box_a if box_b is None else box_b
    return (
        [min(x, y) for x, y in zip(box_a[0], box_b[0], strict=True)],
        [max(x, y) for x, y in zip(box_a[1], box_b[1], strict=True)],
    )


def _window(array: BoolArray, lo: Sequence[int], hi: Sequence[int], pad: int) -> BoolArray:
    """``array[lo - pad : hi + 1 + pad]`` per axis, zero-filled outside the image."""
    out = np.zeros(tuple(b - a + 1 + 2 * pad for a, b in zip(lo, hi, strict=True)), dtype=bool)
    src: list[slice] = []
    dst: list[slice] = []
    for first, last, n in zip(lo, hi, array.shape, strict=True):
        a, b = max(first - pad, 0), min(last + 1 + pad, n)
        src.append(slice(a, b))
        dst.append(slice(a - (first - pad), b - (first - pad)))
    out[tuple(dst)] = array[tuple(src)]
    return out


def _voxel_border(mask: BoolArray, connectivity: int) -> BoolArray:
    """Inner border: the voxels that one erosion removes (outside the array is background)."""
    if connectivity == 1:
        inner = mask.copy()
        for axis in range(mask.ndim):
            lo = [slice(None)] * mask.ndim
            hi = [slice(None)] * mask.ndim
            lo[axis], hi[axis] = slice(None, -1), slice(1, None)
            inner[tuple(hi)] &= mask[tuple(lo)]
            inner[tuple(lo)] &= mask[tuple(hi)]
            edge = [slice(None)] * mask.ndim
            edge[axis] = slice(0, 1)
            inner[tuple(edge)] = False
            edge[axis] = slice(-1, None)
            inner[tuple(edge)] = False
        return np.asarray(mask & ~inner)
    from scipy import ndimage  # imported on use: it costs ~0.2 s, more than most CLI runs' work

    structure = ndimage.generate_binary_structure(mask.ndim, connectivity)
    return np.asarray(mask & ~ndimage.binary_erosion(mask, structure, border_value=0))


def _codes(padded: BoolArray) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Neighbourhood code of every grid corner of a zero-padded mask (shape minus 1 per axis)."""
    # The corner at offset o (flat index f = Σ o_k 2^(d-1-k), C order) sets bit 2^d - 1 - f.
    # Built axis by axis, last axis first: (low corner << 2^(d-1-k)) | high corner. That is
    # 2 d passes over the grid instead of 2^(d+1).
    d = padded.ndim
    u = np.ascontiguousarray(padded).view(np.uint8)
    for k in reversed(range(d)):
        low = tuple(slice(None, -1) if a == k else slice(None) for a in range(d))
        high = tuple(slice(1, None) if a == k else slice(None) for a in range(d))
        u = (u[low] << np.uint8(2 ** (d - 1 - k))) | u[high]
    return np.asarray(u, dtype=np.uint8)


def _surfaces(
    pred: BoolArray,
    target: BoolArray,
    ignore: BoolArray | None,
    surface: SurfaceModel,
    connectivity: int,
    spacing: tuple[float, ...],
    table: FloatArray | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(pred_to_target, target_to_pred, pred_weights, target_weights) of one (case, class)."""
    empty = np.zeros(0, dtype=np.float64)
    box = _union_bounds(pred, target)
    if box is None:
        return empty, empty, empty, empty
    lo, hi = box
    if surface == "voxel":
        p = _window(pred, lo, hi, 1)
        t = _window(target, lo, hi, 1)
        bp, bt = _voxel_border(p, connectivity), _voxel_border(t, connectivity)
        if ignore is not None:
            keep = ~_window(ignore, lo, hi, 1)
            bp &= keep
            bt &= keep
        wp = np.ones(int(np.count_nonzero(bp)), dtype=np.float64)
        wt = np.ones(int(np.count_nonzero(bt)), dtype=np.float64)
    else:
        assert table is not None
        cp = _codes(_window(pred, lo, hi, 1))
        ct = _codes(_window(target, lo, hi, 1))
        full = np.uint8(2 ** (2**pred.ndim) - 1)
        bp = (cp != 0) & (cp != full)
        bt = (ct != 0) & (ct != full)
        if ignore is not None:
            keep = _codes(_window(ignore, lo, hi, 1)) == 0
            bp &= keep
            bt &= keep
        wp = table[cp[bp]]
        wt = table[ct[bt]]
    d_pt, d_tp = _directed_pair(np.flatnonzero(bp), np.flatnonzero(bt), bp.shape, spacing)
    return d_pt, d_tp, wp, wt

"""Nearest-surface search: the exact Euclidean distance from each element to the other surface.

The offsets of a physical ball around an element are tried in order of length, so the first
offset that hits the other surface gives the nearest element. The compiled
:func:`segscore.metrics._kernel.nearest_offsets` runs that search when it is built, its numpy
twin :func:`_search_offsets` otherwise; the few elements with no hit in the ball go to a KD-tree.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from segscore._types import BoolArray, FloatArray

_OFFSET_BUDGET = 4000
"""Offsets searched around each element before the KD-tree fallback (about a ball of that size)."""


@functools.lru_cache(maxsize=32)
def _ball(
    spacing: tuple[float, ...], radius: tuple[int, ...]
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], FloatArray]:
    """Return the offset vectors within the physical ball of the search radius, sorted by length.

    Vectors shape (ndim, K), with their lengths. Cached (read-only arrays): every grid of one spacing shares them, whatever its shape.
    """
    axes = [np.arange(-r, r + 1) for r in radius]
    grid = np.meshgrid(*axes, indexing="ij")
    squared = sum((g.astype(np.float64) * s) ** 2 for g, s in zip(grid, spacing, strict=True))
    length = np.sqrt(np.asarray(squared, dtype=np.float64)).ravel()
    limit = min(float(r * s) for r, s in zip(radius, spacing, strict=True))
    keep = length <= limit
    order = np.argsort(length[keep], kind="stable")
    vectors = np.stack([g.astype(np.int64).ravel()[keep][order] for g in grid])
    lengths = length[keep][order]
    vectors.flags.writeable = False
    lengths.flags.writeable = False
    return vectors, lengths


def _offsets(
    spacing: tuple[float, ...], strides: tuple[int, ...], radius: tuple[int, ...]
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], FloatArray]:
    """Linear offsets (for a grid of these element strides) within the ball, sorted by length.

    The ball is cached per spacing and radius; only the linear offsets depend on the grid's
    shape (a pack of lesions has a shape of its own, and the ball costs ~1 ms to build).
    """
    vectors, lengths = _ball(spacing, radius)
    linear = np.zeros(vectors.shape[1], dtype=np.int64)
    for v, st in zip(vectors, strides, strict=True):
        linear += v * st
    return linear, lengths


def _search_offsets(
    flat: BoolArray,
    index: np.ndarray[Any, np.dtype[np.int64]],
    offsets: np.ndarray[Any, np.dtype[np.int64]],
    lengths: FloatArray,
    out: FloatArray,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.intp]]]:
    """Numpy twin of the compiled ``nearest_offsets``: fill ``out`` where an offset hits.

    Offsets are tried in blocks of growing size; returns the indices still unresolved and their
    positions in ``out``.
    """
    pending, where = index, np.arange(index.size)
    start, chunk = 0, 4
    while pending.size and start < offsets.size:
        block = offsets[start : start + chunk]
        hits = flat[pending[:, None] + block[None, :]]
        # One pass: argmax stops at the first True of a row; a row without one gives 0, so
        # the hit itself says whether the row was found.
        first = hits.argmax(axis=1)
        found = hits[np.arange(hits.shape[0]), first]
        if found.any():
            out[where[found]] = lengths[start + first[found]]
            pending, where = pending[~found], where[~found]
        start += chunk
        chunk = min(chunk * 2, 256)
    return pending, where


def _padded_index(
    index: np.ndarray[Any, np.dtype[Any]], shape: tuple[int, ...], radius: tuple[int, ...]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Linear indices of a grid of ``shape`` in that grid padded by ``radius`` on every side."""
    coords = np.unravel_index(index, shape)
    padded = tuple(n + 2 * r for n, r in zip(shape, radius, strict=True))
    moved = tuple(c + r for c, r in zip(coords, radius, strict=True))
    return np.ravel_multi_index(moved, padded).astype(np.int64, copy=False)


def _radius(spacing: tuple[float, ...]) -> tuple[int, ...]:
    """Search radius per axis: a physical ball of about ``_OFFSET_BUDGET`` offsets."""
    ndim = len(spacing)
    volume = math.prod(spacing)
    ball = (_OFFSET_BUDGET * volume * (3.0 / (4.0 * math.pi) if ndim == 3 else 1.0 / math.pi)) ** (
        1.0 / ndim
    )
    return tuple(max(1, int(ball / s)) for s in spacing)


def _directed_pair(
    a: np.ndarray[Any, np.dtype[Any]],
    b: np.ndarray[Any, np.dtype[Any]],
    shape: tuple[int, ...],
    spacing: tuple[float, ...],
) -> tuple[FloatArray, FloatArray]:
    """Both directed distances of two element sets (linear indices in a grid of ``shape``).

    Returns (distance from each element of ``a`` to the nearest of ``b``, and the reverse), each
    in its elements' order, exact Euclidean in the units of ``spacing``; an empty other set
    gives inf. The elements' indices in the padded grid are computed once for both directions.
    """
    if a.size == 0 or b.size == 0:
        return np.full(a.size, np.inf), np.full(b.size, np.inf)
    radius = _radius(spacing)
    pa, pb = _padded_index(a, shape, radius), _padded_index(b, shape, radius)
    return (
        _nearest(a, pa, b, pb, shape, radius, spacing),
        _nearest(b, pb, a, pa, shape, radius, spacing),
    )


def _nearest(
    source: np.ndarray[Any, np.dtype[Any]],
    source_padded: np.ndarray[Any, np.dtype[np.int64]],
    other: np.ndarray[Any, np.dtype[Any]],
    other_padded: np.ndarray[Any, np.dtype[np.int64]],
    shape: tuple[int, ...],
    radius: tuple[int, ...],
    spacing: tuple[float, ...],
) -> FloatArray:
    """Distance from each source element to the nearest other element (both non-empty).

    The offsets of a ball around each element are tried in order of length (the first hit is the
    nearest element); the few elements with no hit in the ball are resolved by a KD-tree over
    ``other``. The search reads a grid padded by the ball's radius in which only ``other``'s
    elements are written (``*_padded``: the indices in that grid): its zero pages are never
    copied, as ``np.pad`` of a mask would, which on small element sets (a pack of lesions) was
    most of the work.
    """
    padded = np.zeros(tuple(n + 2 * r for n, r in zip(shape, radius, strict=True)), dtype=bool)
    padded.reshape(-1)[other_padded] = True
    strides = tuple(int(st) // padded.itemsize for st in padded.strides)
    offsets, lengths = _offsets(spacing, strides, radius)
    from segscore.metrics import _kernel

    out = np.full(source.size, np.inf)
    rank = _kernel.nearest_offsets(padded, source_padded, offsets)
    if rank is not None:  # compiled: the first offset that hits, per element
        found = rank >= 0
        out[found] = lengths[rank[found]]
        where = np.flatnonzero(~found)
    else:
        _, where = _search_offsets(padded.ravel(), source_padded, offsets, lengths, out)
    if where.size:  # no hit in the ball: the KD-tree
        from scipy.spatial import cKDTree

        scale = np.asarray(spacing, dtype=np.float64)
        points = np.stack(np.unravel_index(other, shape), axis=1).astype(np.float64) * scale
        queries = (
            np.stack(np.unravel_index(source[where], shape), axis=1).astype(np.float64) * scale
        )
        out[where] = cKDTree(points).query(queries, k=1)[0]
    return out

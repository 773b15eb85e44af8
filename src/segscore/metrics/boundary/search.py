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
def _offsets(
    spacing: tuple[float, ...], strides: tuple[int, ...], radius: tuple[int, ...]
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], FloatArray]:
    """Linear offsets within the physical ball of the search radius, sorted by length.

    Cached: both directions of a case, and cases of one shape, share them (read-only arrays).
    """
    axes = [np.arange(-r, r + 1) for r in radius]
    grid = np.meshgrid(*axes, indexing="ij")
    squared = sum((g.astype(np.float64) * s) ** 2 for g, s in zip(grid, spacing, strict=True))
    length = np.sqrt(np.asarray(squared, dtype=np.float64)).ravel()
    linear = sum(g.astype(np.int64) * st for g, st in zip(grid, strides, strict=True))
    linear = np.asarray(linear, dtype=np.int64).ravel()
    limit = min(float(r * s) for r, s in zip(radius, spacing, strict=True))
    keep = length <= limit
    order = np.argsort(length[keep], kind="stable")
    offsets, lengths = linear[keep][order], length[keep][order]
    offsets.flags.writeable = False
    lengths.flags.writeable = False
    return offsets, lengths


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


def _directed(source: BoolArray, other: BoolArray, spacing: tuple[float, ...]) -> FloatArray:
    """Distance from every True element of ``source`` to the nearest True element of ``other``.

    Exact Euclidean distance in the units of ``spacing``. The offsets of a ball around each
    element are tried in order of length (the first hit is the nearest element); the few
    elements with no hit in the ball are resolved by a KD-tree over ``other``.
    """
    n_source = int(np.count_nonzero(source))
    if n_source == 0:
        return np.zeros(0, dtype=np.float64)
    if not other.any():
        return np.full(n_source, np.inf)
    ndim = source.ndim
    volume = math.prod(spacing)
    ball = (_OFFSET_BUDGET * volume * (3.0 / (4.0 * math.pi) if ndim == 3 else 1.0 / math.pi)) ** (
        1.0 / ndim
    )
    radius = tuple(max(1, int(ball / s)) for s in spacing)
    padded = np.pad(other, [(r, r) for r in radius])
    strides = tuple(int(st) // padded.itemsize for st in padded.strides)
    offsets, lengths = _offsets(spacing, strides, radius)
    # Linear indices of the source elements in the padded grid, in C order (as np.nonzero).
    index = np.flatnonzero(np.pad(source, [(r, r) for r in radius])).astype(np.int64)
    from segscore.metrics import _kernel

    out = np.full(n_source, np.inf)
    rank = _kernel.nearest_offsets(padded, index, offsets)
    if rank is not None:  # compiled: the first offset that hits, per element
        found = rank >= 0
        out[found] = lengths[rank[found]]
        where = np.flatnonzero(~found)
    else:
        _, where = _search_offsets(padded.ravel(), index, offsets, lengths, out)
    if where.size:  # no hit in the ball: the KD-tree
        from scipy.spatial import cKDTree

        scale = np.asarray(spacing, dtype=np.float64)
        points = np.argwhere(other).astype(np.float64) * scale
        coords = np.unravel_index(index[where], padded.shape)
        queries = (
            np.stack([c - r for c, r in zip(coords, radius, strict=True)], axis=1).astype(
                np.float64
            )
            * scale
        )
        out[where] = cKDTree(points).query(queries, k=1)[0]
    return out

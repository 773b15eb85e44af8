"""Surfel lookup tables: contour length (2-D) and surface area (3-D) of every neighbourhood code.

The *surfel* surface model (Nikolov et al., DeepMind ``surface-distance``) places one surface
element at every corner of the voxel grid whose 2×2 (2-D) or 2×2×2 (3-D) neighbourhood holds
both foreground and background voxels. The neighbourhood is encoded as a bit code: the voxel at
offset ``o`` (0 or 1 per axis, numpy axis order) sets bit ``2 ** (2**d - 1 - flat(o))`` where
``flat`` is the C-order index of ``o`` in the 2×…×2 block.

The weight of a surface element is the length (2-D) or area (3-D) of the marching-squares /
marching-cubes surface through the midpoints of the block's edges, in physical units. The tables
here are derived from that definition, not copied:

- 2-D: one corner cut off (1 or 3 foreground voxels) gives half the cell diagonal; two voxels of
  one row give the horizontal spacing, two of one column the vertical spacing; two diagonal
  voxels give two cut corners (the diagonal pair is separated).
- 3-D: the minority corners (the foreground corners when at most 4 of the 8 are foreground, else
  the background corners) are split into components connected along cube edges; each component
  is cut off by the polygon through the midpoints of its crossing edges; every polygon is
  triangulated with the triangulation of **largest area on the unit grid** (the classic
  marching-cubes choice). The area for a given spacing is the sum of the scaled triangle areas.

Tested to agree with DeepMind's ``lookup_tables`` on every code for several spacings.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np

from segscore._types import FloatArray

__all__ = ["surfel_area_table"]

Point = tuple[float, float, float]
Triangle = tuple[Point, Point, Point]

_CORNERS: tuple[tuple[int, int, int], ...] = tuple(
    (i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)
)
_EDGES: tuple[tuple[tuple[int, int, int], tuple[int, int, int]], ...] = tuple(
    (a, b)
    for a, b in itertools.combinations(_CORNERS, 2)
    if sum(x != y for x, y in zip(a, b, strict=True)) == 1
)
_FACES: tuple[tuple[tuple[int, int, int], ...], ...] = tuple(
    tuple(c for c in _CORNERS if c[axis] == side) for axis in range(3) for side in (0, 1)
)


def _bit(corner: Sequence[int]) -> int:
    """Bit of a corner offset: C-order index ``i``, bit ``2 ** (2**d - 1 - i)``."""
    d = len(corner)
    flat: int = 0
    for c in corner:
        flat = 2 * flat + int(c)
    bit: int = 1 << (2**d - 1 - flat)
    return bit


def _components(
    inside: set[tuple[int, int, int]],
) -> list[set[tuple[int, int, int]]]:
    """Split corners into components connected along cube edges."""
    out: list[set[tuple[int, int, int]]] = []
    seen: set[tuple[int, int, int]] = set()
    for start in sorted(inside):
        if start in seen:
            continue
        comp = {start}
        stack = [start]
        while stack:
            x = stack.pop()
            for a, b in _EDGES:
                y = b if a == x else a if b == x else None
                if y is not None and y in inside and y not in comp:
                    comp.add(y)
                    stack.append(y)
        seen |= comp
        out.append(comp)
    return out


def _polygons(comp: set[tuple[int, int, int]]) -> list[list[Point]]:
    """Return the closed polygons through the midpoints of the edges leaving a component."""
    cross = [e for e in _EDGES if (e[0] in comp) != (e[1] in comp)]
    links: dict[int, list[int]] = {i: [] for i in range(len(cross))}
    for face in _FACES:
        on_face = [i for i, e in enumerate(cross) if e[0] in face and e[1] in face]
        if not on_face:
            continue
        if len(on_face) == 2:
            pairs = [on_face]
        else:  # 4 crossing edges: two diagonal corners of the component, each cut off alone
            pairs = [[i for i in on_face if c in cross[i]] for c in face if c in comp]
        for i, j in pairs:
            links[i].append(j)
            links[j].append(i)
    polygons: list[list[Point]] = []
    seen: set[int] = set()
    for start in range(len(cross)):
        if start in seen:
            continue
        ring: list[Point] = []
        current, previous = start, -1
        while current not in seen:
            seen.add(current)
            a, b = cross[current]
            ring.append(((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2))
            following = [k for k in links[current] if k != previous and k not in seen]
            previous, current = current, (following[0] if following else current)
        polygons.append(ring)
    return polygons


def _triangulations(poly: list[Point]) -> Iterator[list[Triangle]]:
    """Every triangulation of a polygon (by the apex over the edge from first to last vertex)."""
    n = len(poly)
    if n < 3:
        yield []
        return
    for k in range(1, n - 1):
        for left in _triangulations(poly[: k + 1]):
            for right in _triangulations(poly[k:]):
                yield [*left, *right, (poly[0], poly[k], poly[-1])]


def _area(triangles: list[Triangle], scale: Sequence[float] = (1.0, 1.0, 1.0)) -> float:
    total = 0.0
    for p, q, r in triangles:
        u = [(q[i] - p[i]) * scale[i] for i in range(3)]
        w = [(r[i] - p[i]) * scale[i] for i in range(3)]
        cross = (u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0])
        total += 0.5 * math.sqrt(cross[0] ** 2 + cross[1] ** 2 + cross[2] ** 2)
    return total


@lru_cache(maxsize=1)
def _triangles_3d() -> tuple[FloatArray, np.ndarray[tuple[int], np.dtype[np.int64]]]:
    """All triangles of all 256 codes: vertices (T, 3, 3) and the code of each (T,)."""
    vertices: list[Triangle] = []
    codes: list[int] = []
    for code in range(1, 255):
        ones = {c for c in _CORNERS if code & _bit(c)}
        minority = ones if len(ones) <= 4 else set(_CORNERS) - ones
        for comp in _components(minority):
            for poly in _polygons(comp):
                best = max(_triangulations(poly), key=_area)
                vertices.extend(best)
                codes.extend([code] * len(best))
    return np.asarray(vertices, dtype=np.float64), np.asarray(codes, dtype=np.int64)


def surfel_area_table(spacing: Sequence[float]) -> FloatArray:
    """Length (2-D) or area (3-D) of the surface in every neighbourhood code, in physical units.

    Parameters
    ----------
    spacing : sequence of 2 or 3 float
        Voxel spacing in numpy axis order.

    Returns
    -------
    ndarray of float64, shape (16,) or (256,)
        The weight of a surface element with each code; 0 for the all-background and
        all-foreground codes.

    Examples
    --------
    >>> surfel_area_table((1.0, 1.0))[[0b0001, 0b0011, 0b0101, 0b0110]]
    array([0.70710678, 1.        , 1.        , 1.41421356])
    """
    s = [float(v) for v in spacing]
    if len(s) == 2:
        half_diagonal = 0.5 * math.hypot(s[0], s[1])
        table = np.zeros(16, dtype=np.float64)
        for code in range(1, 15):
            ones = [o for o in itertools.product((0, 1), repeat=2) if code & _bit(o)]
            if len(ones) in (1, 3):
                table[code] = half_diagonal
            elif ones[0][0] == ones[1][0]:  # one row: a horizontal segment (along axis 1)
                table[code] = s[1]
            elif ones[0][1] == ones[1][1]:  # one column: a vertical segment (along axis 0)
                table[code] = s[0]
            else:  # a diagonal pair: two cut corners
                table[code] = 2.0 * half_diagonal
        return table
    vertices, codes = _triangles_3d()
    scaled = vertices * np.asarray(s, dtype=np.float64)
    normals = np.cross(scaled[:, 1] - scaled[:, 0], scaled[:, 2] - scaled[:, 0])
    areas = 0.5 * np.sqrt(np.einsum("ij,ij->i", normals, normals))
    return np.bincount(codes, weights=areas, minlength=256).astype(np.float64)

"""Hausdorff distances of many small (prediction, target) object pairs in few engine passes.

Lesion-wise HD95 needs one distance per target lesion, between the lesion and its matched
predictions, each on its own bounding-box crop. Run one by one through
:mod:`segscore.metrics.boundary`, the fixed cost of each call (windows, padding, two searches,
a percentile) outweighs the work on a small crop. Here the crops are stacked along the first
axis into one array, each separated from the next by enough empty rows that no element can find
a nearer element in another crop than in its own: the gap is the larger diagonal of the two
neighbouring crops (the farthest an element's own nearest element can be), capped at a few
voxels, after which the crops with a distance as long as their gap are measured again alone.
The boundary engine then extracts every surface and searches every nearest element in one pass
(:func:`~segscore.metrics.boundary.extraction._voxel_border` or the surfel codes, and
:func:`~segscore.metrics.boundary.search._directed`), the elements are split back by crop (they
come in raster order, so crop by crop) and :func:`~segscore.metrics.boundary.hausdorff_distance`
reduces each crop as one class. The values equal those of the crops computed one by one
(tests/metrics/test_lesion_hd95.py).

Packs are filled in order of cross-section and capped at ``cap`` voxels (the size of the volume
for lesions), so memory stays about the size of the volume; a crop larger than the cap is a
pack of its own (no gap needed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from segscore._types import BoolArray, FloatArray, PercentileRule, SurfaceModel
from segscore.metrics.boundary.distances import SurfaceDistances
from segscore.metrics.boundary.extraction import _codes, _voxel_border
from segscore.metrics.boundary.reductions import hausdorff_distance
from segscore.metrics.boundary.search import _directed

__all__: list[str] = []

Pair = tuple[BoolArray, BoolArray]


def _diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """Largest distance between two grid corners of a crop (its elements lie within)."""
    return math.sqrt(sum(((n + 1) * s) ** 2 for n, s in zip(shape, spacing, strict=True)))


def pair_hausdorff(
    pairs: Sequence[Pair],
    spacing: tuple[float, ...],
    *,
    percentile: float | None,
    surface: SurfaceModel,
    connectivity: int,
    rule: PercentileRule,
    interpolation: str,
    table: FloatArray | None,
    cap: int,
) -> FloatArray:
    """Hausdorff distance (or percentile) of each (pred, target) crop; both masks non-empty.

    Every option is the boundary engine's, already checked; ``table`` is the surfel area table
    (``surface='surfel'``).
    """
    engine = _Engine(spacing, percentile, surface, connectivity, rule, interpolation, table)
    out = np.empty(len(pairs), dtype=np.float64)
    order = sorted(range(len(pairs)), key=lambda j: (pairs[j][0].shape[1:], pairs[j][0].shape))
    packs: list[list[int]] = [[]]
    rows, cross, last = 0, (0,) * (len(spacing) - 1), 0.0
    for j in order:
        shape = pairs[j][0].shape
        diagonal = _diagonal(shape, spacing)
        gap = _gap(last, diagonal, spacing) if packs[-1] else 0
        grown = tuple(max(a, b) for a, b in zip(cross, shape[1:], strict=True))
        if packs[-1] and (rows + gap + shape[0] + 2) * math.prod(n + 2 for n in grown) > cap:
            packs.append([])
            rows, grown, gap = 0, shape[1:], 0
        packs[-1].append(j)
        rows, cross, last = rows + gap + shape[0], grown, diagonal
    for pack in packs:
        values, exact = engine.pack([pairs[k] for k in pack])
        out[pack] = values
        for k, ok in zip(pack, exact, strict=True):
            if not ok:  # a distance reached the gap: this crop alone (no gap, exact)
                out[k] = engine.pack([pairs[k]])[0][0]
    return out


_TRUST = 4.0
"""Gaps are at most this many times the largest spacing: a crop whose elements all found a
nearer element than its gap is exact; the others are measured again alone (on W6, 1 crop of
171 is; larger gaps make every pack larger)."""


def _gap(a: float, b: float, spacing: Sequence[float]) -> int:
    """Empty rows between two crops of diagonals a and b: the larger, capped by the trust gap."""
    return math.ceil(min(max(a, b), _TRUST * max(spacing)) / spacing[0]) + 1


def _gaps(shapes: Sequence[Sequence[int]], spacing: Sequence[float]) -> list[int]:
    diagonals = [_diagonal(shape, spacing) for shape in shapes]
    return [_gap(a, b, spacing) for a, b in itertools.pairwise(diagonals)]


class _Engine:
    """The boundary engine's conventions, applied to packs of crops."""

    def __init__(
        self,
        spacing: tuple[float, ...],
        percentile: float | None,
        surface: SurfaceModel,
        connectivity: int,
        rule: PercentileRule,
        interpolation: str,
        table: FloatArray | None,
    ) -> None:
        self.spacing = spacing
        self.percentile = percentile
        self.surface = surface
        self.connectivity = connectivity
        self.rule = rule
        self.interpolation = interpolation
        self.table = table

    def pack(self, pairs: Sequence[Pair]) -> tuple[FloatArray, list[bool]]:
        """Distances of the crops stacked in one array, and whether each is sure to be exact."""
        spacing = self.spacing
        shapes = [p.shape for p, _ in pairs]
        gaps = _gaps(shapes, spacing)
        ndim = len(shapes[0])
        cross = tuple(max(s[k] for s in shapes) + 2 for k in range(1, ndim))
        rows = sum(s[0] for s in shapes) + sum(gaps) + 2
        pred = np.zeros((rows, *cross), dtype=bool)
        target = np.zeros((rows, *cross), dtype=bool)
        starts = []  # first row of each crop's elements (the rows between crops are empty)
        row = 1
        for (p, t), gap in zip(pairs, [*gaps, 0], strict=True):
            where = (slice(row, row + p.shape[0]), *(slice(1, 1 + n) for n in p.shape[1:]))
            pred[where] = p
            target[where] = t
            starts.append(row - 1)
            row += p.shape[0] + gap
        if self.surface == "voxel":
            bp = _voxel_border(pred, self.connectivity)
            bt = _voxel_border(target, self.connectivity)
            wp = np.ones(int(np.count_nonzero(bp)))
            wt = np.ones(int(np.count_nonzero(bt)))
        else:
            assert self.table is not None
            full = np.uint8(2 ** (2**ndim) - 1)
            cp, ct = _codes(pred), _codes(target)
            bp = (cp != 0) & (cp != full)
            bt = (ct != 0) & (ct != full)
            wp, wt = self.table[cp[bp]], self.table[ct[bt]]
        d_pt, d_tp = _directed(bp, bt, spacing), _directed(bt, bp, spacing)

        def split(border: BoolArray, values: FloatArray) -> list[FloatArray]:
            per_row = np.count_nonzero(border.reshape(border.shape[0], -1), axis=1)
            counts = np.add.reduceat(per_row, starts)
            return np.split(values, np.cumsum(counts)[:-1])

        parts_pt, parts_tp = split(bp, d_pt), split(bt, d_tp)
        # Another crop's element is at least `gap` rows away: a crop whose distances all stay
        # below its nearer gap (or whose own diagonal does) found its own nearest elements.
        sides = [math.inf, *(g * spacing[0] for g in gaps), math.inf]
        exact = []
        for j, shape in enumerate(shapes):
            trust = min(sides[j], sides[j + 1])
            reach = max(float(parts_pt[j].max()), float(parts_tp[j].max()))
            exact.append(_diagonal(shape, spacing) <= trust or reach < trust)
        sd = SurfaceDistances(
            tuple(parts_pt),
            tuple(parts_tp),
            tuple(split(bp, wp)),
            tuple(split(bt, wt)),
            tuple(range(1, len(pairs) + 1)),
            spacing,
            pred.shape,
            self.surface,
            self.connectivity if self.surface == "voxel" else None,
        )
        values = hausdorff_distance(
            sd, percentile=self.percentile, rule=self.rule, interpolation=self.interpolation
        )
        return values, exact

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
:func:`~segscore.metrics.boundary.search._directed_pair`), the elements are counted by crop
(they come in raster order, so crop by crop) and
:func:`~segscore.metrics.boundary.segments.segment_hausdorff` reduces every crop at once, each
as one segment. The values equal those of the crops computed one by one
(tests/metrics/test_lesion_hd95.py).

:func:`crop_hausdorff` takes the crops' shapes and a function that writes each crop straight
into its pack, so that the lesion table compares its label volumes on each crop's box without
a crop array of its own.

Packs are filled in order of cross-section and capped at ``cap`` voxels (the size of the volume
for lesions), so memory stays about the size of the volume; a crop larger than the cap is a
pack of its own (no gap needed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from segscore._types import BoolArray, FloatArray, PercentileRule, SurfaceModel
from segscore.metrics.boundary.extraction import _codes, _voxel_border
from segscore.metrics.boundary.search import _directed_pair
from segscore.metrics.boundary.segments import segment_hausdorff, segment_max

__all__: list[str] = []


def _diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """Largest distance between two grid corners of a crop (its elements lie within)."""
    return math.sqrt(sum(((n + 1) * s) ** 2 for n, s in zip(shape, spacing, strict=True)))


Writer = Callable[[int, BoolArray, BoolArray], None]
"""``write(k, pred, target)`` fills crop k: its two masks into the given arrays of the crop's
shape (views into a pack, all False on entry)."""


def crop_hausdorff(
    shapes: Sequence[tuple[int, ...]],
    write: Writer,
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
    """Hausdorff distance (or percentile) of each crop of the given shapes; both masks non-empty.

    ``write`` fills each crop straight into its pack (a lesion table compares its label volumes
    on the crop's box, without a crop array of its own). Every option is the boundary engine's,
    already checked; ``table`` is the surfel area table (``surface='surfel'``).
    """
    engine = _Engine(spacing, percentile, surface, connectivity, rule, interpolation, table)
    out = np.empty(len(shapes), dtype=np.float64)
    order = sorted(range(len(shapes)), key=lambda j: (shapes[j][1:], shapes[j]))
    packs: list[list[int]] = [[]]
    rows, cross, last = 0, (0,) * (len(spacing) - 1), 0.0
    for j in order:
        shape = shapes[j]
        diagonal = _diagonal(shape, spacing)
        gap = _gap(last, diagonal, spacing) if packs[-1] else 0
        grown = tuple(max(a, b) for a, b in zip(cross, shape[1:], strict=True))
        if packs[-1] and (rows + gap + shape[0] + 2) * math.prod(n + 2 for n in grown) > cap:
            packs.append([])
            rows, grown, gap = 0, shape[1:], 0
        packs[-1].append(j)
        rows, cross, last = rows + gap + shape[0], grown, diagonal
    for pack in packs:
        values, exact = engine.pack(shapes, write, pack)
        out[pack] = values
        for k, ok in zip(pack, exact, strict=True):
            if not ok:  # a distance reached the gap: this crop alone (no gap, exact)
                out[k] = engine.pack(shapes, write, [k])[0][0]
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

    def pack(
        self, shapes: Sequence[tuple[int, ...]], write: Writer, members: Sequence[int]
    ) -> tuple[FloatArray, list[bool]]:
        """Distances of some crops stacked in one array, and whether each is sure to be exact."""
        spacing = self.spacing
        shapes = [shapes[j] for j in members]
        gaps = _gaps(shapes, spacing)
        ndim = len(shapes[0])
        cross = tuple(max(s[k] for s in shapes) + 2 for k in range(1, ndim))
        rows = sum(s[0] for s in shapes) + sum(gaps) + 2
        pred = np.zeros((rows, *cross), dtype=bool)
        target = np.zeros((rows, *cross), dtype=bool)
        crop_of_row = np.full(rows, -1, dtype=np.int64)  # the member whose elements a row holds
        row = 1
        for j, (shape, gap) in enumerate(zip(shapes, [*gaps, 0], strict=True)):
            where = (slice(row, row + shape[0]), *(slice(1, 1 + n) for n in shape[1:]))
            write(members[j], pred[where], target[where])
            # surfels sit on grid corners, one row before the voxel row: a crop's corners take
            # its rows and the one before (empty between crops)
            crop_of_row[row - 1 : row + shape[0]] = j
            row += shape[0] + gap
        if self.surface == "voxel":
            ip = np.flatnonzero(_voxel_border(pred, self.connectivity))
            it = np.flatnonzero(_voxel_border(target, self.connectivity))
            wp, wt = np.ones(ip.size), np.ones(it.size)
            grid = pred.shape
        else:
            assert self.table is not None
            full = np.uint8(2 ** (2**ndim) - 1)
            cp, ct = _codes(pred).reshape(-1), _codes(target).reshape(-1)
            ip = np.flatnonzero((cp != 0) & (cp != full))
            it = np.flatnonzero((ct != 0) & (ct != full))
            wp, wt = self.table[cp[ip]], self.table[ct[it]]
            grid = tuple(n - 1 for n in pred.shape)
        d_pt, d_tp = _directed_pair(ip, it, grid, spacing)
        # Elements come in raster order, so crop after crop: count each crop's.
        per_row = math.prod(grid[1:])
        n_pt = np.bincount(crop_of_row[ip // per_row], minlength=len(members))
        n_tp = np.bincount(crop_of_row[it // per_row], minlength=len(members))
        # Another crop's element is at least `gap` rows away: a crop whose distances all stay
        # below its nearer gap (or whose own diagonal does) found its own nearest elements.
        sides = np.array([math.inf, *(g * spacing[0] for g in gaps), math.inf])
        trust = np.minimum(sides[:-1], sides[1:])
        reach = np.maximum(segment_max(d_pt, n_pt), segment_max(d_tp, n_tp))
        diagonal = np.array([_diagonal(shape, spacing) for shape in shapes])
        exact = ((diagonal <= trust) | (reach < trust)).tolist()
        values = segment_hausdorff(
            d_pt,
            wp,
            n_pt,
            d_tp,
            wt,
            n_tp,
            percentile=self.percentile,
            rule=self.rule,
            interpolation=self.interpolation,
        )
        return values, exact

"""Boundary and distance metrics in two stages, with every convention named.

Stage 1, :func:`surface_distances`, extracts the two surfaces of every (case, class) once and
stores the directed distances from each surface element to the other surface, with the element
weights. Stage 2, the reducers :func:`hausdorff_distance`, :func:`average_surface_distance`,
:func:`assd` and :func:`surface_dice`, turn that intermediate into numbers without touching the
masks again. :func:`boundary_iou` works on the masks; :func:`distance_metrics` computes any list of
named metrics (``"hd95"``, ``"assd"``, ``"nsd@1.0"``, ``"biou@2px"``...) in one call.

The peers disagree on almost every step (CONVENTIONS §5.1: the same masks give HD95 = 1.0, 2.08 or
21.9). Each step is an option, recorded in every result:

=================  ===========================================================  =================
option             values                                                       peers
=================  ===========================================================  =================
``surface``        ``"voxel"``: foreground voxels removed by one binary         MedPy, MONAI, MR,
                   erosion (``connectivity`` 1 = face, ``ndim`` = full), each   torchmetrics
                   weighted 1; ``"surfel"``: one element per grid corner whose
                   2^d neighbourhood is mixed, weighted by its marching-squares
                   length / marching-cubes area                                 DeepMind
``rule``           ``"pooled"``: percentile of both directions' distances       MedPy
                   together; ``"max_directed"``: max of the two directed        MONAI, MR
                   percentiles; ``"directed"``: prediction to target only;      MONAI directed
                   ``"area_weighted"``: per direction the smallest distance     DeepMind
                   whose cumulative weight reaches p %, then the max
``interpolation``  numpy percentile method for the pooled / directed rules      numpy, torch
``assd variant``   ``"pooled"``: weighted mean of both directions' distances;   MedPy, MONAI, MR
                   ``"mean_of_means"`` (MASD): mean of the two directed means   MR masd
``empty``          :class:`DistanceEmpty`: values when one or both surfaces     see presets
                   are empty (NaN, inf, the image diagonal or a number)
=================  ===========================================================  =================

Distances are Euclidean in the units of ``spacing`` (numpy axis order) between element centres:
voxel centres for ``"voxel"``, grid corners for ``"surfel"``. Outside the image is background.
Ignored regions (``ignore_index`` in the target, or ``ignore_mask``) drop the surface elements
that lie in them (for surfels: that touch them) before any distance is measured, as MONAI's
``mask`` argument does.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import ArrayLike

from segscore._types import BoolArray, FloatArray
from segscore._validation import (
    check_int,
    check_ndim,
    check_not_empty,
    check_number,
    check_option,
    check_same_shape,
    check_spacing,
    fail,
    fail_binary_values,
    fail_labels,
)
from segscore.metrics.surface_tables import surfel_area_table

__all__ = [
    "ASSD_VARIANTS",
    "DEFAULT_DISTANCE_EMPTY",
    "PERCENTILE_RULES",
    "SURFACE_MODELS",
    "DistanceEmpty",
    "DistanceMetricSpec",
    "DistanceResult",
    "SurfaceDistances",
    "assd",
    "average_surface_distance",
    "boundary_iou",
    "distance_metrics",
    "get_distance_metric",
    "hausdorff_distance",
    "surface_dice",
    "surface_distances",
]

SurfaceModel = Literal["voxel", "surfel"]
PercentileRule = Literal["pooled", "max_directed", "directed", "area_weighted"]
AssdVariant = Literal["pooled", "mean_of_means"]
WidthUnit = Literal["px", "mm", "diagonal"]
BoundaryMetric = Literal["chessboard", "euclidean"]
EmptyValue = float | str

SURFACE_MODELS: tuple[SurfaceModel, ...] = ("voxel", "surfel")
PERCENTILE_RULES: tuple[PercentileRule, ...] = (
    "pooled",
    "max_directed",
    "directed",
    "area_weighted",
)
ASSD_VARIANTS: tuple[AssdVariant, ...] = ("pooled", "mean_of_means")
INTERPOLATIONS = (
    "linear",
    "lower",
    "higher",
    "nearest",
    "midpoint",
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
)
_EMPTY_WORDS = ("nan", "inf", "diagonal")


def _check_empty_value(name: str, value: object, allow_none: bool) -> EmptyValue | None:
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        check_option(name, value, _EMPTY_WORDS)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(f"`{name}` must be 'nan', 'inf', 'diagonal' or a number >= 0, got {value!r}.")
    number = float(value)
    if number < 0:
        fail(f"`{name}` must be 'nan', 'inf', 'diagonal' or a number >= 0, got {value!r}.")
    return number


@dataclass(frozen=True, slots=True)
class DistanceEmpty:
    """Values of boundary metrics when a surface is empty (CONVENTIONS §5.2).

    A surface is empty when its mask has no voxel of the class, or when every element lies in an
    ignored region. Values are numbers, or the words ``'nan'`` (excluded from means and
    counted), ``'inf'`` or ``'diagonal'`` (the worst case: the image diagonal in the units of
    ``spacing``, ``sqrt(sum((n_i * s_i) ** 2))``).

    Parameters
    ----------
    one_empty : str or float, default 'inf'
        Distance metrics (HD, HD percentile, ASD, ASSD, MASD) when exactly one surface is empty.
    both_empty : str or float, default 'nan'
        Distance metrics when both surfaces are empty.
    percentile_one_empty, percentile_both_empty : str or float, optional
        Override for the Hausdorff percentile (``hd95``); None follows ``one_empty`` /
        ``both_empty``. MONAI returns NaN for HD95 but inf for HD when one mask is empty.
    overlap_both_empty : float, default NaN
        Surface Dice and Boundary IoU when both are empty (one empty gives 0 by the formula).

    Examples
    --------
    >>> DistanceEmpty(one_empty="diagonal").as_dict()["one_empty"]
    'diagonal'
    """

    one_empty: EmptyValue = "inf"
    both_empty: EmptyValue = "nan"
    percentile_one_empty: EmptyValue | None = None
    percentile_both_empty: EmptyValue | None = None
    overlap_both_empty: float = math.nan

    def __post_init__(self) -> None:
        for name in ("one_empty", "both_empty"):
            _check_empty_value(name, getattr(self, name), allow_none=False)
        for name in ("percentile_one_empty", "percentile_both_empty"):
            _check_empty_value(name, getattr(self, name), allow_none=True)
        value = self.overlap_both_empty
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            fail(f"`overlap_both_empty` must be a number, got {value!r}.")

    def as_dict(self) -> dict[str, Any]:
        """Return the policy as a JSON-friendly dict."""
        return {
            "one_empty": self.one_empty,
            "both_empty": self.both_empty,
            "percentile_one_empty": self.percentile_one_empty,
            "percentile_both_empty": self.percentile_both_empty,
            "overlap_both_empty": self.overlap_both_empty,
        }


DEFAULT_DISTANCE_EMPTY = DistanceEmpty()
"""segscore's default: one empty surface gives inf distances and NSD 0; both empty give NaN."""


def _as_distance_empty(empty: DistanceEmpty | EmptyValue | None) -> DistanceEmpty:
    if empty is None:
        return DEFAULT_DISTANCE_EMPTY
    if isinstance(empty, DistanceEmpty):
        return empty
    value = _check_empty_value("empty", empty, allow_none=False)
    assert value is not None
    return DistanceEmpty(one_empty=value)


def _resolve(value: EmptyValue, diagonal: float) -> float:
    if isinstance(value, str):
        return {"nan": math.nan, "inf": math.inf}.get(value, diagonal)
    return float(value)


# ------------------------------------------------------------------------------------------------
# The intermediate
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurfaceDistances:
    """Directed surface distances with element weights, per class of one case.

    Attributes
    ----------
    pred_to_target, target_to_pred : tuple of ndarray of float64
        Per class, the distance from each element of one surface to the nearest element of the
        other (inf when the other surface is empty), in the units of ``spacing``, in raster order.
    pred_weights, target_weights : tuple of ndarray of float64
        Per class, the weight of each element (1 for voxels, length or area for surfels).
    classes : tuple of int
        Class label of each entry (``(1,)`` for a binary mask).
    spacing : tuple of float
        Voxel spacing, numpy axis order.
    shape : tuple of int
        Image shape.
    surface : {'voxel', 'surfel'}
        Surface model.
    connectivity : int or None
        Erosion connectivity for the voxel model (None for surfels).
    ignore : str or None
        What was ignored: ``'ignore_index=255'``, ``'ignore_mask'``, both, or None.
    """

    pred_to_target: tuple[FloatArray, ...]
    target_to_pred: tuple[FloatArray, ...]
    pred_weights: tuple[FloatArray, ...]
    target_weights: tuple[FloatArray, ...]
    classes: tuple[int, ...]
    spacing: tuple[float, ...]
    shape: tuple[int, ...]
    surface: SurfaceModel
    connectivity: int | None
    ignore: str | None = None

    @property
    def diagonal(self) -> float:
        """Image diagonal in the units of ``spacing``: ``sqrt(sum((n_i * s_i) ** 2))``."""
        return math.sqrt(sum((n * s) ** 2 for n, s in zip(self.shape, self.spacing, strict=True)))

    def cases(self) -> list[str]:
        """Per class: ``'both_present'``, ``'target_empty'``, ``'prediction_empty'`` or ``'both_empty'``."""
        out = []
        for p, t in zip(self.pred_weights, self.target_weights, strict=True):
            if p.size and t.size:
                out.append("both_present")
            elif p.size:
                out.append("target_empty")
            elif t.size:
                out.append("prediction_empty")
            else:
                out.append("both_empty")
        return out

    def conventions(self) -> dict[str, Any]:
        """Return the surface conventions as a JSON-friendly dict."""
        return {
            "surface_model": (
                f"voxel_border(connectivity={self.connectivity})"
                if self.surface == "voxel"
                else "surfel(marching-cubes area)"
            ),
            "spacing": list(self.spacing),
            "spacing_axis_order": "numpy (axis 0 first)",
            "classes": list(self.classes),
            "ignore": self.ignore,
        }


# ------------------------------------------------------------------------------------------------
# Input handling
# ------------------------------------------------------------------------------------------------


def _as_binary(name: str, array: np.ndarray[Any, Any]) -> BoolArray:
    kind = array.dtype.kind
    if kind == "b":
        return np.asarray(array, dtype=bool)
    if kind not in "iuf":
        fail(f"`{name}` must be a bool, integer or float array, got dtype {array.dtype}.")
    nonzero = array != 0
    if kind == "f":
        ok = bool(np.all(nonzero == (array == 1)))
    else:
        high = array.max()
        ok = bool(array.min() >= 0) and (
            high <= 1 or (high == 255 and bool(np.all(nonzero == (array == 255))))
        )
    if not ok:
        fail_binary_values(name, np.unique(array)[:9])
    return np.asarray(nonzero, dtype=bool)


def _check_label_map(
    name: str, array: np.ndarray[Any, Any], num_classes: int, ignore_index: int | None
) -> None:
    if array.dtype.kind not in "iub":
        fail(
            f"`{name}` must be an integer label map when `num_classes` is set, got dtype "
            f"{array.dtype}."
        )
    labels = np.unique(array)
    bad = labels[((labels < 0) | (labels >= num_classes)) & (labels != ignore_index)]
    if bad.size:
        fail_labels(name, bad, num_classes, ignore_index)


@dataclass(frozen=True, slots=True)
class _Prepared:
    masks: list[tuple[BoolArray, BoolArray]]
    classes: tuple[int, ...]
    ignore: BoolArray | None
    ignore_name: str | None
    spacing: tuple[float, ...]
    shape: tuple[int, ...]


def _prepare(
    pred: ArrayLike,
    target: ArrayLike,
    spacing: object,
    num_classes: int | None,
    include_background: bool,
    ignore_index: int | None,
    ignore_mask: ArrayLike | None,
) -> _Prepared:
    try:
        p = np.asarray(pred)
        t = np.asarray(target)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        fail(f"`pred` and `target` must be arrays of one shape each, got {exc}.")
    check_same_shape(p.shape, t.shape)
    check_ndim("target", t.shape, (2, 3), "(H, W) for an image or (D, H, W) for a volume")
    check_not_empty("target", t.shape)
    sp = check_spacing("spacing", spacing, t.ndim)
    ignore: BoolArray | None = None
    names: list[str] = []
    if ignore_mask is not None:
        im = np.asarray(ignore_mask)
        check_same_shape(im.shape, t.shape, ("ignore_mask", "target"))
        if im.dtype.kind != "b":
            fail(f"`ignore_mask` must be a bool array (True where ignored), got dtype {im.dtype}.")
        ignore = im
        names.append("ignore_mask")
    if num_classes is None:
        if ignore_index is not None:
            fail(
                "`ignore_index` needs label maps: set `num_classes` (binary masks have no ignore "
                "label; pass `ignore_mask`)."
            )
        masks = [(_as_binary("pred", p), _as_binary("target", t))]
        classes: tuple[int, ...] = (1,)
    else:
        c = check_int("num_classes", num_classes, low=2)
        if ignore_index is not None:
            ignore_index = check_int("ignore_index", ignore_index)
            if 0 <= ignore_index < c:
                fail(
                    f"`ignore_index` must lie outside [0, {c}) (the class labels), got {ignore_index}."
                )
        _check_label_map("pred", p, c, ignore_index)
        _check_label_map("target", t, c, ignore_index)
        classes = tuple(range(0 if include_background else 1, c))
        masks = [(p == k, t == k) for k in classes]
        if ignore_index is not None:
            by_label = t == ignore_index
            ignore = by_label if ignore is None else (ignore | by_label)
            names.insert(0, f"ignore_index={ignore_index}")
    if ignore is not None and not ignore.any():
        ignore = None
    return _Prepared(
        masks, classes, ignore, " and ".join(names) or None, sp, tuple(int(n) for n in t.shape)
    )


# ------------------------------------------------------------------------------------------------
# Surfaces and distances of one (case, class)
# ------------------------------------------------------------------------------------------------


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
    return _directed(bp, bt, spacing), _directed(bt, bp, spacing), wp, wt


def surface_distances(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    spacing: float | Sequence[float] | None = None,
    surface: SurfaceModel = "voxel",
    connectivity: int = 1,
    num_classes: int | None = None,
    include_background: bool = False,
    ignore_index: int | None = None,
    ignore_mask: ArrayLike | None = None,
) -> SurfaceDistances:
    """Extract both surfaces once and measure the directed distances between them.

    Parameters
    ----------
    pred, target : array_like, shape (H, W) or (D, H, W)
        Binary masks (bool, {0, 1} or {0, 255}) or, with ``num_classes``, integer label maps.
    spacing : float or sequence of float, optional
        Voxel spacing, one value per axis in numpy axis order (or one for all); default 1.
    surface : {'voxel', 'surfel'}, default 'voxel'
        Surface model (module docstring).
    connectivity : int, default 1
        Erosion connectivity of the voxel model, 1 (face) to ``ndim`` (full).
    num_classes : int, optional
        Treat the inputs as label maps with labels ``0 .. num_classes - 1``.
    include_background : bool, default False
        With ``num_classes``, also measure class 0.
    ignore_index : int, optional
        With ``num_classes``, the target label of ignored regions.
    ignore_mask : array_like of bool, optional
        True where ignored. Surface elements there are dropped.

    Returns
    -------
    SurfaceDistances

    Raises
    ------
    InputError
        On different shapes, not 2 or 3 axes, a wrong spacing, a bad option, a label map without
        ``num_classes`` or labels outside the classes.

    Notes
    -----
    For each class the masks are cropped to the bounding box of their union (plus one voxel),
    the surface elements are extracted, elements in ignored regions dropped, and the distance
    from each element to the nearest element of the other surface computed exactly (Euclidean, in
    the units of ``spacing``): a search over voxel offsets in order of length finds most nearest
    elements, and a KD-tree answers the few that lie further away. Empty masks give
    empty arrays (and inf distances on the other side); the reducers apply the empty policy.

    Examples
    --------
    >>> pred = np.zeros((5, 5), dtype=bool); pred[1:3, 1:3] = True
    >>> target = np.zeros((5, 5), dtype=bool); target[1:3, 2:4] = True
    >>> sd = surface_distances(pred, target)
    >>> sd.pred_to_target[0]
    array([1., 0., 1., 0.])
    >>> surface_distances(pred, target, spacing=(1.0, 2.0)).target_to_pred[0]
    array([0., 2., 0., 2.])
    """
    check_option("surface", surface, SURFACE_MODELS)
    prepared = _prepare(
        pred, target, spacing, num_classes, include_background, ignore_index, ignore_mask
    )
    ndim = len(prepared.shape)
    conn = check_int("connectivity", connectivity, low=1)
    if conn > ndim:
        fail(f"`connectivity` must be an integer in [1, {ndim}] for {ndim}-D masks, got {conn}.")
    table = surfel_area_table(prepared.spacing) if surface == "surfel" else None
    parts = [
        _surfaces(p, t, prepared.ignore, surface, conn, prepared.spacing, table)
        for p, t in prepared.masks
    ]
    return SurfaceDistances(
        pred_to_target=tuple(x[0] for x in parts),
        target_to_pred=tuple(x[1] for x in parts),
        pred_weights=tuple(x[2] for x in parts),
        target_weights=tuple(x[3] for x in parts),
        classes=prepared.classes,
        spacing=prepared.spacing,
        shape=prepared.shape,
        surface=surface,
        connectivity=conn if surface == "voxel" else None,
        ignore=prepared.ignore_name,
    )


# ------------------------------------------------------------------------------------------------
# Reducers
# ------------------------------------------------------------------------------------------------


def _check_sd(sd: object) -> SurfaceDistances:
    if not isinstance(sd, SurfaceDistances):
        fail(f"`sd` must be a SurfaceDistances from surface_distances(), got {type(sd).__name__}.")
    return sd


def _empty_value(case: str, policy: DistanceEmpty, diagonal: float, percentile: bool) -> float:
    if case == "both_empty":
        value = policy.percentile_both_empty if percentile else None
        return _resolve(policy.both_empty if value is None else value, diagonal)
    value = policy.percentile_one_empty if percentile else None
    return _resolve(policy.one_empty if value is None else value, diagonal)


def _weighted_rank(distances: FloatArray, weights: FloatArray, q: float) -> float:
    """Smallest distance whose cumulative weight share reaches ``q`` (sorted by distance, weight).

    The elements are put in (distance, weight) order without a permutation: both take few
    distinct values (lattice distances, a table of surfel areas), so each element becomes the
    integer key ``rank(distance) * n_weights + rank(weight)``, the keys are sorted (one fast
    integer sort instead of a two-key argsort) and the sorted distances and weights are read
    back from them. The weights are then summed in exactly the order of that two-key sort.
    """
    d_values = np.unique(distances)
    w_values = np.unique(weights)
    d_rank = np.searchsorted(d_values, distances).astype(np.int64)  # int64 keys, also where
    key = d_rank * w_values.size + np.searchsorted(w_values, weights)  # intp is 32 bits
    key.sort()
    d, w = d_values[key // w_values.size], w_values[key % w_values.size]
    cumulative = np.cumsum(w) / np.sum(w)
    index = int(np.searchsorted(cumulative, q))
    return float(d[min(index, d.size - 1)])


def hausdorff_distance(
    sd: SurfaceDistances,
    *,
    percentile: float | None = None,
    rule: PercentileRule = "max_directed",
    interpolation: str = "linear",
    empty: DistanceEmpty | EmptyValue | None = None,
) -> FloatArray:
    """Hausdorff distance (maximum) or a Hausdorff percentile such as HD95, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    percentile : float in [0, 100], optional
        None gives the maximum (HD, every rule agrees except ``'directed'``); 95 gives HD95.
    rule : {'max_directed', 'pooled', 'directed', 'area_weighted'}, default 'max_directed'
        Percentile rule (module docstring).
    interpolation : str, default 'linear'
        :func:`numpy.percentile` method of the ``'pooled'``, ``'max_directed'`` and
        ``'directed'`` rules (which count elements, ignoring weights).
    empty : DistanceEmpty, str or float, optional
        Empty policy; a plain value sets ``one_empty``. Default :data:`DEFAULT_DISTANCE_EMPTY`.

    Returns
    -------
    ndarray of float64, shape (C,)
        One value per class of ``sd.classes``, in the units of ``spacing``.

    Raises
    ------
    InputError
        On a percentile outside [0, 100] or an unknown rule or interpolation.

    Notes
    -----
    With ``d_pt`` the distances from prediction elements to the target surface and ``d_tp`` the
    reverse: HD = ``max(max d_pt, max d_tp)``; ``'max_directed'`` HDp =
    ``max(P_p(d_pt), P_p(d_tp))`` (MONAI, Metrics Reloaded); ``'pooled'`` HDp =
    ``P_p(d_pt ∪ d_tp)`` (MedPy); ``'directed'`` HDp = ``P_p(d_pt)`` (MONAI ``directed=True``);
    ``'area_weighted'``: per direction, sort by distance, take the first distance whose
    cumulative weight share is >= p / 100 (nearest rank), then the max (DeepMind's
    ``compute_robust_hausdorff``). ``P_p`` is :func:`numpy.percentile` with ``interpolation``.

    Examples
    --------
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 2:5] = True
    >>> sd = surface_distances(pred, target)
    >>> hausdorff_distance(sd), hausdorff_distance(sd, percentile=50, rule="pooled")
    (array([1.]), array([0.5]))
    """
    sd = _check_sd(sd)
    if percentile is not None:
        q = check_number("percentile", percentile, low=0, high=100)
    check_option("rule", rule, PERCENTILE_RULES)
    check_option("interpolation", interpolation, INTERPOLATIONS)
    policy = _as_distance_empty(empty)
    method = cast(Any, interpolation)
    out = np.empty(len(sd.classes), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case != "both_present":
            out[i] = _empty_value(case, policy, sd.diagonal, percentile is not None)
            continue
        d_pt, d_tp = sd.pred_to_target[i], sd.target_to_pred[i]
        if rule == "directed":
            out[i] = d_pt.max() if percentile is None else np.percentile(d_pt, q, method=method)
        elif percentile is None:
            out[i] = max(d_pt.max(), d_tp.max())
        elif rule == "pooled":
            out[i] = np.percentile(np.concatenate([d_pt, d_tp]), q, method=method)
        elif rule == "max_directed":
            out[i] = max(
                np.percentile(d_pt, q, method=method), np.percentile(d_tp, q, method=method)
            )
        else:
            out[i] = max(
                _weighted_rank(d_pt, sd.pred_weights[i], q / 100.0),
                _weighted_rank(d_tp, sd.target_weights[i], q / 100.0),
            )
    return out


def _weighted_mean(d: FloatArray, w: FloatArray) -> float:
    return float(np.sum(d * w) / np.sum(w))


def average_surface_distance(
    sd: SurfaceDistances, *, empty: DistanceEmpty | EmptyValue | None = None
) -> FloatArray:
    """Average surface distance in each direction, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    empty : DistanceEmpty, str or float, optional
        Empty policy (both columns of an empty case take its value).

    Returns
    -------
    ndarray of float64, shape (C, 2)
        Column 0: prediction → target (MedPy ``asd(pred, target)``, MONAI ``symmetric=False``);
        column 1: target → prediction (DeepMind's first value).

    Notes
    -----
    ``ASD(A → B) = sum_a w_a d(a, B) / sum_a w_a`` over the elements ``a`` of surface A.

    Examples
    --------
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> average_surface_distance(surface_distances(pred, target))
    array([[0.125, 0.3  ]])
    """
    sd = _check_sd(sd)
    policy = _as_distance_empty(empty)
    out = np.empty((len(sd.classes), 2), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case != "both_present":
            out[i] = _empty_value(case, policy, sd.diagonal, False)
            continue
        out[i, 0] = _weighted_mean(sd.pred_to_target[i], sd.pred_weights[i])
        out[i, 1] = _weighted_mean(sd.target_to_pred[i], sd.target_weights[i])
    return out


def assd(
    sd: SurfaceDistances,
    *,
    variant: AssdVariant = "pooled",
    empty: DistanceEmpty | EmptyValue | None = None,
) -> FloatArray:
    """Average symmetric surface distance (pooled) or MASD (mean of the two directed means).

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    variant : {'pooled', 'mean_of_means'}, default 'pooled'
        ``'pooled'``: ASSD of MedPy >= 0.5.2, MONAI ``symmetric=True``, Metrics Reloaded ``assd``;
        ``'mean_of_means'``: MASD of Metrics Reloaded, MedPy <= 0.4.
    empty : DistanceEmpty, str or float, optional
        Empty policy.

    Returns
    -------
    ndarray of float64, shape (C,)

    Notes
    -----
    pooled: ``(sum_a w_a d(a, T) + sum_b w_b d(b, P)) / (sum_a w_a + sum_b w_b)``;
    mean_of_means: ``(ASD(P → T) + ASD(T → P)) / 2``.

    Examples
    --------
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> sd = surface_distances(pred, target)
    >>> assd(sd), assd(sd, variant="mean_of_means")
    (array([0.22222222]), array([0.2125]))
    """
    sd = _check_sd(sd)
    check_option("variant", variant, ASSD_VARIANTS)
    policy = _as_distance_empty(empty)
    out = np.empty(len(sd.classes), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case != "both_present":
            out[i] = _empty_value(case, policy, sd.diagonal, False)
        elif variant == "pooled":
            out[i] = _weighted_mean(
                np.concatenate([sd.pred_to_target[i], sd.target_to_pred[i]]),
                np.concatenate([sd.pred_weights[i], sd.target_weights[i]]),
            )
        else:
            out[i] = 0.5 * (
                _weighted_mean(sd.pred_to_target[i], sd.pred_weights[i])
                + _weighted_mean(sd.target_to_pred[i], sd.target_weights[i])
            )
    return out


def surface_dice(
    sd: SurfaceDistances,
    *,
    tolerance: float,
    empty: DistanceEmpty | EmptyValue | None = None,
) -> FloatArray:
    """Normalised surface Dice (NSD) at a tolerance, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    tolerance : float >= 0
        Largest distance counted as overlapping, in the units of ``spacing``.
    empty : DistanceEmpty, str or float, optional
        Empty policy: ``overlap_both_empty`` when both surfaces are empty; one empty gives 0.

    Returns
    -------
    ndarray of float64, shape (C,)

    Raises
    ------
    InputError
        On a negative tolerance.

    Notes
    -----
    ``NSD = (sum_{a: d(a,T) <= tol} w_a + sum_{b: d(b,P) <= tol} w_b) / (sum_a w_a + sum_b w_b)``:
    element counts for the voxel model (MONAI's default, Metrics Reloaded), surfel areas for
    the surfel model (DeepMind, MONAI ``use_subvoxels=True``).

    Examples
    --------
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> surface_dice(surface_distances(pred, target), tolerance=0.5)
    array([0.77777778])
    """
    sd = _check_sd(sd)
    tol = check_number("tolerance", tolerance, low=0)
    policy = _as_distance_empty(empty)
    out = np.empty(len(sd.classes), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case == "both_empty":
            out[i] = policy.overlap_both_empty
            continue
        wp, wt = sd.pred_weights[i], sd.target_weights[i]
        inside = np.sum(wp[sd.pred_to_target[i] <= tol]) + np.sum(wt[sd.target_to_pred[i] <= tol])
        out[i] = float(inside / (np.sum(wp) + np.sum(wt)))
    return out


# ------------------------------------------------------------------------------------------------
# Boundary IoU
# ------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------
# Names and the one-call entry point
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistanceMetricSpec:
    """A parsed boundary-metric name.

    Attributes
    ----------
    name : str
        The name as given (``'hd95'``, ``'nsd@1.0'``, ``'biou@2px'``...).
    kind : {'hd', 'asd', 'assd', 'masd', 'nsd', 'biou'}
        The metric.
    percentile : float or None
        For ``hdP``.
    tolerance : float or None
        For ``nsd@T`` (units of spacing).
    width, unit : float and str, or None
        For ``biou@W{px,mm,diag}``.
    higher_is_better : bool
        False for distances, True for NSD and Boundary IoU.
    """

    name: str
    kind: str
    percentile: float | None = None
    tolerance: float | None = None
    width: float | None = None
    unit: WidthUnit | None = None
    higher_is_better: bool = False


_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"


def get_distance_metric(name: str) -> DistanceMetricSpec:
    """Parse a boundary-metric name.

    Names: ``hd``, ``hd95``, ``hdP`` (any percentile P in [0, 100]), ``asd``, ``assd``,
    ``masd``, ``nsd@T`` (or ``nsd@Tmm``; T in the units of spacing), ``biou@Wpx``,
    ``biou@Wdiag`` (W a fraction of the image diagonal), ``biou@Wmm``.

    Examples
    --------
    >>> get_distance_metric("hd99.5").percentile
    99.5
    >>> get_distance_metric("biou@0.02diag").unit
    'diagonal'
    >>> get_distance_metric("hd101")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `metric` must be one of 'hd', 'hdP' (0 <= P <= 100), 'asd', 'assd', 'masd', 'nsd@T', 'biou@W{px,mm,diag}', got 'hd101'.
    """
    key = name.strip().lower() if isinstance(name, str) else ""
    if key in ("hd", "asd", "assd", "masd"):
        return DistanceMetricSpec(name, key)
    match = re.fullmatch(r"hd" + _NUMBER, key)
    if match and float(match.group(1)) <= 100:
        return DistanceMetricSpec(name, "hd", percentile=float(match.group(1)))
    match = re.fullmatch(r"nsd@" + _NUMBER + r"(mm)?", key)
    if match:
        return DistanceMetricSpec(
            name, "nsd", tolerance=float(match.group(1)), higher_is_better=True
        )
    match = re.fullmatch(r"biou@" + _NUMBER + r"(px|mm|diag)", key)
    if match and float(match.group(1)) > 0:
        unit = cast(WidthUnit, {"diag": "diagonal"}.get(match.group(2), match.group(2)))
        return DistanceMetricSpec(
            name, "biou", width=float(match.group(1)), unit=unit, higher_is_better=True
        )
    fail(
        "`metric` must be one of 'hd', 'hdP' (0 <= P <= 100), 'asd', 'assd', 'masd', 'nsd@T', "
        f"'biou@W{{px,mm,diag}}', got {name!r}."
    )


@dataclass(frozen=True, slots=True)
class DistanceResult:
    """Boundary metrics of one case, with counts and the conventions record.

    Attributes
    ----------
    values : dict of str to ndarray
        Per metric name: shape (C,) (``'asd'``: (C, 2), the two directions).
    classes : tuple of int
        Class label of each row.
    n_valid, n_nan, n_inf : dict of str to int
        Per metric: finite, NaN (excluded from means) and infinite entries.
    empty_cases : dict of str to int
        Number of classes in each empty case (``both_present``, ``target_empty``, ...).
    conventions : dict
        Surface model, percentile rule and interpolation, ASSD variant, empty policy, spacing,
        boundary IoU widths, ignore, preset.
    """

    values: dict[str, FloatArray]
    classes: tuple[int, ...]
    n_valid: dict[str, int]
    n_nan: dict[str, int]
    n_inf: dict[str, int]
    empty_cases: dict[str, int]
    conventions: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> FloatArray:
        return self.values[name]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict."""
        return {
            "values": {k: v.tolist() for k, v in self.values.items()},
            "classes": list(self.classes),
            "n_valid": dict(self.n_valid),
            "n_nan": dict(self.n_nan),
            "n_inf": dict(self.n_inf),
            "empty_cases": dict(self.empty_cases),
            "conventions": dict(self.conventions),
        }


def distance_metrics(
    pred: ArrayLike,
    target: ArrayLike,
    metrics: Sequence[str] = ("hd95", "assd", "nsd@1.0"),
    *,
    preset: str | None = None,
    spacing: float | Sequence[float] | None = None,
    surface: SurfaceModel | None = None,
    connectivity: int | None = None,
    rule: PercentileRule | None = None,
    interpolation: str | None = None,
    assd_variant: AssdVariant | None = None,
    empty: DistanceEmpty | EmptyValue | None = None,
    boundary_metric: BoundaryMetric | None = None,
    num_classes: int | None = None,
    include_background: bool = False,
    ignore_index: int | None = None,
    ignore_mask: ArrayLike | None = None,
) -> DistanceResult:
    """Compute named boundary metrics of one case, extracting each surface once.

    Parameters
    ----------
    pred, target : array_like, shape (H, W) or (D, H, W)
        Binary masks or, with ``num_classes``, label maps.
    metrics : sequence of str, default ('hd95', 'assd', 'nsd@1.0')
        Names parsed by :func:`get_distance_metric`.
    preset : str, optional
        A name of :data:`segscore.metrics.presets.PRESETS`: its conventions fill every option
        left as None.
    spacing, num_classes, include_background, ignore_index, ignore_mask
        As in :func:`surface_distances`.
    surface, connectivity, rule, interpolation, assd_variant, empty, boundary_metric : optional
        Conventions (default: the preset's, else ``'voxel'``, 1, ``'max_directed'``,
        ``'linear'``, ``'pooled'``, :data:`DEFAULT_DISTANCE_EMPTY`, ``'chessboard'``).
        ``assd_variant`` applies to ``'assd'``; ``'masd'`` is always the mean of means.

    Returns
    -------
    DistanceResult

    Raises
    ------
    InputError
        On an unknown metric name or preset and on every error of :func:`surface_distances`.

    Examples
    --------
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> r = distance_metrics(pred, target, ["hd", "masd", "nsd@0.5"])
    >>> r["hd"], r["masd"], r["nsd@0.5"]
    (array([1.]), array([0.2125]), array([0.77777778]))
    >>> r.conventions["hd_percentile_rule"], r.empty_cases["both_present"]
    ('max_directed', 1)
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    specs = [get_distance_metric(m) for m in metrics]
    options: dict[str, Any] = {}
    if preset is not None:
        from segscore.metrics.presets import get_preset

        options = get_preset(preset).distance_kwargs()
    chosen: dict[str, Any] = {
        "surface": surface,
        "connectivity": connectivity,
        "rule": rule,
        "interpolation": interpolation,
        "assd_variant": assd_variant,
        "empty": empty,
        "boundary_metric": boundary_metric,
    }
    defaults: dict[str, Any] = {
        "surface": "voxel",
        "connectivity": 1,
        "rule": "max_directed",
        "interpolation": "linear",
        "assd_variant": "pooled",
        "empty": DEFAULT_DISTANCE_EMPTY,
        "boundary_metric": "chessboard",
    }
    opt = {k: (v if v is not None else options.get(k, defaults[k])) for k, v in chosen.items()}
    policy = _as_distance_empty(opt["empty"])
    check_option("rule", opt["rule"], PERCENTILE_RULES)
    check_option("interpolation", opt["interpolation"], INTERPOLATIONS)
    check_option("assd_variant", opt["assd_variant"], ASSD_VARIANTS)
    for spec in specs:
        if spec.kind == "nsd":
            check_number("tolerance", spec.tolerance, low=0)
        if spec.kind == "biou":
            _check_boundary_options(spec.width, cast(str, spec.unit), opt["boundary_metric"])

    values: dict[str, FloatArray] = {}
    sd: SurfaceDistances | None = None
    needs_surfaces = any(s.kind != "biou" for s in specs)
    if needs_surfaces:
        sd = surface_distances(
            pred,
            target,
            spacing=spacing,
            surface=opt["surface"],
            connectivity=opt["connectivity"],
            num_classes=num_classes,
            include_background=include_background,
            ignore_index=ignore_index,
            ignore_mask=ignore_mask,
        )
    prepared: _Prepared | None = None
    for spec in specs:
        if spec.kind == "biou":
            if prepared is None:
                prepared = _prepare(
                    pred,
                    target,
                    spacing,
                    num_classes,
                    include_background,
                    ignore_index,
                    ignore_mask,
                )
            assert spec.width is not None
            assert spec.unit is not None
            values[spec.name] = _boundary_iou_masks(
                prepared, spec.width, spec.unit, opt["boundary_metric"], policy.overlap_both_empty
            )
            continue
        assert sd is not None
        if spec.kind == "hd":
            values[spec.name] = hausdorff_distance(
                sd,
                percentile=spec.percentile,
                rule=opt["rule"],
                interpolation=opt["interpolation"],
                empty=policy,
            )
        elif spec.kind == "asd":
            values[spec.name] = average_surface_distance(sd, empty=policy)
        elif spec.kind in ("assd", "masd"):
            variant: AssdVariant = "mean_of_means" if spec.kind == "masd" else opt["assd_variant"]
            values[spec.name] = assd(sd, variant=variant, empty=policy)
        else:
            assert spec.tolerance is not None
            values[spec.name] = surface_dice(sd, tolerance=spec.tolerance, empty=policy)

    if sd is not None:
        classes = sd.classes
        cases = sd.cases()
        base = sd.conventions()
    else:
        assert prepared is not None
        classes = prepared.classes
        cases = ["n/a"] * len(classes)
        base = {
            "spacing": list(prepared.spacing),
            "spacing_axis_order": "numpy (axis 0 first)",
            "classes": list(classes),
            "ignore": prepared.ignore_name,
        }
    biou_widths = {s.name: f"{s.width:g} {s.unit}" for s in specs if s.kind == "biou"}
    conventions = {
        **base,
        "preset": preset,
        "hd_percentile_rule": opt["rule"],
        "hd_interpolation": (
            "area-weighted nearest rank" if opt["rule"] == "area_weighted" else opt["interpolation"]
        ),
        "assd_variant": opt["assd_variant"],
        "empty": policy.as_dict(),
        "boundary_iou_width": biou_widths,
        "boundary_iou_metric": opt["boundary_metric"] if biou_widths else None,
        "include_background": include_background,
    }
    return DistanceResult(
        values=values,
        classes=classes,
        n_valid={k: int(np.isfinite(v).sum()) for k, v in values.items()},
        n_nan={k: int(np.isnan(v).sum()) for k, v in values.items()},
        n_inf={k: int(np.isinf(v).sum()) for k, v in values.items()},
        empty_cases={
            c: cases.count(c)
            for c in ("both_present", "target_empty", "prediction_empty", "both_empty")
        },
        conventions=conventions,
    )

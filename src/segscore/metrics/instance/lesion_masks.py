"""Masks to lesions: the per-lesion table of one (image, class), the BraTS 2023 way.

The procedure, its conventions and the peers are described in
:mod:`segscore.metrics.instance.lesion`, which scores these tables (:func:`lesion_scores`).
Every step reads the foreground voxels only, after two connected-component labellings (three
with dilation): memory stays about the size of the volume.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from segscore._types import (
    INTERPOLATIONS,
    PERCENTILE_RULES,
    SURFACE_MODELS,
    BoolArray,
    FloatArray,
    IntArray,
    PercentileRule,
    SurfaceModel,
)
from segscore._validation import (
    check_int,
    check_number,
    check_option,
    check_same_shape,
    check_spacing,
    fail,
    fail_binary_values,
    fail_labels,
    fail_must,
)
from segscore.metrics.boundary.distances import _check_surface
from segscore.metrics.boundary.surfel_tables import surfel_area_table
from segscore.metrics.counting import _is_tensor
from segscore.metrics.counts import _batch_shape
from segscore.metrics.instance.components import (
    BACKENDS,
    CONNECTIVITIES,
    Backend,
    Connectivity,
    _label_binary,
)
from segscore.metrics.instance.pair_distances import crop_hausdorff
from segscore.metrics.options import BINARY_FOREGROUND, CountingOptions

__all__ = ["LesionTable", "lesion_tables"]


@dataclass(frozen=True, slots=True)
class LesionTable:
    """The lesions of one (image, class): every target lesion with its matched predictions.

    Attributes
    ----------
    target_voxels : ndarray of int64, shape (G,)
        Voxels of each target lesion (target components grouped by dilation), in the raster
        order of their first voxel.
    target_volume : ndarray of float64, shape (G,)
        ``target_voxels`` times the voxel volume (units of ``spacing`` cubed).
    kept : ndarray of bool, shape (G,)
        Whether the lesion is scored (volume > ``min_volume``).
    n_matched : ndarray of int64, shape (G,)
        Predicted lesions that touch its dilated region.
    intersection : ndarray of int64, shape (G,)
        Voxels it shares with them.
    matched_voxels : ndarray of int64, shape (G,)
        Voxels of its matched predicted lesions (their union).
    hd : ndarray of float64, shape (G,)
        Hausdorff percentile between the lesion and its matched predictions (inf: no match;
        NaN: not computed, for dropped lesions or when no distance metric was asked).
    pred_voxels : ndarray of int64, shape (P,)
        Voxels of each predicted lesion (raster order of their first voxel).
    pred_matched : ndarray of bool, shape (P,)
        Whether each predicted lesion touches a dilated target lesion (kept or dropped).

    Examples
    --------
    >>> t = lesion_tables(np.array([[1, 1, 0, 0, 1]]), np.array([[0, 1, 1, 0, 0]]),
    ...                   dilation=0, min_volume=0, percentile=None)[0][0]
    >>> t.target_voxels, t.dice, t.n_tp, t.n_fp, t.n_fn
    (array([2]), array([0.5]), 1, 1, 0)
    """

    target_voxels: IntArray
    target_volume: FloatArray
    kept: BoolArray
    n_matched: IntArray
    intersection: IntArray
    matched_voxels: IntArray
    hd: FloatArray
    pred_voxels: IntArray
    pred_matched: BoolArray

    @property
    def dice(self) -> FloatArray:
        """Dice of each target lesion with its matched predictions (0 without a match)."""
        den = self.target_voxels + self.matched_voxels
        return np.asarray(2 * self.intersection / den, dtype=np.float64)

    @property
    def n_tp(self) -> int:
        """Kept target lesions with at least one match (BraTS ``Num_TP``)."""
        return int(np.count_nonzero(self.kept & (self.n_matched > 0)))

    @property
    def n_fn(self) -> int:
        """Kept target lesions without a match (BraTS ``Num_FN``)."""
        return int(np.count_nonzero(self.kept & (self.n_matched == 0)))

    @property
    def n_fp(self) -> int:
        """Predicted lesions that touch no dilated target lesion (BraTS ``Num_FP``)."""
        return int(np.count_nonzero(~self.pred_matched))

    @property
    def n_scored_pred(self) -> int:
        """Predicted lesions that enter the score: false positives and matches of kept lesions."""
        return self.n_fp + int(self.n_matched[self.kept].sum())


# -- inputs -----------------------------------------------------------------------------------


def _masks(name: str, x: Any, num_classes: int | None) -> np.ndarray[Any, Any]:
    """Validate a binary mask or (with ``num_classes``) a label map of class ids."""
    if _is_tensor(x):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype == np.bool_:
        return a
    expected = (
        f"hold integer class labels in [0, {num_classes})"
        if num_classes is not None
        else "be a binary mask (bool, {0, 1} or {0, 255}) or, with `num_classes`, a label map"
    )
    if not np.issubdtype(a.dtype, np.integer):
        fail_must(
            name, expected + " (lesions are found by connected components)", f"dtype {a.dtype}"
        )
    if a.size and np.issubdtype(a.dtype, np.signedinteger) and int(a.min()) < 0:
        fail_must(name, "hold labels >= 0 (0 = background)", f"minimum {int(a.min())}")
    values = np.unique(a)
    if num_classes is None:
        if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {0, 255}):
            fail_binary_values(name, values.tolist())
    elif values.size and int(values[-1]) >= num_classes:
        fail_labels(name, values[values >= num_classes].tolist(), num_classes, None)
    return a


def _class_mask(image: np.ndarray[Any, Any], c: int | None) -> BoolArray:
    """Return the mask of class ``c`` (None: the foreground of a binary mask)."""
    if c is None:
        return image if image.dtype == np.bool_ else np.asarray(image != 0)
    return np.asarray(image == c)


def _resolve(
    options: CountingOptions | None, num_classes: int | None, spatial_dims: int | None
) -> tuple[int | None, int | None]:
    if options is None:
        if num_classes is not None:
            num_classes = check_int("num_classes", num_classes, low=2)
        return num_classes, spatial_dims
    if not isinstance(options, CountingOptions):
        fail(f"`options` must be CountingOptions, got {type(options).__name__}.")
    for key, value in (("num_classes", num_classes), ("spatial_dims", spatial_dims)):
        if value is not None and value != getattr(options, key):
            fail(
                f"`{key}` must not be given with `options` (set it in the options), got "
                f"{key}={value!r} with options.{key}={getattr(options, key)!r}."
            )
    if options.ignore_index is not None or options.multilabel:
        fail(
            "`options` must not set `ignore_index` or `multilabel` for lesion metrics (BraTS "
            f"has neither), got ignore_index={options.ignore_index!r}, "
            f"multilabel={options.multilabel!r}."
        )
    return options.num_classes, options.spatial_dims


# -- one (image, class) -----------------------------------------------------------------------


def _dilate(mask: BoolArray, iterations: int) -> BoolArray:
    """``scipy.ndimage.binary_dilation(mask, generate_binary_structure(ndim, 2), iterations)``.

    The structure (offsets in {-1, 0, 1} with at most two nonzero) is the union over pairs of
    axes of a 3 x 3 square in their plane, and each square is two 3-wide lines: one step is a
    few shifted ORs over the flat array (the lines of one axis shared by its squares). The work is confined to the mask's bounding box grown
    by ``iterations``, padded by one zero voxel that is cleared after every step, so that flat
    shifts never wrap from one row into the next.
    """
    out = np.zeros(mask.shape, dtype=bool)
    hits = [
        np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != k)))
        for k in range(mask.ndim)
    ]
    if hits[0].size == 0:
        return out
    box = tuple(
        slice(max(int(h[0]) - iterations, 0), min(int(h[-1]) + iterations + 1, n))
        for h, n in zip(hits, mask.shape, strict=True)
    )
    grid = np.pad(mask[box], 1)
    strides = [int(np.prod(grid.shape[k + 1 :])) for k in range(grid.ndim)]
    pads = []
    for k in range(grid.ndim):
        lo = [slice(None)] * grid.ndim
        hi = [slice(None)] * grid.ndim
        lo[k], hi[k] = slice(0, 1), slice(-1, None)
        pads += [tuple(lo), tuple(hi)]

    def line(flat: BoolArray, step: int) -> BoolArray:
        grown: BoolArray = flat.copy()
        grown[step:] |= flat[:-step]
        grown[:-step] |= flat[step:]
        return grown

    for _ in range(iterations):
        flat = grid.reshape(-1)
        # union over i < j of L_i L_j = union over i of L_i(union over j > i of L_j): in 3-D
        # L_0(L_1 | L_2) | L_1(L_2), four lines instead of five
        single = [line(flat, strides[j]) if j else flat for j in range(grid.ndim)]
        grown: BoolArray | None = None
        later = single[-1]
        for i in reversed(range(grid.ndim - 1)):
            part = line(later, strides[i])
            grown = part if grown is None else (grown | part)
            if i:
                later = later | single[i]
        assert grown is not None
        grid = grown.reshape(grid.shape)
        for pad in pads:
            grid[pad] = False
    out[box] = grid[(slice(1, -1),) * grid.ndim]
    return out


def _boxes(
    flat: IntArray, labels: IntArray, n: int, shape: tuple[int, ...]
) -> tuple[IntArray, IntArray]:
    """Inclusive bounding boxes (lo, hi), shape (n, ndim), of labels 1..n (each present).

    ``flat``: the linear indices of the labelled voxels in raster order, with their ``labels``.
    The voxels are read as runs along the last axis (consecutive indices, one label): a box is
    the extent of its runs' first and last voxels, so the coordinates (one ``divmod`` per axis)
    and the minima and maxima (``np.minimum.at``) are computed per run, about ten times fewer
    than voxels for lesions.
    """
    lo = np.full((n + 1, len(shape)), np.iinfo(np.int64).max, np.int64)
    hi = np.full((n + 1, len(shape)), -1, np.int64)
    if flat.size == 0:
        return lo[1:], hi[1:]
    flat = flat.astype(np.int64, copy=False)
    cut = np.flatnonzero((np.diff(flat) != 1) | (labels[1:] != labels[:-1])) + 1
    first = np.concatenate(([0], cut))
    length = np.diff(np.concatenate((first, [flat.size])))
    start, run_labels = flat[first], labels[first]
    rest, x = np.divmod(start, shape[-1])
    last = x + length - 1
    if int(last.max()) >= shape[-1]:  # a run wraps into the next row: cut it there
        edge = np.flatnonzero(flat % shape[-1] == 0)
        cut = np.union1d(cut, edge[edge > 0])
        first = np.concatenate(([0], cut))
        length = np.diff(np.concatenate((first, [flat.size])))
        start, run_labels = flat[first], labels[first]
        rest, x = np.divmod(start, shape[-1])
        last = x + length - 1
    columns = [x]
    for size in reversed(shape[1:-1]):
        rest, c = np.divmod(rest, size)
        columns.append(c)
    columns.append(rest)
    for k, c in zip(reversed(range(len(shape))), columns, strict=True):
        np.minimum.at(lo[:, k], run_labels, c)
        np.maximum.at(hi[:, k], run_labels, last if k == len(shape) - 1 else c)
    return lo[1:], hi[1:]


@dataclass(frozen=True, slots=True)
class _Settings:
    spacing: tuple[float, ...]
    connectivity: Connectivity
    dilation: int
    min_volume: float
    percentile: float | None
    surface: SurfaceModel
    rule: PercentileRule
    interpolation: str
    surface_connectivity: int
    table: FloatArray | None
    backend: Backend


def _order(raw: np.ndarray[Any, Any], n: int) -> IntArray:
    """Map raw labels 1..n to 1..n in the raster order of each one's first voxel (0 stays 0).

    ``raw``: the label of each foreground voxel, in raster order. cc3d and scipy number their
    components that way already (every label present, each first seen after the one before):
    then the map is the identity, found without sorting.
    """
    if raw.size:  # the running maximum over the first label of each run of equal labels
        runs = raw[np.flatnonzero(np.concatenate(([True], raw[1:] != raw[:-1])))]
        top = np.maximum.accumulate(runs)
        if top[0] == 1 and int(top[-1]) == n and bool((np.diff(top) <= 1).all()):
            return np.arange(n + 1, dtype=np.int64)
    seen, first = np.unique(raw, return_index=True)
    lut = np.zeros(n + 1, np.int64)
    lut[seen[np.argsort(first, kind="stable")]] = np.arange(1, seen.size + 1)
    return lut


def _relabel(raw: np.ndarray[Any, Any], lut: IntArray) -> IntArray:
    """``lut[raw]`` as int64; a copy when ``lut`` is the identity (the usual order)."""
    if bool((lut == np.arange(lut.size)).all()):
        return raw.astype(np.int64)
    return np.asarray(lut[raw], dtype=np.int64)


def _lesion_table(pred: BoolArray, target: BoolArray, s: _Settings) -> LesionTable:
    shape = pred.shape
    mask = _dilate(target, s.dilation) if s.dilation > 0 else target
    grown, n_t = _label_binary(mask, s.connectivity, s.backend, ordered=False)
    labels_p, n_p = _label_binary(pred, s.connectivity, s.backend, ordered=False)
    # Everything below reads the foreground voxels only; lesions are numbered by their first
    # voxel in raster order (whatever the labelling library's order).
    flat_t = np.flatnonzero(target)
    flat_p = np.flatnonzero(pred)
    raw_t = grown.reshape(-1)[flat_t]
    raw_p = labels_p.reshape(-1)[flat_p]
    lut_t, lut_p = _order(raw_t, n_t), _order(raw_p, n_p)
    lt, lp = _relabel(raw_t, lut_t), _relabel(raw_p, lut_p)
    target_voxels = np.bincount(lt, minlength=n_t + 1)[1:].astype(np.int64)
    pred_voxels = np.bincount(lp, minlength=n_p + 1)[1:].astype(np.int64)
    # every predicted voxel in a dilated target lesion: (predicted lesion, target lesion) pairs
    at_p = _relabel(grown.reshape(-1)[flat_p], lut_t)
    touch = at_p > 0
    width = max(n_t, 1)
    keys = (lp[touch] - 1) * width + (at_p[touch] - 1)
    # without dilation every touching voxel is inside the target
    inside = target.reshape(-1)[flat_p[touch]] if s.dilation > 0 else slice(None)
    if n_p * width <= max(4 * keys.size, 1 << 16):  # few lesions: count every pair densely
        touched = np.bincount(keys, minlength=n_p * width)
        pair_keys = np.flatnonzero(touched)
        inter = touched if s.dilation == 0 else np.bincount(keys[inside], minlength=n_p * width)
        pair_inter = inter[pair_keys]
    else:
        pair_keys, pair_index = np.unique(keys, return_inverse=True)
        pair_inter = np.bincount(pair_index.reshape(-1)[inside], minlength=pair_keys.size)
    pair_p = pair_keys // width
    pair_t = pair_keys - pair_p * width
    n_matched = np.bincount(pair_t, minlength=n_t).astype(np.int64)
    intersection = np.bincount(pair_t, weights=pair_inter, minlength=n_t).astype(np.int64)
    matched_voxels = np.bincount(pair_t, weights=pred_voxels[pair_p], minlength=n_t)
    pred_matched = np.zeros(n_p, bool)
    pred_matched[pair_p] = True
    volume = target_voxels * math.prod(s.spacing)
    kept = volume > s.min_volume
    hd = np.full(n_t, math.nan)
    if s.percentile is not None:
        hd[kept & (n_matched == 0)] = math.inf
        todo = np.flatnonzero(kept & (n_matched > 0))
        if todo.size:
            raw_of_t = np.argsort(lut_t[1:]) + 1  # raw label of lesion j + 1
            raw_of_p = np.argsort(lut_p[1:]) + 1
            lo_t, hi_t = _boxes(flat_t, lt, n_t, shape)
            lo_p, hi_p = _boxes(flat_p, lp, n_p, shape)
            by_target = np.argsort(pair_t, kind="stable")
            starts = np.searchsorted(pair_t[by_target], np.arange(n_t + 1))
            boxes, raws_t, raws_p = [], raw_of_t[todo].tolist(), []
            for j in todo.tolist():
                preds = pair_p[by_target[starts[j] : starts[j + 1]]]
                lo = np.minimum(lo_t[j], lo_p[preds].min(axis=0)).tolist()
                hi = np.maximum(hi_t[j], hi_p[preds].max(axis=0)).tolist()
                boxes.append(tuple(slice(a, b + 1) for a, b in zip(lo, hi, strict=True)))
                raws_p.append(raw_of_p[preds].tolist())

            def write(k: int, crop_p: BoolArray, crop_t: BoolArray) -> None:
                """Crop k: its target lesion and all the voxels of its matched predictions."""
                box = boxes[k]
                np.equal(grown[box], raws_t[k], out=crop_t)
                if s.dilation > 0:  # the dilated region holds background too
                    crop_t &= target[box]
                raw = raws_p[k]
                if len(raw) == 1:
                    np.equal(labels_p[box], raw[0], out=crop_p)
                else:
                    crop_p[...] = np.isin(labels_p[box], raw)

            hd[todo] = crop_hausdorff(
                [tuple(b.stop - b.start for b in box) for box in boxes],
                write,
                s.spacing,
                percentile=s.percentile,
                surface=s.surface,
                connectivity=s.surface_connectivity,
                rule=s.rule,
                interpolation=s.interpolation,
                table=s.table,
                cap=max(pred.size, 1 << 16),
            )
    return LesionTable(
        target_voxels=target_voxels,
        target_volume=np.asarray(volume, dtype=np.float64),
        kept=kept,
        n_matched=n_matched,
        intersection=intersection,
        matched_voxels=matched_voxels.astype(np.int64),
        hd=hd,
        pred_voxels=pred_voxels,
        pred_matched=pred_matched,
    )


# -- public entry points ----------------------------------------------------------------------


def lesion_tables(
    pred: Any,
    target: Any,
    *,
    spacing: float | Iterable[float] | None = None,
    connectivity: Connectivity = "full",
    dilation: int = 3,
    min_volume: float = 50.0,
    percentile: float | None = 95.0,
    surface: SurfaceModel = "surfel",
    rule: PercentileRule = "area_weighted",
    interpolation: str = "linear",
    surface_connectivity: int = 1,
    num_classes: int | None = None,
    spatial_dims: int | None = None,
    options: CountingOptions | None = None,
    backend: Backend = "auto",
) -> tuple[tuple[LesionTable, ...], ...]:
    """Find the lesions of each image and class and score every target lesion alone.

    Parameters
    ----------
    pred, target : array_like or torch.Tensor, shape (*S) or (N, *S)
        Binary masks (bool, {0, 1} or {0, 255}) or, with ``num_classes``, integer label maps
        whose classes ``1 .. num_classes - 1`` are scored one by one (0 is background). The
        layout rule of :class:`~segscore.metrics.options.CountingOptions`: 2-D is one image,
        3-D a batch of 2-D images unless ``spatial_dims=3``, 4-D a batch of volumes.
    spacing : float or sequence of float, optional
        Voxel spacing, one value per spatial axis (numpy order); default 1. Distances are in
        its units, volumes in its units cubed.
    connectivity : {'face', 'full'}, default 'full'
        Connectivity of the lesions (of both masks, and of the dilated target): ``'full'`` is
        26 in 3-D (BraTS, panoptica), ``'face'`` 6.
    dilation : int >= 0, default 3
        Steps of the target's dilation that group nearby target components into one lesion and
        widen the region a prediction must touch to match (BraTS GLI 3; :data:`~segscore.metrics.instance.lesion.BRATS_2023`);
        0: no grouping, a match needs overlap.
    min_volume : float >= 0, default 50
        Target lesions of volume <= ``min_volume`` (units of ``spacing`` cubed) are dropped.
    percentile : float in [0, 100] or None, default 95
        The Hausdorff percentile of each lesion; None computes no distance (faster).
    surface, rule, interpolation, surface_connectivity
        Conventions of the distance (:func:`~segscore.metrics.boundary.surface_distances` and
        :func:`~segscore.metrics.boundary.hausdorff_distance`; ``surface_connectivity`` is
        their erosion ``connectivity``). Default: DeepMind's surfels and area-weighted rank,
        as BraTS.
    num_classes, spatial_dims : int, optional
        Label maps of ``num_classes`` classes; number of spatial axes.
    options : CountingOptions, optional
        Its ``num_classes`` and ``spatial_dims`` (it must not set ``ignore_index`` or
        ``multilabel``); give either ``options`` or the keywords.
    backend : {'auto', 'segscore', 'scipy', 'cc3d'}, default 'auto'
        The connected-components labelling
        (:func:`~segscore.metrics.instance.components.label_components`); the same lesions.

    Returns
    -------
    tuple of tuple of LesionTable
        ``tables[n][k]``: image ``n``, class ``k + 1`` (one class for binary masks).

    Raises
    ------
    InputError
        On float or negative values, non-binary masks without ``num_classes``, labels outside
        the classes, different shapes, a wrong number of axes, a wrong spacing, a negative
        ``dilation`` or ``min_volume``, or a bad distance convention.

    Examples
    --------
    Two target components three voxels apart form one lesion after dilation:

    >>> target = np.array([[1, 0, 0, 1, 0, 0, 0, 0]])
    >>> pred = np.array([[1, 0, 0, 0, 0, 0, 0, 1]])
    >>> t = lesion_tables(pred, target, dilation=1, min_volume=0)[0][0]
    >>> t.target_voxels, t.n_matched, t.dice, t.hd, t.n_fp
    (array([2]), array([1]), array([0.66666667]), array([3.]), 1)
    >>> lesion_tables(pred, target, dilation=0, min_volume=0)[0][0].target_voxels
    array([1, 1])
    """
    return _tables(
        pred,
        target,
        spacing,
        connectivity,
        dilation,
        min_volume,
        percentile,
        surface,
        rule,
        interpolation,
        surface_connectivity,
        num_classes,
        spatial_dims,
        options,
        backend,
    )[0]


def _tables(
    pred: Any,
    target: Any,
    spacing: float | Iterable[float] | None,
    connectivity: Connectivity,
    dilation: int,
    min_volume: float,
    percentile: float | None,
    surface: SurfaceModel,
    rule: PercentileRule,
    interpolation: str,
    surface_connectivity: int,
    num_classes: int | None,
    spatial_dims: int | None,
    options: CountingOptions | None,
    backend: Backend,
) -> tuple[tuple[tuple[LesionTable, ...], ...], _Settings, tuple[int, ...]]:
    """:func:`lesion_tables` with its settings and the class id of each column."""
    num_classes, dims = _resolve(options, num_classes, spatial_dims)
    check_option("connectivity", connectivity, CONNECTIVITIES)
    dilation = check_int("dilation", dilation, low=0)
    min_volume = check_number("min_volume", min_volume, low=0)
    if percentile is not None:
        percentile = check_number("percentile", percentile, low=0, high=100)
    check_option("surface", surface, SURFACE_MODELS)
    check_option("rule", rule, PERCENTILE_RULES)
    check_option("interpolation", interpolation, INTERPOLATIONS)
    check_option("backend", backend, BACKENDS)
    p = _masks("pred", pred, num_classes)
    t = _masks("target", target, num_classes)
    check_same_shape(p.shape, t.shape)
    shape = _batch_shape("pred", p.shape, dims, channel_axis=False)
    ndim = len(shape) - 1
    sp = check_spacing("spacing", spacing, ndim)
    conn = _check_surface(surface, surface_connectivity, ndim)
    settings = _Settings(
        sp,
        connectivity,
        dilation,
        min_volume,
        percentile,
        surface,
        rule,
        interpolation,
        conn,
        surfel_area_table(sp) if surface == "surfel" and percentile is not None else None,
        backend,
    )
    p = p.reshape(shape)
    t = t.reshape(shape)
    classes: list[int | None] = [None] if num_classes is None else list(range(1, num_classes))
    tables = tuple(
        tuple(_lesion_table(_class_mask(p[i], c), _class_mask(t[i], c), settings) for c in classes)
        for i in range(shape[0])
    )
    class_ids = (BINARY_FOREGROUND,) if num_classes is None else tuple(range(1, num_classes))
    return tables, settings, class_ids

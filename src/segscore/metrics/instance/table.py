"""The exact overlap table of two instance label maps: every intersection, every object size.

Every instance metric of segscore (matching, F1, PQ, AJI...) is computed from this table and
never again from the images, so a threshold sweep costs one table and cheap matchings, and
results merge exactly (int64 counts).

The table is **sparse**: only the (prediction, target) pairs that share at least one pixel are
stored, so 5,000 objects in one image never make a 5,000 x 5,000 matrix (cellpose's dense
``(max id + 1)**2`` matrix and MONAI's one full-size mask per object do). Ids are any integers
``>= 0`` of any integer dtype, not necessarily consecutive, up to the dtype's maximum (panoptica
wraps ``max(id) + 1`` to 0 at 255 and 65535, cellpose raises: CONVENTIONS-objects §4); 0 is the
background.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segscore._types import IntArray
from segscore._validation import check_int, check_same_shape, fail, fail_must
from segscore.metrics._kernel import DEFAULT_KERNEL, KernelSettings, overlap_tables
from segscore.metrics.counting import _is_tensor
from segscore.metrics.counts import _batch_shape
from segscore.metrics.options import CountingOptions

__all__ = ["OverlapTable", "overlap_table"]

IdArray = np.ndarray[Any, np.dtype[np.integer[Any]]]

_INT64_MAX = 2**63 - 1

_ARRAY_FIELDS = (
    "pred_ids",
    "pred_areas",
    "target_ids",
    "target_areas",
    "pair_pred",
    "pair_target",
    "pair_intersection",
)


@dataclass(frozen=True, slots=True)
class OverlapTable:
    """The overlaps of one image's predicted and target objects, as exact int64 pixel counts.

    Attributes
    ----------
    pred_ids, target_ids : ndarray of int, shape (P,) and (G,)
        The object ids (sorted, background 0 excluded); int64, or uint64 for uint64 input.
    pred_areas, target_areas : ndarray of int64, shape (P,) and (G,)
        Pixels of each object (pixels whose target is the ignore id are not counted).
    pair_pred, pair_target : ndarray of int64, shape (K,)
        For each overlapping pair, the index of its objects in ``pred_ids`` and ``target_ids``
        (sorted by prediction, then target).
    pair_intersection : ndarray of int64, shape (K,)
        Pixels shared by the pair (> 0).
    n_pixels : int
        Pixels counted (the image without its ignored pixels).

    Examples
    --------
    >>> t = overlap_table(np.array([[0, 7, 7, 9]]), np.array([[5, 5, 5, 0]]))[0]
    >>> t.pred_ids, t.pred_areas, t.target_ids, t.target_areas
    (array([7, 9]), array([2, 1]), array([5]), array([3]))
    >>> t.pair_pred, t.pair_target, t.pair_intersection, t.pair_union
    (array([0]), array([0]), array([2]), array([3]))
    """

    pred_ids: IdArray
    pred_areas: IntArray
    target_ids: IdArray
    target_areas: IntArray
    pair_pred: IntArray
    pair_target: IntArray
    pair_intersection: IntArray
    n_pixels: int

    @property
    def n_pred(self) -> int:
        """Number of predicted objects."""
        return int(self.pred_ids.size)

    @property
    def n_target(self) -> int:
        """Number of target objects."""
        return int(self.target_ids.size)

    @property
    def n_pairs(self) -> int:
        """Number of overlapping (prediction, target) pairs: the table's size."""
        return int(self.pair_intersection.size)

    @property
    def pair_pred_area(self) -> IntArray:
        """Area of the predicted object of each pair."""
        return np.asarray(self.pred_areas[self.pair_pred], dtype=np.int64)

    @property
    def pair_target_area(self) -> IntArray:
        """Area of the target object of each pair."""
        return np.asarray(self.target_areas[self.pair_target], dtype=np.int64)

    @property
    def pair_union(self) -> IntArray:
        """Pixels in either object of each pair."""
        return self.pair_pred_area + self.pair_target_area - self.pair_intersection

    def as_record(self) -> dict[str, Any]:
        """Return the table as plain lists (JSON-ready, exact); :meth:`from_record` reads it.

        Examples
        --------
        >>> t = overlap_table(np.array([[0, 7, 7, 9]]), np.array([[5, 5, 5, 0]]))[0]
        >>> OverlapTable.from_record(t.as_record()) == t
        True
        """
        return {
            "id_dtype": self.pred_ids.dtype.str,
            **{name: getattr(self, name).tolist() for name in _ARRAY_FIELDS},
            "n_pixels": self.n_pixels,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> OverlapTable:
        """Return the table of :meth:`as_record`'s record."""
        ids = np.dtype(record["id_dtype"])
        arrays = {
            name: np.asarray(record[name], dtype=ids if name.endswith("_ids") else np.int64)
            for name in _ARRAY_FIELDS
        }
        return cls(**arrays, n_pixels=int(record["n_pixels"]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OverlapTable):
            return NotImplemented
        return self.n_pixels == other.n_pixels and all(
            np.array_equal(getattr(self, f), getattr(other, f)) for f in _ARRAY_FIELDS
        )

    def swapped(self) -> OverlapTable:
        """Return the table with the roles of prediction and target exchanged."""
        order = np.lexsort((self.pair_pred, self.pair_target))
        return OverlapTable(
            self.target_ids,
            self.target_areas,
            self.pred_ids,
            self.pred_areas,
            self.pair_target[order],
            self.pair_pred[order],
            self.pair_intersection[order],
            self.n_pixels,
        )


def _as_ids(name: str, x: Any) -> np.ndarray[Any, Any]:
    """Return an integer array of ids >= 0 (torch tensors are copied to the host)."""
    if _is_tensor(x):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype == np.bool_:
        return a.astype(np.uint8)
    if not np.issubdtype(a.dtype, np.integer):
        fail_must(
            name,
            "hold integer instance ids (0 = background); turn masks into objects with "
            "`label_components`",
            f"dtype {a.dtype}",
        )
    if a.size and np.issubdtype(a.dtype, np.signedinteger) and a.min() < 0:
        fail_must(name, "hold instance ids >= 0 (0 = background)", f"minimum {int(a.min())}")
    return a


def _resolve(
    options: CountingOptions | None, spatial_dims: int | None, ignore_index: int | None
) -> tuple[int | None, int | None]:
    if options is None:
        if ignore_index is not None:
            ignore_index = check_int("ignore_index", ignore_index, low=0)
        return spatial_dims, ignore_index
    if not isinstance(options, CountingOptions):
        fail(f"`options` must be CountingOptions, got {type(options).__name__}.")
    for key, value in (("spatial_dims", spatial_dims), ("ignore_index", ignore_index)):
        if value is not None and value != getattr(options, key):
            fail(
                f"`{key}` must not be given with `options` (set it in the options), got "
                f"{key}={value!r} with options.{key}={getattr(options, key)!r}."
            )
    return options.spatial_dims, options.ignore_index


@dataclass(frozen=True, slots=True)
class _Pairs:
    """The distinct (prediction, target) keys of one image and their pixel counts."""

    keys: IntArray  # sorted, pred * width + target (codes when ``*_values`` is given)
    counts: IntArray
    width: int
    n_pixels: int
    pred_values: Any = None  # id of each code, when ids were relabelled
    target_values: Any = None


def _changes(p: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return the flags of the pixels that start a run of equal (prediction, target)."""
    change = np.empty(p.size, dtype=bool)
    change[:1] = True
    np.not_equal(p[1:], p[:-1], out=change[1:])
    change[1:] |= t[1:] != t[:-1]
    return change


def _unique_sorted(keys: np.ndarray[Any, Any]) -> IntArray:
    """Positions where a new value starts in sorted ``keys``."""
    first = np.empty(keys.size, dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return np.flatnonzero(first)


def _sum_by_key(keys: IntArray, weights: IntArray) -> tuple[IntArray, IntArray]:
    """Return the distinct ``keys`` (sorted) and the sum of ``weights`` (>= 0) of each."""
    bits = max(1, int(weights.max(initial=0)).bit_length())
    if keys.size and int(keys.max()) < 2 ** (63 - bits):
        # one plain sort of (key, weight) packed in int64 (much faster than an argsort)
        packed = keys << bits
        packed |= weights
        packed.sort()
        keys = packed >> bits
        weights = packed & ((1 << bits) - 1)
    else:
        order = np.argsort(keys, kind="stable")
        keys, weights = keys[order], weights[order]
    bounds = _unique_sorted(keys)
    sums = np.add.reduceat(weights, bounds) if bounds.size else bounds
    return keys[bounds], sums


def _run_pairs(
    p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], change: Any, ignore: int | None
) -> _Pairs:
    """Count the pairs from the runs: one key per run, sorted once, lengths summed per key."""
    starts = np.flatnonzero(change)
    lengths = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=lengths[:-1])
    lengths[-1:] = p.size - starts[-1:]
    run_p = p[starts]
    run_t = t[starts]
    del starts
    if ignore is not None:
        keep = run_t != ignore  # the target is constant along a run
        if not keep.all():
            run_p, run_t, lengths = run_p[keep], run_t[keep], lengths[keep]
    p_max = int(run_p.max()) if run_p.size else 0
    t_max = int(run_t.max()) if run_t.size else 0
    pred_values: Any = None
    target_values: Any = None
    width = t_max + 1
    if width <= _INT64_MAX and (p_max + 1) * width - 1 <= _INT64_MAX:  # width too: 2**63
        keys = run_p.astype(np.int64)
        keys *= width
        # in int64 (uint64 + int64 would compute in float64): exact for ids that fit
        np.add(keys, run_t, out=keys, dtype=np.int64, casting="unsafe")
    else:  # ids too large to combine: relabel each side to 0..n-1 first (0 stays 0)
        pred_values, p_code = np.unique(run_p, return_inverse=True)
        target_values, t_code = np.unique(run_t, return_inverse=True)
        width = int(target_values.size)
        keys = p_code.astype(np.int64).ravel() * width + t_code.astype(np.int64).ravel()
    n = int(lengths.sum())
    keys, counts = _sum_by_key(keys, lengths)
    return _Pairs(keys, counts, width, n, pred_values, target_values)


def _pixel_pairs(
    p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], width: int, ignore: int | None
) -> _Pairs:
    """Count the pairs from one key per pixel, sorted in place (for images without runs)."""
    small = width < 2**32 and (int(p.max()) + 1) * width <= 2**32
    dtype = np.uint32 if small else np.int64  # 4 bytes per pixel where the keys fit
    keys = p.astype(dtype)
    keys *= dtype(width)
    np.add(keys, t, out=keys, dtype=dtype, casting="unsafe")  # ids >= 0 that fit: exact
    keys.sort()
    bounds = _unique_sorted(keys)
    counts = np.diff(bounds, append=keys.size)
    uniq = keys[bounds].astype(np.int64)
    del keys
    n = int(p.size)
    if ignore is not None and ignore < width:
        drop = uniq % width == ignore
        n -= int(counts[drop].sum())
        uniq, counts = uniq[~drop], counts[~drop]
    return _Pairs(uniq, counts, width, n)


def _pairs(p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], ignore: int | None) -> _Pairs:
    change = _changes(p, t)
    # Label maps are made of runs (an object spans many neighbouring pixels): counting a few
    # runs per row is much cheaper than sorting a key per pixel. Where runs are short (noise),
    # one key per pixel sorted in place needs less memory.
    if 4 * int(np.count_nonzero(change)) > p.size:
        width = int(t.max()) + 1  # 2**63 for the int64 maximum: not an int64 itself
        if p.size and width <= _INT64_MAX and (int(p.max()) + 1) * width - 1 <= _INT64_MAX:
            del change
            return _pixel_pairs(p, t, width, ignore)
    return _run_pairs(p, t, change, ignore)


def _image_table(
    p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], ignore: int | None
) -> OverlapTable:
    """Return the table of one image, counted with numpy (the reference of :func:`_compiled_tables`)."""
    pairs = _pairs(p.ravel(), t.ravel(), ignore)
    uniq, inter, width = pairs.keys, pairs.counts, pairs.width
    pred_values, target_values = pairs.pred_values, pairs.target_values
    key_pred = uniq // width
    key_target = uniq - key_pred * width
    # Areas: the rows of the table summed over the other side (background included). The keys
    # are sorted by prediction, so each prediction's pairs are consecutive.
    p_first = np.empty(key_pred.size, dtype=bool)
    p_first[:1] = True
    np.not_equal(key_pred[1:], key_pred[:-1], out=p_first[1:])
    p_bounds = np.flatnonzero(p_first)
    p_key_ids = key_pred[p_bounds]
    p_index = np.cumsum(p_first) - 1
    p_areas_i = np.add.reduceat(inter, p_bounds) if p_bounds.size else p_bounds
    t_key_ids, t_index = np.unique(key_target, return_inverse=True)
    t_index = t_index.ravel()
    t_areas_i = np.zeros(t_key_ids.size, dtype=np.int64)
    np.add.at(t_areas_i, t_index, inter)

    def ids(codes: IntArray, values: Any) -> IdArray:
        if values is None:
            return codes.astype(np.int64)
        out: IdArray = values[codes]
        return out.astype(np.uint64) if out.dtype == np.uint64 else out.astype(np.int64)

    p_ids_all = ids(p_key_ids, pred_values)
    t_ids_all = ids(t_key_ids, target_values)
    p_fg = p_ids_all != 0
    t_fg = t_ids_all != 0
    pair = (p_ids_all[p_index] != 0) & (t_ids_all[t_index] != 0)
    # Indices into the foreground-only id arrays.
    p_shift = np.cumsum(p_fg) - 1
    t_shift = np.cumsum(t_fg) - 1
    return OverlapTable(
        pred_ids=p_ids_all[p_fg],
        pred_areas=np.asarray(p_areas_i[p_fg], dtype=np.int64),
        target_ids=t_ids_all[t_fg],
        target_areas=t_areas_i[t_fg],
        pair_pred=p_shift[p_index[pair]].astype(np.int64),
        pair_target=t_shift[t_index[pair]].astype(np.int64),
        pair_intersection=np.asarray(inter[pair], dtype=np.int64),
        n_pixels=pairs.n_pixels,
    )


def _compiled_tables(
    p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], ignore: int | None, kernel: KernelSettings
) -> tuple[OverlapTable, ...] | None:
    """Return the tables of a batch ``(images, pixels)`` from one call of the compiled kernel.

    The kernel writes every image's table (:func:`segscore.metrics._kernel.overlap_tables`);
    each table's arrays are views of that one buffer. None when the kernel is not in use
    (numpy counts, :func:`_image_table`).
    """
    found = overlap_tables(p, t, ignore, kernel=kernel)
    if found is None:
        return None
    data, sizes = found
    tables = []
    at = 0
    for n_pred, n_target, n_pairs, counted in sizes.tolist():
        # [at, b): pred ids, [b, c): pred areas, then target ids, areas, and the pair arrays
        b = at + n_pred
        c = b + n_pred
        d = c + n_target
        e = d + n_target
        f = e + n_pairs
        g = f + n_pairs
        h = g + n_pairs
        tables.append(
            OverlapTable(
                data[at:b],
                data[b:c],
                data[c:d],
                data[d:e],
                data[e:f],
                data[f:g],
                data[g:h],
                counted,
            )
        )
        at = h
    return tuple(tables)


def overlap_table(
    pred: Any,
    target: Any,
    *,
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
    ignore_index: int | None = None,
    kernel: KernelSettings = DEFAULT_KERNEL,
) -> tuple[OverlapTable, ...]:
    """Return the exact, sparse overlap table of each image of a batch of instance label maps.

    Parameters
    ----------
    pred, target : array_like or torch.Tensor of int, shape (*S) or (N, *S)
        Instance label maps: any integer ids >= 0, 0 = background. The layout rule of
        :class:`~segscore.metrics.options.CountingOptions`: 2-D is one image, 3-D a batch of
        2-D images unless ``spatial_dims=3``, 4-D a batch of volumes. Boolean arrays are one
        object each; masks are turned into objects with :func:`label_components`.
    options : CountingOptions, optional
        Its ``spatial_dims`` and ``ignore_index`` are used (the same layout rule as every
        family). Give either ``options`` or the keywords.
    spatial_dims : {2, 3}, optional
        Number of spatial axes (see above).
    ignore_index : int, optional
        A target id whose pixels are left out of every count (area, intersection, union), as if
        they were not in the image. Predicted objects keep their other pixels.
    kernel : KernelSettings, optional
        Whether the compiled pair counter is used (default: when built); the numpy path gives
        the same tables.

    Returns
    -------
    tuple of OverlapTable
        One table per image (one for a single image).

    Raises
    ------
    InputError
        On float or negative ids, different shapes, a wrong number of axes or a conflict
        between ``options`` and a keyword.

    Notes
    -----
    With the compiled kernel (ids of up to 64 bits, signed or unsigned up to 32 bits, int64), one
    pass over each image adds every run of equal (prediction, target) pairs to a hash table of
    the pairs seen: no key per pixel, no sort of the pixels, memory O(pairs); the kernel sorts
    the pairs and writes the tables of the whole batch in one call, the images split over
    ``kernel.threads`` threads. Otherwise (numpy):
    label maps are made of runs: neighbouring pixels (in memory order) with the same
    (prediction, target) pair. Two ``!=`` passes over each image find where runs start, and
    the table is counted from one int64 key ``pred * (max(target) + 1) + target`` per run
    (sorted once, run lengths summed per key), so the work per pixel is a few comparisons and
    no per-pixel key is made. When more than a quarter of the pixels start a run (noise), one
    key per pixel is sorted in place instead (uint32 when it fits). When the ids are so large
    that the key would overflow int64 (e.g. uint64 ids), each side is first relabelled to
    ``0 .. n-1``. Memory: about 2 bytes per pixel plus a few tens of bytes per run (a
    sorted key of 4 or 8 bytes per pixel without runs), and O(pairs) for the table.

    Examples
    --------
    >>> pred = np.array([[1, 1, 0], [2, 2, 2]], dtype=np.uint8)
    >>> target = np.array([[255, 255, 255], [0, 0, 3]], dtype=np.uint8)  # id 255 = dtype max
    >>> t = overlap_table(pred, target)[0]
    >>> t.target_ids.tolist(), t.pair_intersection.tolist(), t.pair_union.tolist()
    ([3, 255], [2, 1], [3, 3])
    >>> overlap_table(pred, target, ignore_index=3)[0].pred_areas.tolist()
    [2, 2]
    """
    dims, ignore = _resolve(options, spatial_dims, ignore_index)
    p = _as_ids("pred", pred)
    t = _as_ids("target", target)
    check_same_shape(p.shape, t.shape)
    shape = _batch_shape("pred", p.shape, dims, channel_axis=False)
    p = p.reshape(shape)
    t = t.reshape(shape)
    rows = (shape[0], math.prod(shape[1:]))
    tables = _compiled_tables(p.reshape(rows), t.reshape(rows), ignore, kernel)
    if tables is not None:
        return tables
    return tuple(_image_table(p[i], t[i], ignore) for i in range(shape[0]))


def concat_tables(parts: Sequence[Sequence[OverlapTable]]) -> tuple[OverlapTable, ...]:
    """Join the tables of several batches (tables are per image, so joining is exact)."""
    return tuple(table for part in parts for table in part)

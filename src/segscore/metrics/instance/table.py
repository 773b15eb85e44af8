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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segscore._types import IntArray
from segscore._validation import check_int, check_same_shape, fail, fail_must
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


def _image_table(
    p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], ignore: int | None
) -> OverlapTable:
    p = p.ravel()
    t = t.ravel()
    if ignore is not None:
        keep = t != ignore
        if not keep.all():
            p, t = p[keep], t[keep]
    n = int(p.size)
    p_max = int(p.max()) if n else 0
    t_max = int(t.max()) if n else 0
    # One pass: np.unique of combined int64 keys (the measured fastest numpy route; a compiled
    # single pass with a hash table, like the counting kernel, would replace this sort).
    if (p_max + 1) * (t_max + 1) - 1 <= _INT64_MAX:
        width = t_max + 1
        keys = p.astype(np.int64) * width + t.astype(np.int64)
        pred_values: Any = None
        target_values: Any = None
    else:  # ids too large to combine: relabel each side to 0..n-1 first (0 stays 0)
        pred_values, p_code = np.unique(p, return_inverse=True)
        target_values, t_code = np.unique(t, return_inverse=True)
        width = int(target_values.size)
        keys = p_code.astype(np.int64).ravel() * width + t_code.astype(np.int64).ravel()
    uniq, inter = np.unique(keys, return_counts=True)
    key_pred = uniq // width
    key_target = uniq - key_pred * width
    inter = inter.astype(np.int64)
    # Areas: the rows of the table summed over the other side (background included).
    p_key_ids, p_index = np.unique(key_pred, return_inverse=True)
    p_areas = np.bincount(p_index.ravel(), weights=inter, minlength=p_key_ids.size)
    t_key_ids, t_index = np.unique(key_target, return_inverse=True)
    t_areas = np.bincount(t_index.ravel(), weights=inter, minlength=t_key_ids.size)
    # bincount sums in float64: exact below 2**53 pixels per object.
    p_areas_i = p_areas.astype(np.int64)
    t_areas_i = t_areas.astype(np.int64)

    def ids(codes: IntArray, values: Any) -> IdArray:
        if values is None:
            return codes.astype(np.int64)
        out: IdArray = values[codes]
        return out.astype(np.uint64) if out.dtype == np.uint64 else out.astype(np.int64)

    p_ids_all = ids(p_key_ids, pred_values)
    t_ids_all = ids(t_key_ids, target_values)
    p_fg = p_ids_all != 0
    t_fg = t_ids_all != 0
    pair = (key_pred != 0) & (key_target != 0) if pred_values is None else None
    if pair is None:
        pair = (p_ids_all[p_index.ravel()] != 0) & (t_ids_all[t_index.ravel()] != 0)
    # Indices into the foreground-only id arrays.
    p_shift = np.cumsum(p_fg) - 1
    t_shift = np.cumsum(t_fg) - 1
    return OverlapTable(
        pred_ids=p_ids_all[p_fg],
        pred_areas=p_areas_i[p_fg],
        target_ids=t_ids_all[t_fg],
        target_areas=t_areas_i[t_fg],
        pair_pred=p_shift[p_index.ravel()[pair]].astype(np.int64),
        pair_target=t_shift[t_index.ravel()[pair]].astype(np.int64),
        pair_intersection=inter[pair],
        n_pixels=n,
    )


def overlap_table(
    pred: Any,
    target: Any,
    *,
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
    ignore_index: int | None = None,
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
    One ``np.unique`` over the int64 keys ``pred * (max(target) + 1) + target`` per image;
    when the ids are so large that the key would overflow int64 (e.g. uint64 ids), each side is
    first relabelled to ``0 .. n-1``. Memory: O(pixels) for the keys, O(pairs) for the table.

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
    return tuple(_image_table(p[i], t[i], ignore) for i in range(shape[0]))


def concat_tables(parts: Sequence[Sequence[OverlapTable]]) -> tuple[OverlapTable, ...]:
    """Join the tables of several batches (tables are per image, so joining is exact)."""
    return tuple(table for part in parts for table in part)

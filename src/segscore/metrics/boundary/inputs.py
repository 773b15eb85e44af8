"""Input handling of the boundary metrics: ``pred`` and ``target`` to per-class masks.

Shapes, spacing, binary values or label ranges and the two ignore options are checked here once,
for :func:`~segscore.metrics.boundary.distances.surface_distances` and
:func:`~segscore.metrics.boundary.iou.boundary_iou` alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from segscore._types import BoolArray
from segscore._validation import (
    check_int,
    check_ndim,
    check_not_empty,
    check_same_shape,
    check_spacing,
    fail,
    fail_binary_values,
    fail_labels,
)


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

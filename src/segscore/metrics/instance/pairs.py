"""Boundary distances of matched object pairs (HD95, ASSD, NSD... of each pair), on crops.

Each pair is scored by the boundary engine (:func:`segscore.metrics.boundary.distance_metrics`)
on the bounding box of the two objects' union with a one-pixel margin (clipped to the image):
outside it both objects' masks are background, so every surface element and every distance is
the one the full image gives, at the cost of the box only. No full-size mask is made per object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from segscore._types import FloatArray
from segscore._validation import fail
from segscore.metrics.instance.matching import Matching
from segscore.metrics.instance.table import _as_ids

__all__ = ["pair_distances"]


def _index_map(ids_map: np.ndarray[Any, Any], ids: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Map object ids to 1 + their index in ``ids`` (sorted); other values (0, ignore) to 0."""
    if ids.size == 0:
        return np.zeros(ids_map.shape, dtype=np.int64)
    pos = np.minimum(np.searchsorted(ids, ids_map), ids.size - 1)
    hit = (ids_map != 0) & (ids[pos] == ids_map)
    return np.where(hit, pos + 1, 0).astype(np.int64)


def pair_distances(
    pred: Any,
    target: Any,
    matching: Matching,
    metrics: Sequence[str] = ("hd95", "assd"),
    *,
    spacing: float | Sequence[float] | None = None,
    ignore_index: int | None = None,
    **conventions: Any,
) -> dict[str, FloatArray]:
    """Return boundary metrics of every matched pair of one image, aligned with ``matching.pairs``.

    Parameters
    ----------
    pred, target : array_like of int, shape (*S)
        The instance label maps of one image (2-D or 3-D) whose overlap table was matched.
    matching : Matching
        The matches (:func:`~segscore.metrics.instance.matching.match`).
    metrics : sequence of str, default ('hd95', 'assd')
        Boundary metrics of the registry.
    spacing : float or sequence of float, optional
        Pixel or voxel spacing (numpy axis order).
    ignore_index : int, optional
        Target id whose pixels are ignored (their surface elements are dropped).
    **conventions
        Other options of :func:`~segscore.metrics.boundary.distance_metrics` (``preset``,
        ``surface``, ``rule``, ...).

    Returns
    -------
    dict of str to ndarray of float64, shape (M,)
        One value per matched pair (``'asd'``: the mean of its two directions is not taken; it
        is refused: name ``'assd'`` or ``'masd'``).

    Raises
    ------
    InputError
        On maps of another shape than the table's image, or a metric that is not a boundary one.

    Examples
    --------
    >>> from segscore.metrics.instance.matching import match_instances
    >>> pred = np.zeros((8, 8), int); pred[1:4, 1:4] = 5; pred[5:8, 5:8] = 6
    >>> target = np.zeros((8, 8), int); target[1:4, 1:5] = 2; target[5:8, 5:8] = 3
    >>> m = match_instances(pred, target)[0]
    >>> d = pair_distances(pred, target, m, ["hd", "assd"])
    >>> m.matched_ids(), d["hd"], d["assd"]
    ([(5, 2), (6, 3)], array([1., 0.]), array([0.2, 0. ]))
    """
    from scipy import ndimage

    from segscore.metrics.boundary import distance_metrics

    if any(m == "asd" for m in metrics):
        fail("`metrics` must name symmetric distances per pair ('assd', 'masd'), got 'asd'.")
    p = _as_ids("pred", pred)
    t = _as_ids("target", target)
    table = matching.table
    if p.shape != t.shape or p.ndim not in (2, 3):
        fail(f"`pred` and `target` must be one 2-D or 3-D image each, got {p.shape} and {t.shape}.")
    pi = _index_map(p, np.asarray(table.pred_ids))
    ti = _index_map(t, np.asarray(table.target_ids))
    if int((pi > 0).sum()) != int(table.pred_areas.sum() + _ignored(t, pi, ignore_index)):
        fail("`pred` must be the label map whose overlap table was matched, got another map.")
    boxes_p = ndimage.find_objects(pi, max_label=table.n_pred)
    boxes_t = ndimage.find_objects(ti, max_label=table.n_target)
    out = {name: np.empty(matching.tp, dtype=np.float64) for name in metrics}
    for k, (a, b) in enumerate(zip(matching.pred_index, matching.target_index, strict=True)):
        box = _union_box(boxes_p[a], boxes_t[b], p.shape)
        found = distance_metrics(
            pi[box] == a + 1,
            ti[box] == b + 1,
            list(metrics),
            spatial_dims=p.ndim,
            spacing=spacing,
            ignore_mask=None if ignore_index is None else t[box] == ignore_index,
            **conventions,
        )
        for name in metrics:
            out[name][k] = found.values[name][0, 0]
    return out


def _ignored(t: np.ndarray[Any, Any], pi: np.ndarray[Any, Any], ignore: int | None) -> int:
    """Predicted pixels on ignored target pixels (not in the table's areas)."""
    return 0 if ignore is None else int(((t == ignore) & (pi > 0)).sum())


def _union_box(
    a: tuple[slice, ...] | None, b: tuple[slice, ...] | None, shape: tuple[int, ...]
) -> tuple[slice, ...]:
    """Return the bounding box of two boxes, grown by one pixel and clipped to the image."""
    if a is None or b is None:  # pragma: no cover - matched objects have pixels
        fail("a matched object has no pixel; this is a bug.")
    return tuple(
        slice(max(0, min(x.start, y.start) - 1), min(n, max(x.stop, y.stop) + 1))
        for x, y, n in zip(a, b, shape, strict=True)
    )

"""The objects of one case: its overlap table, the masks its pixel metrics score, pair distances.

``'labels'``: the files are instance label maps; the pixel metrics score their foreground (id > 0;
the target's ignore id stays ignored). ``'components'``: the files are masks (a probability map is
thresholded first, ``p >= threshold`` or ``p > threshold``); each connected region is an object and the pixel metrics
score the masks as they are; a probability map's objects carry a detection score, their mean
probability (COCO metrics). With ``object_distances``, the matched pairs at the per-object
threshold are scored by the boundary engine on crops
(:func:`segscore.metrics.instance.pairs.pair_distances`), in the order of the matching's pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from segscore._types import FloatArray
from segscore.metrics.options import above_threshold

if TYPE_CHECKING:
    from segscore.evaluation.runner import EvaluateOptions
    from segscore.metrics.instance.table import OverlapTable

__all__ = ["MadeObjects", "case_objects", "object_label_maps"]


@dataclass(frozen=True)
class MadeObjects:
    """What a case's objects give: the table, the pixel arrays, the matched pairs' distances."""

    table: OverlapTable
    pred: np.ndarray[Any, Any]
    target: np.ndarray[Any, Any]
    distances: dict[str, FloatArray] | None = None
    scores: FloatArray | None = None  # per predicted object (table order): mean probability
    lesions: tuple[dict[str, float], dict[str, Any]] | None = None  # values, conventions


def case_objects(
    p: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    options: EvaluateOptions,
    *,
    spacing: tuple[float, ...] | None = None,
) -> MadeObjects:
    """Make the objects of one case (module docstring); raise InputError on bad input."""
    from segscore.metrics.instance.table import overlap_table

    obj_p, obj_t, ignore_id = object_label_maps(p, t, options)
    table = overlap_table(obj_p, obj_t, spatial_dims=p.ndim, ignore_index=ignore_id)[0]
    distances = _distances(obj_p, obj_t, table, options, spacing, ignore_id)
    lesions = _lesions(p, t, options, spacing)
    if options.instances == "labels":
        ignore = options.ignore_index
        pixel_p = (p != 0).astype(np.uint8)
        pixel_t: np.ndarray[Any, Any] = (t != 0).astype(np.uint8)
        if ignore is not None:
            pixel_t = np.where(t == ignore, ignore, pixel_t).astype(np.int64)
        return MadeObjects(table, pixel_p, pixel_t, distances, lesions=lesions)
    scores = None
    if p.dtype.kind == "f":
        from segscore.metrics.instance.detection_scores import object_scores

        scores = object_scores(p, obj_p, spatial_dims=p.ndim)[0]
    return MadeObjects(table, p, t, distances, scores, lesions)


def object_label_maps(
    p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], options: EvaluateOptions
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], int | None]:
    """Return the label maps whose objects a case's overlap table counts, and the ignore id.

    ``'labels'``: the arrays themselves and the target's ignore id. ``'components'``: the
    connected components of the masks (a probability map is thresholded first, ``p >=
    threshold`` or ``p > threshold``: ``threshold_comparison``), with ``options.connectivity``; the target's ignored pixels get an id of their
    own (returned) so that they stay ignored. The report draws the objects from these maps: their
    ids are the table's. Raises InputError on bad input.
    """
    from segscore.metrics.instance.components import label_components

    ignore = options.ignore_index
    if options.instances == "labels":
        return p, t, ignore
    mask_p = (
        above_threshold(p, options.threshold, options.threshold_comparison)
        if p.dtype.kind == "f"
        else p
    )
    kept_t = t if ignore is None else np.where(t == ignore, 0, t)
    conn = options.connectivity
    dims = p.ndim
    obj_p = label_components(mask_p, connectivity=conn, spatial_dims=dims)  # type: ignore[arg-type]
    obj_t = label_components(kept_t, connectivity=conn, spatial_dims=dims)  # type: ignore[arg-type]
    sentinel = None
    if ignore is not None:
        sentinel = int(obj_t.max()) + 1
        obj_t[t == ignore] = sentinel
    return obj_p, obj_t, sentinel


def _lesions(
    p: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    options: EvaluateOptions,
    spacing: tuple[float, ...] | None,
) -> tuple[dict[str, float], dict[str, Any]] | None:
    """BraTS 2023 lesion-wise values of one case, from its foregrounds (and their record)."""
    if not options.lesion_metrics:
        return None
    from segscore.metrics.conventions import jsonable
    from segscore.metrics.instance.lesion import lesion_scores

    mask_p = (
        above_threshold(p, options.threshold, options.threshold_comparison)
        if p.dtype.kind == "f"
        else p != 0
    )
    found = lesion_scores(
        mask_p, t != 0, options.lesion_metrics, spacing=spacing, spatial_dims=p.ndim
    )
    values = {name: float(s.per_image[0]) for name, s in found.items()}
    record = {name: jsonable(s.conventions.as_dict()) for name, s in found.items()}
    return values, record


def _distances(
    p: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    table: OverlapTable,
    options: EvaluateOptions,
    spacing: tuple[float, ...] | None,
    ignore: int | None,
) -> dict[str, FloatArray] | None:
    if not options.object_distances:
        return None
    from segscore.metrics.instance.matching import match
    from segscore.metrics.instance.pairs import pair_distances

    matched = match(
        table,
        threshold=options.object_threshold,
        matching=options.matching,  # type: ignore[arg-type]
        criterion=options.criterion,  # type: ignore[arg-type]
        comparison=options.comparison,  # type: ignore[arg-type]
    )
    return pair_distances(
        p,
        t,
        matched,
        options.object_distances,
        spacing=spacing,
        ignore_index=ignore,
        preset=options.preset,
    )

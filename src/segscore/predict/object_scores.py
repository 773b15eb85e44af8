"""Pixel IoU beside object scores: what pixel overlap hides about merged objects.

Two touching nuclei predicted as one blob keep almost every pixel right, so pixel IoU barely
moves, but the blob matches at most one of them: object F1 drops and the other nucleus is
missed. :func:`pixels_and_objects` puts the two views of one set of predictions side by side
and counts the merged target objects. Pure: numpy and :mod:`segscore.metrics`, no files.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from segscore._types import Aggregation
from segscore._validation import check_number
from segscore.metrics import confusion, instance_scores, overlap_table, score
from segscore.metrics.instance.matching import read_threshold
from segscore.metrics.instance.table import OverlapTable
from segscore.metrics.reduce import DEFAULT_AGGREGATION, Score

__all__ = ["PixelsAndObjects", "count_merged", "pixels_and_objects"]


@dataclass(frozen=True, slots=True)
class PixelsAndObjects:
    """Pixel and object scores of one set of predictions.

    Attributes
    ----------
    pixel_iou : Score
        IoU of the foregrounds (``pred > 0`` against ``target > 0``).
    object_f1 : Score
        Object F1 at ``threshold`` (one-to-one matching, IoU >= threshold).
    threshold : Fraction
        The object matching threshold, exact.
    n_pred, n_target : int
        Objects over all images.
    tp, fp, fn : int
        Matched pairs, unmatched predictions and unmatched targets over all images.
    n_merged : int
        Target objects that a merged prediction swallowed (:func:`count_merged`).
    """

    pixel_iou: Score
    object_f1: Score
    threshold: Fraction
    n_pred: int
    n_target: int
    tp: int
    fp: int
    fn: int
    n_merged: int


def count_merged(table: OverlapTable, *, min_cover: float = 0.5) -> int:
    """Count the target objects whose best-matching prediction also covers another target.

    Parameters
    ----------
    table : OverlapTable
        The overlaps of one image (:func:`segscore.overlap_table`).
    min_cover : float, default 0.5
        A prediction covers a target object when it holds at least this fraction of the
        object's pixels; 0 means at least one pixel.

    Returns
    -------
    int
        The number of target objects ``g`` whose best-matching prediction (the one of highest
        IoU with ``g``; ties to the lower id) covers at least two target objects. Target
        objects that no prediction touches are not counted.

    Examples
    --------
    >>> from segscore import overlap_table
    >>> target = np.array([[1, 1, 2, 2, 0, 3]])
    >>> pred = np.array([[5, 5, 5, 5, 0, 6]])       # 5 merges targets 1 and 2
    >>> count_merged(overlap_table(pred, target)[0])
    2
    >>> pred = np.array([[5, 5, 5, 0, 0, 6]])       # 5 holds half of target 2
    >>> count_merged(overlap_table(pred, target)[0]), count_merged(
    ...     overlap_table(pred, target)[0], min_cover=0.75)
    (2, 0)
    """
    cover = check_number("min_cover", min_cover, low=0, high=1)
    if table.n_pairs == 0:
        return 0
    inter = table.pair_intersection
    union = table.pred_areas[table.pair_pred] + table.target_areas[table.pair_target] - inter
    target_area = table.target_areas[table.pair_target]
    covers = inter > 0 if cover == 0 else inter >= cover * target_area
    n_covered = np.bincount(table.pair_pred[covers], minlength=table.n_pred)
    # best prediction of each target: highest IoU (compared exactly), then the lower index
    order = sorted(
        range(table.n_pairs),
        key=lambda k: (
            int(table.pair_target[k]),
            -Fraction(int(inter[k]), int(union[k])),
            int(table.pair_pred[k]),
        ),
    )
    best: dict[int, int] = {}
    for k in order:
        best.setdefault(int(table.pair_target[k]), int(table.pair_pred[k]))
    return sum(1 for p in best.values() if n_covered[p] >= 2)


def pixels_and_objects(
    pred: Any,
    target: Any,
    *,
    threshold: float | str = 0.5,
    aggregation: Aggregation = DEFAULT_AGGREGATION,
    min_cover: float = 0.5,
) -> PixelsAndObjects:
    """Score instance predictions by pixel IoU and object F1, side by side.

    Parameters
    ----------
    pred, target : array_like of int, shape (H, W) or (N, H, W)
        Instance label maps (0 = background), e.g. from
        :func:`segscore.predict.objects.mask_to_objects`. The pixel IoU uses their foreground
        (``> 0``), binarised here.
    threshold : float or str, default 0.5
        Object matching threshold on IoU (``>=``), read exactly as the registry reads
        ``f1@T`` (:func:`segscore.metrics.instance.matching.read_threshold`).
    aggregation : str, default 'images_then_classes'
        For both scores: the mean of per-image values, or ``'pooled'`` (counts summed first).
    min_cover : float, default 0.5
        See :func:`count_merged`.

    Returns
    -------
    PixelsAndObjects

    Raises
    ------
    InputError
        On bad label maps or shapes, a threshold outside (0, 1], an unknown aggregation or
        ``min_cover`` outside [0, 1].

    Examples
    --------
    >>> target = np.array([[1, 1, 2, 2, 0, 0]])     # two touching objects
    >>> pred = np.array([[7, 7, 7, 7, 0, 0]])       # every pixel right, one merged object
    >>> r = pixels_and_objects(pred, target)
    >>> r.pixel_iou.value, r.object_f1.value, (r.tp, r.fp, r.fn), r.n_merged
    (1.0, 0.6666666666666666, (1, 0, 1), 2)
    """
    t = read_threshold(threshold)
    check_number("min_cover", min_cover, low=0, high=1)
    p, g = np.asarray(pred), np.asarray(target)
    name = str(threshold).strip()
    objects = instance_scores(
        p,
        g,
        [f"f1@{name}", f"tp@{name}", f"fp@{name}", f"fn@{name}"],
        aggregation=aggregation,
        spatial_dims=2,
    )
    names = list(objects)
    pixels = score(confusion(p > 0, g > 0, spatial_dims=2), "iou", aggregation=aggregation)
    tables = overlap_table(p, g, spatial_dims=2)

    def total(name: str) -> int:
        return int(np.nansum(objects[name].per_image))

    return PixelsAndObjects(
        pixel_iou=pixels,
        object_f1=objects[names[0]],
        threshold=t,
        n_pred=sum(tb.n_pred for tb in tables),
        n_target=sum(tb.n_target for tb in tables),
        tp=total(names[1]),
        fp=total(names[2]),
        fn=total(names[3]),
        n_merged=sum(count_merged(tb, min_cover=min_cover) for tb in tables),
    )

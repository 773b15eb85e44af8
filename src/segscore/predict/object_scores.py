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
from segscore.metrics import confusion, instance_scores, overlap_table, score
from segscore.metrics.instance.matching import read_threshold
from segscore.metrics.instance.merges import merges
from segscore.metrics.reduce import DEFAULT_AGGREGATION, Score

__all__ = ["PixelsAndObjects", "pixels_and_objects"]


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
        Target objects inside merged predictions: predictions that cover more than half of
        each of two or more target objects (:func:`segscore.metrics.instance.merges.merges`,
        the one definition used by ``evaluate`` and the report too).
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


def pixels_and_objects(
    pred: Any,
    target: Any,
    *,
    threshold: float | str = 0.5,
    aggregation: Aggregation = DEFAULT_AGGREGATION,
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

    Returns
    -------
    PixelsAndObjects

    Raises
    ------
    InputError
        On bad label maps or shapes, a threshold outside (0, 1] or an unknown aggregation.

    Examples
    --------
    >>> target = np.array([[1, 1, 2, 2, 0, 0]])     # two touching objects
    >>> pred = np.array([[7, 7, 7, 7, 0, 0]])       # every pixel right, one merged object
    >>> r = pixels_and_objects(pred, target)
    >>> r.pixel_iou.value, r.object_f1.value, (r.tp, r.fp, r.fn), r.n_merged
    (1.0, 0.6666666666666666, (1, 0, 1), 2)
    """
    t = read_threshold(threshold)
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
        n_merged=sum(merges(tb).merged_targets for tb in tables),
    )

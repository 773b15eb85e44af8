"""Per-image IoU, Dice and pixel accuracy of predicted masks, from exact counts.

Every number comes from :func:`segscore.confusion` and :func:`segscore.score`; nothing here
re-implements a metric. Shared by training (the trace) and prediction;
:mod:`segscore.predict.evaluation` re-exports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segscore._types import FloatArray
from segscore._validation import fail
from segscore.metrics import Counts, confusion, score
from segscore.metrics.reduce import DEFAULT_AGGREGATION, Score

__all__ = ["Evaluation", "count_masks", "evaluate_counts", "evaluate_masks"]


@dataclass(frozen=True)
class Evaluation:
    """IoU, Dice and pixel accuracy of a set of predicted masks.

    Attributes
    ----------
    counts : Counts
        Exact per-image counts, shape (N, C).
    iou, dice, accuracy : Score
        Dataset scores; ``.per_image`` holds the N per-image values.
    """

    counts: Counts
    iou: Score
    dice: Score
    accuracy: Score

    @property
    def n_images(self) -> int:
        """Number of images scored."""
        return self.counts.n_images

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean, median, min and max of each per-image score (NaN entries skipped).

        Examples
        --------
        >>> ev = evaluate_masks([np.array([[1, 0]])], [np.array([[1, 1]])])
        >>> ev.summary()["iou"]
        {'mean': 0.5, 'median': 0.5, 'min': 0.5, 'max': 0.5, 'n_valid': 1}
        """
        out: dict[str, dict[str, float]] = {}
        for name, s in (("iou", self.iou), ("dice", self.dice), ("accuracy", self.accuracy)):
            v: FloatArray = s.per_image[~np.isnan(s.per_image)]
            if v.size == 0:
                stats = {"mean": float("nan"), "median": float("nan")}
                stats |= {"min": float("nan"), "max": float("nan")}
            else:
                stats = {
                    "mean": float(s.value),
                    "median": float(np.median(v)),
                    "min": float(v.min()),
                    "max": float(v.max()),
                }
            out[name] = {**stats, "n_valid": int(v.size)}
        return out


def _count_one(pred: Any, target: Any, num_classes: int | None, ignore_index: int | None) -> Counts:
    if num_classes is None and ignore_index is not None:
        # Binary masks with an ignore label: count as two classes and keep the foreground column.
        return confusion(pred[None], target[None], num_classes=2, ignore_index=ignore_index).select(
            classes=[1]
        )
    return confusion(pred[None], target[None], num_classes=num_classes, ignore_index=ignore_index)


def count_masks(
    preds: Sequence[Any],
    targets: Sequence[Any],
    *,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> Counts:
    """Count each (prediction, target) pair of masks; images may differ in size.

    Parameters
    ----------
    preds, targets : sequence of ndarray of int, each shape (H_i, W_i)
        Predicted and true masks ({0, 1}, or labels when ``num_classes`` is set).
    num_classes, ignore_index : int, optional
        As for :func:`segscore.confusion`; an ignore label also works with binary masks.

    Returns
    -------
    Counts
        Shape (N, 1) for binary masks, (N, num_classes) for label maps.

    Examples
    --------
    >>> count_masks([np.array([[1, 0]]), np.array([[1, 1, 0]])], [np.array([[1, 1]]), np.array([[1, 1, 1]])]).fn
    array([[1],
           [1]])
    """
    if len(preds) != len(targets) or len(preds) == 0:
        fail(
            "`preds` and `targets` must be non-empty and of the same length, "
            f"got {len(preds)} and {len(targets)}."
        )
    return Counts.concat(
        [
            _count_one(np.asarray(p), np.asarray(t), num_classes, ignore_index)
            for p, t in zip(preds, targets, strict=True)
        ]
    )


def evaluate_counts(counts: Counts) -> Evaluation:
    """IoU, Dice and pixel accuracy from counts.

    Notes
    -----
    IoU and Dice under segscore's default aggregation (``'images_then_classes'``, as every
    command): per class the mean over images, then the mean over classes; for binary masks
    simply the mean of the per-image values. Empty-policy: an image whose prediction and target are both empty has NaN IoU and Dice
    and is left out of the mean (see :mod:`segscore.metrics`). Pixel accuracy: binary
    ``(tp + tn) / n``; with classes the share of pixels whose label is right (micro recall).

    Examples
    --------
    >>> ev = evaluate_counts(count_masks([np.array([[1, 0, 0, 0]])], [np.array([[1, 1, 0, 0]])]))
    >>> ev.iou.per_image, ev.dice.per_image, ev.accuracy.per_image
    (array([0.5]), array([0.66666667]), array([0.75]))
    """
    iou = score(counts, "iou", aggregation=DEFAULT_AGGREGATION)
    dice = score(counts, "dice", aggregation=DEFAULT_AGGREGATION)
    if counts.n_classes == 1:
        acc = score(counts, "accuracy", aggregation=DEFAULT_AGGREGATION)
    else:
        acc = score(counts, "recall", aggregation="per_image_micro")
    return Evaluation(counts=counts, iou=iou, dice=dice, accuracy=acc)


def evaluate_masks(
    preds: Sequence[Any],
    targets: Sequence[Any],
    *,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> Evaluation:
    """Count and score predicted masks against targets (see :func:`count_masks`).

    Examples
    --------
    >>> ev = evaluate_masks([np.array([[1, 1]]), np.array([[0, 0]])], [np.array([[1, 0]]), np.array([[0, 1]])])
    >>> ev.iou.per_image, ev.iou.value
    (array([0.5, 0. ]), 0.25)
    """
    return evaluate_counts(
        count_masks(preds, targets, num_classes=num_classes, ignore_index=ignore_index)
    )

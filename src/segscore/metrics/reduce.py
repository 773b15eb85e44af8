"""From per-image, per-class counts to one number, by a named aggregation rule.

The peers disagree on how a dataset of (image, class) cells becomes one score (CONVENTIONS §5.3:
the same predictions give an mIoU between 0.51 and 0.90). segscore names every rule:

=========================  =================================================================  =====================================
aggregation                definition                                                         as in
=========================  =================================================================  =====================================
``pooled``                 sum counts over images; metric per class; mean over classes        MMSeg, HF mean_iou, torchmetrics
                                                                                              JaccardIndex macro, SMP ``macro``
``pooled_micro``           sum counts over images and classes; one metric                     SMP ``micro``
``images_then_classes``    metric per cell; per class the mean over images; then over classes nnU-Net, SMP ``macro-imagewise``
``classes_then_images``    metric per cell; per image the mean over classes; then over images MONAI ``reduction="mean"``
``per_image_per_class``    metric per cell; one mean over all valid cells                     torchmetrics ``MeanIoU``
``per_image_micro``        per image sum counts over classes; metric; mean over images        SMP ``micro-imagewise``
=========================  =================================================================  =====================================

Means skip NaN cells (see :mod:`segscore.metrics.empty`) and every result reports how many
entries were averaged and how many were excluded. Means are exactly rounded sums
(:func:`math.fsum`), so the result does not depend on the order of images: merging accumulators in
any order gives the same bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segscore._types import Aggregation, FloatArray
from segscore._validation import check_option, fail
from segscore.metrics.counts import CountingSpec, Counts
from segscore.metrics.empty import EmptyCase, EmptyPolicy, as_empty_policy, empty_cases
from segscore.metrics.registry import get_metric

__all__ = ["AGGREGATIONS", "Conventions", "Score", "score"]

AGGREGATIONS: tuple[Aggregation, ...] = (
    "pooled",
    "pooled_micro",
    "images_then_classes",
    "classes_then_images",
    "per_image_per_class",
    "per_image_micro",
)


def _version() -> str:
    from segscore import __version__

    return __version__


@dataclass(frozen=True, slots=True)
class Conventions:
    """Everything needed to say how a number was made.

    Attributes
    ----------
    metric : str
        Metric name.
    aggregation : str
        One of :data:`AGGREGATIONS`.
    empty : EmptyPolicy
        Zero-division value and case overrides.
    include_background : bool
        Whether class 0 entered the class mean (always True for binary counts).
    classes : tuple of int
        Class columns that entered the class mean.
    class_weights : str or None
        None (plain mean), ``"support"`` or ``"custom"``.
    counting : CountingSpec or None
        Threshold, ignore label, mode and number of classes used when counting.
    version : str
        segscore version.
    """

    metric: str
    aggregation: str
    empty: EmptyPolicy
    include_background: bool
    classes: tuple[int, ...]
    class_weights: str | None
    counting: CountingSpec | None
    version: str = field(default_factory=_version)

    def as_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-friendly dict."""
        counting = self.counting.as_dict() if self.counting is not None else None
        return {
            "metric": self.metric,
            "aggregation": self.aggregation,
            "empty": self.empty.as_dict(),
            "include_background": self.include_background,
            "classes": list(self.classes),
            "class_weights": self.class_weights,
            "counting": counting,
            "segscore_version": self.version,
        }


@dataclass(frozen=True, slots=True)
class Score:
    """A dataset score with its parts and the conventions that made it.

    Attributes
    ----------
    value : float
        The aggregated score (NaN when no entry was valid).
    per_image : ndarray of float64, shape (N,)
        Per image: the mean over valid classes (or the micro value for the ``*_micro`` rules).
    per_class : ndarray of float64, shape (C_kept,)
        Per class: the pooled value for the ``pooled*`` rules, else the mean over valid images.
    cells : ndarray of float64, shape (N, C_kept)
        The metric of every (image, class) cell.
    n_valid, n_excluded : int
        Valid and NaN (excluded) entries at the level where NaN values are dropped: (image, class)
        cells for the per-image rules, classes for ``pooled``, images for ``per_image_micro``.
    empty_cases : dict of str to int
        Number of cells in each :class:`~segscore.metrics.empty.EmptyCase`.
    conventions : Conventions
        How the value was made.
    """

    value: float
    per_image: FloatArray
    per_class: FloatArray
    cells: FloatArray
    n_valid: int
    n_excluded: int
    empty_cases: dict[str, int]
    conventions: Conventions

    def as_dict(self) -> dict[str, Any]:
        """Return the score as a JSON-friendly dict (NaN kept as float NaN)."""
        return {
            "value": self.value,
            "n_valid": self.n_valid,
            "n_excluded": self.n_excluded,
            "per_class": self.per_class.tolist(),
            "empty_cases": dict(self.empty_cases),
            "conventions": self.conventions.as_dict(),
        }

    def __float__(self) -> float:
        return self.value


def _exact_mean(values: FloatArray, weights: FloatArray | None = None) -> tuple[float, int, int]:
    """Mean of the non-NaN values, exactly rounded and order independent."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    valid = ~np.isnan(flat)
    n_valid = int(valid.sum())
    n_excluded = int(flat.size - n_valid)
    if n_valid == 0:
        return math.nan, 0, n_excluded
    if weights is None:
        # fsum over the array's elements one by one: no list of n Python floats in memory.
        return math.fsum(flat[valid]) / n_valid, n_valid, n_excluded
    w = np.asarray(weights, dtype=np.float64).ravel()[valid]
    total = math.fsum(w.tolist())
    if total == 0:
        return math.nan, n_valid, n_excluded
    return math.fsum((flat[valid] * w).tolist()) / total, n_valid, n_excluded


def _nan_split(values: FloatArray) -> tuple[int, int]:
    n_nan = int(np.isnan(values).sum())
    return int(values.size) - n_nan, n_nan


def _mean_axis(values: FloatArray, axis: int) -> FloatArray:
    """NaN-skipping mean of a 2-D array along ``axis``.

    Over images (axis 0) each column is an exactly rounded sum, so the result does not depend on
    the order of the images. Over classes (axis 1) a vectorised sum in sorted order (it runs once
    per image, so it must be fast) does not depend on the order of the classes.
    """
    if axis == 1:
        valid = ~np.isnan(values)
        n = valid.sum(axis=1)
        # Summed in sorted order, so that permuting the classes gives the same bits.
        total = np.sort(np.where(valid, values, 0.0), axis=1).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(n > 0, total / np.maximum(n, 1), np.nan), dtype=np.float64)
    return np.asarray([_exact_mean(col)[0] for col in values.T], dtype=np.float64)


def score(
    counts: Counts,
    metric: str = "iou",
    *,
    aggregation: Aggregation = "images_then_classes",
    empty: float | EmptyPolicy = math.nan,
    include_background: bool = True,
    classes: list[int] | tuple[int, ...] | None = None,
    class_weights: str | FloatArray | None = None,
) -> Score:
    """Aggregate per-image, per-class counts into one score with its conventions record.

    Parameters
    ----------
    counts : Counts
        Counts of shape (N, C), e.g. from :func:`segscore.confusion` or an accumulator.
    metric : str, default 'iou'
        A name of :data:`segscore.metrics.registry.METRICS` (``'iou'``, ``'dice'``, ...).
    aggregation : str, default 'images_then_classes'
        One of :data:`AGGREGATIONS` (table above).
    empty : float or EmptyPolicy, default NaN
        Empty-mask policy (:mod:`segscore.metrics.empty`).
    include_background : bool, default True
        Keep class 0 in the class mean. Only for counts with more than one class.
    classes : sequence of int, optional
        Class columns to keep (after ``include_background``); default all.
    class_weights : 'support' or ndarray of shape (C_kept,), optional
        Weighted class mean: by target support (pooled counts) or by given weights.

    Returns
    -------
    Score

    Raises
    ------
    InputError
        On an unknown metric or aggregation, counts not of shape (N, C), background exclusion on
        one-class counts, invalid classes or weights, or class weights with a ``*_micro`` rule.

    Examples
    --------
    >>> from segscore import confusion
    >>> pred = np.array([[[1, 1], [0, 0]], [[0, 0], [0, 0]]])     # two 2×2 binary images
    >>> target = np.array([[[1, 0], [0, 0]], [[0, 0], [0, 0]]])   # the second is empty
    >>> s = score(confusion(pred, target), "iou")
    >>> s.value, s.n_valid, s.n_excluded
    (0.5, 1, 1)
    >>> s.per_image
    array([0.5, nan])
    """
    if not isinstance(counts, Counts) or counts.tp.ndim != 2:
        shape = counts.shape if isinstance(counts, Counts) else type(counts).__name__
        fail(f"`counts` must be Counts of shape (N, C) (one row per image), got {shape}.")
    spec = get_metric(metric)
    check_option("aggregation", aggregation, AGGREGATIONS)
    policy = as_empty_policy(empty)
    n_classes = counts.n_classes
    kept = list(range(n_classes))
    if not include_background:
        if n_classes < 2:
            fail(
                "`include_background=False` needs counts with more than one class, got 1 class "
                "(binary masks count the foreground only)."
            )
        kept = kept[1:]
    if classes is not None:
        bad = [k for k in classes if not isinstance(k, (int, np.integer)) or not 0 <= k < n_classes]
        if bad or len(classes) == 0:
            fail(
                f"`classes` must be a non-empty list of class indices in [0, {n_classes}), got {list(classes)!r}."
            )
        kept = [k for k in kept if k in {int(c) for c in classes}]
        if not kept:
            fail(
                f"`classes` must keep at least one class after `include_background=False`, "
                f"got {list(classes)!r}."
            )
    if class_weights is not None and aggregation in ("pooled_micro", "per_image_micro"):
        fail(
            "`class_weights` must be None with aggregation 'pooled_micro' or 'per_image_micro' "
            f"(counts are summed over classes), got {class_weights!r}."
        )
    used = counts if len(kept) == n_classes else counts.select(classes=kept)

    weights: FloatArray | None = None
    weights_name: str | None = None
    if isinstance(class_weights, str):
        check_option("class_weights", class_weights, ("support",))
        weights = np.asarray(used.sum(axis=0).support, dtype=np.float64)
        weights_name = "support"
    elif class_weights is not None:
        try:
            weights = np.asarray(class_weights, dtype=np.float64)
        except (TypeError, ValueError):
            weights = np.full(len(kept) + 1, np.nan)  # reported below as not numbers
        if weights.shape != (len(kept),) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            fail(
                f"`class_weights` must be {len(kept)} finite non-negative numbers (one per kept class), "
                f"got {np.asarray(class_weights).tolist()!r}."
            )
        weights_name = "custom"

    cells = spec.cells(used, policy)
    pooled = spec.cells(used.sum(axis=0), policy)
    if aggregation in ("pooled_micro", "per_image_micro"):
        per_image = spec.cells(used.sum(axis=1), policy)
    else:
        per_image = _mean_axis(cells, axis=1)

    if aggregation == "pooled":
        per_class = pooled
        value, n_valid, n_excluded = _exact_mean(per_class, weights)
    elif aggregation == "pooled_micro":
        per_class = pooled
        value = float(spec.cells(used.sum(), policy))
        n_valid, n_excluded = (0, 1) if math.isnan(value) else (1, 0)
    elif aggregation == "images_then_classes":
        per_class = _mean_axis(cells, axis=0)
        value = _exact_mean(per_class, weights)[0]
        n_valid, n_excluded = _nan_split(cells)
    elif aggregation == "classes_then_images":
        per_class = _mean_axis(cells, axis=0)
        if weights is not None:
            per_image = np.asarray(
                [_exact_mean(row, weights)[0] for row in cells], dtype=np.float64
            )
        value = _exact_mean(per_image)[0]
        n_valid, n_excluded = _nan_split(cells)
    elif aggregation == "per_image_per_class":
        per_class = _mean_axis(cells, axis=0)
        full = None if weights is None else np.broadcast_to(weights, cells.shape)
        value, n_valid, n_excluded = _exact_mean(cells, full)
    else:  # per_image_micro
        per_class = _mean_axis(cells, axis=0)
        value, n_valid, n_excluded = _exact_mean(per_image)

    cases = empty_cases(used.tp, used.fp, used.fn)
    conventions = Conventions(
        metric=spec.name,
        aggregation=aggregation,
        empty=policy,
        include_background=include_background,
        classes=tuple(kept),
        class_weights=weights_name,
        counting=counts.spec,
    )
    return Score(
        value=float(value),
        per_image=np.asarray(per_image, dtype=np.float64),
        per_class=np.asarray(per_class, dtype=np.float64),
        cells=cells,
        n_valid=n_valid,
        n_excluded=n_excluded,
        empty_cases={case.value: int(cases[case].sum()) for case in EmptyCase},
        conventions=conventions,
    )

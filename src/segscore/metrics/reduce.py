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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from segscore._types import AGGREGATIONS, DEFAULT_AGGREGATION, Aggregation, FloatArray
from segscore._validation import check_option, fail
from segscore.metrics.conventions import Conventions, jsonable
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyCase, EmptyPolicy, as_empty_policy, empty_cases
from segscore.metrics.options import BINARY_FOREGROUND, CountingOptions
from segscore.metrics.registry import get_metric

if TYPE_CHECKING:  # the presets are imported when one is named (start-up time)
    from segscore.metrics.presets import Preset

__all__ = [
    "AGGREGATIONS",
    "CELL_AGGREGATIONS",
    "DEFAULT_AGGREGATION",
    "Conventions",
    "Score",
    "score",
    "score_values",
]


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
    class_ids : tuple of int
        The class id of each kept column (``(1,)``, the foreground, for binary masks).
    columns : tuple of int
        The kept columns of the counts (indices into their class axis).
    n_valid, n_nan, n_inf, n_excluded : int
        Entries at the level where the mean is taken ((image, class) cells for the per-image
        rules, classes for ``pooled``, images for ``per_image_micro``): finite ones, NaN ones,
        infinite ones, and those left out of the mean (the NaN ones: ``n_excluded == n_nan``).
        Infinite entries enter the mean (which is then infinite).
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
    n_nan: int = 0
    n_inf: int = 0
    class_ids: tuple[int, ...] = ()
    columns: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the score as a JSON-ready dict (non-finite values encoded as strings)."""
        record: dict[str, Any] = jsonable(
            {
                "value": self.value,
                "n_valid": self.n_valid,
                "n_nan": self.n_nan,
                "n_inf": self.n_inf,
                "n_excluded": self.n_excluded,
                "class_ids": list(self.class_ids),
                "per_class": self.per_class.tolist(),
                "empty_cases": dict(self.empty_cases),
                "conventions": self.conventions.as_dict(),
            }
        )
        return record

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


def _split_nonfinite(values: Any) -> tuple[int, int, int]:
    """Return ``(n_finite, n_nan, n_inf)`` of ``values``."""
    flat = np.asarray(values, dtype=np.float64)
    n_nan = int(np.isnan(flat).sum())
    n_inf = int(np.isinf(flat).sum())
    return int(flat.size) - n_nan - n_inf, n_nan, n_inf


def _overlap_preset(name: str) -> Preset:
    """Return the preset ``name`` for :func:`score`; one without pixel overlap metrics is refused."""
    from segscore.metrics.presets import PRESETS, get_preset

    chosen = get_preset(name)
    if not chosen.has_overlap:
        pixel = ", ".join(repr(k) for k, p in PRESETS.items() if p.has_overlap)
        fail(
            f"`preset` must be one with pixel overlap conventions ({pixel}), got {name!r} "
            "(its conventions are for objects: instance_scores)."
        )
    return chosen


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
    aggregation: Aggregation | None = None,
    empty: float | EmptyPolicy | None = None,
    include_background: bool | None = None,
    classes: list[int] | tuple[int, ...] | None = None,
    class_weights: str | FloatArray | None = None,
    options: CountingOptions | None = None,
    preset: str | None = None,
) -> Score:
    """Aggregate per-image, per-class counts into one score with its conventions record.

    Parameters
    ----------
    counts : Counts
        Counts of shape (N, C), e.g. from :func:`segscore.confusion` or an accumulator.
    metric : str, default 'iou'
        A name of :data:`segscore.metrics.registry.METRICS` (``'iou'``, ``'dice'``, ...).
    aggregation : str, optional
        One of :data:`AGGREGATIONS` (table above); default the preset's rule for ``metric``, else
        ``'images_then_classes'``.
    empty : float or EmptyPolicy, optional
        Empty-mask policy (:mod:`segscore.metrics.empty`); default the preset's policy for
        ``metric``, else NaN.
    include_background : bool, optional
        Keep class 0 (column 0) in the class mean; default ``options.include_background`` where
        chosen, else the preset's, else True. Binary counts (one column: the foreground) are
        always kept; label maps or multilabel stacks with one column have no class left without
        it (an error).
    classes : sequence of int, optional
        Class columns to keep (after ``include_background``); default all.
    class_weights : 'support' or ndarray of shape (C_kept,), optional
        Weighted class mean: by target support (pooled counts) or by given weights.
    options : CountingOptions, optional
        The options the counts were made with: their background rule and class names.
    preset : str, optional
        A name of :data:`segscore.metrics.presets.PRESETS` with pixel overlap conventions: its
        rule, empty policy and background rule for ``metric`` fill the options left unset
        (explicit ones win), and its name is recorded in the conventions.

    Returns
    -------
    Score

    Raises
    ------
    InputError
        On an unknown metric, aggregation or preset (or one without pixel overlap metrics),
        counts not of shape (N, C), invalid classes or weights, class weights with a ``*_micro``
        rule, or no class left.

    Examples
    --------
    >>> from segscore import confusion
    >>> pred = np.array([[[1, 1], [0, 0]], [[0, 0], [0, 0]]])     # two 2×2 binary images
    >>> target = np.array([[[1, 0], [0, 0]], [[0, 0], [0, 0]]])   # the second is empty
    >>> s = score(confusion(pred, target), "iou")
    >>> s.value, s.n_valid, s.n_nan, s.class_ids
    (0.5, 1, 1, (1,))
    >>> s.per_image
    array([0.5, nan])

    A preset fills what is not chosen (MONAI: the mean over images of each image's class mean,
    an empty target left out):

    >>> s = score(confusion(pred, target), "dice", preset="monai")
    >>> s.value, s.conventions.aggregation, s.conventions.preset
    (0.6666666666666666, 'classes_then_images', 'monai')
    """
    if not isinstance(counts, Counts) or counts.tp.ndim != 2:
        shape = counts.shape if isinstance(counts, Counts) else type(counts).__name__
        fail(f"`counts` must be Counts of shape (N, C) (one row per image), got {shape}.")
    spec = get_metric(metric, kind="overlap")
    if preset is not None:
        chosen = _overlap_preset(preset)
        preset = chosen.name
        given = chosen.overlap_kwargs(spec.name)
        aggregation = given["aggregation"] if aggregation is None else aggregation
        empty = given["empty"] if empty is None else empty
        if include_background is None and (options is None or options.include_background is None):
            include_background = given["include_background"]
    aggregation = DEFAULT_AGGREGATION if aggregation is None else aggregation
    check_option("aggregation", aggregation, AGGREGATIONS)
    policy = as_empty_policy(math.nan if empty is None else empty, spec.name)
    n_classes = counts.n_classes
    if include_background is None:
        include_background = True if options is None else options.background
    if counts.spec is not None:  # a label map of one class is not a binary mask
        binary = counts.spec.mode == "binary"
        ids = counts.spec.class_ids
    else:
        binary = n_classes == 1
        ids = (BINARY_FOREGROUND,) if n_classes == 1 else tuple(range(n_classes))
    kept = list(range(n_classes))
    if not include_background and not binary:  # binary masks: the foreground is the class
        kept = kept[1:]
        if not kept:
            fail(
                "`include_background` must not be False for "
                f"{counts.spec.mode if counts.spec is not None else 'label map'} counts of one "
                "class column: class 0 is the only class, none would be left."
            )
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
        value = _exact_mean(per_class, weights)[0]
    elif aggregation == "pooled_micro":
        per_class = pooled
        value = float(spec.cells(used.sum(), policy))
    elif aggregation == "images_then_classes":
        per_class = _mean_axis(cells, axis=0)
        value = _exact_mean(per_class, weights)[0]
    elif aggregation == "classes_then_images":
        per_class = _mean_axis(cells, axis=0)
        if weights is not None:
            per_image = np.asarray(
                [_exact_mean(row, weights)[0] for row in cells], dtype=np.float64
            )
        value = _exact_mean(per_image)[0]
    elif aggregation == "per_image_per_class":
        per_class = _mean_axis(cells, axis=0)
        full = None if weights is None else np.broadcast_to(weights, cells.shape)
        value = _exact_mean(cells, full)[0]
    else:  # per_image_micro
        per_class = _mean_axis(cells, axis=0)
        value = _exact_mean(per_image)[0]

    cases = empty_cases(used.tp, used.fp, used.fn)
    kept_ids = tuple(ids[k] for k in kept)
    names = None
    if options is not None and options.class_names is not None:
        names = tuple(options.class_name(k) for k in kept)
    conventions = Conventions(
        metric=spec.name,
        kind="overlap",
        counting=counts.spec,
        include_background=include_background,
        classes=kept_ids,
        class_names=names,
        empty=policy,
        aggregation=aggregation,
        class_weights=weights_name,
        preset=preset,
    )
    level = {
        "pooled": per_class,
        "pooled_micro": np.asarray([value]),
        "per_image_micro": per_image,
    }.get(aggregation, cells)
    n_finite, n_nan, n_inf = _split_nonfinite(level)
    return Score(
        value=float(value),
        per_image=np.asarray(per_image, dtype=np.float64),
        per_class=np.asarray(per_class, dtype=np.float64),
        cells=cells,
        n_valid=n_finite,
        n_excluded=n_nan,
        empty_cases={case.value: int(cases[case].sum()) for case in EmptyCase},
        conventions=conventions,
        n_nan=n_nan,
        n_inf=n_inf,
        class_ids=kept_ids,
        columns=tuple(kept),
    )


CELL_AGGREGATIONS: tuple[Aggregation, ...] = (
    "images_then_classes",
    "classes_then_images",
    "per_image_per_class",
)
"""The aggregation rules of metrics that are not made from summable counts (boundary metrics)."""


def score_values(
    cells: FloatArray,
    conventions: Conventions,
    *,
    empty_cases: dict[str, int] | None = None,
) -> Score:
    """Aggregate per-(case, class) values of a metric that does not pool (e.g. HD95).

    The same rules as :func:`score` for the per-image aggregations; a ``pooled*`` or
    ``per_image_micro`` rule needs counts and is an error here. NaN cells are left out of every
    mean and counted; infinite cells enter the means (an infinite distance is not averaged away).

    Parameters
    ----------
    cells : ndarray of float64, shape (N, C)
        One value per case and kept class.
    conventions : Conventions
        Its ``aggregation`` is the rule and its ``classes`` the class ids of the columns.
    empty_cases : dict of str to int, optional
        Cells in each empty case, as counted by the metric's family.

    Returns
    -------
    Score

    Examples
    --------
    >>> from segscore.metrics.conventions import Conventions
    >>> from segscore.metrics.empty import EmptyPolicy
    >>> conv = Conventions("hd95", "boundary", None, True, (1, 2), None, EmptyPolicy(),
    ...                    "images_then_classes")
    >>> s = score_values(np.array([[1.0, 2.0], [3.0, np.nan], [np.inf, 4.0]]), conv)
    >>> s.per_class, s.value, (s.n_valid, s.n_nan, s.n_inf)
    (array([inf,  3.]), inf, (4, 1, 1))
    """
    values = np.asarray(cells, dtype=np.float64)
    aggregation = conventions.aggregation
    if aggregation not in CELL_AGGREGATIONS:
        fail(
            f"`aggregation` must be one of {', '.join(repr(a) for a in CELL_AGGREGATIONS)} for "
            f"{conventions.metric!r} (its values do not pool over images), got {aggregation!r}."
        )
    if values.ndim != 2 or values.shape[1] != len(conventions.classes):
        fail(
            f"`cells` must have shape (N, {len(conventions.classes)}) (one column per class of "
            f"the conventions), got {values.shape}."
        )
    per_image = _mean_axis(values, axis=1)
    per_class = _mean_axis(values, axis=0)
    if aggregation == "images_then_classes":
        value = _exact_mean(per_class)[0]
    elif aggregation == "classes_then_images":
        value = _exact_mean(per_image)[0]
    else:
        value = _exact_mean(values)[0]
    n_finite, n_nan, n_inf = _split_nonfinite(values)
    return Score(
        value=float(value),
        per_image=per_image,
        per_class=per_class,
        cells=values,
        n_valid=n_finite,
        n_excluded=n_nan,
        empty_cases=dict(empty_cases or {}),
        conventions=conventions,
        n_nan=n_nan,
        n_inf=n_inf,
        class_ids=tuple(conventions.classes),
        columns=tuple(range(values.shape[1])),
    )

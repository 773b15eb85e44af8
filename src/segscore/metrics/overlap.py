"""Overlap metrics as formulas in counts: IoU, Dice, precision, recall and the rest.

Every function takes :class:`~segscore.metrics.counts.Counts` (never masks) and returns float64
values of the counts' shape (``average="none"``) or with the class axis reduced. Zero denominators
and empty masks follow :mod:`segscore.metrics.empty` (default: NaN, excluded from means).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from segscore._types import Average, FloatArray
from segscore._validation import check_number, check_option, fail
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyPolicy, apply_policy, as_empty_policy

__all__ = [
    "accuracy",
    "balanced_accuracy",
    "dice",
    "fbeta",
    "generalized_dice",
    "iou",
    "matthews_corrcoef",
    "pixel_accuracy",
    "precision",
    "recall",
    "relative_volume_difference",
    "specificity",
    "volume_similarity",
]

AVERAGES: tuple[Average, ...] = ("none", "micro", "macro", "weighted")


def _check_counts(counts: object) -> Counts:
    if not isinstance(counts, Counts):
        fail(
            f"`counts` must be a Counts from segscore.confusion(), got {type(counts).__name__}; "
            "count masks first: confusion(pred, target)."
        )
    return counts


def _f64(a: object) -> FloatArray:
    return np.asarray(a, dtype=np.float64)


def _class_average(values: FloatArray, counts: Counts, average: Average) -> FloatArray:
    """Reduce the last (class) axis of per-class values by ``average`` ('macro' or 'weighted').

    ``'weighted'`` weighs each valid class by its target support. A row whose target has no
    pixel of any class (every weight zero) takes the plain mean of its valid classes instead:
    0 when it holds false positives (each class is 'target empty', 0 by the formula; as
    torchmetrics ``DiceScore(average="weighted")`` and scikit-learn's weighted F1), the
    zero-division value when both masks are empty in every class.
    """
    if values.ndim == 0:
        return values
    valid = ~np.isnan(values)
    macro = valid.astype(np.float64)
    weights = macro if average == "macro" else np.where(valid, _f64(counts.support), 0.0)
    if average == "weighted":
        no_support = np.sort(weights, axis=-1).sum(axis=-1, keepdims=True) == 0
        weights = np.where(no_support, macro, weights)
    # Sums in sorted order: the result does not depend on the order of the classes.
    total = np.sort(weights, axis=-1).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.sort(np.where(valid, values, 0.0) * weights, axis=-1).sum(axis=-1) / total
    return _f64(np.where(total > 0, mean, np.nan))


def _metric(
    counts: Counts,
    average: Average,
    empty: float | EmptyPolicy,
    formula: object,
) -> FloatArray:
    counts = _check_counts(counts)
    check_option("average", average, AVERAGES)
    policy = as_empty_policy(empty)
    assert callable(formula)
    if average == "micro":
        counts = counts.sum(axis=-1) if counts.tp.ndim > 0 else counts
    numerator, denominator = formula(counts)
    values = apply_policy(numerator, denominator, counts.tp, counts.fp, counts.fn, policy)
    if average in ("macro", "weighted"):
        return _class_average(values, counts, average)
    return values


def iou(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Intersection over union (Jaccard index).

    Parameters
    ----------
    counts : Counts
        Confusion counts, shape (N, C), (C,) or ().
    average : {'none', 'micro', 'macro', 'weighted'}, default 'none'
        How to combine classes (last axis); see :data:`segscore._types.Average`.
    empty : float or EmptyPolicy, default NaN
        Value for a zero denominator, or a full :class:`~segscore.metrics.empty.EmptyPolicy`.

    Returns
    -------
    ndarray of float64
        Shape of ``counts`` (``average='none'``) or without its last axis.

    Raises
    ------
    InputError
        If ``counts`` is not a Counts or an option is invalid.

    Notes
    -----
    ``IoU = tp / (tp + fp + fn)``. The denominator is zero only when both masks are empty.
    ``IoU = Dice / (2 - Dice)`` for every cell.

    Examples
    --------
    >>> from segscore import confusion
    >>> c = confusion(np.array([[0, 1, 1]]), np.array([[0, 1, 0]]), num_classes=2)
    >>> iou(c)
    array([[0.5, 0.5]])
    >>> iou(confusion(np.zeros((2, 2), bool), np.zeros((2, 2), bool)))
    array([[nan]])
    """
    return _metric(counts, average, empty, lambda c: (c.tp, c.tp + c.fp + c.fn))


def dice(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Dice similarity coefficient (F1 score).

    Parameters
    ----------
    counts : Counts
        Confusion counts, shape (N, C), (C,) or ().
    average : {'none', 'micro', 'macro', 'weighted'}, default 'none'
        How to combine classes (last axis).
    empty : float or EmptyPolicy, default NaN
        Value for a zero denominator (both masks empty), or a full policy.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    InputError
        If ``counts`` is not a Counts or an option is invalid.

    Notes
    -----
    ``Dice = 2 tp / (2 tp + fp + fn)``.

    Examples
    --------
    >>> from segscore import confusion
    >>> c = confusion(np.array([[0, 1, 1]]), np.array([[0, 1, 0]]), num_classes=2)
    >>> dice(c)
    array([[0.66666667, 0.66666667]])
    >>> dice(c, average="macro")
    array([0.66666667])
    """
    return _metric(counts, average, empty, lambda c: (2 * c.tp, 2 * c.tp + c.fp + c.fn))


def precision(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Precision (positive predictive value).

    Notes
    -----
    ``precision = tp / (tp + fp)``; the denominator is zero when the prediction is empty.

    Examples
    --------
    >>> from segscore import confusion
    >>> precision(confusion(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])))
    array([[0.5]])
    """
    return _metric(counts, average, empty, lambda c: (c.tp, c.tp + c.fp))


def recall(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Recall (sensitivity, true positive rate).

    Notes
    -----
    ``recall = tp / (tp + fn)``; the denominator is zero when the target is empty.
    ``recall(pred, target) == precision(target, pred)``.

    Examples
    --------
    >>> from segscore import confusion
    >>> recall(confusion(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])))
    array([[1.]])
    """
    return _metric(counts, average, empty, lambda c: (c.tp, c.tp + c.fn))


def specificity(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Specificity (true negative rate).

    Notes
    -----
    ``specificity = tn / (tn + fp)``; the denominator is zero when every pixel is the class.

    Examples
    --------
    >>> from segscore import confusion
    >>> specificity(confusion(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])))
    array([[0.66666667]])
    """
    return _metric(counts, average, empty, lambda c: (c.tn, c.tn + c.fp))


def accuracy(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Per-class accuracy: the share of counted pixels classified correctly for the class.

    Notes
    -----
    ``accuracy = (tp + tn) / (tp + fp + fn + tn)``, class by class (one class against the rest).
    For a binary mask this is the usual pixel accuracy; it stays high when a small object is
    missed entirely, which IoU and Dice show. For label maps it counts the true negatives of each
    class, so it is not the share of correctly labelled pixels: use :func:`pixel_accuracy`.

    Examples
    --------
    >>> from segscore import confusion
    >>> target = np.zeros((1, 10, 10), bool); target[0, 0, 0] = True   # one object pixel
    >>> accuracy(confusion(np.zeros_like(target), target))  # the object is missed
    array([[0.99]])
    """
    return _metric(counts, average, empty, lambda c: (c.tp + c.tn, c.total))


def pixel_accuracy(counts: Counts, *, empty: float | EmptyPolicy = math.nan) -> FloatArray:
    """Pixel accuracy of each image: the share of counted pixels given their true label.

    Parameters
    ----------
    counts : Counts
        Counts of shape (N, C) (one value per image) or (C,) (pooled: one value).
    empty : float or EmptyPolicy, default NaN
        Value when no pixel was counted (every target pixel ignored).

    Returns
    -------
    ndarray of float64, shape (N,) or ()

    Raises
    ------
    InputError
        On multilabel counts: a pixel has no single true label (use :func:`accuracy`).

    Notes
    -----
    Label maps: ``Σ_c tp_c / n`` with ``n = tp + fp + fn + tn`` (the same for every class).
    Binary masks (one class): ``(tp + tn) / n``, which equals :func:`accuracy`.

    Examples
    --------
    >>> from segscore import confusion
    >>> t = np.array([[0, 1, 2, 0, 1, 2]])
    >>> pixel_accuracy(confusion((t + 1) % 3, t, num_classes=3))  # every pixel wrong
    array([0.])
    >>> accuracy(confusion((t + 1) % 3, t, num_classes=3), average="macro")  # one-vs-rest
    array([0.33333333])
    """
    counts = _check_counts(counts)
    policy = as_empty_policy(empty)
    if counts.tp.ndim == 0:
        fail("`counts` must have a class axis, shape (N, C) or (C,), got shape ().")
    if counts.spec is not None and counts.spec.mode == "multilabel":
        fail(
            "`counts` must be of binary masks or label maps for pixel accuracy (one true label per "
            "pixel), got multilabel counts; use accuracy (per channel) instead."
        )
    total = counts.total[..., 0]
    correct = counts.tp.sum(axis=-1)
    if counts.n_classes == 1:
        correct = correct + counts.tn[..., 0]
    zero = total == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f64(np.where(zero, policy.zero_division, correct / np.where(zero, 1, total)))


def balanced_accuracy(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Balanced accuracy: the mean of recall and specificity.

    Notes
    -----
    ``balanced_accuracy = (tp / (tp + fn) + tn / (tn + fp)) / 2``, written over the common
    denominator; zero when either denominator is zero (then ``empty`` applies).

    Examples
    --------
    >>> from segscore import confusion
    >>> balanced_accuracy(confusion(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])))
    array([[0.83333333]])
    """

    def formula(c: Counts) -> tuple[FloatArray, FloatArray]:
        pos, neg = _f64(c.tp + c.fn), _f64(c.tn + c.fp)
        return _f64(c.tp) * neg + _f64(c.tn) * pos, 2.0 * pos * neg

    return _metric(counts, average, empty, formula)


def fbeta(
    counts: Counts,
    *,
    beta: float = 1.0,
    average: Average = "none",
    empty: float | EmptyPolicy = math.nan,
) -> FloatArray:
    """F-beta score: recall weighted ``beta`` times as much as precision.

    Notes
    -----
    ``F_beta = (1 + beta²) tp / ((1 + beta²) tp + beta² fn + fp)``; ``beta = 1`` is Dice.

    Examples
    --------
    >>> from segscore import confusion
    >>> fbeta(confusion(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])), beta=2.0)
    array([[0.83333333]])
    """
    b2 = check_number("beta", beta, low=0, low_inclusive=False) ** 2
    return _metric(
        counts,
        average,
        empty,
        lambda c: ((1 + b2) * _f64(c.tp), (1 + b2) * _f64(c.tp) + b2 * _f64(c.fn) + _f64(c.fp)),
    )


def volume_similarity(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Volumetric similarity (Taha and Hanbury 2015): how alike the two volumes are, in [0, 1].

    Notes
    -----
    ``VS = 1 - |fn - fp| / (2 tp + fp + fn) = 1 - ||P| - |G|| / (|P| + |G|)``, 1 when the
    volumes are equal wherever they lie (it ignores where: a volume score, not an overlap).
    SimpleITK's ``LabelOverlapMeasuresImageFilter.GetVolumeSimilarity`` (and seg-metrics' ``vs``)
    is the signed ``2 (|P| - |G|) / (|P| + |G|)``: ``VS = 1 - |that| / 2``. The denominator is
    zero only when both masks are empty.

    Examples
    --------
    >>> from segscore import confusion
    >>> volume_similarity(confusion(np.array([[1, 1, 0, 0]]), np.array([[0, 0, 1, 1]])))
    array([[1.]])
    >>> volume_similarity(confusion(np.array([[1, 1, 1, 0]]), np.array([[1, 0, 0, 0]])))
    array([[0.5]])
    """
    return _metric(
        counts,
        average,
        empty,
        lambda c: (
            2 * _f64(c.tp) + _f64(c.fp) + _f64(c.fn) - np.abs(_f64(c.fn) - _f64(c.fp)),
            2 * _f64(c.tp) + _f64(c.fp) + _f64(c.fn),
        ),
    )


def relative_volume_difference(
    counts: Counts,
    *,
    absolute: bool = False,
    average: Average = "none",
    empty: float | EmptyPolicy = math.nan,
) -> FloatArray:
    """Relative volume difference ``(|P| - |G|) / |G|``: over- (> 0) or under-segmentation (< 0).

    Parameters
    ----------
    absolute : bool, default False
        Return ``|RVD|`` (``'ravd'``; lower is better) instead of the signed value (``'rvd'``;
        0 is best).

    Notes
    -----
    ``RVD = (fp - fn) / (tp + fn)``, MedPy's ``ravd(result, reference)``. The denominator is the
    target volume: zero when the target is empty (``target_empty`` and ``both_empty`` cases of
    the empty policy). Like VS it ignores where the volumes lie.

    Examples
    --------
    >>> from segscore import confusion
    >>> relative_volume_difference(confusion(np.array([[1, 1, 1, 0]]), np.array([[1, 1, 0, 0]])))
    array([[0.5]])
    >>> relative_volume_difference(confusion(np.array([[1, 0, 0, 0]]), np.array([[1, 1, 0, 0]])))
    array([[-0.5]])
    """

    def formula(c: Counts) -> tuple[FloatArray, FloatArray]:
        diff = _f64(c.fp) - _f64(c.fn)
        return (np.abs(diff) if absolute else diff), _f64(c.tp) + _f64(c.fn)

    return _metric(counts, average, empty, formula)


def matthews_corrcoef(
    counts: Counts, *, average: Average = "none", empty: float | EmptyPolicy = math.nan
) -> FloatArray:
    """Matthews correlation coefficient, in [-1, 1].

    Notes
    -----
    ``MCC = (tp tn - fp fn) / sqrt((tp + fp)(tp + fn)(tn + fp)(tn + fn))``, computed in float64
    from the exact counts. The denominator is zero when a row or column of the 2×2 table is empty
    (scikit-learn returns 0 there; segscore's default is NaN).

    Examples
    --------
    >>> from segscore import confusion
    >>> matthews_corrcoef(confusion(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 0, 0]])))
    array([[0.57735027]])
    """

    def formula(c: Counts) -> tuple[FloatArray, FloatArray]:
        tp, fp, fn, tn = _f64(c.tp), _f64(c.fp), _f64(c.fn), _f64(c.tn)
        return tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))

    # The formula in float64 can round one ulp past ±1; the coefficient lies in [-1, 1].
    values = _metric(counts, average, empty, formula)
    return _f64(np.where(np.isnan(values), values, np.clip(values, -1.0, 1.0)))


def generalized_dice(
    counts: Counts,
    *,
    weight: Literal["square", "simple", "uniform"] = "square",
    empty: float | EmptyPolicy = math.nan,
) -> FloatArray:
    """Generalized Dice over the classes of each row (Sudre et al. 2017).

    Parameters
    ----------
    counts : Counts
        Counts of shape (N, C) (one value per image) or (C,) (one value).
    weight : {'square', 'simple', 'uniform'}, default 'square'
        Class weight ``w_c``: ``1 / support²`` (Sudre), ``1 / support`` or 1.
    empty : float or EmptyPolicy, default NaN
        Value when the denominator is zero (every class empty in both masks).

    Returns
    -------
    ndarray of float64, shape (N,) or ()

    Notes
    -----
    ``GD = 2 Σ_c w_c tp_c / Σ_c w_c (2 tp_c + fp_c + fn_c)`` with ``support_c = tp_c + fn_c``.
    A class absent from the target has an infinite weight; as in MONAI, it is given the largest
    finite weight of its row (1 if there is none, so that an empty target with false positives
    scores 0). Case overrides of ``empty`` do not apply: the
    value is not per class.

    References
    ----------
    Sudre et al., "Generalised Dice overlap as a deep learning loss function for highly unbalanced
    segmentations", DLMIA 2017.

    Examples
    --------
    >>> from segscore import confusion
    >>> c = confusion(np.array([[0, 0, 1, 1]]), np.array([[0, 0, 0, 1]]), num_classes=2)
    >>> generalized_dice(c)
    array([0.6875])
    """
    counts = _check_counts(counts)
    check_option("weight", weight, ("square", "simple", "uniform"))
    policy = as_empty_policy(empty)
    support = _f64(counts.support)
    with np.errstate(divide="ignore"):
        if weight == "square":
            w = 1.0 / support**2
        elif weight == "simple":
            w = 1.0 / support
        else:
            w = np.ones_like(support)
    finite = np.isfinite(w)
    row_max = np.max(np.where(finite, w, 0.0), axis=-1, keepdims=True)
    # A row whose target is empty for every class has no finite weight: weigh its classes 1 (as
    # MONAI) so that false positives give 0; a weight of 0 would make the denominator 0 as well.
    w = np.where(finite, w, np.where(row_max > 0, row_max, 1.0))
    numerator = 2.0 * (w * _f64(counts.tp)).sum(axis=-1)
    denominator = (w * _f64(2 * counts.tp + counts.fp + counts.fn)).sum(axis=-1)
    zero = denominator == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f64(
            np.where(zero, policy.zero_division, numerator / np.where(zero, 1.0, denominator))
        )

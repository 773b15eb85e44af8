"""Lesion-wise Dice and HD95 (BraTS 2023): masks to lesions, each target lesion scored alone.

A lesion is a connected component of a binary mask (of one class of a label map). Each target
lesion is compared with the predicted lesions that touch it; missed target lesions and
predicted lesions that touch no target lesion are penalised, so that a model is judged lesion
by lesion and small lesions weigh as much as large ones. The procedure of the BraTS 2023
lesion-wise evaluation (``metrics.py`` of github.com/rachitsaluja/BraTS-2023-Metrics,
``get_LesionWiseScores`` and ``get_LesionWiseResults``), per image and class:

1. Target lesions: the target is dilated ``dilation`` times by the structure of squared
   radius 2 (``scipy.ndimage.generate_binary_structure(ndim, 2)``: the 18-neighbourhood in
   3-D), and the connected components of the dilated mask group the target's voxels: target
   components whose dilations touch form one lesion (its voxels are the target's only).
2. Predicted lesions: the connected components of the prediction.
3. A predicted lesion *matches* every target lesion whose dilated region it touches (it may
   match several); a target lesion's Dice and HD95 compare it with the union of all its
   matched predicted lesions (whole lesions, also their voxels outside the dilated region).
   A target lesion without a match has Dice 0 and HD95 ``penalty``.
4. Target lesions of volume <= ``min_volume`` (voxels times the voxel volume, in the units of
   ``spacing`` cubed) are dropped: they count nowhere, and their matched predictions are not
   false positives.
5. ``lesion_dice = sum(Dice) / (L + FP)`` and ``lesion_hd95 = (sum(HD95) + FP * penalty) /
   (L + FP)`` over the L kept target lesions, with FP the predicted lesions that match no
   target lesion (an infinite HD95, a missed lesion, counts as ``penalty``; a finite HD95
   above it is kept). With L + FP = 0 BraTS gives Dice 1 and HD95 0 (the default ``empty``).

HD95 is DeepMind's ``compute_robust_hausdorff(..., 95)`` on ``compute_surface_distances``
(surfels weighted by area, ``surface='surfel'``, ``rule='area_weighted'``), computed by
:mod:`segscore.metrics.boundary` on each lesion's bounding box, never on full-size masks per
lesion: memory stays about the size of the volume.

==============================  ===============================  =============================
step                            BraTS 2023 (defaults here)       panoptica 2.1.7 lesion-wise
==============================  ===============================  =============================
lesions                         cc3d 26-connectivity (3-D)       cc3d 26 (3-D), scipy 4 (2-D)
                                (``connectivity='full'``)
grouping of target components   dilation 3 (GLI, SSA, PED) or 1  none
                                (MEN, MET); ``dilation=0``: none
matching                        any contact with the dilated     greedy by IoU; with
                                target lesion; a prediction may  ``NaiveThresholdMatching(0,
                                match several target lesions     strict, allow_many_to_one)``
                                                                 any overlap, each prediction
                                                                 to one target only
small target lesions            dropped, volume <= 50 (GLI, SSA, kept
                                PED, MEN) or 2 (MET)
HD95                            surfels, area-weighted nearest   boundary voxels (erosion,
                                rank, max of the two directions  face), percentile of both
                                                                 directions pooled, linear
score                           sum / (L + FP), misses and FPs   per matched pair only
                                at Dice 0, HD95 374              (``sq_dsc``, ``sq_hd95``:
                                                                 means over matched pairs)
==============================  ===============================  =============================

With ``dilation=0, min_volume=0, surface='voxel', rule='pooled'`` the per-lesion values equal
panoptica's per-instance DSC and HD95 whenever no predicted lesion overlaps two target lesions
(tests/metrics/test_lesion_dice.py and test_lesion_hd95.py check both procedures).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from segscore._types import (
    Aggregation,
    FloatArray,
    PercentileRule,
    SurfaceModel,
)
from segscore._validation import (
    check_number,
    check_option,
    fail,
)
from segscore.metrics.conventions import Conventions
from segscore.metrics.empty import EmptyCase, EmptyPolicy, _zero_division
from segscore.metrics.instance.components import (
    Backend,
    Connectivity,
)
from segscore.metrics.instance.lesion_masks import LesionTable, _tables, lesion_tables
from segscore.metrics.options import CountingOptions
from segscore.metrics.reduce import AGGREGATIONS, DEFAULT_AGGREGATION, Score, score_values
from segscore.metrics.registry import MetricSpec, parse_metrics

__all__ = ["BRATS_2023", "BRATS_PENALTY", "LesionTable", "lesion_scores", "lesion_tables"]

BRATS_PENALTY = 374.0
"""BraTS 2023's HD95 of a missed or false-positive lesion (about the diagonal, in mm, of its
240 x 240 x 155 volumes of 1 mm voxels)."""

BRATS_2023: dict[str, tuple[int, float]] = {
    "GLI": (3, 50.0),
    "SSA": (3, 50.0),
    "PED": (3, 50.0),
    "MEN": (1, 50.0),
    "MET": (1, 2.0),
}
"""``(dilation, min_volume)`` of each BraTS 2023 challenge (``get_LesionWiseResults``); the
defaults are GLI's."""


_LESION_BASES = ("lesion_dice", "lesion_hd95", "lesion_tp", "lesion_fp", "lesion_fn")
_POOLED = ("pooled", "pooled_micro", "per_image_micro")


def _policy(spec: MetricSpec, empty: float | EmptyPolicy | None) -> EmptyPolicy:
    """Return the empty policy of one metric; None: BraTS (Dice 1, HD95 0 without lesions)."""
    if spec.unit == "count":
        return EmptyPolicy()
    if isinstance(empty, EmptyPolicy):
        policy = empty
    elif empty is None:
        policy = EmptyPolicy(zero_division=1.0 if spec.base == "lesion_dice" else 0.0)
    else:
        policy = EmptyPolicy(zero_division=_zero_division("empty", empty))
    return policy.check_ratio(spec.name) if spec.unit == "ratio" else policy


def _cell_parts(spec: MetricSpec, table: LesionTable, penalty: float) -> tuple[float, float]:
    """(numerator, denominator) of one (image, class) cell; counts have denominator 1."""
    den = float(np.count_nonzero(table.kept) + table.n_fp)
    if spec.base == "lesion_dice":
        return math.fsum(table.dice[table.kept].tolist()), den
    if spec.base == "lesion_hd95":
        hd = table.hd[table.kept]
        hd = np.where(np.isinf(hd), penalty, hd)
        return math.fsum([*hd.tolist(), table.n_fp * penalty]), den
    count = {"lesion_tp": table.n_tp, "lesion_fp": table.n_fp, "lesion_fn": table.n_fn}
    return float(count[spec.base]), 1.0


def _case(n_target: int, n_pred: int) -> EmptyCase:
    if n_target and n_pred:
        return EmptyCase.BOTH_PRESENT
    if n_pred:
        return EmptyCase.TARGET_EMPTY
    return EmptyCase.PREDICTION_EMPTY if n_target else EmptyCase.BOTH_EMPTY


def _ratio(num: float, den: float, case: EmptyCase, policy: EmptyPolicy) -> float:
    return policy.value(case, num / den if den > 0 else policy.zero_division)


def _mean(values: FloatArray) -> float:
    """Exactly rounded mean of the non-NaN values (NaN when there is none)."""
    valid = values[~np.isnan(values)]
    return math.fsum(valid.tolist()) / valid.size if valid.size else math.nan


def _score(
    spec: MetricSpec,
    tables: tuple[tuple[LesionTable, ...], ...],
    penalty: float,
    policy: EmptyPolicy,
    conventions: Conventions,
) -> Score:
    class_ids = conventions.classes
    n, c = len(tables), len(class_ids)
    num = np.zeros((n, c))
    den = np.zeros((n, c))
    n_target = np.zeros((n, c), np.int64)  # kept target lesions
    n_pred = np.zeros((n, c), np.int64)  # predicted lesions that enter the score
    for i, row in enumerate(tables):
        for k, table in enumerate(row):
            num[i, k], den[i, k] = _cell_parts(spec, table, penalty)
            n_target[i, k] = int(np.count_nonzero(table.kept))
            n_pred[i, k] = table.n_scored_pred
    cases = [[_case(int(n_target[i, k]), int(n_pred[i, k])) for k in range(c)] for i in range(n)]
    case_counts = {case.value: 0 for case in EmptyCase}
    for row_cases in cases:
        for case in row_cases:
            case_counts[case.value] += 1
    cells = np.array(
        [[_ratio(num[i, k], den[i, k], cases[i][k], policy) for k in range(c)] for i in range(n)],
        dtype=np.float64,
    ).reshape(n, c)
    aggregation = conventions.aggregation
    if aggregation not in _POOLED:
        return score_values(cells, conventions, empty_cases=case_counts)

    def pooled(where: tuple[Any, ...]) -> float:
        """Apply the formula to the numerators and denominators summed over ``where``."""
        total = math.fsum(num[where].ravel().tolist())
        if spec.unit == "count":
            return total
        case = _case(int(n_target[where].sum()), int(n_pred[where].sum()))
        return _ratio(total, float(den[where].sum()), case, policy)

    per_class = np.array([pooled((slice(None), k)) for k in range(c)], dtype=np.float64)
    if aggregation == "pooled":
        level = per_class
        value = _mean(per_class)
    elif aggregation == "pooled_micro":
        value = pooled((slice(None), slice(None)))
        level = np.array([value])
    else:  # per_image_micro
        level = np.array([pooled((i, slice(None))) for i in range(n)], dtype=np.float64)
        value = _mean(level)
    return Score(
        value=float(value),
        per_image=np.array([_mean(row) for row in cells], dtype=np.float64),
        per_class=per_class,
        cells=cells,
        n_valid=int(np.isfinite(level).sum()),
        n_excluded=int(np.isnan(level).sum()),
        empty_cases=case_counts,
        conventions=conventions,
        n_nan=int(np.isnan(level).sum()),
        n_inf=int(np.isinf(level).sum()),
        class_ids=class_ids,
        columns=tuple(range(c)),
    )


def lesion_scores(
    pred: Any,
    target: Any,
    metrics: str | Iterable[str] = ("lesion_dice", "lesion_hd95"),
    *,
    spacing: float | Iterable[float] | None = None,
    penalty: float = BRATS_PENALTY,
    aggregation: Aggregation = DEFAULT_AGGREGATION,
    empty: float | EmptyPolicy | None = None,
    connectivity: Connectivity = "full",
    dilation: int = 3,
    min_volume: float = 50.0,
    surface: SurfaceModel = "surfel",
    rule: PercentileRule = "area_weighted",
    interpolation: str = "linear",
    surface_connectivity: int = 1,
    num_classes: int | None = None,
    spatial_dims: int | None = None,
    options: CountingOptions | None = None,
    backend: Backend = "auto",
) -> dict[str, Score]:
    """Lesion-wise Dice and HD95 as BraTS 2023 defines them, and the lesion counts.

    Parameters
    ----------
    pred, target : array_like or torch.Tensor, shape (*S) or (N, *S)
        Binary masks or, with ``num_classes``, label maps (see :func:`lesion_tables`).
    metrics : str or iterable of str, default ('lesion_dice', 'lesion_hd95')
        ``lesion_dice``, ``lesion_hd95`` (in the units of ``spacing``), ``lesion_tp``,
        ``lesion_fp``, ``lesion_fn`` (BraTS' ``Num_TP``, ``Num_FP``, ``Num_FN``).
    spacing : float or sequence of float, optional
        Voxel spacing (numpy axis order); default 1.
    penalty : float > 0, default 374
        HD95 of a missed target lesion and of a false-positive lesion (units of ``spacing``).
    aggregation : str, default 'images_then_classes'
        Every per-image rule averages the per-image values (BraTS: the mean over cases);
        ``'pooled'`` sums numerators and denominators over images per class first,
        ``'pooled_micro'`` over images and classes, ``'per_image_micro'`` over classes.
    empty : float or EmptyPolicy, optional
        The value when an image has no kept target lesion and no false positive (0 / 0).
        Default (None): BraTS, Dice 1 and HD95 0; a number (NaN: excluded from means) or an
        :class:`~segscore.metrics.empty.EmptyPolicy` for every metric.
    connectivity, dilation, min_volume, surface, rule, interpolation, surface_connectivity
        The lesion conventions of :func:`lesion_tables` (BraTS 2023 GLI by default).
    num_classes, spatial_dims, options, backend
        As in :func:`lesion_tables`.

    Returns
    -------
    dict of str to Score
        One :class:`~segscore.metrics.reduce.Score` per metric, one column per class
        (``class_ids``); ``conventions.instance`` records the lesion conventions.

    Raises
    ------
    InputError
        On a metric that is not a lesion metric, ``penalty <= 0``, a bad aggregation or
        empty value, and every error of :func:`lesion_tables`.

    Notes
    -----
    Per image and class, with L the kept target lesions and FP the unmatched predicted
    lesions: ``lesion_dice = sum_L Dice / (|L| + FP)``, ``lesion_hd95 = (sum_L HD95 + FP *
    penalty) / (|L| + FP)`` (module docstring). The empty cases are named by lesions:
    ``both_empty`` no kept target lesion and no scored predicted lesion, ``target_empty`` only
    false positives (Dice 0, HD95 ``penalty``), ``prediction_empty`` only misses.

    Examples
    --------
    Two target lesions (16 and 9 pixels); a prediction shifted by one pixel on the first, the
    second missed, one false positive:

    >>> target = np.zeros((12, 12), bool); target[1:5, 1:5] = True; target[8:11, 8:11] = True
    >>> pred = np.zeros_like(target); pred[1:5, 2:6] = True; pred[9:11, 1:3] = True
    >>> s = lesion_scores(pred, target, ["lesion_dice", "lesion_hd95", "lesion_fp"], dilation=0, min_volume=0)
    >>> s["lesion_dice"].value, s["lesion_hd95"].value, s["lesion_fp"].value  # (0.75 + 0 + 0) / 3
    (0.25, 249.66666666666666, 1.0)

    Dropping lesions of at most 10 pixels leaves (0.75 + 0) / 2 and (1 + 374) / 2; with the
    default dilation (3) the two target lesions become one:

    >>> s = lesion_scores(pred, target, ["lesion_dice", "lesion_hd95"], dilation=0, min_volume=10)
    >>> s["lesion_dice"].value, s["lesion_hd95"].value
    (0.375, 187.5)
    >>> lesion_tables(pred, target, min_volume=0)[0][0].target_voxels
    array([25])
    """
    specs = parse_metrics(metrics)
    for spec in specs:
        if spec.base not in _LESION_BASES:
            fail(
                f"`metrics` must name lesion metrics ({', '.join(_LESION_BASES)}), got "
                f"{spec.name!r}; other instance metrics are computed by instance_scores."
            )
    penalty = check_number("penalty", penalty, low=0, low_inclusive=False)
    check_option("aggregation", aggregation, AGGREGATIONS)
    policies = {spec.name: _policy(spec, empty) for spec in specs}
    percentile = next(
        (float(s.params["percentile"]) for s in specs if "percentile" in s.params), None
    )
    tables, settings, class_ids = _tables(
        pred,
        target,
        spacing,
        connectivity,
        dilation,
        min_volume,
        percentile,
        surface,
        rule,
        interpolation,
        surface_connectivity,
        num_classes,
        spatial_dims,
        options,
        backend,
    )
    sp = settings.spacing
    record: dict[str, Any] = {
        "lesions": "connected components",
        "connectivity": connectivity,
        "dilation": dilation,
        "dilation_structure": "generate_binary_structure(ndim, 2), iterated",
        "matching": "a predicted lesion matches every target lesion whose dilated region it touches",
        "min_volume": min_volume,
        "penalty": penalty,
        "spacing": list(sp),
        "formula": "sum over kept target lesions / (kept target lesions + false positives)",
        "as_in": "BraTS 2023 lesion-wise (rachitsaluja/BraTS-2023-Metrics metrics.py)",
    }
    out: dict[str, Score] = {}
    for spec in specs:
        boundary = None
        if spec.base == "lesion_hd95":
            boundary = {
                "surface_model": surface,
                "connectivity": surface_connectivity if surface == "voxel" else None,
                "hd_percentile_rule": rule,
                "hd_interpolation": (
                    "area-weighted nearest rank" if rule == "area_weighted" else interpolation
                ),
                "spacing": list(sp),
                "spacing_axis_order": "numpy (axis 0 first)",
            }
        conventions = Conventions(
            spec.name,
            "instance",
            None,
            False,
            class_ids,
            None,
            policies[spec.name],
            aggregation,
            boundary=boundary,
            instance=record,
        )
        out[spec.name] = _score(spec, tables, penalty, policies[spec.name], conventions)
    return out

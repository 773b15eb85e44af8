"""Stage 2: the reducers of :class:`SurfaceDistances`, without touching the masks again.

:func:`hausdorff_distance` (maximum or percentile, four percentile rules),
:func:`average_surface_distance`, :func:`assd` (pooled or mean of means) and
:func:`surface_dice`; each applies an :class:`~segscore.metrics.empty.EmptyPolicy` to the natural
values of :mod:`segscore.metrics.empty` (a distance to an empty surface is inf, a mean or an overlap
of two empty surfaces the zero-division value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from segscore._types import (
    ASSD_VARIANTS,
    INTERPOLATIONS,
    PERCENTILE_RULES,
    AssdVariant,
    FloatArray,
    IntArray,
    PercentileRule,
)
from segscore._validation import check_number, check_option, fail
from segscore.metrics.boundary.distances import SurfaceDistances
from segscore.metrics.boundary.segments import segment_hausdorff
from segscore.metrics.empty import (
    DEFAULT_EMPTY,
    EmptyCase,
    EmptyPolicy,
    EmptyValue,
    _override,
    _zero_division,
    lookup_policy,
)

Empty = EmptyPolicy | Mapping[str, EmptyPolicy] | EmptyValue | None
"""What a reducer's ``empty`` accepts: a policy, a mapping of metric names to policies (looked up
by the reducer's name), a value, or None (the natural values, :data:`DEFAULT_EMPTY`)."""

__all__ = ["assd", "average_surface_distance", "hausdorff_distance", "surface_dice"]


def _check_sd(sd: object) -> SurfaceDistances:
    if not isinstance(sd, SurfaceDistances):
        fail(f"`sd` must be a SurfaceDistances from surface_distances(), got {type(sd).__name__}.")
    return sd


def _policy(empty: Empty, base: str, percentile: bool = False) -> EmptyPolicy:
    """Return the policy of one reducer.

    A plain value sets both one-empty cases of a distance, the zero-division value of a ratio
    (``base`` 'nsd').
    """
    if empty is None:
        policy = DEFAULT_EMPTY
    elif isinstance(empty, EmptyPolicy):
        policy = empty
    elif isinstance(empty, Mapping):
        found = lookup_policy(empty, base, base, percentile)
        policy = DEFAULT_EMPTY if found is None else found
        if not isinstance(policy, EmptyPolicy):
            fail(f"`empty` must map metric names to EmptyPolicy, got {type(policy).__name__}.")
    elif base == "nsd":
        policy = EmptyPolicy(zero_division=_zero_division("empty", empty))
    else:
        value = _override("empty", empty)
        policy = EmptyPolicy(target_empty=value, prediction_empty=value)
    return policy.check_ratio(base) if base == "nsd" else policy


def _distance_empty(case: EmptyCase, policy: EmptyPolicy, diagonal: float) -> float:
    """Value of a symmetric distance (hd, hdP, assd, masd) when a surface is empty."""
    natural = policy.zero_division if case is EmptyCase.BOTH_EMPTY else math.inf
    return policy.value(case, natural, diagonal)


def _joined(
    distances: tuple[FloatArray, ...], weights: tuple[FloatArray, ...], classes: list[int]
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Join the distances and weights of some classes end to end; with their counts (segments)."""
    counts = np.array([distances[i].size for i in classes], dtype=np.int64)
    if len(classes) == 1:
        return distances[classes[0]], weights[classes[0]], counts
    return (
        np.concatenate([distances[i] for i in classes]),
        np.concatenate([weights[i] for i in classes]),
        counts,
    )


def hausdorff_distance(
    sd: SurfaceDistances,
    *,
    percentile: float | None = None,
    rule: PercentileRule = "max_directed",
    interpolation: str = "linear",
    empty: Empty = None,
) -> FloatArray:
    """Hausdorff distance (maximum) or a Hausdorff percentile such as HD95, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    percentile : float in [0, 100], optional
        None gives the maximum (HD, every rule agrees except ``'directed'``); 95 gives HD95.
    rule : {'max_directed', 'pooled', 'directed', 'area_weighted'}, default 'max_directed'
        Percentile rule (:mod:`segscore.metrics.boundary`).
    interpolation : str, default 'linear'
        :func:`numpy.percentile` method of the ``'pooled'``, ``'max_directed'`` and
        ``'directed'`` rules (which count elements, ignoring weights).
    empty : EmptyPolicy, mapping, str or float, optional
        Empty policy (:mod:`segscore.metrics.empty`; a mapping is looked up under ``'hdP'`` then
        ``'hd'``); a plain value sets both one-empty cases. Default: inf with one surface empty,
        NaN with both.

    Returns
    -------
    ndarray of float64, shape (C,)
        One value per class of ``sd.class_ids``, in the units of ``spacing``.

    Raises
    ------
    InputError
        On a percentile outside [0, 100] or an unknown rule or interpolation.

    Notes
    -----
    With ``d_pt`` the distances from prediction elements to the target surface and ``d_tp`` the
    reverse: HD = ``max(max d_pt, max d_tp)``; ``'max_directed'`` HDp =
    ``max(P_p(d_pt), P_p(d_tp))`` (MONAI, Metrics Reloaded); ``'pooled'`` HDp =
    ``P_p(d_pt ∪ d_tp)`` (MedPy); ``'directed'`` HDp = ``P_p(d_pt)`` (MONAI ``directed=True``);
    ``'area_weighted'``: per direction, sort by distance, take the first distance whose
    cumulative weight share is >= p / 100 (nearest rank), then the max (DeepMind's
    ``compute_robust_hausdorff``). ``P_p`` is :func:`numpy.percentile` with ``interpolation``.

    Examples
    --------
    >>> from segscore.metrics.boundary import surface_distances
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 2:5] = True
    >>> sd = surface_distances(pred, target)
    >>> hausdorff_distance(sd), hausdorff_distance(sd, percentile=50, rule="pooled")
    (array([1.]), array([0.5]))
    """
    sd = _check_sd(sd)
    if percentile is not None:
        q = check_number("percentile", percentile, low=0, high=100)
    check_option("rule", rule, PERCENTILE_RULES)
    check_option("interpolation", interpolation, INTERPOLATIONS)
    policy = _policy(empty, "hd", percentile is not None)
    out = np.empty(len(sd.class_ids), dtype=np.float64)
    present = []
    for i, case in enumerate(sd.cases()):
        if case is EmptyCase.BOTH_PRESENT:
            present.append(i)
        else:
            out[i] = _distance_empty(case, policy, sd.diagonal)
    if present:  # every class at once: one segment each (segments.py)
        out[present] = segment_hausdorff(
            *_joined(sd.pred_to_target, sd.pred_weights, present),
            *_joined(sd.target_to_pred, sd.target_weights, present),
            percentile=None if percentile is None else q,
            rule=rule,
            interpolation=interpolation,
        )
    return out


def _weighted_mean(d: FloatArray, w: FloatArray) -> float:
    return float(np.sum(d * w) / np.sum(w))


def average_surface_distance(sd: SurfaceDistances, *, empty: Empty = None) -> FloatArray:
    """Average surface distance in each direction, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    empty : EmptyPolicy, mapping, str or float, optional
        Empty policy (a mapping is looked up under ``'asd'``); a plain value sets both one-empty
        cases. An override sets both columns of its case.

    Returns
    -------
    ndarray of float64, shape (C, 2)
        Column 0: prediction → target (MedPy ``asd(pred, target)``, MONAI ``symmetric=False``);
        column 1: target → prediction (DeepMind's first value).

    Notes
    -----
    ``ASD(A → B) = sum_a w_a d(a, B) / sum_a w_a`` over the elements ``a`` of surface A. With B
    empty, ``d(a, B)`` is inf; with A empty, the mean is 0 / 0, the policy's ``zero_division``:
    an empty prediction gives ``(zero_division, inf)``, as DeepMind's (inf, NaN) in its order.

    Examples
    --------
    >>> from segscore.metrics.boundary import surface_distances
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> average_surface_distance(surface_distances(pred, target))
    array([[0.125, 0.3  ]])
    """
    sd = _check_sd(sd)
    policy = _policy(empty, "asd")
    out = np.empty((len(sd.class_ids), 2), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case is not EmptyCase.BOTH_PRESENT:
            zd, inf = policy.zero_division, math.inf
            natural = {
                EmptyCase.BOTH_EMPTY: (zd, zd),
                EmptyCase.TARGET_EMPTY: (inf, zd),
                EmptyCase.PREDICTION_EMPTY: (zd, inf),
            }[case]
            out[i] = [policy.value(case, v, sd.diagonal) for v in natural]
            continue
        out[i, 0] = _weighted_mean(sd.pred_to_target[i], sd.pred_weights[i])
        out[i, 1] = _weighted_mean(sd.target_to_pred[i], sd.target_weights[i])
    return out


def assd(
    sd: SurfaceDistances,
    *,
    variant: AssdVariant = "pooled",
    empty: Empty = None,
) -> FloatArray:
    """Average symmetric surface distance (pooled) or MASD (mean of the two directed means).

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    variant : {'pooled', 'mean_of_means'}, default 'pooled'
        ``'pooled'``: ASSD of MedPy >= 0.5.2, MONAI ``symmetric=True``, Metrics Reloaded ``assd``;
        ``'mean_of_means'``: MASD of Metrics Reloaded, MedPy <= 0.4.
    empty : EmptyPolicy, mapping, str or float, optional
        Empty policy (a mapping is looked up under ``'assd'`` or ``'masd'``, by ``variant``); a
        plain value sets both one-empty cases. Default: inf with one surface empty, NaN with both.

    Returns
    -------
    ndarray of float64, shape (C,)

    Notes
    -----
    pooled: ``(sum_a w_a d(a, T) + sum_b w_b d(b, P)) / (sum_a w_a + sum_b w_b)``;
    mean_of_means: ``(ASD(P → T) + ASD(T → P)) / 2``.

    Examples
    --------
    >>> from segscore.metrics.boundary import surface_distances
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> sd = surface_distances(pred, target)
    >>> assd(sd), assd(sd, variant="mean_of_means")
    (array([0.22222222]), array([0.2125]))
    """
    sd = _check_sd(sd)
    check_option("variant", variant, ASSD_VARIANTS)
    policy = _policy(empty, "assd" if variant == "pooled" else "masd")
    out = np.empty(len(sd.class_ids), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case is not EmptyCase.BOTH_PRESENT:
            out[i] = _distance_empty(case, policy, sd.diagonal)
        elif variant == "pooled":
            out[i] = _weighted_mean(
                np.concatenate([sd.pred_to_target[i], sd.target_to_pred[i]]),
                np.concatenate([sd.pred_weights[i], sd.target_weights[i]]),
            )
        else:
            out[i] = 0.5 * (
                _weighted_mean(sd.pred_to_target[i], sd.pred_weights[i])
                + _weighted_mean(sd.target_to_pred[i], sd.target_weights[i])
            )
    return out


def surface_dice(
    sd: SurfaceDistances,
    *,
    tolerance: float,
    empty: EmptyPolicy | Mapping[str, EmptyPolicy] | float | None = None,
) -> FloatArray:
    """Normalised surface Dice (NSD) at a tolerance, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    tolerance : float >= 0
        Largest distance counted as overlapping, in the units of ``spacing``.
    empty : EmptyPolicy, mapping or float, optional
        Empty policy (a mapping is looked up under ``'nsd'``); a plain number is the
        zero-division value. By the formula one empty surface gives 0 and two give
        ``zero_division`` (NaN by default).

    Returns
    -------
    ndarray of float64, shape (C,)

    Raises
    ------
    InputError
        On a negative tolerance.

    Notes
    -----
    ``NSD = (sum_{a: d(a,T) <= tol} w_a + sum_{b: d(b,P) <= tol} w_b) / (sum_a w_a + sum_b w_b)``:
    element counts for the voxel model (MONAI's default, Metrics Reloaded), surfel areas for
    the surfel model (DeepMind, MONAI ``use_subvoxels=True``).

    Examples
    --------
    >>> from segscore.metrics.boundary import surface_distances
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> surface_dice(surface_distances(pred, target), tolerance=0.5)
    array([0.77777778])
    """
    sd = _check_sd(sd)
    tol = check_number("tolerance", tolerance, low=0)
    policy = _policy(empty, "nsd")
    out = np.empty(len(sd.class_ids), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case is EmptyCase.BOTH_EMPTY:
            out[i] = policy.value(case, policy.zero_division)
            continue
        wp, wt = sd.pred_weights[i], sd.target_weights[i]
        inside = np.sum(wp[sd.pred_to_target[i] <= tol]) + np.sum(wt[sd.target_to_pred[i] <= tol])
        out[i] = policy.value(case, float(inside / (np.sum(wp) + np.sum(wt))))
    return out

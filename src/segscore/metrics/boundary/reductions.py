"""Stage 2: the reducers of :class:`SurfaceDistances`, without touching the masks again.

:func:`hausdorff_distance` (maximum or percentile, four percentile rules),
:func:`average_surface_distance`, :func:`assd` (pooled or mean of means) and
:func:`surface_dice`; each applies the :class:`~segscore.metrics.empty.DistanceEmpty` policy.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from segscore._types import (
    ASSD_VARIANTS,
    INTERPOLATIONS,
    PERCENTILE_RULES,
    AssdVariant,
    FloatArray,
    PercentileRule,
)
from segscore._validation import check_number, check_option, fail
from segscore.metrics.boundary.distances import SurfaceDistances
from segscore.metrics.empty import DistanceEmpty, EmptyValue, _as_distance_empty, _resolve

__all__ = ["assd", "average_surface_distance", "hausdorff_distance", "surface_dice"]


def _check_sd(sd: object) -> SurfaceDistances:
    if not isinstance(sd, SurfaceDistances):
        fail(f"`sd` must be a SurfaceDistances from surface_distances(), got {type(sd).__name__}.")
    return sd


def _empty_value(case: str, policy: DistanceEmpty, diagonal: float, percentile: bool) -> float:
    if case == "both_empty":
        value = policy.percentile_both_empty if percentile else None
        return _resolve(policy.both_empty if value is None else value, diagonal)
    value = policy.percentile_one_empty if percentile else None
    return _resolve(policy.one_empty if value is None else value, diagonal)


def _weighted_rank(distances: FloatArray, weights: FloatArray, q: float) -> float:
    """Smallest distance whose cumulative weight share reaches ``q`` (sorted by distance, weight).

    The elements are put in (distance, weight) order without a permutation: both take few
    distinct values (lattice distances, a table of surfel areas), so each element becomes the
    integer key ``rank(distance) * n_weights + rank(weight)``, the keys are sorted (one fast
    integer sort instead of a two-key argsort) and the sorted distances and weights are read
    back from them. The weights are then summed in exactly the order of that two-key sort.
    """
    d_values = np.unique(distances)
    w_values = np.unique(weights)
    d_rank = np.searchsorted(d_values, distances).astype(np.int64)  # int64 keys, also where
    key = d_rank * w_values.size + np.searchsorted(w_values, weights)  # intp is 32 bits
    key.sort()
    d, w = d_values[key // w_values.size], w_values[key % w_values.size]
    cumulative = np.cumsum(w) / np.sum(w)
    index = int(np.searchsorted(cumulative, q))
    return float(d[min(index, d.size - 1)])


def hausdorff_distance(
    sd: SurfaceDistances,
    *,
    percentile: float | None = None,
    rule: PercentileRule = "max_directed",
    interpolation: str = "linear",
    empty: DistanceEmpty | EmptyValue | None = None,
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
    empty : DistanceEmpty, str or float, optional
        Empty policy; a plain value sets ``one_empty``. Default :data:`DEFAULT_DISTANCE_EMPTY`.

    Returns
    -------
    ndarray of float64, shape (C,)
        One value per class of ``sd.classes``, in the units of ``spacing``.

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
    policy = _as_distance_empty(empty)
    method = cast(Any, interpolation)
    out = np.empty(len(sd.classes), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case != "both_present":
            out[i] = _empty_value(case, policy, sd.diagonal, percentile is not None)
            continue
        d_pt, d_tp = sd.pred_to_target[i], sd.target_to_pred[i]
        if rule == "directed":
            out[i] = d_pt.max() if percentile is None else np.percentile(d_pt, q, method=method)
        elif percentile is None:
            out[i] = max(d_pt.max(), d_tp.max())
        elif rule == "pooled":
            out[i] = np.percentile(np.concatenate([d_pt, d_tp]), q, method=method)
        elif rule == "max_directed":
            out[i] = max(
                np.percentile(d_pt, q, method=method), np.percentile(d_tp, q, method=method)
            )
        else:
            out[i] = max(
                _weighted_rank(d_pt, sd.pred_weights[i], q / 100.0),
                _weighted_rank(d_tp, sd.target_weights[i], q / 100.0),
            )
    return out


def _weighted_mean(d: FloatArray, w: FloatArray) -> float:
    return float(np.sum(d * w) / np.sum(w))


def average_surface_distance(
    sd: SurfaceDistances, *, empty: DistanceEmpty | EmptyValue | None = None
) -> FloatArray:
    """Average surface distance in each direction, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    empty : DistanceEmpty, str or float, optional
        Empty policy (both columns of an empty case take its value).

    Returns
    -------
    ndarray of float64, shape (C, 2)
        Column 0: prediction → target (MedPy ``asd(pred, target)``, MONAI ``symmetric=False``);
        column 1: target → prediction (DeepMind's first value).

    Notes
    -----
    ``ASD(A → B) = sum_a w_a d(a, B) / sum_a w_a`` over the elements ``a`` of surface A.

    Examples
    --------
    >>> from segscore.metrics.boundary import surface_distances
    >>> pred = np.zeros((6, 6), dtype=bool); pred[1:4, 1:4] = True
    >>> target = np.zeros((6, 6), dtype=bool); target[1:4, 1:5] = True
    >>> average_surface_distance(surface_distances(pred, target))
    array([[0.125, 0.3  ]])
    """
    sd = _check_sd(sd)
    policy = _as_distance_empty(empty)
    out = np.empty((len(sd.classes), 2), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case != "both_present":
            out[i] = _empty_value(case, policy, sd.diagonal, False)
            continue
        out[i, 0] = _weighted_mean(sd.pred_to_target[i], sd.pred_weights[i])
        out[i, 1] = _weighted_mean(sd.target_to_pred[i], sd.target_weights[i])
    return out


def assd(
    sd: SurfaceDistances,
    *,
    variant: AssdVariant = "pooled",
    empty: DistanceEmpty | EmptyValue | None = None,
) -> FloatArray:
    """Average symmetric surface distance (pooled) or MASD (mean of the two directed means).

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    variant : {'pooled', 'mean_of_means'}, default 'pooled'
        ``'pooled'``: ASSD of MedPy >= 0.5.2, MONAI ``symmetric=True``, Metrics Reloaded ``assd``;
        ``'mean_of_means'``: MASD of Metrics Reloaded, MedPy <= 0.4.
    empty : DistanceEmpty, str or float, optional
        Empty policy.

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
    policy = _as_distance_empty(empty)
    out = np.empty(len(sd.classes), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case != "both_present":
            out[i] = _empty_value(case, policy, sd.diagonal, False)
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
    empty: DistanceEmpty | EmptyValue | None = None,
) -> FloatArray:
    """Normalised surface Dice (NSD) at a tolerance, per class.

    Parameters
    ----------
    sd : SurfaceDistances
        From :func:`surface_distances`.
    tolerance : float >= 0
        Largest distance counted as overlapping, in the units of ``spacing``.
    empty : DistanceEmpty, str or float, optional
        Empty policy: ``overlap_both_empty`` when both surfaces are empty; one empty gives 0.

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
    policy = _as_distance_empty(empty)
    out = np.empty(len(sd.classes), dtype=np.float64)
    for i, case in enumerate(sd.cases()):
        if case == "both_empty":
            out[i] = policy.overlap_both_empty
            continue
        wp, wt = sd.pred_weights[i], sd.target_weights[i]
        inside = np.sum(wp[sd.pred_to_target[i] <= tol]) + np.sum(wt[sd.target_to_pred[i] <= tol])
        out[i] = float(inside / (np.sum(wp) + np.sum(wt)))
    return out

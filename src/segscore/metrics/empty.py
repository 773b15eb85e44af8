"""The empty-mask policy: what a score is when a mask has no pixel of the class.

For one (image, class) cell there are four cases, named by :class:`EmptyCase`:

========================  ========================  ==============================================
case                      counts                    IoU and Dice by the formula
========================  ========================  ==============================================
``both_empty``            tp + fp + fn == 0         0 / 0: undefined, the *zero-division value*
``target_empty``          tp + fn == 0 < fp         0 (a pure false positive)
``prediction_empty``      tp + fp == 0 < fn         0 (a miss)
``both_present``          tp + fn > 0, tp + fp > 0  the formula
========================  ========================  ==============================================

segscore's default (:data:`DEFAULT_EMPTY`): a zero denominator gives NaN, NaN values are excluded
from every mean, and the number excluded is reported with every result. A different value for a
zero denominator (``0`` or ``1``, as in scikit-learn's and SMP's ``zero_division``) or an override
for a whole case (MONAI's ``ignore_empty=True`` makes ``target_empty`` NaN too) is chosen with
:class:`EmptyPolicy`. Which denominator is zero depends on the metric: for precision it is an empty
prediction, for recall an empty target.

The boundary metrics (:mod:`segscore.metrics.boundary`) follow their own policy,
:class:`DistanceEmpty`: a distance to an empty surface has no zero denominator but needs a value
(NaN, inf, the image diagonal or a number), chosen separately for one and for both surfaces empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from segscore._types import FloatArray
from segscore._validation import check_option, fail

__all__ = [
    "DEFAULT_DISTANCE_EMPTY",
    "DEFAULT_EMPTY",
    "DistanceEmpty",
    "EmptyCase",
    "EmptyPolicy",
    "EmptyValue",
    "as_empty_policy",
    "empty_cases",
]


class EmptyCase(str, Enum):
    """The four cases of one (image, class) cell."""

    BOTH_EMPTY = "both_empty"
    TARGET_EMPTY = "target_empty"
    PREDICTION_EMPTY = "prediction_empty"
    BOTH_PRESENT = "both_present"


def _check_value(name: str, value: float | None, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(f"`{name}` must be NaN or a finite number, got {value!r}.")
    number = float(value)
    if math.isinf(number):
        fail(f"`{name}` must be NaN or a finite number, got {value!r}.")
    return number


@dataclass(frozen=True, slots=True)
class EmptyPolicy:
    """Values for empty masks.

    Parameters
    ----------
    zero_division : float, default NaN
        The value of a metric whose denominator is zero (NaN: excluded from means and counted).
    both_empty, target_empty, prediction_empty : float or None
        Override the value for every cell of that case whatever the metric's formula gives; None
        keeps the formula (with ``zero_division`` where its denominator is zero).

    Examples
    --------
    >>> EmptyPolicy(zero_division=1.0).as_dict()
    {'zero_division': 1.0, 'both_empty': None, 'target_empty': None, 'prediction_empty': None}
    """

    zero_division: float = math.nan
    both_empty: float | None = None
    target_empty: float | None = None
    prediction_empty: float | None = None

    def __post_init__(self) -> None:
        _check_value("zero_division", self.zero_division, allow_none=False)
        for name in ("both_empty", "target_empty", "prediction_empty"):
            _check_value(name, getattr(self, name), allow_none=True)

    def as_dict(self) -> dict[str, Any]:
        """Return the policy as a JSON-friendly dict (NaN stays a float NaN)."""
        return {
            "zero_division": self.zero_division,
            "both_empty": self.both_empty,
            "target_empty": self.target_empty,
            "prediction_empty": self.prediction_empty,
        }


DEFAULT_EMPTY = EmptyPolicy()
"""NaN for a zero denominator, excluded from means; no case overridden."""


def as_empty_policy(empty: float | EmptyPolicy) -> EmptyPolicy:
    """Return ``empty`` as an :class:`EmptyPolicy` (a number is the zero-division value)."""
    if isinstance(empty, EmptyPolicy):
        return empty
    value = _check_value("empty", empty, allow_none=False)
    assert value is not None
    return EmptyPolicy(zero_division=value)


def empty_cases(tp: Any, fp: Any, fn: Any) -> dict[EmptyCase, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Return a boolean array per :class:`EmptyCase` (exactly one is True per cell).

    Examples
    --------
    >>> cases = empty_cases(np.array([0, 0, 0, 2]), np.array([0, 3, 0, 1]), np.array([0, 0, 4, 0]))
    >>> [case.value for case, where in cases.items() for _ in np.flatnonzero(where)]
    ['both_empty', 'target_empty', 'prediction_empty', 'both_present']
    """
    target_empty = (np.asarray(tp) + np.asarray(fn)) == 0
    prediction_empty = (np.asarray(tp) + np.asarray(fp)) == 0
    return {
        EmptyCase.BOTH_EMPTY: target_empty & prediction_empty,
        EmptyCase.TARGET_EMPTY: target_empty & ~prediction_empty,
        EmptyCase.PREDICTION_EMPTY: ~target_empty & prediction_empty,
        EmptyCase.BOTH_PRESENT: ~target_empty & ~prediction_empty,
    }


def apply_policy(
    numerator: Any, denominator: Any, tp: Any, fp: Any, fn: Any, policy: EmptyPolicy
) -> FloatArray:
    """Divide, put ``zero_division`` where the denominator is 0, then apply the case overrides."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    zero = den == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(zero, policy.zero_division, num / np.where(zero, 1.0, den))
    overrides = (policy.both_empty, policy.target_empty, policy.prediction_empty)
    if any(o is not None for o in overrides):
        cases = empty_cases(tp, fp, fn)
        for case, override in zip(
            (EmptyCase.BOTH_EMPTY, EmptyCase.TARGET_EMPTY, EmptyCase.PREDICTION_EMPTY),
            overrides,
            strict=True,
        ):
            if override is not None:
                value = np.where(cases[case], override, value)
    return np.asarray(value, dtype=np.float64)


# ------------------------------------------------------------------------------------------------
# The boundary family: distances to an empty surface
# ------------------------------------------------------------------------------------------------

EmptyValue = float | str
"""A boundary empty value: a number >= 0 or one of the words ``'nan'``, ``'inf'``, ``'diagonal'``."""

_EMPTY_WORDS = ("nan", "inf", "diagonal")


def _check_empty_value(name: str, value: object, allow_none: bool) -> EmptyValue | None:
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        check_option(name, value, _EMPTY_WORDS)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(f"`{name}` must be 'nan', 'inf', 'diagonal' or a number >= 0, got {value!r}.")
    number = float(value)
    if number < 0:
        fail(f"`{name}` must be 'nan', 'inf', 'diagonal' or a number >= 0, got {value!r}.")
    return number


@dataclass(frozen=True, slots=True)
class DistanceEmpty:
    """Values of boundary metrics when a surface is empty (CONVENTIONS §5.2).

    A surface is empty when its mask has no voxel of the class, or when every element lies in an
    ignored region. Values are numbers, or the words ``'nan'`` (excluded from means and
    counted), ``'inf'`` or ``'diagonal'`` (the worst case: the image diagonal in the units of
    ``spacing``, ``sqrt(sum((n_i * s_i) ** 2))``).

    Parameters
    ----------
    one_empty : str or float, default 'inf'
        Distance metrics (HD, HD percentile, ASD, ASSD, MASD) when exactly one surface is empty.
    both_empty : str or float, default 'nan'
        Distance metrics when both surfaces are empty.
    percentile_one_empty, percentile_both_empty : str or float, optional
        Override for the Hausdorff percentile (``hd95``); None follows ``one_empty`` /
        ``both_empty``. MONAI returns NaN for HD95 but inf for HD when one mask is empty.
    overlap_both_empty : float, default NaN
        Surface Dice and Boundary IoU when both are empty (one empty gives 0 by the formula).

    Examples
    --------
    >>> DistanceEmpty(one_empty="diagonal").as_dict()["one_empty"]
    'diagonal'
    """

    one_empty: EmptyValue = "inf"
    both_empty: EmptyValue = "nan"
    percentile_one_empty: EmptyValue | None = None
    percentile_both_empty: EmptyValue | None = None
    overlap_both_empty: float = math.nan

    def __post_init__(self) -> None:
        for name in ("one_empty", "both_empty"):
            _check_empty_value(name, getattr(self, name), allow_none=False)
        for name in ("percentile_one_empty", "percentile_both_empty"):
            _check_empty_value(name, getattr(self, name), allow_none=True)
        value = self.overlap_both_empty
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            fail(f"`overlap_both_empty` must be a number, got {value!r}.")

    def as_dict(self) -> dict[str, Any]:
        """Return the policy as a JSON-friendly dict."""
        return {
            "one_empty": self.one_empty,
            "both_empty": self.both_empty,
            "percentile_one_empty": self.percentile_one_empty,
            "percentile_both_empty": self.percentile_both_empty,
            "overlap_both_empty": self.overlap_both_empty,
        }


DEFAULT_DISTANCE_EMPTY = DistanceEmpty()
"""segscore's default: one empty surface gives inf distances and NSD 0; both empty give NaN."""


def _as_distance_empty(empty: DistanceEmpty | EmptyValue | None) -> DistanceEmpty:
    if empty is None:
        return DEFAULT_DISTANCE_EMPTY
    if isinstance(empty, DistanceEmpty):
        return empty
    value = _check_empty_value("empty", empty, allow_none=False)
    assert value is not None
    return DistanceEmpty(one_empty=value)


def _resolve(value: EmptyValue, diagonal: float) -> float:
    if isinstance(value, str):
        return {"nan": math.nan, "inf": math.inf}.get(value, diagonal)
    return float(value)

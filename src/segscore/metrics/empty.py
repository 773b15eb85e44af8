"""The empty-mask policy: what a score is when a mask has no pixel of the class.

One policy type, :class:`EmptyPolicy`, serves every metric family. For one (image, class) cell
there are four cases, named by :class:`EmptyCase`:

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

Boundary metrics: the natural values
------------------------------------
For the boundary family (:mod:`segscore.metrics.boundary`) a case is named by the two *surfaces*
(a surface is empty when its mask has no voxel of the class, or when every element lies in an
ignored region; for Boundary IoU, by the two boundary bands). The formulas give, with ``zd`` the
policy's ``zero_division``:

=========================  ===========  ================  ================  ==============
metric                     both_empty   target_empty      prediction_empty  both_present
=========================  ===========  ================  ================  ==============
hd, hdP, assd, masd        zd           inf               inf               the formula
asd (pred→target,          (zd, zd)     (inf, zd)         (zd, inf)         the formula
target→pred)
nsd@T, biou@W              zd           0                 0                 the formula
=========================  ===========  ================  ================  ==============

A distance to an empty surface is infinite (no element is near), a mean over an empty surface is
0 / 0 (the zero-division value), a surface overlap with one surface empty is 0 / n = 0, and the
distances and overlaps of two empty surfaces are undefined. The directed pair of ``asd`` is
DeepMind surface-distance's (``compute_average_surface_distance``: (inf, NaN) in its order
(target→pred, pred→target) when the prediction is empty). An override replaces the value of every
cell of its case (both columns of ``asd``); for distances it may be ``inf`` or ``'diagonal'``,
the image diagonal in the units of ``spacing``, ``sqrt(sum((n_i * s_i) ** 2))``. Metrics whose
values are ratios (every overlap metric, NSD, Boundary IoU) refuse ``inf`` and ``'diagonal'``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from segscore._types import FloatArray
from segscore._validation import fail_must

__all__ = [
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


EmptyValue = float | str
"""An override value: a float (NaN, a finite number or inf) or one of the words ``'nan'``,
``'inf'``, ``'diagonal'``."""

_OVERRIDES = ("both_empty", "target_empty", "prediction_empty")
_VALUE_RULE = "be NaN, a finite number, inf or 'diagonal'"


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _zero_division(name: str, value: object) -> float:
    """NaN or a finite number (``math.nan`` itself, so that equal policies compare equal)."""
    if not _is_number(value) or math.isinf(float(value)):  # type: ignore[arg-type]
        fail_must(name, "be NaN or a finite number", repr(value))
    number = float(value)  # type: ignore[arg-type]
    return math.nan if math.isnan(number) else number


def _override(name: str, value: object) -> EmptyValue | None:
    """None, NaN, a finite number, inf or ``'diagonal'`` (the words 'nan' and 'inf' read as floats)."""
    if value is None:
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "diagonal":
            return "diagonal"
        if word in ("nan", "inf"):
            return math.nan if word == "nan" else math.inf
        fail_must(name, _VALUE_RULE, repr(value))
    if not _is_number(value) or float(value) == -math.inf:  # type: ignore[arg-type]
        fail_must(name, _VALUE_RULE, repr(value))
    number = float(value)  # type: ignore[arg-type]
    return math.nan if math.isnan(number) else number


@dataclass(frozen=True, slots=True)
class EmptyPolicy:
    """Values for empty masks, for every metric family (module docstring).

    Parameters
    ----------
    zero_division : float, default NaN
        The value of a metric whose denominator is zero (NaN: excluded from means and counted);
        for boundary metrics, the value when both surfaces are empty. NaN or a finite number.
    both_empty, target_empty, prediction_empty : float, str or None
        Override the value for every cell of that case whatever the metric's formula gives; None
        keeps the formula (with ``zero_division`` where its denominator is zero). A float (NaN, a
        finite number or inf) or the word ``'diagonal'`` (the image diagonal in the units of
        ``spacing``); the words ``'nan'`` and ``'inf'`` are read as the floats. inf and
        ``'diagonal'`` are for distances: metrics whose values are ratios refuse them.

    Raises
    ------
    InputError
        On any other value.

    Examples
    --------
    >>> EmptyPolicy(zero_division=1.0).as_dict()
    {'zero_division': 1.0, 'both_empty': None, 'target_empty': None, 'prediction_empty': None}
    >>> EmptyPolicy(target_empty="inf", prediction_empty="diagonal").override(EmptyCase.TARGET_EMPTY)
    inf
    >>> EmptyPolicy(both_empty="worst")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `both_empty` must be NaN, a finite number, inf or 'diagonal', got 'worst'.
    """

    zero_division: float = math.nan
    both_empty: EmptyValue | None = None
    target_empty: EmptyValue | None = None
    prediction_empty: EmptyValue | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "zero_division", _zero_division("zero_division", self.zero_division)
        )
        for name in _OVERRIDES:
            object.__setattr__(self, name, _override(name, getattr(self, name)))

    def override(self, case: EmptyCase) -> EmptyValue | None:
        """Return the override of ``case`` (None: the formula; ``both_present`` has none)."""
        if case is EmptyCase.BOTH_PRESENT:
            return None
        value: EmptyValue | None = getattr(self, EmptyCase(case).value)
        return value

    def value(self, case: EmptyCase, natural: float, diagonal: float = math.nan) -> float:
        """Return the value of a cell of ``case`` whose formula gives ``natural``.

        Examples
        --------
        >>> EmptyPolicy(prediction_empty="diagonal").value(EmptyCase.PREDICTION_EMPTY, np.inf, 5.0)
        5.0
        >>> EmptyPolicy().value(EmptyCase.TARGET_EMPTY, np.inf)
        inf
        """
        override = self.override(case)
        if override is None:
            return float(natural)
        if isinstance(override, str):
            return float(diagonal)
        return float(override)

    def check_ratio(self, metric: str | None = None) -> EmptyPolicy:
        """Return the policy, or raise when it gives inf or 'diagonal' to a ratio metric.

        Examples
        --------
        >>> EmptyPolicy(target_empty=np.inf).check_ratio("iou")
        Traceback (most recent call last):
        ...
        segscore.errors.InputError: `target_empty` must be NaN or a finite number for the ratio metric 'iou' (inf and 'diagonal' are distances), got inf.
        """
        if self.both_empty is None and self.target_empty is None and self.prediction_empty is None:
            return self  # the common case, checked on every call of every overlap metric
        which = "a ratio metric" if metric is None else f"the ratio metric {metric!r}"
        for name in _OVERRIDES:
            value = getattr(self, name)
            if isinstance(value, str) or (value is not None and math.isinf(value)):
                fail_must(
                    name,
                    f"be NaN or a finite number for {which} (inf and 'diagonal' are distances)",
                    repr(value),
                )
        return self

    def as_dict(self) -> dict[str, Any]:
        """Return the policy as a dict (non-finite floats stay floats; see ``jsonable``)."""
        return {
            "zero_division": self.zero_division,
            "both_empty": self.both_empty,
            "target_empty": self.target_empty,
            "prediction_empty": self.prediction_empty,
        }


DEFAULT_EMPTY = EmptyPolicy()
"""NaN for a zero denominator, excluded from means; no case overridden (boundary: the natural
values of the module docstring)."""


def as_empty_policy(empty: float | EmptyPolicy, metric: str | None = None) -> EmptyPolicy:
    """Return ``empty`` as an overlap :class:`EmptyPolicy` (a number is the zero-division value).

    Raises
    ------
    InputError
        On a value that is not NaN or finite, or a policy with inf or 'diagonal' overrides.
    """
    if isinstance(empty, EmptyPolicy):
        return empty.check_ratio(metric)
    if type(empty) is float and math.isnan(empty):
        return DEFAULT_EMPTY  # the default value of every `empty=` argument
    return EmptyPolicy(zero_division=_zero_division("empty", empty))


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
    policy.check_ratio()
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
# Deprecated: the boundary family's former policy
# ------------------------------------------------------------------------------------------------


def DistanceEmpty(  # the former class name, kept as a factory
    one_empty: EmptyValue = "inf",
    both_empty: EmptyValue = "nan",
    percentile_one_empty: EmptyValue | None = None,
    percentile_both_empty: EmptyValue | None = None,
    overlap_both_empty: float = math.nan,
) -> dict[str, EmptyPolicy]:
    """Return (deprecated) the per-metric :class:`EmptyPolicy` mapping of the former policy.

    ``one_empty`` and ``both_empty`` set the distances (``hd``, ``asd``, ``assd``, ``masd``;
    both columns of ``asd``), the ``percentile_*`` values the Hausdorff percentiles (``hdP``),
    ``overlap_both_empty`` the zero-division value of ``nsd`` and ``biou``. Pass the mapping as
    ``distance_metrics(..., empty=...)``; better, pass :class:`EmptyPolicy` values directly.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     DistanceEmpty(one_empty="diagonal")["hd"].target_empty
    'diagonal'
    """
    warnings.warn(
        "DistanceEmpty is deprecated: pass an EmptyPolicy, or a mapping of metric names to "
        "EmptyPolicy, as `empty=`.",
        DeprecationWarning,
        stacklevel=2,
    )

    def _policy(one: EmptyValue, both: EmptyValue) -> EmptyPolicy:
        return EmptyPolicy(
            both_empty=_override("both_empty", both),
            target_empty=_override("one_empty", one),
            prediction_empty=_override("one_empty", one),
        )

    distances = _policy(one_empty, both_empty)
    percentile = _policy(
        one_empty if percentile_one_empty is None else percentile_one_empty,
        both_empty if percentile_both_empty is None else percentile_both_empty,
    )
    ratio = EmptyPolicy(zero_division=_zero_division("overlap_both_empty", overlap_both_empty))
    return {
        "hd": distances,
        "hdP": percentile,
        "asd": distances,
        "assd": distances,
        "masd": distances,
        "nsd": ratio,
        "biou": ratio,
    }


def lookup_policy(
    policies: Mapping[str, EmptyPolicy], name: str, base: str, percentile: bool
) -> EmptyPolicy | None:
    """Return the policy of a metric, or None when ``policies`` names none of its keys.

    The keys are tried in order: the exact name, ``'hdP'`` for a Hausdorff percentile, the base
    name.
    """
    keys = [name, "hdP"] if percentile else [name]
    for key in [*keys, base]:
        if key in policies:
            return policies[key]
    return None

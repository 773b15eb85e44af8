"""The conventions record: how a number was made, one dataclass for every metric family.

Every result of segscore (a :class:`~segscore.metrics.reduce.Score`, a boundary
:class:`~segscore.metrics.results.MetricValues`, a folder evaluation's summary) carries a
:class:`Conventions`: the metric and its family, how the inputs were counted (mode, threshold,
ignore label), which classes entered and under which names, the empty-mask policy, the
aggregation rule, the boundary conventions (surface model, percentile rule, spacing...), the
preset and the segscore version.

Non-finite values in JSON
-------------------------
:func:`jsonable` is the one encoding of non-finite floats used by every JSON output of
segscore: a non-finite float is always written as a string naming it, ``"NaN"``,
``"Infinity"`` or ``"-Infinity"`` (the spellings that Python's ``float()`` and JavaScript's
``Number()`` read back), never as a bare ``NaN`` token (invalid JSON) and never as ``null`` (which
would hide which non-finite value it was). ``null`` means "not applicable" only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from segscore._version import __version__
from segscore.metrics.counts import CountingSpec
from segscore.metrics.empty import EmptyPolicy

__all__ = ["JSON_NONFINITE", "Conventions", "MetricKind", "jsonable"]

MetricKind = Literal["overlap", "boundary", "instance"]

JSON_NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
"""How non-finite floats are written in every JSON file of segscore."""


def jsonable(value: Any) -> Any:
    """Return ``value`` with numpy types made plain and non-finite floats encoded.

    Examples
    --------
    >>> jsonable({"a": np.float64("nan"), "b": [np.inf, -np.inf, np.int64(3)], "c": (1.5,)})
    {'a': 'NaN', 'b': ['Infinity', '-Infinity', 3], 'c': [1.5]}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return number
    if hasattr(value, "as_dict"):
        return jsonable(value.as_dict())
    return value


@dataclass(frozen=True, slots=True)
class Conventions:
    """Everything needed to say how a number was made.

    Attributes
    ----------
    metric : str
        Registry name of the metric (``'iou'``, ``'hd95'``...).
    kind : {'overlap', 'boundary', 'instance'}
        Metric family.
    counting : CountingSpec or None
        Mode, threshold, ignore label and number of classes used when counting.
    include_background : bool
        The background rule (:mod:`segscore.metrics.options`); binary masks always score
        their foreground.
    classes : tuple of int
        Class ids that entered the result (``(1,)`` for binary masks).
    class_names : tuple of str or None
        Their names, when given.
    empty : EmptyPolicy
        The empty-mask policy that was applied.
    aggregation : str or None
        Aggregation rule over images and classes (None for per-case values).
    class_weights : str or None
        None (plain mean), ``'support'`` or ``'custom'``.
    boundary : mapping or None
        Boundary conventions (surface model, spacing, percentile rule...), for boundary metrics.
    instance : mapping or None
        Instance conventions (matching rule, criterion, comparison, thresholds...), for
        instance metrics.
    preset : str or None
        The preset whose conventions were used.
    version : str
        segscore version.

    Examples
    --------
    >>> c = Conventions("iou", "overlap", None, True, (1,), None, EmptyPolicy(), "pooled")
    >>> c.as_dict()["classes"], c.as_dict()["empty"]["zero_division"]
    ([1], 'NaN')
    """

    metric: str
    kind: MetricKind
    counting: CountingSpec | None
    include_background: bool
    classes: tuple[int, ...]
    class_names: tuple[str, ...] | None
    empty: EmptyPolicy
    aggregation: str | None
    class_weights: str | None = None
    boundary: Mapping[str, Any] | None = None
    preset: str | None = None
    version: str = field(default=__version__)
    instance: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (non-finite values encoded by :func:`jsonable`)."""
        record: dict[str, Any] = jsonable(
            {
                "metric": self.metric,
                "kind": self.kind,
                "counting": None if self.counting is None else self.counting.as_dict(),
                "include_background": self.include_background,
                "classes": list(self.classes),
                "class_names": None if self.class_names is None else list(self.class_names),
                "empty": self.empty.as_dict(),
                "aggregation": self.aggregation,
                "class_weights": self.class_weights,
                "boundary": None if self.boundary is None else dict(self.boundary),
                "instance": None if self.instance is None else dict(self.instance),
                "preset": self.preset,
                "segscore_version": self.version,
            }
        )
        return record

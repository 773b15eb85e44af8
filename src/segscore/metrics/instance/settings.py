"""The conventions an instance score runs under: explicit options, a preset's, or the defaults.

A preset (:class:`~segscore.metrics.presets.InstanceConventions`) fills every option left unset;
an option set to another value than the preset's is an error naming both, found before any
matching (STYLE §8: conflicts are found when the options are built). For one class of objects
only pooled vs per-image aggregation matters, so any per-image rule agrees with a per-image
preset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from segscore._types import COMPARISONS, CRITERIA, MATCHINGS
from segscore._validation import check_option, fail_must
from segscore.metrics.empty import EmptyPolicy, as_empty_policy
from segscore.metrics.presets import PRESETS, InstanceConventions, get_preset
from segscore.metrics.reduce import AGGREGATIONS, DEFAULT_AGGREGATION
from segscore.metrics.registry import MetricSpec

__all__ = ["POOLED", "ChosenConventions", "choose_conventions"]

POOLED = ("pooled", "pooled_micro")
"""The aggregation rules that sum counts over images before the formula."""

_DEFAULTS: dict[str, Any] = {
    "matching": "optimal",
    "criterion": "iou",
    "comparison": ">=",
    "aggregation": DEFAULT_AGGREGATION,
}


@dataclass(frozen=True, slots=True)
class ChosenConventions:
    """The conventions in force: explicit options, else the preset's, else the defaults."""

    matching: str
    criterion: str
    comparison: str
    aggregation: str
    policies: dict[str, EmptyPolicy]
    preset: str | None


def _preset_conventions(preset: str) -> InstanceConventions:
    chosen = get_preset(preset)
    if chosen.instance is None:
        names = ", ".join(repr(n) for n, p in PRESETS.items() if p.instance is not None)
        fail_must("preset", f"be a preset with object-level conventions ({names})", repr(preset))
    return chosen.instance


_ALLOWED: dict[str, tuple[str, ...]] = {
    "matching": MATCHINGS,
    "criterion": CRITERIA,
    "comparison": COMPARISONS,
    "aggregation": AGGREGATIONS,
}


def choose_conventions(
    specs: Sequence[MetricSpec],
    preset: str | None,
    empty: float | EmptyPolicy | None,
    **given: str | None,
) -> ChosenConventions:
    """Resolve the conventions; an explicit option that contradicts the preset is an error.

    Examples
    --------
    >>> from segscore.metrics.registry import get_metric
    >>> c = choose_conventions([get_metric("pq")], "stardist", None, matching=None, criterion=None,
    ...                        comparison=None, aggregation=None)
    >>> c.matching, c.aggregation, c.policies["pq"].zero_division, c.preset
    ('optimal', 'pooled', 0.0, 'stardist')
    """
    for key, value in given.items():
        if value is not None:
            check_option(key, value, _ALLOWED[key])
    conv = None if preset is None else _preset_conventions(preset)
    values: dict[str, str] = {}
    for key, value in given.items():
        if conv is None:
            values[key] = _DEFAULTS[key] if value is None else value
            continue
        wanted = getattr(conv, key)
        if value is not None and _differs(key, value, wanted):
            fail_must(
                key,
                f"agree with preset={preset!r} ({key}={wanted!r}) or be left unset",
                repr(value),
            )
        values[key] = wanted if value is None else value
    policies: dict[str, EmptyPolicy] = {}
    for spec in specs:
        if spec.unit != "ratio":
            policies[spec.name] = EmptyPolicy()
            continue
        mine = None if empty is None else as_empty_policy(empty, spec.name)
        if conv is None:
            policies[spec.name] = as_empty_policy(math.nan) if mine is None else mine
            continue
        wanted_policy = conv.empty_for(spec)
        if mine is not None and mine != wanted_policy:
            fail_must(
                "empty",
                f"agree with preset={preset!r} ({wanted_policy} for {spec.name!r}) or be "
                "left unset",
                repr(empty),
            )
        policies[spec.name] = wanted_policy
    return ChosenConventions(
        values["matching"],
        values["criterion"],
        values["comparison"],
        values["aggregation"],
        policies,
        None if conv is None else get_preset(str(preset)).name,
    )


def _differs(key: str, value: str, wanted: str) -> bool:
    if key == "aggregation":  # for one class of objects only pooled or per-image matters
        return (value in POOLED) != (wanted in POOLED)
    return value != wanted

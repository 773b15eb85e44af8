"""The case of an evaluation folder that illustrates a metric best, and the rule that chose it.

The folder is one written by ``segscore evaluate`` (``summary.json`` and ``per_case.csv``, read
through :mod:`segscore.io.results`). The rules, in order:

- overlap metrics (not ``ravd``) when pixel accuracy was scored: the largest gap between
  accuracy and the metric (for ``accuracy`` itself: between accuracy and IoU), the seed's lesson
  that accuracy hides what IoU shows;
- object ratio metrics when pixel IoU was scored: the largest gap between pixel IoU and the
  metric, where objects are merged, split or missed while the pixels mostly agree;
- ``lesion_dice`` when pixel Dice was scored: the largest gap between the two, where small
  lesions are missed or stray blobs added while the large lesions keep pixel Dice high;
- otherwise the worst value: the lowest of a score (COCO's ``ap``, ``ar``... included: they
  rank detections, which pixel IoU knows nothing of), the largest of a distance (inf first),
  the most unmatched objects for ``fp@T``, ``fn@T``, ``lesion_fp``, ``lesion_fn``, the fewest
  matches for ``tp@T`` and ``lesion_tp``.

Rows whose values are NaN are skipped; each row is one (case, class).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segscore._validation import fail
from segscore.errors import InputError
from segscore.io.results import read_json_object, read_per_case_csv
from segscore.metrics.registry import MetricSpec, get_metric
from segscore.report.explain.text import fmt, wrap

__all__ = ["RunCase", "pick_case"]


@dataclass(frozen=True, slots=True)
class RunCase:
    """The case of a run chosen to illustrate a metric.

    Attributes
    ----------
    folder : str
        The evaluation folder.
    column : str
        The metric's column in ``per_case.csv`` (a name of the registry).
    rule : str
        The rule that chose the case, in words.
    case, class_id : str and int, or None
        The chosen row (None when no row has a value).
    values : dict of str to float
        The values of the chosen row: the metric and the column it was contrasted with.
    lines : tuple of str
        The explanation's text about the run and the case.
    """

    folder: str
    column: str
    rule: str
    case: str | None
    class_id: int | None
    values: dict[str, float] = field(default_factory=dict)
    lines: tuple[str, ...] = ()


def _same(name: str, spec: MetricSpec) -> bool:
    try:
        other = get_metric(name)
    except InputError:
        return False
    return other.name == spec.name or (
        other.kind == spec.kind
        and other.base == spec.base
        and dict(other.params) == dict(spec.params)
    )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _rows(folder: Path, column: str) -> list[tuple[str, int, float]]:
    values = read_per_case_csv(folder, column)
    classes = read_per_case_csv(folder, "class")
    return [
        (case, int(c) if math.isfinite(c) else -1, v)
        for case, vals in values.items()
        for c, v in zip(classes.get(case, [math.nan] * len(vals)), vals, strict=True)
    ]


def _contrast(spec: MetricSpec, scored: list[str]) -> str | None:
    """Return the column to contrast the metric with (None: the worst value is the rule)."""
    if spec.kind == "overlap" and spec.higher_is_better:
        if spec.base == "accuracy":
            return next((n for n in scored if _same(n, get_metric("iou"))), None)
        return next((n for n in scored if _same(n, get_metric("accuracy"))), None)
    if spec.base == "lesion_dice":
        return next((n for n in scored if _same(n, get_metric("dice"))), None)
    if spec.kind == "instance" and spec.unit == "ratio" and not _own_rules(spec):
        return next((n for n in scored if _same(n, get_metric("iou"))), None)
    return None


def _own_rules(spec: MetricSpec) -> bool:
    """COCO metrics (ranked detections) and lesion metrics: no pixel-IoU contrast, own counts."""
    return spec.base in ("ap", "ar") or spec.base.startswith("lesion_")


def _worst_is_largest(spec: MetricSpec) -> bool:
    if spec.kind == "instance" and spec.unit == "count" and not _own_rules(spec):
        return spec.base != "tp"  # tp@T, fp@T, fn@T are all registered higher-is-better
    return not spec.higher_is_better


def pick_case(folder: str | os.PathLike[str], spec: MetricSpec, *, option: str = "run") -> RunCase:
    """Choose the case of an evaluation folder that illustrates ``spec`` best (module docstring).

    Parameters
    ----------
    folder : path
        A folder written by ``segscore evaluate`` (``summary.json``, ``per_case.csv``).
    spec : MetricSpec
        The metric (from :func:`segscore.metrics.registry.get_metric`).
    option : str, default 'run'
        The argument named in error messages (the CLI passes ``'--run'``).

    Raises
    ------
    InputError
        When the folder has no ``summary.json`` or did not score the metric.
    DatasetError
        When ``per_case.csv`` is missing or unreadable.
    """
    where = Path(folder)
    summary = read_json_object(where / "summary.json", what="a segscore summary", needed_by=option)
    metrics = summary.get("metrics")
    scored = list(metrics) if isinstance(metrics, dict) else []
    column = next((n for n in scored if _same(n, spec)), None)
    if column is None:
        fail(
            f"`{option}` must be an evaluation folder that scored {spec.name!r} (segscore "
            f"evaluate --metrics ...,{spec.name}), got {str(where)!r} with "
            f"{', '.join(scored) or 'no metric'}."
        )
    record = metrics[column] if isinstance(metrics, dict) else {}
    label = spec.label or spec.name
    head = wrap(
        f"{label} in {where}: {fmt(_number(record.get('value')))} over "
        f"{record.get('n_cases', '?')} cases (aggregation {record.get('aggregation')}; NaN "
        f"left out: {record.get('n_nan', 0)}; inf: {record.get('n_inf', 0)}).",
        indent="  ",
    )
    rows = _rows(where, column)
    several = len({k for _, k, _ in rows}) > 1
    other = _contrast(spec, scored)
    note = ""
    if other is not None:
        found = _by_gap(where, spec, column, other, rows, head, several)
        if found is not None:
            return found
        note = " (no case has a gap between the two: the worst value instead)"
    largest = _worst_is_largest(spec)
    rule = f"the {'largest' if largest else 'lowest'} {label}{note}"
    valid = [(v, case, k) for case, k, v in rows if not math.isnan(v)]
    if not valid:
        lines = (*head, f"Rule: {rule}.", f"No case has a {label} value.")
        return RunCase(str(where), column, rule, None, None, {}, lines)
    v, case, k = max(valid) if largest else min(valid)
    text = f"{label} {fmt(v)}"
    if math.isinf(v):
        text += " (an empty surface: nothing of one mask near the other)"
    why = "see report.html for its overlay."
    return _found(where, column, rule, (case, k, several), {column: v}, head, f"{text}: {why}")


def _by_gap(
    where: Path,
    spec: MetricSpec,
    column: str,
    other: str,
    rows: list[tuple[str, int, float]],
    head: list[str],
    several: bool,
) -> RunCase | None:
    """Return the case of the largest positive gap between the two columns (None: no gap)."""
    label = spec.label or spec.name
    other_label = get_metric(other).label or other
    contrast = {(c, k): v for c, k, v in _rows(where, other)}
    best: tuple[float, str, int, float, float] | None = None
    for case, k, v in rows:
        o = contrast.get((case, k), math.nan)
        if math.isnan(v) or math.isnan(o):
            continue
        # objects: |pixel IoU - metric|; pixels: pixel accuracy minus the overlap score
        flip = spec.base == "accuracy"
        gap = abs(o - v) if spec.kind == "instance" else (v - o) if flip else (o - v)
        if gap > 0 and (best is None or gap > best[0]):
            best = (gap, case, k, v, o)
    if best is None:
        return None
    _, case, k, v, o = best
    if spec.base == "lesion_dice":
        rule = f"the largest gap between pixel Dice and {label}"
        why = (
            "small lesions missed or stray blobs added, which pixel Dice barely counts and "
            "each cost a whole lesion here."
            if o > v
            else "the lesions are found, but a large one is outlined loosely (pixel Dice "
            "weighs it by its size, lesion-wise Dice as one lesion)."
        )
        text = f"pixel Dice {fmt(o)} and {label} {fmt(v)}: {why}"
    elif spec.kind == "instance":
        rule = f"the largest gap between pixel IoU and {label}"
        why = (
            "objects merged, split or missed while the pixels mostly agree (per_object.csv "
            "says which)."
            if o > v
            else "the objects are found, but their outlines are loose."
        )
        text = f"pixel IoU {fmt(o)} and {label} {fmt(v)}: {why}"
    else:
        score_label = other_label if spec.base == "accuracy" else label
        rule = f"the largest gap between pixel accuracy and {score_label}"
        acc, overlap = (v, o) if spec.base == "accuracy" else (o, v)
        text = (
            f"pixel accuracy {fmt(acc)} but {score_label} {fmt(overlap)}: accuracy counts the "
            "background both masks agree on; overlap scores do not."
        )
    return _found(where, column, rule, (case, k, several), {column: v, other: o}, head, text)


def _found(
    where: Path,
    column: str,
    rule: str,
    row: tuple[str, int, bool],
    values: dict[str, float],
    head: list[str],
    text: str,
) -> RunCase:
    case, class_id, several = row
    where_class = f" (class {class_id})" if several else ""
    lines = (
        *head,
        f"Rule: {rule}.",
        *wrap(f"Case {case}{where_class}: {text}", indent="  "),
    )
    return RunCase(str(where), column, rule, case, class_id, values, lines)

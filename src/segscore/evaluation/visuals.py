"""Gather what the HTML report shows (overlays of the worst and best cases, curves) and write it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from segscore.errors import DatasetError, InputError
from segscore.evaluation.runner import Evaluation
from segscore.evaluation.settings import EvaluationSettings
from segscore.io.arrays import read_array
from segscore.io.images import read_image
from segscore.io.pairs import Case
from segscore.io.palette import Palette
from segscore.io.results import read_training_trace
from segscore.metrics.options import CountingOptions
from segscore.metrics.registry import display_name

__all__ = ["write_html_report"]

N_SHOWN = 4


def _case_iou(rows: Sequence[dict[str, Any]], metric: str | None = None) -> dict[str, float]:
    """Per case: the mean over classes of ``metric``, else the IoU (or the first metric)."""
    per_case: dict[str, list[float]] = {}
    for row in rows:
        if row.get("error"):
            continue
        key = next(
            k
            for k in (metric, "iou", *row)
            if k in row and k not in ("case", "class", "class_name")
        )
        value = float(row[key])
        per_case.setdefault(str(row["case"]), [])
        if not math.isnan(value):
            per_case[str(row["case"])].append(value)
    return {k: (sum(v) / len(v) if v else math.nan) for k, v in per_case.items()}


def _foreground(array: np.ndarray[Any, Any], options: CountingOptions) -> np.ndarray[Any, Any]:
    if array.dtype.kind == "f":
        return np.asarray(array >= options.threshold)
    if options.num_classes is None:
        return np.asarray(array != 0)
    fg = array != 0
    if options.ignore_index is not None:
        fg &= array != options.ignore_index
    return np.asarray(fg)


def _image(path: Path | None) -> np.ndarray[Any, Any] | None:
    """Return the input image scaled to [0, 1] by its maximum; None if absent or unreadable."""
    if path is None:
        return None
    try:
        arr = read_image(path).astype(np.float64)
    except DatasetError:
        return None
    high = float(arr.max()) if arr.size else 0.0
    return arr / high if high > 0 else arr


def _visuals(
    names: list[str],
    scores: dict[str, float],
    cases: dict[str, Case],
    options: CountingOptions,
    palette: Palette | None = None,
    objects: tuple[Evaluation, EvaluationSettings, str] | None = None,
) -> list[Any]:
    from segscore.evaluation.objects import case_object_maps
    from segscore.report.html import CaseVisual

    tables = (
        {}
        if objects is None
        else dict(zip(objects[0].names, objects[0].objects or (), strict=True))
    )
    out = []
    for name in names:
        case = cases.get(name)
        if case is None:
            continue
        try:
            pred = read_array(case.pred, palette=palette).array
            target = read_array(case.target, palette=palette).array
        except DatasetError:
            continue
        if pred.ndim != 2 or pred.shape != target.shape:
            continue
        image = _image(case.image)
        if image is not None and image.shape[:2] != pred.shape:
            image = None
        drawn = None
        if objects is not None and name in tables:  # each object in the colour of its fate
            try:
                drawn = case_object_maps(pred, target, tables[name], objects[1])
            except InputError:  # the files changed since the run: draw the masks
                drawn = None
        out.append(
            CaseVisual(
                name=name,
                target=_foreground(target, options),
                pred=_foreground(pred, options),
                score=scores[name],
                image=image,
                objects=drawn,
                score_name="IoU" if objects is None else display_name(objects[2]),
            )
        )
    return out


def _with_accuracy(row: dict[str, Any]) -> dict[str, Any]:
    """Add pixel accuracy from the exact counts, for the accuracy-vs-IoU contrast."""
    if "accuracy" in row or row.get("error") or "tp" not in row:
        return row
    total = row["tp"] + row["fp"] + row["fn"] + row["tn"]
    return {**row, "accuracy": (row["tp"] + row["tn"]) / total if total else math.nan}


def write_html_report(
    path: Path,
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    cases: Sequence[Case],
    evaluation: Evaluation,
    options: CountingOptions,
    *,
    run: Path | None = None,
    title: str = "segscore report",
    case_values: dict[str, Any] | None = None,
    palette: Palette | None = None,
    settings: EvaluationSettings | None = None,
) -> bool:
    """Render and write ``report.html``; return False when the report renderer is unavailable.

    With objects (``settings.instances``), the cases are ranked by the first object metric
    that is a ratio (e.g. ``f1@0.5``), drawn object by object, and the objects section is added.
    """
    try:
        from segscore.report.html import render_report, write_report
    except ImportError:  # pragma: no cover - the renderer ships with segscore
        return False
    objects, report = None, None
    if settings is not None and settings.instances is not None and evaluation.objects:
        from segscore.evaluation.objects import object_report

        ranked_by = [m.name for m in settings.instance_metrics if m.unit == "ratio"]
        if ranked_by:
            objects = (evaluation, settings, ranked_by[0])
        report = object_report(evaluation, settings)
    scores = _case_iou(rows, None if objects is None else objects[2])
    rows = [_with_accuracy(row) for row in rows]
    ranked = sorted((v, k) for k, v in scores.items() if not math.isnan(v))
    worst_names = [k for _, k in ranked[:N_SHOWN]]
    best_names = [k for _, k in reversed(ranked[-N_SHOWN:])] if len(ranked) > N_SHOWN else []
    by_name = {c.name: c for c in cases}
    html = render_report(
        summary,
        rows,
        worst=_visuals(worst_names, scores, by_name, options, palette, objects),
        best=_visuals(best_names, scores, by_name, options, palette, objects),
        threshold_curve=summary.get("threshold_sweep"),
        training_trace=None if run is None else read_training_trace(run),
        title=title,
        case_values=case_values,
        objects=report,
    )
    write_report(path, html)
    return True

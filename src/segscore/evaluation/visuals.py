"""Gather what the HTML report shows (overlays of the worst and best cases, curves) and write it.

What each shown case becomes (:class:`~segscore.report.html.CaseVisual`):

- binary masks (or probabilities, thresholded): contours, as before; pixels of the ignore
  label in the ground truth are striped;
- multiclass label maps (``num_classes`` > 2): the label maps with a :class:`ClassStyle`
  (class names from the run's options; colours from its palette, else from the built-in label
  set whose class names the run uses, else segscore's categorical palette);
- volumes (3-D arrays, not multilabel stacks): the same, sliced through the largest
  disagreement, with the spacing used for the scores and its unit: the ``--spacing`` given
  ("spacing units"), else the file header's (NIfTI: ``mm`` unless the header says otherwise),
  else 1 per axis ("voxels").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from segscore.data.label_sets import LABEL_SETS, get_label_set
from segscore.errors import DatasetError, InputError
from segscore.evaluation.runner import Evaluation
from segscore.evaluation.settings import EvaluationSettings
from segscore.io.arrays import LoadedArray, read_array
from segscore.io.images import read_image
from segscore.io.pairs import Case
from segscore.io.palette import Palette
from segscore.io.results import read_training_trace
from segscore.metrics.options import CountingOptions, above_threshold
from segscore.metrics.registry import display_name
from segscore.report.class_overlay import ClassStyle

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
        return np.asarray(above_threshold(array, options.threshold, options.threshold_test))
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


def class_style(options: CountingOptions, palette: Palette | None = None) -> ClassStyle | None:
    """Return the class names and colours of a multiclass run; None for binary runs.

    Colours: the first colour of each class id in ``palette``; else the colours of the built-in
    label set whose class names equal the run's; else segscore's categorical palette.
    """
    c = options.num_classes
    if c is None or c <= 2 or options.multilabel:
        return None
    names = options.class_names
    colours: tuple[tuple[int, int, int], ...] | None = None
    source = "segscore's categorical palette"
    if palette is not None:
        first: dict[int, tuple[int, int, int]] = {}
        for rgb, k in zip(palette.colours, palette.ids, strict=True):
            first.setdefault(k, rgb)
        if all(k in first for k in range(c)):
            colours = tuple(first[k] for k in range(c))
            source = f"palette {palette.name!r}"
    if colours is None and names is not None:
        for set_name in LABEL_SETS:
            chosen = get_label_set(set_name)
            if chosen.class_names == tuple(names):
                colours, source = chosen.colours, f"{set_name} colours"
    return ClassStyle(c, names, colours, options.ignore_index, source)


def _spacing(
    loaded: tuple[LoadedArray, LoadedArray], given: tuple[float, ...] | None, ndim: int
) -> tuple[tuple[float, ...] | None, str]:
    """Return the spacing the scores used for a case, and its unit."""
    if given is not None:
        return given, "spacing units"
    pred, target = loaded
    found = target.spacing or pred.spacing
    if found is not None and len(found) == ndim:
        return found, (target.spacing_unit or pred.spacing_unit or "mm")
    return None, "voxels" if ndim == 3 else "px"


def _distance_unit(
    summary: dict[str, Any],
    cases: Sequence[Case],
    spacing: tuple[float, ...] | None,
    palette: Palette | None,
) -> str | None:
    """Return the unit of the run's distances: that of ``--spacing``, a header's, or voxels/px.

    None without distance metrics, or when none of the first three cases can be read. Folders
    mixing NIfTI and other formats are refused before scoring, so one case's files speak for
    the run.
    """
    stats = summary.get("metrics") or {}
    if not any(isinstance(s, dict) and s.get("unit") == "distance" for s in stats.values()):
        return None
    if spacing is not None:
        return "spacing units"
    for case in cases[:3]:  # the first readable one (a failed case may not be)
        loaded = _read_pair(case, palette)
        if loaded is None:
            continue
        ndim = loaded[1].array.ndim - (case.index is not None)
        return _spacing(loaded, None, ndim)[1]
    return None


def _read_pair(case: Case, palette: Palette | None) -> tuple[LoadedArray, LoadedArray] | None:
    """Read a case's two files again for drawing; None when one cannot be read (not drawn)."""
    try:
        return read_array(case.pred, palette=palette), read_array(case.target, palette=palette)
    except DatasetError:
        return None


def _visuals(
    names: list[str],
    scores: dict[str, float],
    cases: dict[str, Case],
    options: CountingOptions,
    palette: Palette | None = None,
    objects: tuple[Evaluation, EvaluationSettings, str] | None = None,
    spacing: tuple[float, ...] | None = None,
    panoptic: bool = False,
) -> list[Any]:
    from segscore.evaluation.objects import case_object_maps
    from segscore.report.html import CaseVisual

    tables = (
        {}
        if objects is None
        else dict(zip(objects[0].names, objects[0].objects or (), strict=True))
    )
    style = class_style(options, palette)
    out = []
    for name in names:
        case = cases.get(name)
        if case is None:
            continue
        loaded = _read_pair(case, palette)
        if loaded is None:
            continue
        pred, target = loaded[0].array, loaded[1].array
        if case.index is not None:
            pred, target = pred[case.index], target[case.index]
        if panoptic and pred.ndim >= 3 and pred.shape[-1] == 2 and pred.shape == target.shape:
            pred, target = pred[..., 0], target[..., 0]  # panoptic pairs: draw the class maps
        volume = pred.ndim == 3 and not options.multilabel and options.spatial_dims in (None, 3)
        if pred.ndim not in (2, 3) or (pred.ndim == 3 and not volume) or pred.shape != target.shape:
            continue
        labels = style is not None and pred.dtype.kind in "iub" and target.dtype.kind in "iub"
        image = None if volume else _image(case.image)
        if image is not None and image.shape[:2] != pred.shape:
            image = None
        drawn = None
        if objects is not None and name in tables and not volume:  # each object by its fate
            try:
                drawn = case_object_maps(pred, target, tables[name], objects[1])
            except InputError:  # the files changed since the run: draw the masks
                drawn = None
        case_spacing, unit = _spacing(loaded, spacing, pred.ndim)
        ignore = None
        if not labels and options.ignore_index is not None and target.dtype.kind in "iub":
            ignore = np.asarray(target == options.ignore_index)
            ignore = ignore if ignore.any() else None
        affine = loaded[1].affine if case.index is None else None
        out.append(
            CaseVisual(
                name=name,
                target=target if labels else _foreground(target, options),
                pred=pred if labels else _foreground(pred, options),
                score=scores[name],
                image=image,
                objects=drawn,
                score_name="IoU" if objects is None else display_name(objects[2]),
                classes=style if labels else None,
                spacing=case_spacing if volume else None,
                unit=unit,
                affine=None if affine is None or not volume else np.asarray(affine),
                ignore=ignore if drawn is None else None,
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
    spacing = None if settings is None else settings.spacing
    panoptic = settings is not None and settings.panoptic is not None
    unit = _distance_unit(summary, cases, spacing, palette)
    if unit is not None:  # the report names the unit of every distance (not summary.json)
        metrics = {
            name: {**s, "distance_unit": unit} if s.get("unit") == "distance" else s
            for name, s in summary["metrics"].items()
        }
        summary = {**summary, "metrics": metrics}
    html = render_report(
        summary,
        rows,
        worst=_visuals(worst_names, scores, by_name, options, palette, objects, spacing, panoptic),
        best=_visuals(best_names, scores, by_name, options, palette, objects, spacing, panoptic),
        threshold_curve=summary.get("threshold_sweep"),
        training_trace=None if run is None else read_training_trace(run),
        title=title,
        case_values=case_values,
        objects=report,
    )
    write_report(path, html)
    return True

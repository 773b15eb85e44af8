"""A self-contained HTML report of an evaluation: ``report.html`` of ``segscore evaluate``.

:func:`render_report` is a pure renderer: it takes the summary record, the per-case rows and
optionally some case masks, curves and a training trace, and returns one HTML document as a
string. The document has inline CSS, inline SVG charts (:mod:`segscore.report.svg`) and PNG
overlays embedded as ``data:`` URIs (:mod:`segscore.report.overlay`). It holds no script and
refers to no external URL (a Content-Security-Policy forbids both), so it works offline, in a mail
attachment or printed. :func:`write_report` writes it atomically.

Every string that comes from the inputs (case, class and metric names, paths, conventions,
error messages) is escaped with :func:`html.escape` (``quote=True``) before it reaches the
document, in text and attributes alike, including inside the SVG charts.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from segscore.io.results import atomic_write_bytes
from segscore.metrics.registry import display_name
from segscore.report import svg
from segscore.report.case_figures import (
    FIGURE_CSS,
    class_figure,
    ignore_swatch,
    panels_legend,
    volume_figure,
)
from segscore.report.class_overlay import ClassStyle
from segscore.report.objects import ObjectReport, object_legend, object_section
from segscore.report.overlay import (
    PRED_COLOR,
    TARGET_COLOR,
    CaseObjects,
    object_overlay_rgb,
    overlay_data_uri,
    rgb_data_uri,
)
from segscore.report.page import page_head

__all__ = ["CaseVisual", "render_report", "write_report"]

_RESERVED = frozenset({"case", "class", "tp", "fp", "fn", "tn", "target_empty", "prediction_empty"})
_STATS = (
    ("mean", "mean"),
    ("median", "median"),
    ("std", "std"),
    ("min", "min"),
    ("max", "max"),
    ("pooled", "pooled"),
)


@dataclass(frozen=True)
class CaseVisual:
    """One case to show as an overlay in the report.

    Binary 2-D cases are drawn as contours; with ``classes``, each class in its colour
    (ground truth | prediction | errors, :mod:`segscore.report.class_overlay`); 3-D cases as
    three orthogonal slices through the largest disagreement (:mod:`segscore.report.volume`).

    Attributes
    ----------
    name : str
        Case name (escaped when shown).
    target : ndarray of bool or int, shape (H, W) or (D, H, W)
        Ground truth: a mask, or a label map with ``classes``.
    pred : ndarray of bool or int, shape (H, W) or (D, H, W)
        Prediction, same shape and kind.
    score : float
        IoU of this case (NaN allowed), written in the caption.
    image : ndarray of float, shape (H, W) or (H, W, 3), optional
        The input image in [0, 1]; without it the ground truth is drawn in gray.
    objects : CaseObjects, optional
        The case's objects and their fate: drawn instead of the mask contours, one colour per
        fate (:func:`~segscore.report.overlay.object_overlay_rgb`).
    score_name : str, optional
        What ``score`` is (default ``'IoU'``), e.g. ``'F1@0.5'``; escaped.
    classes : ClassStyle, optional
        Class names, colours and ignore label of a multiclass case (``target`` and ``pred`` are
        then label maps).
    spacing : tuple of float, optional
        Voxel spacing of a 3-D case, numpy axis order (default 1 per axis).
    unit : str, optional
        The unit of ``spacing`` shown with lengths (default ``'voxels'``; ``'mm'`` from a
        NIfTI header).
    affine : ndarray of float, shape (4, 4), optional
        Voxel-to-world matrix of a 3-D case: names and orients its slices.
    ignore : ndarray of bool, same shape, optional
        Binary cases: the pixels of the ignore label, drawn striped (with ``classes``, the
        ignore label of the style is used instead).

    Examples
    --------
    >>> CaseVisual("a.png", np.ones((2, 2), bool), np.ones((2, 2), bool), 1.0).name
    'a.png'
    """

    name: str
    target: NDArray[np.bool_]
    pred: NDArray[np.bool_]
    score: float
    image: NDArray[np.floating] | None = None
    objects: CaseObjects | None = None
    score_name: str = "IoU"
    classes: ClassStyle | None = None
    spacing: tuple[float, ...] | None = None
    unit: str = "voxels"
    affine: NDArray[np.floating] | None = None
    ignore: NDArray[np.bool_] | None = None


# --------------------------------------------------------------------------------------------
# Reading the inputs defensively: a missing or malformed key shows as "not given", never fails.


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _map(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _num(value: object) -> float:
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str) and value in ("inf", "-inf", "Infinity", "-Infinity", "NaN"):
        return float(value)
    return math.nan


def _metric_name(metric: str) -> str:
    return display_name(metric)


def _fmt(value: object, digits: int = 4) -> str:
    """Format a number as HTML: fixed digits, an em dash (with a tooltip) when undefined."""
    x = _num(value)
    if math.isnan(x):
        return '<span class="na" title="undefined (NaN or not given)">—</span>'
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    return f"{x:.{digits}f}"


def _plain(value: object, digits: int = 3) -> str:
    """Format a number as plain text (for alt texts and chart labels)."""
    x = _num(value)
    return "undefined" if math.isnan(x) else f"{x:.{digits}f}"


# --------------------------------------------------------------------------------------------
# Sections. Each returns an HTML fragment (already escaped) or "" when it has nothing to show.


def _section(anchor: str, heading: str, lede: str, body: str) -> str:
    lede_html = f'<p class="lede">{lede}</p>' if lede else ""
    return (
        f'<section id="{anchor}" aria-labelledby="{anchor}-h">'
        f'<h2 id="{anchor}-h">{heading}</h2>{lede_html}{body}</section>'
    )


def _metrics_in(summary: Mapping[str, object], rows: Sequence[Mapping[str, object]]) -> list[str]:
    names = [str(k) for k in _map(summary.get("metrics"))]
    for row in rows:
        for key, value in row.items():
            if key not in _RESERVED and key not in names and _is_number(value):
                names.append(str(key))
    return names


def _is_number(value: object) -> bool:
    return value is None or (
        isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    )


def _header(summary: Mapping[str, object], title: str, n_rows: int) -> str:
    inputs = _map(summary.get("inputs"))
    version = summary.get("segscore_version")
    facts = []
    for key, label in (("pred", "predictions"), ("gt", "ground truth")):
        if key in inputs:
            facts.append(f"<div><dt>{label}</dt><dd><code>{_e(inputs[key])}</code></dd></div>")
    if "n_cases" in inputs:
        facts.append(f"<div><dt>cases</dt><dd>{_fmt(inputs['n_cases'])}</dd></div>")
    if "hash" in inputs:
        facts.append(
            f'<div><dt>inputs hash</dt><dd><code class="hash">{_e(inputs["hash"])}</code></dd></div>'
        )
    if version is not None:
        facts.append(f"<div><dt>segscore</dt><dd>{_e(version)}</dd></div>")
    facts_html = f'<dl class="facts">{"".join(facts)}</dl>' if facts else ""
    return (
        f'<header class="masthead"><div class="wrap"><p class="kicker">segmentation evaluation'
        f"</p><h1>{_e(title)}</h1>{facts_html}</div></header>"
    )


def _nav(entries: Sequence[tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="#{a}">{h}</a></li>' for a, h in entries)
    return f'<nav class="toc" aria-label="Sections"><ul>{links}</ul></nav>'


def _unit(s: Mapping[str, object]) -> str:
    """Return `` <span>(mm)</span>`` for a distance metric whose unit is known, else ``''``."""
    unit = s.get("distance_unit")
    return f' <span class="unit">({_e(unit)})</span>' if unit else ""


def _unit_text(s: object) -> str:
    """Return `` (mm)`` (plain text, for chart labels) for a distance with a known unit."""
    unit = _map(s).get("distance_unit")
    return f" ({unit})" if unit else ""


def _cards(summary: Mapping[str, object], metrics: Sequence[str]) -> str:
    stats = _map(summary.get("metrics"))
    cards = []
    for metric in metrics[:4]:
        s = _map(stats.get(metric))
        if not s:
            continue
        cards.append(
            '<div class="card">'
            f'<div class="card-label">{_e(_metric_name(metric))}{_unit(s)}</div>'
            f'<div class="card-value">{_fmt(s.get("mean"), 3)}</div>'
            '<div class="card-sub">mean over cases<br>'
            f"median {_fmt(s.get('median'), 3)} · pooled {_fmt(s.get('pooled'), 3)}<br>"
            f"{_counts(s)}</div></div>"
        )
    inputs = _map(summary.get("inputs"))
    unmatched = _map(summary.get("unmatched"))
    n_unmatched = len(_list(unmatched.get("pred"))) + len(_list(unmatched.get("gt")))
    n_failed = len(_list(summary.get("failed")))
    problem = n_unmatched + n_failed > 0
    cards.append(
        f'<div class="card{" card-warn" if problem else ""}">'
        '<div class="card-label">Cases scored</div>'
        f'<div class="card-value">{_fmt(inputs.get("n_cases"))}</div>'
        f'<div class="card-sub">{n_failed} failed (not scored) · {n_unmatched} unmatched'
        + ('<br><a href="#problems">see below</a>' if problem else "")
        + "</div></div>"
    )
    return f'<div class="cards">{"".join(cards)}</div>'


def _counts(s: Mapping[str, object]) -> str:
    """Return the valid, NaN and infinite counts of a metric's case values, as one line."""
    text = f"{_fmt(s.get('n_valid'))} valid · {_fmt(s.get('n_nan'))} NaN"
    if _num(s.get("n_inf")) > 0:
        text += f" · {_fmt(s.get('n_inf'))} inf"
    return text


def _summary_table(summary: Mapping[str, object], metrics: Sequence[str]) -> str:
    stats = _map(summary.get("metrics"))
    if not stats:
        return '<p class="empty">The summary holds no metrics.</p>'
    has_class_mean = any(_map(stats.get(m)).get("class_mean") is not None for m in stats)
    head = "".join(f'<th scope="col">{label}</th>' for _, label in _STATS)
    head += '<th scope="col">class mean</th>' if has_class_mean else ""
    head += (
        '<th scope="col">95% CI</th><th scope="col">valid</th><th scope="col">NaN</th>'
        '<th scope="col">inf</th>'
    )
    body = []
    for metric in [m for m in metrics if m in stats] or list(stats):
        s = _map(stats.get(metric))
        cells = "".join(f"<td>{_fmt(s.get(key))}</td>" for key, _ in _STATS)
        if has_class_mean:
            cells += f"<td>{_fmt(s.get('class_mean'))}</td>"
        ci = _list(s.get("ci95"))
        ci_html = (
            f'<span class="end">{_fmt(ci[0])} –</span> <span class="end">{_fmt(ci[1])}</span>'
            if len(ci) == 2
            else _fmt(None)
        )
        cells += (
            f'<td class="ci">{ci_html}</td><td>{_fmt(s.get("n_valid"))}</td>'
            f"<td>{_fmt(s.get('n_nan'))}</td><td>{_fmt(s.get('n_inf'))}</td>"
        )
        body.append(
            f'<tr><th scope="row">{_e(_metric_name(metric))}{_unit(s)} <code>{_e(metric)}</code></th>'
            f"{cells}</tr>"
        )
    # The caption is a paragraph after the table, not a <caption>: it wraps to the section's
    # width even where the table is wider than the screen and scrolls.
    return (
        '<div class="table-wrap"><table class="summary" aria-describedby="summary-note">'
        f'<thead><tr><th scope="col">metric</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        '<p class="caption" id="summary-note">Per-case statistics '
        "(mean, median, std, min, max over cases with a defined value), the pooled value "
        "(counts summed over all cases first), the 95% bootstrap interval and how many case "
        "values were finite, undefined (NaN, e.g. both masks empty: left out of every "
        "statistic) or infinite (e.g. a distance to an empty mask: in every statistic, so the "
        "mean is infinite and the std undefined). Failed cases are not values. "
        '<span class="na">—</span> marks a statistic without a value: undefined (NaN), or not '
        "made for this metric (e.g. no pooled value for a distance, no interval without "
        "<code>--bootstrap</code>).</p>"
    )


def _values(rows: Sequence[Mapping[str, object]], metric: str) -> NDArray[np.float64]:
    return np.array([_num(row.get(metric)) for row in rows], dtype=np.float64)


def _classes(rows: Sequence[Mapping[str, object]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        if "class" in row:
            seen[str(row["class"])] = None
    return list(seen)


def _distributions(
    rows: Sequence[Mapping[str, object]],
    metrics: Sequence[str],
    case_values: Mapping[str, ArrayLike] | None = None,
    summary: Mapping[str, object] | None = None,
) -> str:
    rows = [r for r in rows if r.get("status", "ok") != "failed"]  # failed cases are not values
    if not rows and not case_values:
        return ""
    per = "case and class" if len(_classes(rows)) > 1 else "case"
    if case_values:
        per = "case"
    charts = []
    for metric in metrics:
        if case_values and metric in case_values:
            v = np.asarray(case_values[metric], dtype=np.float64).reshape(-1)
        else:
            v = _values(rows, metric)
        finite = v[np.isfinite(v)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            ticks = svg.nice_ticks(float(finite.min()), float(finite.max()))
            value_range, zoom = (ticks[0], ticks[-1]), ""
        else:  # a ratio: [0, 1], zoomed to the values when they fill a sliver of it
            value_range = svg.fit_range(finite)
            zoom = _zoom_note(value_range)
        name = _metric_name(metric)
        charts.append(
            '<figure class="chart-box">'
            + svg.histogram(
                v,
                bins=20,
                value_range=value_range,
                title=name,
                x_label=(
                    f"{name}{_unit_text(_map(_map(summary or {}).get('metrics')).get(metric))} "
                    f"per {per}{zoom}"
                ),
                y_label="count",
            )
            + "</figure>"
        )
    lede = (
        f"How the values per {_e(per)} spread. A mean hides a long tail of failures; these "
        "histograms show it. Undefined (NaN) and infinite values are not drawn; each is counted."
    )
    return _section("distributions", "Score distributions", lede, _grid(charts))


def _zoom_note(value_range: tuple[float, float]) -> str:
    """Say, in an axis label, that a ratio's axis does not show all of [0, 1]."""
    if value_range == (0.0, 1.0):
        return ""
    low, high = svg.tick_labels(value_range)
    return f" (zoomed: {low} to {high})"


def _grid(items: Sequence[str]) -> str:
    return f'<div class="charts">{"".join(items)}</div>'


def _per_class(summary: Mapping[str, object], metrics: Sequence[str]) -> str:
    stats = _map(summary.get("metrics"))
    charts = []
    for metric in metrics:
        per_class = _map(_map(stats.get(metric)).get("per_class"))
        if len(per_class) < 2:
            continue
        names = _map(_map(stats.get(metric)).get("class_names"))
        labels = [str(names.get(k, k)) for k in per_class]
        values = [_num(v) for v in per_class.values()]
        bounded = all(not math.isfinite(v) or 0 <= v <= 1 for v in values)
        name = _metric_name(metric)
        charts.append(
            '<figure class="chart-box">'
            + svg.bar_chart(
                labels,
                values,
                value_range=(0.0, 1.0) if bounded else None,
                title=f"{name} per class",
                x_label="class",
                y_label=name + _unit_text(_map(stats.get(metric))),
            )
            + "</figure>"
        )
    if not charts:
        return ""
    lede = "One value per class; a class the model never gets right stands out here."
    return _section("classes", "Per class", lede, _grid(charts))


def _contrast(rows: Sequence[Mapping[str, object]]) -> str:
    if not rows or not all(any(m in row for row in rows) for m in ("accuracy", "iou")):
        return ""
    acc, iou = _values(rows, "accuracy"), _values(rows, "iou")
    multi = len(_classes(rows)) > 1
    names = [
        f"{row.get('case', '?')}" + (f" (class {row.get('class')})" if multi else "")
        for row in rows
    ]
    gap = acc - iou
    ok = np.isfinite(gap)
    worst = int(np.flatnonzero(ok)[np.argmax(gap[ok])]) if ok.any() else None
    # Pixel accuracy bunches up near 1 (the background dominates): its axis is zoomed to the
    # values (and says so), rather than squashing every point against its right edge. IoU
    # keeps [0, 1]: how far below 1, and below y = x (still exact, and drawn), is the point.
    x_range, y_range = svg.fit_range(acc[ok]), (0.0, 1.0)
    chart = svg.scatter(
        acc,
        iou,
        names=names,
        highlight=worst,
        x_range=x_range,
        y_range=y_range,
        title="Pixel accuracy vs IoU",
        x_label="pixel accuracy" + _zoom_note(x_range),
        y_label="IoU",
    )
    if worst is not None:
        message = (
            f"Largest gap: <strong>{_e(names[worst])}</strong>, pixel accuracy "
            f"{_fmt(acc[worst], 3)} but IoU {_fmt(iou[worst], 3)} "
            f"(gap {_fmt(gap[worst], 3)})."
        )
    else:
        message = "No case has both values defined."
    if x_range != (0.0, 1.0):
        low, high = svg.tick_labels(x_range)
        message += (
            f" The accuracy axis shows {low} to {high} only: every "
            f"{'case–class pair' if multi else 'case'} has pixel accuracy ≥ "
            f"{_fmt(float(np.min(acc[ok])), 3)}."
        )
    n_high = int(np.sum(ok & (acc >= 0.9) & (iou < 0.5)))
    detail = (
        f"{n_high} of {int(ok.sum())} {'case–class pairs' if multi else 'cases'} have pixel "
        "accuracy ≥ 0.9 but IoU &lt; 0.5. "
        if ok.any()
        else ""
    )
    body = (
        '<div class="split"><figure class="chart-box">'
        + chart
        + "</figure>"
        + '<div class="callout"><p class="callout-title">Overlap scores show what pixel '
        "accuracy hides</p><p>The background covers most pixels of most images, so pixel "
        "accuracy stays high even when the object is missed entirely. Points far below the dashed line "
        f"<em>y = x</em> are such cases. {detail}</p><p>{message}</p></div></div>"
    )
    return _section("contrast", "Accuracy vs overlap", "", body)


def _legend(ignore: bool = False) -> str:
    stripes = ignore_swatch("ignore label (not scored)") if ignore else ""
    return (
        '<p class="legend" aria-label="Overlay legend">'
        f'<span class="swatch" style="background:{TARGET_COLOR}"></span>ground truth contour '
        "(drawn just outside it) "
        f'<span class="swatch" style="background:{PRED_COLOR}"></span>prediction contour '
        "(drawn just inside it) "
        '<span class="swatch swatch-gray"></span>ground truth area (when no image is given)'
        f"{stripes}</p>"
    )


def _figure(v: CaseVisual) -> str:
    if v.objects is None and np.ndim(v.target) == 3:
        return volume_figure(
            v.name,
            v.target,
            v.pred,
            score=_num(v.score),
            score_name=v.score_name,
            spacing=v.spacing,
            unit=v.unit,
            affine=v.affine,
            style=v.classes,
            ignore=v.ignore,
        )
    if v.objects is None and v.classes is not None:
        return class_figure(
            v.name,
            v.target,
            v.pred,
            v.classes,
            score=_num(v.score),
            score_name=v.score_name,
            image=v.image,
        )
    score = _plain(v.score)
    if v.objects is None:
        uri = overlay_data_uri(v.target, v.pred, v.image, ignore=v.ignore)
        drawn = "ground truth contour in blue, prediction contour in orange"
    else:
        uri = rgb_data_uri(object_overlay_rgb(v.objects, v.image))
        drawn = (
            "matched objects in green, missed target objects in vermillion, false-positive "
            "predictions in purple"
        )
    alt = f"Overlay of case {v.name}: {drawn}, {v.score_name} {score}."
    return (
        f'<figure class="case"><img src="{uri}" alt="{_e(alt)}" '
        f'width="{256}" height="{256}" loading="eager">'
        f'<figcaption><span class="case-name" title="{_e(v.name)}">{_e(v.name)}</span>'
        f'<span class="case-score">{_e(v.score_name)} {_fmt(v.score, 3)}</span>'
        "</figcaption></figure>"
    )


def _figures(visuals: Sequence[CaseVisual]) -> str:
    return f'<div class="cases">{"".join(_figure(v) for v in visuals)}</div>'


def _cases(worst: Sequence[CaseVisual], best: Sequence[CaseVisual]) -> str:
    if not worst and not best:
        return ""
    shown = [*worst, *best]
    body = object_legend() if any(v.objects is not None for v in shown) else ""
    styled = [v for v in shown if v.objects is None and v.classes is not None]
    contours = [v for v in shown if v.objects is None and v.classes is None]
    if contours:  # mask contours drawn
        body += _legend(ignore=any(v.ignore is not None and v.ignore.any() for v in contours))
    for v in styled[:1]:  # one run, one style
        assert v.classes is not None
        body += panels_legend(v.classes, volumes=any(np.ndim(u.target) == 3 for u in styled))
    if not styled and any(v.objects is None and np.ndim(v.target) == 3 for v in shown):
        body += (
            '<p class="legend legend-note">Volumes: axial, coronal and sagittal slices through '
            "the voxel of the largest connected disagreement nearest its centre, drawn at true "
            "proportions from the voxel spacing.</p>"
        )
    if worst:
        body += f"<h3>Worst {len(worst)}</h3>{_figures(worst)}"
    if best:
        body += f"<h3>Best {len(best)}</h3>{_figures(best)}"
    lede = (
        f"Cases ranked by {_e(shown[0].score_name)}. Look at the worst ones before trusting "
        "the mean."
    )
    return _section("cases", "Worst and best cases", lede, body)


def _objects(report: ObjectReport | None, summary: Mapping[str, object]) -> str:
    if report is None:
        return ""
    pooled = _num(_map(_map(summary.get("metrics")).get("iou")).get("pooled"))
    lede, body = object_section(report, pixel_iou=pooled if math.isfinite(pooled) else None)
    return _section("objects", "Objects", lede, body)


def _threshold(curve: Mapping[str, object] | None) -> str:
    if curve is None:
        return ""
    thresholds = [_num(t) for t in _list(curve.get("thresholds"))]
    series = {}
    for key in ("iou", "dice"):
        values = [_num(v) for v in _list(curve.get(key))]
        if values and len(values) == len(thresholds):
            series[_metric_name(key)] = values
    for key, value in curve.items():
        if key in ("thresholds", "iou", "dice", "best_threshold", "best_metric"):
            continue
        values = [_num(v) for v in _list(value)]
        if values and len(values) == len(thresholds):
            series[_metric_name(str(key))] = values
    if not thresholds or not series:
        return ""
    best = _num(curve.get("best_threshold"))
    metric = str(curve.get("best_metric", "iou"))
    chart = svg.line_chart(
        thresholds,
        series,
        y_range=(0.0, 1.0),
        marker_x=best if math.isfinite(best) else None,
        marker_label=f"best {_plain(best, 2)}" if math.isfinite(best) else "",
        title="Score vs threshold",
        x_label="probability threshold",
        y_label="score",
    )
    text = ""
    if math.isfinite(best):
        i = int(np.argmin(np.abs(np.asarray(thresholds) - best)))
        at = ", ".join(f"{_e(k)} {_fmt(v[i], 3)}" for k, v in series.items())
        text = (
            f"<p>Best threshold by {_e(_metric_name(metric))}: <strong>{_fmt(best, 3)}</strong>"
            f" ({at}).</p>"
        )
        half = [k for k, t in enumerate(thresholds) if abs(t - 0.5) < 1e-9]
        if half and abs(best - 0.5) > 1e-9:
            at_half = ", ".join(f"{_e(k)} {_fmt(v[half[0]], 3)}" for k, v in series.items())
            text += f"<p>At the usual 0.5: {at_half}.</p>"
        if curve.get("note"):  # the best threshold is optimistic on the evaluated cases
            text += f'<p class="lede">The best threshold was {_e(curve["note"])}.</p>'
    body = f'<div class="split"><figure class="chart-box">{chart}</figure><div>{text}</div></div>'
    return _section("threshold", "Threshold", "", body)


def _training(trace: Sequence[Mapping[str, object]] | None) -> str:
    if not trace:
        return ""
    epochs = [_num(r.get("epoch", i + 1)) for i, r in enumerate(trace)]
    keys: list[str] = []
    for row in trace:
        for key, value in row.items():
            if key != "epoch" and key not in keys and _is_number(value):
                keys.append(str(key))
    losses = {k: [_num(r.get(k)) for r in trace] for k in keys if "loss" in k.lower()}
    scores = {k: [_num(r.get(k)) for r in trace] for k in keys if "loss" not in k.lower()}
    charts = []
    if losses:
        charts.append(svg.line_chart(epochs, losses, title="Loss", x_label="epoch", y_label="loss"))
    if scores:
        flat = np.array([v for vs in scores.values() for v in vs], dtype=np.float64)
        bounded = bool(np.all(~np.isfinite(flat) | ((flat >= 0) & (flat <= 1))))
        charts.append(
            svg.line_chart(
                epochs,
                scores,
                y_range=(0.0, 1.0) if bounded else None,
                title="Scores",
                x_label="epoch",
                y_label="score",
            )
        )
    if not charts:
        return ""
    notes = []
    for key, values in scores.items():
        arr = np.asarray(values, dtype=np.float64)
        if np.isfinite(arr).any():
            i = int(np.nanargmax(arr))
            notes.append(f"{_e(key)} {_fmt(arr[i], 3)} (epoch {_plain(epochs[i], 0)})")
    lede = "Best " + " · ".join(notes) + "." if notes else ""
    body = _grid([f'<figure class="chart-box">{c}</figure>' for c in charts])
    return _section("training", "Training", lede, body)


def _names_list(names: Sequence[object]) -> str:
    items = "".join(f"<li><code>{_e(n)}</code></li>" for n in names)
    return f'<ul class="names">{items}</ul>'


def _problems(summary: Mapping[str, object]) -> str:
    unmatched = _map(summary.get("unmatched"))
    pred, gt = _list(unmatched.get("pred")), _list(unmatched.get("gt"))
    failed = [_map(f) for f in _list(summary.get("failed"))]
    parts = []
    if pred:
        parts.append(f"<h3>Predictions without ground truth ({len(pred)})</h3>{_names_list(pred)}")
    if gt:
        parts.append(f"<h3>Ground truth without prediction ({len(gt)})</h3>{_names_list(gt)}")
    if failed:
        body = "".join(
            f"<tr><td><code>{_e(f.get('case', '?'))}</code></td>"
            f'<td class="error">{_e(f.get("error", ""))}</td></tr>'
            for f in failed
        )
        parts.append(
            f"<h3>Failed cases ({len(failed)})</h3>"
            '<div class="table-wrap"><table class="failed"><thead><tr><th scope="col">case</th>'
            f'<th scope="col">error</th></tr></thead><tbody>{body}</tbody></table></div>'
        )
    if not parts:
        body_html = (
            '<p class="ok">Every prediction matched a ground truth and every case was scored.</p>'
        )
        return _section("problems", "Unmatched and failed", "", body_html)
    lede = "These cases are not in the scores above."
    return _section("problems", "Unmatched and failed", lede, "".join(parts))


_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_UNSET = (
    '<span class="unset" title="null in summary.json: not set, or does not apply">not set</span>'
)
_NAN = '<code title="not a number: the value of an undefined metric">NaN</code>'


def _value_html(value: object, depth: int) -> str:
    """One value of the conventions record, each kind of value written one way.

    ``None`` (JSON ``null``) is *not set*; a NaN, as a float or in the summary's encoding (the
    string ``"NaN"``), is ``NaN``; infinities are ``∞`` and ``−∞``.
    """
    if isinstance(value, Mapping):
        if depth >= 8 or not value:
            return f"<code>{_e(dict(value) if value else '{}')}</code>"
        return _dl(value, depth + 1)
    if value is None:
        return _UNSET
    if isinstance(value, bool):
        return f"<code>{'true' if value else 'false'}</code>"
    if isinstance(value, (list, tuple)):
        if not value:
            return "<code>[]</code>"
        return ", ".join(_value_html(v, depth + 1) for v in value)
    number = _NONFINITE.get(value) if isinstance(value, str) else value
    if isinstance(number, float) and math.isnan(number):
        return _NAN
    if isinstance(number, float) and math.isinf(number):
        return f"<code>{'∞' if number > 0 else '−∞'}</code>"
    return f"<code>{_e(value)}</code>"


def _key_html(key: object) -> str:
    """Write a record key, breakable after its underscores and dots (never inside a word)."""
    return "<wbr>".join(_e(part) for part in re.split(r"(?<=[_.])", str(key)))


def _dl(record: Mapping[object, object], depth: int = 0) -> str:
    items = "".join(
        f"<dt>{_key_html(k)}</dt><dd>{_value_html(v, depth)}</dd>" for k, v in record.items()
    )
    return f'<dl class="record">{items}</dl>'


def _conventions(summary: Mapping[str, object]) -> str:
    conventions = summary.get("conventions")
    if not isinstance(conventions, Mapping) or not conventions:
        body = '<p class="empty">The summary holds no conventions record.</p>'
    else:
        key = (
            f'<p class="record-key">{_UNSET}: the option was not set or does not apply '
            f"(<code>null</code> in summary.json). {_NAN}: not a number, the value a metric "
            "takes where it is undefined (e.g. <code>zero_division</code>: what a zero "
            "denominator gives; NaN values are left out of the statistics and counted).</p>"
        )
        body = key + _dl(conventions)
    lede = "Exactly how the numbers were made: the full conventions record from the summary."
    return _section("conventions", "Conventions", lede, body)


_CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--accent:#0072B2;
--warn:#D55E00;--mast:#102a43;color-scheme:light}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;
font-size:.86em;overflow-wrap:anywhere}
a{color:var(--accent)}
.wrap,main{max-width:1160px;margin:0 auto;padding:0 28px}
.masthead{background:var(--mast);color:#f0f4f8;padding:28px 0 22px}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.12em;font-size:.72rem;color:#9fb3c8}
h1{margin:.15rem 0 .9rem;font-size:1.9rem;line-height:1.2;font-weight:700;letter-spacing:-.01em}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0;font-size:.85rem}
.facts div{display:flex;gap:8px;align-items:baseline;min-width:0}
.facts dt{color:#9fb3c8;font-size:.75rem;text-transform:uppercase;letter-spacing:.06em}
.facts dd{margin:0;color:#d9e2ec;overflow-wrap:anywhere}
.facts code{color:#fff;font-size:.95em}
.facts .hash{opacity:.75}
.toc{position:sticky;top:0;z-index:2;background:rgba(245,247,250,.94);
border-bottom:1px solid var(--line);backdrop-filter:blur(4px)}
.toc ul{display:flex;flex-wrap:wrap;gap:2px 4px;list-style:none;margin:0 auto;padding:8px 24px;
max-width:1160px}
.toc a{display:block;padding:3px 10px;border-radius:999px;text-decoration:none;color:var(--muted);
font-size:.85rem}
.toc a:hover,.toc a:focus{background:#e4e7eb;color:var(--ink)}
section{background:var(--card);border:1px solid var(--line);border-radius:12px;
padding:22px 26px 24px;margin:22px 0;box-shadow:0 1px 2px rgba(16,42,67,.04)}
h2{margin:0 0 .2rem;font-size:1.2rem;letter-spacing:-.005em}
h3{margin:1.2rem 0 .6rem;font-size:.95rem;color:var(--muted);text-transform:uppercase;
letter-spacing:.06em}
.lede{margin:0 0 1rem;color:var(--muted);max-width:75ch}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:14px;margin:22px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 18px;
border-top:4px solid var(--accent)}
.card-warn{border-top-color:var(--warn)}
.card-label{font-weight:600;font-size:.9rem}
.card-label span{font-weight:400;color:var(--muted);font-size:.8rem}
.card-value{font-size:2.1rem;font-weight:700;line-height:1.15;margin:.2rem 0;
font-variant-numeric:tabular-nums}
.card-sub{font-size:.8rem;color:var(--muted)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:.9rem}
.caption{color:var(--muted);font-size:.8rem;margin:10px 0 0;max-width:110ch}
.caption code{white-space:nowrap}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
table.summary tbody th code{display:block;margin:0}
td.ci .end{white-space:nowrap}
thead th{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);
border-bottom:2px solid var(--line);font-weight:600}
th:first-child,td:first-child{text-align:left}
tbody th{font-weight:600}
tbody th code{color:var(--muted);font-weight:400;margin-left:4px}
tbody tr:hover{background:#f8fafc}
table.failed th,table.failed td{text-align:left}
table.failed td:first-child{width:1%}
td.error{white-space:normal;color:#8a2c0d}
.na{color:#9aa5b1}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:18px 28px}
.chart-box{margin:0}
svg.chart{display:block;width:100%;height:auto;max-width:560px}
.split{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:28px;align-items:center}
.callout{border-left:4px solid var(--warn);background:#fff8f1;padding:12px 18px;border-radius:0 8px 8px 0}
.callout p{margin:.4rem 0}
.callout-title{font-weight:700;font-size:1.05rem;color:#8a2c0d}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;font-size:.85rem;
color:var(--muted);margin:0 0 .5rem}
.swatch{display:inline-block;width:22px;height:5px;border-radius:2px;margin-left:10px}
.legend .swatch:first-child{margin-left:0}
.swatch-gray{height:12px;width:14px;background:#9e9e9e;border:1px solid #bbb}
.swatch-object{height:12px;width:14px;border:2px solid}
.cases{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:16px}
.case{margin:0}
.case img{display:block;width:100%;height:auto;border-radius:8px;border:1px solid var(--line);
image-rendering:pixelated;background:#eee}
.case figcaption{display:flex;justify-content:space-between;gap:8px;font-size:.82rem;
padding:6px 2px 0}
.case-name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:600}
.case-score{color:var(--muted);white-space:nowrap;font-variant-numeric:tabular-nums}
.names{columns:3 220px;margin:0;padding-left:1.1rem;font-size:.88rem;max-height:18rem;overflow:auto}
.ok{color:#1d6b4f;margin:0}
.empty{color:var(--muted)}
.record-key{margin:0 0 .8rem;font-size:.85rem;color:var(--muted)}
dl.record{display:grid;grid-template-columns:minmax(8rem,max-content) minmax(0,1fr);gap:4px 18px;
margin:0;font-size:.9rem}
dl.record dt{font-weight:600;color:var(--muted);overflow-wrap:anywhere}
dl.record dd{margin:0;overflow-wrap:anywhere}
dl.record dl.record{grid-template-columns:minmax(0,max-content) minmax(0,1fr);padding-left:12px;
border-left:2px solid var(--line)}
.unset{color:var(--muted);font-style:italic}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:8px 0 36px}
@media (max-width:1100px){table.summary th,table.summary td{padding:6px 6px}
table.summary thead th{white-space:normal;letter-spacing:0}td.ci{white-space:normal}}
@media (max-width:900px){table.summary{font-size:.8rem}
table.summary th,table.summary td{padding:5px 4px}
dl.record dl.record{grid-template-columns:minmax(0,1fr);gap:0 18px}
dl.record dl.record dd{padding-left:12px;margin-bottom:4px}}
@media (max-width:760px){.split{grid-template-columns:1fr}.wrap,main{padding:0 14px}
section{padding:16px 14px}}
@media print{
body{background:#fff;font-size:11pt}
.toc{display:none}
.masthead{background:none;color:#000;padding:0 0 8pt;border-bottom:2pt solid #000}
.kicker,.facts dt,.facts dd,.facts code{color:#000}
section,.card{box-shadow:none;border:1px solid #ccc;break-inside:avoid}
section{padding:10pt 12pt;margin:10pt 0}
#distributions,#conventions,#problems,#cases{break-inside:auto}
figure,.case,svg,tr{break-inside:avoid}
.names{max-height:none;overflow:visible}
.table-wrap{overflow:visible}
table{font-size:8.5pt}
th,td{padding:3pt 4pt;white-space:normal}
tbody th code{display:none}
td.ci{white-space:nowrap}
.cards{grid-template-columns:repeat(4,1fr)}
.case img{image-rendering:auto}
a{color:inherit;text-decoration:none}
}
"""


def render_report(
    summary: Mapping[str, object],
    rows: Sequence[Mapping[str, object]],
    *,
    worst: Sequence[CaseVisual] = (),
    best: Sequence[CaseVisual] = (),
    threshold_curve: Mapping[str, object] | None = None,
    training_trace: Sequence[Mapping[str, object]] | None = None,
    title: str = "segscore report",
    case_values: Mapping[str, ArrayLike] | None = None,
    objects: ObjectReport | None = None,
) -> str:
    """Render an evaluation as one self-contained HTML document.

    Parameters
    ----------
    summary : mapping
        The ``summary.json`` record: ``segscore_version``, ``inputs`` (``pred``, ``gt``,
        ``n_cases``, ``hash``), ``conventions`` (any nested mapping), ``metrics`` (per metric:
        ``mean``, ``median``, ``std``, ``min``, ``max``, ``pooled``, ``per_class``,
        ``class_mean``, ``n_valid``, ``n_nan``, ``n_inf``, ``ci95``; distances may carry
        ``distance_unit``, e.g. ``'mm'``, shown with their name), ``unmatched`` (``pred``, ``gt``
        name lists) and ``failed`` (``{"case", "error"}`` records). Missing keys are shown as
        not given; ``None`` is an undefined value.
    rows : sequence of mapping
        The ``per_case.csv`` rows: ``case``, ``class``, one float per metric (NaN or ``None``
        allowed), ``tp``, ``fp``, ``fn``, ``tn``, ``target_empty``, ``prediction_empty``.
    worst, best : sequence of CaseVisual, optional
        Cases drawn as contour overlays, in the order given.
    threshold_curve : mapping, optional
        ``{"thresholds": [...], "iou": [...], "dice": [...], "best_threshold": t,
        "best_metric": "iou"}``; drawn as a line chart with the best threshold marked.
    training_trace : sequence of mapping, optional
        One record per epoch, e.g. ``{"epoch": 1, "loss": 0.6, "val_iou": 0.7}``; keys with
        ``loss`` in their name go to a loss chart, the other numbers to a score chart.
    title : str, optional
        Title of the document (escaped).
    case_values : mapping of str to array_like, optional
        Per metric, the value of every scored case (the values the summary's statistics and
        counts are made of); the histograms show them. Default: the rows' values.
    objects : ObjectReport, optional
        The object results of an instance run (``evaluate --instances``): adds the objects
        section (F1 against the IoU threshold, object size against matched IoU, merges and
        splits; :func:`~segscore.report.objects.object_section`).

    Returns
    -------
    str
        The HTML document: inline CSS, inline SVG, PNG overlays as ``data:`` URIs; no script and
        no external URL. Deterministic: the same inputs give the same bytes.

    Raises
    ------
    InputError
        If a :class:`CaseVisual` has masks or an image of inconsistent shapes.

    Notes
    -----
    The sections are: key figures, the summary table, score distributions (a histogram per
    metric of the per-row values), per-class bars (when there is more than one class), the
    pixel accuracy vs IoU scatter with the case of largest gap named, the objects (with
    ``objects``), worst and best cases, the threshold curve, training curves, unmatched and failed cases and the full conventions
    record. A section without data is left out (the summary table, problems and conventions
    are always there).

    Every input string is escaped with ``html.escape(..., quote=True)``; the document also
    carries a Content-Security-Policy that allows no script and no network access.

    Examples
    --------
    >>> summary = {"inputs": {"n_cases": 1}, "metrics": {"iou": {"mean": 0.5, "n_valid": 1}}}
    >>> rows = [{"case": "<a>.png", "class": 1, "iou": 0.5, "accuracy": 0.9}]
    >>> doc = render_report(summary, rows)
    >>> doc.startswith("<!DOCTYPE html>"), "&lt;a&gt;.png" in doc, "<a>.png" in doc
    (True, True, False)
    """
    rows = list(rows)
    metrics = _metrics_in(summary, rows)
    sections = [
        (
            "summary",
            "Summary",
            _section("summary", "Summary", "", _summary_table(summary, metrics)),
        ),
        ("distributions", "Distributions", _distributions(rows, metrics, case_values, summary)),
        ("classes", "Per class", _per_class(summary, metrics)),
        ("contrast", "Accuracy vs IoU", _contrast(rows)),
        ("objects", "Objects", _objects(objects, summary)),
        ("cases", "Worst & best", _cases(list(worst), list(best))),
        ("threshold", "Threshold", _threshold(threshold_curve)),
        ("training", "Training", _training(training_trace)),
        ("problems", "Unmatched & failed", _problems(summary)),
        ("conventions", "Conventions", _conventions(summary)),
    ]
    present = [(a, h, body) for a, h, body in sections if body]
    version = summary.get("segscore_version")
    footer = "Generated by segscore" + (f" {_e(version)}" if version is not None else "") + "."
    return (
        page_head(title, _CSS + FIGURE_CSS)
        + _header(summary, title, len(rows))
        + _nav([(a, h) for a, h, _ in present])
        + "<main>"
        + _cards(summary, metrics)
        + "\n".join(body for _, _, body in present)
        + f"</main><footer>{footer}</footer></body></html>\n"
    )


def write_report(path: str | os.PathLike[str], html: str) -> Path:
    """Write the HTML document to ``path`` (UTF-8) atomically and return the path.

    Parameters
    ----------
    path : str or path-like
        Destination file; its folder is created if missing.
    html : str
        The document, e.g. from :func:`render_report`.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_report(pathlib.Path(d) / "report.html", "<!DOCTYPE html><p>hi</p>")
    ...     p.read_text(encoding="utf-8")
    '<!DOCTYPE html><p>hi</p>'
    """
    return atomic_write_bytes(path, html.encode("utf-8"))

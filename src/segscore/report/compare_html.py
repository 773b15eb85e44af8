"""A self-contained HTML page of a comparison of two runs: ``compare.html`` of ``segscore compare``.

:func:`render_comparison` is a pure renderer, like :func:`segscore.report.html.render_report`:
it takes the ``compare.json`` record, each metric's paired case values and optionally the cases
that changed most (:class:`PairVisual`), and returns one HTML document: inline CSS, inline SVG
charts (:mod:`segscore.report.svg`), PNG overlays as ``data:`` URIs
(:mod:`segscore.report.overlay`), no script and no external URL (a Content-Security-Policy
forbids both). Every string from the inputs is escaped with :func:`html.escape`.

Sections: the runs and what was checked (or forced), the table of metrics (A, B, B − A with its
95% interval, p, better), per metric a paired plot (B against A per case, with the line
``y = x``) and the histogram of the differences, the cases that changed most side by side (A's
prediction, B's prediction, the ground truth; for multiclass runs, each prediction as ground
truth | prediction | errors in the class colours, with the classes' legend), and the cases and
notes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from segscore.report import svg
from segscore.report.case_figures import FIGURE_CSS, class_legend, panels_legend, volume_figure
from segscore.report.class_overlay import ClassStyle, class_panels_rgb, present_classes
from segscore.report.overlay import PRED_COLOR, TARGET_COLOR, overlay_data_uri, rgb_data_uri
from segscore.report.page import page_head

__all__ = ["MAX_POINTS", "PairVisual", "render_comparison"]

MAX_POINTS = 2000
"""Cases drawn at most in a paired plot (evenly spaced, and always the one that changed most)."""


@dataclass(frozen=True)
class PairVisual:
    """One case drawn three times: A's prediction, B's prediction, the ground truth.

    Attributes
    ----------
    name : str
        Case name (escaped when shown).
    target, pred_a, pred_b : ndarray, shape (H, W)
        The ground truth and the two predictions: masks (bool), or label maps with ``style``.
    a, b : float
        The metric's value of the case in A and in B.
    image : ndarray of float, shape (H, W) or (H, W, 3), optional
        The input image in [0, 1].
    style : ClassStyle, optional
        For a multiclass run: class names, colours and the ignore label; the three arrays are
        then label maps, drawn in the class colours.
    spacing, unit, affine : optional
        Volumes (3-D arrays): the voxel spacing, its unit and the voxel-to-world matrix. A and
        B are drawn as three slices each through one voxel: where the two predictions differ
        most.

    Examples
    --------
    >>> m = np.eye(3, dtype=bool)
    >>> PairVisual("c1", m, m, m, 0.5, 1.0).name
    'c1'
    """

    name: str
    target: NDArray[np.bool_]
    pred_a: NDArray[np.bool_]
    pred_b: NDArray[np.bool_]
    a: float
    b: float
    image: NDArray[np.floating] | None = None
    style: ClassStyle | None = None
    spacing: tuple[float, ...] | None = None
    unit: str = "voxels"
    affine: NDArray[np.floating] | None = None


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: object) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    return math.nan


def _fmt(value: object, digits: int = 4, sign: bool = False) -> str:
    x = _num(value)
    if math.isnan(x):
        return '<span class="na" title="undefined (NaN or not given)">—</span>'
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    text = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    return text.replace("-", "−")


def _p(value: object) -> str:
    x = _num(value)
    if math.isnan(x):
        return _fmt(x)
    return "&lt; 0.0001" if x < 1e-4 else f"{x:.4f}"


def _map(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _section(anchor: str, heading: str, lede: str, body: str) -> str:
    lede_html = f'<p class="lede">{lede}</p>' if lede else ""
    return (
        f'<section id="{anchor}" aria-labelledby="{anchor}-h">'
        f'<h2 id="{anchor}-h">{heading}</h2>{lede_html}{body}</section>'
    )


def _arrow(m: Mapping[str, object]) -> str:
    up = m.get("higher_is_better")
    return "↑" if up is True else "↓" if up is False else ""


def _header(record: Mapping[str, object], title: str) -> str:
    facts = []
    for key, role in (("run_a", "A"), ("run_b", "B")):
        run = _map(record.get(key))
        threshold = run.get("threshold")
        extra = "" if threshold is None else f" · threshold {_e(threshold)}"
        facts.append(
            f"<div><dt>run {role}</dt><dd><code>{_e(run.get('folder'))}</code> "
            f"(predictions <code>{_e(run.get('pred'))}</code>{extra})</dd></div>"
        )
    run_a = _map(record.get("run_a"))
    facts.append(f"<div><dt>ground truth</dt><dd><code>{_e(run_a.get('gt'))}</code></dd></div>")
    cases = _map(record.get("cases"))
    facts.append(f"<div><dt>paired cases</dt><dd>{_e(cases.get('n_paired'))}</dd></div>")
    return (
        '<header class="masthead"><div class="wrap"><p class="kicker">segmentation comparison'
        f'</p><h1>{_e(title)}</h1><dl class="facts">{"".join(facts)}</dl></div></header>'
    )


def _checks(record: Mapping[str, object]) -> str:
    forced = [str(f) for f in record.get("forced") or []]  # type: ignore[attr-defined]
    checks = _map(record.get("checks"))
    items = "".join(f"<li><strong>{_e(k)}</strong>: {_e(v)}</li>" for k, v in checks.items())
    body = f"<ul>{items}</ul>"
    if forced:
        listed = "".join(f"<li>{_e(f)}</li>" for f in forced)
        body = (
            '<div class="callout"><p class="callout-title">Compared with --force</p><p>These '
            f"checks failed and were overridden; read the numbers with that in mind:</p><ul>{listed}"
            f"</ul></div>{body}"
        )
    lede = (
        "Both runs must score the same cases, the same ground truth (inputs.gt_hash) and use "
        "the same conventions; the probability threshold may differ (it makes the prediction)."
    )
    return _section("checks", "What was checked", lede, body)


def _table(record: Mapping[str, object]) -> str:
    metrics = _map(record.get("metrics"))
    rows = []
    for name, entry in metrics.items():
        m = _map(entry)
        ci = m.get("ci95")
        ci_list = list(ci) if isinstance(ci, (list, tuple)) else []
        interval = (
            f"[{_fmt(ci_list[0], sign=True)}, {_fmt(ci_list[1], sign=True)}]"
            if len(ci_list) == 2
            else _fmt(None)
        )
        better = m.get("better")
        left_out = _num(m.get("n_nonfinite"))
        paired = f"{_e(m.get('n_paired'))}" + (
            f' <span class="na">(+{int(left_out)} left out)</span>' if left_out > 0 else ""
        )
        rows.append(
            f'<tr><th scope="row">{_e(m.get("label", name))} {_arrow(m)} <code>{_e(name)}</code>'
            f"</th><td>{_fmt(m.get('mean_a'))}</td><td>{_fmt(m.get('mean_b'))}</td>"
            f'<td class="ci">{_fmt(m.get("mean_difference"), sign=True)}<br>'
            f'<span class="interval">{interval}</span></td>'
            f"<td>{_p(m.get('wilcoxon_p'))}</td><td>{paired}</td>"
            f'<td class="better">{_e(better) if better else "–"}</td></tr>'
        )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("metric", "A", "B", "B − A [95% CI]", "Wilcoxon p", "paired", "better")
    )
    caption = (
        f"{_e(record.get('sign', ''))}. A, B: means over the paired cases with two finite values; "
        "B − A: their mean difference, with a percentile bootstrap 95% interval over cases; p: "
        "Wilcoxon signed-rank test. Left out: pairs with a NaN or infinite value. Better: the run "
        "favoured when the interval excludes 0 and p < 0.05 (↑ higher is better, ↓ lower is "
        "better)."
    )
    body = (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div><p class="caption">{caption}</p>'
    )
    return _section("summary", "Summary", "", body)


def _range(values: NDArray[np.float64], ratio: bool) -> tuple[float, float]:
    if ratio:  # [0, 1], zoomed to the values when they bunch up (pixel accuracy near 1)
        return svg.fit_range(values)
    finite = values[np.isfinite(values)]
    high = float(finite.max()) if finite.size else 1.0
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    ticks = svg.nice_ticks(low, high if high > low else low + 1.0, 5)
    return ticks[0], ticks[-1]


def _plots(
    record: Mapping[str, object],
    per_case: Mapping[str, tuple[Sequence[str], ArrayLike, ArrayLike]],
) -> str:
    metrics = _map(record.get("metrics"))
    figures = []
    for name, (cases, a_values, b_values) in per_case.items():
        m = _map(metrics.get(name))
        a = np.asarray(a_values, dtype=np.float64)
        b = np.asarray(b_values, dtype=np.float64)
        label = str(m.get("label", name))
        ratio = m.get("unit") == "ratio"
        low, high = _range(np.concatenate([a, b]), ratio)
        zoom = ""
        if ratio and (low, high) != (0.0, 1.0):
            zoom = " (zoomed: {} to {})".format(*svg.tick_labels([low, high]))
        with np.errstate(invalid="ignore"):
            d = b - a
        finite = np.isfinite(d)
        top = int(np.argmax(np.where(finite, np.abs(d), -1.0))) if finite.any() else None
        shown = np.arange(a.size)
        sampled = ""
        if a.size > MAX_POINTS:  # an SVG of every point of a large run would weigh megabytes
            shown = np.unique(
                np.r_[np.linspace(0, a.size - 1, MAX_POINTS - 1).astype(int), top or 0]
            )
            sampled = f" {shown.size:,} of {a.size:,} cases drawn, evenly spaced."
        scatter = svg.scatter(
            a[shown],
            b[shown],
            names=[str(cases[int(i)]) for i in shown],
            highlight=None if top is None else int(np.searchsorted(shown, top)),
            x_range=(low, high),
            y_range=(low, high),
            title=f"{label}: B against A, per case",
            x_label=f"{label} in A{zoom}",
            y_label=f"{label} in B{zoom}",
        )
        span = float(np.max(np.abs(d[finite]))) if finite.any() else 0.0
        span = svg.nice_ticks(0.0, span if span > 0 else 1.0, 3)[-1]  # a round edge, symmetric
        hist = svg.histogram(
            d,
            bins=21,
            value_range=(-span, span),
            title="B − A",
            x_label="difference B − A",
        )
        above = "B higher" + (" (better)" if m.get("higher_is_better") is True else " (worse)")
        figures.append(
            f'<h3>{_e(label)} {_arrow(m)}</h3><div class="charts">'
            f'<figure class="chart-box">{scatter}<figcaption>Above the dashed line: {above}.'
            f"{sampled}"
            f'</figcaption></figure><figure class="chart-box">{hist}</figure></div>'
        )
    if not figures:
        return ""
    body = "".join(figures)
    lede = "Each point is a case; the case that changed most is named."
    return _section("plots", "Paired differences", lede, body)


def _visuals(visuals: Sequence[PairVisual], notes: Sequence[str], label: str) -> str:
    if not visuals and not notes:
        return ""
    legend = (
        '<p class="legend"><span class="swatch" '
        f'style="background:{TARGET_COLOR}"></span>ground truth contour '
        f'<span class="swatch" style="background:{PRED_COLOR}"></span>prediction contour '
        "(A's in the first panel, B's in the second)</p>"
    )
    styles = [v.style for v in visuals if v.style is not None]
    if styles:
        legend = panels_legend(styles[0])
    rows = []
    for v in visuals:
        if v.target.ndim == 3:
            rows.append(_volume_pair(v, label))
            continue
        if v.style is not None:
            rows.append(_class_pair(v, label))
            continue
        empty = np.zeros_like(v.target, dtype=bool)
        panels = []
        for panel, pred in (("A", v.pred_a), ("B", v.pred_b), ("ground truth", empty)):
            uri = overlay_data_uri(v.target, pred, v.image)
            alt = f"case {v.name}: {panel}" + ("" if panel == "ground truth" else " prediction")
            panels.append(
                f'<figure class="case"><img src="{uri}" alt="{_e(alt)}" width="256" '
                f'height="256"><figcaption>{_e(panel)}</figcaption></figure>'
            )
        with np.errstate(invalid="ignore"):
            diff = v.b - v.a
        caption = (
            f"<strong>{_e(v.name)}</strong>: {_e(label)} {_fmt(v.a)} → {_fmt(v.b)} "
            f"({_fmt(diff, sign=True)})"
        )
        rows.append(
            f'<div class="pair"><p class="pair-title">{caption}</p>'
            f'<div class="cases">{"".join(panels)}</div></div>'
        )
    notes_html = "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
    lede = f"The cases whose {_e(label)} changed most between A and B (largest |B − A|)."
    return _section("changed", "Cases that changed most", lede, legend + notes_html + "".join(rows))


def _caption(v: PairVisual, label: str) -> str:
    with np.errstate(invalid="ignore"):
        diff = v.b - v.a
    return (
        f"<strong>{_e(v.name)}</strong>: {_e(label)} {_fmt(v.a)} → {_fmt(v.b)} "
        f"({_fmt(diff, sign=True)})"
    )


def _volume_pair(v: PairVisual, label: str) -> str:
    """Draw a volume: A's and B's three slices through the voxel where they differ most."""
    from segscore.report.volume import disagreement, worst_point

    ignore = None if v.style is None else v.style.ignore_index
    fallback = v.target != 0 if ignore is None else (v.target != 0) & (v.target != ignore)
    point = worst_point(
        disagreement(v.pred_a, v.pred_b, ignore_index=ignore),
        spacing=v.spacing,
        fallback=np.asarray(fallback),
    )
    figures = [
        volume_figure(
            v.name,
            v.target,
            pred,
            score=value,
            score_name=label,
            spacing=v.spacing,
            unit=v.unit,
            affine=v.affine,
            style=v.style,
            point=point,
            label=run,
        )
        for run, pred, value in (("A", v.pred_a, v.a), ("B", v.pred_b, v.b))
    ]
    return (
        f'<div class="pair"><p class="pair-title">{_caption(v, label)}</p>'
        f'<div class="cases">{"".join(figures)}</div></div>'
    )


def _class_pair(v: PairVisual, label: str) -> str:
    """Draw a multiclass case: A's and B's ground truth | prediction | errors, one legend."""
    assert v.style is not None
    panels = []
    for run, pred in (("A", v.pred_a), ("B", v.pred_b)):
        rgb = class_panels_rgb(v.target, pred, v.style, v.image)
        h, w = rgb.shape[:2]
        alt = f"case {v.name}, run {run}: ground truth | prediction | errors in class colours"
        panels.append(
            f'<figure class="case case-wide"><img src="{rgb_data_uri(rgb)}" alt="{_e(alt)}" '
            f'width="{w}" height="{h}"><figcaption>{run}: ground truth | prediction | errors'
            "</figcaption></figure>"
        )
    classes = sorted(
        set(present_classes(v.target, v.pred_a, ignore_index=v.style.ignore_index))
        | set(present_classes(v.target, v.pred_b, ignore_index=v.style.ignore_index))
    )
    return (
        f'<div class="pair"><p class="pair-title">{_caption(v, label)}</p>'
        f'<div class="cases">{"".join(panels)}</div>{class_legend(v.style, classes)}</div>'
    )


def _cases(record: Mapping[str, object]) -> str:
    cases = _map(record.get("cases"))
    parts = []
    for key, role in (("only_in_a", "A"), ("only_in_b", "B")):
        names = cases.get(key)
        if isinstance(names, list) and names:
            listed = "".join(f"<li>{_e(n)}</li>" for n in names)
            parts.append(
                f'<h3>Only in {role} ({len(names)}, dropped)</h3><ul class="names">{listed}</ul>'
            )
    notes = record.get("notes")
    if isinstance(notes, list) and notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    if not parts:
        return ""
    return _section("cases", "Cases and notes", "", "".join(parts))


_CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#e4e7eb;--bg:#f5f7fa;--warn:#D55E00;color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86em;
overflow-wrap:anywhere}
.wrap,main{max-width:1160px;margin:0 auto;padding:0 28px}
.masthead{background:#102a43;color:#f0f4f8;padding:28px 0 22px}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.12em;font-size:.72rem;color:#9fb3c8}
h1{margin:.15rem 0 .9rem;font-size:1.9rem;line-height:1.2}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0;font-size:.85rem}
.facts div{display:flex;gap:8px;align-items:baseline;min-width:0}
.facts dt{color:#9fb3c8;font-size:.75rem;text-transform:uppercase;letter-spacing:.06em}
.facts dd{margin:0;color:#d9e2ec;overflow-wrap:anywhere}
.facts code{color:#fff}
section{background:#fff;border:1px solid var(--line);border-radius:12px;padding:22px 26px 24px;
margin:22px 0}
h2{margin:0 0 .2rem;font-size:1.2rem}
h3{margin:1.2rem 0 .6rem;font-size:1rem;color:var(--muted)}
.lede{margin:0 0 1rem;color:var(--muted);max-width:75ch}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:.9rem}
.caption{color:var(--muted);font-size:.8rem;margin:10px 0 0;max-width:90ch}
.interval{color:var(--muted);font-size:.85em}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
thead th{font-size:.75rem;text-transform:uppercase;color:var(--muted);font-weight:600}
th:first-child,td:first-child{text-align:left}
tbody th code{color:var(--muted);font-weight:400;display:block}
td.better{font-weight:700}
.na{color:#9aa5b1}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:18px 28px;
max-width:1000px}
.chart-box{margin:0}
.chart-box figcaption{font-size:.8rem;color:var(--muted)}
svg.chart{display:block;width:100%;height:auto;max-width:560px}
.callout{border-left:4px solid var(--warn);background:#fff8f1;padding:12px 18px;
border-radius:0 8px 8px 0;margin-bottom:1rem}
.callout-title{font-weight:700;color:#8a2c0d;margin:.2rem 0}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;font-size:.85rem;
color:var(--muted)}
.swatch{display:inline-block;width:22px;height:5px;border-radius:2px}
.pair{margin:0 0 18px}
.pair-title{margin:.6rem 0 .3rem}
.cases{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:12px;max-width:820px}
.case{margin:0}
.case img{display:block;width:100%;height:auto;border-radius:8px;border:1px solid var(--line);
image-rendering:pixelated}
.case figcaption{font-size:.82rem;color:var(--muted);text-align:center}
.note{color:var(--muted)}
.names{columns:3 200px;font-size:.88rem;max-height:18rem;overflow:auto}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:8px 0 36px}
@media (max-width:900px){th,td{padding:6px 6px}thead th{white-space:normal}table{font-size:.85rem}}
@media (max-width:760px){.wrap,main{padding:0 14px}section{padding:16px 14px}}
@media print{body{background:#fff}.masthead{background:none;color:#000}
.facts dt,.facts dd,.facts code,.kicker{color:#000}section{break-inside:avoid}}
"""


def render_comparison(
    record: Mapping[str, object],
    per_case: Mapping[str, tuple[Sequence[str], ArrayLike, ArrayLike]],
    *,
    visuals: Sequence[PairVisual] = (),
    visual_metric: str | None = None,
    visual_notes: Sequence[str] = (),
    title: str = "segscore compare",
) -> str:
    """Render a comparison of two runs as one self-contained HTML document.

    Parameters
    ----------
    record : mapping
        The ``compare.json`` record (:meth:`segscore.evaluation.compare.Comparison.as_record`).
    per_case : mapping of str to (names, a, b)
        Per metric: the paired cases and their values in A and in B (the plots).
    visuals : sequence of PairVisual, optional
        The cases that changed most, drawn side by side.
    visual_metric : str, optional
        The metric the cases were ranked by (shown in their captions).
    visual_notes : sequence of str, optional
        Why some cases are not drawn (files gone, 3-D volumes, ...), shown instead.
    title : str, optional
        Title of the document (escaped).

    Returns
    -------
    str
        The HTML document; the same inputs give the same bytes.

    Raises
    ------
    InputError
        If a :class:`PairVisual` has masks or an image of inconsistent shapes.

    Examples
    --------
    >>> record = {"metrics": {"iou": {"label": "IoU", "higher_is_better": True, "unit": "ratio",
    ...           "mean_a": 0.5, "mean_b": 0.7, "mean_difference": 0.2, "ci95": [0.1, 0.3]}}}
    >>> doc = render_comparison(record, {"iou": (["<c>"], [0.5], [0.7])})
    >>> doc.startswith("<!DOCTYPE html>"), "&lt;c&gt;" in doc, "<c>" in doc
    (True, True, False)
    """
    shown = _map(_map(record.get("metrics")).get(visual_metric or ""))
    label = str(shown.get("label", visual_metric or "the metric"))
    sections = [
        _checks(record),
        _table(record),
        _plots(record, per_case),
        _visuals(list(visuals), list(visual_notes), label),
        _cases(record),
    ]
    version = record.get("segscore_version")
    footer = "Generated by segscore" + (f" {_e(version)}" if version is not None else "") + "."
    return (
        page_head(title, _CSS + FIGURE_CSS)
        + _header(record, title)
        + "<main>"
        + "\n".join(s for s in sections if s)
        + f"</main><footer>{footer}</footer></body></html>\n"
    )

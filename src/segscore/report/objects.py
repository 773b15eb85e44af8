"""The objects part of ``report.html`` (``evaluate --instances``): legend, charts and the text.

:class:`ObjectReport` holds what the section shows, already computed from the exact overlap
tables by the evaluation (:func:`segscore.evaluation.objects.object_report`): the pooled object
F1 and DSB2018 score at each IoU threshold 0.5, 0.55, ..., 0.95, every target object's size and
matched IoU, and the counts of merges and splits. :func:`object_section` renders it (pure: a
string in, a string out); :func:`object_legend` is the legend of the object overlays
(:func:`segscore.report.overlay.object_overlay_rgb`).

Every string from the inputs is escaped with :func:`html.escape` (``quote=True``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from segscore.report import svg
from segscore.report.overlay import FALSE_POSITIVE_COLOR, MATCHED_COLOR, MISSED_COLOR

__all__ = ["MAX_POINTS", "ObjectReport", "object_legend", "object_section"]

MAX_POINTS = 2000
"""At most this many target objects are drawn in the size scatter (an even sample of them)."""


@dataclass(frozen=True)
class ObjectReport:
    """What the report shows about objects, computed from the overlap tables of a run.

    Attributes
    ----------
    thresholds : tuple of float
        The matching thresholds of the curve (0.5, 0.55, ..., 0.95).
    f1, dsb : tuple of float
        Per threshold, the pooled F1 ``2 TP / (2 TP + FP + FN)`` and the pooled DSB2018 score
        ``TP / (TP + FP + FN)`` (counts summed over the cases first; NaN when undefined).
    dsb_mean : float
        The mean of ``dsb`` over the thresholds: the DSB2018 score ``dsb@0.5:0.95``, pooled.
    sizes : ndarray of int64, shape (G,)
        The size in pixels of every target object of every case.
    iou : ndarray of float64, shape (G,)
        The IoU of each target object with its match at ``threshold``; 0 when missed.
    matched : ndarray of bool, shape (G,)
        Whether each target object was matched at ``threshold``.
    names : tuple of str
        One label per target object (its case and id), for tooltips.
    threshold : float
        The threshold of the overlays, the scatter and ``per_object.csv``.
    f1_at_threshold : float
        The pooled F1 at ``threshold``.
    n_pred : int
        Predicted objects in all cases.
    n_false_positive : int
        Predicted objects without a match at ``threshold``.
    n_merged : int
        Merges: predicted objects that cover more than half of each of two or more target
        objects.
    n_split : int
        Splits: target objects that hold more than half of each of two or more predicted
        objects.
    criterion, comparison : str
        The matching conventions (``'iou'``, ``'>='`` ...), for the labels.

    Examples
    --------
    >>> r = ObjectReport((0.5,), (1.0,), (1.0,), 1.0, np.array([4]), np.array([1.0]),
    ...                  np.array([True]), ("a #1",), 0.5, 1.0, 1, 0, 0, 0)
    >>> r.n_target, r.n_missed
    (1, 0)
    """

    thresholds: tuple[float, ...]
    f1: tuple[float, ...]
    dsb: tuple[float, ...]
    dsb_mean: float
    sizes: NDArray[np.int64]
    iou: NDArray[np.float64]
    matched: NDArray[np.bool_]
    names: tuple[str, ...]
    threshold: float
    f1_at_threshold: float
    n_pred: int
    n_false_positive: int
    n_merged: int
    n_split: int
    criterion: str = "iou"
    comparison: str = ">="

    @property
    def n_target(self) -> int:
        """Target objects in all cases."""
        return int(self.sizes.size)

    @property
    def n_missed(self) -> int:
        """Target objects without a match at ``threshold``."""
        return int(self.n_target - np.count_nonzero(self.matched))


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _f(x: float, digits: int = 3) -> str:
    return "undefined" if math.isnan(x) else f"{x:.{digits}f}"


def _cmp(comparison: str) -> str:
    return {">=": "≥", ">": "&gt;"}.get(comparison, _e(comparison))


def _t(x: float) -> str:
    """Write a threshold as people do: 0.5, 0.55."""
    return f"{x:.4f}".rstrip("0").rstrip(".")


def object_legend() -> str:
    """Return the legend of the object overlays (three fates, one colour each).

    Examples
    --------
    >>> legend = object_legend()
    >>> "matched" in legend, "missed target" in legend, "false-positive prediction" in legend
    (True, True, True)
    """
    entries = (
        (MATCHED_COLOR, "matched", "a target object and the prediction matched to it"),
        (MISSED_COLOR, "missed target (false negative)", "tinted"),
        (FALSE_POSITIVE_COLOR, "false-positive prediction", "tinted"),
    )
    items = "".join(
        f'<span class="legend-item"><span class="swatch swatch-object" '
        f'style="border-color:{c};background:{c}40"></span><span class="legend-entry">'
        f'{_e(name)} <span class="legend-note">({_e(note)})</span></span></span> '
        for c, name, note in entries
    )
    return (
        f'<p class="legend legend-objects" aria-label="Object overlay legend">{items}'
        '<span class="legend-note">Target objects are outlined just outside, predicted objects '
        "just inside.</span></p>"
    )


def _curve(report: ObjectReport) -> str:
    what = report.criterion if report.criterion != "iou" else "IoU"
    return svg.line_chart(
        report.thresholds,
        {"F1 (pooled)": report.f1, "DSB: TP/(TP+FP+FN)": report.dsb},
        y_range=(0.0, 1.0),
        marker_x=report.threshold,
        marker_label=f"matching at {_t(report.threshold)}",
        title=f"Object F1 against the {what} threshold",
        x_label=f"matching threshold ({what} {'≥' if report.comparison == '>=' else '>'} t)",
        y_label="score",
    )


def _sample(n: int, limit: int) -> NDArray[np.int64]:
    """Evenly spaced indices of at most ``limit`` of ``n`` items (all of them if they fit)."""
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def _sizes(report: ObjectReport) -> tuple[str, str]:
    """Return the size scatter, and a note on what it leaves out."""
    keep = _sample(report.n_target, MAX_POINTS)
    sizes = report.sizes[keep].astype(np.float64)
    low = float(sizes.min(initial=1.0))
    high = float(sizes.max(initial=1.0))
    log = high / max(low, 1.0) > 100.0  # more than two decades
    if log:
        x_range = (10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high)))
    else:
        ticks = svg.nice_ticks(0.0, high if high > 0 else 1.0, 5)
        x_range = (ticks[0], ticks[-1])
    colors = np.where(report.matched[keep], MATCHED_COLOR, MISSED_COLOR).tolist()
    chart = svg.scatter(
        sizes,
        report.iou[keep],
        names=[report.names[i] for i in keep.tolist()],
        x_range=x_range,
        diagonal=False,
        colors=colors,
        legend={"matched": MATCHED_COLOR, "missed (IoU 0)": MISSED_COLOR},
        x_scale="log" if log else "linear",
        title="Object size against matched IoU",
        x_label="target object size (pixels" + (", log scale)" if log else ")"),
        y_label="IoU with its match",
    )
    note = ""
    if keep.size < report.n_target:
        note = (
            f"{keep.size:,} of {report.n_target:,} target objects drawn (evenly spaced in case "
            "order); the counts above include all of them."
        )
    return chart, note


def object_section(report: ObjectReport, pixel_iou: float | None = None) -> tuple[str, str]:
    """Return the lede and the body (HTML) of the report's objects section.

    Parameters
    ----------
    report : ObjectReport
        The object results of the run.
    pixel_iou : float, optional
        The pooled pixel IoU of the run, to contrast with the object F1 (left out if None).

    Returns
    -------
    lede, body : str
        Escaped HTML fragments: the explanation and the two charts (F1 against the threshold,
        size against matched IoU).

    Examples
    --------
    >>> r = ObjectReport((0.5, 0.55), (0.8, 0.6), (0.67, 0.43), 0.55, np.array([4, 9]),
    ...                  np.array([0.9, 0.0]), np.array([True, False]), ("a #1", "a #2"),
    ...                  0.5, 0.8, 2, 1, 1, 0)
    >>> lede, body = object_section(r, pixel_iou=0.9)
    >>> body.count("<svg"), "1 of 2 target objects were missed" in body
    (2, True)
    """
    t = _t(report.threshold)
    what = "IoU" if report.criterion == "iou" else report.criterion
    contrast = ""
    if pixel_iou is not None and math.isfinite(pixel_iou):
        contrast = (
            f"Pixel IoU is <strong>{_f(pixel_iou)}</strong> but object F1@{_e(t)} is "
            f"<strong>{_f(report.f1_at_threshold)}</strong> (both pooled over the cases). "
        )
    merged = (
        f"<strong>{report.n_merged:,}</strong> of {report.n_pred:,} predicted objects each cover "
        "more than half of two or more target objects (merges)"
    )
    split = (
        f"<strong>{report.n_split:,}</strong> of {report.n_target:,} target objects each hold "
        "more than half of two or more predicted objects (splits)"
    )
    text = (
        '<div class="callout"><p class="callout-title">Object scores show what pixel IoU '
        f"hides</p><p>{contrast}Pixel IoU counts pixels: merging two touching objects into "
        "one, or missing a few small ones, costs few pixels but whole objects, and only the "
        f"object scores count those. {merged}; {split}. At {_e(what)} {_cmp(report.comparison)} "
        f"{_e(t)}, {report.n_missed:,} of {report.n_target:,} target objects were missed and "
        f"{report.n_false_positive:,} of {report.n_pred:,} predicted objects are false "
        "positives.</p>"
        f"<p>The DSB2018 score (TP/(TP+FP+FN), mean over the {len(report.thresholds)} "
        f"thresholds {_e(_t(report.thresholds[0]))}–{_e(_t(report.thresholds[-1]))}, pooled) is "
        f"<strong>{_f(report.dsb_mean)}</strong>; F1 goes from {_f(report.f1[0])} at "
        f"{_e(_t(report.thresholds[0]))} to {_f(report.f1[-1])} at "
        f"{_e(_t(report.thresholds[-1]))}.</p></div>"
    )
    scatter, note = _sizes(report)
    note_html = f'<p class="lede">{_e(note)}</p>' if note else ""
    body = (
        f'{text}<div class="charts"><figure class="chart-box">{_curve(report)}</figure>'
        f'<figure class="chart-box">{scatter}</figure></div>{note_html}'
    )
    lede = (
        "Each object is matched to at most one object of the other side. A low F1 at strict "
        "thresholds means loose outlines; a low F1 at 0.5 means missed, merged or invented "
        "objects. Small objects are usually the first to go: the scatter shows which."
    )
    return lede, body

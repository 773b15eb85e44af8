"""HTML of the report's multiclass and 3-D case figures, with their legends.

:func:`class_figure` draws a multiclass case as ``[image |] ground truth | prediction | errors``
(:mod:`segscore.report.class_overlay`) with a legend of the classes present in that case (in
its ground truth or its prediction), named and in their colours. :func:`volume_figure` draws a
3-D case as its axial, coronal and sagittal slices through the largest disagreement
(:mod:`segscore.report.volume`), each captioned with the fixed axis, the slice index and the
slice's physical size in the case's unit. :func:`panels_legend` explains the panels once for
the section. Every string from the inputs is escaped (``html.escape``, ``quote=True``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from segscore.report.class_overlay import (
    CORRECT_FADE,
    ERROR_COLOR,
    ClassStyle,
    class_panels_rgb,
    present_classes,
)
from segscore.report.overlay import IGNORE_COLORS, rgb_data_uri
from segscore.report.volume import volume_views

__all__ = [
    "FIGURE_CSS",
    "class_figure",
    "class_legend",
    "ignore_swatch",
    "panels_legend",
    "volume_figure",
]


FIGURE_CSS = """
.case-wide{grid-column:1/-1}
.case-wide img,.plane img{width:auto;max-width:100%}
.case-wide figcaption{justify-content:flex-start;flex-wrap:wrap;gap:4px 14px}
.case-panels{color:var(--muted)}
.planes{display:flex;flex-wrap:wrap;gap:12px 18px;align-items:flex-start}
.plane{margin:0;max-width:100%}
.case .plane figcaption{display:block;font-size:.78rem;color:var(--muted);padding-top:4px}
.class-legend{display:flex;flex-wrap:wrap;gap:2px 14px;list-style:none;margin:4px 0 0;padding:0;
font-size:.8rem}
.class-legend li{display:inline-flex;align-items:center;gap:6px}
.class-legend code{color:var(--muted)}
.swatch-class{height:12px;width:14px;border:1px solid #9aa5b1;margin-left:0}
.legend-item{display:inline-flex;align-items:center;gap:6px;margin-right:8px}
.legend-item .swatch{margin-left:0}
.legend-note{font-size:.8rem}
"""
"""CSS of the class figures and legends, shared by ``report.html`` and ``compare.html``."""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _score(value: float, digits: int = 3) -> str:
    return "undefined" if math.isnan(value) else f"{value:.{digits}f}"


def _num(value: float) -> str:
    return f"{value:.3g}"


def _img(rgb: NDArray[np.uint8], alt: str) -> str:
    h, w = rgb.shape[:2]
    return (
        f'<img src="{rgb_data_uri(rgb)}" alt="{_e(alt)}" width="{w}" height="{h}" loading="eager">'
    )


def class_legend(style: ClassStyle, classes: Sequence[int]) -> str:
    """Return the legend of ``classes``: one swatch in the class colour and the name each.

    Parameters
    ----------
    style : ClassStyle
        Names and colours.
    classes : sequence of int
        The class labels to list, in this order.

    Returns
    -------
    str
        ``<ul class="class-legend">`` with one ``<li>`` per class (name and label, escaped).

    Examples
    --------
    >>> class_legend(ClassStyle(3, names=("bg", "a<b", "c")), [1])
    '<ul class="class-legend" aria-label="Classes in this case"><li><span class="swatch swatch-class" style="background:#E69F00"></span>a&lt;b <code>1</code></li></ul>'
    """
    items = "".join(
        f'<li><span class="swatch swatch-class" style="background:{style.hex(k)}"></span>'
        f"{_e(style.name(k))} <code>{int(k)}</code></li>"
        for k in classes
    )
    return f'<ul class="class-legend" aria-label="Classes in this case">{items}</ul>'


def ignore_swatch(text: str) -> str:
    """Return a legend item: the ignore label's stripes and ``text`` (escaped).

    Examples
    --------
    >>> "repeating-linear-gradient" in ignore_swatch("ignore label")
    True
    """
    stripes = (
        f"repeating-linear-gradient(45deg,{IGNORE_COLORS[0]} 0 3px,{IGNORE_COLORS[1]} 3px 6px)"
    )
    return (
        f'<span class="legend-item"><span class="swatch swatch-class" style="background:'
        f'{stripes}"></span>{_e(text)}</span>'
    )


def panels_legend(style: ClassStyle, *, volumes: bool = False) -> str:
    """Return the section's note on the multiclass panels: order, errors, ignore label, colours.

    Parameters
    ----------
    style : ClassStyle
        Of the run (its ignore label and colour source are named).
    volumes : bool, optional
        Also explain the 3-D slices.

    Returns
    -------
    str
        One ``<p class="legend">``.

    Examples
    --------
    >>> "errors" in panels_legend(ClassStyle(3))
    True
    """
    ignore = (
        ignore_swatch(f"ignore label {int(style.ignore_index)} (not scored, never an error)")
        if style.ignore_index is not None
        else ""
    )
    fade = round(CORRECT_FADE * 100)
    text = (
        '<p class="legend" aria-label="Multiclass overlay legend">'
        "<span>Multiclass cases: <strong>ground truth | prediction | errors</strong> (after "
        "the input image when there is one), each pixel in its class colour "
        f"({_e(style.source)}).</span>"
        f'<span class="legend-item"><span class="swatch swatch-class" style="background:'
        f'{ERROR_COLOR}"></span>error: predicted class ≠ ground-truth class</span>'
        f'<span class="legend-item">correct pixels: their class colour, {fade}% faded</span>'
        f"{ignore}"
    )
    if volumes:
        text += (
            '<span class="legend-note">Volumes: axial, coronal and sagittal slices through '
            "the voxel of the largest connected disagreement nearest its centre, drawn at "
            "true proportions from the voxel spacing.</span>"
        )
    return text + "</p>"


def _classes_in(
    style: ClassStyle, target: NDArray[np.generic], pred: NDArray[np.generic]
) -> list[int]:
    return present_classes(target, pred, ignore_index=style.ignore_index)


def class_figure(
    name: str,
    target: NDArray[np.generic],
    pred: NDArray[np.generic],
    style: ClassStyle,
    *,
    score: float,
    score_name: str = "IoU",
    image: NDArray[np.floating] | None = None,
) -> str:
    """Return the ``<figure>`` of a 2-D multiclass case: the panels, caption and class legend.

    Parameters
    ----------
    name : str
        Case name (escaped).
    target, pred : ndarray of int, shape (H, W)
        Label maps.
    style : ClassStyle
        Names, colours, ignore label.
    score : float
        The case's score (NaN allowed).
    score_name : str, optional
        What ``score`` is.
    image : ndarray of float, optional
        The input image in [0, 1], drawn as a first panel.

    Returns
    -------
    str
        The figure; its legend lists the classes present in ``target`` or ``pred``.

    Raises
    ------
    InputError
        As :func:`~segscore.report.class_overlay.class_panels_rgb`.

    Examples
    --------
    >>> t = np.array([[0, 1], [1, 1]]); p = np.array([[0, 2], [1, 1]])
    >>> doc = class_figure("a.png", t, p, ClassStyle(4), score=0.5)
    >>> doc.count("<li>"), "class 3" in doc
    (3, False)
    """
    rgb = class_panels_rgb(target, pred, style, image)
    panels = ("image | " if image is not None else "") + "ground truth | prediction | errors"
    alt = (
        f"Case {name}, {panels}: each class in its colour, errors in black, {score_name} "
        f"{_score(score)}."
    )
    return (
        f'<figure class="case case-wide">{_img(rgb, alt)}'
        f'<figcaption><span class="case-name" title="{_e(name)}">{_e(name)}</span>'
        f'<span class="case-panels">{_e(panels)}</span>'
        f'<span class="case-score">{_e(score_name)} {_e(_score(score))}</span></figcaption>'
        f"{class_legend(style, _classes_in(style, target, pred))}</figure>"
    )


def volume_figure(
    name: str,
    target: NDArray[np.generic],
    pred: NDArray[np.generic],
    *,
    score: float,
    score_name: str = "IoU",
    spacing: tuple[float, ...] | None = None,
    unit: str = "voxels",
    affine: NDArray[np.floating] | None = None,
    style: ClassStyle | None = None,
    ignore: NDArray[np.bool_] | None = None,
    point: tuple[int, ...] | None = None,
    label: str | None = None,
) -> str:
    """Return the ``<figure>`` of a 3-D case: three slices through the largest disagreement.

    Parameters
    ----------
    name : str
        Case name (escaped).
    target, pred : ndarray, shape (n0, n1, n2)
        Bool masks, or label maps with ``style``.
    score : float
        The case's score (NaN allowed).
    score_name : str, optional
        What ``score`` is.
    spacing : tuple of float, optional
        Voxel spacing, numpy axis order (default 1 per axis).
    unit : str, optional
        The spacing's unit, shown with every length (``'mm'``, ``'voxels'``).
    affine : ndarray of float, shape (4, 4), optional
        Voxel-to-world matrix (names and orients the slices).
    style : ClassStyle, optional
        Multiclass: panels per slice and a legend of the classes present in the volume.
    ignore : ndarray of bool, optional
        Binary volumes: the voxels of the ignore label (striped, never a disagreement).
    point : tuple of int, optional
        The voxel the slices go through (default: the largest disagreement).
    label : str, optional
        Shown in place of ``name`` in the caption (e.g. ``"A"``).

    Returns
    -------
    str
        The figure: one captioned image per slice (``axial · axis 2 = 7 · 40 × 64 mm``) and a
        caption with the voxel sliced through and the spacing.

    Raises
    ------
    InputError
        As :func:`~segscore.report.volume.volume_views`.

    Examples
    --------
    >>> t = np.zeros((3, 4, 5), bool); t[1, 1:3, 1:4] = True
    >>> doc = volume_figure("v.npy", t, t, score=1.0)
    >>> doc.count('class="plane"'), "axis 0 = 1" in doc, "voxels" in doc
    (3, True, True)
    """
    sp = (1.0, 1.0, 1.0) if spacing is None else tuple(float(s) for s in spacing)
    point, views = volume_views(
        target, pred, spacing=sp, affine=affine, style=style, ignore=ignore, point=point
    )
    planes = []
    for view in views:
        pl = view.plane
        size = f"{_num(view.extent[0])} × {_num(view.extent[1])} {unit}"
        what = "ground truth | prediction | errors" if style is not None else "contours"
        alt = f"Case {name}, {pl.name} slice (axis {pl.axis} = {pl.index}), {size}, {what}."
        planes.append(
            f'<figure class="plane">{_img(view.rgb, alt)}<figcaption><strong>{pl.name}</strong>'
            f" · axis {pl.axis} = {pl.index} · {_e(size)}</figcaption></figure>"
        )
    voxel = ", ".join(str(i) for i in point)
    spacing_text = " × ".join(_num(s) for s in sp) + f" {unit}"
    legend = "" if style is None else class_legend(style, _classes_in(style, target, pred))
    return (
        f'<figure class="case case-wide case-volume"><div class="planes">{"".join(planes)}'
        f'</div><figcaption><span class="case-name" title="{_e(name)}">{_e(label or name)}</span>'
        f'<span class="case-panels">slices through voxel ({voxel}) · spacing '
        f"{_e(spacing_text)}</span>"
        f'<span class="case-score">{_e(score_name)} {_e(_score(score))}</span></figcaption>'
        f"{legend}</figure>"
    )

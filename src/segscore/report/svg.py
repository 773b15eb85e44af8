"""Small, dependency-free SVG charts for the HTML report: histogram, bar chart, scatter, lines.

Every function returns one standalone ``<svg>`` element as a string: valid XML, sized by a
``viewBox`` (so it scales with the page), with ``role="img"``, an ``aria-label`` and a ``<title>``
for screen readers and tooltips. No script, no font or file is fetched. Every string that comes
from the caller (titles, labels, names) is escaped with :func:`html.escape` (``quote=True``), so it
is safe in text and in attributes alike.

Data marks carry a class so that tests (and stylesheets) can find them: ``bar`` (one ``<rect>``
per histogram bin or per finite bar value), ``point`` (one ``<circle>`` per finite scatter point)
and ``series`` (one ``<path>`` per line). Colours are the Okabe–Ito palette, which stays
distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from segscore._validation import check_option, fail

__all__ = [
    "PALETTE",
    "bar_chart",
    "fit_range",
    "histogram",
    "line_chart",
    "nice_ticks",
    "place_label",
    "scatter",
    "tick_labels",
]

#: Okabe–Ito colours: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")

_INK = "#1f2933"
_MUTED = "#616e7c"
_GRID = "#e4e7eb"
_FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""

# Margins inside the viewBox: left, right, top, bottom.
_ML, _MR, _MT, _MB = 52.0, 16.0, 30.0, 46.0


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(x: float) -> str:
    """Coordinate: at most 2 decimals, no trailing zeros."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimate, generously, the width of ``text`` in the charts' sans-serif font, in px."""
    return len(text) * size * (0.68 if bold else 0.6)


def _tick_width(text: str, size: float) -> float:
    """Estimate the width of a number's text: digits are wide (0.64 em), points narrow."""
    return size * sum(
        0.64 if c.isdigit() or c in "−-" else 0.32 if c in ".," else 0.62 for c in text
    )


def _label(x: float) -> str:
    """Write a data value short (tooltips): integers in full, else 4 significant digits."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "∞" if x > 0 else ("−∞" if x < 0 else "NaN")
    if float(x).is_integer() and abs(x) < 1e15:  # counts and sizes in full: 7000, not 7e+03
        return str(int(x))
    if abs(x) >= 1000:
        return f"{x:.1f}"  # 1234.6, not 1.2e+03
    if abs(x) < 0.001:
        return f"{x:.2g}"
    return f"{x:.4g}"


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Write evenly spaced ticks with the decimals their step needs, never in e-notation.

    Parameters
    ----------
    ticks : sequence of float
        Increasing, evenly spaced values (e.g. from :func:`nice_ticks`).

    Returns
    -------
    list of str
        One label per tick: as many decimals as the step has (at most 12), trailing zeros
        dropped, a minus sign for negative values, ``0`` for zero.

    Examples
    --------
    >>> tick_labels([0.0, 0.25, 0.5, 0.75, 1.0])
    ['0', '0.25', '0.5', '0.75', '1']
    >>> tick_labels([1000.0, 1000.5, 1001.0])
    ['1000', '1000.5', '1001']
    >>> tick_labels([0.0, 2e-05, 4e-05])
    ['0', '0.00002', '0.00004']
    """
    values = [float(t) for t in ticks]
    steps = [b - a for a, b in itertools.pairwise(values) if b > a]
    step = min(steps) if steps else (abs(values[0]) if values and values[0] else 1.0)
    decimals = next((d for d in range(13) if abs(round(step, d) - step) <= 1e-9 * step), 12)
    labels = []
    for v in values:
        text = f"{round(v, decimals):.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        labels.append("0" if text in ("-0", "") else text.replace("-", "−"))
    return labels


def _count_ticks(top: int, count: int = 4) -> list[float]:
    """Integer ticks from 0 to at least ``top`` in steps of 1, 2 or 5 times a power of ten."""
    top = max(int(top), 1)
    raw = top / max(count - 1, 1)
    power = 10 ** max(math.floor(math.log10(raw)), 0)
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [float(k * step) for k in range(-(-top // step) + 1)]


def _power_of_ten(e: int) -> str:
    """``10**e`` as a short tick label: 1, 10, 10², 10⁻³."""
    if e in (0, 1):
        return "1" if e == 0 else "10"
    return "10" + str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _floats(name: str, values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel() if np.size(values) else np.zeros(0)
    if arr.ndim != 1:  # pragma: no cover - ravel always gives 1-D
        fail(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
    return arr


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (steps of 1, 2, 2.5 or 5 times a power of ten).

    Parameters
    ----------
    low, high : float
        The data range; ``low == high`` is widened to show one unit around it.
    count : int, optional
        About how many ticks to make.

    Returns
    -------
    list of float
        Increasing ticks; the first is ``<= low`` and the last ``>= high``.

    Examples
    --------
    >>> nice_ticks(0, 1)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> nice_ticks(0, 7)
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high < low:
        low, high = high, low
    if high == low:
        low, high = low - 0.5 if low != 0 else 0.0, high + 0.5 if high != 0 else 1.0
    raw = (high - low) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw - 1e-12)
    start = math.floor(low / step + 1e-9) * step
    ticks: list[float] = []
    t = start
    while t < high + step * 1e-9 or not ticks:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < high - 1e-12:
        ticks.append(round(t, 12))
    return [float(v) + 0.0 for v in ticks]


def fit_range(
    values: ArrayLike,
    bounds: tuple[float, float] = (0.0, 1.0),
    *,
    fill: float = 0.25,
    count: int = 5,
) -> tuple[float, float]:
    """Return the axis range for bounded values: ``bounds``, or zoomed to the data they fill.

    A ratio such as pixel accuracy often lies in a sliver of [0, 1] (0.95 to 0.999): drawn on
    the full range, every point sits on one edge. When the finite values span less than
    ``fill`` of ``bounds``, the range is zoomed to them: the :func:`nice_ticks` around them,
    kept inside ``bounds``. Otherwise (or without finite values) it is ``bounds``.

    Parameters
    ----------
    values : array_like of float
        The values to show (any shape; NaN and infinite values are ignored, values outside
        ``bounds`` are clipped to them).
    bounds : (float, float), optional
        The full range of the quantity.
    fill : float, optional
        Zoom when the values span less than this share of ``bounds``.
    count : int, optional
        About how many ticks the zoomed range holds.

    Returns
    -------
    (float, float)
        The range, increasing.

    Examples
    --------
    >>> fit_range([0.9055, 0.95, 0.9892])
    (0.9, 1.0)
    >>> fit_range([0.1, 0.95])
    (0.0, 1.0)
    >>> fit_range([0.81, 0.86, 0.94])
    (0.8, 0.95)
    """
    lo, hi = float(bounds[0]), float(bounds[1])
    arr = np.asarray(values, dtype=np.float64).ravel()
    finite = np.clip(arr[np.isfinite(arr)], lo, hi)
    if finite.size == 0 or not hi > lo:
        return lo, hi
    low, high = float(finite.min()), float(finite.max())
    if high - low >= fill * (hi - lo):
        return lo, hi
    if high == low:  # one value: a tenth of the bounds around it
        low, high = low - 0.05 * (hi - lo), high + 0.05 * (hi - lo)
    ticks = nice_ticks(low, high, count)
    return max(ticks[0], lo), min(ticks[-1], hi)


class _Frame:
    """Maps data to viewBox coordinates and draws the axes, grid and titles."""

    def __init__(
        self,
        width: float,
        height: float,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
    ) -> None:
        self.width, self.height = width, height
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.left, self.right = _ML, width - _MR
        self.top, self.bottom = _MT, height - _MB

    def x(self, v: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return self.left + (v - self.x0) / span * (self.right - self.left)

    def y(self, v: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return self.bottom - (v - self.y0) / span * (self.bottom - self.top)

    def legend_at(self, k: int) -> tuple[float, float]:
        """Where legend entry ``k`` goes: three to a row, above the plot."""
        return self.left + (k % 3) * (self.right - self.left) / 3, _MT + 4 + 16 * (k // 3)

    def grid(
        self,
        x_ticks: Sequence[float] | None,
        y_ticks: Sequence[float],
        x_label: str,
        y_label: str,
        x_tick_labels: Sequence[str] | None = None,
    ) -> list[str]:
        y_texts = tick_labels(y_ticks)
        # Long tick labels (0.9925) push the plot right, clear of the rotated y label (x ~ 8-20).
        widest = max((_tick_width(t, 11) for t in y_texts), default=0.0)
        self.left = max(self.left, (20.0 if y_label else 4.0) + widest + 6.0)
        parts = ['<g class="axes" font-size="11" fill="' + _MUTED + '">']
        for t, text in zip(y_ticks, y_texts, strict=True):
            yy = _n(self.y(t))
            parts.append(
                f'<line x1="{_n(self.left)}" x2="{_n(self.right)}" y1="{yy}" y2="{yy}" '
                f'stroke="{_GRID}" stroke-width="1"/>'
            )
            parts.append(
                f'<text x="{_n(self.left - 6)}" y="{yy}" text-anchor="end" '
                f'dominant-baseline="middle">{_e(text)}</text>'
            )
        if x_ticks is not None:
            labels = x_tick_labels or tick_labels(x_ticks)
            for t, text in zip(x_ticks, labels, strict=False):
                xx = _n(self.x(t))
                parts.append(
                    f'<line x1="{xx}" x2="{xx}" y1="{_n(self.bottom)}" '
                    f'y2="{_n(self.bottom + 4)}" stroke="{_MUTED}" stroke-width="1"/>'
                )
                parts.append(
                    f'<text x="{xx}" y="{_n(self.bottom + 16)}" text-anchor="middle">'
                    f"{_e(text)}</text>"
                )
        parts.append(
            f'<line x1="{_n(self.left)}" x2="{_n(self.right)}" y1="{_n(self.bottom)}" '
            f'y2="{_n(self.bottom)}" stroke="{_MUTED}" stroke-width="1"/>'
        )
        if x_label:
            parts.append(
                f'<text x="{_n((self.left + self.right) / 2)}" y="{_n(self.height - 8)}" '
                f'text-anchor="middle" fill="{_INK}" font-size="12">{_e(x_label)}</text>'
            )
        if y_label:
            cy = (self.top + self.bottom) / 2
            parts.append(
                f'<text x="14" y="{_n(cy)}" text-anchor="middle" fill="{_INK}" font-size="12" '
                f'transform="rotate(-90 14 {_n(cy)})">{_e(y_label)}</text>'
            )
        parts.append("</g>")
        return parts


def _open(width: float, height: float, title: str, description: str) -> list[str]:
    label = f"{title}. {description}" if description else title
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" role="img" aria-label="{_e(label)}" '
        f'class="chart" {_FONT}>',
        f"<title>{_e(label)}</title>",
    ]
    if title:
        parts.append(
            f'<text x="{_n(_ML)}" y="18" font-size="13" font-weight="600" fill="{_INK}">'
            f"{_e(title)}</text>"
        )
    return parts


def _note(width: float, height: float, text: str) -> str:
    return (
        f'<text x="{_n(width / 2)}" y="{_n(height / 2)}" text-anchor="middle" '
        f'font-size="12" fill="{_MUTED}">{_e(text)}</text>'
    )


def histogram(
    values: ArrayLike,
    *,
    bins: int = 20,
    value_range: tuple[float, float] = (0.0, 1.0),
    title: str = "",
    x_label: str = "",
    y_label: str = "cases",
    color: str = PALETTE[0],
    width: float = 360,
    height: float = 220,
) -> str:
    """Histogram of the finite values as an SVG string; NaN and infinite values are counted apart.

    Parameters
    ----------
    values : array_like of float
        The values (any shape; flattened). NaN and infinite values are not drawn; their numbers
        are written, apart, above the chart.
    bins : int, optional
        Number of equal-width bins over ``value_range``; one ``<rect class="bar">`` each (empty
        bins have height 0). The last bin includes its right edge.
    value_range : (float, float), optional
        The range binned; values outside it go to the first or last bin.
    title, x_label, y_label : str, optional
        Texts (escaped).
    color : str, optional
        Bar colour (a CSS colour written by the caller, not user data).
    width, height : float, optional
        Size of the viewBox in CSS pixels.

    Returns
    -------
    str
        One ``<svg>`` element.

    Raises
    ------
    InputError
        If ``bins < 1`` or the range is empty.

    Examples
    --------
    >>> svg = histogram([0.1, 0.15, 0.9, np.nan], bins=4, title="IoU")
    >>> svg.count('class="bar"')
    4
    >>> "1 undefined (NaN) left out (not drawn)" in svg
    True
    >>> "1 infinite" in histogram([0.5, np.inf], bins=2)
    True
    """
    if bins < 1:
        fail(f"`bins` must be >= 1, got {bins!r}.")
    lo, hi = float(value_range[0]), float(value_range[1])
    if not hi > lo:
        fail(f"`value_range` must be increasing, got {value_range!r}.")
    arr = _floats("values", values)
    finite = arr[np.isfinite(arr)]
    n_nan = int(np.isnan(arr).sum())
    n_inf = int(np.isinf(arr).sum())
    counts, edges = np.histogram(np.clip(finite, lo, hi), bins=bins, range=(lo, hi))
    y_ticks = _count_ticks(int(counts.max(initial=0)))  # whole counts, the top one >= every bar
    frame = _Frame(width, height, (lo, hi), (0.0, y_ticks[-1]))
    left_out = [
        text
        for n, text in ((n_nan, f"{n_nan} undefined (NaN) left out"), (n_inf, f"{n_inf} infinite"))
        if n
    ]
    note = " · ".join(left_out) + " (not drawn)" if left_out else ""
    beside = _text_width(title, 13, bold=True) + 12 + _text_width(note, 11) <= frame.right - _ML
    if note and not beside:  # under the title, the plot moved down to make room
        frame.top = _MT + 12
    desc = f"{finite.size} values in {bins} bins from {_label(lo)} to {_label(hi)}"
    parts = _open(width, height, title, desc)
    x_ticks = [
        t for t in nice_ticks(lo, hi, 5) if lo - 1e-9 * (hi - lo) <= t <= hi + 1e-9 * (hi - lo)
    ]
    parts += frame.grid(x_ticks, y_ticks, x_label, y_label)
    parts.append(f'<g fill="{_e(color)}">')
    for k, c in enumerate(counts):
        x_a, x_b = frame.x(edges[k]), frame.x(edges[k + 1])
        y_top = frame.y(float(c))
        closing = "]" if k == bins - 1 else ")"
        tip = f"[{_label(edges[k])}, {_label(edges[k + 1])}{closing}: {int(c)}"
        parts.append(
            f'<rect class="bar" x="{_n(x_a + 0.75)}" y="{_n(y_top)}" '
            f'width="{_n(max(x_b - x_a - 1.5, 0.5))}" height="{_n(frame.bottom - y_top)}" '
            f'rx="1.5"><title>{_e(tip)}</title></rect>'
        )
    parts.append("</g>")
    if note:
        parts.append(
            f'<text x="{_n(frame.right)}" y="{18 if beside else 32}" text-anchor="end" '
            f'font-size="11" fill="{_MUTED}">{_e(note)}</text>'
        )
    if finite.size == 0:
        parts.append(_note(width, height, "no finite values"))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: ArrayLike | Sequence[float | None],
    *,
    value_range: tuple[float, float] | None = (0.0, 1.0),
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    color: str = PALETTE[0],
    width: float = 360,
    height: float = 220,
) -> str:
    """Vertical bar chart; undefined (NaN/None) values are marked "n/a" (or "–"), infinite ones "∞".

    Parameters
    ----------
    labels : sequence of str
        One label per bar (escaped), written under it; when they would overlap, only every
        k-th is written (all are in the bars' tooltips).
    values : array_like of float
        One value per label; ``None`` or NaN draws no bar, nor does an infinite value. One
        ``<rect class="bar">`` per finite value, with the value written over it when every
        value fits the width of its bar's slot.
    value_range : (float, float) or None, optional
        The y range; ``None`` fits it to the values (from 0).
    title, x_label, y_label : str, optional
        Texts (escaped).
    color : str, optional
        Bar colour.
    width, height : float, optional
        Size of the viewBox in CSS pixels.

    Returns
    -------
    str
        One ``<svg>`` element.

    Raises
    ------
    InputError
        If ``labels`` and ``values`` differ in length.

    Examples
    --------
    >>> svg = bar_chart(["bg", "cat", "dog"], [0.9, None, 0.5], title="IoU per class")
    >>> svg.count('class="bar"'), "n/a" in svg
    (2, True)
    """
    raw = [math.nan if v is None else v for v in np.asarray(values, dtype=object).ravel()]
    arr = np.asarray(raw, dtype=np.float64)
    if len(labels) != arr.size:
        fail(f"`labels` and `values` must have the same length, got {len(labels)} and {arr.size}.")
    finite = arr[np.isfinite(arr)]
    if value_range is None:
        top = float(finite.max(initial=0.0))
        y_ticks = nice_ticks(min(0.0, float(finite.min(initial=0.0))), top if top > 0 else 1.0, 5)
    else:
        y_ticks = nice_ticks(*value_range, 5)
    n = max(arr.size, 1)
    frame = _Frame(width, height, (0.0, float(n)), (y_ticks[0], y_ticks[-1]))
    slot = (frame.right - frame.left) / n
    values_text = [f"{v:.3f}" for v in arr]
    # Values written over the bars when each fits its slot; room made for them under the title.
    with_values = all(_text_width(t, 10) + 4 <= slot for t in values_text)
    if with_values:
        frame.top = _MT + 10
    desc = f"{arr.size} bars, {int(np.isnan(arr).sum())} undefined"
    parts = _open(width, height, title, desc)
    centers = [k + 0.5 for k in range(arr.size)]
    # Every step-th class is named, so that no two names overlap.
    widest = max((_text_width(str(lab), 11) for lab in labels), default=0.0)
    step = max(1, math.ceil((widest + 6) / slot))
    shown = [str(lab) if k % step == 0 else "" for k, lab in enumerate(labels)]
    parts += frame.grid(centers, y_ticks, x_label, y_label, x_tick_labels=shown)
    slot = (frame.right - frame.left) / n  # again: long tick labels may have moved the plot
    bar_w = min(slot * 0.7, 48.0)
    base = frame.y(max(y_ticks[0], 0.0))
    parts.append(f'<g fill="{_e(color)}">')
    for k, v in enumerate(arr):
        cx = frame.x(k + 0.5)
        if not math.isfinite(v):
            what, mark = (
                ("undefined", "n/a") if math.isnan(v) else ("infinite", "∞" if v > 0 else "−∞")
            )
            if _text_width(mark, 11) + 2 > slot:  # narrow slots: a dash (the tooltip says why)
                mark = "–" if math.isnan(v) else mark[-1]
            parts.append(
                f"<g><title>{_e(labels[k])}: {what}</title>"
                f'<text x="{_n(cx)}" y="{_n(base - 6)}" text-anchor="middle" font-size="11" '
                f'fill="{_MUTED}">{mark}</text></g>'
            )
            continue
        y_v = frame.y(float(v))
        parts.append(
            f'<rect class="bar" x="{_n(cx - bar_w / 2)}" y="{_n(min(y_v, base))}" '
            f'width="{_n(bar_w)}" height="{_n(abs(base - y_v))}" rx="1.5">'
            f"<title>{_e(labels[k])}: {_e(_label(float(v)))}</title></rect>"
        )
        if with_values:
            parts.append(
                f'<text x="{_n(cx)}" y="{_n(min(y_v, base) - 4)}" text-anchor="middle" '
                f'font-size="10" fill="{_INK}">{_e(values_text[k])}</text>'
            )
    parts.append("</g></svg>")
    return "".join(parts)


_ASCENT, _DESCENT = 0.8, 0.25  # of the font size, around the baseline (with room to spare)
_HALO = 1.5  # the white outline drawn around a point's name
_Anchor = Literal["start", "middle", "end"]
_Box = tuple[float, float, float, float]


def place_label(
    point: tuple[float, float],
    text_width: float,
    points: ArrayLike,
    *,
    bounds: tuple[float, float, float, float],
    font_size: float = 11.0,
    radius: float = 3.5,
    own_radius: float = 6.75,
) -> tuple[float, float, _Anchor, _Box]:
    """Where to write a point's name: beside it, clear of the other points, inside ``bounds``.

    The candidates are eight places around the point (right, left, the four diagonals, above,
    below) at 10, 20, 34 and 50 px, in that order of preference; the first whose box (the text,
    its white outline and ``_ASCENT``/``_DESCENT`` of the font size around the baseline) lies in
    ``bounds`` and meets no point is taken. If every candidate meets a point, the one that
    meets the fewest is taken (the earliest among equals).

    Parameters
    ----------
    point : (float, float)
        The named point's centre, in SVG units (y down).
    text_width : float
        The width of the text, e.g. estimated from its length.
    points : array_like of float, shape (N, 2)
        The centres of the other points.
    bounds : (float, float, float, float)
        ``(left, top, right, bottom)`` that the text's box must stay in (the plot area).
    font_size : float, optional
        Font size of the text.
    radius, own_radius : float, optional
        Radii of the other points and of the named point (with its outline).

    Returns
    -------
    x, y : float
        The text's anchor point (``y`` is its baseline).
    anchor : {'start', 'middle', 'end'}
        Its ``text-anchor``.
    box : (float, float, float, float)
        The box it covers, ``(left, top, right, bottom)``.

    Examples
    --------
    A point with a neighbour on its right gets its name on its left:

    >>> x, y, anchor, box = place_label((100.0, 100.0), 40.0, [[125.0, 98.0]],
    ...                                 bounds=(0.0, 0.0, 300.0, 200.0))
    >>> x, y, anchor
    (90.0, 103.025, 'end')
    """
    px, py = float(point[0]), float(point[1])
    centres = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    up, down = _ASCENT * font_size + _HALO, _DESCENT * font_size + _HALO
    middle = (_ASCENT - _DESCENT) / 2 * font_size  # baseline offset that centres the text
    left, top, right, bottom = bounds
    best: tuple[int, tuple[float, float, _Anchor, _Box]] | None = None
    for d in (10.0, 20.0, 34.0, 50.0):
        e = d * 0.8  # the diagonals: far enough for the corner of the box to clear the point
        candidates: tuple[tuple[float, float, _Anchor], ...] = (
            (px + d, py + middle, "start"),
            (px - d, py + middle, "end"),
            (px + e, py - e, "start"),
            (px - e, py - e, "end"),
            (px + e, py + e + middle * 2, "start"),
            (px - e, py + e + middle * 2, "end"),
            (px, py - d, "middle"),
            (px, py + d + _ASCENT * font_size, "middle"),
        )
        for tx, ty, anchor in candidates:
            x0 = {"start": tx, "middle": tx - text_width / 2, "end": tx - text_width}[anchor]
            box: _Box = (x0 - _HALO, ty - up, x0 + text_width + _HALO, ty + down)
            if box[0] < left or box[2] > right or box[1] < top or box[3] > bottom:
                continue
            near_x = np.clip(centres[:, 0], box[0], box[2])
            near_y = np.clip(centres[:, 1], box[1], box[3])
            hits = int(np.sum(np.hypot(centres[:, 0] - near_x, centres[:, 1] - near_y) < radius))
            own_x, own_y = min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])
            hits += int(math.hypot(px - own_x, py - own_y) < own_radius)
            if best is None or hits < best[0]:
                best = (hits, (tx, ty, anchor, box))
            if hits == 0:
                break
        if best is not None and best[0] == 0:
            break
    if best is None:  # no room anywhere in the bounds: to the right, as before
        x0 = px + 10.0
        return px + 10.0, py + middle, "start", (x0, py - up, x0 + text_width, py + down)
    return best[1]


def scatter(
    x: ArrayLike,
    y: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    highlight: int | None = None,
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] = (0.0, 1.0),
    diagonal: bool = True,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    color: str = PALETTE[0],
    highlight_color: str = PALETTE[3],
    colors: Sequence[str] | None = None,
    legend: Mapping[str, str] | None = None,
    x_scale: Literal["linear", "log"] = "linear",
    width: float = 420,
    height: float = 320,
) -> str:
    """Scatter plot of ``(x[i], y[i])``; pairs with a non-finite coordinate are left out.

    Parameters
    ----------
    x, y : array_like of float, shape (N,)
        Coordinates. One ``<circle class="point">`` per finite pair.
    names : sequence of str, optional
        One name per point, shown as its tooltip (escaped).
    highlight : int, optional
        Index of a point to draw larger, in ``highlight_color``, with its name beside it.
    x_range, y_range : (float, float), optional
        Axis ranges.
    diagonal : bool, optional
        Draw the dashed line ``y = x``.
    title, x_label, y_label : str, optional
        Texts (escaped).
    color, highlight_color : str, optional
        Point colours.
    colors : sequence of str, optional
        One colour per point (escaped), instead of ``color``.
    legend : mapping of str to str, optional
        Label to colour, drawn as a legend above the plot (escaped).
    x_scale : {'linear', 'log'}, optional
        ``'log'``: a base-10 x axis with a tick per power of ten (``x <= 0`` is left out);
        ``x_range`` is then in data units and must be positive.
    width, height : float, optional
        Size of the viewBox in CSS pixels.

    Returns
    -------
    str
        One ``<svg>`` element.

    Raises
    ------
    InputError
        If ``x``, ``y``, ``names`` and ``colors`` differ in length, ``highlight`` is out of
        range, or a log scale has a range that is not positive.

    Examples
    --------
    >>> svg = scatter([0.9, 0.99, np.nan], [0.8, 0.1, 0.5], names=["a", "b", "c"], highlight=1)
    >>> svg.count('class="point')
    2
    """
    xa, ya = _floats("x", x), _floats("y", y)
    if xa.size != ya.size:
        fail(f"`x` and `y` must have the same length, got {xa.size} and {ya.size}.")
    if names is not None and len(names) != xa.size:
        fail(f"`names` must hold one name per point ({xa.size}), got {len(names)}.")
    if highlight is not None and not 0 <= highlight < xa.size:
        fail(f"`highlight` must be an index in [0, {xa.size}), got {highlight!r}.")
    if colors is not None and len(colors) != xa.size:
        fail(f"`colors` must hold one colour per point ({xa.size}), got {len(colors)}.")
    check_option("x_scale", x_scale, ("linear", "log"))
    shown_x = xa  # what the tooltips say; xa becomes the plotted coordinate
    x_ticks = nice_ticks(*x_range, 5)
    x_tick_labels = None
    if x_scale == "log":
        if not 0 < x_range[0] < x_range[1]:
            fail(f"`x_range` must be positive and increasing on a log scale, got {x_range!r}.")
        xa = np.log10(np.where(xa > 0, xa, np.nan))  # x <= 0 is left out, as NaN is
        x_range = (math.log10(x_range[0]), math.log10(x_range[1]))
        x_ticks = [float(e) for e in range(math.ceil(x_range[0]), math.floor(x_range[1]) + 1)]
        x_tick_labels = [_power_of_ten(int(e)) for e in x_ticks]
    ok = np.isfinite(xa) & np.isfinite(ya)
    frame = _Frame(width, height, x_range, y_range)
    if legend:
        frame.top = _MT + 8 + 16 * math.ceil(len(legend) / 3)
    parts = _open(width, height, title, f"{int(ok.sum())} points")
    parts += frame.grid(x_ticks, nice_ticks(*y_range, 5), x_label, y_label, x_tick_labels)
    for k, (name, colour) in enumerate((legend or {}).items()):
        lx, ly = frame.legend_at(k)
        parts.append(
            f'<g class="legend"><circle cx="{_n(lx + 5)}" cy="{_n(ly)}" r="4" '
            f'fill="{_e(colour)}"/><text x="{_n(lx + 14)}" y="{_n(ly + 4)}" font-size="11" '
            f'fill="{_INK}">{_e(name)}</text></g>'
        )
    lo, hi = max(x_range[0], y_range[0]), min(x_range[1], y_range[1])
    if diagonal and hi > lo:  # y = x where the two ranges overlap
        parts.append(
            f'<line x1="{_n(frame.x(lo))}" y1="{_n(frame.y(lo))}" x2="{_n(frame.x(hi))}" '
            f'y2="{_n(frame.y(hi))}" stroke="{_MUTED}" stroke-dasharray="4 4" stroke-width="1">'
            "<title>y = x</title></line>"
        )
    parts.append(f'<g fill="{_e(color)}" fill-opacity="0.55" stroke="{_e(color)}">')
    for i in (int(j) for j in np.flatnonzero(ok)):
        if i == highlight:
            continue
        tip = f"{names[i]}: " if names is not None else ""
        tip += f"({_label(float(shown_x[i]))}, {_label(float(ya[i]))})"
        own = f' fill="{_e(colors[i])}" stroke="{_e(colors[i])}"' if colors is not None else ""
        parts.append(
            f'<circle class="point" cx="{_n(frame.x(float(xa[i])))}" '
            f'cy="{_n(frame.y(float(ya[i])))}" r="3.5"{own}><title>{_e(tip)}</title></circle>'
        )
    parts.append("</g>")
    if highlight is not None and ok[highlight]:
        hx, hy = frame.x(float(xa[highlight])), frame.y(float(ya[highlight]))
        name = names[highlight] if names is not None else f"point {highlight}"
        tip = f"{name}: ({_label(float(shown_x[highlight]))}, {_label(float(ya[highlight]))})"
        shown = name if len(name) <= 28 else name[:27] + "…"
        others = [i for i in np.flatnonzero(ok).tolist() if i != highlight]
        centres = np.array(
            [[frame.x(float(xa[i])), frame.y(float(ya[i]))] for i in others], dtype=np.float64
        ).reshape(-1, 2)
        bounds = (frame.left, frame.top, width - 2.0, frame.bottom)
        tx, ty, anchor, box = place_label(
            (hx, hy), _text_width(shown, 11, bold=True), centres, bounds=bounds
        )
        parts.append(
            f'<circle class="point highlight" cx="{_n(hx)}" cy="{_n(hy)}" r="6" '
            f'fill="{_e(highlight_color)}" stroke="#fff" stroke-width="1.5">'
            f"<title>{_e(tip)}</title></circle>"
            f'<text class="highlight-name" x="{_n(tx)}" y="{_n(ty)}" text-anchor="{anchor}" '
            f'font-size="11" font-weight="600" fill="{_INK}" stroke="#fff" stroke-width="3" '
            f'paint-order="stroke">{_e(shown)}</text>'
        )
        near_x = min(max(hx, box[0]), box[2])
        near_y = min(max(hy, box[1]), box[3])
        gap = math.hypot(near_x - hx, near_y - hy)
        if gap > 14:  # far from its point: a leader line joins them
            ux, uy = (near_x - hx) / gap, (near_y - hy) / gap
            parts.append(
                f'<line class="leader" x1="{_n(hx + 7 * ux)}" y1="{_n(hy + 7 * uy)}" '
                f'x2="{_n(near_x)}" y2="{_n(near_y)}" stroke="{_MUTED}" stroke-width="1"/>'
            )
    if not ok.any():
        parts.append(_note(width, height, "no finite points"))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    x: ArrayLike,
    series: Mapping[str, ArrayLike],
    *,
    y_range: tuple[float, float] | None = None,
    marker_x: float | None = None,
    marker_label: str = "",
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: float = 420,
    height: float = 260,
) -> str:
    """Line chart of several series over a shared ``x``, with a legend.

    Parameters
    ----------
    x : array_like of float, shape (N,)
        The shared x values (increasing).
    series : mapping of str to array_like of float, shape (N,)
        Name (escaped, shown in the legend) to values; NaN breaks the line. One
        ``<path class="series">`` per series, coloured from :data:`PALETTE` in order.
    y_range : (float, float) or None, optional
        The y range; ``None`` fits it to the data.
    marker_x : float, optional
        Draw a vertical marker line here (e.g. the chosen threshold), labelled ``marker_label``.
    marker_label : str, optional
        Text beside the marker (escaped).
    title, x_label, y_label : str, optional
        Texts (escaped).
    width, height : float, optional
        Size of the viewBox in CSS pixels.

    Returns
    -------
    str
        One ``<svg>`` element.

    Raises
    ------
    InputError
        If a series' length differs from ``x``.

    Examples
    --------
    >>> svg = line_chart([1, 2, 3], {"loss": [0.9, 0.5, 0.4], "val": [1.0, 0.7, np.nan]})
    >>> svg.count('class="series"')
    2
    """
    xa = _floats("x", x)
    ys = {str(k): _floats(f"series[{k!r}]", v) for k, v in series.items()}
    for key, vals in ys.items():
        if vals.size != xa.size:
            fail(f"`series[{key!r}]` must have {xa.size} values like `x`, got {vals.size}.")
    x_fin = xa[np.isfinite(xa)]
    x_lo = float(x_fin.min()) if x_fin.size else 0.0
    x_hi = float(x_fin.max()) if x_fin.size else 1.0
    x_ticks = nice_ticks(x_lo, x_hi, 6)  # of the data's range (``initial=0`` widened it to 0)
    x_ticks = [t for t in x_ticks if x_lo - 1e-9 <= t <= x_hi + 1e-9] or [x_lo, x_hi]
    if y_range is None:
        all_y = np.concatenate([v[np.isfinite(v)] for v in ys.values()] or [np.zeros(0)])
        y_ticks = nice_ticks(float(all_y.min(initial=0.0)), float(all_y.max(initial=1.0)), 5)
    else:
        y_ticks = nice_ticks(*y_range, 5)
    frame = _Frame(
        width, height, (x_lo, x_hi if x_hi > x_lo else x_lo + 1), (y_ticks[0], y_ticks[-1])
    )
    frame.top = _MT + 8 + 16 * math.ceil(len(ys) / 3)
    parts = _open(width, height, title, f"{len(ys)} series over {xa.size} points")
    parts += frame.grid(x_ticks, y_ticks, x_label, y_label)
    if marker_x is not None and math.isfinite(marker_x):
        mx = _n(frame.x(marker_x))
        parts.append(
            f'<line class="marker" x1="{mx}" x2="{mx}" y1="{_n(frame.top)}" '
            f'y2="{_n(frame.bottom)}" stroke="{_INK}" stroke-dasharray="3 3" stroke-width="1"/>'
        )
        if marker_label:
            anchor, dx = (
                ("end", -5)
                if frame.x(marker_x) > frame.x(x_lo) + 0.6 * (frame.right - frame.left)
                else ("start", 5)
            )
            parts.append(
                f'<text x="{_n(frame.x(marker_x) + dx)}" y="{_n(frame.top + 12)}" '
                f'text-anchor="{anchor}" font-size="11" fill="{_INK}">{_e(marker_label)}</text>'
            )
    for k, (name, v) in enumerate(ys.items()):
        colour = PALETTE[k % len(PALETTE)]
        dash = ("", ' stroke-dasharray="6 3"', ' stroke-dasharray="2 3"')[k % 3]
        segments: list[str] = []
        pen_down = False
        for xi, yi in zip(xa, v, strict=True):
            if not (math.isfinite(xi) and math.isfinite(yi)):
                pen_down = False
                continue
            segments.append(f"{'L' if pen_down else 'M'}{_n(frame.x(xi))} {_n(frame.y(yi))}")
            pen_down = True
        path = " ".join(segments) or "M0 0"
        parts.append(
            f'<path class="series" d="{path}" fill="none" stroke="{colour}" stroke-width="2"'
            f'{dash} stroke-linejoin="round" stroke-linecap="round"><title>{_e(name)}</title></path>'
        )
        if xa.size <= 40:
            for xi, yi in zip(xa, v, strict=True):
                if math.isfinite(xi) and math.isfinite(yi):
                    tip = f"{name}: ({_label(xi)}, {_label(yi)})"
                    parts.append(
                        f'<circle cx="{_n(frame.x(xi))}" cy="{_n(frame.y(yi))}" r="2.2" '
                        f'fill="{colour}"><title>{_e(tip)}</title></circle>'
                    )
        lx, ly = frame.legend_at(k)
        parts.append(
            f'<g class="legend"><line x1="{_n(lx)}" x2="{_n(lx + 18)}" y1="{_n(ly)}" '
            f'y2="{_n(ly)}" stroke="{colour}" stroke-width="2.5"{dash}/>'
            f'<text x="{_n(lx + 23)}" y="{_n(ly + 4)}" font-size="11" fill="{_INK}">'
            f"{_e(name)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)

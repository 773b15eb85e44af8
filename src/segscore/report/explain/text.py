"""Small masks drawn as text, and numbers written the same way in every explanation."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "OVERLAY_LEGEND",
    "draw_labels",
    "draw_overlay",
    "fmt",
    "parse_grid",
    "side_by_side",
    "table",
    "wrap",
]

WIDTH = 92
"""Width of wrapped prose (the rendering indents it, staying within 100 columns)."""

OVERLAY_LEGEND = "# tp (both), + fp (prediction only), - fn (target only), . tn (neither)"
"""What the characters of :func:`draw_overlay` mean."""


def parse_grid(text: str, symbols: str = ".#") -> NDArray[np.int64]:
    """Read a mask drawn as text: the ``k``-th character of ``symbols`` is the value ``k``.

    Examples
    --------
    >>> parse_grid('''
    ... .#.
    ... ##.
    ... ''')
    array([[0, 1, 0],
           [1, 1, 0]])
    """
    rows = [line.strip() for line in text.strip().splitlines()]
    return np.asarray([[symbols.index(ch) for ch in row] for row in rows], dtype=np.int64)


def draw_labels(mask: Any, symbols: str = ".#") -> list[str]:
    """Draw a 2-D mask: value ``k`` as the ``k``-th character of ``symbols``.

    Examples
    --------
    >>> draw_labels(np.array([[0, 1], [2, 0]]), ".ab")
    ['.a', 'b.']
    """
    a = np.asarray(mask)
    return ["".join(symbols[int(v)] for v in row) for row in a]


def draw_overlay(pred: Any, target: Any) -> list[str]:
    """Draw two binary masks over each other with the characters of :data:`OVERLAY_LEGEND`.

    Examples
    --------
    >>> draw_overlay(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 1, 0]]))
    ['#+-.']
    """
    p = np.asarray(pred).astype(bool)
    t = np.asarray(target).astype(bool)
    codes = np.where(p & t, 0, np.where(p, 1, np.where(t, 2, 3)))
    return draw_labels(codes, "#+-.")


def side_by_side(blocks: Sequence[tuple[str, Sequence[str]]], *, gap: int = 3) -> list[str]:
    """Put titled blocks of lines next to each other.

    Examples
    --------
    >>> side_by_side([("a", ["..", "#."]), ("bb", ["#"])], gap=1)
    ['a  bb', '.. #', '#.']
    """
    widths = [max(len(title), *(len(line) for line in lines)) for title, lines in blocks]
    height = max(len(lines) for _, lines in blocks)
    rows = []
    for i in range(-1, height):
        cells = []
        for (title, lines), width in zip(blocks, widths, strict=True):
            cell = title if i < 0 else (lines[i] if i < len(lines) else "")
            cells.append(cell.ljust(width))
        rows.append((" " * gap).join(cells).rstrip())
    return rows


def fmt(value: Any, digits: int = 4) -> str:
    """Write a score: ``digits`` decimals, ``NaN``, ``inf``; a pair as ``(a, b)``.

    Examples
    --------
    >>> fmt(2 / 3), fmt(float("nan")), fmt(np.inf), fmt(np.array([0.5, np.nan])), fmt(3)
    ('0.6667', 'NaN', 'inf', '(0.5000, NaN)', '3')
    >>> fmt([0.25, 1.0], digits=2)
    '(0.25, 1.00)'
    """
    a = np.asarray(value)
    if a.ndim > 0 and a.size > 1:
        return "(" + ", ".join(fmt(v, digits) for v in a.ravel()) + ")"
    v = a.item() if a.ndim == 0 else a.ravel()[0].item()
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    x = float(v)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}f}"


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, align: str = "", gap: int = 2
) -> list[str]:
    """Align columns of text.

    ``align`` has one ``l`` or ``r`` per column (default: the first left-aligned, the others
    right-aligned).

    Examples
    --------
    >>> table(["rule", "value"], [["pooled", "0.5000"], ["x", "1"]])
    ['rule     value', 'pooled  0.5000', 'x            1']
    >>> table(["a", "b"], [["1", "xyz"]], align="rl")
    ['a  b', '1  xyz']
    """
    n = len(header)
    sides = align or "l" + "r" * (n - 1)
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(n)]
    out = []
    for r in [header, *rows]:
        cells = [
            str(c).ljust(w) if side == "l" else str(c).rjust(w)
            for c, w, side in zip(r, widths, sides, strict=True)
        ]
        out.append((" " * gap).join(cells).rstrip())
    return out


def wrap(text: str, *, indent: str = "") -> list[str]:
    """Wrap a paragraph to :data:`WIDTH` columns, continuation lines indented by ``indent``.

    Examples
    --------
    >>> wrap("word " * 30, indent="  ")[1]
    '  word word word word word word word word word word word word'
    """
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]

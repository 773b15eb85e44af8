"""Multiclass overlays: each class in its own colour, and where prediction and ground truth differ.

A multiclass case is drawn as panels side by side, at the same scale:
``[image |] ground truth | prediction | errors``.

- **ground truth** and **prediction** fill every pixel with the colour of its class, opaque, so a
  class's colour on screen is exactly its legend colour (and the dataset's own colour when a
  palette was given: the panels then look like the dataset's colour masks);
- **errors** shows where the two disagree: a pixel whose predicted class differs from its
  ground-truth class is drawn in :data:`ERROR_COLOR` (black), a correct pixel in its class colour
  faded towards white (:data:`CORRECT_FADE`), so the errors stand out while the faded classes say
  where they are;
- pixels of the ignore label (``ignore_index`` in the ground truth, or in the prediction) are
  drawn in every panel as diagonal stripes of
  :data:`~segscore.report.overlay.IGNORE_COLORS`, a pattern no class colour
  can be mistaken for; they are not errors (they are not scored).

Why panels rather than one contour per class on one image: with many classes, per-class
contours of two label maps cross and hide each other, and a wrong class inside a correct
boundary (a confusion, the common multiclass error) draws no contour at all. Filled panels show
both label maps in full, and the errors panel shows every disagreement, confusions included.

Colours (:class:`ClassStyle`): the dataset's palette when the run has one (``--palette``, or a
built-in label set's colours); otherwise :data:`DEFAULT_CLASS_COLORS`: class 0 (background by
convention) light gray, classes 1, 2, ... the seven non-black Okabe–Ito colours then Paul Tol's
nine "muted" colours (colour-blind safe), repeating after 16 classes (the legend names each).

Pillow is not needed here; :func:`segscore.report.overlay.rgb_data_uri` encodes the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from segscore._validation import fail
from segscore.report.overlay import _background, _scale_for, ignore_stripes

__all__ = [
    "BACKGROUND_CLASS_COLOR",
    "CORRECT_FADE",
    "DEFAULT_CLASS_COLORS",
    "ERROR_COLOR",
    "PANEL_GAP",
    "ClassStyle",
    "class_panels_rgb",
    "hstack_panels",
    "present_classes",
]

Colour = tuple[int, int, int]
_T = TypeVar("_T", bound=np.generic)

#: Class 0 without a dataset palette (background by convention): light gray.
BACKGROUND_CLASS_COLOR = "#D9D9D9"
#: Classes 1, 2, ... without a dataset palette: Okabe–Ito (no black), then Tol "muted".
DEFAULT_CLASS_COLORS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)
#: Pixels whose predicted class differs from the ground truth's, in the errors panel.
ERROR_COLOR = "#000000"
#: A correct pixel in the errors panel: its class colour mixed with this much white.
CORRECT_FADE = 0.7
#: White pixels between two panels.
PANEL_GAP = 4


def _hex(colour: Colour) -> str:
    return "#{:02X}{:02X}{:02X}".format(*colour)


def _rgb(hex_color: str) -> Colour:
    return (int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16))


@dataclass(frozen=True)
class ClassStyle:
    """The name and colour of each class of a multiclass run, and its ignore label.

    Parameters
    ----------
    num_classes : int
        Number of classes ``C`` (labels ``0 .. C-1``).
    names : tuple of str, optional
        One name per class; without it (or past its end) a class is ``'class k'``.
    colours : tuple of (r, g, b), optional
        The colour of each class (the dataset's palette); classes past its end, and every class
        without it, take the default colours (module docstring).
    ignore_index : int, optional
        Label drawn as the ignore stripes and never as an error.
    source : str, optional
        Where the colours come from, said in the legend (e.g. ``"palette 'voc'"``).

    Raises
    ------
    InputError
        If ``num_classes`` is below 2 or a colour is not three integers in [0, 255].

    Examples
    --------
    >>> s = ClassStyle(3, names=("bg", "road"))
    >>> s.name(1), s.name(2), s.hex(0), s.hex(1)
    ('road', 'class 2', '#D9D9D9', '#E69F00')
    """

    num_classes: int
    names: tuple[str, ...] | None = None
    colours: tuple[Colour, ...] | None = None
    ignore_index: int | None = None
    source: str = "segscore's categorical palette"

    def __post_init__(self) -> None:
        if self.num_classes < 2:
            fail(f"`num_classes` must be >= 2 for class colours, got {self.num_classes!r}.")
        for c in self.colours or ():
            if len(c) != 3 or not all(isinstance(v, int) and 0 <= v <= 255 for v in c):
                fail(f"`colours` must be (r, g, b) integers in [0, 255], got {c!r}.")

    def name(self, k: int) -> str:
        """Return the name of class ``k`` (``'class k'`` when it has none)."""
        if self.names is not None and 0 <= k < len(self.names) and self.names[k]:
            return self.names[k]
        return f"class {k}"

    def colour(self, k: int) -> Colour:
        """Return the (r, g, b) colour of class ``k``."""
        if self.colours is not None and 0 <= k < len(self.colours):
            return self.colours[k]
        if k == 0:
            return _rgb(BACKGROUND_CLASS_COLOR)
        return _rgb(DEFAULT_CLASS_COLORS[(k - 1) % len(DEFAULT_CLASS_COLORS)])

    def hex(self, k: int) -> str:
        """Return the colour of class ``k`` as ``'#RRGGBB'``."""
        return _hex(self.colour(k))

    def lut(self, size: int) -> NDArray[np.uint8]:
        """Return a ``(size, 3)`` table of the colours of classes ``0 .. size-1``."""
        return np.array([self.colour(k) for k in range(size)], dtype=np.uint8).reshape(size, 3)


def _labels(name: str, labels: object) -> NDArray[np.int64]:
    arr = np.asarray(labels)
    if arr.ndim != 2 or arr.size == 0 or arr.dtype.kind not in "iub":
        fail(f"`{name}` must be a non-empty 2-D integer label map, got {arr.dtype} {arr.shape}.")
    return arr.astype(np.int64)


def present_classes(
    target: NDArray[np.generic], pred: NDArray[np.generic], *, ignore_index: int | None = None
) -> list[int]:
    """Return the sorted class labels found in ``target`` or ``pred``, the ignore label left out.

    Parameters
    ----------
    target, pred : ndarray of int
        Label maps of any (equal or not) shapes.
    ignore_index : int, optional
        Label not listed.

    Returns
    -------
    list of int
        Labels in increasing order.

    Examples
    --------
    >>> present_classes(np.array([0, 2, 255]), np.array([3, 0]), ignore_index=255)
    [0, 2, 3]
    """
    found = np.union1d(np.unique(np.asarray(target)), np.unique(np.asarray(pred)))
    return [int(k) for k in found if ignore_index is None or int(k) != ignore_index]


def _enlarge(a: NDArray[_T], k: int) -> NDArray[_T]:
    return a if k == 1 else np.repeat(np.repeat(a, k, axis=0), k, axis=1)


def class_panels_rgb(
    target: NDArray[np.generic],
    pred: NDArray[np.generic],
    style: ClassStyle,
    image: NDArray[np.floating] | None = None,
    *,
    display: int = 256,
) -> NDArray[np.uint8]:
    """Draw ``[image |] ground truth | prediction | errors`` side by side, as one RGB array.

    Parameters
    ----------
    target : ndarray of int, shape (H, W)
        Ground-truth label map.
    pred : ndarray of int, shape (H, W)
        Predicted label map.
    style : ClassStyle
        Class colours and the ignore label.
    image : ndarray of float, shape (H, W) or (H, W, 3), optional
        Input image in [0, 1] (clipped; NaN black), drawn as a first panel.
    display : int, optional
        Each panel is enlarged by an integer factor ``k`` (nearest neighbour, at most 16) until
        its longer side reaches about this many pixels.

    Returns
    -------
    ndarray of uint8, shape (k*H, n*k*W + (n-1)*PANEL_GAP, 3)
        The ``n`` panels (3, or 4 with an image), separated by :data:`PANEL_GAP` white columns.

    Raises
    ------
    InputError
        If a label map is not 2-D integers, the maps differ in shape, or ``image`` does not
        match them.

    Notes
    -----
    A pixel is an error when ``pred != target`` and neither is the ignore label. Ignore
    pixels are striped: on the enlarged grid, pixel ``(r, c)`` takes ``IGNORE_COLORS[0]`` when
    ``(r + c) // 4`` is even, else ``IGNORE_COLORS[1]``. A correct pixel of class ``k`` in the
    errors panel is ``round((1 - f) * colour_k + f * 255)`` with ``f = CORRECT_FADE``.

    Examples
    --------
    >>> t = np.array([[0, 1], [2, 255]]); p = np.array([[0, 2], [2, 255]])
    >>> rgb = class_panels_rgb(t, p, ClassStyle(3, ignore_index=255), display=2)
    >>> rgb.shape
    (2, 14, 3)
    >>> rgb[0, 1].tolist(), rgb[0, 7].tolist(), rgb[0, 13].tolist()  # gt 1, pred 2, error
    ([230, 159, 0], [86, 180, 233], [0, 0, 0])
    """
    t = _labels("target", target)
    p = _labels("pred", pred)
    if t.shape != p.shape:
        fail(f"`pred` and `target` must have the same shape, got {p.shape} and {t.shape}.")
    if display < 1:
        fail(f"`display` must be >= 1, got {display!r}.")
    background = None if image is None else _background(t != 0, image)
    k = _scale_for(t.shape, display)
    t, p = _enlarge(t, k), _enlarge(p, k)
    ignore = style.ignore_index
    t_ignored = np.zeros(t.shape, bool) if ignore is None else t == ignore
    p_ignored = np.zeros(p.shape, bool) if ignore is None else p == ignore
    top = int(max(t.max(), p.max(), 0)) + 1
    lut = style.lut(top)
    stripes = ignore_stripes(t.shape)

    def painted(labels: NDArray[np.int64], ignored: NDArray[np.bool_]) -> NDArray[np.uint8]:
        out = lut[np.clip(labels, 0, top - 1)]
        out[ignored] = stripes[ignored]
        return out

    gt_panel = painted(t, t_ignored)
    pred_panel = painted(p, p_ignored)
    faded = np.round((1.0 - CORRECT_FADE) * lut + CORRECT_FADE * 255.0).astype(np.uint8)
    err_panel = faded[np.clip(t, 0, top - 1)]
    wrong = (t != p) & ~t_ignored & ~p_ignored
    err_panel[wrong] = _rgb(ERROR_COLOR)
    either = t_ignored | p_ignored
    err_panel[either] = stripes[either]
    panels: list[NDArray[np.uint8]] = []
    if background is not None:
        panels.append(_enlarge(np.round(background * 255.0).astype(np.uint8), k))
    panels += [gt_panel, pred_panel, err_panel]
    return hstack_panels(panels)


def hstack_panels(panels: Sequence[NDArray[np.uint8]]) -> NDArray[np.uint8]:
    """Place RGB panels left to right, top-aligned, separated by :data:`PANEL_GAP` white columns.

    Parameters
    ----------
    panels : sequence of ndarray of uint8, shape (H_i, W_i, 3)
        At least one panel.

    Returns
    -------
    ndarray of uint8, shape (max H_i, sum W_i + gaps, 3)
        White where no panel is.

    Examples
    --------
    >>> hstack_panels([np.zeros((2, 1, 3), np.uint8), np.zeros((1, 2, 3), np.uint8)]).shape
    (2, 7, 3)
    """
    if not panels:
        fail("`panels` must hold at least one panel, got none.")
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + PANEL_GAP * (len(panels) - 1)
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    x = 0
    for panel in panels:
        out[: panel.shape[0], x : x + panel.shape[1]] = panel
        x += panel.shape[1] + PANEL_GAP
    return out

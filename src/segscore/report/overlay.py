"""Contour overlays of a prediction on its ground truth, as PNG bytes or a ``data:`` URI.

The background is the input image when there is one, otherwise the ground-truth mask in gray.
The ground-truth contour is drawn just **outside** the ground-truth region and the predicted
contour just **inside** the predicted region, so where the two boundaries coincide both lines
stay visible side by side. The colours are a colour-blind-safe pair from the Okabe–Ito palette:
blue for the ground truth, orange for the prediction.

Objects (``evaluate --instances``) are drawn by :func:`object_overlay_rgb` in the same way, one
colour per fate (Okabe–Ito): bluish green for matched objects, vermillion for missed target
objects (false negatives), reddish purple for false-positive predictions. Target objects are
outlined just outside (and, where two touch, just inside along the contact), predicted objects
just inside; missed targets and false positives are also filled with a translucent tint.

Pillow is imported only when a PNG is encoded, so ``import segscore`` stays light.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from segscore._validation import fail

__all__ = [
    "FALSE_POSITIVE_COLOR",
    "IGNORE_COLORS",
    "MATCHED_COLOR",
    "MISSED_COLOR",
    "PRED_COLOR",
    "TARGET_COLOR",
    "CaseObjects",
    "ignore_stripes",
    "object_overlay_rgb",
    "overlay_data_uri",
    "overlay_png",
    "overlay_rgb",
    "rgb_data_uri",
]

#: Ground-truth contour colour (Okabe–Ito blue).
TARGET_COLOR = "#0072B2"
#: Predicted contour colour (Okabe–Ito orange).
PRED_COLOR = "#E69F00"
#: Matched objects, target and prediction (Okabe–Ito bluish green).
MATCHED_COLOR = "#009E73"
#: Target objects without a match: false negatives (Okabe–Ito vermillion).
MISSED_COLOR = "#D55E00"
#: Predicted objects without a match: false positives (Okabe–Ito reddish purple).
FALSE_POSITIVE_COLOR = "#CC79A7"
#: Opacity of the tint over missed targets and false positives.
ERROR_FILL_ALPHA = 0.4
#: The two colours of the ignore label's diagonal stripes.
IGNORE_COLORS = ("#FFFFFF", "#8C8C8C")
_STRIPE = 4  # stripe width in displayed pixels

_BACKGROUND_GRAY = 0.93
_TARGET_GRAY = 0.62


def _rgb(hex_color: str) -> NDArray[np.uint8]:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)


def _as_mask(name: str, mask: object) -> NDArray[np.bool_]:
    arr = np.asarray(mask)
    if arr.ndim != 2:
        fail(f"`{name}` must be a 2-D mask (H, W), got shape {arr.shape}.")
    if arr.size == 0:
        fail(f"`{name}` must not be empty, got shape {arr.shape}.")
    return arr.astype(bool)


def _background(
    target: NDArray[np.bool_], image: NDArray[np.floating] | None
) -> NDArray[np.float64]:
    """Float RGB background in [0, 1], shape (H, W, 3)."""
    if image is None:
        gray = np.where(target, _TARGET_GRAY, _BACKGROUND_GRAY)
        return np.repeat(gray[..., None], 3, axis=2)
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if (
        img.shape[:2] != target.shape
        or img.ndim not in (2, 3)
        or (img.ndim == 3 and img.shape[2] != 3)
    ):
        fail(
            "`image` must have shape (H, W) or (H, W, 3) matching the masks "
            f"{target.shape}, got {img.shape}."
        )
    img = np.nan_to_num(np.clip(img, 0.0, 1.0), nan=0.0)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img


def ignore_stripes(shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """Return the ignore label's diagonal stripes over an image of ``shape`` (H, W).

    Pixel ``(r, c)`` is ``IGNORE_COLORS[0]`` when ``(r + c) // 4`` is even, else
    ``IGNORE_COLORS[1]``.

    Parameters
    ----------
    shape : tuple of int
        ``(H, W)`` (further axes are ignored).

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        The stripes.

    Examples
    --------
    >>> ignore_stripes((1, 5))[0, :, 0].tolist()
    [255, 255, 255, 255, 140]
    """
    rows, cols = np.indices(shape[:2])
    lut = np.stack([_rgb(c) for c in IGNORE_COLORS])
    out: NDArray[np.uint8] = lut[((rows + cols) // _STRIPE) % 2]
    return out


def _scale_for(shape: tuple[int, ...], display: int) -> int:
    """Integer upscaling factor so that the longer side reaches about ``display`` pixels."""
    return max(1, min(16, math.ceil(display / max(shape))))


def overlay_rgb(
    target: NDArray[np.bool_],
    pred: NDArray[np.bool_],
    image: NDArray[np.floating] | None = None,
    *,
    display: int = 256,
    ignore: NDArray[np.bool_] | None = None,
) -> NDArray[np.uint8]:
    """Draw the ground-truth and predicted contours over the image, as an RGB array.

    Parameters
    ----------
    target : ndarray of bool, shape (H, W)
        Ground-truth mask.
    pred : ndarray of bool, shape (H, W)
        Predicted mask.
    image : ndarray of float, shape (H, W) or (H, W, 3), optional
        Input image in [0, 1] (clipped; NaN drawn black). ``None`` draws the ground truth in gray
        on a light background.
    display : int, optional
        Small masks are enlarged by an integer factor (nearest neighbour, at most 16) until the
        longer side reaches about this many pixels, so the contours stay crisp.
    ignore : ndarray of bool, shape (H, W), optional
        Pixels of the ignore label (not scored): drawn as the gray and white stripes of
        :func:`ignore_stripes`; both masks are taken as empty
        there, as the scores take them.

    Returns
    -------
    ndarray of uint8, shape (k*H, k*W, 3)
        The overlay; ``k`` is the enlargement factor.

    Raises
    ------
    InputError
        If a mask is not 2-D, the masks (or ``ignore``) differ in shape, or ``image`` does not
        match them.

    Notes
    -----
    Contours are morphological: the ground-truth line is ``dilate(T) & ~T`` and the predicted
    line ``P & ~erode(P)`` on the enlarged masks (3×3 structuring element, repeated for
    thickness), with the outside of the image counted as background.

    Examples
    --------
    >>> t = np.zeros((4, 4), bool); t[1:3, 1:3] = True
    >>> rgb = overlay_rgb(t, t, display=4)
    >>> rgb.shape, rgb.dtype.name
    ((4, 4, 3), 'uint8')
    >>> rgb[1, 1].tolist(), rgb[0, 0].tolist()  # inside: prediction line; outside: ground truth
    ([230, 159, 0], [0, 114, 178])
    """
    from scipy import ndimage

    t = _as_mask("target", target)
    p = _as_mask("pred", pred)
    if t.shape != p.shape:
        fail(f"`pred` and `target` must have the same shape, got {p.shape} and {t.shape}.")
    if display < 1:
        fail(f"`display` must be >= 1, got {display!r}.")
    skip = None if ignore is None else _as_mask("ignore", ignore)
    if skip is not None and skip.shape != t.shape:
        fail(f"`ignore` must have the shape of the masks {t.shape}, got {skip.shape}.")
    if skip is not None:
        t, p = t & ~skip, p & ~skip
    background = _background(t, image)
    k = _scale_for(t.shape, display)
    if k > 1:
        t = np.repeat(np.repeat(t, k, axis=0), k, axis=1)
        p = np.repeat(np.repeat(p, k, axis=0), k, axis=1)
        background = np.repeat(np.repeat(background, k, axis=0), k, axis=1)
        if skip is not None:
            skip = np.repeat(np.repeat(skip, k, axis=0), k, axis=1)
    thickness = max(1, round(max(t.shape) / 96))
    structure = np.ones((3, 3), dtype=bool)
    t_line = ndimage.binary_dilation(t, structure, iterations=thickness) & ~t
    p_line = p & ~ndimage.binary_erosion(p, structure, iterations=thickness, border_value=0)
    out = np.round(background * 255.0).astype(np.uint8)
    if skip is not None and skip.any():
        out[skip] = ignore_stripes(skip.shape)[skip]
    out[t_line] = _rgb(TARGET_COLOR)
    out[p_line] = _rgb(PRED_COLOR)
    return out


def overlay_png(
    target: NDArray[np.bool_],
    pred: NDArray[np.bool_],
    image: NDArray[np.floating] | None = None,
    *,
    display: int = 256,
) -> bytes:
    r"""Encode :func:`overlay_rgb` as PNG bytes (Pillow).

    Parameters
    ----------
    target, pred, image, display
        As in :func:`overlay_rgb`.

    Returns
    -------
    bytes
        A PNG file.

    Raises
    ------
    InputError
        As in :func:`overlay_rgb`.

    Examples
    --------
    >>> overlay_png(np.eye(3, dtype=bool), np.eye(3, dtype=bool))[:8]
    b'\x89PNG\r\n\x1a\n'
    """
    return _png(overlay_rgb(target, pred, image, display=display))


def _png(rgb: NDArray[np.uint8]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def overlay_data_uri(
    target: NDArray[np.bool_],
    pred: NDArray[np.bool_],
    image: NDArray[np.floating] | None = None,
    *,
    display: int = 256,
    ignore: NDArray[np.bool_] | None = None,
) -> str:
    """Encode the overlay as a ``data:image/png;base64,...`` URI for an ``<img src>``.

    Parameters
    ----------
    target, pred, image, display, ignore
        As in :func:`overlay_rgb`.

    Returns
    -------
    str
        The data URI (only base64 characters after the comma: safe in an HTML attribute).

    Raises
    ------
    InputError
        As in :func:`overlay_rgb`.

    Examples
    --------
    >>> overlay_data_uri(np.eye(3, dtype=bool), np.eye(3, dtype=bool))[:22]
    'data:image/png;base64,'
    """
    return rgb_data_uri(overlay_rgb(target, pred, image, display=display, ignore=ignore))


def rgb_data_uri(rgb: NDArray[np.uint8]) -> str:
    """Encode an RGB image as a PNG ``data:`` URI (e.g. :func:`object_overlay_rgb`'s).

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        The image.

    Returns
    -------
    str
        ``data:image/png;base64,...`` (only base64 characters after the comma).

    Examples
    --------
    >>> rgb_data_uri(np.zeros((2, 2, 3), np.uint8))[:22]
    'data:image/png;base64,'
    """
    return "data:image/png;base64," + base64.b64encode(_png(rgb)).decode("ascii")


@dataclass(frozen=True)
class CaseObjects:
    """The objects of one case and what became of them, for :func:`object_overlay_rgb`.

    Attributes
    ----------
    target_labels : ndarray of int, shape (H, W)
        0 where there is no target object, ``k`` on the pixels of the ``k``-th target object
        (``k`` = 1 .. G).
    pred_labels : ndarray of int, shape (H, W)
        The same for the predicted objects (1 .. P).
    target_matched : ndarray of bool, shape (G,)
        Whether target object ``k`` (at index ``k - 1``) was matched; else it was missed.
    pred_matched : ndarray of bool, shape (P,)
        Whether predicted object ``k`` was matched; else it is a false positive.

    Examples
    --------
    >>> o = CaseObjects(np.array([[1, 0, 2]]), np.array([[1, 0, 0]]),
    ...                 np.array([True, False]), np.array([True]))
    >>> int(o.target_matched.sum()), int(o.pred_matched.size)
    (1, 1)
    """

    target_labels: NDArray[np.integer]
    pred_labels: NDArray[np.integer]
    target_matched: NDArray[np.bool_]
    pred_matched: NDArray[np.bool_]


def _labels(
    name: str, labels: object, matched: object
) -> tuple[NDArray[np.signedinteger[Any]], NDArray[np.bool_]]:
    arr = np.asarray(labels)
    if arr.ndim != 2 or arr.size == 0 or arr.dtype.kind not in "iub":
        fail(f"`{name}_labels` must be a non-empty 2-D integer array, got {arr.dtype} {arr.shape}.")
    flags = np.asarray(matched, dtype=bool).reshape(-1)
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > flags.size):
        fail(
            f"`{name}_labels` must lie in [0, {flags.size}] (one flag per object in "
            f"`{name}_matched`), got [{int(arr.min())}, {int(arr.max())}]."
        )
    return arr.astype(np.int32 if flags.size < 2**31 - 1 else np.int64), flags  # int32: faster


def _blend(out: NDArray[np.float64], where: NDArray[np.bool_], colour: str, alpha: float) -> None:
    """Tint ``out`` towards ``colour`` by ``alpha`` where ``where`` holds (in place)."""
    out += (alpha * where)[..., None] * (_rgb(colour) / 255.0 - out)


def object_overlay_rgb(
    objects: CaseObjects,
    image: NDArray[np.floating] | None = None,
    *,
    display: int = 256,
) -> NDArray[np.uint8]:
    """Draw each object in the colour of its fate: matched, missed or false positive.

    Parameters
    ----------
    objects : CaseObjects
        The label maps and the matched flags of one case.
    image : ndarray of float, shape (H, W) or (H, W, 3), optional
        Input image in [0, 1]; ``None`` draws the target objects in gray, as
        :func:`overlay_rgb` does.
    display : int, optional
        As in :func:`overlay_rgb`.

    Returns
    -------
    ndarray of uint8, shape (k*H, k*W, 3)
        The overlay.

    Raises
    ------
    InputError
        If a label map is not 2-D integers, the maps differ in shape, a label has no flag, or
        ``image`` does not match.

    Notes
    -----
    On the enlarged maps, with a square window ``w`` of side ``2 * thickness + 1`` (the same
    lines as :func:`overlay_rgb`'s, per object): a target object's line is the background
    pixels within ``w`` of it, plus its own pixels within ``w`` of another target object; a
    predicted object's line is its own pixels within ``w`` of anything else (outside the image
    counts as background). Missed targets and false positives are first tinted with their
    colour at opacity :data:`ERROR_FILL_ALPHA`; predicted lines are drawn last.

    Examples
    --------
    >>> t = np.zeros((6, 6), int); t[1:3, 1:3] = 1; t[4:6, 4:6] = 2
    >>> o = CaseObjects(t, (t == 1).astype(int), np.array([True, False]), np.array([True]))
    >>> rgb = object_overlay_rgb(o, display=6)
    >>> rgb[1, 1].tolist(), rgb[3, 5].tolist()   # matched: green; just outside a miss: vermillion
    ([0, 158, 115], [213, 94, 0])
    """
    from scipy import ndimage

    t, t_matched = _labels("target", objects.target_labels, objects.target_matched)
    p, p_matched = _labels("pred", objects.pred_labels, objects.pred_matched)
    if t.shape != p.shape:
        fail(
            f"`pred_labels` and `target_labels` must have the same shape, got {p.shape} and "
            f"{t.shape}."
        )
    if display < 1:
        fail(f"`display` must be >= 1, got {display!r}.")
    out = _background(t > 0, image)
    k = _scale_for(t.shape, display)
    if k > 1:
        t, p = (np.repeat(np.repeat(a, k, axis=0), k, axis=1) for a in (t, p))
        out = np.repeat(np.repeat(out, k, axis=0), k, axis=1)
    size = 2 * max(1, round(max(t.shape) / 96)) + 1
    big = max(int(t.max()), int(p.max())) + 1
    # target status per pixel: 0 none, 1 matched, 2 missed (likewise 1 matched, 2 false positive)
    t_status = np.concatenate([[0], np.where(t_matched, 1, 2)])
    p_status = np.concatenate([[0], np.where(p_matched, 1, 2)])
    _blend(out, t_status[t] == 2, MISSED_COLOR, ERROR_FILL_ALPHA)
    _blend(out, p_status[p] == 2, FALSE_POSITIVE_COLOR, ERROR_FILL_ALPHA)
    rgb = np.round(out * 255.0).astype(np.uint8)
    t_max = ndimage.maximum_filter(t, size=size, mode="constant", cval=0)
    t_min = ndimage.minimum_filter(np.where(t == 0, big, t), size=size, mode="constant", cval=big)
    outside = (t == 0) & (t_max > 0)
    contact = (t > 0) & ((t_max > t) | (t_min < t))
    line_t = np.where(outside, t_max, np.where(contact, t, 0))  # the object each line belongs to
    p_max = ndimage.maximum_filter(p, size=size, mode="constant", cval=0)
    p_min = ndimage.minimum_filter(p, size=size, mode="constant", cval=0)
    line_p = np.where((p > 0) & ((p_max != p) | (p_min != p)), p, 0)
    for status, line, colour in (
        (t_status, line_t, (MATCHED_COLOR, MISSED_COLOR)),
        (p_status, line_p, (MATCHED_COLOR, FALSE_POSITIVE_COLOR)),
    ):
        fate = status[line]
        rgb[fate == 1] = _rgb(colour[0])
        rgb[fate == 2] = _rgb(colour[1])
    return rgb

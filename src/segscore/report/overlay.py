"""Contour overlays of a prediction on its ground truth, as PNG bytes or a ``data:`` URI.

The background is the input image when there is one, otherwise the ground-truth mask in gray.
The ground-truth contour is drawn just **outside** the ground-truth region and the predicted
contour just **inside** the predicted region, so where the two boundaries coincide both lines
stay visible side by side. The colours are a colour-blind-safe pair from the Okabe–Ito palette:
blue for the ground truth, orange for the prediction.

Pillow is imported only when a PNG is encoded, so ``import segscore`` stays light.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from numpy.typing import NDArray

from segscore._validation import fail

__all__ = ["PRED_COLOR", "TARGET_COLOR", "overlay_data_uri", "overlay_png", "overlay_rgb"]

#: Ground-truth contour colour (Okabe–Ito blue).
TARGET_COLOR = "#0072B2"
#: Predicted contour colour (Okabe–Ito orange).
PRED_COLOR = "#E69F00"

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


def _scale_for(shape: tuple[int, ...], display: int) -> int:
    """Integer upscaling factor so that the longer side reaches about ``display`` pixels."""
    return max(1, min(16, math.ceil(display / max(shape))))


def overlay_rgb(
    target: NDArray[np.bool_],
    pred: NDArray[np.bool_],
    image: NDArray[np.floating] | None = None,
    *,
    display: int = 256,
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

    Returns
    -------
    ndarray of uint8, shape (k*H, k*W, 3)
        The overlay; ``k`` is the enlargement factor.

    Raises
    ------
    InputError
        If a mask is not 2-D, the masks differ in shape, or ``image`` does not match them.

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
    background = _background(t, image)
    k = _scale_for(t.shape, display)
    if k > 1:
        t = np.repeat(np.repeat(t, k, axis=0), k, axis=1)
        p = np.repeat(np.repeat(p, k, axis=0), k, axis=1)
        background = np.repeat(np.repeat(background, k, axis=0), k, axis=1)
    thickness = max(1, round(max(t.shape) / 96))
    structure = np.ones((3, 3), dtype=bool)
    t_line = ndimage.binary_dilation(t, structure, iterations=thickness) & ~t
    p_line = p & ~ndimage.binary_erosion(p, structure, iterations=thickness, border_value=0)
    out = np.round(background * 255.0).astype(np.uint8)
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
    from PIL import Image

    rgb = overlay_rgb(target, pred, image, display=display)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def overlay_data_uri(
    target: NDArray[np.bool_],
    pred: NDArray[np.bool_],
    image: NDArray[np.floating] | None = None,
    *,
    display: int = 256,
) -> str:
    """Encode the overlay as a ``data:image/png;base64,...`` URI for an ``<img src>``.

    Parameters
    ----------
    target, pred, image, display
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
    data = overlay_png(target, pred, image, display=display)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")

"""Raw pixels to network input: float32, channels first, values in [0, 1]."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from segscore._validation import check_int, check_ndim, check_not_empty, fail

__all__ = ["to_unit_range"]


def to_unit_range(
    image: NDArray[np.generic], *, max_value: int | None = None
) -> NDArray[np.float32]:
    """Scale raw pixels to float32 in [0, 1], channels first.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        Raw pixels as read from a file, ``C`` = 1 or 3. bool, unsigned integers or floats.
    max_value : int, optional
        The declared top of the integer range, e.g. 4095 for a 12-bit camera stored in uint16.
        Defaults to the dtype's maximum (255 for uint8, 65535 for uint16, ...). Not allowed
        for float or bool images.

    Returns
    -------
    ndarray of float32, shape (C, H, W)
        ``image / max_value`` for integers, ``image`` unchanged in value for floats, 0 and 1 for
        bool. A new array; the input is not modified.

    Raises
    ------
    InputError
        If the shape or dtype is not supported, an integer pixel exceeds ``max_value``, or a float
        image holds values outside [0, 1] or NaN.

    Notes
    -----
    The scaling uses the *declared* range of the data type, never the image's own minimum and
    maximum: a dim 16-bit image stays dim, and the same pixel value always maps to the same
    input. Data stored in a wider type than it needs (12-bit in uint16, or the DSB2018 nuclei
    whose uint16 values lie in 0–235) should pass ``max_value`` or be stored in the narrower type.

    Examples
    --------
    >>> to_unit_range(np.array([[0, 150, 255]], dtype=np.uint8))
    array([[[0.       , 0.5882353, 1.       ]]], dtype=float32)
    >>> to_unit_range(np.array([[0, 4095]], dtype=np.uint16), max_value=4095)
    array([[[0., 1.]]], dtype=float32)
    >>> to_unit_range(np.zeros((2, 2, 3), dtype=np.uint8)).shape
    (3, 2, 2)
    """
    array = np.asarray(image)
    check_ndim("image", array.shape, (2, 3), "(H, W) or (H, W, C)")
    check_not_empty("image", array.shape)
    if array.ndim == 3 and array.shape[2] not in (1, 3):
        fail(f"`image` must have 1 or 3 channels (last axis), got shape {array.shape}.")
    if array.dtype == np.bool_:
        if max_value is not None:
            fail(f"`max_value` must be None for a bool image, got {max_value!r}.")
        scaled = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.unsignedinteger):
        top = (
            np.iinfo(array.dtype).max
            if max_value is None
            else check_int("max_value", max_value, low=1)
        )
        found = int(array.max())
        if found > top:
            fail(f"`image` must have values <= `max_value` = {top}, got a maximum of {found}.")
        scaled = (array.astype(np.float64) / top).astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        if max_value is not None:
            fail(f"`max_value` must be None for a float image, got {max_value!r}.")
        low, high = float(np.min(array)), float(np.max(array))
        if not (np.isfinite(low) and np.isfinite(high)) or low < 0.0 or high > 1.0:
            fail(
                f"`image` of dtype {array.dtype} must hold values in [0, 1], "
                f"got values in [{low:g}, {high:g}]."
            )
        scaled = array.astype(np.float32)
    else:
        fail(f"`image` must have dtype bool, an unsigned integer or a float, got {array.dtype}.")
    if scaled.ndim == 2:
        return np.ascontiguousarray(scaled[np.newaxis])
    return np.ascontiguousarray(np.moveaxis(scaled, 2, 0))

from __future__ import annotations

import numpy as np
import pytest

from segscore.data import to_unit_range
from segscore.errors import InputError


def test_uint8() -> None:
    out = to_unit_range(np.array([[0, 150, 255]], dtype=np.uint8))
    assert out.dtype == np.float32
    assert out.shape == (1, 1, 3)
    np.testing.assert_allclose(out[0, 0], [0.0, 150 / 255, 1.0], rtol=1e-7)
    assert abs(float(out[0, 0, 1]) - 0.588) < 1e-3


def test_uint16_declared_range() -> None:
    raw = np.array([[0, 235, 65535]], dtype=np.uint16)
    np.testing.assert_allclose(to_unit_range(raw)[0, 0], [0, 235 / 65535, 1], rtol=1e-7)
    twelve = np.array([[0, 2048, 4095]], dtype=np.uint16)
    np.testing.assert_allclose(to_unit_range(twelve, max_value=4095)[0, 0], [0, 2048 / 4095, 1])


def test_rgb_channels_first_and_input_untouched() -> None:
    raw = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    copy = raw.copy()
    out = to_unit_range(raw)
    assert out.shape == (3, 2, 4)
    assert out.flags.c_contiguous
    np.testing.assert_allclose(out[1], raw[:, :, 1] / 255)
    np.testing.assert_array_equal(raw, copy)


def test_single_channel_last_axis() -> None:
    assert to_unit_range(np.zeros((2, 3, 1), np.uint8)).shape == (1, 2, 3)


def test_float_and_bool() -> None:
    raw = np.array([[0.0, 0.25, 1.0]], dtype=np.float64)
    out = to_unit_range(raw)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0], raw)
    np.testing.assert_array_equal(to_unit_range(np.eye(2, dtype=bool))[0], np.eye(2))


@pytest.mark.parametrize(
    ("image", "kwargs", "message"),
    [
        (np.array([[0.0, 1.5]]), {}, r"values in \[0, 1\], got values in \[0, 1\.5\]"),
        (np.array([[0.0, np.nan]]), {}, r"values in \[0, 1\]"),
        (np.array([[0, 5000]], np.uint16), {"max_value": 4095}, "maximum of 5000"),
        (np.array([[0, 1]], np.int32), {}, "must have dtype bool, an unsigned integer or a float"),
        (np.zeros((2, 2, 4), np.uint8), {}, "1 or 3 channels"),
        (np.zeros(4, np.uint8), {}, "`image` must have 2 or 3 axes"),
        (np.zeros((0, 3), np.uint8), {}, "must not be empty"),
        (np.zeros((2, 2)), {"max_value": 1}, "`max_value` must be None for a float image"),
        (np.zeros((2, 2), np.uint8), {"max_value": 0}, "`max_value` must be an integer >= 1"),
        (np.zeros((2, 2), bool), {"max_value": 1}, "`max_value` must be None for a bool image"),
    ],
)
def test_errors(image: np.ndarray, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        to_unit_range(image, **kwargs)  # type: ignore[arg-type]

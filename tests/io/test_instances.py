from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.errors import DatasetError, InputError
from segscore.io import read_instances, read_mask, write_instances

RNG = np.random.default_rng(1)


@pytest.mark.parametrize("high", [3, 255, 256, 65535])
def test_write_read_round_trip_always_16bit(tmp_path: Path, high: int) -> None:
    labels = RNG.integers(0, high + 1, size=(7, 9))
    labels[0, 0] = high
    path = tmp_path / "sub" / "objects.png"
    write_instances(path, labels)
    with Image.open(path) as file:
        assert file.mode == "I;16"
    out = read_instances(path)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.int64, np.bool_])
def test_write_instances_integer_dtypes(tmp_path: Path, dtype: type) -> None:
    labels = np.array([[0, 1], [1, 0]]).astype(dtype)
    if dtype is np.bool_:
        with pytest.raises(InputError, match="`labels` must have an integer dtype, got bool"):
            write_instances(tmp_path / "a.png", labels)
        return
    write_instances(tmp_path / "a.png", labels)
    np.testing.assert_array_equal(read_instances(tmp_path / "a.png"), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.zeros((2, 2, 2), np.int64), r"`labels` must .*\(H, W\)"),
        (np.zeros((2, 2), np.float32), "`labels` must have an integer dtype, got float32"),
        (np.array([[0, -1]]), r"values in 0..65535 to be stored as PNG, got \[-1, 0\]"),
        (np.array([[0, 65536]]), r"values in 0..65535 to be stored as PNG, got \[0, 65536\]"),
    ],
)
def test_write_instances_errors(tmp_path: Path, labels: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        write_instances(tmp_path / "a.png", labels)
    assert not (tmp_path / "a.png").exists()


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_read_instances_8bit_files_and_formats(tmp_path: Path, suffix: str) -> None:
    labels = np.array([[0, 9, 9], [200, 0, 1]], np.uint8)
    Image.fromarray(labels).save(tmp_path / f"a{suffix}")
    np.testing.assert_array_equal(read_instances(tmp_path / f"a{suffix}"), labels)
    np.testing.assert_array_equal(
        read_mask(tmp_path / f"a{suffix}", layout="instances"), (labels > 0).astype(np.int64)
    )


def test_read_instances_palette_gives_indices(tmp_path: Path) -> None:
    img = Image.fromarray(np.array([[0, 4], [4, 2]], np.uint8), mode="L").convert("P")
    img.putpalette([0, 0, 0] + [255, 0, 0] * 255)
    img.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_instances(tmp_path / "p.png"), [[0, 4], [4, 2]])


def test_read_instances_refuses_rgb_fractions_negatives(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(DatasetError, match=r"'.*rgb.png' must be a single-channel mask"):
        read_instances(tmp_path / "rgb.png")
    Image.fromarray(np.array([[0.0, 1.5]], np.float32)).save(tmp_path / "frac.tif")
    with pytest.raises(DatasetError, match="must hold integer mask values"):
        read_instances(tmp_path / "frac.tif")
    Image.fromarray(np.array([[0.0, -2.0]], np.float32)).save(tmp_path / "neg.tif")
    with pytest.raises(DatasetError, match=r"must hold object ids >= 0 .* got minimum -2.0"):
        read_instances(tmp_path / "neg.tif")
    with pytest.raises(DatasetError, match=r"must hold object ids >= 0"):
        read_mask(tmp_path / "neg.tif", layout="instances")
    with pytest.raises(DatasetError, match="must be an existing image file, got no such file"):
        read_instances(tmp_path / "missing.png")


def test_read_mask_instances_refuses_ignore_index(tmp_path: Path) -> None:
    write_instances(tmp_path / "a.png", np.array([[0, 3]]))
    with pytest.raises(
        InputError, match="`ignore_index` must be None for layout 'instances', got 3"
    ):
        read_mask(tmp_path / "a.png", layout="instances", ignore_index=3)
    with pytest.raises(InputError, match="`num_classes` must be None for layout 'instances'"):
        read_mask(tmp_path / "a.png", layout="instances", num_classes=4)

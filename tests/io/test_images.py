from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.errors import DatasetError, InputError
from segscore.io import read_image, read_mask, write_mask_png, write_probabilities

RNG = np.random.default_rng(0)
GRAY8 = RNG.integers(0, 256, size=(6, 5), dtype=np.uint8)
RGB8 = RNG.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
GRAY16 = RNG.integers(0, 65536, size=(6, 5), dtype=np.uint16)


def _save(path: Path, array: np.ndarray, **kwargs: object) -> Path:
    Image.fromarray(array).save(path, **kwargs)
    return path


# --- read_image: every format ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff", ".bmp"])
@pytest.mark.parametrize("array", [GRAY8, RGB8], ids=["gray", "rgb"])
def test_read_image_lossless_formats(tmp_path: Path, suffix: str, array: np.ndarray) -> None:
    path = _save(tmp_path / f"a{suffix}", array)
    out = read_image(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg"])
def test_read_image_jpeg(tmp_path: Path, suffix: str) -> None:
    array = np.full((8, 8, 3), 120, dtype=np.uint8)
    out = read_image(_save(tmp_path / f"a{suffix}", array, quality=95))
    assert out.shape == (8, 8, 3)
    assert out.dtype == np.uint8
    assert np.abs(out.astype(int) - 120).max() <= 2


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_read_image_16bit(tmp_path: Path, suffix: str) -> None:
    path = _save(tmp_path / f"a{suffix}", GRAY16)
    with Image.open(path) as img:
        assert img.mode.startswith("I")
    out = read_image(path)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, GRAY16)


def test_read_image_float_tiff(tmp_path: Path) -> None:
    array = np.array([[0.0, 0.5], [0.25, 1.0]], dtype=np.float32)
    out = read_image(_save(tmp_path / "f.tif", array))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, array)


def test_read_image_rgba_and_palette_become_rgb(tmp_path: Path) -> None:
    rgba = np.dstack([RGB8, np.full((6, 5), 7, np.uint8)])
    np.testing.assert_array_equal(read_image(_save(tmp_path / "a.png", rgba)), RGB8)
    img = Image.fromarray(RGB8).quantize(colors=4)
    img.save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png")
    np.testing.assert_array_equal(out, np.asarray(img.convert("RGB")))


def test_read_image_1bit(tmp_path: Path) -> None:
    Image.fromarray(np.eye(3, dtype=bool)).save(tmp_path / "b.png")
    np.testing.assert_array_equal(read_image(tmp_path / "b.png"), np.eye(3, dtype=np.uint8) * 255)


def test_read_image_32bit_integer_within_16bit(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 4095]], dtype=np.int32)).save(tmp_path / "i.tif")
    out = read_image(tmp_path / "i.tif")
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, [[0, 4095]])


def test_read_image_32bit_integer_out_of_range(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 70000]], dtype=np.int32)).save(tmp_path / "big.tif")
    with pytest.raises(DatasetError, match=r"big\.tif.*0\.\.65535.*70000"):
        read_image(tmp_path / "big.tif")


# --- read_image: errors name the file -----------------------------------------------------------


def test_read_image_missing(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope\.png.*no such file"):
        read_image(tmp_path / "nope.png")


def test_read_image_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(DatasetError, match=r"text\.png.*cannot identify"):
        read_image(tmp_path / "text.png")


def test_read_image_truncated(tmp_path: Path) -> None:
    path = _save(tmp_path / "cut.png", RNG.integers(0, 256, (64, 64), dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"cut\.png.*corrupt or truncated"):
        read_image(path)


def test_dataset_error_is_input_error() -> None:
    assert issubclass(DatasetError, InputError)
    assert issubclass(DatasetError, ValueError)


# --- read_mask -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 255])
@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_read_mask_binary(tmp_path: Path, scale: int, suffix: str) -> None:
    binary = (GRAY8 > 128).astype(np.uint8)
    out = read_mask(_save(tmp_path / f"m{suffix}", binary * np.uint8(scale)))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, binary)


def test_read_mask_all_background(tmp_path: Path) -> None:
    out = read_mask(_save(tmp_path / "m.png", np.zeros((3, 3), np.uint8)))
    np.testing.assert_array_equal(out, 0)


def test_read_mask_binary_16bit(tmp_path: Path) -> None:
    out = read_mask(_save(tmp_path / "m.png", np.array([[0, 1]], dtype=np.uint16)))
    np.testing.assert_array_equal(out, [[0, 1]])


def test_read_mask_binary_bad_values(tmp_path: Path) -> None:
    path = _save(tmp_path / "bad.png", np.array([[0, 1, 2, 7]], dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"bad\.png.*binary.*got values \[0, 1, 2, 7\]"):
        read_mask(path)


def test_read_mask_binary_mixed_1_and_255(tmp_path: Path) -> None:
    path = _save(tmp_path / "mix.png", np.array([[0, 1, 255]], dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"mix\.png.*\[0, 1, 255\]"):
        read_mask(path)


def test_read_mask_binary_with_ignore(tmp_path: Path) -> None:
    path = _save(tmp_path / "m.png", np.array([[0, 1, 255]], dtype=np.uint8))
    np.testing.assert_array_equal(read_mask(path, ignore_index=255), [[0, 1, 255]])
    path = _save(tmp_path / "n.png", np.array([[0, 255, 9]], dtype=np.uint8))
    np.testing.assert_array_equal(read_mask(path, ignore_index=9), [[0, 1, 9]])


def test_read_mask_palette_gives_indices(tmp_path: Path) -> None:
    img = Image.fromarray(np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8), mode="P")
    img.putpalette([0, 0, 0, 200, 10, 10, 10, 200, 10] + [0] * (253 * 3))
    img.save(tmp_path / "p.png")
    out = read_mask(tmp_path / "p.png", layout="multiclass", num_classes=3)
    np.testing.assert_array_equal(out, [[0, 1, 2], [2, 1, 0]])


def test_read_mask_palette_binary(tmp_path: Path) -> None:
    img = Image.fromarray(np.array([[0, 1]], dtype=np.uint8), mode="P")
    img.putpalette([0, 0, 0, 255, 255, 255] + [0] * (254 * 3))
    img.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "p.png"), [[0, 1]])


def test_read_mask_multiclass(tmp_path: Path) -> None:
    path = _save(tmp_path / "l.png", np.array([[0, 3, 4, 255]], dtype=np.uint8))
    out = read_mask(path, layout="multiclass", num_classes=5, ignore_index=255)
    np.testing.assert_array_equal(out, [[0, 3, 4, 255]])


def test_read_mask_multiclass_bad_labels(tmp_path: Path) -> None:
    path = _save(tmp_path / "lab.png", np.array([[0, 3, 4, 9]], dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"lab\.png.*labels in \[0, 4\).*\[0, 3, 4, 9\]"):
        read_mask(path, layout="multiclass", num_classes=4)


def test_read_mask_oxford_pet(tmp_path: Path) -> None:
    trimap = np.array([[1, 2, 3], [3, 2, 1]], dtype=np.uint8)
    path = _save(tmp_path / "pet.png", trimap)
    np.testing.assert_array_equal(read_mask(path, layout="oxford-pet"), [[1, 0, 255], [255, 0, 1]])
    np.testing.assert_array_equal(
        read_mask(path, layout="oxford-pet", ignore_index=9), [[1, 0, 9], [9, 0, 1]]
    )


def test_read_mask_oxford_pet_bad_values(tmp_path: Path) -> None:
    path = _save(tmp_path / "pet.png", np.array([[0, 1, 2]], dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"pet\.png.*trimap.*\[0, 1, 2\]"):
        read_mask(path, layout="oxford-pet")


def test_read_mask_rgb_refused(tmp_path: Path) -> None:
    path = _save(tmp_path / "rgb.png", RGB8)
    with pytest.raises(DatasetError, match=r"rgb\.png.*single-channel.*RGB"):
        read_mask(path)


def test_read_mask_lossy_jpeg_values_reported(tmp_path: Path) -> None:
    noisy = (RNG.random((32, 32)) > 0.5).astype(np.uint8) * np.uint8(255)
    path = _save(tmp_path / "m.jpg", noisy, quality=50)
    with pytest.raises(DatasetError, match=r"m\.jpg.*binary"):
        read_mask(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layout": "trimap"}, "`layout` must be one of"),
        ({"layout": "multiclass"}, "`num_classes` must be given"),
        ({"num_classes": 3}, "`num_classes` must be None for layout 'binary'"),
        ({"layout": "multiclass", "num_classes": 1}, "`num_classes` must be an integer >= 2"),
        ({"ignore_index": 1}, "`ignore_index` must not be 0 or 1"),
        ({"layout": "multiclass", "num_classes": 3, "ignore_index": 2}, "outside \\[0, 3\\)"),
        ({"layout": "oxford-pet", "ignore_index": 0}, "must not be 0 or 1"),
    ],
)
def test_read_mask_option_errors(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    path = _save(tmp_path / "m.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(InputError, match=message):
        read_mask(path, **kwargs)  # type: ignore[arg-type]


# --- writers -------------------------------------------------------------------------------------


def test_write_mask_png_round_trip(tmp_path: Path) -> None:
    labels = np.array([[0, 1, 2], [3, 4, 255]])
    path = tmp_path / "sub" / "m.png"
    write_mask_png(path, labels)
    with Image.open(path) as img:
        assert img.mode == "L"
    np.testing.assert_array_equal(
        read_mask(path, layout="multiclass", num_classes=5, ignore_index=255), labels
    )
    assert [p.name for p in path.parent.iterdir()] == ["m.png"]  # no temp file left


def test_write_mask_png_bool_and_16bit(tmp_path: Path) -> None:
    write_mask_png(tmp_path / "b.png", np.eye(2, dtype=bool))
    np.testing.assert_array_equal(read_image(tmp_path / "b.png"), np.eye(2) * 255)
    write_mask_png(tmp_path / "w.png", np.array([[0, 300]]))
    np.testing.assert_array_equal(read_image(tmp_path / "w.png"), [[0, 300]])


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.zeros(3, np.int64), "`mask` must have 2 axes"),
        (np.array([[0.5]]), "integer or bool dtype"),
        (np.array([[-1, 0]]), r"0\.\.65535.*\[-1, 0\]"),
    ],
)
def test_write_mask_png_errors(tmp_path: Path, mask: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        write_mask_png(tmp_path / "m.png", mask)
    assert list(tmp_path.iterdir()) == []


def test_write_mask_png_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "m.png"
    write_mask_png(path, np.zeros((2, 2), np.uint8))
    write_mask_png(path, np.ones((2, 2), np.uint8))
    np.testing.assert_array_equal(read_mask(path), 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png"]


@pytest.mark.parametrize("shape", [(4, 5), (2, 4, 5)])
def test_write_probabilities_npy(tmp_path: Path, shape: tuple[int, ...]) -> None:
    prob = RNG.random(shape)
    write_probabilities(tmp_path / "p.npy", prob)
    out = np.load(tmp_path / "p.npy")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, prob.astype(np.float32))


def test_write_probabilities_tiff(tmp_path: Path) -> None:
    prob = RNG.random((4, 5)).astype(np.float32)
    write_probabilities(tmp_path / "p.tif", prob)
    np.testing.assert_array_equal(read_image(tmp_path / "p.tif"), prob)
    write_probabilities(tmp_path / "explicit.data", prob, fmt="tiff")
    np.testing.assert_array_equal(read_image(tmp_path / "explicit.data"), prob)


def test_write_probabilities_tiff_pages(tmp_path: Path) -> None:
    prob = RNG.random((3, 4, 5)).astype(np.float32)
    write_probabilities(tmp_path / "p.tiff", prob)
    with Image.open(tmp_path / "p.tiff") as img:
        assert img.n_frames == 3
        pages = []
        for i in range(3):
            img.seek(i)
            pages.append(np.asarray(img))
    np.testing.assert_array_equal(np.stack(pages), prob)


@pytest.mark.parametrize(
    ("name", "prob", "fmt", "message"),
    [
        ("p.png", np.zeros((2, 2)), None, re.escape("`fmt` must be 'npy' or 'tiff'")),
        ("p.npy", np.zeros((2, 2)), "png", "`fmt` must be one of"),
        ("p.npy", np.array([[0.5, 1.5]]), None, r"probabilities in \[0, 1\]"),
        ("p.npy", np.array([[0.5, np.nan]]), None, "finite"),
        ("p.npy", np.zeros((2, 2), np.int64), None, "float dtype"),
        ("p.npy", np.zeros(3), None, "`prob` must have 2 or 3 axes"),
    ],
)
def test_write_probabilities_errors(
    tmp_path: Path, name: str, prob: np.ndarray, fmt: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        write_probabilities(tmp_path / name, prob, fmt)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []

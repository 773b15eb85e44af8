from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.data import load_dataset, load_folder
from segscore.errors import DatasetError, InputError

RNG = np.random.default_rng(0)


def _folder(tmp_path: Path) -> Path:
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir(exist_ok=True)
    return tmp_path


def _pair(
    root: Path,
    stem: str,
    *,
    image_suffix: str = ".png",
    mask_suffix: str = ".png",
    image: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> None:
    if image is None:
        image = RNG.integers(0, 256, (8, 6), dtype=np.uint8)
    if mask is None:
        mask = (RNG.random((8, 6)) > 0.5).astype(np.uint8) * np.uint8(255)
    Image.fromarray(image).save(root / "images" / f"{stem}{image_suffix}")
    Image.fromarray(mask).save(root / "masks" / f"{stem}{mask_suffix}")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"])
def test_every_image_format(tmp_path: Path, suffix: str) -> None:
    root = _folder(tmp_path)
    image = np.full((8, 6), 150, np.uint8)
    mask = np.zeros((8, 6), np.uint8)
    mask[2:5, 1:4] = 1
    _pair(root, "a", image_suffix=suffix, image=image, mask=mask)
    ds = load_folder(root)
    assert ds.names == ["a"]
    assert ds.source == f"folder:{root}"
    assert ds.images[0].shape == (1, 8, 6)
    np.testing.assert_allclose(ds.images[0], 150 / 255, atol=2 / 255)
    np.testing.assert_array_equal(ds.masks[0], mask)


def test_pairs_by_stem_sorted_and_mixed_suffixes(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "b", image_suffix=".jpg", mask_suffix=".png")
    _pair(root, "a", image_suffix=".tif", mask_suffix=".bmp")
    (root / "images" / "README.txt").write_text("not an image")
    (root / "masks" / ".DS_Store").write_bytes(b"\0")
    ds = load_dataset(root)
    assert ds.names == ["a", "b"]
    assert all(m.dtype == np.int64 for m in ds.masks)


def test_16bit_images_scaled_by_declared_range(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(
        root,
        "a",
        image=np.array([[0, 65535], [32768, 1]], np.uint16),
        mask=np.eye(2, dtype=np.uint8),
    )
    np.testing.assert_allclose(
        ds_img := load_folder(root).images[0][0], [[0, 1], [32768 / 65535, 1 / 65535]]
    )
    assert ds_img.dtype == np.float32


def test_rgb_and_gray_mixed_become_rgb(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "gray")
    _pair(root, "rgb", image=RNG.integers(0, 256, (8, 6, 3), dtype=np.uint8))
    ds = load_folder(root)
    assert ds.in_channels == 3
    assert {im.shape for im in ds.images} == {(3, 8, 6)}
    np.testing.assert_array_equal(ds.images[0][0], ds.images[0][2])


def test_multiclass_palette(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    labels = np.array([[0, 1, 2], [2, 255, 0]], dtype=np.uint8)
    img = Image.fromarray(labels, mode="P")
    img.putpalette([i % 256 for i in range(768)])
    Image.fromarray(np.zeros((2, 3), np.uint8)).save(root / "images" / "a.png")
    img.save(root / "masks" / "a.png")
    ds = load_dataset(root, layout="multiclass", num_classes=3, ignore_index=255)
    assert (ds.num_classes, ds.ignore_index) == (3, 255)
    np.testing.assert_array_equal(ds.masks[0], labels)


def test_oxford_pet(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    trimap = np.array([[1, 2], [3, 1]], dtype=np.uint8)
    _pair(
        root, "Abyssinian_1", image_suffix=".jpg", image=np.zeros((2, 2, 3), np.uint8), mask=trimap
    )
    ds = load_dataset(root, layout="oxford-pet")
    assert ds.ignore_index == 255
    assert ds.num_classes is None
    np.testing.assert_array_equal(ds.masks[0], [[1, 0], [255, 1]])


# --- errors: one line, naming the file(s) -------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nowhere.*no such folder"):
        load_dataset(tmp_path / "nowhere")


def test_missing_masks_folder(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    with pytest.raises(DatasetError, match=r"masks.*must exist.*\['images/'\]"):
        load_folder(tmp_path)


def test_no_pairs(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    with pytest.raises(DatasetError, match="at least one image/mask pair"):
        load_folder(root)


def test_images_without_masks_listed(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "c")
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(root / "images" / "a.png")
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(root / "images" / "b.jpg")
    with pytest.raises(DatasetError, match=r"image without mask in .*: a\.png, b\.jpg\.$") as info:
        load_folder(root)
    assert "\n" not in str(info.value)


def test_masks_without_images_listed(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "c")
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(root / "masks" / "z.png")
    with pytest.raises(DatasetError, match=r"mask without image in .*: z\.png\.$"):
        load_folder(root)


def test_same_stem_twice(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "a")
    Image.fromarray(np.zeros((8, 6), np.uint8)).save(root / "images" / "a.tif")
    with pytest.raises(DatasetError, match=r"same stem in .*images.*\(a\.png, a\.tif\)"):
        load_folder(root)


def test_mask_size_differs(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "a", mask=np.zeros((7, 6), np.uint8))
    with pytest.raises(
        DatasetError, match=r"masks/a\.png.*size of its image a\.png.*\(8, 6\).*\(7, 6\)"
    ):
        load_folder(root)


def test_mask_values_not_binary(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "a", mask=np.array([[0, 3], [1, 2]], np.uint8), image=np.zeros((2, 2), np.uint8))
    with pytest.raises(DatasetError, match=r"masks/a\.png.*binary.*\[0, 1, 2, 3\]"):
        load_folder(root)


def test_mask_labels_out_of_range(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "a", mask=np.array([[0, 3], [1, 2]], np.uint8), image=np.zeros((2, 2), np.uint8))
    with pytest.raises(DatasetError, match=r"masks/a\.png.*labels in \[0, 3\)"):
        load_folder(root, layout="multiclass", num_classes=3)


def test_unreadable_image(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _pair(root, "a")
    (root / "images" / "a.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DatasetError, match=r"images/a\.png"):
        load_folder(root)


def test_float_tiff_out_of_range_names_file(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    Image.fromarray(np.array([[0.0, 3.0]], np.float32)).save(root / "images" / "f.tif")
    Image.fromarray(np.zeros((1, 2), np.uint8)).save(root / "masks" / "f.png")
    with pytest.raises(
        DatasetError, match=r"images/f\.tif.*values in \[0, 1\], got values in \[0, 3\]"
    ):
        load_folder(root)


# --- load_dataset: option checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("nuclei", {"n": 4}, "`n` applies only to 'synthetic', not to 'nuclei'"),
        ("nuclei", {"num_classes": 3}, "`num_classes` must be None for the built-in 'nuclei'"),
        ("synthetic", {"ignore_index": 255}, "`ignore_index` must be None for the built-in"),
        ("synthetic", {"layout": "oxford-pet"}, "`layout` must be 'binary'"),
        ("synthetic", {"layout": "bogus"}, "`layout` must be one of"),
    ],
)
def test_load_dataset_option_errors(spec: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_dataset(spec, **kwargs)  # type: ignore[arg-type]


def test_load_dataset_folder_rejects_synthetic_options(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="`size` applies only to 'synthetic', not to a folder"):
        load_dataset(tmp_path, size=64)


def test_load_dataset_synthetic() -> None:
    ds = load_dataset("synthetic", n=3, size=32, seed=2)
    assert ds.source == "synthetic(n=3,size=32,seed=2)"
    assert len(load_dataset("synthetic", n=None, size=16)) == 100


# --- instance label maps ------------------------------------------------------------------------


def test_instances_layout_keeps_ids_and_binarises_masks(tmp_path: Path) -> None:
    from segscore.io import write_instances

    root = _folder(tmp_path)
    labels = {"a": np.array([[0, 7, 7], [300, 0, 1]]), "b": np.zeros((2, 3), np.int64)}
    for stem, ids in labels.items():
        Image.fromarray(np.zeros((2, 3), np.uint8)).save(root / "images" / f"{stem}.png")
        write_instances(root / "masks" / f"{stem}.png", ids)
    ds = load_folder(root, layout="instances")
    assert ds.instances is not None
    assert ds.num_classes is None
    for stem, ids, mask, got in zip(ds.names, ds.instances, ds.masks, "ab", strict=True):
        assert stem == got
        np.testing.assert_array_equal(ids, labels[stem])
        np.testing.assert_array_equal(mask, (labels[stem] > 0).astype(np.int64))
    assert load_dataset(root, layout="instances").instances is not None
    # read as binary, the same files are refused rather than silently thresholded
    with pytest.raises(DatasetError, match="for label maps use layout 'multiclass'"):
        load_folder(root)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_classes": 3}, "`num_classes` must be None for layout 'instances', got 3"),
        ({"ignore_index": 9}, "`ignore_index` must be None for layout 'instances', got 9"),
    ],
)
def test_instances_layout_option_errors(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        load_folder(tmp_path / "missing", layout="instances", **kwargs)  # type: ignore[arg-type]

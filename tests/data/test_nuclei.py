from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import segscore.data
from segscore.data import load_dataset
from segscore.io import read_instances, read_mask

BUILTIN = Path(segscore.data.__file__).parent / "builtin" / "nuclei"
SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "dsb2018-nuclei"

# sha256 of the 16 binary masks (uint8 {0, 1}, tiles in name order) as shipped before the tiles
# became instance label maps (8-bit {0, 255} PNGs): the foreground has not moved by one pixel, so
# training and pixel scores on "nuclei" give the same bits as before.
BINARY_MASKS_SHA256 = "b4818bbe7cc5f116d860ca208aff8ec3e27a0fc58363543deab4c6239b0d84e2"


def test_nuclei_tiles() -> None:
    ds = load_dataset("nuclei")
    assert len(ds) == 16
    assert ds.source == "nuclei"
    assert ds.num_classes is None
    assert ds.in_channels == 1
    assert ds.names == [f"nuclei_{r}{c}" for r in range(4) for c in range(4)]
    for image, mask in zip(ds.images, ds.masks, strict=True):
        assert image.shape == (1, 128, 128)
        assert image.dtype == np.float32
        assert set(np.unique(mask)) <= {0, 1}
    fg = np.mean([m.mean() for m in ds.masks])
    assert 0.17 < fg < 0.23
    # source values 0..235 stored unchanged in 8 bits, scaled by 255
    top = max(float(im.max()) for im in ds.images)
    assert abs(top - 235 / 255) < 1e-6


def test_nuclei_foreground_unchanged_by_instance_masks() -> None:
    digest = hashlib.sha256()
    for mask in load_dataset("nuclei").masks:
        digest.update(mask.astype(np.uint8).tobytes())
    assert digest.hexdigest() == BINARY_MASKS_SHA256


def test_nuclei_instances() -> None:
    ds = load_dataset("nuclei")
    assert ds.instances is not None
    counts = []
    for ids, mask, name in zip(ds.instances, ds.masks, ds.names, strict=True):
        assert ids.dtype == np.int64
        np.testing.assert_array_equal(ids > 0, mask == 1)
        n = int(ids.max())
        np.testing.assert_array_equal(np.unique(ids), np.arange(n + 1))  # 1..n, no gap
        # renumbered in order of first appearance in a row scan
        flat = ids.ravel()
        firsts = [int(np.flatnonzero(flat == i)[0]) for i in range(1, n + 1)]
        assert firsts == sorted(firsts), name
        counts.append(n)
        with Image.open(BUILTIN / "masks" / f"{name}.png") as file:
            assert file.mode == "I;16"
    assert sum(counts) == 160
    assert (min(counts), max(counts)) == (6, 16)
    # the split of a dataset keeps each case's label map with it
    _, val = ds.split(0.2, rng=0)
    assert val.instances is not None
    for ids, name in zip(val.instances, val.names, strict=True):
        np.testing.assert_array_equal(ids, ds.instances[ds.names.index(name)])


def test_nuclei_files_read_as_instances_or_foreground() -> None:
    path = BUILTIN / "masks" / "nuclei_00.png"
    ids = read_instances(path)
    np.testing.assert_array_equal(read_mask(path, layout="instances"), (ids > 0).astype(np.int64))
    with pytest.raises(segscore.DatasetError, match="hold a binary mask"):
        read_mask(path)  # a label map is not silently read as binary


def test_nuclei_tiles_match_source() -> None:
    """Each tile's objects are the source's nuclei inside it: one id each, pixel for pixel."""
    if not (SOURCE / "mask2d.tif").is_file():
        pytest.skip(f"source data not present at {SOURCE}")
    labels = np.asarray(Image.open(SOURCE / "mask2d.tif")).astype(np.int64)
    image = np.asarray(Image.open(SOURCE / "img2d.tif")).astype(np.int64)
    ds = load_dataset("nuclei")
    assert ds.instances is not None
    for k, (ids, pixels) in enumerate(zip(ds.instances, ds.images, strict=True)):
        r, c = divmod(k, 4)
        window = np.s_[128 * r : 128 * (r + 1), 128 * c : 128 * (c + 1)]
        src = labels[window]
        np.testing.assert_array_equal(np.round(pixels[0] * 255).astype(np.int64), image[window])
        # a bijection between source ids and tile ids: every pair (source, tile) occurs once
        pairs = np.unique(np.stack([src.ravel(), ids.ravel()]), axis=1)
        assert np.unique(pairs[0]).size == pairs.shape[1] == np.unique(pairs[1]).size
        assert ((pairs[0] == 0) == (pairs[1] == 0)).all()


def test_nuclei_attribution_shipped() -> None:
    source = (BUILTIN / "SOURCE.md").read_text(encoding="utf-8")
    for needle in (
        "Caicedo",
        "BBBC038",
        "stardist==0.9.2",
        "BSD-3-Clause",
        "/ 255",
        "instance label maps",
        "renumbered `1..n` per tile",
        "keeps one id",
    ):
        assert needle in source
    assert "BSD 3-Clause" in (BUILTIN / "LICENSE-stardist.txt").read_text(encoding="utf-8")


def test_does_not_read_shared_folder() -> None:
    assert "/work/shared" not in (Path(segscore.data.__file__).parent / "__init__.py").read_text()

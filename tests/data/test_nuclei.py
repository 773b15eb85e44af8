from __future__ import annotations

from pathlib import Path

import numpy as np

import segscore.data
from segscore.data import load_dataset

BUILTIN = Path(segscore.data.__file__).parent / "builtin" / "nuclei"


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


def test_nuclei_attribution_shipped() -> None:
    source = (BUILTIN / "SOURCE.md").read_text(encoding="utf-8")
    for needle in ("Caicedo", "BBBC038", "stardist==0.9.2", "BSD-3-Clause", "/ 255"):
        assert needle in source
    assert "BSD 3-Clause" in (BUILTIN / "LICENSE-stardist.txt").read_text(encoding="utf-8")


def test_does_not_read_shared_folder() -> None:
    assert "/work/shared" not in (Path(segscore.data.__file__).parent / "__init__.py").read_text()

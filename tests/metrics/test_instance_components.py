"""Masks to objects by connected components, against scipy.ndimage.label."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from segscore import InputError, label_components


@pytest.mark.parametrize(("connectivity", "rank"), [("face", 1), ("full", 2)])
def test_binary_2d_batch(connectivity, rank):
    rng = np.random.default_rng(0)
    masks = rng.random((3, 20, 20)) < 0.4
    out = label_components(masks, connectivity=connectivity)
    for i in range(3):
        ref, n = ndimage.label(masks[i], structure=ndimage.generate_binary_structure(2, rank))
        np.testing.assert_array_equal(out[i], ref)
        assert out[i].max() == n


@pytest.mark.parametrize(("connectivity", "n_expected"), [("face", 2), ("full", 1)])
def test_3d_corner_contact(connectivity, n_expected):
    vol = np.zeros((3, 3, 3), bool)
    vol[0, 0, 0] = vol[1, 1, 1] = True  # touching by a corner only: 26- but not 6-connected
    assert label_components(vol, connectivity=connectivity, spatial_dims=3).max() == n_expected


def test_semantic_classes_are_separate_objects():
    sem = np.array([[1, 1, 2, 2, 0, 1]])
    out = label_components(sem)
    assert out.tolist() == [[1, 1, 3, 3, 0, 2]]


def test_errors():
    with pytest.raises(InputError, match=r"`connectivity` must be one of 'face', 'full'"):
        label_components(np.zeros((2, 2), int), connectivity="corner")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"`mask` must hold integer instance ids"):
        label_components(np.zeros((2, 2)))


@pytest.mark.parametrize("connectivity", ["face", "full"])
@pytest.mark.parametrize("shape", [(3, 40, 50), (2, 14, 15, 16)])
def test_cc3d_backend_gives_scipys_labels(connectivity, shape):
    """cc3d (optional accelerator) is renumbered to scipy's order: the very same labels."""
    pytest.importorskip("cc3d")
    rng = np.random.default_rng(len(shape))
    for density in (0.2, 0.45, 0.6):
        masks = (rng.random(shape) < density) * rng.integers(1, 3, shape)  # two classes
        dims = len(shape) - 1
        a = label_components(masks, connectivity=connectivity, spatial_dims=dims, backend="scipy")
        b = label_components(masks, connectivity=connectivity, spatial_dims=dims, backend="cc3d")
        np.testing.assert_array_equal(a, b)


def test_backend_errors():
    with pytest.raises(InputError, match=r"`backend` must be one of 'auto', 'scipy', 'cc3d'"):
        label_components(np.zeros((2, 2), int), backend="skimage")  # type: ignore[arg-type]

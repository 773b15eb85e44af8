"""Masks to objects by connected components, against scipy.ndimage.label."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from scipy import ndimage

from segscore import InputError, label_components
from segscore.metrics import _kernel


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
    with pytest.raises(
        InputError, match=r"`backend` must be one of 'auto', 'segscore', 'scipy', 'cc3d'"
    ):
        label_components(np.zeros((2, 2), int), backend="skimage")  # type: ignore[arg-type]


# -- segscore's compiled labelling (the default where the kernel is built) ---------------------


def _scipy_labels(mask: np.ndarray, full: bool) -> tuple[np.ndarray, int]:
    structure = ndimage.generate_binary_structure(mask.ndim, mask.ndim if full else 1)
    labels, n = ndimage.label(mask, structure=structure)
    return labels, int(n)


needs_kernel = pytest.mark.skipif(not _kernel.HAVE_COMPILED, reason="no compiled kernel")


@needs_kernel
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 9), (9, 1), (7, 33), (40, 50), (1, 1, 1), (3, 1, 70), (12, 13, 14)]
)
@pytest.mark.parametrize("density", [0.0, 0.05, 0.4, 0.7, 1.0])
def test_compiled_labels_equal_scipy(full, shape, density):
    """The same components and the same numbers as scipy.ndimage.label, 2-D and 3-D."""
    rng = np.random.default_rng(len(shape) * 100 + int(density * 10))
    mask = rng.random(shape) < density
    made = _kernel.label_components(mask, full)
    assert made is not None
    labels, n = made
    ref, n_ref = _scipy_labels(mask, full)
    assert n == n_ref
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, ref)


@needs_kernel
@settings(max_examples=200, deadline=None)
@given(
    arrays(bool, array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=12)),
    st.booleans(),
)
def test_compiled_labels_property(mask, full):
    made = _kernel.label_components(mask, full)
    assert made is not None
    labels, n = made
    ref, n_ref = _scipy_labels(mask, full)
    assert n == n_ref
    np.testing.assert_array_equal(labels, ref)


@needs_kernel
def test_compiled_labels_corners_and_long_runs():
    """26- vs 6-connectivity through a corner of the plane before, runs wider than 32 bytes,
    nonzero bytes other than 1, and a spiral that merges many provisional labels."""
    vol = np.zeros((2, 3, 80), np.uint8)
    vol[0, 0, 0] = 7
    vol[1, 1, 1] = 255  # corner contact only
    vol[1, 2, 5:75] = 1  # one long run
    assert _kernel.label_components(vol, True)[1] == 2
    assert _kernel.label_components(vol, False)[1] == 3
    spiral = np.zeros((31, 31), bool)
    spiral[::2, :] = True
    spiral[1::4, -1] = True
    spiral[3::4, 0] = True
    made = _kernel.label_components(spiral, False)
    assert made is not None
    labels, n = made
    assert n == 1
    assert labels.max() == 1
    assert (labels > 0).sum() == spiral.sum()


def test_segscore_backend_labels_through_the_api():
    rng = np.random.default_rng(5)
    masks = (rng.random((2, 9, 10, 11)) < 0.35) * rng.integers(1, 3, (2, 9, 10, 11))
    a = label_components(masks, connectivity="full", spatial_dims=3, backend="scipy")
    if not _kernel.HAVE_COMPILED:
        with pytest.raises(InputError, match="`backend`"):
            label_components(masks, connectivity="full", spatial_dims=3, backend="segscore")
        return
    b = label_components(masks, connectivity="full", spatial_dims=3, backend="segscore")
    c = label_components(masks, connectivity="full", spatial_dims=3)  # 'auto'
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


@needs_kernel
def test_compiled_labels_argument_errors():
    from segscore.metrics._kernel import _ck

    out = np.zeros(6, np.uint32)
    with pytest.raises(ValueError, match="`mask` must hold 6 bytes"):
        _ck.label_components(np.zeros(5, np.uint8), 1, 2, 3, True, out)
    with pytest.raises(ValueError, match="out of range"):
        _ck.label_components(np.zeros(6, np.uint8), -1, 2, 3, True, out)
    with pytest.raises(ValueError, match="out of range"):
        _ck.label_components(np.zeros(6, np.uint8), 2**20, 2**20, 2**20, True, out)

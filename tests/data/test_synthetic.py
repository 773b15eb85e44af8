from __future__ import annotations

import time

import numpy as np
import pytest

from segscore.data import make_synthetic
from segscore.errors import InputError


@pytest.fixture(scope="module")
def default() -> object:
    return make_synthetic()


def test_shapes_and_types(default) -> None:
    ds = default
    assert len(ds) == 100
    assert ds.source == "synthetic(n=100,size=128,seed=0)"
    assert ds.num_classes is None
    assert ds.ignore_index is None
    assert ds.in_channels == 1
    assert ds.names[0] == "synthetic_000"
    assert len(set(ds.names)) == 100
    for image, mask in zip(ds.images, ds.masks, strict=True):
        assert image.shape == (1, 128, 128)
        assert image.dtype == np.float32
        assert mask.shape == (128, 128)
        assert mask.dtype == np.int64
        assert 0.0 <= image.min() <= image.max() <= 1.0
        assert set(np.unique(mask)) <= {0, 1}


def test_same_seed_identical_different_seed_differs() -> None:
    a, b, c = (
        make_synthetic(6, 64, seed=3),
        make_synthetic(6, 64, seed=3),
        make_synthetic(6, 64, seed=4),
    )
    for x, y in zip(a.images + a.masks, b.images + b.masks, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(np.stack(a.images), np.stack(c.images))
    assert not np.array_equal(np.stack(a.masks), np.stack(c.masks))


def test_prefix_stable() -> None:
    short, long = make_synthetic(3, 32, seed=5), make_synthetic(8, 32, seed=5)
    for i in range(3):
        np.testing.assert_array_equal(short.images[i], long.images[i])


def test_no_global_rng() -> None:
    state = np.random.get_state()[1].copy()  # type: ignore[index]  # noqa: NPY002
    make_synthetic(2, 32)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # type: ignore[index]  # noqa: NPY002


def test_statistics(default) -> None:
    fg = np.array([m.mean() for m in default.masks])
    assert 0.07 < fg.mean() < 0.2
    assert fg.min() > 0  # every image has at least one object
    assert fg.max() < 0.5
    # images with only small objects: low foreground, where accuracy and IoU disagree
    small = fg < 0.02
    assert 0.1 <= small.mean() <= 0.35
    # objects brighter on average, but the intensity ranges overlap
    obj = np.concatenate(
        [im[0][m == 1] for im, m in zip(default.images, default.masks, strict=True)]
    )
    bg = np.concatenate(
        [im[0][m == 0] for im, m in zip(default.images, default.masks, strict=True)]
    )
    assert obj.mean() > bg.mean() + 0.15
    assert np.percentile(bg, 99) > np.percentile(obj, 10)


def _otsu(x: np.ndarray) -> float:
    hist, edges = np.histogram(x, 256, (0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = w0 * w1 * (m0 / w0 - (m0[-1] - m0) / w1) ** 2
    return float(centres[np.nanargmax(between)])


def test_global_threshold_is_not_enough(default) -> None:
    tp = fp = fn = 0
    for image, mask in zip(default.images, default.masks, strict=True):
        pred = image[0] > _otsu(image[0])
        target = mask.astype(bool)
        tp += np.sum(pred & target)
        fp += np.sum(pred & ~target)
        fn += np.sum(~pred & target)
    iou = tp / (tp + fp + fn)
    assert 0.1 < iou < 0.7


def test_fast() -> None:
    start = time.perf_counter()
    make_synthetic(100, 128, seed=1)
    assert time.perf_counter() - start < 3.0  # typically ~0.35 s; generous for loaded CI machines


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_workers_give_the_same_arrays_in_the_same_order(workers: int) -> None:
    # Each image comes from its own child seed: threads change the speed, never the data.
    one = make_synthetic(7, 48, seed=2)
    many = make_synthetic(7, 48, seed=2, workers=workers)
    assert many.names == one.names
    assert many.source == one.source
    for a, b in zip(one.images + one.masks, many.images + many.masks, strict=True):
        np.testing.assert_array_equal(a, b)
    # and not the arrays of a neighbouring seed
    assert not np.array_equal(many.images[0], make_synthetic(1, 48, seed=3).images[0])


def test_other_size_scales() -> None:
    ds = make_synthetic(4, 256, seed=0)
    assert ds.images[0].shape == (1, 256, 256)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "`n` must be an integer >= 1"),
        ({"size": 8}, "`size` must be an integer >= 16"),
        ({"seed": -1}, "`seed` must be an integer >= 0"),
        ({"n": 2.5}, "`n` must be an integer"),
        ({"workers": 0}, "`workers` must be an integer >= 1"),
    ],
)
def test_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_synthetic(**kwargs)  # type: ignore[arg-type]

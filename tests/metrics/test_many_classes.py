"""Label maps with many classes: per-class counts without the C x C matrix, equal to the reference."""

from __future__ import annotations

import numpy as np
import pytest

import segscore
from segscore.errors import InputError
from segscore.metrics._reference import confusion_matrix_reference
from segscore.metrics.counts import MATRIX_MAX_CLASSES, _counts_from_matrix


@pytest.mark.parametrize("ignore", [None, -1])
def test_many_classes_equal_the_matrix_reference(ignore: int | None) -> None:
    rng = np.random.default_rng(0)
    c = MATRIX_MAX_CLASSES + 500
    t = rng.integers(0, c, (3, 16, 16))
    p = np.where(rng.random(t.shape) < 0.5, t, rng.integers(0, c, t.shape))
    if ignore is not None:
        t[0, 0] = ignore
        p[1, 1] = ignore
    got = segscore.confusion(p, t, num_classes=c, ignore_index=ignore)
    matrix = confusion_matrix_reference(
        p.reshape(3, -1), t.reshape(3, -1), num_classes=c, ignore_index=ignore
    )
    want = _counts_from_matrix(matrix, got.spec)  # type: ignore[arg-type]
    for field in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))


def test_65535_classes_use_little_memory() -> None:
    t = np.array([[0, 65534, 7]], dtype=np.uint16)
    c = segscore.confusion(t, t, num_classes=65535)
    assert c.shape == (1, 65535)
    assert int(c.tp.sum()) == 3


def test_class_limits() -> None:
    x = np.zeros((2, 2), np.int64)
    with pytest.raises(InputError, match="`num_classes` must be at most 16777216"):
        segscore.confusion(x, x, num_classes=2**40)
    with pytest.raises(InputError, match="at most 1024 for a confusion matrix"):
        segscore.confusion_matrix(x, x, num_classes=5000)


@pytest.mark.parametrize(("c", "shape"), [(700, (300, 2, 3)), (65, (4, 8, 8)), (1024, (2, 40, 40))])
def test_small_images_with_many_classes_are_counted_per_class(
    c: int, shape: tuple[int, ...]
) -> None:
    # The matrix path would need about 2 C² bins per image (3.9 GB for 1,000 images of 6 pixels
    # with 700 classes); below that many pixels per image the counts are made per class. The
    # numbers and the label checks must not depend on the path.
    from segscore.metrics.counts import _uses_matrix

    pixels = int(np.prod(shape[1:]))
    assert not _uses_matrix(pixels, c)
    rng = np.random.default_rng(c)
    t = rng.integers(0, c, shape)
    p = np.where(rng.random(shape) < 0.5, t, rng.integers(0, c, shape))
    t[0, 0, 0] = 255 if c < 255 else -1
    got = segscore.confusion(p, t, num_classes=c, ignore_index=int(t[0, 0, 0]))
    matrix = confusion_matrix_reference(
        p.reshape(shape[0], -1),
        t.reshape(shape[0], -1),
        num_classes=c,
        ignore_index=int(t[0, 0, 0]),
    )
    want = _counts_from_matrix(matrix, got.spec)  # type: ignore[arg-type]
    for field in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    p[-1, -1, -1] = c
    with pytest.raises(InputError, match=f"`pred` has labels \\[{c}\\] outside \\[0, {c}\\)"):
        segscore.confusion(p, t, num_classes=c, ignore_index=int(t[0, 0, 0]))

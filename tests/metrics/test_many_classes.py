"""Label maps with many classes: per-class counts without the C x C matrix, equal to the reference."""

from __future__ import annotations

import numpy as np
import pytest

import segscore
from segscore.errors import InputError
from segscore.metrics.counts import (
    MATRIX_MAX_CLASSES,
    _counts_from_matrix,
    confusion_matrix_reference,
)


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

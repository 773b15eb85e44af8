import numpy as np
import pytest

from segscore.errors import InputError
from segscore.predict.thresholds import to_mask


def test_default_threshold_inclusive():
    p = np.array([[[0.5, 0.4999, 0.8, 0.0]]], np.float32)
    assert to_mask(p).tolist() == [[1, 0, 1, 0]]


def test_configurable_threshold_and_batch():
    p = np.full((3, 1, 2, 2), 0.7)
    assert to_mask(p, threshold=0.8).sum() == 0
    assert to_mask(p, threshold=0.6).shape == (3, 2, 2)


def test_multiclass_argmax():
    p = np.array([[[0.1, 0.5]], [[0.7, 0.2]], [[0.2, 0.3]]])
    assert to_mask(p).tolist() == [[1, 0]]


def test_does_not_mutate():
    p = np.array([[[0.9]]])
    to_mask(p)
    assert p[0, 0, 0] == 0.9


@pytest.mark.parametrize(
    ("probs", "kwargs", "match"),
    [
        (
            np.zeros((2, 2)),
            {},
            r"`probabilities` must have shape \(\.\.\., K, H, W\), got \(2, 2\).",
        ),
        (np.zeros((1, 2, 2), int), {}, "`probabilities` must be a float array, got dtype int64."),
        (np.full((1, 1, 1), np.nan), {}, "must not contain NaN"),
        (
            np.zeros((1, 1, 1)),
            {"threshold": 0.0},
            r"`threshold` must be a number in \(0, 1\), got 0.0.",
        ),
    ],
)
def test_errors(probs, kwargs, match):
    with pytest.raises(InputError, match=match):
        to_mask(probs, **kwargs)

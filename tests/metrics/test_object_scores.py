"""Detection scores from probability maps (segscore.metrics.instance.object_scores)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore import InputError, overlap_table
from segscore.metrics.instance import object_scores

from ._instances import batch


def _reference_object_scores(probabilities, labels):
    """One mask per object, its mean probability (exactly rounded sum), in increasing id order."""
    import math

    ids = [i for i in np.unique(labels).tolist() if i != 0]
    return np.array(
        [math.fsum(probabilities[labels == i].tolist()) / (labels == i).sum() for i in ids]
    )


@pytest.mark.parametrize("seed", range(3))
def test_equals_the_reference_and_the_table_order(seed):
    pred, _ = batch(seed, n_images=3)
    prob = np.random.default_rng(seed).uniform(size=pred.shape)
    out = object_scores(prob, pred)
    assert len(out) == 3
    for i in range(3):
        np.testing.assert_allclose(out[i], _reference_object_scores(prob[i], pred[i]), rtol=1e-13)
        assert out[i].size == overlap_table(pred[i], pred[i])[0].n_pred


def test_large_ids_and_volumes():
    labels = np.array([[0, 2**63 + 5, 2**63 + 5], [7, 7, 0]], dtype=np.uint64)
    prob = np.array([[0.1, 0.2, 0.4], [1.0, 0.5, 0.3]])
    np.testing.assert_allclose(object_scores(prob, labels)[0], [0.75, 0.3])
    volume = np.zeros((2, 3, 3), np.int32)
    volume[0, 0, 0] = volume[1, 2, 2] = 4
    (scores,) = object_scores(np.full(volume.shape, 0.25), volume, spatial_dims=3)
    np.testing.assert_array_equal(scores, [0.25])
    assert object_scores(np.zeros((2, 2)), np.zeros((2, 2), int))[0].size == 0


@settings(max_examples=60, deadline=None)
@given(
    labels=arrays(np.int64, (5, 7), elements=st.integers(0, 6)),
    prob=arrays(np.float64, (5, 7), elements=st.floats(0, 1)),
)
def test_property_matches_reference_and_ignores_relabelling(labels, prob):
    np.testing.assert_allclose(
        object_scores(prob, labels)[0], _reference_object_scores(prob, labels), rtol=1e-12
    )
    # ids 1..6 -> 60000 - id (order reversed): the same scores, reversed
    flipped = np.where(labels > 0, 60000 - labels, 0)
    np.testing.assert_allclose(
        object_scores(prob, flipped)[0], object_scores(prob, labels)[0][::-1]
    )


def test_bad_input():
    labels = np.array([[1, 1], [0, 2]])
    with pytest.raises(InputError, match=r"`probabilities` and `labels` must have the same shape"):
        object_scores(np.zeros((2, 3)), labels)
    with pytest.raises(InputError, match=r"`probabilities` must be finite, got 1 non-finite"):
        object_scores(np.array([[0.5, np.nan], [0.1, 0.2]]), labels)
    with pytest.raises(InputError, match=r"`labels` must hold integer instance ids"):
        object_scores(np.zeros((2, 2)), labels.astype(float))
    with pytest.raises(InputError, match=r"`probabilities` must hold real numbers, got dtype"):
        object_scores(np.full((2, 2), "a"), labels)

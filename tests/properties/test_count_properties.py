"""Properties of the counts: totals, the reference, concatenation and label permutations."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from segscore import Counts, confusion
from segscore.metrics._reference import confusion_matrix_reference

from ._strategies import binary_masks, label_maps, reference_counts


def _stack(c: Counts) -> np.ndarray:
    return np.stack([c.tp, c.fp, c.fn, c.tn])


@given(label_maps())
def test_total_is_the_number_of_counted_pixels(data):
    pred, target, c, ignore = data
    counts = confusion(pred, target, num_classes=c, ignore_index=ignore)
    n = pred.shape[0]
    counted = (
        (target.reshape(n, -1) != ignore).sum(axis=1)
        if ignore is not None
        else np.full(n, target[0].size)
    )
    np.testing.assert_array_equal(counts.total, np.repeat(counted[:, None], c, axis=1))
    assert counts.tp.dtype == counts.total.dtype == np.int64


@given(label_maps())
def test_confusion_equals_the_bincount_reference_exactly(data):
    pred, target, c, ignore = data
    counts = confusion(pred, target, num_classes=c, ignore_index=ignore)
    np.testing.assert_array_equal(_stack(counts), reference_counts(pred, target, c, ignore))
    # and the library's own reference matrix, from which every fast path must not differ
    m = confusion_matrix_reference(
        pred.reshape(pred.shape[0], -1),
        target.reshape(pred.shape[0], -1),
        num_classes=c,
        ignore_index=ignore,
    )
    np.testing.assert_array_equal(counts.tp, np.diagonal(m[:, :, :c], axis1=1, axis2=2))
    np.testing.assert_array_equal(counts.fn, m.sum(axis=2) - counts.tp)


@given(binary_masks())
def test_binary_path_equals_the_two_class_reference(data):
    pred, target = data
    counts = confusion(pred, target)
    expected = reference_counts(pred.astype(np.int64), target.astype(np.int64), 2, None)[:, :, 1:]
    np.testing.assert_array_equal(_stack(counts), expected)
    # probabilities thresholded at 0.5 count the same
    probs = np.where(pred, 0.75, 0.25)
    np.testing.assert_array_equal(_stack(confusion(probs, target)), expected)


@given(label_maps(), st.integers(1, 3))
def test_concat_equals_confusion_on_concatenated_data(data, cut):
    pred, target, c, ignore = data
    cut = min(cut, pred.shape[0])
    parts = [
        confusion(pred[:cut], target[:cut], num_classes=c, ignore_index=ignore),
        confusion(pred[cut:], target[cut:], num_classes=c, ignore_index=ignore)
        if cut < pred.shape[0]
        else None,
    ]
    merged = Counts.concat([p for p in parts if p is not None])
    whole = confusion(pred, target, num_classes=c, ignore_index=ignore)
    np.testing.assert_array_equal(_stack(merged), _stack(whole))
    assert merged.spec == whole.spec


@given(label_maps(ignore=False, min_classes=2), st.randoms(use_true_random=False))
def test_permuting_labels_permutes_the_counts(data, random):
    pred, target, c, _ = data
    perm = np.array(random.sample(range(c), c))
    counts = confusion(pred, target, num_classes=c)
    permuted = confusion(perm[pred], perm[target], num_classes=c)
    np.testing.assert_array_equal(_stack(permuted)[:, :, perm], _stack(counts))

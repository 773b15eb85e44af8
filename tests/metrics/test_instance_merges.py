"""Merged and split objects: the overlap table's integer tests against a brute force over masks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore.metrics.instance.merges import merges
from segscore.metrics.instance.table import overlap_table

from ._instances import batch


def _reference_merges(p: np.ndarray, t: np.ndarray) -> tuple[int, int, int]:
    """One full-size mask per object, every pair tested on pixels."""
    merged_p = merged_t = split = 0
    pred_ids = [k for k in np.unique(p) if k]
    target_ids = [j for j in np.unique(t) if j]
    for k in pred_ids:
        covered = [j for j in target_ids if 2 * ((p == k) & (t == j)).sum() > (t == j).sum()]
        if len(covered) >= 2:
            merged_p += 1
            merged_t += len(covered)
    for j in target_ids:
        inside = [k for k in pred_ids if 2 * ((p == k) & (t == j)).sum() > (p == k).sum()]
        split += len(inside) >= 2
    return merged_p, merged_t, split


def _as_tuple(p: np.ndarray, t: np.ndarray) -> tuple[int, int, int]:
    found = merges(overlap_table(p, t)[0])
    return found.merged_predictions, found.merged_targets, found.split_targets


def test_touching_objects_equal_brute_force() -> None:
    pred, target = batch(5, n_images=6, shape=(40, 40), n=10)
    for p, t in zip(pred, target, strict=True):
        assert _as_tuple(p, t) == _reference_merges(p, t)


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.int64, (5, 6), elements=st.integers(0, 4)),
    arrays(np.int64, (5, 6), elements=st.integers(0, 4)),
)
def test_dense_random_maps_equal_brute_force(p: np.ndarray, t: np.ndarray) -> None:
    assert _as_tuple(p, t) == _reference_merges(p, t)


def test_exactly_half_is_not_more_than_half() -> None:
    p = np.array([[1, 1, 1, 1, 0, 0]])
    t = np.array([[2, 2, 3, 3, 3, 3]])  # 1 holds all of 2 and exactly half of 3
    assert _as_tuple(p, t) == (0, 0, 0)

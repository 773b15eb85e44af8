"""Evaluator: storage blocks, merge and reset, compute options, errors.

Batches and merges against the one-shot counts and scores, for every accumulator:
tests/metrics/test_accumulators.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from segscore import Evaluator, InputError, confusion, score


def _data(seed=0, n=7, c=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, c, size=(n, 5, 6)), rng.integers(0, c, size=(n, 5, 6))


@pytest.mark.parametrize("c", [3, 700])
def test_rows_spanning_storage_blocks_equal_one_shot(c):
    # Rows are stored in fixed-size blocks (2048 binary rows, 16 rows for 700 classes); batches
    # of uneven sizes cross block edges, and a compute between updates joins the blocks: every
    # row must land once, in order, and views handed out earlier must not change.
    rng = np.random.default_rng(c)
    pred, target = rng.integers(0, c, size=(2, 2700, 2, 3))
    ev = Evaluator(num_classes=c)
    earlier = None
    start = 0
    for size in (1, 15, 1000, 1047, 537):
        ev.update(pred[start : start + size], target[start : start + size])
        start += size
        if start == 2063:
            earlier = ev.counts
            earlier_tp = earlier.tp.copy()
    ev.update(pred[start:], target[start:])
    one = confusion(pred, target, num_classes=c)
    for f in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(ev.counts, f), getattr(one, f))
    np.testing.assert_array_equal(earlier.tp, earlier_tp)
    assert not ev.counts.tp.flags.writeable
    assert ev.compute("iou").value == score(one, "iou").value


def test_merge_returns_itself_and_reset_empties():
    # merged counts against one-shot counts: tests/metrics/test_accumulators.py
    pred, target = _data(1)
    a, b = Evaluator(num_classes=3), Evaluator(num_classes=3)
    a.update(pred[:3], target[:3])
    b.update(pred[3:], target[3:])
    assert a.merge(b) is a
    assert a.n_images == 7
    a.reset()
    assert a.n_images == 0
    with pytest.raises(InputError, match=r"accumulator is empty: call `update`"):
        a.counts  # noqa: B018


def test_merge_with_itself_doubles_the_rows():
    pred, target = _data(2, n=2)
    ev = Evaluator(num_classes=3)
    ev.update(pred, target)
    ev.merge(ev)  # used to loop forever: it iterated over the list it was appending to
    assert ev.n_images == 4


def test_compute_options_are_forwarded():
    pred, target = _data(3)
    ev = Evaluator(num_classes=3)
    ev.update(pred, target)
    s = ev.compute("dice", aggregation="pooled", empty=1.0, include_background=False)
    assert s.conventions.classes == (1, 2)
    assert s.conventions.empty.zero_division == 1.0
    assert s.conventions.counting.num_classes == 3


def test_mismatched_accumulators_are_errors():
    a = Evaluator(num_classes=3)
    with pytest.raises(
        InputError,
        match=r"same conventions, got \{'mode': 'multiclass', 'num_classes': 3.*'num_classes': 4",
    ):
        a.merge(Evaluator(num_classes=4))
    with pytest.raises(InputError, match=r"`other` must be an Evaluator, got int"):
        a.merge(3)
    b = Evaluator()
    b.update(np.zeros((1, 2, 2), bool), np.zeros((1, 2, 2), bool))
    with pytest.raises(InputError, match=r"same number of classes, got 1 and then 3"):
        b._add(confusion(np.zeros((1, 2, 2), int), np.zeros((1, 2, 2), int), num_classes=3))
    c = Evaluator()
    c.update(np.zeros((1, 2, 2), bool), np.zeros((1, 2, 2), bool))
    with pytest.raises(InputError, match=r"one mode, got 'binary' and then 'multiclass'"):
        c._add(confusion(np.zeros((1, 2, 2), int), np.zeros((1, 2, 2), int), num_classes=1))


def test_compute_after_every_update_sees_each_prefix_and_keeps_old_views():
    # A validation loop that reads the score after every batch: the joined rows grow (and are
    # reallocated) while earlier Counts stay as they were.
    rng = np.random.default_rng(4)
    pred, target = rng.integers(0, 3, (2, 3000, 2, 2))
    ev = Evaluator(num_classes=3)
    seen = []
    start = 0
    for size in rng.integers(1, 140, 20):  # at most 2,780 of the 3,000 images
        ev.update(pred[start : start + size], target[start : start + size])
        start += int(size)
        got = ev.counts
        np.testing.assert_array_equal(
            got.tp, confusion(pred[:start], target[:start], num_classes=3).tp
        )
        seen.append((start, got.tp, got.tp.copy()))
    for n, view, copy in seen:
        assert view.shape[0] == n
        np.testing.assert_array_equal(view, copy)


def test_masks_then_probabilities_are_refused() -> None:
    # Reviewed: the record kept the first batch's spec, so integer masks then probabilities
    # thresholded at 0.3 recorded threshold None for every row.
    for first, then in (
        (np.array([[1, 0]]), np.array([[0.5, 0.1]])),
        (np.array([[0.5, 0.1]]), np.array([[1, 0]])),
    ):
        ev = Evaluator(threshold=0.3)
        ev.update(first, np.array([[1, 0]]))
        with pytest.raises(InputError, match="every update must have the same input kind"):
            ev.update(then, np.array([[1, 0]]))
        assert ev.counts.n_images == 1


def test_merge_takes_an_unset_option_as_its_default() -> None:
    # Reviewed: CountingOptions() and CountingOptions(threshold_comparison=">=") count alike but
    # were refused as other conventions (the message showed two equal records).
    from segscore import CountingOptions

    a = Evaluator(options=CountingOptions())
    b = Evaluator(options=CountingOptions(threshold_comparison=">="))
    for ev in (a, b):
        ev.update(np.array([[0.7, 0.2]]), np.array([[1, 0]]))
    assert a.merge(b).counts.n_images == 2
    with pytest.raises(InputError, match="accumulators to merge must use the same conventions"):
        a.merge(Evaluator(options=CountingOptions(threshold_comparison=">")))

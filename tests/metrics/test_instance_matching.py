"""Matching conventions, against StarDist 0.9.2's ``stardist.matching`` (optimal, IoU >= t)."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore import InputError, match_instances, overlap_table
from segscore.metrics.instance.matching import match, read_threshold, threshold_range
from segscore.metrics.instance.metrics import score_tables
from segscore.metrics.instance.table import OverlapTable

from ._instances import batch
from ._peers import stardist_matching

THRESHOLDS = [0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 0.9]
F32 = {"rtol": 2e-6, "atol": 1e-7}  # StarDist computes IoU in float32
KEYS = {  # StarDist's field -> segscore's metric name
    "precision": "precision",
    "recall": "recall",
    "f1": "f1",
    "accuracy": "dsb",
    "mean_matched_score": "sq",
    "panoptic_quality": "pq",
}


def _reference_matching(pred: np.ndarray, target: np.ndarray, thresholds):
    """StarDist's per-image Matching tuples (it takes (y_true, y_pred))."""
    return stardist_matching().matching(target, pred, thresh=list(thresholds))


def _names(t: float) -> list[str]:
    return [f"{KEYS[k]}@{t}" for k in KEYS] + [f"tp@{t}", f"fp@{t}", f"fn@{t}"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_per_image_equals_stardist(seed):
    pred, target = batch(seed, n_images=3)
    tables = overlap_table(pred, target)
    for i, table in enumerate(tables):
        ref = _reference_matching(pred[i], target[i], THRESHOLDS)
        ours = score_tables([table], [n for t in THRESHOLDS for n in _names(t)], empty=0.0)
        for t, r in zip(THRESHOLDS, ref, strict=True):
            assert (ours[f"tp@{t}"].value, ours[f"fp@{t}"].value, ours[f"fn@{t}"].value) == (
                r.tp,
                r.fp,
                r.fn,
            )
            for key, name in KEYS.items():
                np.testing.assert_allclose(ours[f"{name}@{t}"].value, getattr(r, key), **F32)


@pytest.mark.parametrize("by_image", [False, True])
def test_dataset_equals_stardist_matching_dataset(by_image):
    pred, target = batch(7, n_images=5)
    aggregation = "images_then_classes" if by_image else "pooled"
    ours = score_tables(
        overlap_table(pred, target),
        [n for t in THRESHOLDS for n in _names(t)],
        aggregation=aggregation,
        empty=0.0,
    )
    sm = stardist_matching()
    for t in THRESHOLDS:
        r = sm.matching_dataset(
            list(target), list(pred), thresh=t, by_image=by_image, show_progress=False
        )
        for key, name in KEYS.items():
            np.testing.assert_allclose(ours[f"{name}@{t}"].value, getattr(r, key), **F32)
        if not by_image:
            assert ours[f"tp@{t}"].value == r.tp
            assert ours[f"fp@{t}"].value == r.fp


@pytest.mark.parametrize("criterion", ["iou", "iop", "iot"])
def test_criteria_equal_stardist(criterion):
    pred, target = batch(11, n_images=2)
    sm = stardist_matching()
    for i in range(2):
        ref = sm.matching(target[i], pred[i], thresh=[0.5, 0.8], criterion=criterion)
        for t, r in zip([0.5, 0.8], ref, strict=True):
            m = match_instances(pred[i], target[i], threshold=t, criterion=criterion)[0]
            assert (m.tp, m.fp, m.fn) == (r.tp, r.fp, r.fn)


def test_exact_ties_at_one_half():
    # one prediction covering two targets: IoU exactly 1/2 with each
    pred = np.array([[1, 1, 1, 1, 0, 0]])
    target = np.array([[2, 2, 3, 3, 0, 0]])
    ge = match_instances(pred, target)[0]
    gt = match_instances(pred, target, comparison=">")[0]
    assert (ge.tp, ge.fp, ge.fn) == (1, 0, 1)
    assert (gt.tp, gt.fp, gt.fn) == (0, 1, 2)
    r = _reference_matching(pred, target, [0.5])[0]
    assert (r.tp, r.fp, r.fn) == (ge.tp, ge.fp, ge.fn)


def test_thresholds_are_read_as_decimals():
    # IoU exactly 7/10: matched at 0.7 however 0.7 was spelled (cellpose loses it with arange)
    target = np.zeros((1, 10), int)
    target[0, :7] = 1
    pred = np.zeros((1, 10), int)
    pred[0, :10] = 1
    spelled = [
        0.7,
        np.arange(0.5, 1.0, 0.05)[4],
        np.linspace(0.5, 0.95, 10)[4],
        "0.7",
        Fraction(7, 10),
    ]
    assert spelled[1] != 0.7  # 0.7000000000000002
    for t in spelled:
        assert match_instances(pred, target, threshold=t)[0].tp == 1
        assert match_instances(pred, target, threshold=t, comparison=">")[0].tp == 0
    assert threshold_range() == tuple(Fraction(50 + 5 * k, 100) for k in range(10))
    assert read_threshold(np.float32(0.5)) == Fraction(1, 2)


@pytest.mark.parametrize(
    ("threshold", "fraction"), [(2 / 3, Fraction(2, 3)), (1 / 3, Fraction(1, 3))]
)
def test_a_float_made_by_division_is_the_fraction_it_stands_for(threshold, fraction):
    # Reviewed: read with 12 significant digits, 2/3 became 0.666666666667 (> 2/3) and an IoU of
    # exactly 2/3 failed it under '>=', where StarDist, cellpose and panoptica match it; 1/3 became
    # 0.333333333333 (< 1/3) and flipped ties under '>'. 2/3 is the IoU of a Dice of 0.8.
    pred = np.ones((1, 3), int)  # one object of 3 pixels
    target = np.zeros((1, 3), int)
    target[0, : fraction.numerator] = 1  # inside it: IoU = numerator / 3
    assert read_threshold(threshold) == fraction
    assert match_instances(pred, target, threshold=threshold)[0].tp == 1
    assert match_instances(pred, target, threshold=threshold, comparison=">")[0].tp == 0
    sd = stardist_matching().matching(target, pred, thresh=threshold)
    assert sd.tp == 1  # StarDist compares in float64: iou >= thresh


def _table(n_pred, n_target, pairs) -> OverlapTable:
    """A hand-made table: pairs = {(p, g): intersection}, areas given per object."""
    p_area, t_area = n_pred, n_target
    keys = sorted(pairs)
    return OverlapTable(
        np.arange(1, len(p_area) + 1),
        np.array(p_area),
        np.arange(1, len(t_area) + 1),
        np.array(t_area),
        np.array([k[0] for k in keys]),
        np.array([k[1] for k in keys]),
        np.array([pairs[k] for k in keys]),
        1000,
    )


def test_optimal_maximises_matches_greedy_does_not():
    # pred 0 overlaps target 0 (IoU 0.6) and target 1 (IoU 1/3); pred 1 only target 0 (IoU 0.4)
    table = _table([12, 10], [12, 8], {(0, 0): 9, (0, 1): 5, (1, 0): 6})
    ious = table.pair_intersection / table.pair_union
    assert ious.tolist() == [0.6, 1 / 3, 0.375]
    optimal = match(table, threshold=0.3)
    greedy = match(table, threshold=0.3, matching="greedy")
    assert optimal.tp == 2
    assert sorted(optimal.matched_ids()) == [(1, 2), (2, 1)]
    assert greedy.tp == 1
    assert greedy.matched_ids() == [(1, 1)]


def test_unique_matching_needs_unique_thresholds():
    table = overlap_table(np.array([[1, 1, 2]]), np.array([[1, 1, 1]]))[0]
    assert match(table, matching="unique", comparison=">").tp == 1
    assert match(table, threshold=0.6, matching="unique").tp == 1
    for kw in ({}, {"threshold": 0.3, "comparison": ">"}, {"criterion": "iop", "threshold": 0.9}):
        with pytest.raises(InputError, match=r"`matching='unique'` needs a threshold"):
            match(table, matching="unique", **kw)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, r"`threshold` must be a number in \(0, 1\], got 1.5"),
        ({"threshold": 0}, r"`threshold` must be a number in \(0, 1\]"),
        ({"threshold": "half"}, r"`threshold` must be a number in \(0, 1\]"),
        ({"matching": "hungarian"}, r"`matching` must be one of 'optimal', 'greedy', 'unique'"),
        ({"criterion": "giou"}, r"`criterion` must be one of 'iou', 'dice', 'iop', 'iot'"),
        ({"comparison": "=>"}, r"`comparison` must be one of '>=', '>'"),
    ],
)
def test_bad_options(kwargs, message):
    z = np.zeros((2, 2), int)
    with pytest.raises(InputError, match=message):
        match_instances(z, z, **kwargs)


def _brute_force_optimal(table: OverlapTable, t: Fraction):
    """Most matches, then largest IoU sum, by enumerating every one-to-one subset."""
    inter, union = table.pair_intersection, table.pair_union
    ok = [k for k in range(table.n_pairs) if Fraction(int(inter[k]), int(union[k])) >= t]
    best = (0, Fraction(0))
    for r in range(len(ok), 0, -1):
        for subset in itertools.combinations(ok, r):
            ps = [table.pair_pred[k] for k in subset]
            gs = [table.pair_target[k] for k in subset]
            if len(set(ps)) == r and len(set(gs)) == r:
                s = sum(Fraction(int(inter[k]), int(union[k])) for k in subset)
                best = max(best, (r, s))
        if best[0]:
            break
    return best


label_maps = arrays(np.int64, (5, 6), elements=st.integers(0, 4))


@settings(max_examples=60, deadline=None)
@given(
    pred=label_maps, target=label_maps, t=st.sampled_from(["0.1", "0.25", "1/3", "0.5", "0.7", "1"])
)
def test_properties(pred, target, t):
    table = overlap_table(pred, target)[0]
    for rule in ("optimal", "greedy"):
        m = match(table, threshold=t, matching=rule)
        assert m.tp + m.fn == table.n_target
        assert m.tp + m.fp == table.n_pred
        assert len({*m.pred_index.tolist()}) == len({*m.target_index.tolist()}) == m.tp
        swapped = match(overlap_table(target, pred)[0], threshold=t, matching=rule)
        assert (swapped.tp, swapped.fp, swapped.fn) == (m.tp, m.fn, m.fp)
        f1 = score_tables([table], f"f1@{float(Fraction(t))}", matching=rule)
        assert (
            math.isnan(f1[f"f1@{float(Fraction(t))}"].value)
            or 0 <= f1[f"f1@{float(Fraction(t))}"].value <= 1
        )
    m = match(table, threshold=t)
    tp, total = _brute_force_optimal(table, Fraction(t))
    assert m.tp == tp
    assert math.isclose(m.score_sum, float(total), rel_tol=1e-12, abs_tol=1e-12)

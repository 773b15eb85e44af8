"""Properties of the metrics: symmetry, argument order, identities and bounds."""

from __future__ import annotations

import numpy as np
from hypothesis import given

import segscore
from segscore import confusion

from ._strategies import label_maps

UNIT_METRICS = [
    segscore.iou,
    segscore.dice,
    segscore.precision,
    segscore.recall,
    segscore.specificity,
    segscore.accuracy,
    segscore.balanced_accuracy,
    segscore.fbeta,
]


def _same(a, b):
    """Equal bits, NaN included."""
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@given(label_maps(ignore=False))
def test_dice_and_iou_are_symmetric(data):
    pred, target, c, _ = data
    pt, tp = confusion(pred, target, num_classes=c), confusion(target, pred, num_classes=c)
    _same(segscore.dice(pt), segscore.dice(tp))
    _same(segscore.iou(pt), segscore.iou(tp))
    _same(segscore.matthews_corrcoef(pt), segscore.matthews_corrcoef(tp))


@given(label_maps(ignore=False))
def test_precision_of_pred_target_is_recall_of_target_pred(data):
    """Guards the argument order: (pred, target)."""
    pred, target, c, _ = data
    _same(
        segscore.precision(confusion(pred, target, num_classes=c)),
        segscore.recall(confusion(target, pred, num_classes=c)),
    )
    # fp counts predicted pixels outside the target: predicting class 0 everywhere gives class 0
    # no false negative and one false positive per pixel of another class
    everything = np.zeros_like(target)
    c0 = confusion(everything, target, num_classes=c)
    assert np.all(c0.fn[:, 0] == 0)
    assert np.all(c0.fp[:, 1:] == 0)
    np.testing.assert_array_equal(c0.fp[:, 0], (target.reshape(target.shape[0], -1) != 0).sum(1))
    np.testing.assert_array_equal(segscore.recall(c0)[:, 0][c0.support[:, 0] > 0], 1.0)


@given(label_maps())
def test_iou_is_dice_over_two_minus_dice(data):
    pred, target, c, ignore = data
    counts = confusion(pred, target, num_classes=c, ignore_index=ignore)
    d, j = segscore.dice(counts), segscore.iou(counts)
    np.testing.assert_allclose(j, d / (2 - d), rtol=1e-13, atol=0)
    np.testing.assert_array_equal(np.isnan(j), np.isnan(d))


@given(label_maps())
def test_values_lie_in_their_bounds(data):
    pred, target, c, ignore = data
    counts = confusion(pred, target, num_classes=c, ignore_index=ignore)
    for fn in UNIT_METRICS:
        for average in ("none", "micro", "macro", "weighted"):
            v = fn(counts, average=average)
            v = v[~np.isnan(v)]
            assert np.all((v >= 0) & (v <= 1)), (fn.__name__, average)
    mcc = segscore.matthews_corrcoef(counts)
    mcc = mcc[~np.isnan(mcc)]
    assert np.all((mcc >= -1 - 1e-12) & (mcc <= 1 + 1e-12))
    for weight in ("square", "simple", "uniform"):
        g = segscore.generalized_dice(counts, weight=weight)
        g = g[~np.isnan(g)]
        assert np.all((g >= 0) & (g <= 1 + 1e-12))


@given(label_maps(ignore=False, min_classes=2))
def test_permuting_labels_permutes_the_metrics(data):
    pred, target, c, _ = data
    perm = np.roll(np.arange(c), 1)  # k -> k + 1 mod C
    a = confusion(pred, target, num_classes=c)
    b = confusion(perm[pred], perm[target], num_classes=c)
    for fn in (*UNIT_METRICS, segscore.matthews_corrcoef):
        _same(fn(b)[:, perm], fn(a))
        # class means are summed in sorted order: the same bits whatever the class order
        _same(fn(b, average="macro"), fn(a, average="macro"))
        _same(fn(b, average="weighted"), fn(a, average="weighted"))

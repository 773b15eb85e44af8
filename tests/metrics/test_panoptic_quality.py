"""Panoptic quality ``pq`` (and its factors ``sq``, ``rq``; ``@T`` thresholds), against
:func:`_reference_panoptic_quality` (a brute force on dense masks with exact fractions) and the
peers' own functions under their presets: torchmetrics' ``panoptic_quality`` and MONAI's
``compute_panoptic_quality`` / ``PanopticQualityMetric`` both match every pair with IoU > 0.5
(``preset='torchmetrics'`` / ``'monai'``: ``matching='unique', comparison='>'``, pooled, empty
cases 0). StarDist's and panoptica's PQ: test_instance_presets.py.

torchmetrics (CONVENTIONS-objects §3 #5): the background is declared a stuff and the thing row
is read with ``return_per_class=True`` (its default scalar averages it with the background's
"modified PQ"); it pools the images of one call. MONAI adds 1e-6 to its denominators, scores one
image per call, and its class averages the counts of a batch (``mean_batch``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore import instance_scores

from ._instances import batch, mixed_batch, tie_image
from ._peers import monai_metrics, torch, torchmetrics_segmentation

STRICT = {"matching": "unique", "comparison": ">"}
MONAI_TOL = {"rtol": 1e-5, "atol": 1e-5}  # its 1e-6 smoothing and float32 sums


def _reference_panoptic_quality(pred, target, threshold="0.5", comparison=">"):
    """(pq, sq, rq) of one image by Kirillov et al.'s formulas; NaN for 0/0.

    Thresholds >= 0.5 only: a pair passing IoU > 1/2 is the only pass of both its objects, and
    at IoU >= 1/2 two passes of one object are both exactly 1/2, so every one-to-one choice
    gives the same count and IoU sum. Here each object takes its first passing partner.
    """
    t = Fraction(threshold)
    assert t >= Fraction(1, 2)
    p_ids = [k for k in np.unique(pred) if k]
    g_ids = [k for k in np.unique(target) if k]
    used_g: set[int] = set()
    tp, iou_sum = 0, Fraction(0)
    for a in p_ids:
        for b in g_ids:
            p, g = pred == a, target == b
            inter = int((p & g).sum())
            if b in used_g or not inter:
                continue
            iou = Fraction(inter, int((p | g).sum()))
            if iou > t or (comparison == ">=" and iou == t):
                used_g.add(b)
                tp, iou_sum = tp + 1, iou_sum + iou
                break
    fp, fn = len(p_ids) - tp, len(g_ids) - tp
    den = Fraction(2 * tp + fp + fn, 2)
    pq = float(iou_sum / den) if den else math.nan
    sq = float(iou_sum / tp) if tp else math.nan
    rq = float(tp / den) if den else math.nan
    return pq, sq, rq


@pytest.mark.parametrize("threshold", ["0.5", "0.75", "1"])
@pytest.mark.parametrize("comparison", [">=", ">"])
def test_equals_the_reference(threshold, comparison):
    pred, target = mixed_batch(5)
    names = [f"{m}@{threshold}" for m in ("pq", "sq", "rq")]
    s = instance_scores(pred, target, names, comparison=comparison)
    for i in range(pred.shape[0]):
        ref = _reference_panoptic_quality(pred[i], target[i], threshold, comparison)
        np.testing.assert_allclose([s[n].per_image[i] for n in names], ref, rtol=1e-15, atol=0)


@settings(max_examples=60, deadline=None)
@given(
    pred=arrays(np.int64, (5, 6), elements=st.integers(0, 4)),
    target=arrays(np.int64, (5, 6), elements=st.integers(0, 4)),
    comparison=st.sampled_from([">=", ">"]),
)
def test_properties(pred, target, comparison):
    s = instance_scores(pred, target, ["pq", "sq", "rq"], comparison=comparison)
    pq, sq, rq = (s[k].value for k in ("pq", "sq", "rq"))
    np.testing.assert_allclose(
        [pq, sq, rq], _reference_panoptic_quality(pred, target, "0.5", comparison), rtol=1e-15
    )
    assert math.isnan(pq) or 0 <= pq <= rq <= 1
    if not math.isnan(sq):
        assert pq == pytest.approx(sq * rq, rel=1e-15)  # PQ = SQ x RQ
    swapped = instance_scores(target, pred, "pq", comparison=comparison)["pq"].value
    assert swapped == pq or (math.isnan(swapped) and math.isnan(pq))


def _tie_case():
    """A prediction covering two targets at IoU exactly 0.5, plus an exact match."""
    pred = np.array([[1, 1, 1, 1, 0, 5, 5]])
    target = np.array([[2, 2, 3, 3, 0, 4, 4]])
    return pred[None], target[None]


def _reference_pq_torchmetrics(pred: np.ndarray, target: np.ndarray):
    """(pq, sq, rq) of the thing class, pooled over the images."""
    torch()
    from torchmetrics.functional.detection import panoptic_quality

    def pan(a):
        return torch().from_numpy(np.stack([(a > 0).astype(np.int64), a.astype(np.int64)], axis=-1))

    value = panoptic_quality(
        pan(pred), pan(target), things={1}, stuffs={0}, return_sq_and_rq=True, return_per_class=True
    )
    row = value.reshape(-1, 3)[0].numpy()  # things first, then stuffs: row 0 is the thing
    return tuple(float(v) for v in row)


@pytest.mark.parametrize("case", ["seed0", "seed1", "ties"])
def test_pq_equals_torchmetrics(case):
    torchmetrics_segmentation()
    pred, target = (
        _tie_case() if case == "ties" else batch(int(case[-1]), n_images=2, shape=(48, 48))
    )
    ours = instance_scores(pred, target, ["pq", "sq", "rq"], preset="torchmetrics")
    ref = _reference_pq_torchmetrics(pred, target)
    strict = instance_scores(pred, target, ["pq"], aggregation="pooled", **STRICT)
    assert strict["pq"].value == ours["pq"].value
    np.testing.assert_allclose([ours[k].value for k in ("pq", "sq", "rq")], ref, rtol=1e-6)
    if case == "ties":  # '>=' (StarDist's rule) differs on the tie
        ge = instance_scores(pred, target, "pq", aggregation="pooled")["pq"].value
        assert ge > ours["pq"].value


def _reference_pq_monai(pred: np.ndarray, target: np.ndarray, name: str) -> float:
    m = monai_metrics()
    return float(
        m.compute_panoptic_quality(
            torch().from_numpy(pred.astype(np.int64)),
            torch().from_numpy(target.astype(np.int64)),
            metric_name=name,
        )
    )


@pytest.mark.parametrize("case", ["seed2", "seed3", "ties"])
def test_pq_per_image_equals_monai(case):
    pred, target = (
        _tie_case() if case == "ties" else batch(int(case[-1]), n_images=2, shape=(48, 48))
    )
    ours = instance_scores(pred, target, ["pq", "sq", "rq"], preset="monai")
    strict = instance_scores(pred, target, ["pq", "sq", "rq"], **STRICT)
    for name in ("pq", "sq", "rq"):
        ref = [_reference_pq_monai(pred[i], target[i], name) for i in range(pred.shape[0])]
        np.testing.assert_allclose(ours[name].per_image, ref, **MONAI_TOL)
        np.testing.assert_array_equal(strict[name].per_image, ours[name].per_image)


def test_monai_confusion_matrix_counts():
    pred, target = batch(9, n_images=2, shape=(48, 48))
    m = monai_metrics()
    ours = instance_scores(pred, target, ["tp@0.5", "fp@0.5", "fn@0.5"], preset="monai")
    for i in range(2):
        tp, fp, fn, _iou_sum = m.compute_panoptic_quality(
            torch().from_numpy(pred[i]), torch().from_numpy(target[i]), output_confusion_matrix=True
        ).tolist()
        assert [ours[k].per_image[i] for k in ("tp@0.5", "fp@0.5", "fn@0.5")] == [tp, fp, fn]


def _monai_class(pred: np.ndarray, target: np.ndarray, names, threshold=0.5):
    """PanopticQualityMetric(num_classes=1) on (B, 2, H, W) = (instance, class) tensors."""
    m = monai_metrics()

    def b2hw(a):
        return torch().from_numpy(np.stack([a, (a > 0).astype(a.dtype)], axis=1).astype(np.int64))

    metric = m.PanopticQualityMetric(
        num_classes=1, metric_name=list(names), match_iou_threshold=threshold
    )
    metric(b2hw(pred), b2hw(target))
    return [float(v.reshape(-1)[0]) for v in metric.aggregate()]


@pytest.mark.parametrize("seed", [0, 1])
def test_monai_class_pools_the_batch(seed):
    pred, target = mixed_batch(seed)
    names = ["pq", "sq", "rq"]
    ours = instance_scores(pred, target, names, preset="monai")
    np.testing.assert_allclose(
        [ours[k].value for k in names], _monai_class(pred, target, names), **MONAI_TOL
    )
    # at 0.75 as well (MONAI's one parameter)
    ours = instance_scores(pred, target, ["pq@0.75"], preset="monai")
    np.testing.assert_allclose(
        ours["pq@0.75"].value, _monai_class(pred, target, ["pq"], 0.75), **MONAI_TOL
    )


def test_monai_and_torchmetrics_empty_cases_are_zero():
    z = np.zeros((1, 4), np.int64)
    obj = np.array([[0, 3, 3, 0]])
    for pred, target in ((z, z), (obj, z), (z, obj)):
        for preset in ("monai", "torchmetrics"):
            s = instance_scores(pred, target, ["pq", "sq", "rq"], preset=preset)
            assert [s[k].value for k in ("pq", "sq", "rq")] == [0.0, 0.0, 0.0]
        assert [_reference_pq_monai(pred[0:1], target[0:1], k) for k in ("pq", "sq", "rq")] == [
            0,
            0,
            0,
        ]
        np.testing.assert_array_equal(
            _reference_pq_torchmetrics(pred[None], target[None]), [0, 0, 0]
        )


def test_monai_smoothing_on_identical_objects():
    # CONVENTIONS-objects §3 #10: identical objects give 0.999999 in MONAI, 1 here
    target = tie_image()[1]
    ours = instance_scores(target, target, "pq", preset="monai")["pq"].value
    assert ours == 1.0
    assert _reference_pq_monai(target, target, "pq") == pytest.approx(1 - 1e-6 / 5, abs=1e-7)

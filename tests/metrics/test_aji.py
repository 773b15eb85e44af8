"""Aggregated Jaccard index (Kumar 2017) and AJI+ (HoVer-Net), against dense references
written from HoVer-Net's ``get_fast_aji`` / ``get_fast_aji_plus`` (hover_net is not on PyPI)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from segscore import instance_scores, overlap_table
from segscore.metrics.instance.metrics import aggregated_jaccard

from ._instances import batch


def _dense(pred: np.ndarray, target: np.ndarray):
    t_ids = [i for i in np.unique(target) if i]
    p_ids = [i for i in np.unique(pred) if i]
    inter = np.array([[np.sum((target == a) & (pred == b)) for b in p_ids] for a in t_ids]).reshape(
        len(t_ids), len(p_ids)
    )
    t_area = np.array([np.sum(target == a) for a in t_ids])
    p_area = np.array([np.sum(pred == b) for b in p_ids])
    union = t_area[:, None] + p_area[None, :] - inter
    return inter, union, t_area, p_area


def _reference_aji(pred: np.ndarray, target: np.ndarray) -> float:
    """get_fast_aji: each target takes its best-IoU prediction (argmax: the first of ties)."""
    inter, union, t_area, p_area = _dense(pred, target)
    if inter.size == 0:
        total = t_area.sum() + p_area.sum()
        return 0.0 if total else np.nan
    iou = inter / union
    best = np.argmax(iou, axis=1)
    paired = np.flatnonzero(iou.max(axis=1) > 0)
    i_sum = inter[paired, best[paired]].sum()
    u_sum = union[paired, best[paired]].sum()
    u_sum += t_area[np.setdiff1d(np.arange(len(t_area)), paired)].sum()
    u_sum += p_area[np.setdiff1d(np.arange(len(p_area)), best[paired])].sum()
    return i_sum / u_sum


def _reference_aji_plus(pred: np.ndarray, target: np.ndarray) -> float:
    """get_fast_aji_plus: Hungarian assignment maximising the IoU sum, pairs with IoU > 0."""
    inter, union, t_area, p_area = _dense(pred, target)
    if inter.size == 0:
        total = t_area.sum() + p_area.sum()
        return 0.0 if total else np.nan
    iou = inter / union
    rows, cols = linear_sum_assignment(-iou)
    keep = iou[rows, cols] > 0
    rows, cols = rows[keep], cols[keep]
    i_sum = inter[rows, cols].sum()
    u_sum = union[rows, cols].sum()
    u_sum += t_area[np.setdiff1d(np.arange(len(t_area)), rows)].sum()
    u_sum += p_area[np.setdiff1d(np.arange(len(p_area)), cols)].sum()
    return i_sum / u_sum


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_aji_equals_reference(seed):
    pred, target = batch(seed, n_images=3, shape=(48, 48))
    s = instance_scores(pred, target, ["aji", "aji+"])
    for i in range(3):
        assert s["aji"].per_image[i] == pytest.approx(_reference_aji(pred[i], target[i]), rel=1e-15)
        assert s["aji+"].per_image[i] == pytest.approx(
            _reference_aji_plus(pred[i], target[i]), rel=1e-15
        )


def test_one_prediction_over_two_targets():
    # CONVENTIONS-objects §3 #8: Kumar 0.5, AJI+ 1/3
    pred = np.array([[1, 1, 1, 1]])
    target = np.array([[2, 2, 3, 3]])
    s = instance_scores(pred, target, ["aji", "aji+"])
    assert (s["aji"].value, s["aji+"].value) == (0.5, 1 / 3)


def test_pooled_is_sum_of_integers():
    pred, target = batch(5, n_images=3, shape=(48, 48))
    i, u = aggregated_jaccard(overlap_table(pred, target))
    assert i.dtype == u.dtype == np.int64
    pooled = instance_scores(pred, target, "aji", aggregation="pooled")["aji"].value
    assert pooled == i.sum() / u.sum()


def test_empty_cases():
    z = np.zeros((1, 4), int)
    one = np.array([[0, 3, 3, 0]])
    assert np.isnan(instance_scores(z, z, "aji")["aji"].value)
    assert instance_scores(one, z, "aji")["aji"].value == 0.0
    assert instance_scores(z, one, "aji+")["aji+"].value == 0.0

"""Aggregated Jaccard index: ``aji`` (Kumar 2017), ``aji+`` (HoVer-Net) and ``aji_cellpose``
(cellpose 4.2.1.1), against dense references written from HoVer-Net's ``get_fast_aji`` /
``get_fast_aji_plus`` (hover_net is not on PyPI) and from cellpose's definition, and against
cellpose's ``aggregated_jaccard_index`` itself."""

from __future__ import annotations

import itertools
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linear_sum_assignment

from segscore import InputError, instance_scores, overlap_table
from segscore.metrics.instance.metrics import aggregated_jaccard

from ._instances import batch, compact_ids, mixed_batch
from ._peers import cellpose_metrics


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


def _reference_aji_cellpose(pred: np.ndarray, target: np.ndarray) -> set[float]:
    """cellpose's AJI by enumeration (small images only): every one-to-one assignment of
    min(G, P) pairs, keeping those with the most pairs at IoU >= 1/2, then the largest IoU sum
    (exact fractions); I = the assigned pairs' intersections, U = the foreground union.

    Returns the AJI of every optimal assignment (they can differ when IoU sums tie exactly;
    cellpose's Hungarian algorithm picks one of them).
    """
    inter, union, _, _ = _dense(pred, target)
    fg = int(((pred > 0) | (target > 0)).sum())
    if inter.size == 0:
        return {0.0 if fg else np.nan}
    g, p = inter.shape
    options: dict[tuple[int, Fraction], set[int]] = {}
    for chosen in itertools.permutations(range(max(g, p)), min(g, p)):
        pairs = (
            list(zip(range(g), chosen, strict=True))
            if g <= p
            else list(zip(chosen, range(p), strict=True))
        )
        key = (
            sum(2 * inter[a, b] >= union[a, b] for a, b in pairs),
            sum(Fraction(int(inter[a, b]), int(union[a, b])) for a, b in pairs),
        )
        options.setdefault(key, set()).add(sum(int(inter[a, b]) for a, b in pairs))
    return {i / fg for i in options[max(options)]}


small_maps = arrays(np.int64, (4, 5), elements=st.integers(0, 4))


@settings(max_examples=60, deadline=None)
@given(pred=small_maps, target=small_maps)
def test_aji_cellpose_equals_reference(pred, target):
    value = instance_scores(pred, target, "aji_cellpose")["aji_cellpose"].value
    allowed = _reference_aji_cellpose(pred, target)
    assert any(v == value or (np.isnan(v) and np.isnan(value)) for v in allowed), (value, allowed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aji_cellpose_equals_cellpose(seed):
    cp = cellpose_metrics()
    pred, target = mixed_batch(seed)
    pred, target = (np.stack([compact_ids(a) for a in x]) for x in (pred, target))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its 0/0 for absent ids and the image without objects
        ref = cp.aggregated_jaccard_index(list(target), list(pred))
    s = instance_scores(pred, target, ["aji_cellpose", "aji"], preset="cellpose")
    np.testing.assert_allclose(s["aji_cellpose"].per_image, ref, rtol=1e-15, atol=0)
    assert s["aji_cellpose"].conventions.instance == {"variant": "cellpose"}
    assert not np.allclose(s["aji"].per_image[:3], ref[:3])  # Kumar's AJI is another number


def test_the_three_variants_on_one_merge():
    # CONVENTIONS-objects §3 #8: one prediction covering two targets: 1/2, 1/3, 1/2
    pred, target = np.array([[1, 1, 1, 1]]), np.array([[2, 2, 3, 3]])
    s = instance_scores(pred, target, ["aji", "aji+", "aji_cellpose"])
    assert [s[k].value for k in ("aji", "aji+", "aji_cellpose")] == [0.5, 1 / 3, 0.5]
    tables = overlap_table(pred, target)
    assert aggregated_jaccard(tables, variant="one_to_one") == aggregated_jaccard(
        tables, one_to_one=True
    )
    with pytest.raises(
        InputError, match=r"`variant` must be one of 'kumar', 'one_to_one', 'cellpose'"
    ):
        aggregated_jaccard(tables, variant="hovernet")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"`one_to_one` must be False with `variant`='cellpose'"):
        aggregated_jaccard(tables, one_to_one=True, variant="cellpose")

"""Object detection scores: ``f1@T``, ``precision@T``, ``recall@T``, ``dsb@T`` and ``dsb@A:B``
(and the counts ``tp@T``, ``fp@T``, ``fn@T`` they are made of), on the one vocabulary: registry
names, aggregation, empty cases, sweeps; against :func:`_reference_object_f1`, a brute force on
dense masks with exact fractions and Kuhn's augmenting paths (no overlap table, no Hungarian
algorithm). StarDist's ``matching`` is the peer reference (test_instance_matching.py,
test_instance_presets.py)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore import METRICS, EmptyPolicy, InputError, get_metric, instance_scores, overlap_table
from segscore.metrics.instance.metrics import InstanceCounts, instance_counts, score_tables
from segscore.metrics.registry import describe, parse_metrics

from ._instances import batch, tie_image


def _objects(labels: np.ndarray) -> list[np.ndarray]:
    return [labels == k for k in np.unique(labels) if k != 0]


def _max_matching(edges: list[list[int]], n_right: int) -> int:
    """Size of a maximum matching of a bipartite graph (Kuhn's augmenting paths)."""
    partner = [-1] * n_right

    def augment(u: int, seen: set[int]) -> bool:
        for v in edges[u]:
            if v not in seen:
                seen.add(v)
                if partner[v] == -1 or augment(partner[v], seen):
                    partner[v] = u
                    return True
        return False

    return sum(augment(u, set()) for u in range(len(edges)))


def _reference_object_f1(pred, target, threshold, comparison=">="):
    """(tp, fp, fn, precision, recall, f1, dsb) of one image; NaN for 0/0.

    A pair matches when its IoU, an exact fraction of pixel counts, passes the threshold; tp is
    the size of a maximum one-to-one matching of the passing pairs (the most matches: every
    matching rule gives this at thresholds >= 0.5, where passing pairs form disjoint stars).
    """
    t = Fraction(threshold)
    p_objs, g_objs = _objects(pred), _objects(target)
    edges = []
    for p in p_objs:
        row = []
        for j, g in enumerate(g_objs):
            inter = int((p & g).sum())
            if inter:
                iou = Fraction(inter, int((p | g).sum()))
                if iou > t or (comparison == ">=" and iou == t):
                    row.append(j)
        edges.append(row)
    tp = _max_matching(edges, len(g_objs))
    fp, fn = len(p_objs) - tp, len(g_objs) - tp

    def ratio(a, b):
        return a / b if b else math.nan

    return (
        tp,
        fp,
        fn,
        ratio(tp, tp + fp),
        ratio(tp, tp + fn),
        ratio(2 * tp, 2 * tp + fp + fn),
        ratio(tp, tp + fp + fn),
    )


F1_NAMES = ("tp", "fp", "fn", "precision", "recall", "f1", "dsb")


def _ours(pred, target, threshold, **kwargs):
    s = instance_scores(pred, target, [f"{m}@{threshold}" for m in F1_NAMES], **kwargs)
    return [s[f"{m}@{threshold}"].per_image for m in F1_NAMES]


@pytest.mark.parametrize("threshold", ["0.5", "0.6", "0.75", "0.9", "1"])
@pytest.mark.parametrize("comparison", [">=", ">"])
def test_equals_the_reference(threshold, comparison):
    pred, target = batch(4, n_images=3, shape=(40, 40))
    tie_p, tie_t = tie_image()
    pred, target = np.concatenate([pred, tie_p[None]]), np.concatenate([target, tie_t[None]])
    ours = _ours(pred, target, threshold, comparison=comparison)
    for i in range(pred.shape[0]):
        ref = _reference_object_f1(pred[i], target[i], threshold, comparison)
        np.testing.assert_allclose([o[i] for o in ours], ref, rtol=1e-15, atol=0)


small_maps = arrays(np.int64, (5, 6), elements=st.integers(0, 4))


@settings(max_examples=60, deadline=None)
@given(
    pred=small_maps,
    target=small_maps,
    threshold=st.sampled_from(["0.5", "0.6", "0.75", "1"]),
    comparison=st.sampled_from([">=", ">"]),
)
def test_properties(pred, target, threshold, comparison):
    ours = [o[0] for o in _ours(pred, target, threshold, comparison=comparison)]
    ref = _reference_object_f1(pred, target, threshold, comparison)
    np.testing.assert_allclose(ours, ref, rtol=1e-15, atol=0)
    # precision(p, t) == recall(t, p): guards the argument order
    swapped = [o[0] for o in _ours(target, pred, threshold, comparison=comparison)]
    np.testing.assert_array_equal(ours[3], swapped[4])
    assert ours[5] == swapped[5] or (math.isnan(ours[5]) and math.isnan(swapped[5]))


@pytest.mark.parametrize(
    ("name", "base", "unit", "params"),
    [
        ("f1@0.5", "f1", "ratio", {"threshold": 0.5}),
        ("precision@0.75", "precision", "ratio", {"threshold": 0.75}),
        ("recall@1", "recall", "ratio", {"threshold": 1.0}),
        ("dsb@0.5", "dsb", "ratio", {"threshold": 0.5}),
        ("dsb@0.5:0.95", "dsb", "ratio", {"low": 0.5, "high": 0.95, "step": 0.05}),
        ("dsb@0.5:0.9:0.1", "dsb", "ratio", {"low": 0.5, "high": 0.9, "step": 0.1}),
        ("pq", "pq", "ratio", {"threshold": 0.5}),
        ("sq@0.6", "sq", "ratio", {"threshold": 0.6}),
        ("aji+", "aji+", "ratio", {}),
        ("tp@0.5", "tp", "count", {"threshold": 0.5}),
    ],
)
def test_registry_names(name, base, unit, params):
    spec = get_metric(name, kind="instance")
    assert (spec.kind, spec.base, spec.unit, dict(spec.params)) == ("instance", base, unit, params)
    assert spec.higher_is_better is True


def test_registry_lists_and_refuses():
    assert [n for n, s in METRICS.items() if s.kind == "instance"] == [
        "pq",
        "sq",
        "rq",
        "aji",
        "aji+",
        "aji_cellpose",
        "lesion_dice",
        "lesion_hd95",
        "lesion_tp",
        "lesion_fp",
        "lesion_fn",
    ]
    assert (
        "instance: f1@T, precision@T, recall@T, dsb@T, dsb@A:B, pq, sq, rq, aji, aji+, "
        "aji_cellpose" in describe()
    )
    assert get_metric("precision").kind == "overlap"  # the pixel metric keeps its name
    for bad in ("f1@1.5", "f1@0"):
        with pytest.raises(InputError, match=r"`metric` must give f1 a matching threshold in"):
            get_metric(bad)
    with pytest.raises(InputError, match=r"`metric` must be one of"):
        get_metric("dsb@0.9:0.5")
    with pytest.raises(InputError, match=r"must be an instance metric here, got 'iou'"):
        instance_scores(np.zeros((2, 2), int), np.zeros((2, 2), int), "iou")
    with pytest.raises(InputError, match=r"got 'lesion_dice': lesion metrics are computed from"):
        instance_scores(np.zeros((2, 2), int), np.zeros((2, 2), int), "lesion_dice")
    assert [s.name for s in parse_metrics("f1@0.5,dsb@0.5:0.95,pq,aji")] == [
        "f1@0.5",
        "dsb@0.5:0.95",
        "pq",
        "aji",
    ]


def test_empty_cases_default_and_policy():
    z = np.zeros((1, 4), int)
    obj = np.array([[0, 3, 3, 0]])
    pred = np.stack([z, obj, z, obj])
    target = np.stack([z, z, obj, obj])  # both_empty, target_empty, prediction_empty, both_present
    names = ["precision@0.5", "recall@0.5", "f1@0.5", "dsb@0.5", "pq", "sq", "tp@0.5", "fp@0.5"]
    s = instance_scores(pred, target, names)
    nan = math.nan
    expected = {
        "precision@0.5": [nan, 0, nan, 1],
        "recall@0.5": [nan, nan, 0, 1],
        "f1@0.5": [nan, 0, 0, 1],
        "dsb@0.5": [nan, 0, 0, 1],
        "pq": [nan, 0, 0, 1],
        "sq": [nan, nan, nan, 1],
        "tp@0.5": [0, 0, 0, 1],
        "fp@0.5": [0, 1, 0, 0],
    }
    for name, values in expected.items():
        np.testing.assert_array_equal(s[name].per_image, values)
    assert s["f1@0.5"].empty_cases == {
        "both_empty": 1,
        "target_empty": 1,
        "prediction_empty": 1,
        "both_present": 1,
    }
    assert (s["f1@0.5"].value, s["f1@0.5"].n_valid, s["f1@0.5"].n_nan) == (1 / 3, 3, 1)
    zero = instance_scores(pred, target, names, empty=0.0)  # StarDist's choice
    assert zero["sq"].per_image.tolist() == [0, 0, 0, 1]
    policy = EmptyPolicy(both_empty=1.0)
    assert instance_scores(pred, target, "f1@0.5", empty=policy)["f1@0.5"].per_image.tolist() == [
        1,
        0,
        0,
        1,
    ]


def test_pooled_and_per_image_aggregation():
    pred, target = batch(3, n_images=4)
    c = instance_counts(overlap_table(pred, target))
    tp, fp, fn = (int(getattr(c, f).sum()) for f in ("tp", "fp", "fn"))
    pooled = instance_scores(pred, target, ["f1@0.5", "tp@0.5"], aggregation="pooled")
    assert pooled["f1@0.5"].value == 2 * tp / (2 * tp + fp + fn)
    assert pooled["tp@0.5"].value == tp
    per_image = instance_scores(pred, target, ["f1@0.5", "tp@0.5"])
    assert per_image["f1@0.5"].value == pytest.approx(
        np.mean(per_image["f1@0.5"].per_image), rel=1e-15
    )
    assert per_image["tp@0.5"].value == tp / 4
    conv = per_image["f1@0.5"].conventions
    assert (conv.kind, conv.metric, conv.aggregation) == (
        "instance",
        "f1@0.5",
        "images_then_classes",
    )
    assert conv.as_dict()["instance"] == {
        "matching": "optimal",
        "criterion": "iou",
        "comparison": ">=",
        "thresholds": ["1/2"],
    }


def test_sweep_is_the_mean_of_its_thresholds():
    pred, target = batch(8, n_images=3)
    ts = [f"{0.5 + 0.05 * k:.2f}" for k in range(10)]
    s = instance_scores(pred, target, ["dsb@0.5:0.95", *(f"dsb@{t}" for t in ts)])
    per_image = np.mean([s[f"dsb@{t}"].per_image for t in ts], axis=0)
    np.testing.assert_allclose(s["dsb@0.5:0.95"].per_image, per_image, rtol=1e-15)
    pooled = instance_scores(
        pred, target, ["dsb@0.5:0.95", *(f"dsb@{t}" for t in ts)], aggregation="pooled"
    )
    assert pooled["dsb@0.5:0.95"].value == pytest.approx(
        np.mean([pooled[f"dsb@{t}"].value for t in ts]), rel=1e-15
    )


def test_counts_merge_exactly():
    pred, target = batch(12, n_images=4)
    tables = overlap_table(pred, target)
    whole = instance_counts(tables, thresholds=(0.5, 0.75))
    parts = InstanceCounts.concat(
        [
            instance_counts(tables[2:], thresholds=(0.5, 0.75)),
            instance_counts(tables[:2], thresholds=(0.5, 0.75)),
        ]
    )
    order = [2, 3, 0, 1]
    for f in ("tp", "fp", "fn", "score_sum", "n_pred", "n_target"):
        np.testing.assert_array_equal(getattr(parts, f), getattr(whole, f)[order])
    a = score_tables(tables, "pq", aggregation="pooled")["pq"].value
    b = score_tables([tables[k] for k in order], "pq", aggregation="pooled")["pq"].value
    assert a == b  # exactly rounded sums: the order of images does not change a bit
    with pytest.raises(InputError, match=r"counts to join must have the same thresholds"):
        InstanceCounts.concat([whole, instance_counts(tables)])


def test_matching_options_reach_the_scores():
    pred = np.array([[[1, 1, 1, 1, 0]]])
    target = np.array([[[2, 2, 3, 3, 0]]])
    assert instance_scores(pred, target, "tp@0.5")["tp@0.5"].value == 1
    assert instance_scores(pred, target, "tp@0.5", comparison=">")["tp@0.5"].value == 0
    with pytest.raises(InputError, match=r"`aggregation` must be one of"):
        instance_scores(pred, target, "pq", aggregation="mean")  # type: ignore[arg-type]

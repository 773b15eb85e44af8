"""The peers' own published test cases, re-expressed under the matching segscore preset.

Each case is re-typed from the peer's test file (inputs and expected numbers; the code is
segscore's), cited by repository, path and commit. Where the peer's case needs an option its
preset does not hold (MONAI below IoU 0.5, panoptica's strict threshold), the options are spelled
out and the reason given.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from segscore import InputError, instance_scores, label_components
from segscore.metrics.presets import get_preset

# -- StarDist: stardist/stardist, tests/test_matching.py @ 0e988639d59122b5fb90c75435edfc5913353f03


def _circles(width: int = 128, n_circles: int = 5) -> np.ndarray:
    """test_matching's label image: 5 disks (skimage.draw.disk: strictly inside the radius)."""
    y = np.zeros((width, width), np.uint16)
    rows, cols = np.indices(y.shape)
    radius = width // (3 * n_circles)
    for i, c in enumerate(np.linspace(0, width, n_circles + 2)[1:-1]):
        y[(rows - width // 2) ** 2 + (cols - c) ** 2 < radius**2] = i + 1
    return y


@pytest.mark.parametrize("shift", [0, 5, 10])
def test_stardist_matching(shift):
    y = _circles()
    y2 = np.roll(y, shift, axis=0)
    iou = np.sum((y2 == y)[y > 0]) / np.sum((y + y2) > 0)  # one pixel ratio over all disks
    low = f"{0.5 * iou:.12g}"
    s = instance_scores(y2, y, [f"tp@{low}", f"fp@{low}", f"fn@{low}"], preset="stardist")
    assert [s[f"{k}@{low}"].value for k in ("tp", "fp", "fn")] == [5, 0, 0]
    if 2 * iou > 1:  # StarDist: no match above 1; segscore refuses such a threshold
        with pytest.raises(
            InputError, match=r"`metrics` must give tp a matching threshold in \(0, 1\], got 'tp@2'"
        ):
            instance_scores(y2, y, f"tp@{2 * iou:.12g}", preset="stardist")
        return
    high = f"{2 * iou:.12g}"
    s = instance_scores(y2, y, [f"tp@{high}", f"fp@{high}", f"fn@{high}"], preset="stardist")
    assert [s[f"{k}@{high}"].value for k in ("tp", "fp", "fn")] == [0, 5, 5]


def test_stardist_grouping_shuffled_labels_match_at_one():
    # test_grouping: the same objects under shuffled ids match at threshold 1 (accuracy 1); its
    # image (stardist.data.test_image_nuclei_2d) is replaced by seeded touching objects here
    from ._instances import random_instances

    y0 = random_instances(np.random.default_rng(0), (64, 64), n=20)
    ids = np.unique(y0)
    shuffled = np.zeros(ids.max() + 1, np.int64)
    shuffled[ids[1:]] = np.random.default_rng(1).permutation(ids[1:])
    y1 = shuffled[y0]
    assert not np.array_equal(y0, y1)
    assert instance_scores(y1, y0, "dsb@1", preset="stardist")["dsb@1"].value == 1.0


# -- MONAI: Project-MONAI/MONAI, tests/metrics/test_compute_panoptic_quality.py
#    @ 0eb610ad4083386c53d7ad928a7a628f86a0875f (expected values at atol 1e-4, as there)

SAMPLE_2_PRED = np.array([[0, 1, 1, 1], [0, 0, 0, 0], [2, 0, 3, 3], [4, 2, 2, 0]])
SAMPLE_2_PRED_REMAP = np.array([[0, 7, 7, 7], [0, 0, 0, 0], [1, 0, 8, 8], [9, 1, 1, 0]])
SAMPLE_2_GT = np.array([[1, 1, 2, 1], [0, 0, 0, 0], [1, 3, 0, 0], [4, 3, 3, 3]])
# (B, 2, H, W): instance channel, then class channel
SAMPLE_3_PRED = np.array(
    [
        [[[2, 0, 1], [2, 1, 1], [0, 1, 1]], [[0, 1, 3], [0, 0, 0], [1, 2, 1]]],
        [[[1, 1, 1], [3, 2, 0], [3, 2, 1]], [[1, 1, 3], [3, 1, 1], [0, 3, 0]]],
    ]
)
SAMPLE_3_GT = np.array(
    [
        [[[2, 0, 0], [2, 0, 0], [2, 2, 3]], [[3, 3, 3], [3, 2, 1], [2, 2, 3]]],
        [[[1, 1, 1], [0, 0, 3], [0, 0, 3]], [[0, 1, 3], [2, 1, 0], [3, 0, 3]]],
    ]
)
# Below IoU 0.5 MONAI matches by the largest IoU sum, then keeps IoU > t: no segscore rule, and
# preset='monai' ('unique') refuses such thresholds. On these cases segscore's 'optimal' (most
# matches, then largest IoU sum) with MONAI's other conventions gives MONAI's numbers.
MONAI_LOW = {"matching": "optimal", "comparison": ">", "aggregation": "pooled", "empty": 0.0}


def test_monai_function_cases():
    sample_1 = np.random.default_rng(0).integers(0, 5, size=(64, 64))  # TEST_FUNC_CASE_1
    assert instance_scores(sample_1, sample_1, "pq@0.99", preset="monai")["pq@0.99"].value == 1.0
    pq = instance_scores(SAMPLE_2_PRED, SAMPLE_2_GT, "pq", preset="monai")["pq"].value
    assert pq == pytest.approx(0.25, abs=1e-4)  # TEST_FUNC_CASE_2
    sq = instance_scores(SAMPLE_2_PRED, SAMPLE_2_GT, "sq@0.3", **MONAI_LOW)["sq@0.3"].value
    assert sq == pytest.approx(0.6, abs=1e-4)  # TEST_FUNC_CASE_3
    rq = instance_scores(SAMPLE_2_PRED_REMAP, SAMPLE_2_GT, "rq@0.3", **MONAI_LOW)["rq@0.3"].value
    assert rq == pytest.approx(0.75, abs=1e-4)  # TEST_FUNC_CASE_4 (ids need remapping there)
    with pytest.raises(InputError, match=r"`matching='unique'` needs a threshold"):
        instance_scores(SAMPLE_2_PRED, SAMPLE_2_GT, "sq@0.3", preset="monai")


def _monai_class_scores(metric: str, threshold: str, num_classes: int) -> list:
    """PanopticQualityMetric's per-class objects: (class == c) * instance, c = 1..num_classes."""
    options = {"preset": "monai"} if threshold == "0.5" else MONAI_LOW
    out = []
    for c in range(1, num_classes + 1):
        pred = SAMPLE_3_PRED[:, 0] * (SAMPLE_3_PRED[:, 1] == c)
        target = SAMPLE_3_GT[:, 0] * (SAMPLE_3_GT[:, 1] == c)
        out.append(
            instance_scores(pred, target, f"{metric}@{threshold}", **options)[
                f"{metric}@{threshold}"
            ]
        )
    return out


@pytest.mark.parametrize(
    ("case", "metric", "threshold", "num_classes", "expected"),
    [
        ("TEST_CLS_CASE_1", "pq", "0.5", 3, [0.0, 0.0, 0.25]),
        ("TEST_CLS_CASE_2", "pq", "0.3", 3, [0.25, 0.5, 0.25]),
        ("TEST_CLS_CASE_3", "sq", "0.3", 4, [0.5, 0.5, 1.0, 0.0]),
    ],
)
def test_monai_class_cases(case, metric, threshold, num_classes, expected):
    # reduction 'mean_batch': the counts of the two images pooled, per class
    got = [s.value for s in _monai_class_scores(metric, threshold, num_classes)]
    np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=case)


def test_monai_class_cases_per_image():
    # TEST_CLS_CASE_4 and _5: reduction 'none' at t = 0.4, rows = images, columns = classes
    rq = np.stack([s.per_image for s in _monai_class_scores("rq", "0.4", 3)], axis=1)
    pq = np.stack([s.per_image for s in _monai_class_scores("pq", "0.4", 3)], axis=1)
    np.testing.assert_allclose(rq, [[0.0, 1.0, 0.0], [0.6667, 0.0, 0.4]], atol=1e-4)
    np.testing.assert_allclose(pq, [[0.0, 0.5, 0.0], [0.3333, 0.0, 0.4]], atol=1e-4)


def test_monai_3d_support():
    # test_3d_support (shape only there): one value per class for a (B, 2, H, W, D) input
    pred = np.array([[[[[2, 0], [1, 1]], [[0, 1], [2, 1]]], [[[0, 1], [3, 0]], [[1, 0], [1, 1]]]]])
    gt = np.array([[[[[2, 0], [0, 0]], [[2, 2], [2, 3]]], [[[3, 3], [3, 2]], [[2, 2], [3, 3]]]]])
    for c in (1, 2, 3):
        p, t = pred[:, 0] * (pred[:, 1] == c), gt[:, 0] * (gt[:, 1] == c)
        value = instance_scores(p, t, "pq", spatial_dims=3, preset="monai")["pq"].value
        assert 0.0 <= value <= 1.0


# -- torchmetrics: Lightning-AI/torchmetrics, tests/unittests/detection/test_panoptic_quality.py
#    @ dab033394560ab3ce05e3d14c13f32e4cde6b351. Points are (category, instance). torchmetrics
#    scores each category's segments (things: one per instance id; stuffs: one per category)
#    and averages the categories that have a segment; segscore scores one category's objects,
#    so each category becomes one instance map and the test takes the same mean.

INPUTS_0_PRED = np.array(
    [
        [[6, 0], [0, 0], [6, 0], [6, 0], [0, 1]],
        [[0, 0], [0, 0], [6, 0], [0, 1], [0, 1]],
        [[0, 0], [0, 0], [6, 0], [0, 1], [1, 0]],
        [[0, 0], [7, 0], [6, 0], [1, 0], [1, 0]],
        [[0, 0], [7, 0], [7, 0], [7, 0], [7, 0]],
    ]
)
INPUTS_0_TARGET = np.array(
    [
        [[6, 0], [6, 0], [6, 0], [6, 0], [0, 0]],
        [[0, 1], [0, 1], [6, 0], [0, 0], [0, 0]],
        [[0, 1], [0, 1], [6, 0], [1, 0], [1, 0]],
        [[0, 1], [7, 0], [7, 0], [1, 0], [1, 0]],
        [[0, 1], [7, 0], [7, 0], [7, 0], [7, 0]],
    ]
)
INPUTS_1_PRED = np.array([[10, 0], [10, 123], [0, 1], [10, 0], [1, 2]])
INPUTS_1_TARGET = np.array([[10, 0], [10, 0], [0, 0], [0, 1], [1, 0]])


def _torchmetrics_mean_pq(pred, target, things, stuffs, copies=2):
    """The mean over categories with a segment of segscore's PQ (preset='torchmetrics'), the
    inputs repeated ``copies`` times as the test's batches are."""
    values = []
    for c in sorted(set(things) | set(stuffs)):

        def objects(a, c=c):
            inside = a[..., 0] == c
            ids = np.where(inside, a[..., 1] + 1 if c in things else 1, 0)
            return np.stack([ids] * copies)

        s = instance_scores(
            objects(pred),
            objects(target),
            ["pq", "tp@0.5", "fp@0.5", "fn@0.5"],
            preset="torchmetrics",
        )
        if s["tp@0.5"].value + s["fp@0.5"].value + s["fn@0.5"].value > 0:
            values.append(s["pq"].value)
    return float(np.mean(values)) if values else math.nan


def test_torchmetrics_inputs_0():
    got = _torchmetrics_mean_pq(INPUTS_0_PRED, INPUTS_0_TARGET, {0, 1}, {6, 7})
    assert got == pytest.approx(0.7753, abs=1e-4)  # _reference_fn_0_0
    # _ARGS_1 = things {2}, stuffs {3}: no category has a segment: NaN (_reference_fn_0_1)
    assert math.isnan(_torchmetrics_mean_pq(INPUTS_0_PRED, INPUTS_0_TARGET, {2}, {3}))
    # test_extreme_values: the target against itself gives 1
    assert _torchmetrics_mean_pq(INPUTS_0_TARGET, INPUTS_0_TARGET, {0, 1}, {6, 7}) == 1.0


def test_torchmetrics_inputs_1():
    got = _torchmetrics_mean_pq(INPUTS_1_PRED, INPUTS_1_TARGET, {0, 1}, {10, 11})
    assert got == pytest.approx((2 / 3 + 1 + 2 / 3) / 3, rel=1e-15)  # _reference_fn_1_2


@pytest.mark.parametrize("kind", ["things", "stuffs"])
@pytest.mark.parametrize("classes", [(0, 2, 1), (0, 3, 2), (0, 10, 2)])
def test_torchmetrics_class_order(kind, classes):
    # _get_class_order_test_input_args: per class, in sorted class order: [1, 0, 2/3]
    a, b, c = ([k, 0] for k in classes)
    pred, target = np.array([a, a, b, b, b, c]), np.array([a, a, b, b, c, c])
    things = set(classes) if kind == "things" else set()
    per_class = []
    for k in sorted(classes):
        per_class.append(_torchmetrics_mean_pq(pred, target, things & {k}, {k} - things))
    order = {k: v for k, v in zip(sorted(classes), per_class, strict=True)}
    np.testing.assert_allclose([order[k] for k in sorted(classes)], [1, 0, 2 / 3], rtol=1e-15)


# -- panoptica: BrainLesion/panoptica, unit_tests/test_panoptic_evaluator.py and
#    unit_tests/test_matcher_variations.py @ b0ac3e41d9886b839c73d2eda7f56b5c561213e4 (installed:
#    2.1.7). SEMANTIC inputs go through connected components with the preset's connectivity.


def _semantic(pred: np.ndarray, target: np.ndarray, names: list[str]):
    conn = get_preset("panoptica").instance.connectivity_for(pred.ndim)
    p, t = (label_components(m > 0, connectivity=conn) for m in (pred, target))
    return instance_scores(p, t, names, preset="panoptica")


PANOPTICA_NAMES = ["tp@0.5", "fp@0.5", "fn@0.5", "sq", "pq", "rq"]


def _square(*boxes: tuple[int, int, int, int, int]) -> np.ndarray:
    a = np.zeros((50, 50), np.uint16)
    for r0, r1, c0, c1, v in boxes:
        a[r0:r1, c0:c1] = v
    return a


@pytest.mark.parametrize(
    ("test", "pred", "target", "expected"),
    [
        # (tp, fp, fn, sq, pq); rq where the test states it
        (
            "test_simple_evaluation",
            [(20, 35, 10, 20, 2)],
            [(20, 40, 10, 20, 1)],
            (1, 0, None, 0.75, 0.75),
        ),
        ("test_pred_empty", [], [(20, 40, 10, 20, 1)], (0, 0, 1, 0.0, 0.0)),
        ("test_no_TP_but_overlap", [(20, 25, 10, 15, 2)], [(20, 40, 10, 20, 1)], (0, 1, 1, 0, 0)),
        ("test_ref_empty", [(20, 35, 10, 20, 2)], [], (0, 1, 0, 0.0, 0.0)),
    ],
)
def test_panoptica_evaluator_semantic(test, pred, target, expected):
    s = _semantic(_square(*pred), _square(*target), PANOPTICA_NAMES)
    got = (s["tp@0.5"].value, s["fp@0.5"].value, s["fn@0.5"].value, s["sq"].value, s["pq"].value)
    for g, e in zip(got, expected, strict=True):
        if e is not None:
            assert g == e, test


def test_panoptica_both_empty_and_dtypes():
    z = _square()
    s = _semantic(z, z, PANOPTICA_NAMES)  # test_both_empty
    assert [s[k].value for k in ("tp@0.5", "fp@0.5", "fn@0.5")] == [0, 0, 0]
    assert math.isnan(s["sq"].value)
    assert math.isnan(s["pq"].value)
    dtypes = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
    for da in dtypes:  # test_dtype_evaluation
        for db in dtypes:
            target = _square((20, 40, 10, 20, 1)).astype(da)
            pred = _square((20, 35, 10, 20, 2)).astype(db)
            s = _semantic(pred, target, PANOPTICA_NAMES)
            assert (s["tp@0.5"].value, s["fp@0.5"].value, s["sq"].value, s["pq"].value) == (
                1,
                0,
                0.75,
                0.75,
            )


def test_panoptica_unmatched_instances():
    # test_simple_evaluation_instance_multiclass: two reference instances, one prediction
    target = _square((20, 30, 10, 20, 1), (30, 40, 10, 20, 3))
    pred = _square((20, 35, 10, 20, 2))
    s = instance_scores(pred, target, PANOPTICA_NAMES, preset="panoptica")
    assert [s[k].value for k in ("tp@0.5", "fp@0.5", "fn@0.5")] == [1, 0, 1]
    assert s["sq"].value == pytest.approx(0.6666666666666666, rel=1e-15)
    assert s["pq"].value == pytest.approx(0.4444444444444444, rel=1e-15)


def test_panoptica_result_counts():
    # test_panoptic_result.py test_simple_evaluation: 2 reference, 5 predicted, tp 0: rq = pq = 0
    target = np.zeros((20, 20), np.int64)
    target[0:2, 0:2], target[10:12, 10:12] = 1, 2
    pred = np.zeros_like(target)
    for k in range(5):
        pred[5, 2 * k + 4] = k + 1
    s = instance_scores(pred, target, PANOPTICA_NAMES, preset="panoptica")
    assert [s[k].value for k in PANOPTICA_NAMES] == [0, 5, 2, 0.0, 0.0, 0.0]


def test_panoptica_matcher_variations():
    # Test_Naive_Matcher_Variations (28 x 28, int32, class group 1): perfect overlap, no overlap
    # (its matching_threshold=0.0; segscore's thresholds lie in (0, 1], and pairs without
    # overlap never match either way) and the exact tie at IoU 0.5, with >= and strict >
    pred, target = np.zeros((28, 28), np.int32), np.zeros((28, 28), np.int32)
    pred[1:28, 1:28] = target[1:28, 1:28] = 1
    s = _semantic(pred, target, PANOPTICA_NAMES)
    assert [s[k].value for k in PANOPTICA_NAMES] == [1, 0, 0, 1.0, 1.0, 1.0]
    pred, target = np.zeros((28, 28), np.int32), np.zeros((28, 28), np.int32)
    pred[1:14, 1:14], target[15:28, 15:28] = 1, 1
    s = _semantic(pred, target, PANOPTICA_NAMES)
    assert [s[k].value for k in PANOPTICA_NAMES] == [0, 1, 1, 0.0, 0.0, 0.0]
    pred, target = np.zeros((28, 28), np.int32), np.zeros((28, 28), np.int32)
    target[2:6, 2:7], pred[2:4, 2:7] = 1, 1  # IoU = 10 / 20
    s = _semantic(pred, target, PANOPTICA_NAMES)
    assert [s[k].value for k in PANOPTICA_NAMES] == [1, 0, 0, 0.5, 0.5, 1.0]
    # strict_threshold=True is comparison '>', which the preset does not hold: its other
    # conventions spelled out
    strict = instance_scores(
        label_components(pred),
        label_components(target),
        PANOPTICA_NAMES,
        matching="greedy",
        comparison=">",
        empty=get_preset("panoptica").instance.metric_empty["sq"],
    )
    assert [strict[k].value for k in PANOPTICA_NAMES] == [0, 1, 1, 0.0, 0.0, 0.0]


# -- cellpose: MouseLand/cellpose, tests/test_output.py @ 849ca11f17882219f9968217eab3f6b19e3ce8aa.
#    compare_masks_cp4 checks average_precision(masks_true, masks_test, threshold=[0.5, 0.75])
#    is all ones for its stored masks (data files, not re-typed): identical masks give 1.


def test_cellpose_identical_masks():
    from ._instances import random_instances

    masks = random_instances(np.random.default_rng(3), (64, 64), n=15, max_id=500)
    s = instance_scores(masks, masks, ["dsb@0.5", "dsb@0.75"], preset="cellpose")
    assert (s["dsb@0.5"].value, s["dsb@0.75"].value) == (1.0, 1.0)

"""Every aggregation rule against a hand computation (an example shaped like CONVENTIONS §5.3).

Three 16-pixel images, classes 0 (background), 1 and 2. Class 2 is absent from images A and C;
image C has an empty target for class 1 with 3 false-positive pixels. Foreground IoU per cell:

    A: [6/10, NaN]     B: [3/4, 4/8]     C: [0/3, NaN]
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest

import segscore
from segscore import AGGREGATIONS, Counts, EmptyPolicy, InputError, confusion, score

# rows: images A, B, C; columns: classes 0, 1, 2 (consistent: each row's cells sum to 16 pixels)
COUNTS = Counts.from_arrays(
    tp=[[6, 6, 0], [4, 3, 4], [13, 0, 0]],
    fp=[[2, 2, 0], [4, 1, 0], [0, 3, 0]],
    fn=[[2, 2, 0], [1, 0, 4], [3, 0, 0]],
    tn=[[6, 6, 16], [7, 12, 8], [0, 13, 16]],
)


def _fg(aggregation, **kw):
    return score(COUNTS, "iou", aggregation=aggregation, include_background=False, **kw)


def close(value, fraction):
    return value == pytest.approx(float(fraction), rel=1e-15, abs=0)


def test_per_image_per_class_is_a_flat_mean_over_valid_cells():
    s = _fg("per_image_per_class")
    assert close(s.value, (F(6, 10) + F(3, 4) + F(1, 2) + 0) / 4)
    assert (s.n_valid, s.n_excluded) == (4, 2)


def test_images_then_classes_averages_images_first():
    s = _fg("images_then_classes")
    class1, class2 = (F(6, 10) + F(3, 4) + 0) / 3, F(1, 2)
    assert close(s.value, (class1 + class2) / 2)
    np.testing.assert_allclose(s.per_class, [float(class1), float(class2)], rtol=1e-15)
    assert (s.n_valid, s.n_excluded) == (4, 2)


def test_classes_then_images_averages_classes_first():
    s = _fg("classes_then_images")
    per_image = [F(6, 10), (F(3, 4) + F(1, 2)) / 2, F(0)]
    assert close(s.value, sum(per_image) / 3)
    np.testing.assert_allclose(s.per_image, [float(v) for v in per_image], rtol=1e-15)


def test_pooled_sums_counts_over_images_per_class():
    s = _fg("pooled")
    per_class = [F(9, 9 + 6 + 2), F(4, 8)]
    assert close(s.value, sum(per_class) / 2)
    np.testing.assert_allclose(s.per_class, [float(v) for v in per_class], rtol=1e-15)
    assert (s.n_valid, s.n_excluded) == (2, 0)


def test_pooled_micro_sums_over_images_and_classes():
    assert close(_fg("pooled_micro").value, F(13, 13 + 6 + 6))
    # with background: tp 23 + 13, fp 6 + 6, fn 6 + 6
    assert close(score(COUNTS, "iou", aggregation="pooled_micro").value, F(36, 60))


def test_per_image_micro_sums_classes_per_image():
    s = _fg("per_image_micro")
    per_image = [F(6, 10), F(7, 12), F(0, 3)]
    assert close(s.value, sum(per_image) / 3)
    np.testing.assert_allclose(s.per_image, [float(v) for v in per_image], rtol=1e-15)
    assert (s.n_valid, s.n_excluded) == (3, 0)


def test_zero_division_one_counts_absent_classes_as_perfect():
    """SMP macro-imagewise with zero_division=1: both-empty cells become 1 and are averaged."""
    s = _fg("images_then_classes", empty=1.0)
    assert close(s.value, ((F(6, 10) + F(3, 4)) / 3 + (1 + F(1, 2) + 1) / 3) / 2)
    assert s.n_excluded == 0


def test_monai_ignore_empty_drops_the_false_positive_only_image():
    policy = EmptyPolicy(target_empty=math.nan)
    s = _fg("classes_then_images", empty=policy)
    assert close(s.value, (F(6, 10) + (F(3, 4) + F(1, 2)) / 2) / 2)
    assert math.isnan(s.per_image[2])
    assert s.n_excluded == 3


def test_support_weights_in_pooled():
    s = _fg("pooled", class_weights="support")
    assert close(s.value, (11 * F(9, 17) + 8 * F(1, 2)) / 19)
    assert s.conventions.class_weights == "support"


def test_custom_weights_in_images_then_classes():
    s = _fg("images_then_classes", class_weights=np.array([3.0, 1.0]))
    assert close(s.value, (3 * (F(6, 10) + F(3, 4)) / 3 + F(1, 2)) / 4)
    assert s.conventions.class_weights == "custom"


def test_classes_selects_columns():
    s = score(COUNTS, "iou", aggregation="pooled", classes=[2])
    assert s.value == 0.5
    assert s.conventions.classes == (2,)


def test_dice_by_name_and_empty_case_census():
    s = _fg("per_image_per_class")
    assert s.empty_cases == {
        "both_empty": 2,
        "target_empty": 1,
        "prediction_empty": 0,
        "both_present": 3,
    }
    d = score(COUNTS, "dice", aggregation="per_image_per_class", include_background=False)
    assert close(d.value, (F(12, 16) + F(6, 7) + F(8, 12) + 0) / 4)


def test_score_shapes_and_record():
    s = _fg("images_then_classes")
    assert s.cells.shape == (3, 2)
    assert s.per_image.shape == (3,)
    assert s.per_class.shape == (2,)
    record = s.as_dict()
    assert record["conventions"]["aggregation"] == "images_then_classes"
    assert record["conventions"]["include_background"] is False
    assert record["conventions"]["classes"] == [1, 2]
    assert float(s) == s.value


def test_all_nan_gives_nan_not_zero():
    empty = Counts.from_arrays(tp=[[0]], fp=[[0]], fn=[[0]], tn=[[4]])
    for aggregation in AGGREGATIONS:
        s = score(empty, "iou", aggregation=aggregation)
        assert math.isnan(s.value), aggregation
        assert s.n_valid == 0


def test_mean_is_independent_of_image_order():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 4, size=(40, 6, 6))
    target = rng.integers(0, 4, size=(40, 6, 6))
    c = confusion(pred, target, num_classes=4)
    perm = rng.permutation(40)
    for aggregation in AGGREGATIONS:
        a = score(c, "dice", aggregation=aggregation).value
        b = score(c.select(rows=perm), "dice", aggregation=aggregation).value
        assert a == b, aggregation  # the same bits: fsum-based means


@pytest.mark.parametrize("aggregation", ["pooled_micro", "per_image_micro"])
def test_class_weights_with_micro_aggregation_is_an_error(aggregation):
    with pytest.raises(InputError, match=r"`class_weights` .*'pooled_micro'.*got 'support'"):
        score(COUNTS, "iou", aggregation=aggregation, class_weights="support")


def test_classes_left_empty_by_include_background_is_an_error():
    with pytest.raises(InputError, match=r"`classes` .*got \[0\]"):
        score(COUNTS, "iou", include_background=False, classes=[0])


def test_binary_foreground_is_the_class_whatever_the_background_rule():
    # Regression (issue #11): `include_background=False` on binary masks used to raise after
    # every case was scored. The foreground (class id 1) is the class in every field.
    pred = np.array([[[1, 1], [0, 0]], [[0, 1], [0, 0]]])
    target = np.array([[[1, 0], [0, 0]], [[0, 1], [1, 0]]])
    counts = segscore.confusion(pred, target)
    with_bg = segscore.score(counts, "iou")
    without = segscore.score(counts, "iou", include_background=False)
    assert without.value == with_bg.value == pytest.approx((0.5 + 0.5) / 2)
    assert without.class_ids == with_bg.class_ids == (1,)
    assert without.conventions.classes == (1,)
    assert without.as_dict()["class_ids"] == [1]


def test_options_carry_the_background_rule_and_class_names():
    pred = np.array([[0, 1, 2, 2]])
    target = np.array([[0, 1, 1, 2]])
    opts = segscore.CountingOptions(
        num_classes=3, include_background=False, class_names=("bg", "road", "car")
    )
    ev = segscore.Evaluator(options=opts)
    ev.update(pred, target)
    s = ev.compute("iou")
    assert s.class_ids == (1, 2)
    assert s.conventions.class_names == ("road", "car")
    assert s.value == pytest.approx((0.5 + 0.5) / 2)
    assert ev.compute("iou", include_background=True).class_ids == (0, 1, 2)


# -- preset=: the preset's conventions fill what is not chosen (reviewed: it was only recorded) ----
def _preset_case():
    from ._inputs import Case

    target = np.zeros((3, 4, 4), np.int64)
    pred = target.copy()
    target[0, :2, :2] = 1
    pred[0, :2, :3] = 1
    pred[1, 0, 0] = 2  # a false positive of class 2 on an image whose target has none
    target[2, 3, :] = 2
    pred[2, 3, 1:] = 2
    return Case("preset", pred, target, "multiclass", 3, None)


def test_score_with_the_monai_preset_is_monais_dice():
    from . import _peers

    case = _preset_case()
    counts = _peers.segscore_counts(case)
    p, t = _peers.monai_one_hot(case)
    cells = _peers.monai_metrics().compute_dice(p, t, include_background=True, ignore_empty=True)
    expected = float(_peers.monai_reduce(cells, "mean").item())
    s = score(counts, "dice", preset="monai")
    assert s.value == pytest.approx(expected, rel=1e-6)  # MONAI divides in float32
    assert s.conventions.aggregation == "classes_then_images"
    assert s.conventions.preset == "monai"
    assert s.value != pytest.approx(score(counts, "dice").value)  # the defaults give another number


def test_score_with_the_smp_preset_is_smps_micro_imagewise_iou():
    from . import _peers

    case = _preset_case()
    expected = float(_peers.smp_score(case, "iou_score", "micro-imagewise", 1.0).item())
    s = score(_peers.segscore_counts(case), "iou", preset="smp")
    assert s.value == pytest.approx(expected, rel=1e-12)
    assert (s.conventions.aggregation, s.conventions.empty.zero_division) == ("per_image_micro", 1)


def test_score_explicit_options_win_over_the_preset():
    counts = COUNTS
    s = score(counts, "iou", preset="nnunet", aggregation="pooled", include_background=True)
    assert s.conventions.aggregation == "pooled"
    assert s.class_ids == (0, 1, 2)
    assert s.value == score(counts, "iou", aggregation="pooled").value
    # nnU-Net leaves label 0 out, unless the counting options chose the background rule
    assert score(counts, "iou", preset="nnunet").class_ids == (1, 2)
    chosen = segscore.CountingOptions(num_classes=3, include_background=True)
    assert score(counts, "iou", preset="nnunet", options=chosen).class_ids == (0, 1, 2)


@pytest.mark.parametrize(
    ("name", "needle"),
    [("bogus", "`preset` must be one of"), ("stardist", "pixel overlap conventions")],
)
def test_score_refuses_a_preset_without_pixel_conventions(name, needle):
    with pytest.raises(InputError, match=needle):
        score(COUNTS, "iou", preset=name)


# -- no class left: label maps of one class, multilabel stacks of one channel ----------------------
def test_one_class_label_map_without_background_is_an_error():
    z = np.zeros((2, 4, 4), np.int64)
    with pytest.raises(InputError, match="none would be left"):
        score(confusion(z, z, num_classes=1), "iou", include_background=False)
    with pytest.raises(InputError, match="`include_background` must not be False with"):
        segscore.CountingOptions(num_classes=1, include_background=False)
    one = np.ones((2, 1, 4, 4), bool)
    with pytest.raises(InputError, match="multilabel counts of one class column"):
        score(confusion(one, one, multilabel=True), "dice", include_background=False)
    with pytest.raises(InputError, match="multilabel stack of one channel"):
        segscore.CountingOptions(multilabel=True, include_background=False).kept_columns(1)
    # binary masks keep their foreground, as before
    assert score(confusion(z > 0, z > 0), "iou", include_background=False).class_ids == (1,)

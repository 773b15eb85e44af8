"""Generalized Dice: weights by hand, and against torchmetrics and MONAI."""

from __future__ import annotations

import math

import numpy as np
import pytest

import segscore
from segscore import Counts

from ._inputs import Case, all_cases, as_label_maps, ids
from ._peers import (
    F32,
    as_tensor,
    monai_metrics,
    monai_one_hot,
    segscore_counts,
    torchmetrics_counts,
    torchmetrics_labels,
    torchmetrics_segmentation,
)

CASES = all_cases()
NO_IGNORE = [c for c in CASES if c.mode != "multilabel" and c.ignore_index is None]


def _every_class_somewhere(case: Case) -> bool:
    _, target, c = as_label_maps(case)
    return any(len(np.unique(t)) == c for t in target)


GD_CASES = [c for c in NO_IGNORE if _every_class_somewhere(c)]


# -- one reference per peer ------------------------------------------------------------------------
def _reference_generalized_dice_torchmetrics(case: Case, weight_type: str) -> np.ndarray:
    pred, target, c = torchmetrics_labels(case)
    return (
        torchmetrics_segmentation()
        .generalized_dice_score(
            as_tensor(pred),
            as_tensor(target),
            num_classes=c,
            weight_type=weight_type,
            input_format="index",
        )
        .numpy()
    )


def _reference_generalized_dice_monai(case: Case, weight_type: str) -> np.ndarray:
    p, t = monai_one_hot(case)
    return (
        monai_metrics()
        .compute_generalized_dice(p, t, weight_type=weight_type, sum_over_classes=True)
        .numpy()
    )


# -- by hand ---------------------------------------------------------------------------------------
def test_formula_by_hand():
    one = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])
    assert segscore.generalized_dice(one)[0] == pytest.approx(12 / 17, rel=1e-15)


def test_weights_by_hand():
    c = Counts.from_arrays(tp=[[2, 1]], fp=[[0, 2]], fn=[[2, 0]], tn=[[4, 5]])  # supports 4 and 1
    w = np.array([1 / 16, 1.0])
    expected = 2 * (w * [2, 1]).sum() / (w * [6, 4]).sum()
    assert segscore.generalized_dice(c)[0] == pytest.approx(expected, rel=1e-15)
    w = np.array([1 / 4, 1.0])
    expected = 2 * (w * [2, 1]).sum() / (w * [6, 4]).sum()
    assert segscore.generalized_dice(c, weight="simple")[0] == pytest.approx(expected, rel=1e-15)
    assert segscore.generalized_dice(c, weight="uniform")[0] == pytest.approx(6 / 10, rel=1e-15)
    # a class absent from the target takes the largest weight of its row
    absent = Counts.from_arrays(tp=[[2, 0]], fp=[[0, 2]], fn=[[2, 0]], tn=[[4, 6]])
    assert segscore.generalized_dice(absent)[0] == pytest.approx(4 / (6 + 2), rel=1e-15)
    # an empty target with false positives scores 0, not the zero-division value
    fp_only = Counts.from_arrays(tp=[[0, 0]], fp=[[3, 1]], fn=[[0, 0]], tn=[[5, 7]])
    assert segscore.generalized_dice(fp_only, empty=1.0).tolist() == [0.0]
    both_empty = Counts.from_arrays(tp=[[0]], fp=[[0]], fn=[[0]], tn=[[4]])
    assert math.isnan(segscore.generalized_dice(both_empty)[0])
    assert segscore.generalized_dice(both_empty, empty=1.0).tolist() == [1.0]


# -- against the peers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ours", "theirs"), [("square", "square"), ("simple", "simple"), ("uniform", "linear")]
)
@pytest.mark.parametrize("case", GD_CASES, ids=ids(GD_CASES))
def test_matches_torchmetrics_when_every_class_is_present(case, ours, theirs):
    """torchmetrics fills the weight of a class absent from an image's target from other images
    (a max over the batch axis); segscore and MONAI use the largest weight of the same image. The
    two agree exactly on images whose target holds every class, which is what is compared here."""
    counts = torchmetrics_counts(case)
    got = segscore.generalized_dice(counts, weight=ours)
    expected = _reference_generalized_dice_torchmetrics(case, theirs)
    every_class = np.all(counts.support > 0, axis=1)
    assert every_class.any()
    np.testing.assert_allclose(got[every_class], expected[every_class], **F32)


@pytest.mark.parametrize("weight", ["square", "simple", "uniform"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_monai(case, weight):
    """MONAI gives 1 for a zero denominator (segscore's empty=1) and fills the weight of a class
    absent from the target with the largest weight of the image (1 when there is none). It casts
    the weights to float32: compared within float32 rounding."""
    got = segscore.generalized_dice(segscore_counts(case), weight=weight, empty=1.0)
    np.testing.assert_allclose(got, _reference_generalized_dice_monai(case, weight)[:, 0], **F32)

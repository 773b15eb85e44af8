"""Dice (F1): by hand, and against scikit-learn, torchmetrics, MONAI and SMP."""

from __future__ import annotations

import numpy as np
import pytest

import segscore
from segscore import Counts, EmptyPolicy

from ._inputs import Case, all_cases, ids
from ._peers import (
    F32,
    F64,
    MONAI_REDUCTIONS,
    SMP_REDUCTIONS,
    FlatRow,
    as_tensor,
    monai_metrics,
    monai_one_hot,
    monai_reduce,
    segscore_counts,
    segscore_like_monai,
    segscore_like_smp,
    segscore_rows,
    sklearn_metrics,
    sklearn_rows,
    sklearn_score,
    smp_score,
    torchmetrics_counts,
    torchmetrics_labels,
    torchmetrics_segmentation,
)

CASES = all_cases()
NO_IGNORE = [c for c in CASES if c.mode != "multilabel" and c.ignore_index is None]
AVERAGES = ["none", "micro", "macro", "weighted"]
MONAI_EMPTY = {  # as in test_iou.py
    True: EmptyPolicy(zero_division=np.nan, target_empty=np.nan),
    False: EmptyPolicy(zero_division=1.0),
}


# -- one reference per peer ------------------------------------------------------------------------
def _reference_dice_sklearn(row: FlatRow, average: str, zero_division: float) -> np.ndarray:
    return sklearn_score(sklearn_metrics().f1_score, row, average, zero_division)


def _reference_dice_torchmetrics(case: Case, average: str, aggregation_level: str) -> np.ndarray:
    pred, target, c = torchmetrics_labels(case)
    return (
        torchmetrics_segmentation()
        .dice_score(
            as_tensor(pred),
            as_tensor(target),
            num_classes=c,
            average=average,
            input_format="index",
            aggregation_level=aggregation_level,
        )
        .numpy()
    )


def _reference_dice_monai(case: Case, ignore_empty: bool) -> object:
    return monai_metrics().compute_dice(*monai_one_hot(case), ignore_empty=ignore_empty)


def _reference_dice_smp(case: Case, reduction: str, zero_division: float) -> np.ndarray:
    return smp_score(case, "f1_score", reduction, zero_division)


# -- by hand ---------------------------------------------------------------------------------------
def test_formula_by_hand():
    one = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])
    assert segscore.dice(one)[0, 0] == pytest.approx(12 / 17, rel=1e-15)


# -- against the peers -----------------------------------------------------------------------------
@pytest.mark.parametrize("empty", [np.nan, 0.0, 1.0])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_sklearn(case, average, empty):
    got = segscore.dice(segscore_rows(case), average=average, empty=empty)
    for i, row in enumerate(sklearn_rows(case)):
        expected = _reference_dice_sklearn(row, average, empty)
        np.testing.assert_allclose(got[i], expected, **F64, err_msg=f"row {i}")


# torchmetrics warns about its own default of `average` even when it is passed explicitly
@pytest.mark.filterwarnings("ignore:dice_score metric currently defaults:UserWarning")
@pytest.mark.parametrize("aggregation_level", ["samplewise", "global"])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_matches_torchmetrics(case, average, aggregation_level):
    counts = torchmetrics_counts(case)
    if aggregation_level == "global":
        counts = counts.sum(axis=0)
    got = segscore.dice(counts, average=average)  # NaN for 0/0, excluded from the class means
    expected = _reference_dice_torchmetrics(case, average, aggregation_level)
    np.testing.assert_allclose(got, expected.reshape(got.shape), **F32)


@pytest.mark.parametrize("reduction", MONAI_REDUCTIONS)
@pytest.mark.parametrize("ignore_empty", [True, False])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_monai(case, ignore_empty, reduction):
    s = segscore.score(
        segscore_counts(case),
        "dice",
        aggregation="classes_then_images",
        empty=MONAI_EMPTY[ignore_empty],
    )
    expected = monai_reduce(_reference_dice_monai(case, ignore_empty), reduction)
    np.testing.assert_allclose(segscore_like_monai(s, reduction), expected, **F32)


@pytest.mark.parametrize("zero_division", [1.0, 0.0])
@pytest.mark.parametrize("reduction", [*SMP_REDUCTIONS, "none"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_smp(case, reduction, zero_division):
    got = segscore_like_smp(case, "dice", reduction, zero_division)
    np.testing.assert_allclose(got, _reference_dice_smp(case, reduction, zero_division), **F64)


def test_weighted_dice_of_an_image_with_an_empty_target_and_false_positives_is_zero():
    # Issue #11 (peers): torchmetrics DiceScore(average="weighted") and scikit-learn's weighted F1
    # give 0 to an image whose target is empty in every class but which holds false positives
    # (segscore used to give NaN and drop the image). Both masks empty stays NaN.
    torch = pytest.importorskip("torch")
    dice_score = pytest.importorskip("torchmetrics.segmentation").DiceScore
    target = np.zeros((1, 4, 4), dtype=np.int64)
    pred = target.copy()
    pred[0, :2, :2] = 1
    pred[0, 3, 3] = 2
    counts = segscore.confusion(pred, target, num_classes=3).select(classes=[1, 2])
    peer = dice_score(
        num_classes=3, include_background=False, average="weighted", input_format="index"
    )
    want = float(peer(torch.from_numpy(pred), torch.from_numpy(target)))
    assert want == 0.0
    assert segscore.dice(counts, average="weighted").tolist() == [want]
    empty = segscore.confusion(target, target, num_classes=3).select(classes=[1, 2])
    assert np.isnan(segscore.dice(empty, average="weighted")).all()

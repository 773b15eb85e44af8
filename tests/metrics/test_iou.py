"""IoU (Jaccard index): by hand, and against scikit-learn, torchmetrics, MONAI and SMP."""

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
    torchmetrics_classification,
    torchmetrics_counts,
    torchmetrics_labels,
    torchmetrics_segmentation,
)

CASES = all_cases()
LABEL_CASES = [c for c in CASES if c.mode != "multilabel"]
NO_IGNORE = [c for c in LABEL_CASES if c.ignore_index is None]
AVERAGES = ["none", "micro", "macro", "weighted"]

# MONAI `ignore_empty=True`: NaN wherever the target is empty, also for a pure false positive.
# `ignore_empty=False`: 1 when both masks are empty (zero_division=1), 0 for one empty mask.
MONAI_EMPTY = {
    True: EmptyPolicy(zero_division=np.nan, target_empty=np.nan),
    False: EmptyPolicy(zero_division=1.0),
}


# -- one reference per peer ------------------------------------------------------------------------
def _reference_iou_sklearn(row: FlatRow, average: str, zero_division: float) -> np.ndarray:
    # jaccard_score allows zero_division in {0, 1} only
    return sklearn_score(sklearn_metrics().jaccard_score, row, average, zero_division)


def _reference_iou_torchmetrics(case: Case, average: str) -> np.ndarray:
    """Dataset-pooled IoU (JaccardIndex). zero_division=0 for a class absent from both."""
    pred, target, c = torchmetrics_labels(case)
    return (
        torchmetrics_classification()
        .multiclass_jaccard_index(
            as_tensor(pred),
            as_tensor(target),
            num_classes=c,
            average=average,
            ignore_index=case.ignore_index,
            zero_division=0.0,
        )
        .numpy()
    )


def _reference_iou_torchmetrics_per_image(case: Case, per_class: bool) -> np.ndarray:
    """Per-image IoU (mean_iou); per_class gives -1 for a class absent from both masks."""
    pred, target, c = torchmetrics_labels(case)
    return (
        torchmetrics_segmentation()
        .mean_iou(
            as_tensor(pred),
            as_tensor(target),
            num_classes=c,
            per_class=per_class,
            input_format="index",
        )
        .numpy()
    )


def _reference_iou_monai(case: Case, ignore_empty: bool) -> object:
    """Per (image, class) IoU tensor."""
    return monai_metrics().compute_iou(*monai_one_hot(case), ignore_empty=ignore_empty)


def _reference_iou_smp(case: Case, reduction: str, zero_division: float) -> np.ndarray:
    return smp_score(case, "iou_score", reduction, zero_division)


# -- by hand ---------------------------------------------------------------------------------------
def test_formula_by_hand():
    one = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])
    assert segscore.iou(one)[0, 0] == pytest.approx(6 / 11, rel=1e-15)


# -- against the peers -----------------------------------------------------------------------------
@pytest.mark.parametrize("empty", [0.0, 1.0])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_sklearn(case, average, empty):
    got = segscore.iou(segscore_rows(case), average=average, empty=empty)
    for i, row in enumerate(sklearn_rows(case)):
        expected = _reference_iou_sklearn(row, average, empty)
        np.testing.assert_allclose(got[i], expected, **F64, err_msg=f"row {i}")


@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
@pytest.mark.parametrize("case", LABEL_CASES, ids=ids(LABEL_CASES))
def test_matches_torchmetrics_jaccard_index_pooled(case, average):
    counts = torchmetrics_counts(case)
    expected = _reference_iou_torchmetrics(case, "none" if average is None else average)
    if average is None:
        got = segscore.iou(counts.sum(axis=0), empty=0.0)
    elif average == "macro":
        # torchmetrics leaves a class absent from the whole dataset out of the macro mean: that is
        # segscore's "pooled" aggregation with the default NaN for 0/0.
        got = segscore.score(counts, "iou", aggregation="pooled").value
    else:
        got = segscore.iou(counts.sum(axis=0), average=average, empty=0.0)
    np.testing.assert_allclose(got, expected, **F32)


@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_matches_torchmetrics_mean_iou_per_image(case):
    counts = torchmetrics_counts(case)
    # per class: torchmetrics' -1 for a class absent from both masks is segscore's empty=-1
    np.testing.assert_allclose(
        segscore.iou(counts, empty=-1.0), _reference_iou_torchmetrics_per_image(case, True), **F32
    )
    # the per-image mean skips those classes: macro with NaN excluded
    np.testing.assert_allclose(
        segscore.iou(counts, average="macro"),
        _reference_iou_torchmetrics_per_image(case, False),
        **F32,
    )


@pytest.mark.parametrize("reduction", MONAI_REDUCTIONS)
@pytest.mark.parametrize("ignore_empty", [True, False])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_monai(case, ignore_empty, reduction):
    s = segscore.score(
        segscore_counts(case),
        "iou",
        aggregation="classes_then_images",
        empty=MONAI_EMPTY[ignore_empty],
    )
    expected = monai_reduce(_reference_iou_monai(case, ignore_empty), reduction)
    np.testing.assert_allclose(segscore_like_monai(s, reduction), expected, **F32)


@pytest.mark.parametrize("zero_division", [1.0, 0.0])
@pytest.mark.parametrize("reduction", [*SMP_REDUCTIONS, "none"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_smp(case, reduction, zero_division):
    got = segscore_like_smp(case, "iou", reduction, zero_division)
    np.testing.assert_allclose(got, _reference_iou_smp(case, reduction, zero_division), **F64)

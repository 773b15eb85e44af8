"""Per-class accuracy and pixel accuracy: by hand, and against scikit-learn, MONAI and SMP."""

from __future__ import annotations

import numpy as np
import pytest

import segscore
from segscore import Counts, InputError

from ._inputs import Case, all_cases, ids
from ._peers import (
    F32,
    F64,
    MONAI_REDUCTIONS,
    SMP_REDUCTIONS,
    FlatRow,
    monai_count_metric,
    monai_reduce,
    segscore_counts,
    segscore_like_monai,
    segscore_like_smp,
    segscore_rows,
    sklearn_metrics,
    sklearn_one_vs_rest,
    sklearn_rows,
    smp_score,
)

CASES = all_cases()
AVERAGES = ["none", "micro", "macro", "weighted"]
ONE = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])  # 20 pixels


LABEL_CASES = [c for c in CASES if c.mode != "multilabel"]


# -- one reference per peer ------------------------------------------------------------------------
def _reference_accuracy_sklearn(row: FlatRow, average: str) -> np.ndarray:
    """Accuracy of each class against the rest (no zero denominator: every row has pixels)."""
    return sklearn_one_vs_rest(sklearn_metrics().accuracy_score, row, average)


def _reference_pixel_accuracy_sklearn(row: FlatRow) -> float:
    """The share of counted pixels given their true label (a predicted ignore label is wrong)."""
    return float(sklearn_metrics().accuracy_score(row.target, row.pred))


def _reference_accuracy_monai(case: Case) -> object:
    return monai_count_metric(case, "accuracy")


def _reference_accuracy_smp(case: Case, reduction: str, zero_division: float) -> np.ndarray:
    return smp_score(case, "accuracy", reduction, zero_division)


# -- by hand ---------------------------------------------------------------------------------------
def test_formula_by_hand():
    assert segscore.accuracy(ONE)[0, 0] == pytest.approx(15 / 20, rel=1e-15)


@pytest.mark.parametrize("empty", [np.nan, 0.0, 1.0])
def test_no_counted_pixel_gives_the_empty_value(empty):
    pred = np.array([[[0, 1], [1, 0]]])
    target = np.full_like(pred, 255)  # every pixel ignored
    c = segscore.confusion(pred, target, num_classes=2, ignore_index=255)
    np.testing.assert_array_equal(segscore.pixel_accuracy(c, empty=empty), [empty])
    np.testing.assert_array_equal(segscore.accuracy(c, empty=empty), [[empty, empty]])


# -- against the peers -----------------------------------------------------------------------------
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_sklearn(case, average):
    got = segscore.accuracy(segscore_rows(case), average=average)
    for i, row in enumerate(sklearn_rows(case)):
        expected = _reference_accuracy_sklearn(row, average)
        np.testing.assert_allclose(got[i], expected, **F64, err_msg=f"row {i}")


@pytest.mark.parametrize("case", LABEL_CASES, ids=ids(LABEL_CASES))
def test_pixel_accuracy_matches_sklearn(case):
    """Label maps and binary masks; multilabel counts have no single true label per pixel."""
    got = segscore.pixel_accuracy(segscore_rows(case))
    expected = [_reference_pixel_accuracy_sklearn(row) for row in sklearn_rows(case)]
    np.testing.assert_allclose(got, expected, **F64)


@pytest.mark.parametrize("reduction", MONAI_REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_monai(case, reduction):
    """MONAI gives NaN for 0/0: segscore's default empty policy."""
    s = segscore.score(segscore_counts(case), "accuracy", aggregation="classes_then_images")
    expected = monai_reduce(_reference_accuracy_monai(case), reduction)
    np.testing.assert_allclose(segscore_like_monai(s, reduction), expected, **F32)


@pytest.mark.parametrize("zero_division", [1.0, 0.0])
@pytest.mark.parametrize("reduction", [*SMP_REDUCTIONS, "none"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_smp(case, reduction, zero_division):
    got = segscore_like_smp(case, "accuracy", reduction, zero_division)
    np.testing.assert_allclose(got, _reference_accuracy_smp(case, reduction, zero_division), **F64)


def test_pixel_accuracy_refuses_multilabel_counts():
    # Reviewed: it summed the true positives of every channel over one channel's pixels (a
    # perfect two-channel prediction scored 2.0). A multilabel pixel has no single true label.
    both = np.ones((1, 2, 4, 4), bool)
    with pytest.raises(InputError, match="got multilabel counts; use accuracy"):
        segscore.pixel_accuracy(segscore.confusion(both, both, multilabel=True))
    assert segscore.accuracy(segscore.confusion(both, both, multilabel=True)).tolist() == [[1, 1]]

"""Recall (sensitivity): by hand, and against scikit-learn, MONAI and SMP."""

from __future__ import annotations

import numpy as np
import pytest

import segscore
from segscore import Counts

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
    sklearn_rows,
    sklearn_score,
    smp_score,
)

CASES = all_cases()
AVERAGES = ["none", "micro", "macro", "weighted"]
ONE = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])  # 20 pixels


# -- one reference per peer ------------------------------------------------------------------------
def _reference_recall_sklearn(row: FlatRow, average: str, zero_division: float) -> np.ndarray:
    return sklearn_score(sklearn_metrics().recall_score, row, average, zero_division)


def _reference_recall_monai(case: Case) -> object:
    return monai_count_metric(case, "sensitivity")


def _reference_recall_smp(case: Case, reduction: str, zero_division: float) -> np.ndarray:
    return smp_score(case, "sensitivity", reduction, zero_division)


# -- by hand ---------------------------------------------------------------------------------------
def test_formula_by_hand():
    assert segscore.recall(ONE)[0, 0] == pytest.approx(6 / 9, rel=1e-15)


# -- against the peers -----------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [np.nan, 0.0, 1.0])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_sklearn(case, average, empty):
    got = segscore.recall(segscore_rows(case), average=average, empty=empty)
    for i, row in enumerate(sklearn_rows(case)):
        expected = _reference_recall_sklearn(row, average, empty)
        np.testing.assert_allclose(got[i], expected, **F64, err_msg=f"row {i}")


@pytest.mark.parametrize("reduction", MONAI_REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_monai(case, reduction):
    """MONAI gives NaN for 0/0: segscore's default empty policy."""
    s = segscore.score(segscore_counts(case), "recall", aggregation="classes_then_images")
    expected = monai_reduce(_reference_recall_monai(case), reduction)
    np.testing.assert_allclose(segscore_like_monai(s, reduction), expected, **F32)


@pytest.mark.parametrize("zero_division", [1.0, 0.0])
@pytest.mark.parametrize("reduction", [*SMP_REDUCTIONS, "none"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_smp(case, reduction, zero_division):
    got = segscore_like_smp(case, "recall", reduction, zero_division)
    np.testing.assert_allclose(got, _reference_recall_smp(case, reduction, zero_division), **F64)

"""Matthews correlation coefficient: by hand, and against scikit-learn and MONAI."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import segscore
from segscore import Counts

from ._inputs import Case, all_cases, ids
from ._peers import (
    F32,
    F64,
    MONAI_REDUCTIONS,
    FlatRow,
    monai_count_metric,
    monai_reduce,
    segscore_counts,
    segscore_like_monai,
    segscore_rows,
    sklearn_metrics,
    sklearn_one_vs_rest,
    sklearn_rows,
)

CASES = all_cases()
AVERAGES = ["none", "micro", "macro", "weighted"]
ONE = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])  # 20 pixels


# -- one reference per peer ------------------------------------------------------------------------
def _reference_mcc_sklearn(row: FlatRow, average: str) -> np.ndarray:
    """Per class against the rest. sklearn returns 0 for a zero denominator: segscore's empty=0."""
    skm = sklearn_metrics()

    def one(t: np.ndarray, p: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "a single label was found"
            return float(skm.matthews_corrcoef(t, p))

    return sklearn_one_vs_rest(one, row, average)


def _reference_mcc_monai(case: Case) -> object:
    return monai_count_metric(case, "matthews correlation coefficient")


# -- by hand ---------------------------------------------------------------------------------------
def test_formula_by_hand():
    expected = (6 * 9 - 2 * 3) / math.sqrt(8 * 9 * 11 * 12)
    assert segscore.matthews_corrcoef(ONE)[0, 0] == pytest.approx(expected, rel=1e-15)


def test_can_be_negative():
    c = Counts.from_arrays(tp=[0], fp=[5], fn=[5], tn=[0])
    assert segscore.matthews_corrcoef(c).tolist() == [-1.0]


# -- against the peers -----------------------------------------------------------------------------
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_sklearn(case, average):
    got = segscore.matthews_corrcoef(segscore_rows(case), average=average, empty=0.0)
    for i, row in enumerate(sklearn_rows(case)):
        expected = _reference_mcc_sklearn(row, average)
        np.testing.assert_allclose(got[i], expected, **F64, err_msg=f"row {i}")


@pytest.mark.parametrize("reduction", MONAI_REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_monai(case, reduction):
    """MONAI gives NaN for 0/0: segscore's default empty policy."""
    s = segscore.score(segscore_counts(case), "mcc", aggregation="classes_then_images")
    expected = monai_reduce(_reference_mcc_monai(case), reduction)
    np.testing.assert_allclose(segscore_like_monai(s, reduction), expected, **F32)

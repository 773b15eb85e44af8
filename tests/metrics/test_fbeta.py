"""F-beta: by hand, and against scikit-learn and SMP."""

from __future__ import annotations

import numpy as np
import pytest

import segscore
from segscore import Counts

from ._inputs import Case, all_cases, ids
from ._peers import (
    F64,
    SMP_REDUCTIONS,
    FlatRow,
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


BETAS = [0.5, 2.0]  # beta = 1 is Dice, checked in test_dice.py
REGISTRY_NAME = {0.5: "f0.5", 2.0: "f2"}


# -- one reference per peer ------------------------------------------------------------------------
def _reference_fbeta_sklearn(
    row: FlatRow, beta: float, average: str, zero_division: float
) -> np.ndarray:
    return sklearn_score(sklearn_metrics().fbeta_score, row, average, zero_division, beta=beta)


def _reference_fbeta_smp(
    case: Case, beta: float, reduction: str, zero_division: float
) -> np.ndarray:
    return smp_score(case, "fbeta_score", reduction, zero_division, beta=beta)


# -- by hand ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("beta", "expected"), [(2.0, 5 * 6 / (5 * 6 + 4 * 3 + 2)), (1.0, 12 / 17)])
def test_formula_by_hand(beta, expected):
    assert segscore.fbeta(ONE, beta=beta)[0, 0] == pytest.approx(expected, rel=1e-15)


# -- against the peers -----------------------------------------------------------------------------
@pytest.mark.parametrize("empty", [np.nan, 0.0, 1.0])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_sklearn(case, beta, average, empty):
    got = segscore.fbeta(segscore_rows(case), beta=beta, average=average, empty=empty)
    for i, row in enumerate(sklearn_rows(case)):
        expected = _reference_fbeta_sklearn(row, beta, average, empty)
        np.testing.assert_allclose(got[i], expected, **F64, err_msg=f"row {i}")


@pytest.mark.parametrize("zero_division", [1.0, 0.0])
@pytest.mark.parametrize("reduction", [*SMP_REDUCTIONS, "none"])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_smp(case, beta, reduction, zero_division):
    got = segscore_like_smp(case, REGISTRY_NAME[beta], reduction, zero_division)
    expected = _reference_fbeta_smp(case, beta, reduction, zero_division)
    np.testing.assert_allclose(got, expected, **F64)

"""Balanced accuracy: by hand, and against scikit-learn, MONAI and SMP."""

from __future__ import annotations

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


MULTICLASS_CASES = [c for c in CASES if c.mode == "multiclass"]


# -- one reference per peer ------------------------------------------------------------------------
def _reference_balanced_accuracy_sklearn(
    row: FlatRow, average: str, zero_division: float
) -> np.ndarray:
    """Per class against the rest; defined when the target holds the class and the rest."""
    skm = sklearn_metrics()

    def one(t: np.ndarray, p: np.ndarray) -> float:
        if not 0 < np.count_nonzero(t) < t.size:
            return zero_division  # a class missing from the target: undefined, not 0.5
        return float(skm.balanced_accuracy_score(t, p))

    return sklearn_one_vs_rest(one, row, average)


def _reference_balanced_accuracy_monai(case: Case) -> object:
    return monai_count_metric(case, "balanced accuracy")


def _reference_balanced_accuracy_smp(
    case: Case, reduction: str, zero_division: float
) -> np.ndarray:
    return smp_score(case, "balanced_accuracy", reduction, zero_division)


# -- by hand ---------------------------------------------------------------------------------------
def test_formula_by_hand():
    expected = (6 / 9 + 9 / 11) / 2
    assert segscore.balanced_accuracy(ONE)[0, 0] == pytest.approx(expected, rel=1e-15)


# -- against the peers -----------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [np.nan, 0.0, 1.0])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_sklearn(case, average, empty):
    got = segscore.balanced_accuracy(segscore_rows(case), average=average, empty=empty)
    for i, row in enumerate(sklearn_rows(case)):
        expected = _reference_balanced_accuracy_sklearn(row, average, empty)
        np.testing.assert_allclose(got[i], expected, **F64, err_msg=f"row {i}")


@pytest.mark.parametrize("case", MULTICLASS_CASES, ids=ids(MULTICLASS_CASES))
def test_sklearn_multiclass_balanced_accuracy_is_pooled_macro_recall(case):
    """sklearn's multiclass balanced accuracy is the mean recall over the classes in the target."""
    row = sklearn_rows(case)[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true"
        expected = sklearn_metrics().balanced_accuracy_score(row.target, row.pred)
    pooled = segscore_counts(case).sum(axis=0)
    np.testing.assert_allclose(segscore.recall(pooled, average="macro"), expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", MONAI_REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_monai(case, reduction):
    """MONAI gives NaN for 0/0: segscore's default empty policy."""
    s = segscore.score(
        segscore_counts(case), "balanced_accuracy", aggregation="classes_then_images"
    )
    expected = monai_reduce(_reference_balanced_accuracy_monai(case), reduction)
    np.testing.assert_allclose(segscore_like_monai(s, reduction), expected, **F32)


@pytest.mark.parametrize("zero_division", [1.0, 0.0])
@pytest.mark.parametrize("reduction", [*SMP_REDUCTIONS, "none"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_smp(case, reduction, zero_division):
    got = segscore_like_smp(case, "balanced_accuracy", reduction, zero_division)
    np.testing.assert_allclose(
        got, _reference_balanced_accuracy_smp(case, reduction, zero_division), **F64
    )

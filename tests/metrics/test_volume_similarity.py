"""Volumetric similarity: by hand, and against SimpleITK's LabelOverlapMeasuresImageFilter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import segscore
from segscore import Counts
from segscore.metrics.overlap import volume_similarity


def _reference_volume_similarity(pred: np.ndarray, target: np.ndarray) -> float:
    """SimpleITK's signed 2(|P| - |G|)/(|P| + |G|), mapped to Taha's 1 - |.|/2."""
    sitk = pytest.importorskip("SimpleITK")
    f = sitk.LabelOverlapMeasuresImageFilter()
    f.Execute(
        sitk.GetImageFromArray(target.astype(np.uint8)),
        sitk.GetImageFromArray(pred.astype(np.uint8)),
    )
    return 1.0 - abs(f.GetVolumeSimilarity()) / 2.0


def test_formula_by_hand() -> None:
    one = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])  # |P| = 8, |G| = 9
    assert volume_similarity(one)[0, 0] == pytest.approx(1 - 1 / 17, rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.bool_, (2, 7, 9)))
def test_matches_simpleitk(pair: np.ndarray) -> None:
    pred, target = pair
    if not pred.any() and not target.any():
        return  # both empty: SimpleITK's 0/0 is checked below
    got = segscore.score(segscore.confusion(pred[None], target[None]), "vs").value
    assert got == pytest.approx(_reference_volume_similarity(pred, target), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("empty", "expected"), [(math.nan, math.nan), (1.0, 1.0)])
def test_both_empty_follows_the_policy(empty: float, expected: float) -> None:
    c = segscore.confusion(np.zeros((1, 4, 4), bool), np.zeros((1, 4, 4), bool))
    got = volume_similarity(c, empty=empty)[0, 0]
    assert got == expected or (math.isnan(got) and math.isnan(expected))


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_one_prediction_empty_is_zero_and_equal_volumes_one(tp: int, fp: int, fn: int) -> None:
    c = Counts.from_arrays(tp=[[tp]], fp=[[fp]], fn=[[fn]], tn=[[0]])
    value = volume_similarity(c)[0, 0]
    if tp + fp + fn == 0:
        assert math.isnan(value)
    else:
        assert 0.0 <= value <= 1.0
        assert (value == 1.0) == (fp == fn)

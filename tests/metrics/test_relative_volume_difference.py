"""Relative volume difference (signed, and |RVD| as the registry's 'ravd'): against MedPy's ravd."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

import segscore
from segscore import Counts
from segscore.metrics.overlap import relative_volume_difference


def _reference_ravd(pred: np.ndarray, target: np.ndarray) -> float:
    """MedPy 0.5.2 ``metric.binary.ravd(result, reference)``: (|P| - |G|) / |G|, signed."""
    binary = pytest.importorskip("medpy.metric.binary")
    return float(binary.ravd(pred, target))


def test_formula_by_hand() -> None:
    one = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])  # |P| = 8, |G| = 9
    assert relative_volume_difference(one)[0, 0] == pytest.approx(-1 / 9, rel=1e-15)
    assert relative_volume_difference(one, absolute=True)[0, 0] == pytest.approx(1 / 9, rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.bool_, (2, 6, 8)))
def test_matches_medpy(pair: np.ndarray) -> None:
    pred, target = pair
    if not target.any():
        return  # MedPy raises on an empty reference: checked below
    c = segscore.confusion(pred[None], target[None])
    expected = _reference_ravd(pred, target)
    assert relative_volume_difference(c)[0, 0] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    ravd = segscore.score(c, "ravd")
    assert ravd.value == pytest.approx(abs(expected), rel=1e-12, abs=1e-15)
    assert not segscore.get_metric("ravd").higher_is_better


def test_empty_target_follows_the_policy_where_medpy_raises() -> None:
    binary = pytest.importorskip("medpy.metric.binary")
    pred = np.zeros((4, 4), bool)
    pred[0, 0] = True
    target = np.zeros((4, 4), bool)
    with pytest.raises(RuntimeError):
        binary.ravd(pred, target)
    c = segscore.confusion(pred[None], target[None])
    assert math.isnan(relative_volume_difference(c)[0, 0])  # default: NaN, excluded and counted
    policy = segscore.EmptyPolicy(target_empty=1.0)  # a chosen finite value (inf is refused)
    assert relative_volume_difference(c, empty=policy)[0, 0] == 1.0

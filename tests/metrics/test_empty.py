"""The four empty cases and the policy record."""

from __future__ import annotations

import math

import numpy as np

from segscore import EmptyCase, EmptyPolicy
from segscore.metrics.empty import DEFAULT_EMPTY, as_empty_policy, empty_cases


def test_exactly_one_case_per_cell():
    rng = np.random.default_rng(3)
    tp, fp, fn = (rng.integers(0, 2, size=200) for _ in range(3))
    cases = empty_cases(tp, fp, fn)
    stacked = np.stack([cases[c] for c in EmptyCase])
    assert np.all(stacked.sum(axis=0) == 1)
    np.testing.assert_array_equal(cases[EmptyCase.BOTH_EMPTY], (tp + fp + fn) == 0)
    np.testing.assert_array_equal(cases[EmptyCase.TARGET_EMPTY], (tp + fn == 0) & (fp > 0))
    np.testing.assert_array_equal(cases[EmptyCase.PREDICTION_EMPTY], (tp + fp == 0) & (fn > 0))


def test_policy_defaults_and_conversion():
    assert math.isnan(DEFAULT_EMPTY.zero_division)
    assert DEFAULT_EMPTY.both_empty is None
    assert as_empty_policy(1) == EmptyPolicy(zero_division=1.0)
    policy = EmptyPolicy(target_empty=0.0)
    assert as_empty_policy(policy) is policy
    assert EmptyCase("target_empty") is EmptyCase.TARGET_EMPTY
    assert policy.as_dict()["target_empty"] == 0.0

"""Metric names: the registry, aliases and fbeta@B."""

from __future__ import annotations

import numpy as np
import pytest

from segscore import METRICS, Counts, InputError, fbeta, get_metric
from segscore.metrics.empty import DEFAULT_EMPTY

C = Counts.from_arrays(tp=[[6]], fp=[[2]], fn=[[3]], tn=[[9]])


def test_names():
    assert list(METRICS) == [
        "iou",
        "dice",
        "precision",
        "recall",
        "specificity",
        "accuracy",
        "balanced_accuracy",
        "mcc",
        "f2",
        "f0.5",
    ]
    assert METRICS["mcc"].bounds == (-1.0, 1.0)
    assert all(spec.higher_is_better for spec in METRICS.values())


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("jaccard", "iou"),
        ("f1", "dice"),
        ("sensitivity", "recall"),
        ("tpr", "recall"),
        ("tnr", "specificity"),
    ],
)
def test_aliases(alias, name):
    assert get_metric(alias) is METRICS[name]


def test_fbeta_by_name():
    spec = get_metric("fbeta@3")
    assert spec.name == "fbeta@3"
    np.testing.assert_array_equal(spec.cells(C, DEFAULT_EMPTY), fbeta(C, beta=3.0))
    np.testing.assert_array_equal(METRICS["f2"].cells(C, DEFAULT_EMPTY), fbeta(C, beta=2.0))
    np.testing.assert_array_equal(METRICS["f0.5"].cells(C, DEFAULT_EMPTY), fbeta(C, beta=0.5))


@pytest.mark.parametrize("name", ["hd95", "fbeta@0", "fbeta@-1", "fbeta@x", "fbeta@nan", "", None])
def test_unknown_names(name):
    with pytest.raises(InputError, match=r"`metric` must be one of 'iou', .*'fbeta@B', got "):
        get_metric(name)

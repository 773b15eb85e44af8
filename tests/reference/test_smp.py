"""Cross-checks against segmentation_models_pytorch's metrics (``get_stats`` and the scores).

Importing the package needs timm and torchvision, so only ``segmentation_models_pytorch/metrics/
functional.py`` (pure torch) is loaded, by path. SMP's reductions map onto segscore's aggregations:

=====================  ========================
SMP ``reduction``       segscore ``aggregation``
=====================  ========================
``macro``              ``pooled``
``micro``              ``pooled_micro``
``micro-imagewise``    ``per_image_micro``
``macro-imagewise``    ``images_then_classes``
=====================  ========================

SMP's ``zero_division`` replaces every NaN by a number before averaging: segscore's ``empty=``.
The counts are passed to SMP's scores as float64 so that both compute in double precision.
"""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import segscore

from ._inputs import Case, all_cases, ids

torch = pytest.importorskip("torch")


def _load_smp_functional():
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("segmentation_models_pytorch is not installed")
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "metrics" / "functional.py"
    module_spec = importlib.util.spec_from_file_location("_smp_metrics_functional", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


smp = _load_smp_functional()

CASES = all_cases()
REDUCTIONS = {
    "macro": "pooled",
    "micro": "pooled_micro",
    "micro-imagewise": "per_image_micro",
    "macro-imagewise": "images_then_classes",
}
METRICS = {  # segscore registry name -> SMP function
    "iou": smp.iou_score,
    "dice": smp.f1_score,
    "precision": smp.positive_predictive_value,
    "recall": smp.sensitivity,
    "specificity": smp.specificity,
    "accuracy": smp.accuracy,
    "balanced_accuracy": smp.balanced_accuracy,
    "f2": lambda *a, **k: smp.fbeta_score(*a, beta=2.0, **k),
}


def _reference_stats(case: Case) -> tuple:
    """SMP's (tp, fp, fn, tn), each (N, C) int64."""
    p = torch.from_numpy(case.pred.astype(np.int64))
    t = torch.from_numpy(case.target.astype(np.int64))
    if case.mode == "binary":
        return smp.get_stats(p[:, None], t[:, None], mode="binary")
    if case.mode == "multilabel":
        return smp.get_stats(p, t, mode="multilabel")
    return smp.get_stats(
        p, t, mode="multiclass", num_classes=case.num_classes, ignore_index=case.ignore_index
    )


def _reference_score(case: Case, metric: str, reduction: str, zero_division: float) -> np.ndarray:
    stats = [s.double() for s in _reference_stats(case)]
    return METRICS[metric](*stats, reduction=reduction, zero_division=zero_division).numpy()


def _reference_iou(case, reduction, zero_division):
    return _reference_score(case, "iou", reduction, zero_division)


def _reference_dice(case, reduction, zero_division):
    return _reference_score(case, "dice", reduction, zero_division)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_counts_match_get_stats(case):
    c = segscore.confusion(case.pred, case.target, **case.confusion_kwargs())
    for name, theirs in zip(("tp", "fp", "fn", "tn"), _reference_stats(case), strict=True):
        np.testing.assert_array_equal(getattr(c, name), theirs.numpy(), err_msg=name)


@pytest.mark.parametrize("zero_division", [1.0, 0.0])
@pytest.mark.parametrize("reduction", [*REDUCTIONS, "none"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_iou_and_dice_match_every_reduction(case, reduction, zero_division):
    c = segscore.confusion(case.pred, case.target, **case.confusion_kwargs())
    for metric, reference in (("iou", _reference_iou), ("dice", _reference_dice)):
        expected = reference(case, reduction, zero_division)
        if reduction == "none":
            got = segscore.score(c, metric, empty=zero_division).cells
        else:
            got = segscore.score(
                c, metric, aggregation=REDUCTIONS[reduction], empty=zero_division
            ).value
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=metric)


@pytest.mark.parametrize("metric", [m for m in METRICS if m not in ("iou", "dice")])
@pytest.mark.parametrize("reduction", list(REDUCTIONS))
@pytest.mark.parametrize("case", CASES[::3], ids=ids(CASES[::3]))
def test_other_metrics_match(case, metric, reduction):
    c = segscore.confusion(case.pred, case.target, **case.confusion_kwargs())
    got = segscore.score(c, metric, aggregation=REDUCTIONS[reduction], empty=1.0).value
    expected = _reference_score(case, metric, reduction, 1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)

"""Cross-checks against MONAI (one-hot tensors of shape (N, C, *S)).

Ignored pixels are all-zero in the one-hot target; a prediction of the ignore label on a counted
pixel is all-zero in the one-hot prediction (a false negative, segscore's rule). For the overlap
scores the ignored pixels are zeroed in both tensors: that makes them true negatives for every
class, which IoU, Dice and generalized Dice do not use.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import segscore
from segscore import EmptyPolicy

from ._inputs import Case, all_cases, ids, one_hot

torch = pytest.importorskip("torch")
mm = pytest.importorskip("monai.metrics")

CASES = all_cases()
F32 = {"rtol": 1e-6, "atol": 1e-7}


def _one_hot(case: Case) -> tuple:
    """float64 one-hot (pred, target) and the ignore mask (True where counted)."""
    if case.mode == "multilabel":
        p, t = case.pred.astype(np.float64), case.target.astype(np.float64)
        keep = np.ones((t.shape[0], 1, *t.shape[2:]), bool)
    elif case.mode == "binary":
        p, t = case.pred[:, None].astype(np.float64), case.target[:, None].astype(np.float64)
        keep = np.ones_like(t, dtype=bool)
    else:
        p, t = one_hot(case.pred, case.num_classes), one_hot(case.target, case.num_classes)
        keep = (case.target != case.ignore_index)[:, None]
    return torch.from_numpy(p), torch.from_numpy(t), torch.from_numpy(keep.astype(np.float64))


def _masked(case: Case) -> tuple:
    p, t, keep = _one_hot(case)
    return p * keep, t * keep


def _counts(case: Case):
    return segscore.confusion(case.pred, case.target, **case.confusion_kwargs())


# -- one reference per metric ----------------------------------------------------------------------
def _reference_confusion(case: Case) -> np.ndarray:
    """(N, C, 4) tp, fp, fn, tn. MONAI returns float32 counts: exact below 2^24 pixels."""
    p, t, _ = _one_hot(case)
    m = mm.get_confusion_matrix(p, t, ignore_index=case.ignore_index).numpy()  # tp, fp, tn, fn
    return np.stack([m[..., 0], m[..., 1], m[..., 3], m[..., 2]], axis=-1)


def _reference_iou(case: Case, ignore_empty: bool) -> np.ndarray:
    return mm.compute_iou(*_masked(case), ignore_empty=ignore_empty).numpy()


def _reference_dice(case: Case, ignore_empty: bool) -> np.ndarray:
    return mm.compute_dice(*_masked(case), ignore_empty=ignore_empty).numpy()


def _reference_generalized_dice(case: Case, weight_type: str) -> np.ndarray:
    p, t = _masked(case)
    return mm.compute_generalized_dice(p, t, weight_type=weight_type, sum_over_classes=True).numpy()


# MONAI `ignore_empty=True`: NaN wherever the target is empty, also for a pure false positive.
# `ignore_empty=False`: 1 when both masks are empty (zero_division=1), 0 for one empty mask.
MONAI_EMPTY = {
    True: EmptyPolicy(zero_division=math.nan, target_empty=math.nan),
    False: EmptyPolicy(zero_division=1.0),
}


# -- tests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_confusion_matches_get_confusion_matrix(case):
    c = _counts(case)
    got = np.stack([c.tp, c.fp, c.fn, c.tn], axis=-1)
    np.testing.assert_array_equal(got, _reference_confusion(case))


@pytest.mark.parametrize("ignore_empty", [True, False])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_iou_and_dice_match_with_ignore_empty(case, ignore_empty):
    c = _counts(case)
    policy = MONAI_EMPTY[ignore_empty]
    np.testing.assert_allclose(
        segscore.iou(c, empty=policy), _reference_iou(case, ignore_empty), **F32
    )
    np.testing.assert_allclose(
        segscore.dice(c, empty=policy), _reference_dice(case, ignore_empty), **F32
    )


@pytest.mark.parametrize("weight", ["square", "simple", "uniform"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_generalized_dice_matches(case, weight):
    """MONAI gives 1 for a zero denominator (segscore's empty=1) and fills the weight of a class
    absent from the target with the largest weight of the image (1 when there is none). It casts
    the weights to float32: compared within float32 rounding."""
    c = _counts(case)
    got = segscore.generalized_dice(c, weight=weight, empty=1.0)
    np.testing.assert_allclose(got, _reference_generalized_dice(case, weight)[:, 0], **F32)

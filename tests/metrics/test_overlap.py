"""Overlap metrics: class averages, shapes, the empty policy and the CONVENTIONS.md edge-case table.

Each metric's formula by hand and its cross-checks against the peers are in test_<metric>.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import segscore
from segscore import Counts, EmptyPolicy, confusion, dice, iou

NAN = math.nan

# -- CONVENTIONS.md "Edge cases run on this machine", numpy-ref column ------------------------------


def _square(shift: int = 0, size: int = 4) -> np.ndarray:
    m = np.zeros((16, 16), bool)
    m[4 + shift : 4 + shift + size, 4 : 4 + size] = True
    return m


def _pixel(r: int, c: int) -> np.ndarray:
    m = np.zeros((16, 16), bool)
    m[r, c] = True
    return m


EMPTY = np.zeros((16, 16), bool)
BINARY_EDGE_CASES = [
    ("both empty", EMPTY, EMPTY, NAN, NAN),
    ("empty prediction, target non-empty", EMPTY, _square(), 0.0, 0.0),
    ("empty target, prediction non-empty", _square(), EMPTY, 0.0, 0.0),
    ("single pixel identical", _pixel(3, 3), _pixel(3, 3), 1.0, 1.0),
    ("single pixel off by one", _pixel(3, 4), _pixel(3, 3), 0.0, 0.0),
]


@pytest.mark.parametrize(
    ("pred", "target", "iou_value", "dice_value"),
    [c[1:] for c in BINARY_EDGE_CASES],
    ids=[c[0] for c in BINARY_EDGE_CASES],
)
def test_binary_edge_cases(pred, target, iou_value, dice_value):
    c = confusion(pred, target)
    np.testing.assert_array_equal(iou(c), [[iou_value]])
    np.testing.assert_array_equal(dice(c), [[dice_value]])


def _multiclass_maps() -> tuple[np.ndarray, np.ndarray]:
    """8×8, C=4: rows 0-3 class 0, rows 4-5 class 1, rows 6-7 class 2; class 3 absent."""
    target = np.zeros((8, 8), np.int64)
    target[4:6] = 1
    target[6:8] = 2
    return target.copy(), target


def test_class_absent_from_both():
    pred, target = _multiclass_maps()
    pred[4, 0] = 2  # one pixel: target 1, prediction 2
    c = confusion(pred, target, num_classes=4, ignore_index=255)
    np.testing.assert_allclose(iou(c)[0], [1, 15 / 16, 16 / 17, NAN], rtol=1e-15)
    assert iou(c, average="macro")[0] == pytest.approx(0.9596, abs=5e-5)
    assert iou(c, average="macro")[0] == pytest.approx((1 + 15 / 16 + 16 / 17) / 3, rel=1e-15)


def test_ignore_label_under_a_prediction():
    pred, target = _multiclass_maps()
    target[0:2, 0:3] = 255
    pred[0:2, 0:3] = 1  # predictions under ignored pixels count for nothing
    c = confusion(pred, target, num_classes=4, ignore_index=255)
    np.testing.assert_array_equal(iou(c)[0], [1, 1, 1, NAN])
    assert iou(c, average="macro")[0] == 1.0
    assert c.total[0].tolist() == [58] * 4


def test_prediction_of_the_ignore_label_on_a_valid_pixel():
    pred, target = _multiclass_maps()
    pred[5, 7] = 255  # target 1: a miss for class 1, a false positive for no class
    c = confusion(pred, target, num_classes=4, ignore_index=255)
    np.testing.assert_allclose(iou(c)[0], [1, 15 / 16, 1, NAN], rtol=1e-15)
    assert iou(c, average="macro")[0] == pytest.approx(0.9792, abs=5e-5)


# -- class averages --------------------------------------------------------------------------------
ROW = Counts.from_arrays(
    tp=[[4, 1, 0, 0]], fp=[[1, 0, 2, 0]], fn=[[0, 3, 0, 0]], tn=[[5, 6, 8, 10]]
)  # IoU [4/5, 1/4, 0, NaN], supports [4, 4, 0, 0]


def test_averages_by_hand():
    np.testing.assert_allclose(iou(ROW), [[0.8, 0.25, 0.0, NAN]])
    assert iou(ROW, average="macro")[0] == pytest.approx((0.8 + 0.25 + 0) / 3, rel=1e-15)
    assert iou(ROW, average="weighted")[0] == pytest.approx((4 * 0.8 + 4 * 0.25) / 8, rel=1e-15)
    assert iou(ROW, average="micro")[0] == pytest.approx(5 / (5 + 3 + 3), rel=1e-15)
    assert iou(ROW, average="macro", empty=1.0)[0] == pytest.approx(2.05 / 4, rel=1e-15)
    assert iou(ROW.sum(axis=0), average="macro") == pytest.approx(1.05 / 3, rel=1e-15)


def test_average_of_all_nan_row_is_nan():
    c = Counts.from_arrays(tp=[[0, 0]], fp=[[0, 0]], fn=[[0, 0]], tn=[[3, 3]])
    assert math.isnan(iou(c, average="macro")[0])
    assert math.isnan(iou(c, average="weighted")[0])
    assert math.isnan(iou(c, average="micro")[0])


def test_output_shapes():
    c = confusion(np.zeros((3, 4, 4), np.int64), np.zeros((3, 4, 4), np.int64), num_classes=2)
    assert dice(c).shape == (3, 2)
    assert dice(c, average="macro").shape == (3,)
    assert dice(c.sum(axis=0)).shape == (2,)
    assert dice(c.sum(axis=0), average="macro").shape == ()
    assert dice(c.sum()).shape == ()
    assert dice(c).dtype == np.float64


# -- empty policy ----------------------------------------------------------------------------------
CASES4 = Counts.from_arrays(tp=[[0, 0, 0, 2]], fp=[[0, 3, 0, 1]], fn=[[0, 0, 4, 1]], tn=[[9] * 4])


def test_default_policy_nan_only_for_zero_denominator():
    np.testing.assert_array_equal(iou(CASES4), [[NAN, 0, 0, 0.5]])
    np.testing.assert_array_equal(segscore.precision(CASES4), [[NAN, 0, NAN, 2 / 3]])
    np.testing.assert_array_equal(segscore.recall(CASES4), [[NAN, NAN, 0, 2 / 3]])


def test_policy_overrides_per_case():
    policy = EmptyPolicy(zero_division=1.0, target_empty=NAN, prediction_empty=0.25)
    np.testing.assert_array_equal(iou(CASES4, empty=policy), [[1, NAN, 0.25, 0.5]])
    np.testing.assert_array_equal(
        iou(CASES4, empty=EmptyPolicy(both_empty=-1.0)), [[-1, 0, 0, 0.5]]
    )
    np.testing.assert_array_equal(iou(CASES4, empty=0.0), [[0, 0, 0, 0.5]])

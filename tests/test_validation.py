"""Every error path: an InputError whose message names the argument and shows what was found."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segscore import (
    Counts,
    EmptyPolicy,
    InputError,
    confusion,
    confusion_matrix,
    dice,
    fbeta,
    generalized_dice,
    score,
)
from segscore._validation import (
    check_finite_probabilities,
    check_int,
    check_ndim,
    check_not_empty,
    check_number,
    check_option,
    check_same_shape,
    fail_binary_values,
    fail_labels,
)

L = np.array([[0, 1, 2], [2, 1, 0]])  # a (2, 3) label map with 3 classes
M = np.array([[0, 1, 1], [1, 0, 0]], bool)
C2 = Counts.from_arrays(tp=[[1, 2]], fp=[[0, 1]], fn=[[1, 0]], tn=[[4, 3]])
C1 = Counts.from_arrays(tp=[[1]], fp=[[0]], fn=[[1]], tn=[[4]])


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


# -- confusion ---------------------------------------------------------------------------------
CONFUSION_ERRORS = [
    (
        "shape mismatch",
        (L, L[:, :2]),
        {"num_classes": 3},
        r"`pred` and `target` must have the same shape, got \(2, 3\) and \(2, 2\)\.",
    ),
    (
        "1-D",
        (L[0], L[0]),
        {"num_classes": 3},
        r"`pred` must have 2, 3 or 4 axes: \(H, W\) for one image.*got shape \(3,\)\.",
    ),
    (
        "5-D",
        (L[None, None, None], L[None, None, None]),
        {"num_classes": 3},
        r"`pred` must have 2, 3 or 4 axes: .*set `spatial_dims=3` for one volume, got shape \(1, 1, 1, 2, 3\)\.",
    ),
    (
        "2-D image as a volume",
        (L, L),
        {"num_classes": 3, "spatial_dims": 3},
        r"`pred` must have 3 or 4 axes: \(D, H, W\) for one image or with a leading batch axis N, "
        r"got shape \(2, 3\)\.",
    ),
    (
        "batch of volumes as 2-D",
        (L[None, None], L[None, None]),
        {"num_classes": 3, "spatial_dims": 2},
        r"`pred` must have 2 or 3 axes: \(H, W\) .*got shape \(1, 1, 2, 3\)\.",
    ),
    (
        "spatial_dims 4",
        (L, L),
        {"num_classes": 3, "spatial_dims": 4},
        r"`spatial_dims` must be 2 or 3, got 4\.",
    ),
    (
        "spatial_dims 1",
        (L, L),
        {"num_classes": 3, "spatial_dims": 1},
        r"`spatial_dims` must be an integer >= 2, got 1\.",
    ),
    (
        "spatial_dims str",
        (L, L),
        {"num_classes": 3, "spatial_dims": "3"},
        r"`spatial_dims` must be an integer >= 2, got '3'\.",
    ),
    (
        "labels too large",
        (L, L + 5),
        {"num_classes": 3},
        r"`target` has labels \[5, 6, 7\] outside \[0, 3\); set `num_classes` or `ignore_index`\.",
    ),
    (
        "labels outside with ignore",
        (L * 4, L),
        {"num_classes": 3, "ignore_index": 255},
        r"`pred` has labels \[4, 8\] outside \[0, 3\) and not the ignore label 255; ",
    ),
    (
        "negative labels",
        (L - 1, L),
        {"num_classes": 3},
        r"`pred` has labels \[-1\] outside \[0, 3\)",
    ),
    (
        "ignore label in pred without ignore_index",
        (np.where(L == 2, 255, L), L),
        {"num_classes": 3},
        r"`pred` has labels \[255\] outside \[0, 3\)",
    ),
    (
        "many bad labels are elided",
        (np.arange(30).reshape(3, 10), np.zeros((3, 10), int)),
        {"num_classes": 3},
        r"`pred` has labels \[3, 4, 5, 6, 7, 8, 9, 10, \.\.\. \(27 in all\)\]",
    ),
    (
        "float label map",
        (L.astype(float), L),
        {"num_classes": 3},
        r"`pred` must be an integer label map when `num_classes` is set, got dtype float64 "
        r"\(for probabilities, take the argmax over the class axis first\)\.",
    ),
    (
        "bool label map with one class",
        (M, M),
        {"num_classes": 1},
        r"`pred` has labels \[1\] outside \[0, 1\)",
    ),
    (
        "string dtype",
        (L.astype(str), L),
        {"num_classes": 3},
        r"`pred` must be a bool, integer or float array, got dtype <U\d+\.",
    ),
    (
        "complex dtype",
        (M, M.astype(complex)),
        {},
        r"`target` must be a bool, integer or float array, got dtype complex128\.",
    ),
    (
        "uint8 too small",
        (L.astype(np.uint8), L.astype(np.uint8)),
        {"num_classes": 300},
        r"`num_classes` must fit the label dtype of `pred`: uint8 holds at most 256 labels, "
        r"got num_classes=300",
    ),
    (
        "int8 too small",
        (L, L.astype(np.int8)),
        {"num_classes": 200},
        r"`num_classes` must fit the label dtype of `target`: int8 holds at most 128 labels, "
        r"got num_classes=200",
    ),
    (
        "empty batch",
        (np.zeros((0, 4, 4), int), np.zeros((0, 4, 4), int)),
        {"num_classes": 2},
        r"`pred` must not be empty, got shape \(0, 4, 4\)\.",
    ),
    (
        "empty image",
        (np.zeros((3, 0)), np.zeros((3, 0))),
        {},
        r"`pred` must not be empty, got shape \(3, 0\)\.",
    ),
    (
        "ignore_index inside the classes",
        (L, L),
        {"num_classes": 3, "ignore_index": 1},
        r"`ignore_index` must lie outside \[0, 3\) \(the class labels\), got 1 \(it names pixels to drop, not a class\);",
    ),
    (
        "ignore_index 0",
        (L, L),
        {"num_classes": 3, "ignore_index": 0},
        r"`ignore_index` must lie outside \[0, 3\) \(the class labels\), got 0 \(it names pixels to drop, not a class\);",
    ),
    (
        "ignore_index not an integer",
        (L, L),
        {"num_classes": 3, "ignore_index": 2.5},
        r"`ignore_index` must be an integer, got 2\.5\.",
    ),
    (
        "ignore_index on binary masks",
        (M, M),
        {"ignore_index": 255},
        r"`ignore_index` needs label maps: set `num_classes` .*got ignore_index=255 with num_classes=None\.",
    ),
    (
        "num_classes 0",
        (L, L),
        {"num_classes": 0},
        r"`num_classes` must be an integer >= 1, got 0\.",
    ),
    (
        "num_classes float",
        (L, L),
        {"num_classes": 3.0},
        r"`num_classes` must be an integer >= 1, got 3\.0\.",
    ),
    (
        "num_classes bool",
        (L, L),
        {"num_classes": True},
        r"`num_classes` must be an integer >= 1, got True\.",
    ),
    (
        "multilabel with num_classes",
        (M[None], M[None]),
        {"multilabel": True, "num_classes": 2},
        r"`num_classes` must be None when `multilabel=True`: .*got 2\.",
    ),
    (
        "multilabel without a channel axis",
        (M, M),
        {"multilabel": True},
        r"`pred` must have 3, 4 or 5 axes: \(C, H, W\) for one image, .*got shape \(2, 3\)\.",
    ),
    # binary masks
    (
        "non-binary {0, 1, 2}",
        (M, L),
        {},
        r"`target` must be a binary mask with values \{0, 1\} or \{0, 255\}, got values \[0, 1, 2\]; "
        r"for label maps set `num_classes`\.",
    ),
    (
        "non-binary {0, 128}",
        (M.astype(np.uint8) * 128, M),
        {},
        r"`pred` must be a binary mask with values \{0, 1\} or \{0, 255\}, got values \[0, 128\]",
    ),
    (
        "non-binary {0, 1, 255}",
        (np.where(M, 255, 1).astype(np.uint8), M),
        {},
        r"`pred` must be a binary mask .*got values \[1, 255\]",
    ),
    (
        "negative binary",
        (M.astype(int) - 1, M),
        {},
        r"`pred` must be a binary mask .*got values \[-1, 0\]",
    ),
    (
        "float target that is not {0, 1}",
        (M, M * 0.5),
        {},
        r"`target` must be a binary mask .*got values \[0\.0, 0\.5\]",
    ),
    (
        "NaN target",
        (M, np.where(M, np.nan, 0.0)),
        {},
        r"`target` must be a binary mask .*got values \[nan\]",
    ),
    (
        "NaN probabilities",
        (np.where(M, np.nan, 0.2), M),
        {},
        r"`pred` must hold finite probabilities, got 3 NaN or infinite values\.",
    ),
    (
        "inf probabilities",
        (np.where(M, np.inf, 0.2), M),
        {},
        r"`pred` must hold finite probabilities, got 3 NaN or infinite values\.",
    ),
    (
        "probabilities below 0",
        (np.where(M, -0.5, 0.2), M),
        {},
        r"`pred` must hold probabilities in \[0, 1\], got values in \[-0\.5, 0\.2\]\.",
    ),
    (
        "probabilities above 1",
        (np.where(M, 1.5, 0.2), M),
        {},
        r"`pred` must hold probabilities in \[0, 1\], got values in \[0\.2, 1\.5\]\.",
    ),
    ("threshold 0", (M, M), {"threshold": 0}, r"`threshold` must be a number in \(0, 1\), got 0\."),
    (
        "threshold 1",
        (M, M),
        {"threshold": 1.0},
        r"`threshold` must be a number in \(0, 1\), got 1\.0\.",
    ),
    (
        "threshold above 1",
        (M, M),
        {"threshold": 1.5},
        r"`threshold` must be a number in \(0, 1\), got 1\.5\.",
    ),
    (
        "threshold NaN",
        (M, M),
        {"threshold": math.nan},
        r"`threshold` must be a number in \(0, 1\), got nan\.",
    ),
    (
        "threshold str",
        (M, M),
        {"threshold": "0.5"},
        r"`threshold` must be a number in \(0, 1\), got '0\.5'\.",
    ),
    (
        "threshold bool",
        (M, M),
        {"threshold": True},
        r"`threshold` must be a number in \(0, 1\), got True\.",
    ),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [c[1:] for c in CONFUSION_ERRORS],
    ids=[c[0] for c in CONFUSION_ERRORS],
)
def test_confusion_errors(args, kwargs, message):
    with pytest.raises(InputError, match=message):
        confusion(*args, **kwargs)


def test_confusion_matrix_validates_like_confusion():
    with pytest.raises(InputError, match=r"`target` has labels \[5, 6, 7\] outside \[0, 3\)"):
        confusion_matrix(L, L + 5, num_classes=3)
    with pytest.raises(InputError, match=r"`ignore_index` must lie outside \[0, 3\)"):
        confusion_matrix(L, L, num_classes=3, ignore_index=2)


# -- Counts ------------------------------------------------------------------------------------
def test_counts_errors():
    one, two = np.array([1], np.int64), np.array([1, 2], np.int64)
    with pytest.raises(
        InputError, match=r"`tp`, `fp`, `fn` and `tn` must have one shape, got \[\(1,\), \(2,\)\]\."
    ):
        Counts(one, two, one, one)
    with pytest.raises(
        InputError, match=r"`fn` must be an int64 ndarray, got ndarray of dtype int32\."
    ):
        Counts(one, one, one.astype(np.int32), one)
    with pytest.raises(
        InputError, match=r"`tp` must be an int64 ndarray, got list of dtype None\."
    ):
        Counts([1], one, one, one)
    with pytest.raises(InputError, match=r"`fp` must hold non-negative counts, got minimum -1\."):
        Counts(one, -one, one, one)
    with pytest.raises(InputError, match=r"`tn` must hold integer counts, got dtype float64\."):
        Counts.from_arrays(tp=[1], fp=[1], fn=[1], tn=[1.0])
    with pytest.raises(
        InputError, match=r"counts to add must have the same shape, got \(1, 2\) and \(1, 1\)\."
    ):
        C2 + C1
    with pytest.raises(
        InputError, match=r"`parts` must hold at least one Counts, got an empty sequence\."
    ):
        Counts.concat([])
    with pytest.raises(
        InputError, match=r"counts to concatenate must have shape \(N, C\), got \(2,\)\."
    ):
        Counts.concat([C2, C2.sum(axis=0)])
    with pytest.raises(
        InputError,
        match=r"counts to concatenate must have the same number of classes, got 2 and 1\.",
    ):
        Counts.concat([C2, C1])
    with pytest.raises(InputError, match=r"`select` needs counts of shape \(N, C\), got \(2,\)\."):
        C2.sum(axis=0).select(classes=[0])


# -- metrics, score, empty policy ----------------------------------------------------------------
def test_metric_errors():
    with pytest.raises(
        InputError,
        match=r"`average` must be one of 'none', 'micro', 'macro', 'weighted', got 'mean'\.",
    ):
        dice(C2, average="mean")
    with pytest.raises(
        InputError, match=r"`counts` must be a Counts from segscore\.confusion\(\), got ndarray;"
    ):
        dice(np.ones((2, 2)))
    with pytest.raises(InputError, match=r"`beta` must be a number > 0, got 0\."):
        fbeta(C2, beta=0)
    with pytest.raises(InputError, match=r"`beta` must be a number > 0, got inf\."):
        fbeta(C2, beta=math.inf)
    with pytest.raises(
        InputError, match=r"`weight` must be one of 'square', 'simple', 'uniform', got 'linear'\."
    ):
        generalized_dice(C2, weight="linear")
    with pytest.raises(InputError, match=r"`counts` must be a Counts"):
        generalized_dice([[1, 2]])
    with pytest.raises(InputError, match=r"`empty` must be NaN or a finite number, got inf\."):
        dice(C2, empty=math.inf)
    with pytest.raises(InputError, match=r"`empty` must be NaN or a finite number, got 'nan'\."):
        dice(C2, empty="nan")


SCORE_ERRORS = [
    (
        "unknown metric",
        (C2, "hd96x"),
        {},
        r"`metric` must be one of 'iou', 'dice', .*got 'hd96x'\.",
    ),
    (
        "boundary metric from counts",
        (C2, "hd95"),
        {},
        r"`metric` must be an overlap metric here, got 'hd95' \(a boundary metric\)\.",
    ),
    (
        "unknown aggregation",
        (C2, "iou"),
        {"aggregation": "mean"},
        r"`aggregation` must be one of 'pooled', 'pooled_micro', 'images_then_classes', "
        r"'classes_then_images', 'per_image_per_class', 'per_image_micro', got 'mean'\.",
    ),
    (
        "pooled counts",
        (C2.sum(axis=0), "iou"),
        {},
        r"`counts` must be Counts of shape \(N, C\) \(one row per image\), got \(2,\)\.",
    ),
    (
        "not counts",
        ([[1]], "iou"),
        {},
        r"`counts` must be Counts of shape \(N, C\) \(one row per image\), got list\.",
    ),
    (
        "class out of range",
        (C2, "iou"),
        {"classes": [5]},
        r"`classes` must be a non-empty list of class indices in \[0, 2\), got \[5\]\.",
    ),
    (
        "no classes",
        (C2, "iou"),
        {"classes": []},
        r"`classes` must be a non-empty list of class indices in \[0, 2\), got \[\]\.",
    ),
    (
        "class weights name",
        (C2, "iou"),
        {"class_weights": "mean"},
        r"`class_weights` must be one of 'support', got 'mean'\.",
    ),
    (
        "class weights length",
        (C2, "iou"),
        {"class_weights": [1.0]},
        r"`class_weights` must be 2 finite non-negative numbers \(one per kept class\), got \[1\.0\]\.",
    ),
    (
        "negative class weights",
        (C2, "iou"),
        {"class_weights": [1.0, -1.0]},
        r"`class_weights` must be 2 finite .*got \[1\.0, -1\.0\]\.",
    ),
    (
        "bad empty",
        (C2, "iou"),
        {"empty": -math.inf},
        r"`empty` must be NaN or a finite number, got -inf\.",
    ),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"), [c[1:] for c in SCORE_ERRORS], ids=[c[0] for c in SCORE_ERRORS]
)
def test_score_errors(args, kwargs, message):
    with pytest.raises(InputError, match=message):
        score(*args, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"zero_division": math.inf}, r"`zero_division` must be NaN or a finite number, got inf\."),
        ({"zero_division": None}, r"`zero_division` must be NaN or a finite number, got None\."),
        (
            {"both_empty": "x"},
            r"`both_empty` must be NaN, a finite number, inf or 'diagonal', got 'x'\.",
        ),
        (
            {"target_empty": True},
            r"`target_empty` must be NaN, a finite number, inf or 'diagonal', got True\.",
        ),
        (
            {"prediction_empty": -math.inf},
            r"`prediction_empty` must be NaN, a finite number, inf or 'diagonal', got -inf\.",
        ),
    ],
)
def test_empty_policy_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        EmptyPolicy(**kwargs)


# -- the message helpers themselves --------------------------------------------------------------
def test_validation_helpers():
    with pytest.raises(InputError, match=r"^`average` must be one of 'a', 'b', got 'c'\.$"):
        check_option("average", "c", ("a", "b"))
    assert check_number("x", 3) == 3.0
    with pytest.raises(InputError, match=r"^`x` must be a finite number, got nan\.$"):
        check_number("x", math.nan)
    with pytest.raises(InputError, match=r"^`x` must be a number <= 1, got 2\.$"):
        check_number("x", 2, high=1)
    with pytest.raises(InputError, match=r"^`x` must be a number < 1, got 1\.$"):
        check_number("x", 1, high=1, high_inclusive=False)
    with pytest.raises(InputError, match=r"^`x` must be a number in \[0, 1\], got -1\.$"):
        check_number("x", -1, low=0, high=1)
    assert check_int("n", np.int32(4)) == 4
    with pytest.raises(InputError, match=r"^`n` must be an integer, got 'a'\.$"):
        check_int("n", "a")
    with pytest.raises(
        InputError, match=r"^`a` and `b` must have the same shape, got \(1,\) and \(2,\)\.$"
    ):
        check_same_shape((1,), (2,), names=("a", "b"))
    check_same_shape((2, 3), [2, 3])
    with pytest.raises(
        InputError, match=r"^`x` must have 2 axes: \(H, W\), got shape \(1, 2, 3\)\.$"
    ):
        check_ndim("x", (1, 2, 3), (2,), "(H, W)")
    with pytest.raises(InputError, match=r"^`x` must not be empty, got shape \(0,\)\.$"):
        check_not_empty("x", (0,))
    with pytest.raises(InputError, match=r"^`p` must hold finite probabilities, got 2 NaN"):
        check_finite_probabilities("p", 0.0, 1.0, 2)
    check_finite_probabilities("p", 0.0, 1.0, 0)
    with pytest.raises(InputError, match=r"^`m` must be a binary mask .*got values \[0, 3\];"):
        fail_binary_values("m", np.array([0, 3], np.uint8))
    with pytest.raises(
        InputError, match=r"^`t` has labels \[9\] outside \[0, 2\) and not the ignore label -1;"
    ):
        fail_labels("t", [9], 2, -1)

import numpy as np

import segscore
from segscore.predict.evaluation import count_masks, evaluate_masks


def test_per_image_scores_match_core():
    rng = np.random.default_rng(0)
    preds = [rng.integers(0, 2, (8, 9)) for _ in range(5)]
    targets = [rng.integers(0, 2, (8, 9)) for _ in range(5)]
    ev = evaluate_masks(preds, targets)
    c = segscore.confusion(np.stack(preds), np.stack(targets))
    np.testing.assert_array_equal(ev.iou.per_image, segscore.iou(c)[:, 0])
    np.testing.assert_array_equal(ev.dice.per_image, segscore.dice(c)[:, 0])
    np.testing.assert_array_equal(ev.accuracy.per_image, segscore.accuracy(c)[:, 0])
    assert ev.n_images == 5


def test_accuracy_hides_missed_small_object():
    target = np.zeros((10, 10), int)
    target[0, 0] = 1
    ev = evaluate_masks([np.zeros((10, 10), int)], [target])
    assert ev.accuracy.per_image[0] == 0.99
    assert ev.iou.per_image[0] == 0.0


def test_both_empty_excluded():
    ev = evaluate_masks([np.zeros((2, 2), int), np.ones((2, 2), int)], [np.zeros((2, 2), int)] * 2)
    assert np.isnan(ev.iou.per_image[0])
    assert ev.summary()["iou"]["n_valid"] == 1


def test_multiclass_pixel_accuracy_and_ignore():
    pred = np.array([[0, 1, 2, 2]])
    target = np.array([[0, 1, 1, 255]])
    ev = evaluate_masks([pred], [target], num_classes=3, ignore_index=255)
    assert ev.accuracy.per_image[0] == 2 / 3
    binary = count_masks([np.array([[1, 1]])], [np.array([[1, 255]])], ignore_index=255)
    assert (binary.tp[0, 0], binary.fp[0, 0], binary.fn[0, 0], binary.tn[0, 0]) == (1, 0, 0, 0)

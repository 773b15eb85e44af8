"""pixels_and_objects against brute force over dense masks (merges: tests/metrics/test_instance_merges.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import segscore
from segscore.errors import InputError
from segscore.predict.object_scores import pixels_and_objects


def test_merge_hidden_by_pixel_iou() -> None:
    target = np.zeros((2, 8, 8), np.int64)
    target[0, 1:5, 1:4] = 1
    target[0, 1:5, 4:7] = 2  # two touching objects
    target[1, 2:6, 2:6] = 3
    pred = np.where(target[0] > 0, 9, 0)[None].repeat(2, axis=0)  # the two as one blob
    pred[1] = np.where(target[1] > 0, 4, 0)
    r = pixels_and_objects(pred, target)
    assert r.pixel_iou.value == 1.0  # every pixel right
    np.testing.assert_allclose(r.object_f1.per_image, [2 / 3, 1.0])
    assert (r.n_pred, r.n_target, r.tp, r.fp, r.fn, r.n_merged) == (2, 3, 2, 0, 1, 2)
    assert r.threshold == Fraction(1, 2)
    pooled = pixels_and_objects(pred, target, aggregation="pooled", threshold="0.6")
    assert pooled.object_f1.value == 0.4  # the blob matches nothing at 0.6: 2 / (2 + 1 + 2)
    assert pooled.threshold == Fraction(3, 5)


def test_composes_segscore_scores() -> None:
    rng = np.random.default_rng(4)
    pred = rng.integers(0, 5, (3, 9, 9))
    target = rng.integers(0, 5, (3, 9, 9))
    r = pixels_and_objects(pred, target)
    iou = segscore.score(segscore.confusion(pred > 0, target > 0), "iou")
    f1 = segscore.instance_scores(pred, target, ["f1@0.5", "tp@0.5", "fp@0.5", "fn@0.5"])
    assert r.pixel_iou.value == iou.value
    assert r.object_f1.value == f1["f1@0.5"].value
    assert (r.tp, r.fp, r.fn) == tuple(
        int(f1[m].per_image.sum()) for m in ("tp@0.5", "fp@0.5", "fn@0.5")
    )
    # pixel IoU by hand
    per_image = [
        ((p > 0) & (t > 0)).sum() / ((p > 0) | (t > 0)).sum()
        for p, t in zip(pred, target, strict=True)
    ]
    assert r.pixel_iou.value == pytest.approx(np.mean(per_image))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0}, "threshold"),
        ({"aggregation": "mean"}, "`aggregation` must be one of"),
    ],
)
def test_bad_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        pixels_and_objects(np.zeros((2, 2), np.int64), np.zeros((2, 2), np.int64), **kwargs)  # type: ignore[arg-type]

"""Panoptic quality against torchmetrics' ``panoptic_quality`` and MONAI's
``compute_panoptic_quality``: both match every pair with IoU > 0.5 (segscore's
``matching='unique', comparison='>'``).

torchmetrics (CONVENTIONS-objects §3 #5): the background is declared a stuff and the thing row
is read with ``return_per_class=True`` (its default scalar averages it with the background's
"modified PQ"); it pools the images of one call. MONAI adds 1e-6 to its denominators and scores
one image per call.
"""

from __future__ import annotations

import numpy as np
import pytest

from segscore import instance_scores

from ._instances import batch
from ._peers import monai_metrics, torch, torchmetrics_segmentation

STRICT = {"matching": "unique", "comparison": ">"}
MONAI_TOL = {"rtol": 1e-5, "atol": 1e-5}  # its 1e-6 smoothing and float32 sums


def _tie_case():
    """A prediction covering two targets at IoU exactly 0.5, plus an exact match."""
    pred = np.array([[1, 1, 1, 1, 0, 5, 5]])
    target = np.array([[2, 2, 3, 3, 0, 4, 4]])
    return pred[None], target[None]


def _reference_pq_torchmetrics(pred: np.ndarray, target: np.ndarray):
    """(pq, sq, rq) of the thing class, pooled over the images."""
    torch()
    from torchmetrics.functional.detection import panoptic_quality

    def pan(a):
        return torch().from_numpy(np.stack([(a > 0).astype(np.int64), a.astype(np.int64)], axis=-1))

    value = panoptic_quality(
        pan(pred), pan(target), things={1}, stuffs={0}, return_sq_and_rq=True, return_per_class=True
    )
    row = value.reshape(-1, 3)[0].numpy()  # things first, then stuffs: row 0 is the thing
    return tuple(float(v) for v in row)


@pytest.mark.parametrize("case", ["seed0", "seed1", "ties"])
def test_pq_equals_torchmetrics(case):
    torchmetrics_segmentation()
    pred, target = (
        _tie_case() if case == "ties" else batch(int(case[-1]), n_images=2, shape=(48, 48))
    )
    ours = instance_scores(pred, target, ["pq", "sq", "rq"], aggregation="pooled", **STRICT)
    ref = _reference_pq_torchmetrics(pred, target)
    np.testing.assert_allclose([ours[k].value for k in ("pq", "sq", "rq")], ref, rtol=1e-6)
    if case == "ties":  # '>=' (StarDist's rule) differs on the tie
        ge = instance_scores(pred, target, "pq", aggregation="pooled")["pq"].value
        assert ge > ours["pq"].value


def _reference_pq_monai(pred: np.ndarray, target: np.ndarray, name: str) -> float:
    m = monai_metrics()
    return float(
        m.compute_panoptic_quality(
            torch().from_numpy(pred.astype(np.int64)),
            torch().from_numpy(target.astype(np.int64)),
            metric_name=name,
        )
    )


@pytest.mark.parametrize("case", ["seed2", "seed3", "ties"])
def test_pq_per_image_equals_monai(case):
    pred, target = (
        _tie_case() if case == "ties" else batch(int(case[-1]), n_images=2, shape=(48, 48))
    )
    ours = instance_scores(pred, target, ["pq", "sq", "rq"], **STRICT)
    for name in ("pq", "sq", "rq"):
        ref = [_reference_pq_monai(pred[i], target[i], name) for i in range(pred.shape[0])]
        np.testing.assert_allclose(ours[name].per_image, ref, **MONAI_TOL)


def test_monai_confusion_matrix_counts():
    pred, target = batch(9, n_images=2, shape=(48, 48))
    m = monai_metrics()
    ours = instance_scores(pred, target, ["tp@0.5", "fp@0.5", "fn@0.5"], **STRICT)
    for i in range(2):
        tp, fp, fn, _iou_sum = m.compute_panoptic_quality(
            torch().from_numpy(pred[i]), torch().from_numpy(target[i]), output_confusion_matrix=True
        ).tolist()
        assert [ours[k].per_image[i] for k in ("tp@0.5", "fp@0.5", "fn@0.5")] == [tp, fp, fn]

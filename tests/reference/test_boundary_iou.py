"""Boundary IoU against the procedure of the reference implementation, run on OpenCV.

boundary-iou-api (Cheng et al., CVPR 2021; github.com/bowenc0221/boundary-iou-api,
``boundary_iou/utils/boundary_utils.py``, ``mask_to_boundary``) is not on PyPI. Its boundary of a
mask is: ``d = max(1, int(round(dilation_ratio * sqrt(h² + w²))))``; pad the mask with one row and
column of zeros on every side (``cv2.copyMakeBorder``, ``BORDER_CONSTANT``), erode ``d`` times
with a 3×3 kernel of ones (``cv2.erode(..., iterations=d)``), crop the padding, and subtract the
eroded mask from the mask. Boundary IoU is ``|B(gt) ∩ B(dt)| / |B(gt) ∪ B(dt)|``. Those OpenCV
calls are made here, on random 2-D masks of several sizes and ratios, and compared with
``biou@<ratio>diag`` (chessboard depth, the default) exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from segscore.metrics.boundary import boundary_iou, distance_metrics

cv2 = pytest.importorskip("cv2")


def _cheng_boundary(mask: np.ndarray, dilation_ratio: float) -> np.ndarray:
    h, w = mask.shape
    d = max(1, int(round(dilation_ratio * np.sqrt(h**2 + w**2))))  # noqa: RUF046 (as theirs)
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), iterations=d)[1 : h + 1, 1 : w + 1]
    return mask.astype(np.uint8) - eroded


def _cheng_boundary_iou(gt: np.ndarray, dt: np.ndarray, dilation_ratio: float) -> float:
    g, p = _cheng_boundary(gt, dilation_ratio), _cheng_boundary(dt, dilation_ratio)
    return float(((g * p) > 0).sum() / ((g + p) > 0).sum())


def _blob(shape: tuple[int, int], rng: np.random.Generator, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(rng.random(shape), sigma) > 0.5


@pytest.mark.parametrize(
    ("shape", "ratio", "sigma"),
    [
        ((64, 64), 0.02, 2.0),  # d = 2
        ((120, 90), 0.02, 3.0),  # d = 3
        ((200, 160), 0.005, 4.0),  # d = 1 (1.28 rounds down)
        ((100, 300), 0.05, 5.0),  # d = 16: bands cover thin parts whole
        ((33, 47), 0.001, 1.0),  # below one pixel: at least 1
    ],
)
@pytest.mark.parametrize("seed", range(4))
def test_boundary_iou_equals_the_reference_procedure(shape, ratio, sigma, seed):
    rng = np.random.default_rng(seed)
    gt, dt = _blob(shape, rng, sigma), _blob(shape, rng, sigma)
    dt[:4] = True  # a mask cut by the image border: the border is part of its boundary
    want = _cheng_boundary_iou(gt, dt, ratio)
    assert boundary_iou(dt, gt, width=ratio, unit="diagonal")[0] == want
    name = f"biou@{ratio}diag"
    assert distance_metrics(dt, gt, [name])[name][0] == want


def test_per_class_boundary_iou_is_the_binary_one_per_class():
    rng = np.random.default_rng(7)
    t = rng.integers(0, 3, (48, 56))
    t = ndimage.median_filter(t, 7)
    p = np.roll(t, (2, -1), axis=(0, 1))
    got = boundary_iou(p, t, num_classes=3, include_background=True)
    for k in range(3):
        assert got[k] == _cheng_boundary_iou(t == k, p == k, 0.02)

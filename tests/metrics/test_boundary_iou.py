"""Boundary IoU (biou@W{px,mm,diag}): against the reference implementation's procedure run on
OpenCV, and on the grid of tests/metrics/_boundary_inputs.py (2-D and 3-D, spacing, label maps,
ignore, empty masks) against a brute force, chessboard and Euclidean depth, px and mm widths.
No other peer computes Boundary IoU (Metrics Reloaded is not installed: its preset is checked
against the brute force of its definition).

The reference procedure,
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

import math

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from segscore.errors import InputError
from segscore.metrics.boundary import boundary_iou, distance_metrics
from segscore.metrics.empty import EmptyPolicy

from ._boundary_inputs import EMPTY, GRID, BCase, Cell, cells, ids, per_cell

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


# -- by hand and errors ----------------------------------------------------------------------------
def _square(shape=(16, 16), lo=(4, 4), size=(6, 6)):
    m = np.zeros(shape, dtype=bool)
    m[lo[0] : lo[0] + size[0], lo[1] : lo[1] + size[1]] = True
    return m


def test_errors():
    with pytest.raises(InputError, match=r"`metric` must be 'euclidean' for a width in physical"):
        boundary_iou(_square(), _square(), width=1.0, unit="mm")
    with pytest.raises(InputError, match=r"`width` must be a number > 0"):
        boundary_iou(_square(), _square(), width=0, unit="px")


def test_widths():
    target = _square((40, 40), (5, 5), (20, 20))
    pred = np.roll(target, 2, axis=1)
    assert boundary_iou(pred, target, width=1, unit="px")[0] == pytest.approx(
        distance_metrics(pred, target, ["biou@1px"])["biou@1px"][0, 0]
    )
    # 0.02 * diag(40, 40) = 1.13 -> 1 px (Cheng et al. rounding)
    assert boundary_iou(pred, target)[0] == boundary_iou(pred, target, width=1, unit="px")[0]
    # physical width: 2 mm at spacing 2 is 1 voxel (Euclidean)
    a = boundary_iou(pred, target, width=2.0, unit="mm", metric="euclidean", spacing=2.0)
    b = boundary_iou(pred, target, width=1.0, unit="px", metric="euclidean")
    assert a[0] == b[0]
    e = np.zeros((4, 4), bool)
    assert math.isnan(boundary_iou(e, e, width=1, unit="px")[0])
    assert boundary_iou(e, e, width=1, unit="px", empty=1.0)[0] == 1.0
    with pytest.warns(DeprecationWarning, match="`empty_value` is deprecated"):
        assert boundary_iou(e, e, width=1, unit="px", empty_value=0.0)[0] == 0.0


# -- the grid against the brute force --------------------------------------------------------------
def _reference_boundary_iou_brute(
    case: BCase, width: float, metric: str, physical: bool
) -> np.ndarray:
    """Band of a mask: its voxels whose distance to the nearest background voxel (the outside of
    the image included) is <= width: chessboard steps (max |Δ index|) or Euclidean (in the units
    of the spacing if ``physical``, else in voxels), all pairs. Ignored voxels leave both bands.
    One empty band gives 0, two give NaN."""
    scale = np.asarray(case.spacing if physical else (1.0,) * case.ndim)

    def band(mask: np.ndarray) -> np.ndarray:
        padded = np.pad(mask, 1)
        inside, outside = np.argwhere(padded), np.argwhere(~padded)
        if inside.size == 0:
            return np.zeros(mask.shape, bool)
        if metric == "chessboard":
            depth = cdist(inside, outside, "chebyshev").min(axis=1)
        else:
            depth = cdist(inside * scale, outside * scale).min(axis=1)
        out = np.zeros(padded.shape, bool)
        out[tuple((inside[depth <= width]).T)] = True
        return out[(slice(1, -1),) * mask.ndim]

    def one(cell: Cell) -> float:
        bp, bt = band(cell.pred), band(cell.target)
        if cell.valid is not None:
            bp, bt = bp & cell.valid, bt & cell.valid
        union = np.count_nonzero(bp | bt)
        return math.nan if union == 0 else np.count_nonzero(bp & bt) / union

    return per_cell(case, one, present_only=False)


WIDTHS = [("biou@1px", 1.0, False), ("biou@2px", 2.0, False), ("biou@1.5mm", 1.5, True)]


@pytest.mark.parametrize("metric", ["chessboard", "euclidean"])
@pytest.mark.parametrize("case", GRID + EMPTY, ids=ids(GRID + EMPTY))
def test_matches_brute_force(case, metric):
    widths = [w for w in WIDTHS if metric == "euclidean" or not w[2]]
    r = case.run([w[0] for w in widths], boundary_metric=metric)
    for name, width, physical in widths:
        ref = _reference_boundary_iou_brute(case, width, metric, physical)
        np.testing.assert_allclose(r[name], ref, rtol=1e-15, atol=0, err_msg=name)


@pytest.mark.parametrize("case", GRID + EMPTY, ids=ids(GRID + EMPTY))
def test_metrics_reloaded_preset(case):
    """Metrics Reloaded (not installed; its pairwise_measures code): d = 1 px Euclidean, and 1 when
    both bands are empty."""
    r = case.run(["biou@1px"], preset="metrics-reloaded")
    explicit = case.run(
        ["biou@1px"],
        boundary_metric="euclidean",
        empty={"biou": EmptyPolicy(zero_division=1.0)},
        include_background=False,  # the preset's rule, for every family
    )
    np.testing.assert_array_equal(r["biou@1px"], explicit["biou@1px"])
    ref = _reference_boundary_iou_brute(case, 1.0, "euclidean", False)
    if case.num_classes is not None:
        ref = ref[:, 1:]
    np.testing.assert_array_equal(r["biou@1px"], np.nan_to_num(ref, nan=1.0))


OPENCV_CASES = [c for c in GRID if c.ndim == 2 and c.ignore_index is None]


@pytest.mark.parametrize("ratio", [0.02, 0.05])
@pytest.mark.parametrize("case", OPENCV_CASES, ids=ids(OPENCV_CASES))
def test_grid_matches_the_reference_procedure(case, ratio):
    name = f"biou@{ratio}diag"
    r = case.run([name])
    for cell in cells(case):
        if not (cell.pred.any() and cell.target.any()):
            continue
        want = _cheng_boundary_iou(cell.target, cell.pred, ratio)
        assert r[name][cell.n, cell.column] == want

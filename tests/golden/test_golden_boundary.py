"""Golden boundary cases: hd, hd95, assd, masd, nsd@1 and biou@1px of tiny 2-D and 3-D shapes,
isotropic and anisotropic, worked out by hand (below) and by the brute force of this file, never
by segscore. The .npz hold the inputs (a batch of images, ``options`` the keyword arguments of
``distance_metrics``); the .json the hand values ("inf" for infinity). Defaults: voxel borders of
connectivity 1 (the voxels one face-connected erosion removes), 'max_directed' HD95 with linear
interpolation, pooled ASSD, chessboard depth for Boundary IoU.

Hand derivations (P, T: the prediction's and the target's border voxels; d(P→T): the distance of
each P voxel to the nearest T voxel, raster order):

boundary_2d (7×7, spacing 1):
- "shift": T = square rows 1-3 × cols 1-3, P = the same shifted one column right. A 3×3 square's
  border is its 8 outer pixels (the centre survives the erosion). d(P→T): (1,2) 0, (1,3) 0,
  (1,4) 1, (2,2) 1 (the centre of T is not border), (2,4) 1, (3,2) 0, (3,3) 0, (3,4) 1 → four 0,
  four 1; d(T→P) the mirror image. hd = 1; hd95 = value at rank 0.95·7 = 6.65 of [0,0,0,0,1,1,1,1]
  = 1; assd = 8/16 = 0.5; masd = (0.5 + 0.5)/2 = 0.5; nsd@1 = 16/16 = 1. Bands at depth ≤ 1
  (chessboard): the 8 border pixels each (the centres have depth 2); they share (1,2), (1,3),
  (3,2), (3,3): biou = 4 / (8 + 8 - 4) = 1/3.
- "pixel": T = (2,2), P = (2,5): every distance 3 → hd = hd95 = assd = masd = 3; nsd@1 = 0;
  bands = the pixels, disjoint: biou = 0.
- "L": T = column 1 rows 1-4 plus row 4 cols 2-4 (7 pixels, all border); P = column 1 rows 1-4.
  d(P→T) = [0,0,0,0]; d(T→P) = [0,0,0,0,1,2,3]. hd = 3; hd95 = max(0, P95 of d(T→P)) = rank
  0.95·6 = 5.7 → 2 + 0.7·(3 - 2) = 2.7; assd = 6/11; masd = (0 + 6/7)/2 = 3/7; nsd@1 =
  (4 + 5)/11 = 9/11; bands = the masks (width 1): biou = 4/7.
- "pred_empty": T = (3,3), P empty: distances inf (the default policy), nsd@1 = 0 (one surface
  empty), biou = 0 (one band empty).

boundary_2d_aniso (spacing (2.0, 0.5): a column step is 0.5, a row step 2.0):
- "shift": every nonzero distance above is now a column step, 0.5 (for P's (2,2) the row
  neighbours of T are 2.0 away, the column ones 0.5): four 0 and four 0.5 per direction. hd =
  hd95 = 0.5; assd = masd = 4·0.5/8 = 0.25; nsd@1 = 1; biou = 1/3 (a width in pixels).
- "L": d(T→P) = [0,0,0,0,0.5,1.0,1.5]: hd = 1.5; hd95 = 1.0 + 0.7·0.5 = 1.35; assd = 3/11;
  masd = (0 + 3/7)/2 = 3/14; nsd@1 = (4 + 6)/11 = 10/11 (1.0 <= 1 counts); biou = 4/7.

boundary_3d (6×6×6 volumes, spacing 1):
- "cube": T = the 2×2×2 cube [1:3]^3, P = the same shifted one voxel along axis 0. A 2×2×2 cube
  is all border. Per direction four voxels at 0 (the shared layer) and four at 1: hd = hd95 = 1,
  assd = masd = 0.5, nsd@1 = 1; bands = the cubes, sharing one 2×2 layer: biou = 4/12 = 1/3.
- "voxel": T = (1,1,1), P = (1,2,3): distance sqrt(0 + 1 + 4) = sqrt(5) for every metric;
  nsd@1 = 0; biou = 0.

boundary_3d_aniso (spacing (2.5, 1.0, 0.8)):
- "cube": the shift is along axis 0, 2.5: hd = hd95 = 2.5; assd = masd = 4·2.5/8 = 1.25; nsd@1 =
  8/16 = 0.5 (2.5 > 1); biou = 1/3.
- "voxel": sqrt((0·2.5)² + (1·1.0)² + (2·0.8)²) = sqrt(1 + 2.56) = sqrt(3.56); nsd@1 = 0;
  biou = 0.
"""

from __future__ import annotations

import json
import math
import pathlib
from itertools import product

import numpy as np
import pytest

from segscore.metrics.boundary import distance_metrics

HERE = pathlib.Path(__file__).parent
NAMES = sorted(p.stem for p in (HERE / "cases").glob("boundary_*.npz"))
METRICS = ["hd", "hd95", "assd", "masd", "nsd@1", "biou@1px"]


def _load(name: str):
    with np.load(HERE / "cases" / f"{name}.npz", allow_pickle=False) as data:
        pred, target = data["pred"], data["target"]
        options = json.loads(str(data["options"]))
    expected = json.loads((HERE / "expected" / f"{name}.json").read_text())
    values = {
        k: np.array(
            [
                [math.inf if v == "inf" else math.nan if v is None else v for v in row]
                for row in rows
            ],
            dtype=np.float64,
        )
        for k, rows in expected["values"].items()
    }
    return pred, target, options, expected, values


# -- the brute force: explicit neighbours, all pairs -----------------------------------------------
def _border(mask: np.ndarray) -> np.ndarray:
    """Foreground voxels with a face neighbour in the background (outside the image included)."""
    padded = np.pad(mask, 1)
    out = np.zeros(mask.shape, bool)
    for index in zip(*np.nonzero(mask), strict=True):
        for axis, step in product(range(mask.ndim), (-1, 1)):
            neighbour = [i + 1 for i in index]
            neighbour[axis] += step
            if not padded[tuple(neighbour)]:
                out[index] = True
    return out


def _directed(a: np.ndarray, b: np.ndarray, spacing) -> np.ndarray:
    xa = [np.multiply(p, spacing) for p in zip(*np.nonzero(a), strict=True)]
    xb = [np.multiply(p, spacing) for p in zip(*np.nonzero(b), strict=True)]
    if not xb:
        return np.full(len(xa), math.inf)
    return np.array([min(math.dist(p, q) for q in xb) for p in xa])


def _band(mask: np.ndarray) -> np.ndarray:
    """Voxels whose chessboard distance to the nearest background voxel is 1 (width 1 px)."""
    padded = np.pad(mask, 1)
    background = list(zip(*np.nonzero(~padded), strict=True))
    out = np.zeros(padded.shape, bool)
    for p in zip(*np.nonzero(padded), strict=True):
        out[p] = min(max(abs(i - j) for i, j in zip(p, q, strict=True)) for q in background) <= 1
    return out[(slice(1, -1),) * mask.ndim]


def _brute(pred: np.ndarray, target: np.ndarray, spacing) -> dict[str, float]:
    bp, bt = _border(pred), _border(target)
    pt, tp = _directed(bp, bt, spacing), _directed(bt, bp, spacing)
    both = np.concatenate([pt, tp])
    band_p, band_t = _band(pred), _band(target)
    union = np.count_nonzero(band_p | band_t)
    out = {
        "nsd@1": float(np.mean(both <= 1.0)) if both.size else math.nan,
        "biou@1px": math.nan if union == 0 else np.count_nonzero(band_p & band_t) / union,
    }
    if pt.size == 0 or tp.size == 0:
        out.update(dict.fromkeys(["hd", "hd95", "assd", "masd"], math.inf))
        return out
    out["hd"] = float(max(pt.max(), tp.max()))
    out["hd95"] = float(max(np.percentile(pt, 95), np.percentile(tp, 95)))
    out["assd"] = float(both.mean())
    out["masd"] = float((pt.mean() + tp.mean()) / 2)
    return out


# -- tests -----------------------------------------------------------------------------------------
def test_the_boundary_golden_set_is_complete():
    assert NAMES == ["boundary_2d", "boundary_2d_aniso", "boundary_3d", "boundary_3d_aniso"]
    for name in NAMES:
        assert (HERE / "cases" / f"{name}.npz").stat().st_size < 100_000
        _, _, options, expected, values = _load(name)
        assert expected["options"] == options
        assert sorted(values) == sorted(METRICS)


@pytest.mark.parametrize("name", NAMES)
def test_hand_values_equal_the_brute_force(name):
    pred, target, options, _, values = _load(name)
    for n in range(pred.shape[0]):
        got = _brute(pred[n], target[n], options["spacing"])
        for metric in METRICS:
            np.testing.assert_allclose(
                got[metric], values[metric][n, 0], rtol=1e-12, err_msg=f"{metric} image {n}"
            )


@pytest.mark.parametrize("name", NAMES)
def test_segscore_equals_the_golden_values(name):
    pred, target, options, _, values = _load(name)
    r = distance_metrics(pred, target, METRICS, **options)
    for metric in METRICS:
        np.testing.assert_allclose(r[metric], values[metric], rtol=1e-12, atol=0, err_msg=metric)

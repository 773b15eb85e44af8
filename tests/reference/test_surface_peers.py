"""Boundary metrics against the peers themselves: MedPy 0.5.2, MONAI, DeepMind surface-distance
0.1 and torchmetrics, on random 2-D and 3-D cases, anisotropic spacing, the CONVENTIONS §5.1
experiment and the edge cases of the CONVENTIONS table. Tolerance: 1e-6 relative (MONAI works in
float32, torch.quantile interpolating in float32: 3e-6 relative plus 1e-6 absolute)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from segscore.metrics.boundary import distance_metrics, surface_distances
from segscore.metrics.boundary.surfel_tables import surfel_area_table
from segscore.metrics.presets import get_preset

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::RuntimeWarning", "ignore::DeprecationWarning"
)

RTOL = 1e-6


def _blobs(shape, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        m = ndimage.gaussian_filter(rng.random(shape), 1.5) > 0.5
        out.append(m)
    return out


CASES = [
    ("2d", (24, 24), (1.0, 1.0), 0),
    ("2d-aniso", (24, 24), (0.7, 1.9), 1),
    ("2d-rect", (20, 27), (1.3, 0.6), 2),
    ("3d", (14, 15, 16), (1.0, 1.0, 1.0), 3),
    ("3d-aniso", (14, 15, 16), (1.0, 0.8, 2.5), 4),
]
IDS = [c[0] for c in CASES]


def _case(shape, seed):
    pred, target = _blobs(shape, seed)
    assert pred.any()
    assert target.any()
    return pred, target


@pytest.mark.parametrize(("name", "shape", "spacing", "seed"), CASES, ids=IDS)
def test_medpy(name, shape, spacing, seed):
    mb = pytest.importorskip("medpy.metric.binary")
    pred, target = _case(shape, seed)
    r = distance_metrics(
        pred,
        target,
        ["hd", "hd95", "assd", "asd"],
        preset="medpy",
        spacing=spacing,
        spatial_dims=len(shape),
    )
    assert r["hd"][0, 0] == pytest.approx(mb.hd(pred, target, spacing), rel=RTOL)
    assert r["hd95"][0, 0] == pytest.approx(mb.hd95(pred, target, spacing), rel=RTOL)
    assert r["assd"][0, 0] == pytest.approx(mb.assd(pred, target, spacing), rel=RTOL)
    assert r["asd"][0, 0, 0] == pytest.approx(mb.asd(pred, target, spacing), rel=RTOL)
    assert r["asd"][0, 0, 1] == pytest.approx(mb.asd(target, pred, spacing), rel=RTOL)
    # MedPy's connectivity parameter = segscore's voxel-border connectivity
    full = distance_metrics(
        pred,
        target,
        ["hd95"],
        preset="medpy",
        spacing=spacing,
        connectivity=len(shape),
        spatial_dims=len(shape),
    )
    assert full["hd95"][0, 0] == pytest.approx(
        mb.hd95(pred, target, spacing, connectivity=len(shape)), rel=RTOL
    )


@pytest.mark.parametrize(("name", "shape", "spacing", "seed"), CASES, ids=IDS)
def test_monai(name, shape, spacing, seed):
    torch = pytest.importorskip("torch")
    mm = pytest.importorskip("monai.metrics")
    pred, target = _case(shape, seed)
    p = torch.from_numpy(pred[None, None].astype(np.float32))
    t = torch.from_numpy(target[None, None].astype(np.float32))
    sp = list(spacing)
    r = distance_metrics(
        pred,
        target,
        ["hd", "hd95", "hd80", "assd", "asd", "nsd@1.0", "nsd@1.5"],
        preset="monai",
        spacing=spacing,
        spatial_dims=len(shape),
    )
    kw = {"rel": 3e-6, "abs": 1e-6}  # MONAI computes and interpolates in float32
    assert r["hd"][0, 0] == pytest.approx(
        mm.compute_hausdorff_distance(p, t, include_background=True, spacing=sp).item(), **kw
    )
    assert r["hd95"][0, 0] == pytest.approx(
        mm.compute_hausdorff_distance(
            p, t, include_background=True, percentile=95, spacing=sp
        ).item(),
        **kw,
    )
    assert r["hd80"][0, 0] == pytest.approx(
        mm.compute_hausdorff_distance(
            p, t, include_background=True, percentile=80, spacing=sp
        ).item(),
        **kw,
    )
    assert r["assd"][0, 0] == pytest.approx(
        mm.compute_average_surface_distance(
            p, t, include_background=True, symmetric=True, spacing=sp
        ).item(),
        **kw,
    )
    assert r["asd"][0, 0, 0] == pytest.approx(
        mm.compute_average_surface_distance(p, t, include_background=True, spacing=sp).item(), **kw
    )
    for tol in (1.0, 1.5):
        ref = mm.compute_surface_dice(p, t, [tol], include_background=True, spacing=sp).item()
        assert r[f"nsd@{tol}"][0, 0] == pytest.approx(ref, **kw)
    # MONAI directed HD = segscore rule 'directed'
    directed = distance_metrics(
        pred,
        target,
        ["hd95"],
        preset="monai",
        spacing=spacing,
        rule="directed",
        spatial_dims=len(shape),
    )
    ref = mm.compute_hausdorff_distance(
        p, t, include_background=True, percentile=95, spacing=sp, directed=True
    )
    assert directed["hd95"][0, 0] == pytest.approx(ref.item(), **kw)


@pytest.mark.parametrize(("name", "shape", "spacing", "seed"), CASES, ids=IDS)
def test_deepmind(name, shape, spacing, seed):
    sdm = pytest.importorskip("surface_distance")
    pred, target = _case(shape, seed)
    d = sdm.compute_surface_distances(target, pred, spacing)
    r = distance_metrics(
        pred,
        target,
        ["hd95", "hd50", "hd100", "asd", "nsd@1", "nsd@2"],
        preset="deepmind",
        spacing=spacing,
        spatial_dims=len(shape),
    )
    for p in (95, 50, 100):
        assert r[f"hd{p}"][0, 0] == pytest.approx(sdm.compute_robust_hausdorff(d, p), rel=RTOL)
    gt_to_pred, pred_to_gt = sdm.compute_average_surface_distance(d)
    assert r["asd"][0, 0, 0] == pytest.approx(pred_to_gt, rel=RTOL)
    assert r["asd"][0, 0, 1] == pytest.approx(gt_to_pred, rel=RTOL)
    for tol in (1.0, 2.0):
        ref = sdm.compute_surface_dice_at_tolerance(d, tol)
        assert r[f"nsd@{tol:g}"][0, 0] == pytest.approx(ref, rel=RTOL)
    sd = surface_distances(pred, target, surface="surfel", spacing=spacing, spatial_dims=len(shape))
    np.testing.assert_allclose(np.sort(sd.target_to_pred[0]), d["distances_gt_to_pred"], rtol=1e-12)
    assert sd.pred_weights[0].sum() == pytest.approx(d["surfel_areas_pred"].sum(), rel=1e-12)


@pytest.mark.parametrize(
    "spacing", [(1.0, 1.0), (0.7, 1.9), (1.0, 1.0, 1.0), (1.0, 0.8, 2.5), (3.0, 0.7, 1.3)]
)
def test_surfel_tables_equal_deepmind(spacing):
    lt = pytest.importorskip("surface_distance.lookup_tables")
    if len(spacing) == 2:
        ref = lt.create_table_neighbour_code_to_contour_length(spacing)
    else:
        ref = lt.create_table_neighbour_code_to_surface_area(spacing)
    np.testing.assert_allclose(surfel_area_table(spacing), ref, rtol=1e-14, atol=1e-15)


def test_torchmetrics_hausdorff():
    torch = pytest.importorskip("torch")
    tmf = pytest.importorskip("torchmetrics.functional.segmentation")
    # square images only: torchmetrics' pytorch distance transform flattens with the row count
    for seed in range(3):
        pred, target = _case((20, 20), 10 + seed)
        p = torch.from_numpy(pred.astype(np.int64))[None]
        t = torch.from_numpy(target.astype(np.int64))[None]
        ref = tmf.hausdorff_distance(
            p, t, num_classes=2, include_background=False, input_format="index"
        )
        r = distance_metrics(
            pred.astype(int),
            target.astype(int),
            ["hd"],
            preset="torchmetrics",
            num_classes=2,
            include_background=False,
        )
        assert r["hd"][0, 0] == pytest.approx(ref.item(), rel=RTOL)


# -- CONVENTIONS §5.1 ------------------------------------------------------------------------------
def _experiment():
    """64x64, GT the 20x20 square [22:42, 22:42]; prediction: GT shifted 1 px down plus a 2x2 blob
    at [5:7, 5:7] (diagonally ~16 px from the square's corner)."""
    target = np.zeros((64, 64), bool)
    target[22:42, 22:42] = True
    pred = np.zeros((64, 64), bool)
    pred[23:43, 22:42] = True
    pred[5:7, 5:7] = True
    return pred, target


def test_conventions_5_1_experiment():
    pred, target = _experiment()
    medpy = distance_metrics(pred, target, ["hd", "hd95", "assd", "masd", "nsd@1"], preset="medpy")
    monai = distance_metrics(pred, target, ["hd95", "nsd@1"], preset="monai")
    deepmind = distance_metrics(pred, target, ["hd95", "asd", "nsd@1"], preset="deepmind")
    assert medpy["hd"][0, 0] == pytest.approx(24.04, abs=0.005)
    assert medpy["hd95"][0, 0] == pytest.approx(1.00, abs=0.005)
    assert monai["hd95"][0, 0] == pytest.approx(2.08, abs=0.005)
    assert deepmind["hd95"][0, 0] == pytest.approx(21.93, abs=0.005)
    assert medpy["assd"][0, 0] == pytest.approx(1.0856, abs=5e-5)
    assert medpy["masd"][0, 0] == pytest.approx(1.0710, abs=5e-5)
    assert deepmind["asd"][0, 0, 1] == pytest.approx(0.50, abs=0.005)  # gt -> pred
    assert deepmind["asd"][0, 0, 0] == pytest.approx(2.27, abs=0.005)  # pred -> gt
    assert deepmind["nsd@1"][0, 0] == pytest.approx(0.9585, abs=5e-5)
    assert monai["nsd@1"][0, 0] == pytest.approx(0.9744, abs=5e-5)
    # ... and the real peers give the same numbers on this geometry
    mb = pytest.importorskip("medpy.metric.binary")
    sdm = pytest.importorskip("surface_distance")
    assert mb.hd(pred, target) == pytest.approx(medpy["hd"][0, 0], rel=RTOL)
    assert mb.hd95(pred, target) == pytest.approx(medpy["hd95"][0, 0], rel=RTOL)
    assert mb.assd(pred, target) == pytest.approx(medpy["assd"][0, 0], rel=RTOL)
    d = sdm.compute_surface_distances(target, pred, (1.0, 1.0))
    assert sdm.compute_robust_hausdorff(d, 95) == pytest.approx(deepmind["hd95"][0, 0], rel=RTOL)
    assert sdm.compute_surface_dice_at_tolerance(d, 1.0) == pytest.approx(
        deepmind["nsd@1"][0, 0], rel=RTOL
    )


# -- CONVENTIONS edge-case table (24^3 volumes, NSD tolerance 1) --------------------------------------
def _cube(shift_axis=None, spacing=None):
    t = np.zeros((24, 24, 24), bool)
    t[9:15, 9:15, 9:15] = True  # a 6^3 cube: the geometry that reproduces the table
    p = t if shift_axis is None else np.roll(t, 1, axis=shift_axis)
    return p, t


@pytest.mark.parametrize(
    ("axis", "voxel", "surfel"),
    [
        (2, (2.5, 0.7026, 0.7368), (2.5, 0.396, 0.8485)),
        (0, (1.0, 0.3316, 1.0), (1.0, 0.3574, 1.0)),
    ],
)
def test_edge_table_shifted_cube(axis, voxel, surfel):
    p, t = _cube(axis)
    sp = (1.0, 0.8, 2.5)
    v = distance_metrics(
        p, t, ["hd95", "assd", "nsd@1"], preset="monai", spacing=sp, spatial_dims=3
    )
    s = distance_metrics(
        p, t, ["hd95", "masd", "nsd@1"], preset="deepmind", spacing=sp, spatial_dims=3
    )
    assert (v["hd95"][0, 0], v["assd"][0, 0], v["nsd@1"][0, 0]) == pytest.approx(voxel, abs=5e-5)
    assert (s["hd95"][0, 0], s["masd"][0, 0], s["nsd@1"][0, 0]) == pytest.approx(surfel, abs=5e-4)


def test_edge_table_single_voxels():
    t = np.zeros((24, 24, 24), bool)
    p = t.copy()
    t[12, 12, 10] = True
    p[12, 12, 12] = True
    v = distance_metrics(p, t, ["hd", "hd95", "assd", "nsd@1"], preset="monai", spatial_dims=3)
    assert (v["hd"][0, 0], v["hd95"][0, 0], v["assd"][0, 0], v["nsd@1"][0, 0]) == (
        2.0,
        2.0,
        2.0,
        0.0,
    )
    s = distance_metrics(p, t, ["hd95", "masd", "nsd@1"], preset="deepmind", spatial_dims=3)
    assert (s["hd95"][0, 0], s["masd"][0, 0], s["nsd@1"][0, 0]) == pytest.approx((2.0, 1.5, 0.5))
    same = distance_metrics(t, t, ["hd95", "assd", "nsd@1"], preset="deepmind", spatial_dims=3)
    assert (same["hd95"][0, 0], same["assd"][0, 0], same["nsd@1"][0, 0]) == (0.0, 0.0, 1.0)


def test_edge_table_empty_masks_monai():
    torch = pytest.importorskip("torch")
    mm = pytest.importorskip("monai.metrics")
    _, t = _cube()
    e = np.zeros_like(t)
    for pred, target in ((e, t), (e, e)):
        P = torch.from_numpy(pred[None, None].astype(np.float32))
        T = torch.from_numpy(target[None, None].astype(np.float32))
        r = distance_metrics(
            pred, target, ["hd", "hd95", "assd", "nsd@1"], preset="monai", spatial_dims=3
        )
        refs = {
            "hd": mm.compute_hausdorff_distance(P, T, include_background=True).item(),
            "hd95": mm.compute_hausdorff_distance(
                P, T, include_background=True, percentile=95
            ).item(),
            "assd": mm.compute_average_surface_distance(
                P, T, include_background=True, symmetric=True
            ).item(),
            "nsd@1": mm.compute_surface_dice(P, T, [1.0], include_background=True).item(),
        }
        for k, ref in refs.items():
            got = r[k][0, 0]
            assert (math.isnan(got) and math.isnan(ref)) or got == ref, (k, got, ref)


def test_medpy_and_deepmind_empty_presets():
    _, t = _cube()
    e = np.zeros_like(t)
    med = distance_metrics(
        e, t, ["hd", "hd95", "assd"], preset="medpy", spatial_dims=3
    )  # MedPy raises: NaN here
    assert all(math.isnan(med[k][0, 0]) for k in ("hd", "hd95", "assd"))
    dm = distance_metrics(
        e, e, ["hd95", "nsd@1"], preset=get_preset("deepmind").name, spatial_dims=3
    )
    assert dm["hd95"][0, 0] == math.inf  # DeepMind: robust HD of two empty surfaces is inf
    assert math.isnan(dm["nsd@1"][0, 0])


@pytest.mark.parametrize("dims", [2, 3])
def test_deepmind_empty_surfaces_under_numpy_1(monkeypatch, dims):
    """DeepMind's own code on empty surfaces, run with the NumPy 1 names it uses (np.Inf):
    the directed average distances per direction, robust HD and NSD."""
    sdm = pytest.importorskip("surface_distance")
    monkeypatch.setattr(np, "Inf", np.inf, raising=False)
    monkeypatch.setattr(np, "NaN", np.nan, raising=False)
    shape = (12,) * dims
    t = np.zeros(shape, bool)
    t[(slice(3, 8),) * dims] = True
    e = np.zeros_like(t)
    spacing = (1.0,) * dims
    for pred, target in ((e, t), (t, e), (e, e), (np.roll(t, 1, 0), t)):
        d = sdm.compute_surface_distances(target, pred, spacing)
        with np.errstate(invalid="ignore", divide="ignore"):
            gt_to_pred, pred_to_gt = sdm.compute_average_surface_distance(d)
            nsd = sdm.compute_surface_dice_at_tolerance(d, 1.0)
        r = distance_metrics(
            pred, target, ["asd", "hd95", "hd100", "nsd@1"], preset="deepmind", spatial_dims=dims
        )
        np.testing.assert_allclose(r["asd"][0, 0], [pred_to_gt, gt_to_pred], rtol=1e-12)
        for p in (95, 100):
            ref = sdm.compute_robust_hausdorff(d, p)
            np.testing.assert_allclose(r[f"hd{p}"][0, 0], ref, rtol=1e-12)
        np.testing.assert_allclose(r["nsd@1"][0, 0], nsd, rtol=1e-12)
    # the prediction empty: (inf, NaN) in DeepMind's order (target -> pred, pred -> target)
    d = sdm.compute_surface_distances(t, e, spacing)
    with np.errstate(invalid="ignore"):
        assert np.array_equal(
            sdm.compute_average_surface_distance(d), (np.inf, np.nan), equal_nan=True
        )
    # ... and the segscore default gives the same natural pair, in segscore's order
    r = distance_metrics(e, t, ["asd"], spatial_dims=dims)
    np.testing.assert_array_equal(r["asd"][0, 0], [np.nan, np.inf])

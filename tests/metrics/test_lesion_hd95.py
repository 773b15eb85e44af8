"""Lesion-wise HD95 (BraTS 2023) and the packed per-lesion distances behind it.

References (tests/metrics/_lesions.py): the BraTS 2023 procedure written again (DeepMind
surface-distance 0.1 ``compute_robust_hausdorff(..., 95)`` per lesion on full-size masks, a
missed lesion inf, replaced by the penalty), panoptica 2.1.7's per-instance HD95 (boundary
voxels, pooled percentile) where its matching is the same, and the boundary engine run on each
crop alone (:func:`surface_distances` + :func:`hausdorff_distance`) for the packing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from segscore.metrics.boundary import hausdorff_distance, surface_distances
from segscore.metrics.boundary.surfel_tables import surfel_area_table
from segscore.metrics.instance import lesion_scores, lesion_tables
from segscore.metrics.instance.pair_distances import crop_hausdorff

from ._lesions import ball, brats_lesions, lesion_volumes, panoptica_lesions

pytestmark = pytest.mark.filterwarnings(
    "ignore:Please import `.*` from the `scipy.ndimage` namespace:DeprecationWarning"
)


def pair_hausdorff(pairs, spacing, **options):
    """The packed distances of (pred, target) crops given as arrays."""

    def write(k, pred, target):
        pred[...] = pairs[k][0]
        target[...] = pairs[k][1]

    return crop_hausdorff([p.shape for p, _ in pairs], write, spacing, **options)


def _reference_lesion_hd95(pred, target, spacing, dilation, min_volume, penalty=374.0):
    return brats_lesions(pred, target, spacing, dilation, min_volume).scores(penalty)[1]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("apart", [True, False])
@pytest.mark.parametrize(
    ("dilation", "min_volume", "spacing"),
    [(0, 0, (1.0, 1.0, 1.0)), (3, 20, (1.0, 0.8, 2.5)), (1, 5, (2.0, 1.0, 1.0))],
)
def test_equals_brats_procedure(seed, apart, dilation, min_volume, spacing):
    pred, target = lesion_volumes(seed, apart=apart)
    ref = brats_lesions(pred, target, spacing, dilation, min_volume)
    kw = {"spacing": spacing, "dilation": dilation, "min_volume": min_volume, "spatial_dims": 3}
    s = lesion_scores(pred, target, "lesion_hd95", **kw)
    assert s["lesion_hd95"].value == pytest.approx(ref.scores()[1], rel=1e-12)
    t = lesion_tables(pred, target, **kw)[0][0]
    np.testing.assert_allclose(sorted(t.hd[t.kept]), sorted(ref.hd95), rtol=1e-12)
    assert s["lesion_hd95"].conventions.boundary["hd_percentile_rule"] == "area_weighted"


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (1.0, 0.8, 2.5)])
def test_equals_panoptica_without_dilation(seed, spacing):
    pred, target = lesion_volumes(seed, apart=True)
    ref = panoptica_lesions(pred, target, spacing)
    kw = {"dilation": 0, "min_volume": 0, "surface": "voxel", "rule": "pooled"}
    t = lesion_tables(pred, target, spacing=spacing, spatial_dims=3, **kw)[0][0]
    mine = sorted(
        zip(np.where(t.n_matched > 0, t.target_voxels, 0).tolist(), t.hd.tolist(), strict=False)
    )
    theirs = sorted(zip(ref.voxels, ref.hd95, strict=False))
    assert [v for v, _ in mine] == [v for v, _ in theirs]
    np.testing.assert_allclose([h for _, h in mine], [h for _, h in theirs], rtol=1e-12)
    s = lesion_scores(pred, target, "lesion_hd95", spacing=spacing, spatial_dims=3, **kw)
    assert s["lesion_hd95"].value == pytest.approx(ref.scores()[1], rel=1e-12)


def _one_by_one(pairs, spacing, surface, rule):
    return [
        float(
            hausdorff_distance(
                surface_distances(p, t, spacing=spacing, surface=surface, spatial_dims=p.ndim),
                percentile=95,
                rule=rule,
            )[0]
        )
        for p, t in pairs
    ]


def _pairs(rng, ndim, n):
    pairs = []
    for _ in range(n):
        shape = tuple(int(v) for v in rng.integers(2, 14, ndim))
        t = rng.random(shape) < 0.4
        p = rng.random(shape) < 0.4
        t.flat[0] = p.flat[-1] = True  # both non-empty, far apart: long distances too
        pairs.append((p, t))
    return pairs


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize(("surface", "rule"), [("voxel", "pooled"), ("surfel", "area_weighted")])
@pytest.mark.parametrize("spacing_kind", ["unit", "aniso"])
@pytest.mark.parametrize("cap", [10**7, 2000])
def test_packed_distances_equal_crops_one_by_one(ndim, surface, rule, spacing_kind, cap):
    rng = np.random.default_rng(ndim * 10 + len(surface))
    spacing = (1.0,) * ndim if spacing_kind == "unit" else (2.5, 0.8, 1.0)[:ndim]
    pairs = _pairs(rng, ndim, 12)
    got = pair_hausdorff(
        pairs,
        spacing,
        percentile=95.0,
        surface=surface,
        connectivity=1,
        rule=rule,
        interpolation="linear",
        table=surfel_area_table(spacing) if surface == "surfel" else None,
        cap=cap,  # small: many packs
    )
    np.testing.assert_array_equal(got, _one_by_one(pairs, spacing, surface, rule))


def test_a_long_distance_is_measured_again_alone():
    """Two lesions whose distances exceed the gap between packed crops (the trust gap)."""
    a = np.zeros((3, 30), bool)
    a[1, 0] = True
    b = np.zeros((3, 30), bool)
    b[1, 29] = True
    near = np.zeros((3, 3), bool)
    near[1, 1] = True
    pairs = [(a, b), (near, near), (b, a)]
    got = pair_hausdorff(
        pairs, (1.0, 1.0), percentile=95.0, surface="voxel", connectivity=1, rule="pooled",
        interpolation="linear", table=None, cap=10**6,
    )  # fmt: skip
    np.testing.assert_array_equal(got, [29.0, 0.0, 29.0])


def test_penalty_and_spacing_scale_the_distances():
    pred, target = lesion_volumes(5, apart=False)
    kw = {"dilation": 1, "min_volume": 10.0, "spatial_dims": 3}
    base = lesion_scores(pred, target, "lesion_hd95", **kw)["lesion_hd95"].value
    k = 2.5
    scaled = lesion_scores(
        pred, target, "lesion_hd95", spacing=k, penalty=374.0 * k,
        **{**kw, "min_volume": 10.0 * k**3},
    )  # fmt: skip
    assert scaled["lesion_hd95"].value == pytest.approx(k * base, rel=1e-12)
    t = lesion_tables(pred, target, **kw)[0][0]
    low = lesion_scores(pred, target, "lesion_hd95", penalty=1.0, **kw)["lesion_hd95"].value
    n = int(t.kept.sum()) + t.n_fp
    misses = int((t.kept & (t.n_matched == 0)).sum()) + t.n_fp
    assert base - low == pytest.approx(misses * 373.0 / n, rel=1e-12)


def test_identical_masks_and_translation():
    target = np.zeros((20, 20, 20), bool)
    ball(target, (6, 6, 6), 4)
    ball(target, (14, 13, 12), 3)
    s = lesion_scores(target, target, ["lesion_dice", "lesion_hd95"], spatial_dims=3)
    assert (s["lesion_dice"].value, s["lesion_hd95"].value) == (1.0, 0.0)
    pred = np.roll(target, 1, axis=2)
    padded = lesion_scores(np.pad(pred, 3), np.pad(target, 3), "lesion_hd95", spatial_dims=3)
    plain = lesion_scores(pred, target, "lesion_hd95", spatial_dims=3)
    assert padded["lesion_hd95"].value == plain["lesion_hd95"].value
    assert math.isfinite(plain["lesion_hd95"].value)

"""Lesion-wise Dice (BraTS 2023), and the lesion machinery every lesion metric shares.

References (tests/metrics/_lesions.py): the BraTS 2023 procedure written again with scipy
(full-size masks per lesion, dilation of the target then of each lesion), and panoptica 2.1.7
(``NaiveThresholdMatching(0, strict, many-to-one)``, per-instance DSC) where its matching is the
same: no dilation, no volume threshold, no predicted lesion touching two target lesions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segscore import InputError
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.instance import lesion_scores, lesion_tables, score_tables
from segscore.metrics.options import CountingOptions

from ._lesions import ball, brats_lesions, lesion_volumes, panoptica_lesions

# DeepMind surface-distance 0.1 (the BraTS reference's HD95) imports scipy's deprecated namespaces.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Please import `.*` from the `scipy.ndimage` namespace:DeprecationWarning"
)

ALL = ["lesion_dice", "lesion_hd95", "lesion_tp", "lesion_fp", "lesion_fn"]


def _reference_lesion_dice(pred, target, spacing, dilation, min_volume) -> float:
    return brats_lesions(pred, target, spacing, dilation, min_volume).scores()[0]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("apart", [True, False])
@pytest.mark.parametrize(
    ("dilation", "min_volume", "spacing"),
    [
        (0, 0, (1.0, 1.0, 1.0)),
        (1, 0, (1.0, 1.0, 1.0)),
        (3, 20, (1.0, 0.8, 2.5)),
        (2, 5, (2.0,) * 3),
    ],
)
def test_equals_brats_procedure(seed, apart, dilation, min_volume, spacing):
    pred, target = lesion_volumes(seed, apart=apart)
    ref = brats_lesions(pred, target, spacing, dilation, min_volume)
    s = lesion_scores(
        pred, target, ALL, spacing=spacing, dilation=dilation, min_volume=min_volume,
        spatial_dims=3,
    )  # fmt: skip
    assert s["lesion_dice"].value == pytest.approx(ref.scores()[0], rel=1e-12, abs=1e-15)
    counts = (s["lesion_tp"].value, s["lesion_fp"].value, s["lesion_fn"].value)
    assert counts == (ref.n_tp, ref.n_fp, ref.n_fn)
    t = lesion_tables(
        pred, target, spacing=spacing, dilation=dilation, min_volume=min_volume, spatial_dims=3
    )[0][0]
    assert sorted(t.target_voxels[t.kept].tolist()) == sorted(ref.voxels)
    np.testing.assert_allclose(sorted(t.dice[t.kept]), sorted(ref.dice), rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (1.0, 0.8, 2.5)])
def test_equals_panoptica_without_dilation(seed, spacing):
    pred, target = lesion_volumes(seed, apart=True)
    ref = panoptica_lesions(pred, target, spacing)
    kw = {"dilation": 0, "min_volume": 0, "surface": "voxel", "rule": "pooled"}
    t = lesion_tables(pred, target, spacing=spacing, spatial_dims=3, **kw)[0][0]
    mine = sorted(
        zip(np.where(t.n_matched > 0, t.target_voxels, 0).tolist(), t.dice.tolist(), strict=False)
    )
    theirs = sorted(zip(ref.voxels, ref.dice, strict=False))
    assert [v for v, _ in mine] == [v for v, _ in theirs]
    np.testing.assert_allclose([d for _, d in mine], [d for _, d in theirs], rtol=1e-12)
    s = lesion_scores(pred, target, "lesion_dice", spacing=spacing, spatial_dims=3, **kw)
    assert s["lesion_dice"].value == pytest.approx(ref.scores()[0], rel=1e-12)
    assert (t.n_tp, t.n_fp, t.n_fn) == (ref.n_tp, ref.n_fp, ref.n_fn)


def test_a_prediction_touching_two_lesions_matches_both():
    """BraTS counts a bridging prediction for both lesions; panoptica gives it to one."""
    target = np.zeros((9, 9, 20), bool)
    ball(target, (4, 4, 4), 3)
    ball(target, (4, 4, 14), 3)
    pred = np.zeros_like(target)
    pred[3:6, 3:6, 2:17] = True  # a bar through both
    t = lesion_tables(pred, target, dilation=0, min_volume=0, spatial_dims=3)[0][0]
    assert t.n_matched.tolist() == [1, 1]
    assert t.n_fp == 0
    ref = brats_lesions(pred, target, (1.0,) * 3, 0, 0)
    s = lesion_scores(pred, target, "lesion_dice", dilation=0, min_volume=0, spatial_dims=3)
    assert s["lesion_dice"].value == pytest.approx(ref.scores()[0], rel=1e-12)
    pan = panoptica_lesions(pred, target, (1.0,) * 3)
    assert (pan.n_tp, pan.n_fn) == (1, 1)  # the other lesion is a miss for panoptica


def test_dilation_groups_nearby_components():
    target = np.zeros((1, 14), bool)
    target[0, [1, 2, 6, 7, 13]] = True  # gaps of 3 and 5 pixels
    pred = np.zeros_like(target)
    pred[0, 1:3] = True
    sizes = {d: lesion_tables(pred, target, dilation=d, min_volume=0)[0][0] for d in (0, 1, 2)}
    assert sizes[0].target_voxels.tolist() == [2, 2, 1]
    assert sizes[1].target_voxels.tolist() == [2, 2, 1]  # grown by 1: 3 and 5 do not touch
    assert sizes[2].target_voxels.tolist() == [4, 1]  # 2 + 2 grow into each other (gap 3)
    assert sizes[2].dice.tolist() == [2 * 2 / (4 + 2), 0.0]


def test_hand_example_and_volume_threshold():
    target = np.zeros((12, 12), bool)
    target[1:5, 1:5] = True  # 16 pixels
    target[8:11, 8:11] = True  # 9 pixels, missed
    pred = np.zeros_like(target)
    pred[1:5, 2:6] = True
    pred[9:11, 1:3] = True  # false positive
    s = lesion_scores(pred, target, ALL, dilation=0, min_volume=0)
    assert s["lesion_dice"].value == 0.75 / 3
    assert [s[m].value for m in ("lesion_tp", "lesion_fp", "lesion_fn")] == [1, 1, 1]
    s = lesion_scores(pred, target, ALL, dilation=0, min_volume=9)  # 9 <= 9: dropped
    assert s["lesion_dice"].value == 0.75 / 2
    assert s["lesion_fn"].value == 0
    s = lesion_scores(pred, target, "lesion_dice", dilation=0, min_volume=9, spacing=(1.0, 1.5))
    assert s["lesion_dice"].value == 0.75 / 3  # 13.5 > 9 in spacing units


def test_empty_cases():
    z = np.zeros((6, 6), bool)
    one = z.copy()
    one[1:3, 1:3] = True
    other = z.copy()
    other[4:6, 4:6] = True
    pred = np.stack([z, one, z, one])
    target = np.stack([z, z, one, other])
    s = lesion_scores(pred, target, ["lesion_dice", "lesion_hd95"], min_volume=0, dilation=0)
    np.testing.assert_array_equal(s["lesion_dice"].per_image, [1.0, 0.0, 0.0, 0.0])  # BraTS
    np.testing.assert_array_equal(s["lesion_hd95"].per_image, [0.0, 374.0, 374.0, 374.0])
    assert s["lesion_dice"].empty_cases == {
        "both_empty": 1, "target_empty": 1, "prediction_empty": 1, "both_present": 1,
    }  # fmt: skip
    s = lesion_scores(
        pred, target, ["lesion_dice", "lesion_hd95"], min_volume=0, dilation=0, empty=math.nan
    )
    assert math.isnan(s["lesion_dice"].per_image[0])
    assert s["lesion_dice"].value == 0.0
    assert s["lesion_hd95"].value == 374.0
    assert s["lesion_hd95"].n_nan == 1
    policy = EmptyPolicy(both_empty=0.5, target_empty=0.25)
    s = lesion_scores(pred, target, "lesion_dice", min_volume=0, dilation=0, empty=policy)
    np.testing.assert_array_equal(s["lesion_dice"].per_image, [0.5, 0.25, 0.0, 0.0])
    grown = lesion_scores(pred, target, "lesion_hd95", min_volume=0)  # dilation 3 reaches `one`
    assert grown["lesion_hd95"].per_image[3] == pytest.approx(math.sqrt(18))
    # every target lesion dropped and no false positive: both_empty, BraTS' Dice 1
    s = lesion_scores(one, one, "lesion_dice", min_volume=10)
    assert s["lesion_dice"].value == 1.0
    assert s["lesion_dice"].empty_cases["both_empty"] == 1


def test_label_maps_batches_and_aggregation():
    rng = np.random.default_rng(3)
    pred = np.zeros((2, 16, 16), np.int64)
    target = np.zeros((2, 16, 16), np.int64)
    for n in range(2):
        for c in (1, 2):
            for _ in range(3):
                y, x = rng.integers(1, 14, 2)
                target[n, y : y + 2, x : x + 2] = c
                pred[n, y : y + 2, x + int(rng.integers(0, 2)) : x + 3] = c
    kw = {"dilation": 1, "min_volume": 0}
    s = lesion_scores(pred, target, ["lesion_dice", "lesion_hd95"], num_classes=3, **kw)
    assert s["lesion_dice"].class_ids == (1, 2)
    assert s["lesion_dice"].cells.shape == (2, 2)
    for n in range(2):
        for k, c in enumerate((1, 2)):
            one = lesion_scores(pred[n] == c, target[n] == c, ["lesion_dice"], **kw)
            assert s["lesion_dice"].cells[n, k] == one["lesion_dice"].value
    same = lesion_scores(pred, target, "lesion_dice", options=CountingOptions(num_classes=3), **kw)
    assert same["lesion_dice"].value == s["lesion_dice"].value
    tables = lesion_tables(pred, target, num_classes=3, **kw)
    num = sum(math.fsum(t.dice[t.kept]) for row in tables for t in row[:1])
    den = sum(int(t.kept.sum()) + t.n_fp for row in tables for t in row[:1])
    pooled = lesion_scores(pred, target, "lesion_dice", num_classes=3, aggregation="pooled", **kw)
    assert pooled["lesion_dice"].per_class[0] == pytest.approx(num / den, rel=1e-15)
    micro = lesion_scores(pred, target, "lesion_fp", num_classes=3, aggregation="pooled_micro")
    assert micro["lesion_fp"].value == sum(t.n_fp for row in lesion_tables(
        pred, target, num_classes=3, percentile=None) for t in row)  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_backends_give_the_same_tables(seed):
    pytest.importorskip("cc3d")
    pred, target = lesion_volumes(seed, apart=False)
    a = lesion_tables(pred, target, spatial_dims=3, min_volume=0, backend="scipy")[0][0]
    b = lesion_tables(pred, target, spatial_dims=3, min_volume=0, backend="cc3d")[0][0]
    for field in ("target_voxels", "n_matched", "intersection", "hd", "pred_voxels"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 3]), st.integers(1, 3))
def test_dilation_equals_scipy(seed, ndim, iterations):
    from scipy import ndimage

    from segscore.metrics.instance.lesion_masks import _dilate

    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 13, ndim))
    mask = rng.random(shape) < rng.uniform(0.0, 0.15)
    structure = ndimage.generate_binary_structure(ndim, 2)
    expected = ndimage.binary_dilation(mask, structure, iterations=iterations)
    np.testing.assert_array_equal(_dilate(mask, iterations), expected)


@given(st.integers(0, 2**32 - 1), st.sampled_from([(9, 7), (5, 6, 4), (300, 400)]))
def test_lesion_boxes_equal_the_labels_extent(seed, shape):
    """Boxes from runs of voxels equal the extent of each label's voxels."""
    from segscore.metrics.instance.lesion_masks import _boxes

    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    flat = np.sort(rng.choice(size, int(rng.integers(1, min(size, 400) + 1)), replace=False))
    n = int(rng.integers(1, flat.size + 1))
    labels = np.concatenate([np.arange(1, n + 1), rng.integers(1, n + 1, flat.size - n)])
    labels = rng.permutation(labels).astype(np.int64)
    lo, hi = _boxes(flat, labels, n, shape)
    coords = np.stack(np.unravel_index(flat, shape), axis=1)
    for j in range(1, n + 1):
        own = coords[labels == j]
        np.testing.assert_array_equal(lo[j - 1], own.min(axis=0))
        np.testing.assert_array_equal(hi[j - 1], own.max(axis=0))
    # one label over whole rows: runs of consecutive indices wrap from row to row
    lo, hi = _boxes(np.arange(size), np.ones(size, np.int64), 1, shape)
    assert lo.tolist() == [[0] * len(shape)]
    assert hi.tolist() == [[n - 1 for n in shape]]
    lo, hi = _boxes(np.array([2, 3]), np.ones(2, np.int64), 1, (2, 3))  # (0, 2) and (1, 0)
    assert lo.tolist() == [[0, 0]]
    assert hi.tolist() == [[1, 2]]


@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.booleans())
def test_lesion_order_is_the_first_appearance(seed, n, shuffle):
    """Labels renumbered by first voxel: the identity fast path and the sorting path agree."""
    from segscore.metrics.instance.lesion_masks import _order

    rng = np.random.default_rng(seed)
    raw = np.sort(rng.integers(1, n + 1, 3 * n))  # sorted: already in first-appearance order
    raw = np.concatenate([np.arange(1, n + 1), raw])  # every label present
    if shuffle:
        raw = rng.permutation(raw)
    raw = raw.astype(np.uint16)
    first = {}
    for i, v in enumerate(raw.tolist()):
        first.setdefault(v, i)
    expected = np.zeros(n + 1, np.int64)
    for rank, v in enumerate(sorted(first, key=first.__getitem__), start=1):
        expected[v] = rank
    np.testing.assert_array_equal(_order(raw, n), expected)


@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2),
    st.sampled_from([0.0, 3.0]),
)
def test_random_masks_against_brats(seed, dilation, min_volume):
    rng = np.random.default_rng(seed)
    pred = rng.random((7, 8, 9)) < 0.15
    target = rng.random((7, 8, 9)) < 0.15
    s = lesion_scores(
        pred, target, "lesion_dice", dilation=dilation, min_volume=min_volume, spatial_dims=3
    )
    expected = _reference_lesion_dice(pred, target, (1.0,) * 3, dilation, min_volume)
    assert s["lesion_dice"].value == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert 0.0 <= s["lesion_dice"].value <= 1.0


def test_bad_input():
    m = np.zeros((4, 4), bool)
    cases = [
        ({"pred": m.astype(float)}, r"`pred` must be a binary mask .* got dtype float64"),
        ({"target": np.full((4, 4), -1)}, r"`target` must hold labels >= 0 .* got minimum -1"),
        ({"target": np.zeros((4, 5), bool)}, r"`pred` and `target` must have the same shape"),
        ({"target": np.eye(4, dtype=int) * 2}, r"`target` must be a binary mask with values"),
        ({"penalty": 0}, r"`penalty` must be a number > 0, got 0"),
        ({"penalty": -3.0}, r"`penalty` must be a number > 0, got -3.0"),
        ({"spacing": (1.0, 1.0, 1.0)}, r"`spacing` must have 2 values"),
        ({"dilation": -1}, r"`dilation` must be an integer >= 0, got -1"),
        ({"min_volume": -1.0}, r"`min_volume` must be a number >= 0"),
        ({"connectivity": 26}, r"`connectivity` must be one of 'face', 'full', got 26"),
        ({"metrics": "f1@0.5"}, r"`metrics` must name lesion metrics .* got 'f1@0.5'"),
        ({"metrics": "lesion_hd99"}, r"`metrics` must name metrics of the registry"),
        ({"aggregation": "mean"}, r"`aggregation` must be one of"),
        ({"empty": math.inf}, r"`empty` must be NaN or a finite number, got inf"),
        ({"backend": "skimage"}, r"`backend` must be one of 'auto', 'segscore', 'scipy', 'cc3d'"),
        ({"num_classes": 1}, r"`num_classes` must be an integer >= 2, got 1"),
        (
            {"target": np.full((4, 4), 3), "num_classes": 3},
            r"`target` has labels \[3\] outside \[0, 3\)",
        ),
        (
            {"options": CountingOptions(num_classes=3, ignore_index=255)},
            r"`options` must not set `ignore_index` or `multilabel`",
        ),
    ]
    for kwargs, message in cases:
        args = {"pred": m, "target": m, **kwargs}
        with pytest.raises(InputError, match=message):
            lesion_scores(args.pop("pred"), args.pop("target"), args.pop("metrics", ALL), **args)
    with pytest.raises(InputError, match=r"lesion metrics are computed from masks"):
        score_tables((), ["pq", "lesion_dice"])


def test_one_volume_needs_spatial_dims_3_and_the_message_says_so():
    # Reviewed: docs/objects.md's example scored one volume with a 3-value spacing and got
    # "`spacing` must have 2 values"; without spacing a (D, H, W) volume is D 2-D images.
    target = np.zeros((20, 20, 20), bool)
    target[5:12, 5:12, 5:12] = True  # a 7^3 cube
    pred = np.roll(target, 1, axis=0)  # 6 of its 7 slices overlap
    with pytest.raises(InputError, match=r"unless `spatial_dims=3` \(one volume \(D, H, W\)\)"):
        lesion_scores(pred, target, ["lesion_dice"], spacing=(1.0, 1.0, 1.0))
    s = lesion_scores(pred, target, ["lesion_dice"], spacing=(1.0, 1.0, 1.0), spatial_dims=3)
    assert s["lesion_dice"].value == pytest.approx(2 * 6 * 49 / (2 * 343), rel=1e-15)

"""Unit and property tests of segscore.metrics.boundary (peer cross-checks: tests/reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore.errors import InputError
from segscore.metrics.boundary import (
    assd,
    average_surface_distance,
    boundary_iou,
    distance_metrics,
    hausdorff_distance,
    surface_dice,
    surface_distances,
)
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.registry import get_metric


def _square(shape=(16, 16), lo=(4, 4), size=(6, 6)):
    m = np.zeros(shape, dtype=bool)
    m[lo[0] : lo[0] + size[0], lo[1] : lo[1] + size[1]] = True
    return m


# -- errors ------------------------------------------------------------------------------------
def test_spacing_wrong_length():
    with pytest.raises(InputError, match=r"`spacing` must have 2 values .*got \(1.0, 1.0, 1.0\)"):
        surface_distances(_square(), _square(), spacing=(1.0, 1.0, 1.0))


@pytest.mark.parametrize("spacing", [(1.0, 0.0), (1.0, -2.0), (float("nan"), 1.0)])
def test_spacing_not_positive(spacing):
    with pytest.raises(InputError, match=r"`spacing` must hold positive finite numbers"):
        surface_distances(_square(), _square(), spacing=spacing)


@pytest.mark.parametrize("percentile", [-1, 100.5, float("nan")])
def test_percentile_out_of_range(percentile):
    sd = surface_distances(_square(), _square())
    with pytest.raises(InputError, match=r"`percentile` must be a number in \[0, 100\]"):
        hausdorff_distance(sd, percentile=percentile)


def test_tolerance_negative():
    sd = surface_distances(_square(), _square())
    with pytest.raises(InputError, match=r"`tolerance` must be a number >= 0, got -0.5"):
        surface_dice(sd, tolerance=-0.5)
    with pytest.raises(InputError, match=r"`metric` must be one of"):
        distance_metrics(_square(), _square(), ["nsd@-1"])


def test_label_map_where_binary_required():
    labels = _square().astype(np.int64) * 3
    with pytest.raises(InputError, match=r"`pred` must be a binary mask .* got values \[0, 3\]"):
        surface_distances(labels, _square())


def test_other_errors():
    with pytest.raises(InputError, match=r"`pred` and `target` must have the same shape"):
        surface_distances(_square((8, 8)), _square())
    with pytest.raises(InputError, match=r"`connectivity` must be an integer in \[1, 2\]"):
        surface_distances(_square(), _square(), connectivity=3)
    with pytest.raises(InputError, match=r"`surface` must be one of 'voxel', 'surfel'"):
        surface_distances(_square(), _square(), surface="mesh")
    with pytest.raises(InputError, match=r"`ignore_index` needs label maps"):
        surface_distances(_square(), _square(), ignore_index=255)
    with pytest.raises(InputError, match=r"`target` has labels \[5\] outside \[0, 3\)"):
        surface_distances(np.zeros((4, 4), int), np.full((4, 4), 5), num_classes=3)
    with pytest.raises(InputError, match=r"`rule` must be one of"):
        hausdorff_distance(surface_distances(_square(), _square()), percentile=95, rule="mean")
    with pytest.raises(InputError, match=r"`metric` must be one of 'iou'"):
        get_metric("nsd", kind="boundary")
    with pytest.raises(InputError, match=r"`metric` must be a boundary metric here, got 'iou'"):
        distance_metrics(_square(), _square(), ["iou"])
    with pytest.raises(InputError, match=r"`metric` must be 'euclidean' for a width in physical"):
        boundary_iou(_square(), _square(), width=1.0, unit="mm")
    with pytest.raises(InputError, match=r"`width` must be a number > 0"):
        boundary_iou(_square(), _square(), width=0, unit="px")
    with pytest.raises(
        InputError, match=r"`target_empty` must be NaN, a finite number, inf or 'diagonal'"
    ):
        EmptyPolicy(target_empty="worst")
    with pytest.raises(InputError, match=r"`sd` must be a SurfaceDistances"):
        assd(np.zeros(3))


# -- names ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("hd", "percentile", None),
        ("hd95", "percentile", 95.0),
        ("hd99.5", "percentile", 99.5),
        ("nsd@1.0", "tolerance", 1.0),
        ("nsd@2mm", "tolerance", 2.0),
        ("biou@2px", "width_unit", "px"),
        ("biou@0.02diag", "width", 0.02),
        ("biou@1.5mm", "width_unit", "mm"),
        ("masd", "base", "masd"),
    ],
)
def test_names(name, field, value):
    spec = get_metric(name, kind="boundary")
    assert spec.kind == "boundary"
    got = getattr(spec, field) if field == "base" else spec.params.get(field)
    assert got == value


# -- values -----------------------------------------------------------------------------------
def test_identical_masks_give_zero_distances():
    m = _square()
    r = distance_metrics(m, m, ["hd", "hd95", "assd", "masd", "nsd@0", "biou@1px", "asd"])
    for name in ("hd", "hd95", "assd", "masd", "asd"):
        assert np.all(r[name] == 0)
    assert r["nsd@0"][0, 0] == 1.0
    assert r["biou@1px"][0, 0] == 1.0
    assert r["asd"].shape == (1, 1, 2)


def test_empty_policies():
    m, e = _square(), np.zeros((16, 16), bool)
    sd = surface_distances(m, e)
    assert sd.cases() == ["target_empty"]
    assert hausdorff_distance(sd)[0] == math.inf
    assert math.isnan(hausdorff_distance(sd, empty="nan")[0])
    assert hausdorff_distance(sd, empty="diagonal")[0] == pytest.approx(16 * math.sqrt(2))
    assert hausdorff_distance(sd, empty=42.0)[0] == 42.0
    monai = {"hdP": EmptyPolicy(target_empty=math.nan, prediction_empty=math.nan)}
    assert math.isnan(hausdorff_distance(sd, percentile=95, empty=monai)[0])
    assert hausdorff_distance(sd, empty=monai)[0] == math.inf
    assert surface_dice(sd, tolerance=1)[0] == 0.0
    both = surface_distances(e, e)
    assert both.cases() == ["both_empty"]
    assert math.isnan(assd(both)[0])
    assert math.isnan(surface_dice(both, tolerance=1)[0])
    mr = EmptyPolicy(zero_division=0.0, target_empty="nan", prediction_empty="nan")
    assert assd(both, empty=mr)[0] == 0.0
    assert surface_dice(both, tolerance=1, empty=EmptyPolicy(zero_division=1.0))[0] == 1.0
    assert surface_dice(both, tolerance=1, empty=1.0)[0] == 1.0
    r = distance_metrics(m, e, ["hd", "nsd@1"])
    assert (r.n_inf["hd"], r.n_valid["nsd@1"]) == (1, 1)
    assert r.empty_cases["hd"] == {
        "both_empty": 0,
        "target_empty": 1,
        "prediction_empty": 0,
        "both_present": 0,
    }


def test_deprecated_distance_empty_is_a_per_metric_mapping():
    from segscore.metrics.empty import DistanceEmpty

    m, e = _square(), np.zeros((16, 16), bool)
    with pytest.warns(DeprecationWarning, match="DistanceEmpty is deprecated"):
        old = DistanceEmpty(one_empty="nan", both_empty=0.0, overlap_both_empty=1.0)
    assert old["hd"] == EmptyPolicy(
        both_empty=0.0, target_empty=math.nan, prediction_empty=math.nan
    )
    assert old["nsd"] == EmptyPolicy(zero_division=1.0)
    r = distance_metrics(m, e, ["hd95", "asd", "nsd@1"], empty=old)
    assert math.isnan(r["hd95"][0, 0])
    assert np.isnan(r["asd"]).all()
    assert r["nsd@1"][0, 0] == 0.0
    assert distance_metrics(e, e, ["nsd@1", "assd"], empty=old)["nsd@1"][0, 0] == 1.0
    with (
        pytest.warns(DeprecationWarning, match="DistanceEmpty is deprecated"),
        pytest.raises(InputError, match=r"`one_empty` must"),
    ):
        DistanceEmpty(one_empty="worst")


def test_multiclass_and_ignore():
    target = np.zeros((20, 20), np.int64)
    target[2:8, 2:8] = 1
    target[10:18, 10:18] = 2
    pred = np.roll(target, 1, axis=0)
    r = distance_metrics(pred, target, ["hd", "assd"], num_classes=3, include_background=False)
    assert r.class_ids == (1, 2)
    for k in (1, 2):
        one = distance_metrics(pred == k, target == k, ["hd", "assd"])
        assert r["hd"][0, k - 1] == one["hd"][0, 0]
        assert r["assd"][0, k - 1] == one["assd"][0, 0]
    # an ignored band over class 2's bottom edge drops those surface elements
    ignored = target.copy()
    ignored[17:, :] = 255
    sd = surface_distances(pred, ignored, num_classes=3, ignore_index=255, include_background=False)
    mask = np.zeros((20, 20), bool)
    mask[17:, :] = True
    sd2 = surface_distances(
        pred,
        ignored,
        num_classes=3,
        ignore_index=255,
        ignore_mask=mask,
        include_background=False,
    )
    assert sd.ignore == "ignore_index=255"
    assert sd2.ignore == "ignore_index=255 and ignore_mask"
    np.testing.assert_array_equal(sd.pred_to_target[1], sd2.pred_to_target[1])
    assert (
        sd.target_weights[1].size
        < surface_distances(pred, target, num_classes=3, include_background=False)
        .target_weights[1]
        .size
    )


def test_percentile_rules_and_asd_directions():
    target = _square((32, 32), (8, 8), (12, 12))
    pred = np.roll(target, 1, axis=0)
    pred[1:3, 1:3] = True
    sd = surface_distances(pred, target)
    hd = hausdorff_distance(sd)[0]
    pooled = hausdorff_distance(sd, percentile=95, rule="pooled")[0]
    maxdir = hausdorff_distance(sd, percentile=95, rule="max_directed")[0]
    directed = hausdorff_distance(sd, percentile=95, rule="directed")[0]
    assert pooled <= maxdir <= hd
    assert directed == np.percentile(sd.pred_to_target[0], 95)
    asd = average_surface_distance(sd)[0]
    assert asd[0] == pytest.approx(sd.pred_to_target[0].mean())
    assert assd(sd, variant="mean_of_means")[0] == pytest.approx(asd.mean())


def test_boundary_iou_widths():
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


def test_surfel_model_2d_and_3d():
    m = np.zeros((6, 7, 8), bool)
    m[1:4, 2:5, 2:6] = True
    sd = surface_distances(m, m, surface="surfel", spacing=(1.0, 2.0, 3.0), spatial_dims=3)
    # closed surface of a 3x3x4 box of voxels (marching cubes: edges and corners are chamfered)
    assert sd.pred_weights[0].sum() > 0
    assert sd.connectivity is None
    assert surface_dice(sd, tolerance=0)[0] == 1.0


# -- properties (Hypothesis) --------------------------------------------------------------------
masks_2d = arrays(np.bool_, st.tuples(st.integers(3, 12), st.integers(3, 12)))
spacings = st.tuples(st.floats(0.25, 4.0), st.floats(0.25, 4.0))


def _pair(data):
    pred = data.draw(masks_2d)
    target = data.draw(arrays(np.bool_, pred.shape))
    return pred, target


@settings(max_examples=40, deadline=None)
@given(data=st.data(), spacing=spacings, surface=st.sampled_from(["voxel", "surfel"]))
def test_hd95_le_hd(data, spacing, surface):
    pred, target = _pair(data)
    sd = surface_distances(pred, target, spacing=spacing, surface=surface)
    hd = hausdorff_distance(sd)
    for rule in ("pooled", "max_directed", "area_weighted"):
        p95 = hausdorff_distance(sd, percentile=95, rule=rule)
        assert np.all((p95 <= hd) | np.isnan(p95))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), spacing=spacings, k=st.sampled_from([0.5, 2.0, 3.0]))
def test_spacing_scales_distances(data, spacing, k):
    pred, target = _pair(data)
    names = ["hd", "hd95", "assd", "masd"]
    a = distance_metrics(pred, target, names, spacing=spacing)
    b = distance_metrics(pred, target, names, spacing=(spacing[0] * k, spacing[1] * k))
    for n in names:
        np.testing.assert_allclose(b[n], a[n] * k, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), pad=st.integers(1, 3), surface=st.sampled_from(["voxel", "surfel"]))
def test_zero_padding_invariance(data, pad, surface):
    pred, target = _pair(data)
    names = ["hd", "hd95", "assd", "nsd@1.0", "biou@1px"]
    a = distance_metrics(pred, target, names, surface=surface)
    b = distance_metrics(np.pad(pred, pad), np.pad(target, pad), names, surface=surface)
    for n in names:
        np.testing.assert_array_equal(a[n], b[n])


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    spacing=spacings,
    rule=st.sampled_from(["pooled", "max_directed", "area_weighted"]),
)
def test_symmetric_metrics(data, spacing, rule):
    pred, target = _pair(data)
    names = ["hd", "hd95", "assd", "masd", "nsd@1.0", "biou@1px"]
    a = distance_metrics(pred, target, names, spacing=spacing, rule=rule)
    b = distance_metrics(target, pred, names, spacing=spacing, rule=rule)
    for n in names:
        np.testing.assert_allclose(a[n], b[n], rtol=1e-12)
    np.testing.assert_array_equal(
        distance_metrics(pred, target, ["asd"])["asd"][..., ::-1],
        distance_metrics(target, pred, ["asd"])["asd"],
    )


def _weighted_rank_by_lexsort(distances, weights, q):
    order = np.lexsort((weights, distances))
    d, w = distances[order], weights[order]
    index = int(np.searchsorted(np.cumsum(w) / np.sum(w), q))
    return float(d[min(index, d.size - 1)])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 400),
    st.integers(1, 30),
    st.integers(1, 6),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_weighted_rank_equals_the_two_key_sort(n, n_distances, n_weights, q, seed):
    # The key sort must sum the weights in the very order of a (distance, weight) lexsort, so
    # the rank found is the same even where the cumulative share lands exactly on q.
    from segscore.metrics.boundary.reductions import _weighted_rank

    rng = np.random.default_rng(seed)
    distances = rng.choice(np.sqrt(rng.integers(0, 50, n_distances)).astype(np.float64), n)
    weights = rng.choice(rng.uniform(0.01, 2.0, n_weights), n)
    assert _weighted_rank(distances, weights, q) == _weighted_rank_by_lexsort(distances, weights, q)
    half = np.full(4, 0.5)  # exact ties: cumulative shares 0.25, 0.5, 0.75, 1.0
    assert _weighted_rank(np.array([1.0, 2.0, 3.0, 4.0]), half, 0.5) == 2.0


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([(2, (1.0, 1.0)), (3, (1.0, 0.8, 2.5)), (3, (1.0, 1.0, 1.0))]),
)
def test_compiled_nearest_search_equals_the_numpy_search(seed, dims):
    # The compiled first-hit search and its numpy twin must resolve the same elements to the same
    # offset lengths; both leave the same elements to the KD-tree.
    from segscore.metrics import _kernel
    from segscore.metrics.boundary.search import _offsets, _search_offsets

    if not _kernel.HAVE_COMPILED:
        pytest.skip("compiled kernel not built")
    ndim, spacing = dims
    rng = np.random.default_rng(seed)
    shape = tuple(int(x) for x in rng.integers(3, 12, ndim))
    other = rng.random(shape) < rng.uniform(0.001, 0.3)
    source = rng.random(shape) < 0.3
    radius = tuple(int(x) for x in rng.integers(1, 4, ndim))
    padded = np.pad(other, [(r, r) for r in radius])
    strides = tuple(st_ // padded.itemsize for st_ in padded.strides)
    offsets, lengths = _offsets(spacing, strides, radius)
    index = np.flatnonzero(np.pad(source, [(r, r) for r in radius])).astype(np.int64)
    rank = _kernel.nearest_offsets(padded, index, offsets)
    out = np.full(index.size, np.inf)
    pending, where = _search_offsets(padded.ravel(), index, offsets, lengths, out)
    np.testing.assert_array_equal(pending, index[where])
    assert rank is not None
    found = rank >= 0
    np.testing.assert_array_equal(np.where(found, lengths[np.maximum(rank, 0)], np.inf), out)
    np.testing.assert_array_equal(np.flatnonzero(~found), where)


def test_nearest_search_refuses_an_offset_outside_the_grid():
    from segscore.metrics import _kernel

    if not _kernel.HAVE_COMPILED:
        pytest.skip("compiled kernel not built")
    grid = np.zeros(10, dtype=bool)
    with pytest.raises(ValueError, match="outside `grid`"):
        _kernel.nearest_offsets(grid, np.array([9]), np.array([0, 1]))
    with pytest.raises(ValueError, match="outside `grid`"):
        _kernel.nearest_offsets(grid, np.array([0]), np.array([-1]))
    assert _kernel.nearest_offsets(grid, np.array([0, 9]), np.array([0])).tolist() == [-1, -1]


# -- one options object, one layout, one background rule ------------------------------------------
def _label_pair(shape=(20, 20), seed=0):
    rng = np.random.default_rng(seed)
    target = np.zeros(shape, np.int64)
    target[2:8, 2:8] = 1
    target[10:18, 10:18] = 2
    pred = np.roll(target, int(rng.integers(1, 3)), axis=0)
    return pred, target


NAMES = ["hd", "hd95", "asd", "assd", "masd", "nsd@1", "biou@1px"]


def test_batch_of_images_equals_one_call_per_image():
    rng = np.random.default_rng(4)
    preds = rng.random((3, 12, 13)) < 0.3
    targets = rng.random((3, 12, 13)) < 0.3
    preds[1] = False  # an empty prediction inside the batch
    batch = distance_metrics(preds, targets, NAMES)
    assert batch["hd"].shape == (3, 1)
    assert batch["asd"].shape == (3, 1, 2)
    for n in range(3):
        one = distance_metrics(preds[n], targets[n], NAMES)
        for name in NAMES:
            np.testing.assert_array_equal(batch[name][n], one[name][0])
    assert batch.empty_cases["hd"]["prediction_empty"] == 1


def test_spatial_dims_3_reads_one_volume():
    m = np.zeros((6, 7, 8), bool)
    m[1:4, 2:5, 2:6] = True
    shifted = np.roll(m, 1, axis=0)
    volume = distance_metrics(shifted, m, ["hd", "assd"], spatial_dims=3, spacing=(2.0, 1.0, 1.0))
    assert volume["hd"].shape == (1, 1)
    assert volume["hd"][0, 0] == 2.0  # the shift is along axis 0, spacing 2
    batch = distance_metrics(shifted, m, ["hd"])  # 3-D without spatial_dims: 6 images
    assert batch["hd"].shape == (6, 1)
    many = distance_metrics(shifted[None], m[None], ["hd"], spacing=(2.0, 1.0, 1.0))  # 4-D
    assert many["hd"][0, 0] == 2.0
    sd = surface_distances(shifted, m, spatial_dims=3)
    assert sd.shape == (6, 7, 8)
    with pytest.raises(InputError, match=r"`spacing` must have 2 values"):
        distance_metrics(shifted, m, ["hd"], spacing=(2.0, 1.0, 1.0))


def test_per_case_functions_refuse_a_batch():
    stack = np.zeros((2, 6, 6), bool)
    with pytest.raises(
        InputError,
        match=r"`pred` must hold one case for surface_distances .*use distance_metrics for a "
        r"batch, got a batch of 2 cases, shape \(2, 6, 6\)\.",
    ):
        surface_distances(stack, stack)
    with pytest.raises(InputError, match=r"`pred` must hold one case for boundary_iou"):
        boundary_iou(stack, stack, width=1, unit="px")
    # a batch of one is one case
    assert surface_distances(stack[:1], stack[:1]).shape == (6, 6)


def test_background_rule_is_the_counting_options_rule():
    from segscore.metrics.options import CountingOptions

    pred, target = _label_pair()
    all_classes = distance_metrics(pred, target, ["hd", "nsd@1"], num_classes=3)
    assert all_classes.class_ids == (0, 1, 2)  # class 0 scored by default
    background = distance_metrics(pred == 0, target == 0, ["hd", "nsd@1"])
    assert all_classes["hd"][0, 0] == background["hd"][0, 0]
    dropped = distance_metrics(
        pred, target, ["hd"], options=CountingOptions(num_classes=3, include_background=False)
    )
    assert dropped.class_ids == (1, 2)
    np.testing.assert_array_equal(dropped["hd"], all_classes["hd"][:, 1:])
    assert dropped.conventions["hd"].include_background is False
    assert dropped.conventions["hd"].classes == (1, 2)
    # binary masks: one class, the foreground, class id 1, whatever the background rule
    for keep in (True, False):
        r = distance_metrics(pred == 1, target == 1, ["hd"], include_background=keep)
        assert r.class_ids == (1,)
        assert r["hd"][0, 0] == all_classes["hd"][0, 1]
    with pytest.raises(InputError, match=r"`num_classes` must not be given with `options`"):
        distance_metrics(
            pred, target, ["hd"], options=CountingOptions(num_classes=3), num_classes=4
        )


def test_float_predictions_are_thresholded_as_confusion_does():
    from segscore.metrics.counting import confusion

    rng = np.random.default_rng(2)
    prob = rng.random((10, 10))
    target = rng.random((10, 10)) < 0.4
    for threshold in (0.3, 0.5, 0.8):
        r = distance_metrics(prob, target, ["hd", "assd"], threshold=threshold)
        mask = distance_metrics(prob >= threshold, target, ["hd", "assd"])
        np.testing.assert_array_equal(r["hd"], mask["hd"])
        assert confusion(prob, target, threshold=threshold).tp[0, 0] == np.sum(
            (prob >= threshold) & target
        )
    assert r.conventions["hd"].counting is not None
    assert r.conventions["hd"].counting.threshold == 0.8
    with pytest.raises(InputError, match=r"`target` must be a binary mask"):
        distance_metrics(target, prob, ["hd"])


def test_multilabel_is_refused():
    m = np.zeros((2, 6, 6), bool)
    with pytest.raises(InputError, match=r"`multilabel` must be False for boundary metrics"):
        distance_metrics(m, m, ["hd"], multilabel=True)


def test_counters_and_conventions_record():
    e = np.zeros((3, 8, 8), bool)
    t = e.copy()
    t[:, 2:5, 2:5] = True
    p = t.copy()
    p[0] = False  # prediction empty
    t[1] = False  # target empty
    p[2] = np.roll(p[2], 1, 0)  # both present
    r = distance_metrics(p, t, ["hd", "nsd@1", "asd"])
    assert r.n_inf["hd"] == 2
    assert r.n_valid["hd"] == 1
    assert r.n_nan["hd"] == r.n_excluded["hd"] == 0
    assert (r.n_inf["asd"], r.n_nan["asd"], r.n_valid["asd"]) == (2, 2, 2)
    assert r.n_valid["nsd@1"] == 3
    both = distance_metrics(e, e, ["hd", "nsd@1"])
    assert both.n_nan == both.n_excluded == {"hd": 3, "nsd@1": 3}
    assert both.empty_cases["nsd@1"]["both_empty"] == 3
    c = r.conventions["hd"]
    assert (c.metric, c.kind, c.preset, c.aggregation) == ("hd", "boundary", None, None)
    assert c.boundary is not None
    assert c.boundary["surface_model"] == "voxel_border(connectivity=1)"
    assert c.boundary["spacing"] == [1.0, 1.0]
    assert c.boundary["hd_percentile_rule"] == "max_directed"
    assert c.empty == EmptyPolicy()
    record = r.as_dict()
    assert record["values"]["hd"][0] == ["Infinity"]
    assert record["conventions"]["asd"]["empty"]["zero_division"] == "NaN"
    assert record["class_ids"] == [1]


def test_empty_argument_forms():
    m, e = _square(), np.zeros((16, 16), bool)
    names = ["hd", "hd95", "assd", "nsd@1", "biou@1px"]
    word = distance_metrics(m, e, names, empty="diagonal")
    for name in ("hd", "hd95", "assd"):
        assert word[name][0, 0] == pytest.approx(16 * math.sqrt(2))
    assert (word["nsd@1"][0, 0], word["biou@1px"][0, 0]) == (0.0, 0.0)  # ratios keep theirs
    assert distance_metrics(m, e, ["hd"], empty=3.5)["hd"][0, 0] == 3.5
    mapping = {"hd95": EmptyPolicy(target_empty=1.0), "hd": EmptyPolicy(target_empty=2.0)}
    r = distance_metrics(m, e, ["hd", "hd95", "hd90"], empty=mapping)
    assert (r["hd"][0, 0], r["hd95"][0, 0], r["hd90"][0, 0]) == (2.0, 1.0, 2.0)
    r = distance_metrics(m, e, ["hd", "hd90"], empty={"hdP": EmptyPolicy(target_empty=1.0)})
    assert (r["hd"][0, 0], r["hd90"][0, 0]) == (math.inf, 1.0)
    assert r.conventions["hd90"].empty == EmptyPolicy(target_empty=1.0)
    both = distance_metrics(e, e, names, empty=EmptyPolicy(zero_division=0.0))
    assert all(both[n][0, 0] == 0.0 for n in names)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"empty": EmptyPolicy(target_empty=math.inf)},
            r"`target_empty` must be NaN or a finite number for the ratio metric 'nsd@1' \(inf "
            r"and 'diagonal' are distances\), got inf\.",
        ),
        (
            {"empty": {"biou": EmptyPolicy(both_empty="diagonal")}},
            r"`both_empty` must be NaN or a finite number for the ratio metric 'biou@1px'",
        ),
        (
            {"empty": {"hd96x": EmptyPolicy()}},
            r"`empty` must map metric names, 'hdP' or base names .*got the key 'hd96x'\.",
        ),
        ({"empty": {"hd": 1.0}}, r"`empty` must map metric names to EmptyPolicy, got 'hd': 1.0\."),
        (
            {"empty": "worst"},
            r"`empty` must be NaN, a finite number, inf or 'diagonal', got 'worst'\.",
        ),
        ({"empty": -math.inf}, r"`empty` must be NaN, a finite number, inf or 'diagonal'"),
    ],
)
def test_policy_validation_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        distance_metrics(_square(), _square(), ["hd", "nsd@1", "biou@1px"], **kwargs)


def test_policy_values_and_overlap_refusal():
    from segscore.metrics.counting import confusion
    from segscore.metrics.overlap import iou
    from segscore.metrics.reduce import score

    assert EmptyPolicy(both_empty="inf").both_empty == math.inf
    assert math.isnan(EmptyPolicy(both_empty="NaN").both_empty)
    assert EmptyPolicy(target_empty="nan") == EmptyPolicy(target_empty=np.nan)
    c = confusion(np.zeros((2, 2), int), np.zeros((2, 2), int))
    with pytest.raises(
        InputError, match=r"`prediction_empty` must be NaN or a finite number for a ratio metric"
    ):
        iou(c, empty=EmptyPolicy(prediction_empty="diagonal"))
    with pytest.raises(InputError, match=r"for the ratio metric 'iou'"):
        score(c, "iou", empty=EmptyPolicy(both_empty=math.inf))
    with pytest.raises(InputError, match=r"`zero_division` must be NaN or a finite number"):
        EmptyPolicy(zero_division="diagonal")  # type: ignore[arg-type]

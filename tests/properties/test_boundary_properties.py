"""Properties of the boundary metrics (Hypothesis): hdP <= hd, spacing scales every distance and
leaves NSD at a scaled tolerance and Boundary IoU at a scaled physical width unchanged,
zero-padding changes nothing (outside the image is background), and the symmetric metrics are
symmetric in (pred, target). 2-D binary masks (the first four tests), then 2-D/3-D label maps and
the surfel model."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore.metrics.boundary import distance_metrics, hausdorff_distance, surface_distances

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


@st.composite
def label_pairs(draw):
    """(pred, target, num_classes, spatial_dims, spacing): one 2-D image or one 3-D volume."""
    dims = draw(st.sampled_from([2, 3]))
    side = (3, 9) if dims == 2 else (3, 6)
    shape = draw(st.tuples(*[st.integers(*side)] * dims))
    c = draw(st.integers(2, 4))
    labels = st.integers(0, c - 1)
    pred = draw(arrays(np.int64, shape, elements=labels))
    target = draw(arrays(np.int64, shape, elements=labels))
    spacing = draw(st.tuples(*[st.floats(0.25, 4.0)] * dims))
    return pred, target, c, dims, spacing


SCALE_NAMES = ["hd", "hd50", "hd95", "asd", "assd", "masd"]


@settings(max_examples=30, deadline=None)
@given(
    data=label_pairs(),
    k=st.sampled_from([0.5, 2.0, 3.0]),
    surface=st.sampled_from(["voxel", "surfel"]),
    rule=st.sampled_from(["pooled", "max_directed", "area_weighted"]),
)
def test_spacing_by_k_scales_distances_and_keeps_nsd_at_k_times_the_tolerance(
    data, k, surface, rule
):
    pred, target, c, dims, spacing = data
    kw = {"num_classes": c, "spatial_dims": dims, "surface": surface, "rule": rule}
    scaled = tuple(s * k for s in spacing)
    a = distance_metrics(
        pred,
        target,
        [*SCALE_NAMES, "nsd@1", "biou@1mm"],
        spacing=spacing,
        boundary_metric="euclidean",
        **kw,
    )
    b = distance_metrics(
        pred,
        target,
        [*SCALE_NAMES, f"nsd@{k:g}", f"biou@{k:g}mm"],
        spacing=scaled,
        boundary_metric="euclidean",
        **kw,
    )
    for n in SCALE_NAMES:
        if rule == "area_weighted" and n not in ("hd", "asd", "assd", "masd"):
            # DeepMind's nearest rank compares float area shares with p/100: at an exact tie the
            # side it lands on depends on the spacing's scale (reproduced on purpose, as the
            # 'area_weighted' rule exists to give DeepMind's numbers; test_hausdorff.py shows one)
            continue
        np.testing.assert_allclose(b[n], a[n] * k, rtol=1e-12, err_msg=n)
    # surfel areas scale by k ** (d - 1): the ratio to the last bit only
    np.testing.assert_allclose(b[f"nsd@{k:g}"], a["nsd@1"], rtol=1e-12)
    np.testing.assert_array_equal(b[f"biou@{k:g}mm"], a["biou@1mm"])


@settings(max_examples=30, deadline=None)
@given(
    data=label_pairs(),
    pad=st.integers(1, 3),
    surface=st.sampled_from(["voxel", "surfel"]),
    connectivity=st.sampled_from([1, 2]),
)
def test_zero_padding_label_maps(data, pad, surface, connectivity):
    """Padding with background (label 0) changes nothing for the foreground classes; class 0
    then touches the new frame, so it is left out."""
    pred, target, c, dims, spacing = data
    names = ["hd", "hd95", "asd", "assd", "masd", "nsd@1", "biou@1px", "biou@0.5mm"]
    kw = {
        "num_classes": c,
        "spatial_dims": dims,
        "surface": surface,
        "spacing": spacing,
        "connectivity": connectivity,
        "include_background": False,
    }
    a = distance_metrics(pred, target, names, **kw, boundary_metric="euclidean")
    b = distance_metrics(
        np.pad(pred, pad), np.pad(target, pad), names, **kw, boundary_metric="euclidean"
    )
    for n in names:
        np.testing.assert_array_equal(a[n], b[n], err_msg=n)


@settings(max_examples=30, deadline=None)
@given(
    data=label_pairs(),
    surface=st.sampled_from(["voxel", "surfel"]),
    rule=st.sampled_from(["pooled", "max_directed", "area_weighted"]),
)
def test_symmetric_label_maps_and_hd_percentiles_below_hd(data, surface, rule):
    pred, target, c, dims, spacing = data
    names = ["hd", "hd50", "hd95", "hd99", "assd", "masd", "nsd@1", "biou@1px"]
    kw = {
        "num_classes": c,
        "spatial_dims": dims,
        "surface": surface,
        "spacing": spacing,
        "rule": rule,
    }
    a = distance_metrics(pred, target, names, **kw)
    b = distance_metrics(target, pred, names, **kw)
    for n in names:
        np.testing.assert_allclose(a[n], b[n], rtol=1e-12, err_msg=n)
    np.testing.assert_array_equal(
        distance_metrics(pred, target, ["asd"], **kw)["asd"][..., ::-1],
        distance_metrics(target, pred, ["asd"], **kw)["asd"],
    )
    for n in ("hd50", "hd95", "hd99"):
        assert np.all((a[n] <= a["hd"]) | np.isnan(a[n])), n
    assert np.all((a["hd50"] <= a["hd95"]) | np.isnan(a["hd50"]))

"""Stage 1, surface_distances: errors, the surfel model, the nearest-element search, and the
directed distances themselves on the grid of tests/metrics/_boundary_inputs.py against the brute
force (voxel model, connectivity 1 and full, ignore included), MONAI's edge distances with its
``mask`` argument (segscore's ignore rule) and DeepMind's surfel distances and areas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segscore.errors import InputError
from segscore.metrics.boundary import (
    boundary_iou,
    distance_metrics,
    surface_dice,
    surface_distances,
)
from segscore.metrics.boundary.surfel_tables import surfel_area_table

from ._boundary_inputs import (
    F32,
    F64,
    GRID,
    NO_IGNORE,
    brute_surfaces,
    cells,
    deepmind,
    ids,
    monai_metrics,
    torch,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::RuntimeWarning", "ignore::DeprecationWarning"
)


def _square(shape=(16, 16), lo=(4, 4), size=(6, 6)):
    m = np.zeros(shape, dtype=bool)
    m[lo[0] : lo[0] + size[0], lo[1] : lo[1] + size[1]] = True
    return m


# -- errors ---------------------------------------------------------------------------------------
def test_spacing_wrong_length():
    with pytest.raises(InputError, match=r"`spacing` must have 2 values .*got \(1.0, 1.0, 1.0\)"):
        surface_distances(_square(), _square(), spacing=(1.0, 1.0, 1.0))


@pytest.mark.parametrize("spacing", [(1.0, 0.0), (1.0, -2.0), (float("nan"), 1.0)])
def test_spacing_not_positive(spacing):
    with pytest.raises(InputError, match=r"`spacing` must hold positive finite numbers"):
        surface_distances(_square(), _square(), spacing=spacing)


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


# -- surfaces -------------------------------------------------------------------------------------
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


def test_surfel_model_2d_and_3d():
    m = np.zeros((6, 7, 8), bool)
    m[1:4, 2:5, 2:6] = True
    sd = surface_distances(m, m, surface="surfel", spacing=(1.0, 2.0, 3.0), spatial_dims=3)
    # closed surface of a 3x3x4 box of voxels (marching cubes: edges and corners are chamfered)
    assert sd.pred_weights[0].sum() > 0
    assert sd.connectivity is None
    assert surface_dice(sd, tolerance=0)[0] == 1.0


@pytest.mark.parametrize(
    "spacing", [(1.0, 1.0), (0.7, 1.9), (1.0, 1.0, 1.0), (1.0, 0.8, 2.5), (3.0, 0.7, 1.3)]
)
def test_surfel_tables_equal_deepmind(spacing):
    deepmind()
    lt = pytest.importorskip("surface_distance.lookup_tables")
    if len(spacing) == 2:
        ref = lt.create_table_neighbour_code_to_contour_length(spacing)
    else:
        ref = lt.create_table_neighbour_code_to_surface_area(spacing)
    np.testing.assert_allclose(surfel_area_table(spacing), ref, rtol=1e-14, atol=1e-15)


# -- the nearest-element search --------------------------------------------------------------------
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


# -- the directed distances on the grid ------------------------------------------------------------
def _sd(case, n, **kw):
    kw = {**case.kwargs(), **kw}
    return surface_distances(case.pred[n : n + 1], case.target[n : n + 1], **kw)


@pytest.mark.parametrize("connectivity", ["1", "full"])
@pytest.mark.parametrize("case", GRID, ids=ids(GRID))
def test_directed_distances_match_brute_force(case, connectivity):
    conn = 1 if connectivity == "1" else case.ndim
    for n in range(case.pred.shape[0]):
        sd = _sd(case, n, connectivity=conn)
        assert sd.class_ids == case.class_ids
        for cell in cells(case):
            if cell.n != n:
                continue
            ref = brute_surfaces(cell, case.spacing, conn)
            i = cell.column
            # raster order on both sides: argwhere lists the border voxels in C order
            np.testing.assert_allclose(sd.pred_to_target[i], ref.pt, **F64)
            np.testing.assert_allclose(sd.target_to_pred[i], ref.tp, **F64)
            assert np.all(sd.pred_weights[i] == 1.0)
            assert sd.cases()[i] == ref.empty


IGNORE_CASES = [c for c in GRID if c.ignore_index is not None]


@pytest.mark.parametrize("case", IGNORE_CASES, ids=ids(IGNORE_CASES))
def test_ignore_rule_is_monais_mask_argument(case):
    """segscore drops the surface elements in ignored voxels after extraction: MONAI's
    ``get_edge_surface_distance(..., mask=counted)`` (not its metric classes' ``ignore_index``,
    which clear the ignored voxels of both masks first: test_distance_metrics.py)."""
    monai_metrics()
    t = torch()
    from monai.metrics.utils import get_edge_surface_distance

    for n in range(case.pred.shape[0]):
        sd = _sd(case, n)
        for cell in cells(case):
            if cell.n != n:
                continue
            i = cell.column
            if sd.cases()[i] != "both_present":
                continue
            _, (pt, tp), _ = get_edge_surface_distance(
                t.from_numpy(cell.pred),
                t.from_numpy(cell.target),
                spacing=case.spacing,
                symmetric=True,
                mask=t.from_numpy(cell.valid),
            )
            np.testing.assert_allclose(np.sort(sd.pred_to_target[i]), np.sort(pt.numpy()), **F32)
            np.testing.assert_allclose(np.sort(sd.target_to_pred[i]), np.sort(tp.numpy()), **F32)


@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_surfel_distances_and_areas_match_deepmind(case):
    sdm = deepmind()
    for n in range(case.pred.shape[0]):
        sd = _sd(case, n, surface="surfel")
        for cell in cells(case):
            if cell.n != n or not cell.both_present:
                continue
            d = sdm.compute_surface_distances(cell.target, cell.pred, case.spacing)
            i = cell.column
            np.testing.assert_allclose(
                np.sort(sd.target_to_pred[i]), d["distances_gt_to_pred"], **F64
            )
            np.testing.assert_allclose(
                np.sort(sd.pred_to_target[i]), d["distances_pred_to_gt"], **F64
            )
            assert sd.pred_weights[i].sum() == pytest.approx(
                d["surfel_areas_pred"].sum(), rel=1e-12
            )
            assert sd.target_weights[i].sum() == pytest.approx(
                d["surfel_areas_gt"].sum(), rel=1e-12
            )

"""The overlap table: exact int64 counts of every overlapping pair and object, sparse."""

from __future__ import annotations

import numpy as np
import pytest

from segscore import CountingOptions, InputError, overlap_table
from segscore.metrics.instance.table import OverlapTable

from ._instances import batch


def _reference_table(pred: np.ndarray, target: np.ndarray, ignore: int | None = None):
    """Brute force: one boolean mask per object, every pair counted."""
    keep = np.ones(target.shape, bool) if ignore is None else target != ignore
    p_ids = [i for i in np.unique(pred[keep]).tolist() if i]
    t_ids = [i for i in np.unique(target[keep]).tolist() if i]
    areas_p = {i: int(((pred == i) & keep).sum()) for i in p_ids}
    areas_t = {i: int(((target == i) & keep).sum()) for i in t_ids}
    pairs = {}
    for a in p_ids:
        for b in t_ids:
            n = int(((pred == a) & (target == b) & keep).sum())
            if n:
                pairs[(a, b)] = n
    return areas_p, areas_t, pairs


def _as_dicts(t: OverlapTable):
    areas_p = dict(zip(t.pred_ids.tolist(), t.pred_areas.tolist(), strict=True))
    areas_t = dict(zip(t.target_ids.tolist(), t.target_areas.tolist(), strict=True))
    pairs = {
        (int(t.pred_ids[a]), int(t.target_ids[b])): int(n)
        for a, b, n in zip(t.pair_pred, t.pair_target, t.pair_intersection, strict=True)
    }
    return areas_p, areas_t, pairs


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ignore", [None, 3])
def test_table_equals_brute_force(seed, ignore):
    pred, target = batch(seed, n_images=3, shape=(40, 48))
    if ignore is not None:
        target[:, :5, :] = ignore
    tables = overlap_table(pred, target, ignore_index=ignore)
    assert len(tables) == 3
    for i, table in enumerate(tables):
        assert _as_dicts(table) == _reference_table(pred[i], target[i], ignore)
        assert table.pred_areas.dtype == np.int64
        assert table.pair_intersection.dtype == np.int64
        assert np.all(table.pair_union >= table.pair_intersection)
        n_kept = target[i].size if ignore is None else int((target[i] != ignore).sum())
        assert table.n_pixels == n_kept


def test_3d_volumes_and_layout():
    pred, target = batch(5, n_images=2, shape=(12, 16, 16), n=6)
    tables = overlap_table(pred, target)  # 4-D: a batch of volumes
    assert len(tables) == 2
    one = overlap_table(pred[0], target[0], spatial_dims=3)
    assert len(one) == 1
    assert _as_dicts(one[0]) == _reference_table(pred[0], target[0]) == _as_dicts(tables[0])
    # without spatial_dims a 3-D array is a batch of 2-D images
    assert len(overlap_table(pred[0], target[0])) == 12
    opts = CountingOptions(spatial_dims=3)
    assert _as_dicts(overlap_table(pred[0], target[0], options=opts)[0]) == _as_dicts(one[0])


@pytest.mark.parametrize(
    ("dtype", "ids"),
    [
        (np.uint8, (1, 255)),
        (np.uint16, (7, 65535)),
        (np.int32, (1, 255)),
        (np.int64, (2, 2**63 - 1)),
        (np.uint64, (3, 2**64 - 1)),
    ],
)
def test_ids_up_to_the_dtype_maximum(dtype, ids):
    target = np.zeros((4, 6), dtype)
    target[:, :3], target[:, 3:] = ids
    pred = target.copy()
    pred[0, :] = 0
    t = overlap_table(pred, target)[0]
    assert t.pred_ids.tolist() == list(ids)
    assert t.target_ids.tolist() == list(ids)
    assert t.pair_intersection.tolist() == [9, 9]
    assert t.pair_union.tolist() == [12, 12]
    assert _as_dicts(t) == _reference_table(pred, target)


@pytest.mark.parametrize("layout", ["runs", "noise"])
@pytest.mark.parametrize(
    ("dtype", "ids"),
    [
        (np.uint16, (7, 60000, 65535)),
        (np.int64, (2**31 - 1, 2**31 - 9, 5)),  # keys near 2**62: exact, no float rounding
        (np.uint64, (2**31 - 1, 2**31 - 9, 5)),  # the same in uint64 (uint64 + int64 is float)
        (np.uint64, (3, 2**63 + 5, 2**64 - 1)),  # too large to combine: relabelled first
    ],
)
@pytest.mark.parametrize("ignore", [None, "an id"])
def test_run_and_per_pixel_counting_equal_brute_force(layout, dtype, ids, ignore):
    # Label maps are counted from their runs; maps without runs (noise) from one key per pixel.
    rng = np.random.default_rng(len(ids) + (layout == "noise"))
    pool = np.array((0, *ids), dtype=dtype)
    shape = (6, 40) if layout == "noise" else (6, 5)
    pred, target = rng.choice(pool, shape), rng.choice(pool[::-1], shape)
    if layout == "runs":  # runs of 8 equal pixels along the rows
        pred, target = pred.repeat(8, axis=1), target.repeat(8, axis=1)
    ignore_id = None if ignore is None else int(ids[1])
    t = overlap_table(pred, target, ignore_index=ignore_id)[0]
    assert _as_dicts(t) == _reference_table(pred, target, ignore_id)
    kept = pred.size if ignore_id is None else int((target != ignore_id).sum())
    assert t.n_pixels == kept


def test_non_consecutive_ids_and_bool_masks():
    pred = np.array([[0, 40000, 40000, 9]])
    target = np.array([[12, 12, 0, 9]])
    t = overlap_table(pred, target)[0]
    assert _as_dicts(t) == ({9: 1, 40000: 2}, {9: 1, 12: 2}, {(40000, 12): 1, (9, 9): 1})
    b = overlap_table(np.array([[True, False]]), np.array([[True, True]]))[0]
    assert (b.pred_ids.tolist(), b.target_ids.tolist(), b.pair_union.tolist()) == ([1], [1], [2])


def test_empty_images():
    z = np.zeros((3, 3), np.uint8)
    t = overlap_table(z, z)[0]
    assert (t.n_pred, t.n_target, t.n_pairs, t.n_pixels) == (0, 0, 0, 9)
    only = overlap_table(z, np.eye(3, dtype=np.uint8))[0]
    assert (only.n_pred, only.n_target, only.n_pairs) == (0, 1, 0)


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    pred, target = batch(3, n_images=2, shape=(24, 24), n=5)
    a = overlap_table(torch.from_numpy(pred), torch.from_numpy(target))
    b = overlap_table(pred, target)
    assert [_as_dicts(x) for x in a] == [_as_dicts(x) for x in b]


def test_swapped():
    pred, target = batch(4, n_images=1, shape=(32, 32))
    t = overlap_table(pred, target)[0]
    assert _as_dicts(t.swapped()) == _as_dicts(overlap_table(target, pred)[0])


def test_five_thousand_objects_stay_sparse():
    # 5,041 square objects of 28 x 28 pixels in one 2048 x 2048 image; the prediction is shifted
    # by 3 pixels, so every object overlaps 4 others: a dense table would have 25 million cells.
    side = 2048
    cell = np.arange(side) // 29
    target = (cell[:, None] * 71 + cell[None, :] + 1).astype(np.int32)
    target[target > 5000] = 0
    pred = np.roll(target, (3, 3), axis=(0, 1))
    t = overlap_table(pred, target)[0]
    assert t.n_target == 5000
    assert t.n_pred == 5000
    assert t.n_pairs < 4 * 5000 + 200  # sparse: O(objects), not objects**2
    assert int(t.pair_intersection.sum()) == int(((pred > 0) & (target > 0)).sum())
    arrays = [
        getattr(t, f) for f in OverlapTable.__slots__ if isinstance(getattr(t, f), np.ndarray)
    ]
    assert sum(a.nbytes for a in arrays) < 2_000_000  # vs 200 MB for a dense float64 matrix


@pytest.mark.parametrize(
    ("pred", "target", "message"),
    [
        (np.zeros((2, 2)), np.zeros((2, 2), int), r"`pred` must hold integer instance ids"),
        (
            np.zeros((2, 2), int),
            np.array([[0, -1], [0, 0]]),
            r"`target` must hold instance ids >= 0",
        ),
        (np.zeros((2, 2), int), np.zeros((2, 3), int), r"must have the same shape"),
        (np.zeros(4, int), np.zeros(4, int), r"`pred` must have 2, 3 or 4 axes"),
    ],
)
def test_bad_input(pred, target, message):
    with pytest.raises(InputError, match=message):
        overlap_table(pred, target)


def test_options_conflict():
    z = np.zeros((2, 2), int)
    with pytest.raises(InputError, match=r"`spatial_dims` must not be given with `options`"):
        overlap_table(z, z, options=CountingOptions(), spatial_dims=3)
    with pytest.raises(InputError, match=r"`ignore_index` must be an integer >= 0"):
        overlap_table(z, z, ignore_index=-1)


@pytest.mark.parametrize(
    "dtype", [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64]
)
@pytest.mark.parametrize("ignore", [None, 3])
def test_compiled_pair_counter_equals_numpy(dtype, ignore) -> None:  # type: ignore[no-untyped-def]
    from segscore.metrics._kernel import HAVE_COMPILED, KernelSettings

    if not HAVE_COMPILED:
        pytest.skip("the compiled kernel is not built")
    rng = np.random.default_rng(7)
    high = 2 if dtype is np.bool_ else min(int(np.iinfo(dtype).max), 90)
    for shape in ((37, 41), (3, 16, 16)):
        noise = rng.integers(0, high, shape).astype(dtype)  # short runs
        blocks = np.kron(rng.integers(0, high, (4, 4)), np.ones((10, 10), int)).astype(dtype)
        for pred, target in ((noise, noise[::-1].copy()), (blocks, np.roll(blocks, 3, axis=-1))):
            got = overlap_table(pred, target, ignore_index=ignore)
            want = overlap_table(
                pred, target, ignore_index=ignore, kernel=KernelSettings(compiled=False)
            )
            assert got == want


_LARGEST = [(d, int(np.iinfo(d).max)) for d in (np.int8, np.uint8, np.int16, np.uint16)]
_LARGEST += [(d, int(np.iinfo(d).max)) for d in (np.int32, np.uint32, np.int64, np.uint64)]
_LARGEST += [(np.uint64, 2**63 - 1), (np.uint64, 2**63)]


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("other", ["zeros", "int64", "uint64"])
@pytest.mark.parametrize(("dtype", "top"), _LARGEST)
def test_the_largest_ids_against_small_ones_equal_relabelled_ids(dtype, top, other, compiled):
    """One side holds the dtype's maximum (or 2**63 - 1 in uint64), the other small ids: the
    key's width max + 1 may be 2**63. Every path gives the table of the maps with small ids."""
    from segscore.metrics._kernel import KernelSettings
    from segscore.metrics.instance import score_tables

    big = np.array([[top, top, 0, 5, 5, 0, top, 0]], dtype=dtype)
    small = np.where(big == top, 9, big)  # the same map, the maximum relabelled to 9
    others = {
        "zeros": np.zeros(big.shape, np.int64),
        "int64": np.array([[0, 1, 1, 5, 5, 5, 0, 0]], np.int64),
        "uint64": np.array([[0, 1, 1, 5, 5, 5, 0, 0]], np.uint64),
    }
    kernel = KernelSettings(compiled=compiled)
    names = ["f1@0.5", "pq", "aji"]
    for pred, target, pred_small, target_small, ignore in (
        (others[other], big, others[other], small, None),
        (big, others[other], small, others[other], None),
        (others[other], big, others[other], small, top),  # ignore_index: the maximum id
    ):
        got = overlap_table(pred, target, ignore_index=ignore, kernel=kernel)[0]
        ignore_small = None if ignore is None else 9
        want = overlap_table(pred_small, target_small, ignore_index=ignore_small, kernel=kernel)[0]
        relabel = {9: top}
        areas_p, areas_t, pairs = _as_dicts(want)
        assert _as_dicts(got) == (
            {relabel.get(k, k): v for k, v in areas_p.items()},
            {relabel.get(k, k): v for k, v in areas_t.items()},
            {(relabel.get(a, a), relabel.get(b, b)): v for (a, b), v in pairs.items()},
        )
        assert got.n_pixels == want.n_pixels
        s, s_small = score_tables([got], names), score_tables([want], names)
        for name in names:
            np.testing.assert_array_equal(s[name].per_image, s_small[name].per_image)

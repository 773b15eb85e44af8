"""The batch paths of the object metrics equal the per-image paths, exactly.

- the tables of a batch from one threaded call of the compiled pair counter
  (``table._compiled_tables``) equal the numpy tables of each image;
- the counts of all tables at once (``bulk.bulk_counts``) equal ``match_sweep`` on each table
  (ties at IoU exactly 1/2, thresholds below 1/2, every matching rule and criterion), and
  StarDist's ``matching`` per image;
- the Kumar AJI of all tables at once equals the per-table one;
- the exactly rounded score sums equal :func:`math.fsum`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore import InputError
from segscore.metrics._kernel import HAVE_COMPILED, KernelSettings
from segscore.metrics.instance import instance_counts, overlap_table
from segscore.metrics.instance.aji import _image
from segscore.metrics.instance.bulk import _score_sums, bulk_counts, bulk_kumar
from segscore.metrics.instance.matching import check_matching, match_sweep

from ._instances import mixed_batch, tie_image
from ._peers import stardist_matching

NUMPY = KernelSettings(compiled=False)
THREADED = KernelSettings(threads=3, thread_min_bytes=0)
ONE_THREAD = KernelSettings(threads=1)
DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64]
THRESHOLDS = [Fraction(1, 10), Fraction(1, 3), Fraction(1, 2), Fraction(3, 5), Fraction(2, 3), 1]

needs_compiled = pytest.mark.skipif(not HAVE_COMPILED, reason="the compiled kernel is not built")


def _per_table(tables: Any, ts: Any, matching: str, criterion: str, comparison: str) -> Any:
    rows = [match_sweep(t, ts, matching, criterion, comparison) for t in tables]
    tp = np.array([[m.tp for m in row] for row in rows], dtype=np.int64).reshape(len(rows), -1)
    sums = np.array([[m.score_sum for m in row] for row in rows]).reshape(len(rows), -1)
    return tp, sums


def _check_counts(tables: Any, ts: Any, rules: Any = ("optimal", "greedy")) -> None:
    ts = [Fraction(t) for t in ts]
    for criterion in ("iou", "dice", "iop", "iot"):
        for comparison in (">=", ">"):
            for matching in rules:
                try:  # 'unique' only where it is defined
                    check_matching(matching, criterion, comparison, ts)
                except InputError:
                    continue
                got = bulk_counts(tables, ts, matching, criterion, comparison)
                want = _per_table(tables, ts, matching, criterion, comparison)
                np.testing.assert_array_equal(got[0], want[0])
                assert got[1].tolist() == want[1].tolist()  # bit for bit


def _check_kumar(tables: Any) -> None:
    want = np.array([_image(t, "kumar") for t in tables], dtype=np.int64).reshape(-1, 2)
    got = bulk_kumar(tables)
    np.testing.assert_array_equal(got[0], want[:, 0])
    np.testing.assert_array_equal(got[1], want[:, 1])


# -- tables -------------------------------------------------------------------------------------


@needs_compiled
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", [ONE_THREAD, THREADED], ids=["1 thread", "3 threads"])
@pytest.mark.parametrize("ignore", [None, 0, 3])
def test_batch_tables_equal_numpy(dtype: Any, kernel: KernelSettings, ignore: Any) -> None:
    rng = np.random.default_rng(11)
    high = 2 if dtype is np.bool_ else min(int(np.iinfo(dtype).max), 9)
    blocks = np.kron(rng.integers(0, high, (5, 3, 3)), np.ones((1, 9, 11), int))
    noise = rng.integers(0, high, (5, 27, 33))
    pred = np.where(rng.random(blocks.shape) < 0.1, noise, blocks).astype(dtype)
    target = np.roll(blocks, 4, axis=-1).astype(dtype)
    pred[1] = 0  # an empty prediction, then an empty image
    pred[3] = target[3] = 0
    for layout in ({}, {"spatial_dims": 3}):
        got = overlap_table(pred, target, ignore_index=ignore, kernel=kernel, **layout)
        want = overlap_table(pred, target, ignore_index=ignore, kernel=NUMPY, **layout)
        assert got == want


@needs_compiled
@pytest.mark.parametrize(
    ("pdtype", "tdtype"), [(np.uint8, np.int64), (np.int16, np.uint16), (np.uint32, np.int32)]
)
def test_batch_tables_of_mixed_dtypes(pdtype: Any, tdtype: Any) -> None:
    pred, target = mixed_batch(4)
    p = (pred % 120).astype(pdtype)
    t = (target % 97).astype(tdtype)
    assert overlap_table(p, t, kernel=THREADED) == overlap_table(p, t, kernel=NUMPY)


@needs_compiled
@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.int64, np.uint64])
def test_batch_tables_of_the_largest_ids(dtype: Any) -> None:
    top = int(np.iinfo(dtype).max)
    pred = np.array([[[top, top, 0, 5]], [[1, top - 1, top - 1, 0]]], dtype=dtype)
    target = np.array([[[top - 1, 0, top, top]], [[top, top, 2, 2]]], dtype=dtype)
    for ignore in (None, 0, 2):
        got = overlap_table(pred, target, ignore_index=ignore, kernel=THREADED)
        assert got == overlap_table(pred, target, ignore_index=ignore, kernel=NUMPY)
    assert got[0].pred_ids.tolist() == [5, top]


@needs_compiled
def test_batch_tables_of_one_image_and_of_many() -> None:
    pred, target = mixed_batch(5, n_random=12)
    one = overlap_table(pred[0], target[0])
    assert one == overlap_table(pred[0], target[0], kernel=NUMPY)
    assert overlap_table(pred, target) == overlap_table(pred, target, kernel=NUMPY)


@needs_compiled
def test_kernel_checks_its_arguments() -> None:
    from segscore.metrics import _kernel

    ck = _kernel._ck
    assert ck is not None
    p = np.zeros((2, 8), np.uint16)
    t = np.zeros((2, 8), np.uint16)
    p[0, :2], t[0, 0] = 1, 2
    out = np.empty((2, 4), np.int64)
    with pytest.raises(ValueError, match="`out` must hold 64 bytes"):
        ck.overlap_tables(p, t, 2, 8, 3, 3, 0, False, np.empty(3, np.int64), 1)
    with pytest.raises(ValueError, match="`pred` must hold 64 bytes"):
        ck.overlap_tables(p, t, 2, 16, 3, 3, 0, False, out, 1)
    with pytest.raises(ValueError, match="out of range"):
        ck.overlap_tables(p, t, 2, 8, 9, 3, 0, False, out, 1)
    with pytest.raises(ValueError, match="non-negative"):
        ck.overlap_tables(p, t, -2, 8, 3, 3, 0, False, out, 1)
    raw = ck.overlap_tables(p, t, 2, 8, 3, 3, 0, False, out, 64)  # threads: at most the images
    # image 0: pred [1] of 2 pixels, target [2] of 1, their pair of 1; image 1: nothing
    assert np.frombuffer(raw, np.int64).tolist() == [1, 2, 2, 1, 0, 0, 1]
    assert out.tolist() == [[1, 1, 1, 8], [0, 0, 0, 8]]
    ck.overlap_tables(p, t, 2, 8, 3, 3, 2, True, out, 1)  # target 2 ignored
    assert out.tolist() == [[1, 0, 0, 7], [0, 0, 0, 8]]


# -- counts and AJI -------------------------------------------------------------------------------


def test_bulk_counts_equal_per_table_matching_with_ties() -> None:
    pred, target = mixed_batch(3, n_random=5)
    tables = overlap_table(pred, target)
    _check_counts(tables, THRESHOLDS)
    _check_counts(tables, [Fraction(1, 2), Fraction(3, 4)], rules=("optimal", "greedy", "unique"))
    # the tie image conflicts at 1/2 with '>=' only: matched alone, as match() does
    tie = overlap_table(*tie_image())
    got = bulk_counts(tie * 3, [Fraction(1, 2)], "optimal", "iou", ">=")
    assert got[0].ravel().tolist() == [4, 4, 4]  # one of the two halves, then 3 exact pairs
    _check_kumar(tables)


def test_bulk_counts_of_no_table_and_of_empty_tables() -> None:
    assert bulk_counts((), [Fraction(1, 2)], "optimal", "iou", ">=")[0].shape == (0, 1)
    assert bulk_kumar(())[0].shape == (0,)
    zero = np.zeros((3, 6, 6), np.uint8)
    tables = overlap_table(zero, zero)
    tp, sums = bulk_counts(tables, THRESHOLDS, "optimal", "iou", ">=")
    assert not tp.any()
    assert not sums.any()
    _check_kumar(tables)


def test_score_sums_are_fsum() -> None:
    rng = np.random.default_rng(3)
    scores = np.concatenate([rng.random(500) * (1 - 2.0**-10) + 2.0**-10, [1.0, 2.0**-10]])
    # neighbours of 1 and of 2**-10 whose sums need more than 53 bits
    scores = np.concatenate([scores, np.nextafter([1.0, 0.5, 2.0**-10], 2.0), [2.0**-10] * 3])
    cut = np.sort(rng.integers(0, scores.size, 20))
    offsets = np.concatenate([[0], cut, [scores.size]])
    found = _score_sums(scores, offsets, np.diff(offsets))
    assert found is not None
    want = [math.fsum(s) for s in np.split(scores, cut)]
    assert found.tolist() == want
    assert _score_sums(np.array([2.0**-11]), np.array([0, 1]), np.array([1])) is None


@given(st.lists(st.floats(2.0**-10, 1.0), max_size=60), st.lists(st.integers(0, 60), max_size=6))
def test_score_sums_are_fsum_property(values: list[float], cuts: list[int]) -> None:
    scores = np.array(values, dtype=np.float64)
    cut = np.sort(np.minimum(np.array(cuts, dtype=np.int64), scores.size))
    offsets = np.concatenate([[0], cut, [scores.size]]).astype(np.int64)
    found = _score_sums(scores, offsets, np.diff(offsets))
    assert found is not None
    assert found.tolist() == [math.fsum(s) for s in np.split(scores, cut)]


def test_instance_counts_agree_with_stardist() -> None:
    m = stardist_matching()
    pred, target = mixed_batch(8, n_random=6)
    ts = [0.1, 0.3, 0.5, 0.55, 0.7, 0.9, 1.0]
    counts = instance_counts(overlap_table(pred, target), thresholds=ts)
    for i, (p, t) in enumerate(zip(pred, target, strict=True)):
        for j, r in enumerate(m.matching(t, p, thresh=ts)):
            assert (counts.tp[i, j], counts.fp[i, j], counts.fn[i, j]) == (r.tp, r.fp, r.fn)


# -- Hypothesis ---------------------------------------------------------------------------------


@st.composite
def instance_batches(draw: Any) -> tuple[np.ndarray, np.ndarray, int | None, dict[str, int]]:
    """Small batches with few ids (so pairs tie often), 2-D or 3-D, any id dtype."""
    spatial = draw(st.sampled_from([2, 3]))
    shape = (draw(st.integers(1, 4)), *draw(st.tuples(*[st.integers(1, 7)] * spatial)))
    dtype = draw(st.sampled_from([*DTYPES[1:], np.uint64]))
    top = min(int(np.iinfo(dtype).max), 5)
    ids = st.integers(0, top)
    pred = draw(arrays(np.int64, shape, elements=ids))
    target = draw(arrays(np.int64, shape, elements=ids))
    if draw(st.booleans()):  # blocks: longer runs, more ties at exact ratios
        pred = np.repeat(pred, 2, axis=-1)
        target = np.repeat(target, 2, axis=-1)
    ignore = draw(st.sampled_from([None, 0, top]))
    pred, target = pred.astype(dtype), target.astype(dtype)
    if draw(st.booleans()) and np.iinfo(dtype).max > 2**16:  # the largest ids of the dtype
        top_id = dtype(np.iinfo(dtype).max)
        pred = np.where(pred > 0, top_id - pred, 0).astype(dtype)
        target = np.where(target > 0, top_id - target, 0).astype(dtype)
        ignore = None
    layout = {"spatial_dims": 3} if spatial == 3 else {}
    return pred, target, ignore, layout


@given(instance_batches(), st.sampled_from([1, 2, 3]))
def test_batch_paths_equal_per_image_paths(case: Any, threads: int) -> None:
    pred, target, ignore, layout = case
    kernel = KernelSettings(threads=threads, thread_min_bytes=0)
    tables = overlap_table(pred, target, ignore_index=ignore, kernel=kernel, **layout)
    assert tables == overlap_table(pred, target, ignore_index=ignore, kernel=NUMPY, **layout)
    _check_counts(tables, THRESHOLDS)
    _check_kumar(tables)


def test_aji_alone_equals_aji_with_matched_metrics() -> None:
    from segscore import instance_scores

    pred, target = mixed_batch(6)
    for name in ("aji", "aji+", "aji_cellpose"):
        alone = instance_scores(pred, target, [name])[name]
        joint = instance_scores(pred, target, [name, "f1@0.5", "dsb@0.5:0.95"])[name]
        np.testing.assert_equal(alone.per_image, joint.per_image)
        np.testing.assert_equal(alone.value, joint.value)
        assert alone.empty_cases == joint.empty_cases
        assert alone.conventions == joint.conventions
    with pytest.raises(InputError, match="`matching='unique'` needs a threshold"):
        instance_scores(pred, target, ["aji"], matching="unique")

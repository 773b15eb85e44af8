"""The compiled counting kernel equals the numpy reference exactly, on every input."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import segscore
from segscore.metrics import _kernel
from segscore.metrics._kernel import DEFAULT_KERNEL, KernelSettings
from segscore.metrics._reference import binary_counts_reference, confusion_matrix_reference
from segscore.metrics.counts import count_arrays
from segscore.metrics.options import CountingOptions
from tests.io._png_spec import filter_line

needs_compiled = pytest.mark.skipif(
    not _kernel.HAVE_COMPILED, reason="the compiled kernel is not built"
)

LABEL_DTYPES = [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64]
COLS = [1, 7, 63, 64, 65, 130, 4099, 20000]


def _reference(p: Any, t: Any, c: int, ignore: int | None) -> Any:
    return confusion_matrix_reference(p, t, num_classes=c, ignore_index=ignore)


def _ignore_for(dtype: Any, c: int) -> int | None:
    info = np.iinfo(dtype)
    for candidate in (255, -1, c, int(info.max)):
        if info.min <= candidate <= info.max and not 0 <= candidate < c:
            return candidate
    return None


def _labels(
    rng: np.random.Generator,
    shape: tuple[int, int],
    c: int,
    dtype: Any,
    ignore: int | None,
    structured: bool,
) -> tuple[Any, Any]:
    """Random label maps; `structured` gives runs of equal labels (the fast paths of the kernel)."""
    rows, cols = shape
    if structured:
        run = rng.integers(1, 200)
        base = rng.integers(0, c, (rows, cols // run + 1)).repeat(run, axis=1)[:, :cols]
        t = base.copy()
        p = base.copy()
        flip = rng.random(shape) < 0.05
        p[flip] = rng.integers(0, c, int(flip.sum()))
    else:
        t = rng.integers(0, c, shape)
        p = rng.integers(0, c, shape)
    if ignore is not None:
        t[rng.random(shape) < 0.1] = ignore
        p[rng.random(shape) < 0.05] = ignore
        if structured:
            t[:, : cols // 3] = ignore
    return p.astype(dtype), t.astype(dtype)


@needs_compiled
@pytest.mark.parametrize(
    ("dtype", "c"),
    [(d, c) for d in LABEL_DTYPES for c in (1, 2, 3, 21, 255, 300) if c <= np.iinfo(d).max + 1],
)
@pytest.mark.parametrize("structured", [False, True])
def test_confusion_matrix_equals_reference(dtype: Any, c: int, structured: bool) -> None:
    rng = np.random.default_rng([c, LABEL_DTYPES.index(dtype), structured])
    for ignore in (None, _ignore_for(dtype, c)):
        for cols in COLS:
            rows = int(rng.integers(1, 4))
            p, t = _labels(rng, (rows, cols), c, dtype, ignore, structured)
            got = _kernel.confusion_matrix(p, t, c, ignore)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, _reference(p, t, c, ignore))


@needs_compiled
@pytest.mark.parametrize(
    ("pdtype", "tdtype"),
    [(np.uint8, np.int64), (np.int32, np.uint8), (np.bool_, np.int16), (np.int8, np.uint8)],
)
def test_mixed_dtypes(pdtype: Any, tdtype: Any) -> None:
    rng = np.random.default_rng(0)
    c = 2 if np.dtype(pdtype) == np.bool_ else 5
    t = rng.integers(0, c, (3, 5000)).astype(tdtype)
    p = rng.integers(0, c, (3, 5000)).astype(pdtype)
    ignore = 100
    t[:, ::9] = ignore
    np.testing.assert_array_equal(
        _kernel.confusion_matrix(p, t, c, ignore), _reference(p, t, c, ignore)
    )


@needs_compiled
@pytest.mark.parametrize("chunk", [1, 7, 64, 100, 1000])
def test_flush_every_chunk(chunk: int) -> None:
    """The uint32 histograms are flushed to int64 every `chunk` pixels: any chunk gives the same."""
    kernel = KernelSettings(chunk=chunk)
    rng = np.random.default_rng(chunk)
    for dtype in (np.uint8, np.int32):
        p, t = _labels(rng, (3, 20000), 4, dtype, 255, structured=True)
        np.testing.assert_array_equal(
            _kernel.confusion_matrix(p, t, 4, 255, kernel=kernel), _reference(p, t, 4, 255)
        )


@needs_compiled
def test_threads_split_rows() -> None:
    kernel = KernelSettings(threads=3, thread_min_bytes=0)
    rng = np.random.default_rng(1)
    for rows in (1, 2, 3, 7, 10):
        p, t = _labels(rng, (rows, 9000), 6, np.uint8, 255, structured=True)
        np.testing.assert_array_equal(
            _kernel.confusion_matrix(p, t, 6, 255, kernel=kernel), _reference(p, t, 6, 255)
        )
        pb, tb = p > 2, t > 2
        for got, want in zip(
            _kernel.binary_counts(pb, tb, kernel=kernel),
            binary_counts_reference(pb, tb),
            strict=True,
        ):
            np.testing.assert_array_equal(got, want)


@needs_compiled
def test_non_contiguous_inputs() -> None:
    rng = np.random.default_rng(2)
    big_p = rng.integers(0, 5, (300, 8)).astype(np.uint8)
    big_t = rng.integers(0, 5, (300, 8)).astype(np.uint8)
    for p, t in ((big_p.T, big_t.T), (big_p[::2, ::3], big_t[::2, ::3])):
        assert not p.flags.c_contiguous
        np.testing.assert_array_equal(
            _kernel.confusion_matrix(p, t, 5, None), _reference(p, t, 5, None)
        )
        pb, tb = p > 1, t > 1
        for got, want in zip(
            _kernel.binary_counts(pb, tb), binary_counts_reference(pb, tb), strict=True
        ):
            np.testing.assert_array_equal(got, want)


@needs_compiled
@pytest.mark.parametrize("cols", [*COLS, 64 * 255 * 2 + 3])
@pytest.mark.parametrize(
    ("pdtype", "tdtype", "high"),
    [
        (np.bool_, np.bool_, 1),
        (np.uint8, np.uint8, 255),
        (np.int8, np.bool_, 1),
        (np.int64, np.uint8, 1),
        (np.bool_, np.int32, 255),
    ],
)
def test_binary_counts_equal_reference(cols: int, pdtype: Any, tdtype: Any, high: int) -> None:
    rng = np.random.default_rng(cols)
    p = (rng.random((3, cols)) < 0.4).astype(pdtype) * np.array(high).astype(pdtype)
    t = (rng.random((3, cols)) < 0.6).astype(tdtype) * np.array(high).astype(tdtype)
    got = _kernel.binary_counts(p, t)
    for g, w in zip(got, binary_counts_reference(p, t), strict=True):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(g, w)


def test_reference_fallback_when_chosen() -> None:
    """With the compiled path not chosen, results still equal the reference (and compiled)."""
    slow = KernelSettings(compiled=False)
    assert not slow.uses_compiled
    rng = np.random.default_rng(3)
    p, t = _labels(rng, (4, 1000), 7, np.uint8, 255, structured=True)
    pb, tb = p > 3, t > 3
    fast_m = _kernel.confusion_matrix(p, t, 7, 255)
    fast_b = _kernel.binary_counts(pb, tb)
    fast_c = segscore.confusion(p, t, num_classes=7, ignore_index=255)
    np.testing.assert_array_equal(_kernel.confusion_matrix(p, t, 7, 255, kernel=slow), fast_m)
    for g, w in zip(_kernel.binary_counts(pb, tb, kernel=slow), fast_b, strict=True):
        np.testing.assert_array_equal(g, w)
    assert _kernel.binary_counts_checked(pb, tb, kernel=slow) is None
    assert _kernel.uint8_mask_values(p, kernel=slow) is None
    assert not _kernel.validates_labels(p, t, 7, 255, kernel=slow)
    options = CountingOptions.checked(num_classes=7, ignore_index=255)
    slow_c = count_arrays(p, t, options, kernel=slow)
    slow_b = count_arrays(pb.astype(np.uint8), tb.astype(np.uint8), CountingOptions(), kernel=slow)
    fast_b_c = segscore.confusion(pb.astype(np.uint8), tb.astype(np.uint8))
    for name in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(slow_c, name), getattr(fast_c, name))
        np.testing.assert_array_equal(getattr(slow_b, name), getattr(fast_b_c, name))
    with pytest.raises(segscore.InputError, match="`target` has labels"):
        count_arrays(p, np.full_like(t, 9), options, kernel=slow)
    with pytest.raises(segscore.InputError, match="`pred` must be a binary mask"):
        count_arrays(p, t, CountingOptions(), kernel=slow)


def test_kernel_settings_are_checked_and_frozen() -> None:
    assert KernelSettings() == DEFAULT_KERNEL
    assert DEFAULT_KERNEL.compiled is _kernel.HAVE_COMPILED
    assert 1 <= DEFAULT_KERNEL.threads <= 8
    assert DEFAULT_KERNEL.threads_for(DEFAULT_KERNEL.thread_min_bytes - 1) == 1
    assert DEFAULT_KERNEL.threads_for(DEFAULT_KERNEL.thread_min_bytes) == DEFAULT_KERNEL.threads
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_KERNEL.threads = 1  # type: ignore[misc]
    for bad, match in [
        ({"compiled": 1}, "`compiled` must be a bool, got 1."),
        ({"threads": 0}, "`threads` must be an integer >= 1, got 0."),
        ({"thread_min_bytes": -1}, "`thread_min_bytes` must be an integer >= 0, got -1."),
        ({"chunk": 2**32}, r"`chunk` must lie in \[1, 2\*\*32 - 1\], got 4294967296."),
        ({"chunk": 1.5}, "`chunk` must be an integer >= 1, got 1.5."),
    ]:
        with pytest.raises(segscore.InputError, match=match):
            KernelSettings(**bad)


@needs_compiled
@pytest.mark.parametrize(
    ("pred", "target", "ignore"),
    [
        ([[0, 1, 1]], [[0, 1, 9]], 255),  # invalid target label
        ([[0, 9, 1]], [[0, 1, 1]], 255),  # invalid prediction label
        ([[0, 9, 1]], [[0, 255, 1]], 255),  # invalid prediction under an ignored pixel
        ([[0, 255, 1]], [[0, 1, 1]], None),  # 255 without an ignore label
    ],
)
def test_invalid_labels_are_reported_by_the_counting_pass(pred, target, ignore) -> None:  # type: ignore[no-untyped-def]
    p = np.array(pred, dtype=np.uint8)
    t = np.array(target, dtype=np.uint8)
    assert _kernel.validates_labels(p, t, 2, ignore)
    assert _kernel.confusion_matrix(p, t, 2, ignore) is None
    assert _kernel.confusion_matrix(p.astype(np.int32), t.astype(np.int64), 2, ignore) is None


@needs_compiled
def test_valid_labels_with_ignore_prediction_count() -> None:
    p = np.array([[0, 255, 1]], dtype=np.uint8)
    t = np.array([[0, 1, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(_kernel.confusion_matrix(p, t, 2, 255), _reference(p, t, 2, 255))


@needs_compiled
def test_bad_buffers_are_rejected() -> None:
    from segscore.metrics import _ckernel

    p = np.zeros((2, 4), dtype=np.uint8)
    out = np.zeros((2, 3, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="`pred` must hold 16 bytes, got 8"):
        _ckernel.confusion_matrix(p, p, 4, 4, 1, 1, 3, 0, False, out, 1, 10)
    with pytest.raises(ValueError, match="`num_classes` must lie in"):
        _ckernel.confusion_matrix(p, p, 2, 4, 1, 1, 0, 0, False, out, 1, 10)
    with pytest.raises(ValueError, match="`chunk` must lie in"):
        _ckernel.confusion_matrix(p, p, 2, 4, 1, 1, 3, 0, False, out, 1, 0)
    with pytest.raises(ValueError, match="unknown label dtype"):
        _ckernel.confusion_matrix(p, p, 2, 4, 9, 1, 3, 0, False, out, 1, 10)
    with pytest.raises(ValueError, match="`out` must hold"):
        _ckernel.binary_counts(p, p, 2, 4, out, 1)
    with pytest.raises(ValueError, match="`rows` and `cols`"):
        _ckernel.binary_counts(p, p, -1, 4, out, 1)


@needs_compiled
@given(
    data=st.data(),
    dtype=st.sampled_from([np.uint8, np.int16, np.int64]),
    c=st.integers(1, 12),
    with_ignore=st.booleans(),
)
def test_property_equals_reference(data: Any, dtype: Any, c: int, with_ignore: bool) -> None:
    ignore = 200 if with_ignore else None
    values = list(range(c)) + ([200] if ignore is not None else [])
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=300))
    elements = st.sampled_from(values)
    t = data.draw(hnp.arrays(dtype, shape, elements=elements))
    p = data.draw(hnp.arrays(dtype, shape, elements=elements))
    np.testing.assert_array_equal(
        _kernel.confusion_matrix(p, t, c, ignore), _reference(p, t, c, ignore)
    )
    for g, w in zip(_kernel.binary_counts(p, t), binary_counts_reference(p, t), strict=True):
        np.testing.assert_array_equal(g, w)


@needs_compiled
@pytest.mark.parametrize("seed", range(20))
def test_mask_values_matches_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 100))
    pool = [np.array([0, 1]), np.array([0, 255]), np.array([0, 1, 255]), rng.integers(0, 256, 3)]
    values = pool[seed % 4]
    a = rng.choice(values, size).astype(np.uint8)
    want = 0 if a.max() <= 1 else (1 if set(np.unique(a)) <= {0, 255} else 2)
    assert _kernel.uint8_mask_values(a) == want


def _value_code(a: np.ndarray) -> int:
    values = set(np.unique(a).tolist())
    return 0 if values <= {0, 1} else (1 if values <= {0, 255} else 2)


@needs_compiled
@given(
    st.integers(1, 3),
    # lane widths: 16 bytes (the checked pass), 64 (the plain pass); 255 steps per lane block
    st.sampled_from([1, 7, 15, 16, 17, 64, 65, 16 * 255 + 1, 64 * 255 + 1, 64 * 255 * 2 + 3]),
    st.sampled_from([(0, 1), (0, 255), (0, 1, 255), (0, 2), (255,), (0,), (1, 254), (0, 128)]),
    st.sampled_from([(0, 1), (0, 255), (0, 1, 255), (0, 7)]),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_binary_counts_checked_equals_reference_and_numpy_values(  # type: ignore[no-untyped-def]
    rows, cols, pvalues, tvalues, seed, threads
) -> None:
    # One odd byte anywhere (a lane, the tail, the last row, another thread's rows) must be seen.
    rng = np.random.default_rng(seed)
    p = rng.choice(np.array(pvalues, np.uint8), (rows, cols))
    t = rng.choice(np.array(tvalues, np.uint8), (rows, cols))
    kernel = KernelSettings(threads=2 if threads else 1, thread_min_bytes=0)
    got = _kernel.binary_counts_checked(p, t, kernel=kernel)
    assert got is not None
    for g, w in zip(got[:3], binary_counts_reference(p, t), strict=True):
        np.testing.assert_array_equal(g, w)
    assert got[3:] == (_value_code(p), _value_code(t))


@needs_compiled
@pytest.mark.parametrize(
    ("where", "value"),
    [
        (0, 3),
        (15, 1),
        (16 * 255, 2),
        (16 * 255 + 1, 1),
        (64 * 255 * 2 + 2, 2),
        (64 * 100 + 5, 254),
    ],
)
def test_binary_counts_checked_finds_a_single_odd_byte(where: int, value: int) -> None:
    p = np.zeros((2, 64 * 255 * 2 + 3), np.uint8)
    p[:, ::3] = 255
    t = p.copy()
    t[1, where] = value
    assert _kernel.binary_counts_checked(p, t)[3:] == (1, 2)  # type: ignore[index]
    with pytest.raises(segscore.InputError, match="`target` must be a binary mask"):
        segscore.confusion(p, t)


def test_bool_views_with_other_bytes_count_as_before() -> None:
    # A bool array whose bytes are not 0/1 (np.frombuffer, tensor .view(bool)) is "nonzero is
    # foreground": the value check of the counting pass is for uint8 masks only.
    v = np.array([[0, 2, 1, 0]], np.uint8).view(bool)
    assert segscore.confusion(v, v).tp.tolist() == [[2]]


def test_the_first_bad_input_is_named_whatever_the_dtypes() -> None:
    bad_pred = np.array([[0, 1, 3]], np.uint8)
    with pytest.raises(segscore.InputError, match="`pred`"):
        segscore.confusion(bad_pred, np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(segscore.InputError, match="`pred`"):
        segscore.confusion(bad_pred, np.array([[0, 7, 1]], np.uint8))


@needs_compiled
@pytest.mark.parametrize(
    ("sources", "offsets"),
    [([0, 2**63 - 1], [0, 1]), ([-(2**63), 0], [-1, 0]), ([5], [2**63 - 1]), ([-1], [1])],
)
def test_nearest_offsets_bounds_check_cannot_overflow(
    sources: list[int], offsets: list[int]
) -> None:
    grid = np.zeros(10, np.uint8)
    with pytest.raises(ValueError, match="outside `grid`"):
        _kernel.nearest_offsets(grid, np.array(sources, np.int64), np.array(offsets, np.int64))


# ------------------------------------------------------------------------------------------------
# Issue #13: the histogram pass (uint16 keys, SSE2 on 1-byte labels, interleaved histograms,
# pixels split over threads) equals the reference whatever the masks look like.
# ------------------------------------------------------------------------------------------------


def _random_pair(
    rng: np.random.Generator, shape: tuple[int, int], c: int, dtype: Any, ignore: int | None
) -> tuple[Any, Any]:
    """Uniformly random labels, 20% of the predictions replaced, 5% of the target ignored."""
    t = rng.integers(0, c, shape)
    p = t.copy()
    wrong = rng.random(shape) < 0.2
    p[wrong] = rng.integers(0, c, int(wrong.sum()))
    if ignore is not None:
        t[rng.random(shape) < 0.05] = ignore
        p[rng.random(shape) < 0.01] = ignore  # the ignore label predicted: "no class"
    return p.astype(dtype), t.astype(dtype)


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def kernel(request: pytest.FixtureRequest) -> KernelSettings:
    """Run with 1, 2 and 3 threads whatever the input size (rows shared between threads)."""
    return KernelSettings(threads=request.param, thread_min_bytes=0)


@needs_compiled
@pytest.mark.parametrize(
    ("dtype", "c", "cols"),
    [
        (np.uint8, 21, 512 * 9 + 37),  # 8 histograms
        (np.uint8, 31, 4099),  # 4 histograms
        (np.uint8, 150, 46208 + 5),  # ADE20K-sized, long enough rows for the histograms
        (np.uint8, 150, 5000),  # short rows: counted straight into the matrix
        (np.uint8, 254, 131072 + 3),  # the largest key grid that fits uint16
        (np.uint8, 255, 70000),  # beyond it: straight into the matrix
        (np.int8, 21, 5001),
        (np.int8, 200, 70001),  # int8 labels cannot reach the classes past 127
        (np.int16, 21, 5003),
        (np.uint16, 150, 50001),
        (np.int32, 19, 5005),
        (np.int64, 21, 5007),
        (np.uint32, 300, 9000),
    ],
)
@pytest.mark.parametrize("with_ignore", [True, False])
def test_random_labels_equal_reference(
    kernel: KernelSettings, dtype: Any, c: int, cols: int, with_ignore: bool
) -> None:
    rng = np.random.default_rng([c, cols, kernel.threads])
    ignore = _ignore_for(dtype, c) if with_ignore else None
    high = min(c, int(np.iinfo(dtype).max) + 1)  # int8 labels reach classes up to 127 only
    p, t = _random_pair(rng, (3, cols), high, dtype, ignore)
    np.testing.assert_array_equal(
        _kernel.confusion_matrix(p, t, c, ignore, kernel=kernel), _reference(p, t, c, ignore)
    )


@needs_compiled
@pytest.mark.parametrize("cols", [2117, 4096, 4097, 6000, 20011])
@pytest.mark.parametrize("structured", [False, True])
def test_odd_row_lengths_and_shared_rows(
    kernel: KernelSettings, cols: int, structured: bool
) -> None:
    rng = np.random.default_rng([cols, kernel.threads, structured])
    for rows in (1, 2, 5):
        for dtype in (np.uint8, np.int32):
            p, t = _labels(rng, (rows, cols), 21, dtype, 255, structured)
            np.testing.assert_array_equal(
                _kernel.confusion_matrix(p, t, 21, 255, kernel=kernel), _reference(p, t, 21, 255)
            )


@needs_compiled
@pytest.mark.parametrize(
    ("chunk", "c"),  # a flush costs (C + 2)**2 bins: no chunk of 1 pixel with 150 classes
    [(1, 21), (63, 21), (64, 21), (65, 21), (1000, 21), (4099, 21), (63, 150), (4099, 150)],
)
def test_flush_every_chunk_random_labels(kernel: KernelSettings, chunk: int, c: int) -> None:
    kernel = dataclasses.replace(kernel, chunk=chunk)
    rng = np.random.default_rng([chunk, c, kernel.threads])
    cols = 50000 if c > 30 else 9000
    for dtype in (np.uint8, np.int16):
        p, t = _random_pair(rng, (2, cols), c, dtype, 255)
        p[:, 100:300] = 3  # a few uniform blocks too
        t[:, 100:300] = 3
        np.testing.assert_array_equal(
            _kernel.confusion_matrix(p, t, c, 255, kernel=kernel), _reference(p, t, c, 255)
        )


@needs_compiled
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.int64])
@pytest.mark.parametrize("where", ["target", "pred"])
@pytest.mark.parametrize("c", [5, 40])
def test_an_invalid_label_anywhere_is_reported(
    kernel: KernelSettings, dtype: Any, where: str, c: int
) -> None:
    """One invalid label, at any position of a 64-pixel block, in the tail of a row, in a block of
    equal pixels or in a row shared by two threads, is reported (the caller words the error)."""
    cols = 64 * 70 + 13  # long enough for the histograms, with a tail
    rng = np.random.default_rng([c, kernel.threads])
    base_p, base_t = _random_pair(rng, (3, cols), c, dtype, 100)
    base_p[:, 640:768] = 1  # two blocks of one (target, prediction) pair
    base_t[:, 640:768] = 1
    bad = [c, 101, -1 if np.dtype(dtype).kind == "i" else 99]
    positions = [(0, 0), (0, 1), (0, 63), (1, 64 + 17), (1, 700), (2, cols - 1), (2, cols - 13)]
    positions += [(1, cols // 2), (0, cols - 1), (1, 0)]  # near the thread boundaries
    for (row, col), value in zip(positions, bad * 4, strict=False):
        p, t = base_p.copy(), base_t.copy()
        (t if where == "target" else p)[row, col] = value
        assert _kernel.confusion_matrix(p, t, c, 100, kernel=kernel) is None, (row, col, value)
    assert _kernel.confusion_matrix(base_p, base_t, c, 100, kernel=kernel) is not None
    p, t = base_p.copy(), base_t.copy()
    (t if where == "target" else p)[1, 640:704] = c  # a whole block of one invalid label
    assert _kernel.confusion_matrix(p, t, c, 100, kernel=kernel) is None


@needs_compiled
def test_int8_labels_ignore_and_many_classes() -> None:
    """int8 labels: negative bytes are not classes, even when C exceeds 128; -1 may be ignored."""
    rng = np.random.default_rng(5)
    c = 200
    p, t = _random_pair(rng, (2, 70000), 128, np.int8, -1)
    np.testing.assert_array_equal(_kernel.confusion_matrix(p, t, c, -1), _reference(p, t, c, -1))
    t[1, 12345] = -2
    assert _kernel.confusion_matrix(p, t, c, -1) is None
    p8, t8 = _random_pair(rng, (2, 70000), 128, np.int8, -1)
    pu = p8.view(np.uint8)  # pred uint8 (255 = "-1" bytes are then invalid without ignore 255)
    pu[pu == 255] = 7
    np.testing.assert_array_equal(
        _kernel.confusion_matrix(pu, t8, c, -1), _reference(pu, t8, c, -1)
    )


@needs_compiled
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64])
def test_unaligned_and_non_contiguous_inputs(kernel: KernelSettings, dtype: Any) -> None:
    rng = np.random.default_rng(np.dtype(dtype).itemsize)
    rows, cols, c = 3, 5001, 21
    p, t = _random_pair(rng, (rows, cols), c, dtype, 255)
    size = rows * cols * p.itemsize
    unaligned = []
    for a in (p, t):
        raw = np.zeros(size + 1, np.uint8)
        view = raw[1:].view(dtype).reshape(rows, cols)
        view[...] = a
        unaligned.append(view)
    assert np.dtype(dtype).itemsize == 1 or not unaligned[0].flags.aligned
    want = _reference(p, t, c, 255)
    np.testing.assert_array_equal(_kernel.confusion_matrix(*unaligned, c, 255, kernel=kernel), want)
    strided = [np.repeat(a, 2, axis=1)[:, ::2] for a in (p, t)]
    assert not strided[0].flags.c_contiguous
    np.testing.assert_array_equal(_kernel.confusion_matrix(*strided, c, 255, kernel=kernel), want)
    tp = np.asfortranarray(p.T).T.copy(order="F")
    assert not tp.flags.c_contiguous
    np.testing.assert_array_equal(_kernel.confusion_matrix(tp, t, c, 255, kernel=kernel), want)


@needs_compiled
def test_more_threads_than_pixels() -> None:
    kernel = KernelSettings(threads=8, thread_min_bytes=0)
    for shape in ((1, 1), (1, 3), (2, 2), (3, 0)):
        p = np.ones(shape, np.uint8)
        t = np.zeros(shape, np.uint8)
        np.testing.assert_array_equal(
            _kernel.confusion_matrix(p, t, 2, 255, kernel=kernel), _reference(p, t, 2, 255)
        )


@needs_compiled
def test_misaligned_buffers_are_rejected_by_the_extension() -> None:
    from segscore.metrics import _ckernel

    raw = np.zeros(2 * 4 * 4 + 1, np.uint8)
    p = raw[1:].view(np.int32).reshape(2, 4)
    out = np.zeros((2, 3, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="must be aligned"):
        _ckernel.confusion_matrix(p, p, 2, 4, 4, 4, 3, 0, False, out, 1, 10)


@needs_compiled
@given(
    st.tuples(st.integers(1, 40), st.sampled_from([1, 15, 16, 17, 64, 255 * 16 + 1])),
    st.sampled_from([(0, 1), (0, 255), (0, 1, 255), (0, 7)]),
    st.sampled_from([(0, 1), (0, 255), (0, 128)]),
    st.integers(0, 2**32 - 1),
)
def test_binary_pair_into_equals_reference_and_numpy_values(  # type: ignore[no-untyped-def]
    shape, pvalues, tvalues, seed
) -> None:
    # The plain path's one-image entry: counts into a row of a larger block, codes as checked.
    rng = np.random.default_rng(seed)
    p = rng.choice(np.array(pvalues, np.uint8), shape)
    t = rng.choice(np.array(tvalues, np.uint8), shape)
    block = np.full((3, 3), -1, dtype=np.int64)
    codes = _kernel.binary_pair_into(p, t, block[1])
    assert codes == (_value_code(p), _value_code(t))
    want = binary_counts_reference(p.reshape(1, -1), t.reshape(1, -1))
    assert block[1].tolist() == [int(w[0]) for w in want]
    assert block[0].tolist() == block[2].tolist() == [-1, -1, -1]  # nothing else written


def _scanlines(image: np.ndarray, filters: np.ndarray) -> bytes:
    """The inflated scanlines of a PNG of ``image`` (the specification's filters, tests/io)."""
    prior = np.zeros(image.shape[1], dtype=np.uint8)
    lines = []
    for y, kind in enumerate(filters):
        lines.append(bytes([int(kind)]) + filter_line(int(kind), image[y], prior).tobytes())
        prior = image[y]
    return b"".join(lines)


@needs_compiled
@settings(deadline=None)
@given(
    st.tuples(st.integers(1, 20), st.sampled_from([1, 15, 16, 17, 512, 4095, 4096, 5000])),
    st.sampled_from([(0, 1), (0, 255), (0, 1, 255), (0, 7)]),
    st.sampled_from([(0, 1), (0, 255), (0, 128)]),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_png_pair_counts_equal_the_decoded_images_counts(  # type: ignore[no-untyped-def]
    shape, pvalues, tvalues, blobs, seed
) -> None:
    # The plain path's fused entry: two PNG masks unfiltered tile by tile (about 4 KiB of lines;
    # widths around and above that, heights across tiles) and counted as the images would be.
    rng = np.random.default_rng(seed)
    if blobs:  # flat runs: the Paeth filter's 16-byte blocks
        p = np.repeat(
            rng.choice(np.array(pvalues, np.uint8), (shape[0], -(-shape[1] // 16))), 16, 1
        )
        p = p[:, : shape[1]].copy()
    else:
        p = rng.choice(np.array(pvalues, np.uint8), shape)
    t = rng.choice(np.array(tvalues, np.uint8), shape)
    h, w = shape
    raw_p = _scanlines(p, rng.integers(0, 5, h))
    raw_t = bytearray(_scanlines(t, rng.integers(0, 5, h)))
    block = np.full((3, 3), -1, dtype=np.int64)
    codes = _kernel.png_binary_pair_into((raw_p, w, h), (raw_t, w, h), block[1])
    assert codes == (_value_code(p), _value_code(t))
    want = binary_counts_reference(p.reshape(1, -1), t.reshape(1, -1))
    assert block[1].tolist() == [int(x[0]) for x in want]
    assert block[0].tolist() == block[2].tolist() == [-1, -1, -1]
    # A filter type byte above 4 on any line of either mask: None (the decoder words it).
    bad = bytearray(raw_p)
    bad[int(rng.integers(0, h)) * (w + 1)] = int(rng.integers(5, 256))
    assert _kernel.png_binary_pair_into((bytes(bad), w, h), (raw_t, w, h), block[1]) is None
    assert _kernel.png_binary_pair_into((raw_t, w, h), (bytes(bad), w, h), block[1]) is None


@needs_compiled
def test_png_pair_counts_refuse_buffers_of_another_size() -> None:
    raw = bytes(2 * 4)  # 2 lines of 1 + 3 bytes
    out = np.zeros(3, dtype=np.int64)
    with pytest.raises(ValueError, match="`target` must hold 8 bytes"):
        _kernel.png_binary_pair_into((raw, 3, 2), (raw[:-1], 3, 2), out)
    with pytest.raises(ValueError, match="`out` must hold 24 bytes"):
        _kernel.png_binary_pair_into((raw, 3, 2), (raw, 3, 2), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="positive"):
        _kernel.png_binary_pair_into((b"", 0, 2), (b"", 0, 2), out)

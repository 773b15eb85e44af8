"""The kernel's per-class pass (tp, predicted, support without the C x C matrix) equals the
numpy reference exactly, on every input (issue #13)."""

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
from segscore.metrics._kernel import KernelSettings
from segscore.metrics._reference import confusion_matrix_reference

needs_compiled = pytest.mark.skipif(
    not _kernel.HAVE_COMPILED, reason="the compiled kernel is not built"
)


def _reference_class_counts(p: Any, t: Any, c: int, ignore: int | None) -> Any:
    """(rows, 3, C): the diagonal, the column sums over classes and the row sums of the matrix;
    past 300 classes (the matrices would not fit in memory), the same sums made per class."""
    if c > 300:
        return _per_class_reference(p, t, c, ignore)
    m = confusion_matrix_reference(p, t, num_classes=c, ignore_index=ignore)
    tp = np.diagonal(m[:, :, :c], axis1=1, axis2=2)
    predicted = m[:, :, :c].sum(axis=1)
    support = m.sum(axis=2)
    return np.stack([tp, predicted, support], axis=1)


def _per_class_reference(p: Any, t: Any, c: int, ignore: int | None) -> Any:
    """tp, predicted (over the pixels whose target is not ignored) and support per class."""
    p = np.asarray(p, np.int64)
    t = np.asarray(t, np.int64)
    rows = np.arange(p.shape[0])[:, None] * c + np.zeros_like(t)
    valid = np.ones(t.shape, bool) if ignore is None else t != ignore

    def count(labels: Any, where: Any) -> Any:
        return np.bincount((rows + labels)[where], minlength=p.shape[0] * c).reshape(-1, c)

    tp = count(t, valid & (p == t))
    predicted = count(p, valid & (p >= 0) & (p < c))
    support = count(t, valid)
    return np.stack([tp, predicted, support], axis=1)


def test_the_two_references_agree() -> None:
    rng = np.random.default_rng(1)
    t = rng.integers(0, 40, (3, 999))
    p = rng.integers(0, 40, (3, 999))
    t[:, ::5] = 255
    p[:, ::7] = 255
    for ignore in (255, None):
        tt = t if ignore is not None else np.minimum(t, 39)
        pp = p if ignore is not None else np.minimum(p, 39)
        np.testing.assert_array_equal(
            _per_class_reference(pp, tt, 40, ignore), _reference_class_counts(pp, tt, 40, ignore)
        )


def _check(p: Any, t: Any, c: int, ignore: int | None, kernel: KernelSettings) -> None:
    got = _kernel.class_counts(p, t, c, ignore, kernel=kernel)
    assert got is not None
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, _reference_class_counts(p, t, c, ignore))


def _smooth_pair(
    rng: np.random.Generator,
    shape: tuple[int, int],
    c: int,
    ignore: int | None,
    mean_run: int,
) -> tuple[Any, Any]:
    """Runs of random lengths (mean `mean_run`) of random labels: blocks of 64 pixels with few or
    many (target, prediction) changes, runs across block edges; the prediction has its own runs."""
    rows, cols = shape

    def runs() -> Any:
        lengths = rng.integers(1, 2 * mean_run + 1, rows * cols)
        values = rng.integers(0, c, lengths.size)
        return np.repeat(values, lengths)[: rows * cols].reshape(rows, cols)

    t, p = runs(), runs()
    same = rng.random(shape) < 0.5  # half the pixels: the prediction follows the target
    p[same] = t[same]
    if ignore is not None:
        t[runs() % 7 == 0] = ignore
        p[runs() % 11 == 0] = ignore  # the ignore label predicted: "no class"
    return p, t


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def kernel(request: pytest.FixtureRequest) -> KernelSettings:
    """Run with 1, 2 and 3 threads whatever the input size (rows shared between threads)."""
    return KernelSettings(threads=request.param, thread_min_bytes=0)


@needs_compiled
@pytest.mark.parametrize(
    ("dtype", "c", "cols"),
    [
        (np.uint8, 1, 5000),
        (np.uint8, 21, 512 * 9 + 37),  # one key per pixel, flushed into the margins
        (np.uint8, 30, 4099),  # the largest class count with one key per pixel
        (np.uint8, 31, 4099),  # two keys per pixel, SSE2 key maker
        (np.uint8, 150, 46208 + 5),  # ADE20K-sized
        (np.uint8, 150, 600),  # short rows: counted straight into the int64 row
        (np.uint8, 254, 131072 + 3),  # the largest class count of the byte key maker
        (np.uint8, 255, 70000),  # beyond it: the generic key maker
        (np.int8, 100, 5001),
        (np.int16, 150, 5003),
        (np.uint16, 2000, 40001),  # 4 histogram copies
        (np.int32, 19, 5005),
        (np.uint32, 20000, 3000),  # past 4 (C + 2) uint16 keys: straight into the int64 row
        (np.int64, 150, 5007),
    ],
)
@pytest.mark.parametrize("with_ignore", [True, False])
@pytest.mark.parametrize("mean_run", [1, 4, 40], ids=lambda r: f"run{r}")
def test_class_counts_equal_reference(
    kernel: KernelSettings, dtype: Any, c: int, cols: int, with_ignore: bool, mean_run: int
) -> None:
    rng = np.random.default_rng([c, cols, kernel.threads, mean_run])
    info = np.iinfo(dtype)
    ignore = None
    if with_ignore:
        candidates = (255, -1, c, int(info.max))
        ignore = next(v for v in candidates if info.min <= v <= info.max and not 0 <= v < c)
    high = min(c, int(info.max) + 1)  # int8 labels reach classes up to 127 only
    if ignore is not None and 0 <= ignore < high:
        high = ignore
    p, t = _smooth_pair(rng, (3, cols), high, ignore, mean_run)
    _check(p.astype(dtype), t.astype(dtype), c, ignore, kernel)


@needs_compiled
@pytest.mark.parametrize("changes", [0, 1, 11, 12, 13, 30, 63])
@pytest.mark.parametrize("c", [21, 150])
def test_blocks_with_any_number_of_changes(kernel: KernelSettings, changes: int, c: int) -> None:
    """Blocks with at most 12 changes are counted run by run, others pixel by pixel (and the next
    blocks after one of those without looking): every mix gives the reference."""
    rng = np.random.default_rng([changes, c, kernel.threads])
    rows, blocks = 2, 700
    t = np.empty((rows, blocks * 64 + 9), np.int64)
    p = np.empty_like(t)
    for a in (t, p):
        for r in range(rows):
            for b in range(blocks + 1):
                seg = a[r, 64 * b : 64 * (b + 1)]
                n_changes = changes if rng.random() < 0.7 else int(rng.integers(0, 64))
                cuts = np.sort(rng.choice(np.arange(1, 64), min(n_changes, 63), replace=False))
                values = rng.integers(0, c, cuts.size + 1)
                seg[:] = np.repeat(values, np.diff(np.r_[0, cuts, 64]))[: seg.size]
    t[:, ::97] = 255
    _check(p.astype(np.uint8), t.astype(np.uint8), c, 255, kernel)


@needs_compiled
@pytest.mark.parametrize("c", [3, 150])
def test_labels_near_255(kernel: KernelSettings, c: int) -> None:
    """Byte labels next to the classes, the ignore label and the top of the byte."""
    rng = np.random.default_rng([c, kernel.threads])
    for ignore in (254, 255, None):
        values = [v for v in (0, c - 1) if v != ignore]
        t = rng.choice(values, (2, 9000))
        p = rng.choice(values, (2, 9000))
        if ignore is not None:
            t[:, 100:3000] = ignore
            p[:, 2000:5000] = ignore
        _check(p.astype(np.uint8), t.astype(np.uint8), c, ignore, kernel)
    for bad in (c, 253, 254, 255):
        for ignore in (254, 255):
            for where in ("target", "pred"):
                p = np.zeros((1, 9000), np.uint8)
                t = np.zeros((1, 9000), np.uint8)
                (t if where == "target" else p)[0, 4321] = bad
                got = _kernel.class_counts(p, t, c, ignore, kernel=kernel)
                assert (got is None) == (bad != ignore), (bad, ignore, where)


@needs_compiled
@pytest.mark.parametrize("chunk", [1, 63, 64, 65, 1000, 4099])
@pytest.mark.parametrize("c", [21, 150])
def test_flush_every_chunk(kernel: KernelSettings, chunk: int, c: int) -> None:
    kernel = dataclasses.replace(kernel, chunk=chunk)
    rng = np.random.default_rng([chunk, c, kernel.threads])
    for dtype in (np.uint8, np.int16):
        p, t = _smooth_pair(rng, (2, 20000), c, 255, 8)
        p[:, 100:3000] = 3  # uniform blocks too
        t[:, 100:3000] = 3
        _check(p.astype(dtype), t.astype(dtype), c, 255, kernel)


@needs_compiled
@pytest.mark.parametrize("c", [2, 21, 150])
def test_counts_past_2_to_16_per_bin(c: int) -> None:
    """One (target, prediction) pair over 2**17 + 5 pixels: uniform blocks, one run per block."""
    n = 2**17 + 5
    p = np.full((1, n), c - 1, np.uint8)
    t = np.full((1, n), c - 1, np.uint8)
    want = np.zeros((1, 3, c), np.int64)
    want[0, :, c - 1] = n
    for threads in (1, 2):
        for chunk in (2**16 - 1, 2**32 - 1):
            kernel = KernelSettings(threads=threads, thread_min_bytes=0, chunk=chunk)
            np.testing.assert_array_equal(_kernel.class_counts(p, t, c, 255, kernel=kernel), want)


@needs_compiled
@pytest.mark.slow
def test_counts_past_2_to_32_per_bin() -> None:
    """More than 2**32 pixels of one pair in one thread: the uint32 histograms are flushed to
    int64 in time. The maps are untouched zero pages (no memory is used for them)."""
    n = 2**32 + 64 * 3 + 5
    p = np.zeros((1, n), np.uint8)
    t = np.zeros((1, n), np.uint8)
    got = _kernel.class_counts(p, t, 3, 255, kernel=KernelSettings(threads=1))
    assert got is not None
    np.testing.assert_array_equal(got[0, :, 0], [n, n, n])
    assert not got[0, :, 1:].any()


@needs_compiled
@pytest.mark.parametrize("dtype", [np.uint8, np.int32])
@pytest.mark.parametrize("where", ["target", "pred", "pred under an ignored target"])
@pytest.mark.parametrize("c", [5, 21, 40, 150])
def test_an_invalid_label_anywhere_is_reported(
    kernel: KernelSettings, dtype: Any, where: str, c: int
) -> None:
    cols = 64 * 800 + 13  # long enough for the histograms, with a tail
    rng = np.random.default_rng([c, kernel.threads])
    base_p, base_t = _smooth_pair(rng, (3, cols), c, 200, 6)
    base_p[:, 640:768] = 1  # two uniform blocks
    base_t[:, 640:768] = 1
    positions = [(0, 0), (0, 63), (1, 64 + 17), (1, 700), (2, cols - 1), (2, cols - 13)]
    positions += [(1, cols // 2), (0, cols - 1), (1, 0)]  # near the thread boundaries
    for row, col in positions:
        p, t = base_p.copy(), base_t.copy()
        if where == "target":
            t[row, col] = c
        else:
            p[row, col] = 201
            if where != "pred":
                t[row, col] = 200
        got = _kernel.class_counts(p.astype(dtype), t.astype(dtype), c, 200, kernel=kernel)
        assert got is None, (row, col)
    _check(base_p.astype(dtype), base_t.astype(dtype), c, 200, kernel)


@needs_compiled
@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    c=st.integers(1, 260),
    rows=st.integers(1, 3),
    cols=st.integers(1, 300),
    threads=st.integers(1, 3),
    with_ignore=st.booleans(),
)
def test_class_counts_property(
    data: st.DataObject, c: int, rows: int, cols: int, threads: int, with_ignore: bool
) -> None:
    """Any small label maps (1-byte or int32, repeated to reach the histogram paths)."""
    ignore = 1000 if with_ignore else None
    labels = st.integers(0, c - 1) | st.just(1000) if with_ignore else st.integers(0, c - 1)
    t = data.draw(hnp.arrays(np.int32, (rows, cols), elements=labels))
    p = data.draw(hnp.arrays(np.int32, (rows, cols), elements=st.integers(0, c - 1)))
    reps = data.draw(st.sampled_from([1, 64, 400]))
    p, t = np.tile(p, reps), np.tile(t, reps)
    kernel = KernelSettings(threads=threads, thread_min_bytes=0)
    _check(p, t, c, ignore, kernel)
    if c <= 254:  # the same maps as bytes, the ignore label as 255
        t8 = np.where(t == 1000, 255, t).astype(np.uint8)
        _check(p.astype(np.uint8), t8, c, 255 if with_ignore else None, kernel)


@needs_compiled
@pytest.mark.parametrize("c", [21, 150])
def test_confusion_counts_equal_the_matrix_counts(c: int) -> None:
    """segscore.confusion (per-class pass) equals counts made from the confusion matrix."""
    rng = np.random.default_rng(c)
    p, t = _smooth_pair(rng, (4, 128 * 128), c, 255, 5)
    p, t = p.reshape(4, 128, 128).astype(np.uint8), t.reshape(4, 128, 128).astype(np.uint8)
    counts = segscore.confusion(p, t, num_classes=c, ignore_index=255)
    m = segscore.confusion_matrix(p, t, num_classes=c, ignore_index=255)
    tp = np.diagonal(m, axis1=1, axis2=2)
    np.testing.assert_array_equal(counts.tp, tp)
    np.testing.assert_array_equal(counts.fp, m.sum(axis=1) - tp)
    valid = (t != 255).reshape(4, -1).sum(axis=1)
    total = counts.tp + counts.fp + counts.fn + counts.tn
    np.testing.assert_array_equal(total, np.broadcast_to(valid[:, None], total.shape))


def test_class_counts_needs_inputs_the_kernel_reads() -> None:
    p = np.zeros((2, 3), np.uint64)
    with pytest.raises(ValueError, match="compiled kernel reads"):
        _kernel.class_counts(p, p, 3, None)

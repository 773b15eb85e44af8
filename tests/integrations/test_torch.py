"""TensorEvaluator: exact device counts equal the numpy core; every bad input is named."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import segscore
from segscore._types import CpuCounting
from segscore.errors import InputError

torch = pytest.importorskip("torch")

from segscore.integrations.torch import TensorEvaluator  # noqa: E402


@pytest.fixture(params=["kernel", "torch"], ids=lambda c: f"cpu_counting={c}")
def cpu_counting(request: pytest.FixtureRequest) -> CpuCounting:
    """Run the accumulator tests both ways on CPU: CPU tensors counted by the compiled kernel (the
    default) and by torch operations, the device path that CUDA tensors take."""
    return request.param  # type: ignore[no-any-return]


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
FIELDS = ("tp", "fp", "fn", "tn")


def _same(a: segscore.Counts, b: segscore.Counts) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
        assert getattr(b, f).dtype == np.int64
    assert a.spec == b.spec


def _batches(kind: str, n_batches: int = 3, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for b in range(n_batches):
        n = 2 + b  # unequal batch sizes
        if kind == "binary":
            p = rng.random((n, 9, 11)).astype(np.float32)
            t = (rng.random((n, 9, 11)) > 0.6).astype(np.uint8)
        elif kind == "multiclass":
            p = rng.integers(0, 4, (n, 9, 11)).astype(np.int64)
            t = rng.integers(0, 4, (n, 9, 11)).astype(np.int64)
            t.reshape(-1)[:: 7 + b] = 255
        else:  # multilabel
            p = rng.random((n, 3, 9, 11)).astype(np.float32)
            t = (rng.random((n, 3, 9, 11)) > 0.5).astype(np.uint8)
        out.append((p, t))
    return out


OPTIONS = {
    "binary": {},
    "multiclass": {"num_classes": 4, "ignore_index": 255},
    "multilabel": {"multilabel": True},
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_device_counts_equal_numpy_core(cpu_counting: CpuCounting, device: str, kind: str) -> None:
    batches = _batches(kind)
    ev = TensorEvaluator(cpu_counting=cpu_counting, **OPTIONS[kind])
    ref = segscore.Evaluator(**OPTIONS[kind])
    for p, t in batches:
        batch = ev.update(torch.from_numpy(p).to(device), torch.from_numpy(t).to(device))
        assert batch.tp.device.type == device
        ref.update(p, t)
    rows = ev.rows
    assert rows.tp.device.type == device
    assert rows.tp.dtype == torch.int64
    assert ev.n_images == ref.n_images == sum(len(p) for p, _ in batches)
    _same(ref.counts, ev.counts)
    for aggregation in segscore.AGGREGATIONS:
        want = ref.compute("dice", aggregation=aggregation)
        got = ev.compute("dice", aggregation=aggregation)
        assert got.value == want.value or (np.isnan(got.value) and np.isnan(want.value))
        np.testing.assert_array_equal(got.cells, want.cells)


def test_merge_in_any_order_equals_one_pass(cpu_counting: CpuCounting) -> None:
    batches = _batches("multiclass", 4)
    parts = []
    for p, t in batches:
        ev = TensorEvaluator(cpu_counting=cpu_counting, **OPTIONS["multiclass"])
        ev.update(torch.from_numpy(p), torch.from_numpy(t))
        parts.append(ev)
    one = TensorEvaluator(cpu_counting=cpu_counting, **OPTIONS["multiclass"])
    for p, t in batches:
        one.update(torch.from_numpy(p), torch.from_numpy(t))
    merged = TensorEvaluator(cpu_counting=cpu_counting, **OPTIONS["multiclass"])
    for part in parts:
        merged.merge(part)
    _same(one.counts, merged.counts)
    other_way = TensorEvaluator(
        cpu_counting="torch" if cpu_counting == "kernel" else "kernel", **OPTIONS["multiclass"]
    )
    for part in parts:  # counts made either way merge: they are the same counts
        other_way.merge(part)
    _same(one.counts, other_way.counts)
    backwards = TensorEvaluator(cpu_counting=cpu_counting, **OPTIONS["multiclass"])
    for part in reversed(parts):
        backwards.merge(part)
    assert backwards.compute("iou").value == one.compute("iou").value
    doubled = (
        TensorEvaluator(cpu_counting=cpu_counting, **OPTIONS["multiclass"]).merge(one).merge(one)
    )
    assert doubled.n_images == 2 * one.n_images
    one.reset()
    assert one.n_images == 0
    assert one.device is None


def _pair(shape=(2, 4, 4), dtype=torch.uint8, device="cpu"):  # type: ignore[no-untyped-def]
    return torch.zeros(shape, dtype=dtype, device=device), torch.ones(
        shape, dtype=dtype, device=device
    )


def test_errors_name_the_problem(cpu_counting: CpuCounting) -> None:
    ev = TensorEvaluator(cpu_counting=cpu_counting)
    with pytest.raises(InputError, match=r"`pred` must be a torch tensor, got ndarray"):
        ev.update(np.zeros((1, 2, 2)), torch.zeros((1, 2, 2)))
    with pytest.raises(InputError, match=r"`pred` and `target` must be on the same device"):
        ev.update(torch.zeros((1, 2, 2)), torch.zeros((1, 2, 2), device="meta"))
    ev.update(*_pair())
    before = ev.counts
    with pytest.raises(
        InputError, match=r"every update must have the same device, got cpu and then meta"
    ):
        ev.update(*_pair(device="meta"))
    with pytest.raises(
        InputError,
        match=r"same dtypes \(pred, target\), got \(torch.uint8, torch.uint8\) and then "
        r"\(torch.float32, torch.float32\)",
    ):
        ev.update(*_pair(dtype=torch.float32))
    with pytest.raises(InputError, match=r"same image shape .*, got \(4, 4\) and then \(4, 5\)"):
        ev.update(*_pair(shape=(2, 4, 5)))
    with pytest.raises(InputError, match=r"values \{0, 1\} or \{0, 255\}"):
        ev.update(
            torch.full((1, 4, 4), 7, dtype=torch.uint8), torch.zeros((1, 4, 4), dtype=torch.uint8)
        )
    _same(before, ev.counts)  # rejected batches left no rows
    assert ev.n_images == 2


def test_varying_sizes_and_changing_classes(cpu_counting: CpuCounting) -> None:
    ev = TensorEvaluator(cpu_counting=cpu_counting, fixed_shape=False)
    ev.update(*_pair(shape=(1, 4, 4)))
    ev.update(*_pair(shape=(1, 3, 5)))
    assert ev.counts.total[:, 0].tolist() == [16, 15]
    ml = TensorEvaluator(cpu_counting=cpu_counting, multilabel=True, fixed_shape=False)
    ml.update(*_pair(shape=(1, 3, 4, 4)))
    with pytest.raises(
        InputError, match=r"every update must have the same number of classes, got 3 and then 2"
    ):
        ml.update(*_pair(shape=(1, 2, 4, 4)))
    fixed = TensorEvaluator(cpu_counting=cpu_counting, multilabel=True)
    fixed.update(*_pair(shape=(1, 3, 4, 4)))
    with pytest.raises(InputError, match=r"image shape .*\(3, 4, 4\) and then \(2, 4, 4\)"):
        fixed.update(*_pair(shape=(1, 2, 4, 4)))


def test_merge_and_option_errors(cpu_counting: CpuCounting) -> None:
    a = TensorEvaluator(cpu_counting=cpu_counting)
    a.update(*_pair())
    with pytest.raises(InputError, match=r"accumulators to merge must have the same conventions"):
        a.merge(TensorEvaluator(cpu_counting=cpu_counting, threshold=0.3))
    with pytest.raises(InputError, match=r"`other` must be a TensorEvaluator, got Evaluator"):
        a.merge(segscore.Evaluator())  # type: ignore[arg-type]
    b = TensorEvaluator(cpu_counting=cpu_counting)
    b.update(*_pair())
    b._guard.layout = dataclasses.replace(b._guard.layout, device=torch.device("meta"))
    with pytest.raises(InputError, match=r"same device, got cpu and meta"):
        a.merge(b)
    c = TensorEvaluator(cpu_counting=cpu_counting)
    c.update(*_pair(dtype=torch.float32))  # thresholded: another counting spec
    with pytest.raises(InputError, match=r"same counting spec"):
        a.merge(c)
    assert a.n_images == 2  # failed merges added nothing
    with pytest.raises(InputError, match=r"the accumulator is empty"):
        TensorEvaluator(cpu_counting=cpu_counting).compute()
    with pytest.raises(InputError, match=r"`threshold` must"):
        TensorEvaluator(cpu_counting=cpu_counting, threshold=1.5)
    with pytest.raises(InputError, match=r"`spatial_dims` must be 2 or 3, got 4"):
        TensorEvaluator(cpu_counting=cpu_counting, spatial_dims=4)
    with pytest.raises(InputError, match=r"`num_classes` must be None when `multilabel=True`"):
        TensorEvaluator(cpu_counting=cpu_counting, num_classes=3, multilabel=True)
    with pytest.raises(InputError, match=r"`cpu_counting` must be one of 'kernel', 'torch'"):
        TensorEvaluator(cpu_counting="numpy")  # type: ignore[arg-type]


def test_sync_counts_needs_a_process_group() -> None:
    from segscore.integrations.distributed import sync_counts

    with pytest.raises(InputError, match=r"initialised torch.distributed process group"):
        sync_counts(segscore.Counts.from_arrays(tp=[[1]], fp=[[0]], fn=[[0]], tn=[[1]]))

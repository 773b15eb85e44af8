"""Counting torch tensors equals counting numpy arrays, on CPU (and CUDA when present)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import segscore
from segscore.errors import InputError

torch = pytest.importorskip("torch")

from segscore.metrics._torch_counts import confusion_torch  # noqa: E402
from segscore.metrics.options import resolve_options  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
FIELDS = ("tp", "fp", "fn", "tn")


Count = Callable[..., segscore.Counts]


@pytest.fixture(params=["kernel", "torch"], ids=lambda c: f"cpu_counting={c}")
def count(request: pytest.FixtureRequest) -> Count:
    """Count tensors like ``segscore.confusion``, CPU tensors both ways: by the compiled kernel on
    zero-copy views (``segscore.confusion`` itself, its default) and by torch operations, the
    device path that CUDA tensors take, checked here on CPU."""
    if request.param == "kernel":
        return segscore.confusion

    def by_torch(pred: Any, target: Any, **kwargs: Any) -> segscore.Counts:
        options = resolve_options(None, **kwargs)
        return confusion_torch(pred, target, options, cpu_counting="torch")

    return by_torch


def _same(a: segscore.Counts, b: segscore.Counts) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
        assert getattr(b, f).dtype == np.int64
    assert a.spec == b.spec


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(16, 16), (3, 16, 16), (2, 5, 8, 8)])
def test_multiclass_with_ignore_matches_numpy(
    count: Count, device: str, shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(len(shape))
    p = rng.integers(0, 4, shape).astype(np.uint8)
    t = rng.integers(0, 4, shape).astype(np.uint8)
    t.reshape(-1)[::7] = 255
    p.reshape(-1)[::11] = 255
    want = segscore.confusion(p, t, num_classes=4, ignore_index=255)
    got = count(
        torch.from_numpy(p).to(device),
        torch.from_numpy(t).to(device),
        num_classes=4,
        ignore_index=255,
    )
    _same(want, got)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["bool", "uint8_255", "float32"])
def test_binary_matches_numpy(count: Count, device: str, dtype: str) -> None:
    rng = np.random.default_rng(7)
    prob = rng.random((4, 9, 13)).astype(np.float32)
    t = rng.random((4, 9, 13)) > 0.6
    if dtype == "bool":
        p: np.ndarray = prob >= 0.3
    elif dtype == "uint8_255":
        p = (prob >= 0.3).astype(np.uint8) * 255
    else:
        p = prob
    want = segscore.confusion(p, t, threshold=0.3)
    got = count(torch.from_numpy(p).to(device), torch.from_numpy(t).to(device), threshold=0.3)
    _same(want, got)


def test_multilabel_matches_numpy(count: Count) -> None:
    rng = np.random.default_rng(3)
    p = rng.random((2, 3, 6, 6))
    t = (rng.random((2, 3, 6, 6)) > 0.5).astype(np.int64)
    _same(
        segscore.confusion(p, t, multilabel=True),
        count(torch.from_numpy(p), torch.from_numpy(t), multilabel=True),
    )


@pytest.mark.parametrize(
    ("pred", "target", "kwargs", "match"),
    [
        (torch.zeros(4, 4), np.zeros((4, 4)), {}, "both be torch tensors"),
        (torch.zeros(4, 4), torch.zeros(4, 5), {}, "same shape"),
        (torch.full((4, 4), float("nan")), torch.zeros(4, 4), {}, "finite probabilities"),
        (torch.full((4, 4), 1.5), torch.zeros(4, 4), {}, r"probabilities in \[0, 1\]"),
        (torch.full((4, 4), 2), torch.zeros(4, 4, dtype=torch.long), {}, "binary mask"),
        (torch.zeros(4, 4), torch.full((4, 4), 0.5), {}, "binary mask"),
        (
            torch.full((4, 4), 5),
            torch.zeros(4, 4, dtype=torch.long),
            {"num_classes": 3},
            r"labels \[5\] outside",
        ),
        (torch.zeros(4, 4), torch.zeros(4, 4), {"num_classes": 3}, "integer label map"),
        (
            torch.zeros(4, 4, dtype=torch.long),
            torch.zeros(4, 4, dtype=torch.long),
            {"ignore_index": 255},
            "needs label maps",
        ),
    ],
)
def test_bad_tensors_raise_input_error(count: Count, pred, target, kwargs, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=match):
        count(pred, target, **kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_tensors_on_different_devices_raise(count: Count) -> None:
    with pytest.raises(InputError, match="same device"):
        count(torch.zeros(4, 4).cuda(), torch.zeros(4, 4))


def test_dtypes_numpy_lacks_take_the_device_path(count: Count) -> None:
    # bfloat16 has no numpy twin: counted by torch, equal to the float32 counts of the same values.
    rng = np.random.default_rng(5)
    prob = torch.from_numpy(rng.random((3, 8, 8)).astype(np.float32)).to(torch.bfloat16)
    t = torch.from_numpy(rng.random((3, 8, 8)) > 0.5)
    want = segscore.confusion(prob.float().numpy(), t.numpy())
    _same(want, count(prob, t))


def test_cpu_tensors_keep_their_gradients_untouched(count: Count) -> None:
    p = torch.rand(2, 6, 6, requires_grad=True)
    t = torch.rand(2, 6, 6) > 0.5
    got = count(p, t)
    _same(segscore.confusion(p.detach().numpy(), t.numpy()), got)
    assert p.requires_grad

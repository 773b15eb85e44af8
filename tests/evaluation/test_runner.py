"""The case runner: worker processes give the one-process results exactly, in case order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import segscore
from segscore.evaluation.plain import PackedBatch
from segscore.evaluation.runner import (
    CaseResult,
    EvaluateOptions,
    _pack,
    _unpack,
    evaluate,
)
from segscore.io.pairs import match_cases
from segscore.sample import sample_masks


def _folders(
    root: Path, n: int, bad: int | None = None
) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    pred, target, names = sample_masks(n, 32, seed=11)
    for folder, masks in (("pred", pred), ("gt", target)):
        (root / folder).mkdir()
        for name, mask in zip(names, masks, strict=True):
            Image.fromarray(mask.astype(np.uint8) * 255).save(root / folder / f"{name}.png")
    if bad is not None:
        (root / "pred" / f"{names[bad]}.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return root / "pred", root / "gt", pred, target


@pytest.mark.parametrize("jobs", [1, 2])
def test_workers_give_the_one_process_counts_in_case_order(tmp_path: Path, jobs: int) -> None:
    # 40 cases: batches of 16 cross the pool's window; results come back packed per batch.
    pred_dir, gt_dir, pred, target = _folders(tmp_path, 40)
    cases = match_cases(pred_dir, gt_dir).cases
    got = evaluate(cases, EvaluateOptions(), jobs=jobs)
    want = segscore.confusion(pred, target)
    assert got.names == [c.name for c in cases]
    for field in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(got.counts, field), getattr(want, field))
    assert got.counts.spec == want.spec
    one = evaluate(cases, EvaluateOptions(), jobs=1)
    assert got.input_hash == one.input_hash


def test_a_failed_case_travels_unpacked_and_keeps_its_place(tmp_path: Path) -> None:
    pred_dir, gt_dir, pred, target = _folders(tmp_path, 40, bad=20)
    cases = match_cases(pred_dir, gt_dir).cases
    got = evaluate(cases, EvaluateOptions(), jobs=2, keep_going=True)
    assert [name for name, _ in got.failures] == [cases[20].name]
    assert got.failures[0][1].startswith(
        f"file {str(pred_dir / 'sample-020.png')!r}: cannot be decoded"
    )
    keep = [i for i in range(40) if i != 20]
    np.testing.assert_array_equal(got.counts.tp, segscore.confusion(pred[keep], target[keep]).tp)


def test_pack_round_trip_and_fallbacks() -> None:
    rng = np.random.default_rng(0)
    p, t = rng.integers(0, 3, (2, 5, 6)), rng.integers(0, 3, (2, 5, 6))
    counts = [segscore.confusion(p[i], t[i], num_classes=3) for i in range(2)]
    results = [CaseResult(f"c{i}", c, f"d{i}", spacing=(1.0, 2.0)) for i, c in enumerate(counts)]
    packed = _pack(results)
    assert isinstance(packed, PackedBatch)
    assert packed.block.shape == (2, 4, 3)
    back = list(_unpack([packed]))
    for got, want in zip(back, results, strict=True):
        assert (got.name, got.digest, got.spacing) == (want.name, want.digest, want.spacing)
        assert got.counts is not None
        assert want.counts is not None
        for field in ("tp", "fp", "fn", "tn"):
            np.testing.assert_array_equal(getattr(got.counts, field), getattr(want.counts, field))
        assert got.counts.spec == want.counts.spec
    # Anything beyond plain counts of one shape travels as it is.
    failed = [*results, CaseResult("bad", None, "", error="boom")]
    assert _pack(failed) is failed
    swept = [CaseResult("s", counts[0], "d", sweep=np.zeros((3, 4), np.int64))]
    assert _pack(swept) is swept
    other = [results[0], CaseResult("b", segscore.confusion(p[0] > 0, t[0] > 0), "d")]
    assert _pack(other) is other


def test_no_more_workers_than_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Reviewed: --jobs 200 started 200 processes for 25 batches on 2 cores (--jobs 1000: 14.5 s
    # against 1.9 s with 2). A worker without a batch only costs its start.
    import concurrent.futures

    started: list[int] = []
    real = concurrent.futures.ProcessPoolExecutor

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers: int, **kwargs: object) -> None:
            started.append(max_workers)
            super().__init__(max_workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Counting)
    pred_dir, gt_dir, pred, target = _folders(tmp_path, 40)  # 3 batches of 16
    cases = match_cases(pred_dir, gt_dir).cases
    got = evaluate(cases, EvaluateOptions(), jobs=1000)
    assert started == [3]
    np.testing.assert_array_equal(got.counts.tp, segscore.confusion(pred, target).tp)

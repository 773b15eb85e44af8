"""The plain path (runs of 8-bit grayscale PNG masks) gives what the general path gives, case by case.

Reference: the general path itself (``score_case``: decode_array, count_arrays), switched on by
making ``is_plain`` answer False; its counts are checked against numpy and the peers elsewhere.
Here every kind of case the plain path must take, and every kind it must hand over, is scored
both ways: counts, spec, digests, failures and error messages must be the same.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pyspng
import pytest
from hypothesis import given, settings
from PIL import Image
from PIL.PngImagePlugin import PngInfo

import segscore.evaluation.journal as journal
import segscore.evaluation.plain as plain
import segscore.evaluation.runner as runner
import segscore.io.png as png
from segscore.errors import DatasetError
from segscore.evaluation.plain import PackedBatch, count_plain_run, is_plain
from segscore.evaluation.runner import CaseResult, EvaluateOptions, Evaluation, evaluate
from segscore.io.pairs import Case, match_cases


def _png(path: Path, array: np.ndarray) -> None:
    Image.fromarray(array).save(path)


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "is_plain", lambda options: False)


def _same(a: Evaluation, b: Evaluation) -> None:
    assert a.names == b.names
    assert a.failures == b.failures
    for field in ("tp", "fp", "fn", "tn"):
        got, want = getattr(a.counts, field), getattr(b.counts, field)
        assert got.dtype == want.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    assert a.counts.spec == b.counts.spec
    assert (a.input_hash, a.target_hash) == (b.input_hash, b.target_hash)
    assert a.sweep is None
    assert b.sweep is None


def _tRNS_png(path: Path, array: np.ndarray) -> None:
    """An 8-bit grayscale PNG with a tRNS chunk (pyspng then decodes it with alpha)."""
    Image.fromarray(array).save(path)
    data = path.read_bytes()
    body = b"\x00\x00"  # gray value 0 is transparent
    chunk = len(body).to_bytes(4, "big") + b"tRNS" + body
    chunk += zlib.crc32(b"tRNS" + body).to_bytes(4, "big")
    path.write_bytes(data[:33] + chunk + data[33:])  # right after IHDR


def _mixed_folder(root: Path) -> tuple[Path, Path, list[str]]:
    """Cases of every kind; returns the folders and the names of the cases that must fail."""
    rng = np.random.default_rng(3)
    pred, gt = root / "pred", root / "gt"
    pred.mkdir()
    gt.mkdir()

    def mask(shape: tuple[int, int], high: int = 255) -> np.ndarray:
        return (rng.random(shape) < 0.4).astype(np.uint8) * high

    for i in range(20):  # plain: {0, 255} and {0, 1}, mixed between the two files
        shape = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))
        _png(pred / f"a{i:02d}.png", mask(shape, 255 if i % 2 else 1))
        _png(gt / f"a{i:02d}.png", mask(shape, 255 if i % 3 else 1))
    _png(pred / "b_empty_masks.png", np.zeros((7, 5), np.uint8))
    _png(gt / "b_empty_masks.png", np.zeros((7, 5), np.uint8))
    _png(pred / "b_full.png", np.full((3, 4), 255, np.uint8))
    _png(gt / "b_full.png", np.full((3, 4), 1, np.uint8))
    _png(pred / "b_upper.PNG", mask((9, 9)))  # the suffix is matched whatever its case
    _png(gt / "b_upper.png", mask((9, 9)))
    text = PngInfo()
    text.add_text("Software", "a tool")  # plain, but left by libdeflate's decoder to pyspng
    Image.fromarray(mask((9, 7))).save(pred / "b_text.png", pnginfo=text)
    _png(gt / "b_text.png", mask((9, 7)))
    bad_value = mask((8, 8))
    bad_value[3, 3] = 7
    _png(pred / "c_value7.png", bad_value)
    _png(gt / "c_value7.png", mask((8, 8)))
    _png(pred / "c_gt_value128.png", mask((8, 8)))
    _png(gt / "c_gt_value128.png", np.full((8, 8), 128, np.uint8))
    _png(pred / "c_shape.png", mask((8, 9)))
    _png(gt / "c_shape.png", mask((9, 8)))
    (pred / "c_truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    _png(gt / "c_truncated.png", mask((8, 8)))
    (pred / "c_empty_file.png").write_bytes(b"")
    _png(gt / "c_empty_file.png", mask((8, 8)))
    _png(pred / "c_rgb.png", np.stack([mask((6, 6))] * 3, axis=-1))
    _png(gt / "c_rgb.png", mask((6, 6)))
    # handed over, and scored by the general path:
    Image.fromarray(mask((6, 6), 1).astype(np.uint16) * 1000).save(pred / "d_16bit.png")
    _png(gt / "d_16bit.png", mask((6, 6)))
    np.save(pred / "d_npy.npy", mask((5, 5), 1).astype(bool))
    _png(gt / "d_npy.png", mask((5, 5)))
    _tRNS_png(pred / "d_trns.png", mask((6, 6)))
    _png(gt / "d_trns.png", mask((6, 6)))
    _png(pred / "d_palette.png", mask((6, 6), 1))
    Image.fromarray(mask((6, 6), 1)).convert("P").save(gt / "d_palette.png")
    for i in range(20, 40):  # a plain run after the others
        _png(pred / f"e{i:02d}.png", mask((16, 16)))
        _png(gt / f"e{i:02d}.png", mask((16, 16)))
    failing = [
        "c_empty_file",
        "c_gt_value128",
        "c_rgb",
        "c_shape",
        "c_truncated",
        "c_value7",
        "d_16bit",
    ]
    return pred, gt, failing


@pytest.mark.parametrize("decoder", ["libdeflate", "pyspng"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_every_kind_of_case_scores_as_the_general_path_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, decoder: str
) -> None:
    pred, gt, failing = _mixed_folder(tmp_path)
    cases = match_cases(pred, gt).cases
    options = EvaluateOptions()
    assert is_plain(options)
    with monkeypatch.context() as patch:
        if decoder == "pyspng":  # the plain path without the deflate package
            patch.setattr(plain, "scanlines_gray8", lambda data: None)
            patch.setattr(png, "decode_gray8", lambda data: None)
        fast = evaluate(cases, options, jobs=jobs, keep_going=True)
    assert sorted(name for name, _ in fast.failures) == failing
    assert len(fast.names) == len(cases) - len(failing)
    with monkeypatch.context() as patch:
        _general(patch)
        general = evaluate(cases, options, jobs=jobs, keep_going=True)
    _same(fast, general)


@pytest.mark.parametrize("name", ["c_value7", "c_gt_value128", "c_shape", "c_truncated", "c_rgb"])
def test_a_failing_case_raises_the_general_paths_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    pred, gt, _ = _mixed_folder(tmp_path)
    cases = [c for c in match_cases(pred, gt).cases if c.name.startswith(("a", name))]
    with pytest.raises(DatasetError) as fast:
        evaluate(cases, EvaluateOptions(), jobs=1)
    _general(monkeypatch)
    with pytest.raises(DatasetError) as general:
        evaluate(cases, EvaluateOptions(), jobs=1)
    assert str(fast.value) == str(general.value)
    assert name in str(fast.value)


def test_cases_before_a_failure_are_delivered_before_it_raises(tmp_path: Path) -> None:
    # One process: a run of plain cases stops at the bad case; those before it reach the
    # journal (the progress callback) before the error, as with the general path.
    pred, gt, _ = _mixed_folder(tmp_path)
    cases = [c for c in match_cases(pred, gt).cases if c.name[0] in "abc"]
    seen: list[str] = []
    with pytest.raises(DatasetError, match="c_empty_file"):
        runner.assemble(
            runner.iter_results(cases, EvaluateOptions(), jobs=1),
            progress=lambda r: seen.append(r.name),
        )
    assert seen == [c.name for c in cases[: seen.index("b_upper") + 1]]
    assert seen[-1] == "b_upper"
    assert len(seen) == 24


def test_a_run_stops_before_the_first_case_that_is_not_plain(tmp_path: Path) -> None:
    pred, gt, _ = _mixed_folder(tmp_path)
    cases = match_cases(pred, gt).cases
    first_bad = next(i for i, c in enumerate(cases) if c.name.startswith("c"))
    packed = count_plain_run(cases, EvaluateOptions())
    assert packed is not None
    assert packed.names == [c.name for c in cases[:first_bad]]
    assert packed.block.shape == (first_bad, 4, 1)
    assert packed.block.dtype == np.int64
    assert count_plain_run(cases[first_bad:], EvaluateOptions()) is None
    # Stacked cases (an index into two arrays) are never plain.
    stacked = Case(cases[0].name, cases[0].pred, cases[0].target, index=0)
    assert count_plain_run([stacked], EvaluateOptions()) is None


def test_counts_of_a_plain_case_are_exact(tmp_path: Path) -> None:
    # Independent of both paths: numpy counts of the arrays written.
    rng = np.random.default_rng(5)
    p = rng.random((33, 47)) < 0.3
    t = rng.random((33, 47)) < 0.6
    _png(tmp_path / "p.png", p.astype(np.uint8) * 255)
    _png(tmp_path / "t.png", t.astype(np.uint8))
    packed = count_plain_run([Case("x", tmp_path / "p.png", tmp_path / "t.png")], EvaluateOptions())
    assert packed is not None
    want = [(p & t).sum(), (p & ~t).sum(), (~p & t).sum(), (~p & ~t).sum()]
    assert packed.block[0, :, 0].tolist() == [int(x) for x in want]


@pytest.mark.parametrize(
    "options",
    [
        EvaluateOptions(num_classes=2),
        EvaluateOptions(ignore_index=255, num_classes=3),
        EvaluateOptions(multilabel=True),
        EvaluateOptions(spatial_dims=3),
        EvaluateOptions(distance_metrics=("hd95",)),
        EvaluateOptions(instances="components"),
    ],
)
def test_options_beyond_binary_counts_take_the_general_path(options: EvaluateOptions) -> None:
    assert not is_plain(options)


def test_a_file_larger_than_max_pixels_is_refused_as_by_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pred, gt, _ = _mixed_folder(tmp_path)
    cases = [c for c in match_cases(pred, gt).cases if c.name.startswith("e")][:2]
    options = EvaluateOptions(max_pixels=100)  # the e* masks are 16 x 16
    with pytest.raises(DatasetError, match="max") as fast:
        evaluate(cases, options, jobs=1)
    _general(monkeypatch)
    with pytest.raises(DatasetError) as general:
        evaluate(cases, options, jobs=1)
    assert str(fast.value) == str(general.value)


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    highs=st.tuples(st.sampled_from([1, 255]), st.sampled_from([1, 255])),
    odd=st.one_of(st.none(), st.integers(2, 254)),
    seed=st.integers(0, 2**16),
)
def test_random_pairs_score_as_by_the_general_path(
    tmp_path_factory: pytest.TempPathFactory,
    height: int,
    width: int,
    highs: tuple[int, int],
    odd: int | None,
    seed: int,
) -> None:
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(seed)
    p = (rng.random((height, width)) < rng.random()).astype(np.uint8) * highs[0]
    t = (rng.random((height, width)) < rng.random()).astype(np.uint8) * highs[1]
    if odd is not None:  # one byte that is not a mask value, anywhere (lane boundaries too)
        p.flat[int(rng.integers(0, p.size))] = odd
    _png(root / "p.png", p)
    _png(root / "t.png", t)
    case = Case("x", root / "p.png", root / "t.png")
    packed = count_plain_run([case], EvaluateOptions())
    general = runner.score_case if odd is None else None
    if general is None:
        assert packed is None  # handed over: the general path words the error
        with pytest.raises(DatasetError):
            runner.score_case(case, EvaluateOptions())
        return
    assert packed is not None
    want: CaseResult = general(case, EvaluateOptions())
    assert want.counts is not None
    got = [packed.block[0, k] for k in range(4)]
    for field, values in zip(("tp", "fp", "fn", "tn"), got, strict=True):
        np.testing.assert_array_equal(values, getattr(want.counts, field)[0])
    assert packed.digests[0] == (want.digest, want.target_digest)
    assert packed.spec == want.counts.spec


def test_assemble_takes_packed_batches_as_their_cases(tmp_path: Path) -> None:
    # The same results, packed or one by one (failures between them), assemble to the same
    # Evaluation; progress sees every case in order either way.
    pred, gt, failing = _mixed_folder(tmp_path)
    cases = match_cases(pred, gt).cases
    options = EvaluateOptions()
    parts = list(runner.iter_parts(cases, options, keep_going=True))
    assert any(isinstance(p, PackedBatch) for p in parts)
    one_by_one = list(runner._unpack(parts))
    seen_parts: list[str] = []
    seen_cases: list[str] = []
    got = runner.assemble(iter(parts), progress=lambda r: seen_parts.append(r.name))
    want = runner.assemble(iter(one_by_one), progress=lambda r: seen_cases.append(r.name))
    _same(got, want)
    assert seen_parts == seen_cases == [c.name for c in cases]
    assert sorted(name for name, _ in got.failures) == failing


def test_a_packed_batch_is_journaled_as_the_entries_of_its_cases(tmp_path: Path) -> None:
    pred, gt, _ = _mixed_folder(tmp_path)
    cases = match_cases(pred, gt).cases
    by_name = {c.name: c for c in cases}
    packed = count_plain_run(cases, EvaluateOptions())
    assert packed is not None
    want = [journal._encode(r, by_name[r.name]) for r in runner._unpack([packed])]
    entry = journal._encode_packed(packed, by_name)
    assert list(entry) == ["packed"]  # one entry of columns (journal format 3)
    assert journal._unpack_entry(entry) == want
    # General results packed in a worker may carry a spacing: kept as _encode keeps it.
    results = [
        CaseResult(r.name, r.counts, r.digest, r.target_digest, spacing=(0.5, 2.0))
        for r in runner._unpack([packed])
    ]
    repacked = runner._pack(results)
    assert isinstance(repacked, PackedBatch)
    want = [journal._encode(r, by_name[r.name]) for r in results]
    assert journal._unpack_entry(journal._encode_packed(repacked, by_name)) == want
    assert want[0]["spacing"] == [0.5, 2.0]


@pytest.mark.parametrize(
    "options",
    [
        EvaluateOptions(threshold=1.5),
        EvaluateOptions(spatial_dims=2.0),  # type: ignore[arg-type]
        EvaluateOptions(multilabel=0),  # type: ignore[arg-type]
    ],
    ids=["threshold=1.5", "spatial_dims=2.0", "multilabel=0"],
)
def test_bad_options_are_refused_as_by_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: EvaluateOptions
) -> None:
    pred, gt, _ = _mixed_folder(tmp_path)
    cases = [c for c in match_cases(pred, gt).cases if c.name.startswith("a")][:3]
    assert count_plain_run(cases, options) is None
    with pytest.raises(DatasetError) as fast:
        evaluate(cases, options, jobs=1)
    _general(monkeypatch)
    with pytest.raises(DatasetError) as general:
        evaluate(cases, options, jobs=1)
    assert str(fast.value) == str(general.value)


def test_a_case_whose_ground_truth_is_not_plain_is_decoded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 8-bit predictions with 1-bit ground truth (a common layout): the plain path reads both
    # headers before decoding, so it decodes nothing and the general path decodes each file once.
    rng = np.random.default_rng(2)
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt").mkdir()
    for i in range(5):
        mask = rng.random((12, 10)) < 0.5
        _png(tmp_path / "pred" / f"c{i}.png", mask.astype(np.uint8) * 255)
        Image.fromarray(mask).save(tmp_path / "gt" / f"c{i}.png")  # mode "1"
    decoded: list[str] = []

    def counting(name: str, real: Any) -> Any:
        def wrapped(data: bytes) -> Any:
            decoded.append(name)
            return real(data)

        return wrapped

    monkeypatch.setattr(plain, "scanlines_gray8", counting("libdeflate", plain.scanlines_gray8))
    monkeypatch.setattr(plain, "decode_any_gray8", counting("any", plain.decode_any_gray8))
    monkeypatch.setattr(pyspng, "load", counting("pyspng", pyspng.load))
    cases = match_cases(tmp_path / "pred", tmp_path / "gt").cases
    got = evaluate(cases, EvaluateOptions(), jobs=1)
    assert decoded == []
    assert got.counts.tp.shape == (5, 1)


def test_spawned_workers_score_as_forked_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under spawn (macOS, Windows) or forkserver (Python 3.14's Linux default) the cases travel
    # with their batch; the results are the one-process results.
    import multiprocessing

    pred, gt, failing = _mixed_folder(tmp_path)
    cases = match_cases(pred, gt).cases
    one = evaluate(cases, EvaluateOptions(), jobs=1, keep_going=True)
    spawn = multiprocessing.get_context("spawn")
    monkeypatch.setattr(multiprocessing, "get_context", lambda: spawn)
    got = evaluate(cases, EvaluateOptions(), jobs=2, keep_going=True)
    _same(got, one)
    assert sorted(name for name, _ in got.failures) == failing


def test_progress_stops_where_a_packed_batch_disagrees_with_earlier_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A probability map, then PNG masks (another kind of counts): the error comes at the first
    # mask, and progress has seen exactly the cases up to it, as with the general path.
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt").mkdir()
    rng = np.random.default_rng(4)
    Image.fromarray(rng.random((8, 8)).astype(np.float32), mode="F").save(
        tmp_path / "pred" / "a.tif"
    )
    _png(tmp_path / "gt" / "a.png", (rng.random((8, 8)) < 0.5).astype(np.uint8))
    for i in range(4):
        _png(tmp_path / "pred" / f"b{i}.png", (rng.random((8, 8)) < 0.5).astype(np.uint8))
        _png(tmp_path / "gt" / f"b{i}.png", (rng.random((8, 8)) < 0.5).astype(np.uint8))
    cases = match_cases(tmp_path / "pred", tmp_path / "gt").cases
    seen: dict[str, list[str]] = {"plain": [], "general": []}
    for path in ("plain", "general"):
        if path == "general":
            _general(monkeypatch)
        with pytest.raises(DatasetError, match="one kind of file"):
            runner.assemble(
                runner.iter_parts(cases, EvaluateOptions(), jobs=1),
                progress=lambda r, path=path: seen[path].append(r.name),  # type: ignore[misc]
            )
    assert seen["plain"] == seen["general"] == ["a", "b0"]

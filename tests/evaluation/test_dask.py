"""`evaluate_dask` on a LocalCluster of two worker processes equals `evaluate`, bit for bit."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from segscore.errors import DatasetError, InputError
from segscore.evaluation.runner import EvaluateOptions, Evaluation, evaluate
from segscore.evaluation.settings import make_settings
from segscore.evaluation.summary import metric_scores, per_case_rows, summarize
from segscore.io.pairs import match_cases
from segscore.io.results import write_csv, write_json

distributed = pytest.importorskip("distributed")

from segscore.evaluation.dask import evaluate_dask  # noqa: E402


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as cluster:
        yield cluster.scheduler_address


def _folders(root: Path, n: int, *, bad: tuple[int, ...] = ()) -> tuple[Path, Path]:
    rng = np.random.default_rng(n)
    pred, gt = root / "pred", root / "gt"
    pred.mkdir(parents=True)
    gt.mkdir(parents=True)
    for i in range(n):
        prob = rng.random((12, 14)).astype(np.float32)
        target = (rng.random((12, 14)) > 0.55).astype(np.uint8)
        if i == 3:
            target[:] = 0  # an empty target: NaN cells and infinite distances
        np.save(pred / f"case{i:02d}.npy", prob if i not in bad else prob[:, :5])
        np.save(gt / f"case{i:02d}.npy", target)
    return pred, gt


def _assert_same(a: Evaluation, b: Evaluation) -> None:
    assert a.names == b.names
    assert a.input_hash == b.input_hash
    assert a.failures == b.failures
    for f in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(a.counts, f), getattr(b.counts, f))
        assert getattr(b.counts, f).dtype == np.int64
    assert a.counts.spec == b.counts.spec
    assert (a.sweep is None) == (b.sweep is None)
    if a.sweep is not None:
        np.testing.assert_array_equal(a.sweep, b.sweep)
    assert (a.distances or {}).keys() == (b.distances or {}).keys()
    for k, v in (a.distances or {}).items():
        np.testing.assert_array_equal(v, (b.distances or {})[k])
    assert a.distance_classes == b.distance_classes
    assert repr(a.distance_conventions) == repr(b.distance_conventions)
    assert (a.objects is None) == (b.objects is None)
    assert (a.objects or []) == (b.objects or [])


def _write(evaluation: Evaluation, out: Path) -> tuple[bytes, bytes]:
    settings = make_settings(metrics="iou,dice,hd95,nsd@1.0", bootstrap=50, seed=0)
    scores = metric_scores(evaluation, settings)
    rows, columns = per_case_rows(evaluation, scores, settings.options)
    record = summarize(evaluation, settings, scores, inputs={"pred": "p", "gt": "g"})
    out.mkdir()
    write_csv(out / "per_case.csv", rows, columns)
    write_json(out / "summary.json", record)
    return (out / "per_case.csv").read_bytes(), (out / "summary.json").read_bytes()


OPTIONS = EvaluateOptions(distance_metrics=("hd95", "nsd@1.0"))


def test_equals_evaluate_exactly_and_writes_the_same_files(scheduler: str, tmp_path: Path) -> None:
    pred, gt = _folders(tmp_path / "data", 23)
    cases = match_cases(pred, gt).cases
    want = evaluate(cases, OPTIONS, jobs=1)
    for partitions in (None, 5, 50):
        got = evaluate_dask(cases, OPTIONS, scheduler=scheduler, partitions=partitions)
        _assert_same(want, got)
    assert want.sweep is not None
    assert want.distances
    # No timing fields in these outputs: the files are identical byte for byte.
    assert _write(want, tmp_path / "a") == _write(got, tmp_path / "b")


def test_object_tables_equal_evaluate(scheduler: str, tmp_path: Path) -> None:
    """Object metrics on Dask: each case's exact overlap table comes back unchanged."""
    pred, gt = _folders(tmp_path / "data", 11)
    cases = match_cases(pred, gt).cases
    options = EvaluateOptions(instances="components", connectivity="full")
    want = evaluate(cases, options, jobs=1)
    got = evaluate_dask(cases, options, scheduler=scheduler, partitions=4)
    _assert_same(want, got)
    assert want.objects is not None
    assert sum(t.n_target for t in want.objects) > 11


def test_local_cluster_keep_going_records_failures_in_order(tmp_path: Path) -> None:
    pred, gt = _folders(tmp_path, 9, bad=(2, 6))
    cases = match_cases(pred, gt).cases
    want = evaluate(cases, OPTIONS, jobs=1, keep_going=True)
    seen: list[str] = []
    got = evaluate_dask(
        cases, OPTIONS, n_workers=2, keep_going=True, progress=lambda r: seen.append(r.name)
    )
    _assert_same(want, got)
    assert [name for name, _ in got.failures] == ["case02", "case06"]
    assert seen == [c.name for c in cases]


def test_first_bad_case_raises_like_evaluate(scheduler: str, tmp_path: Path) -> None:
    pred, gt = _folders(tmp_path, 9, bad=(5, 7))
    cases = match_cases(pred, gt).cases
    with pytest.raises(DatasetError) as want:
        evaluate(cases, OPTIONS, jobs=1)
    with pytest.raises(DatasetError) as got:
        evaluate_dask(cases, OPTIONS, scheduler=scheduler, partitions=9)
    assert str(got.value) == str(want.value)
    assert "case05" in str(got.value)


def test_one_stacked_case_takes_evaluates_stack_path(scheduler: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    np.save(tmp_path / "pred.npy", rng.integers(0, 3, (6, 10, 10)).astype(np.uint8))
    np.save(tmp_path / "gt.npy", rng.integers(0, 3, (6, 10, 10)).astype(np.uint8))
    cases = match_cases(tmp_path / "pred.npy", tmp_path / "gt.npy").cases
    options = EvaluateOptions(num_classes=3)
    want = evaluate(cases, options)
    got = evaluate_dask(cases, options, scheduler=scheduler)
    _assert_same(want, got)
    assert len(got.names) == 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    pred, gt = _folders(tmp_path, 2)
    cases = match_cases(pred, gt).cases
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(
        InputError,
        match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:\d+' within 1 s .*no case was scored",
    ):
        evaluate_dask(cases, OPTIONS, scheduler=address, connect_timeout=1)


def test_without_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InputError, match=r"pip install 'segscore\[dask\]'"):
        evaluate_dask([], EvaluateOptions())


def test_option_errors() -> None:
    with pytest.raises(InputError, match=r"`n_workers` must be None with `scheduler`"):
        evaluate_dask([], EvaluateOptions(), scheduler="tcp://127.0.0.1:1", n_workers=2)
    with pytest.raises(InputError, match=r"`n_workers` must be an integer >= 1, got 0"):
        evaluate_dask([], EvaluateOptions(), n_workers=0)
    with pytest.raises(InputError, match=r"`cases` must hold Case objects"):
        evaluate_dask(["a.png"], EvaluateOptions())  # type: ignore[list-item]
    with pytest.raises(DatasetError, match=r"no case could be scored"):
        evaluate_dask([], EvaluateOptions())

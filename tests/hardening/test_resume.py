"""Interrupted runs lose nothing: SIGKILL/SIGINT leave no partial output, ``--resume`` continues
from the journal without scoring finished cases again, and ends with the same outputs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import segscore.evaluation.plain as plain
import segscore.evaluation.runner as runner
from segscore.cli import main
from segscore.evaluation.journal import JOURNAL_NAME, _unpack_entry

from .conftest import evaluate_argv, png

OUTPUTS = ("per_case.csv", "summary.json", "report.html")


def _circles(root: Path, n: int, size: int = 48, prob: bool = False) -> None:
    """n cases of a disc and a shifted disc (float32 TIFF probabilities with ``prob``)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    (root / "pred").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
        r = int(rng.integers(3, size // 4))
        target = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        dy, dx = rng.integers(-3, 4, 2)
        d2 = (yy - cy - dy) ** 2 + (xx - cx - dx) ** 2
        png(root / "gt" / f"c{i:04d}.png", target.astype(np.uint8) * 255)
        if prob:
            p = np.clip(1.0 - d2 / (2.0 * r * r), 0, 1).astype(np.float32)
            Image.fromarray(p, mode="F").save(root / "pred" / f"c{i:04d}.tif")
        else:
            png(root / "pred" / f"c{i:04d}.png", (d2 < r * r).astype(np.uint8) * 255)


def _outputs(out: Path) -> tuple[bytes, dict, bytes]:  # type: ignore[type-arg]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["inputs"].pop("jobs")
    return (out / "per_case.csv").read_bytes(), summary, (out / "report.html").read_bytes()


def _journal_cases(out: Path) -> int:
    n = 0
    for line in (out / JOURNAL_NAME).read_bytes().split(b"\n")[1:]:
        with contextlib.suppress(ValueError):
            n += sum(len(_unpack_entry(e)) for e in json.loads(line)["cases"])
    return n


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, k: int) -> list[str]:
    """Make the k-th scored case raise KeyboardInterrupt (Ctrl-C); return the scored names.

    Every case then takes the general path, one case at a time (plain PNG masks too: their
    runs are interrupted in test_an_interrupted_plain_run_resumes_where_its_journal_ends).
    """
    scored: list[str] = []
    real = runner.score_case
    monkeypatch.setattr(runner, "is_plain", lambda options: False)

    def score_case(case, options):  # type: ignore[no-untyped-def]
        if len(scored) == k:
            raise KeyboardInterrupt
        scored.append(case.name)
        return real(case, options)

    monkeypatch.setattr(runner, "score_case", score_case)
    return scored


@pytest.mark.parametrize(
    ("prob", "extra"),
    [
        (False, ["--metrics", "iou,dice,hd95,assd,nsd@1.0"]),
        (True, ["--metrics", "iou,dice,recall", "--bootstrap", "50"]),
    ],
    ids=["masks+distances", "probabilities+sweep"],
)
def test_interrupt_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, prob: bool, extra: list[str]
) -> None:  # type: ignore[no-untyped-def]
    _circles(tmp_path, 40, prob=prob)
    argv = [a for a in evaluate_argv(tmp_path, *extra, "--jobs", "1") if a != "--no-report"]
    assert main([*argv[:6], str(tmp_path / "ref"), *argv[7:]]) == 0
    capsys.readouterr()

    scored = _interrupt_after(monkeypatch, 25)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line, which says how to continue
    assert err.startswith("error: interrupted; finished cases are kept in")
    assert "run the same command with --resume to continue" in err
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [JOURNAL_NAME]  # no output, no temporary
    assert _journal_cases(out) == 25

    monkeypatch.undo()
    scored = _interrupt_after(monkeypatch, 10**9)  # counts the cases scored on resume
    assert main([*argv, "--resume"]) == 0
    assert "resuming: 25 case(s) from the journal, 15 to score" in capsys.readouterr().err
    assert len(scored) == 15
    assert scored[0] == "c0025"
    assert _outputs(out) == _outputs(tmp_path / "ref")
    assert not (out / JOURNAL_NAME).exists()


def _interrupted_plain_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Score 40 PNG cases into ``ref``, then again into ``out`` stopped by a Ctrl-C; the argv.

    PNG masks with overlap metrics take the plain path in runs of 16 cases (one process): the
    Ctrl-C, while the 26th case (c0025) is read, keeps the first run's 16 cases in the journal.
    """
    _circles(tmp_path, 40)
    argv = [a for a in evaluate_argv(tmp_path, "--jobs", "1") if a != "--no-report"]
    assert main([*argv[:6], str(tmp_path / "ref"), *argv[7:]]) == 0
    real = plain._read_gray8
    calls: list[str] = []

    def read_gray8(path, max_pixels):  # type: ignore[no-untyped-def]
        if len(calls) == 2 * 25:
            raise KeyboardInterrupt
        calls.append(path.name)
        return real(path, max_pixels)

    with monkeypatch.context() as patch:
        patch.setattr(plain, "_read_gray8", read_gray8)
        assert main(argv) == 130
    return argv


def _journal_lines(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the one batch of an interrupted plain run's journal."""
    header, batch = (json.loads(line) for line in path.read_bytes().splitlines())
    return header, batch


def test_an_interrupted_plain_run_resumes_where_its_journal_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    argv = _interrupted_plain_run(tmp_path, monkeypatch)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [JOURNAL_NAME]
    assert _journal_cases(out) == 16
    capsys.readouterr()
    scored = _interrupt_after(monkeypatch, 10**9)  # counts the cases scored on resume
    assert main([*argv, "--resume"]) == 0
    assert "resuming: 16 case(s) from the journal, 24 to score" in capsys.readouterr().err
    assert scored[0] == "c0016"
    assert len(scored) == 24
    assert _outputs(out) == _outputs(tmp_path / "ref")


@pytest.mark.parametrize("fmt", [2, 3])
def test_a_journal_of_format_2_or_3_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, fmt: int
) -> None:  # type: ignore[no-untyped-def]
    # Format 3 writes a packed batch as one entry of columns; format 2 (the segscore before)
    # wrote an entry per case, which format 3 still reads.
    argv = _interrupted_plain_run(tmp_path, monkeypatch)
    path = tmp_path / "out" / JOURNAL_NAME
    header, batch = _journal_lines(path)
    assert header["format"] == 3
    assert [list(e) for e in batch["cases"]] == [["packed"]]
    if fmt == 2:
        header["format"] = 2
        batch["cases"] = [one for e in batch["cases"] for one in _unpack_entry(e)]
        path.write_text(json.dumps(header) + "\n" + json.dumps(batch) + "\n")
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    assert "resuming: 16 case(s) from the journal, 24 to score" in capsys.readouterr().err
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "ref")


@pytest.mark.parametrize(
    "damage", ["format 1", "a column cut short", "counts not a list", "columns not an object"]
)
def test_a_journal_of_another_format_or_a_malformed_packed_entry_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, damage: str
) -> None:  # type: ignore[no-untyped-def]
    argv = _interrupted_plain_run(tmp_path, monkeypatch)
    path = tmp_path / "out" / JOURNAL_NAME
    header, batch = _journal_lines(path)
    columns = batch["cases"][0]["packed"]
    if damage == "format 1":
        header["format"] = 1
    elif damage == "a column cut short":
        columns["digest"] = columns["digest"][:-1]
    elif damage == "counts not a list":
        columns["counts"] = 7
    else:
        batch["cases"][0]["packed"] = [1, 2]
    path.write_text(json.dumps(header) + "\n" + json.dumps(batch) + "\n")
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    want = "other options (format 1)" if damage == "format 1" else "a packed entry is malformed"
    assert want in err[0]
    assert str(path) in err[0]


def _spawn(argv: list[str], flush_cases: int) -> subprocess.Popen[bytes]:
    code = (
        "import sys, segscore.evaluation.journal as j; j.FLUSH_CASES = int(sys.argv[1]); "
        "from segscore.cli import main; sys.exit(main(sys.argv[2:]))"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", code, str(flush_cases), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _wait_for_lines(proc: subprocess.Popen[bytes], journal: Path, lines: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= lines:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be interrupted: {proc.communicate()}")
        time.sleep(0.002)
    proc.kill()
    pytest.fail("no journal lines within 60 s")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_process_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, capsys, sig: signal.Signals
) -> None:  # type: ignore[no-untyped-def]
    n = 300
    _circles(tmp_path, n, size=64)
    metrics = ["--metrics", "iou,dice,hd95", "--jobs", "1"]
    argv = [a for a in evaluate_argv(tmp_path, *metrics) if a != "--no-report"]
    assert main([*argv[:6], str(tmp_path / "ref"), *argv[7:]]) == 0
    out = tmp_path / "out"
    proc = _spawn(argv, flush_cases=8)
    _wait_for_lines(proc, out / JOURNAL_NAME, 3)  # header + two batches
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert err.decode().strip().endswith("with --resume to continue"), err
    else:
        assert proc.returncode == -signal.SIGKILL
        with (out / JOURNAL_NAME).open("ab") as handle:
            handle.write(b'{"cases":[{"name":"c0')  # a batch cut short by the kill
    assert not any((out / name).exists() for name in OUTPUTS)
    assert not list(out.glob(".*.tmp"))
    done = _journal_cases(out)
    assert 16 <= done < n
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    assert f"resuming: {done} case(s) from the journal, {n - done} to score" in (
        capsys.readouterr().err
    )
    assert _outputs(out) == _outputs(tmp_path / "ref")
    assert not (out / JOURNAL_NAME).exists()


@pytest.fixture
def interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:  # type: ignore[no-untyped-def]
    """tmp_path with 12 cases whose run was interrupted after 5 (journal in tmp_path/out)."""
    _circles(tmp_path, 12)
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 5)
        assert main(evaluate_argv(tmp_path, "--jobs", "1")) == 130
    capsys.readouterr()
    return tmp_path


def test_resume_with_other_options_is_an_error(interrupted: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(evaluate_argv(interrupted, "--resume", "--metrics", "iou,hd95")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --resume: the journal")
    assert "\n" not in err
    assert "distance_metrics: [] in the journal, ['hd95'] now" in err
    # Options that only change the summary (metrics, aggregation, bootstrap) may differ.
    assert main(evaluate_argv(interrupted, "--resume", "--metrics", "dice")) == 0
    assert "resuming: 5 case(s)" in capsys.readouterr().err


def test_resume_scores_changed_files_again(interrupted: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    png(interrupted / "gt" / "c0001.png", np.zeros((48, 48), np.uint8))
    (interrupted / "pred" / "c0002.png").unlink()
    (interrupted / "gt" / "c0002.png").unlink()
    assert main(evaluate_argv(interrupted, "--resume")) == 0
    assert "resuming: 3 case(s) from the journal, 8 to score (2 changed or gone)" in (
        capsys.readouterr().err
    )
    assert main(evaluate_argv(interrupted, out="fresh")) == 0
    a = _outputs_no_report(interrupted / "out")
    assert a == _outputs_no_report(interrupted / "fresh")


def _outputs_no_report(out: Path) -> tuple[bytes, dict]:  # type: ignore[type-arg]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["inputs"].pop("jobs")
    return (out / "per_case.csv").read_bytes(), summary


def test_a_corrupt_journal_line_is_an_error(interrupted: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    journal = interrupted / "out" / JOURNAL_NAME
    lines = journal.read_bytes().split(b"\n")
    journal.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]))
    assert main(evaluate_argv(interrupted, "--resume")) == 2
    assert "line 2 is corrupt" in capsys.readouterr().err


def test_a_run_without_resume_starts_over(interrupted: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(evaluate_argv(interrupted)) == 0
    assert "journal of an unfinished run" in capsys.readouterr().err
    assert not (interrupted / "out" / JOURNAL_NAME).exists()


def test_resume_without_a_journal_scores_everything(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _circles(tmp_path, 3)
    assert main(evaluate_argv(tmp_path, "--resume")) == 0
    assert "no journal" in capsys.readouterr().err


def test_a_second_run_into_the_same_folder_is_refused(interrupted: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import fcntl

    with (interrupted / "out" / JOURNAL_NAME).open("ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        assert main(evaluate_argv(interrupted, "--resume")) == 2
    assert "another segscore evaluate is writing" in capsys.readouterr().err


def test_temporaries_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    _circles(tmp_path, 3)
    (tmp_path / "out").mkdir()
    stale = tmp_path / "out" / ".per_case.csv.k1llx.tmp"
    stale.write_text("half")
    mine = tmp_path / "out" / ".notes.tmp"
    mine.write_text("a file evaluate does not own")
    assert main(evaluate_argv(tmp_path)) == 0
    assert not stale.exists()
    assert mine.exists()


def test_a_journal_cut_within_its_header_is_empty(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _circles(tmp_path, 3)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / JOURNAL_NAME).write_bytes(b'{"journal":"segscore-ev')
    assert main(evaluate_argv(tmp_path, "--resume")) == 0
    assert "resuming: 0 case(s) from the journal, 3 to score" in capsys.readouterr().err


def test_an_interrupt_before_the_first_batch_says_nothing_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: Ctrl-C before the first journal batch said "finished cases are kept in OUT",
    # a folder that did not exist.
    _circles(tmp_path, 40, prob=False)
    argv = evaluate_argv(tmp_path, "--jobs", "1")
    _interrupt_after(monkeypatch, 0)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err == "error: interrupted; no case was kept (stopped before the first batch)\n"
    assert not (tmp_path / "out").exists()

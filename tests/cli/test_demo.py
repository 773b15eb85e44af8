import csv
import json
import subprocess
import sys
import textwrap

import pytest

from segscore.cli import main
from segscore.cli.demo import DEMO_DEFAULTS


def _trace_shapes(size: int, stem: str = DEMO_DEFAULTS["stem"]) -> list[tuple[str, str]]:
    """The stages of the demo's prediction trace, in order, with the shapes they must have."""
    b, depth = DEMO_DEFAULTS["base_channels"], DEMO_DEFAULTS["depth"]
    stages = [("input", f"(1, {size}, {size}) float32"), ("padded", f"(1, {size}, {size})")]
    folded = stem == "space_to_depth"  # 2x2 pixels into 4 channels: every block at half the side
    if folded:
        stages.append(("folded", f"(4, {size // 2}, {size // 2}) float32"))
    for i in range(depth):
        side = size // 2 ** (i + folded)
        stages.append((f"encoder {i + 1}", f"({b * 2**i}, {side}, {side}) float32"))
    bottom = size // 2 ** (depth + folded)
    stages.append(("bottleneck", f"({b * 2**depth}, {bottom}, {bottom}) float32"))
    for i in reversed(range(depth)):
        side = size // 2 ** (i + folded)
        stages.append((f"decoder {i + 1}", f"({b * 2**i}, {side}, {side}) float32"))
    if folded:
        stages.append(("full resolution", f"(8, {size}, {size}) float32"))
    stages += [
        ("logits", f"(1, {size}, {size}) float32"),
        ("sigmoid", f"(1, {size}, {size}) float32"),
        ("threshold 0.5", f"({size}, {size}) uint8"),
    ]
    return stages


@pytest.mark.parametrize("stem", ["conv", "space_to_depth"])
def test_demo_small(tmp_path, capsys, stem):
    out = tmp_path / "demo"
    args = [
        "demo",
        "--out",
        str(out),
        "--epochs",
        "1",
        "--n-train",
        "8",
        "--n-test",
        "6",
        "--size",
        "32",
        "--threads",
        "1",
        "--stem",
        stem,
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    for heading in ("1 Input", "2 Preprocessing", "3 Model", "4 Thresholding", "5 Evaluation"):
        assert heading in text
    assert "parameters" in text
    multiple = 16 if stem == "space_to_depth" else 8  # 2**depth, once more for the folding
    assert f"pads to a multiple of {multiple} (reflect)" in text
    assert " -> " in text  # example values of the preprocessing and threshold stages
    assert "epoch | train loss" in text
    assert "overlap scores show what pixel accuracy hides" in text
    assert "segscore 0." in text
    # The prediction trace of one held-out image, layer by layer, as `segscore trace` prints it.
    trace = text.split("Prediction trace of synthetic_000 (held out)")[1].splitlines()[1:]
    expected = _trace_shapes(32, stem)
    for (name, shape), line in zip(expected, trace, strict=False):
        assert line.split()[: len(name.split())] == name.split(), (name, line)
        assert f"shape {shape}" in line, (name, line)
        assert " range [" in line
        assert " mean " in line
    sigmoid = next(line for line in trace if line.split()[0] == "sigmoid")
    low, high = (float(v) for v in sigmoid.split("range [")[1].split("]")[0].split(", "))
    assert 0 <= low <= high <= 1
    scores = trace[len(expected)]
    assert scores.split()[:2] == ["scores", "IoU"]
    assert "Dice" in scores
    for name in ("stages.png", "stages.csv", "trace.csv"):
        assert f"{out / name}" in text
    with (out / "stages.csv").open() as f:
        stage_rows = list(csv.DictReader(f))
    assert [r["stage"] for r in stage_rows] == [name for name, _ in expected]
    assert stage_rows[-1]["shape"] == "32x32"
    with (out / "per_case.csv").open() as f:  # the same outputs as `segscore evaluate`
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    assert list(rows[0])[:5] == ["case", "class", "iou", "dice", "accuracy"]
    assert all(int(r["tp"]) + int(r["fp"]) + int(r["fn"]) + int(r["tn"]) == 32 * 32 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema_version"] == 2
    assert summary["inputs"]["n_cases"] == 6
    assert set(summary["metrics"]["iou"]) >= {"mean", "median", "min", "max", "n_nan", "n_inf"}
    assert summary["demo"]["threshold"] == 0.5
    assert summary["demo"]["train"]["config"]["stem"] == stem
    assert summary["demo"]["train"]["config"]["micro_batches"] == 2
    assert summary["demo"]["train"]["config"]["soft_dice"] == "per_image"
    assert "any thread count" in summary["demo"]["reproducible"]
    seconds = summary["demo"]["seconds"]
    parts = ["start-up and data", "model", "training", "prediction", "evaluation", "trace"]
    assert list(seconds) == [*parts, "total before the outputs"]
    assert sum(seconds[p] for p in parts) == pytest.approx(
        seconds["total before the outputs"], abs=0.05
    )
    assert "batch 8 in 2 micro-batches" in text
    assert "soft Dice (per image)" in text
    assert all(f"{name} " in text.splitlines()[-1] for name in [*parts, "outputs"])
    assert summary["metrics"]["iou"]["aggregation"] == "images_then_classes"  # as evaluate
    assert (out / "report.html").is_file()
    assert len(list((out / "masks").glob("*.png"))) == 6
    for name in (
        "checkpoint.pt",
        "trace.json",
        "trace.csv",
        "config.json",
        "stages.png",
        "stages.csv",
    ):
        assert (out / name).is_file()


def test_demo_bad_option(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: `--epochs` must be an integer >= 1")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--micro-batches", "0", "error: `--micro-batches` must be an integer >= 1, got 0."),
        ("--threads", "0", "error: `--threads` must be an integer >= 1, got 0."),
    ],
)
def test_demo_bad_counts(tmp_path, capsys, option, value, message):
    assert main(["demo", "--out", str(tmp_path / "d"), option, value]) == 2
    err = capsys.readouterr().err
    assert err.strip() == message
    assert not (tmp_path / "d").exists()  # refused before anything is drawn or written


def test_drawing_in_a_forked_process_gives_the_same_arrays():
    """Before torch is imported the sets are drawn in a forked process: the same arrays."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from segscore.cli.demo import _Drawing
        from segscore.data import make_synthetic

        drawing = _Drawing([(5, 24, 3), (2, 32, 0)], threads=2)
        assert "torch" not in sys.modules and drawing.pool is not None  # a forked process
        sets = drawing.result()
        for got, (n, size, seed) in zip(sets, [(5, 24, 3), (2, 32, 0)]):
            want = make_synthetic(n, size, seed=seed)
            assert got.names == want.names and got.source == want.source
            assert all(np.array_equal(a, b) for a, b in zip(got.images, want.images))
            assert all(np.array_equal(a, b) for a, b in zip(got.masks, want.masks))
            assert all(a.dtype == b.dtype for a, b in zip(got.masks, want.masks))
        import multiprocessing
        print("ok", len(multiprocessing.active_children()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "0"]  # the worker process is gone after the handover


def test_drawing_closed_early_stops_the_process():
    """A demo that fails before it takes its images (say torch is missing) stops the drawing."""
    code = textwrap.dedent(
        """
        import multiprocessing, time
        from segscore.cli.demo import _Drawing

        drawing = _Drawing([(2000, 128, 1)], threads=2)  # many seconds of drawing
        assert drawing.pool is not None
        start = time.perf_counter()
        drawing.close()
        drawing.close()  # again: nothing happens
        while multiprocessing.active_children() and time.perf_counter() - start < 10:
            time.sleep(0.02)  # reaped soon after it is killed (it would draw for much longer)
        print("ok", len(multiprocessing.active_children()), time.perf_counter() - start < 10)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "0", "True"]


def test_demo_as_a_program(tmp_path):
    """``python -m segscore demo``: the forked drawing, then the program's quick exit."""
    out = tmp_path / "demo"
    args = ["--epochs", "1", "--n-train", "8", "--n-test", "4", "--size", "32", "--threads", "2"]
    done = subprocess.run(
        [sys.executable, "-m", "segscore", "demo", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith(f"wrote {out}/")
    rows = (out / "per_case.csv").read_text().splitlines()
    assert len(rows) == 5
    # The same scores, bit for bit, as the demo run here (images drawn in this process, torch
    # already loaded): the micro-batches make the result independent of the threads.
    here = [*args[:-1], "1"]  # --threads 1
    assert main(["demo", "--out", str(tmp_path / "here"), *here]) == 0
    assert (tmp_path / "here" / "per_case.csv").read_text().splitlines() == rows

"""`segscore score`: exit codes, output files and numbers on real files; one set of names with evaluate."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

import segscore
from segscore.cli import main
from segscore.sample import sample_masks


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_builtin_sample_prints_summary_and_writes_the_evaluate_outputs(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    assert main(["score", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "100 cases scored" in out
    assert "conventions: mode=binary" in out
    assert "aggregation=images_then_classes" in out  # the same default as evaluate
    assert "overlap scores show what pixel accuracy hides" in out
    rows = _rows(tmp_path / "per_case.csv")  # the same file name and layout as evaluate
    assert len(rows) == 100
    pred, target, names = sample_masks()
    counts = segscore.confusion(pred, target)
    assert [r["case"] for r in rows] == names
    assert [int(r["tp"]) for r in rows] == counts.tp[:, 0].tolist()
    assert {r["class"] for r in rows} == {"1"}  # the binary foreground, as everywhere
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["schema_version"] == 2
    iou = segscore.score(counts, "iou")
    assert summary["metrics"]["iou"]["value"] == pytest.approx(iou.value, rel=1e-15)
    assert summary["metrics"]["iou"]["n_nan"] == int(np.isnan(iou.per_image).sum()) > 0
    assert summary["metrics"]["iou"]["conventions"]["empty"]["zero_division"] == "NaN"
    assert (tmp_path / "report.html").is_file()


def test_same_flags_and_numbers_as_evaluate_including_boundary_metrics(tmp_path: Path) -> None:
    pred, target, _ = sample_masks(12, 32, seed=4)
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    flags = ["--metrics", "iou,dice,hd95", "--no-include-background", "--no-report"]
    a, b = tmp_path / "a", tmp_path / "b"
    files = ["--pred", str(tmp_path / "p.npy"), "--gt", str(tmp_path / "t.npy")]
    assert main(["score", *files, *flags, "--out", str(a)]) == 0
    assert main(["evaluate", *files, *flags, "--out", str(b)]) == 0
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    for metric in ("iou", "dice", "hd95"):
        assert sa["metrics"][metric] == sb["metrics"][metric]
    assert sa["conventions"]["boundary"] == sb["conventions"]["boundary"]  # one record for both
    assert _rows(a / "per_case.csv") == _rows(b / "per_case.csv")


def test_npy_label_maps_with_ignore(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    target = rng.integers(0, 3, (4, 8, 8)).astype(np.uint8)
    target[:, 0, :] = 255
    pred = rng.integers(0, 3, (4, 8, 8)).astype(np.uint8)
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    code = main(
        [
            "score",
            "--pred",
            str(tmp_path / "p.npy"),
            "--gt",
            str(tmp_path / "t.npy"),
            "--num-classes",
            "3",
            "--ignore-index",
            "255",
            "--aggregation",
            "pooled",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    want = segscore.score(
        segscore.confusion(pred, target, num_classes=3, ignore_index=255),
        "iou",
        aggregation="pooled",
    ).value
    assert math.isclose(summary["metrics"]["iou"]["value"], want, rel_tol=1e-15)
    assert summary["metrics"]["iou"]["conventions"]["counting"]["ignore_index"] == 255
    capsys.readouterr()


def test_old_positional_form_still_works_with_a_note(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred, target, _ = sample_masks(3, 16, seed=1)
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    assert main(["score", str(tmp_path / "p.npy"), str(tmp_path / "t.npy"), "--no-background"]) == 0
    captured = capsys.readouterr()
    assert "use `--pred PRED --gt GT`" in captured.err
    assert "background=n/a (binary masks: the foreground is scored)" in captured.out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["score", "--aggregation", "mean"], "`--aggregation` must be one of"),
        (["score", "--empty", "2"], "`--empty` must be one of"),
        (["score", "--threshold", "1.5"], "`--threshold` must be a number in (0, 1)"),
        (["score", "--metrics", "hd96x"], "`--metrics` must name metrics of the registry"),
        (["score", "--num-classes", "3", "--ignore-index", "1"], "`--ignore-index` must lie"),
        (["score", "--num-classes", "3", "--ignore-index", "0"], "use `--no-include-background`"),
        (["score", "--preset", "bogus"], "`--preset` must be one of 'monai'"),
        (["score", "--pred", "missing.npy", "--gt", "other.npy"], "missing.npy"),
        (["score", "--pred", "missing.npy"], "`--pred` and `--gt` must be given together"),
        (["score", "--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], needle: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert needle in err
    assert err.count("\n") == 1


def test_shape_mismatch_names_both_shapes(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    np.save(tmp_path / "p.npy", np.zeros((2, 8, 8), bool))
    np.save(tmp_path / "t.npy", np.zeros((2, 8, 9), bool))
    assert main(["score", "--pred", str(tmp_path / "p.npy"), "--gt", str(tmp_path / "t.npy")]) == 2
    assert "(2, 8, 8)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_version(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--version"]) == 0
    assert segscore.__version__ in capsys.readouterr().out


@pytest.mark.parametrize("enabled", [True, False])
def test_main_gives_the_collector_back_as_it_found_it(enabled: bool, capsys) -> None:  # type: ignore[no-untyped-def]
    # main pauses the cyclic collector while it imports and parses: a notebook or test process
    # that calls it must get its collector back as it was, also when parsing fails.
    import gc

    (gc.enable if enabled else gc.disable)()
    try:
        assert main(["--version"]) == 0
        assert gc.isenabled() is enabled
        assert main(["score", "--no-such-flag"]) == 2
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    capsys.readouterr()

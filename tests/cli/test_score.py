"""`segscore score`: exit codes, output files and numbers on real files."""

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


def test_builtin_sample_prints_summary_and_writes_tables(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["score", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "100 images" in out
    assert "conventions: mode=binary" in out
    assert "overlap scores show what pixel accuracy hides" in out
    with (tmp_path / "per_image.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 100
    pred, target, names = sample_masks()
    counts = segscore.confusion(pred, target)
    assert [r["case"] for r in rows] == names
    assert [int(r["tp"]) for r in rows] == counts.tp[:, 0].tolist()
    summary = json.loads((tmp_path / "summary.json").read_text())
    iou = segscore.score(counts, "iou")
    assert summary["metrics"]["iou"]["value"] == pytest.approx(iou.value, rel=1e-15)
    assert summary["metrics"]["iou"]["n_excluded"] == iou.n_excluded > 0
    assert summary["metrics"]["iou"]["conventions"]["empty"]["zero_division"] is None  # NaN


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
            str(tmp_path / "p.npy"),
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


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["score", "--aggregation", "mean"], "`aggregation` must be one of"),
        (["score", "--empty", "2"], "`--empty` must be one of"),
        (["score", "--threshold", "1.5"], "`threshold` must be a number in (0, 1)"),
        (["score", "--metrics", "hd95"], "`metric` must be one of"),
        (["score", "missing.npy", "other.npy"], "missing.npy"),
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
    assert main(["score", str(tmp_path / "p.npy"), str(tmp_path / "t.npy")]) == 2
    assert "(2, 8, 8) and (2, 8, 9)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_version(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--version"]) == 0
    assert segscore.__version__ in capsys.readouterr().out

import csv
import json

from segscore.cli import main


def test_demo_small(tmp_path, capsys):
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
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    for heading in ("1 Input", "2 Preprocessing", "3 Model", "4 Thresholding", "5 Evaluation"):
        assert heading in text
    assert "parameters" in text
    assert " -> " in text  # example values of the preprocessing and threshold stages
    assert "epoch | train loss" in text
    assert "overlap scores show what pixel accuracy hides" in text
    assert "segscore 0." in text
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
    assert summary["metrics"]["iou"]["aggregation"] == "images_then_classes"  # as evaluate
    assert (out / "report.html").is_file()
    assert len(list((out / "masks").glob("*.png"))) == 6
    for name in ("checkpoint.pt", "trace.json", "trace.csv", "config.json", "stages.png"):
        assert (out / name).is_file()


def test_demo_bad_option(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: `--epochs` must be an integer >= 1")

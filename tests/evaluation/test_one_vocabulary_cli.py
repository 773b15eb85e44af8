"""Issue #11: what users hit when the two metric dialects met, each through the command line."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import segscore
from segscore.cli import main
from segscore.sample import sample_masks


def _pngs(folder: Path, masks: np.ndarray, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for mask, name in zip(masks, names, strict=True):
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f"{name}.png")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray, list[str]]:
    pred, target, names = sample_masks(20, 32, seed=11)
    pred[3] = False  # a missed structure: HD95 infinite
    target[5] = False  # a pure false positive: HD95 infinite
    pred[7] = target[7] = False  # both empty: NaN
    _pngs(tmp_path / "p", pred, names)
    _pngs(tmp_path / "g", target, names)
    return tmp_path / "p", tmp_path / "g", pred, target, names


def _evaluate(folders, out: Path, *extra: str) -> dict:  # type: ignore[no-untyped-def]
    p, g = folders[0], folders[1]
    argv = ["evaluate", "--pred", str(p), "--gt", str(g), "--out", str(out), *extra]
    assert main([*argv, "--no-report"]) == 0
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("preset", ["nnunet", "metrics-reloaded"])
def test_background_excluding_presets_score_binary_masks(
    folders, tmp_path: Path, preset: str
) -> None:  # type: ignore[no-untyped-def]
    # Was: every case scored, then exit 2 "`include_background=False` needs counts with more than
    # one class", leaving only the journal. For binary masks the foreground is the class.
    summary = _evaluate(folders, tmp_path / "o", "--preset", preset)
    counts = segscore.confusion(folders[2], folders[3])
    want = segscore.score(counts, "iou", **segscore.get_preset(preset).overlap_kwargs("iou"))
    assert summary["metrics"]["iou"]["value"] == pytest.approx(want.value, rel=1e-15)
    assert summary["metrics"]["iou"]["per_class"].keys() == {"1"}
    assert not (tmp_path / "o" / ".segscore-journal.jsonl").exists()


def test_no_background_on_binary_masks_through_score(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["score", "--no-include-background"]) == 0
    assert "100 cases scored" in capsys.readouterr().out


def test_infinite_and_undefined_values_are_counted_apart_everywhere(
    folders, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "o"
    p, g = folders[0], folders[1]
    argv = ["evaluate", "--pred", str(p), "--gt", str(g), "--out", str(out)]
    assert main([*argv, "--metrics", "iou,hd95"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    pred, target = folders[2], folders[3]
    p_empty = ~pred.reshape(20, -1).any(axis=1)
    t_empty = ~target.reshape(20, -1).any(axis=1)
    both, one = int((p_empty & t_empty).sum()), int((p_empty ^ t_empty).sum())
    assert both >= 1
    assert one >= 2
    hd = summary["metrics"]["hd95"]
    assert (hd["n_valid"], hd["n_nan"], hd["n_inf"]) == (20 - both - one, both, one)
    assert hd["n_cases"] == 20
    assert hd["mean"] == "Infinity"
    assert hd["max"] == "Infinity"
    assert hd["std"] == "NaN"  # undefined with an infinite value, not the std of the finite ones
    assert isinstance(hd["median"], float)
    assert math.isfinite(hd["median"])
    iou = summary["metrics"]["iou"]
    assert (iou["n_valid"], iou["n_nan"], iou["n_inf"]) == (20 - both, both, 0)
    # the same counts in the table and in the report
    line = next(ln for ln in printed.splitlines() if ln.strip().startswith("hd95"))
    cells = [c for c in line.split() if c != "│"]
    assert cells[-3:] == [str(20 - both - one), str(both), str(one)]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"{both} undefined (NaN) left out · {one} infinite (not drawn)" in html
    text = (out / "summary.json").read_text(encoding="utf-8")
    assert "NaN" in text
    assert "Infinity" in text
    assert '"inf"' not in text  # one encoding of non-finite values
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in summary.json"))


def test_failed_cases_are_failed_never_values(folders, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    p, g = folders[0], folders[1]
    (p / "broken.png").write_bytes(b"not a png")
    (g / "broken.png").write_bytes((g / f"{folders[4][0]}.png").read_bytes())
    both = int((~folders[2].reshape(20, -1).any(1) & ~folders[3].reshape(20, -1).any(1)).sum())
    out = tmp_path / "o"
    argv = ["evaluate", "--pred", str(p), "--gt", str(g), "--out", str(out), "--keep-going"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["n_cases"] == 20
    assert summary["inputs"]["n_failed"] == 1
    assert summary["metrics"]["iou"]["n_cases"] == 20  # the failed case is not a NaN value
    assert summary["metrics"]["iou"]["n_nan"] == both  # the both-empty cases only
    rows = _rows(out / "per_case.csv")
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["case"] == "broken"
    assert failed[0]["iou"] == ""
    assert "broken.png" in failed[0]["error"]
    assert "20 cases scored, 1 failed" in captured.out
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "1 failed (not scored)" in html
    assert f"{both} undefined (NaN) left out" in html  # the both-empty cases only


def test_binary_masks_use_class_id_1_in_every_field(folders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    summary = _evaluate(folders, tmp_path / "o", "--metrics", "iou,hd95")
    assert summary["metrics"]["iou"]["per_class"].keys() == {"1"}
    assert summary["metrics"]["hd95"]["per_class"].keys() == {"1"}
    assert summary["metrics"]["iou"]["conventions"]["classes"] == [1]
    assert summary["metrics"]["hd95"]["conventions"]["classes"] == [1]
    assert {r["class"] for r in _rows(tmp_path / "o" / "per_case.csv")} == {"1"}


def test_label_maps_score_the_background_in_both_families_by_default(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    target = np.zeros((4, 24, 24), np.uint8)
    target[:, 4:12, 4:12] = 1
    target[:, 14:20, 10:22] = 2
    pred = np.roll(target, rng.integers(-2, 3), axis=2)
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    files = [
        "--pred",
        str(tmp_path / "p.npy"),
        "--gt",
        str(tmp_path / "t.npy"),
        "--num-classes",
        "3",
    ]
    for flag, classes in (([], ["0", "1", "2"]), (["--no-include-background"], ["1", "2"])):
        out = tmp_path / f"o{len(flag)}"
        assert (
            main(
                [
                    "evaluate",
                    *files,
                    "--metrics",
                    "iou,hd95",
                    *flag,
                    "--out",
                    str(out),
                    "--no-report",
                ]
            )
            == 0
        )
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert list(summary["metrics"]["iou"]["per_class"]) == classes
        assert list(summary["metrics"]["hd95"]["per_class"]) == classes


def test_nifti_pairs_of_different_geometry_are_refused_before_a_number(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    nib = pytest.importorskip("nibabel")
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    volume = np.zeros((6, 6, 6), np.uint8)
    volume[2:4, 2:4, 2:4] = 1
    nib.save(nib.Nifti1Image(volume, np.diag([1.0, 1.0, 1.0, 1.0])), tmp_path / "p" / "a.nii.gz")
    nib.save(nib.Nifti1Image(volume, np.diag([1.0, 1.0, 3.0, 1.0])), tmp_path / "g" / "a.nii.gz")
    out = tmp_path / "o"
    argv = [
        "evaluate",
        "--pred",
        str(tmp_path / "p"),
        "--gt",
        str(tmp_path / "g"),
        "--out",
        str(out),
    ]
    assert main([*argv, "--metrics", "iou,hd95"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "p/a.nii.gz" in err
    assert "g/a.nii.gz" in err
    assert "spacing (1, 1, 1)" in err
    assert "spacing (1, 1, 3)" in err
    assert "--allow-geometry-mismatch" in err
    assert not (out / "summary.json").exists()
    assert main([*argv, "--metrics", "iou,hd95", "--allow-geometry-mismatch", "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["conventions"]["boundary"]["spacing"] == [1.0, 1.0, 3.0]  # the ground truth's


def test_one_layout_rule_for_both_families_through_the_cli(tmp_path: Path) -> None:
    # Was: `distance_metrics` read (D, H, W) as one volume while `confusion` read a batch of 2-D
    # images, and `spatial_dims=3` raised TypeError. Now both read the same layout.
    rng = np.random.default_rng(5)
    target = np.zeros((6, 16, 16), bool)
    target[1:5, 4:12, 4:12] = True
    pred = np.roll(target, rng.integers(1, 3), axis=2)
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    files = ["--pred", str(tmp_path / "p.npy"), "--gt", str(tmp_path / "t.npy"), "--no-report"]
    for dims, n_cases in (([], 6), (["--spatial-dims", "3"], 1)):
        out = tmp_path / f"o{len(dims)}"
        assert main(["evaluate", *files, "--metrics", "iou,hd95", *dims, "--out", str(out)]) == 0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["inputs"]["n_cases"] == n_cases
        assert summary["metrics"]["hd95"]["n_cases"] == n_cases
    volume = segscore.distance_metrics(pred, target, ["hd95"], spatial_dims=3)["hd95"]
    summary = json.loads((tmp_path / "o2" / "summary.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["hd95"]["value"] == pytest.approx(float(volume[0, 0]), rel=1e-15)


def test_arrays_and_files_record_the_same_boundary_conventions(tmp_path: Path) -> None:
    from segscore.evaluation import evaluate_arrays, evaluate_folder

    pred, target, _ = sample_masks(4, 24, seed=8)
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    kwargs = {"metrics": "iou,hd95,asd", "preset": "monai"}
    files = evaluate_folder(tmp_path / "p.npy", tmp_path / "t.npy", jobs=1, **kwargs)
    arrays = evaluate_arrays(pred, target, **kwargs)
    assert arrays.summary["conventions"]["boundary"] == files.summary["conventions"]["boundary"]
    assert set(arrays.summary["conventions"]["boundary"]["empty"]) == {"hd95", "asd"}
    assert arrays.summary["metrics"]["asd"] == files.summary["metrics"]["asd"]

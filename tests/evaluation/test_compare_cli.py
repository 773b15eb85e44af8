"""`segscore compare A B` on runs written by real `segscore evaluate` runs: checks, numbers, files."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.cli import main
from segscore.sample import sample_masks

METRICS = "iou,dice,hd95"


def _write(folder: Path, masks: np.ndarray, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for mask, name in zip(masks, names, strict=True):
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f"{name}.png")
    return folder


def _evaluate(pred: Path, gt: Path, out: Path, *extra: str) -> None:
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--out", str(out), "--jobs", "1"]
    assert main([*argv, "--metrics", METRICS, "--no-report", *extra]) == 0


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert "\n" not in err  # one line
    return err


def _per_case(folder: Path, metric: str) -> dict[str, float]:
    """Each case's value of a metric, read from per_case.csv with the csv module (one class)."""
    with (folder / "per_case.csv").open(encoding="utf-8") as handle:
        return {row["case"]: float(row[metric]) for row in csv.DictReader(handle)}


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    """Run A: noisy predictions; run B: the ground truth itself (smaller distances everywhere)."""
    pred, target, names = sample_masks(12, 32, seed=7)
    gt = _write(tmp_path / "gt", target, names)
    pa = _write(tmp_path / "pred_a", pred, names)
    pb = _write(tmp_path / "pred_b", target, names)
    _evaluate(pa, gt, tmp_path / "a")
    _evaluate(pb, gt, tmp_path / "b")
    return {"a": tmp_path / "a", "b": tmp_path / "b", "gt": gt, "pred_a": pa, "pred_b": pb}


def test_same_ground_truth_compares_and_knows_hd95_is_better_lower(  # type: ignore[no-untyped-def]
    runs, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "c"
    assert main(["compare", str(runs["a"]), str(runs["b"]), "--out", str(out), "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "hd95 ↓" in printed
    assert "difference = B - A" in printed
    record = json.loads((out / "compare.json").read_text())
    assert record["checks"] == {"cases": "equal", "gt_hash": "equal", "conventions": "equal"}
    assert record["forced"] == []
    assert record["cases"]["n_paired"] == 12
    from scipy.stats import wilcoxon

    for metric in ("iou", "dice", "hd95"):
        va, vb = _per_case(runs["a"], metric), _per_case(runs["b"], metric)
        pairs = [(va[c], vb[c]) for c in va if math.isfinite(va[c]) and math.isfinite(vb[c])]
        d = np.array([b - a for a, b in pairs])
        got = record["metrics"][metric]
        assert got["n_paired"] == len(pairs)
        assert got["n_nonfinite"] == 12 - len(pairs)
        assert got["mean_difference"] == pytest.approx(float(d.mean()), rel=1e-12)
        assert got["wilcoxon_p"] == pytest.approx(float(wilcoxon(d).pvalue), rel=1e-12)
        assert got["ci95"][0] <= got["mean_difference"] <= got["ci95"][1]
    # B is the ground truth: every distance shrinks (a negative difference) and B is better.
    hd95 = record["metrics"]["hd95"]
    assert hd95["higher_is_better"] is False
    assert hd95["mean_difference"] < 0
    assert hd95["ci95"][1] < 0
    assert (hd95["favours"], hd95["better"]) == ("B", "B")
    assert record["metrics"]["iou"]["better"] == "B"
    assert all(c["favours"] == "B" for c in hd95["changed_most"])
    assert len(hd95["changed_most"]) == 3
    rows = list(csv.DictReader((out / "compare.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 3 * 12
    assert {r["metric"] for r in rows} == {"iou", "dice", "hd95"}
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 * 3  # top 3 cases x (A, B, ground truth)
    assert "<script" not in page
    # The other way round, A is better for every metric, HD95 included.
    assert main(["compare", str(runs["b"]), str(runs["a"]), "--out", str(tmp_path / "r")]) == 0
    back = json.loads((tmp_path / "r" / "compare.json").read_text())
    assert back["metrics"]["hd95"]["mean_difference"] > 0
    assert back["metrics"]["hd95"]["better"] == "A"


def test_other_ground_truth_is_refused_and_nothing_is_written(  # type: ignore[no-untyped-def]
    runs, tmp_path: Path, capsys
) -> None:
    gt2 = tmp_path / "gt2"
    gt2.mkdir()
    for f in runs["gt"].iterdir():
        (gt2 / f.name).write_bytes(f.read_bytes())
    first = sorted(gt2.iterdir())[0]
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(first)
    _evaluate(runs["pred_b"], gt2, tmp_path / "b2")
    out = tmp_path / "c"
    out.mkdir()
    (out / "compare.json").write_text("earlier")
    capsys.readouterr()
    assert main(["compare", str(runs["a"]), str(tmp_path / "b2"), "--out", str(out)]) == 2
    err = _error(capsys)
    assert "same ground truth" in err
    assert "inputs.gt_hash" in err
    assert "--force" in err
    assert [p.name for p in out.iterdir()] == ["compare.json"]
    assert (out / "compare.json").read_text() == "earlier"


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--aggregation", "pooled"], "conventions.aggregation = 'images_then_classes' in A"),
        (
            ["--empty", "1"],
            "conventions.boundary.empty.hd95.zero_division = 'NaN' in A and 1.0 in B",
        ),
    ],
)
def test_other_conventions_are_refused_naming_the_field(  # type: ignore[no-untyped-def]
    runs, tmp_path: Path, capsys, flags: list[str], field: str
) -> None:
    _evaluate(runs["pred_b"], runs["gt"], tmp_path / "b2", *flags)
    capsys.readouterr()
    out = tmp_path / "c"
    assert main(["compare", str(runs["a"]), str(tmp_path / "b2"), "--out", str(out)]) == 2
    err = _error(capsys)
    assert "same conventions" in err
    assert field in err
    assert not out.exists()
    # --force compares anyway and says so on the console, in compare.json and in the page.
    assert (
        main(["compare", str(runs["a"]), str(tmp_path / "b2"), "--out", str(out), "--force"]) == 0
    )
    printed = capsys.readouterr().out
    assert f"forced (--force): runs A ({str(runs['a'])!r})" in printed
    record = json.loads((out / "compare.json").read_text())
    assert len(record["forced"]) == 1
    assert field in record["forced"][0]
    assert record["checks"]["conventions"].startswith("differ at ")
    assert "Compared with --force" in (out / "compare.html").read_text(encoding="utf-8")
    argv = ["compare", str(runs["a"]), str(tmp_path / "b2"), "--force", "--table", "md"]
    assert main(argv) == 0
    assert "Compared with --force: 1 check(s) overridden" in capsys.readouterr().out


def test_a_case_missing_in_b_is_refused_then_dropped_and_counted(  # type: ignore[no-untyped-def]
    runs, tmp_path: Path, capsys
) -> None:
    pb = tmp_path / "pred_b2"
    pb.mkdir()
    files = sorted(runs["pred_b"].iterdir())
    for f in files[1:]:
        (pb / f.name).write_bytes(f.read_bytes())
    missing = files[0].stem
    _evaluate(pb, runs["gt"], tmp_path / "b2")
    capsys.readouterr()
    argv = ["compare", str(runs["a"]), str(tmp_path / "b2")]
    assert main(argv) == 2
    err = _error(capsys)
    assert f"1 case(s) only in A ({missing})" in err
    assert "--force to compare the 11 case(s) in both" in err
    assert main([*argv, "--force", "--out", str(tmp_path / "c")]) == 0
    printed = capsys.readouterr().out
    assert "11 paired cases, 1 dropped" in printed
    assert "dropped 1 case(s) in one run only" in printed
    record = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert record["cases"] == {
        "n_paired": 11,
        "only_in_a": [missing],
        "only_in_b": [],
        "n_dropped": 1,
    }
    assert record["metrics"]["iou"]["n_paired"] + record["metrics"]["iou"]["n_nonfinite"] == 11
    assert any("not checked" in f for f in record["forced"])


def test_metrics_flag_and_missing_files(runs, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "c"
    assert (
        main(["compare", str(runs["a"]), str(runs["b"]), "--metric", "hd95", "--out", str(out)])
        == 0
    )
    assert list(json.loads((out / "compare.json").read_text())["metrics"]) == ["hd95"]
    assert main(["compare", str(runs["a"]), str(runs["b"]), "--metrics", "nsd@1.0"]) == 2
    assert "`--metrics` names 'nsd@1.0', which run A" in _error(capsys)
    # The predictions of A are gone: the page says so, every other output is written.
    for f in runs["pred_a"].iterdir():
        f.unlink()
    runs["pred_a"].rmdir()
    assert main(["compare", str(runs["a"]), str(runs["b"]), "--out", str(out)]) == 0
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert "The cases that changed most are not drawn" in page
    assert "not found" in page
    assert "data:image/png" not in page
    assert main(["compare", str(runs["a"]), str(tmp_path / "nope")]) == 2
    assert "run B" in _error(capsys)


def test_a_threshold_is_a_prediction_not_a_convention(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    _, target, names = sample_masks(6, 24, seed=4)
    prob = np.clip(target * 0.5 + rng.random(target.shape) * 0.6, 0, 1).astype(np.float32)
    (tmp_path / "prob").mkdir()
    for p, n in zip(prob, names, strict=True):
        Image.fromarray(p, mode="F").save(tmp_path / "prob" / f"{n}.tif")
    gt = _write(tmp_path / "gt", target, names)
    _evaluate(tmp_path / "prob", gt, tmp_path / "low", "--threshold", "0.3")
    _evaluate(tmp_path / "prob", gt, tmp_path / "high", "--threshold", "0.7")
    assert (
        main(
            ["compare", str(tmp_path / "low"), str(tmp_path / "high"), "--out", str(tmp_path / "c")]
        )
        == 0
    )
    record = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert (record["run_a"]["threshold"], record["run_b"]["threshold"]) == (0.3, 0.7)
    assert record["checks"]["conventions"] == "equal"


def _changed(html: str) -> str:
    section = html[html.index('<section id="changed"') :]
    return section[: section.index("</section>")]


def _png_of(uri: str) -> np.ndarray:
    import base64
    import io

    data = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("colour_masks", [False, True])
def test_multiclass_runs_are_drawn_in_class_colours(tmp_path: Path, colour_masks: bool) -> None:
    """Label maps (or VOC colour masks read with --palette voc) of two runs: each changed case
    is drawn twice as ground truth | prediction | errors, with the present classes named."""
    from segscore.data.label_sets import get_label_set
    from segscore.report.class_overlay import ERROR_COLOR

    voc = get_label_set("voc")
    lut = np.array(voc.colours, np.uint8)
    for d in ("gt", "a", "b"):
        (tmp_path / d).mkdir()
    wrong = {"a": 12, "b": 4}  # pixels of class 15 predicted as class 7 in each run
    for i in range(3):
        gt = np.zeros((16, 16), np.uint8)
        gt[2:10, 2:10] = 15  # person
        gt[11:15, 4:14] = 7  # car
        preds = {}
        for run, n in wrong.items():
            pred = gt.copy()
            pred[2, 2 : 2 + n] = 7 if n <= 8 else pred[2, 2 : 2 + n]
            if n > 8:
                pred[2, 2:10] = 7
                pred[3, 2 : 2 + n - 8] = 7
            preds[run] = pred
        for folder, labels in (("gt", gt), *preds.items()):
            image = lut[labels] if colour_masks else labels
            Image.fromarray(image).save(tmp_path / folder / f"c{i}.png")
    extra = ["--class-names", "voc", "--metrics", "iou", "--jobs", "1"]
    extra += ["--palette", "voc"] if colour_masks else []
    for run in ("a", "b"):
        argv = ["evaluate", "--pred", str(tmp_path / run), "--gt", str(tmp_path / "gt")]
        assert main([*argv, "--out", str(tmp_path / f"run_{run}"), *extra]) == 0
    assert main(["compare", str(tmp_path / "run_a"), str(tmp_path / "run_b"), "--out",
                 str(tmp_path / "cmp")]) == 0  # fmt: skip
    summary = json.loads((tmp_path / "run_a" / "summary.json").read_text())
    assert summary["conventions"]["palette"] == ("voc" if colour_masks else None)
    changed = _changed((tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8"))
    assert "Not drawn" not in changed
    assert "ground truth | prediction | errors" in changed
    pairs = changed.split('<div class="pair">')[1:]
    assert len(pairs) == 3
    black = np.array([int(ERROR_COLOR[k : k + 2], 16) for k in (1, 3, 5)], np.uint8)
    for pair in pairs:
        legend = pair[pair.index('<ul class="class-legend"') :]
        names = [
            n.split("<code>")[0].split("</span>")[-1].strip() for n in legend.split("<li>")[1:]
        ]
        assert names == ["background", "car", "person"]
        uris = [u for u in pair.split('src="')[1:]]
        assert len(uris) == 2  # A's and B's panels
        for run, uri in zip(("a", "b"), uris, strict=True):
            rgb = _png_of(uri.split('"')[0])
            k = rgb.shape[0] // 16  # the display enlargement
            errors_panel = rgb[:, -16 * k :]  # the last panel (VOC's background is black too)
            errors = int((errors_panel == black).all(axis=2).sum())
            assert errors == wrong[run] * k * k
            assert (rgb[3 * k, 3 * k] == lut[15]).all()  # the ground-truth panel: person


def test_volumes_are_drawn_through_the_voxel_where_a_and_b_differ(tmp_path: Path) -> None:
    """NIfTI volumes (mm from the header): A's and B's three slices go through one voxel, inside
    the region where B fixed A's hole."""
    import re

    nib = pytest.importorskip("nibabel")
    for d in ("gt", "a", "b"):
        (tmp_path / d).mkdir()
    affine = np.diag([0.8, 1.0, 2.5, 1.0])
    for i in range(2):
        target = np.zeros((24, 20, 12), np.uint8)
        target[4:20, 3:17, 2:10] = 1
        a = target.copy()
        a[10:14, 8 + i : 12 + i, 4:7] = 0  # A's hole
        b = target.copy()
        b[4:6, 3:5, 2:4] = 0  # B: a small error elsewhere
        for folder, volume in (("gt", target), ("a", a), ("b", b)):
            nib.save(nib.Nifti1Image(volume, affine), tmp_path / folder / f"v{i}.nii.gz")
    for run in ("a", "b"):
        argv = ["evaluate", "--pred", str(tmp_path / run), "--gt", str(tmp_path / "gt")]
        assert main([*argv, "--out", str(tmp_path / f"run_{run}"), "--jobs", "1"]) == 0
    out = str(tmp_path / "cmp")
    assert main(["compare", str(tmp_path / "run_a"), str(tmp_path / "run_b"), "--out", out]) == 0
    changed = _changed((tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8"))
    assert "Not drawn" not in changed
    pairs = changed.split('<div class="pair">')[1:]
    assert len(pairs) == 2
    for pair in pairs:
        voxels = re.findall(r"slices through voxel \((\d+), (\d+), (\d+)\)", pair)
        assert len(voxels) == 2  # A and B
        assert voxels[0] == voxels[1]  # one voxel for both
        z, y, x = (int(v) for v in voxels[0])
        assert 10 <= z < 14  # inside A's hole, which B does not have
        assert 8 <= y < 13
        assert 4 <= x < 7
        assert pair.count("<strong>axial</strong>") == 2
        assert "spacing 0.8 × 1 × 2.5 mm" in pair
        assert '<span class="case-name" title="v' in pair
        assert ">A</span>" in pair
        assert ">B</span>" in pair


def test_a_summary_of_a_newer_schema_is_refused(runs, capsys) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: schema_version 99 was read as if this segscore knew it.
    path = runs["b"] / "summary.json"
    summary = json.loads(path.read_text())
    summary["schema_version"] = 99
    path.write_text(json.dumps(summary))
    assert main(["compare", str(runs["a"]), str(runs["b"])]) == 2
    assert "got 99 (written by a newer segscore; upgrade this one)" in _error(capsys)

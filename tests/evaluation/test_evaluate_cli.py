"""`segscore evaluate` and `segscore compare` on real files: numbers, outputs, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import segscore
from segscore.cli import main
from segscore.sample import sample_masks


def _write_pngs(folder: Path, masks: np.ndarray, names: list[str], suffix: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for mask, name in zip(masks, names, strict=True):
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f"{name}{suffix}.png")


@pytest.fixture
def binary_folders(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray, list[str]]:
    pred, target, names = sample_masks(24, 48, seed=5)
    _write_pngs(tmp_path / "pred", pred, names, suffix="_pred")
    _write_pngs(tmp_path / "gt", target, names)
    return tmp_path / "pred", tmp_path / "gt", pred, target, names


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_binary_png_folders_match_the_core_exactly(binary_folders, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, pred, target, names = binary_folders
    out = tmp_path / "out"
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out)]
    assert (
        main([*argv, "--pred-suffix", "_pred", "--metrics", "iou,dice,accuracy", "--no-report"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "segscore evaluate: 24 cases" in printed
    # masks are not thresholded: the line must not claim the 0.5 of the option (reviewed)
    assert "conventions: mode=binary threshold=none (masks) " in printed
    rows = _read_csv(out / "per_case.csv")
    counts = segscore.confusion(pred, target)
    assert [r["case"] for r in rows] == names
    for field in ("tp", "fp", "fn", "tn"):
        assert [int(r[field]) for r in rows] == getattr(counts, field)[:, 0].tolist()
    summary = json.loads((out / "summary.json").read_text())
    for metric in ("iou", "dice", "accuracy"):
        want = segscore.score(counts, metric)
        got = summary["metrics"][metric]
        assert got["value"] == pytest.approx(want.value, rel=1e-15)
        assert got["n_excluded"] == want.n_excluded
        pooled = segscore.score(counts, metric, aggregation="pooled").value
        assert got["pooled"] == pytest.approx(pooled, rel=1e-15)
    assert summary["inputs"]["n_cases"] == 24
    assert summary["inputs"]["hash"].startswith("sha256:")
    assert summary["conventions"]["counting"]["mode"] == "binary"
    assert summary["segscore_version"] == segscore.__version__
    assert summary["threshold_sweep"] is None  # masks, not probabilities


def test_one_job_and_two_jobs_write_identical_outputs(binary_folders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, *_ = binary_folders
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out)]
        assert (
            main(
                [
                    *argv,
                    "--pred-suffix",
                    "_pred",
                    "--jobs",
                    jobs,
                    "--bootstrap",
                    "200",
                    "--no-report",
                ]
            )
            == 0
        )
        summary = json.loads((out / "summary.json").read_text())
        summary["inputs"].pop("jobs")
        outputs.append(((out / "per_case.csv").read_bytes(), summary))
    assert outputs[0] == outputs[1]
    assert outputs[0][1]["metrics"]["iou"]["ci95"][0] < outputs[0][1]["metrics"]["iou"]["value"]


def test_probability_tiffs_threshold_and_sweep_are_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    _, target, names = sample_masks(6, 32, seed=2)
    prob = np.clip(target * 0.6 + rng.random(target.shape) * 0.5, 0, 1).astype(np.float32)
    (tmp_path / "prob").mkdir()
    for p, n in zip(prob, names, strict=True):
        Image.fromarray(p, mode="F").save(tmp_path / "prob" / f"{n}.tif")
    _write_pngs(tmp_path / "gt", target, names)
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--pred",
        str(tmp_path / "prob"),
        "--gt",
        str(tmp_path / "gt"),
        "--out",
        str(out),
    ]
    assert main([*argv, "--threshold", "0.3", "--no-report"]) == 0
    rows = _read_csv(out / "per_case.csv")
    counts = segscore.confusion(prob, target, threshold=0.3)
    assert [int(r["tp"]) for r in rows] == counts.tp[:, 0].tolist()
    summary = json.loads((out / "summary.json").read_text())
    sweep = summary["threshold_sweep"]
    for k in (0, 29, 48, 98):
        th = sweep["thresholds"][k]
        want = segscore.score(segscore.confusion(prob, target, threshold=th), "iou").value
        assert sweep["iou"][k] == pytest.approx(want, rel=1e-15), th
    assert sweep["best_value"] == pytest.approx(max(v for v in sweep["iou"] if v is not None))


def test_palette_label_maps_with_ignore(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(0, 3, (3, 16, 16)).astype(np.uint8)
    target[:, :2, :] = 255
    pred = rng.integers(0, 3, (3, 16, 16)).astype(np.uint8)
    for folder, maps in (("p", pred), ("g", target)):
        (tmp_path / folder).mkdir()
        for i, m in enumerate(maps):
            img = Image.fromarray(m, mode="P")
            img.putpalette([0, 0, 0, 200, 0, 0, 0, 200, 0] + [255, 255, 255] * 253)
            img.save(tmp_path / folder / f"c{i}.png")
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--pred",
        str(tmp_path / "p"),
        "--gt",
        str(tmp_path / "g"),
        "--out",
        str(out),
    ]
    assert (
        main(
            [
                *argv,
                "--num-classes",
                "3",
                "--ignore-index",
                "255",
                "--no-include-background",
                "--aggregation",
                "pooled",
                "--no-report",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    counts = segscore.confusion(pred, target, num_classes=3, ignore_index=255)
    want = segscore.score(counts, "iou", aggregation="pooled", include_background=False)
    assert summary["metrics"]["iou"]["value"] == pytest.approx(want.value, rel=1e-15)
    assert set(summary["metrics"]["iou"]["per_class"]) == {"1", "2"}
    rows = _read_csv(out / "per_case.csv")
    assert len(rows) == 3 * 2  # cases x kept classes
    assert (
        int(rows[0]["tp"]) + int(rows[0]["fp"]) + int(rows[0]["fn"]) + int(rows[0]["tn"]) == 14 * 16
    )


def test_stacked_npy(tmp_path: Path) -> None:
    pred, target, _ = sample_masks(5, 16, seed=9)
    np.save(tmp_path / "p.npy", pred)
    np.save(tmp_path / "t.npy", target)
    out = tmp_path / "out"
    assert (
        main(
            [
                "evaluate",
                "--pred",
                str(tmp_path / "p.npy"),
                "--gt",
                str(tmp_path / "t.npy"),
                "--out",
                str(out),
                "--no-report",
            ]
        )
        == 0
    )
    rows = _read_csv(out / "per_case.csv")
    assert [r["case"] for r in rows] == [f"p[{i}]" for i in range(5)]


def _error(capsys) -> str:  # type: ignore[no-untyped-def]
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ")
    return err[-1]


def test_size_mismatch_names_both_files_and_writes_nothing(
    binary_folders, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, *_ = binary_folders
    Image.fromarray(np.zeros((48, 47), np.uint8)).save(gt_dir / "sample-003.png")
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--pred",
        str(pred_dir),
        "--gt",
        str(gt_dir),
        "--out",
        str(out),
        "--pred-suffix",
        "_pred",
    ]
    assert main(argv) == 2
    msg = _error(capsys)
    assert "sample-003_pred.png" in msg
    assert "sample-003.png" in msg
    assert "(48, 47)" in msg
    assert not out.exists()
    # --keep-going records the failure and scores the rest
    assert main([*argv, "--keep-going", "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"]["n_cases"] == 23
    assert summary["failed"][0]["case"] == "sample-003"
    rows = _read_csv(out / "per_case.csv")
    assert rows[-1]["case"] == "sample-003"
    assert "shape" in rows[-1]["error"]


@pytest.mark.parametrize(
    ("corrupt", "needle"),
    [
        (b"", "empty (0 bytes)"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "cannot be decoded"),
    ],
)
def test_bad_files_are_named(
    binary_folders, tmp_path: Path, capsys, corrupt: bytes, needle: str
) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, *_ = binary_folders
    (pred_dir / "sample-004_pred.png").write_bytes(corrupt)
    argv = [
        "evaluate",
        "--pred",
        str(pred_dir),
        "--gt",
        str(gt_dir),
        "--out",
        str(tmp_path / "o"),
        "--pred-suffix",
        "_pred",
    ]
    assert main(argv) == 2
    msg = _error(capsys)
    assert "sample-004_pred.png" in msg
    assert needle in msg


def test_rgb_mask_and_out_of_range_labels(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "p" / "a.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "g" / "a.png")
    base = [
        "evaluate",
        "--pred",
        str(tmp_path / "p"),
        "--gt",
        str(tmp_path / "g"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(base) == 2
    assert "RGB" in _error(capsys)
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(tmp_path / "p" / "a.png")
    assert main([*base, "--num-classes", "3"]) == 2
    msg = _error(capsys)
    assert "a.png" in msg
    assert "labels [7]" in msg


def test_folder_problems(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    base = [
        "evaluate",
        "--pred",
        str(tmp_path / "p"),
        "--gt",
        str(tmp_path / "g"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(base) == 2
    assert "holds no mask file" in _error(capsys)
    np.save(tmp_path / "p" / "a.npy", np.zeros((4, 4), bool))
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "p" / "a.png")
    np.save(tmp_path / "g" / "a.npy", np.zeros((4, 4), bool))
    assert main(base) == 2
    assert "two files with the stem 'a'" in _error(capsys)
    (tmp_path / "p" / "a.png").unlink()
    np.save(tmp_path / "g" / "b.npy", np.zeros((4, 4), bool))
    assert main([*base, "--strict"]) == 2
    assert "ground truth without prediction: b" in _error(capsys)
    assert main([*base, "--no-report"]) == 0
    assert "1 ground truth file(s) without a partner: b" in capsys.readouterr().err
    assert (
        main(
            [
                "evaluate",
                "--pred",
                str(tmp_path / "nope"),
                "--gt",
                str(tmp_path / "g"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "not found" in _error(capsys)


def test_compare_two_evaluations(binary_folders, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, pred, target, names = binary_folders
    base = ["--gt", str(gt_dir), "--no-report", "--pred-suffix", "_pred"]
    assert main(["evaluate", "--pred", str(pred_dir), "--out", str(tmp_path / "a"), *base]) == 0
    better = pred | target  # recall 1: every IoU rises or stays
    _write_pngs(tmp_path / "pred_b", better, names, suffix="_pred")
    assert (
        main(["evaluate", "--pred", str(tmp_path / "pred_b"), "--out", str(tmp_path / "b"), *base])
        == 0
    )
    capsys.readouterr()
    assert (
        main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "c")])
        == 0
    )
    record = json.loads((tmp_path / "c" / "compare.json").read_text())["metrics"]["iou"]
    ia = segscore.score(segscore.confusion(pred, target), "iou").per_image
    ib = segscore.score(segscore.confusion(better, target), "iou").per_image
    keep = ~(np.isnan(ia) | np.isnan(ib))
    assert record["n_paired"] == int(keep.sum())
    assert record["mean_difference"] == pytest.approx(
        float(np.mean(ib[keep] - ia[keep])), rel=1e-12
    )
    from scipy.stats import wilcoxon

    assert record["wilcoxon_p"] == pytest.approx(
        float(wilcoxon(ib[keep] - ia[keep]).pvalue), rel=1e-12
    )
    assert record["ci95"][0] <= record["mean_difference"] <= record["ci95"][1]
    # The overlays find the files again through the recorded folders and suffixes.
    page = (tmp_path / "c" / "compare.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 * 10
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "nope")]) == 2


def test_boundary_metrics_with_spacing_and_preset(binary_folders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from segscore.metrics.boundary import distance_metrics

    pred_dir, gt_dir, pred, target, _ = binary_folders
    out = tmp_path / "out"
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out)]
    extra = [
        "--pred-suffix",
        "_pred",
        "--metrics",
        "dice,hd95,assd",
        "--spacing",
        "0.5,2",
        "--no-report",
    ]
    assert main([*argv, *extra, "--preset", "monai"]) == 0
    rows = _read_csv(out / "per_case.csv")
    summary = json.loads((out / "summary.json").read_text())
    for i in (0, 7, 13):
        want = distance_metrics(
            pred[i],
            target[i],
            ["hd95", "assd"],
            preset="monai",
            spacing=(0.5, 2.0),
            include_background=False,
        )
        for metric in ("hd95", "assd"):
            got = float(rows[i][metric]) if rows[i][metric] else float("nan")
            np.testing.assert_allclose(got, want[metric][0, 0], rtol=1e-12)
    assert summary["metrics"]["hd95"]["higher_is_better"] is False
    assert summary["conventions"]["boundary"]["spacing"] == [0.5, 2.0]
    assert summary["conventions"]["boundary"]["preset"] == "monai"
    assert summary["conventions"]["aggregation"] == "classes_then_images"  # from the preset
    # an explicit option overrides the preset
    assert main([*argv, *extra, "--preset", "monai", "--aggregation", "pooled"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["conventions"]["aggregation"] == "pooled"


@pytest.mark.parametrize(
    ("flag", "value", "needle"),
    [
        ("--metrics", "iou,hd96x", "`--metrics` must name"),
        ("--spacing", "1,-2", "`--spacing` must be positive"),
        ("--preset", "sklearnn", "preset"),
    ],
)
def test_bad_metric_options(
    binary_folders, tmp_path: Path, capsys, flag: str, value: str, needle: str
) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, *_ = binary_folders
    argv = [
        "evaluate",
        "--pred",
        str(pred_dir),
        "--gt",
        str(gt_dir),
        "--out",
        str(tmp_path / "o"),
        "--pred-suffix",
        "_pred",
    ]
    assert main([*argv, flag, value]) == 2
    assert needle in _error(capsys)


def test_report_html_with_overlays_sweep_and_hostile_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    _, target, _ = sample_masks(8, 32, seed=8)
    # "/" cannot appear in a file name, so the hostile names use tags without it.
    names = [f"case {i} <b>é" for i in range(7)] + ["<img src=x onerror=alert(1)>"]
    prob = np.clip(target * 0.6 + rng.random(target.shape) * 0.5, 0, 1).astype(np.float32)
    for d in ("prob", "gt", "img"):
        (tmp_path / d).mkdir()
    for p, t, n in zip(prob, target, names, strict=True):
        Image.fromarray(p, mode="F").save(tmp_path / "prob" / f"{n}.tif")
        Image.fromarray(t.astype(np.uint8) * 255).save(tmp_path / "gt" / f"{n}.png")
        Image.fromarray((p * 255).astype(np.uint8)).save(tmp_path / "img" / f"{n}.png")
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--pred",
        str(tmp_path / "prob"),
        "--gt",
        str(tmp_path / "gt"),
        "--out",
        str(out),
    ]
    assert main([*argv, "--images", str(tmp_path / "img")]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html
    assert "<b>é" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("data:image/png;base64,") >= 8  # worst and best overlays
    assert "Overlap scores show what pixel accuracy hides" in html
    summary = json.loads((out / "summary.json").read_text())
    assert f"{summary['threshold_sweep']['best_threshold']:.2f}" in html


def test_nifti_volumes_take_spacing_from_the_header(tmp_path: Path) -> None:
    nib = pytest.importorskip("nibabel")
    from segscore.metrics.boundary import distance_metrics

    rng = np.random.default_rng(1)
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    volumes = []
    for i in range(3):
        target = np.zeros((12, 14, 10), np.uint8)
        target[3:9, 4:10, 2 + i : 7 + i] = 1
        pred = np.roll(target, int(rng.integers(0, 2)), axis=0)
        affine = np.diag([0.8, 1.0, 2.5, 1.0])
        nib.save(nib.Nifti1Image(pred, affine), tmp_path / "p" / f"case{i}.nii.gz")
        nib.save(nib.Nifti1Image(target, affine), tmp_path / "g" / f"case{i}.nii.gz")
        volumes.append((pred, target))
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--pred",
        str(tmp_path / "p"),
        "--gt",
        str(tmp_path / "g"),
        "--out",
        str(out),
    ]
    assert main([*argv, "--spatial-dims", "3", "--metrics", "iou,hd95", "--no-report"]) == 0
    rows = _read_csv(out / "per_case.csv")
    summary = json.loads((out / "summary.json").read_text())
    # NIfTI stores the voxel size as float32; segscore uses the stored value as it is.
    spacing = tuple(float(np.float32(v)) for v in (0.8, 1.0, 2.5))
    assert summary["conventions"]["boundary"]["spacing"] == list(spacing)
    for row, (pred, target) in zip(rows, volumes, strict=True):
        assert int(row["tp"]) == int(np.count_nonzero(pred & target))
        want = distance_metrics(pred, target, ["hd95"], spacing=spacing, spatial_dims=3)["hd95"][
            0, 0
        ]
        assert float(row["hd95"]) == pytest.approx(want, rel=1e-12)
        assert row["spacing"] == ",".join(repr(v) for v in spacing)


def test_cases_with_their_own_spacing_are_recorded_per_case(tmp_path: Path) -> None:
    # Reviewed: the summary recorded the first case's header spacing for every case.
    nib = pytest.importorskip("nibabel")
    from segscore.metrics.boundary import distance_metrics

    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    spacings = [(0.5, 0.75, 2.0), (1.0, 1.0, 1.0), (3.0, 3.0, 3.0)]
    volumes = []
    for i, spacing in enumerate(spacings):
        target = np.zeros((12, 14, 10), np.uint8)
        target[3:9, 4:10, 2:7] = 1
        pred = np.roll(target, 1 + i, axis=2)
        affine = np.diag([*spacing, 1.0])
        nib.save(nib.Nifti1Image(pred, affine), tmp_path / "p" / f"case{i}.nii.gz")
        nib.save(nib.Nifti1Image(target, affine), tmp_path / "g" / f"case{i}.nii.gz")
        volumes.append((pred, target))
    out = tmp_path / "out"
    argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g")]
    argv += ["--out", str(out), "--spatial-dims", "3", "--metrics", "iou,hd95", "--no-report"]
    assert main(argv) == 0
    rows = _read_csv(out / "per_case.csv")
    summary = json.loads((out / "summary.json").read_text())
    for record in (summary["conventions"]["boundary"], summary["metrics"]["hd95"]["conventions"]):
        boundary = record.get("boundary", record)
        assert boundary["spacing"] == "per_case"
        assert boundary["spacings"] == [list(s) for s in spacings]
    for row, spacing, (pred, target) in zip(rows, spacings, volumes, strict=True):
        assert row["spacing"] == ",".join(repr(v) for v in spacing)
        want = distance_metrics(pred, target, ["hd95"], spacing=spacing, spatial_dims=3)
        assert float(row["hd95"]) == pytest.approx(want["hd95"][0, 0], rel=1e-12)


def test_preset_empty_policy_is_per_metric(tmp_path: Path) -> None:
    # MedPy: dc of two empty masks is NaN, jc is 1; the order of --metrics must not matter.
    pred, target, names = sample_masks(6, 16, seed=3)
    pred[0] = False
    target[0] = False
    _write_pngs(tmp_path / "p", pred, names)
    _write_pngs(tmp_path / "g", target, names)
    values = []
    for order in ("iou,dice", "dice,iou"):
        out = tmp_path / order.replace(",", "_")
        argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g")]
        assert (
            main([*argv, "--out", str(out), "--metrics", order, "--preset", "medpy", "--no-report"])
            == 0
        )
        summary = json.loads((out / "summary.json").read_text())
        values.append({m: summary["metrics"][m]["value"] for m in ("iou", "dice")})
        assert summary["metrics"]["iou"]["conventions"]["empty"]["zero_division"] == 1.0
        assert summary["metrics"]["dice"]["conventions"]["empty"]["zero_division"] == "NaN"
    assert values[0] == values[1]


def test_one_case_folder_of_volumes_is_one_volume(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    vol_t = rng.random((3, 8, 8)) > 0.5
    vol_p = rng.random((3, 8, 8)) > 0.5
    np.save(tmp_path / "p" / "vol.npy", vol_p)
    np.save(tmp_path / "g" / "vol.npy", vol_t)
    argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g"), "--no-report"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 0
    rows = _read_csv(tmp_path / "o" / "per_case.csv")
    assert [r["case"] for r in rows] == ["vol"]
    assert int(rows[0]["tp"]) == int(np.count_nonzero(vol_p & vol_t))
    # --spatial-dims 2 on a folder of volumes: a clear error, not mislabelled rows
    assert main([*argv, "--out", str(tmp_path / "o2"), "--spatial-dims", "2"]) == 2
    assert "holds 3 images" in _error(capsys)


def test_multipage_tiff_and_mixed_folders_are_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    pages = [Image.fromarray(np.full((4, 4), 255, np.uint8)) for _ in range(3)]
    pages[0].save(tmp_path / "p" / "a.tif", save_all=True, append_images=pages[1:])
    pages[0].save(tmp_path / "g" / "a.tif")
    argv = [
        "evaluate",
        "--pred",
        str(tmp_path / "p"),
        "--gt",
        str(tmp_path / "g"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    assert "3 pages" in _error(capsys)
    pages[0].save(tmp_path / "p" / "a.tif")
    Image.fromarray(np.full((4, 4), 0.7, np.float32), mode="F").save(tmp_path / "p" / "b.tif")
    pages[0].save(tmp_path / "g" / "b.tif")
    assert main(argv) == 2
    assert "one kind of file" in _error(capsys)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--threshold", "2"], "`--threshold` must be a number in (0, 1)"),
        (["--ignore-index", "255"], "`--ignore-index` needs label maps"),
        (["--num-classes", "3", "--ignore-index", "1"], "must lie outside [0, 3)"),
    ],
)
def test_shared_options_fail_once_before_any_case(
    binary_folders, tmp_path: Path, capsys, extra: list[str], needle: str
) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, *_ = binary_folders
    argv = [
        "evaluate",
        "--pred",
        str(pred_dir),
        "--gt",
        str(gt_dir),
        "--out",
        str(tmp_path / "o"),
        "--keep-going",
    ]
    assert main([*argv, *extra]) == 2
    msg = _error(capsys)
    assert needle in msg
    assert "case" not in msg


def test_out_that_is_a_file(binary_folders, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, *_ = binary_folders
    (tmp_path / "f").write_text("x")
    assert (
        main(
            ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(tmp_path / "f")]
        )
        == 2
    )
    assert "(a file)" in _error(capsys)


def test_dask_local_equals_processes(binary_folders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("distributed")
    pred_dir, gt_dir, *_ = binary_folders
    base = [
        "evaluate",
        "--pred",
        str(pred_dir),
        "--gt",
        str(gt_dir),
        "--pred-suffix",
        "_pred",
        "--no-report",
    ]
    assert main([*base, "--out", str(tmp_path / "a"), "--jobs", "1"]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--dask", "local", "--jobs", "2"]) == 0
    assert (tmp_path / "a" / "per_case.csv").read_bytes() == (
        tmp_path / "b" / "per_case.csv"
    ).read_bytes()
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    for record in (a, b):
        record["inputs"].pop("jobs")
        record["inputs"].pop("dask", None)
    assert a == b


def test_a_bad_run_folder_fails_before_the_outputs_already_there_are_touched(
    binary_folders, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: a bad --run was found only after per_case.csv and summary.json had been
    # replaced, leaving an earlier run's report.html beside them and a journal behind.
    pred_dir, gt_dir, *_ = binary_folders
    out = tmp_path / "out"
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out)]
    assert main([*argv, "--pred-suffix", "_pred"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    (tmp_path / "empty-run").mkdir()
    (tmp_path / "bad-run").mkdir()
    (tmp_path / "bad-run" / "trace.json").write_text("{not json")
    for run in ("nope", tmp_path / "empty-run", tmp_path / "bad-run"):
        assert main([*argv, "--metrics", "dice", "--run", str(run)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ")
        assert err.count("\n") == 1
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main([*argv, "--no-report", "--run", str(tmp_path / "bad-run")]) == 2
    assert "`--run` must not be given with `--no-report`" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_run_into_a_used_folder_leaves_only_its_own_outputs(
    binary_folders, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: an earlier run's table.md, per_object.csv and report.html stayed beside the new
    # summary.json, describing other numbers.
    pred_dir, gt_dir, *_ = binary_folders
    out = tmp_path / "out"
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--out", str(out)]
    argv += ["--pred-suffix", "_pred"]
    assert main([*argv, "--table", "md", "--instances", "components"]) == 0
    first = {p.name for p in out.iterdir()}
    assert {"per_object.csv", "report.html", "table.md"} <= first
    assert main([*argv, "--no-report", "--table", "csv"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "per_case.csv",
        "summary.json",
        "table.csv",
    ]


def test_binary_masks_read_with_a_label_set_get_a_warning(
    binary_folders, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: --class-names voc makes 255 the ignore label, so binary 0/255 masks lost their
    # whole foreground and scored mIoU 0.986 on the background alone, without a word.
    pred_dir, gt_dir, *_ = binary_folders
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--pred-suffix", "_pred"]
    argv += ["--no-report", "--metrics", "iou"]
    assert main([*argv, "--out", str(tmp_path / "voc"), "--class-names", "voc"]) == 0
    err = capsys.readouterr().err
    assert "warning: no ground-truth pixel of any case has a class other than 0" in err
    summary = json.loads((tmp_path / "voc" / "summary.json").read_text())
    assert len(summary["warnings"]) == 1
    assert "ignore label 255" in summary["warnings"][0]
    assert main([*argv, "--out", str(tmp_path / "plain")]) == 0
    assert "warning" not in capsys.readouterr().err
    assert json.loads((tmp_path / "plain" / "summary.json").read_text())["warnings"] == []


def test_multilabel_on_two_dimensional_masks_says_what_it_needs(
    binary_folders, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: the message was "`spatial_dims` must be an integer >= 2, got 1", an option the
    # user never set.
    pred_dir, gt_dir, *_ = binary_folders
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--pred-suffix", "_pred"]
    assert main([*argv, "--out", str(tmp_path / "o"), "--multilabel", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "multilabel input needs one mask per class along the first axis" in err
    assert "(48, 48)" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--connectivity", "full"], "`--connectivity` must be left unset without `--instances`"),
        (["--matching", "greedy"], "`--matching` must be left unset without `--instances`"),
        (["--pred-suffix", "_pred.png"], "(`--pred-suffix`) must be the end of a file stem"),
        (["--out", ""], "argument --out: expected a path, got ''"),
    ],
)
def test_options_that_would_do_nothing_are_refused(
    binary_folders, tmp_path: Path, capsys, monkeypatch, extra, message
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: each was accepted silently (--out "" wrote into the current folder).
    pred_dir, gt_dir, *_ = binary_folders
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)  # where --out "" would write
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--no-report"]
    argv += ["--out", str(tmp_path / "o"), "--pred-suffix", "_pred"]
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    assert list(here.iterdir()) == []


@pytest.mark.parametrize(("comparison", "f1"), [(">=", 1.0), (">", 0.0)])
def test_the_objects_comparison_is_the_one_asked(
    tmp_path: Path, comparison: str, f1: float
) -> None:
    # Found in review: resolving the pixel threshold comparison overwrote the objects'
    # `--comparison` with '>=' before the object settings read it.
    target = np.zeros((8, 8), np.uint8)
    target[2:4, 2:4] = 1  # 4 pixels
    pred = np.zeros((8, 8), np.uint8)
    pred[2:4, 2:6] = 1  # 8 pixels over them: IoU exactly 1/2
    for folder, mask in (("p", pred), ("g", target)):
        (tmp_path / folder).mkdir()
        Image.fromarray(mask).save(tmp_path / folder / "a.png")
    out = tmp_path / "out"
    argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g")]
    argv += ["--out", str(out), "--no-report", "--instances", "labels", "--metrics", "f1@0.5"]
    assert main([*argv, "--comparison", comparison]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["f1@0.5"]["value"] == f1
    assert summary["conventions"]["instances"]["comparison"] == comparison


@pytest.mark.parametrize(("preset", "metrics"), [("monai", "iou,hd95"), ("nnunet", "iou")])
def test_one_class_with_a_preset_that_drops_class_0_fails_before_scoring(
    tmp_path: Path, capsys, preset: str, metrics: str
) -> None:  # type: ignore[no-untyped-def]
    # Reviewed: the preset's background rule failed every case later, naming include_background.
    for folder in ("p", "g"):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / folder / "c0.png")
    argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "g")]
    argv += ["--out", str(tmp_path / "o"), "--no-report", "--num-classes", "1"]
    assert main([*argv, "--preset", preset, "--metrics", metrics]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: `--num-classes` must be more than 1 with `--preset` '{preset}'")
    assert err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    assert main([*argv, "--preset", preset, "--metrics", metrics, "--include-background"]) == 0

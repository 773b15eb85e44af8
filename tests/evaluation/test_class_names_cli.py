"""`--class-names` and `--palette` through the command line, on real PNG files."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import segscore
from segscore.cli import main
from segscore.data.label_sets import get_label_set
from segscore.errors import InputError
from segscore.evaluation.folder import runner_options
from segscore.evaluation.journal import options_record
from segscore.evaluation.settings import label_set_options, make_settings

VOC = get_label_set("voc")
VOC_COLOURS = np.array([*VOC.colours, *([(0, 0, 0)] * 234), VOC.ignore_colours[0]], np.uint8)
"""Colour of every label 0..255 (255: the boundary colour); 21..254 are not used."""


def _labels(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 4, (20, 24)).astype(np.uint8)
    pred = target.copy()
    pred[:6] = rng.integers(0, 4, (6, 24))
    target[0, :3] = 255  # VOC boundary: ignored
    return pred, target


@pytest.fixture
def voc_folders(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """Three cases as VOC colour PNGs (RGB), and their label maps."""
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt").mkdir()
    preds, targets = [], []
    for i in range(3):
        pred, target = _labels(i)
        Image.fromarray(VOC_COLOURS[pred], mode="RGB").save(tmp_path / "pred" / f"c{i}.png")
        Image.fromarray(VOC_COLOURS[target], mode="RGB").save(tmp_path / "gt" / f"c{i}.png")
        preds.append(pred)
        targets.append(target)
    return tmp_path / "pred", tmp_path / "gt", np.stack(preds), np.stack(targets)


def _argv(pred: Path, gt: Path, out: Path, *extra: str) -> list[str]:
    return [
        "evaluate",
        "--pred",
        str(pred),
        "--gt",
        str(gt),
        "--out",
        str(out),
        "--jobs",
        "1",
        *extra,
    ]


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_voc_colour_masks_with_names_everywhere(voc_folders, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, pred, target = voc_folders
    out = tmp_path / "out"
    assert main(_argv(pred_dir, gt_dir, out, "--class-names", "voc", "--palette", "voc")) == 0
    printed = capsys.readouterr().out
    assert "aeroplane" in printed
    assert "tvmonitor" in printed
    counts = segscore.confusion(pred, target, num_classes=21, ignore_index=255)
    with (out / "per_case.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["class_name"] for r in rows[:3]] == ["background", "aeroplane", "bicycle"]
    assert [int(r["tp"]) for r in rows if r["case"] == "c1"] == counts.tp[1].tolist()
    summary = json.loads((out / "summary.json").read_text())
    iou = summary["metrics"]["iou"]
    assert iou["class_names"]["15"] == "person"
    assert set(iou["class_names"]) == set(iou["per_class"])  # both keyed by class id
    assert iou["value"] == pytest.approx(segscore.score(counts, "iou").value, rel=1e-15)
    options = summary["conventions"]["options"]
    assert (options["num_classes"], options["ignore_index"]) == (21, 255)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert ">aeroplane<" in html
    # colour masks get overlays too: multiclass panels in the dataset's own colours
    assert html.count('<figure class="case case-wide">') == 3
    assert "palette &#x27;voc&#x27;" in html


def test_unknown_colour_is_one_line_exit_2_nothing_lost(
    voc_folders, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, _, _ = voc_folders
    image = np.asarray(Image.open(gt_dir / "c1.png")).copy()
    image[5, 7] = (1, 2, 3)
    Image.fromarray(image).save(gt_dir / "c1.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("earlier run")
    assert main(_argv(pred_dir, gt_dir, out, "--class-names", "voc", "--palette", "voc")) == 2
    line = _error_line(capsys)
    assert "c1.png" in line
    assert "(1, 2, 3)" in line
    assert "(row, col) (5, 7)" in line
    assert "'voc'" in line
    assert (out / "summary.json").read_text() == "earlier run"


def test_rgb_without_palette_says_to_pass_one(voc_folders, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pred_dir, gt_dir, _, _ = voc_folders
    assert main(_argv(pred_dir, gt_dir, tmp_path / "out", "--num-classes", "21")) == 2
    assert "pass a palette" in _error_line(capsys)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--num-classes", "5", "--class-names", "voc"],
            "`--num-classes` must be 21 with `--class-names voc`",
        ),
        (
            ["--num-classes", "3", "--class-names", "road,sky"],
            "`--class-names` must have one name per class (3), got 2",
        ),
        (["--class-names", "road,,sky"], "`--class-names` must be non-empty names"),
        (["--class-names", "voc", "--multilabel"], "`--multilabel` must not be set with"),
        (["--num-classes", "2", "--palette", "coco"], "`--palette` must be one of 'voc'"),
        (["--num-classes", "2", "--palette", "nowhere.json"], "nowhere.json"),
    ],
)
def test_bad_flags_fail_before_any_file_is_read(tmp_path: Path, capsys, extra, message) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "does-not-exist"
    out = tmp_path / "out"
    assert main(_argv(missing, missing, out, *extra)) == 2
    line = _error_line(capsys)
    assert message in line
    assert "does-not-exist" not in line  # the flags are checked before the folders are read
    assert not out.exists()


def test_cityscapes_sets_classes_and_ignore(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    labels = np.array([[0, 1, 18], [255, 13, 13]], np.uint8)
    for role in ("pred", "gt"):
        (tmp_path / role).mkdir()
        Image.fromarray(labels).save(tmp_path / role / "a.png")
    out = tmp_path / "out"
    assert main(_argv(tmp_path / "pred", tmp_path / "gt", out, "--class-names", "cityscapes")) == 0
    summary = json.loads((out / "summary.json").read_text())
    options = summary["conventions"]["options"]
    assert (options["num_classes"], options["ignore_index"]) == (19, 255)
    assert summary["metrics"]["iou"]["class_names"]["13"] == "car"
    assert "traffic light" in capsys.readouterr().out


def test_name_files_and_palette_file(tmp_path: Path) -> None:
    colours = {0: (10, 10, 10), 1: (200, 0, 0), 2: (0, 0, 200)}
    (tmp_path / "palette.csv").write_text(
        "id,r,g,b\n" + "".join(f"{k},{r},{g},{b}\n" for k, (r, g, b) in colours.items())
    )
    table = np.array([colours[k] for k in range(3)], np.uint8)
    target = np.array([[0, 1, 2, 2], [1, 1, 0, 2]])
    pred = np.array([[0, 1, 2, 1], [1, 1, 0, 2]])
    for role, labels in (("pred", pred), ("gt", target)):
        (tmp_path / role).mkdir()
        Image.fromarray(table[labels], mode="RGB").save(tmp_path / role / "a.png")
    (tmp_path / "names.json").write_text(json.dumps({"0": "bg", "1": "cell", "2": "nucleus"}))
    (tmp_path / "names.txt").write_text("bg\ncell\nnucleus\n")
    counts = segscore.confusion(pred, target, num_classes=3)
    for names in ("names.json", "names.txt"):
        out = tmp_path / f"out-{names}"
        argv = _argv(tmp_path / "pred", tmp_path / "gt", out, "--num-classes", "3")
        argv += ["--class-names", str(tmp_path / names), "--palette", str(tmp_path / "palette.csv")]
        assert main([*argv, "--no-report"]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["metrics"]["iou"]["class_names"] == {"0": "bg", "1": "cell", "2": "nucleus"}
        assert summary["metrics"]["iou"]["value"] == segscore.score(counts, "iou").value


def test_api_helpers() -> None:
    opts = label_set_options("ade20k", include_background=False)
    assert (opts.num_classes, opts.ignore_index, opts.class_names[-1]) == (150, 255, "flag")
    assert label_set_options("voc", ignore_index=254).ignore_index == 254
    with pytest.raises(InputError, match="`class_names` must be one label set"):
        label_set_options("voc", class_names=("a",))
    settings = make_settings(options=opts, palette="cityscapes")
    assert settings.palette is not None
    assert settings.palette.ids[:2] == (0, 1)
    assert settings.as_dict()["palette"] == "cityscapes"
    runner = runner_options(settings)  # what the journal records and the workers receive
    record = json.loads(json.dumps(options_record(runner)))
    assert record["options"]["palette"]["name"] == "cityscapes"
    assert pickle.loads(pickle.dumps(runner)) == runner

"""The reports laid out by headless Chromium at 760, 1280 and 1920 px: nothing cut off or overlapping.

Three real reports, made by the command line from PNG files: a multiclass evaluation (the 19
Cityscapes class names, a boundary metric with infinite values, bootstrap intervals: the widest
summary table, the most crowded bar charts and the deepest conventions record), an object evaluation (``--instances``) and a comparison of
two runs, and volumes (NIfTI, anisotropic spacing in mm: three-slice figures). One Chromium run loads each at each width in an iframe; a probe script in each page
measures it (:mod:`tests.report.layout_probe` lists what counts as a problem).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.report.conftest import CHROMIUM, chromium_command
from tests.report.layout_probe import harness, probe_copy, read_results

from segscore.cli import main

WIDTHS = (760, 1280, 1920)
PAGES = ("report", "objects", "compare", "volumes")


def _disk(shape: tuple[int, int], cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.asarray((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r)


def _label_maps(root: Path, n: int = 14) -> None:
    """Multiclass label maps: three classes, one of them sometimes absent from the truth."""
    rng = np.random.default_rng(7)
    shape = (72, 96)
    for folder in ("gt", "pred_a", "pred_b"):
        (root / folder).mkdir(parents=True)
    for i in range(n):
        gt = np.zeros(shape, np.uint8)
        for c in (1, 2, 3):
            gt[
                _disk(shape, *rng.uniform(14, 58, 1), *rng.uniform(14, 82, 1), rng.uniform(4, 14))
            ] = c
        if i % 4 == 0:
            gt[gt == 3] = 0  # class 3 absent: a stray prediction gives IoU 0 at accuracy ~1
        for folder, noise, shift in (("pred_a", 0.01, 3), ("pred_b", 0.004, 1)):
            pred = np.roll(gt, (int(rng.integers(0, shift + 1)),) * 2, axis=(0, 1))
            flip = rng.random(shape) < noise
            pred[flip] = rng.integers(0, 4, int(flip.sum()))
            if i % 5 == 0:
                pred[pred == 2] = 0  # class 2 missed: an infinite HD95
            Image.fromarray(pred).save(root / folder / f"case_{i:03d}.png")
        Image.fromarray(gt).save(root / "gt" / f"case_{i:03d}.png")


def _instance_maps(root: Path, n: int = 6) -> None:
    """Objects from 4 to 600 pixels (a log size axis), some missed, some invented."""
    rng = np.random.default_rng(11)
    shape = (96, 96)
    for folder in ("gt_obj", "pred_obj"):
        (root / folder).mkdir(parents=True)
    for i in range(n):
        gt = np.zeros(shape, np.uint16)
        pred = np.zeros(shape, np.uint16)
        for k in range(1, 16):
            r = float(rng.choice([1.2, 2.5, 5.0, 9.0, 14.0]))
            m = _disk(shape, *rng.uniform(4, 92, 2), r) & (gt == 0)
            if not m.any():
                continue
            gt[m] = k
            if rng.random() > 0.2:
                pred[np.roll(m, tuple(rng.integers(-2, 3, 2)), axis=(0, 1)) & (pred == 0)] = k
        pred[_disk(shape, *rng.uniform(6, 90, 2), 3.0) & (pred == 0)] = 900
        Image.fromarray(gt).save(root / "gt_obj" / f"c{i:02d}.png")
        Image.fromarray(pred).save(root / "pred_obj" / f"c{i:02d}.png")


def _volumes(root: Path, n: int = 4) -> None:
    """NIfTI volumes with anisotropic spacing in mm: the three-slice figures and distance units."""
    import nibabel as nib

    rng = np.random.default_rng(5)
    for folder in ("gt_vol", "pred_vol"):
        (root / folder).mkdir(parents=True)
    affine = np.diag([0.8, 1.0, 2.5, 1.0])
    for i in range(n):
        target = np.zeros((48, 40, 24), np.uint8)
        target[8:40, 6:34, 4:20] = 1
        pred = target.copy()
        z, y, x = (int(v) for v in rng.integers(10, 18, 3))
        pred[z : z + 8, y : y + 6, x // 2 : x // 2 + 5] = 0  # a hole: the worst region
        pred[40:44, 10:20, 6:12] = 1  # and a false positive outside
        nib.save(nib.Nifti1Image(pred, affine), root / "pred_vol" / f"v{i}.nii.gz")
        nib.save(nib.Nifti1Image(target, affine), root / "gt_vol" / f"v{i}.nii.gz")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layout")
    _label_maps(root)
    _instance_maps(root)
    _volumes(root)
    # Cityscapes' 19 class names: long names, many narrow bars, most of them undefined (n/a).
    common = ["--class-names", "cityscapes"]
    common += ["--metrics", "iou,dice,accuracy,hd95", "--bootstrap", "50", "--jobs", "1"]
    for run in ("a", "b"):
        gt, pred, out = str(root / "gt"), str(root / f"pred_{run}"), str(root / f"run_{run}")
        assert main(["evaluate", "--pred", pred, "--gt", gt, "--out", out, *common]) == 0
    assert (
        main(["compare", str(root / "run_a"), str(root / "run_b"), "--out", str(root / "cmp")]) == 0
    )
    objects = ["--pred", str(root / "pred_obj"), "--gt", str(root / "gt_obj"), "--jobs", "1"]
    assert main(["evaluate", *objects, "--instances", "labels", "--out", str(root / "obj")]) == 0
    volumes = ["--pred", str(root / "pred_vol"), "--gt", str(root / "gt_vol"), "--jobs", "1"]
    volumes += ["--metrics", "iou,dice,hd95,assd", "--out", str(root / "vol")]
    assert main(["evaluate", *volumes]) == 0
    return {
        "report": root / "run_a" / "report.html",
        "volumes": root / "vol" / "report.html",
        "objects": root / "obj" / "report.html",
        "compare": root / "cmp" / "compare.html",
    }


@pytest.fixture(scope="module")
def layout(reports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every page at every width, measured in one Chromium run."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("/usr/bin/chromium is absent; install it with `bash scripts/install-chromium`")
    work = tmp_path_factory.mktemp("layout-probe")
    pages = {name: probe_copy(path, work / f"{name}.html") for name, path in reports.items()}
    page = harness(pages, WIDTHS, work / "harness.html")
    cmd = chromium_command(page, work / "profile", "--window-size=1920,900")
    cmd[-1:-1] = ["--virtual-time-budget=20000", "--dump-dom"]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True).stdout
    return read_results(dom)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES)
def test_nothing_overflows_or_overlaps(layout: dict[str, Any], page: str, width: int) -> None:
    result = layout[f"{page}@{width}"]
    assert result["width"] == width  # the frame's viewport is the width under test
    assert result["scroll"] <= width  # the page never scrolls sideways
    assert result["charts"] >= 2
    assert result["texts"] > 20  # the charts' texts were measured
    problems = "\n".join(result["problems"])
    assert not problems, f"{page} at {width} px:\n{problems}"

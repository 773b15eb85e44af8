"""`segscore evaluate` draws multiclass PNGs with class colours and volumes as three slices."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.cli import main
from segscore.data.label_sets import get_label_set
from segscore.report.class_overlay import ERROR_COLOR, PANEL_GAP
from segscore.report.overlay import ignore_stripes


def _figures(html: str) -> list[str]:
    """The HTML of each case figure (up to the next one, or the end of the section)."""
    cases = html[html.index('<section id="cases"') :]
    cases = cases[: cases.index("</section>")]
    return cases.split('<figure class="case')[1:]


def _png(uri: str) -> np.ndarray:
    data = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _evaluate(pred: Path, gt: Path, out: Path, *extra: str) -> str:
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--out", str(out), *extra]
    assert main(argv) == 0
    return (out / "report.html").read_text(encoding="utf-8")


def test_multiclass_pngs_get_class_colours_and_a_legend(tmp_path: Path) -> None:
    voc = get_label_set("voc")
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    for i in range(3):
        target = np.zeros((20, 24), np.uint8)
        target[2:10, 2:10] = 15  # person
        target[12:18, 12:22] = 7  # car
        target[0, :] = 255  # VOC boundary: ignored
        pred = target.copy()
        if i == 0:  # the worst case: part of the person predicted as a dog
            pred[2:10, 2:6] = 12
        Image.fromarray(target).save(tmp_path / "g" / f"c{i}.png")
        Image.fromarray(pred).save(tmp_path / "p" / f"c{i}.png")
    html = _evaluate(tmp_path / "p", tmp_path / "g", tmp_path / "out", "--class-names", "voc")
    figures = _figures(html)
    assert len(figures) == 3
    worst = next(f for f in figures if 'title="c0"' in f)
    legend = re.findall(r"</span>([a-z]+) <code>(\d+)</code></li>", worst)
    assert legend == [("background", "0"), ("car", "7"), ("dog", "12"), ("person", "15")]
    other = next(f for f in figures if 'title="c1"' in f)
    assert "dog" not in other  # only the classes of that case
    assert "voc colours" in html
    rgb = _png(re.search(r'src="([^"]+)"', worst).group(1))  # type: ignore[union-attr]
    k = rgb.shape[0] // 20
    w = 24 * k
    gt, pred, err = (rgb[:, j * (w + PANEL_GAP) : j * (w + PANEL_GAP) + w] for j in range(3))
    assert (gt[2 * k : 10 * k, 2 * k : 10 * k] == voc.colours[15]).all()
    assert (pred[2 * k : 10 * k, 2 * k : 6 * k] == voc.colours[12]).all()
    assert (gt[12 * k : 18 * k, 12 * k : 22 * k] == voc.colours[7]).all()
    black = (err == [int(ERROR_COLOR[i : i + 2], 16) for i in (1, 3, 5)]).all(axis=2)
    assert black.sum() == 8 * 4 * k * k  # exactly the confused pixels


def test_nifti_volumes_get_three_slices_in_mm(tmp_path: Path) -> None:
    nib = pytest.importorskip("nibabel")
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    spacing = (0.8, 1.0, 2.5)
    for i in range(2):
        target = np.zeros((20, 24, 16), np.uint8)
        target[4:16, 5:19, 3:13] = 1
        pred = target.copy()
        pred[8:12, 9 + i : 13 + i, 6:10] = 0  # a hole: the largest disagreement
        affine = np.diag([*spacing, 1.0])
        nib.save(nib.Nifti1Image(pred, affine), tmp_path / "p" / f"v{i}.nii.gz")
        nib.save(nib.Nifti1Image(target, affine), tmp_path / "g" / f"v{i}.nii.gz")
    html = _evaluate(tmp_path / "p", tmp_path / "g", tmp_path / "out", "--metrics", "iou,hd95")
    figures = _figures(html)
    assert len(figures) == 2
    for figure in figures:
        point = tuple(
            int(v)
            for v in re.search(r"slices through voxel \((\d+), (\d+), (\d+)\)", figure).groups()  # type: ignore[union-attr]
        )
        assert 8 <= point[0] < 12
        assert 6 <= point[2] < 10
        assert f"<strong>axial</strong> · axis 2 = {point[2]} · 24 × 16 mm" in figure
        assert f"<strong>coronal</strong> · axis 1 = {point[1]} · 40 × 16 mm" in figure
        assert f"<strong>sagittal</strong> · axis 0 = {point[0]} · 40 × 24 mm" in figure
        assert "spacing 0.8 × 1 × 2.5 mm" in figure
        uris = re.findall(r'src="([^"]+)"', figure)
        coronal = _png(uris[1])
        h, w = coronal.shape[:2]
        assert abs(h - w * (16 * 2.5) / (20 * 0.8)) <= 1
    # the distances say their unit: mm, from the NIfTI header
    assert '<span class="unit">(mm)</span> <code>hd95</code>' in html
    assert '<span class="unit">(mm)</span> <code>iou</code>' not in html
    assert "(mm)</span></div>" in html  # the key-figure card too
    assert "HD95 (mm) per case" in html  # and the histogram's axis
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "distance_unit" not in summary["metrics"]["hd95"]  # the report's, not the record's
    given = _evaluate(
        tmp_path / "p",
        tmp_path / "g",
        tmp_path / "out2",
        "--metrics",
        "iou,hd95",
        "--spacing",
        "1,1,1",
    )
    assert '<span class="unit">(spacing units)</span> <code>hd95</code>' in given
    assert "spacing 1 × 1 × 1 spacing units" in given


def test_png_distances_are_in_pixels(tmp_path: Path) -> None:
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    for i in range(2):
        target = np.zeros((16, 16), np.uint8)
        target[4:12, 4:12] = 255
        Image.fromarray(target).save(tmp_path / "g" / f"c{i}.png")
        Image.fromarray(np.roll(target, i + 1, axis=1)).save(tmp_path / "p" / f"c{i}.png")
    html = _evaluate(tmp_path / "p", tmp_path / "g", tmp_path / "out", "--metrics", "iou,hd95")
    assert '<span class="unit">(px)</span> <code>hd95</code>' in html
    assert html.count('<figure class="case">') == 2  # binary: today's contour overlays


def test_binary_labels_with_ignore_are_striped(tmp_path: Path) -> None:
    for d in ("p", "g"):
        (tmp_path / d).mkdir()
    target = np.zeros((16, 16), np.uint8)
    target[4:10, 4:10] = 1
    target[:, 13:] = 255
    pred = np.where(target == 255, 1, target).astype(np.uint8)  # wrong where ignored: no error
    Image.fromarray(target).save(tmp_path / "g" / "c.png")
    Image.fromarray(pred).save(tmp_path / "p" / "c.png")
    html = _evaluate(
        tmp_path / "p",
        tmp_path / "g",
        tmp_path / "out",
        "--num-classes",
        "2",
        "--ignore-index",
        "255",
        "--no-include-background",
    )
    (figure,) = _figures(html)
    rgb = _png(re.search(r'src="([^"]+)"', figure).group(1))  # type: ignore[union-attr]
    k = rgb.shape[0] // 16
    assert np.array_equal(rgb[:, 13 * k + 1 :], ignore_stripes(rgb.shape)[:, 13 * k + 1 :])
    assert "IoU 1.000" in figure  # the ignored pixels are not errors
    assert "ignore label (not scored)" in html


def test_class_style_takes_the_palette_then_the_label_set_then_the_default() -> None:
    from segscore.evaluation.visuals import class_style
    from segscore.io.palette import Palette
    from segscore.metrics.options import CountingOptions

    assert class_style(CountingOptions(num_classes=2)) is None  # binary: contours
    assert class_style(CountingOptions()) is None
    voc = get_label_set("voc")
    named = class_style(CountingOptions(num_classes=21, class_names=voc.class_names))
    assert named is not None
    assert [named.colour(k) for k in range(21)] == list(voc.colours)
    palette = Palette("mine", ((9, 9, 9), (1, 2, 3), (4, 5, 6), (7, 8, 9)), (0, 1, 2, 1))
    mine = class_style(CountingOptions(num_classes=3, ignore_index=255), palette)
    assert mine is not None
    assert [mine.colour(k) for k in range(3)] == [(9, 9, 9), (1, 2, 3), (4, 5, 6)]
    assert (mine.source, mine.ignore_index) == ("palette 'mine'", 255)
    plain = class_style(CountingOptions(num_classes=3))
    assert plain is not None
    assert (plain.hex(0), plain.hex(1), plain.name(2)) == ("#D9D9D9", "#E69F00", "class 2")

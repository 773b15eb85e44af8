"""report.html of an object run (`evaluate --instances`): object overlays, charts and counts.

References: a per-object brute force with scipy's binary morphology for every overlay pixel
(the overlay itself uses rank filters over label maps), score_tables for every number of the F1
curve, full-size masks (one per object) for the merge and split counts, and headless Chromium
for the layout at 760 px.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from scipy import ndimage
from tests.metrics._instances import batch

from segscore import CountingOptions, InputError
from segscore.evaluation import evaluate_folder
from segscore.evaluation.objects import case_object_maps, object_report
from segscore.evaluation.outputs import write_outputs
from segscore.metrics.instance.metrics import score_tables
from segscore.report.html import render_report
from segscore.report.overlay import (
    ERROR_FILL_ALPHA,
    FALSE_POSITIVE_COLOR,
    MATCHED_COLOR,
    MISSED_COLOR,
    CaseObjects,
    object_overlay_rgb,
)

Chromium = Callable[..., subprocess.CompletedProcess[str]]
NS = "{http://www.w3.org/2000/svg}"
LEGEND = ("matched", "missed target (false negative)", "false-positive prediction")
CHARTS = ("Object F1 against the IoU threshold", "Object size against matched IoU")
THRESHOLDS = ("0.5", "0.55", "0.6", "0.65", "0.7", "0.75", "0.8", "0.85", "0.9", "0.95")


def _rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]


def _save(folder: Path, arrays: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, a in enumerate(arrays):
        Image.fromarray(a).save(folder / f"case{i:02d}.png")


def _dense(a: np.ndarray) -> np.ndarray:
    """Ids 1..n per image (16-bit PNGs), the objects kept."""
    out = np.zeros(a.shape, np.uint16)
    for i, img in enumerate(a):
        _, inv = np.unique(img, return_inverse=True)
        out[i] = inv.reshape(img.shape) + (0 if img.min() == 0 else 1)
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """Touching objects with misses, merges, splits and false positives: labels and masks."""
    pred, target = batch(5, n_images=6, shape=(40, 48), n=9)
    pred, target = _dense(pred), _dense(target)
    root = tmp_path_factory.mktemp("objects-report")
    _save(root / "pred", pred)
    _save(root / "gt", target)
    _save(root / "pred_mask", ((pred > 0) * 255).astype(np.uint8))
    _save(root / "gt_mask", ((target > 0) * 255).astype(np.uint8))
    return root, pred, target


@pytest.fixture(scope="module")
def labels_run(folders: tuple[Path, np.ndarray, np.ndarray]) -> Any:
    root, _, _ = folders
    return evaluate_folder(
        root / "pred", root / "gt", metrics="iou,f1@0.5,pq", instances="labels", jobs=1
    )


def _report(result: Any, out: Path) -> str:
    write_outputs(result, out)
    return (out / "report.html").read_text(encoding="utf-8")


def _section(doc: str, anchor: str) -> str:
    return doc.split(f'<section id="{anchor}"', 1)[1].split("</section>", 1)[0]


def _overlays(doc: str) -> dict[str, np.ndarray]:
    """The embedded overlay of each case, decoded, by case name."""
    out = {}
    for uri, alt in re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)"', doc):
        name = re.match(r"Overlay of case (\S+): ", alt)
        assert name is not None, alt
        with Image.open(io.BytesIO(base64.b64decode(uri))) as image:
            out[name.group(1)] = np.asarray(image.convert("RGB"))
    return out


# ---------------------------------------------------------------------------------------------
# What the report holds


def test_legend_and_charts_only_when_objects_are_scored(
    folders: tuple[Path, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    root, _, _ = folders
    common = {"metrics": "iou,f1@0.5,aji", "jobs": 1}
    plain = evaluate_folder(root / "pred_mask", root / "gt_mask", metrics="iou", jobs=1)
    objects = evaluate_folder(
        root / "pred_mask", root / "gt_mask", instances="components", **common
    )
    with_objects = _report(objects, tmp_path / "objects")
    without = _report(plain, tmp_path / "plain")
    legend = _section(with_objects, "cases").split("</p>", 2)[1]
    for entry in LEGEND:
        assert f'<span class="legend-entry">{entry} ' in legend
        assert f">{entry} " not in without
    assert "legend-objects" not in without
    for title in CHARTS:
        assert with_objects.count(f">{title}</text>") == 1
        assert title not in without
    assert '<section id="objects"' in with_objects
    assert 'href="#objects"' in with_objects
    assert '<section id="objects"' not in without
    assert "ground truth contour" in without
    assert "ground truth contour" not in with_objects
    assert "Cases ranked by F1@0.5" in with_objects
    assert with_objects.count("matched objects in green") == with_objects.count("<img ") > 0
    assert "Cases ranked by IoU" in without
    for doc in (with_objects, without):
        for block in re.findall(r"<svg\b.*?</svg>", doc, flags=re.S):
            ET.fromstring(block)


def test_worst_cases_are_the_lowest_object_f1(labels_run: Any, tmp_path: Path) -> None:
    doc = _report(labels_run, tmp_path)
    f1 = dict(zip(labels_run.evaluation.names, labels_run.scores["f1@0.5"].per_image, strict=True))
    worst = _section(doc, "cases").split("<h3>Best", 1)[0]
    shown = re.findall(r'<span class="case-name" title="([^"]+)">', worst)
    assert [f1[n] for n in shown] == sorted(f1.values())[: len(shown)]
    for name in shown:
        assert f"F1@0.5 {f1[name]:.3f}" in worst


def test_a_missed_object_is_drawn_in_the_missed_colour(tmp_path: Path) -> None:
    target = np.zeros((40, 48), np.uint16)
    pred = np.zeros((40, 48), np.uint16)
    target[5:15, 5:15] = 3  # matched by prediction 2
    pred[6:15, 5:15] = 2
    target[25:33, 30:40] = 8  # missed: nothing predicted there
    pred[26:36, 5:12] = 9  # false positive: nothing to find there
    _save(tmp_path / "pred", pred[None])
    _save(tmp_path / "gt", target[None])
    result = evaluate_folder(
        tmp_path / "pred", tmp_path / "gt", metrics="f1@0.5", instances="labels", jobs=1
    )
    rgb = _overlays(_report(result, tmp_path / "out"))["case00"]
    k = rgb.shape[0] // 40
    assert rgb.shape == (40 * k, 48 * k, 3)
    assert k == 6  # 48 px enlarged to reach 256: the lines are 3 px thick
    missed, fp, matched = _rgb(MISSED_COLOR), _rgb(FALSE_POSITIVE_COLOR), _rgb(MATCHED_COLOR)
    assert rgb[25 * k - 1, 35 * k].tolist() == missed  # just above the missed object
    assert rgb[33 * k, 35 * k].tolist() == missed  # just below it
    assert rgb[26 * k, 8 * k].tolist() == fp  # the false positive's first row
    assert rgb[5 * k - 1, 10 * k].tolist() == matched  # just above the matched target
    assert rgb[6 * k, 10 * k].tolist() == matched  # the matched prediction's first row
    gray = rgb[10 * k, 10 * k].astype(float)  # inside the matched target: gray, untinted
    assert gray.tolist() == [gray[0]] * 3
    inside = rgb[29 * k, 35 * k].astype(float)  # inside the missed target: tinted
    tint = (1 - ERROR_FILL_ALPHA) * gray + ERROR_FILL_ALPHA * np.array(missed)
    assert np.abs(inside - tint).max() <= 1
    colours = {tuple(c) for c in rgb[20 * k :, 28 * k :].reshape(-1, 3).tolist()}
    assert tuple(fp) not in colours  # the missed object's corner holds no other fate
    assert tuple(matched) not in colours


@pytest.mark.parametrize("mode", ["labels", "components"])
def test_ignored_pixels_are_no_object_and_changed_files_fall_back(
    mode: str, tmp_path: Path
) -> None:
    target = np.array([[7, 7, 9, 9, 3, 3, 3]] * 3, np.uint8)  # 9: ignored
    pred = np.array([[1, 1, 0, 5, 5, 0, 0]] * 3, np.uint8)
    if mode == "components":
        target = np.where(target == 9, 9, target > 0).astype(np.uint8)
        pred = (pred > 0).astype(np.uint8)
    _save(tmp_path / "pred", pred[None])
    _save(tmp_path / "gt", target[None])
    result = evaluate_folder(
        tmp_path / "pred",
        tmp_path / "gt",
        metrics="f1@0.5",
        instances=mode,
        options=CountingOptions(num_classes=2, ignore_index=9),
        jobs=1,
    )
    table = result.evaluation.objects[0]
    objects = case_object_maps(pred, target, table, result.settings)
    assert objects is not None
    assert (objects.target_labels[target == 9] == 0).all()
    assert (objects.target_labels[(target != 9) & (target > 0)] > 0).all()
    rows = result.object_rows()[0]
    for role, flags in (("target", objects.target_matched), ("prediction", objects.pred_matched)):
        statuses = [r["status"] == "matched" for r in rows if r["object"] == role]
        assert flags.tolist() == statuses
    assert "matched objects in green" in _report(result, tmp_path / "out")
    _save(tmp_path / "pred", (pred * 0)[None])  # the file changed since the run
    doc = _report(result, tmp_path / "again")
    assert "ground truth contour in blue" in doc  # the masks are drawn, as without objects
    assert "legend-objects" not in doc  # no case drawn object by object: no object legend
    assert '<section id="objects"' in doc  # the section comes from the run's tables


# ---------------------------------------------------------------------------------------------
# The overlay against a brute force, object by object


def _brute_overlay(objects: CaseObjects, k: int) -> np.ndarray:
    t = np.kron(objects.target_labels, np.ones((k, k), int))
    p = np.kron(objects.pred_labels, np.ones((k, k), int))
    th = max(1, round(max(t.shape) / 96))
    square = np.ones((3, 3), bool)
    out = np.where(t > 0, 0.62, 0.93)[..., None].repeat(3, axis=2)  # gray, ground truth darker
    a = ERROR_FILL_ALPHA
    for labels, flags, colour in (
        (t, objects.target_matched, MISSED_COLOR),
        (p, objects.pred_matched, FALSE_POSITIVE_COLOR),
    ):
        for i, matched in enumerate(flags, start=1):
            if not matched:
                out[labels == i] = (1 - a) * out[labels == i] + a * np.array(_rgb(colour)) / 255
    rgb = np.round(out * 255).astype(np.uint8)
    for i, matched in enumerate(objects.target_matched, start=1):  # larger ids drawn last
        own = t == i
        near = ndimage.binary_dilation(own, square, iterations=th)
        others = ndimage.binary_dilation((t > 0) & ~own, square, iterations=th)
        line = (near & (t == 0)) | (own & others)
        rgb[line] = _rgb(MATCHED_COLOR if matched else MISSED_COLOR)
    for i, matched in enumerate(objects.pred_matched, start=1):
        own = p == i
        line = own & ~ndimage.binary_erosion(own, square, iterations=th, border_value=0)
        rgb[line] = _rgb(MATCHED_COLOR if matched else FALSE_POSITIVE_COLOR)
    return rgb


@given(
    target=arrays(np.int64, (9, 11), elements=st.integers(0, 4)),
    pred=arrays(np.int64, (9, 11), elements=st.integers(0, 3)),
    flags=st.lists(st.booleans(), min_size=7, max_size=7),
    display=st.sampled_from([11, 40, 200]),
)
def test_object_overlay_equals_a_brute_force(
    target: np.ndarray, pred: np.ndarray, flags: list[bool], display: int
) -> None:
    objects = CaseObjects(target, pred, np.array(flags[:4]), np.array(flags[4:]))
    rgb = object_overlay_rgb(objects, display=display)
    k = rgb.shape[0] // 9
    np.testing.assert_array_equal(rgb, _brute_overlay(objects, k))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (np.zeros((2, 2, 2), int), np.zeros((2, 2, 2), int)),
            r"`target_labels` must be a non-empty 2-D integer array, got int64 \(2, 2, 2\)",
        ),
        (
            (np.zeros((2, 2)), np.zeros((2, 2), int)),
            r"`target_labels` must be a non-empty 2-D integer array, got float64 \(2, 2\)",
        ),
        (
            (np.zeros((2, 2), int), np.zeros((2, 3), int)),
            r"`pred_labels` and `target_labels` must have the same shape, got \(2, 3\) and \(2, 2\)",
        ),
        (
            (np.full((2, 2), 2), np.zeros((2, 2), int)),
            r"`target_labels` must lie in \[0, 1\] \(one flag per object in `target_matched`\), "
            r"got \[2, 2\]",
        ),
    ],
)
def test_object_overlay_errors(args: tuple[np.ndarray, np.ndarray], message: str) -> None:
    with pytest.raises(InputError, match=message):
        object_overlay_rgb(CaseObjects(args[0], args[1], np.array([True]), np.array([False])))


def test_an_image_is_the_background() -> None:
    t = np.zeros((6, 6), int)
    t[2:4, 2:4] = 1
    image = np.full((6, 6), 0.2)
    rgb = object_overlay_rgb(
        CaseObjects(t, np.zeros_like(t), np.array([False]), np.array([], bool)), image, display=6
    )
    assert rgb[5, 0].tolist() == [51, 51, 51]  # far from every object: the image
    assert rgb[1, 2].tolist() == _rgb(MISSED_COLOR)
    with pytest.raises(InputError, match=r"`image` must have shape"):
        object_overlay_rgb(
            CaseObjects(t, t, np.array([True]), np.array([True])), np.zeros((3, 3)), display=6
        )


# ---------------------------------------------------------------------------------------------
# Charts and counts


def _titles(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [
        "".join(c.itertext()) for c in root.iter(f"{NS}circle") if c.find(f"{NS}title") is not None
    ]


def test_curve_numbers_equal_score_tables(labels_run: Any, tmp_path: Path) -> None:
    tables = labels_run.evaluation.objects
    names = [f"{m}@{t}" for m in ("f1", "dsb") for t in THRESHOLDS] + ["dsb@0.5:0.95"]
    ref = score_tables(tables, names, aggregation="pooled")
    report = object_report(labels_run.evaluation, labels_run.settings)
    assert report is not None
    assert report.thresholds == tuple(float(t) for t in THRESHOLDS)
    assert report.f1 == tuple(ref[f"f1@{t}"].value for t in THRESHOLDS)
    assert report.dsb == tuple(ref[f"dsb@{t}"].value for t in THRESHOLDS)
    assert report.dsb_mean == ref["dsb@0.5:0.95"].value
    assert report.f1_at_threshold == labels_run.summary["metrics"]["f1@0.5"]["pooled"]
    section = _section(_report(labels_run, tmp_path), "objects")
    curve = re.findall(r"<svg\b.*?</svg>", section, flags=re.S)[0]
    assert CHARTS[0] in curve
    shown = {}
    for title in _titles(curve):
        series, point = title.rsplit(": ", 1)
        x, y = (float(v) for v in point.strip("()").split(", "))
        shown[series, x] = y
    for t in THRESHOLDS:
        assert shown["F1 (pooled)", float(t)] == pytest.approx(ref[f"f1@{t}"].value, abs=5e-5)
        assert shown["DSB: TP/(TP+FP+FN)", float(t)] == pytest.approx(
            ref[f"dsb@{t}"].value, abs=5e-5
        )
    assert f"is <strong>{ref['dsb@0.5:0.95'].value:.3f}</strong>" in section
    assert f"object F1@0.5 is <strong>{report.f1_at_threshold:.3f}</strong>" in section
    pixel_iou = labels_run.summary["metrics"]["iou"]["pooled"]
    assert f"Pixel IoU is <strong>{pixel_iou:.3f}</strong>" in section


def test_scatter_has_every_target_object(
    labels_run: Any, folders: tuple[Path, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    _, _, target = folders
    section = _section(_report(labels_run, tmp_path), "objects")
    scatter = re.findall(r"<svg\b.*?</svg>", section, flags=re.S)[1]
    root = ET.fromstring(scatter)
    points = [c for c in root.iter(f"{NS}circle") if c.get("class") == "point"]
    fills = [c.get("fill") for c in points]
    rows = labels_run.object_rows()[0]
    targets = [r for r in rows if r["object"] == "target"]
    assert len(points) == len(targets) == sum(len(np.unique(t)) - 1 for t in target)
    assert fills.count(MATCHED_COLOR) == sum(r["status"] == "matched" for r in targets)
    assert fills.count(MISSED_COLOR) == sum(r["status"] == "missed" for r in targets)
    for point, row in zip(points, targets, strict=True):  # same order: case, then id
        tip = "".join(point.itertext())
        assert tip.startswith(f"{row['case']}: target {row['id']}: ({row['size']}, ")
        iou = float(tip.rsplit(", ", 1)[1].rstrip(")"))
        assert iou == pytest.approx(row["iou"] if row["status"] == "matched" else 0.0, abs=5e-5)


def test_merge_and_split_counts_equal_a_brute_force(
    labels_run: Any, folders: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    _, pred, target = folders
    merged = split = 0
    for p, t in zip(pred, target, strict=True):
        p_ids, t_ids = [i for i in np.unique(p) if i], [i for i in np.unique(t) if i]
        for i in p_ids:  # a prediction covering most of two or more targets
            merged += sum(2 * np.sum((p == i) & (t == j)) > np.sum(t == j) for j in t_ids) >= 2
        for j in t_ids:  # a target holding most of two or more predictions
            split += sum(2 * np.sum((p == i) & (t == j)) > np.sum(p == i) for i in p_ids) >= 2
    report = object_report(labels_run.evaluation, labels_run.settings)
    assert report is not None
    assert (report.n_merged, report.n_split) == (merged, split)
    assert merged > 0  # the data has merges and splits (tests/metrics/_instances.py)
    assert split > 0
    doc = render_report(labels_run.summary, labels_run.rows, objects=report)
    assert f"<strong>{merged}</strong> of {report.n_pred} predicted objects each cover" in doc
    assert f"<strong>{split}</strong> of {report.n_target} target objects each hold" in doc


def test_many_objects_are_sampled_and_sizes_go_log() -> None:
    from segscore.report.objects import MAX_POINTS, ObjectReport, object_section

    n = 3 * MAX_POINTS
    sizes = np.geomspace(1, 50_000, n).round().astype(np.int64)
    matched = np.arange(n) % 3 > 0
    report = ObjectReport(
        (0.5,), (0.5,), (0.3,), 0.3, sizes, np.where(matched, 0.8, 0.0), matched,
        tuple(f"c: target {i}" for i in range(n)), 0.5, 0.5, n, 10, 0, 0,
    )  # fmt: skip
    _, body = object_section(report)
    scatter = re.findall(r"<svg\b.*?</svg>", body, flags=re.S)[1]
    assert scatter.count('class="point"') == MAX_POINTS
    assert f"{MAX_POINTS:,} of {n:,} target objects drawn" in body
    assert "log scale" in scatter
    assert ">10⁵</text>" in scatter


# ---------------------------------------------------------------------------------------------
# In a browser


def test_chromium_nothing_overflows_at_760px(
    chromium: Chromium, labels_run: Any, tmp_path: Path
) -> None:
    doc = _report(labels_run, tmp_path / "out")
    # Every element lies inside its section (a chart's marks inside their chart: an SVG clips
    # what sticks out, such as a long tick label), and no HTML box overflows its text.
    probe = (
        "<script>window.addEventListener('load',function(){var bad=[];"
        "document.querySelectorAll('#objects *, #cases *').forEach(function(e){"
        "var r=e.getBoundingClientRect(),"
        "s=(e.ownerSVGElement||e.closest('section')).getBoundingClientRect();"
        "if(r.width>0&&(r.right>s.right+0.5||r.left<s.left-0.5||r.bottom>s.bottom+0.5||"
        "r.top<s.top-0.5))bad.push(e.tagName+'['+e.textContent.slice(0,30)+']');"
        "if(!e.ownerSVGElement&&e.tagName!=='svg'&&e.clientWidth>0&&"
        "e.scrollWidth>e.clientWidth+1&&getComputedStyle(e).overflowX==='visible')"
        "bad.push('text:'+e.tagName+'['+e.textContent.slice(0,30)+']')});"
        "var d=document.documentElement;d.dataset.overflow=bad.join(' | ')||'none';"
        "d.dataset.width=d.scrollWidth+'/'+d.clientWidth;"
        "d.dataset.svgs=document.querySelectorAll('#objects svg').length})</script>"
    )
    doc = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", doc)
    page = tmp_path / "probe.html"
    page.write_text(doc.replace("</body>", probe + "</body>", 1), encoding="utf-8")
    dom = chromium(page, "--window-size=760,4000", "--virtual-time-budget=5000", "--dump-dom")
    overflow = re.search(r'data-overflow="([^"]*)"', dom.stdout)
    assert overflow is not None
    assert overflow.group(1) == "none"
    assert 'data-width="760/760"' in dom.stdout
    assert 'data-svgs="2"' in dom.stdout
    shot = tmp_path / "report.png"
    chromium(tmp_path / "out" / "report.html", f"--screenshot={shot}", "--window-size=760,8000")
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    for colour in (MATCHED_COLOR, MISSED_COLOR):  # the overlays and the scatter are drawn
        assert np.all(np.abs(pixels - _rgb(colour)) < 8, axis=2).sum() > 200

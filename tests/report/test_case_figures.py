"""Multiclass and 3-D case figures: exact colours, legends, slice choice and proportions."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from segscore.data.label_sets import get_label_set
from segscore.errors import InputError
from segscore.report.case_figures import class_figure, volume_figure
from segscore.report.class_overlay import (
    CORRECT_FADE,
    DEFAULT_CLASS_COLORS,
    ERROR_COLOR,
    PANEL_GAP,
    ClassStyle,
    class_panels_rgb,
)
from segscore.report.html import CaseVisual, render_report
from segscore.report.overlay import IGNORE_COLORS, ignore_stripes, overlay_data_uri, overlay_rgb
from segscore.report.volume import (
    MARK_COLOR,
    disagreement,
    orthogonal_planes,
    plane_slice,
    volume_views,
    worst_point,
)


def _rgb(hex_color: str) -> list[int]:
    return [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)]


def _decode(uri: str) -> np.ndarray:
    data = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _maps() -> tuple[np.ndarray, np.ndarray]:
    target = np.zeros((10, 12), np.uint8)
    target[2:6, 2:6] = 1
    target[6:10, 7:12] = 2
    target[0, :] = 255  # ignore row
    pred = target.copy()
    pred[2:6, 2:4] = 3  # half of class 1 predicted as class 3
    pred[0, :] = 0  # the prediction says background where the ground truth is ignored
    return target, pred


def test_class_panels_have_exact_palette_colours_errors_and_ignore_stripes() -> None:
    target, pred = _maps()
    voc = get_label_set("voc")
    style = ClassStyle(4, names=voc.class_names[:4], colours=voc.colours[:4], ignore_index=255)
    k = 2
    rgb = class_panels_rgb(target, pred, style, display=24)  # 12 wide -> enlarged twice
    h, w = 10 * k, 12 * k
    assert rgb.shape == (h, 3 * w + 2 * PANEL_GAP, 3)
    gt = rgb[:, :w]
    pr = rgb[:, w + PANEL_GAP : 2 * w + PANEL_GAP]
    err = rgb[:, 2 * (w + PANEL_GAP) :]
    assert (rgb[:, w : w + PANEL_GAP] == 255).all()  # white gap between panels
    # every pixel of a class region is exactly the dataset's colour (VOC: 1 aeroplane (128,0,0))
    assert (gt[2 * k : 6 * k, 2 * k : 6 * k] == voc.colours[1]).all()
    assert (gt[6 * k :, 7 * k :] == voc.colours[2]).all()
    assert (pr[2 * k : 6 * k, 2 * k : 4 * k] == voc.colours[3]).all()
    assert (pr[2 * k : 6 * k, 4 * k : 6 * k] == voc.colours[1]).all()
    assert (gt[2 * k :, : 2 * k] == voc.colours[0]).all()  # VOC background is black
    # errors: exactly the confused pixels, in the error colour; nowhere else
    is_error = (err == _rgb(ERROR_COLOR)).all(axis=2)
    want = np.zeros((10, 12), bool)
    want[2:6, 2:4] = True
    assert np.array_equal(is_error, np.repeat(np.repeat(want, k, 0), k, 1))
    # a correct pixel is its class colour faded towards white by CORRECT_FADE
    faded = [round((1 - CORRECT_FADE) * c + CORRECT_FADE * 255) for c in voc.colours[2]]
    assert err[7 * k, 8 * k].tolist() == faded
    # ignore row: stripes of the two ignore colours in the ground truth and the errors panel,
    # never an error even though the prediction differs there
    stripes = {tuple(_rgb(c)) for c in IGNORE_COLORS}
    for panel in (gt, err):
        seen = {tuple(v) for v in panel[:k].reshape(-1, 3).tolist()}
        assert seen == stripes
    assert (pr[:k] == voc.colours[0]).all()  # the prediction's own label is drawn as it is


def test_default_colours_without_a_palette_and_names_fallback() -> None:
    style = ClassStyle(20, names=("background", "road"))
    assert style.hex(1) == DEFAULT_CLASS_COLORS[0]
    assert style.hex(17) == DEFAULT_CLASS_COLORS[0]  # repeats after 16 classes
    assert (style.name(1), style.name(7)) == ("road", "class 7")
    with pytest.raises(InputError, match=r"`num_classes` must be >= 2"):
        ClassStyle(1)
    with pytest.raises(InputError, match=r"`pred` and `target` must have the same shape"):
        class_panels_rgb(np.zeros((2, 2), int), np.zeros((2, 3), int), ClassStyle(3))
    with pytest.raises(InputError, match=r"`target` must be a non-empty 2-D integer"):
        class_panels_rgb(np.zeros((2, 2)), np.zeros((2, 2), int), ClassStyle(3))


def test_image_is_a_first_panel() -> None:
    target, pred = _maps()
    image = np.linspace(0, 1, target.size).reshape(target.shape)
    rgb = class_panels_rgb(target, pred, ClassStyle(4, ignore_index=255), image, display=12)
    assert rgb.shape == (10, 4 * 12 + 3 * PANEL_GAP, 3)
    assert rgb[9, 11].tolist() == [255, 255, 255]  # image value 1.0
    assert rgb[0, 0].tolist() == [0, 0, 0]


def _legend_items(doc: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'<li><span class="swatch swatch-class" style="background:(#[0-9A-F]{6})"></span>'
        r"(.*?) <code>(\d+)</code></li>",
        doc,
    )


def test_legend_lists_exactly_the_classes_present_in_the_case() -> None:
    target, pred = _maps()
    names = ("background", "road", "car", "sky", "tree")
    style = ClassStyle(5, names=names, ignore_index=255)
    doc = class_figure("c<1>.png", target, pred, style, score=0.5)
    # classes 0, 1, 2 in the ground truth, 3 only in the prediction; 4 nowhere; 255 ignored
    assert _legend_items(doc) == [
        (style.hex(0), "background", "0"),
        (style.hex(1), "road", "1"),
        (style.hex(2), "car", "2"),
        (style.hex(3), "sky", "3"),
    ]
    assert "tree" not in doc
    assert "c&lt;1&gt;.png" in doc
    assert "c<1>" not in doc
    uri = re.search(r'src="(data:image/png;base64,[^"]+)"', doc)
    assert uri is not None
    assert np.array_equal(_decode(uri.group(1)), class_panels_rgb(target, pred, style))


def test_binary_cases_keep_the_contour_overlay_and_legend() -> None:
    t = np.zeros((16, 16), bool)
    t[4:12, 4:12] = True
    p = np.roll(t, 2, axis=1)
    doc = render_report({}, [], worst=[CaseVisual("b.png", t, p, 0.6)])
    assert overlay_data_uri(t, p) in doc
    assert "ground truth contour" in doc
    assert '<ul class="class-legend"' not in doc


def _ring_volume() -> tuple[np.ndarray, np.ndarray]:
    """A C-shaped disagreement (its centroid outside it) and a smaller blob elsewhere."""
    target = np.zeros((30, 32, 20), bool)
    target[5:25, 6:26, 4:16] = True
    pred = target.copy()
    zz, yy = np.mgrid[:30, :32]
    ring = (np.hypot(zz - 15, yy - 16) <= 8) & (np.hypot(zz - 15, yy - 16) >= 6) & (yy < 20)
    pred[ring[:, :, None] & (np.arange(20) >= 8)[None, None, :] & (np.arange(20) < 12)] = False
    pred[1:3, 1:3, 1:3] = True  # a small false positive
    return target, pred


def test_worst_point_lies_in_the_largest_disagreement_and_every_slice_cuts_it() -> None:
    target, pred = _ring_volume()
    d = disagreement(target, pred)
    point = worst_point(d, spacing=(1.0, 1.0, 2.0))
    assert d[point]  # inside the ring itself, although the ring's centroid is not
    assert np.hypot(point[0] - 15, point[1] - 16) >= 6
    for plane in orthogonal_planes(d.shape, point):
        assert plane_slice(d, plane).any()
        assert plane.index == point[plane.axis]
    assert worst_point(np.zeros((3, 4, 5), bool)) == (1, 2, 2)
    fallback = np.zeros((3, 4, 5), bool)
    fallback[2, 3, 4] = True
    assert worst_point(np.zeros((3, 4, 5), bool), fallback=fallback) == (2, 3, 4)


def test_coronal_aspect_ratio_follows_the_spacing() -> None:
    target, pred = _ring_volume()
    spacing = (0.8, 1.0, 2.5)
    affine = np.diag([*spacing, 1.0])  # array axes run along x, y, z
    _, views = volume_views(target, pred, spacing=spacing, affine=affine, display=300)
    coronal = next(v for v in views if v.plane.name == "coronal")
    assert coronal.plane.axis == 1  # y fixed
    h, w = coronal.rgb.shape[:2]
    # rows: z (axis 2, 20 voxels of 2.5); columns: x (axis 0, 30 voxels of 0.8)
    ratio = (20 * 2.5) / (30 * 0.8)
    assert abs(h - ratio * w) <= 1
    assert max(v.rgb.shape[0] for v in views) == 300  # the longest extent: 50 mm -> 300 px
    assert coronal.extent == (50.0, 24.0)


def test_slice_names_follow_the_affine() -> None:
    # array axis 0 runs along z (superior), axis 1 along x, axis 2 along -y
    affine = np.array([[0, 1.0, 0, 0], [0, 0, -1.0, 0], [2.0, 0, 0, 0], [0, 0, 0, 1]])
    planes = {p.name: p for p in orthogonal_planes((4, 5, 6), (1, 2, 3), affine=affine)}
    assert (planes["axial"].axis, planes["coronal"].axis, planes["sagittal"].axis) == (0, 2, 1)
    assert (planes["coronal"].rows, planes["coronal"].cols) == (0, 1)
    assert planes["coronal"].flip_rows  # superior at the top
    assert not planes["axial"].flip_rows  # axis 2 runs posterior: anterior already on top
    v = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    assert np.array_equal(plane_slice(v, planes["coronal"]), v[::-1, :, 3])


def test_volume_figure_captions_units_indices_and_classes() -> None:
    target = np.zeros((6, 8, 10), np.uint8)
    target[1:5, 2:6, 3:8] = 2
    target[0] = 255
    pred = target.copy()
    pred[2:4, 3:5, 4:6] = 1
    style = ClassStyle(4, names=("bg", "liver", "tumour", "cyst"), ignore_index=255)
    doc = volume_figure(
        "v.nii.gz", target, pred, score=0.7, spacing=(2.0, 1.0, 1.0), unit="mm", style=style
    )
    point = worst_point(disagreement(target, pred, ignore_index=255), spacing=(2.0, 1.0, 1.0))
    assert 2 <= point[0] < 4
    assert 3 <= point[1] < 5
    assert 4 <= point[2] < 6
    for axis, name in ((0, "axial"), (1, "coronal"), (2, "sagittal")):
        assert f"<strong>{name}</strong> · axis {axis} = {point[axis]} · " in doc
    assert "12 × 10 mm" in doc  # coronal: 6 voxels of 2 mm down, 10 of 1 mm across
    assert "spacing 2 × 1 × 1 mm" in doc
    assert [name for _, name, _ in _legend_items(doc)] == ["bg", "liver", "tumour"]
    assert doc.count('class="plane"') == 3


def test_render_report_draws_volumes_and_explains_the_panels() -> None:
    target, pred = _ring_volume()
    labels_t, labels_p = target.astype(np.uint8) * 2, pred.astype(np.uint8) * 2
    style = ClassStyle(3, names=("bg", "a", "b"))
    doc = render_report(
        {},
        [],
        worst=[
            CaseVisual("bin.npy", target, pred, 0.5, spacing=(1.0, 1.0, 2.0)),
            CaseVisual("multi.npy", labels_t, labels_p, 0.4, classes=style),
        ],
    )
    assert doc.count('class="plane"') == 6
    assert "ground truth contour" in doc  # the binary volume's legend
    assert "ground truth | prediction | errors" in doc
    assert "true proportions" in doc
    assert "spacing 1 × 1 × 2 voxels" in doc
    assert "spacing 1 × 1 × 1 voxels" in doc


def test_binary_overlay_stripes_the_ignore_label() -> None:
    t = np.zeros((16, 16), bool)
    t[4:12, 4:12] = True
    ignore = np.zeros((16, 16), bool)
    ignore[:, 14:] = True  # two columns far from the contours
    rgb = overlay_rgb(t, t, display=16, ignore=ignore)
    assert np.array_equal(rgb[:, 14:], ignore_stripes((16, 16))[:, 14:])
    assert {tuple(v) for v in rgb[:, 14:].reshape(-1, 3).tolist()} == {
        tuple(_rgb(c)) for c in IGNORE_COLORS
    }
    assert np.array_equal(rgb[:, :12], overlay_rgb(t, t, display=16)[:, :12])  # the rest as before
    with pytest.raises(InputError, match=r"`ignore` must have the shape of the masks"):
        overlay_rgb(t, t, ignore=np.zeros((3, 3), bool))


def test_ignored_voxels_are_never_the_worst_region() -> None:
    target = np.zeros((12, 12, 12), bool)
    target[2:10, 2:10, 2:10] = True
    pred = target.copy()
    pred[0:12, 0:12, 10:12] = True  # a large disagreement, all of it ignored
    pred[5, 5, 5] = False  # one real error
    ignore = np.zeros_like(target)
    ignore[:, :, 10:] = True
    point, views = volume_views(target, pred, ignore=ignore)
    assert point == (5, 5, 5)
    axial = next(v for v in views if v.plane.name == "axial")
    assert axial.plane.axis == 0  # no affine: (z, y, x)
    point_without, _ = volume_views(target, pred)
    assert point_without[2] >= 10  # without the ignore mask the slab would be chosen


def test_ticks_point_at_the_voxel_sliced_through() -> None:
    target, pred = _ring_volume()
    spacing = (1.0, 1.0, 2.0)
    style = ClassStyle(3)
    point, views = volume_views(
        target.astype(np.uint8), pred.astype(np.uint8), spacing=spacing, style=style, display=64
    )
    pixel = 40.0 / 64  # the longest extent: 20 voxels of 2
    mark = _rgb(MARK_COLOR)
    for view in views:
        plane = view.plane
        n_rows = round(target.shape[plane.rows] * spacing[plane.rows] / pixel)
        n_cols = round(target.shape[plane.cols] * spacing[plane.cols] / pixel)
        src_rows = np.floor((np.arange(n_rows) + 0.5) * pixel / spacing[plane.rows]).astype(int)
        src_cols = np.floor((np.arange(n_cols) + 0.5) * pixel / spacing[plane.cols]).astype(int)
        want_rows = np.flatnonzero(src_rows == point[plane.rows])
        want_cols = np.flatnonzero(src_cols == point[plane.cols])
        assert view.rgb.shape[:2] == (n_rows, 3 * n_cols + 2 * PANEL_GAP)
        for j in range(3):  # every panel: left and right edges, top and bottom edges
            x0 = j * (n_cols + PANEL_GAP)
            for x in (x0, x0 + n_cols - 1):
                assert np.flatnonzero((view.rgb[:, x] == mark).all(axis=1)).tolist() == (
                    want_rows.tolist()
                )
            for y in (0, n_rows - 1):
                found = np.flatnonzero((view.rgb[y, x0 : x0 + n_cols] == mark).all(axis=1))
                assert found.tolist() == want_cols.tolist()

"""report.html: content, escaping of every input string, overlays, and a real headless browser."""

from __future__ import annotations

import copy
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from segscore import InputError
from segscore.report.html import CaseVisual, render_report, write_report
from segscore.report.overlay import overlay_data_uri, overlay_png, overlay_rgb

# The same strings as in conftest.py's case data (a case name and a conventions value).
EVIL_NAME = "<script>alert(1)</script>.png"
EVIL_VALUE = '"><img src=x onerror=alert(1)>'
ESCAPED_NAME = "&lt;script&gt;alert(1)&lt;/script&gt;.png"
Chromium = Callable[..., subprocess.CompletedProcess[str]]


class Tags(HTMLParser):
    """Every start tag with its attributes, as the browser's tokenizer would see them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == name]


def render(data: dict[str, Any], **overrides: Any) -> str:
    kwargs: dict[str, Any] = {
        k: data[k] for k in ("worst", "best", "threshold_curve", "training_trace") if k in data
    }
    kwargs.update(overrides)
    return render_report(data["summary"], data["rows"], **kwargs)


def assert_safe(doc: str, n_images: int) -> Tags:
    """No script, no event handler, no external reference; exactly the expected images."""
    tags = Tags(doc)
    assert not tags.named("script")
    assert not tags.named("iframe")
    assert not tags.named("object")
    assert not tags.named("embed")
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        for key in ("src", "href", "action", "srcset", "background"):
            value = attrs.get(key)
            assert value is None or value.startswith(("#", "data:image/png;base64,")), (tag, key)
    images = tags.named("img")
    assert len(images) == n_images
    assert all((i.get("src") or "").startswith("data:image/png;base64,") for i in images)
    return tags


# ---------------------------------------------------------------------------------------------
# Content


def test_report_is_one_self_contained_document(case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    n_images = len(case_data["worst"]) + len(case_data["best"])
    tags = assert_safe(doc, n_images)
    assert doc.startswith("<!DOCTYPE html>")
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:|//|file:)", doc)
    assert "@import" not in doc
    assert "url(" not in doc
    csp = [m for m in tags.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (csp[0].get("content") or "")
    for attrs in tags.named("img"):
        assert attrs.get("alt"), "every overlay has alt text"
    for block in re.findall(r"<svg\b.*?</svg>", doc, flags=re.S):
        root = ET.fromstring(block)
        assert root.get("role") == "img"
        assert root.get("aria-label")


def test_summary_table_values(case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    for metric, s in case_data["summary"]["metrics"].items():
        for key in ("mean", "median", "std", "min", "max", "pooled", "class_mean"):
            assert f"<td>{s[key]:.4f}</td>" in doc, (metric, key)
        lo, hi = s["ci95"]
        assert f'<span class="end">{lo:.4f} –</span> <span class="end">{hi:.4f}</span>' in doc
        assert f"<td>{s['n_valid']}</td><td>{s['n_nan']}</td><td>{s['n_inf']}</td>" in doc


def test_sections_follow_the_data(case_data: dict[str, Any]) -> None:
    full = render(case_data)
    for anchor in (
        "summary",
        "distributions",
        "classes",
        "contrast",
        "cases",
        "threshold",
        "training",
        "problems",
        "conventions",
    ):
        assert f'<section id="{anchor}"' in full
        assert f'href="#{anchor}"' in full
    bare = render_report(case_data["summary"], [r for r in case_data["rows"] if r["class"] == 1])
    for anchor in ("cases", "threshold", "training"):
        assert f'<section id="{anchor}"' not in bare
        assert f'href="#{anchor}"' not in bare
    single = copy.deepcopy(case_data["summary"])
    for s in single["metrics"].values():
        s["per_class"] = {"1": s["per_class"]["1"]}
    assert '<section id="classes"' not in render_report(single, [])
    assert '<section id="classes"' in bare


def test_histograms_have_one_bar_per_bin(case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    section = doc.split('<section id="distributions"', 1)[1].split("</section>", 1)[0]
    svgs = re.findall(r"<svg\b.*?</svg>", section, flags=re.S)
    assert len(svgs) == 3  # iou, dice, accuracy
    assert all(s.count('class="bar"') == 20 for s in svgs)


def test_accuracy_contrast_names_the_largest_gap(case_data: dict[str, Any]) -> None:
    rows = case_data["rows"]
    gaps = [r["accuracy"] - r["iou"] for r in rows]
    worst = rows[int(np.nanargmax(gaps))]
    doc = render(case_data)
    assert "Overlap scores show what pixel accuracy hides" in doc
    assert f"Largest gap: <strong>{worst['case']} (class {worst['class']})</strong>" in doc
    scatter = doc.split('<section id="contrast"', 1)[1].split("</svg>", 1)[0]
    n_finite = sum(math.isfinite(g) for g in gaps)
    assert scatter.count('class="point') == n_finite


def _contrast_rows(accuracy: list[float], iou: list[float]) -> list[dict[str, Any]]:
    return [
        {"case": f"c{i}", "class": 1, "accuracy": a, "iou": u}
        for i, (a, u) in enumerate(zip(accuracy, iou, strict=True))
    ]


def test_contrast_zooms_the_accuracy_axis_to_the_cases() -> None:
    rows = _contrast_rows([0.93, 0.95, 0.99, 0.97], [0.2, 0.6, 0.8, 0.5])
    doc = render_report({"inputs": {"n_cases": 4}}, rows)
    section = doc.split('<section id="contrast"', 1)[1].split("</section>", 1)[0]
    # 0.93 to 0.99: ticks in steps of 0.02 (a quarter of the 0.06 spanned, rounded up).
    assert ">pixel accuracy (zoomed: 0.92 to 1)</text>" in section
    assert ">IoU</text>" in section  # IoU keeps [0, 1]: how low it is is the point
    assert (
        "The accuracy axis shows 0.92 to 1 only: every case has pixel accuracy ≥ 0.930." in section
    )
    root = ET.fromstring(re.search(r"<svg\b.*?</svg>", section, flags=re.S).group(0))  # type: ignore[union-attr]
    ns = "{http://www.w3.org/2000/svg}"
    axes = root.find(f"{ns}g[@class='axes']")
    assert axes is not None
    x_ticks = [t.text for t in axes.iter(f"{ns}text") if t.get("text-anchor") == "middle"]
    assert x_ticks[:5] == ["0.92", "0.94", "0.96", "0.98", "1"]
    left, right, top, bottom = 52.0, 420.0 - 16.0, 30.0, 320.0 - 46.0
    c1 = next(c for c in root.iter(f"{ns}circle") if "c1:" in "".join(c.itertext()))
    assert float(c1.get("cx", "nan")) == pytest.approx(left + 0.375 * (right - left), abs=0.01)
    assert float(c1.get("cy", "nan")) == pytest.approx(bottom - 0.6 * (bottom - top), abs=0.01)
    spread = render_report({}, _contrast_rows([0.2, 0.99], [0.1, 0.9]))
    assert ">pixel accuracy</text>" in spread
    assert "The accuracy axis shows" not in spread


def test_histogram_of_a_bunched_ratio_is_zoomed_and_says_so() -> None:
    rows = _contrast_rows([0.93, 0.95, 0.99, 0.97], [0.2, 0.6, 0.8, 0.5])
    doc = render_report({}, rows)
    section = doc.split('<section id="distributions"', 1)[1].split("</section>", 1)[0]
    assert ">Pixel accuracy per case (zoomed: 0.92 to 1)</text>" in section
    assert ">IoU per case</text>" in section
    assert "[0.92, 0.924): 0</title>" in section  # 20 bins of 0.004 from 0.92
    assert "[0.928, 0.932): 1</title>" in section  # 0.93


def test_summary_note_is_a_paragraph_after_the_table(case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    section = doc.split('<section id="summary"', 1)[1].split("</section>", 1)[0]
    assert "<caption" not in section  # a caption is as wide as its table, and scrolls with it
    table, note = section.split("</table></div>", 1)
    assert 'aria-describedby="summary-note"' in table
    assert note.startswith('<p class="caption" id="summary-note">Per-case statistics')
    assert "marks a statistic without a value" in note


def test_conventions_write_null_as_not_set_and_nan_as_nan() -> None:
    conventions = {
        "threshold": None,
        "include_background": True,
        "empty": {"hd95": {"zero_division": "NaN", "both_empty": None}},
        "tolerance": math.nan,
        "limit": "Infinity",
        "classes": [0, None],
    }
    doc = render_report({"conventions": conventions}, [])
    section = doc.split('<section id="conventions"', 1)[1].split("</section>", 1)[0]
    key, record = section.split('<dl class="record">', 1)
    assert "<code>null</code> in summary.json" in key  # the key says what "not set" stands for
    assert "not a number" in key
    assert "null" not in re.sub(r'title="[^"]*"', "", record)  # a null is written "not set"
    assert record.count(">not set</span>") == 3
    assert record.count(">NaN</code>") == 2  # the float and the summary's "NaN" alike
    assert "<code>∞</code>" in record
    assert "<dt>include_<wbr>background</dt>" in record  # breaks after "_", never mid-word
    assert "<dt>zero_<wbr>division</dt>" in record


def test_cases_are_captioned_with_their_iou(case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    for v in [*case_data["worst"], *case_data["best"]]:
        name = v.name.replace("<", "&lt;").replace(">", "&gt;")
        assert f'<span class="case-name" title="{name}">{name}</span>' in doc
        assert f"IoU {v.score:.3f}" in doc
    assert "ground truth contour" in doc
    assert "prediction contour" in doc


def test_nan_and_missing_keys_render() -> None:
    doc = render_report({}, [])
    assert_safe(doc, 0)
    assert "The summary holds no metrics." in doc
    assert "holds no conventions record" in doc
    summary = {"metrics": {"iou": {"mean": None, "ci95": None, "per_class": {"0": None}}}}
    rows = [{"case": "a", "class": 0, "iou": math.nan, "accuracy": None}]
    visual = CaseVisual("a", np.zeros((3, 3), bool), np.zeros((3, 3), bool), math.nan)
    doc = render_report(summary, rows, worst=[visual], training_trace=[], threshold_curve={})
    assert 'class="na"' in doc
    assert "IoU undefined" in doc
    assert "No case has both values defined." in doc


def test_threshold_and_training(case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    threshold = doc.split('<section id="threshold"', 1)[1].split("</section>", 1)[0]
    assert "Best threshold by IoU: <strong>0.450</strong>" in threshold
    assert threshold.count('class="series"') == 2
    assert threshold.count('class="marker"') == 1
    training = doc.split('<section id="training"', 1)[1].split("</section>", 1)[0]
    assert training.count('class="series"') == 5  # loss, val_loss | train_iou, val_iou, val_dice
    assert "val_iou" in training


def test_deterministic(case_data: dict[str, Any]) -> None:
    assert render(case_data) == render(case_data)


def test_write_report_is_atomic(tmp_path: Path, case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    path = write_report(tmp_path / "out" / "report.html", doc)
    assert path == tmp_path / "out" / "report.html"
    assert path.read_text(encoding="utf-8") == doc
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]


def test_import_does_not_load_pillow() -> None:
    code = "import segscore.report.html, sys; assert 'PIL' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------------
# Escaping: every string from the inputs


def test_malicious_case_name_and_conventions_are_escaped(case_data: dict[str, Any]) -> None:
    doc = render(case_data)
    assert EVIL_NAME not in doc
    assert EVIL_VALUE not in doc
    assert ESCAPED_NAME in doc
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in doc
    tags = assert_safe(doc, len(case_data["worst"]) + len(case_data["best"]))
    assert EVIL_NAME in "".join(tags.text)  # shown to the reader, as text
    assert EVIL_VALUE in "".join(tags.text)


def test_every_input_string_is_escaped() -> None:
    evil = '<b id="x" onclick="y">&amp;\'</b>'
    esc = "&lt;b id=&quot;x&quot; onclick=&quot;y&quot;&gt;&amp;amp;&#x27;&lt;/b&gt;"
    stats = {"mean": 0.5, "per_class": {evil: 0.5, "1": 0.7}, "ci95": [0.4, 0.6]}
    summary = {
        "segscore_version": evil,
        "inputs": {"pred": evil, "gt": evil, "n_cases": 1, "hash": evil},
        "conventions": {evil: evil, "nested": {evil: [evil, None, True, 1.5]}},
        "metrics": {evil: stats, "iou": stats, "accuracy": stats},
        "unmatched": {"pred": [evil], "gt": [evil]},
        "failed": [{"case": evil, "error": evil}],
    }
    rows = [{"case": evil, "class": evil, evil: 0.3, "iou": 0.2, "accuracy": 0.9}] * 2
    visual = CaseVisual(evil, np.eye(4, dtype=bool), np.eye(4, dtype=bool), 0.5)
    doc = render_report(
        summary,
        rows,
        worst=[visual],
        best=[visual],
        threshold_curve={"thresholds": [0.4, 0.5], "iou": [0.1, 0.2], evil: [0.3, 0.4]},
        training_trace=[{"epoch": 1, evil: 0.5}, {"epoch": 2, evil: 0.6}],
        title=evil,
    )
    assert evil not in doc
    assert doc.count(esc) >= 20
    tags = assert_safe(doc, 2)
    assert not [t for t, _ in tags.tags if t == "b"]
    for block in re.findall(r"<svg\b.*?</svg>", doc, flags=re.S):
        ET.fromstring(block)


# ---------------------------------------------------------------------------------------------
# Overlays


def test_overlay_contours_and_colours() -> None:
    target = np.zeros((8, 8), bool)
    target[2:6, 2:6] = True
    pred = np.zeros((8, 8), bool)
    pred[3:7, 3:7] = True
    rgb = overlay_rgb(target, pred, display=8)
    colours = {tuple(c) for c in rgb.reshape(-1, 3).tolist()}
    assert (0, 114, 178) in colours
    assert (230, 159, 0) in colours
    blue = np.all(rgb == (0, 114, 178), axis=2)
    orange = np.all(rgb == (230, 159, 0), axis=2)
    assert not (blue & target).any()  # ground truth line lies outside the ground truth
    assert (orange <= pred).all()  # prediction line lies inside the prediction
    big = overlay_rgb(target, pred)
    assert big.shape == (128, 128, 3)  # 8 px would need 32x to reach 256: capped at 16x
    assert overlay_rgb(np.ones((300, 200), bool), np.ones((300, 200), bool)).shape[:2] == (300, 200)


def test_overlay_with_images() -> None:
    t = np.eye(5, dtype=bool)
    gray = np.linspace(0, 1, 25).reshape(5, 5)
    rgb_image = np.stack([gray, 1 - gray, np.full((5, 5), 0.5)], axis=2)
    expected = np.round(rgb_image * 255).astype(np.uint8)
    assert overlay_rgb(t, t, gray, display=5)[4, 0].tolist() == [expected[4, 0, 0]] * 3
    assert overlay_rgb(t, t, rgb_image, display=5)[0, 4].tolist() == expected[0, 4].tolist()
    assert overlay_png(t, t, gray)[:8] == b"\x89PNG\r\n\x1a\n"
    uri = overlay_data_uri(t, t, rgb_image[..., :1])
    assert re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/=]+", uri)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros((2, 2, 2)), np.zeros((2, 2))), r"`target` must be a 2-D mask"),
        ((np.zeros((2, 2)), np.zeros((2, 3))), r"`pred` and `target` must have the same shape"),
        ((np.zeros((0, 2)), np.zeros((0, 2))), r"`target` must not be empty"),
        ((np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 3))), r"`image` must have shape"),
        ((np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2, 4))), r"`image` must have shape"),
    ],
)
def test_overlay_errors(args: tuple[np.ndarray, ...], message: str) -> None:
    with pytest.raises(InputError, match=message):
        overlay_rgb(*args)


# ---------------------------------------------------------------------------------------------
# End to end in headless Chromium


@pytest.fixture
def report_file(tmp_path: Path, case_data: dict[str, Any]) -> Path:
    return write_report(tmp_path / "report.html", render(case_data))


def test_chromium_dom(chromium: Chromium, report_file: Path, case_data: dict[str, Any]) -> None:
    dom = chromium(report_file, "--dump-dom").stdout
    assert "<main>" in dom
    n_images = len(case_data["worst"]) + len(case_data["best"])
    tags = assert_safe(dom, n_images)  # the parsed page has no script and no injected element
    iou = case_data["summary"]["metrics"]["iou"]
    assert f"<td>{iou['mean']:.4f}</td>" in dom
    assert f"<td>{iou['pooled']:.4f}</td>" in dom
    assert ESCAPED_NAME in dom  # serialised back as escaped text
    text = "".join(tags.text)
    assert EVIL_NAME in text
    assert EVIL_VALUE in text
    assert len(tags.named("svg")) >= 10


def test_chromium_decodes_images_and_runs_no_injected_script(
    chromium: Chromium, report_file: Path, case_data: dict[str, Any], tmp_path: Path
) -> None:
    # A probe copy: without the Content-Security-Policy (so escaping alone must stop the
    # injections) and with a test-only script that records alerts and decoded images.
    doc = report_file.read_text(encoding="utf-8")
    doc = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", doc)
    hook = (
        "<script>window.alert=function(){document.documentElement.dataset.alerted='yes'};</script>"
    )
    probe = (
        "<script>window.addEventListener('load',function(){var i=[].slice.call("
        "document.images);document.documentElement.dataset.decoded=i.filter(function(m){"
        "return m.complete&&m.naturalWidth>0}).length+'/'+i.length;"
        "document.documentElement.dataset.names=[].slice.call(document.querySelectorAll("
        "'.case-name')).map(function(e){return e.textContent}).join('|')})</script>"
    )
    doc = doc.replace("<head>", "<head>" + hook, 1).replace("</body>", probe + "</body>", 1)
    page = tmp_path / "probe.html"
    page.write_text(doc, encoding="utf-8")
    dom = chromium(page, "--virtual-time-budget=5000", "--dump-dom").stdout
    n_images = len(case_data["worst"]) + len(case_data["best"])
    assert f'data-decoded="{n_images}/{n_images}"' in dom
    assert "data-alerted" not in dom
    names = re.search(r'data-names="([^"]*)"', dom)
    assert names is not None
    assert ESCAPED_NAME in names.group(1)


def test_chromium_screenshot(chromium: Chromium, report_file: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "report.png"
    chromium(report_file, f"--screenshot={shot}", "--window-size=1200,2000", "--hide-scrollbars")
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    assert rgb.size == (1200, 2000)
    colours = rgb.getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 50
    pixels = np.asarray(rgb)
    assert np.all(pixels[40, 40] < 80)  # the dark masthead rendered (the CSS applied)
    blue = np.all(np.abs(pixels.astype(int) - (0, 114, 178)) < 8, axis=2)
    assert blue.sum() > 500  # charts drawn in the palette's blue

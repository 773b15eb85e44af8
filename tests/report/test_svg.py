"""SVG chart helpers: valid XML, one mark per datum, escaped text, checked arguments."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from segscore import InputError
from segscore.report import svg

NS = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>\"&'.png"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.find(f"{NS}title") is not None
    assert "<script" not in text
    return root


def marks(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [el for el in root.iter(f"{NS}{tag}") if cls in (el.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter() if el.tag in (f"{NS}text", f"{NS}title")]


@pytest.mark.parametrize("bins", [1, 5, 20])
def test_histogram_one_bar_per_bin_and_counts_add_up(bins: int) -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(0, 1, 57), [0.0, 1.0, np.nan, np.nan]])
    root = parse(svg.histogram(values, bins=bins, title="IoU"))
    bars = marks(root, "rect", "bar")
    assert len(bars) == bins
    counts = [int(b.find(f"{NS}title").text.rsplit(": ", 1)[1]) for b in bars]  # type: ignore[union-attr]
    assert sum(counts) == 59  # finite values only; 1.0 falls in the last (closed) bin
    assert counts == np.histogram(values[np.isfinite(values)], bins=bins, range=(0, 1))[0].tolist()
    assert any("2 undefined (NaN) left out" in t for t in texts(root))


def test_histogram_bar_heights_are_proportional() -> None:
    root = parse(svg.histogram([0.1, 0.1, 0.1, 0.6], bins=2))
    heights = [float(b.get("height", "0")) for b in marks(root, "rect", "bar")]
    assert heights[0] == pytest.approx(3 * heights[1], rel=1e-3)


def test_histogram_clips_values_outside_the_range() -> None:
    root = parse(svg.histogram([-1.0, 2.0], bins=4))
    titles = ["".join(b.itertext()) for b in marks(root, "rect", "bar")]
    assert titles[0].endswith(": 1")
    assert titles[-1].endswith(": 1")


def test_histogram_without_finite_values_is_still_a_chart() -> None:
    root = parse(svg.histogram([np.nan], bins=3))
    assert len(marks(root, "rect", "bar")) == 3
    assert "no finite values" in texts(root)
    parse(svg.histogram([], bins=3))


@pytest.mark.parametrize(
    ("values", "n_bars"),
    [([0.2, 0.5, 0.9], 3), ([0.2, None, np.nan, 1.0], 2), ([None, None], 0)],
)
def test_bar_chart_one_bar_per_finite_value(values: list[float | None], n_bars: int) -> None:
    labels = [f"class {k}" for k in range(len(values))]
    root = parse(svg.bar_chart(labels, values, title="IoU per class"))
    assert len(marks(root, "rect", "bar")) == n_bars
    assert sum(t == "n/a" for t in texts(root)) == len(values) - n_bars


def test_bar_chart_fits_unbounded_values() -> None:
    root = parse(svg.bar_chart(["a", "b"], [3.0, 12.5], value_range=None))
    heights = [float(b.get("height", "0")) for b in marks(root, "rect", "bar")]
    assert heights[1] == pytest.approx(heights[0] * 12.5 / 3.0, rel=1e-3)


def test_scatter_one_point_per_finite_pair_and_highlight() -> None:
    x = [0.99, 0.95, np.nan, 0.5, 0.7]
    y = [0.10, 0.90, 0.50, np.inf, 0.6]
    root = parse(svg.scatter(x, y, names=list("abcde"), highlight=0))
    points = marks(root, "circle", "point")
    assert len(points) == 3
    assert len(marks(root, "circle", "highlight")) == 1
    assert "a" in texts(root)  # the highlighted point is named


def test_scatter_colours_legend_and_log_axis() -> None:
    sizes = [3, 40, 500, 7000, 0]  # 0 cannot be drawn on a log axis
    colours = ["#009E73", "#D55E00", "#009E73", "#009E73", "#D55E00"]
    text = svg.scatter(
        sizes,
        [0.9, 0.0, 0.7, 0.8, 0.0],
        names=list("abcde"),
        x_range=(1, 1e4),
        colors=colours,
        legend={"matched": "#009E73", "missed": "#D55E00"},
        x_scale="log",
        diagonal=False,
    )
    root = parse(text)
    points = marks(root, "circle", "point")
    assert [p.get("fill") for p in points] == colours[:4]
    tips = ["".join(p.itertext()) for p in points]
    assert tips == ["a: (3, 0.9)", "b: (40, 0)", "c: (500, 0.7)", "d: (7000, 0.8)"]  # data units
    xs = [float(p.get("cx", "nan")) for p in points]
    left, right = svg._ML, 420 - svg._MR
    expected = [left + np.log10(v) / 4 * (right - left) for v in sizes[:4]]
    assert xs == pytest.approx(expected, abs=0.01)
    assert {"1", "10", "10²", "10³", "10⁴", "matched", "missed"} <= set(texts(root))
    linear = parse(svg.scatter([0.5], [0.5], colors=["#000000"]))
    assert marks(linear, "circle", "point")[0].get("fill") == "#000000"


def test_line_chart_points_carry_their_values() -> None:
    root = parse(svg.line_chart([0.5, 0.55, 0.95], {"F1": [0.81234, 0.5, 0.0]}))
    dots = [el for el in root.iter(f"{NS}circle")]
    assert ["".join(d.itertext()) for d in dots] == [
        "F1: (0.5, 0.8123)",
        "F1: (0.55, 0.5)",
        "F1: (0.95, 0)",
    ]
    ticks = [t for t in texts(root) if t[:1].isdigit()]
    assert "0.5" in ticks  # the x axis starts at the data, not at 0
    assert "0.9" in ticks


def test_line_chart_one_path_per_series_with_gaps() -> None:
    series = {"IoU": [0.5, 0.7, np.nan, 0.8], "Dice": [0.6, 0.8, 0.85, 0.9]}
    root = parse(svg.line_chart([0.1, 0.3, 0.5, 0.7], series, marker_x=0.5, marker_label="best"))
    paths = marks(root, "path", "series")
    assert len(paths) == 2
    assert paths[0].get("d", "").count("M") == 2  # NaN breaks the line
    assert paths[1].get("d", "").count("M") == 1
    assert len(marks(root, "line", "marker")) == 1
    assert {"IoU", "Dice", "best"} <= set(texts(root))


def test_every_text_is_escaped() -> None:
    charts = [
        svg.histogram([0.5], title=EVIL, x_label=EVIL, y_label=EVIL),
        svg.bar_chart([EVIL, "b"], [0.4, None], title=EVIL, x_label=EVIL, y_label=EVIL),
        svg.scatter([0.9], [0.1], names=[EVIL], highlight=0, title=EVIL, x_label=EVIL),
        svg.line_chart([1, 2], {EVIL: [0.1, 0.2]}, marker_x=1, marker_label=EVIL, title=EVIL),
    ]
    for text in charts:
        root = parse(text)  # parses: nothing broke out of its element or attribute
        assert EVIL not in text
        assert "&lt;script&gt;" in text
        decoded = [*texts(root), root.get("aria-label", "")]
        assert any(EVIL in t for t in decoded)  # round-trips as text
        assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_nice_ticks_cover_the_range() -> None:
    for low, high in [(0, 1), (0.31, 0.47), (0, 37), (-2.5, 3), (5, 5), (0, 1e-6)]:
        ticks = svg.nice_ticks(low, high)
        assert ticks[0] <= low
        assert ticks[-1] >= high
        assert ticks == sorted(ticks)
        assert len(set(ticks)) == len(ticks)
        assert 2 <= len(ticks) <= 12


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: svg.histogram([0.5], bins=0), r"`bins` must be >= 1, got 0\."),
        (lambda: svg.histogram([0.5], value_range=(1, 0)), r"`value_range` must be increasing"),
        (lambda: svg.bar_chart(["a"], [0.1, 0.2]), r"`labels` and `values` must have the same"),
        (lambda: svg.scatter([0.1], [0.1, 0.2]), r"`x` and `y` must have the same length"),
        (lambda: svg.scatter([0.1], [0.1], names=[]), r"`names` must hold one name per point"),
        (lambda: svg.scatter([0.1], [0.1], highlight=3), r"`highlight` must be an index"),
        (lambda: svg.line_chart([1, 2], {"a": [1]}), r"`series\['a'\]` must have 2 values"),
        (
            lambda: svg.scatter([1], [1], colors=[]),
            r"`colors` must hold one colour per point \(1\)",
        ),
        (lambda: svg.scatter([1], [1], x_scale="ln"), r"`x_scale` must be one of 'linear', 'log'"),
        (
            lambda: svg.scatter([1], [1], x_scale="log"),
            r"`x_range` must be positive and increasing on a log scale, got \(0\.0, 1\.0\)",
        ),
    ],
)
def test_errors(call: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()  # type: ignore[operator]


def test_coordinates_are_compact() -> None:
    text = svg.histogram(np.linspace(0, 1, 50))
    assert not re.search(r"\d\.\d{3,}", text.split("</title>", 1)[1].replace("title>", ""))

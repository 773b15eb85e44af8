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


@pytest.mark.parametrize(
    ("ticks", "labels"),
    [
        ([0.0, 0.25, 0.5, 0.75, 1.0], ["0", "0.25", "0.5", "0.75", "1"]),
        ([0.9, 0.925, 0.95, 0.975, 1.0], ["0.9", "0.925", "0.95", "0.975", "1"]),
        ([0.0, 500.0, 1000.0, 1500.0], ["0", "500", "1000", "1500"]),  # counts: never 1e+03
        ([1000.0, 1000.25, 1000.5], ["1000", "1000.25", "1000.5"]),  # not 1e+03 three times
        ([0.0, 2e6, 4e6], ["0", "2000000", "4000000"]),
        ([0.0, 2e-05, 4e-05], ["0", "0.00002", "0.00004"]),
        ([-0.4, -0.2, 0.0, 0.2, 0.4], ["−0.4", "−0.2", "0", "0.2", "0.4"]),
        ([0.1 + 0.2, 0.6], ["0.3", "0.6"]),  # float noise (0.30000000000000004) is not shown
    ],
)
def test_tick_labels_use_the_decimals_of_the_step(ticks: list[float], labels: list[str]) -> None:
    assert svg.tick_labels(ticks) == labels


def test_axes_never_write_e_notation() -> None:
    charts = [
        svg.histogram(np.arange(5000.0) % 7, bins=7, value_range=(0, 7)),  # counts to 715
        svg.histogram(np.full(1234, 0.5), bins=2),  # one bin of 1234
        svg.bar_chart(["a", "b"], [1000.25, 1000.75], value_range=(1000.0, 1001.0)),
        svg.line_chart([1000.0, 1000.5, 1001.0], {"s": [1, 2, 3]}),
        svg.scatter([2500.5], [3], x_range=(2000, 3000), y_range=(0, 5e6), diagonal=False),
    ]
    for chart in charts:
        axes = parse(chart).find(f"{NS}g[@class='axes']")
        assert axes is not None
        labels = ["".join(t.itertext()) for t in axes.iter(f"{NS}text")]
        assert labels
        assert not [t for t in labels if re.search(r"\de[+-]?\d", t)], labels
    counts = parse(charts[1]).find(f"{NS}g[@class='axes']")
    assert counts is not None
    assert [t.text for t in counts.iter(f"{NS}text")][:4] == ["0", "500", "1000", "1500"]


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (5, [0, 2, 4, 6]),
        (7, [0, 5, 10]),  # before: 0, 2.5, 5, 7.5 kept as 0 and 5, and the bar of 7 overflowed
        (13, [0, 5, 10, 15]),
        (99, [0, 50, 100]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_histogram_count_axis_is_whole_and_covers_the_tallest_bar(
    top: int, ticks: list[int]
) -> None:
    values = np.r_[np.full(top, 0.1), [0.9]] if top else np.zeros(0)
    root = parse(svg.histogram(values, bins=2))
    axes = root.find(f"{NS}g[@class='axes']")
    assert axes is not None
    y_labels = [t.text for t in axes.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert y_labels == [str(t) for t in ticks]
    bars = marks(root, "rect", "bar")
    if top:
        assert min(float(b.get("y", "nan")) for b in bars) >= svg._MT - 1e-6  # inside the plot


def test_histogram_x_ticks_stay_inside_its_range() -> None:
    # Before: the ticks of nice_ticks(-0.3041, 0.3041) (-0.4 and 0.4) were drawn past the axis.
    root = parse(svg.histogram([-0.3041, 0.1, 0.3041], bins=21, value_range=(-0.3041, 0.3041)))
    axes = root.find(f"{NS}g[@class='axes']")
    assert axes is not None
    ticks = [t for t in axes.iter(f"{NS}text") if t.get("text-anchor") == "middle"]
    ticks = [t for t in ticks if t.get("transform") is None]  # not the rotated y label
    assert [t.text for t in ticks] == ["−0.2", "0", "0.2"]
    xs = [float(t.get("x", "nan")) for t in ticks]
    assert all(svg._ML <= x <= 360 - svg._MR for x in xs)


def test_histogram_note_goes_under_a_long_title() -> None:
    short = parse(svg.histogram([np.nan, 0.5], title="IoU"))
    long = parse(svg.histogram([np.nan, np.inf, 0.5], title="Normalised surface Dice at 2 mm"))
    note = "1 undefined (NaN) left out · 1 infinite (not drawn)"
    for root, y, top in ((short, "18", svg._MT), (long, "32", svg._MT + 12)):
        texts_ = {"".join(t.itertext()): t for t in root.iter(f"{NS}text")}
        key = next(k for k in texts_ if k.endswith("(not drawn)"))
        assert texts_[key].get("y") == y
        grid = [
            float(g.get("y1", "nan")) for g in root.iter(f"{NS}line") if g.get("y1") == g.get("y2")
        ]
        assert min(grid) == pytest.approx(top)  # the top grid line: the plot moved down
    assert note in texts(long)


@pytest.mark.parametrize(
    ("values", "bounds", "expected"),
    [
        ([0.9055, 0.95, 0.9892], (0.0, 1.0), (0.9, 1.0)),  # pixel accuracy: zoomed
        ([0.995, 0.9991, 0.9999], (0.0, 1.0), (0.994, 1.0)),  # steps of 0.002
        ([0.81, 0.86, 0.94], (0.0, 1.0), (0.8, 0.95)),
        ([0.1, 0.95], (0.0, 1.0), (0.0, 1.0)),  # spread out: the full range
        ([0.2, 0.45], (0.0, 1.0), (0.0, 1.0)),  # a quarter or more: the full range
        ([0.2, 0.44], (0.0, 1.0), (0.2, 0.5)),  # less: zoomed
        ([0.5, 0.5], (0.0, 1.0), (0.45, 0.55)),  # one value: a tenth of the range around it
        ([1.0, 1.0], (0.0, 1.0), (0.95, 1.0)),  # kept inside the bounds
        ([np.nan, np.inf], (0.0, 1.0), (0.0, 1.0)),  # nothing finite
        ([], (0.0, 1.0), (0.0, 1.0)),
        ([-3.0, 0.97, 0.99], (0.0, 1.0), (0.0, 1.0)),  # clipped to the bounds first
        ([52.0, 55.0], (0.0, 100.0), (52.0, 55.0)),
    ],
)
def test_fit_range(
    values: list[float], bounds: tuple[float, float], expected: tuple[float, float]
) -> None:
    assert svg.fit_range(values, bounds) == pytest.approx(expected, abs=1e-12)


def test_scatter_draws_the_diagonal_inside_zoomed_ranges() -> None:
    root = parse(svg.scatter([0.95], [0.5], x_range=(0.9, 1.0), y_range=(0.0, 1.0)))
    line = next(el for el in root.iter(f"{NS}line") if el.find(f"{NS}title") is not None)
    left, right, top, bottom = svg._ML, 420 - svg._MR, svg._MT, 320 - svg._MB
    assert float(line.get("x1", "nan")) == pytest.approx(left, abs=0.01)  # at x = 0.9 ...
    assert float(line.get("y1", "nan")) == pytest.approx(bottom - 0.9 * (bottom - top), abs=0.01)
    assert float(line.get("x2", "nan")) == pytest.approx(right, abs=0.01)  # ... to x = 1
    assert float(line.get("y2", "nan")) == pytest.approx(top, abs=0.01)
    apart = parse(svg.scatter([0.95], [0.5], x_range=(0.9, 1.0), y_range=(0.0, 0.8)))
    assert not [el for el in apart.iter(f"{NS}line") if el.find(f"{NS}title") is not None]


BOUNDS = (0.0, 0.0, 300.0, 200.0)


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([], (110.0, 103.025, "start")),  # free: on the right
        ([[125.0, 98.0]], (90.0, 103.025, "end")),  # a neighbour on the right: on the left
        ([[125.0, 98.0], [75.0, 101.0]], (92.0, 92.0, "end")),  # both sides: upper left
        ([[125.0, 98.0], [75.0, 101.0], [120.0, 90.0], [80.0, 90.0]], (108.0, 114.05, "start")),
    ],
)
def test_place_label_takes_the_first_free_place(
    others: list[list[float]], expected: tuple[float, float, str]
) -> None:
    x, y, anchor, box = svg.place_label((100.0, 100.0), 40.0, others, bounds=BOUNDS)
    assert (x, y) == pytest.approx(expected[:2])
    assert anchor == expected[2]
    for cx, cy in others:  # the box meets none of the points (radius 3.5)
        nx, ny = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
        assert np.hypot(cx - nx, cy - ny) >= 3.5


def test_place_label_stays_inside_the_bounds() -> None:
    # A point in the bottom right corner: the places on its right and below leave the plot, the
    # one on its left reaches below it: the upper left is taken.
    x, y, anchor, box = svg.place_label((295.0, 195.0), 40.0, [], bounds=BOUNDS)
    assert (x, y, anchor) == (287.0, 187.0, "end")
    assert box == pytest.approx((245.5, 176.7, 288.5, 191.25))
    assert BOUNDS[0] <= box[0] < box[2] <= BOUNDS[2]
    assert BOUNDS[1] <= box[1] < box[3] <= BOUNDS[3]


def test_place_label_in_a_crowd_takes_the_place_with_fewest_points() -> None:
    yy, xx = np.mgrid[60:141:6, 40:161:6]
    crowd = np.c_[xx.ravel(), yy.ravel()].astype(float)  # a grid of points around (100, 100)
    x, y, anchor, box = svg.place_label((100.0, 100.0), 40.0, crowd, bounds=BOUNDS)
    nx, ny = np.clip(crowd[:, 0], box[0], box[2]), np.clip(crowd[:, 1], box[1], box[3])
    assert int(np.sum(np.hypot(crowd[:, 0] - nx, crowd[:, 1] - ny) < 3.5)) == 0  # 50 px out
    assert (x, y, anchor) == (100.0, 50.0, "middle")


def test_scatter_names_the_highlight_clear_of_the_other_points() -> None:
    # The multiclass case that overlapped before: the worst point at IoU 0 among others at 0.
    x = [0.93, 0.95, 0.97, 0.99, 0.998, 0.96]
    y = [0.0, 0.0, 0.0, 0.0, 0.0, 0.8]
    root = parse(svg.scatter(x, y, names=[f"c{i}" for i in range(6)], highlight=4))
    label = next(t for t in root.iter(f"{NS}text") if t.get("class") == "highlight-name")
    assert label.text == "c4"
    lx, ly = float(label.get("x", "nan")), float(label.get("y", "nan"))
    width = 2 * 11 * 0.68
    x0 = {"start": lx, "middle": lx - width / 2, "end": lx - width}[label.get("text-anchor", "")]
    box = (x0 - 1.5, ly - 0.8 * 11 - 1.5, x0 + width + 1.5, ly + 0.25 * 11 + 1.5)
    for p in marks(root, "circle", "point"):
        cx, cy = float(p.get("cx", "nan")), float(p.get("cy", "nan"))
        r = 6.75 if "highlight" in (p.get("class") or "") else 3.5
        nx, ny = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
        assert np.hypot(cx - nx, cy - ny) >= r


def test_bar_chart_makes_room_for_values_and_marks_infinity() -> None:
    root = parse(svg.bar_chart(["a", "b", "c"], [0.991, np.inf, np.nan], title="Accuracy"))
    texts_ = texts(root)
    assert "∞" in texts_
    assert "n/a" in texts_
    assert "b: infinite" in texts_
    assert "c: undefined" in texts_
    value = next(t for t in root.iter(f"{NS}text") if t.text == "0.991")
    # The value over a full bar sits under the title (baseline 18) by its font size and more.
    assert float(value.get("y", "nan")) - 10 >= 18 + 4
    narrow = parse(svg.bar_chart([f"k{i}" for i in range(12)], np.full(12, 0.5), width=200))
    assert "0.500" not in texts(narrow)  # 12 values do not fit 12 slots of 11 px: left out


def test_bar_chart_names_every_kth_class_when_names_would_overlap() -> None:
    names = [f"class number {i}" for i in range(19)]
    root = parse(svg.bar_chart(names, np.linspace(0, 1, 19)))
    axes = root.find(f"{NS}g[@class='axes']")
    assert axes is not None
    shown = [t.text for t in axes.iter(f"{NS}text") if t.get("text-anchor") == "middle" and t.text]
    slot = (360 - svg._ML - svg._MR) / 19
    step = int(np.ceil((len("class number 10") * 11 * 0.6 + 6) / slot))
    assert shown == names[::step]


def test_bar_chart_marks_undefined_bars_with_a_dash_in_narrow_slots() -> None:
    # 19 slots of 15.4 px: "n/a" (19.8 px at 11 px) would overlap its neighbours.
    root = parse(svg.bar_chart([f"c{i}" for i in range(19)], [np.nan] * 18 + [np.inf]))
    marks_ = [t.text for t in root.iter(f"{NS}text") if t.get("fill") == svg._MUTED]
    assert marks_.count("–") == 18
    assert marks_.count("∞") == 1
    assert "n/a" not in marks_
    assert "c0: undefined" in texts(root)


def test_long_y_tick_labels_move_the_plot_clear_of_the_y_label() -> None:
    def left_edge(chart: str) -> float:
        axes = parse(chart).find(f"{NS}g[@class='axes']")
        assert axes is not None
        return float(next(axes.iter(f"{NS}line")).get("x1", "nan"))  # the first grid line

    # "0.9925": 5 digits of 0.64 em and a point of 0.32 em at 11 px = 38.72 px, after the rotated
    # y label (up to x = 20) and before a 6 px gap.
    zoomed = svg.scatter([0.995], [0.995], x_range=(0.99, 1), y_range=(0.99, 1), y_label="B")
    assert left_edge(zoomed) == pytest.approx(20 + 38.72 + 6, abs=0.01)
    assert left_edge(svg.scatter([0.5], [0.5], y_label="B")) == svg._ML  # "0.75" fits as before

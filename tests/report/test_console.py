"""The terminal tables: laid out without rich exactly as rich lays them out."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from segscore.report.console import _fast_table, render_evaluation, render_table


def _rich(header: list[str], rows: list[list[str]], title: str | None, width: int) -> str:
    """The reference: rich's own table of the same texts (never read as markup)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=None if title is None else Text(title), show_edge=False)
    for i, name in enumerate(header):
        table.add_column(Text(name), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(Text(c) for c in row))
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    with console.capture() as capture:
        console.print(table)
    return capture.get().rstrip()


_cell = st.text(string.ascii_letters + string.digits + " .-[],:%@#/\\", max_size=14)


@settings(max_examples=300, deadline=None)
@given(
    n_cols=st.integers(1, 9),
    data=st.data(),
    title=st.none() | _cell,
    width=st.sampled_from([30, 60, 120, 140]),
)
def test_fast_table_equals_rich_whenever_it_applies(
    n_cols: int, data: st.DataObject, title: str | None, width: int
) -> None:
    header = data.draw(st.lists(_cell, min_size=n_cols, max_size=n_cols))
    rows = data.draw(st.lists(st.lists(_cell, min_size=n_cols, max_size=n_cols), max_size=6))
    fast = _fast_table(header, rows, title, width)
    if fast is not None:
        assert fast == _rich(header, rows, title, width)
    assert render_table(header, rows, title=title, width=width) == _rich(header, rows, title, width)


def test_names_that_look_like_markup_are_printed_as_they_are() -> None:
    for name in ("[/]", "[bold]x", ":smile:", "Straße [/]"):
        table = render_table(["class", "iou"], [[name, "0.5000"]], title="per class", width=60)
        assert name in table


def test_fast_path_declines_what_rich_must_shrink_or_measure() -> None:
    assert _fast_table(["a", "b"], [["x" * 50, "y" * 50]], None, 60) is None  # too wide
    assert _fast_table(["class", "name"], [["1", "Straße"]], None, 60) is None  # not ASCII
    assert _fast_table(["a"], [[" padded"]], None, 60) is None  # rich strips the space
    assert _fast_table(["a", "b"], [["1"]], None, 60) is None  # a short row
    assert _fast_table(["metric", "mean"], [["iou", "0.5000"]], "t", 60) == (
        "        t        \n metric ┃   mean \n━━━━━━━━╇━━━━━━━━\n iou    │ 0.5000"
    )


def test_evaluate_summary_table_equals_rich(tmp_path: Path) -> None:
    from segscore.cli import main

    for folder in ("pred", "gt"):
        (tmp_path / folder).mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        for folder in ("pred", "gt"):
            mask = (rng.random((16, 16)) < 0.3).astype(np.uint8) * 255
            Image.fromarray(mask).save(tmp_path / folder / f"c{i}.png")
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--out", str(tmp_path / "out"), "--no-report", "--bootstrap", "20"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    table = render_evaluation(summary).split("\nconventions:")[0]
    header = ["metric", "value", "mean", "median", "std", "min", "max", "pooled", "95% CI"]
    header += ["valid", "NaN", "inf"]
    rows = [line.split("│") for line in table.splitlines()[3:]]
    rows = [[c.strip() for c in r] for r in rows]
    assert [r[0] for r in rows] == list(summary["metrics"])
    assert table == _rich(header, rows, "segscore evaluate: 4 cases scored", 140)

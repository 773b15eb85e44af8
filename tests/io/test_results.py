"""per_case.csv as segscore writes and reads it: formula text neutralised, one row per case/class."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from segscore.errors import DatasetError
from segscore.io.results import csv_text, read_per_case_columns, write_csv

COLUMNS = ["case", "class", "iou", "status", "error"]


def test_formula_text_is_written_after_an_apostrophe_and_read_back(tmp_path: Path) -> None:
    names = ["=1+1", "+A1", "-1", "@SUM(A1)", "'plain", "case-1", "a=b", "'=1+1", "\tx"]
    rows = [{"case": n, "class": 1, "iou": 0.5, "status": "ok", "error": ""} for n in names]
    write_csv(tmp_path / "per_case.csv", rows, COLUMNS)
    with (tmp_path / "per_case.csv").open(encoding="utf-8", newline="") as handle:
        cells = [r["case"] for r in csv.DictReader(handle)]
    assert cells == [
        "'=1+1",
        "'+A1",
        "'-1",
        "'@SUM(A1)",
        "''plain",
        "case-1",
        "a=b",
        "''=1+1",
        "'\tx",
    ]
    assert [csv_text(c) for c in cells] == names
    assert list(read_per_case_columns(tmp_path, ["iou"])["iou"]) == names


def test_a_repeated_case_and_class_row_is_refused(tmp_path: Path) -> None:
    # Reviewed: `segscore compare` averaged a duplicated row into the case's value.
    rows = [
        {"case": "c0", "class": 1, "iou": 0.5, "status": "ok", "error": ""},
        {"case": "c0", "class": 2, "iou": 0.7, "status": "ok", "error": ""},
        {"case": "c0", "class": 1, "iou": 0.99, "status": "ok", "error": ""},
    ]
    write_csv(tmp_path / "per_case.csv", rows[:2], COLUMNS)
    assert read_per_case_columns(tmp_path, ["iou"])["iou"] == {"c0": [0.5, 0.7]}
    write_csv(tmp_path / "per_case.csv", rows, COLUMNS)
    with pytest.raises(DatasetError, match=r"line 4: case 'c0' class 1 appears twice"):
        read_per_case_columns(tmp_path, ["iou"])


def test_numpy_strings_are_escaped_too(tmp_path: Path) -> None:
    import numpy as np

    rows = [{"case": np.str_("=HYPERLINK(1)"), "class": 1, "iou": 0.5, "status": "ok", "error": ""}]
    write_csv(tmp_path / "per_case.csv", rows, COLUMNS)
    assert "'=HYPERLINK(1)" in (tmp_path / "per_case.csv").read_text()

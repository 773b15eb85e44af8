"""Untrusted case names: output paths come only from --out and fixed names; names are escaped."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

from segscore.cli import main
from segscore.io.results import csv_text, read_per_case_columns

from .conftest import binary_pair

# Names starting with "." (such as "..") are hidden files and skipped by the folder scan.
HOSTILE = [
    "a..b",
    "x..",
    "~",
    "C:\\Windows\\evil",
    "\\\\server\\share",
    "%2e%2e%2fpasswd",
    "line\nbreak",
    "carriage\rreturn",
    "tab\there",
    "<script>alert(1)",  # a file name cannot hold "/", so no closing tag
    "<img src=x onerror=alert(1)>",
    "\"quoted\" & 'single'",
    "=cmd|' -C calc'!A0",
    "+SUM(1)",
    "-2+3",
    "@A1",
]


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_hostile_names_never_leave_out_and_are_escaped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for i, name in enumerate(HOSTILE):
        binary_pair(data, f"{name}.png", seed=i, size=12)
    raw = os.fsencode(data / "pred") + b"/caf\xe9.png"  # not UTF-8: a lone surrogate in Python
    os.link(data / "pred" / "a..b.png", raw)
    os.link(data / "gt" / "a..b.png", os.fsencode(data / "gt") + b"/caf\xe9.png")
    before = _tree(tmp_path)
    out = tmp_path / "deep" / "out"
    argv = ["evaluate", "--pred", str(data / "pred"), "--gt", str(data / "gt")]
    assert main([*argv, "--out", str(out), "--metrics", "iou,hd95"]) == 0
    created = _tree(tmp_path) - before
    assert created == {
        "deep",
        "deep/out",
        *(f"deep/out/{n}" for n in ("per_case.csv", "summary.json", "report.html")),
    }

    escaped = {"\n": "\\x0a", "\r": "\\x0d", "\t": "\\x09"}  # control characters: \xNN
    names = sorted(["".join(escaped.get(ch, ch) for ch in n) for n in HOSTILE] + ["caf\\xe9"])
    with (out / "per_case.csv").open(encoding="utf-8", newline="") as handle:
        cells = [r["case"] for r in csv.DictReader(handle)]
    # a spreadsheet would run a cell beginning with = + - @: written after an apostrophe (OWASP)
    formulas = [n for n in names if n[:1] in "=+-@"]
    assert len(formulas) == 4
    assert sorted(c for c in cells if c[:1] == "'") == sorted("'" + n for n in formulas)
    assert sorted(csv_text(c) for c in cells) == names
    assert sorted(read_per_case_columns(out, ["iou"])["iou"]) == names  # as segscore reads it
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["n_cases"] == len(names)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_output_paths_do_not_depend_on_names(tmp_path: Path) -> None:
    """The names given to outputs are fixed: a case called 'per_case' changes nothing."""
    for i, name in enumerate(["per_case.csv", "summary.json", "report.html", "x"]):
        binary_pair(tmp_path, f"{name}.png", seed=i, size=8)
    out = tmp_path / "out"
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["per_case.csv", "report.html", "summary.json"]
    assert np.loadtxt(out / "per_case.csv", dtype=str, delimiter=",", skiprows=1).shape[0] == 4

"""compare.html: what it shows, escaping, and the layout in a real headless browser."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.report.test_html import ESCAPED_NAME, EVIL_NAME, EVIL_VALUE, assert_safe

from segscore.report.compare_html import PairVisual, render_comparison

Chromium = Callable[..., subprocess.CompletedProcess[str]]


def _record(forced: list[str] | None = None) -> dict[str, Any]:
    return {
        "segscore_version": "0.1.0",
        "run_a": {"folder": "runs/a", "pred": "pred_a", "gt": "gt", "threshold": 0.5},
        "run_b": {"folder": EVIL_VALUE, "pred": "pred_b", "gt": "gt", "threshold": 0.42},
        "sign": "difference = B - A, in the metric's units",
        "checks": {"cases": "equal", "gt_hash": "equal", "conventions": "equal"},
        "forced": forced or [],
        "cases": {"n_paired": 4, "only_in_a": [EVIL_NAME], "only_in_b": [], "n_dropped": 1},
        "metrics": {
            "iou": {
                "label": "IoU",
                "higher_is_better": True,
                "unit": "ratio",
                "n_paired": 4,
                "n_nonfinite": 0,
                "mean_a": 0.5,
                "mean_b": 0.7,
                "mean_difference": 0.2,
                "ci95": [0.1, 0.3],
                "wilcoxon_p": 0.125,
                "better": "B",
            },
            "hd95": {
                "label": "HD95",
                "higher_is_better": False,
                "unit": "distance",
                "n_paired": 3,
                "n_nonfinite": 1,
                "mean_a": 3.0,
                "mean_b": 4.5,
                "mean_difference": 1.5,
                "ci95": [-0.5, 3.0],
                "wilcoxon_p": "NaN",
                "better": None,
            },
        },
        "notes": ["not compared: dice (scored in A only)"],
    }


def _per_case() -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    names = ["c1", "c2", EVIL_NAME, "c4"]
    return {
        "iou": (names, np.array([0.4, 0.5, 0.6, 0.5]), np.array([0.6, 0.7, 0.8, 0.7])),
        "hd95": (names, np.array([2.0, 3.0, 4.0, np.inf]), np.array([3.0, 5.0, 5.5, 1.0])),
    }


def _visuals() -> list[PairVisual]:
    t = np.zeros((16, 16), bool)
    t[4:12, 4:12] = True
    return [
        PairVisual(EVIL_NAME, t, np.roll(t, 2, axis=1), t, 0.6, 0.8),
        PairVisual("c2", t, t, np.roll(t, 1, axis=0), 0.5, 0.7, image=np.full((16, 16), 0.5)),
    ]


def _page(**kwargs: Any) -> str:
    options: dict[str, Any] = {"visuals": _visuals(), "visual_metric": "iou"}
    options.update(kwargs)
    return render_comparison(_record(), _per_case(), **options)


def test_page_shows_the_table_plots_and_three_panels_per_case() -> None:
    doc = _page()
    tags = assert_safe(doc, n_images=3 * 2)
    assert len(tags.named("svg")) == 2 * 2  # per metric: B against A, and B - A
    assert "IoU ↑" in doc
    assert "HD95 ↓" in doc
    assert '<td class="better">B</td>' in doc
    assert '<td class="better">–</td>' in doc  # HD95: the interval includes 0
    assert "(+1 left out)" in doc
    assert "Above the dashed line: B higher (worse)." in doc  # HD95: lower is better
    assert "Above the dashed line: B higher (better)." in doc
    assert "The cases whose IoU changed most" in doc
    assert doc.count("<figcaption>ground truth</figcaption>") == 2
    assert "Only in A (1, dropped)" in doc
    assert "not compared: dice" in doc
    assert "Compared with --force" not in doc
    assert render_comparison(_record(), _per_case()) == render_comparison(_record(), _per_case())


def test_every_input_string_is_escaped_and_forcing_is_said() -> None:
    doc = render_comparison(_record(forced=[EVIL_VALUE]), _per_case(), visuals=_visuals())
    assert EVIL_NAME not in doc
    assert EVIL_VALUE not in doc
    assert ESCAPED_NAME in doc
    assert "Compared with --force" in doc
    tags = assert_safe(doc, n_images=6)
    assert EVIL_VALUE in "".join(tags.text)


def test_notes_replace_the_cases_that_cannot_be_drawn() -> None:
    doc = _page(visuals=[], visual_notes=["Not drawn: c1: a file cannot be read (gone)."])
    assert "Not drawn: c1: a file cannot be read (gone)." in doc
    assert "<img" not in doc
    assert "Cases that changed most" not in render_comparison(_record(), _per_case())


@pytest.mark.parametrize("width", [760, 1280])
def test_nothing_overflows_in_chromium(chromium: Chromium, tmp_path: Path, width: int) -> None:
    doc = _page()
    doc = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", doc)
    probe = (
        "<script>window.addEventListener('load',function(){var d=document.documentElement;"
        "var wide=[].slice.call(document.querySelectorAll('section')).filter(function(s){"
        "return s.scrollWidth>s.clientWidth+1}).map(function(s){return s.id});"
        "d.dataset.page=d.scrollWidth<=window.innerWidth?'fits':'overflows';"
        "d.dataset.wide=wide.join(',')||'none';"
        "d.dataset.decoded=[].slice.call(document.images).filter(function(m){"
        "return m.complete&&m.naturalWidth>0}).length})</script>"
    )
    page = tmp_path / "compare.html"
    page.write_text(doc.replace("</body>", probe + "</body>", 1), encoding="utf-8")
    dom = chromium(page, f"--window-size={width},900", "--virtual-time-budget=5000", "--dump-dom")
    assert 'data-page="fits"' in dom.stdout
    assert 'data-wide="none"' in dom.stdout
    assert 'data-decoded="6"' in dom.stdout


def test_a_large_run_draws_a_sample_of_its_cases() -> None:
    n = 5000
    names = [f"c{i}" for i in range(n)]
    a = np.linspace(0, 1, n)
    b = a.copy()
    b[1234] = 1.0 - a[1234]  # the case that changed most is always drawn
    record = _record()
    record["metrics"] = {"iou": record["metrics"]["iou"]}
    doc = render_comparison(record, {"iou": (names, a, b)})
    assert doc.count('class="point') == 2000
    assert "c1234: (" in doc
    assert "2,000 of 5,000 cases drawn, evenly spaced." in doc
    assert len(doc) < 1_000_000


def test_ratio_plots_zoom_to_bunched_values_and_differences_get_a_round_symmetric_axis() -> None:
    record = _record()
    record["metrics"] = {
        "accuracy": {**record["metrics"]["iou"], "label": "Pixel accuracy", "unit": "ratio"}
    }
    a, b = [0.95, 0.97, 0.99], [0.96, 0.98, 0.995]
    doc = render_comparison(record, {"accuracy": (["x", "y", "z"], a, b)})
    # 0.95 to 0.995 spans 0.045 < a quarter of [0, 1]: ticks in steps of 0.02 around it.
    assert ">Pixel accuracy in A (zoomed: 0.94 to 1)</text>" in doc
    assert ">Pixel accuracy in B (zoomed: 0.94 to 1)</text>" in doc
    # |B - A| <= 0.01: the histogram spans -0.01 to 0.01 (before: its ticks reached past it).
    assert "3 values in 21 bins from -0.01 to 0.01" in doc
    spread = render_comparison(_record(), {"iou": (["x", "y"], [0.1, 0.9], [0.2, 0.8])})
    assert ">IoU in A</text>" in spread

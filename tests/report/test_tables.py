"""`--table md|latex|csv`: tables of tiny runs whose every number is known, golden strings by hand."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segscore.cli import main
from segscore.errors import InputError
from segscore.report.tables import (
    Estimate,
    MetricName,
    PValue,
    Table,
    format_table,
    latex_escape,
)


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8)).save(path)


def _square() -> np.ndarray:
    t = np.zeros((4, 4), np.uint8)
    t[1:3, 1:3] = 255
    return t


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Three cases of one 2x2 square: IoU 1, 1/2, 1/3 and Dice 1, 2/3, 1/2."""
    target = _square()
    half = np.zeros_like(target)
    half[1:3, 1:2] = 255  # 2 of the 4 pixels
    shifted = np.zeros_like(target)
    shifted[1:3, 2:4] = 255  # 2 shared pixels, 6 in the union
    for name, pred in (("c1", target), ("c2", half), ("c3", shifted)):
        _png(tmp_path / "gt" / f"{name}.png", target)
        _png(tmp_path / "pred" / f"{name}.png", pred)
    return tmp_path


def _evaluate(root: Path, pred: str, out: str, *flags: str) -> list[str]:
    return ["evaluate", "--pred", str(root / pred), "--gt", str(root / "gt"), "--out", str(root / out), "--no-report", "--jobs", "1", *flags]  # fmt: skip


# IoU: mean 11/18 = 0.6111, SD sqrt(78/972) = 0.2833; Dice: 13/18 = 0.7222, SD sqrt(42/972) = 0.2079.
EVALUATE_MD = """\
| Metric | Value | n |
|:--|--:|--:|
| IoU ↑ | 0.611 ± 0.283 | 3 |
| Dice ↑ | 0.722 ± 0.208 | 3 |

Value: the metric's value ± SD of its case values.
"""

EVALUATE_LATEX = r"""% Value: the metric's value $\pm$ SD of its case values.
\begin{tabular}{lrr}
\toprule
Metric & Value & n \\
\midrule
IoU $\uparrow$ & 0.61 $\pm$ 0.28 & 3 \\
Dice $\uparrow$ & 0.72 $\pm$ 0.21 & 3 \\
\bottomrule
\end{tabular}
"""

EVALUATE_CSV = """\
metric,value,value_sd,n
iou,0.6111,0.2833,3
dice,0.7222,0.2079,3
"""


@pytest.mark.parametrize(
    ("fmt", "flags", "file", "want"),
    [
        ("md", [], "table.md", EVALUATE_MD),
        ("latex", ["--decimals", "2"], "table.tex", EVALUATE_LATEX),
        ("csv", ["--decimals", "4"], "table.csv", EVALUATE_CSV),
    ],
)
def test_evaluate_table_of_a_known_run(  # type: ignore[no-untyped-def]
    tiny: Path, capsys, fmt: str, flags: list[str], file: str, want: str
) -> None:
    assert main([*_evaluate(tiny, "pred", "out"), "--table", fmt, *flags]) == 0
    assert (tiny / "out" / file).read_text(encoding="utf-8") == want
    assert want.rstrip("\n") in capsys.readouterr().out


MULTICLASS_MD = """\
| Metric | Class | Value | n |
|:--|:--|--:|--:|
| IoU ↑ | all classes | 0.750 ± 0.167 | 2 |
| IoU ↑ | bg | 1.000 ± 0.000 | 2 |
| IoU ↑ | road_side | 0.750 ± 0.250 | 2 |
| IoU ↑ | car | 0.500 ± 0.000 | 1 |

Value: the metric's value ± SD of its case values.
"""

MULTICLASS_LATEX = r"""% Value: the metric's value $\pm$ SD of its case values.
\begin{tabular}{llrr}
\toprule
Metric & Class & Value & n \\
\midrule
IoU $\uparrow$ & all classes & 0.750 $\pm$ 0.167 & 2 \\
IoU $\uparrow$ & bg & 1.000 $\pm$ 0.000 & 2 \\
IoU $\uparrow$ & road\_side & 0.750 $\pm$ 0.250 & 2 \\
IoU $\uparrow$ & car & 0.500 $\pm$ 0.000 & 1 \\
\bottomrule
\end{tabular}
"""


@pytest.mark.parametrize(("fmt", "file", "want"), [("md", "table.md", MULTICLASS_MD), ("latex", "table.tex", MULTICLASS_LATEX)])  # fmt: skip
def test_per_class_rows_with_class_names(tmp_path: Path, fmt: str, file: str, want: str) -> None:
    # Case x: class 0 IoU 1, class 1 IoU 1/2, class 2 IoU 1/2 (case value 2/3).
    # Case y: class 0 IoU 1, class 1 IoU 1, class 2 absent in both (NaN; case value 1).
    # Per class over cases: 1, 3/4, 1/2; their mean 3/4; SD of the case values (2/3, 1): 1/6.
    cases = {
        "x": ([[0, 1], [2, 1]], [[0, 1], [2, 2]]),
        "y": ([[1, 1], [0, 0]], [[1, 1], [0, 0]]),
    }
    for name, (pred, target) in cases.items():
        _png(tmp_path / "pred" / f"{name}.png", np.array(pred))
        _png(tmp_path / "gt" / f"{name}.png", np.array(target))
    flags = ["--num-classes", "3", "--include-background", "--metrics", "iou"]
    flags += ["--class-names", "bg,road_side,car", "--table", fmt]
    assert main([*_evaluate(tmp_path, "pred", "out"), *flags]) == 0
    assert (tmp_path / "out" / file).read_text(encoding="utf-8") == want


def test_bootstrap_intervals_replace_the_sd(tiny: Path) -> None:
    assert main([*_evaluate(tiny, "pred", "out"), "--bootstrap", "200", "--table", "md"]) == 0
    text = (tiny / "out" / "table.md").read_text(encoding="utf-8")
    assert re.search(r"^\| IoU ↑ \| 0\.611 \[0\.\d{3}, 1\.000\] \| 3 \|$", text, re.M)
    assert "[low, high]: 95% percentile bootstrap interval over cases." in text
    assert "±" not in text


COMPARE_MD = """\
| Metric | A | B | B − A [95% CI] | p | Better | n |
|:--|--:|--:|--:|--:|:--|--:|
| IoU ↑ | 0.500 | 1.000 | 0.500 [0.500, 0.500] | 0.250 | – | 3 |
| Dice ↑ | 0.667 | 1.000 | 0.333 [0.333, 0.333] | 0.250 | – | 3 |

A, B: means over the paired cases; B − A: their mean paired difference.
[95% CI]: percentile bootstrap over cases; p: Wilcoxon signed-rank test.
Better: the run favoured when the interval excludes 0 and p < 0.05, else –; ↑/↓: higher/lower is better.
"""

COMPARE_LATEX = r"""% A, B: means over the paired cases; B - A: their mean paired difference.
% [95\% CI]: percentile bootstrap over cases; p: Wilcoxon signed-rank test.
% Better: the run favoured when the interval excludes 0 and p < 0.05, else --; $\uparrow$/$\downarrow$: higher/lower is better.
\begin{tabular}{lrrrrlr}
\toprule
Metric & A & B & B - A [95\% CI] & p & Better & n \\
\midrule
IoU $\uparrow$ & 0.50 & 1.00 & 0.50 [0.50, 0.50] & 0.25 & -- & 3 \\
Dice $\uparrow$ & 0.67 & 1.00 & 0.33 [0.33, 0.33] & 0.25 & -- & 3 \\
\bottomrule
\end{tabular}
"""

COMPARE_CSV = """\
metric,a,b,difference,difference_ci_low,difference_ci_high,p,better,n
iou,0.500,1.000,0.500,0.500,0.500,0.25,–,3
dice,0.667,1.000,0.333,0.333,0.333,0.25,–,3
"""


@pytest.mark.parametrize(
    ("fmt", "flags", "file", "want"),
    [
        ("md", [], "table.md", COMPARE_MD),
        ("latex", ["--decimals", "2"], "table.tex", COMPARE_LATEX),
        ("csv", [], "table.csv", COMPARE_CSV),
    ],
)
def test_compare_table_of_known_runs(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys, fmt: str, flags: list[str], file: str, want: str
) -> None:
    # A predicts half of every square (IoU 1/2, Dice 2/3), B all of it: every difference is
    # the same, so the bootstrap interval is one point and Wilcoxon's exact p is 2/2^3: three
    # cases cannot reach p < 0.05, so no run is named better.
    target = _square()
    half = np.zeros_like(target)
    half[1:3, 1:2] = 255
    for name in ("c1", "c2", "c3"):
        _png(tmp_path / "gt" / f"{name}.png", target)
        _png(tmp_path / "a_pred" / f"{name}.png", half)
        _png(tmp_path / "b_pred" / f"{name}.png", target)
    for run in ("a", "b"):
        assert main(_evaluate(tmp_path, f"{run}_pred", run)) == 0
    capsys.readouterr()
    argv = ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "c")]
    assert main([*argv, "--table", fmt, *flags]) == 0
    assert (tmp_path / "c" / file).read_text(encoding="utf-8") == want
    assert want.rstrip("\n") in capsys.readouterr().out


def test_latex_escapes_names_and_writes_signs_in_ascii() -> None:
    assert latex_escape("a_b & 50% #1 $x$ {y} ~z^2 \\") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{}z\textasciicircum{}2 \textbackslash{}"
    )
    table = Table(
        ("Metric", "Class", "Value", "p"),
        (
            (MetricName("f1@0.5"), "traffic_light", Estimate(-0.00001, std=math.nan), PValue(1e-9)),
            (MetricName("hd95"), "a|b", Estimate(math.inf), PValue(math.nan)),
            (MetricName("my_metric"), "x", Estimate(math.nan, ci95=(0.1, 0.2)), PValue(0.5)),
        ),
    )
    latex = format_table(table, "latex")
    assert r"F1@0.5 $\uparrow$ & traffic\_light & 0.000 & $<$ 0.001 \\" in latex
    assert r"HD95 $\downarrow$ & a|b & $\infty$ & -- \\" in latex
    assert r"my\_metric & x & -- & 0.500 \\" in latex  # a name the registry does not know
    assert latex.isascii()
    md = format_table(table, "md")
    assert r"| HD95 ↓ | a\|b | ∞ | — |" in md
    assert "| F1@0.5 ↑ | traffic_light | 0.000 | < 0.001 |" in md
    csv_text = format_table(table, "csv")
    assert csv_text.splitlines()[1:] == [
        "f1@0.5,traffic_light,0.000,NaN,,,1e-09",
        "hd95,a|b,Infinity,,,,NaN",
        "my_metric,x,NaN,,0.100,0.200,0.5",
    ]


def test_bad_format_and_decimals(tiny: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    table = Table(("Metric",), ((MetricName("iou"),),))
    with pytest.raises(InputError, match=r"`fmt` must be one of 'md', 'latex', 'csv', got 'tex'"):
        format_table(table, "tex")
    with pytest.raises(InputError, match=r"`decimals` must be an integer in \[0, 12\], got 13"):
        format_table(table, "md", decimals=13)
    assert main([*_evaluate(tiny, "pred", "out"), "--table", "md", "--decimals", "-1"]) == 2
    assert "`--decimals` must be an integer in [0, 12], got -1." in capsys.readouterr().err
    assert not (tiny / "out").exists()

r"""Summary tables ready to paste into a paper: Markdown, LaTeX (booktabs) or CSV.

Pure formatting, no files: :func:`evaluation_table` turns a ``summary.json`` record (and,
for per-class spreads, the ``per_case.csv`` rows) into a :class:`Table`,
:func:`comparison_table` does the same for a ``compare.json`` record, and :func:`format_table`
writes a table as text. ``segscore evaluate --table md|latex|csv`` and ``segscore compare
--table ...`` print that text and write it as ``table.md``, ``table.tex`` or ``table.csv``
(:data:`TABLE_FILES`).

Every number is written with the same number of decimals (``decimals``); ``-0.000`` is written
``0.000``. Estimates read ``value ± SD`` (the SD of the case values), or ``value [low, high]``
with a 95% bootstrap interval. Undefined values are a dash (Markdown ``—``, LaTeX ``--``, CSV
``NaN``), infinite ones ``∞`` (LaTeX ``$\infty$``, CSV ``Infinity``). A p-value below
``10**-decimals`` is written ``< 0.001``. LaTeX output escapes the ten special characters in
names (``_`` becomes ``\_``) and writes its own signs in ASCII; Markdown output escapes ``|``. CSV splits an
estimate into numeric columns (``value``, ``value_sd``, ``value_ci_low``, ``value_ci_high``) so
that a spreadsheet reads numbers.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from segscore._validation import check_option, fail_must
from segscore.metrics.registry import display_name, get_metric

__all__ = [
    "TABLE_FILES",
    "TABLE_FORMATS",
    "Estimate",
    "MetricName",
    "PValue",
    "Table",
    "TableFormat",
    "comparison_table",
    "evaluation_table",
    "format_table",
    "latex_escape",
]

TableFormat = Literal["md", "latex", "csv"]
TABLE_FORMATS: tuple[TableFormat, ...] = ("md", "latex", "csv")
TABLE_FILES: Mapping[str, str] = {"md": "table.md", "latex": "table.tex", "csv": "table.csv"}
"""The file each format is written to in the output folder."""


@dataclass(frozen=True)
class Estimate:
    """A number with its spread: ``value ± std`` or ``value [low, high]`` (or neither)."""

    value: float
    std: float | None = None
    ci95: tuple[float, float] | None = None


@dataclass(frozen=True)
class MetricName:
    """A registry name, shown as its display name with its direction (``IoU ↑``, ``HD95 ↓``)."""

    name: str


@dataclass(frozen=True)
class PValue:
    """A p-value (written ``< 0.001`` below ``10**-decimals``)."""

    p: float


Cell: TypeAlias = str | int | float | Estimate | MetricName | PValue


@dataclass(frozen=True)
class Table:
    """A table: its header, its rows (cells of :data:`Cell` types), notes, and CSV column names.

    Examples
    --------
    >>> t = Table(("Metric", "Value"), ((MetricName("iou"), Estimate(0.5, std=0.25)),))
    >>> print(format_table(t, "md"))
    | Metric | Value |
    |:--|--:|
    | IoU ↑ | 0.500 ± 0.250 |
    """

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    keys: tuple[str, ...] | None = None  # CSV column names (default: the header in lower case)


# --------------------------------------------------------------------------------------------
# Building tables from the records.


def _float(value: object) -> float:
    """Read a number of a JSON record (non-finite floats may be the strings of segscore's JSON)."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity", "nan", "inf", "-inf"):
        return float(value)
    return math.nan


def _spread(values: Sequence[float]) -> tuple[float, int]:
    """SD and count of case values: NaN left out; an infinite value leaves the SD undefined."""
    used = [v for v in values if not math.isnan(v)]
    if not used or any(math.isinf(v) for v in used):
        return math.nan, len(used)
    mean = math.fsum(used) / len(used)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in used) / len(used)), len(used)


def _row_value(value: object) -> float:
    """Read a value of a per-case row: a float, or the text of ``per_case.csv`` (empty: NaN)."""
    if not isinstance(value, str):
        return _float(value)
    try:
        return float(value) if value else math.nan
    except ValueError:
        return math.nan


def _class_values(rows: Sequence[Mapping[str, object]], metric: str, class_id: str) -> list[float]:
    return [
        _row_value(r.get(metric))
        for r in rows
        if str(r.get("class")) == class_id and r.get("status", "ok") == "ok"
    ]


def evaluation_table(
    summary: Mapping[str, object], rows: Sequence[Mapping[str, object]] | None = None
) -> Table:
    """Tabulate an evaluation: per metric its value and n, then one row per class.

    Parameters
    ----------
    summary : mapping
        The ``summary.json`` record.
    rows : sequence of mapping, optional
        The ``per_case.csv`` rows (``case``, ``class``, one column per metric), for the SD and
        count of each class's case values; without them a class row shows its value alone.

    Returns
    -------
    Table
        Columns ``Metric``, ``Class`` (only when a metric has more than one class), ``Value``,
        ``n``. The value is the metric's value in ``summary.json`` (under its aggregation; for
        binary masks the mean over cases) ± the SD of its case values, or, when the run was
        bootstrapped, with its 95% interval instead; ``n`` counts the case values that enter
        the statistics (NaN left out, infinite kept). A class row holds the class's value, the
        SD of its case values and their count.

    Examples
    --------
    >>> iou = {"value": 0.6, "std": 0.1, "n_valid": 5, "n_inf": 0, "ci95": None,
    ...        "per_class": {"1": 0.6}}
    >>> print(format_table(evaluation_table({"metrics": {"iou": iou}}), "md"))
    | Metric | Value | n |
    |:--|--:|--:|
    | IoU ↑ | 0.600 ± 0.100 | 5 |
    <BLANKLINE>
    Value: the metric's value ± SD of its case values.
    """
    metrics = summary.get("metrics")
    metrics = metrics if isinstance(metrics, Mapping) else {}
    with_classes = any(
        isinstance(s, Mapping)
        and isinstance(s.get("per_class"), Mapping)
        and len(s["per_class"]) > 1
        for s in metrics.values()
    )
    body: list[tuple[Cell, ...]] = []
    any_ci = any_sd = False
    for name, s in metrics.items():
        if not isinstance(s, Mapping):
            continue
        ci = s.get("ci95")
        n = int(_float(s.get("n_valid")) + _float(s.get("n_inf")))
        if isinstance(ci, (list, tuple)) and len(ci) == 2:
            est = Estimate(_float(s.get("value")), ci95=(_float(ci[0]), _float(ci[1])))
            any_ci = True
        else:
            est = Estimate(_float(s.get("value")), std=_float(s.get("std")))
            any_sd = True
        body.append((MetricName(str(name)), *(("all classes",) if with_classes else ()), est, n))
        per_class = s.get("per_class")
        if not with_classes or not isinstance(per_class, Mapping) or len(per_class) < 2:
            continue
        names = s.get("class_names")
        names = names if isinstance(names, Mapping) else {}
        for k in sorted(per_class, key=lambda c: int(c)):
            label = str(names.get(k) or f"class {k}")
            value = _float(per_class[k])
            if rows is None:
                body.append((MetricName(str(name)), label, Estimate(value), ""))
                continue
            sd, count = _spread(_class_values(rows, str(name), str(k)))
            body.append((MetricName(str(name)), label, Estimate(value, std=sd), count))
            any_sd = True
    notes = []
    if any_sd:
        notes.append("Value: the metric's value ± SD of its case values.")
    if any_ci:
        notes.append("[low, high]: 95% percentile bootstrap interval over cases.")
    header = ("Metric", *(("Class",) if with_classes else ()), "Value", "n")
    keys = ("metric", *(("class",) if with_classes else ()), "value", "n")
    return Table(header, tuple(body), tuple(notes), keys)


def comparison_table(record: Mapping[str, object]) -> Table:
    """Tabulate a comparison: per metric A, B, B − A [95% CI], p, which run is better, n.

    Parameters
    ----------
    record : mapping
        The ``compare.json`` record (:meth:`segscore.evaluation.compare.Comparison.as_record`):
        per metric ``mean_a``, ``mean_b``, ``mean_difference``, ``ci95``, ``wilcoxon_p``,
        ``better`` and ``n_paired``.

    Returns
    -------
    Table

    Examples
    --------
    >>> m = {"mean_a": 0.5, "mean_b": 0.6, "mean_difference": 0.1, "ci95": [0.05, 0.15],
    ...      "wilcoxon_p": 0.0001, "better": "B", "n_paired": 12}
    >>> print(format_table(comparison_table({"metrics": {"iou": m}}), "md"))
    | Metric | A | B | B − A [95% CI] | p | Better | n |
    |:--|--:|--:|--:|--:|:--|--:|
    | IoU ↑ | 0.500 | 0.600 | 0.100 [0.050, 0.150] | < 0.001 | B | 12 |
    <BLANKLINE>
    A, B: means over the paired cases; B − A: their mean paired difference.
    [95% CI]: percentile bootstrap over cases; p: Wilcoxon signed-rank test.
    Better: the run favoured when the interval excludes 0 and p < 0.05, else –; ↑/↓: higher/lower is better.
    """
    metrics = record.get("metrics")
    metrics = metrics if isinstance(metrics, Mapping) else {}
    body: list[tuple[Cell, ...]] = []
    for name, m in metrics.items():
        if not isinstance(m, Mapping):
            continue
        ci = m.get("ci95")
        interval = (
            (_float(ci[0]), _float(ci[1]))
            if isinstance(ci, (list, tuple)) and len(ci) == 2
            else None
        )
        body.append(
            (
                MetricName(str(name)),
                _float(m.get("mean_a")),
                _float(m.get("mean_b")),
                Estimate(_float(m.get("mean_difference")), ci95=interval),
                PValue(_float(m.get("wilcoxon_p"))),
                str(m.get("better") or "–"),
                int(_float(m.get("n_paired"))) if m.get("n_paired") is not None else "",
            )
        )
    notes: tuple[str, ...] = (
        "A, B: means over the paired cases; B − A: their mean paired difference.",
        "[95% CI]: percentile bootstrap over cases; p: Wilcoxon signed-rank test.",
        "Better: the run favoured when the interval excludes 0 and p < 0.05, else –; ↑/↓: higher/lower is better.",
    )
    forced = record.get("forced")
    if isinstance(forced, list) and forced:  # a comparison that a check refused: say so
        notes += (f"Compared with --force: {len(forced)} check(s) overridden (see compare.json).",)
    header = ("Metric", "A", "B", "B − A [95% CI]", "p", "Better", "n")
    keys = ("metric", "a", "b", "difference", "p", "better", "n")
    return Table(header, tuple(body), notes, keys)


# --------------------------------------------------------------------------------------------
# Writing tables.

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_UNICODE = {"−": "-", "–": "--", "—": "---", "±": r"$\pm$", "↑": r"$\uparrow$"}
_LATEX_UNICODE["↓"] = r"$\downarrow$"


def latex_escape(text: str) -> str:
    r"""Escape text for LaTeX: the ten special characters, and a few Unicode signs as ASCII.

    Examples
    --------
    >>> print(latex_escape("f1@0.5 of road_side: 50% & more"))
    f1@0.5 of road\_side: 50\% \& more
    >>> print(latex_escape("B − A ~ {x}^2 \\ y"))
    B - A \textasciitilde{} \{x\}\textasciicircum{}2 \textbackslash{} y
    """
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    return "".join(_LATEX_UNICODE.get(ch, ch) for ch in out)


def _number(x: float, decimals: int, fmt: TableFormat) -> str:
    if math.isnan(x):
        return {"md": "—", "latex": "--", "csv": "NaN"}[fmt]
    if math.isinf(x):
        if fmt == "csv":
            return "Infinity" if x > 0 else "-Infinity"
        sign = "" if x > 0 else "-"
        return sign + ("∞" if fmt == "md" else r"$\infty$")
    text = f"{x:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        return text[1:]
    return f"${text}$" if fmt == "latex" and text.startswith("-") else text  # a minus, not a hyphen


def _estimate(e: Estimate, decimals: int, fmt: TableFormat) -> str:
    text = _number(e.value, decimals, fmt)
    if math.isnan(e.value) or math.isinf(e.value):
        return text
    if e.ci95 is not None:
        low, high = (_number(v, decimals, fmt) for v in e.ci95)
        return f"{text} [{low}, {high}]"
    if e.std is not None and not math.isnan(e.std):
        pm = r"$\pm$" if fmt == "latex" else "±"
        return f"{text} {pm} {_number(e.std, decimals, fmt)}"
    return text


def _p(p: float, decimals: int, fmt: TableFormat) -> str:
    if fmt == "csv":
        return "NaN" if math.isnan(p) else f"{p:.{max(decimals, 1)}g}"
    if not math.isnan(p) and p < 10.0**-decimals:
        bound = f"{10.0**-decimals:.{decimals}f}"
        return f"$<$ {bound}" if fmt == "latex" else f"< {bound}"
    return _number(p, decimals, fmt)


def _metric(m: MetricName, fmt: TableFormat) -> str:
    if fmt == "csv":
        return m.name
    try:
        arrow = " ↑" if get_metric(m.name).higher_is_better else " ↓"
    except ValueError:  # a name the registry does not know: no direction
        arrow = ""
    text = display_name(m.name) + arrow
    return latex_escape(text) if fmt == "latex" else text.replace("|", r"\|")


def _cell(cell: Cell, decimals: int, fmt: TableFormat) -> str:
    if isinstance(cell, Estimate):
        return _estimate(cell, decimals, fmt)
    if isinstance(cell, MetricName):
        return _metric(cell, fmt)
    if isinstance(cell, PValue):
        return _p(cell.p, decimals, fmt)
    if isinstance(cell, float):
        return _number(cell, decimals, fmt)
    if isinstance(cell, int) and not isinstance(cell, bool):
        return str(cell)
    text = str(cell)
    if fmt == "latex":
        return latex_escape(text)
    return text.replace("|", r"\|") if fmt == "md" else text


def _numeric(table: Table, j: int) -> bool:
    return any(isinstance(r[j], (Estimate, PValue, float, int)) for r in table.rows) and not any(
        isinstance(r[j], MetricName) for r in table.rows
    )


def _csv(table: Table, decimals: int) -> str:
    """CSV: an estimate column becomes value, SD and interval columns (those that occur)."""
    columns: list[tuple[str, int, str]] = []  # (name, column, part)
    keys = table.keys or tuple(h.lower().replace(" ", "_") for h in table.header)
    for j, key in enumerate(keys):
        cells = [r[j] for r in table.rows]
        if not any(isinstance(c, Estimate) for c in cells):
            columns.append((key, j, "cell"))
            continue
        columns.append((key, j, "value"))
        if any(isinstance(c, Estimate) and c.std is not None for c in cells):
            columns.append((f"{key}_sd", j, "std"))
        if any(isinstance(c, Estimate) and c.ci95 is not None for c in cells):
            columns += [(f"{key}_ci_low", j, "low"), (f"{key}_ci_high", j, "high")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _, _ in columns])
    for row in table.rows:
        out = []
        for _, j, part in columns:
            cell = row[j]
            if part == "cell" or not isinstance(cell, Estimate):
                out.append(_cell(cell, decimals, "csv") if part in ("cell", "value") else "")
            elif part == "value":
                out.append(_number(cell.value, decimals, "csv"))
            elif part == "std":
                out.append("" if cell.std is None else _number(cell.std, decimals, "csv"))
            else:
                bound = None if cell.ci95 is None else cell.ci95[0 if part == "low" else 1]
                out.append("" if bound is None else _number(bound, decimals, "csv"))
        writer.writerow(out)
    return buffer.getvalue()


def format_table(table: Table, fmt: str, *, decimals: int = 3) -> str:
    r"""Write ``table`` as Markdown (``'md'``), LaTeX booktabs (``'latex'``) or CSV (``'csv'``).

    Parameters
    ----------
    table : Table
        From :func:`evaluation_table` or :func:`comparison_table`.
    fmt : {'md', 'latex', 'csv'}
        The format.
    decimals : int, default 3
        Decimals of every number (0 to 12).

    Returns
    -------
    str
        The text. Markdown: a pipe table, then its notes; LaTeX: a ``tabular`` with
        ``\toprule``, ``\midrule`` and ``\bottomrule`` (``\usepackage{booktabs}``), its notes as
        ``%`` comments above it; CSV: a header line and one line per row (no notes).

    Raises
    ------
    InputError
        On an unknown format or a bad number of decimals.

    Examples
    --------
    >>> t = Table(("Metric", "Class", "Value"),
    ...           ((MetricName("hd95"), "road_side", Estimate(1.25, ci95=(-0.5, 2.0))),))
    >>> print(format_table(t, "latex", decimals=2))
    \begin{tabular}{llr}
    \toprule
    Metric & Class & Value \\
    \midrule
    HD95 $\downarrow$ & road\_side & 1.25 [$-0.50$, 2.00] \\
    \bottomrule
    \end{tabular}
    >>> print(format_table(t, "csv", decimals=2), end="")
    metric,class,value,value_ci_low,value_ci_high
    hd95,road_side,1.25,-0.50,2.00
    """
    check_option("fmt", fmt, TABLE_FORMATS)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 12:
        fail_must("decimals", "be an integer in [0, 12]", decimals)
    kind: TableFormat = fmt  # type: ignore[assignment]
    if kind == "csv":
        return _csv(table, decimals)
    cells = [[_cell(c, decimals, kind) for c in row] for row in table.rows]
    numeric = [_numeric(table, j) for j in range(len(table.header))]
    if kind == "md":
        lines = [
            "| " + " | ".join(h.replace("|", r"\|") for h in table.header) + " |",
            "|" + "|".join("--:" if n else ":--" for n in numeric) + "|",
            *("| " + " | ".join(row) + " |" for row in cells),
        ]
        if table.notes:
            lines += ["", *table.notes]
        return "\n".join(lines)
    spec = "".join("r" if n else "l" for n in numeric)
    lines = [f"% {latex_escape(note)}" for note in table.notes]
    lines += [
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(latex_escape(h) for h in table.header) + r" \\",
        r"\midrule",
        *(" & ".join(row) + r" \\" for row in cells),
        r"\bottomrule",
        r"\end{tabular}",
    ]
    return "\n".join(lines)

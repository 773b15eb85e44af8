"""Render score reports for the terminal (rich when installed, plain text otherwise)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from segscore.metrics.reduce import Score

__all__ = ["accuracy_contrast", "render_evaluation", "render_table"]


def accuracy_contrast(scores: Mapping[str, Score], names: Sequence[str]) -> str | None:
    """Return a sentence about the case where pixel accuracy most overstates IoU, if both were scored.

    Examples
    --------
    >>> from segscore import confusion, score
    >>> pred = np.zeros((2, 10, 10), bool); target = np.zeros((2, 10, 10), bool)
    >>> target[0, :1, :4] = True; pred[0, :1, :1] = True      # a miss: accuracy 0.97, IoU 0.25
    >>> pred[1, :5] = True; target[1, :5] = True
    >>> c = confusion(pred, target)
    >>> accuracy_contrast({m: score(c, m) for m in ("iou", "accuracy")}, ["a", "b"])
    'a: pixel accuracy 0.970 but IoU 0.250 - overlap scores show what pixel accuracy hides.'
    """
    if "accuracy" not in scores or "iou" not in scores:
        return None
    acc = scores["accuracy"].per_image
    iou = scores["iou"].per_image
    gap = np.where(np.isnan(iou), -np.inf, acc - iou)
    i = int(np.argmax(gap))
    if not np.isfinite(gap[i]) or gap[i] <= 0.2:
        return None
    return (
        f"{names[i]}: pixel accuracy {acc[i]:.3f} but IoU {iou[i]:.3f} "
        "- overlap scores show what pixel accuracy hides."
    )


def _plain(text: str) -> bool:
    """Tell whether rich draws ``text`` as it is: printable ASCII without surrounding spaces."""
    return text.isascii() and text.isprintable() and text == text.strip()


def _fast_table(
    header: list[str], rows: list[list[str]], title: str | None, width: int
) -> str | None:
    """Return the table exactly as rich draws it, when that is simple; None otherwise.

    Rich's table (no outer edge, heavy header rule, first column left-aligned, the others
    right-aligned, the title centred above) is what every command prints. Building it through
    rich costs 20-50 ms, a few percent of a one-second ``segscore evaluate``, and importing rich
    as much again; so a table whose cells are printable ASCII and that fits in ``width`` is laid
    out here, character for character as rich does (``tests/report/test_console.py`` compares
    the two), and rich draws only the others (wide characters, columns it must shrink).
    """
    cells = [header, *rows]
    if any(len(r) != len(header) for r in rows) or not all(_plain(c) for r in cells for c in r):
        return None
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    total = sum(widths) + 3 * len(widths) - 1
    if total > width or not header:
        return None

    def line(row: list[str], bar: str) -> str:
        parts = [
            f" {c.ljust(w) if i == 0 else c.rjust(w)} "
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return bar.join(parts)

    out = []
    if title:
        if len(title) > total or not _plain(title):
            return None
        left = (total - len(title)) // 2
        out.append(" " * left + title + " " * (total - len(title) - left))
    out.append(line(header, "┃"))
    out.append("╇".join("━" * (w + 2) for w in widths))
    out += [line(r, "│") for r in rows]
    return "\n".join(out).rstrip()


def render_table(
    header: list[str], rows: list[list[str]], *, title: str | None = None, width: int = 120
) -> str:
    """Return a table as text, as rich draws it (aligned plain columns without rich)."""
    fast = _fast_table(header, rows, title, width)
    if fast is not None:
        return fast
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is installed with every extra
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        fmt: Any = "  ".join(f"{{:>{w}}}" for w in widths)
        return "\n".join(fmt.format(*r) for r in [header, *rows])
    from rich.text import Text

    # Text, not str: a case or class name such as "[/]" or ":smile:" is shown as it is, never read
    # as rich markup (an error) or an emoji code.
    table = Table(title=None if title is None else Text(title), show_edge=False)
    for i, name in enumerate(header):
        table.add_column(Text(name), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    with console.capture() as capture:
        console.print(table)
    return capture.get().rstrip()


def _stat(x: Any) -> str:
    if x is None:
        return "-"
    value = float(x)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4f}"


MAX_CLASS_ROWS = 30
"""Per-class lines printed at most (summary.json and per_case.csv hold every class)."""


def _per_class_table(summary: dict[str, Any]) -> str | None:
    """Return one line per class (id, name, each metric's class value) when classes are named."""
    metrics = {
        m: s for m, s in summary["metrics"].items() if s.get("class_names") and s.get("per_class")
    }
    if not metrics:
        return None
    names: dict[str, str] = {}
    for s in metrics.values():
        for k, n in s["class_names"].items():
            names.setdefault(k, n)
    ids = sorted(names, key=int)
    rows = [
        [k, names[k], *(_stat(s["per_class"].get(k)) for s in metrics.values())]
        for k in ids[:MAX_CLASS_ROWS]
    ]
    more = len(ids) - MAX_CLASS_ROWS
    title = "per class" + (
        f" (first {MAX_CLASS_ROWS}; {more} more in summary.json)" if more > 0 else ""
    )
    return render_table(["class", "name", *metrics], rows, title=title, width=140)


def _panoptic_table(summary: dict[str, Any]) -> str | None:
    """Return PQ, SQ, RQ per class of panoptic pairs, then their means over things, stuffs, all."""
    metrics = {m: s for m, s in summary["metrics"].items() if s.get("class_groups")}
    if not metrics:
        return None
    first = next(iter(metrics.values()))
    groups = first["class_groups"]
    names = first.get("class_names") or {}
    kind = {str(k): "thing" for k in groups["things"]["classes"]}
    kind.update({str(k): "stuff" for k in groups["stuffs"]["classes"]})
    ids = [str(k) for k in groups["all"]["classes"]]
    rows = [
        [k, names.get(k, ""), kind[k], *(_stat(s["per_class"].get(k)) for s in metrics.values())]
        for k in ids[:MAX_CLASS_ROWS]
    ]
    for group in ("things", "stuffs", "all"):
        counted = groups[group]
        rows.append(
            [
                group,
                "",
                f"{counted['n_valid']} class{'' if counted['n_valid'] == 1 else 'es'}",
                *(_stat(s["class_groups"][group]["mean"]) for s in metrics.values()),
            ]
        )
    more = len(ids) - MAX_CLASS_ROWS
    title = "panoptic, per class" + (
        f" (first {MAX_CLASS_ROWS}; {more} more in summary.json)" if more > 0 else ""
    )
    title += f"; class means ({first['aggregation']})"
    return render_table(["class", "name", "kind", *metrics], rows, title=title, width=140)


def render_evaluation(summary: dict[str, Any], *, title: str | None = None) -> str:
    """Return the summary of an evaluation as a table, its conventions and its problems.

    The counts are those of the statistics: finite case values (``valid``), undefined ones left
    out (``NaN``) and infinite ones kept (``inf``); failed cases are counted apart, never as values.
    """
    header = ["metric", "value", "mean", "median", "std", "min", "max", "pooled", "95% CI"]
    header += ["valid", "NaN", "inf"]
    rows = []
    for metric, s in summary["metrics"].items():
        ci = s.get("ci95")
        stats = [_stat(s.get(k)) for k in ("value", "mean", "median", "std", "min", "max")]
        interval = f"[{_stat(ci[0])}, {_stat(ci[1])}]" if ci else "-"
        rows.append(
            [
                metric,
                *stats,
                _stat(s.get("pooled")),
                interval,
                str(s["n_valid"]),
                str(s["n_nan"]),
                str(s["n_inf"]),
            ]
        )
    inputs = summary["inputs"]
    n_failed = int(inputs.get("n_failed", 0))
    heading = title or "segscore evaluate"
    heading += f": {inputs['n_cases']} cases scored" + (f", {n_failed} failed" if n_failed else "")
    table = render_table(header, rows, title=heading, width=140)
    conv = summary["conventions"]
    options = conv.get("options") or {}
    first: dict[str, Any] = next(iter(summary["metrics"].values()), {})
    empty = (first.get("conventions") or {}).get("empty") or {}
    zero = empty.get("zero_division")
    zero_text = "nan (excluded)" if zero is None or zero == "NaN" else str(zero)
    background = "included" if conv.get("include_background") else "excluded"
    if options.get("mode") == "binary":
        background = "n/a (binary masks: the foreground is scored)"
    aggregations = sorted({str(s.get("aggregation")) for s in summary["metrics"].values()})
    counting = conv.get("counting") or {}
    # the threshold applied: none where masks were read (the option then did nothing)
    applied = counting.get("threshold") if counting else options.get("threshold")
    rule = counting.get("threshold_comparison") or options.get("threshold_comparison") or ">="
    threshold = "none (masks)" if applied is None else f"{applied} (p {rule} t)"
    boundary_rule = conv.get("distance_include_background")
    if (
        options.get("mode") != "binary"
        and boundary_rule is not None
        and boundary_rule != conv.get("include_background")
        and any(m.get("kind") == "boundary" for m in summary["metrics"].values())
    ):
        background += f" (boundary metrics: {'included' if boundary_rule else 'excluded'})"
    line = (
        f"conventions: mode={options.get('mode')} threshold={threshold} "
        f"ignore_index={options.get('ignore_index')} aggregation={','.join(aggregations)} "
        f"empty={zero_text} "
        f"background={background} "
        f"preset={conv.get('preset')} segscore={conv.get('segscore_version')} "
        f"inputs={str(inputs.get('hash', ''))[:19]}"
    )
    objects = conv.get("instances")
    if objects:
        made = objects["mode"]
        if made == "components":
            made += f" ({objects['connectivity']} connectivity)"
        line += (
            f"\nobjects: {made}, matching={objects['matching']} "
            f"{objects['criterion']} {objects['comparison']} threshold, per_object.csv"
        )
    panoptic = conv.get("panoptic")
    if panoptic:
        line += (
            f"\npanoptic: things {panoptic['things']} stuffs {panoptic['stuffs']} void "
            f"{panoptic['void']}, segments of one class matched when IoU > 0.5"
        )
    lines = [table, line]
    for extra in (_per_class_table(summary), _panoptic_table(summary)):
        if extra:
            lines.append(extra)
    sweep = summary.get("threshold_sweep")
    if sweep:
        note = sweep.get("note") or "chosen on these cases: optimistic"
        lines.append(
            f"threshold sweep: best {sweep['best_metric']} {sweep['best_value']:.4f} at "
            f"threshold {sweep['best_threshold']:.2f} ({note})"
        )
    source = summary["conventions"].get("threshold_source")
    if source:
        lines.append(
            f"threshold {source['threshold']:g} chosen on {source['chosen_on']} "
            f"(its best {source['metric']} there: {source['value_there']:.4f})"
        )
    return "\n".join(lines)

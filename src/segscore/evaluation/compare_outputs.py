"""Write a comparison's outputs: ``compare.json``, ``compare.csv``, ``compare.html`` and tables.

The page shows the cases that changed most side by side. Their files are read again from the
folders each run recorded in ``summary.json`` (``inputs.pred``, ``inputs.gt``, the suffixes and
the images folder), with the readers of the evaluation report
(:mod:`segscore.evaluation.visuals`). Files that are gone, 3-D volumes and stacked inputs are
not drawn: the page says so instead, and the other outputs are written all the same.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from segscore.errors import DatasetError, InputError
from segscore.evaluation.compare import Comparison, EvaluationRun
from segscore.evaluation.settings import PALETTES
from segscore.evaluation.settings import _palette as settings_palette
from segscore.evaluation.visuals import _foreground, _image, class_style
from segscore.io.arrays import LoadedArray, read_array
from segscore.io.pairs import Case, match_cases
from segscore.io.palette import Palette
from segscore.io.results import atomic_write_bytes, write_csv, write_json
from segscore.metrics.options import CountingOptions
from segscore.report.compare_html import PairVisual, render_comparison

__all__ = ["COMPARE_NAMES", "changed_visuals", "write_comparison"]

COMPARE_NAMES = ("compare.json", "compare.csv", "compare.html")
"""The files :func:`write_comparison` writes (plus ``table.*`` when a table is asked for)."""


def _cases_of(run: EvaluationRun) -> dict[str, Case]:
    """Match the run's recorded folders again; raise DatasetError when they cannot be read."""
    inputs = run.summary.get("inputs") or {}
    pred, gt = inputs.get("pred"), inputs.get("gt")
    if not pred or not gt:
        raise DatasetError(f"run {run.label} records no prediction and ground-truth folders")
    common: dict[str, Any] = {
        "pred_suffix": inputs.get("pred_suffix") or "",
        "target_suffix": inputs.get("gt_suffix") or "",
    }
    try:
        found = match_cases(pred, gt, images=inputs.get("images"), **common)
    except DatasetError:
        found = match_cases(pred, gt, **common)  # the images may be gone and the masks not
    if any(c.stacked for c in found.cases):
        raise DatasetError(f"run {run.label} scored stacked arrays (overlays need one file a case)")
    return {c.name: c for c in found.cases}


def _palette(run: EvaluationRun) -> Palette | None:
    """Return the built-in palette the run read its colour masks with (None without one).

    Raises
    ------
    DatasetError
        If the run read them with a palette file (only its name is recorded).
    """
    name = (run.summary.get("conventions") or {}).get("palette")
    if not name:
        return None
    if name not in PALETTES:
        raise DatasetError(
            f"run {run.label} read colour masks with the palette file {name!r}, whose path is "
            "not recorded"
        )
    return settings_palette(name, "palette")


def _options(run: EvaluationRun) -> CountingOptions:
    """Return the counting options that say what is foreground in the run's files."""
    options = (run.summary.get("conventions") or {}).get("options") or {}
    names = options.get("class_names")
    try:
        return CountingOptions(
            num_classes=options.get("num_classes"),
            threshold=float(options.get("threshold") or 0.5),
            ignore_index=options.get("ignore_index"),
            class_names=tuple(names) if names else None,
            # as the run thresholded (runs written before it existed: '>=')
            threshold_comparison=options.get("threshold_comparison"),
        )
    except (InputError, TypeError, ValueError):  # pragma: no cover - a run's own options
        return CountingOptions()


def _geometry(loaded: LoadedArray, run: EvaluationRun) -> dict[str, Any]:
    """Spacing, its unit and affine of a volume: the run's --spacing, else the file header's."""
    given = (run.summary.get("conventions") or {}).get("spacing")
    if given:
        return {"spacing": tuple(float(s) for s in given), "unit": "spacing units"}
    if loaded.spacing is not None:
        return {
            "spacing": tuple(float(s) for s in loaded.spacing),
            "unit": loaded.spacing_unit or "mm",
            "affine": loaded.affine,
        }
    return {"spacing": None, "unit": "voxels"}


def changed_visuals(
    comparison: Comparison, metric: str, top: int
) -> tuple[list[PairVisual], list[str]]:
    """Read the ``top`` cases whose ``metric`` changed most; return them and what was not drawn.

    Never raises on missing or unreadable files: each problem becomes a note.

    Examples
    --------
    >>> from segscore.evaluation import compare_runs, evaluate_arrays, write_outputs
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> target = np.zeros((2, 4, 4), bool); target[:, 1:3, 1:3] = True
    >>> for run, pred in (("a", np.roll(target, 1, axis=2)), ("b", target)):
    ...     _ = write_outputs(evaluate_arrays(pred, target, metrics="iou"), root / run, report=False)
    >>> visuals, notes = changed_visuals(compare_runs(root / "a", root / "b"), "iou", top=2)
    >>> visuals, notes[0].endswith("records no prediction and ground-truth folders.")
    ([], True)
    """
    m = comparison.metrics[metric]
    chosen = [m.cases[i] for i in m.changed_most(top)]
    if not chosen:
        return [], []
    runs = (comparison.run_a, comparison.run_b)
    try:
        files = [_cases_of(r) for r in runs]
    except DatasetError as exc:
        return [], [f"The cases that changed most are not drawn: {exc}."]
    options = [_options(r) for r in runs]
    try:
        palettes = [_palette(r) for r in runs]
    except DatasetError as exc:
        return [], [f"The cases that changed most are not drawn: {exc}."]
    style = class_style(options[0], palettes[0])
    out: list[PairVisual] = []
    problems: dict[str, list[str]] = {}
    for name in chosen:
        case_a, case_b = (f.get(name) for f in files)
        if case_a is None or case_b is None:
            problems.setdefault("its files are no longer in the recorded folders", []).append(name)
            continue
        try:
            pa = read_array(case_a.pred, palette=palettes[0]).array
            pb = read_array(case_b.pred, palette=palettes[1]).array
            loaded = read_array(case_a.target, palette=palettes[0])
            target = loaded.array
        except DatasetError as exc:
            problems.setdefault(f"a file cannot be read ({exc})", []).append(name)
            continue
        if target.ndim not in (2, 3) or pa.shape != target.shape or pb.shape != target.shape:
            problems.setdefault("not a 2-D image or a volume of one shape", []).append(name)
            continue
        image = _image(case_a.image)
        i = m.cases.index(name)
        labels = style is not None and options[1].num_classes == options[0].num_classes
        out.append(
            PairVisual(
                name=name,
                target=target if labels else _foreground(target, options[0]),
                pred_a=pa if labels else _foreground(pa, options[0]),
                pred_b=pb if labels else _foreground(pb, options[1]),
                a=float(m.a[i]),
                b=float(m.b[i]),
                image=image if image is not None and image.shape[:2] == target.shape else None,
                style=style if labels else None,
                **(_geometry(loaded, comparison.run_a) if target.ndim == 3 else {}),
            )
        )
    notes = [f"Not drawn: {', '.join(names)}: {why}." for why, names in problems.items()]
    return out, notes


def write_comparison(
    comparison: Comparison,
    out: str | os.PathLike[str],
    *,
    top: int = 10,
    tables: Sequence[tuple[str, str]] = (),
    title: str | None = None,
) -> list[Path]:
    """Write ``compare.json``, ``compare.csv``, ``compare.html`` (and tables) into ``out``.

    Parameters
    ----------
    comparison : Comparison
        From :func:`~segscore.evaluation.compare.compare_runs`.
    out : path
        Output folder (created if needed).
    top : int, default 10
        Cases listed (per metric) and drawn (for the first metric) as changed most.
    tables : sequence of (file name, text), optional
        Formatted tables to write too (``("table.md", ...)``).
    title : str, optional
        Title of the page.

    Returns
    -------
    list of Path
        The files written, each atomically.

    Examples
    --------
    >>> from segscore.evaluation import compare_runs, evaluate_arrays, write_outputs
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> target = np.zeros((2, 4, 4), bool); target[:, 1:3, 1:3] = True
    >>> for run, pred in (("a", np.roll(target, 1, axis=2)), ("b", target)):
    ...     _ = write_outputs(evaluate_arrays(pred, target, metrics="iou"), root / run, report=False)
    >>> written = write_comparison(compare_runs(root / "a", root / "b"), root / "c")
    >>> [p.name for p in written]
    ['compare.json', 'compare.csv', 'compare.html']
    """
    folder = Path(out)
    record = comparison.as_record(top)
    rows, columns = comparison.case_rows()
    written = [
        write_json(folder / "compare.json", record),
        write_csv(folder / "compare.csv", rows, columns),
    ]
    metric = next(iter(comparison.metrics))
    visuals, notes = changed_visuals(comparison, metric, top)
    per_case = {
        name: (list(m.cases), np.asarray(m.a), np.asarray(m.b))
        for name, m in comparison.metrics.items()
    }
    page = render_comparison(
        record,
        per_case,
        visuals=visuals,
        visual_metric=metric,
        visual_notes=notes,
        title=title
        or f"segscore compare: {comparison.run_a.folder.name} vs {comparison.run_b.folder.name}",
    )
    written.append(atomic_write_bytes(folder / "compare.html", page.encode("utf-8")))
    for name, text in tables:
        written.append(atomic_write_bytes(folder / name, text.encode("utf-8")))
    return written

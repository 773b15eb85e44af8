"""Write a folder evaluation's outputs: per-case, per-object, summary and report files.

``per_case.csv``, ``per_object.csv`` (with object metrics), ``summary.json``, ``report.html``.

Every file is written atomically (a temporary, then a rename), so a reader never sees half a
file and an interrupted write leaves the previous one. A folder that held an earlier run's
outputs holds only this run's afterwards: an earlier ``per_object.csv`` or ``report.html`` that
this run does not write is removed once this run's files are in place (beside a new
``summary.json`` it would describe another run). The journal of the run, kept in the same
folder, is removed last: a journal left in the folder means the run did not finish.
"""

from __future__ import annotations

import os
from pathlib import Path

from segscore.evaluation.folder import FolderEvaluation
from segscore.evaluation.journal import discard_journal
from segscore.io.journal import remove_file
from segscore.io.results import read_training_trace, write_csv, write_json

__all__ = ["write_outputs"]


def write_outputs(
    result: FolderEvaluation,
    out: str | os.PathLike[str],
    *,
    report: bool = True,
    run: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> list[Path]:
    """Write the outputs of ``result`` into the folder ``out`` and return their paths.

    Parameters
    ----------
    result : FolderEvaluation
        From :func:`~segscore.evaluation.folder.evaluate_folder`.
    out : path
        Output folder (created if needed).
    report : bool, default True
        Also write ``report.html``.
    run : path, optional
        A training run folder whose ``trace.json`` the report draws as training curves.
    title : str, optional
        Title of the report.

    Raises
    ------
    DatasetError
        When ``run`` holds no readable ``trace.json`` (before any file is written).
    """
    folder = Path(out)  # created by the first write
    if report and run is not None:  # a bad run folder must not cost the outputs already there
        read_training_trace(run)
    written = [
        write_csv(folder / "per_case.csv", result.rows, result.columns),
        write_json(folder / "summary.json", result.summary),
    ]
    if result.evaluation.objects is not None:
        object_rows, object_columns = result.object_rows()
        written.insert(1, write_csv(folder / "per_object.csv", object_rows, object_columns))
    if report:
        from segscore.evaluation.visuals import write_html_report  # Pillow, the report modules

        inputs = result.summary.get("inputs", {})
        case_values = {name: s.per_image for name, s in result.scores.items()}
        if write_html_report(
            folder / "report.html",
            result.summary,
            result.rows,
            result.cases.cases,
            result.evaluation,
            result.settings.options,
            run=None if run is None else Path(run),
            title=title or f"segscore report: {inputs.get('pred')} vs {inputs.get('gt')}",
            case_values=case_values,
            palette=result.settings.palette,
            settings=result.settings,
        ):
            written.append(folder / "report.html")
    for stale in ("per_object.csv", "report.html"):  # an earlier run's, not this one's
        if folder / stale not in written:
            remove_file(folder / stale)
    discard_journal(folder)  # last: the run finished
    return written

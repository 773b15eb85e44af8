"""``segscore evaluate``: score folders (or stacks) of predictions against ground truth."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segscore.cli._options import add_scoring_flags, path_argument, settings_from_args
from segscore.cli._tables import (
    add_table_flags,
    check_table_flags,
    print_table,
    remove_stale_tables,
)

if TYPE_CHECKING:
    from segscore.evaluation.settings import EvaluationSettings

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate",
        help="score folders of predicted masks against ground truth; write tables and a report",
        description=(
            "Match PRED and GT files by stem (or take two stacked .npy/.npz files), count every "
            "case exactly, and write per_case.csv, summary.json and report.html into OUT."
        ),
    )
    p.add_argument("--pred", type=Path, required=True, help="folder of predictions (or a stack)")
    p.add_argument("--gt", type=Path, required=True, help="folder of ground truth (or a stack)")
    p.add_argument("--out", type=path_argument, required=True, help="output folder")
    p.add_argument("--pred-suffix", default="", help="stripped from prediction stems, e.g. _pred")
    p.add_argument("--gt-suffix", default="", help="stripped from ground-truth stems")
    p.add_argument("--images", type=Path, default=None, help="input images for report overlays")
    p.add_argument("--strict", action="store_true", help="unmatched files are an error")
    add_scoring_flags(p, default_metrics="iou,dice")
    p.add_argument(
        "--threshold-from",
        type=Path,
        default=None,
        metavar="RUN",
        help="apply the threshold chosen on a validation run: RUN's summary.json "
        "threshold_sweep.best_threshold (an evaluate run on probability maps); not with "
        "--threshold. Recorded as conventions.threshold_source",
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument(
        "--dask",
        default=None,
        metavar="local|ADDRESS",
        help="score on Dask: 'local' starts --jobs (default 2) worker processes on 127.0.0.1, "
        "an address (tcp://host:8786) uses a running scheduler; needs pip install 'segscore[dask]'",
    )
    p.add_argument("--keep-going", action="store_true", help="record failing cases and go on")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run into the same OUT from its journal "
        "(OUT/.segscore-journal.jsonl): finished cases are not scored again",
    )
    p.add_argument("--run", type=Path, default=None, help="training run folder (report curves)")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    add_table_flags(p)
    p.set_defaults(func=run)


def _check_backend(args: argparse.Namespace) -> None:
    from segscore._validation import check_int, fail_missing_extra, fail_must

    if args.jobs is not None:
        check_int("--jobs", args.jobs, low=1)
    if args.dask is None:
        return
    if importlib.util.find_spec("distributed") is None:
        fail_missing_extra("`--dask`", "dask.distributed", "dask")
    if args.dask != "local" and args.jobs is not None:
        fail_must("--jobs", "not be set with `--dask ADDRESS` (its workers run already)", args.jobs)
    if args.resume:
        fail_must("--resume", "not be combined with `--dask`", "both")


def _check_run(args: argparse.Namespace) -> None:
    """Check ``--run`` before any case is scored: it is read only when the report is written."""
    if args.run is None:
        return
    if args.no_report:
        from segscore._validation import fail_must

        fail_must("--run", "not be given with `--no-report` (only report.html draws it)", args.run)
    from segscore.io.results import read_training_trace

    read_training_trace(args.run)


def _progress_bar(total: int) -> Any:
    """Return a rich progress bar on a terminal, else None (no output)."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


def run(args: argparse.Namespace) -> int:
    """Parse, evaluate through the library, write the outputs, print the summary."""
    from segscore.evaluation.allocator import collector_paused, keep_freed_buffers
    from segscore.io.results import check_writable_folder

    source = None
    if args.threshold_from is not None:
        from segscore.evaluation.thresholds import threshold_from_run

        if args.threshold is not None:
            from segscore._validation import fail_must

            fail_must("--threshold", "not be combined with `--threshold-from`", args.threshold)
        chosen = threshold_from_run(args.threshold_from, option="--threshold-from")
        args.threshold, source = chosen.threshold, chosen.as_dict()
        if args.threshold_comparison is None:  # the rule the threshold was best under
            args.threshold_comparison = chosen.comparison
    settings = settings_from_args(args)
    check_table_flags(args)
    _check_backend(args)
    _check_run(args)
    check_writable_folder(args.out, option="--out")  # before any work: a bad --out fails at once
    keep_freed_buffers()  # this process is ours: keep image buffers between cases (glibc)
    with collector_paused():  # the results and rows of a run are long-lived: see allocator
        return _evaluate_and_write(args, settings, source)


def _evaluate_and_write(
    args: argparse.Namespace, settings: EvaluationSettings, source: dict[str, Any] | None
) -> int:
    """Score the folders, write and print the outputs (``run`` once the options are checked)."""
    from segscore.evaluation.folder import evaluate_folder
    from segscore.evaluation.outputs import write_outputs
    from segscore.io.results import atomic_write_bytes
    from segscore.report.console import render_evaluation

    bar = _progress_bar(0)
    common: dict[str, Any] = {
        "settings": settings,
        "pred_suffix": args.pred_suffix,
        "gt_suffix": args.gt_suffix,
        "images": args.images,
        "strict": args.strict,
        "jobs": args.jobs,
        "keep_going": args.keep_going,
        "journal_dir": args.out,
        "resume": args.resume,
        "dask": args.dask,
        "threshold_source": source,
    }
    try:
        if bar is None:
            result = evaluate_folder(args.pred, args.gt, **common)
        else:
            with bar:
                task = bar.add_task("scoring", total=None)
                result = evaluate_folder(
                    args.pred, args.gt, progress=lambda _: bar.advance(task), **common
                )
    except KeyboardInterrupt as exc:
        from segscore.errors import Interrupted
        from segscore.evaluation.journal import JOURNAL_NAME

        if not (args.out / JOURNAL_NAME).is_file():  # stopped before its first batch was kept
            raise Interrupted("no case was kept (stopped before the first batch)") from exc
        raise Interrupted(
            f"finished cases are kept in {str(args.out)!r}: run the same command with --resume "
            "to continue"
        ) from exc
    for note in result.notes:
        print(note, file=sys.stderr)
    written = write_outputs(result, args.out, report=not args.no_report, run=args.run)
    print(render_evaluation(result.summary))
    for name, text in print_table(args, summary=result.summary, rows=result.rows):
        written.append(atomic_write_bytes(args.out / name, text.encode("utf-8")))
    remove_stale_tables(args.out, written)
    if result.evaluation.objects is not None:
        from segscore.evaluation.objects import object_contrast

        contrast = object_contrast(
            result.scores, result.evaluation.names, result.evaluation.objects
        )
        if contrast:
            print(contrast)
    print(f"wrote {', '.join(str(p) for p in written)}")
    if result.failures:
        print(
            f"warning: {len(result.failures)} case(s) failed (not scored) and are listed in "
            "summary.json and per_case.csv",
            file=sys.stderr,
        )
    return 0

"""``segscore evaluate``: score folders (or stacks) of predictions against ground truth."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from segscore.cli._options import output_folder, parse_empty
from segscore.metrics.reduce import AGGREGATIONS
from segscore.metrics.registry import describe

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
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--pred-suffix", default="", help="stripped from prediction stems, e.g. _pred")
    p.add_argument("--gt-suffix", default="", help="stripped from ground-truth stems")
    p.add_argument("--images", type=Path, default=None, help="input images for report overlays")
    p.add_argument("--strict", action="store_true", help="unmatched files are an error")
    p.add_argument("--num-classes", type=int, default=None, help="label maps with C classes")
    p.add_argument("--ignore-index", type=int, default=None, help="target label to exclude")
    p.add_argument(
        "--include-background",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="class 0 enters class means, for every metric (default: yes, or the preset's); "
        "binary masks always score their foreground",
    )
    p.add_argument("--multilabel", action="store_true", help="stacks hold one mask per class")
    p.add_argument("--spatial-dims", type=int, default=None, choices=(2, 3), help="2 or 3")
    p.add_argument("--threshold", type=float, default=0.5, help="for probability maps (0.5)")
    p.add_argument(
        "--metrics",
        default="iou,dice",
        help=f"comma-separated names of the registry ({describe()}); default iou,dice",
    )
    p.add_argument(
        "--preset",
        default=None,
        help="reproduce a library's conventions: monai, medpy, deepmind, metrics-reloaded, "
        "torchmetrics, mmseg, nnunet, smp (explicit options override it)",
    )
    p.add_argument(
        "--aggregation",
        default=None,
        help=", ".join(AGGREGATIONS) + " (default images_then_classes)",
    )
    p.add_argument("--empty", default=None, help="zero-denominator value: nan (default), 0, 1")
    p.add_argument(
        "--spacing",
        default=None,
        help="voxel spacing for boundary metrics, numpy axis order, e.g. 1.0,0.8,2.5 "
        "(default: the file's, else 1)",
    )
    p.add_argument("--bootstrap", type=int, default=0, help="N percentile bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
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
    p.add_argument("--max-pixels", type=int, default=None, help="refuse larger images (bomb guard)")
    p.add_argument("--run", type=Path, default=None, help="training run folder (report curves)")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument(
        "--allow-geometry-mismatch",
        action="store_true",
        help="score pairs whose files declare different spacing, orientation or origin (NIfTI) "
        "with the ground truth's spacing (default: refuse them)",
    )
    p.set_defaults(func=run)


FLAGS = {
    "num_classes": "--num-classes",
    "threshold": "--threshold",
    "ignore_index": "--ignore-index",
    "multilabel": "--multilabel",
    "spatial_dims": "--spatial-dims",
    "include_background": "--include-background",
    "class_names": "--class-names",
    "metrics": "--metrics",
    "aggregation": "--aggregation",
    "empty": "--empty",
    "preset": "--preset",
    "spacing": "--spacing",
    "bootstrap": "--bootstrap",
    "seed": "--seed",
    "max_pixels": "--max-pixels",
    "options": "options",
}
"""Argument names as the command line spells them, for error messages."""


def settings_from_args(args: argparse.Namespace) -> Any:
    """Build the evaluation settings from the flags (every option conflict is found here)."""
    from segscore.evaluation.settings import make_settings
    from segscore.metrics.options import CountingOptions

    options = CountingOptions.checked(
        FLAGS,
        num_classes=args.num_classes,
        threshold=args.threshold,
        ignore_index=args.ignore_index,
        multilabel=args.multilabel,
        spatial_dims=args.spatial_dims,
        include_background=args.include_background,
    )
    return make_settings(
        options=options,
        metrics=args.metrics,
        aggregation=args.aggregation,
        empty=None if args.empty is None else parse_empty(args.empty),
        preset=args.preset,
        spacing=args.spacing,
        bootstrap=args.bootstrap,
        seed=args.seed,
        max_pixels=args.max_pixels,
        check_geometry=not args.allow_geometry_mismatch,
        names=FLAGS,
    )


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
    from segscore.evaluation.allocator import keep_freed_buffers
    from segscore.evaluation.folder import evaluate_folder
    from segscore.evaluation.outputs import write_outputs
    from segscore.report.console import render_evaluation

    settings = settings_from_args(args)
    _check_backend(args)
    output_folder(args.out)  # before any work: a bad --out fails at once
    keep_freed_buffers()  # this process is ours: keep image buffers between cases (glibc)
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
    except KeyboardInterrupt:
        print(
            f"interrupted: finished cases are kept in {str(args.out)!r}; run the same command "
            "with --resume to continue",
            file=sys.stderr,
        )
        raise
    for note in result.notes:
        print(note, file=sys.stderr)
    written = write_outputs(result, args.out, report=not args.no_report, run=args.run)
    print(render_evaluation(result.summary))
    print(f"wrote {', '.join(str(p) for p in written)}")
    if result.failures:
        print(
            f"warning: {len(result.failures)} case(s) failed (not scored) and are listed in "
            "summary.json and per_case.csv",
            file=sys.stderr,
        )
    return 0

"""``segscore evaluate``: score folders (or stacks) of predictions against ground truth."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from segscore._validation import check_int, check_option, fail
from segscore.cli._options import output_folder, parse_empty
from segscore.metrics.reduce import AGGREGATIONS

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
        help="class 0 enters class means (default: yes, or the preset's)",
    )
    p.add_argument("--multilabel", action="store_true", help="stacks hold one mask per class")
    p.add_argument("--spatial-dims", type=int, default=None, choices=(2, 3), help="2 or 3")
    p.add_argument("--threshold", type=float, default=0.5, help="for probability maps (0.5)")
    p.add_argument(
        "--metrics",
        default="iou,dice",
        help="comma-separated overlap (iou, dice, precision, recall, accuracy, ...) and boundary "
        "metrics (hd, hd95, assd, masd, asd, nsd@1.0, biou@2px); default iou,dice",
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
    p.set_defaults(func=run)


def _split_metrics(text: str) -> tuple[list[str], list[str]]:
    """Split ``--metrics`` into overlap metric names and boundary metric names (both validated)."""
    from segscore.errors import InputError
    from segscore.metrics.boundary import get_distance_metric
    from segscore.metrics.registry import get_metric

    overlap: list[str] = []
    distance: list[str] = []
    for raw in (m.strip() for m in text.split(",")):
        if not raw:
            continue
        try:
            overlap.append(get_metric(raw).name)
        except InputError:
            try:
                distance.append(get_distance_metric(raw).name)
            except InputError:
                fail(
                    f"`--metrics` must name overlap metrics (iou, dice, precision, recall, "
                    f"specificity, accuracy, balanced_accuracy, mcc, f2, fbeta@B) or boundary "
                    f"metrics (hd, hd95, hdP, asd, assd, masd, nsd@T, biou@Wpx), got {raw!r}."
                )
    if not overlap:
        overlap = ["iou"]  # the counts are always made; IoU anchors the report
    return overlap, distance


def _spacing(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        fail(f"`--spacing` must be comma-separated numbers such as 1.0,0.8,2.5, got {text!r}.")
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        fail(f"`--spacing` must be positive finite numbers, got {text!r}.")
    return values


def _check_counting_options(args: argparse.Namespace) -> None:
    """Check the options that every case shares once, before any file is read."""
    from segscore._validation import check_number

    check_number(
        "--threshold", args.threshold, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    if args.num_classes is not None:
        c = check_int("--num-classes", args.num_classes, low=1)
        if args.ignore_index is not None and 0 <= args.ignore_index < c:
            fail(
                f"`--ignore-index` must lie outside [0, {c}) (the class labels), got "
                f"{args.ignore_index}."
            )
    elif args.ignore_index is not None:
        fail("`--ignore-index` needs label maps: set `--num-classes` too.")
    if args.multilabel and args.num_classes is not None:
        fail("`--num-classes` must not be set with `--multilabel`: classes are the channel axis.")


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the outputs atomically, print the summary."""
    from segscore.evaluation.allocator import keep_freed_buffers
    from segscore.evaluation.runner import EvaluateOptions
    from segscore.evaluation.summary import per_case_rows, summarize
    from segscore.io.arrays import MAX_PIXELS_DEFAULT
    from segscore.io.pairs import match_cases
    from segscore.io.results import write_csv, write_json

    keep_freed_buffers()  # this process is ours: keep image buffers between cases (glibc)
    metrics, distance_names = _split_metrics(args.metrics)
    overlap_conventions: dict[str, Any] = {
        "aggregation": "images_then_classes",
        "empty": math.nan,
        "include_background": True,
    }
    if args.preset is not None:
        from segscore.metrics.presets import get_preset

        preset = get_preset(args.preset)
        overlap_conventions.update(preset.overlap_kwargs(metrics[0]))
        # A preset's empty policy may differ per metric (MedPy: dc NaN, jc 1).
        overlap_conventions["empty"] = {m: preset.overlap_kwargs(m)["empty"] for m in metrics}
    if args.aggregation is not None:
        check_option("aggregation", args.aggregation, AGGREGATIONS)
        overlap_conventions["aggregation"] = args.aggregation
    if args.empty is not None:
        overlap_conventions["empty"] = parse_empty(args.empty)
    _check_counting_options(args)
    if args.include_background is not None:
        overlap_conventions["include_background"] = args.include_background
    bootstrap = check_int("--bootstrap", args.bootstrap, low=0)
    jobs = None if args.jobs is None else check_int("--jobs", args.jobs, low=1)
    max_pixels = (
        MAX_PIXELS_DEFAULT
        if args.max_pixels is None
        else check_int("--max-pixels", args.max_pixels, low=1)
    )
    if args.dask is not None:
        import importlib.util

        from segscore._validation import fail_missing_extra, fail_must

        if importlib.util.find_spec("distributed") is None:
            fail_missing_extra("`--dask`", "dask.distributed", "dask")
        if args.dask != "local" and jobs is not None:
            fail_must("--jobs", "not be set with `--dask ADDRESS` (its workers run already)", jobs)
        if args.resume:
            fail_must("--resume", "not be combined with `--dask`", "both")

    output_folder(args.out)  # before any work: a bad --out fails at once
    found = match_cases(
        args.pred,
        args.gt,
        pred_suffix=args.pred_suffix,
        target_suffix=args.gt_suffix,
        images=args.images,
        strict=args.strict,
    )
    for role, names in (
        ("prediction", found.unmatched_pred),
        ("ground truth", found.unmatched_target),
    ):
        if names:
            shown = ", ".join(names[:10]) + (
                f", ... ({len(names)} in all)" if len(names) > 10 else ""
            )
            print(
                f"warning: {len(names)} {role} file(s) without a partner: {shown}", file=sys.stderr
            )
    options = EvaluateOptions(
        num_classes=args.num_classes,
        threshold=args.threshold,
        ignore_index=args.ignore_index,
        multilabel=args.multilabel,
        spatial_dims=args.spatial_dims,
        max_pixels=max_pixels,
        distance_metrics=tuple(distance_names),
        spacing=_spacing(args.spacing),
        preset=args.preset,
        distance_background=bool(args.include_background),
    )
    journal = _open_journal(args.out, options, found.cases, resume=args.resume)
    try:
        evaluation = _run_with_progress(
            found.cases, options, jobs, args.keep_going, journal, args.dask
        )
    except KeyboardInterrupt:
        journal.close()  # keeps every finished case for --resume
        raise
    except BaseException:
        journal.close(flush=journal.written)  # a run failing before its first batch leaves none
        raise
    journal.close()
    common = overlap_conventions
    rows, columns = per_case_rows(evaluation, metrics, **common)
    summary = summarize(
        evaluation,
        metrics,
        bootstrap=bootstrap,
        seed=args.seed,
        inputs={
            "pred": str(args.pred),
            "gt": str(args.gt),
            "jobs": jobs or os.cpu_count(),
            **({} if args.dask is None else {"dask": args.dask}),
        },
        unmatched={"pred": found.unmatched_pred, "gt": found.unmatched_target},
        **common,
    )
    write_csv(args.out / "per_case.csv", rows, columns)
    write_json(args.out / "summary.json", summary)
    written = ["per_case.csv", "summary.json"]
    if not args.no_report:
        from segscore.evaluation.visuals import write_html_report

        if write_html_report(
            args.out / "report.html", summary, rows, found.cases, evaluation, args
        ):
            written.append("report.html")
    journal.remove()  # last: a journal left in OUT means the run did not finish
    print(_render(summary))
    print(f"wrote {', '.join(str(args.out / w) for w in written)}")
    if evaluation.failures:
        print(
            f"warning: {len(evaluation.failures)} case(s) failed and are listed in summary.json",
            file=sys.stderr,
        )
    return 0


OUTPUT_NAMES = ("per_case.csv", "summary.json", "report.html")
"""The only files ``evaluate`` writes into OUT (plus its journal while it runs)."""


def _open_journal(out: Path, options: Any, cases: Any, *, resume: bool) -> Any:
    """Open the journal in OUT (read back with ``resume``); remove temporaries of killed runs."""
    from segscore.evaluation.journal import JOURNAL_NAME, Journal

    existed = (out / JOURNAL_NAME).is_file()
    if out.is_dir():
        for name in OUTPUT_NAMES:  # a SIGKILL during an atomic write leaves its temporary
            for stale in out.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)
    journal = Journal.open(out, options, list(cases), resume=resume)
    if resume and not existed:
        print(f"note: no journal in {str(out)!r}; scoring every case", file=sys.stderr)
    elif resume:
        print(
            f"resuming: {len(journal.done)} case(s) from the journal, "
            f"{len(cases) - len(journal.done)} to score"
            + (f" ({journal.stale} changed or gone)" if journal.stale else ""),
            file=sys.stderr,
        )
    elif existed:
        print(
            f"note: started over; the journal of an unfinished run in {str(out)!r} was "
            "discarded (use --resume to continue one)",
            file=sys.stderr,
        )
    return journal


def _run_with_progress(
    cases: Any,
    options: Any,
    jobs: int | None,
    keep_going: bool,
    journal: Any = None,
    dask: str | None = None,
) -> Any:
    from segscore.evaluation.runner import evaluate

    if dask is not None:
        from segscore.evaluation.dask import evaluate_dask

        def run(progress: Any = None) -> Any:
            def record(result: Any) -> None:  # keep the journal as `evaluate` does
                if journal is not None:
                    journal.record(result)
                if progress is not None:
                    progress(result)

            where: dict[str, Any] = {"n_workers": jobs} if dask == "local" else {"scheduler": dask}
            return evaluate_dask(cases, options, keep_going=keep_going, progress=record, **where)

    else:

        def run(progress: Any = None) -> Any:
            return evaluate(
                cases, options, jobs=jobs, keep_going=keep_going, progress=progress, journal=journal
            )

    if not sys.stderr.isatty():
        return run()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("scoring", total=len(cases))
        return run(progress=lambda _: bar.advance(task))


def _render(summary: dict[str, Any]) -> str:
    from segscore.report.console import render_table

    def fmt(x: Any) -> str:
        return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"

    header = ["metric", "value", "mean", "median", "std", "min", "max", "pooled", "95% CI"]
    header += ["valid", "excluded"]
    rows = []
    for metric, s in summary["metrics"].items():
        ci = s.get("ci95")
        stats = [fmt(s[k]) for k in ("value", "mean", "median", "std", "min", "max", "pooled")]
        interval = f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "-"
        rows.append([metric, *stats, interval, str(s["n_valid"]), str(s["n_excluded"])])
    title = f"segscore evaluate: {summary['inputs']['n_cases']} cases"
    table = render_table(header, rows, title=title, width=130)
    conv = summary["conventions"]
    counting = conv.get("counting") or {}
    zero = conv["empty"]["zero_division"]
    line = (
        f"conventions: mode={counting.get('mode')} threshold={counting.get('threshold')} "
        f"ignore_index={counting.get('ignore_index')} aggregation={conv['aggregation']} "
        f"empty={'nan (excluded)' if zero is None or (isinstance(zero, float) and math.isnan(zero)) else zero} "
        f"background={'included' if conv['include_background'] else 'excluded'} "
        f"segscore={conv['segscore_version']} inputs={summary['inputs']['hash'][:19]}"
    )
    sweep = summary.get("threshold_sweep")
    extra = ""
    if sweep:
        extra = (
            f"\nthreshold sweep: best {sweep['best_metric']} {sweep['best_value']:.4f} "
            f"at threshold {sweep['best_threshold']:.2f}"
        )
    return table + "\n" + line + extra

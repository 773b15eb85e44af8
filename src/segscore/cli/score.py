"""``segscore score``: score predicted masks against ground truth (or the built-in sample)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from segscore._validation import fail
from segscore.metrics.reduce import AGGREGATIONS

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``score`` subcommand."""
    p = subparsers.add_parser(
        "score",
        help="score predicted masks against ground truth (no files: a built-in sample)",
        description=(
            "Score PRED against TARGET: .npy/.npz stacks (N, H, W) or single mask images. "
            "Without files, scores a built-in sample of 100 mask pairs."
        ),
    )
    p.add_argument("pred", nargs="?", type=Path, help="predicted masks (.npy, .npz, .png, .tif)")
    p.add_argument("target", nargs="?", type=Path, help="ground-truth masks, same layout")
    p.add_argument("--sample", action="store_true", help="score the built-in sample (the default)")
    p.add_argument("--num-classes", type=int, default=None, help="label maps with C classes")
    p.add_argument("--ignore-index", type=int, default=None, help="target label to exclude")
    p.add_argument("--threshold", type=float, default=0.5, help="for probabilities (default 0.5)")
    p.add_argument(
        "--metrics", default="iou,dice,accuracy", help="comma-separated (default iou,dice,accuracy)"
    )
    p.add_argument("--aggregation", default="images_then_classes", help=", ".join(AGGREGATIONS))
    p.add_argument(
        "--empty",
        default="nan",
        help="value when both masks are empty: nan (excluded, the default), 0 or 1",
    )
    p.add_argument("--no-background", action="store_true", help="leave class 0 out of class means")
    p.add_argument(
        "--out", type=Path, default=None, help="write per_image.csv and summary.json here"
    )
    p.set_defaults(func=run)


def _load(path: Path) -> np.ndarray[Any, Any]:
    from segscore.io.arrays import read_array

    return np.asarray(read_array(path).array)


def run(args: argparse.Namespace) -> int:
    """Score and print the summary; write the tables when ``--out`` is given."""
    from segscore.cli._options import output_folder, parse_empty
    from segscore.metrics.counts import confusion
    from segscore.report.console import render_summary
    from segscore.report.scores import build_report

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    empty = parse_empty(args.empty)
    if args.out is not None:
        output_folder(args.out)
    if (args.pred is None) != (args.target is None):
        fail("`pred` and `target` must be given together, got only one file.")
    if args.pred is None:
        from segscore.sample import sample_masks

        pred, target, names = sample_masks()
        title = "segscore: built-in sample (100 synthetic mask pairs, seed 0)"
    else:
        pred, target = _load(args.pred), _load(args.target)
        title = f"segscore: {args.pred} vs {args.target}"
        n = (
            pred.shape[0]
            if (pred.ndim >= 3 and args.num_classes is not None) or pred.ndim == 3
            else 1
        )
        names = [f"{args.pred.stem}[{i}]" for i in range(n)] if n > 1 else [args.pred.stem]
    counts = confusion(
        pred,
        target,
        num_classes=args.num_classes,
        threshold=args.threshold,
        ignore_index=args.ignore_index,
    )
    if len(names) != counts.n_images:
        names = [f"case-{i:04d}" for i in range(counts.n_images)]
    report = build_report(
        counts,
        names,
        metrics,
        aggregation=args.aggregation,
        empty=empty,
        include_background=not args.no_background,
    )
    print(render_summary(report, title=title))
    if args.out is not None:
        from segscore.io.results import write_csv, write_json

        rows = report.per_image_rows()
        columns = ["case", "class", *report.scores, "tp", "fp", "fn", "tn"]
        write_csv(args.out / "per_image.csv", rows, columns)
        write_json(args.out / "summary.json", report.summary())
        print(
            f"wrote {args.out / 'per_image.csv'} ({len(rows)} rows) and {args.out / 'summary.json'}"
        )
    return 0

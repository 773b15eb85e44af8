"""``segscore score``: score predicted masks against ground truth (or the built-in sample)."""

from __future__ import annotations

import argparse
import math
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


def _load(path: Path, name: str) -> np.ndarray[Any, Any]:
    if not path.exists():
        fail(f"`{name}` file must exist, got {str(path)!r} (not found).")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            return np.asarray(np.load(path, allow_pickle=False))
        except (ValueError, OSError) as exc:
            fail(f"`{name}` file {str(path)!r} must be a readable .npy array, got: {exc}.")
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                if len(keys) != 1:
                    fail(f"`{name}` file {str(path)!r} must hold exactly one array, got {keys}.")
                return np.asarray(archive[keys[0]])
        except (ValueError, OSError) as exc:
            fail(f"`{name}` file {str(path)!r} must be a readable .npz archive, got: {exc}.")
    from segscore.io.arrays import read_array

    return np.asarray(read_array(path).array)


def _empty_value(text: str) -> float:
    if text.lower() == "nan":
        return math.nan
    if text in ("0", "1"):
        return float(text)
    fail(f"`--empty` must be one of 'nan', '0', '1', got {text!r}.")


def run(args: argparse.Namespace) -> int:
    """Score and print the summary; write the tables when ``--out`` is given."""
    from segscore.metrics.counts import confusion
    from segscore.report.console import render_summary
    from segscore.report.scores import build_report

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    empty = _empty_value(args.empty)
    if (args.pred is None) != (args.target is None):
        fail("`pred` and `target` must be given together, got only one file.")
    if args.pred is None:
        from segscore.sample import sample_masks

        pred, target, names = sample_masks()
        title = "segscore: built-in sample (100 synthetic mask pairs, seed 0)"
    else:
        pred, target = _load(args.pred, "pred"), _load(args.target, "target")
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

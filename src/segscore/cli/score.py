"""``segscore score``: score a prediction against ground truth, or the built-in sample.

The quick sibling of ``segscore evaluate``: the same flags (``--pred``, ``--gt``, the scoring
flags), the same library call and the same outputs (``per_case.csv``, ``summary.json`` and
``report.html`` with ``--out``). Without files it scores a built-in sample of 100 mask pairs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from segscore._validation import fail
from segscore.cli._options import add_scoring_flags, path_argument, settings_from_args

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``score`` subcommand."""
    p = subparsers.add_parser(
        "score",
        help="score predicted masks against ground truth (no files: a built-in sample)",
        description=(
            "Score --pred against --gt (two stacks (N, H, W) as .npy/.npz, or two mask files, or "
            "two folders as for `segscore evaluate`). Without files, score a built-in sample of "
            "100 mask pairs."
        ),
    )
    p.add_argument("--pred", type=Path, default=None, help="predicted masks (file or folder)")
    p.add_argument("--gt", type=Path, default=None, help="ground-truth masks, same layout")
    p.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)  # PRED GT (old form)
    p.add_argument("--sample", action="store_true", help="score the built-in sample (the default)")
    add_scoring_flags(p, default_metrics="iou,dice,accuracy")
    p.add_argument(
        "--no-background", action="store_true", help=argparse.SUPPRESS
    )  # old spelling of --no-include-background
    p.add_argument(
        "--out", type=path_argument, default=None, help="write the evaluate outputs here"
    )
    p.add_argument("--no-report", action="store_true", help="with --out: skip report.html")
    p.set_defaults(func=run)


def _inputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    if args.files:
        if len(args.files) != 2 or args.pred is not None or args.gt is not None:
            fail(
                "`--pred` and `--gt` must name the two inputs, got "
                f"{' '.join(str(f) for f in args.files)!r} as positional arguments."
            )
        print(
            "note: `segscore score PRED GT` is the old form; use `--pred PRED --gt GT`",
            file=sys.stderr,
        )
        return args.files[0], args.files[1]
    if (args.pred is None) != (args.gt is None):
        fail("`--pred` and `--gt` must be given together, got only one of them.")
    return args.pred, args.gt


def run(args: argparse.Namespace) -> int:
    """Score and print the summary; write the outputs when ``--out`` is given."""
    from segscore.evaluation.folder import evaluate_arrays, evaluate_folder
    from segscore.io.results import check_writable_folder
    from segscore.report.console import accuracy_contrast, render_evaluation

    if args.no_background:
        if args.include_background is True:
            fail("`--no-background` must not be given with `--include-background`, got both.")
        args.include_background = False
    settings = settings_from_args(args)
    if args.out is not None:
        check_writable_folder(args.out, option="--out")
    pred, gt = _inputs(args)
    if pred is None or gt is None:
        from segscore.sample import sample_masks

        p, t, names = sample_masks()
        result = evaluate_arrays(
            p,
            t,
            settings=settings,
            names=names,
            inputs={"pred": "built-in sample (100 synthetic mask pairs, seed 0)", "gt": "-"},
        )
        title = "segscore: built-in sample (100 synthetic mask pairs, seed 0)"
    else:
        assert gt is not None
        result = evaluate_folder(pred, gt, settings=settings, jobs=1)
        title = f"segscore: {pred} vs {gt}"
    for note in result.notes:
        print(note, file=sys.stderr)
    print(render_evaluation(result.summary, title=title))
    from segscore.evaluation.objects import object_contrast

    names = result.evaluation.names
    for contrast in (
        accuracy_contrast(result.scores, names),
        object_contrast(result.scores, names, result.evaluation.objects),
    ):
        if contrast:
            print(contrast)
    if args.out is not None:
        from segscore.evaluation.outputs import write_outputs

        written = write_outputs(result, args.out, report=not args.no_report, title=title)
        print(f"wrote {', '.join(str(p) for p in written)}")
    return 0

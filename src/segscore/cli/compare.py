"""``segscore compare``: two evaluations of the same ground truth, case by case."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from segscore.cli._options import path_argument
from segscore.cli._tables import add_table_flags, check_table_flags, print_table

__all__ = ["add_parser", "run"]

FLAGS = {"a": "RUN_A", "b": "RUN_B", "force": "--force", "metrics": "--metrics"}


def add_parser(subparsers: Any) -> None:
    """Register the ``compare`` subcommand."""
    p = subparsers.add_parser(
        "compare",
        help="compare two evaluations of the same ground truth (differences, bootstrap CI, Wilcoxon)",
        description=(
            "Read summary.json and per_case.csv of two `segscore evaluate` output folders, check "
            "that both scored the same cases and ground truth (inputs.gt_hash) under the same "
            "conventions (refused otherwise, unless --force), and report per metric the paired "
            "differences B - A: their mean with a percentile bootstrap 95% CI, the Wilcoxon "
            "signed-rank p-value, which run is better (from the metric's direction: HD95 lower), "
            "and the cases that changed most. --out writes compare.json, compare.csv and "
            "compare.html (with overlays of those cases, read again from the runs' folders)."
        ),
    )
    p.add_argument("run_a", type=Path, metavar="RUN_A", help="evaluation folder A (baseline)")
    p.add_argument("run_b", type=Path, metavar="RUN_B", help="evaluation folder B")
    p.add_argument(
        "--metrics",
        "--metric",
        dest="metrics",
        default=None,
        help="comma-separated metrics to compare (default: every metric both runs have)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="compare even if the cases, ground truth or conventions differ (said in every output; "
        "cases in one run only are dropped and counted)",
    )
    p.add_argument("--bootstrap", type=int, default=2000, help="resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--top", type=int, default=10, help="cases listed as changed most (default 10)")
    p.add_argument(
        "--out",
        type=path_argument,
        default=None,
        help="write compare.json, compare.csv, compare.html here",
    )
    add_table_flags(p)
    p.set_defaults(func=run)


def _num(x: float, sign: bool = False) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return ("+" if sign and x > 0 else "") + ("inf" if x > 0 else "-inf")
    return f"{x:+.4f}" if sign else f"{x:.4f}"


def _verdict(m: Any) -> str:
    if m.better is not None:
        return f"{m.better} better"
    favoured = m.favours(m.result.mean_difference)
    if favoured is None:
        return "no difference"
    low, high = m.result.ci95
    if m.result.n < 6:  # the exact rank test cannot reach p < 0.05 with 5 pairs or fewer
        return f"unclear ({m.result.n} paired case(s): too few; leans {favoured})"
    why = "CI has 0" if math.isnan(low) or low <= 0 <= high else "p >= 0.05"
    return f"unclear ({why}; leans {favoured})"


def run(args: argparse.Namespace) -> int:
    """Compare through the library, print, and write the outputs with ``--out``."""
    from segscore._validation import check_int
    from segscore.evaluation.compare import SIGN_CONVENTION, compare_runs
    from segscore.io.results import check_writable_folder
    from segscore.report.console import render_table

    check_int("--bootstrap", args.bootstrap, low=1)
    check_int("--top", args.top, low=0)
    check_table_flags(args)
    if args.out is not None:
        check_writable_folder(args.out, option="--out")
    comparison = compare_runs(
        args.run_a,
        args.run_b,
        metrics=args.metrics,
        force=args.force,
        n_resamples=args.bootstrap,
        seed=args.seed,
        names=FLAGS,
    )
    rows = []
    for name, m in comparison.metrics.items():
        r = m.result
        rows.append(
            [
                f"{name} {'↑' if m.higher_is_better else '↓'}",
                _num(float(m.a[m.finite].mean()) if r.n else math.nan),
                _num(float(m.b[m.finite].mean()) if r.n else math.nan),
                _num(r.mean_difference, sign=True),
                f"[{_num(r.ci95[0], sign=True)}, {_num(r.ci95[1], sign=True)}]",
                "nan" if math.isnan(r.wilcoxon_p) else f"{r.wilcoxon_p:.4g}",
                str(r.n),
                str(r.n_nonfinite),
                _verdict(m),
            ]
        )
    dropped = len(comparison.only_a) + len(comparison.only_b)
    title = f"segscore compare: {len(comparison.cases)} paired cases" + (
        f", {dropped} dropped (in one run only)" if dropped else ""
    )
    header = ["metric", "A", "B", "B - A", "95% CI", "Wilcoxon p", "n", "non-finite", "verdict"]
    print(render_table(header, rows, title=title, width=150))
    print(
        f"{SIGN_CONVENTION}; A, B: means over the pairs with two finite values; CI: percentile "
        f"bootstrap over cases ({args.bootstrap} resamples, seed {args.seed})"
    )
    print("↑ higher is better, ↓ lower is better (the registry's direction of each metric)")
    for reason in comparison.forced:
        print(f"forced (--force): {reason}")
    if dropped:
        print(f"dropped {dropped} case(s) in one run only (listed in compare.json)")
    for note in comparison.notes:
        print(f"note: {note}")
    for name, m in list(comparison.metrics.items())[:1]:  # every metric's: in compare.json
        top = m.changed_most(args.top)
        if not top:
            continue
        print(f"changed most ({name}; every metric's in compare.json):")
        for i in top:
            d = float(m.b[i] - m.a[i])
            favoured = m.favours(d)
            print(
                f"  {m.cases[i]}: {_num(float(m.a[i]))} -> {_num(float(m.b[i]))} "
                f"({_num(d, sign=True)}{', ' + favoured + ' better' if favoured else ''})"
            )
    tables = print_table(args, comparison=comparison.as_record(args.top))
    if args.out is not None:
        from segscore.evaluation.compare_outputs import write_comparison

        written = write_comparison(comparison, args.out, top=args.top, tables=tables)
        print(f"wrote {', '.join(str(p) for p in written)}")
    return 0

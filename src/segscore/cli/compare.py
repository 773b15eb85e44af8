"""``segscore compare``: two evaluations of the same cases, case by case."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from segscore.errors import DatasetError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``compare`` subcommand."""
    p = subparsers.add_parser(
        "compare",
        help="compare two evaluations of the same cases (differences, bootstrap CI, Wilcoxon)",
        description=(
            "Read per_case.csv of two `segscore evaluate` output folders, pair the cases, and report "
            "the mean difference B - A with a percentile bootstrap 95% CI, the Wilcoxon signed-rank "
            "p-value, and the cases that changed most."
        ),
    )
    p.add_argument("run_a", type=Path, help="evaluation folder A (baseline)")
    p.add_argument("run_b", type=Path, help="evaluation folder B")
    p.add_argument("--metric", default="iou", help="metric column to compare (default iou)")
    p.add_argument("--bootstrap", type=int, default=2000, help="resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--top", type=int, default=10, help="cases listed as changed most (default 10)")
    p.add_argument("--out", type=Path, default=None, help="write compare.json and compare.csv here")
    p.set_defaults(func=run)


def _per_case(folder: Path, metric: str) -> dict[str, float]:
    from segscore.io.results import read_per_case_csv

    values = read_per_case_csv(folder, metric)
    out = {}
    for case, vals in values.items():
        valid = [v for v in vals if not math.isnan(v)]
        out[case] = math.fsum(valid) / len(valid) if valid else math.nan
    return out


def run(args: argparse.Namespace) -> int:
    """Compare and print; write the tables when ``--out`` is given."""
    import numpy as np

    from segscore.io.results import write_csv, write_json
    from segscore.metrics.bootstrap import paired_comparison

    a = _per_case(args.run_a, args.metric)
    b = _per_case(args.run_b, args.metric)
    common = sorted(set(a) & set(b))
    if not common:
        raise DatasetError(
            f"no case is in both {str(args.run_a)!r} and {str(args.run_b)!r}: compare evaluations "
            "of the same cases."
        )
    va = np.asarray([a[c] for c in common])
    vb = np.asarray([b[c] for c in common])
    result = paired_comparison(va, vb, n_resamples=args.bootstrap, rng=args.seed)
    with np.errstate(invalid="ignore"):  # inf - inf: left out below
        diffs = vb - va
    order = sorted(
        (i for i in range(len(common)) if math.isfinite(diffs[i])), key=lambda i: -abs(diffs[i])
    )
    top = order[: max(0, args.top)]
    print(
        f"segscore compare ({args.metric}): {result.n} paired cases "
        f"({len(set(a) ^ set(b))} not in both, {result.n_nonfinite} left out as NaN or infinite)"
    )
    print(
        f"mean difference B - A = {result.mean_difference:+.4f}, 95% CI "
        f"[{result.ci95[0]:+.4f}, {result.ci95[1]:+.4f}] (percentile bootstrap, "
        f"{args.bootstrap} resamples, seed {args.seed}); Wilcoxon signed-rank p = {result.wilcoxon_p:.4g}"
    )
    for i in top:
        print(f"  {common[i]}: {va[i]:.4f} -> {vb[i]:.4f} ({diffs[i]:+.4f})")
    if args.out is not None:
        rows = [
            {"case": c, "a": float(va[i]), "b": float(vb[i]), "difference": float(diffs[i])}
            for i, c in enumerate(common)
        ]
        write_csv(args.out / "compare.csv", rows, ["case", "a", "b", "difference"])
        write_json(
            args.out / "compare.json",
            {
                "metric": args.metric,
                "run_a": str(args.run_a),
                "run_b": str(args.run_b),
                "n_paired": result.n,
                "n_nonfinite": result.n_nonfinite,
                "mean_difference": result.mean_difference,
                "ci95": list(result.ci95),
                "wilcoxon_p": result.wilcoxon_p,
                "bootstrap": {
                    "method": "percentile",
                    "resamples": args.bootstrap,
                    "seed": args.seed,
                },
                "changed_most": [common[i] for i in top],
            },
        )
    return 0

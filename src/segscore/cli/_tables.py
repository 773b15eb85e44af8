"""``--table md|latex|csv`` and ``--decimals``: the summary ready to paste, printed and written."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_table_flags", "check_table_flags", "print_table", "remove_stale_tables"]


def add_table_flags(p: argparse.ArgumentParser) -> None:
    """Add ``--table`` and ``--decimals`` (the same for ``evaluate`` and ``compare``)."""
    p.add_argument(
        "--table",
        default=None,
        choices=("md", "latex", "csv"),
        help="print the summary as a Markdown, LaTeX (booktabs) or CSV table ready to paste, "
        "and write it as table.md, table.tex or table.csv into the output folder",
    )
    p.add_argument(
        "--decimals", type=int, default=3, help="decimals of the --table numbers (default 3)"
    )


def check_table_flags(args: argparse.Namespace) -> None:
    """Check ``--decimals`` before any work is done."""
    from segscore._validation import fail_must

    decimals = args.decimals
    if not 0 <= decimals <= 12:
        fail_must("--decimals", "be an integer in [0, 12]", decimals)


def print_table(
    args: argparse.Namespace,
    *,
    summary: Mapping[str, Any] | None = None,
    rows: Sequence[Mapping[str, Any]] | None = None,
    comparison: Mapping[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """Print the table asked for by ``--table``; return ``[(file name, text)]`` to write."""
    if args.table is None:
        return []
    from segscore.report.tables import (
        TABLE_FILES,
        comparison_table,
        evaluation_table,
        format_table,
    )

    if comparison is not None:
        table = comparison_table(comparison)
    else:
        table = evaluation_table(summary or {}, rows)
    text = format_table(table, args.table, decimals=args.decimals)
    print(text.rstrip("\n"))
    return [(TABLE_FILES[args.table], text if text.endswith("\n") else text + "\n")]


def remove_stale_tables(folder: Path, written: Sequence[Path]) -> None:
    """Remove the tables an earlier run wrote into ``folder`` that this run did not write."""
    from segscore.io.journal import remove_file
    from segscore.report.tables import TABLE_FILES

    for name in TABLE_FILES.values():
        if folder / name not in written:
            remove_file(folder / name)

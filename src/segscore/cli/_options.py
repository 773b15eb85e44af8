"""Option parsers shared by the subcommands (messages follow the package's template)."""

from __future__ import annotations

import math
from pathlib import Path

from segscore._validation import fail

__all__ = ["output_folder", "parse_empty"]


def parse_empty(text: str, option: str = "--empty") -> float:
    """Parse the zero-denominator value: ``nan``, ``0`` or ``1``.

    Examples
    --------
    >>> parse_empty("0"), parse_empty("NaN")
    (0.0, nan)
    """
    if text.lower() == "nan":
        return math.nan
    if text in ("0", "1"):
        return float(text)
    fail(f"`{option}` must be one of 'nan', '0', '1', got {text!r}.")


def output_folder(path: Path, option: str = "--out") -> Path:
    """Create the output folder (before any work is done) or fail with a one-line message."""
    if path.exists() and not path.is_dir():
        fail(f"`{option}` must be a folder, got {str(path)!r} (a file).")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(
            f"`{option}` must be a folder that can be created, got {str(path)!r} ({exc.strerror})."
        )
    return path

"""Option parsers shared by the subcommands (messages follow the package's template)."""

from __future__ import annotations

import math
import os
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
    """Check, before any work is done, that ``path`` is a folder or can be created as one.

    Nothing is created here: a run that fails leaves no output folder behind.
    """
    if path.exists() and not path.is_dir():
        fail(f"`{option}` must be a folder, got {str(path)!r} (a file).")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        fail(
            f"`{option}` must be a folder that can be written, got {str(path)!r} "
            f"({str(parent)!r} is not a writable folder)."
        )
    return path

"""Write result tables and records atomically: a temporary file in the same folder, then rename.

An interrupted write never leaves a half-written file behind: either the old file (or none) or the
complete new one is there.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from segscore._validation import fail
from segscore.errors import DatasetError, InputError
from segscore.metrics.conventions import jsonable

__all__ = [
    "atomic_open",
    "atomic_write_bytes",
    "check_writable_folder",
    "read_json_object",
    "read_per_case_columns",
    "read_per_case_csv",
    "read_training_trace",
    "remove_stale_temporaries",
    "to_jsonable",
    "write_csv",
    "write_json",
]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open ``path`` for writing atomically: a temporary file in the same folder, then a rename.

    On success the file is flushed, fsync'd, given the usual permissions (``0o666`` minus the
    umask, not ``mkstemp``'s ``0o600``) and renamed over ``path``; on any error (or interrupt)
    the temporary file is removed and ``path`` is untouched. Parent folders are created.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # here: ~1.5 ms of every command's start-up (random, bisect, ...)

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Delete the temporaries that :func:`atomic_open` left in ``folder`` for the files ``names``.

    A kill (SIGKILL, power loss) during an atomic write leaves its temporary behind; nothing else
    in the folder is touched. A missing folder holds none.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in (".a.csv.x1.tmp", ".b.csv.x2.tmp", "a.csv"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> remove_stale_temporaries(folder, ["a.csv"])
    >>> sorted(p.name for p in folder.iterdir())
    ['.b.csv.x2.tmp', 'a.csv']
    """
    where = Path(folder)
    if not where.is_dir():
        return
    for name in names:
        for stale in where.glob(f".{name}.*.tmp"):  # atomic_open's mkstemp prefix and suffix
            stale.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`) and return the path."""
    with atomic_open(path) as handle:
        handle.write(data)
    return Path(path)


def to_jsonable(value: Any) -> Any:
    """Convert numpy values and non-finite floats into strict-JSON values.

    The one encoding of segscore (:func:`segscore.metrics.conventions.jsonable`): non-finite
    floats become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; ``null`` means "not
    applicable".

    Examples
    --------
    >>> to_jsonable({"a": np.float64("nan"), "b": np.arange(2), "c": (1.5, float("inf")), "d": None})
    {'a': 'NaN', 'b': [0, 1], 'c': [1.5, 'Infinity'], 'd': None}
    """
    return jsonable(value)


def write_json(path: str | os.PathLike[str], record: Any) -> Path:
    """Write ``record`` as indented strict JSON, atomically."""
    text = json.dumps(to_jsonable(record), indent=2, allow_nan=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(
    path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]], columns: Sequence[str]
) -> Path:
    """Write rows (dicts) as CSV with the given columns, atomically.

    Floats are written by their shortest repr, non-finite ones as ``NaN``, ``Infinity`` and
    ``-Infinity`` (what ``float()`` reads back); a missing value (a failed case) as an empty cell.
    Text that a spreadsheet would run as a formula (a case or class name beginning with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return) is written after an apostrophe, as OWASP
    advises against CSV injection, and so is text beginning with an apostrophe (so that each
    reads back as it was); :func:`csv_text` reads it back.
    """
    rows = list(rows)
    names = list(columns)
    unknown = set(itertools.chain.from_iterable(rows)).difference(names)
    if unknown:
        raise ValueError(f"rows hold fields that are not columns: {sorted(unknown)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([_csv_cell(row.get(key)) for key in names] for row in rows)
    return atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))


def _csv_cell(v: Any) -> Any:
    """One CSV cell: floats by their shortest repr, non-finite ones as ``float()`` reads them.

    >>> [_csv_cell(v) for v in (0.1, np.float32(0.5), float("nan"), -math.inf, None, True, 3)]
    ['0.1', '0.5', 'NaN', '-Infinity', '', True, 3]
    >>> [_csv_cell(v) for v in ("=cmd|' /C calc'!A0", "@SUM(1)", "case-1", "'quoted")]
    ["'=cmd|' /C calc'!A0", "'@SUM(1)", 'case-1', "''quoted"]
    """
    if v is None:
        return ""
    if isinstance(v, str):  # np.str_ too
        return "'" + v if v[:1] in _ESCAPED_START else str(v)
    if type(v) is float or isinstance(v, (float, np.floating)):
        number = float(v)
        if number - number == 0.0:  # finite (inf - inf and nan - nan are nan)
            return repr(number)
        return "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")
    return v


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...and the apostrophe itself, so that every text reads back as it was ("'=x" and "=x" differ)
_ESCAPED_START = (*_FORMULA_START, "'")


def csv_text(cell: str) -> str:
    """Return the text of a CSV cell as :func:`write_csv` was given it.

    The apostrophe that :func:`write_csv` put before a formula character (or an apostrophe) is
    removed.

    >>> csv_text("'=1+1"), csv_text("''quoted"), csv_text("'quoted"), csv_text("case-1")
    ('=1+1', "'quoted", "'quoted", 'case-1')
    """
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _ESCAPED_START else cell


def read_training_trace(run: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read the epoch records of a training run folder's ``trace.json``.

    The file holds ``{"epochs": [...]}`` (what :mod:`segscore.train` writes), ``{"trace": [...]}``
    or the bare list of records.

    Raises
    ------
    DatasetError
        If the folder holds no ``trace.json``, or the file is not JSON or not a list of records.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_json(run / "trace.json", {"epochs": [{"epoch": 1, "loss": 0.5}]})
    >>> read_training_trace(run)
    [{'epoch': 1, 'loss': 0.5}]
    """
    path = Path(run) / "trace.json"
    if not path.is_file():
        raise DatasetError(f"training run {str(run)!r}: expected trace.json in it, not found.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"file {str(path)!r}: cannot be read as JSON ({exc}).") from exc
    rows = data.get("epochs", data.get("trace", data)) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DatasetError(f"file {str(path)!r}: expected a list of epoch records.")
    return rows


def read_json_object(
    path: str | os.PathLike[str], *, what: str = "a JSON configuration", needed_by: str
) -> dict[str, Any]:
    """Read a JSON file that holds one object (a run's ``config.json``).

    Parameters
    ----------
    path : path-like
        The file.
    what : str, default 'a JSON configuration'
        What the file must be, for the message when it cannot be read or parsed.
    needed_by : str
        The option that needs the file, for the message when it is missing (``"--resume"``).

    Raises
    ------
    InputError
        If the file is missing, cannot be read or parsed, or holds another JSON value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "config.json"
    >>> _ = write_json(path, {"epochs": 3})
    >>> read_json_object(path, needed_by="--resume")
    {'epochs': 3}
    >>> read_json_object("no-such-run/config.json", needed_by="--resume")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--resume` needs 'no-such-run/config.json', which does not exist.
    """
    where = Path(path)
    if not where.is_file():
        raise InputError(f"`{needed_by}` needs {str(where)!r}, which does not exist.")
    try:
        values = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, or bytes that are not UTF-8
        raise InputError(f"{str(where)!r} must be {what}, got {exc}.") from None
    if not isinstance(values, dict):
        raise InputError(f"{str(where)!r} must hold a JSON object, got {type(values).__name__}.")
    return values


def read_per_case_csv(folder: str | os.PathLike[str], column: str) -> dict[str, list[float]]:
    """Read one metric column of an evaluation folder's ``per_case.csv``, case by case.

    Values are read as :func:`write_csv` writes them: ``NaN``, ``Infinity`` and ``-Infinity``
    are the non-finite floats and an empty cell is NaN. The rows of failed cases (status
    ``failed``, or an error message) hold no values and are skipped.

    Returns
    -------
    dict of str to list of float
        The values of every case (one per class row), in file order.

    Raises
    ------
    DatasetError
        If the folder holds no ``per_case.csv``, the file has no such column, or a cell is not
        a number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rows = [{"case": "a", "iou": 0.5, "status": "ok"}, {"case": "a", "iou": float("inf")},
    ...         {"case": "b", "status": "failed", "error": "unreadable"}, {"case": "c"}]
    >>> _ = write_csv(folder / "per_case.csv", rows, ["case", "iou", "status", "error"])
    >>> read_per_case_csv(folder, "iou")
    {'a': [0.5, inf], 'c': [nan]}
    """
    return read_per_case_columns(folder, [column])[column]


def read_per_case_columns(
    folder: str | os.PathLike[str], columns: Sequence[str]
) -> dict[str, dict[str, list[float]]]:
    """Read metric columns of an evaluation folder's ``per_case.csv`` in one pass.

    As :func:`read_per_case_csv`, for several columns: per column, the values of every case
    (one per class row), in file order.

    Raises
    ------
    DatasetError
        If the folder holds no ``per_case.csv``, the file lacks a column, a cell is not a
        number, or a (case, class) row appears twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rows = [{"case": "a", "iou": 0.5, "hd95": 2.0}, {"case": "b", "iou": 1.0, "hd95": 0.0}]
    >>> _ = write_csv(folder / "per_case.csv", rows, ["case", "iou", "hd95"])
    >>> read_per_case_columns(folder, ["hd95", "iou"])["hd95"]
    {'a': [2.0], 'b': [0.0]}
    """
    path = Path(folder) / "per_case.csv"
    if not path.is_file():
        raise DatasetError(f"evaluation folder {str(folder)!r}: expected per_case.csv, not found.")
    values: dict[str, dict[str, list[float]]] = {column: {} for column in columns}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if reader.fieldnames is None or c not in reader.fieldnames]
        if missing:
            raise DatasetError(
                f"file {str(path)!r}: expected a column {missing[0]!r}, got {reader.fieldnames}."
            )
        by_class = reader.fieldnames is not None and "class" in reader.fieldnames
        seen: set[tuple[str, str]] = set()
        for line, row in enumerate(reader, start=2):
            if row.get("error") or row.get("status") == "failed":
                continue
            case = csv_text(row["case"])
            if by_class:  # one row per case and class: a repeated one would be averaged in
                key = (case, row["class"])
                if key in seen:
                    raise DatasetError(
                        f"file {str(path)!r} line {line}: case {case!r} class {key[1]} appears "
                        "twice; expected one row per case and class, as segscore evaluate "
                        "writes them."
                    )
                seen.add(key)
            for column in columns:
                text = row[column]
                try:
                    value = float(text) if text else math.nan
                except ValueError:
                    raise DatasetError(
                        f"file {str(path)!r} line {line}: column {column!r} must hold a number, "
                        f"got {text!r}."
                    ) from None
                values[column].setdefault(case, []).append(value)
    return values


def check_writable_folder(path: str | os.PathLike[str], *, option: str = "--out") -> Path:
    """Check, before any work is done, that ``path`` is a folder or can be created as one.

    Nothing is created here: a run that fails leaves no output folder behind.

    Raises
    ------
    InputError
        If ``path`` is a file, or its nearest existing ancestor is not a writable folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_writable_folder(folder / "new" / "out") == folder / "new" / "out"
    True
    >>> check_writable_folder("/dev/null", option="--out")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--out` must be a folder, got '/dev/null' (a file).
    """
    if not os.fspath(path):  # Path("") is the current folder: surely not what was meant
        fail(f"`{option}` must name a folder, got ''.")
    where = Path(path)
    if where.exists() and not where.is_dir():
        fail(f"`{option}` must be a folder, got {str(where)!r} (a file).")
    parent = where
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        fail(
            f"`{option}` must be a folder that can be written, got {str(where)!r} "
            f"({str(parent)!r} is not a writable folder)."
        )
    return where


def check_writable_file(path: str | os.PathLike[str], *, option: str, suffix: str) -> Path:
    """Check, before any work is done, that ``path`` names a ``suffix`` file that can be written.

    Raises
    ------
    InputError
        If ``path`` does not end in ``suffix`` (any case), is a folder, or its folder cannot be
        created or written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_writable_file(folder / "a.png", option="--out", suffix=".png") == folder / "a.png"
    True
    >>> check_writable_file("/", option="--out", suffix=".png")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--out` must name a .png file, got '/' (a folder).
    """
    if not os.fspath(path):
        fail(f"`{option}` must name a {suffix} file, got ''.")
    where = Path(path)
    if where.is_dir():
        fail(f"`{option}` must name a {suffix} file, got {str(where)!r} (a folder).")
    if where.suffix.lower() != suffix:
        fail(f"`{option}` must name a {suffix} file, got {str(where)!r}.")
    check_writable_folder(where.parent, option=option)
    return where

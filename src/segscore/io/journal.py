"""A locked, append-only JSON-lines log: a header record, then batches of entries.

The file is the resume journal of ``segscore evaluate`` (see :mod:`segscore.evaluation.journal`,
which says what the entries mean); this module knows only lines and bytes:

- the file and its folder are created lazily, with the first batch (or :meth:`JsonLog.open`);
- an exclusive advisory lock (``fcntl.flock``, non-blocking) keeps a second writer out;
- the first line is the header record; every later line is one batch, ``{batch_key: [...]}``,
  written whole, flushed and fsync'd, once ``flush_count`` entries are pending or
  ``flush_seconds`` after the previous batch;
- reading back ignores (and cuts off) a last line cut short by a kill; a corrupt line before it
  is a :class:`~segscore.errors.DatasetError` naming the line.

Floats round-trip exactly (shortest repr); NaN and infinities are written as JSON's extensions
``NaN``/``Infinity``, which :func:`json.loads` reads back.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from segscore.errors import DatasetError

__all__ = ["JsonLog", "normalized", "remove_file"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def normalized(record: dict[str, Any]) -> dict[str, Any]:
    """Return ``record`` as it reads back from a log line (numpy values, sets, tuples as JSON).

    Examples
    --------
    >>> normalized({"a": (1, 2), "b": np.int64(3), "c": {2, 1}})
    {'a': [1, 2], 'b': 3, 'c': [1, 2]}
    """
    decoded: dict[str, Any] = json.loads(json.dumps(record, default=_jsonable))
    return decoded


def remove_file(path: str | os.PathLike[str]) -> None:
    """Delete ``path`` if it is there (a log once its run finished)."""
    Path(path).unlink(missing_ok=True)


@dataclass
class JsonLog:
    """An append-only JSON-lines file with a header line, locked while it is open.

    Parameters
    ----------
    path : Path
        The file; it and its folder are created by :meth:`open` (or the first batch).
    header : dict
        The first line of a new (or restarted) log.
    batch_key : str
        Each batch is written as ``{batch_key: [entry, ...]}``.
    flush_count, flush_seconds
        A batch is written once this many entries are pending, or this many seconds after the
        previous one, whichever comes first.
    busy : str
        Says, in the error, what holds the lock (``"another ... is writing to ..."``).
    remedy : str
        Ends the error on a corrupt line (``"delete the file"``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sub" / "log.jsonl"
    >>> log = JsonLog(path, {"log": "demo"}, batch_key="items")
    >>> log.add({"x": 1.5}); log.add({"x": float("nan")}); log.close()
    >>> print(path.read_text(), end="")
    {"log":"demo"}
    {"items":[{"x":1.5},{"x":NaN}]}
    >>> log = JsonLog(path, {"log": "demo"}, batch_key="items")
    >>> log.open(); log.read_back(lambda header: None)
    [{'x': 1.5}, {'x': nan}]
    >>> log.remove(); path.exists()
    False
    """

    path: Path
    header: dict[str, Any]
    batch_key: str = "entries"
    flush_count: int = 512
    flush_seconds: float = 1.0
    busy: str = "another process is writing to it."
    remedy: str = "delete the file"
    handle: IO[bytes] | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    weight: int = 0  # what the pending entries count for flush_count
    last_flush: float = field(default_factory=time.monotonic)
    closed: bool = False

    @property
    def exists(self) -> bool:
        """Whether the file is on disk (an earlier run left it, or this one wrote it)."""
        return self.path.is_file()

    @property
    def written(self) -> bool:
        """Whether this log opened the file (and so wrote its header)."""
        return self.handle is not None

    def open(self) -> None:
        """Open (creating the folder and the file) and lock the log; write the header if new.

        Raises
        ------
        DatasetError
            If the file cannot be opened, or another process holds its lock.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+b")  # noqa: SIM115 - kept open for the run, see close()
        except OSError as exc:
            raise DatasetError(
                f"journal {str(self.path)!r}: cannot be opened ({exc.strerror or exc})."
            ) from exc
        self.handle = handle
        try:
            self._lock(handle)
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:  # fsync'd with the first batch, which follows at once
                self._append(self.header, sync=False)
        except BaseException:
            handle.close()
            raise

    def _lock(self, handle: IO[bytes]) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            return
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise DatasetError(f"journal {str(self.path)!r}: {self.busy}") from exc

    def restart(self) -> None:
        """Empty the open log and write the header again."""
        assert self.handle is not None
        self.handle.truncate(0)
        self._append(self.header)

    def read_back(self, check_header: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
        """Return the entries of every complete batch of the open log, in order.

        ``check_header`` is given the header read back and raises if the log is not the one
        expected; only then is a last line cut short by a kill cut off the file. A file holding
        nothing whole (a header cut short) is restarted and gives no entries.

        Raises
        ------
        DatasetError
            If a line before the last is corrupt (not a JSON object); what ``check_header``
            raises.
        """
        assert self.handle is not None
        self.handle.seek(0)
        data = self.handle.read()
        if not data:
            return []
        lines = data.split(b"\n")
        good_end = 0  # byte offset after the last complete, valid line
        offset = 0
        entries: list[dict[str, Any]] = []
        header: dict[str, Any] | None = None
        for number, line in enumerate(lines, start=1):
            end = offset + len(line) + 1
            last = number == len(lines) or (number == len(lines) - 1 and lines[-1] == b"")
            try:
                if end > len(data):
                    raise ValueError("no line end")  # cut short by a kill
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                if last:
                    break
                raise DatasetError(
                    f"journal {str(self.path)!r}: line {number} is corrupt ({exc}); {self.remedy}."
                ) from exc
            if header is None:
                header = item
            else:
                entries.extend(item.get(self.batch_key, []))
            good_end = end
            offset = end
        if header is None:  # only a header cut short by a kill: nothing was logged
            self.restart()
            return []
        check_header(header)
        self.handle.truncate(good_end)
        self.handle.seek(0, os.SEEK_END)
        return entries

    def add(self, entry: dict[str, Any], *, weight: int = 1) -> None:
        """Add an entry (counting ``weight`` towards ``flush_count``); write a batch when due."""
        self.pending.append(entry)
        self.weight += weight
        if (
            self.weight >= self.flush_count
            or time.monotonic() - self.last_flush >= self.flush_seconds
        ):
            self.flush()

    def flush(self, *, sync: bool = True) -> None:
        """Append the pending entries as one line, flushed and (with ``sync``) fsync'd.

        The file is created on the first batch.
        """
        if self.pending:
            if self.handle is None:
                self.open()
            self._append({self.batch_key: self.pending}, sync=sync)
            self.pending = []
            self.weight = 0
        self.last_flush = time.monotonic()

    def _append(self, item: dict[str, Any], *, sync: bool = True) -> None:
        assert self.handle is not None
        line = json.dumps(item, default=_jsonable, separators=(",", ":"), allow_nan=True)
        start = self.handle.seek(0, os.SEEK_END)
        try:
            self.handle.write(line.encode("utf-8") + b"\n")
            self.handle.flush()
            if sync:
                os.fsync(self.handle.fileno())
        except BaseException:
            # Ctrl-C can interrupt a large write part way: cut the line off, so that close()
            # writes the batch again as one whole line.
            self.handle.truncate(start)
            raise

    def close(self, *, flush: bool = True) -> None:
        """Write what is pending (with ``flush``) and close the file, which stays on disk.

        The last batch is written to the operating system but not fsync'd: a finished run
        discards its journal once the outputs are written, and an interrupted one keeps it
        (a killed process loses nothing written; only a crash of the machine within the
        journal's flush interval can lose the last batch, which ``--resume`` then scores again,
        as for any batch not yet flushed).
        """
        if self.closed:
            return
        self.closed = True
        try:
            if flush:
                self.flush(sync=False)
        finally:
            if self.handle is not None:
                self.handle.close()

    def remove(self) -> None:
        """Close and delete the log."""
        self.close(flush=False)
        remove_file(self.path)

"""The journal of an evaluation: finished cases, appended and fsync'd, so that a run can resume.

``segscore evaluate`` appends every finished case to ``OUT/.segscore-journal.jsonl`` in batches
(one JSON line per batch, flushed and fsync'd): its exact counts, threshold-sweep counts and
boundary distances, and the SHA-256 digest of its two files. The first line records the options
that made them (every field of :class:`~segscore.evaluation.runner.EvaluateOptions`) and the
segscore version.

``--resume`` reads the journal back:

- other options or another segscore version: an error (exit 2) naming what differs; rerun
  without ``--resume`` to start over;
- a case whose files changed (digest or file name differs) or that failed: scored again;
- a case no longer in the input: dropped;
- a last line cut short by a kill: ignored and cut off; a corrupt line before it: an error.

The journal is removed once every output is written, so its presence in OUT means a run did
not finish. Results round-trip exactly: integers as integers, floats by their shortest repr.
Failed cases (``--keep-going``) are not journaled: they are tried again on resume.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from segscore._version import __version__
from segscore.errors import DatasetError
from segscore.evaluation.runner import CaseResult, EvaluateOptions
from segscore.io.pairs import Case
from segscore.metrics.conventions import jsonable
from segscore.metrics.counts import CountingSpec, Counts

__all__ = ["JOURNAL_NAME", "Journal", "case_digest"]

JOURNAL_NAME = ".segscore-journal.jsonl"
"""File name of the journal inside the output folder."""

FORMAT = 1
FLUSH_CASES = 512
"""A batch is written (and fsync'd, ~2 ms) once this many cases are finished ..."""
FLUSH_SECONDS = 1.0
"""... or this many seconds after the previous batch, whichever comes first."""


def case_digest(case: Case) -> str:
    """Return the digest :func:`~segscore.evaluation.runner.score_case` gives the case's files.

    Raises
    ------
    OSError
        If a file cannot be read.
    """
    digest = hashlib.sha256()
    for path in (case.pred, case.target):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def options_record(options: EvaluateOptions) -> dict[str, Any]:
    """Return what makes a case's result: the counting options and segscore's version."""
    record = {"segscore_version": __version__, "options": jsonable(asdict(options))}
    normalized: dict[str, Any] = json.loads(json.dumps(record, default=_jsonable))
    return normalized


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _encode(result: CaseResult, case: Case) -> dict[str, Any]:
    counts = result.counts
    assert counts is not None
    return {
        "name": result.name,
        "pred": case.pred.name,
        "target": case.target.name,
        "digest": result.digest,
        "tp": counts.tp.tolist(),
        "fp": counts.fp.tolist(),
        "fn": counts.fn.tolist(),
        "tn": counts.tn.tolist(),
        "spec": None if counts.spec is None else counts.spec.as_dict(),
        "sweep": None if result.sweep is None else result.sweep.tolist(),
        "spacing": None if result.spacing is None else list(result.spacing),
        "distances": None
        if result.distances is None
        else {k: v.tolist() for k, v in result.distances.items()},
        "distance_classes": list(result.distance_classes),
        "distance_conventions": result.distance_conventions,
    }


def _decode(entry: dict[str, Any]) -> CaseResult:
    spec = entry["spec"]
    tp, fp, fn, tn = (np.asarray(entry[f], dtype=np.int64) for f in ("tp", "fp", "fn", "tn"))
    counts = Counts(tp, fp, fn, tn, None if spec is None else CountingSpec(**spec))
    distances = entry["distances"]
    return CaseResult(
        name=str(entry["name"]),
        counts=counts,
        digest=str(entry["digest"]),
        sweep=None if entry["sweep"] is None else np.asarray(entry["sweep"], dtype=np.int64),
        spacing=None if entry["spacing"] is None else tuple(float(s) for s in entry["spacing"]),
        distances=None
        if distances is None
        else {k: np.asarray(v, dtype=np.float64) for k, v in distances.items()},
        distance_classes=tuple(int(k) for k in entry["distance_classes"]),
        distance_conventions=entry["distance_conventions"],
    )


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    flat_old = {"segscore_version": old.get("segscore_version"), **(old.get("options") or {})}
    flat_new = {"segscore_version": new["segscore_version"], **new["options"]}
    diffs = [
        f"{key}: {flat_old.get(key)!r} in the journal, {flat_new.get(key)!r} now"
        for key in sorted(set(flat_old) | set(flat_new))
        if flat_old.get(key) != flat_new.get(key)
    ]
    return "; ".join(diffs[:4]) + (f"; ... ({len(diffs)} in all)" if len(diffs) > 4 else "")


@dataclass
class Journal:
    """An open journal: the verified results of earlier runs, and the writer of this one's.

    Use :meth:`open`; call :meth:`record` for every result, :meth:`close` when scoring ends and
    :meth:`remove` once the outputs are written. The file (and OUT) is created with the first
    batch, so a run that stops before it leaves nothing behind.
    """

    path: Path
    record_: dict[str, Any]
    cases: dict[str, Case]
    handle: IO[bytes] | None = None
    done: dict[str, CaseResult] = field(default_factory=dict)
    stale: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)
    last_flush: float = field(default_factory=time.monotonic)
    closed: bool = False

    @classmethod
    def open(
        cls, out: Path, options: EvaluateOptions, cases: list[Case], *, resume: bool
    ) -> Journal:
        """Open ``out/.segscore-journal.jsonl``: read it back with ``resume``, else start anew.

        Raises
        ------
        DatasetError
            If the journal is locked by another run, was written with other options or another
            segscore version, or is corrupt before its last line.
        """
        journal = cls(out / JOURNAL_NAME, options_record(options), {c.name: c for c in cases})
        if journal.path.is_file():
            handle = journal._create()
            try:
                if resume:
                    journal._read_back()
                else:
                    handle.truncate(0)
                    journal._append({"journal": "segscore-evaluate", "format": FORMAT})
            except BaseException:
                handle.close()
                raise
        return journal

    @property
    def written(self) -> bool:
        """Whether the journal file exists (a batch or a header was written)."""
        return self.handle is not None

    def _create(self) -> IO[bytes]:
        """Open (creating OUT and the file) and lock the journal; write the header if new."""
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
            if handle.tell() == 0:
                self._append({"journal": "segscore-evaluate", "format": FORMAT})
        except BaseException:
            handle.close()
            raise
        return handle

    def _lock(self, handle: IO[bytes]) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            return
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise DatasetError(
                f"journal {str(self.path)!r}: another segscore evaluate is writing to this "
                "output folder; wait for it or choose another --out."
            ) from exc

    def _read_back(self) -> None:
        assert self.handle is not None
        record = self.record_
        self.handle.seek(0)
        data = self.handle.read()
        if not data:
            return
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
                    f"journal {str(self.path)!r}: line {number} is corrupt ({exc}); delete the "
                    "file or rerun without --resume."
                ) from exc
            if header is None:
                header = item
            else:
                entries.extend(item.get("cases", []))
            good_end = end
            offset = end
        if header is None:  # only a header cut short by a kill: nothing was journaled
            self.handle.truncate(0)
            self._append({"journal": "segscore-evaluate", "format": FORMAT})
            return
        if header.get("journal") != "segscore-evaluate":
            raise DatasetError(
                f"journal {str(self.path)!r}: not a segscore evaluate journal; delete the file "
                "or rerun without --resume."
            )
        found = {
            "segscore_version": header.get("segscore_version"),
            "options": header.get("options"),
        }
        if header.get("format") != FORMAT or found != record:
            raise DatasetError(
                f"--resume: the journal {str(self.path)!r} was written with other options "
                f"({_differences(found, record) or 'format ' + repr(header.get('format'))}); "
                "rerun with the same options, or without --resume to start over."
            )
        self.handle.truncate(good_end)
        self.handle.seek(0, os.SEEK_END)
        self._verify(entries)

    def _verify(self, entries: list[dict[str, Any]]) -> None:
        """Keep the entries whose case is still in the input with the same files and bytes."""
        for entry in entries:
            case = self.cases.get(str(entry.get("name")))
            if case is None or (entry.get("pred"), entry.get("target")) != (
                case.pred.name,
                case.target.name,
            ):
                self.stale += 1
                continue
            try:
                same = case_digest(case) == entry.get("digest")
                result = _decode(entry) if same else None
            except OSError:  # unreadable now: score it again, which reports the error
                result = None
            except (KeyError, TypeError, ValueError) as exc:
                raise DatasetError(
                    f"journal {str(self.path)!r}: case {entry.get('name')!r} is malformed "
                    f"({type(exc).__name__}: {exc}); delete the file or rerun without --resume."
                ) from exc
            if result is None:
                self.stale += 1
                continue
            self.done[case.name] = result

    def record(self, result: CaseResult) -> None:
        """Add a finished case; write a batch when it is due. Failed cases are not kept."""
        if result.counts is None or result.name in self.done:
            return
        self.pending.append(_encode(result, self.cases[result.name]))
        if len(self.pending) >= FLUSH_CASES or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Append the pending cases as one line, flushed and fsync'd (creating the file)."""
        if self.pending:
            if self.handle is None:
                self._create()
            self._append({"cases": self.pending})
            self.pending = []
        self.last_flush = time.monotonic()

    def _append(self, item: dict[str, Any]) -> None:
        assert self.handle is not None
        if "journal" in item:
            item = {**item, **self.record_}
        line = json.dumps(item, default=_jsonable, separators=(",", ":"), allow_nan=True)
        start = self.handle.seek(0, os.SEEK_END)
        try:
            self.handle.write(line.encode("utf-8") + b"\n")
            self.handle.flush()
            os.fsync(self.handle.fileno())
        except BaseException:
            # Ctrl-C can interrupt a large write part way: cut the line off, so that close()
            # writes the batch again as one whole line.
            self.handle.truncate(start)
            raise

    def close(self, *, flush: bool = True) -> None:
        """Write what is pending (with ``flush``) and close the file, which stays on disk."""
        if self.closed:
            return
        self.closed = True
        try:
            if flush:
                self.flush()
        finally:
            if self.handle is not None:
                self.handle.close()

    def remove(self) -> None:
        """Close and delete the journal (the outputs are written)."""
        self.close(flush=False)
        self.path.unlink(missing_ok=True)

"""The journal of an evaluation: finished cases, appended and fsync'd, so that a run can resume.

``segscore evaluate`` appends every finished case to ``OUT/.segscore-journal.jsonl`` in batches
(one JSON line per batch, flushed and fsync'd; a run of plain PNG cases is one entry of columns,
format 3): its exact counts, threshold-sweep counts and
boundary distances, the SHA-256 digest of its two files and that of its ground truth alone (for
``inputs.gt_hash``). The first line records the options
that made them (every field of :class:`~segscore.evaluation.runner.EvaluateOptions`) and the
segscore version.

``--resume`` reads the journal back:

- other options or another segscore version: an error (exit 2) naming what differs; rerun
  without ``--resume`` to start over;
- a case whose files changed (digest or file name differs) or that failed: scored again; so is
  a case journaled without its ground-truth digest (by an earlier segscore);
- a case no longer in the input: dropped;
- a last line cut short by a kill: ignored and cut off; a corrupt line before it: an error.

The journal is removed once every output is written, so its presence in OUT means a run did
not finish. Results round-trip exactly: integers as integers, floats by their shortest repr.
Failed cases (``--keep-going``) are not journaled: they are tried again on resume.

This module holds what the journal means (a case result as a record, the options record, which
entries still hold); the file itself (lock, batches, fsync, a torn last line) is
:class:`segscore.io.journal.JsonLog`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from segscore._version import __version__
from segscore.errors import DatasetError
from segscore.evaluation.plain import PackedBatch
from segscore.evaluation.runner import CaseResult, EvaluateOptions
from segscore.io.journal import JsonLog, normalized, remove_file
from segscore.io.pairs import Case, case_digest
from segscore.metrics.conventions import jsonable
from segscore.metrics.counts import CountingSpec, Counts

if TYPE_CHECKING:
    from segscore.metrics.instance.panoptic import PanopticCounts
    from segscore.metrics.instance.table import OverlapTable

__all__ = ["JOURNAL_NAME", "Journal", "discard_journal"]

JOURNAL_NAME = ".segscore-journal.jsonl"
"""File name of the journal inside the output folder."""

FORMAT = 3
"""3: a packed batch of plain cases may be one entry of columns (``{"packed": {...}}``, see
:func:`_encode_packed`); 2: an entry leaves out the fields its case does not have (1 wrote them
as null). Journals of format 2 are read too (their entries are format 3's per-case entries)."""
_READ_FORMATS = (2, 3)
FLUSH_CASES = 512
"""A batch is written (and fsync'd, ~2 ms) once this many cases are finished ..."""
FLUSH_SECONDS = 1.0
"""... or this many seconds after the previous batch, whichever comes first."""

_TAG = "segscore-evaluate"
_REMEDY = "delete the file or rerun without --resume"
_BUSY = (
    "another segscore evaluate is writing to this output folder; wait for it or choose "
    "another --out."
)


def options_record(options: EvaluateOptions) -> dict[str, Any]:
    """Return what makes a case's result: the counting options and segscore's version."""
    return normalized({"segscore_version": __version__, "options": jsonable(asdict(options))})


def discard_journal(folder: Path) -> None:
    """Delete the journal in ``folder``, if any: the run it belongs to finished."""
    remove_file(folder / JOURNAL_NAME)


@functools.lru_cache(maxsize=16)
def _spec_record(spec: CountingSpec) -> dict[str, Any]:
    return spec.as_dict()  # shared by every entry of a run: never modified


def _encode(result: CaseResult, case: Case) -> dict[str, Any]:
    """Return a case as a journal entry; fields it does not have are left out (read as None)."""
    counts = result.counts
    assert counts is not None
    entry: dict[str, Any] = {
        "name": result.name,
        "pred": case.pred.name,
        "target": case.target.name,
        "digest": result.digest,
        "target_digest": result.target_digest,
        "tp": counts.tp.tolist(),
        "fp": counts.fp.tolist(),
        "fn": counts.fn.tolist(),
        "tn": counts.tn.tolist(),
    }
    if counts.spec is not None:
        entry["spec"] = _spec_record(counts.spec)
    if result.sweep is not None:
        entry["sweep"] = result.sweep.tolist()
    if result.spacing is not None:
        entry["spacing"] = list(result.spacing)
    if result.distances is not None:
        entry["distances"] = {k: v.tolist() for k, v in result.distances.items()}
        entry["distance_classes"] = list(result.distance_classes)
        entry["distance_conventions"] = result.distance_conventions
    if result.objects is not None:
        entry["objects"] = result.objects.as_record()
    if result.object_distances is not None:
        entry["object_distances"] = {k: v.tolist() for k, v in result.object_distances.items()}
    if result.object_scores is not None:
        entry["object_scores"] = result.object_scores.tolist()
    if result.lesions is not None:
        entry["lesions"] = result.lesions
        entry["lesion_conventions"] = result.lesion_conventions
    if result.panoptic is not None:
        entry["panoptic"] = result.panoptic.as_record()
    return entry


def _encode_packed(batch: PackedBatch, cases: dict[str, Case]) -> dict[str, Any]:
    """Return a packed batch as one journal entry of columns, one item per case.

    Four times cheaper to build and encode than an :func:`_encode` entry per case (3 against 14
    ms per 1,000 cases, measured), and 40% shorter; :func:`_unpack_entry` gives back those
    entries exactly.
    """
    members = [cases[name] for name in batch.names]
    columns: dict[str, Any] = {
        "name": batch.names,
        "pred": [case.pred.name for case in members],
        "target": [case.target.name for case in members],
        "digest": [digest for digest, _ in batch.digests],
        "target_digest": [target for _, target in batch.digests],
        "counts": batch.block.tolist(),  # per case (4, C): tp, fp, fn, tn
    }
    if batch.spec is not None:
        columns["spec"] = _spec_record(batch.spec)
    if any(spacing is not None for spacing in batch.spacings):
        columns["spacing"] = [None if s is None else list(s) for s in batch.spacings]
    return {"packed": columns}


def _unpack_entry(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the per-case entries of a journal entry (a packed one holds several)."""
    columns = entry.get("packed")
    if columns is None:
        return [entry]
    spec = columns.get("spec")
    spacings = columns.get("spacing") or [None] * len(columns["name"])
    entries = []
    for name, pred, target, digest, target_digest, (tp, fp, fn, tn), spacing in zip(
        columns["name"],
        columns["pred"],
        columns["target"],
        columns["digest"],
        columns["target_digest"],
        columns["counts"],
        spacings,
        strict=True,
    ):
        one: dict[str, Any] = {
            "name": name,
            "pred": pred,
            "target": target,
            "digest": digest,
            "target_digest": target_digest,
            "tp": [tp],  # (1, C), as Counts of one case
            "fp": [fp],
            "fn": [fn],
            "tn": [tn],
        }
        if spec is not None:
            one["spec"] = spec
        if spacing is not None:
            one["spacing"] = spacing
        entries.append(one)
    return entries


def _decode(entry: dict[str, Any]) -> CaseResult:
    spec = entry.get("spec")
    tp, fp, fn, tn = (np.asarray(entry[f], dtype=np.int64) for f in ("tp", "fp", "fn", "tn"))
    counts = Counts(tp, fp, fn, tn, None if spec is None else CountingSpec(**spec))
    distances = entry.get("distances")
    sweep, spacing = entry.get("sweep"), entry.get("spacing")
    return CaseResult(
        name=str(entry["name"]),
        counts=counts,
        digest=str(entry["digest"]),
        target_digest=str(entry["target_digest"]),
        sweep=None if sweep is None else np.asarray(sweep, dtype=np.int64),
        spacing=None if spacing is None else tuple(float(s) for s in spacing),
        distances=None
        if distances is None
        else {k: np.asarray(v, dtype=np.float64) for k, v in distances.items()},
        distance_classes=tuple(int(k) for k in entry.get("distance_classes", ())),
        distance_conventions=entry.get("distance_conventions"),
        objects=_objects(entry.get("objects")),
        object_distances=None
        if entry.get("object_distances") is None
        else {k: np.asarray(v, dtype=np.float64) for k, v in entry["object_distances"].items()},
        object_scores=None
        if entry.get("object_scores") is None
        else np.asarray(entry["object_scores"], dtype=np.float64),
        lesions=entry.get("lesions"),
        lesion_conventions=entry.get("lesion_conventions"),
        panoptic=_panoptic(entry.get("panoptic")),
    )


def _panoptic(record: dict[str, Any] | None) -> PanopticCounts | None:
    """Return a case's panoptic counts from its journal entry (None: not a panoptic pair)."""
    if record is None:
        return None
    from segscore.metrics.instance.panoptic import PanopticCounts

    return PanopticCounts.from_record(record)


def _objects(record: dict[str, Any] | None) -> OverlapTable | None:
    """Return a case's overlap table from its journal entry (None: no objects were scored)."""
    if record is None:
        return None
    from segscore.metrics.instance.table import OverlapTable

    return OverlapTable.from_record(record)


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

    log: JsonLog
    record_: dict[str, Any]
    cases: dict[str, Case]
    existed: bool = False
    done: dict[str, CaseResult] = field(default_factory=dict)
    stale: int = 0

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
        record = options_record(options)
        log = JsonLog(
            out / JOURNAL_NAME,
            {"journal": _TAG, "format": FORMAT, **record},
            batch_key="cases",
            flush_count=FLUSH_CASES,
            flush_seconds=FLUSH_SECONDS,
            busy=_BUSY,
            remedy=_REMEDY,
        )
        journal = cls(log, record, {c.name: c for c in cases}, existed=log.exists)
        if journal.existed:
            log.open()
            try:
                if resume:
                    journal._verify(log.read_back(journal._check_header))
                else:
                    log.restart()
            except BaseException:
                log.close(flush=False)
                raise
        return journal

    @property
    def path(self) -> Path:
        """The journal file."""
        return self.log.path

    @property
    def written(self) -> bool:
        """Whether the journal file exists (a batch or a header was written)."""
        return self.log.written

    def _check_header(self, header: dict[str, Any]) -> None:
        if header.get("journal") != _TAG:
            raise DatasetError(
                f"journal {str(self.path)!r}: not a segscore evaluate journal; {_REMEDY}."
            )
        record = self.record_
        found = {
            "segscore_version": header.get("segscore_version"),
            "options": header.get("options"),
        }
        if header.get("format") not in _READ_FORMATS or found != record:
            raise DatasetError(
                f"--resume: the journal {str(self.path)!r} was written with other options "
                f"({_differences(found, record) or 'format ' + repr(header.get('format'))}); "
                "rerun with the same options, or without --resume to start over."
            )

    def _verify(self, batches: list[dict[str, Any]]) -> None:
        """Keep the entries whose case is still in the input with the same files and bytes."""
        try:
            entries = [one for entry in batches for one in _unpack_entry(entry)]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"journal {str(self.path)!r}: a packed entry is malformed "
                f"({type(exc).__name__}: {exc}); {_REMEDY}."
            ) from exc
        for entry in entries:
            case = self.cases.get(str(entry.get("name")))
            if case is None or (entry.get("pred"), entry.get("target")) != (
                case.pred.name,
                case.target.name,
            ):
                self.stale += 1
                continue
            try:
                same = "target_digest" in entry and case_digest(case) == entry.get("digest")
                result = _decode(entry) if same else None
            except OSError:  # unreadable now: score it again, which reports the error
                result = None
            except (KeyError, TypeError, ValueError) as exc:
                raise DatasetError(
                    f"journal {str(self.path)!r}: case {entry.get('name')!r} is malformed "
                    f"({type(exc).__name__}: {exc}); {_REMEDY}."
                ) from exc
            if result is None:
                self.stale += 1
                continue
            self.done[case.name] = result

    def record(self, result: CaseResult | PackedBatch) -> None:
        """Add a finished case, or a packed batch's cases; write a batch when it is due.

        Failed cases are not kept.
        """
        if isinstance(result, PackedBatch):
            if any(name in self.done for name in result.names):  # not made by the runner
                for entry in _unpack_entry(_encode_packed(result, self.cases)):
                    if entry["name"] not in self.done:
                        self.log.add(entry)
            else:
                self.log.add(_encode_packed(result, self.cases), weight=len(result.names))
            return
        if result.counts is None or result.name in self.done:
            return
        self.log.add(_encode(result, self.cases[result.name]))

    def flush(self) -> None:
        """Append the pending cases as one line, flushed and fsync'd (creating the file)."""
        self.log.flush()

    def close(self, *, flush: bool = True) -> None:
        """Write what is pending (with ``flush``) and close the file, which stays on disk."""
        self.log.close(flush=flush)

    def remove(self) -> None:
        """Close and delete the journal (the outputs are written)."""
        self.log.remove()

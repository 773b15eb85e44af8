"""Find the cases of an evaluation: prediction and ground-truth files matched by stem.

A *case* is one prediction and its ground truth: two files with the same stem in two folders
(after stripping a configurable suffix such as ``_pred``), or index ``i`` of two stacked arrays
(``.npy``/``.npz`` files of shape (N, ...)).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from segscore._validation import fail
from segscore.errors import DatasetError
from segscore.io.arrays import MASK_SUFFIXES, LoadedArray, decode_array, split_suffix
from segscore.io.palette import Palette

__all__ = [
    "Case",
    "CaseSet",
    "case_digest",
    "list_mask_files",
    "match_cases",
    "names_digest",
    "read_case",
]


@dataclass(frozen=True)
class Case:
    """One prediction and its ground truth.

    Attributes
    ----------
    name : str
        Case name (the shared stem, or ``stem[i]`` for stacks).
    pred, target : Path
        The files.
    image : Path or None
        The input image, when an image folder was given.
    index : int or None
        Index into the stacks for stacked inputs; None for one file per case.
    stacked : bool
        True when PRED and GT were given as two files holding every case (N, ...), rather than
        folders: only then is the first axis read as the case axis.
    """

    name: str
    pred: Path
    target: Path
    image: Path | None = None
    index: int | None = None
    stacked: bool = False


@dataclass(frozen=True)
class CaseSet:
    """Matched cases plus the names that had no partner."""

    cases: list[Case]
    unmatched_pred: list[str] = field(default_factory=list)
    unmatched_target: list[str] = field(default_factory=list)


def read_case(
    case: Case, *, max_pixels: int, palette: Palette | None = None
) -> tuple[LoadedArray, LoadedArray, str, str]:
    """Read and decode the two files of a case; return them and the digests of their bytes.

    Each file is read once: its bytes are hashed and decoded (see
    :func:`~segscore.io.arrays.decode_array`; ``palette`` decodes RGB colour masks). The first
    digest covers both files (the one :func:`case_digest` gives); the second is the SHA-256 of
    the ground-truth file alone (hex), computed on the way: the hash of the ground truth is one
    of the two hashes the first digest is made of, so it costs nothing more.

    Raises
    ------
    DatasetError
        Naming the file: unreadable, or not decodable (see
        :func:`~segscore.io.arrays.decode_array`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(root / "p.npy", np.eye(2, dtype=np.uint8))
    >>> np.save(root / "t.npy", np.ones((2, 2), dtype=np.uint8))
    >>> case = Case("a", root / "p.npy", root / "t.npy")
    >>> pred, target, digest, target_digest = read_case(case, max_pixels=100)
    >>> pred.array.tolist(), digest == case_digest(case)
    ([[1, 0], [0, 1]], True)
    >>> import hashlib; target_digest == hashlib.sha256((root / "t.npy").read_bytes()).hexdigest()
    True
    """
    digest = hashlib.sha256()
    loaded = []
    file_digest = b""
    for path in (os.fspath(case.pred), os.fspath(case.target)):
        try:
            with open(path, "rb") as handle:  # not Path.read_bytes: its path handling costs
                data = handle.read()  # more than hashing the file
        except OSError as exc:
            raise DatasetError(
                f"file {str(path)!r}: cannot be read ({exc.strerror or exc})"
            ) from exc
        file_digest = hashlib.sha256(data).digest()  # the last one is the ground truth's
        digest.update(file_digest)
        loaded.append(decode_array(path, data, max_pixels=max_pixels, palette=palette))
    return loaded[0], loaded[1], digest.hexdigest(), file_digest.hex()


def case_digest(case: Case) -> str:
    """Return the SHA-256 digest of the case's two files (the one :func:`read_case` gives).

    Raises
    ------
    OSError
        If a file cannot be read.
    """
    digest = hashlib.sha256()
    for path in (case.pred, case.target):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def names_digest(names: Sequence[str], digests: Sequence[str]) -> str:
    """Return the SHA-256 (hex) over the cases' names and digests, in order.

    The content hash of an evaluation: ``summary.json`` records it over both files of every case
    (``inputs.hash``) and over the ground-truth files alone (``inputs.gt_hash``), so that two
    evaluations of the same ground truth can be recognised whatever their predictions.

    Examples
    --------
    >>> names_digest(["a", "b"], ["00", "ff"]) == names_digest(["a", "b"], ["00", "ff"])
    True
    >>> names_digest(["a"], ["00"]) == names_digest(["b"], ["00"])
    False
    """
    digest = hashlib.sha256()
    for name, value in zip(names, digests, strict=True):
        digest.update(name.encode("utf-8") + b"\0" + value.encode("ascii"))
    return digest.hexdigest()


def list_mask_files(folder: Path, *, role: str, suffix: str = "") -> dict[str, Path]:
    r"""Map stem (with ``suffix`` stripped) to file for the mask files of ``folder``.

    Hidden files, folders and unknown extensions are skipped. Entries that cannot be inspected
    (a symlink loop, a dangling link) are kept: reading them fails with an error naming the file
    (recorded as a failed case with ``--keep-going``), so that no case silently goes missing.
    File-name bytes that are not UTF-8, and control characters, appear as ``\xNN`` in the stem
    (the case name).

    Raises
    ------
    DatasetError
        If the folder is missing, unreadable or holds no mask file, or if two files share a stem.
    """
    if not folder.is_dir():
        what = "not found" if not folder.exists() else "not a folder"
        raise DatasetError(f"{role} folder {str(folder)!r}: {what}.")
    found: dict[str, Path] = {}
    entries = _scan(folder, role)
    # Path.iterdir makes each child from its folder without parsing the whole path again: 3x
    # cheaper than Path(entry.path) (45 ms per 10,000 files on the benchmark's machine). A file
    # that appears between the two listings is made the slow way.
    try:
        children = {child.name: child for child in folder.iterdir()}
    except OSError:  # gone or unreadable since it was scanned: every path is made from its entry
        children = {}
    for entry in entries:
        if entry.name.startswith("."):
            continue
        stem, ext = split_suffix(entry.name)
        stem = _printable_name(stem)
        if ext not in MASK_SUFFIXES:
            continue
        try:
            is_file = entry.is_file() or entry.is_symlink()
        except OSError:  # a symlink loop: kept, so that reading it fails naming the file
            is_file = True
        if not is_file:
            continue
        if suffix and stem.endswith(suffix):
            stem = stem[: -len(suffix)]
        if stem in found:
            raise DatasetError(
                f"{role} folder {str(folder)!r}: two files with the stem {stem!r}: "
                f"{found[stem].name!r} and {entry.name!r}; keep one."
            )
        found[stem] = children.get(entry.name) or Path(entry.path)
    if not found:
        raise DatasetError(
            f"{role} folder {str(folder)!r} holds no mask file ({', '.join(MASK_SUFFIXES)})."
        )
    return found


def _scan(folder: Path, role: str) -> list[os.DirEntry[str]]:
    """List a folder's entries sorted by name; an unreadable folder is a DatasetError."""
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        raise DatasetError(
            f"{role} folder {str(folder)!r}: cannot be listed ({exc.strerror or exc})."
        ) from exc


def _printable_name(stem: str) -> str:
    r"""Return a case name that is printable UTF-8 text: odd characters become ``\xNN``.

    File names on POSIX are bytes; Python keeps undecodable ones as lone surrogates, which no
    UTF-8 writer (CSV, HTML) accepts. Control characters (newline, carriage return, escape, ...)
    would break CSV rows and terminal output. Both folders are named the same way, so matching
    still works; two names that become one are reported as a duplicate stem.

    Examples
    --------
    >>> _printable_name("case\n1\x1b[31m")
    'case\\x0a1\\x1b[31m'
    """
    if stem.isascii() and stem.isprintable():  # the common case: nothing to replace
        return stem
    try:
        stem.encode("utf-8")
    except UnicodeEncodeError:
        stem = os.fsencode(stem).decode("utf-8", "backslashreplace")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in stem):
        stem = "".join(f"\\x{ord(ch):02x}" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in stem)
    return stem


def match_cases(
    pred: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    pred_suffix: str = "",
    target_suffix: str = "",
    images: str | os.PathLike[str] | None = None,
    strict: bool = False,
) -> CaseSet:
    """Match prediction and ground-truth files by stem.

    Parameters
    ----------
    pred, target : path-like
        Two folders of mask files, or two stacked ``.npy``/``.npz`` files.
    pred_suffix, target_suffix : str
        Stripped from stems before matching (``case1_pred.png`` matches ``case1.png``).
    images : path-like, optional
        A folder of input images (matched by stem; used for report overlays).
    strict : bool, default False
        Make unmatched files an error instead of a listed warning.

    Returns
    -------
    CaseSet

    Raises
    ------
    DatasetError
        Missing folders, no mask file, duplicate stems, no matched pair, or (with ``strict``)
        any unmatched file; the message lists the names.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for d, names in {"p": ["a_pred.npy", "b_pred.npy"], "g": ["a.npy", "c.npy"]}.items():
    ...     (root / d).mkdir()
    ...     for n in names:
    ...         np.save(root / d / n, np.zeros((2, 2), bool))
    >>> found = match_cases(root / "p", root / "g", pred_suffix="_pred")
    >>> [c.name for c in found.cases], found.unmatched_pred, found.unmatched_target
    (['a'], ['b'], ['c'])
    """
    pred_path, target_path = Path(pred), Path(target)
    if pred_path.is_file() or target_path.is_file():
        for role, p in (("prediction", pred_path), ("ground-truth", target_path)):
            if not p.is_file():
                raise DatasetError(
                    f"{role} {str(p)!r}: expected a stacked .npy/.npz file like the other input, "
                    f"got {'a folder' if p.is_dir() else 'nothing (not found)'}."
                )
        return CaseSet(
            [Case(_printable_name(pred_path.stem), pred_path, target_path, stacked=True)]
        )
    for option, flag, suffix in (
        ("pred_suffix", "--pred-suffix", pred_suffix),
        ("target_suffix", "--gt-suffix", target_suffix),
    ):
        stem, ext = split_suffix(suffix)
        if ext in MASK_SUFFIXES:  # '_pred.png' would never match: stems have no extension
            fail(
                f"`{option}` (`{flag}`) must be the end of a file stem, without the extension "
                f"({stem!r}), got {suffix!r}."
            )
    pred_files = list_mask_files(pred_path, role="prediction", suffix=pred_suffix)
    target_files = list_mask_files(target_path, role="ground-truth", suffix=target_suffix)
    image_files = _list_images(Path(images)) if images is not None else {}
    common = sorted(set(pred_files) & set(target_files))
    only_pred = sorted(set(pred_files) - set(target_files))
    only_target = sorted(set(target_files) - set(pred_files))
    if strict and (only_pred or only_target):
        raise DatasetError(
            "unmatched files (--strict): "
            + "; ".join(
                part
                for part in (
                    f"predictions without ground truth: {', '.join(only_pred[:10])}"
                    if only_pred
                    else "",
                    f"ground truth without prediction: {', '.join(only_target[:10])}"
                    if only_target
                    else "",
                )
                if part
            )
            + "."
        )
    if not common:
        raise DatasetError(
            f"no prediction in {str(pred_path)!r} matches a ground-truth file in "
            f"{str(target_path)!r} by stem (first stems: {sorted(pred_files)[:3]} vs "
            f"{sorted(target_files)[:3]}); check --pred-suffix."
        )
    cases = [
        Case(name, pred_files[name], target_files[name], image_files.get(name)) for name in common
    ]
    return CaseSet(cases, only_pred, only_target)


def _list_images(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DatasetError(f"image folder {str(folder)!r}: not found.")
    out: dict[str, Path] = {}
    for item in _scan(folder, "image"):
        entry = Path(item.path)
        stem, ext = split_suffix(entry.name)
        stem = _printable_name(stem)
        if ext in (".png", ".tif", ".tiff", ".bmp", ".jpg", ".jpeg") and not entry.name.startswith(
            "."
        ):
            out.setdefault(stem, entry)
    return out

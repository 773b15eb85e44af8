"""Read class names from a file: JSON, YAML (when PyYAML is installed) or plain text.

Accepted contents:

- JSON or YAML: a list of names (class id = position), or a mapping class id -> name whose ids
  are exactly ``0 .. C-1`` (in any order);
- ``.txt`` (any other suffix): one name per line; blank lines and lines starting with ``#`` are
  skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from segscore._validation import fail_file

__all__ = ["CLASS_NAME_SUFFIXES", "read_class_names"]

CLASS_NAME_SUFFIXES = (".json", ".yaml", ".yml", ".txt")
"""File name endings read as class-name files."""


def _from_structure(path: Path, data: Any) -> tuple[str, ...]:
    if isinstance(data, list):
        names = data
    elif isinstance(data, dict):
        ids: dict[int, Any] = {}
        for key, value in data.items():
            try:
                ids[int(str(key).strip()) if not isinstance(key, int) else key] = value
            except ValueError:
                fail_file(path, "map integer class ids to names", f"the key {key!r}")
        missing = sorted(set(range(len(ids))) - set(ids))
        if missing:
            fail_file(
                path,
                f"map each class id 0 .. {len(ids) - 1} to a name",
                f"ids {sorted(ids)} (missing {missing})",
            )
        names = [ids[k] for k in range(len(ids))]
    else:
        fail_file(path, "hold a list of names or a mapping id -> name", type(data).__name__)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        fail_file(path, "hold names that are strings", f"{bad[:3]!r}")
    return tuple(n.strip() for n in names)


def read_class_names(path: str | os.PathLike[str]) -> tuple[str, ...]:
    r"""Return the class names listed in ``path`` (see the module docstring for the formats).

    The names are returned as written (stripped of surrounding spaces); whether there is one per
    class is checked by :class:`~segscore.CountingOptions`.

    Raises
    ------
    DatasetError
        Naming the file: missing, unreadable, invalid JSON/YAML, ids that are not ``0 .. C-1``,
        or a YAML file without PyYAML installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "names.json").write_text('{"1": "road", "0": "background"}')
    >>> read_class_names(folder / "names.json")
    ('background', 'road')
    >>> _ = (folder / "names.txt").write_text("# classes\nbackground\n\nroad\n")
    >>> read_class_names(folder / "names.txt")
    ('background', 'road')
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail_file(path, "exist (a class-name file)", "nothing there")
    except (OSError, UnicodeDecodeError) as exc:
        fail_file(path, "be a readable UTF-8 class-name file", str(exc))
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return _from_structure(path, json.loads(text))
        except json.JSONDecodeError as exc:
            fail_file(path, "be valid JSON", str(exc))
    if suffix in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            fail_file(
                path, "be JSON or text (reading YAML needs PyYAML: pip install pyyaml)", "YAML"
            )
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            fail_file(path, "be valid YAML", " ".join(str(exc).split()))
        return _from_structure(path, data)
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))

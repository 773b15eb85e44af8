"""The value of ``--class-names``: a built-in label set, a file of names, or names in a list."""

from __future__ import annotations

from pathlib import Path

from segscore._validation import fail
from segscore.data.label_sets import LABEL_SETS
from segscore.io.class_names import CLASS_NAME_SUFFIXES, read_class_names

__all__ = ["parse_class_names"]


def parse_class_names(
    text: str | None, option: str = "--class-names"
) -> tuple[tuple[str, ...] | None, str | None]:
    """Return ``(names, label_set)`` from ``--class-names``: one of the two is None.

    ``voc``, ``cityscapes``, ``ade20k`` name a label set; a path to an existing file, or one
    ending in ``.json``, ``.yaml``, ``.yml`` or ``.txt``, is read as a file of names; anything
    else is a comma-separated list.

    Examples
    --------
    >>> parse_class_names("road, sidewalk")
    (('road', 'sidewalk'), None)
    >>> parse_class_names("cityscapes")
    (None, 'cityscapes')
    >>> parse_class_names("road,,sky")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--class-names` must be non-empty names separated by commas, a file or one of 'voc', 'cityscapes', 'ade20k', got 'road,,sky'.
    """
    if text is None:
        return None, None
    if text in LABEL_SETS:
        return None, text
    path = Path(text)
    if path.suffix.lower() in CLASS_NAME_SUFFIXES or path.is_file():
        return read_class_names(path), None
    names = tuple(n.strip() for n in text.split(","))
    if not all(names):
        fail(
            f"`{option}` must be non-empty names separated by commas, a file or one of "
            f"{', '.join(map(repr, LABEL_SETS))}, got {text!r}."
        )
    return names, None

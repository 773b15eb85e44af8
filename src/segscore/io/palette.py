"""Colour masks: map the RGB colours of a mask to class ids while it is read.

Datasets such as Pascal VOC and Cityscapes ship their labels as colour images, one colour per
class. A :class:`Palette` lists the colours and their class ids; :meth:`Palette.decode` turns an
``(H, W, 3)`` image into an ``(H, W)`` label map in one vectorised pass (each pixel's colour is
packed into a ``uint32`` code ``r << 16 | g << 8 | b`` and looked up with ``np.searchsorted``
among the palette's sorted codes). A colour that is not in the palette is an error that names the
file, the colour and one position where it occurs: a colour mask never turns silently into
wrong labels. :func:`read_palette` reads a palette from a JSON or CSV file.

Palette PNGs (mode ``P``) store the class ids themselves and are read as they are: a palette is
only applied to images with colour channels.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segscore._validation import fail, fail_file
from segscore.errors import DatasetError, InputError

__all__ = ["Palette", "read_palette"]

MAX_CLASS_ID = 2**24 - 1
"""The largest class id a palette may give (the largest ``num_classes`` accepted, less one)."""


def _colour(value: object) -> tuple[int, int, int] | None:
    """Return ``value`` as an (r, g, b) triple of ints in [0, 255], or None if it is not one."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return None
    items = list(value)
    if len(items) != 3 or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v <= 255
        for v in items
    ):
        return None
    return (int(items[0]), int(items[1]), int(items[2]))


@dataclass(frozen=True)
class Palette:
    """Colours and the class id each stands for.

    Parameters
    ----------
    name : str
        How messages name the palette (``'voc'``, a file name).
    colours : tuple of (r, g, b)
        Colours, each channel an integer in [0, 255].
    ids : tuple of int
        The class id of each colour (several colours may share an id, e.g. void classes).

    Raises
    ------
    InputError
        On a colour that is not three integers in [0, 255], a negative or too large id, lengths
        that differ, or one colour given two different ids.

    Examples
    --------
    >>> p = Palette("two", colours=((0, 0, 0), (255, 0, 0)), ids=(0, 1))
    >>> rgb = np.array([[[0, 0, 0], [255, 0, 0]]], dtype=np.uint8)
    >>> p.decode(rgb, "m.png")
    array([[0, 1]], dtype=uint8)
    >>> p.decode(np.array([[[0, 0, 0], [9, 9, 9]]], dtype=np.uint8), "m.png")
    Traceback (most recent call last):
    ...
    segscore.errors.DatasetError: file 'm.png': colour (9, 9, 9) at (row, col) (0, 1) is not in the palette 'two' (2 colours); 1 pixel(s) of 1 unknown colour(s).
    """

    name: str
    colours: tuple[tuple[int, int, int], ...]
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        colours = []
        for c in self.colours:
            rgb = _colour(c)
            if rgb is None:
                fail(f"`palette` colours must be three integers in [0, 255], got {c!r}.")
            colours.append(rgb)
        ids = []
        for k in self.ids:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
                fail(f"`palette` class ids must be integers, got {k!r}.")
            if not 0 <= k <= MAX_CLASS_ID:
                fail(f"`palette` class ids must lie in [0, {MAX_CLASS_ID}], got {k}.")
            ids.append(int(k))
        if len(colours) != len(ids) or not colours:
            fail(
                f"`palette` must give one class id per colour (at least one), got "
                f"{len(colours)} colours and {len(ids)} ids."
            )
        seen: dict[tuple[int, int, int], int] = {}
        for rgb, k in zip(colours, ids, strict=True):
            if seen.setdefault(rgb, k) != k:
                fail(
                    f"`palette` must give each colour one class id, got {rgb} for both "
                    f"{seen[rgb]} and {k}."
                )
        object.__setattr__(self, "colours", tuple(colours))
        object.__setattr__(self, "ids", tuple(ids))

    def _table(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Sorted unique colour codes and their class ids."""
        codes = np.array([(r << 16) | (g << 8) | b for r, g, b in self.colours], dtype=np.uint32)
        ids = np.array(self.ids, dtype=np.int64)
        keys, first = np.unique(codes, return_index=True)
        top = int(ids.max())
        dtype = np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int32
        return keys, ids[first].astype(dtype)

    def decode(
        self, rgb: np.ndarray[Any, Any], path: str | os.PathLike[str]
    ) -> np.ndarray[Any, Any]:
        """Return the label map of a colour image ``(H, W, 3)`` (a 4th, alpha channel is ignored).

        Raises
        ------
        DatasetError
            Naming ``path``: an image that is not (H, W, 3 or 4) of 8-bit values, or a colour
            that is not in the palette (the first one found in row-major order, its position,
            and how many pixels and colours are unknown).
        """
        image = np.asarray(rgb)
        if image.ndim != 3 or image.shape[-1] not in (3, 4) or image.dtype != np.uint8:
            raise DatasetError(
                f"file {str(path)!r}: a palette decodes 8-bit colour images (H, W, 3), got "
                f"shape {image.shape} dtype {image.dtype}"
            )
        codes = image[..., 0].astype(np.uint32) << 16
        codes |= image[..., 1].astype(np.uint32) << 8
        codes |= image[..., 2]
        keys, ids = self._table()
        index = np.searchsorted(keys, codes)
        np.minimum(index, len(keys) - 1, out=index)
        known = keys[index] == codes
        if not known.all():
            unknown = ~known
            row, col = np.unravel_index(int(np.argmax(unknown)), unknown.shape)
            colour = tuple(int(v) for v in image[row, col, :3])
            n_colours = len(np.unique(codes[unknown]))
            raise DatasetError(
                f"file {str(path)!r}: colour {colour} at (row, col) ({row}, {col}) is not in the "
                f"palette {self.name!r} ({len(keys)} colours); {int(unknown.sum())} pixel(s) of "
                f"{n_colours} unknown colour(s)."
            )
        return ids[index]


def _palette_from_json(path: Path, data: object) -> Palette:
    pairs: list[tuple[object, object]]
    if isinstance(data, list):
        pairs = list(enumerate(data))
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        fail_file(
            path, "hold a JSON list of [r, g, b] or an object id -> [r, g, b]", type(data).__name__
        )
    colours, ids = [], []
    for key, value in pairs:
        try:
            k = int(str(key).strip()) if not isinstance(key, int) else key
        except ValueError:
            fail_file(path, "have integer class ids as keys", repr(key))
        rgb = _colour(value)
        if rgb is None:
            fail_file(
                path, "give each class id a colour [r, g, b] in [0, 255]", f"{key}: {value!r}"
            )
        colours.append(rgb)
        ids.append(k)
    return _checked(path, colours, ids)


def _palette_from_csv(path: Path, text: str) -> Palette:
    colours, ids = [], []
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        try:
            values = [int(c) for c in cells]
        except ValueError:
            if number == 1:
                continue  # a header row: id,r,g,b
            fail_file(path, "hold rows id,r,g,b of integers", f"line {number}: {row!r}")
        rgb = _colour(values[1:]) if len(values) == 4 else None
        if rgb is None or values[0] < 0:
            fail_file(path, "hold rows id,r,g,b (r, g, b in [0, 255])", f"line {number}: {row!r}")
        colours.append(rgb)
        ids.append(values[0])
    return _checked(path, colours, ids)


def _checked(path: Path, colours: list[Any], ids: list[Any]) -> Palette:
    if not colours:
        fail_file(path, "list at least one colour", "none")
    try:
        return Palette(path.name, tuple(colours), tuple(ids))
    except InputError as exc:  # name the file instead of the argument
        fail_file(path, "be a valid palette", str(exc).replace("`palette` ", ""))


def read_palette(path: str | os.PathLike[str]) -> Palette:
    r"""Read a palette file of class colours.

    JSON: a list of ``[r, g, b]`` indexed by class id, or an object ``{"id": [r, g, b]}``;
    CSV: rows ``id,r,g,b`` (an optional header row). Several colours may share an id.

    Raises
    ------
    DatasetError
        Naming the file: missing, unreadable, another suffix, or content that is not a palette.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "colours.csv"
    >>> _ = path.write_text("id,r,g,b\n0,0,0,0\n1,255,255,255\n")
    >>> read_palette(path).ids
    (0, 1)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        fail_file(path, "be a palette file (.json or .csv)", f"suffix {suffix!r}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail_file(path, "exist (a palette file)", "nothing there")
    except (OSError, UnicodeDecodeError) as exc:
        fail_file(path, "be a readable UTF-8 palette file", str(exc))
    if suffix == ".csv":
        return _palette_from_csv(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        fail_file(path, "be valid JSON", str(exc))
    return _palette_from_json(path, data)

"""Read images and masks, write masks and probability maps (Pillow, imported on first use).

Formats: PNG (8- and 16-bit, gray, RGB, palette), JPEG, TIFF (including 16-bit ``I;16`` and
32-bit float) and BMP. Every failure to read a file raises a
:class:`~segscore.errors.DatasetError` whose one-line message names the file. Writers are atomic:
they write a temporary file in the target folder and move it into place with ``os.replace``, so
a reader never sees a half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from segscore._validation import (
    check_finite_probabilities,
    check_int,
    check_ndim,
    check_option,
    fail,
    fail_file,
    fail_files,
    show_values,
)

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "IMAGE_SUFFIXES",
    "MASK_LAYOUTS",
    "OXFORD_PET_IGNORE",
    "MaskLayout",
    "dataset_pairs",
    "list_input_images",
    "read_image",
    "read_mask",
    "write_mask_png",
    "write_probabilities",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
"""File name endings read as images or masks (compared in lower case)."""

MaskLayout = Literal["binary", "multiclass", "oxford-pet", "instances"]
MASK_LAYOUTS: tuple[MaskLayout, ...] = ("binary", "multiclass", "oxford-pet", "instances")
"""How mask values are read, see :func:`read_mask`."""

OXFORD_PET_IGNORE = 255
"""Mask value given to the "border" pixels of Oxford-IIIT Pet trimaps (left out of scoring)."""


def _image_files(folder: Path) -> list[Path]:
    """List the files of ``folder`` whose suffix is one of :data:`IMAGE_SUFFIXES`, sorted."""
    return sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())


def _by_stem(folder: Path) -> dict[str, Path]:
    """Image files of a folder by stem; hidden files and other suffixes are skipped."""
    by_stem: dict[str, list[Path]] = {}
    for entry in _image_files(folder):
        if not entry.name.startswith("."):
            by_stem.setdefault(entry.stem, []).append(entry)
    repeated = [", ".join(p.name for p in paths) for paths in by_stem.values() if len(paths) > 1]
    if repeated:
        fail_files("files with the same stem", [f"({r})" for r in repeated], folder)
    return {stem: paths[0] for stem, paths in by_stem.items()}


def dataset_pairs(root: str | os.PathLike[str]) -> list[tuple[str, Path, Path]]:
    """List the (name, image, mask) files of a dataset folder holding ``images/`` and ``masks/``.

    Files are paired by stem; files whose suffix is not one of :data:`IMAGE_SUFFIXES` (in any
    case), hidden files and folders are skipped. Nothing is read.

    Returns
    -------
    list of (str, Path, Path)
        Sorted by name.

    Raises
    ------
    DatasetError
        On a missing folder or subfolder, two files with the same stem, images without masks or
        masks without images (all names listed), or no pair at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "images").mkdir(); (root / "masks").mkdir()
    >>> for name in ("images/b.jpg", "images/a.PNG", "masks/a.png", "masks/b.png", "masks/.c.png"):
    ...     _ = (root / name).write_bytes(b"")
    >>> [(n, i.name, m.name) for n, i, m in dataset_pairs(root)]
    [('a', 'a.PNG', 'a.png'), ('b', 'b.jpg', 'b.png')]
    """
    folder = Path(root)
    if not folder.is_dir():
        fail_file(folder, "be a dataset folder holding images/ and masks/", "no such folder")
    for sub in ("images", "masks"):
        if not (folder / sub).is_dir():
            found = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
            fail_file(folder / sub, "exist (a dataset folder holds images/ and masks/)", f"{found}")
    images_by_stem = _by_stem(folder / "images")
    masks_by_stem = _by_stem(folder / "masks")
    lonely_images = sorted(set(images_by_stem) - set(masks_by_stem))
    lonely_masks = sorted(set(masks_by_stem) - set(images_by_stem))
    if lonely_images:
        fail_files("image without mask", [images_by_stem[s].name for s in lonely_images], folder)
    if lonely_masks:
        fail_files("mask without image", [masks_by_stem[s].name for s in lonely_masks], folder)
    if not images_by_stem:
        fail_file(
            folder,
            f"hold at least one image/mask pair ({', '.join(IMAGE_SUFFIXES)})",
            "none in images/ and masks/",
        )
    return [(name, images_by_stem[name], masks_by_stem[name]) for name in sorted(images_by_stem)]


def list_input_images(path: str | os.PathLike[str], *, name: str = "IMAGES") -> list[Path]:
    """List the image files of a folder (sorted), or the one file given.

    Parameters
    ----------
    path : path-like
        An image file (returned as is) or a folder; its files whose suffix is one of
        :data:`IMAGE_SUFFIXES` (in any case) are listed, subfolders are not searched.
    name : str, default 'IMAGES'
        How messages name the path (the command-line argument).

    Raises
    ------
    DatasetError
        If the path does not exist, or a folder holds no image file or two images with one stem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for file in ("b.png", "a.TIF", "notes.txt"):
    ...     _ = (folder / file).write_bytes(b"")
    >>> [f.name for f in list_input_images(folder)]
    ['a.TIF', 'b.png']
    """
    from segscore.errors import DatasetError

    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DatasetError(f"`{name}` must be an existing image file or folder, got {str(path)!r}.")
    files = _image_files(path)
    if not files:
        raise DatasetError(
            f"folder {str(path)!r} must hold image files ({', '.join(IMAGE_SUFFIXES)}), got none."
        )
    stems = [f.stem for f in files]
    dups = sorted({s for s in stems if stems.count(s) > 1})
    if dups:
        raise DatasetError(
            f"folder {str(path)!r} must not hold two images with one stem, got {dups[:5]}."
        )
    return files


def _require_pillow() -> None:
    try:
        import PIL  # noqa: F401
    except ImportError as exc:  # pragma: no cover - pillow is installed with the io/train extras
        raise ImportError(
            "reading and writing image files needs Pillow: pip install 'segscore[io]'"
        ) from exc


def _open(path: Path) -> Image.Image:
    """Open and decode a file fully, turning every failure into a DatasetError naming it."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        found = "a folder" if path.is_dir() else "no such file"
        fail_file(path, "be an existing image file", found)
    try:
        with Image.open(path) as img:
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                fail_file(path, "be a single-page image", f"{frames} pages")
            img.load()
            decoded: Image.Image = img.copy()
            return decoded
    except UnidentifiedImageError:
        fail_file(path, "be a PNG, JPEG, TIFF or BMP image", "a file Pillow cannot identify")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        fail_file(path, "be a readable image", f"a corrupt or truncated file ({exc})")


def _pixels(img: Image.Image, path: Path) -> NDArray[np.generic]:
    """Raw pixels of a decoded image, gray (H, W) or RGB (H, W, 3); alpha is dropped."""
    mode = img.mode
    if mode in ("L", "RGB", "F"):
        pixels: NDArray[np.generic] = np.asarray(img)
        return pixels
    if mode == "1":
        bits: NDArray[np.uint8] = np.asarray(img).astype(np.uint8) * np.uint8(255)
        return bits
    if mode.startswith("I;16"):
        return np.asarray(img).astype(np.uint16)
    if mode == "I":
        array = np.asarray(img)
        if array.size and (int(array.min()) < 0 or int(array.max()) > 65535):
            fail_file(
                path,
                "hold 32-bit integer pixels within 0..65535",
                f"values in [{int(array.min())}, {int(array.max())}]",
            )
        return array.astype(np.uint16)
    if mode in ("LA", "La"):
        return np.asarray(img.convert("L"))
    return np.asarray(img.convert("RGB"))  # P, PA, RGBA, RGBa, RGBX, CMYK, YCbCr, LAB, HSV


def read_image(path: str | os.PathLike[str]) -> NDArray[np.generic]:
    """Read the raw pixels of an image file.

    Parameters
    ----------
    path : str or os.PathLike
        A PNG, JPEG, TIFF or BMP file. Multi-page TIFFs give their first page.

    Returns
    -------
    ndarray, shape (H, W) or (H, W, 3)
        uint8 for 8-bit files, uint16 for 16-bit (``I;16``, and 32-bit integer files whose
        values fit), float32 for float TIFFs. Palette and CMYK images become RGB; an alpha channel
        is dropped; 1-bit images become uint8 {0, 255}. Values are not rescaled, see
        :func:`segscore.data.to_unit_range`.

    Raises
    ------
    DatasetError
        If the file is missing, not an image, corrupt or truncated; the message names it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.png"
    >>> Image.fromarray(np.array([[0, 150]], dtype=np.uint8)).save(path)
    >>> read_image(path)
    array([[  0, 150]], dtype=uint8)
    """
    _require_pillow()
    file = Path(path)
    return _pixels(_open(file), file)


def _single_channel(file: Path) -> NDArray[np.generic]:
    """Raw values of a one-channel mask file (palette PNGs give their indices), checked."""
    _require_pillow()
    img = _open(file)
    raw = np.asarray(img) if img.mode == "P" else _pixels(img, file)
    if raw.ndim != 2:
        fail_file(
            file,
            "be a single-channel mask (gray or palette)",
            f"a {img.mode} image of shape {raw.shape}",
        )
    if np.issubdtype(raw.dtype, np.floating) and not np.array_equal(raw, np.round(raw)):
        fail_file(file, "hold integer mask values", f"a {raw.dtype} image with fractions")
    return raw


def _check_ids(file: Path, raw: NDArray[np.generic]) -> None:
    """Refuse negative values in an instance label map (only float TIFFs can hold them)."""
    if raw.size and float(raw.min()) < 0:
        fail_file(file, "hold object ids >= 0 (0 = background)", f"minimum {float(raw.min())}")


def read_mask(
    path: str | os.PathLike[str],
    *,
    layout: MaskLayout = "binary",
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> NDArray[np.int64]:
    """Read a mask file as an int64 label map.

    Parameters
    ----------
    path : str or os.PathLike
        A single-channel PNG (8- or 16-bit gray, or palette), TIFF or BMP. A palette PNG gives
        its palette *indices*, not its colours. RGB masks are refused.
    layout : {"binary", "multiclass", "oxford-pet", "instances"}, optional
        ``"binary"``: values {0, 1} or {0, 255}; 255 becomes 1. ``"multiclass"``: labels in
        ``[0, num_classes)``, kept as they are. ``"oxford-pet"``: an Oxford-IIIT Pet trimap,
        1 = pet, 2 = background, 3 = border; read as pet 1, background 0 and border
        ``ignore_index`` (default 255, :data:`OXFORD_PET_IGNORE`), since the border band is
        ambiguous and the benchmark leaves it out. ``"instances"``: an instance label map
        (any ids >= 0, one per object, 0 = background; :func:`segscore.io.read_instances`),
        read as its binary foreground: 1 where the id is > 0.
    num_classes : int, optional
        Required for ``"multiclass"`` (at least 2); not allowed otherwise.
    ignore_index : int, optional
        A further value allowed in the file and kept (``"binary"``, ``"multiclass"``), or the
        value of border pixels (``"oxford-pet"``). For ``"binary"`` it must not be 0 or 1, and
        ``ignore_index=255`` means 255 is "ignore" rather than foreground. Not allowed with
        ``"instances"`` (every id > 0 is an object).

    Returns
    -------
    ndarray of int64, shape (H, W)

    Raises
    ------
    InputError
        For incompatible options (``num_classes`` with a layout other than ``"multiclass"``).
    DatasetError
        If the file cannot be read, has colour channels, or holds values the layout does not
        allow; the message names the file and lists the values found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.png"
    >>> Image.fromarray(np.array([[0, 255, 255]], dtype=np.uint8)).save(path)
    >>> read_mask(path)
    array([[0, 1, 1]])
    >>> Image.fromarray(np.array([[1, 2, 3]], dtype=np.uint8)).save(path)
    >>> read_mask(path, layout="oxford-pet")
    array([[  1,   0, 255]])
    >>> read_mask(path, layout="instances")
    array([[1, 1, 1]])
    """
    check_option("layout", layout, MASK_LAYOUTS)
    if layout == "multiclass":
        if num_classes is None:
            fail("`num_classes` must be given for layout 'multiclass', got None.")
        num_classes = check_int("num_classes", num_classes, low=2)
    elif num_classes is not None:
        fail(f"`num_classes` must be None for layout {layout!r}, got {num_classes!r}.")
    if ignore_index is not None:
        ignore_index = check_int("ignore_index", ignore_index, low=0)
        if layout == "binary" and ignore_index in (0, 1):
            fail(f"`ignore_index` must not be 0 or 1 for a binary mask, got {ignore_index}.")
        if layout == "multiclass" and num_classes is not None and ignore_index < num_classes:
            fail(
                f"`ignore_index` must be outside [0, {num_classes}) (a class label), "
                f"got {ignore_index}."
            )
        if layout == "oxford-pet" and ignore_index in (0, 1):
            fail(f"`ignore_index` must not be 0 or 1 for layout 'oxford-pet', got {ignore_index}.")
        if layout == "instances":
            fail(f"`ignore_index` must be None for layout 'instances', got {ignore_index}.")

    file = Path(path)
    raw = _single_channel(file)
    if layout == "instances":
        _check_ids(file, raw)
        ids = raw.astype(np.int64)
        foreground: NDArray[np.int64] = (ids > 0).astype(np.int64)  # every object id, explicitly
        return foreground
    values = np.unique(raw).astype(np.int64)
    mask = raw.astype(np.int64)
    if layout == "binary":
        extra = {ignore_index} if ignore_index is not None else set()
        found = set(values.tolist())
        if found <= {0, 1} | extra:
            return mask
        if found <= {0, 255} | extra and ignore_index != 255:
            return np.where(mask == 255, 1, mask)
        allowed = "{0, 1} or {0, 255}" + ("" if ignore_index is None else f" and {ignore_index}")
        fail_file(
            file,
            f"hold a binary mask with values {allowed}",
            f"values {show_values(values)} (for label maps use layout 'multiclass')",
        )
    if layout == "multiclass":
        assert num_classes is not None
        bad = values[
            (values >= num_classes) & (values != (-1 if ignore_index is None else ignore_index))
        ]
        if bad.size:
            suffix = "" if ignore_index is None else f" or {ignore_index}"
            fail_file(
                file,
                f"hold labels in [0, {num_classes}){suffix}",
                f"values {show_values(values)}",
            )
        return mask
    # oxford-pet
    if not set(values.tolist()) <= {1, 2, 3}:
        fail_file(
            file,
            "be an Oxford-IIIT Pet trimap with values 1 (pet), 2 (background), 3 (border)",
            f"values {show_values(values)}",
        )
    border = OXFORD_PET_IGNORE if ignore_index is None else ignore_index
    lut = np.array([0, 1, 0, border], dtype=np.int64)
    return lut[mask]


def _atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    from segscore.io.results import atomic_open

    with atomic_open(path) as handle:
        write(handle)


def write_mask_png(path: str | os.PathLike[str], mask: NDArray[np.generic]) -> None:
    """Write a label map as a PNG, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; parent folders are created.
    mask : ndarray of bool or int, shape (H, W)
        Values are written as they are: 8-bit gray when all lie in 0..255, else 16-bit gray
        (up to 65535). bool masks are written as {0, 255} so that they are visible in a viewer;
        :func:`read_mask` reads both {0, 1} and {0, 255} back as {0, 1}.

    Raises
    ------
    InputError
        If ``mask`` is not 2-D or holds values outside 0..65535 or non-integers.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out" / "m.png"
    >>> write_mask_png(path, np.array([[0, 1], [1, 0]]))
    >>> read_mask(path)
    array([[0, 1],
           [1, 0]])
    """
    array = np.asarray(mask)
    check_ndim("mask", array.shape, (2,), "(H, W)")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * np.uint8(255)
    elif not np.issubdtype(array.dtype, np.integer):
        fail(f"`mask` must have an integer or bool dtype, got {array.dtype}.")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 65535:
            fail(f"`mask` must have values in 0..65535 to be stored as PNG, got [{low}, {high}].")
    else:
        high = 0
    from PIL import Image

    if high <= 255:
        img = Image.fromarray(array.astype(np.uint8))
    else:
        img = Image.fromarray(array.astype(np.uint16))  # mode I;16
    _atomic_write(Path(path), lambda handle: img.save(handle, format="PNG"))


def write_probabilities(
    path: str | os.PathLike[str],
    prob: NDArray[np.floating],
    fmt: Literal["npy", "tiff"] | None = None,
) -> None:
    """Write a probability map as float32, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; parent folders are created.
    prob : ndarray of float, shape (H, W) or (C, H, W)
        Probabilities in [0, 1].
    fmt : {"npy", "tiff"}, optional
        ``"npy"``: ``numpy.save`` of the float32 array, shape kept. ``"tiff"``: 32-bit float TIFF,
        one page per channel (``C`` pages for (C, H, W)). Default: from the suffix of ``path``
        (``.npy``, ``.tif`` or ``.tiff``).

    Raises
    ------
    InputError
        If ``prob`` has the wrong shape, non-finite values or values outside [0, 1], or ``fmt``
        is neither given nor implied by the suffix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.npy"
    >>> write_probabilities(path, np.array([[0.25, 1.0]]))
    >>> np.load(path)
    array([[0.25, 1.  ]], dtype=float32)
    """
    file = Path(path)
    if fmt is None:
        suffix = file.suffix.lower()
        inferred = {".npy": "npy", ".tif": "tiff", ".tiff": "tiff"}.get(suffix)
        if inferred is None:
            fail(
                "`fmt` must be 'npy' or 'tiff', or `path` must end in .npy, .tif or .tiff, "
                f"got fmt=None and {file.name!r}."
            )
        fmt = "npy" if inferred == "npy" else "tiff"
    check_option("fmt", fmt, ("npy", "tiff"))
    array = np.asarray(prob)
    check_ndim("prob", array.shape, (2, 3), "(H, W) or (C, H, W)")
    if not np.issubdtype(array.dtype, np.floating):
        fail(f"`prob` must have a float dtype, got {array.dtype}.")
    finite = np.isfinite(array)
    n_nonfinite = int(array.size - np.count_nonzero(finite))
    low = float(array[finite].min()) if n_nonfinite < array.size else 0.0
    high = float(array[finite].max()) if n_nonfinite < array.size else 0.0
    check_finite_probabilities("prob", low, high, n_nonfinite)
    data = np.ascontiguousarray(array, dtype=np.float32)
    if fmt == "npy":
        _atomic_write(file, lambda handle: np.save(handle, data))
        return
    from PIL import Image

    pages = [Image.fromarray(page) for page in (data if data.ndim == 3 else [data])]

    def save(handle: IO[bytes]) -> None:
        pages[0].save(handle, format="TIFF", save_all=len(pages) > 1, append_images=pages[1:])

    _atomic_write(file, save)

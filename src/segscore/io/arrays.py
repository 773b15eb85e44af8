"""Read mask and probability files as the arrays they store (no rescaling, no binarising).

This is the reader of ``segscore evaluate``: a label PNG gives its labels, a palette PNG its palette
indices, a 16-bit PNG its 16-bit values, a float TIFF its probabilities, a NIfTI file its voxels
and its voxel spacing. What the values mean is decided later by :func:`segscore.confusion`, which
validates them. Every failure is a :class:`~segscore.errors.DatasetError` naming the file.

Formats: PNG, TIFF, BMP (Pillow; 8-bit grayscale PNG through pyspng when installed, about twice as
fast), NPY, NPZ (exactly one array), NIfTI ``.nii``/``.nii.gz`` (nibabel, the ``nifti`` extra).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segscore.errors import DatasetError

__all__ = [
    "MASK_SUFFIXES",
    "LoadedArray",
    "decode_array",
    "read_array",
    "split_suffix",
]

MASK_SUFFIXES = (".png", ".tif", ".tiff", ".bmp", ".npy", ".npz", ".nii", ".nii.gz")
"""File name endings read by :func:`read_array` (compared in lower case)."""

MAX_PIXELS_DEFAULT = 512 * 1024 * 1024
"""Largest image (pixels) decoded by default: a guard against decompression bombs."""


@dataclass(frozen=True)
class LoadedArray:
    """An array read from a file, with the voxel spacing the file declares (if any)."""

    array: np.ndarray[Any, Any]
    spacing: tuple[float, ...] | None = None


def split_suffix(name: str) -> tuple[str, str]:
    """Split a file name into stem and known suffix (``.nii.gz`` counts as one suffix).

    Examples
    --------
    >>> split_suffix("case_01.nii.gz")
    ('case_01', '.nii.gz')
    >>> split_suffix("a.b.PNG")
    ('a.b', '.png')
    """
    lower = name.lower()
    if lower.endswith(".nii.gz"):
        return name[: -len(".nii.gz")], ".nii.gz"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return name, ""
    return stem, "." + ext.lower()


def _bad(path: str | os.PathLike[str], problem: str) -> DatasetError:
    return DatasetError(f"file {str(path)!r}: {problem}")


def _decode_png_fast(data: bytes) -> np.ndarray[Any, Any] | None:
    """Decode an 8-bit grayscale, non-interlaced PNG with pyspng; None when not applicable."""
    # IHDR: bit depth at byte 24, colour type at 25, interlace at 28.
    if len(data) < 29 or data[24] != 8 or data[25] != 0 or data[28] != 0:
        return None
    try:
        import pyspng
    except ImportError:
        return None
    try:
        return np.asarray(pyspng.load(data))
    except RuntimeError:
        return None  # let Pillow produce the error message


def _decode_pillow(
    path: str | os.PathLike[str], data: bytes, max_pixels: int
) -> np.ndarray[Any, Any]:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - pillow is in every extra that reads images
        raise _bad(path, "reading images needs Pillow: pip install 'segscore[io]'") from exc
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            previous = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = max_pixels
            try:
                with Image.open(io.BytesIO(data)) as img:
                    width, height = img.size
                    if width * height > max_pixels:
                        raise _bad(
                            path,
                            f"image of {width}x{height} pixels exceeds the limit of {max_pixels} "
                            "pixels (a decompression bomb?); raise the limit to read it",
                        )
                    mode = img.mode
                    if mode in ("RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "LA", "PA"):
                        raise _bad(
                            path,
                            f"expected a single-channel mask (grayscale, label or palette), "
                            f"got a {mode} image",
                        )
                    # A palette image gives its stored indices (the labels), not colours.
                    array = np.asarray(img)
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except DatasetError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bad(path, f"refused as a possible decompression bomb ({exc})") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _bad(path, f"cannot be decoded as an image ({exc})") from exc
    if mode == "1":
        return array.astype(bool)
    if mode.startswith("I;16"):
        return array.astype(np.uint16)
    return array


def _decode_npz(path: str | os.PathLike[str], data: bytes) -> np.ndarray[Any, Any]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        keys = list(archive.keys())
        if len(keys) != 1:
            raise _bad(path, f"expected exactly one array in the .npz, got {len(keys)}: {keys[:5]}")
        return np.asarray(archive[keys[0]])


def _read_nifti(path: str | os.PathLike[str]) -> LoadedArray:
    try:
        import nibabel
    except ImportError as exc:
        raise _bad(path, "reading NIfTI needs nibabel: pip install 'segscore[nifti]'") from exc
    try:
        img: Any = nibabel.load(os.fspath(path))
        array = np.asarray(img.dataobj)
        zooms = tuple(float(z) for z in img.header.get_zooms()[: array.ndim])
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise _bad(path, f"cannot be read as NIfTI ({type(exc).__name__}: {exc})") from exc
    return LoadedArray(array, zooms)


def decode_array(
    path: str | os.PathLike[str], data: bytes, *, max_pixels: int = MAX_PIXELS_DEFAULT
) -> LoadedArray:
    """Decode the bytes ``data`` of the file ``path`` (the suffix picks the format).

    Raises
    ------
    DatasetError
        On an unknown suffix, an empty, corrupt or oversized file, or a multi-channel image.
    """
    _, suffix = split_suffix(Path(path).name)
    if suffix not in MASK_SUFFIXES:
        raise _bad(
            path, f"unknown mask format {suffix!r}; expected one of {', '.join(MASK_SUFFIXES)}"
        )
    if not data:
        raise _bad(path, "the file is empty (0 bytes)")
    try:
        if suffix == ".npy":
            return LoadedArray(np.asarray(np.load(io.BytesIO(data), allow_pickle=False)))
        if suffix == ".npz":
            return LoadedArray(_decode_npz(path, data))
    except DatasetError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise _bad(path, f"cannot be read as {suffix} ({exc})") from exc
    if suffix in (".nii", ".nii.gz"):
        return _read_nifti(path)
    if suffix == ".png":
        fast = _decode_png_fast(data)
        if fast is not None:
            return LoadedArray(fast)
    return LoadedArray(_decode_pillow(path, data, max_pixels))


def read_array(
    path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS_DEFAULT
) -> LoadedArray:
    """Read a mask, label map or probability map file as stored.

    Parameters
    ----------
    path : path-like
        A ``.png``, ``.tif``/``.tiff``, ``.bmp``, ``.npy``, ``.npz`` or ``.nii``/``.nii.gz`` file.
    max_pixels : int, optional
        Images declaring more pixels are refused (decompression-bomb guard).

    Returns
    -------
    LoadedArray
        The array (dtype as stored: bool, uint8, uint16, float32, ...) and the spacing for NIfTI.

    Raises
    ------
    DatasetError
        Naming the file: missing, unreadable, empty, corrupt, oversized, multi-channel.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(folder / "m.npy", np.eye(3, dtype=np.uint8))
    >>> read_array(folder / "m.npy").array.sum()
    np.uint64(3)
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise _bad(path, "not found") from exc
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from exc
    return decode_array(path, data, max_pixels=max_pixels)

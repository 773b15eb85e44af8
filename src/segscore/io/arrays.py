"""Read mask and probability files as the arrays they store (no rescaling, no binarising).

This is the reader of ``segscore evaluate``: a label PNG gives its labels, a palette PNG its palette
indices, a 16-bit PNG its 16-bit values, a float TIFF its probabilities, a NIfTI file its voxels
and its voxel spacing. What the values mean is decided later by :func:`segscore.confusion`, which
validates them. Every failure is a :class:`~segscore.errors.DatasetError` naming the file.

Formats: PNG, TIFF, BMP (Pillow; 8-bit grayscale PNG through libdeflate or pyspng when installed,
4x or 2x as fast), NPY, NPZ (exactly one array), NIfTI ``.nii``/``.nii.gz`` (nibabel, the ``nifti`` extra).

Hostile files: every format is decoded from the bytes already read (the file is read once), and
the size an image *declares* (PNG/TIFF/BMP header, ``.npy`` header, NIfTI ``dim``) is checked
against ``max_pixels`` before any pixel buffer is allocated or decompressed. ``.npy``/``.npz``
files are read without pickle, and only bool, integer and float arrays are accepted. Whatever a
third-party decoder raises on a corrupt file becomes a ``DatasetError`` naming the file; see
``docs/bad-input.md``.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from segscore.errors import DatasetError
from segscore.io.files import read_bytes
from segscore.io.palette import Palette
from segscore.io.png import decode_any_gray8, png_header

__all__ = [
    "MASK_SUFFIXES",
    "LoadedArray",
    "decode_array",
    "describe_geometry",
    "geometry_mismatch",
    "read_array",
    "split_suffix",
]

MASK_SUFFIXES = (".png", ".tif", ".tiff", ".bmp", ".npy", ".npz", ".nii", ".nii.gz")
"""File name endings read by :func:`read_array` (compared in lower case)."""

MAX_PIXELS_DEFAULT = 512 * 1024 * 1024
"""Largest image (pixels) decoded by default: a guard against decompression bombs.

For ``.npy``, ``.npz`` and NIfTI files the limit applies to the number of array elements."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PILLOW_MODES = ("1", "L", "P", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")
"""Single-channel Pillow modes read as masks; every other mode has colour or alpha channels."""
_COLOUR_MODES = ("RGB", "RGBA")
"""Pillow modes decoded through a palette (colour masks), when one is given."""
_NPY_KINDS = "biuf"
"""dtype kinds accepted from .npy/.npz/NIfTI: bool, signed and unsigned integers, floats."""


@dataclass(frozen=True)
class LoadedArray:
    """An array read from a file, with the geometry the file declares (if any).

    Attributes
    ----------
    array : ndarray
        The values as stored.
    spacing : tuple of float or None
        Voxel spacing in numpy axis order (NIfTI zooms).
    affine : tuple of tuple of float or None
        The 4 x 4 voxel-to-world matrix (NIfTI): orientation and origin.
    spacing_unit : str or None
        The unit of ``spacing`` (NIfTI ``xyzt_units``): ``'mm'``, ``'µm'`` or ``'m'``; a header
        that leaves it unknown is read as ``'mm'``, NIfTI's customary unit.
    """

    array: np.ndarray[Any, Any]
    spacing: tuple[float, ...] | None = None
    affine: tuple[tuple[float, ...], ...] | None = None
    spacing_unit: str | None = None


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


def _describe(exc: BaseException) -> str:
    """``TypeName: message`` on one line, for errors raised by third-party decoders."""
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", " ".join(str(exc).split()))  # no object addresses
    if len(text) > 200:
        text = text[:200] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _too_large(path: str | os.PathLike[str], what: str, n: int, max_pixels: int) -> DatasetError:
    return _bad(
        path,
        f"{what} declares {n} pixels, more than the limit of {max_pixels} (a decompression "
        "bomb?); raise --max-pixels to read it",
    )


# --- PNG, TIFF, BMP ---------------------------------------------------------------------------


def _decode_png_fast(
    path: str | os.PathLike[str], data: bytes, max_pixels: int
) -> np.ndarray[Any, Any] | None:
    """Decode an 8-bit grayscale, non-interlaced PNG; None when not applicable.

    The plainest such files go through :func:`segscore.io.png.decode_gray8` (libdeflate), the
    others through pyspng. The size declared in IHDR is checked against ``max_pixels`` before
    anything is allocated.
    """
    header = png_header(data)
    if header is None:
        return None
    width, height, depth, colour, interlace = header
    if width * height > max_pixels:
        raise _too_large(path, f"PNG header ({width}x{height})", width * height, max_pixels)
    if depth != 8 or colour != 0 or interlace != 0:
        return None
    return decode_any_gray8(data)


def _decode_pillow(
    path: str | os.PathLike[str], data: bytes, max_pixels: int, palette: Palette | None = None
) -> np.ndarray[Any, Any]:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as exc:  # pragma: no cover - pillow is in every extra that reads images
        raise _bad(path, "reading images needs Pillow: pip install 'segscore[io]'") from exc

    try:
        with warnings.catch_warnings():
            # Pillow warns about odd metadata (corrupt EXIF, ...); the pixels decide.
            warnings.simplefilter("ignore")
            previous = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # our own check below names the limit and the flag
            try:
                with Image.open(io.BytesIO(data)) as img:
                    width, height = img.size
                    if width * height > max_pixels:
                        raise _too_large(
                            path, f"image header ({width}x{height})", width * height, max_pixels
                        )
                    frames = int(getattr(img, "n_frames", 1))
                    if frames > 1:
                        raise _bad(
                            path,
                            f"expected a single-page mask, got {frames} pages (only the first "
                            "would be read); save volumes as NIfTI or .npy",
                        )
                    mode = img.mode
                    colour = palette is not None and mode in _COLOUR_MODES
                    if mode not in _PILLOW_MODES and not colour:
                        hint = (
                            "" if mode not in _COLOUR_MODES else " (colour masks: pass a palette)"
                        )
                        raise _bad(
                            path,
                            f"expected a single-channel mask (grayscale, label or palette), "
                            f"got a {mode} image{hint}",
                        )
                    # A palette image gives its stored indices (the labels), not colours.
                    img.load()
                    array = np.asarray(img)
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except DatasetError:
        raise
    except UnidentifiedImageError as exc:
        raise _bad(path, "cannot be decoded as an image (not a PNG, TIFF or BMP file)") from exc
    except MemoryError as exc:
        raise _bad(path, "cannot be decoded as an image (out of memory)") from exc
    except Exception as exc:  # Pillow raises many types on hostile files
        raise _bad(path, f"cannot be decoded as an image ({_describe(exc)})") from exc
    if colour:
        assert palette is not None
        return palette.decode(array, path)
    if array.ndim != 2:
        raise _bad(path, f"expected a single-channel mask, got pixels of shape {array.shape}")
    if mode == "1":
        return array.astype(bool)
    if mode.startswith("I;16"):
        return array.astype(np.uint16)
    return array


# --- NPY, NPZ ---------------------------------------------------------------------------------


def _npy_header(
    path: str | os.PathLike[str], stream: IO[bytes], max_pixels: int
) -> tuple[np.dtype[Any], tuple[int, ...], bool, int]:
    """Parse and check a .npy header: dtype, shape, Fortran order, number of data bytes."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise _bad(path, f"unsupported .npy format version {version[0]}.{version[1]}")
    except DatasetError:
        raise
    except Exception as exc:  # ValueError, SyntaxError, EOFError, ... from the header parser
        raise _bad(path, f"cannot be read as .npy ({_describe(exc)})") from exc
    if dtype.kind not in _NPY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise _bad(
            path, f"expected a bool, integer or float array, got dtype {dtype.str!r} ({dtype})"
        )
    n = math.prod(int(s) for s in shape)
    if n > max_pixels:
        raise _too_large(path, f".npy header (shape {tuple(shape)})", n, max_pixels)
    return dtype, tuple(int(s) for s in shape), bool(fortran), n * dtype.itemsize


def _npy_from_stream(
    path: str | os.PathLike[str], stream: IO[bytes], max_pixels: int
) -> np.ndarray[Any, Any]:
    dtype, shape, fortran, nbytes = _npy_header(path, stream, max_pixels)
    payload = stream.read(nbytes + 1)
    if len(payload) != nbytes:
        raise _bad(
            path,
            f"the .npy header declares {nbytes} bytes of array data (shape {shape}, "
            f"dtype {dtype.str}), the file holds {len(payload)}"
            + (" or more" if len(payload) > nbytes else "")
            + " (truncated or corrupt)",
        )
    array = np.frombuffer(payload, dtype=dtype, count=nbytes // dtype.itemsize if nbytes else 0)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.ascontiguousarray(array, dtype=dtype.newbyteorder("="))


def _decode_npz(path: str | os.PathLike[str], data: bytes, max_pixels: int) -> np.ndarray[Any, Any]:
    try:
        import zipfile  # here: with threading, ~4 ms of every command's start-up

        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = [m.filename for m in members[:5]]
                raise _bad(
                    path, f"expected exactly one array in the .npz, got {len(members)}: {names}"
                )
            with archive.open(members[0]) as stream:
                return _npy_from_stream(path, stream, max_pixels)
    except DatasetError:
        raise
    except MemoryError as exc:
        raise _bad(path, "cannot be read as .npz (out of memory)") from exc
    except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError (compression), ...
        raise _bad(path, f"cannot be read as .npz ({_describe(exc)})") from exc


# --- NIfTI ------------------------------------------------------------------------------------


def _nifti_bytes(path: str | os.PathLike[str], data: bytes, gz: bool, max_pixels: int) -> bytes:
    """Return the uncompressed NIfTI bytes, decompressing no more than the header declares."""
    if not gz:
        return data
    import gzip

    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            head = stream.read(544)
            _, nbytes, offset = _nifti_extent(path, head, max_pixels)
            rest = stream.read(max(0, offset + nbytes - len(head)) + 1)
    except DatasetError:
        raise
    except Exception as exc:  # BadGzipFile, EOFError, zlib.error
        raise _bad(path, f"cannot be decompressed as .nii.gz ({_describe(exc)})") from exc
    return head + rest


def _nifti_extent(
    path: str | os.PathLike[str], head: bytes, max_pixels: int
) -> tuple[int, int, int]:
    """Return the voxels, data bytes and data offset declared by a NIfTI-1/2 header."""
    if len(head) < 348:
        raise _bad(path, f"too short for a NIfTI header ({len(head)} bytes)")
    for order in ("<", ">"):
        (size,) = struct.unpack(order + "i", head[:4])
        if size == 348:
            dims = struct.unpack(order + "8h", head[40:56])
            (bitpix,) = struct.unpack(order + "h", head[72:74])
            (offset_f,) = struct.unpack(order + "f", head[108:112])
            offset = int(offset_f) if math.isfinite(offset_f) and offset_f >= 0 else 0
            break
        if size == 540 and len(head) >= 540:
            dims = struct.unpack(order + "8q", head[16:80])
            (bitpix,) = struct.unpack(order + "h", head[14:16])
            (offset,) = struct.unpack(order + "q", head[168:176])
            break
    else:
        raise _bad(path, "not a NIfTI-1 or NIfTI-2 file (header size is neither 348 nor 540)")
    ndim = dims[0]
    if not 1 <= ndim <= 7 or any(d < 0 for d in dims[1 : ndim + 1]):
        raise _bad(path, f"the NIfTI header declares an invalid shape (dim = {list(dims)})")
    n = math.prod(dims[1 : ndim + 1])
    if n > max_pixels:
        shape = tuple(dims[1 : ndim + 1])
        raise _too_large(path, f"NIfTI header (shape {shape})", n, max_pixels)
    return n, n * max(1, bitpix // 8), max(0, offset)


_NIFTI_UNITS = {"mm": "mm", "micron": "µm", "meter": "m"}
"""NIfTI spatial units (nibabel's names) and how segscore writes them; others are read as mm."""


def _decode_nifti(
    path: str | os.PathLike[str], data: bytes, gz: bool, max_pixels: int
) -> LoadedArray:
    try:
        import nibabel
    except ImportError as exc:
        raise _bad(path, "reading NIfTI needs nibabel: pip install 'segscore[nifti]'") from exc
    raw = _nifti_bytes(path, data, gz, max_pixels)
    _, nbytes, offset = _nifti_extent(path, raw[:544], max_pixels)
    if len(raw) < offset + nbytes:
        raise _bad(
            path,
            f"the NIfTI header declares {nbytes} bytes of voxel data at offset {offset}, the "
            f"file holds {max(0, len(raw) - offset)} (truncated or corrupt)",
        )
    import logging

    nib_logger = logging.getLogger("nibabel")
    level = nib_logger.level
    try:
        nib_logger.setLevel(logging.CRITICAL)  # header "fixes" are logged; the checks below decide
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (size,) = struct.unpack("<i", raw[:4])
            kind: Any = nibabel.Nifti1Image if size in (348, 0x5C010000) else nibabel.Nifti2Image
            img: Any = kind.from_bytes(raw)
            dtype = np.dtype(img.get_data_dtype())
            if dtype.kind not in _NPY_KINDS or dtype.fields is not None:
                raise _bad(path, f"expected integer or float voxels, got dtype {dtype}")
            array = np.asarray(img.dataobj)
            zooms = tuple(float(z) for z in img.header.get_zooms()[: array.ndim])
            affine = tuple(tuple(float(v) for v in row) for row in np.asarray(img.affine))
            unit = _NIFTI_UNITS.get(str(img.header.get_xyzt_units()[0]), "mm")
    except DatasetError:
        raise
    except MemoryError as exc:
        raise _bad(path, "cannot be read as NIfTI (out of memory)") from exc
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise _bad(path, f"cannot be read as NIfTI ({_describe(exc)})") from exc
    finally:
        nib_logger.setLevel(level)
    if array.dtype.kind not in _NPY_KINDS:
        raise _bad(path, f"expected integer or float voxels, got dtype {array.dtype}")
    return LoadedArray(array, zooms, affine, unit)


# --- Entry points -----------------------------------------------------------------------------


def decode_array(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    max_pixels: int = MAX_PIXELS_DEFAULT,
    palette: Palette | None = None,
) -> LoadedArray:
    """Decode the bytes ``data`` of the file ``path`` (the suffix picks the format).

    The file is not opened again: ``data`` is all that is decoded. With a ``palette``, RGB(A)
    images are colour masks: each colour becomes its class id
    (:meth:`~segscore.io.palette.Palette.decode`); single-channel images (grayscale, label and
    palette PNGs) and arrays are read as without one.

    Raises
    ------
    DatasetError
        On an unknown suffix, an empty, truncated, corrupt or oversized file (more than
        ``max_pixels`` pixels or array elements declared), a multi-channel image, or an array
        that is not bool, integer or float (object, string, structured dtypes are refused), or a
        colour that is not in ``palette``.

    Examples
    --------
    >>> decode_array("m.png", b"GIF89a")
    Traceback (most recent call last):
    ...
    segscore.errors.DatasetError: file 'm.png': cannot be decoded as an image (not a PNG, TIFF or BMP file)
    """
    _, suffix = split_suffix(os.path.basename(os.fspath(path)))
    if suffix not in MASK_SUFFIXES:
        raise _bad(
            path, f"unknown mask format {suffix!r}; expected one of {', '.join(MASK_SUFFIXES)}"
        )
    if not data:
        raise _bad(path, "the file is empty (0 bytes)")
    if suffix == ".npy":
        try:
            return LoadedArray(_npy_from_stream(path, io.BytesIO(data), max_pixels))
        except MemoryError as exc:
            raise _bad(path, "cannot be read as .npy (out of memory)") from exc
    if suffix == ".npz":
        return LoadedArray(_decode_npz(path, data, max_pixels))
    if suffix in (".nii", ".nii.gz"):
        return _decode_nifti(path, data, suffix == ".nii.gz", max_pixels)
    if suffix == ".png":
        fast = _decode_png_fast(path, data, max_pixels)
        if fast is not None:
            return LoadedArray(fast)
    return LoadedArray(_decode_pillow(path, data, max_pixels, palette))


def read_array(
    path: str | os.PathLike[str],
    *,
    max_pixels: int = MAX_PIXELS_DEFAULT,
    palette: Palette | None = None,
) -> LoadedArray:
    """Read a mask, label map or probability map file as stored.

    Parameters
    ----------
    path : path-like
        A ``.png``, ``.tif``/``.tiff``, ``.bmp``, ``.npy``, ``.npz`` or ``.nii``/``.nii.gz`` file.
    max_pixels : int, optional
        Images declaring more pixels are refused (decompression-bomb guard).
    palette : Palette, optional
        Decode RGB(A) colour masks to class ids (see :func:`decode_array`).

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
        data = read_bytes(path)
    except FileNotFoundError as exc:
        raise _bad(path, "not found") from exc
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from exc
    return decode_array(path, data, max_pixels=max_pixels, palette=palette)


def describe_geometry(loaded: LoadedArray) -> str:
    """Return a file's declared geometry in words (shape, spacing, origin, orientation).

    Examples
    --------
    >>> describe_geometry(LoadedArray(np.zeros((2, 3)), (0.5, 1.0)))
    'shape (2, 3), spacing (0.5, 1)'
    """
    parts = [f"shape {tuple(loaded.array.shape)}"]
    if loaded.spacing is not None:
        parts.append("spacing (" + ", ".join(f"{s:g}" for s in loaded.spacing) + ")")
    if loaded.affine is not None:
        a = np.asarray(loaded.affine)
        parts.append("origin (" + ", ".join(f"{v:g}" for v in a[:3, 3]) + ")")
        try:
            import nibabel

            codes = nibabel.aff2axcodes(a)  # type: ignore[no-untyped-call]
            parts.append("orientation " + "".join(codes))
        except (ImportError, ValueError):  # pragma: no cover - nibabel read the file
            pass
    return ", ".join(parts)


def geometry_mismatch(pred: LoadedArray, target: LoadedArray) -> str | None:
    """Say how two files' declared geometries differ (shape, spacing, orientation, origin); None if not.

    Tolerances (as nnU-Net's checks): spacing and the direction matrix to a relative 1e-4,
    the origin to 1e-3 of the smallest spacing. Files that declare no geometry (PNG, NPY)
    are compared by shape only.

    Examples
    --------
    >>> a = LoadedArray(np.zeros((2, 2, 2)), (1.0, 1.0, 1.0))
    >>> geometry_mismatch(a, LoadedArray(np.zeros((2, 2, 2)), (1.0, 1.0, 3.0)))
    'spacing'
    >>> geometry_mismatch(a, a) is None
    True
    """
    if pred.array.shape != target.array.shape:
        return "shape"
    if (
        pred.spacing is not None
        and target.spacing is not None
        and not np.allclose(pred.spacing, target.spacing, rtol=1e-4, atol=0.0)
    ):
        return "spacing"
    if pred.affine is not None and target.affine is not None:
        a, b = np.asarray(pred.affine), np.asarray(target.affine)
        scale_a = np.linalg.norm(a[:3, :3], axis=0)
        scale_b = np.linalg.norm(b[:3, :3], axis=0)
        if np.all(scale_a > 0) and np.all(scale_b > 0):
            if not np.allclose(a[:3, :3] / scale_a, b[:3, :3] / scale_b, rtol=0, atol=1e-4):
                return "orientation"
            tolerance = 1e-3 * float(min(scale_a.min(), scale_b.min()))
            if not np.allclose(a[:3, 3], b[:3, 3], rtol=0, atol=tolerance):
                return "origin"
    return None

"""8-bit grayscale PNG masks decoded at the speed of inflating them: libdeflate and a C unfilter.

A 512×512 mask PNG spends almost all of its decoding time in zlib's inflate (pyspng: ~510 us, of
which zlib ~470 us, measured on this project's machine). libdeflate inflates the same stream
about 10x faster. :func:`decode_gray8` walks the chunks, checks every CRC, inflates the image
data with libdeflate (the ``deflate`` package, which also checks the zlib stream's Adler-32) and
undoes the scanline filters in C (``segscore.io._cpng``): about 130 us for such a mask.

It is deliberately narrow. It decodes only the plainest files: an 8-bit grayscale, non-interlaced
PNG whose chunks are IHDR, one or more consecutive IDAT and a final IEND, with nothing after IEND,
every CRC right, a zlib stream that inflates to exactly the declared scanlines, and filter types
0-4. For anything else (ancillary chunks, a bad checksum, trailing data, a short stream, ...) it
returns None and the caller decodes the file with pyspng or Pillow as before, so a file this
decoder accepts decodes to the same pixels as with pyspng (tested on every filter type and on
crafted files, ``tests/io/test_png.py``), and every file it declines keeps the behaviour and the
error messages it had.

One known difference, by libdeflate's design ("more accepting than zlib, in a safe way", for
speed; libdeflate issue #288): a deflate stream that breaks RFC 1951 in ways zlib rejects (the
reserved length symbols 286-287 or distance symbols 30-31 used, more than 286/30 codes declared
in a dynamic block, a one-code Huffman table used through its unused codeword) is inflated as
libdeflate reads it, where pyspng raises "IDAT stream error". No encoder writes such streams
(Pillow, OpenCV, imageio, zlib and libdeflate at every level were checked), and the file's CRCs
and Adler-32 must still be right, so only a file crafted for it gets there; found by fuzzing
(about 1 in 30,000 random changes of the zlib data with the checksums recomputed).
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

_inflate: Callable[[Any, int], bytearray] | None
_crc32: Callable[[Any], int] = zlib.crc32
try:
    from deflate import crc32 as _crc32  # libdeflate's CRC-32: 3-4x zlib's here, same values
    from deflate import zlib_decompress as _inflate
except ImportError:  # the io extra's `deflate`; without it callers use pyspng or Pillow
    _inflate = None
try:
    from segscore.io import _cpng
except ImportError:  # built with the package where a C compiler was found
    _cpng = None

__all__ = ["AVAILABLE", "decode_any_gray8", "decode_gray8", "png_header", "scanlines_gray8"]

AVAILABLE = _inflate is not None and _cpng is not None
"""Whether :func:`decode_gray8` can decode (``deflate`` installed, the C unfilter built)."""

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR = b"\x00\x00\x00\x0dIHDR"  # length 13, type
_GRAY8 = b"\x08\x00\x00\x00\x00"  # depth 8, grayscale, deflate, adaptive filters, no interlace
_CHUNK = struct.Struct(">I4s")
_UINT32 = struct.Struct(">I")
_MAX_SIDE = 2**31 - 1  # the PNG specification's largest width and height
_MAX_RAW = 2**31  # scanline bytes; above this (a 46,000 x 46,000 mask) leave it to pyspng
_IHDR_FIELDS = struct.Struct(">IIBBBBB")  # width, height, depth, colour type, ..., interlace


def png_header(data: bytes) -> tuple[int, int, int, int, int] | None:
    """Width, height, bit depth, colour type, interlace from a PNG's IHDR; None if not a PNG.

    Examples
    --------
    >>> ihdr = struct.pack(">IIBBBBB", 3, 2, 8, 0, 0, 0, 0)
    >>> png_header(_SIGNATURE + struct.pack(">I", 13) + b"IHDR" + ihdr + bytes(4))
    (3, 2, 8, 0, 0)
    >>> png_header(b"GIF89a") is None
    True
    """
    if len(data) < 33 or data[:8] != _SIGNATURE or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour, _, _, interlace = _IHDR_FIELDS.unpack_from(data, 16)
    return width, height, depth, colour, interlace


@functools.cache
def _pyspng() -> Any:
    """Import pyspng on first need (libdeflate decodes most files); None if it is absent.

    Not at import, nor by ``importlib.util.find_spec``: that walks ``sys.path`` (8 ms of every
    ``segscore evaluate``'s start-up, measured).
    """
    try:
        import pyspng
    except ImportError:  # pragma: no cover - pyspng is in the io extra
        return None
    return pyspng


def can_decode_gray8() -> bool:
    """Whether :func:`decode_any_gray8` has a decoder (libdeflate's or pyspng)."""
    return AVAILABLE or _pyspng() is not None


def decode_any_gray8(data: bytes) -> np.ndarray[Any, Any] | None:
    """Decode an 8-bit grayscale non-interlaced PNG: libdeflate, else pyspng; None if neither can.

    None also when pyspng fails or adds channels (a tRNS chunk): the caller's Pillow then reads
    the file, or words its error. The caller checks the header and the size limit first
    (:func:`png_header`).
    """
    plain = decode_gray8(data)
    if plain is not None:
        return plain
    pyspng = _pyspng()  # files libdeflate leaves (ancillary chunks, ...): rare in mask folders
    if pyspng is None:
        return None
    try:
        array = np.asarray(pyspng.load(data))
    except Exception:  # any pyspng failure: Pillow produces the error message
        return None
    header = png_header(data)
    if header is None or array.shape != (header[1], header[0]) or array.dtype != np.uint8:
        return None  # e.g. a tRNS chunk made pyspng add alpha: Pillow reads it as mode L
    return array


def decode_gray8(data: bytes) -> np.ndarray[Any, Any] | None:
    r"""Decode a plain 8-bit grayscale PNG into a ``(height, width)`` uint8 array; None otherwise.

    None also when the ``deflate`` package or the compiled unfilter is missing
    (:data:`AVAILABLE`). The caller checks the declared size against its own limit first.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.fromarray(np.array([[0, 255], [255, 255]], dtype=np.uint8)).save(buffer, "PNG")
    >>> png = buffer.getvalue()
    >>> decode_gray8(png).tolist() if AVAILABLE else [[0, 255], [255, 255]]
    [[0, 255], [255, 255]]
    >>> decode_gray8(png + b"trailing bytes") is None  # not plain: the caller's decoder decides
    True
    """
    found = scanlines_gray8(data)
    if found is None:
        return None
    raw, width, height = found
    assert _cpng is not None  # scanlines_gray8 checked
    try:
        out = np.empty((height, width), dtype=np.uint8)
        return out if _cpng.unfilter_gray8(raw, out, width, height) else None
    except MemoryError:  # the caller's decoder then fails as it did before, with its message
        return None


def scanlines_gray8(data: bytes) -> tuple[bytearray, int, int] | None:
    """Inflate a plain 8-bit grayscale PNG: its still filtered scanlines, its width and height.

    The first half of :func:`decode_gray8` (all its checks but the filter types, which the
    unfiltering checks): ``height`` lines of a filter type byte and ``width`` samples.
    :func:`segscore.metrics._kernel.png_binary_pair_into` counts two such masks without
    decoding them whole. None for a file that is not plain, as :func:`decode_gray8`.
    """
    if _inflate is None or _cpng is None:
        return None
    if data[:8] != _SIGNATURE or data[8:16] != _IHDR or data[24:29] != _GRAY8:
        return None
    view = memoryview(data)
    if len(data) < 45 or _crc32(view[12:29]) != _UINT32.unpack_from(data, 29)[0]:
        return None
    width, height = struct.unpack_from(">II", data, 16)
    size = height * (width + 1)
    if not (0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE and size <= _MAX_RAW):
        return None
    parts = []
    at = 33
    while True:  # IDAT+ then IEND, ending the file; every CRC right
        if at + 12 > len(data):
            return None
        length, kind = _CHUNK.unpack_from(data, at)
        end = at + 8 + length
        if end + 4 > len(data) or _crc32(view[at + 4 : end]) != _UINT32.unpack_from(data, end)[0]:
            return None
        if kind == b"IDAT":
            parts.append(view[at + 8 : end])
        elif kind == b"IEND" and length == 0 and parts and end + 4 == len(data):
            break
        else:
            return None
        at = end + 4
    try:
        raw = _inflate(parts[0] if len(parts) == 1 else b"".join(parts), size)
    except Exception:  # deflate.DeflateError: corrupt stream, bad Adler-32, too much data
        return None
    if len(raw) != size:
        return None
    return raw, width, height

"""A PNG writer from the specification, the reference of the PNG decoding tests.

Each scanline is filtered with the chosen filter type (PNG specification, section 9: each
filtered byte is the sample minus its predictor, computed from the *unfiltered* samples, so no
serial loop), compressed with zlib and wrapped in chunks with their CRCs.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np


def paeth_spec(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The Paeth predictor as the specification writes it, elementwise."""
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filter_line(kind: int, line: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """One scanline filtered with filter type ``kind`` (``prior``: the line above, unfiltered)."""
    x = line.astype(np.int64)
    b = prior.astype(np.int64)
    a = np.concatenate([[0], x[:-1]])
    c = np.concatenate([[0], b[:-1]])
    predictor = {
        0: np.zeros_like(x),
        1: a,
        2: b,
        3: (a + b) // 2,
        4: paeth_spec(a, b, c),
    }[kind]
    return ((x - predictor) % 256).astype(np.uint8)


def chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def ihdr(width: int, height: int, depth: int = 8, colour: int = 0, interlace: int = 0) -> bytes:
    """An IHDR chunk."""
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


def encode(
    image: np.ndarray,
    filters: list[int] | None = None,
    *,
    split: int = 0,
    before: bytes = b"",
    stream: bytes | None = None,
) -> bytes:
    """An 8-bit grayscale PNG of ``image`` with the given filter type per line (default: all).

    ``split`` cuts the zlib stream into IDAT chunks of that many bytes, ``before`` goes between
    IHDR and the first IDAT, ``stream`` replaces the compressed scanlines.
    """
    height, width = image.shape
    kinds = filters if filters is not None else [y % 5 for y in range(height)]
    prior = np.zeros(width, dtype=np.uint8)
    lines = []
    for y in range(height):
        lines.append(bytes([kinds[y]]) + filter_line(kinds[y], image[y], prior).tobytes())
        prior = image[y]
    data = zlib.compress(b"".join(lines)) if stream is None else stream
    parts = [data] if split <= 0 else [data[i : i + split] for i in range(0, len(data), split)]
    body = b"".join(chunk(b"IDAT", part) for part in parts)
    return b"\x89PNG\r\n\x1a\n" + ihdr(width, height) + before + body + chunk(b"IEND", b"")


def mask_like(rng: np.random.Generator, height: int, width: int, high: int = 255) -> np.ndarray:
    """Blobs of 0 and ``high`` with a few odd values (1%): long flat runs broken by edges."""
    small = rng.random((height // 8 + 1, width // 8 + 1)) < 0.5
    image = np.kron(small, np.ones((8, 8), dtype=bool))[:height, :width].astype(np.uint8) * high
    image[rng.random(image.shape) < 0.01] = rng.integers(0, 256)
    return image

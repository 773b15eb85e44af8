"""The libdeflate PNG decoder: pixels equal to the specification's and to pyspng's, or None.

The reference here is the PNG specification itself, run forwards: the test filters each scanline
with the chosen filter type (section 9: each filtered byte is the sample minus its predictor,
computed from the *unfiltered* samples, so no serial loop), compresses with zlib and wraps the
chunks; :func:`decode_gray8` must give back the image, as pyspng does. Files that are not plain
must give None (the caller's decoder then decides), never a wrong array or an exception.
"""

from __future__ import annotations

import io
import os
import zlib

import numpy as np
import pyspng
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from segscore.io import png
from segscore.io.arrays import decode_array
from segscore.io.png import decode_gray8
from tests.io._png_spec import chunk as _chunk
from tests.io._png_spec import encode
from tests.io._png_spec import ihdr as _ihdr
from tests.io._png_spec import mask_like as _mask_like
from tests.io._png_spec import paeth_spec as _paeth_spec

pytestmark = pytest.mark.skipif(
    not png.AVAILABLE and not os.environ.get("CI"),
    reason="the deflate package or the compiled unfilter is missing",
)


def test_the_decoder_is_available_in_ci() -> None:
    # CI installs the io extra and builds the extension: a silent fallback there would leave
    # the fast path untested.
    assert png.AVAILABLE


# --- pixels --------------------------------------------------------------------------------


def test_the_paeth_form_of_the_kernel_equals_the_specification_on_every_triple() -> None:
    # _cpng.c picks the predictor as max(a, b) if t <= min(a, b), else min(a, b) if
    # max(a, b) <= t, else c, with t = 3c - a - b: the specification's choice on all 2**24 triples.
    a, b, c = np.meshgrid(*(np.arange(256, dtype=np.int32),) * 3, indexing="ij", copy=False)
    t = 3 * c - a - b
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    assert np.array_equal(np.where(t <= lo, hi, np.where(hi <= t, lo, c)), _paeth_spec(a, b, c))


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("width", [1, 2, 15, 16, 17, 31, 33, 100, 257])
def test_every_filter_type_is_undone_on_noise_and_on_masks(kind: int, width: int) -> None:
    rng = np.random.default_rng(width * 10 + kind)
    for image in (rng.integers(0, 256, (23, width), dtype=np.uint8), _mask_like(rng, 40, width)):
        data = encode(image, [kind] * image.shape[0])
        decoded = decode_gray8(data)
        assert decoded is not None
        assert decoded.dtype == np.uint8
        assert decoded.shape == image.shape
        assert np.array_equal(decoded, image)
        assert np.array_equal(decoded, pyspng.load(data))


def test_paeth_lines_mixing_flat_runs_and_noise_are_undone() -> None:
    # Every third line is made of 16-pixel flat runs, so the line below it takes the kernel's
    # 16-byte Sub blocks where the runs line up and the scalar predictor elsewhere.
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (256, 256), dtype=np.uint8)
    image[::3] = np.repeat(rng.integers(0, 256, (86, 16), dtype=np.uint8), 16, axis=1)
    data = encode(image, [4] * 256)
    assert np.array_equal(decode_gray8(data), image)


@settings(max_examples=150, deadline=None)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 70),
    seed=st.integers(0, 2**32 - 1),
    split=st.integers(0, 50),
    masks=st.booleans(),
)
def test_any_image_any_filters_any_chunking_decodes_as_pyspng(
    height: int, width: int, seed: int, split: int, masks: bool
) -> None:
    rng = np.random.default_rng(seed)
    image = _mask_like(rng, height, width) if masks else rng.integers(0, 256, (height, width))
    image = image.astype(np.uint8)
    data = encode(image, list(rng.integers(0, 5, height)), split=split)
    decoded = decode_gray8(data)
    assert decoded is not None
    assert np.array_equal(decoded, image)
    assert np.array_equal(decoded, pyspng.load(data))


@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize("shape", [(1, 1), (5, 300), (512, 512), (97, 1031)])
def test_pillow_written_masks_decode_as_pyspng(level: int, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(level)
    image = _mask_like(rng, *shape)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG", compress_level=level)
    decoded = decode_gray8(buffer.getvalue())
    assert decoded is not None
    assert np.array_equal(decoded, image)


# --- what is not plain: None, so that pyspng or Pillow decides ------------------------------


def _variants() -> dict[str, bytes]:
    image = np.arange(60, dtype=np.uint8).reshape(6, 10)
    good = encode(image)
    lines = b"".join(b"\x00" + image[y].tobytes() for y in range(6))
    crc_at = len(good) - 12 - 4  # the IDAT's CRC: just before IEND
    bad_idat_crc = good[:crc_at] + bytes([good[crc_at] ^ 1]) + good[crc_at + 1 :]
    bad_ihdr_crc = good[:29] + bytes([good[29] ^ 1]) + good[30:]
    return {
        "trailing bytes": good + b"x",
        "a chunk after IEND": good + _chunk(b"tEXt", b"k\x00v"),
        "an ancillary chunk": encode(image, before=_chunk(b"tEXt", b"k\x00v")),
        "tRNS": encode(image, before=_chunk(b"tRNS", b"\x00\x00")),
        "an unknown critical chunk": encode(image, before=_chunk(b"ABCD", b"")),
        "bad IDAT CRC": bad_idat_crc,
        "bad IHDR CRC": bad_ihdr_crc,
        "no IEND": good[:-12],
        "IEND with data": good[:-12] + _chunk(b"IEND", b"x"),
        "no IDAT": b"\x89PNG\r\n\x1a\n" + _ihdr(10, 6) + _chunk(b"IEND", b""),
        "too little data": encode(image, stream=zlib.compress(lines[:-1])),
        "too much data": encode(image, stream=zlib.compress(lines + b"\x00")),
        "bad Adler-32": encode(image, stream=zlib.compress(lines)[:-4] + b"\x00\x00\x00\x00"),
        "a raw deflate stream": encode(image, stream=zlib.compress(lines, wbits=-15)),
        "filter type 5": encode(image, stream=zlib.compress(b"\x05" + lines[1:])),
        "16-bit": encode(image)[:24] + b"\x10" + encode(image)[25:],
        "zero width": b"\x89PNG\r\n\x1a\n" + _ihdr(0, 6) + _chunk(b"IEND", b""),
        "interlaced": b"\x89PNG\r\n\x1a\n" + _ihdr(10, 6, interlace=1) + good[33:],
        "palette": b"\x89PNG\r\n\x1a\n" + _ihdr(10, 6, colour=3) + good[33:],
        "not a PNG": b"GIF89a" + good[6:],
        "empty": b"",
    }


@pytest.mark.parametrize("name", sorted(_variants()))
def test_a_file_that_is_not_plain_is_left_to_the_other_decoders(name: str) -> None:
    data = _variants()[name]
    assert decode_gray8(data) is None
    # ... and reading it does what pyspng or Pillow do with it (an array or a DatasetError):
    # never something the fast decoder made up.
    try:
        expected = pyspng.load(data)
    except Exception:
        expected = None
    try:
        got = decode_array("x.png", data).array
    except Exception:
        got = None
    if expected is not None and got is not None and expected.shape == got.shape:
        assert np.array_equal(got, expected)


def test_every_truncation_of_a_file_gives_none_not_an_exception() -> None:
    data = encode(np.arange(300, dtype=np.uint8).reshape(15, 20) % 251, split=40)
    for n in range(len(data)):
        assert decode_gray8(data[:n]) is None


def test_without_the_deflate_package_nothing_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(png, "_inflate", None)
    assert decode_gray8(encode(np.zeros((3, 3), np.uint8))) is None


def test_decode_array_uses_it_and_gets_the_images_pixels() -> None:
    rng = np.random.default_rng(3)
    image = _mask_like(rng, 64, 48)
    data = encode(image, list(rng.integers(0, 5, 64)))
    assert np.array_equal(decode_array("m.png", data).array, image)


def test_out_of_memory_leaves_the_file_to_the_other_decoders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The unfiltering's buffers cannot be had: None, and read_array decodes with pyspng as it
    # did before this decoder (no MemoryError escapes from the fast path).
    rng = np.random.default_rng(5)
    image = _mask_like(rng, 30, 20)
    data = encode(image)

    class NoMemory:
        @staticmethod
        def unfilter_gray8(*args: object) -> bool:
            raise MemoryError

    monkeypatch.setattr(png, "_cpng", NoMemory)
    assert decode_gray8(data) is None
    assert np.array_equal(decode_array("m.png", data).array, image)

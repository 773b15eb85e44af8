"""The common case with the least Python: runs of 8-bit grayscale PNG masks, counted as binary.

Scoring a folder of 512×512 PNG masks is mostly decoding them; the general path of a case
(:func:`~segscore.evaluation.runner.score_case`: read, decode, geometry, options, validation,
counts, result) added about a fifth to the decoding in Python alone. For the commonest input,
two 2-D 8-bit grayscale PNG masks counted as one binary class with no extras (no distances,
objects, panoptic pairs, palette or ignore label), :func:`count_plain_run` does only what makes
the result: read both files, hash them, decode them (libdeflate, else pyspng:
:mod:`segscore.io.png`), count them with the compiled kernel (which checks the values in the same
pass), one int64 row per case.

The first case that is not of this kind, or that would fail (unreadable, corrupt, oversized,
other shapes, values other than {0, 1} or {0, 255}, ...), ends the run: the general path scores
it and words its error. A case gets the same counts, digests and errors either way (tested case
by case in ``tests/evaluation/test_plain.py``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from segscore._types import IntArray
from segscore.errors import InputError
from segscore.io.files import read_bytes
from segscore.io.png import can_decode_gray8, decode_any_gray8, png_header, scanlines_gray8
from segscore.metrics import _kernel
from segscore.metrics.counts import CountingSpec
from segscore.metrics.options import resolve_options

if TYPE_CHECKING:
    from pathlib import Path

    from segscore.evaluation.runner import EvaluateOptions
    from segscore.io.pairs import Case


__all__ = ["PackedBatch", "count_plain_run", "is_plain"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BINARY = CountingSpec("binary", 1, None, None)  # what count_arrays gives two uint8 masks


@dataclass(frozen=True)
class PackedBatch:
    """The plain results of consecutive cases, with the counts as one int64 block.

    About 20x cheaper to pickle and unpickle than one CaseResult with four small arrays per case
    (which cost more CPU than the counting itself on 512x512 masks).
    """

    names: list[str]
    digests: list[tuple[str, str]]  # both files', the ground truth's
    spacings: list[tuple[float, ...] | None]
    block: IntArray  # (m, 4, C): tp, fp, fn, tn of each case
    spec: CountingSpec | None


def is_plain(options: EvaluateOptions) -> bool:
    """Whether cases under ``options`` can be counted by :func:`count_plain_run`.

    Binary counts of 2-D masks with nothing but counts asked for, the compiled kernel in use and
    libdeflate or pyspng installed. The threshold does not matter (uint8 masks are not
    thresholded) but must be valid, as :func:`count_plain_run` checks.
    """
    return (
        can_decode_gray8()
        and _kernel.DEFAULT_KERNEL.uses_compiled
        and options.num_classes is None
        and options.ignore_index is None
        and not options.multilabel
        and options.spatial_dims in (None, 2)
        and options.palette is None
        and options.instances is None
        and options.panoptic is None
        and not options.distance_metrics
    )


def count_plain_run(cases: Sequence[Case], options: EvaluateOptions) -> PackedBatch | None:
    """Count the leading cases of ``cases`` that are plain PNG mask pairs; None if the first is not.

    ``options`` must pass :func:`is_plain`. A case is plain when both files are 2-D 8-bit
    grayscale non-interlaced PNGs of one shape within ``options.max_pixels``, that libdeflate or
    pyspng decodes and whose values are {0, 1} or {0, 255}. The run stops before the first case
    that is not (the caller scores it by the general path, which words any error).
    """
    try:  # as score_case checks them (a bad threshold is refused even where it is not used)
        resolve_options(
            None,
            num_classes=options.num_classes,
            threshold=options.threshold,
            ignore_index=options.ignore_index,
            multilabel=options.multilabel,
            spatial_dims=2 if options.spatial_dims is None else options.spatial_dims,
        )
    except InputError:
        return None
    # Every step per case is as lean as it can be: on 512x512 masks the Python around the
    # decoding cost more than the counting (measured: docs/benchmarks.md).
    max_pixels = options.max_pixels
    raw = np.empty((len(cases), 3), dtype=np.int64)  # tp, predicted, support
    pixels: list[int] = []
    digests: list[tuple[str, str]] = []
    sha256 = hashlib.sha256
    for i, case in enumerate(cases):
        if case.index is not None:
            break
        # Both files are read and their headers checked before either is decoded: a case whose
        # ground truth is not plain (1-bit, palette, ...) is decoded once, by the general path.
        pred_bytes = _read_gray8(case.pred, max_pixels)
        if pred_bytes is None:
            break
        target_bytes = _read_gray8(case.target, max_pixels)
        if target_bytes is None:
            break
        pred_lines = scanlines_gray8(pred_bytes)
        target_lines = None if pred_lines is None else scanlines_gray8(target_bytes)
        if (
            pred_lines is not None
            and target_lines is not None
            and pred_lines[1:] == target_lines[1:]
        ):
            # the common case: both inflated by libdeflate, unfiltered line by line as counted
            try:
                codes = _kernel.png_binary_pair_into(pred_lines, target_lines, raw[i])
            except MemoryError:  # line buffers: the general path fails as it would have
                break
            if codes is None:  # a bad filter type byte
                break
            size = pred_lines[1] * pred_lines[2]
        else:
            p = decode_any_gray8(pred_bytes)
            if p is None:
                break
            t = decode_any_gray8(target_bytes)
            if t is None or p.shape != t.shape:
                break
            codes = _kernel.binary_pair_into(p, t, raw[i])
            size = p.size
        if codes[0] == 2 or codes[1] == 2:
            break
        target_hash = sha256(target_bytes).digest()  # as read_case: a hash over both hashes
        digests.append(
            (sha256(sha256(pred_bytes).digest() + target_hash).hexdigest(), target_hash.hex())
        )
        pixels.append(size)
    m = len(digests)
    if m == 0:
        return None
    tp, predicted, support = raw[:m, 0], raw[:m, 1], raw[:m, 2]
    block = np.empty((m, 4, 1), dtype=np.int64)
    block[:, 0, 0] = tp
    block[:, 1, 0] = predicted - tp
    block[:, 2, 0] = support - tp
    block[:, 3, 0] = np.asarray(pixels, dtype=np.int64) - predicted - support + tp
    return PackedBatch([c.name for c in cases[:m]], digests, [None] * m, block, _BINARY)


def _read_gray8(path: Path, max_pixels: int) -> bytes | None:
    """Read an 8-bit grayscale non-interlaced PNG within ``max_pixels``; None if it is not one.

    Only the header is checked here (the caller decodes); None also for a file that cannot be
    read (the general path then words the error).
    """
    name = os.fspath(path)
    if name[-4:].lower() != ".png":  # the suffix decode_array reads as PNG
        return None
    try:
        data = read_bytes(name)
    except OSError:
        return None
    header = png_header(data)
    if header is None:
        return None
    width, height, depth, colour, interlace = header
    if width * height > max_pixels or depth != 8 or colour != 0 or interlace != 0:
        return None
    return data

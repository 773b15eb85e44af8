"""Counting kernels: the compiled fused pass where it was built, else the numpy reference.

Both functions take 2-D arrays ``(rows, pixels)`` that :func:`segscore.confusion` has already
validated, and return exact int64 counts equal to the reference
(:func:`~segscore.metrics._reference.confusion_matrix_reference` and
:func:`~segscore.metrics._reference.binary_counts_reference`) on every input. Non-contiguous (or, for labels wider than a byte,
misaligned) inputs are copied once to aligned C order.

The compiled extension ``segscore.metrics._ckernel`` is optional (built when a C compiler is
present at install time); :data:`HAVE_COMPILED` says whether it is built. Dtypes it does not
handle (uint64 label maps, labels or an ignore index beyond int64) go to the reference.

How the kernels run (compiled or reference, threads, flush interval) is a
:class:`KernelSettings` passed down as ``kernel=``, :data:`DEFAULT_KERNEL` unless given: there
is no module switch to flip.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from segscore._types import IntArray
from segscore._validation import check_int, fail_must
from segscore.metrics._reference import binary_counts_reference, confusion_matrix_reference

__all__ = [
    "DEFAULT_KERNEL",
    "HAVE_COMPILED",
    "KernelSettings",
    "binary_counts",
    "binary_counts_checked",
    "class_counts",
    "confusion_matrix",
    "nearest_offsets",
    "overlap_tables",
]

_ck: ModuleType | None
try:
    _ck = importlib.import_module("segscore.metrics._ckernel")
except ImportError:  # pragma: no cover - depends on the build
    _ck = None

HAVE_COMPILED = _ck is not None
"""True when the compiled kernel is built."""

_CPU_THREADS = 1 if _ck is None else max(1, min(8, int(_ck.cpu_count())))


@dataclass(frozen=True, slots=True)
class KernelSettings:
    """How the counting kernels run: an immutable choice passed down, never a module switch.

    Attributes
    ----------
    compiled : bool, default HAVE_COMPILED
        Use the compiled kernel where it is built; False counts with the numpy reference
        (:mod:`segscore.metrics._reference`), as an install without a C compiler does.
    threads : int, default the online CPUs, at most 8
        Threads of a compiled pass over at least ``thread_min_bytes`` of input.
    thread_min_bytes : int, default 8 MiB
        Below about 8 MB of input a second thread costs more than it saves: one thread.
    chunk : int, default 2**32 - 1
        Pixels counted in uint32 before a flush to int64, in [1, 2**32 - 1] (the tests lower it
        to exercise the flush).

    Examples
    --------
    >>> KernelSettings(compiled=False).uses_compiled
    False
    >>> KernelSettings(threads=2, thread_min_bytes=0).threads_for(100)
    2
    >>> KernelSettings(chunk=2**32)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `chunk` must lie in [1, 2**32 - 1], got 4294967296.
    """

    compiled: bool = HAVE_COMPILED
    threads: int = _CPU_THREADS
    thread_min_bytes: int = 1 << 23
    chunk: int = (1 << 32) - 1

    def __post_init__(self) -> None:
        if not isinstance(self.compiled, bool):
            fail_must("compiled", "be a bool", repr(self.compiled))
        check_int("threads", self.threads, low=1)
        check_int("thread_min_bytes", self.thread_min_bytes, low=0)
        if not (check_int("chunk", self.chunk, low=1) <= (1 << 32) - 1):
            fail_must("chunk", "lie in [1, 2**32 - 1]", self.chunk)

    @property
    def uses_compiled(self) -> bool:
        """Whether the compiled kernel runs: chosen (``compiled``) and built."""
        return self.compiled and _ck is not None

    def threads_for(self, nbytes: int) -> int:
        """Threads of a compiled pass over ``nbytes`` of input."""
        return self.threads if nbytes >= self.thread_min_bytes else 1


DEFAULT_KERNEL = KernelSettings()
"""The settings every counting function uses unless given others."""

_MAX_CLASSES = 30_000

# dtype -> label code of _ckernel.c
_LABEL_CODES: dict[np.dtype[Any], int] = {
    np.dtype(np.int8): 0,
    np.dtype(np.uint8): 1,
    np.dtype(np.bool_): 1,
    np.dtype(np.int16): 2,
    np.dtype(np.uint16): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.uint32): 5,
    np.dtype(np.int64): 6,
}
if os.name == "nt":  # pragma: no cover - C long is 32 bits on Windows
    _LABEL_CODES[np.dtype(np.intc)] = 4


def binary_counts(
    pred: Any, target: Any, *, kernel: KernelSettings = DEFAULT_KERNEL
) -> tuple[IntArray, IntArray, IntArray]:
    """Return per-row ``(tp, predicted, support)`` of binary masks (nonzero is foreground)."""
    if not kernel.uses_compiled:
        return binary_counts_reference(pred, target)
    out, _ = _binary_pass(pred, target, kernel, check=False)
    return out[0], out[1], out[2]


def binary_counts_checked(
    pred: Any, target: Any, *, kernel: KernelSettings = DEFAULT_KERNEL
) -> tuple[IntArray, IntArray, IntArray, int, int] | None:
    """:func:`binary_counts` that also checks the byte values of both masks in the same pass.

    Returns ``(tp, predicted, support, pred_code, target_code)`` where a code is 0 when every
    byte is 0 or 1, 1 when every byte is 0 or 255, and 2 otherwise (not a binary uint8 mask: the
    caller words the error); None when the compiled kernel is not in use. For uint8 masks this
    replaces a separate validation pass over each mask.
    """
    if not kernel.uses_compiled:
        return None
    out, (pc, tc) = _binary_pass(pred, target, kernel, check=True)
    return out[0], out[1], out[2], pc, tc


def binary_pair_into(
    pred: np.ndarray[Any, Any],
    target: np.ndarray[Any, Any],
    out: np.ndarray[Any, Any],
    *,
    kernel: KernelSettings = DEFAULT_KERNEL,
) -> tuple[int, int]:
    """Count one pair of C-contiguous uint8 masks of one size into ``out``; return the value codes.

    ``out`` (3 int64, writable) receives tp, predicted and support; the codes are those of
    :func:`binary_counts_checked` (2: a byte that is not a mask value). The lean form of that
    function for one image (no new arrays, no checks of the arguments: the caller made them;
    :mod:`segscore.evaluation.plain` counts every case of a folder with it). The compiled kernel
    must be in use.
    """
    assert _ck is not None
    codes = _ck.binary_counts(pred, target, 1, pred.size, out, kernel.threads_for(2 * pred.size), 1)
    return codes[0], codes[1]


def png_binary_pair_into(
    pred: tuple[Any, int, int],
    target: tuple[Any, int, int],
    out: np.ndarray[Any, Any],
) -> tuple[int, int] | None:
    """Count two inflated 8-bit grayscale PNG masks into ``out``; the value codes, or None.

    ``pred`` and ``target`` are what :func:`segscore.io.png.scanlines_gray8` returns (the
    filtered scanlines, width, height), of one size. The masks are unfiltered a line at a time
    and counted as :func:`binary_pair_into` counts the decoded images: ``out`` (3 int64) gets
    tp, predicted and support, and the codes are the same. None when a filter type byte is
    invalid (``out`` is then undefined). The compiled kernel must be in use.
    """
    assert _ck is not None
    codes: tuple[int, int] | None = _ck.png_binary_counts(pred[0], target[0], pred[1], pred[2], out)
    return codes


def _binary_pass(
    pred: Any, target: Any, kernel: KernelSettings, *, check: bool
) -> tuple[IntArray, tuple[int, int]]:
    """One compiled pass: ``(3, rows)`` counts, and the value codes when ``check`` (else 0, 0)."""
    assert _ck is not None
    p = _as_bytes(pred)
    t = _as_bytes(target)
    rows, cols = p.shape
    out = np.empty((3, rows), dtype=np.int64)
    codes = _ck.binary_counts(p, t, rows, cols, out, kernel.threads_for(2 * p.size), check)
    return out, (0, 0) if codes is None else (int(codes[0]), int(codes[1]))


def nearest_offsets(
    grid: Any, sources: Any, offsets: Any, *, kernel: KernelSettings = DEFAULT_KERNEL
) -> IntArray | None:
    """For each source index, the index of the first offset whose target byte of ``grid`` is set.

    ``grid`` is a C-contiguous 1-byte array (read flat), ``sources`` and ``offsets`` int64 linear
    indices, ``offsets`` sorted by length; -1 where no offset hits. Every ``source + offset`` must
    lie inside the grid (the caller pads it; checked). None when the compiled kernel is not in use.
    """
    if not kernel.uses_compiled:
        return None
    assert _ck is not None
    g = np.ascontiguousarray(grid)
    if g.dtype.itemsize != 1:
        raise ValueError(f"`grid` must be a 1-byte array, got dtype {g.dtype}")
    src = np.ascontiguousarray(sources, dtype=np.int64)
    off = np.ascontiguousarray(offsets, dtype=np.int64)
    out = np.empty(src.shape, dtype=np.int64)
    threads = kernel.threads if src.size >= 1 << 16 else 1  # below that, threads cost more
    _ck.nearest_offsets(g.reshape(-1), src, off, out, threads)
    return out


def label_components(
    mask: Any, full: bool, *, kernel: KernelSettings = DEFAULT_KERNEL
) -> tuple[np.ndarray[Any, Any], int] | None:
    """Label the connected components of one 2-D or 3-D mask (nonzero: foreground), or None.

    Returns ``(labels, n)``: int32 labels ``1..n`` numbered in the raster order of each
    component's first voxel (scipy.ndimage.label's numbering), 0 for background; ``full``
    connects through edges and corners too (8 / 26 neighbours), else through faces (4 / 6).
    None when the compiled kernel is not in use or the mask has 2**31 - 1 voxels or more.
    """
    if not kernel.uses_compiled:
        return None
    assert _ck is not None
    a = _as_bytes(mask)
    if a.ndim not in (2, 3) or a.size >= 2**31 - 1:
        return None
    d, h, w = (1, *a.shape) if a.ndim == 2 else a.shape
    labels = np.zeros(a.shape, dtype=np.int32)  # zeroed pages: background is never written
    n = _ck.label_components(a.reshape(-1), d, h, w, full, labels.reshape(-1).view(np.uint32))
    return labels, int(n)


def overlap_tables(
    pred: Any, target: Any, ignore: int | None, *, kernel: KernelSettings = DEFAULT_KERNEL
) -> tuple[IntArray, IntArray] | None:
    """Return the overlap table of each image of a batch, from one call of the compiled kernel.

    ``pred`` and ``target`` are ``(rows, pixels)``: one image per row. Returns ``(data,
    sizes)``: ``sizes`` int64 ``(rows, 4)`` holds each image's predicted objects P, target
    objects G, pairs K and pixels counted (those whose target is not ``ignore``); ``data`` int64
    holds, image after image, its ``pred_ids`` and ``pred_areas`` (P each), ``target_ids`` and
    ``target_areas`` (G), ``pair_pred``, ``pair_target`` and ``pair_intersection`` (K), as
    :class:`~segscore.metrics.instance.table.OverlapTable` defines them. One pass per image,
    the images split over ``kernel.threads`` threads (above ``kernel.thread_min_bytes`` of
    input). None when the kernel is not in use or a dtype is not one it reads (uint64: the
    caller counts with numpy). Ids must be >= 0 (checked by the caller).
    """
    if not kernel.uses_compiled:
        return None
    assert _ck is not None
    p = np.asarray(pred)
    t = np.asarray(target)
    ptype = _LABEL_CODES.get(p.dtype)
    ttype = _LABEL_CODES.get(t.dtype)
    if ptype is None or ttype is None or p.ndim != 2 or p.shape != t.shape:
        return None
    if ignore is not None and not 0 <= ignore < 2**63:
        return None
    # C order and aligned: the kernel reads the ids as C integers (copies only when needed)
    p = np.require(p, requirements=("C", "A"))
    t = np.require(t, requirements=("C", "A"))
    rows, cols = p.shape
    sizes = np.empty((rows, 4), dtype=np.int64)
    threads = kernel.threads_for(p.nbytes + t.nbytes)
    raw = _ck.overlap_tables(
        p, t, rows, cols, ptype, ttype, ignore or 0, ignore is not None, sizes, threads
    )
    return np.frombuffer(raw, dtype=np.int64), sizes


def uint8_mask_values(mask: Any, *, kernel: KernelSettings = DEFAULT_KERNEL) -> int | None:
    """For a C-contiguous uint8 mask: 0 when its values lie in {0, 1}, 1 in {0, 255}, 2 otherwise.

    None when the compiled kernel is not in use (the caller then scans with numpy).
    """
    if not kernel.uses_compiled:
        return None
    assert _ck is not None
    a = np.asarray(mask)
    if a.dtype != np.uint8 or not a.flags.c_contiguous:
        return None
    return int(_ck.mask_values(a.reshape(-1)))


def _as_bytes(mask: Any) -> np.ndarray[Any, Any]:
    """Return a C-contiguous 1-byte view (bool/uint8/int8 unchanged) whose nonzero is foreground."""
    a = np.asarray(mask)
    if a.dtype.itemsize != 1 or a.dtype.kind not in "biu":
        a = a != 0
    return np.ascontiguousarray(a)


def validates_labels(
    pred: Any,
    target: Any,
    num_classes: int,
    ignore_index: int | None,
    *,
    kernel: KernelSettings = DEFAULT_KERNEL,
) -> bool:
    """Whether :func:`confusion_matrix` will check the label ranges itself (compiled path)."""
    p, t = np.asarray(pred), np.asarray(target)
    return _label_codes(p, t, num_classes, ignore_index, kernel) is not None


def confusion_matrix(
    pred: Any,
    target: Any,
    num_classes: int,
    ignore_index: int | None,
    *,
    kernel: KernelSettings = DEFAULT_KERNEL,
) -> IntArray | None:
    """Return per-row confusion matrices of shape ``(rows, C, C + 1)`` (see the reference).

    On the compiled path the labels are range-checked during the counting pass: None is returned
    when a target or prediction label lies outside ``[0, C)`` and is not the ignore label, and
    the caller then words the error. The reference path expects validated labels.
    """
    p = np.asarray(pred)
    t = np.asarray(target)
    codes = _label_codes(p, t, num_classes, ignore_index, kernel)
    if codes is None or _ck is None:
        return confusion_matrix_reference(
            pred, target, num_classes=num_classes, ignore_index=ignore_index
        )
    out = np.zeros((p.shape[0], num_classes, num_classes + 1), dtype=np.int64)
    return _label_pass(_ck.confusion_matrix, p, t, codes, num_classes, ignore_index, out, kernel)


def _label_pass(
    compiled: Any,
    p: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    codes: tuple[int, int],
    num_classes: int,
    ignore_index: int | None,
    out: IntArray,
    kernel: KernelSettings,
) -> IntArray | None:
    """Run a compiled label-map pass into ``out``; None when it met an invalid label."""
    # C order and aligned: the kernel reads wider labels as C integers (copies only when needed).
    p = np.require(p, requirements=("C", "A"))
    t = np.require(t, requirements=("C", "A"))
    rows, cols = p.shape
    invalid = compiled(
        p,
        t,
        rows,
        cols,
        codes[0],
        codes[1],
        num_classes,
        0 if ignore_index is None else int(ignore_index),
        ignore_index is not None,
        out,
        kernel.threads_for(p.nbytes + t.nbytes),
        kernel.chunk,
    )
    return None if invalid else out


def class_counts(
    pred: Any,
    target: Any,
    num_classes: int,
    ignore_index: int | None,
    *,
    kernel: KernelSettings = DEFAULT_KERNEL,
) -> IntArray | None:
    """Return per-row ``(tp, predicted, support)`` per class, shape ``(rows, 3, C)``, or None.

    The diagonal and the two margins of :func:`confusion_matrix` (``predicted`` over the pixels
    whose target is not ignored, ``support`` including the ignore label predicted), counted in
    one compiled pass without the ``(rows, C, C + 1)`` matrix: memory and flushes grow with C,
    not C². Only for inputs the compiled kernel reads (:func:`validates_labels`; the caller
    checks). Labels are range-checked during the pass: None when a target or prediction label
    lies outside ``[0, C)`` and is not the ignore label (the caller words the error).
    """
    p = np.asarray(pred)
    t = np.asarray(target)
    codes = _label_codes(p, t, num_classes, ignore_index, kernel)
    if codes is None or _ck is None:
        raise ValueError("class_counts needs inputs that the compiled kernel reads")
    out = np.zeros((p.shape[0], 3, num_classes), dtype=np.int64)
    return _label_pass(_ck.class_counts, p, t, codes, num_classes, ignore_index, out, kernel)


def _label_codes(
    p: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    num_classes: int,
    ignore_index: int | None,
    kernel: KernelSettings,
) -> tuple[int, int] | None:
    """Return the kernel's dtype codes of ``(pred, target)``, or None to use the reference."""
    if not kernel.uses_compiled or p.ndim != 2 or p.shape != t.shape:
        return None
    if not 1 <= num_classes <= _MAX_CLASSES:
        return None
    if ignore_index is not None and not -(2**63) <= ignore_index < 2**63:
        return None
    pc = _LABEL_CODES.get(p.dtype)
    tc = _LABEL_CODES.get(t.dtype)
    if pc is None or tc is None:
        return None
    return pc, tc

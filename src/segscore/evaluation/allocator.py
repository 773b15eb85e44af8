"""Keep freed image buffers for the next case instead of returning them to the kernel (glibc).

Scoring a folder decodes two masks per case, counts them and frees them. With glibc's default
settings those buffers are mapped for each case and unmapped after it (or the heap top is
trimmed), and every page is faulted in again for the next case: for 1,000 pairs of 512x512 PNGs
about 110,000 page faults, a third of the time of the whole ``segscore evaluate`` command. Serving
buffers up to ``MMAP_THRESHOLD_BYTES`` from the heap and trimming the heap only when more than
``TRIM_THRESHOLD_BYTES`` lie free at its top (``mallopt`` ``M_MMAP_THRESHOLD`` and
``M_TRIM_THRESHOLD``, as the ``MALLOC_*_`` environment variables would set them at start-up)
brings that to about 400 faults, measured whenever in the process the call is made. The cost: a
process keeps its peak heap mapped until it exits. Other C libraries (musl, macOS, Windows) are
left as they are.

It changes the whole process, so it is called only in processes segscore owns: the
``segscore evaluate`` command and the worker processes of :func:`~segscore.evaluation.runner.evaluate`
(a program calling ``evaluate`` in its own process keeps its allocator settings; it may call
:func:`keep_freed_buffers` itself).
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_buffers"]

MMAP_THRESHOLD_BYTES = 16 << 20
TRIM_THRESHOLD_BYTES = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
_done = False


def keep_freed_buffers() -> bool:
    """Set the two thresholds once per process; return whether they are set (False elsewhere).

    Returns
    -------
    bool
        True once glibc's ``mallopt`` accepted both thresholds in this process (later calls return
        True without calling it again); False off Linux, on a C library other than glibc, or when
        ``mallopt`` refused a value. Its effect (fewer page faults per case) is measured in
        ``tests/evaluation/test_allocator.py``; a doctest could only repeat the platform's answer.
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library this process runs on (no ldconfig lookup)
        mallopt = libc.mallopt
        gnu_get_libc_version = libc.gnu_get_libc_version  # glibc only: musl has no such symbol
    except (OSError, AttributeError):
        return False
    del gnu_get_libc_version
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
    return _done

"""How a run uses memory: freed image buffers kept for the next case (glibc), the collector paused.

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

A run also keeps every case's result until its end, and Python's cyclic garbage collector would
scan them again and again as they grow: 3% of the main process's time on 10,000 cases with two
worker processes. :func:`collector_paused` switches the collector off around the loop that
gathers results (and around the whole ``segscore evaluate`` command), and back on after.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "keep_freed_buffers"]

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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector off; as it was after (nestable).

    The loops it guards make no reference cycles that need the collector (results, counts and
    arrays are freed by reference counting); whatever cyclic garbage there is waits for the
    collector's next pass after the block.

    Examples
    --------
    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

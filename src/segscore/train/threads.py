"""How many CPU threads torch uses, and how they wait; imports nothing heavy (no torch).

The command line asks :func:`passive_openmp_waits` before it imports torch, so this module must
stay importable without it.
"""

from __future__ import annotations

import os
import sys

__all__ = ["default_threads", "passive_openmp_waits"]


def default_threads() -> int:
    """Threads for torch when none is asked for: the CPU cores this process may run on.

    Float results depend on the thread count (reductions are split differently), so the count is
    recorded in the run's ``config.json``: the same seed gives the same trace and weights bit for
    bit on one machine with the same thread count. ``--threads 1`` gives the run that does not
    depend on the number of cores (it still depends on the CPU's instruction set).

    Examples
    --------
    >>> default_threads() >= 1
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


def passive_openmp_waits() -> bool:
    """Ask torch's OpenMP threads to sleep, not spin, while they wait (before torch is imported).

    By default an OpenMP worker that finishes its share of an operation spins for a while waiting
    for the next one. On a machine whose cores are shared with other jobs the other worker is often
    descheduled, and the spinning thread burns its core for nothing: a 2-thread training step on a
    busy 2-core machine took 5-8 times the CPU time of a 1-thread step. ``OMP_WAIT_POLICY=PASSIVE``
    brings it back to about 1.3 times. The variable is read once, when torch loads its OpenMP
    runtime, so this sets it (unless the user has) only while torch is not yet imported, and
    returns whether it did. The command line calls it before importing torch.

    Examples
    --------
    >>> import torch  # already imported: nothing changes
    >>> passive_openmp_waits()
    False
    """
    if "torch" in sys.modules or "OMP_WAIT_POLICY" in os.environ:
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True

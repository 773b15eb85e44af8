"""Deterministic training on CPU: seeds from the config, a private generator, no global RNG leak.

Library code never seeds numpy or torch globally for good. :func:`deterministic` seeds torch's
global generator only inside the training call (weight initialisation needs it) and restores the
previous state, the deterministic-algorithms flag and the thread count on exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["default_threads", "deterministic", "make_generator"]


def default_threads() -> int:
    """Threads for torch when none is asked for: always 1.

    Float results depend on the thread count (reductions split differently), and "same seed,
    same trace, bit for bit" must hold on any machine and at any load, so the default is fixed
    rather than taken from the cores or the load. More threads are a choice recorded in the run's
    config (``--threads``); on a busy 2-core machine they can also slow training several times,
    since torch's OpenMP workers wait on each other.

    Examples
    --------
    >>> default_threads()
    1
    """
    return 1


def make_generator(seed: int) -> torch.Generator:
    """Return a CPU ``torch.Generator`` seeded with ``seed`` (shuffling, augmentation).

    Examples
    --------
    >>> a, b = make_generator(3), make_generator(3)
    >>> bool(torch.equal(torch.randperm(5, generator=a), torch.randperm(5, generator=b)))
    True
    """
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    return g


@contextmanager
def deterministic(seed: int, *, threads: int | None = None) -> Iterator[None]:
    """Seed torch and use deterministic algorithms inside the block; restore everything after.

    Parameters
    ----------
    seed : int
        Seed of torch's global generator within the block (used by weight initialisation).
    threads : int, optional
        ``torch.set_num_threads`` within the block; default :func:`default_threads`.

    Examples
    --------
    >>> with deterministic(0):
    ...     a = torch.rand(2)
    >>> with deterministic(0):
    ...     b = torch.rand(2)
    >>> bool(torch.equal(a, b)), torch.are_deterministic_algorithms_enabled()
    (True, False)
    """
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    old_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(default_threads() if threads is None else int(threads))
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(was_deterministic)
            torch.set_num_threads(old_threads)

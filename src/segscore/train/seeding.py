"""Deterministic training on CPU: seeds from the config, a private generator, no global RNG leak.

Library code never seeds numpy or torch globally for good. :func:`deterministic` seeds torch's
global generator only inside the training call (weight initialisation needs it) and restores the
previous state, the deterministic-algorithms flags and the thread count on exit.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from segscore.train.threads import default_threads

__all__ = ["default_threads", "deterministic", "make_generator"]


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


def _use_deterministic_algorithms(mode: bool) -> None:
    """``torch.use_deterministic_algorithms(mode)``, without importing torch's compiler.

    The public call also sets ``torch._inductor.config.deterministic``, and importing that module
    pulls in ``torch._inductor`` and ``torch._dynamo``: 2.7 s of CPU on the project's 2-core EPYC,
    for a compiler training never uses. While that module is not loaded, only the flag the kernels
    read is set; once something has loaded it, the public call keeps both in step.
    """
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(mode)
    else:
        setter(mode, warn_only=False)


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
    was_filling = torch.utils.deterministic.fill_uninitialized_memory  # type: ignore[attr-defined]
    old_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        _use_deterministic_algorithms(True)
        # Deterministic mode also fills every new tensor with NaN (a debugging aid against reads of
        # uninitialised memory); that costs about a tenth of a CPU training step and changes no
        # result, since no kernel reads memory it has not written.
        torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
        torch.set_num_threads(default_threads() if threads is None else int(threads))
        try:
            yield
        finally:
            _use_deterministic_algorithms(was_deterministic)
            torch.utils.deterministic.fill_uninitialized_memory = was_filling  # type: ignore[attr-defined]
            torch.set_num_threads(old_threads)

"""Exact multi-process sync of per-image counts over ``torch.distributed``.

Each process (rank) counts its share of the images; :func:`sync_counts` gathers every rank's rows,
exactly (int64, no float reduction), in rank order, so that every rank holds the counts of the
whole dataset and can compute any metric under any aggregation. Importing this module imports
torch; ``import segscore`` does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from segscore._validation import fail, fail_must, fail_ranks
from segscore.integrations.torch import TensorEvaluator
from segscore.metrics.counts import CountingSpec, Counts
from segscore.metrics.evaluator import Evaluator

__all__ = ["sync_counts"]


def _local_rows(source: object) -> tuple[torch.Tensor | None, CountingSpec | None]:
    """Return this rank's rows as one (4, n, C) int64 tensor (None when it has no rows)."""
    if isinstance(source, TensorEvaluator):
        if source.n_images == 0:
            return None, None
        rows = source.rows
        return rows.stacked(), rows.spec
    if isinstance(source, Evaluator):
        if source.n_images == 0:
            return None, None
        source = source.counts
    if isinstance(source, Counts):
        if len(source.shape) != 2:
            fail_must("counts", "have shape (N, C) (one row per image)", source.shape)
        stacked = np.stack([source.tp, source.fp, source.fn, source.tn])
        return torch.from_numpy(stacked), source.spec
    fail_must(
        "counts_or_accumulator",
        "be a Counts, an Evaluator or a TensorEvaluator",
        type(source).__name__,
    )


def sync_counts(counts_or_accumulator: Any, group: Any = None) -> Counts:
    """Gather the per-image counts of every rank, exactly and in rank order.

    A collective call: every rank of ``group`` must call it. Each returns the same result.

    Parameters
    ----------
    counts_or_accumulator : Counts, Evaluator or TensorEvaluator
        This rank's rows: ``(n_r, C)`` counts, or an accumulator (possibly empty on some ranks).
    group : ProcessGroup, optional
        The process group (default: the whole world).

    Returns
    -------
    Counts
        Shape ``(sum n_r, C)``: rank 0's rows, then rank 1's, and so on, unchanged int64.

    Raises
    ------
    InputError
        On every rank alike, when torch.distributed is not initialised, the ranks disagree on the
        number of classes or on the counting conventions, or no rank has any row.

    Notes
    -----
    The row counts ``n_r`` and conventions are exchanged first (``all_gather_object``); the rows are
    then padded to ``max n_r``, all-gathered as int64 tensors and trimmed, so unequal shares are
    exact. With the NCCL backend the exchange runs on the current CUDA device (call
    ``torch.cuda.set_device`` first, as for any NCCL collective); otherwise on the CPU.

    Examples
    --------
    Inside a process group (here not initialised, hence the error):

    >>> from segscore import Counts
    >>> sync_counts(Counts.from_arrays(tp=[[1]], fp=[[0]], fn=[[0]], tn=[[3]]))
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `sync_counts` must run in an initialised torch.distributed process group (torch.distributed.init_process_group), got none.
    """
    if not (dist.is_available() and dist.is_initialized()):
        fail_must(
            "sync_counts",
            "run in an initialised torch.distributed process group "
            "(torch.distributed.init_process_group)",
            "none",
        )
    rows, spec = _local_rows(counts_or_accumulator)
    if dist.get_backend(group) == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    else:
        device = torch.device("cpu")
    world = dist.get_world_size(group)
    n_local = 0 if rows is None else int(rows.shape[1])
    c_local = None if rows is None else int(rows.shape[2])
    metas: list[Any] = [None] * world
    dist.all_gather_object(metas, (n_local, c_local, spec), group=group)
    sizes = [int(m[0]) for m in metas]
    widths = {m[1] for m in metas if m[1] is not None}
    if len(widths) > 1:
        fail_ranks("number of classes", [m[1] for m in metas])
    specs = {m[2] for m in metas if m[2] is not None}
    if len(specs) > 1:
        fail_ranks(
            "counting conventions", [None if m[2] is None else m[2].as_dict() for m in metas]
        )
    if not widths:
        fail("no rank has any counts to sync: call `update` on at least one rank first.")
    width = widths.pop()
    common = specs.pop() if specs else None
    longest = max(sizes)
    padded = torch.zeros((4, longest, width), dtype=torch.int64, device=device)
    if rows is not None:
        padded[:, :n_local] = rows.to(device=device, dtype=torch.int64)
    gathered = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded, group=group)
    full = torch.cat([g[:, :n] for g, n in zip(gathered, sizes, strict=True)], dim=1)
    out = np.ascontiguousarray(full.cpu().numpy())
    return Counts(out[0], out[1], out[2], out[3], common)

"""Evaluate folders of cases on a Dask cluster (a local one, or a running scheduler).

The cases are cut into contiguous partitions; each partition is scored on a worker by
:func:`segscore.evaluation.runner.score_case` and returns its per-case results (counts, sweep
counts, boundary distances, content hashes). The client reduces them in case order with
:func:`segscore.evaluation.runner.assemble`, the last step of
:func:`~segscore.evaluation.runner.evaluate`, so the :class:`~segscore.evaluation.runner.Evaluation`
is the same, bit for bit, as on one machine.

Needs the ``dask`` extra (``pip install 'segscore[dask]'``); importing this module does not import
dask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from segscore._validation import (
    check_int,
    check_number,
    fail_missing_extra,
    fail_must,
    fail_unreachable,
)
from segscore.errors import DatasetError
from segscore.evaluation.runner import (
    CaseResult,
    EvaluateOptions,
    Evaluation,
    assemble,
    evaluate,
    score_case,
)
from segscore.io.pairs import Case

__all__ = ["evaluate_dask"]

_PARTITIONS_PER_WORKER = 4


def _score_partition(
    cases: Sequence[Case], options: EvaluateOptions, keep_going: bool
) -> list[CaseResult]:
    """Score the cases of one partition on a worker (the first bad case raises unless keep_going)."""
    results = []
    for case in cases:
        try:
            results.append(score_case(case, options))
        except DatasetError as exc:
            if not keep_going:
                raise
            results.append(CaseResult(case.name, None, "", error=str(exc)))
    return results


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        fail_missing_extra("`evaluate_dask`", "dask.distributed", "dask")
    return distributed


def _partition(cases: Sequence[Case], n_parts: int) -> list[list[Case]]:
    """Cut ``cases`` into ``n_parts`` contiguous, near-equal partitions (in order)."""
    n = len(cases)
    bounds = [round(k * n / n_parts) for k in range(n_parts + 1)]
    return [
        list(cases[bounds[k] : bounds[k + 1]]) for k in range(n_parts) if bounds[k + 1] > bounds[k]
    ]


def _results_in_order(futures: list[Any]) -> Iterator[CaseResult]:
    """Yield the partitions' results in case order; on an error cancel what is still running."""
    try:
        for future in futures:
            yield from future.result()
            future.release()
    finally:
        for future in futures:
            if not future.done():
                future.cancel()


def _run(
    client: Any,
    cases: Sequence[Case],
    options: EvaluateOptions,
    keep_going: bool,
    partitions: int | None,
    progress: Callable[[CaseResult], None] | None,
) -> Evaluation:
    if len(cases) == 1:  # one case may be a stacked pair: let `evaluate` take its own fast path
        result: Evaluation = client.submit(
            evaluate, list(cases), options, jobs=1, keep_going=keep_going, pure=False
        ).result()
        return result
    if partitions is None:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        partitions = _PARTITIONS_PER_WORKER * n_workers
    parts = _partition(cases, min(partitions, len(cases)))
    futures = [
        client.submit(_score_partition, part, options, keep_going, pure=False) for part in parts
    ]
    return assemble(_results_in_order(futures), progress=progress)


def evaluate_dask(
    cases: Sequence[Case],
    options: EvaluateOptions,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    keep_going: bool = False,
    partitions: int | None = None,
    connect_timeout: float = 10.0,
    progress: Callable[[CaseResult], None] | None = None,
) -> Evaluation:
    """Count every case on a Dask cluster; the result equals :func:`~segscore.evaluation.runner.evaluate`'s.

    Parameters
    ----------
    cases : sequence of Case
        From :func:`segscore.io.pairs.match_cases`. With a remote scheduler the workers must be able
        to read the case files at the same paths.
    options : EvaluateOptions
        Counting options.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``). None starts a
        ``LocalCluster`` of ``n_workers`` single-threaded worker processes bound to 127.0.0.1
        (no dashboard) for this call.
    n_workers : int, optional
        Worker processes of the local cluster (default 2); only without ``scheduler``.
    keep_going : bool, default False
        Record a failing case and go on; otherwise the first failing case (in case order) raises.
    partitions : int, optional
        Number of contiguous partitions of the cases (default: 4 per worker, at most one per case).
    connect_timeout : float, default 10
        Seconds to wait for ``scheduler`` to answer.
    progress : callable, optional
        Called with each result, in case order, as the client reduces it.

    Returns
    -------
    Evaluation
        Counts, names, failures, threshold sweep, input hash and boundary distances, equal to those
        of :func:`~segscore.evaluation.runner.evaluate` on the same cases.

    Raises
    ------
    InputError
        When dask.distributed is not installed (naming the ``dask`` extra), the scheduler cannot be
        reached within ``connect_timeout`` (no partial result), or an option is invalid.
    DatasetError
        On the first bad case (without ``keep_going``), or when no case could be scored.

    Notes
    -----
    Each partition is a Dask task returning its :class:`~segscore.evaluation.runner.CaseResult`
    list (a few integers per case and class, the sweep and distances); the client consumes them
    in partition order and releases each one, so its memory holds the counts, not the masks.
    The reduction is exact: integer counts are concatenated in case order and the content hash
    is built in the same order as :func:`~segscore.evaluation.runner.evaluate` builds it.

    Examples
    --------
    >>> from segscore.evaluation.runner import EvaluateOptions
    >>> evaluate_dask([], EvaluateOptions(), partitions=0)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `partitions` must be an integer >= 1, got 0.
    """
    if scheduler is not None and not isinstance(scheduler, str):
        fail_must("scheduler", "be None or an address string", repr(scheduler))
    if scheduler is not None and n_workers is not None:
        fail_must(
            "n_workers",
            "be None with `scheduler` (the cluster's workers are already running)",
            repr(n_workers),
        )
    workers = 2 if n_workers is None else check_int("n_workers", n_workers, low=1)
    if partitions is not None:
        partitions = check_int("partitions", partitions, low=1)
    timeout = check_number("connect_timeout", connect_timeout, low=0, low_inclusive=False)
    cases = list(cases)
    for case in cases:
        if not isinstance(case, Case):
            fail_must("cases", "hold Case objects (from match_cases)", type(case).__name__)
    distributed = _import_distributed()
    if not cases:
        return assemble([])  # raises "no case could be scored", as `evaluate` does
    if scheduler is None:
        with (
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # No dashboard; its health/metrics HTTP server on a free port of 127.0.0.1, so
                # that a cluster already on :8787 neither collides nor triggers a warning.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            return _run(client, cases, options, keep_going, partitions, progress)
    try:
        client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        fail_unreachable("Dask scheduler", scheduler, timeout, str(exc) or type(exc).__name__)
    with client:
        return _run(client, cases, options, keep_going, partitions, progress)

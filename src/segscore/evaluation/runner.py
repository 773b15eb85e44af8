"""Stream cases through the counting core, in parallel, keeping only counts.

Each case is read, validated and counted in a worker process; only its counts (a few integers per
class), a content hash and, for probability maps, threshold-sweep counts come back. Memory stays
flat whatever the number of cases: masks are never kept.

Two paths give the same results: :func:`score_case`, the general one (every format and option),
and, for runs of 8-bit grayscale PNG masks counted as binary,
:func:`~segscore.evaluation.plain.count_plain_run`, which does only what makes the result and
hands any other case to :func:`score_case`. Workers return their batches packed (one int64 block
of counts); :func:`iter_parts` yields them so, and :func:`assemble` and the journal take them
whole; :func:`iter_results` yields one :class:`CaseResult` per case.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from segscore._types import Comparison, FloatArray, IntArray
from segscore.errors import DatasetError, InputError
from segscore.evaluation.allocator import collector_paused, keep_freed_buffers
from segscore.evaluation.instances import case_objects, object_label_maps
from segscore.evaluation.panoptic import case_panoptic
from segscore.evaluation.plain import PackedBatch, count_plain_run, is_plain
from segscore.evaluation.thresholds import sweep_counts
from segscore.io.arrays import (
    MAX_PIXELS_DEFAULT,
    describe_geometry,
    geometry_mismatch,
)
from segscore.io.pairs import Case, names_digest, read_case
from segscore.io.palette import Palette
from segscore.metrics.counting import confusion
from segscore.metrics.counts import CountingSpec, Counts, count_arrays
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.options import resolve_options

if TYPE_CHECKING:  # the boundary engine (scipy) is imported only when distances are asked for
    from concurrent.futures import Future

    from segscore.metrics.boundary import DistanceResult
    from segscore.metrics.instance.panoptic import PanopticCounts
    from segscore.metrics.instance.table import OverlapTable

__all__ = [
    "CaseResult",
    "EvaluateOptions",
    "Evaluation",
    "assemble",
    "case_objects",
    "case_panoptic",
    "distance_columns",
    "distance_record",
    "evaluate",
    "evaluate_stack",
    "iter_parts",
    "iter_results",
    "object_label_maps",
]


@dataclass(frozen=True)
class EvaluateOptions:
    """How each case is counted (the counting half of the conventions)."""

    num_classes: int | None = None
    threshold: float = 0.5
    threshold_comparison: Comparison = ">="
    ignore_index: int | None = None
    multilabel: bool = False
    spatial_dims: int | None = None
    max_pixels: int = MAX_PIXELS_DEFAULT
    sweep: bool = True
    distance_metrics: tuple[str, ...] = ()
    spacing: tuple[float, ...] | None = None
    preset: str | None = None
    distance_background: bool = False
    check_geometry: bool = True
    distance_empty: EmptyPolicy | None = None
    palette: Palette | None = None
    instances: str | None = None  # 'labels' or 'components': keep each case's overlap table
    connectivity: str = "face"
    matching: str = "optimal"  # the per-object matching (object distances are per matched pair)
    criterion: str = "iou"
    comparison: str = ">="
    object_threshold: str = "1/2"
    object_distances: tuple[str, ...] = ()
    lesion_metrics: tuple[str, ...] = ()  # BraTS 2023 lesion-wise metrics of each case
    panoptic: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # things, stuffs; void: ignore


@dataclass(frozen=True)
class CaseResult:
    """What a worker returns for one case."""

    name: str
    counts: Counts | None
    digest: str  # SHA-256 over the digests of both files
    target_digest: str = ""  # SHA-256 of the ground-truth file alone
    error: str | None = None
    sweep: IntArray | None = None  # (T, 4): tp, fp, fn, tn per sweep threshold
    spacing: tuple[float, ...] | None = None
    distances: dict[str, FloatArray] | None = None  # metric -> (C_d,) per distance class
    distance_classes: tuple[int, ...] = ()
    distance_conventions: dict[str, Any] | None = None
    objects: OverlapTable | None = None  # the exact overlap table of the case's objects
    object_distances: dict[str, FloatArray] | None = None  # metric -> (M,) per matched pair
    object_scores: FloatArray | None = None  # detection score of each predicted object
    lesions: dict[str, float] | None = None  # lesion-wise value of each lesion metric
    lesion_conventions: dict[str, Any] | None = None
    panoptic: PanopticCounts | None = None  # (1, C) segment counts of a panoptic pair


@dataclass
class Evaluation:
    """All cases of one evaluation."""

    names: list[str]
    counts: Counts
    failures: list[tuple[str, str]] = field(default_factory=list)
    sweep: IntArray | None = None  # (N, T, 4) for probability predictions
    input_hash: str = ""
    distances: dict[str, FloatArray] | None = None  # metric -> (N, C_d)
    distance_classes: tuple[int, ...] = ()
    distance_conventions: dict[str, Any] | None = None
    # per case, the spacing its boundary metrics used (numpy axis order), when they were asked
    distance_spacings: list[list[float]] | None = None
    objects: list[OverlapTable] | None = None  # one overlap table per case (object metrics)
    object_distances: list[dict[str, FloatArray]] | None = None  # per case, per matched pair
    object_scores: list[FloatArray] | None = None  # per case: each predicted object's score
    lesions: dict[str, FloatArray] | None = None  # metric -> (N,) lesion-wise values
    lesion_conventions: dict[str, Any] | None = None  # metric -> its conventions record
    target_hash: str = ""  # like input_hash, over case names and ground-truth digests only
    panoptic: PanopticCounts | None = None  # (N, C) segment counts of panoptic pairs
    # the objects matched once at every threshold the run's object metrics need (summary.py)
    matched: Any = field(default=None, repr=False, compare=False)


def score_case(case: Case, options: EvaluateOptions) -> CaseResult:
    """Read and count one case; raise DatasetError naming the files on bad input."""
    pred, target, digest, target_digest = read_case(
        case, max_pixels=options.max_pixels, palette=options.palette
    )
    p, t = pred.array, target.array
    if case.index is not None:
        p, t = p[case.index], t[case.index]
    elif options.check_geometry and p.shape == t.shape:
        differs = geometry_mismatch(pred, target)
        if differs is not None:
            raise DatasetError(
                f"case {case.name!r}: prediction {str(case.pred)!r} ({describe_geometry(pred)}) "
                f"and ground truth {str(case.target)!r} ({describe_geometry(target)}) differ in "
                f"{differs}; resample the prediction onto the ground truth's grid, or pass "
                "--allow-geometry-mismatch (API: check_geometry=False) to score it with the ground "
                "truth's spacing."
            )
    if p.shape != t.shape:
        raise DatasetError(
            f"case {case.name!r}: prediction {str(case.pred)!r} has shape {p.shape} but ground truth "
            f"{str(case.target)!r} has shape {t.shape}."
        )
    objects = object_distances = object_scores = lesions = panoptic = None
    spacing = target.spacing or pred.spacing
    try:
        if options.panoptic is not None:
            panoptic, p, t = case_panoptic(
                p,
                t,
                options,
                names=(f"prediction {str(case.pred)!r}", f"ground truth {str(case.target)!r}"),
                spatial_dims=options.spatial_dims or p.ndim - 1,
            )
        if options.instances is not None:
            made = case_objects(p, t, options, spacing=options.spacing or spacing)
            objects, object_distances, object_scores = made.table, made.distances, made.scores
            p, t = made.pred, made.target
            lesions = made.lesions
        spatial_dims = options.spatial_dims
        if spatial_dims is None:
            spatial_dims = p.ndim - (1 if options.multilabel else 0)
            if options.multilabel and spatial_dims < 2:
                raise InputError(
                    "multilabel input needs one mask per class along the first axis, (C, H, W) "
                    f"or (C, D, H, W) per file, got shape {p.shape}."
                )
        counting = resolve_options(  # built once per run: the options module caches them
            None,
            num_classes=options.num_classes,
            threshold=options.threshold,
            ignore_index=options.ignore_index,
            multilabel=options.multilabel,
            spatial_dims=spatial_dims,
            threshold_comparison=options.threshold_comparison,
        )
        counts = count_arrays(p, t, counting)
    except InputError as exc:
        hint = ""
        if options.instances == "components" and "binary mask" in str(exc):
            hint = " (`--instances components` reads masks; for instance label maps use labels)"
        raise DatasetError(
            f"case {case.name!r} ({str(case.pred)!r} vs {str(case.target)!r}): {exc}{hint}"
        ) from exc
    if counts.n_images != 1:
        raise DatasetError(
            f"case {case.name!r}: {str(case.pred)!r} holds {counts.n_images} images of "
            f"{options.spatial_dims} axes, but a file in a folder is one case; drop "
            "--spatial-dims to score it as one volume, or pass stacks as files (--pred p.npy)."
        )
    sweep = None
    if (
        options.sweep
        and p.dtype.kind == "f"
        and options.num_classes is None
        and not options.multilabel
    ):
        sweep = sweep_counts(p, t, threshold_comparison=options.threshold_comparison)
    result = CaseResult(
        case.name,
        counts,
        digest,
        target_digest,
        sweep=sweep,
        spacing=spacing,
        objects=objects,
        object_distances=object_distances,
        object_scores=object_scores,
        lesions=None if lesions is None else lesions[0],
        lesion_conventions=None if lesions is None else lesions[1],
        panoptic=panoptic,
    )
    if options.distance_metrics:
        result = _with_distances(result, case, p, t, spacing, options)
    return result


def _with_distances(
    result: CaseResult,
    case: Case,
    p: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    file_spacing: tuple[float, ...] | None,
    options: EvaluateOptions,
) -> CaseResult:
    """Add the boundary metrics of one case (surfaces extracted once for all of them)."""
    from dataclasses import replace

    from segscore.metrics.boundary import distance_metrics
    from segscore.metrics.options import CountingOptions

    if options.multilabel:
        raise DatasetError("boundary metrics are not available for multilabel stacks.")
    spacing = options.spacing if options.spacing is not None else file_spacing
    try:
        counting = CountingOptions(
            num_classes=options.num_classes,
            threshold=options.threshold,
            threshold_comparison=options.threshold_comparison,
            ignore_index=options.ignore_index,
            spatial_dims=p.ndim,  # the arrays of a case are one image or one volume
            include_background=options.distance_background,
        )
        found = distance_metrics(
            p,
            t,
            options.distance_metrics,
            options=counting,
            preset=options.preset,
            spacing=spacing,
            empty=options.distance_empty,
        )
    except InputError as exc:
        raise DatasetError(f"case {case.name!r} ({str(case.pred)!r}): {exc}") from exc
    columns = distance_columns(found)
    return replace(
        result,
        distances={name: values[0] for name, values in columns.items()},  # the one case
        distance_classes=found.class_ids,
        distance_conventions=distance_record(found),
    )


def distance_columns(found: DistanceResult) -> dict[str, FloatArray]:
    """Per boundary metric the (N, C) values; ``asd`` as two columns, one per direction."""
    values: dict[str, FloatArray] = {}
    for name, array in found.values.items():
        if array.ndim == 3:  # 'asd': both directions
            values[f"{name}_pred_to_target"] = np.asarray(array[:, :, 0], dtype=np.float64)
            values[f"{name}_target_to_pred"] = np.asarray(array[:, :, 1], dtype=np.float64)
        else:
            values[name] = np.asarray(array, dtype=np.float64)
    return values


def distance_record(found: DistanceResult) -> dict[str, Any]:
    """Return the boundary conventions of a result as one JSON-ready record (empty per metric)."""
    from segscore.metrics.conventions import jsonable

    first = next(iter(found.conventions.values()))
    record = dict(first.as_dict())
    record.pop("metric")
    record.update(record.pop("boundary") or {})
    record["empty"] = {name: c.empty for name, c in found.conventions.items()}
    result: dict[str, Any] = jsonable(record)
    return result


def _score_or_record(case: Case, options: EvaluateOptions, keep_going: bool) -> CaseResult:
    try:
        return score_case(case, options)
    except DatasetError as exc:
        if not keep_going:
            raise
        return CaseResult(case.name, None, "", error=str(exc))


def _score_run(
    cases: Sequence[Case], options: EvaluateOptions, keep_going: bool
) -> Iterator[CaseResult | PackedBatch]:
    """Score ``cases`` in order: runs of plain PNG cases packed, every other case on its own.

    A case the plain path stops at (:func:`~segscore.evaluation.plain.count_plain_run`) is
    scored by :func:`score_case`, which words its error; the cases before it have been yielded.
    """
    plain = is_plain(options)
    i = 0
    while i < len(cases):
        packed = count_plain_run(cases[i:], options) if plain else None
        if packed is not None:
            yield packed
            i += len(packed.names)
        else:
            yield _score_or_record(cases[i], options, keep_going)
            i += 1


def _score_batch(
    cases: Sequence[Case], options: EvaluateOptions, keep_going: bool
) -> list[CaseResult | PackedBatch]:
    """Score a worker's batch (:func:`_score_run`); general results are packed where they can be."""
    parts = list(_score_run(cases, options, keep_going))
    results = [part for part in parts if isinstance(part, CaseResult)]
    if len(results) == len(parts):
        packed = _pack(results)
        return [packed] if isinstance(packed, PackedBatch) else list(results)
    return parts


# A worker's share of the run, set once by the pool's initializer. Forked workers inherit the
# cases without pickling, and a batch is sent as two indices; under spawn or forkserver the
# initializer's arguments are pickled for every worker, so there the cases travel with their
# batch (each pickled once) and only the options and keep_going are sent once.
_worker_run: tuple[Sequence[Case] | None, EvaluateOptions, bool] | None = None


def _start_worker(cases: Sequence[Case] | None, options: EvaluateOptions, keep_going: bool) -> None:
    global _worker_run
    keep_freed_buffers()
    _worker_run = (cases, options, keep_going)


def _score_slice(
    start: int, stop: int, cases: Sequence[Case] | None = None
) -> list[CaseResult | PackedBatch]:
    """Score cases ``start:stop`` of the worker's run (:func:`_start_worker`).

    Forked workers hold the run's cases; others are sent the batch's ``cases``.
    """
    assert _worker_run is not None, "a worker scores only after _start_worker"
    held, options, keep_going = _worker_run
    if cases is None:
        assert held is not None, "only forked workers hold the run's cases"
        cases = held[start:stop]
    return _score_batch(cases, options, keep_going)


def _pack(results: list[CaseResult]) -> list[CaseResult] | PackedBatch:
    """Pack results that are only counts of one shape and spec; others travel as they are."""
    first = results[0].counts if results else None
    if first is None or first.tp.shape[0] != 1:
        return results
    for r in results:
        c = r.counts
        if (
            c is None
            or c.tp.shape != first.tp.shape
            or c.spec != first.spec
            or r.sweep is not None
            or r.distances is not None
            or r.objects is not None
            or r.object_distances is not None
            or r.object_scores is not None
            or r.lesions is not None
            or r.panoptic is not None
            or r.error is not None
        ):
            return results
    block = np.empty((len(results), 4, first.tp.shape[1]), dtype=np.int64)
    for i, r in enumerate(results):
        c = r.counts
        assert c is not None
        block[i, 0], block[i, 1], block[i, 2], block[i, 3] = c.tp[0], c.fp[0], c.fn[0], c.tn[0]
    return PackedBatch(
        [r.name for r in results],
        [(r.digest, r.target_digest) for r in results],
        [r.spacing for r in results],
        block,
        first.spec,
    )


def _unpack(parts: Iterable[CaseResult | PackedBatch]) -> Iterator[CaseResult]:
    """Yield the CaseResults of scored parts, in order (packed counts: views of the block)."""
    for part in parts:
        if not isinstance(part, PackedBatch):
            yield part
            continue
        b = part.block[:, :, None, :]  # (m, 4, 1, C): each case's fields keep their (1, C) shape
        for i, (name, (digest, target_digest), spacing) in enumerate(
            zip(part.names, part.digests, part.spacings, strict=True)
        ):
            counts = Counts._made(b[i, 0], b[i, 1], b[i, 2], b[i, 3], part.spec)
            yield CaseResult(name, counts, digest, target_digest, spacing=spacing)


def iter_results(
    cases: Sequence[Case],
    options: EvaluateOptions,
    *,
    jobs: int = 1,
    keep_going: bool = False,
    batch_size: int = 16,
) -> Iterator[CaseResult]:
    """Yield one result per case, in input order, using ``jobs`` worker processes."""
    yield from _unpack(
        iter_parts(cases, options, jobs=jobs, keep_going=keep_going, batch_size=batch_size)
    )


def iter_parts(
    cases: Sequence[Case],
    options: EvaluateOptions,
    *,
    jobs: int = 1,
    keep_going: bool = False,
    batch_size: int = 16,
) -> Iterator[CaseResult | PackedBatch]:
    """Yield the results of every case in input order, runs of plain counts as packed batches.

    What :func:`iter_results` yields case by case, without making a CaseResult of each packed
    case: :func:`assemble` and the journal take the batches whole.
    """
    if jobs <= 1 or len(cases) <= batch_size:
        for i in range(0, len(cases), batch_size):  # a plain run is cut every batch_size cases
            yield from _score_run(cases[i : i + batch_size], options, keep_going)
        return
    # Imported here: one process needs neither (~8 ms of the command's start-up with jobs=1).
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    starts = range(0, len(cases), batch_size)
    workers = min(jobs, len(starts))  # a worker without a batch would only cost its start
    window = 4 * workers
    context = multiprocessing.get_context()
    forked = context.get_start_method() == "fork"
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(cases if forked else None, options, keep_going),
    ) as pool:
        pending: list[Future[list[CaseResult | PackedBatch]]] = []
        next_batch = 0
        try:
            while next_batch < len(starts) or pending:
                while next_batch < len(starts) and len(pending) < window:
                    start = starts[next_batch]
                    stop = start + batch_size
                    sent = None if forked else cases[start:stop]
                    pending.append(pool.submit(_score_slice, start, stop, sent))
                    next_batch += 1
                yield from pending.pop(0).result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def evaluate(
    cases: Sequence[Case],
    options: EvaluateOptions,
    *,
    jobs: int | None = None,
    keep_going: bool = False,
    progress: Callable[[CaseResult], None] | None = None,
) -> Evaluation:
    """Count every case and return the exact counts, the failures and a hash of the inputs.

    Parameters
    ----------
    cases : sequence of Case
        From :func:`segscore.io.pairs.match_cases`.
    options : EvaluateOptions
        Counting options.
    jobs : int, optional
        Worker processes (default: all cores).
    keep_going : bool, default False
        Record a failing case and go on; otherwise the first failure raises.
    progress : callable, optional
        Called with each result as it arrives.

    Raises
    ------
    DatasetError
        On the first bad case (without ``keep_going``), or when no case could be scored.
    """
    if len(cases) == 1:
        stacked = evaluate_stack(cases[0], options)
        if stacked is not None:
            return stacked
    n_jobs = (os.cpu_count() or 1) if jobs is None else max(1, jobs)
    results = iter_parts(list(cases), options, jobs=n_jobs, keep_going=keep_going)
    return assemble(results, progress=progress)


def assemble(
    results: Iterable[CaseResult | PackedBatch],
    *,
    progress: Callable[[CaseResult], None] | None = None,
) -> Evaluation:
    """Reduce per-case results, in the order given, into one :class:`Evaluation` (exact).

    The shared last step of :func:`evaluate` and of the distributed runners
    (:func:`segscore.evaluation.dask.evaluate_dask`): the same results in the same order give the
    same Evaluation, bit for bit (counts, names, failures, sweep, input hash, distances).

    Parameters
    ----------
    results : iterable of CaseResult or PackedBatch
        One result per case, in case order; failed cases have ``counts=None`` and an ``error``.
        A :class:`~segscore.evaluation.plain.PackedBatch` stands for its cases, in order.
    progress : callable, optional
        Called with each case's result as it is consumed.

    Returns
    -------
    Evaluation

    Raises
    ------
    DatasetError
        When the cases disagree on the number of classes, or when no case could be scored.
    """
    names: list[str] = []
    parts: list[Counts] = []
    sweeps: list[IntArray] = []
    distance_rows: list[CaseResult] = []
    objects: list[OverlapTable] = []
    pair_distances: list[dict[str, FloatArray]] = []
    scores: list[FloatArray] = []
    lesion_rows: list[CaseResult] = []
    panoptic: list[PanopticCounts] = []
    failures: list[tuple[str, str]] = []
    digests: list[tuple[str, str]] = []  # both files', the ground truth's
    spec: CountingSpec | None = None
    with collector_paused():  # results pile up: see collector_paused
        for result in results:
            if isinstance(result, PackedBatch):
                b = result.block
                batch = Counts._made(b[:, 0], b[:, 1], b[:, 2], b[:, 3], result.spec)
                each: list[CaseResult] = []
                if progress is not None:  # the first case, then the check: as one by one
                    each = list(_unpack([result]))
                    progress(each[0])
                spec = _same_kind(result.names[0], batch, parts, spec)
                if progress is not None:
                    for one in each[1:]:
                        progress(one)
                names.extend(result.names)
                parts.append(batch)
                digests.extend(result.digests)
                continue
            if progress is not None:
                progress(result)
            if result.counts is None:
                failures.append((result.name, result.error or "unknown error"))
                continue
            spec = _same_kind(result.name, result.counts, parts, spec)
            names.append(result.name)
            parts.append(result.counts)
            digests.append((result.digest, result.target_digest))
            if result.sweep is not None:
                sweeps.append(result.sweep)
            if result.distances is not None:
                distance_rows.append(result)
            if result.objects is not None:
                objects.append(result.objects)
            if result.object_distances is not None:
                pair_distances.append(result.object_distances)
            if result.object_scores is not None:
                scores.append(result.object_scores)
            if result.lesions is not None:
                lesion_rows.append(result)
            if result.panoptic is not None:
                panoptic.append(result.panoptic)
    if not parts:
        detail = f" (first failure: {failures[0][1]})" if failures else ""
        raise DatasetError(f"no case could be scored{detail}.")
    counts = Counts.concat(parts)
    if spec is not None and counts.spec is None:
        counts = Counts(counts.tp, counts.fp, counts.fn, counts.tn, spec)
    sweep = np.stack(sweeps) if sweeps and len(sweeps) == len(names) else None
    both, target = (names_digest(names, list(column)) for column in zip(*digests, strict=True))
    evaluation = Evaluation(names, counts, failures, sweep, both, target_hash=target)
    if panoptic:
        from segscore.metrics.instance.panoptic import PanopticCounts

        if len(panoptic) != len(names):  # pragma: no cover - every case of a run is panoptic
            raise DatasetError("some cases have panoptic counts and others not; this is a bug.")
        evaluation.panoptic = PanopticCounts.concat(panoptic)
    if objects:
        if len(objects) != len(names):  # pragma: no cover - every case of a run has objects
            raise DatasetError("some cases have objects and others not; this is a bug.")
        evaluation.objects = objects
        if pair_distances:
            evaluation.object_distances = pair_distances
        if scores and len(scores) == len(objects):
            evaluation.object_scores = scores
        if lesion_rows:
            _add_lesions(evaluation, [r.lesions or {} for r in lesion_rows])
            evaluation.lesion_conventions = lesion_rows[0].lesion_conventions
    return _add_distances(evaluation, distance_rows)


def _same_kind(
    name: str, counts: Counts, earlier: Sequence[Counts], spec: CountingSpec | None
) -> CountingSpec | None:
    """Return the run's spec once ``counts`` (of case ``name``) agrees with the earlier cases'."""
    if earlier and counts.n_classes != earlier[0].n_classes:
        raise DatasetError(
            f"case {name!r} has {counts.n_classes} classes but earlier cases have "
            f"{earlier[0].n_classes}; set --num-classes."
        )
    if spec is not None and counts.spec is not None and counts.spec != spec:
        raise DatasetError(
            f"case {name!r} was counted as {counts.spec.as_dict()} but earlier "
            f"cases as {spec.as_dict()}: a folder must hold one kind of file (all masks, or "
            "all probability maps)."
        )
    return counts.spec


def _add_lesions(evaluation: Evaluation, rows: Sequence[dict[str, float]]) -> None:
    """Stack per-case lesion-wise values into (N,) arrays."""
    evaluation.lesions = {
        k: np.array([row[k] for row in rows], dtype=np.float64) for k in (rows[0] if rows else {})
    }


def _add_distances(evaluation: Evaluation, rows: Sequence[CaseResult]) -> Evaluation:
    """Stack per-case boundary metrics into (N, C_d) arrays."""
    if not rows or rows[0].distances is None:
        return evaluation
    keys = list(rows[0].distances)
    evaluation.distances = {
        k: np.stack([r.distances[k] for r in rows if r.distances is not None]) for k in keys
    }
    evaluation.distance_classes = rows[0].distance_classes
    record = rows[0].distance_conventions
    spacings = [
        list(r.distance_conventions.get("spacing") or [])
        for r in rows
        if r.distances is not None and r.distance_conventions is not None
    ]
    distinct = [list(s) for s in dict.fromkeys(tuple(s) for s in spacings)]
    if record is not None and len(distinct) > 1:
        # Cases with their own spacing (file headers): the record must not claim the first one's.
        record = {**record, "spacing": "per_case", "spacings": distinct}
    evaluation.distance_conventions = record
    evaluation.distance_spacings = spacings if len(spacings) == len(evaluation.names) else None
    return evaluation


def _images(
    p: np.ndarray[Any, Any], t: np.ndarray[Any, Any], batched: bool
) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """Return the (prediction, target) pairs of a stack (the pair itself if not batched)."""
    return list(zip(p, t, strict=True)) if batched else [(p, t)]


def evaluate_stack(case: Case, options: EvaluateOptions) -> Evaluation | None:
    """Count two stacked arrays (N, ...) in one vectorised pass; None if not a stack pair."""
    stacked = {case.pred.suffix.lower(), case.target.suffix.lower()} <= {".npy", ".npz"}
    if not case.stacked or case.index is not None or not stacked:
        return None
    pred, target, digest, target_digest = read_case(
        case, max_pixels=options.max_pixels, palette=options.palette
    )
    p, t = pred.array, target.array
    if p.shape != t.shape:
        raise DatasetError(
            f"prediction {str(case.pred)!r} has shape {p.shape} but ground truth "
            f"{str(case.target)!r} has shape {t.shape}."
        )
    dims = options.spatial_dims
    batched = p.ndim >= 3 if dims is None else p.ndim == dims + 1
    objects = pair_distances = object_scores = panoptic = None
    lesion_values: list[dict[str, float]] = []
    lesion_record = None
    try:
        if options.panoptic is not None:
            panoptic, p, t = case_panoptic(
                p,
                t,
                options,
                names=(f"prediction {str(case.pred)!r}", f"ground truth {str(case.target)!r}"),
                spatial_dims=dims,
            )
            batched = p.ndim >= 3 if dims is None else p.ndim == dims + 1
        if options.instances is not None:
            parts = [
                case_objects(pi, ti, options, spacing=options.spacing or target.spacing)
                for pi, ti in _images(p, t, batched)
            ]
            objects = [part.table for part in parts]
            if options.object_distances:
                pair_distances = [part.distances or {} for part in parts]
            if all(part.scores is not None for part in parts):
                object_scores = [part.scores for part in parts]
            if options.lesion_metrics:
                lesion_values = [part.lesions[0] for part in parts if part.lesions is not None]
                lesion_record = parts[0].lesions[1] if parts[0].lesions is not None else None
            stack = np.stack if batched else (lambda xs: xs[0])
            p, t = stack([x.pred for x in parts]), stack([x.target for x in parts])
        counts = confusion(
            p,
            t,
            num_classes=options.num_classes,
            threshold=options.threshold,
            ignore_index=options.ignore_index,
            multilabel=options.multilabel,
            spatial_dims=options.spatial_dims,
            threshold_comparison=options.threshold_comparison,
        )
    except InputError as exc:
        raise DatasetError(f"{str(case.pred)!r} vs {str(case.target)!r}: {exc}") from exc
    n = counts.n_images
    width = len(str(n - 1))
    names = [f"{case.name}[{i:0{width}d}]" for i in range(n)] if n > 1 else [case.name]
    sweep = None
    if (
        options.sweep
        and p.dtype.kind == "f"
        and options.num_classes is None
        and not options.multilabel
    ):
        rows_p = p.reshape(n, -1)
        rows_t = t.reshape(n, -1)
        comparison = options.threshold_comparison
        sweep = np.stack(
            [sweep_counts(rows_p[i], rows_t[i], threshold_comparison=comparison) for i in range(n)]
        )
    evaluation = Evaluation(
        names,
        counts,
        [],
        sweep,
        digest,
        objects=objects,
        object_distances=pair_distances,
        object_scores=object_scores,  # type: ignore[arg-type]
        panoptic=panoptic,
    )
    if lesion_values:
        _add_lesions(evaluation, lesion_values)
        evaluation.lesion_conventions = lesion_record
    evaluation.target_hash = names_digest(names, [target_digest] * n)  # one file: every case
    if not options.distance_metrics:
        return evaluation
    pairs = _images(p, t, batched)
    results = [
        _with_distances(CaseResult(name, None, ""), case, pi, ti, target.spacing, options)
        for name, (pi, ti) in zip(names, pairs, strict=True)
    ]
    return _add_distances(evaluation, results)

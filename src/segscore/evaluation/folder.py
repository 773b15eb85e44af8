"""Folder evaluation as a library call: match, score, summarise; write the outputs separately.

>>> from segscore.evaluation import evaluate_folder, write_outputs      # doctest: +SKIP
>>> result = evaluate_folder("pred/", "gt/", metrics=["iou", "hd95"], jobs=2)  # doctest: +SKIP
>>> result.summary["metrics"]["iou"]["value"]                            # doctest: +SKIP
>>> write_outputs(result, "results/")                                    # doctest: +SKIP

:func:`evaluate_folder` matches the two folders by file stem (or takes two stacked arrays), checks
every setting before the first file is read (:func:`~segscore.evaluation.settings.make_settings`),
scores the cases in worker processes or on Dask keeping only exact counts, and returns a
:class:`FolderEvaluation`: the scores of every metric, the per-case rows and the summary record.
The journal of an interrupted run (``journal_dir``, ``resume``) plugs in here, below the API;
:func:`write_outputs` writes ``per_case.csv``, ``summary.json`` and ``report.html`` atomically.
The command line (``segscore evaluate``) only parses flags, calls these two and prints.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segscore._validation import fail
from segscore.errors import DatasetError
from segscore.evaluation.journal import Journal
from segscore.evaluation.plain import PackedBatch
from segscore.evaluation.runner import (
    CaseResult,
    EvaluateOptions,
    Evaluation,
    assemble,
    case_objects,
    case_panoptic,
    distance_columns,
    distance_record,
    evaluate_stack,
    iter_parts,
    iter_results,
)
from segscore.evaluation.settings import EvaluationSettings, make_settings
from segscore.evaluation.summary import metric_scores, per_case_rows, summarize
from segscore.io.pairs import Case, CaseSet, match_cases, names_digest
from segscore.io.results import remove_stale_temporaries
from segscore.metrics.counting import confusion
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.options import CountingOptions
from segscore.metrics.reduce import Score

__all__ = [
    "OUTPUT_NAMES",
    "FolderEvaluation",
    "evaluate_arrays",
    "evaluate_folder",
    "runner_options",
]

OUTPUT_NAMES = ("per_case.csv", "per_object.csv", "summary.json", "report.html")
"""The only files :func:`write_outputs` writes into the output folder (plus the journal)."""


@dataclass
class FolderEvaluation:
    """The result of :func:`evaluate_folder`.

    Attributes
    ----------
    settings : EvaluationSettings
        What was computed, under which conventions.
    cases : CaseSet
        The matched cases and the unmatched file names.
    evaluation : Evaluation
        Exact counts per case, failures, threshold-sweep counts, boundary values.
    scores : dict of str to Score
        One :class:`~segscore.Score` per metric.
    summary : dict
        The record written to ``summary.json`` (floats as floats; encoded when written).
    rows, columns : list
        The per-(case, class) rows of ``per_case.csv`` and their columns.
    notes : list of str
        What the run has to say (unmatched files, resumed cases), for the caller to show.
    """

    settings: EvaluationSettings
    cases: CaseSet
    evaluation: Evaluation
    scores: dict[str, Score]
    summary: dict[str, Any]
    rows: list[dict[str, Any]]
    columns: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[tuple[str, str]]:
        """Cases that could not be scored, with their errors."""
        return self.evaluation.failures

    def object_rows(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Return the rows of ``per_object.csv`` and its columns (none without objects).

        See :func:`~segscore.evaluation.objects.per_object_rows`.
        """
        from segscore.evaluation.objects import per_object_rows

        return per_object_rows(self.evaluation, self.settings)


def runner_options(settings: EvaluationSettings) -> EvaluateOptions:
    """Return what every worker needs to score one case (and what the journal records)."""
    opts = settings.options
    boundary = settings.boundary_metrics
    return EvaluateOptions(
        num_classes=opts.num_classes,
        threshold=opts.threshold,
        threshold_comparison=opts.threshold_test,
        ignore_index=opts.ignore_index,
        multilabel=opts.multilabel,
        spatial_dims=opts.spatial_dims,
        max_pixels=settings.max_pixels,
        distance_metrics=tuple(m.name for m in boundary),
        spacing=settings.spacing,
        preset=None if settings.preset is None else settings.preset.name,
        distance_background=settings.distance_background,
        check_geometry=settings.check_geometry,
        distance_empty=settings.empty,
        palette=settings.palette,
        panoptic=(
            None
            if settings.panoptic is None
            else (settings.panoptic.things, settings.panoptic.stuffs)
        ),
        **_object_options(settings),
    )


def _object_options(settings: EvaluationSettings) -> dict[str, Any]:
    """Return the object fields of the runner's options (per-object matching, pair distances)."""
    chosen = settings.instances
    if chosen is None:
        return {}
    from segscore.evaluation.objects import matching_threshold

    return {
        "instances": chosen.mode,
        "connectivity": chosen.connectivity,
        "matching": chosen.matching,
        "criterion": chosen.criterion,
        "comparison": chosen.comparison,
        "object_threshold": str(matching_threshold(settings)),
        "object_distances": chosen.distances,
        "lesion_metrics": tuple(
            m.name for m in settings.instance_metrics if m.base.startswith("lesion_")
        ),
    }  # COCO's max_detections is applied when scoring, from the settings


def _shown(names: Sequence[str]) -> str:
    more = f", ... ({len(names)} in all)" if len(names) > 10 else ""
    return ", ".join(names[:10]) + more


def _journaled(
    cases: Sequence[Case],
    options: EvaluateOptions,
    jobs: int,
    keep_going: bool,
    journal: Journal,
) -> Iterator[CaseResult | PackedBatch]:
    """Yield the results in input order: journaled ones as stored, the others scored.

    Without journaled cases the scored parts pass through whole (packed batches included).
    """
    todo = [c for c in cases if c.name not in journal.done]
    if len(todo) == len(cases):
        for part in iter_parts(todo, options, jobs=jobs, keep_going=keep_going):
            journal.record(part)
            yield part
        return
    scored = iter_results(todo, options, jobs=jobs, keep_going=keep_going)
    for case in cases:
        stored = journal.done.get(case.name)
        if stored is not None:
            yield stored
            continue
        result = next(scored)
        journal.record(result)
        yield result


def _predict_threshold_warnings(pred: Path, applied: float) -> list[str]:
    """Say when ``segscore predict`` recorded another threshold for these probabilities.

    ``predict --save-probs`` writes the probabilities into ``PRED/probs`` and ``PRED/predict.json``
    with the threshold its masks were made at; scoring the probabilities at another one gives
    other masks than the predicted ones, which deserves a word (the threshold is not taken over:
    an option is never changed behind the user's back).
    """
    import json

    for folder in (pred, pred.parent):
        path = folder / "predict.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        made = record.get("threshold") if isinstance(record, dict) else None
        if isinstance(made, (int, float)) and float(made) != applied:
            return [
                f"{str(path)!r} records threshold {made:g} for these predictions; their "
                f"probabilities were thresholded at {applied:g} here (pass --threshold {made:g} "
                "to score the masks as predicted)"
            ]
        return []
    return []


def _open_journal(
    folder: Path, options: EvaluateOptions, cases: list[Case], resume: bool, notes: list[str]
) -> Journal:
    remove_stale_temporaries(folder, OUTPUT_NAMES)  # a SIGKILL during an atomic write
    journal = Journal.open(folder, options, cases, resume=resume)
    existed = journal.existed
    if resume and not existed:
        notes.append(f"note: no journal in {str(folder)!r}; scoring every case")
    elif resume:
        notes.append(
            f"resuming: {len(journal.done)} case(s) from the journal, "
            f"{len(cases) - len(journal.done)} to score"
            + (f" ({journal.stale} changed or gone)" if journal.stale else "")
        )
    elif existed:
        notes.append(
            f"note: started over; the journal of an unfinished run in {str(folder)!r} was "
            "discarded (use --resume to continue one)"
        )
    return journal


def _score(
    cases: list[Case],
    options: EvaluateOptions,
    *,
    jobs: int | None,
    keep_going: bool,
    journal: Journal | None,
    dask: str | None,
    progress: Callable[[CaseResult], None] | None,
) -> Evaluation:
    if dask is not None:
        from segscore.evaluation.dask import evaluate_dask

        def record(result: CaseResult) -> None:
            if journal is not None:
                journal.record(result)
            if progress is not None:
                progress(result)

        where: dict[str, Any] = {"n_workers": jobs} if dask == "local" else {"scheduler": dask}
        return evaluate_dask(cases, options, keep_going=keep_going, progress=record, **where)
    if len(cases) == 1:
        stacked = evaluate_stack(cases[0], options)
        if stacked is not None:
            return stacked
    n_jobs = (os.cpu_count() or 1) if jobs is None else max(1, jobs)
    results: Iterable[CaseResult | PackedBatch]
    if journal is None:
        results = iter_parts(cases, options, jobs=n_jobs, keep_going=keep_going)
    else:
        results = _journaled(cases, options, n_jobs, keep_going, journal)
    return assemble(results, progress=progress)


def evaluate_folder(
    pred: str | os.PathLike[str],
    gt: str | os.PathLike[str],
    *,
    settings: EvaluationSettings | None = None,
    options: CountingOptions | None = None,
    metrics: str | Iterable[str] = ("iou", "dice"),
    preset: str | None = None,
    aggregation: str | None = None,
    empty: float | EmptyPolicy | None = None,
    spacing: object = None,
    bootstrap: int = 0,
    seed: int = 0,
    instances: str | None = None,
    connectivity: str | None = None,
    matching: str | None = None,
    criterion: str | None = None,
    comparison: str | None = None,
    object_distances: str | Iterable[str] = (),
    max_detections: int = 100,
    panoptic: bool = False,
    things: str | Iterable[int] | None = None,
    stuffs: str | Iterable[int] | None = None,
    pred_suffix: str = "",
    gt_suffix: str = "",
    images: str | os.PathLike[str] | None = None,
    strict: bool = False,
    jobs: int | None = None,
    keep_going: bool = False,
    journal_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    dask: str | None = None,
    progress: Callable[[CaseResult], None] | None = None,
    inputs: dict[str, Any] | None = None,
    threshold_source: dict[str, Any] | None = None,
) -> FolderEvaluation:
    """Score a folder (or stack) of predictions against ground truth.

    Parameters
    ----------
    pred, gt : path
        Folders matched by file stem, or two stacked ``.npy``/``.npz`` files.
    settings : EvaluationSettings, optional
        Everything below from ``options`` to ``seed`` in one checked object (from
        :func:`~segscore.evaluation.settings.make_settings`); not with those arguments.
    options, metrics, preset, aggregation, empty, spacing, bootstrap, seed
        As for :func:`~segscore.evaluation.settings.make_settings`.
    instances, connectivity, matching, criterion, comparison, object_distances, max_detections
        Object metrics, as for :func:`~segscore.evaluation.settings.make_settings`
        (``per_object.csv``: :meth:`FolderEvaluation.object_rows`).
    panoptic, things, stuffs
        Panoptic pairs, as for :func:`~segscore.evaluation.settings.make_settings`
        (:mod:`segscore.evaluation.panoptic`).
    pred_suffix, gt_suffix : str
        Stripped from file stems before matching (``'_pred'``).
    images : path, optional
        Input images, matched by stem, shown under the report's overlays.
    strict : bool, default False
        Unmatched files are an error.
    jobs : int, optional
        Worker processes (default: all cores; with ``dask='local'``: its workers).
    keep_going : bool, default False
        Record a failing case and score the rest; otherwise the first failure raises.
    journal_dir : path, optional
        Keep a journal of finished cases in this folder, so that an interrupted run can resume.
    resume : bool, default False
        Take the journal's finished cases instead of scoring them again.
    dask : str, optional
        ``'local'`` (a local cluster) or a scheduler address.
    progress : callable, optional
        Called with each case's result as it arrives.
    inputs : dict, optional
        Extra facts recorded in the summary's ``inputs`` (which always records the folders, the
        suffixes and the images folder, so that ``segscore compare`` can read the files again).
    threshold_source : dict, optional
        Where the threshold of ``settings`` was chosen
        (:meth:`~segscore.evaluation.thresholds.ChosenThreshold.as_dict`), recorded as
        ``conventions.threshold_source``.

    Returns
    -------
    FolderEvaluation

    Raises
    ------
    InputError
        On bad settings (before any file is read).
    DatasetError
        On a bad file (naming it), unless ``keep_going``; when no case could be scored.
    """
    if settings is None:
        settings = make_settings(
            options=options,
            metrics=metrics,
            aggregation=aggregation,
            empty=empty,
            preset=preset,
            spacing=spacing,
            bootstrap=bootstrap,
            seed=seed,
            instances=instances,
            connectivity=connectivity,
            matching=matching,
            criterion=criterion,
            comparison=comparison,
            object_distances=object_distances,
            max_detections=max_detections,
            panoptic=panoptic,
            things=things,
            stuffs=stuffs,
        )
    found = match_cases(
        Path(pred),
        Path(gt),
        pred_suffix=pred_suffix,
        target_suffix=gt_suffix,
        images=None if images is None else Path(images),
        strict=strict,
    )
    notes = [
        f"warning: {len(names)} {role} file(s) without a partner: {_shown(names)}"
        for role, names in (
            ("prediction", found.unmatched_pred),
            ("ground truth", found.unmatched_target),
        )
        if names
    ]
    options_ = runner_options(settings)
    journal = None
    if journal_dir is not None:
        journal = _open_journal(Path(journal_dir), options_, list(found.cases), resume, notes)
    elif resume:
        raise DatasetError("`resume` needs `journal_dir`: the folder that holds the journal.")
    try:
        evaluation = _score(
            list(found.cases),
            options_,
            jobs=jobs,
            keep_going=keep_going,
            journal=journal,
            dask=dask,
            progress=progress,
        )
    except KeyboardInterrupt:
        if journal is not None:
            journal.close()  # keeps every finished case for a resume
        raise
    except BaseException:
        if journal is not None:
            journal.close(flush=journal.written)  # a run failing before its first batch: none
        raise
    if journal is not None:
        journal.close()
    scores = metric_scores(evaluation, settings)
    rows, columns = per_case_rows(evaluation, scores, settings.options)
    summary = summarize(
        evaluation,
        settings,
        scores,
        inputs={
            "pred": str(pred),
            "gt": str(gt),
            "pred_suffix": pred_suffix,
            "gt_suffix": gt_suffix,
            "images": None if images is None else str(images),
            "jobs": jobs or os.cpu_count(),
            **({"dask": dask} if dask is not None else {}),
            **(inputs or {}),
        },
        unmatched={"pred": found.unmatched_pred, "gt": found.unmatched_target},
        threshold_source=threshold_source,
    )
    spec = evaluation.counts.spec
    if spec is not None and spec.threshold is not None:
        summary["warnings"] += _predict_threshold_warnings(Path(pred), spec.threshold)
    notes += [f"warning: {text}" for text in summary["warnings"]]
    return FolderEvaluation(settings, found, evaluation, scores, summary, rows, columns, notes)


def evaluate_arrays(
    pred: Any,
    target: Any,
    *,
    settings: EvaluationSettings | None = None,
    names: Sequence[str] | None = None,
    inputs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FolderEvaluation:
    """Score arrays already in memory exactly as :func:`evaluate_folder` scores files.

    Parameters
    ----------
    pred, target : array_like
        One case or a batch, laid out as :func:`segscore.confusion` reads them (the options'
        ``spatial_dims`` and ``multilabel``).
    settings : EvaluationSettings, optional
        As for :func:`evaluate_folder`; or the keyword arguments of
        :func:`~segscore.evaluation.settings.make_settings` in ``kwargs``.
    names : sequence of str, optional
        One name per case (default ``case-0000``, ...).
    inputs : dict, optional
        Facts recorded in the summary's ``inputs``.

    Returns
    -------
    FolderEvaluation
        With no files behind it (``cases`` is empty; the report draws no overlays).

    Examples
    --------
    >>> pred = np.array([[[1, 1], [0, 0]], [[0, 0], [0, 0]]])
    >>> target = np.array([[[1, 0], [0, 0]], [[0, 0], [0, 0]]])
    >>> r = evaluate_arrays(pred, target, metrics="iou")
    >>> r.summary["metrics"]["iou"]["value"], r.summary["metrics"]["iou"]["n_nan"]
    (0.5, 1)
    """
    if settings is None:
        settings = make_settings(**kwargs)
    elif kwargs:
        fail(
            f"`settings` must not be given with {', '.join(sorted(kwargs))}: pass one or the other."
        )
    objects = pair_distances = object_scores = panoptic = None
    lesions: list[Any] = []
    given_target = target  # the ground truth as given (object ids included), for its hash
    if settings.panoptic is not None:
        panoptic, pred, target = case_panoptic(
            np.asarray(pred),
            np.asarray(target),
            runner_options(settings),
            names=("pred", "target"),
            spatial_dims=settings.options.spatial_dims,
        )
    if settings.instances is not None:
        objects, (pair_distances, object_scores, lesions), pred, target = _array_objects(
            pred, target, settings
        )
    counts = confusion(pred, target, options=settings.options)
    n = counts.n_images
    if names is None:
        names = [f"case-{i:04d}" for i in range(n)]
    if len(names) != n:
        fail(f"`names` must hold one name per case ({n}), got {len(names)}.")
    digest = hashlib.sha256()
    for array in (pred, target):
        data = np.ascontiguousarray(np.asarray(array))
        digest.update(str((data.dtype.str, data.shape)).encode() + data.tobytes())
    evaluation = Evaluation(
        list(names),
        counts,
        [],
        None,
        digest.hexdigest(),
        objects=objects,
        object_distances=pair_distances,
        object_scores=object_scores,
        panoptic=panoptic,
    )
    if lesions:
        evaluation.lesions = {
            k: np.array([values[k] for values, _ in lesions], dtype=np.float64)
            for k in lesions[0][0]
        }
        evaluation.lesion_conventions = lesions[0][1]
    evaluation.target_hash = _target_hash(given_target, names)
    if settings.boundary_metrics:
        evaluation = _with_array_distances(evaluation, pred, target, settings)
    scores = metric_scores(evaluation, settings)
    rows, columns = per_case_rows(evaluation, scores, settings.options)
    summary = summarize(evaluation, settings, scores, inputs=dict(inputs or {}))
    return FolderEvaluation(settings, CaseSet([]), evaluation, scores, summary, rows, columns)


def _target_hash(target: Any, names: Sequence[str]) -> str:
    """Hash the case names and each case's ground truth (its dtype, the shape, its bytes)."""
    data = np.ascontiguousarray(np.asarray(target))
    layout = str((data.dtype.str, data.shape)).encode()
    rows = data.reshape(len(names), -1)
    return names_digest(names, [hashlib.sha256(layout + row.tobytes()).hexdigest() for row in rows])


def _array_objects(
    pred: Any, target: Any, settings: EvaluationSettings
) -> tuple[Any, Any, Any, Any]:
    """Return the overlap tables of in-memory cases and the arrays their pixel metrics score."""
    from segscore.metrics.counts import _batch_shape

    p, t = np.asarray(pred), np.asarray(target)
    if p.shape != t.shape:
        fail(f"`pred` and `target` must have the same shape, got {p.shape} and {t.shape}.")
    shape = _batch_shape("pred", p.shape, settings.options.spatial_dims, channel_axis=False)
    options = runner_options(settings)
    pairs = zip(p.reshape(shape), t.reshape(shape), strict=True)
    parts = [case_objects(pi, ti, options, spacing=settings.spacing) for pi, ti in pairs]
    pixels_p = np.stack([x.pred for x in parts]).reshape(p.shape)
    pixels_t = np.stack([x.target for x in parts]).reshape(t.shape)
    distances = [x.distances or {} for x in parts] if options.object_distances else None
    scores = [x.scores for x in parts] if all(x.scores is not None for x in parts) else None
    lesions = [x.lesions for x in parts if x.lesions is not None]
    return [x.table for x in parts], (distances, scores, lesions), pixels_p, pixels_t


def _with_array_distances(
    evaluation: Evaluation, pred: Any, target: Any, settings: EvaluationSettings
) -> Evaluation:
    """Add the boundary metrics of in-memory cases (one surface extraction per case)."""
    from segscore.metrics.boundary import distance_metrics

    found = distance_metrics(
        pred,
        target,
        [m.name for m in settings.boundary_metrics],
        options=settings.options.replace(include_background=settings.distance_background),
        preset=None if settings.preset is None else settings.preset.name,
        spacing=settings.spacing,
        empty=settings.empty,
    )
    evaluation.distances = distance_columns(found)
    evaluation.distance_classes = tuple(found.class_ids)
    evaluation.distance_conventions = distance_record(found)  # the same record as for files
    return evaluation

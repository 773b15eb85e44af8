"""Turn an :class:`~segscore.evaluation.runner.Evaluation` into scores, per-case rows and a summary.

One schema for every metric family (``summary.json``, schema version :data:`SCHEMA_VERSION`):

- ``metrics[name]``: ``kind``, ``higher_is_better``, ``unit``, the aggregated ``value`` and its
  ``aggregation``, statistics of the per-case values (``mean``, ``median``, ``std`` (the
  population standard deviation, ddof 0), ``min``, ``max``), ``n_cases``, ``n_valid``,
  ``n_nan``, ``n_inf``, ``n_excluded``, ``per_class`` (class id -> value), ``class_names`` (class id -> name, the same keys; null without names), ``pooled``
  (overlap metrics: the dataset-pooled value), ``ci95``, ``empty_cases`` and the metric's
  ``conventions`` record; panoptic metrics add ``class_groups``, the mean over the thing, the
  stuff and all classes (:func:`segscore.evaluation.panoptic.panoptic_groups`), and the run's
  ``conventions.panoptic`` records the classes and the layout.
- ``inputs``: what was scored (``n_cases`` scored, ``n_failed``, the content ``hash`` over the
  case names and both files of every scored case, ``gt_hash`` over the names and the
  ground-truth files alone: two runs with equal ``gt_hash`` scored the same ground truth);
  ``failed``: the cases that could not be scored, each with its error; ``unmatched``;
  ``warnings``: what in the data makes the numbers doubtful (:func:`data_warnings`; the command
  prints them too).

How NaN and inf enter the statistics (the same cases for every statistic of a metric): a case's
value is the mean of its valid classes; NaN case values (undefined, e.g. both masks empty) are
left out of every statistic and counted in ``n_nan`` (also ``n_excluded``); infinite values (a
distance to an empty surface) enter every statistic: the mean and the max are then infinite, the
median and the min are read by order, and the standard deviation is undefined (NaN).
``n_valid`` counts the finite values. A failed case is never a value: it is listed in ``failed``
and counted in ``inputs.n_failed``. Non-finite floats are written as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (:func:`segscore.metrics.conventions.jsonable`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from segscore._types import FloatArray
from segscore._version import __version__
from segscore.errors import DatasetError
from segscore.evaluation.runner import Evaluation
from segscore.evaluation.settings import DEFAULT_AGGREGATION, EvaluationSettings
from segscore.evaluation.thresholds import SWEEP_NOTE, SWEEP_THRESHOLDS
from segscore.metrics.conventions import Conventions
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyCase, EmptyPolicy, empty_cases
from segscore.metrics.options import CountingOptions
from segscore.metrics.reduce import Score, score, score_values
from segscore.metrics.registry import MetricSpec

if TYPE_CHECKING:
    from segscore.metrics.presets import Preset

__all__ = [
    "SCHEMA_VERSION",
    "describe_values",
    "metric_scores",
    "per_case_rows",
    "summarize",
    "threshold_sweep",
]

SCHEMA_VERSION = 2
"""Version of the ``summary.json`` and ``per_case.csv`` layout (1: segscore 0.1 before #11)."""


def _median(values: FloatArray) -> float:
    """Return the median of values without NaN as ``np.median`` does (mean of the middle two).

    ``np.median`` imports ``numpy.ma`` on its first call to check for NaN (about 10 ms of every
    command's start-up); the values here never hold NaN.

    >>> _median(np.array([3.0, 1.0, 2.0])), _median(np.array([4.0, 1.0, 2.0, 3.0]))
    (2.0, 2.5)
    >>> _median(np.array([1.0, np.inf])), _median(np.array([-np.inf, np.inf]))
    (inf, nan)
    """
    ordered = np.sort(values)
    half = ordered.size // 2
    if ordered.size % 2:
        return float(ordered[half])
    with np.errstate(invalid="ignore"):  # -inf and inf in the middle: NaN, as np.median
        return float((ordered[half - 1] + ordered[half]) / 2)


def describe_values(values: FloatArray) -> dict[str, Any]:
    """Statistics of per-case values under the rule of the module docstring.

    Examples
    --------
    >>> d = describe_values(np.array([1.0, 3.0, np.nan, np.inf]))
    >>> d["mean"], d["median"], d["std"], d["max"], (d["n_valid"], d["n_nan"], d["n_inf"])
    (inf, 3.0, nan, inf, (2, 1, 1))
    >>> describe_values(np.array([0.5, 1.0]))["std"]
    0.25
    """
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    nan = np.isnan(flat)
    used = flat[~nan]
    n_inf = int(np.isinf(used).sum())
    stats: dict[str, Any] = {
        "n_cases": int(flat.size),
        "n_valid": int(used.size - n_inf),
        "n_nan": int(nan.sum()),
        "n_inf": n_inf,
        "n_excluded": int(nan.sum()),
    }
    if used.size == 0:
        stats.update(mean=math.nan, median=math.nan, std=math.nan, min=math.nan, max=math.nan)
        return stats
    has_inf = n_inf > 0
    if has_inf:
        mean = math.inf if np.any(used == math.inf) else -math.inf
        if np.any(used == math.inf) and np.any(used == -math.inf):
            mean = math.nan
    else:
        mean = math.fsum(used.tolist()) / used.size
    stats.update(
        mean=float(mean),
        median=_median(used),
        std=math.nan if has_inf else float(np.std(used)),
        min=float(np.min(used)),
        max=float(np.max(used)),
    )
    return stats


def _distance_cells(evaluation: Evaluation, spec: MetricSpec) -> FloatArray:
    """Return the (N, C_d) values of a boundary metric (asd: the mean of its two directions)."""
    distances = evaluation.distances or {}
    if spec.name in distances:
        return np.asarray(distances[spec.name], dtype=np.float64)
    a = distances[f"{spec.name}_pred_to_target"]
    b = distances[f"{spec.name}_target_to_pred"]
    return np.asarray((a + b) / 2.0, dtype=np.float64)


def _boundary_empty_cases(counts: Counts, columns: Sequence[int]) -> dict[str, int]:
    kept = counts.select(classes=list(columns)) if columns else counts
    cases = empty_cases(kept.tp, kept.fp, kept.fn)
    return {case.value: int(cases[case].sum()) for case in EmptyCase}


def metric_scores(evaluation: Evaluation, settings: EvaluationSettings) -> dict[str, Score]:
    """Return the :class:`~segscore.Score` of every metric of ``settings``, in their order."""
    out: dict[str, Score] = {}
    counts = evaluation.counts
    objects = _object_scores(evaluation, settings)
    for spec in settings.metrics:
        policy = settings.empty_for(spec)
        rule = settings.aggregation_for(spec)
        if spec.kind == "instance":
            out[spec.name] = objects[spec.name]
            continue
        if spec.kind == "overlap":
            out[spec.name] = score(
                counts,
                spec.name,
                aggregation=rule,
                empty=policy,
                options=settings.options,
                preset=_name(settings.preset_for(spec)),
            )
            continue
        class_ids = tuple(evaluation.distance_classes)
        ids = counts.spec.class_ids if counts.spec is not None else ()
        columns = [ids.index(k) for k in class_ids if k in ids]
        conventions = Conventions(
            metric=spec.name,
            kind=spec.kind,
            counting=counts.spec,
            include_background=settings.distance_background,
            classes=class_ids,
            class_names=(
                None
                if settings.options.class_names is None
                else tuple(settings.options.class_name(c) for c in columns)
            ),
            empty=policy,
            aggregation=rule,
            boundary=evaluation.distance_conventions,
            preset=_name(settings.preset_for(spec)),
        )
        out[spec.name] = score_values(
            _distance_cells(evaluation, spec),
            conventions,
            empty_cases=_boundary_empty_cases(counts, columns),
        )
    return out


def _name(preset: Preset | None) -> str | None:
    return None if preset is None else preset.name


def _object_scores(
    evaluation: Evaluation, settings: EvaluationSettings, *, aggregation: str | None = None
) -> dict[str, Score]:
    """Score the object metrics from the cases' overlap tables (one matching per rule/policy).

    ``aggregation`` overrides the settings' rule (the summary's ``pooled`` entry).
    """
    specs = settings.instance_metrics
    if not specs:
        return {}
    if settings.panoptic is not None:
        from segscore.evaluation.panoptic import panoptic_metric_scores

        return panoptic_metric_scores(evaluation, settings, aggregation=aggregation)
    if evaluation.objects is None or settings.instances is None:
        raise DatasetError("object metrics were asked for but no case has objects; this is a bug.")
    from segscore.metrics.instance.metrics import score_counts

    lesions = [m for m in specs if m.base.startswith("lesion_")]
    coco = [m for m in specs if m.base in ("ap", "ar")]
    specs = tuple(m for m in specs if m not in coco and m not in lesions)
    found: dict[str, Score] = {m.name: _lesion_score(evaluation, settings, m) for m in lesions}
    if coco:
        found.update(_coco_scores(evaluation, settings, coco, aggregation))
    if not specs:
        return found
    counts, aji = _matched(evaluation, settings)
    groups: dict[tuple[str, str], list[MetricSpec]] = {}
    for spec in specs:
        key = (aggregation or settings.aggregation_for(spec), repr(settings.empty_for(spec)))
        groups.setdefault(key, []).append(spec)
    for members in groups.values():
        found.update(
            score_counts(
                counts,
                aji,
                members,
                aggregation=aggregation or settings.aggregation_for(members[0]),  # type: ignore[arg-type]
                empty=settings.empty_for(members[0]),
                preset=_name(settings.preset_for(members[0])),
            )
        )
    return found


def _matched(evaluation: Evaluation, settings: EvaluationSettings) -> tuple[Any, dict[str, Any]]:
    """Match the cases' objects once at every threshold the object metrics need (cached).

    The scores under the run's rule, the pooled entry and the bootstrap all read these exact
    per-image counts and AJI sums, so the objects of a run are matched once.
    """
    if evaluation.matched is not None:
        return evaluation.matched  # type: ignore[no-any-return]
    from segscore.metrics.instance.aji import AJI_METRICS
    from segscore.metrics.instance.metrics import (
        aggregated_jaccard,
        instance_counts,
        thresholds_of,
    )

    assert evaluation.objects is not None
    assert settings.instances is not None
    specs = [
        m
        for m in settings.instance_metrics
        if m.base not in ("ap", "ar") and not m.base.startswith("lesion_")
    ]
    thresholds = dict.fromkeys(t for m in specs for t in thresholds_of(m))
    chosen = settings.instances
    counts = instance_counts(
        evaluation.objects,
        thresholds=tuple(thresholds) or (0.5,),
        matching=chosen.matching,  # type: ignore[arg-type]
        criterion=chosen.criterion,  # type: ignore[arg-type]
        comparison=chosen.comparison,  # type: ignore[arg-type]
    )
    aji = {
        m.base: aggregated_jaccard(evaluation.objects, variant=AJI_METRICS[m.base])
        for m in specs
        if m.base in AJI_METRICS
    }
    evaluation.matched = (counts, aji)
    return counts, aji


def _lesion_score(evaluation: Evaluation, settings: EvaluationSettings, spec: MetricSpec) -> Score:
    """Score a lesion-wise metric: each case's BraTS 2023 value, then the mean over cases."""
    if evaluation.lesions is None or spec.name not in evaluation.lesions:
        raise DatasetError(f"lesion metric {spec.name!r} was not computed; this is a bug.")
    record = (evaluation.lesion_conventions or {}).get(spec.name, {})
    conventions = Conventions(
        spec.name,
        "instance",
        None,
        True,
        (1,),
        None,
        EmptyPolicy(),
        settings.aggregation_for(spec),
        instance=record.get("instance"),
    )
    return score_values(evaluation.lesions[spec.name][:, None], conventions)


def _coco_scores(
    evaluation: Evaluation,
    settings: EvaluationSettings,
    specs: Sequence[MetricSpec],
    aggregation: str | None,
) -> dict[str, Score]:
    """COCO metrics of components of probability maps (each object's mean probability)."""
    from segscore.metrics.instance.coco_metrics import coco_score_tables

    assert evaluation.objects is not None
    assert settings.instances is not None
    if evaluation.object_scores is None:
        raise DatasetError(
            f"COCO metrics ({', '.join(m.name for m in specs)}) need detection scores, but the "
            "predictions are masks: give probability maps (float) with --instances components."
        )
    found: dict[str, Score] = {}
    for spec in specs:
        found.update(
            coco_score_tables(
                evaluation.objects,
                evaluation.object_scores,
                [spec.name],
                max_detections=settings.instances.max_detections,
                aggregation=aggregation or settings.aggregation_for(spec),  # type: ignore[arg-type]
                empty=settings.empty_for(spec),
                preset=_name(settings.preset_for(spec)),
            )
        )
    return found


def _value_intervals(
    evaluation: Evaluation, settings: EvaluationSettings, spec: MetricSpec, s: Score
) -> tuple[list[float] | None, list[float] | None]:
    """Bootstrap intervals of a boundary or object metric (object metrics: pooled too)."""
    from segscore.metrics.bootstrap import bootstrap_statistic, bootstrap_values

    common: dict[str, Any] = {"n_resamples": settings.bootstrap, "rng": settings.seed}
    rule = s.conventions.aggregation
    per_case = None
    if rule not in ("pooled", "pooled_micro"):
        per_case = list(bootstrap_values(s.cells, aggregation=rule, **common))  # type: ignore[arg-type]
    if spec.kind == "instance" and evaluation.panoptic is not None:
        from segscore.metrics.instance.panoptic import panoptic_score_counts

        found = evaluation.panoptic
        empty = settings.empty_for(spec)

        def pooled_pq(rows: np.ndarray[Any, Any]) -> float:
            taken = found.take(rows)
            return panoptic_score_counts(taken, spec.name, empty=empty)[spec.name].value

        interval = list(bootstrap_statistic(found.n_images, pooled_pq, **common))
        return (interval if per_case is None else per_case), interval  # ci95: the value's rule
    if (
        spec.kind != "instance"
        or spec.base in ("ap", "ar")  # COCO: a pooled resample would redo every curve
        or spec.base.startswith("lesion_")  # per case only (BraTS 2023)
        or evaluation.objects is None
        or settings.instances is None
    ):
        return per_case, None
    from segscore.metrics.instance.metrics import score_counts

    counts, matched_aji = _matched(evaluation, settings)
    aji = {k: v for k, v in matched_aji.items() if k == spec.base}
    policy = settings.empty_for(spec)

    def pooled(rows: np.ndarray[Any, Any]) -> float:
        taken = {k: (num[rows], den[rows]) for k, (num, den) in aji.items()}
        found = score_counts(counts.take(rows), taken, [spec], aggregation="pooled", empty=policy)
        return found[spec.name].value

    return per_case, list(bootstrap_statistic(counts.n_images, pooled, **common))


def per_case_rows(
    evaluation: Evaluation, scores: dict[str, Score], options: CountingOptions
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return one tidy row per (case, class) and the column names.

    Every row has ``status`` ``'ok'``; a failed case has one row with ``status`` ``'failed'``, its
    ``error`` and no value (empty cells, never a number).
    """
    c = evaluation.counts
    ids = c.spec.class_ids if c.spec is not None else tuple(range(c.n_classes))
    overlap = {m: s for m, s in scores.items() if s.conventions.kind == "overlap"}
    other = {m: s for m, s in scores.items() if s.conventions.kind != "overlap"}
    first = next(iter(overlap.values()), None)
    columns_kept = list(first.columns if first is not None else options.kept_columns(c.n_classes))
    names_of = {}
    if first is not None and first.conventions.class_names is not None:
        names_of = dict(zip(first.columns, first.conventions.class_names, strict=True))
    # Every array is turned into Python lists once: indexing numpy scalars cell by cell cost more
    # than the counting of a 512x512 case.
    overlap_cells = {m: s.cells.tolist() for m, s in overlap.items()}
    other_cells = {m: (s.class_ids, s.cells.tolist()) for m, s in other.items()}
    fields = [np.asarray(getattr(c, f))[:, columns_kept].tolist() for f in ("tp", "fp", "fn", "tn")]
    # the spacing of each case's boundary metrics (file headers may differ case by case), as
    # --spacing takes it
    spacings = evaluation.distance_spacings
    spacing_text = (
        None if spacings is None else [",".join(repr(float(v)) for v in s) for s in spacings]
    )
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(evaluation.names):
        tps, fps, fns, tns = (f[i] for f in fields)
        for j, k in enumerate(columns_kept):
            class_id = int(ids[k])
            row: dict[str, Any] = {"case": name, "class": class_id}
            if names_of:
                row["class_name"] = names_of.get(k, str(class_id))
            for m, cells in overlap_cells.items():
                row[m] = float(cells[i][j])
            for m, (class_ids, cells) in other_cells.items():
                position = class_ids.index(class_id) if class_id in class_ids else None
                row[m] = math.nan if position is None else float(cells[i][position])
            if spacing_text is not None:
                row["spacing"] = spacing_text[i]
            tp, fp, fn, tn = tps[j], fps[j], fns[j], tns[j]
            row.update(
                tp=tp,
                fp=fp,
                fn=fn,
                tn=tn,
                target_empty=tp + fn == 0,
                prediction_empty=tp + fp == 0,
                status="ok",
                error="",
            )
            rows.append(row)
    for name, error in evaluation.failures:
        rows.append({"case": name, "status": "failed", "error": error})
    columns = ["case", "class", *(["class_name"] if names_of else []), *scores]
    columns += ["spacing"] if spacing_text is not None else []
    columns += ["tp", "fp", "fn", "tn", "target_empty", "prediction_empty", "status", "error"]
    return rows, columns


def threshold_sweep(sweep: np.ndarray[Any, Any], settings: EvaluationSettings) -> dict[str, Any]:
    """IoU and Dice at every sweep threshold from exact counts (N, T, 4), and the best threshold.

    The best threshold is chosen on the evaluated cases themselves: an optimistic choice that
    must not be reported as a held-out result (the record's ``note`` says so and points to
    ``--threshold-from``, :mod:`segscore.evaluation.thresholds`).
    """
    from segscore.metrics.registry import get_metric

    curves: dict[str, list[float]] = {"iou": [], "dice": []}
    specs = {m: get_metric(m) for m in curves}
    for k in range(sweep.shape[1]):
        block = sweep[:, k, :].astype(np.int64)
        counts = Counts(block[:, :1], block[:, 1:2], block[:, 2:3], block[:, 3:4])
        for m, spec in specs.items():
            curves[m].append(
                score(
                    counts,
                    m,
                    aggregation=settings.aggregation_for(spec),
                    empty=settings.empty_for(spec),
                ).value
            )
    values = np.asarray(curves["iou"], dtype=np.float64)
    best = int(np.nanargmax(values)) if np.any(~np.isnan(values)) else 0
    return {
        "thresholds": list(SWEEP_THRESHOLDS),
        "iou": curves["iou"],
        "dice": curves["dice"],
        "best_metric": "iou",
        "best_threshold": SWEEP_THRESHOLDS[best],
        "best_value": float(values[best]),
        "note": SWEEP_NOTE,
    }


def _per_case(s: Score) -> FloatArray:
    """Return each case's value: the mean of its valid classes (micro value for ``*_micro``)."""
    return np.asarray(s.per_image, dtype=np.float64)


def data_warnings(
    evaluation: Evaluation,
    settings: EvaluationSettings,
    threshold_source: dict[str, Any] | None = None,
) -> list[str]:
    """Return warnings about the data that the numbers depend on (empty when all looks right).

    An ignore label with label maps whose ground truth holds no class but 0 in any case: every
    other pixel was the ignore label (or there is none), so only the background is scored. The
    usual cause is binary masks stored as 0/255 read with ``--class-names voc`` (or
    ``--ignore-index 255``), which makes their foreground the ignore label. A threshold chosen
    (``threshold_source``) on the very cases being scored.
    """
    options = settings.options
    counts = evaluation.counts
    out: list[str] = []
    if (
        options.ignore_index is not None
        and options.mode == "multiclass"
        and counts.n_classes > 1
        and counts.n_images > 0
        and not np.any((counts.tp + counts.fn)[:, 1:])
    ):
        out.append(
            "no ground-truth pixel of any case has a class other than 0: the other pixels are "
            f"the ignore label {options.ignore_index} (or there are none), so only class 0 is "
            "scored; binary masks stored as 0/255 need no ignore label or label set (255 is "
            "their foreground)"
        )
    source = threshold_source or {}
    if source.get("inputs_hash_there") == "sha256:" + evaluation.input_hash:
        out.append(
            f"the threshold was chosen on these very cases ({source['chosen_on']} "
            "scored the same files): the result is optimistic, not a held-out score"
        )
    return out


def summarize(
    evaluation: Evaluation,
    settings: EvaluationSettings,
    scores: dict[str, Score] | None = None,
    *,
    inputs: dict[str, Any] | None = None,
    unmatched: dict[str, list[str]] | None = None,
    threshold_source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the summary record written to ``summary.json`` (schema in the module docstring).

    ``threshold_source`` says where the threshold came from when it was chosen on another run
    (:meth:`~segscore.evaluation.thresholds.ChosenThreshold.as_dict`); it is recorded as
    ``conventions.threshold_source`` (null otherwise).
    """
    scores = metric_scores(evaluation, settings) if scores is None else scores
    pooled_objects = _object_scores(evaluation, settings, aggregation="pooled")
    out_metrics: dict[str, Any] = {}
    for m, s in scores.items():
        spec = next(x for x in settings.metrics if x.name == m)
        conv = s.conventions
        entry: dict[str, Any] = {
            "kind": spec.kind,
            "higher_is_better": spec.higher_is_better,
            "unit": spec.unit,
            "value": s.value,
            "aggregation": conv.aggregation,
            **describe_values(_per_case(s)),
            "pooled": None,
            "per_class": {str(k): float(v) for k, v in zip(s.class_ids, s.per_class, strict=True)},
            "class_names": (
                None
                if conv.class_names is None
                else {str(k): n for k, n in zip(s.class_ids, conv.class_names, strict=True)}
            ),
            "class_mean": (
                float(np.nanmean(s.per_class)) if np.any(~np.isnan(s.per_class)) else math.nan
            ),
            "value_entries": {
                "n_valid": s.n_valid,
                "n_nan": s.n_nan,
                "n_inf": s.n_inf,
                "n_excluded": s.n_excluded,
            },
            "empty_cases": dict(s.empty_cases),
            "ci95": None,
            "ci95_pooled": None,
            "conventions": conv.as_dict(),
        }
        if spec.kind == "instance" and not spec.base.startswith("lesion_"):
            entry["pooled"] = pooled_objects[m].value
        if spec.kind == "instance" and settings.panoptic is not None:
            from segscore.evaluation.panoptic import panoptic_groups

            entry["class_groups"] = panoptic_groups(s, settings.panoptic)
        if spec.kind != "overlap" and settings.bootstrap > 0:
            entry["ci95"], entry["ci95_pooled"] = _value_intervals(evaluation, settings, spec, s)
        if spec.kind == "overlap":
            pooled = score(
                evaluation.counts,
                m,
                aggregation="pooled",
                empty=conv.empty,
                options=settings.options,
            )
            entry["pooled"] = pooled.value
            if settings.bootstrap > 0:
                from segscore.metrics.bootstrap import bootstrap_ci

                for key, rule in (("ci95", conv.aggregation), ("ci95_pooled", "pooled")):
                    entry[key] = list(
                        bootstrap_ci(
                            evaluation.counts,
                            m,
                            n_resamples=settings.bootstrap,
                            rng=settings.seed,
                            aggregation=rule,  # type: ignore[arg-type]
                            empty=conv.empty,
                            include_background=settings.options.background,
                        )
                    )
        out_metrics[m] = entry
    shared = {
        "counting": None if evaluation.counts.spec is None else evaluation.counts.spec.as_dict(),
        "options": settings.options.as_dict(),
        "aggregation": settings.aggregation
        or (DEFAULT_AGGREGATION if settings.preset is None else settings.preset.aggregation),
        "preset": None if settings.preset is None else settings.preset.name,
        "palette": None if settings.palette is None else settings.palette.name,
        # --spacing as given (None: each file's header, else 1 per axis; boundary records each)
        "spacing": None if settings.spacing is None else list(settings.spacing),
        "include_background": settings.options.background,
        "distance_include_background": settings.distance_background,
        "segscore_version": __version__,
        "boundary": evaluation.distance_conventions,
        "instances": None if settings.instances is None else settings.instances.as_dict(),
        "panoptic": None if settings.panoptic is None else settings.panoptic.as_dict(),
        "threshold_source": threshold_source,
        "bootstrap": (
            {
                "method": "percentile",
                "resamples": settings.bootstrap,
                "seed": settings.seed,
                "over": "cases",
            }
            if settings.bootstrap > 0
            else None
        ),
        "statistics": "NaN case values excluded and counted (n_nan); infinite values included "
        "(mean and max infinite, std undefined); failed cases are not values",
    }
    record: dict[str, Any] = {
        "schema": "segscore.summary",
        "schema_version": SCHEMA_VERSION,
        "segscore_version": __version__,
        "nonfinite_encoding": "strings 'NaN', 'Infinity', '-Infinity'",
        "inputs": {
            **(inputs or {}),
            "n_cases": len(evaluation.names),
            "n_failed": len(evaluation.failures),
            "hash": "sha256:" + evaluation.input_hash,
            "gt_hash": "sha256:" + evaluation.target_hash,
        },
        "conventions": shared,
        "metrics": out_metrics,
        "threshold_sweep": None,
        "unmatched": unmatched or {"pred": [], "gt": []},
        "failed": [{"case": n, "error": e} for n, e in evaluation.failures],
        "warnings": data_warnings(evaluation, settings, threshold_source),
    }
    if evaluation.sweep is not None:
        record["threshold_sweep"] = threshold_sweep(evaluation.sweep, settings)
    return record

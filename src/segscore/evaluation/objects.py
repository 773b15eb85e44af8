"""One row per object: ``per_object.csv``, what each ground-truth and predicted object became.

For every case, each target object and each predicted object gets a row: its id and size, whether
it was matched at the run's matching threshold (``status``: ``matched``, ``missed`` for a target
object, ``false_positive`` for a predicted one), its partner and the pair's IoU and Dice, and,
matched or not, the object of the other side it overlaps most (``best_partner``, ``best_iou``) and
how many it overlaps (``n_overlapping``). A predicted object that overlaps two or more target
objects by most of their area is a merge; a target object with two or more overlapping predicted
objects is split: ``n_overlapping`` shows both without a second pass over the pixels.

The rows are computed from the exact overlap tables of the cases
(:class:`~segscore.metrics.instance.table.OverlapTable`) and the same matching conventions as the
object metrics, at the threshold of the first object metric that has one (0.5 otherwise).

The report (``report.html``) shows the same fates: :func:`case_object_maps` turns a case's
re-read files into the label maps the table was made of, with each object's fate, for the
object overlays; :func:`object_report` gathers the curve of the pooled F1 and DSB2018 score over
the IoU thresholds 0.5:0.05:0.95 (:func:`~segscore.metrics.instance.metrics.score_tables`) and
every target object's size and matched IoU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from segscore.evaluation.runner import Evaluation
from segscore.evaluation.settings import EvaluationSettings
from segscore.metrics.instance.merges import Merges, merges
from segscore.metrics.reduce import Score

if TYPE_CHECKING:
    from segscore.metrics.instance.matching import Matching
    from segscore.metrics.instance.table import OverlapTable
    from segscore.report.objects import ObjectReport
    from segscore.report.overlay import CaseObjects

__all__ = [
    "OBJECT_COLUMNS",
    "Merges",
    "case_object_maps",
    "matching_threshold",
    "merges",
    "object_contrast",
    "object_report",
    "per_object_rows",
]

OBJECT_COLUMNS = (
    "case",
    "object",
    "id",
    "size",
    "status",
    "partner",
    "iou",
    "dice",
    "best_partner",
    "best_iou",
    "n_overlapping",
    "threshold",
)
"""The columns of ``per_object.csv``, in order."""


def object_contrast(
    scores: Mapping[str, Score], names: Sequence[str], tables: Sequence[OverlapTable] | None
) -> str | None:
    """Return a sentence about the case where pixel IoU most overstates the object score.

    The object score is the first of ``f1@T``, ``dsb@...``, ``pq`` that was scored; the
    sentence names the case's merged and missed objects (:func:`merges`). None without both
    scores or when the gap is small (<= 0.1).
    """
    if "iou" not in scores or tables is None:
        return None
    chosen = next((m for m in scores if m.split("@")[0] in ("f1", "dsb", "pq")), None)
    if chosen is None:
        return None
    iou = scores["iou"].per_image
    obj = scores[chosen].per_image
    gap = np.where(np.isnan(iou) | np.isnan(obj), -np.inf, iou - obj)
    i = int(np.argmax(gap))
    if not np.isfinite(gap[i]) or gap[i] <= 0.1:
        return None
    found = merges(tables[i])
    detail = [
        f"{found.merged_predictions} predicted object(s) merging {found.merged_targets} "
        "target objects"
        if found.merged_predictions
        else "",
        f"{found.split_targets} target object(s) split" if found.split_targets else "",
    ]
    said = "; ".join(d for d in detail if d)
    return (
        f"{names[i]}: pixel IoU {iou[i]:.3f} but object {chosen} {obj[i]:.3f}"
        + (f" ({said})" if said else "")
        + " - object scores show what pixel IoU hides."
    )


def matching_threshold(settings: EvaluationSettings) -> Fraction:
    """Return the threshold of the per-object rows: the first object metric's, else 1/2."""
    from segscore.metrics.instance.metrics import thresholds_of

    for spec in settings.instance_metrics:
        if spec.base in ("ap", "ar") or spec.base.startswith("lesion_"):
            continue  # COCO matches by score; lesions by BraTS' rules
        found = thresholds_of(spec)
        if found:
            return found[0]
    return Fraction(1, 2)


def _best(
    index: np.ndarray[Any, Any], iou: np.ndarray[Any, Any], other: np.ndarray[Any, Any], n: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per object ``0..n-1``: the partner of largest IoU (-1: none), that IoU, the overlaps."""
    best = np.full(n, -1, dtype=np.int64)
    best_iou = np.zeros(n, dtype=np.float64)
    if index.size:
        # sort by object, then IoU descending: the first pair of each object is its best
        order = np.lexsort((-iou, index))
        first = np.ones(order.size, dtype=bool)
        first[1:] = index[order][1:] != index[order][:-1]
        chosen = order[first]
        best[index[chosen]] = other[chosen]
        best_iou[index[chosen]] = iou[chosen]
    return best, best_iou, np.bincount(index, minlength=n)


def per_object_rows(
    evaluation: Evaluation, settings: EvaluationSettings
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return the rows of ``per_object.csv`` and its columns (module docstring).

    Examples
    --------
    >>> from segscore.evaluation import evaluate_arrays
    >>> pred = np.array([[1, 1, 1, 1, 0, 5]])             # one object over two, one false positive
    >>> target = np.array([[7, 7, 9, 9, 0, 0]])
    >>> r = evaluate_arrays(pred, target, metrics="f1@0.5", instances="labels")
    >>> rows, _ = per_object_rows(r.evaluation, r.settings)
    >>> [(row["object"], row["id"], row["status"], row["n_overlapping"]) for row in rows]
    [('target', 7, 'matched', 1), ('target', 9, 'missed', 1), ('prediction', 1, 'matched', 2), ('prediction', 5, 'false_positive', 0)]
    """
    from segscore.metrics.instance.matching import match

    if evaluation.objects is None or settings.instances is None:
        return [], list(OBJECT_COLUMNS)
    chosen = settings.instances
    t = matching_threshold(settings)
    shown = str(float(t)) if Fraction(str(float(t))) == t else str(t)  # 0.5, not 1/2
    rows: list[dict[str, Any]] = []
    extra = list(chosen.distances)
    columns = [*OBJECT_COLUMNS[:8], *extra, *OBJECT_COLUMNS[8:]]
    per_case = evaluation.object_distances or [{}] * len(evaluation.objects)
    for name, table, found in zip(evaluation.names, evaluation.objects, per_case, strict=True):
        m = match(
            table,
            threshold=t,
            matching=chosen.matching,  # type: ignore[arg-type]
            criterion=chosen.criterion,  # type: ignore[arg-type]
            comparison=chosen.comparison,  # type: ignore[arg-type]
        )
        inter = table.pair_intersection
        union = table.pair_union
        iou = inter / np.maximum(union, 1)
        dice = 2 * inter / np.maximum(table.pair_pred_area + table.pair_target_area, 1)
        sides = (
            ("target", table.target_ids, table.target_areas, table.pair_target, table.pair_pred,
             table.pred_ids, "missed"),
            ("prediction", table.pred_ids, table.pred_areas, table.pair_pred, table.pair_target,
             table.target_ids, "false_positive"),
        )  # fmt: skip
        for role, ids, areas, own, other, other_ids, unmatched in sides:
            n = int(ids.size)
            partner = np.full(n, -1, dtype=np.int64)
            pair_of = np.full(n, -1, dtype=np.int64)
            rank_of = np.full(n, -1, dtype=np.int64)  # position among the matches
            partner[own[m.pairs]] = other[m.pairs]
            pair_of[own[m.pairs]] = m.pairs
            rank_of[own[m.pairs]] = np.arange(m.tp)
            best, best_iou, overlaps = _best(own, iou, other, n)
            for k in range(n):
                matched = partner[k] >= 0
                pair = int(pair_of[k])
                distances = {
                    metric: float(found[metric][rank_of[k]]) if matched and found else ""
                    for metric in extra
                }
                rows.append(
                    {
                        "case": name,
                        "object": role,
                        "id": int(ids[k]),
                        "size": int(areas[k]),
                        "status": "matched" if matched else unmatched,
                        "partner": int(other_ids[partner[k]]) if matched else "",
                        "iou": float(iou[pair]) if matched else "",
                        "dice": float(dice[pair]) if matched else "",
                        **distances,
                        "best_partner": int(other_ids[best[k]]) if best[k] >= 0 else "",
                        "best_iou": float(best_iou[k]),
                        "n_overlapping": int(overlaps[k]),
                        "threshold": shown,
                    }
                )
    return rows, columns


def _spell(t: Fraction) -> str:
    """Return the decimal a threshold was read from (thresholds come from metric names)."""
    return str(float(t))


def _match(table: OverlapTable, settings: EvaluationSettings) -> Matching:
    """Match one case's objects at the per-object threshold, with the run's conventions."""
    from segscore.metrics.instance.matching import match

    chosen = settings.instances
    assert chosen is not None
    return match(
        table,
        threshold=matching_threshold(settings),
        matching=chosen.matching,  # type: ignore[arg-type]
        criterion=chosen.criterion,  # type: ignore[arg-type]
        comparison=chosen.comparison,  # type: ignore[arg-type]
    )


def _dense(labels: np.ndarray[Any, Any], ids: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | None:
    """``k`` (1-based) on the pixels of ``ids[k - 1]``, 0 elsewhere; None if ``ids`` differ.

    Pixels of an id that is not an object of the table (the ignore id) get 0.
    """
    flat = labels.reshape(-1)
    index = np.searchsorted(ids, flat)
    found = index < ids.size
    found[found] = ids[index[found]] == flat[found]
    present = np.unique(index[found])
    if present.size != ids.size:  # the file no longer holds the table's objects
        return None
    dense: np.ndarray[Any, Any] = np.where(found, index + 1, 0).reshape(labels.shape)
    return dense


def case_object_maps(
    pred: np.ndarray[Any, Any],
    target: np.ndarray[Any, Any],
    table: OverlapTable,
    settings: EvaluationSettings,
) -> CaseObjects | None:
    """Return one case's objects and their fate for the report's overlay.

    Parameters
    ----------
    pred, target : ndarray
        The case's arrays as read from its files.
    table : OverlapTable
        The case's overlap table from the run (``Evaluation.objects``).
    settings : EvaluationSettings
        The run's settings; ``settings.instances`` says how files become objects.

    Returns
    -------
    CaseObjects or None
        The label maps (relabelled as the runner does:
        :func:`~segscore.evaluation.runner.object_label_maps`) and which objects were matched at
        :func:`matching_threshold`. None without objects, or when the arrays do not give the
        table's objects (the files changed since the run).

    Raises
    ------
    InputError
        On arrays the runner would refuse.

    Examples
    --------
    >>> from segscore.evaluation import evaluate_arrays
    >>> pred, target = np.array([[1, 1, 0, 5]]), np.array([[7, 7, 9, 0]])
    >>> r = evaluate_arrays(pred, target, metrics="f1@0.5", instances="labels")
    >>> o = case_object_maps(pred, target, r.evaluation.objects[0], r.settings)
    >>> o.target_labels.tolist(), o.target_matched.tolist(), o.pred_matched.tolist()
    ([[1, 1, 2, 0]], [True, False], [True, False])
    """
    from segscore.evaluation.runner import EvaluateOptions, object_label_maps
    from segscore.report.overlay import CaseObjects

    chosen = settings.instances
    if chosen is None:
        return None
    options = EvaluateOptions(
        threshold=settings.options.threshold,
        threshold_comparison=settings.options.threshold_test,
        ignore_index=settings.options.ignore_index,
        instances=chosen.mode,
        connectivity=chosen.connectivity,
    )
    obj_p, obj_t, _ = object_label_maps(pred, target, options)
    target_labels = _dense(np.asarray(obj_t), table.target_ids)
    pred_labels = _dense(np.asarray(obj_p), table.pred_ids)
    if target_labels is None or pred_labels is None:
        return None
    m = _match(table, settings)
    target_matched = np.zeros(table.n_target, dtype=bool)
    target_matched[m.target_index] = True
    pred_matched = np.zeros(table.n_pred, dtype=bool)
    pred_matched[m.pred_index] = True
    return CaseObjects(target_labels, pred_labels, target_matched, pred_matched)


def object_report(evaluation: Evaluation, settings: EvaluationSettings) -> ObjectReport | None:
    """Return what the report shows about the objects of a run (None without objects).

    The curve is :func:`~segscore.metrics.instance.metrics.score_tables` of ``f1@T`` and
    ``dsb@T`` for T in 0.5:0.05:0.95 and of ``dsb@0.5:0.95``, pooled, with the run's matching
    conventions; sizes, matched IoUs, merges (predicted objects that cover more than half of
    each of two or more target objects) and splits (target objects that hold more than half of
    each of two or more predicted objects) come from the same tables, matched at
    :func:`matching_threshold`.

    Examples
    --------
    >>> from segscore.evaluation import evaluate_arrays
    >>> pred = np.array([[1, 1, 1, 1, 0, 5]])             # one object over two, one false positive
    >>> target = np.array([[7, 7, 9, 9, 0, 0]])
    >>> e = evaluate_arrays(pred, target, metrics="f1@0.5", instances="labels")
    >>> r = object_report(e.evaluation, e.settings)
    >>> r.f1[0], r.n_merged, r.n_split, r.sizes.tolist(), r.iou.tolist()
    (0.4, 1, 0, [2, 2], [0.5, 0.0])
    """
    from segscore.metrics.instance.matching import threshold_range
    from segscore.metrics.instance.metrics import score_tables
    from segscore.report.objects import ObjectReport

    chosen = settings.instances
    if evaluation.objects is None or chosen is None:
        return None
    tables = evaluation.objects
    t = matching_threshold(settings)
    ts = threshold_range()
    names = [f"{base}@{_spell(x)}" for base in ("f1", "dsb") for x in ts]
    at = f"f1@{_spell(t)}"
    scores = score_tables(
        tables,
        [*dict.fromkeys([*names, at, "dsb@0.5:0.95"])],
        aggregation="pooled",
        matching=chosen.matching,  # type: ignore[arg-type]
        criterion=chosen.criterion,  # type: ignore[arg-type]
        comparison=chosen.comparison,  # type: ignore[arg-type]
    )
    sizes, ious, matched, labels = [], [], [], []
    n_fp = n_merged = n_split = 0
    for name, table in zip(evaluation.names, tables, strict=True):
        m = _match(table, settings)
        iou = np.zeros(table.n_target, dtype=np.float64)
        pairs = m.pairs
        iou[table.pair_target[pairs]] = table.pair_intersection[pairs] / table.pair_union[pairs]
        done = np.zeros(table.n_target, dtype=bool)
        done[m.target_index] = True
        sizes.append(table.target_areas)
        ious.append(iou)
        matched.append(done)
        labels += [f"{name}: target {int(i)}" for i in table.target_ids.tolist()]
        n_fp += m.fp
        twice = 2 * table.pair_intersection  # exact: "more than half" is 2 * inter > area
        covers = table.pair_pred[twice > table.pair_target_area]  # most of the target inside
        holds = table.pair_target[twice > table.pair_pred_area]  # most of the prediction inside
        n_merged += int(np.count_nonzero(np.bincount(covers, minlength=table.n_pred) >= 2))
        n_split += int(np.count_nonzero(np.bincount(holds, minlength=table.n_target) >= 2))
    return ObjectReport(
        thresholds=tuple(float(x) for x in ts),
        f1=tuple(scores[f"f1@{_spell(x)}"].value for x in ts),
        dsb=tuple(scores[f"dsb@{_spell(x)}"].value for x in ts),
        dsb_mean=scores["dsb@0.5:0.95"].value,
        sizes=np.concatenate([np.zeros(0, np.int64), *sizes]).astype(np.int64),
        iou=np.concatenate([np.zeros(0), *ious]),
        matched=np.concatenate([np.zeros(0, bool), *matched]),
        names=tuple(labels),
        threshold=float(t),
        f1_at_threshold=scores[at].value,
        n_pred=sum(table.n_pred for table in tables),
        n_false_positive=n_fp,
        n_merged=n_merged,
        n_split=n_split,
        criterion=chosen.criterion,
        comparison=chosen.comparison,
    )

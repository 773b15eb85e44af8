"""COCO mask AP and AR, from overlap tables and one detection score per predicted object.

The object metrics of :mod:`.metrics` need no scores: they match objects once and count.
COCO's average precision ranks the predicted objects ("detections") by a confidence score and
averages the precision over recall levels, so a segmentation model that gives no score gets
one per object from its probability map with :func:`~.detection_scores.object_scores`.

The definition is pycocotools' ``COCOeval(iouType='segm')`` (version 2.0.11, ``cocoeval.py``:
``evaluateImg`` and ``accumulate``), reproduced rule by rule from one exact overlap table per
image (:func:`~segscore.metrics.instance.table.overlap_table`), for one category:

- **Matching**, per image and IoU threshold ``t``: detections by decreasing score (ties: the
  order of their ids), only the ``max_detections`` best of each image; each detection takes,
  among the target objects not yet matched with IoU ``>= t``, the one of largest IoU (ties: the
  last in target id order). Targets that are *ignored* (crowd regions, or outside the size range
  being scored) are taken only when no other target qualifies. This is greedy, not optimal: a
  high-scoring detection may take a target that a later one overlaps more.
- **Ignoring**: a detection matched to an ignored target, and an unmatched detection outside the
  size range, is neither a true nor a false positive.
- **Accumulation** is pooled over images: the detections of all images are ranked together by
  score (ties: image order, then rank in the image), and with ``TP_k`` and ``FP_k`` the counts in
  the first ``k``, precision ``TP_k / (TP_k + FP_k)`` is made non-increasing from the right; at
  each recall point ``r`` in 0, 0.01, ..., 1 the interpolated precision is its value at the first
  ``k`` with ``TP_k / G >= r`` (``G`` = targets not ignored), or 0 when recall never reaches
  ``r``. AP is the mean of the 101 values (and of the thresholds); AR the mean over thresholds
  of the final recall ``TP / G``.
- **Sizes** ("area") are pixel counts of the masks (voxels for volumes), in COCO's ranges with
  both ends included: all [0, 1e10], small [0, 32²], medium [32², 96²], large [96², 1e10].
- **No target** (``G == 0``: pycocotools writes -1 and its ``summarize`` skips it): the empty
  policy's zero-division value (NaN by default: left out of means and counted).

Exactness. IoU thresholds are exact fractions (``t = 1/2, 11/20, ..., 19/20``) and each test is
decided in integers (``intersection * den >= numerator * union``). pycocotools compares the float
IoU with ``np.linspace(.5, .95, 10)``; every one of those ten floats is at or below the double
nearest its decimal (0.8999999999999999 for 0.9), so an IoU exactly at a threshold passes in both
and the matches are the same. A threshold given as ``np.arange``'s 0.6000000000000001 is read as
3/5 here (it would fail pycocotools' exact ties). Recall points: pycocotools' floats
``np.linspace(0, 1, 101)`` lie *above* the doubles nearest ``k / 100`` for ``k`` in
:data:`PYCOCOTOOLS_STRICT_RECALL_POINTS`, so a recall of exactly 0.35 does not reach its point
there; ``recall_rule='pycocotools'`` (default) reproduces this in integers (``>`` at those ten
points, ``>=`` elsewhere), ``'exact'`` uses ``>=`` at all 101. Precision is ``tp / (tp + fp)``;
pycocotools divides by ``tp + fp + 2.2e-16``, which changes a value only where ``tp + fp == 1``
(1 becomes 0.9999999999999998). Means are exactly rounded sums (pycocotools: ``np.mean``).
So results equal pycocotools' to about 1e-15.

Not the same as pycocotools: one category (class-agnostic objects; score each class's objects
separately and average the per-class values for COCO's mean over categories); no run-length
encoding (label maps cannot hold overlapping objects of one image); pycocotools' ``-1``
sentinel is NaN (the empty policy); an empty detection list gives AP 0 where pycocotools' ``loadRes([])``
raises ``IndexError``. Crowd regions (``crowd=``): target objects named as crowd are ignored,
their IoU with a detection is intersection over the detection's area, and they may be matched by
any number of detections, as in pycocotools.

The registry names (:mod:`segscore.metrics.registry`), ``M`` = ``max_detections``:

=======================  ===================================================  ==================
name                     meaning                                              pycocotools stats
=======================  ===================================================  ==================
``ap``                   AP over IoU 0.5:0.05:0.95, all sizes, ``M``            [0]
``ap@T``, ``ap@A:B``     AP at IoU ``T`` / over ``A:0.05:B``                   [1] ap@0.5,
                                                                              [2] ap@0.75
``ap_small`` ...         AP of small / medium / large objects                  [3], [4], [5]
``ar``, ``arN``          AR over 0.5:0.95, all sizes, ``M`` / ``N`` detections   [6] ar1, [7] ar10,
                                                                              [8] ar100
``ar_small`` ...         AR of small / medium / large objects                  [9], [10], [11]
=======================  ===================================================  ==================

Suffixes combine (``ap@0.5_large``, ``ar10@0.5``). pycocotools' ``summarize`` prints -1 for its
AP lines whenever ``maxDets[2] != 100`` (its ``_summarize`` defaults to 100): crowded images
(nuclei: 100-200 objects) need ``max_detections`` above 100, and the default 100 then lowers AP
(W5: 0.389 instead of 0.513, CONVENTIONS-objects §3 #6). Do not confuse ``ap`` with the DSB2018
score that cellpose calls "ap" (``dsb@T`` here, no scores).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from segscore._types import Aggregation, BoolArray, FloatArray, IntArray
from segscore._validation import check_int, check_option, fail_must
from segscore.metrics.conventions import Conventions
from segscore.metrics.counts import _batch_shape
from segscore.metrics.empty import EmptyPolicy, apply_policy, as_empty_policy, empty_cases
from segscore.metrics.instance.matching import _passes, read_threshold, threshold_range
from segscore.metrics.instance.table import OverlapTable, _as_ids, overlap_table
from segscore.metrics.options import BINARY_FOREGROUND, CountingOptions
from segscore.metrics.reduce import AGGREGATIONS, Score, score_values
from segscore.metrics.registry import MetricSpec, get_metric, parse_metrics

__all__ = [
    "COCO_AREA_RANGES",
    "COCO_IOU_THRESHOLDS",
    "COCO_MAX_DETECTIONS",
    "PYCOCOTOOLS_STRICT_RECALL_POINTS",
    "CocoEvaluation",
    "coco_evaluate",
    "coco_score_tables",
    "coco_scores",
]

RecallRule = Literal["pycocotools", "exact"]
RECALL_RULES: tuple[RecallRule, ...] = ("pycocotools", "exact")

COCO_IOU_THRESHOLDS: tuple[Fraction, ...] = threshold_range("0.5", "0.95", "0.05")
"""COCO's IoU thresholds 0.5, 0.55, ..., 0.95, exact."""

COCO_MAX_DETECTIONS = 100
"""COCO's detections per image (``maxDets[2]``): too few for crowded images (module docstring)."""

COCO_AREA_RANGES: dict[str, tuple[int, int]] = {
    "all": (0, 10**10),
    "small": (0, 32**2),
    "medium": (32**2, 96**2),
    "large": (96**2, 10**10),
}
"""COCO's object size ranges in pixels, both ends included (``Params.areaRng``)."""

PYCOCOTOOLS_STRICT_RECALL_POINTS = frozenset({35, 41, 47, 57, 69, 70, 82, 83, 94, 95})
"""The ``k`` whose float ``np.linspace(0, 1, 101)[k]`` lies above the double nearest ``k / 100``:
there pycocotools needs a recall *above* ``k / 100`` (pycocotools 2.0.11 ``Params.recThrs``; a
test derives the set and checks the integer rule against the float one)."""

N_RECALL_POINTS = 101
_AREAS = tuple(COCO_AREA_RANGES)
_COCO_BASES = ("ap", "ar")


# -- validation -----------------------------------------------------------------------------------


def _image_scores(i: int, given: Any, table: OverlapTable) -> FloatArray:
    """Return the scores of one image in the order of ``table.pred_ids`` (float64)."""
    name = f"scores[{i}]"
    if isinstance(given, Mapping):
        missing = [int(k) for k in table.pred_ids.tolist() if k not in given]
        if missing:
            fail_must(
                name,
                "give a score to every predicted object of the image",
                f"no score for the ids {missing[:8]}",
            )
        values: Any = [given[k] for k in table.pred_ids.tolist()]
    else:
        values = given
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        fail_must(name, "hold real numbers", repr(type(values).__name__))
    if a.ndim != 1 or a.size != table.n_pred:
        fail_must(
            name,
            f"hold one score per predicted object ({table.n_pred}, in increasing id order)",
            f"shape {a.shape}",
        )
    nan = np.isnan(a)
    if nan.any():
        ids = table.pred_ids[nan].tolist()[:8]
        fail_must(name, "hold no NaN (one score per predicted object)", f"NaN for the ids {ids}")
    return a


def _check_scores(scores: Any, tables: Sequence[OverlapTable]) -> list[FloatArray]:
    if scores is None:
        fail_must(
            "scores",
            "hold one detection score per predicted object of every image (COCO AP ranks "
            "detections by score; see `object_scores`)",
            "None",
        )
    if isinstance(scores, np.ndarray) and scores.ndim == 1 and len(tables) == 1:
        scores = [scores]  # one image: its scores alone
    if isinstance(scores, (str, bytes, Mapping)) or not hasattr(scores, "__len__"):
        fail_must("scores", "be a sequence with one score array per image", repr(type(scores)))
    if len(scores) != len(tables):
        fail_must("scores", f"hold one score array per image ({len(tables)})", f"{len(scores)}")
    return [_image_scores(i, s, t) for i, (s, t) in enumerate(zip(scores, tables, strict=True))]


def _check_crowd(crowd: Any, tables: Sequence[OverlapTable]) -> list[BoolArray]:
    if crowd is None:
        return [np.zeros(t.n_target, bool) for t in tables]
    if len(crowd) != len(tables):
        fail_must("crowd", f"hold one array of target ids per image ({len(tables)})", len(crowd))
    out = []
    for i, (ids, table) in enumerate(zip(crowd, tables, strict=True)):
        a = np.asarray(ids if ids is not None else [], dtype=np.int64).ravel()
        where = np.searchsorted(table.target_ids, a)
        found = where < table.n_target
        found[found] = table.target_ids[where[found]] == a[found]
        if not found.all():
            fail_must(
                f"crowd[{i}]",
                "name target objects of the image",
                f"ids {a[~found].tolist()[:8]} not in the target",
            )
        flags = np.zeros(table.n_target, bool)
        flags[where] = True
        out.append(flags)
    return out


def _check_thresholds(thresholds: Iterable[Any]) -> tuple[Fraction, ...]:
    ts = tuple(read_threshold(t, "iou_thresholds") for t in thresholds)
    if not ts:
        fail_must("iou_thresholds", "hold at least one threshold", "none")
    return ts


# -- matching (pycocotools evaluateImg) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Image:
    """One image's detections (by rank) and their matches at every range and threshold."""

    scores: FloatArray  # (D,) kept detections, by decreasing score
    areas: IntArray  # (D,) their sizes
    matched: IntArray  # (A or 1, T, D): index of the matched target, -1 for none
    target_areas: IntArray  # (G,)
    crowd: BoolArray  # (G,)


def _ignored(areas: IntArray, area: str) -> BoolArray:
    low, high = COCO_AREA_RANGES[area]
    return np.asarray((areas < low) | (areas > high), dtype=bool)


def _greedy(
    n_det: int,
    det: IntArray,
    tgt: IntArray,
    num: IntArray,
    den: IntArray,
    crowd: BoolArray,
    ignore: BoolArray,
) -> IntArray:
    """Pycocotools' loop for one threshold and size range, over the candidate pairs."""
    out = np.full(n_det, -1, np.int64)
    taken = np.zeros(crowd.size, bool)
    order = np.argsort(det, kind="stable")  # by detection rank, then target index
    rows = zip(
        det[order].tolist(),
        tgt[order].tolist(),
        num[order].tolist(),
        den[order].tolist(),
        strict=False,
    )
    current, best, best_n, best_d, best_ignored = -1, -1, 0, 1, True
    for d, g, n, u in [*rows, (-2, -1, 0, 1)]:
        if d != current:
            if current >= 0 and best >= 0:
                out[current] = best
                taken[best] = True
            current, best, best_n, best_d, best_ignored = d, -1, 0, 1, True
        if d < 0 or (taken[g] and not crowd[g]):
            continue
        ig = bool(ignore[g])
        # a target that is not ignored beats an ignored one; then the larger IoU; ties: the last
        if (
            best < 0
            or (best_ignored and not ig)
            or (ig == best_ignored and n * best_d >= best_n * u)
        ):
            best, best_n, best_d, best_ignored = g, n, u, ig
    return out


def _match_image(
    table: OverlapTable,
    scores: FloatArray,
    crowd: BoolArray,
    thresholds: Sequence[Fraction],
    max_det: int,
) -> _Image:
    order = np.argsort(-scores, kind="stable")[:max_det]
    n_det = int(order.size)
    rank = np.full(table.n_pred, -1, np.int64)
    rank[order] = np.arange(n_det)
    pair_rank = rank[table.pair_pred]
    keep = pair_rank >= 0
    det = pair_rank[keep]
    tgt = table.pair_target[keep]
    inter = table.pair_intersection[keep]
    det_area = table.pred_areas[table.pair_pred[keep]]
    is_crowd = crowd[tgt]
    den = np.where(is_crowd, det_area, det_area + table.target_areas[tgt] - inter)
    n_t = len(thresholds)
    matched = np.full((1, n_t, n_det), -1, np.int64)
    slow: list[tuple[int, BoolArray]] = []
    for j, t in enumerate(thresholds):
        cand = _passes(inter, den, t, ">=")
        d, g = det[cand], tgt[cand]
        if d.size and np.bincount(d).max() > 1:
            slow.append((j, cand))  # a detection with two candidates: the rules of the loop
            continue
        # each detection has one candidate at most: a target goes to its best-ranked detection,
        # a crowd region to all of them, whatever the size range
        first = np.full(table.n_target, n_det, np.int64)
        np.minimum.at(first, g, d)
        win = crowd[g] | (first[g] == d)
        matched[0, j, d[win]] = g[win]
    if slow:
        matched = np.repeat(matched, len(_AREAS), axis=0)
        for a, area in enumerate(_AREAS):
            ignore = crowd | _ignored(table.target_areas, area)
            for j, cand in slow:
                matched[a, j] = _greedy(
                    n_det, det[cand], tgt[cand], inter[cand], den[cand], crowd, ignore
                )
    return _Image(
        scores[order], table.pred_areas[order].astype(np.int64), matched, table.target_areas, crowd
    )


# -- accumulation (pycocotools accumulate) --------------------------------------------------------


def _recall_need(n_target: int, rule: str) -> IntArray:
    """Return the true positives needed to reach each recall point k/100, in integers."""
    k = np.arange(N_RECALL_POINTS, dtype=np.int64) * n_target
    need = (k + 99) // 100  # ceil(k G / 100): recall >= k/100
    if rule == "pycocotools":
        strict = np.array(sorted(PYCOCOTOOLS_STRICT_RECALL_POINTS))
        need[strict] = k[strict] // 100 + 1  # recall > k/100
    return need


def _curve(
    images: Sequence[_Image], area: int, max_det: int, rule: str
) -> tuple[FloatArray, FloatArray, int]:
    """Interpolated precision (T, R), recall (T,) and the number of targets not ignored."""
    name = _AREAS[area]
    tps, fps, scores = [], [], []
    n_target = 0
    for img in images:
        ignore = img.crowd | _ignored(img.target_areas, name)
        n_target += int(img.crowd.size - np.count_nonzero(ignore))
        m = img.matched[area if img.matched.shape[0] > 1 else 0, :, :max_det]
        tps.append(~np.append(ignore, True)[m])  # -1 (no match) reads the appended True
        fps.append((m < 0) & ~_ignored(img.areas[:max_det], name))
        scores.append(img.scores[:max_det])
    n_t = images[0].matched.shape[1] if images else 0
    tp = np.concatenate(tps, axis=1) if tps else np.zeros((n_t, 0), bool)
    fp = np.concatenate(fps, axis=1) if fps else np.zeros((n_t, 0), bool)
    if n_target == 0:
        return np.full((n_t, N_RECALL_POINTS), np.nan), np.full(n_t, np.nan), 0
    if len(images) > 1:  # one image: already by decreasing score
        order = np.argsort(-np.concatenate(scores), kind="stable")
        tp, fp = tp[:, order], fp[:, order]
    n = tp.shape[1]
    tp_sum = np.cumsum(tp, axis=1, dtype=np.int64)
    fp_sum = np.cumsum(fp, axis=1, dtype=np.int64)
    total = tp_sum + fp_sum
    precision = np.divide(tp_sum, total, out=np.zeros(total.shape), where=total > 0)
    envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    recall = (tp_sum[:, -1] if n else np.zeros(n_t, np.int64)) / n_target
    # first detection reaching each recall point, all thresholds in one search (rows offset)
    need = _recall_need(n_target, rule)
    offset = np.arange(n_t, dtype=np.int64)[:, None] * (n_target + 1)
    at = np.searchsorted((tp_sum + offset).ravel(), (need[None, :] + offset).ravel(), "left")
    local = at.reshape(n_t, N_RECALL_POINTS) - np.arange(n_t)[:, None] * n
    reached = local < n
    q = np.zeros((n_t, N_RECALL_POINTS))
    rows = np.broadcast_to(np.arange(n_t)[:, None], q.shape)
    q[reached] = envelope[rows[reached], local[reached]]
    return q, recall.astype(np.float64), n_target


# -- the evaluation record ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CocoEvaluation:
    """pycocotools' ``COCOeval.eval`` for one category, with NaN where it writes -1.

    Attributes
    ----------
    iou_thresholds : tuple of Fraction
        The IoU thresholds (exact), axis T.
    area_ranges : tuple of str
        ``('all', 'small', 'medium', 'large')`` (:data:`COCO_AREA_RANGES`), axis A.
    max_detections : tuple of int
        Detections per image, increasing, axis M.
    precision : ndarray of float64, shape (T, 101, A, M)
        Interpolated precision at the recall points 0, 0.01, ..., 1 (``eval['precision']``
        without its category axis); NaN where no target is scored.
    recall : ndarray of float64, shape (T, A, M)
        Recall with all the detections allowed (``eval['recall']``); NaN where no target.
    n_targets : ndarray of int64, shape (A,)
        Targets not ignored, per size range.
    recall_rule : str
        ``'pycocotools'`` or ``'exact'`` (module docstring).

    Examples
    --------
    >>> from segscore.metrics.instance import overlap_table
    >>> tables = overlap_table(np.array([[1, 1, 2, 0]]), np.array([[5, 5, 0, 6]]))
    >>> ev = coco_evaluate(tables, [np.array([0.9, 0.8])], max_detections=(1, 100))
    >>> ev.summary()["ap@0.5"], ev.summary()["ar1"], ev.summary()["ap_large"]
    (0.504950495049505, 0.5, nan)
    """

    iou_thresholds: tuple[Fraction, ...]
    area_ranges: tuple[str, ...]
    max_detections: tuple[int, ...]
    precision: FloatArray
    recall: FloatArray
    n_targets: IntArray
    recall_rule: str = "pycocotools"

    def summary(self) -> dict[str, float]:
        """Return pycocotools' twelve ``stats``, named as in the registry (NaN for -1).

        ``ap*`` and the size-range ``ar_*`` use the largest ``max_detections`` (pycocotools:
        ``maxDets[2]``); ``arN`` each ``N``; ``ap@0.5`` and ``ap@0.75`` need those thresholds.
        """
        big = len(self.max_detections) - 1
        out: dict[str, float] = {"ap": _mean(self.precision[:, :, 0, big])}
        for t in (Fraction(1, 2), Fraction(3, 4)):
            if t in self.iou_thresholds:
                j = self.iou_thresholds.index(t)
                out[f"ap@{float(t):g}"] = _mean(self.precision[j, :, 0, big])
        for a, area in enumerate(self.area_ranges[1:], start=1):
            out[f"ap_{area}"] = _mean(self.precision[:, :, a, big])
        for m, n in enumerate(self.max_detections):
            out[f"ar{n}"] = _mean(self.recall[:, 0, m])
        for a, area in enumerate(self.area_ranges[1:], start=1):
            out[f"ar_{area}"] = _mean(self.recall[:, a, big])
        return out


def _mean(values: Any) -> float:
    """Exactly rounded mean of the values that are not NaN (pycocotools: those > -1)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    flat = flat[~np.isnan(flat)]
    return math.fsum(flat.tolist()) / flat.size if flat.size else math.nan


def _prepare(
    tables: Sequence[OverlapTable],
    scores: Any,
    crowd: Any,
    thresholds: Sequence[Fraction],
    max_det: int,
) -> list[_Image]:
    checked = _check_scores(scores, tables)
    flags = _check_crowd(crowd, tables)
    return [
        _match_image(t, s, c, thresholds, max_det)
        for t, s, c in zip(tables, checked, flags, strict=True)
    ]


def coco_evaluate(
    tables: Sequence[OverlapTable],
    scores: Sequence[Any],
    *,
    iou_thresholds: Iterable[float | str | Fraction] = COCO_IOU_THRESHOLDS,
    max_detections: Iterable[int] = (1, 10, COCO_MAX_DETECTIONS),
    recall_rule: RecallRule = "pycocotools",
    crowd: Sequence[Any] | None = None,
) -> CocoEvaluation:
    """Return COCO's precision and recall arrays for every threshold, size range and ``maxDets``.

    Parameters
    ----------
    tables : sequence of OverlapTable
        One per image (:func:`~segscore.metrics.instance.table.overlap_table`).
    scores : sequence of array_like or mapping
        Per image, one score per predicted object: an array in the order of the table's
        ``pred_ids`` (increasing ids), or a mapping from predicted id to score.
    iou_thresholds : iterable of float, str or Fraction, default 0.5:0.05:0.95
        Read exactly (:func:`~segscore.metrics.instance.matching.read_threshold`).
    max_detections : iterable of int, default (1, 10, 100)
        pycocotools' ``maxDets`` (sorted here, as there).
    recall_rule : {'pycocotools', 'exact'}, default 'pycocotools'
        How a recall equal to a recall point is read (module docstring).
    crowd : sequence of array_like of int, optional
        Per image, the target ids that are crowd regions (pycocotools' ``iscrowd``).

    Returns
    -------
    CocoEvaluation

    Raises
    ------
    InputError
        On missing scores, scores of the wrong length or with NaN, ``max_detections < 1``,
        thresholds outside (0, 1], or crowd ids that are not target objects.

    Examples
    --------
    >>> from segscore.metrics.instance import overlap_table
    >>> tables = overlap_table(np.array([[1, 1, 2, 2]]), np.array([[3, 3, 3, 0]]))
    >>> ev = coco_evaluate(tables, [[0.2, 0.9]])    # the better-scored detection is the FP
    >>> ev.precision.shape, ev.precision[0, :3, 0, 2], ev.recall[0, :, 2]
    ((10, 101, 4, 3), array([0.5, 0.5, 0.5]), array([ 1.,  1., nan, nan]))
    """
    ts = _check_thresholds(iou_thresholds)
    dets = tuple(sorted({check_int("max_detections", m, low=1) for m in max_detections}))
    if not dets:
        fail_must("max_detections", "hold at least one number of detections", "none")
    check_option("recall_rule", recall_rule, RECALL_RULES)
    images = _prepare(tables, scores, crowd, ts, dets[-1])
    precision = np.full((len(ts), N_RECALL_POINTS, len(_AREAS), len(dets)), np.nan)
    recall = np.full((len(ts), len(_AREAS), len(dets)), np.nan)
    n_targets = np.zeros(len(_AREAS), np.int64)
    for a in range(len(_AREAS)):
        for m, n in enumerate(dets):
            precision[:, :, a, m], recall[:, a, m], n_targets[a] = _curve(images, a, n, recall_rule)
    return CocoEvaluation(ts, _AREAS, dets, precision, recall, n_targets, recall_rule)


# -- scores of the registry -----------------------------------------------------------------------


def _spec_thresholds(spec: MetricSpec) -> tuple[Fraction, ...]:
    p = spec.params
    if "threshold" in p:
        return (read_threshold(p["threshold"]),)
    return threshold_range(p.get("low", "0.5"), p.get("high", "0.95"), p.get("step", "0.05"))


def _spec_detections(spec: MetricSpec, max_detections: int) -> int:
    return int(spec.params["max_detections"]) if "max_detections" in spec.params else max_detections


def _value(spec: MetricSpec, rows: IntArray, precision: FloatArray, recall: FloatArray) -> float:
    """AP: the mean of the chosen thresholds' precision rows; AR: of their recalls."""
    return _mean(precision[rows] if spec.base == "ap" else recall[rows])


def coco_score_tables(
    tables: Sequence[OverlapTable],
    scores: Sequence[Any] | None,
    metrics: str | Iterable[str] = ("ap",),
    *,
    max_detections: int = COCO_MAX_DETECTIONS,
    aggregation: Aggregation = "pooled",
    empty: float | EmptyPolicy = math.nan,
    recall_rule: RecallRule = "pycocotools",
    crowd: Sequence[Any] | None = None,
    preset: str | None = None,
) -> dict[str, Score]:
    """Score overlap tables by COCO metrics of the registry (see :func:`coco_scores`)."""
    specs = parse_metrics(metrics)
    for spec in specs:
        if spec.base not in _COCO_BASES:
            get_metric(spec.name, kind="instance")  # a non-instance name: the family's message
            fail_must(
                "metrics",
                "name COCO metrics here (ap, ap@T, ap_small, ar, arN, ...); score the other "
                "instance metrics with `instance_scores`",
                repr(spec.name),
            )
    max_det = check_int("max_detections", max_detections, low=1)
    check_option("aggregation", aggregation, AGGREGATIONS)
    check_option("recall_rule", recall_rule, RECALL_RULES)
    thresholds = sorted({t for spec in specs for t in _spec_thresholds(spec)})
    n_dets = max(_spec_detections(spec, max_det) for spec in specs)
    images = _prepare(tables, scores, crowd, thresholds, n_dets)
    pooled = aggregation in ("pooled", "pooled_micro")
    n = len(images)
    n_pred = np.array([t.n_pred for t in tables], np.int64)
    n_target = np.array([img.crowd.size - np.count_nonzero(img.crowd) for img in images], np.int64)
    zeros = np.zeros(n, np.int64)
    case_counts = {c.value: int(w.sum()) for c, w in empty_cases(zeros, n_pred, n_target).items()}
    pooled_case = (np.zeros(1, np.int64), n_pred.sum(keepdims=True), n_target.sum(keepdims=True))
    curves: dict[tuple[int, int, int], tuple[FloatArray, FloatArray]] = {}

    def curve(area: int, dets: int, image: int) -> tuple[FloatArray, FloatArray]:
        key = (area, dets, image)
        if key not in curves:
            chosen = images if image < 0 else images[image : image + 1]
            q, r, _ = _curve(chosen, area, dets, recall_rule)
            curves[key] = (q, r)
        return curves[key]

    out: dict[str, Score] = {}
    for spec in specs:
        policy = as_empty_policy(empty, spec.name)
        area = _AREAS.index(str(spec.params.get("area", "all")))
        dets = _spec_detections(spec, max_det)
        spec_ts = _spec_thresholds(spec)
        rows = np.array([thresholds.index(t) for t in spec_ts], np.int64)
        per_image = np.array([_value(spec, rows, *curve(area, dets, i)) for i in range(n)])
        # the natural value (NaN without targets) becomes the policy's: zero division, overrides
        cells = _apply(per_image, (zeros, n_pred, n_target), policy)
        conventions = Conventions(
            spec.name,
            "instance",
            None,
            True,
            (BINARY_FOREGROUND,),
            None,
            policy,
            aggregation,
            preset=preset,
            instance=_record(spec_ts, dets, spec, recall_rule, crowd is not None),
        )
        if not pooled:
            out[spec.name] = score_values(cells[:, None], conventions, empty_cases=case_counts)
            continue
        natural = np.array([_value(spec, rows, *curve(area, dets, -1))])
        value = float(_apply(natural, pooled_case, policy)[0])
        out[spec.name] = Score(
            value=value,
            per_image=cells,
            per_class=np.array([value]),
            cells=cells[:, None],
            n_valid=int(math.isfinite(value)),
            n_excluded=int(math.isnan(value)),
            empty_cases=case_counts,
            conventions=conventions,
            n_nan=int(math.isnan(value)),
            n_inf=int(math.isinf(value)),
            class_ids=(BINARY_FOREGROUND,),
            columns=(0,),
        )
    return out


def _apply(values: FloatArray, cases: tuple[Any, Any, Any], policy: EmptyPolicy) -> FloatArray:
    """NaN (no target) becomes the zero-division value; then the policy's case overrides."""
    nan = np.isnan(values)
    return apply_policy(np.where(nan, 0.0, values), np.where(nan, 0.0, 1.0), *cases, policy)


def _record(
    thresholds: Sequence[Fraction], dets: int, spec: MetricSpec, rule: str, crowd: bool
) -> dict[str, Any]:
    area = str(spec.params.get("area", "all"))
    return {
        "definition": "coco (pycocotools 2.0.11 COCOeval iouType='segm', one category)",
        "matching": "greedy by detection score",
        "criterion": "iou",
        "comparison": ">=",
        "thresholds": [str(t) for t in thresholds],
        "max_detections": dets,
        "area_range": area,
        "area_bounds": list(COCO_AREA_RANGES[area]),
        "recall_points": N_RECALL_POINTS,
        "recall_rule": rule,
        "crowd": crowd,
        "pooling": "detections of all images ranked together",
    }


def coco_scores(
    pred: Any,
    target: Any,
    scores: Sequence[Any] | None,
    metrics: str | Iterable[str] = ("ap",),
    *,
    max_detections: int = COCO_MAX_DETECTIONS,
    aggregation: Aggregation = "pooled",
    empty: float | EmptyPolicy = math.nan,
    recall_rule: RecallRule = "pycocotools",
    crowd: Sequence[Any] | None = None,
    options: CountingOptions | None = None,
    spatial_dims: int | None = None,
    ignore_index: int | None = None,
) -> dict[str, Score]:
    """Score instance label maps by COCO mask AP and AR (module docstring for the definition).

    Parameters
    ----------
    pred, target : array_like of int, shape (*S) or (N, *S)
        Instance label maps, 0 = background (layout rule of
        :func:`~segscore.metrics.instance.table.overlap_table`).
    scores : sequence of array_like or mapping
        Per image, one detection score per predicted object: an array in increasing id order
        (as :func:`~segscore.metrics.instance.detection_scores.object_scores` returns), or a
        mapping from predicted id to score. A single image may give its array alone.
    metrics : str or iterable of str, default ('ap',)
        COCO names of the registry: ``ap``, ``ap@T``, ``ap@A:B``, ``ap_small``, ``ap_medium``,
        ``ap_large``, ``ar``, ``arN``, ``ar@T``, ``ar_small``... (module docstring).
    max_detections : int, default 100
        Detections kept per image (the best-scored) for ``ap*`` and ``ar``/``ar_*``; COCO's
        100 is too few for crowded images (nuclei: use e.g. 1000).
    aggregation : str, default 'pooled'
        ``'pooled'`` (COCO): the detections of all images ranked together; a per-image rule
        (``'images_then_classes'``...) averages the per-image values.
    empty : float or EmptyPolicy, default NaN
        The value without any target (pycocotools: -1), and the case overrides.
    recall_rule : {'pycocotools', 'exact'}, default 'pycocotools'
        How a recall equal to a recall point is read (module docstring).
    crowd : sequence of array_like of int, optional
        Per image, the target ids that are crowd regions (ignored, matched by any number of
        detections, IoU = intersection over the detection's area).
    options, spatial_dims, ignore_index
        As in :func:`~segscore.metrics.instance.table.overlap_table`. With ``ignore_index``,
        a predicted object lying wholly in ignored pixels leaves the image (give mappings, or
        arrays in the id order of the whole prediction: they are aligned here).

    Returns
    -------
    dict of str to Score
        One :class:`~segscore.metrics.reduce.Score` per metric: ``value`` the dataset value,
        ``per_image`` each image's own value (NaN without targets), ``conventions.instance`` the
        COCO conventions (thresholds, max detections, size range, recall points).

    Raises
    ------
    InputError
        On missing scores, scores of the wrong length or with NaN, ``max_detections < 1``, bad
        ids or shapes, or a name that is not a COCO metric.

    Examples
    --------
    >>> pred = np.array([[[1, 1, 2, 2]], [[0, 4, 4, 0]]])      # two 1x4 images
    >>> target = np.array([[[5, 5, 5, 0]], [[0, 6, 6, 0]]])
    >>> s = coco_scores(pred, target, [[0.9, 0.3], [0.8]], ["ap@0.5", "ap", "ar1"])
    >>> s["ap@0.5"].value, s["ap@0.5"].per_image, s["ar1"].value
    (1.0, array([1., 1.]), 0.7)
    >>> s["ap"].conventions.instance["max_detections"]
    100
    """
    tables = overlap_table(
        pred, target, options=options, spatial_dims=spatial_dims, ignore_index=ignore_index
    )
    if ignore_index is not None or (options is not None and options.ignore_index is not None):
        scores = _align(pred, tables, scores, options, spatial_dims)
    return coco_score_tables(
        tables,
        scores,
        metrics,
        max_detections=max_detections,
        aggregation=aggregation,
        empty=empty,
        recall_rule=recall_rule,
        crowd=crowd,
    )


def _align(
    pred: Any,
    tables: Sequence[OverlapTable],
    scores: Any,
    options: CountingOptions | None,
    spatial_dims: int | None,
) -> Any:
    """Scores given in the id order of the whole prediction, as mappings from id to score."""
    if isinstance(scores, np.ndarray) and scores.ndim == 1 and len(tables) == 1:
        scores = [scores]
    if (
        scores is None
        or isinstance(scores, (str, bytes, Mapping))
        or not hasattr(scores, "__len__")
        or len(scores) != len(tables)
    ):
        return scores  # the checks word the error
    p = _as_ids("pred", pred)
    dims = options.spatial_dims if options is not None else spatial_dims
    p = p.reshape(_batch_shape("pred", p.shape, dims, channel_axis=False))
    out: list[Any] = []
    for image, given in zip(p, scores, strict=True):
        ids = np.unique(image)
        ids = ids[ids != 0]
        a = given if isinstance(given, Mapping) else np.asarray(given)
        if isinstance(a, np.ndarray) and a.ndim == 1 and a.size == ids.size:
            out.append(dict(zip(ids.tolist(), a.tolist(), strict=True)))
        else:
            out.append(given)
    return out

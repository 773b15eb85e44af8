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

The scores of the registry (``ap``, ``ar``...) are computed by :mod:`.coco_metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from segscore._types import BoolArray, FloatArray, IntArray
from segscore._validation import check_int, check_option, fail_must
from segscore.metrics.instance.matching import _passes, read_threshold, threshold_range
from segscore.metrics.instance.table import OverlapTable

__all__ = [
    "COCO_AREA_RANGES",
    "COCO_IOU_THRESHOLDS",
    "COCO_MAX_DETECTIONS",
    "PYCOCOTOOLS_STRICT_RECALL_POINTS",
    "RECALL_RULES",
    "CocoEvaluation",
    "RecallRule",
    "coco_evaluate",
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
    images: Sequence[_Image], area: int, max_det: int, rule: str, n_t: int
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
            precision[:, :, a, m], recall[:, a, m], n_targets[a] = _curve(
                images, a, n, recall_rule, len(ts)
            )
    return CocoEvaluation(ts, _AREAS, dets, precision, recall, n_targets, recall_rule)

"""Panoptic quality of (class map, instance map) pairs: things, stuff and void (Kirillov 2019).

A panoptic segmentation gives every pixel a class and, for *thing* classes, an instance id. A
segment is one (thing class, instance id) pair, or all the pixels of one *stuff* class (their
instance ids are ignored). Per class, a predicted and a target segment of that class match when
their IoU is above 0.5 (then the match is unique, no assignment is needed); PQ, SQ and RQ follow
from the matched IoUs and the unmatched segments:

=====  ================================  ======================================  ================
name   formula per class                 empty (no segment of the class)         tp = 0 < fp + fn
=====  ================================  ======================================  ================
pq     sum IoU / (tp + fp / 2 + fn / 2)  NaN: left out of the mean over classes  0
sq     sum IoU / tp                      NaN                                     0
rq     tp / (tp + fp / 2 + fn / 2)       NaN                                     0
=====  ================================  ======================================  ================

These are the default policies (:data:`~segscore.metrics.presets.PANOPTIC_EMPTY`), panopticapi's
``pq_average`` and torchmetrics': a class with segments but no match counts in the class means
with SQ 0 (``iou / tp if tp != 0 else 0``); a class without any segment is left out of them
(they report it as 0, segscore as NaN, counted in ``n_nan``). An explicit ``empty`` applies to
every 0 / 0, SQ's ``tp = 0`` included.

*Void* pixels (the class ``void``, in the target or the prediction) count nowhere, as in
panopticapi and torchmetrics 1.9 ``PanopticQuality``: they leave every union (``IoU = I / (P +
T - I - P∩void - void∩T)``); an unmatched predicted segment more than half in the target's void is
not a false positive, an unmatched target segment more than half in the prediction's void not a
false negative. The IoU test is exact (``2 I > U`` in integers) and each IoU the correctly
rounded ratio of two integers.

Peers: torchmetrics ``PanopticQuality(things, stuffs, return_per_class=True)`` and
``panoptic_quality`` give the same per-class values and, without ``return_per_class``, the same
means over classes (CONVENTIONS-objects §3 #5: declare the background a stuff class, or it becomes
void); MONAI ``compute_panoptic_quality`` scores one class's instance maps with IoU > 0.5 and a
1e-6 smoothing of its denominators.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segscore._types import Aggregation, FloatArray, IntArray
from segscore._validation import check_option, check_same_shape, fail, fail_must
from segscore.metrics.conventions import Conventions
from segscore.metrics.counts import _batch_shape
from segscore.metrics.empty import EmptyCase, EmptyPolicy, as_empty_policy
from segscore.metrics.instance.table import _as_ids, overlap_table
from segscore.metrics.presets import PANOPTIC_EMPTY
from segscore.metrics.reduce import AGGREGATIONS, Score, score_values

__all__ = [
    "PanopticCounts",
    "panoptic_counts",
    "panoptic_record",
    "panoptic_score_counts",
    "panoptic_scores",
]

_METRICS = ("pq", "sq", "rq")
_INT64_MAX = 2**63 - 1
_POOLED = ("pooled", "pooled_micro", "per_image_micro")


def _classes(name: str, values: Iterable[int]) -> list[int]:
    try:
        out = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        fail_must(name, "be an iterable of integer class ids", repr(values))
    if any(v < 0 for v in out):
        fail_must(name, "hold class ids >= 0", out)
    return out


def _segments(
    classes: np.ndarray[Any, Any],
    instances: np.ndarray[Any, Any],
    code: dict[int, int],
    things: list[int],
    void: int | None,
    width: int,
    name: str,
) -> IntArray:
    """Segment ids ``1 + rank(class) * width + instance`` (stuff: instance 0); void 0.

    The caller chooses ``width`` (> every instance id) so that the largest id, ``C * width``
    for C classes, fits in int64, relabelling the instance ids when it would not.
    """
    known = np.zeros(max([*code, void or 0]) + 2, dtype=np.int64) - 1
    for c, rank in code.items():
        known[c] = rank
    cls = classes.astype(np.int64)
    unknown = np.flatnonzero((cls >= known.size) | (known[np.minimum(cls, known.size - 1)] < 0))
    if void is not None and unknown.size:
        unknown = unknown[cls.reshape(-1)[unknown] != void]
    if unknown.size:
        bad = np.unique(cls.reshape(-1)[unknown]).tolist()
        fail(
            f"`{name}` has classes {bad} that are neither `things`, `stuffs` nor `void` ({void!r})."
        )
    rank = known[np.minimum(cls, known.size - 1)]
    is_thing = np.isin(cls, things)
    inst = np.where(is_thing, instances.astype(np.int64), 0)
    seg = 1 + np.maximum(rank, 0) * width + inst
    return np.where(rank < 0, 0, seg)


def _check_instances(
    classes: np.ndarray[Any, Any], instances: np.ndarray[Any, Any], things: list[int], name: str
) -> None:
    """Each instance id of thing pixels belongs to one class per image (a segment id).

    One sort per image of the distinct (instance id, thing class) pairs as 1-D keys
    ``id * T + rank`` (T thing classes); sorting the pairs as columns (``np.unique(axis=1)``)
    took about 95% of the time of :func:`panoptic_counts` on 512x512 images.
    """
    t = len(things)
    for n in range(classes.shape[0]):
        cls = classes[n].reshape(-1)
        thing = np.isin(cls, things)
        if not thing.any():
            continue
        inst = instances[n].reshape(-1)[thing]  # its own dtype: uint64 ids above 2**63 too
        rank = np.searchsorted(np.asarray(things), cls[thing]).astype(np.int64)
        if int(inst.max()) <= (2**62) // t:
            keys = np.unique(inst.astype(np.int64) * t + rank)
            ids, ranks = keys // t, keys % t
        else:  # the keys would overflow: sort the pairs by id, then class
            order = np.lexsort((rank, inst))
            ids, ranks = inst[order], rank[order]
            new = np.ones(ids.size, dtype=bool)
            new[1:] = (ids[1:] != ids[:-1]) | (ranks[1:] != ranks[:-1])
            ids, ranks = ids[new], ranks[new]
        twice = np.flatnonzero(ids[1:] == ids[:-1])
        if twice.size:
            bad = int(ids[twice[0]])
            shared = [things[int(r)] for r in ranks[ids == bad].tolist()]
            fail(
                f"`{name}` must give each instance id of thing pixels one class per image, got "
                f"id {bad} with classes {shared} in image {n}."
            )


@dataclass(frozen=True, slots=True)
class PanopticCounts:
    """What panoptic quality is made of, per image and class: exact and mergeable.

    Attributes
    ----------
    tp, fp, fn : ndarray of int64, shape (N, C)
        Matched pairs, unmatched predicted and unmatched target segments (void rules of the
        module docstring), per image and class.
    iou_sum : ndarray of float64, shape (N, C)
        The sum of the matched pairs' IoUs, each the correctly rounded ratio of two integers,
        summed exactly (``math.fsum``) then rounded once.
    things, stuffs : tuple of int
        The class ids, sorted; the columns are the things, then the stuffs (``class_ids``).
    void : int or None
        The class id whose pixels count nowhere.

    Examples
    --------
    >>> pc = np.array([[0, 1, 1, 1, 0, 0, 0]]); pi = np.array([[0, 7, 7, 7, 0, 0, 0]])
    >>> tc = np.array([[0, 1, 1, 0, 0, 1, 0]]); ti = np.array([[0, 3, 3, 0, 0, 4, 0]])
    >>> c = panoptic_counts(pc, pi, tc, ti, things=[1], stuffs=[0])
    >>> c.class_ids, c.tp.tolist(), c.fn.tolist(), c.iou_sum.tolist()
    ((1, 0), [[1, 1]], [[1, 0]], [[0.6666666666666666, 0.6]])
    >>> PanopticCounts.concat([c, c]).take([1]).tp.tolist()
    [[1, 1]]
    """

    tp: IntArray
    fp: IntArray
    fn: IntArray
    iou_sum: FloatArray
    things: tuple[int, ...]
    stuffs: tuple[int, ...] = ()
    void: int | None = None

    @property
    def class_ids(self) -> tuple[int, ...]:
        """The class of each column: the things, then the stuffs."""
        return self.things + self.stuffs

    @property
    def n_images(self) -> int:
        """The number of images (rows)."""
        return int(self.tp.shape[0])

    @classmethod
    def concat(cls, parts: Sequence[PanopticCounts]) -> PanopticCounts:
        """Stack the images of counts made with the same classes and void (in order)."""
        first = parts[0]
        for part in parts[1:]:
            if (part.things, part.stuffs, part.void) != (first.things, first.stuffs, first.void):
                fail(
                    "`parts` must share things, stuffs and void, got "
                    f"{(part.things, part.stuffs, part.void)} and "
                    f"{(first.things, first.stuffs, first.void)}."
                )
        return cls(
            np.concatenate([x.tp for x in parts]),
            np.concatenate([x.fp for x in parts]),
            np.concatenate([x.fn for x in parts]),
            np.concatenate([x.iou_sum for x in parts]),
            first.things,
            first.stuffs,
            first.void,
        )

    def take(self, rows: Any) -> PanopticCounts:
        """Return the counts of the images ``rows`` (a bootstrap resample: repeats allowed)."""
        index = np.asarray(rows, dtype=np.int64)
        return PanopticCounts(
            self.tp[index],
            self.fp[index],
            self.fn[index],
            self.iou_sum[index],
            self.things,
            self.stuffs,
            self.void,
        )

    def as_record(self) -> dict[str, Any]:
        """Return a JSON-ready record that :meth:`from_record` reads back exactly."""
        return {
            **{f: getattr(self, f).tolist() for f in _FIELDS},
            "things": list(self.things),
            "stuffs": list(self.stuffs),
            "void": self.void,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PanopticCounts:
        """Return the counts of an :meth:`as_record` record."""
        c = len(record["things"]) + len(record["stuffs"])

        def ints(key: str) -> IntArray:
            return np.asarray(record[key], dtype=np.int64).reshape(-1, c)

        return cls(
            ints("tp"),
            ints("fp"),
            ints("fn"),
            np.asarray(record["iou_sum"], dtype=np.float64).reshape(-1, c),
            tuple(int(k) for k in record["things"]),
            tuple(int(k) for k in record["stuffs"]),
            None if record["void"] is None else int(record["void"]),
        )


_FIELDS = ("tp", "fp", "fn", "iou_sum")


def panoptic_counts(
    pred_classes: Any,
    pred_instances: Any,
    target_classes: Any,
    target_instances: Any,
    *,
    things: Iterable[int],
    stuffs: Iterable[int] = (),
    void: int | None = None,
    spatial_dims: int | None = None,
) -> PanopticCounts:
    """Match the segments of panoptic segmentations and count them per image and class.

    The first stage of :func:`panoptic_scores` (same parameters, same errors); the counts of
    separate batches concatenate (:meth:`PanopticCounts.concat`) into the counts of all of them,
    which :func:`panoptic_score_counts` turns into PQ, SQ and RQ.

    Returns
    -------
    PanopticCounts
        One row per image, one column per class (the things, then the stuffs).
    """
    thing_ids, stuff_ids = _classes("things", things), _classes("stuffs", stuffs)
    both = sorted(set(thing_ids) & set(stuff_ids))
    if both:
        fail(f"`things` and `stuffs` must not share class ids, got {both} in both.")
    if not thing_ids and not stuff_ids:
        fail("`things` or `stuffs` must name at least one class, got none.")
    if void is not None and void in thing_ids + stuff_ids:
        fail(f"`void` must not be a thing or stuff class, got {void}.")
    arrays = {
        "pred_classes": _as_ids("pred_classes", pred_classes),
        "pred_instances": _as_ids("pred_instances", pred_instances),
        "target_classes": _as_ids("target_classes", target_classes),
        "target_instances": _as_ids("target_instances", target_instances),
    }
    first = arrays["target_classes"].shape
    for name, array in arrays.items():
        check_same_shape(array.shape, first, (name, "target_classes"))
    shape = _batch_shape("target_classes", first, spatial_dims, channel_axis=False)
    a = {k: v.reshape(shape) for k, v in arrays.items()}
    _check_instances(a["pred_classes"], a["pred_instances"], thing_ids, "pred_instances")
    _check_instances(a["target_classes"], a["target_instances"], thing_ids, "target_instances")
    order = thing_ids + stuff_ids
    code = {c: k for k, c in enumerate(order)}
    p_inst, t_inst = a["pred_instances"], a["target_instances"]
    width = 1 + max(int(p_inst.max(initial=0)), int(t_inst.max(initial=0)))
    if len(order) * width > _INT64_MAX:  # the largest segment id would overflow int64
        # Relabel each side's ids to 0..n-1 on its own (one segment per id stays one; segments
        # are matched by their overlap, not by id). Not together: uint64 beside int64 ids would
        # join as float64, which merges ids above 2**53.
        p_inst = np.unique(p_inst, return_inverse=True)[1].reshape(p_inst.shape)
        t_inst = np.unique(t_inst, return_inverse=True)[1].reshape(t_inst.shape)
        width = 1 + max(int(p_inst.max(initial=0)), int(t_inst.max(initial=0)))
    pred = _segments(a["pred_classes"], p_inst, code, thing_ids, void, width, "pred_classes")
    target = _segments(a["target_classes"], t_inst, code, thing_ids, void, width, "target_classes")
    tables = overlap_table(pred, target, spatial_dims=len(shape) - 1)
    n, c = len(tables), len(order)
    tp = np.zeros((n, c), np.int64)
    fp = np.zeros((n, c), np.int64)
    fn = np.zeros((n, c), np.int64)
    iou_sum = np.zeros((n, c), np.float64)
    for i, t in enumerate(tables):
        _count(t, width, c, tp[i], fp[i], fn[i], iou_sum[i])
    return PanopticCounts(tp, fp, fn, iou_sum, tuple(thing_ids), tuple(stuff_ids), void)


def panoptic_score_counts(
    counts: PanopticCounts,
    metrics: str | Iterable[str] = _METRICS,
    *,
    aggregation: Aggregation = "pooled",
    empty: float | EmptyPolicy | None = None,
    preset: str | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, Score]:
    """Return PQ, SQ and RQ of panoptic counts (the second stage of :func:`panoptic_scores`).

    Parameters
    ----------
    counts : PanopticCounts
        From :func:`panoptic_counts`.
    metrics, aggregation, empty
        As for :func:`panoptic_scores`.
    preset : str, optional
        The preset recorded in each score's conventions (it chose the other arguments).
    class_names : sequence of str, optional
        The name of each column's class (``counts.class_ids``), recorded in the conventions.

    Returns
    -------
    dict of str to Score

    Examples
    --------
    >>> pc = np.array([[0, 1, 1, 1, 0, 0, 0]]); pi = np.array([[0, 7, 7, 7, 0, 0, 0]])
    >>> tc = np.array([[0, 1, 1, 0, 0, 1, 0]]); ti = np.array([[0, 3, 3, 0, 0, 4, 0]])
    >>> c = panoptic_counts(pc, pi, tc, ti, things=[1], stuffs=[0])
    >>> panoptic_score_counts(c, "pq")["pq"].per_class
    array([0.44444444, 0.6       ])
    """
    names = [m.strip().lower() for m in ([metrics] if isinstance(metrics, str) else metrics)]
    for m in names:
        check_option("metrics", m, _METRICS)
    check_option("aggregation", aggregation, AGGREGATIONS)
    given = None if empty is None else as_empty_policy(empty)
    if class_names is not None and len(class_names) != len(counts.class_ids):
        fail_must("class_names", f"hold one name per class {counts.class_ids}", list(class_names))
    out: dict[str, Score] = {}
    for m in dict.fromkeys(names):
        policy = PANOPTIC_EMPTY[m] if given is None else given
        conventions = Conventions(
            m,
            "instance",
            None,
            True,
            counts.class_ids,
            None if class_names is None else tuple(class_names),
            policy,
            aggregation,
            instance=panoptic_record(counts.things, counts.stuffs, counts.void),
            preset=preset,
        )
        out[m] = _score(m, counts.tp, counts.fp, counts.fn, counts.iou_sum, policy, conventions)
    return out


def panoptic_record(
    things: Sequence[int], stuffs: Sequence[int], void: int | None
) -> dict[str, Any]:
    """Return how panoptic segments are made and matched (``conventions.instance``)."""
    return {
        "segments": "panoptic: (thing class, instance id) pairs, one per stuff class",
        "matching": "same class, IoU > 1/2 (unique)",
        "criterion": "iou",
        "threshold": "1/2",
        "comparison": ">",
        "void": void,
        "void_rule": "void pixels leave every union; an unmatched segment more than half void "
        "on the other side is neither a false positive nor a false negative",
        "things": list(things),
        "stuffs": list(stuffs),
        "class_mean": "unweighted mean over the classes whose value is not NaN (by default, "
        "those with a segment)",
    }


def panoptic_scores(
    pred_classes: Any,
    pred_instances: Any,
    target_classes: Any,
    target_instances: Any,
    *,
    things: Iterable[int],
    stuffs: Iterable[int] = (),
    void: int | None = None,
    metrics: str | Iterable[str] = _METRICS,
    aggregation: Aggregation = "pooled",
    empty: float | EmptyPolicy | None = None,
    spatial_dims: int | None = None,
) -> dict[str, Score]:
    """Panoptic, segmentation and recognition quality per class of panoptic segmentations.

    Parameters
    ----------
    pred_classes, pred_instances, target_classes, target_instances : array_like of int
        Class map and instance map of the prediction and of the target, all of one shape
        ``(*S)`` or ``(N, *S)`` (2-D is one image, 3-D a batch of 2-D images unless
        ``spatial_dims=3``). Instance ids are integers >= 0, read for thing pixels only; an
        instance id names one segment per image, so it must not be used by two classes.
    things, stuffs : iterable of int
        The thing and stuff class ids (disjoint). Every class must be one of them or ``void``:
        declare a background class as a stuff to score it, as ``void`` to ignore it.
    void : int, optional
        A class id whose pixels count nowhere (module docstring).
    metrics : str or iterable of str, default ('pq', 'sq', 'rq')
        Any of ``'pq'``, ``'sq'``, ``'rq'``.
    aggregation : str, default 'pooled'
        ``'pooled'`` (Kirillov's PQ, torchmetrics): counts and IoU sums added over the images,
        the formula per class, the mean over the classes that have segments; a per-image rule
        (``'images_then_classes'``...) averages per-image values.
    empty : float or EmptyPolicy, optional
        The policy of every 0 / 0 (a number: its value; NaN leaves the class out of the means).
        Default: panopticapi's (module docstring), NaN for a class without any segment and SQ 0
        for a class with segments but no match.
    spatial_dims : {2, 3}, optional
        Number of spatial axes.

    Returns
    -------
    dict of str to Score
        Per metric, one column per class: the things in increasing order, then the stuffs
        (``class_ids``; torchmetrics' order).

    Raises
    ------
    InputError
        On different shapes, float or negative values, a class that is neither a thing, a stuff
        nor void, an instance id used by two thing classes in one image, overlapping ``things``
        and ``stuffs``, or an unknown metric or aggregation.

    Examples
    --------
    Class 1 is a thing, class 0 (background) a stuff; the second object is missed:

    >>> pc = np.array([[0, 1, 1, 1, 0, 0, 0]]); pi = np.array([[0, 7, 7, 7, 0, 0, 0]])
    >>> tc = np.array([[0, 1, 1, 0, 0, 1, 0]]); ti = np.array([[0, 3, 3, 0, 0, 4, 0]])
    >>> s = panoptic_scores(pc, pi, tc, ti, things=[1], stuffs=[0])
    >>> s["pq"].class_ids, s["pq"].per_class  # thing: IoU 2/3, tp 1, fn 1; stuff: IoU 3/5
    ((1, 0), array([0.44444444, 0.6       ]))
    >>> s["rq"].per_class, s["sq"].value
    (array([0.66666667, 1.        ]), 0.6333333333333333)

    A class with segments but no match has SQ 0 (panopticapi, torchmetrics):

    >>> s = panoptic_scores(0 * pc, 0 * pi, tc, ti, things=[1], stuffs=[0])
    >>> s["sq"].per_class, s["sq"].value
    (array([0.        , 0.57142857]), 0.2857142857142857)
    """
    names = [m.strip().lower() for m in ([metrics] if isinstance(metrics, str) else metrics)]
    for m in names:
        check_option("metrics", m, _METRICS)
    check_option("aggregation", aggregation, AGGREGATIONS)
    policy = None if empty is None else as_empty_policy(empty)
    counts = panoptic_counts(
        pred_classes,
        pred_instances,
        target_classes,
        target_instances,
        things=things,
        stuffs=stuffs,
        void=void,
        spatial_dims=spatial_dims,
    )
    return panoptic_score_counts(counts, names, aggregation=aggregation, empty=policy)


def _count(
    t: Any, width: int, n_classes: int, tp: IntArray, fp: IntArray, fn: IntArray, sums: FloatArray
) -> None:
    """Match one image's segments and add its counts per class (void is id 0 in the table)."""
    p_class = (t.pred_ids - 1) // width
    t_class = (t.target_ids - 1) // width
    # I(p, void) = area - overlaps with non-void target segments (every pixel has a segment)
    p_void = t.pred_areas - np.bincount(
        t.pair_pred, weights=t.pair_intersection, minlength=t.n_pred
    ).astype(np.int64)
    t_void = t.target_areas - np.bincount(
        t.pair_target, weights=t.pair_intersection, minlength=t.n_target
    ).astype(np.int64)
    same = p_class[t.pair_pred] == t_class[t.pair_target]
    inter = t.pair_intersection[same]
    pp, pt = t.pair_pred[same], t.pair_target[same]
    union = (t.pred_areas[pp] - p_void[pp]) + (t.target_areas[pt] - t_void[pt]) - inter
    matched = 2 * inter > union
    mp, mt = pp[matched], pt[matched]
    cls = t_class[mt]
    np.add.at(tp, cls, 1)
    for k in np.unique(cls).tolist():
        sums[k] += math.fsum((inter[matched][cls == k] / union[matched][cls == k]).tolist())
    free_p = np.ones(t.n_pred, bool)
    free_p[mp] = False
    free_t = np.ones(t.n_target, bool)
    free_t[mt] = False
    np.add.at(fp, p_class[free_p & (2 * p_void <= t.pred_areas)], 1)
    np.add.at(fn, t_class[free_t & (2 * t_void <= t.target_areas)], 1)


def _score(
    metric: str,
    tp: IntArray,
    fp: IntArray,
    fn: IntArray,
    sums: FloatArray,
    policy: EmptyPolicy,
    conventions: Conventions,
) -> Score:
    def formula(tp_: Any, fp_: Any, fn_: Any, s: Any) -> tuple[Any, Any]:
        if metric == "sq":
            return s, tp_
        den = tp_ + 0.5 * fp_ + 0.5 * fn_
        return (s, den) if metric == "pq" else (tp_, den)

    def ratio(num: Any, den: Any, tp_: Any, fp_: Any, fn_: Any) -> FloatArray:
        num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
        empty_case = (np.asarray(tp_) + fp_ + fn_) == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / np.where(den > 0, den, 1.0), policy.zero_division)
        override = policy.override(EmptyCase.BOTH_EMPTY)
        if override is not None and not isinstance(override, str):
            value = np.where(empty_case, override, value)
        return np.asarray(value, np.float64)

    cells = ratio(*formula(tp, fp, fn, sums), tp, fp, fn)
    cases = {case.value: 0 for case in EmptyCase}
    cases["both_empty"] = int(((tp + fp + fn) == 0).sum())
    cases["target_empty"] = int(((tp + fn) == 0).sum()) - cases["both_empty"]
    cases["prediction_empty"] = int(((tp + fp) == 0).sum()) - cases["both_empty"]
    cases["both_present"] = cells.size - sum(cases.values())
    if conventions.aggregation not in _POOLED:
        return score_values(cells, conventions, empty_cases=cases)
    sum_over = [math.fsum(col) for col in sums.T.tolist()]
    totals = (tp.sum(axis=0), fp.sum(axis=0), fn.sum(axis=0), np.array(sum_over))
    per_class = ratio(*formula(*totals), *totals[:3])
    if conventions.aggregation == "pooled":
        level = per_class
    elif conventions.aggregation == "pooled_micro":
        everything = (tp.sum(), fp.sum(), fn.sum(), math.fsum(sum_over))
        level = ratio(*formula(*everything), *everything[:3]).reshape(1)
    else:
        rows = (tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
        row_sums = np.array([math.fsum(r) for r in sums.tolist()])
        level = ratio(*formula(*rows, row_sums), *rows)
    valid = level[~np.isnan(level)]
    value = math.fsum(valid.tolist()) / valid.size if valid.size else math.nan
    with np.errstate(invalid="ignore"):
        per_image = np.array(
            [math.nan if np.isnan(r).all() else float(np.nanmean(r)) for r in cells]
        )
    return Score(
        value=float(value),
        per_image=per_image,
        per_class=per_class,
        cells=cells,
        n_valid=int(np.isfinite(level).sum()),
        n_excluded=int(np.isnan(level).sum()),
        empty_cases=cases,
        conventions=conventions,
        n_nan=int(np.isnan(level).sum()),
        n_inf=int(np.isinf(level).sum()),
        class_ids=conventions.classes,
        columns=tuple(range(len(conventions.classes))),
    )

"""COCO mask AP and AR (segscore.metrics.instance.coco) against pycocotools, run in the test.

The reference is pycocotools 2.0.11 itself: every object of the label maps becomes an RLE
annotation (``mask.encode`` of a Fortran array), ``COCOeval(iouType='segm')`` runs, and its
``eval['precision']`` and ``eval['recall']`` arrays (not ``summarize()``, which prints -1 when
``maxDets[2] != 100``) are compared with segscore's, -1 read as NaN. Two published cases are
ported with their expected numbers.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import pathlib
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore import EmptyPolicy, InputError, get_metric, instance_scores, overlap_table
from segscore.metrics.instance import InstanceEvaluator
from segscore.metrics.instance.coco import (
    COCO_AREA_RANGES,
    COCO_IOU_THRESHOLDS,
    PYCOCOTOOLS_STRICT_RECALL_POINTS,
    coco_evaluate,
)
from segscore.metrics.instance.coco_metrics import coco_score_tables, coco_scores

from ._instances import batch, perturb

mask_util = pytest.importorskip("pycocotools.mask")
COCO = pytest.importorskip("pycocotools.coco").COCO
cocoeval = pytest.importorskip("pycocotools.cocoeval")

DATA = pathlib.Path(__file__).parent / "data"
TOL = 1e-12


def _rle(mask: np.ndarray) -> dict:
    return mask_util.encode(np.asfortranarray(mask, dtype=np.uint8))


def _ids(labels: np.ndarray) -> list[int]:
    return [int(i) for i in np.unique(labels) if i != 0]


def _run_cocoeval(images, annotations, detections, params) -> cocoeval.COCOeval:
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": images,
            "annotations": annotations,
            "categories": [{"id": c} for c in sorted({a["category_id"] for a in annotations})]
            or [{"id": 1}],
        }
        gt.createIndex()
        dt = gt.loadRes(detections)
        ev = cocoeval.COCOeval(gt, dt, "segm")
        for key, value in params.items():
            setattr(ev.params, key, value)
        ev.evaluate()
        ev.accumulate()
        if not params:
            ev.summarize()  # its stats need the default parameters
    return ev


def _reference_coco(preds, targets, scores, *, max_dets=(1, 10, 100), crowd=None, **params):
    """pycocotools' precision (T, R, A, M) and recall (T, A, M), -1 as NaN.

    Objects in increasing id order (targets: annotation order, the tie rule; predictions: the
    result list order, the order of equal scores); the target ``area`` is the pixel count.
    """
    images, annotations, detections = [], [], []
    for i, (p, t, s) in enumerate(zip(preds, targets, scores, strict=True)):
        images.append({"id": i + 1, "height": p.shape[0], "width": p.shape[1]})
        crowded = set() if crowd is None else {int(c) for c in crowd[i]}
        for gid in _ids(t):
            m = t == gid
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": 1,
                    "segmentation": _rle(m),
                    "area": int(m.sum()),
                    "iscrowd": int(gid in crowded),
                }
            )
        for pid, score in zip(_ids(p), s, strict=True):
            detections.append(
                {
                    "image_id": i + 1,
                    "category_id": 1,
                    "segmentation": _rle(p == pid),
                    "score": score,
                }
            )
    params = {"maxDets": list(max_dets), **params}
    ev = _run_cocoeval(images, annotations, detections, params)
    precision, recall = ev.eval["precision"][:, :, 0], ev.eval["recall"][:, 0]
    return np.where(precision == -1, np.nan, precision), np.where(recall == -1, np.nan, recall)


def _assert_same(ours, reference) -> None:
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    np.testing.assert_allclose(ours, reference, rtol=0, atol=TOL, equal_nan=True)


def _compare(preds, targets, scores, *, max_dets=(1, 10, 100), crowd=None, thresholds=None):
    tables = overlap_table(np.stack(preds), np.stack(targets), spatial_dims=2)
    kwargs = {} if thresholds is None else {"iou_thresholds": thresholds}
    ev = coco_evaluate(tables, scores, max_detections=max_dets, crowd=crowd, **kwargs)
    params = (
        {}
        if thresholds is None
        else {"iouThrs": np.array([float(Fraction(t)) for t in thresholds])}
    )
    precision, recall = _reference_coco(
        preds, targets, scores, max_dets=max_dets, crowd=crowd, **params
    )
    _assert_same(ev.precision, precision)
    _assert_same(ev.recall, recall)
    return ev


def _ellipses(rng, shape, n, max_radius, big=0):
    """Touching ellipses of random sizes (later ones overwrite earlier ones), random ids; the
    last ``big`` ones have radii of 60-75 pixels (COCO's large range)."""
    grid = np.indices(shape)
    out = np.zeros(shape, np.int64)
    for j, k in enumerate(rng.choice(np.arange(1, 60001), size=n, replace=False)):
        large = j >= n - big
        centre = [rng.uniform(0.4 * s, 0.6 * s) if large else rng.uniform(0, s) for s in shape]
        low, high = (60, 75) if large else (3, max_radius)
        radii = [rng.uniform(low, high) for _ in shape]
        out[sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1] = k
    return out


def _scores(rng, preds, decimals):
    return [np.round(rng.uniform(size=len(_ids(p))), decimals).tolist() for p in preds]


# -- random scenes against pycocotools ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_dets", [(1, 10, 100), (1, 3, 5)])
def test_small_objects_equal_pycocotools(seed, max_dets):
    """Touching objects, misses, merges, splits, FP blobs; tied scores on odd seeds; empty
    images in the set (both empty, target only, prediction only)."""
    rng = np.random.default_rng(seed)
    pred, target = batch(seed, n_images=3, shape=(64, 64), n=12)
    preds, targets = list(pred), list(target)
    empty = np.zeros((64, 64), np.int64)
    preds += [empty, empty, target[0]]
    targets += [empty, target[1], empty]
    scores = _scores(rng, preds, 1 if seed % 2 else 8)
    _compare(preds, targets, scores, max_dets=max_dets)


@pytest.mark.parametrize("seed", range(4))
def test_all_size_ranges_equal_pycocotools(seed):
    """Objects from a few pixels to ~15,000 (small, medium and large ranges)."""
    rng = np.random.default_rng(100 + seed)
    targets = [_ellipses(rng, (192, 192), 9, 40, big=1) for _ in range(3)]
    preds = [perturb(rng, t) for t in targets]
    ev = _compare(preds, targets, _scores(rng, preds, 2 if seed % 2 else 8))
    assert (ev.n_targets[1:] > 0).all()  # small, medium and large targets


@pytest.mark.parametrize("seed", range(4))
def test_low_thresholds_and_conflicts_equal_pycocotools(seed):
    """Below IoU 0.5 a detection has several candidates: pycocotools' loop (best IoU, ties to
    the last target, targets outside the size range only when no other qualifies)."""
    rng = np.random.default_rng(200 + seed)
    targets = [_ellipses(rng, (128, 128), 14, 50) for _ in range(2)]
    preds = [perturb(rng, t) for t in targets]
    thresholds = ["0.1", "0.25", "0.5", "0.75"]
    _compare(preds, targets, _scores(rng, preds, 1), thresholds=thresholds, max_dets=(1, 5, 100))


@pytest.mark.parametrize("seed", range(3))
def test_crowd_regions_equal_pycocotools(seed):
    """Crowd targets: ignored, IoU = intersection / detection area, matched many times."""
    rng = np.random.default_rng(300 + seed)
    pred, target = batch(300 + seed, n_images=3, shape=(64, 64), n=12)
    tables = overlap_table(pred, target)
    crowd = [rng.choice(t.target_ids, size=2, replace=False).tolist() for t in tables]
    scores = _scores(rng, list(pred), 1)
    _compare(list(pred), list(target), scores, crowd=crowd)
    _compare(list(pred), list(target), scores, crowd=crowd, thresholds=["0.2", "0.5"])


@settings(max_examples=40, deadline=None)
@given(
    pred=arrays(np.int64, (2, 6, 6), elements=st.integers(0, 4)),
    target=arrays(np.int64, (2, 6, 6), elements=st.integers(0, 4)),
    score_levels=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_tiny_scenes_equal_pycocotools(pred, target, score_levels, seed):
    """Random 6x6 label maps: exact IoU ties, several candidates per detection, tied scores."""
    if not pred.any():
        pred[0, 0, 0] = 1  # pycocotools' loadRes([]) raises IndexError
    rng = np.random.default_rng(seed)
    scores = [(rng.integers(0, score_levels, len(_ids(p))) / 4).tolist() for p in pred]
    _compare(list(pred), list(target), scores, thresholds=["0.2", "1/3", "0.5", "0.75", "1"])
    _compare(list(pred), list(target), scores, max_dets=(1, 2))


def test_exact_iou_ties_go_to_the_last_target():
    """Detection 5 has IoU exactly 1/3 with targets 1 and 2 and takes the last (2), which leaves
    target 1 to detection 6; taking the first would leave detection 6 unmatched."""
    target = np.array([[1, 1, 2, 2]])
    pred = np.array([[6, 5, 5, 0]])
    ev = _compare([pred], [target], [[0.9, 0.8]], thresholds=["1/3", "0.5"])
    assert ev.recall[:, 0, 2].tolist() == [1.0, 0.5]


def test_exact_iou_ties_at_one_half():
    """A detection over two equal targets has IoU exactly 1/2 with each (passes: >=)."""
    target = np.array([[1, 1, 2, 2, 0, 0], [1, 1, 2, 2, 3, 3]])
    pred = np.array([[5, 5, 5, 5, 0, 0], [5, 5, 5, 5, 6, 0]])
    ev = _compare([pred], [target], [[0.9, 0.8]])
    assert ev.recall[0, 0, 2] == 2 / 3  # targets 2 and 3 matched at IoU 0.5


def test_max_detections_below_the_number_of_objects():
    """150 objects, COCO's 100 detections: AP and AR drop; pycocotools agrees at 100 and 1000."""
    rng = np.random.default_rng(7)
    target = _ellipses(rng, (256, 256), 150, 14)
    pred = perturb(rng, target)
    scores = _scores(rng, [pred], 8)
    ev = _compare([pred], [target], scores, max_dets=(10, 100, 1000))
    assert ev.recall[0, 0, 1] < ev.recall[0, 0, 2]
    s = coco_scores(pred, target, [np.array(scores[0])], ["ap", "ar"])
    s1000 = coco_scores(pred, target, [np.array(scores[0])], ["ap"], max_detections=1000)
    assert s["ap"].value < s1000["ap"].value
    assert s["ap"].value == pytest.approx(np.mean(ev.precision[:, :, 0, 1]), abs=TOL)


# -- the float conventions of pycocotools ---------------------------------------------------------


def test_pycocotools_iou_thresholds_pass_exact_ties():
    """Every linspace IoU threshold is at or below the double nearest its decimal, so an IoU
    exactly at a threshold passes in pycocotools too: exact thresholds give the same matches."""
    params = cocoeval.Params(iouType="segm")
    assert [
        Fraction(float(t)) <= Fraction(float(d))
        for t, d in zip(params.iouThrs, COCO_IOU_THRESHOLDS, strict=True)
    ] == [True] * 10
    assert params.iouThrs[8] == 0.8999999999999999  # below 0.9: ties pass


def test_strict_recall_points_are_pycocotools():
    """The recall points whose float lies above the double nearest k/100 (pycocotools' recThrs,
    derived here): there a recall of exactly k/100 (the nearest double) falls short."""
    rec = cocoeval.Params(iouType="segm").recThrs
    above = {k for k, r in enumerate(rec) if r > k / 100}
    assert above == PYCOCOTOOLS_STRICT_RECALL_POINTS
    # and the integer rule is pycocotools' float rule for every recall tp / G, G <= 400
    for g in range(1, 401):
        tp = np.arange(g + 1)
        floats = (tp / g)[:, None] >= rec[None, :]
        need = -(-np.arange(101) * g // 100)
        strict = sorted(PYCOCOTOOLS_STRICT_RECALL_POINTS)
        need[strict] = np.arange(101)[strict] * g // 100 + 1
        assert (floats == (tp[:, None] >= need[None, :])).all(), g


def _twenty_targets():
    """20 targets, 20 detections ranked TP x7, FP, TP x13: recall 0.35 exactly at rank 7."""
    target = np.zeros((4, 40), np.int64)
    pred = np.zeros((4, 40), np.int64)
    for k in range(20):
        target[0, 2 * k] = k + 1
    for k in range(21):
        if k != 7:
            g = k if k < 7 else k - 1
            pred[0, 2 * g] = k + 1
        else:
            pred[3, 0] = k + 1  # the FP at rank 8
    scores = (1 - np.arange(21) / 100).tolist()
    return pred, target, scores


def test_recall_rule_pycocotools_and_exact():
    """At recall exactly 0.35 pycocotools' point 35 is not reached: the next precision."""
    pred, target, scores = _twenty_targets()
    tables = overlap_table(pred, target)
    ours = coco_evaluate(tables, [scores])
    exact = coco_evaluate(tables, [scores], recall_rule="exact")
    precision, _ = _reference_coco([pred], [target], [scores])
    _assert_same(ours.precision, precision)
    # from rank 9 on (8 TP of 9) the best precision is the last, 20 of 21; at rank 7, 7 of 7
    assert ours.precision[0, 35, 0, 2] == 20 / 21
    assert exact.precision[0, 35, 0, 2] == 1.0
    nearest = np.array([k / 100 for k in range(101)])  # the doubles nearest k/100
    precision, _ = _reference_coco([pred], [target], [scores], recThrs=nearest)
    _assert_same(exact.precision, precision)


# -- published cases ------------------------------------------------------------------------------


def _decode(segmentation, height, width):
    """A polygon list or an RLE as a mask (pycocotools' decode warns under NumPy 2)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if isinstance(segmentation, list):
            segmentation = mask_util.merge(mask_util.frPyObjects(segmentation, height, width))
        return mask_util.decode(segmentation)


def _label_map(masks, shape):
    out = np.zeros(shape, np.int64)
    for k, m in enumerate(masks, start=1):
        assert not out[m > 0].any()  # one label map holds the objects of one category
        out[m > 0] = k
    return out


def _published_stats(case):
    """Per category: label maps, segscore's evaluation; then COCO's mean over categories."""
    stats = {}
    evaluations = []
    for category in case["categories"]:
        preds, targets, scores = [], [], []
        for image in case["images"]:
            shape = (image["height"], image["width"])
            gts = [
                a
                for a in case["annotations"]
                if (a["image_id"], a["category_id"]) == (image["id"], category)
            ]
            dts = [
                d
                for d in case["detections"]
                if (d["image_id"], d["category_id"]) == (image["id"], category)
            ]
            targets.append(_label_map([_decode(a["segmentation"], *shape) for a in gts], shape))
            preds.append(_label_map([_decode(d["segmentation"], *shape) for d in dts], shape))
            scores.append([d["score"] for d in dts])
        tables = [overlap_table(p, t)[0] for p, t in zip(preds, targets, strict=True)]
        evaluations.append(coco_evaluate(tables, scores))
    precision = np.stack([e.precision for e in evaluations], axis=2)  # (T, R, K, A, M)
    recall = np.stack([e.recall for e in evaluations], axis=1)  # (T, K, A, M)

    def mean(a):
        a = a[~np.isnan(a)]
        return float(np.mean(a)) if a.size else -1.0

    stats = [
        mean(precision[..., 0, 2]),
        mean(precision[0, :, :, 0, 2]),
        mean(precision[5, :, :, 0, 2]),
    ]
    stats += [mean(precision[:, :, :, a, 2]) for a in (1, 2, 3)]
    stats += [mean(recall[:, :, 0, m]) for m in (0, 1, 2)]
    stats += [mean(recall[:, :, a, 2]) for a in (1, 2, 3)]
    return stats


def test_published_detectron2_case():
    """detectron2's COCO-val excerpt (image 139: 2 persons, 3 detections; image 285 empty), with
    the stats of faster-coco-eval tests/test_coco_metric.py::test_detectron2_eval (commit
    8140fc4f65d7548c2185b0426acc250717729d4c), computed there by pycocotools; the data is
    detectron2 tests/data/test_coco_evaluation.py (commit 16ffa78516f49436899f89fbbc3e2b98f31bba47).
    The pixel areas (2922, 439) fall in the ranges of the polygon areas (2913.1, 435.1)."""
    case = json.loads((DATA / "coco_detectron2_case.json").read_text())
    expected = [0.7252475247524752, 1.0, 1.0, 0.8, 0.7, -1.0, 0.35, 0.75, 0.75, 0.8, 0.7, -1.0]
    np.testing.assert_allclose(_published_stats(case), expected, rtol=0, atol=TOL)


def test_published_faster_coco_eval_case():
    """faster-coco-eval's tests/dataset/{gt,dt}_dataset.json (3 images, 4 categories, polygons;
    commit 73f84de8e0771a42740726bf018481a32dc49d47) and the segm stats of
    tests/test_basic.py::test_coco_eval (commit 33ab6097d7983940e67591d20af1b4e9f48c4a93)."""
    case = json.loads((DATA / "coco_faster_coco_eval_case.json").read_text())
    expected = [
        0.6947194719471946, 0.6947194719471946, 0.6947194719471946, -1.0,
        0.7367986798679867, 0.0, 0.6666666666666666, 0.75, 0.75, -1.0,
        0.7916666666666666, 0.0,
    ]  # fmt: skip
    np.testing.assert_allclose(_published_stats(case), expected, rtol=0, atol=TOL)


# -- scores of the registry -----------------------------------------------------------------------


def test_registry_names_of_coco():
    cases = {
        "ap": ("ap", {"area": "all"}),
        "ap@0.5": ("ap", {"area": "all", "threshold": 0.5}),
        "ap@0.5:0.7": ("ap", {"area": "all", "low": 0.5, "high": 0.7, "step": 0.05}),
        "ap_small": ("ap", {"area": "small"}),
        "ar100": ("ar", {"area": "all", "max_detections": 100.0}),
        "ar10@0.5_large": ("ar", {"area": "large", "threshold": 0.5, "max_detections": 10.0}),
    }
    for name, (base, params) in cases.items():
        spec = get_metric(name, kind="instance")
        assert (spec.base, dict(spec.params), spec.unit) == (base, params, "ratio")
    for bad in ("ap100", "ar0", "ap@0", "ap@0.9:0.5", "ap_tiny"):
        with pytest.raises(InputError, match=r"`metric` must be one of"):
            get_metric(bad)


def test_scores_are_the_summary_of_pycocotools():
    """The twelve stats of summarize(), by name; per-image values are pycocotools on one image."""
    rng = np.random.default_rng(11)
    targets = [_ellipses(rng, (192, 192), 9, 40, big=1) for _ in range(3)]
    preds = [perturb(rng, t) for t in targets]
    scores = _scores(rng, preds, 8)
    names = ["ap", "ap@0.5", "ap@0.75", "ap_small", "ap_medium", "ap_large", "ar1", "ar10",
             "ar100", "ar_small", "ar_medium", "ar_large"]  # fmt: skip
    s = coco_scores(np.stack(preds), np.stack(targets), scores, names)
    ev = coco_evaluate(overlap_table(np.stack(preds), np.stack(targets)), scores)
    assert ev.summary().keys() == set(names)
    for name in names:
        assert s[name].value == pytest.approx(ev.summary()[name], abs=TOL, nan_ok=True)
    stats = _stats(preds, targets, scores)
    np.testing.assert_allclose(
        [s[n].value for n in names], np.where(stats == -1, np.nan, stats), atol=TOL
    )
    for i in range(3):
        one = _stats([preds[i]], [targets[i]], [scores[i]])
        assert s["ap"].per_image[i] == pytest.approx(one[0], abs=TOL)
        assert s["ar100"].per_image[i] == pytest.approx(one[8], abs=TOL)


def _stats(preds, targets, scores):
    images, annotations, detections = [], [], []
    for i, (p, t, sc) in enumerate(zip(preds, targets, scores, strict=True)):
        images.append({"id": i + 1, "height": p.shape[0], "width": p.shape[1]})
        for gid in _ids(t):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": 1,
                    "segmentation": _rle(t == gid),
                    "area": int((t == gid).sum()),
                    "iscrowd": 0,
                }
            )
        for pid, score in zip(_ids(p), sc, strict=True):
            detections.append(
                {
                    "image_id": i + 1,
                    "category_id": 1,
                    "segmentation": _rle(p == pid),
                    "score": score,
                }
            )
    return np.asarray(_run_cocoeval(images, annotations, detections, {}).stats)


def test_aggregation_empty_policy_and_conventions():
    pred = np.array([[[1, 1, 2, 2]], [[0, 4, 4, 0]], [[0, 0, 0, 0]], [[3, 0, 0, 0]]])
    target = np.array([[[5, 5, 5, 0]], [[0, 6, 6, 0]], [[0, 0, 0, 0]], [[0, 0, 0, 0]]])
    scores = [[0.9, 0.3], [0.8], [], [0.95]]
    pooled = coco_scores(pred, target, scores, ["ap@0.5", "ar"])
    per_image = coco_scores(pred, target, scores, "ap@0.5", aggregation="images_then_classes")
    s = pooled["ap@0.5"]
    # image 4's FP outranks every TP: the pooled precision starts at 0
    assert s.value == pytest.approx(
        coco_evaluate(overlap_table(pred, target), scores).summary()["ap@0.5"], abs=TOL
    )
    np.testing.assert_array_equal(s.per_image, [1.0, 1.0, np.nan, np.nan])
    assert per_image["ap@0.5"].value == 1.0
    assert per_image["ap@0.5"].n_nan == 2
    assert s.empty_cases == {"both_empty": 1, "target_empty": 1, "prediction_empty": 0,
                             "both_present": 2}  # fmt: skip
    zero = coco_scores(pred, target, scores, "ap@0.5", empty=EmptyPolicy(target_empty=0.0))
    np.testing.assert_array_equal(zero["ap@0.5"].per_image, [1.0, 1.0, np.nan, 0.0])
    record = s.conventions.as_dict()["instance"]
    assert record["max_detections"] == 100
    assert record["thresholds"] == ["1/2"]
    assert record["area_range"] == "all"
    assert record["area_bounds"] == [0, 10**10]
    assert record["recall_points"] == 101
    assert record["recall_rule"] == "pycocotools"
    assert pooled["ar"].conventions.instance["thresholds"][-1] == "19/20"
    assert COCO_AREA_RANGES["medium"] == (1024, 9216)


def test_no_target_anywhere_is_nan_and_no_detection_is_zero():
    """pycocotools: -1 without targets; IndexError in loadRes([]) without detections."""
    empty = np.zeros((1, 4, 4), np.int64)
    objects = np.zeros((1, 4, 4), np.int64)
    objects[0, :2, :2] = 7
    assert math.isnan(coco_scores(objects, empty, [[0.5]])["ap"].value)
    assert coco_scores(empty, objects, [[]])["ap"].value == 0.0
    assert math.isnan(coco_scores(empty, empty, [[]])["ap"].value)
    assert coco_scores(empty, empty, [[]], empty=0.0)["ap"].value == 0.0


def test_scores_as_mappings_and_with_ignore_index():
    """Scores by id or in id order; with ``ignore_index`` a detection lying wholly in ignored
    pixels leaves the image (its score is dropped by id)."""
    pred = np.array([[1, 1, 9, 9, 0, 0, 0, 4]])
    target = np.array([[2, 2, 255, 255, 255, 255, 255, 3]])
    by_id = coco_scores(pred, target, [{1: 0.9, 9: 0.95, 4: 0.5}], ["ap", "ar"])
    by_order = coco_scores(pred, target, np.array([0.9, 0.5, 0.95]), ["ap", "ar"])
    ignored = coco_scores(pred, target, [[0.9, 0.5, 0.95]], ["ap", "ar"], ignore_index=255)
    assert by_id["ap"].value == by_order["ap"].value < 1.0  # the best-scored is an FP
    assert by_id["ar"].value == by_order["ar"].value == 2 / 3
    assert ignored["ap"].value == ignored["ar"].value == 1.0


# -- bad input ------------------------------------------------------------------------------------


def test_bad_input():
    pred, target = batch(1, n_images=2, shape=(16, 16), n=3)
    tables = overlap_table(pred, target)
    good = [np.full(t.n_pred, 0.5) for t in tables]
    with pytest.raises(
        InputError,
        match=r"`scores` must hold one detection score per predicted "
        r"object of every image .*, got None\.",
    ):
        coco_scores(pred, target, None)
    with pytest.raises(
        InputError,
        match=r"`scores` must hold one score array per image \(2\), "
        r"got 1\.",
    ):
        coco_score_tables(tables, good[:1])
    with pytest.raises(
        InputError,
        match=r"`scores\[1\]` must hold one score per predicted object "
        r"\(\d+, in increasing id order\), got shape \(1,\)\.",
    ):
        coco_score_tables(tables, [good[0], [0.5]])
    nan = [good[0], np.where(np.arange(tables[1].n_pred) == 0, np.nan, 0.5)]
    with pytest.raises(
        InputError, match=r"`scores\[1\]` must hold no NaN .*, got NaN for the ids \["
    ):
        coco_score_tables(tables, nan)
    with pytest.raises(
        InputError,
        match=r"`scores\[0\]` must give a score to every predicted "
        r"object of the image, got no score for the ids \[",
    ):
        coco_score_tables(tables, [{}, good[1]])
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InputError, match=r"`max_detections` must be an integer >= 1, got"):
            coco_score_tables(tables, good, max_detections=bad)
        with pytest.raises(InputError, match=r"`max_detections` must be an integer >= 1, got"):
            coco_evaluate(tables, good, max_detections=(1, bad))
    with pytest.raises(InputError, match=r"`metrics` must name COCO metrics here .*got 'f1@0.5'"):
        coco_score_tables(tables, good, ["ap", "f1@0.5"])
    with pytest.raises(InputError, match=r"must be an instance metric here, got 'iou'"):
        coco_score_tables(tables, good, "iou")
    with pytest.raises(
        InputError,
        match=r"`scores` must be given for the COCO metric 'ap@0.5' "
        r"\(one detection score per predicted object\).*, got none\.",
    ):
        instance_scores(pred, target, ["f1@0.5", "ap@0.5"])
    with pytest.raises(InputError, match=r"`scores` must be given for the COCO metric 'ar100'"):
        InstanceEvaluator(["f1@0.5", "ar100"])  # refused when built, before any image
    with pytest.raises(
        InputError,
        match=r"`crowd\[0\]` must name target objects of the image, "
        r"got ids \[123456\] not in the target\.",
    ):
        coco_score_tables(tables, good, crowd=[[123456], []])
    with pytest.raises(InputError, match=r"`recall_rule` must be one of"):
        coco_score_tables(tables, good, recall_rule="linspace")
    with pytest.raises(InputError, match=r"`iou_thresholds` must be a number in \(0, 1\], got 0"):
        coco_evaluate(tables, good, iou_thresholds=[0])

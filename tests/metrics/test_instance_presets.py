"""Object-level presets: their conventions, their conflicts with explicit options, and each one
against the library itself (StarDist, panoptica, cellpose, pycocotools here; MONAI and
torchmetrics in test_panoptic_quality.py; cellpose's AJI in test_aji.py).

Inputs (``_instances.mixed_batch``): random touching objects with misses, merges, splits, false
positives and random non-consecutive ids; an image of exact ties (a prediction over two targets
at IoU exactly 1/2, pairs at exactly 3/4 and 7/10); and the three empty cases. Counts must be
equal; ratios agree to float32 tolerance where the peer computes in float32.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from segscore import EmptyPolicy, InputError, instance_scores, label_components, overlap_table
from segscore.metrics.instance.metrics import score_tables
from segscore.metrics.presets import PRESETS, InstanceConventions, get_preset
from segscore.metrics.registry import get_metric

from ._instances import compact_ids, mixed_batch, tie_image
from ._peers import (
    cellpose_metrics,
    panoptica_evaluate,
    pycocotools_evaluate,
    stardist_matching,
)

F32 = {"rtol": 2e-6, "atol": 1e-7}
F64 = {"rtol": 1e-12, "atol": 1e-15}
OBJECT_PRESETS = ["monai", "torchmetrics", "stardist", "panoptica", "cellpose", "coco"]
NAN = math.nan


def test_which_presets_have_object_conventions():
    assert [n for n, p in PRESETS.items() if p.instance is not None] == OBJECT_PRESETS
    for name in ("stardist", "panoptica", "cellpose", "coco"):
        p = get_preset(name)
        assert (p.has_overlap, p.has_distance, p.aggregation) == (
            False,
            False,
            "images_then_classes",
        )
        assert p.as_dict()["instance"]["library"] == p.instance.library
    assert get_preset("pycocotools") is PRESETS["coco"]
    assert get_preset("medpy").as_dict()["instance"] is None
    with pytest.raises(AttributeError):
        get_preset("stardist").instance.matching = "greedy"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "matching", "comparison", "aggregation"),
    [
        ("stardist", "optimal", ">=", "pooled"),
        ("panoptica", "greedy", ">=", "images_then_classes"),
        ("cellpose", "optimal", ">=", "images_then_classes"),
        ("coco", "greedy", ">=", "pooled"),
        ("monai", "unique", ">", "pooled"),
        ("torchmetrics", "unique", ">", "pooled"),
    ],
)
def test_conventions_reach_the_result(name, matching, comparison, aggregation):
    pred, target = mixed_batch(1)
    s = instance_scores(pred, target, ["f1@0.75", "aji"], preset=name)
    conv = s["f1@0.75"].conventions
    assert conv.preset == name
    assert conv.aggregation == aggregation
    assert conv.instance == {
        "matching": matching,
        "criterion": "iou",
        "comparison": comparison,
        "thresholds": ["3/4"],
    }
    assert conv.empty == get_preset(name).instance.empty_for(get_metric("f1@0.75"))
    explicit = instance_scores(
        pred,
        target,
        ["f1@0.75", "aji"],
        matching=matching,
        comparison=comparison,
        aggregation=aggregation,
        empty=conv.empty,
    )
    assert s["f1@0.75"].value == explicit["f1@0.75"].value
    np.testing.assert_array_equal(s["aji"].per_image, explicit["aji"].per_image)


# Per-image values of the four empty cases (both empty, target empty, prediction empty, one exact
# match) under each preset: what each library gives, or (panoptica's prec/rec, which raise) NaN.
EMPTY_CASES = ["precision@0.5", "recall@0.5", "f1@0.5", "dsb@0.5", "sq", "pq", "aji"]
EMPTY_VALUES = {
    None: {
        "precision@0.5": [NAN, 0, NAN, 1],
        "recall@0.5": [NAN, NAN, 0, 1],
        "f1@0.5": [NAN, 0, 0, 1],
        "dsb@0.5": [NAN, 0, 0, 1],
        "sq": [NAN, NAN, NAN, 1],
        "pq": [NAN, 0, 0, 1],
        "aji": [NAN, 0, 0, 1],
    },
    "zero": {name: [0, 0, 0, 1] for name in EMPTY_CASES},  # StarDist, MONAI, torchmetrics
    "panoptica": {
        "precision@0.5": [NAN, 0, NAN, 1],  # panoptica raises ZeroDivisionError for the NaNs
        "recall@0.5": [NAN, NAN, 0, 1],
        "f1@0.5": [NAN, 0, 0, 1],
        "dsb@0.5": [NAN, 0, 0, 1],
        "sq": [NAN, 0, 0, 1],
        "pq": [NAN, 0, 0, 1],
        "aji": [NAN, 0, 0, 1],
    },
}


@pytest.mark.parametrize("preset", [None, *OBJECT_PRESETS])
def test_empty_cases(preset):
    z = np.zeros((1, 4), int)
    obj = np.array([[0, 3, 3, 0]])
    pred, target = np.stack([z, obj, z, obj]), np.stack([z, z, obj, obj])
    s = instance_scores(pred, target, EMPTY_CASES, preset=preset)
    key = {"stardist": "zero", "monai": "zero", "torchmetrics": "zero"}.get(preset, preset)
    expected = EMPTY_VALUES.get(key, EMPTY_VALUES[None])  # cellpose, coco: NaN for 0/0
    for name in EMPTY_CASES:
        np.testing.assert_array_equal(s[name].per_image, expected[name], err_msg=name)
        assert s[name].empty_cases == {
            "both_empty": 1,
            "target_empty": 1,
            "prediction_empty": 1,
            "both_present": 1,
        }


def test_explicit_options_that_agree_are_accepted():
    pred, target = tie_image()
    base = instance_scores(pred, target, "pq", preset="stardist")["pq"]
    same = instance_scores(
        pred,
        target,
        "pq",
        preset="stardist",
        matching="optimal",
        criterion="iou",
        comparison=">=",
        aggregation="pooled_micro",  # pooled either way for one class of objects
        empty=0.0,
    )["pq"]
    assert same.value == base.value
    per_image = instance_scores(
        pred, target, "pq", preset="cellpose", aggregation="classes_then_images"
    )
    assert per_image["pq"].conventions.aggregation == "classes_then_images"


@pytest.mark.parametrize(
    ("preset", "kwargs", "message"),
    [
        (
            "stardist",
            {"matching": "greedy"},
            r"`matching` must agree with preset='stardist' \(matching='optimal'\) or be left "
            r"unset, got 'greedy'\.",
        ),
        (
            "monai",
            {"comparison": ">="},
            r"`comparison` must agree with preset='monai' \(comparison='>'\)",
        ),
        (
            "coco",
            {"criterion": "dice"},
            r"`criterion` must agree with preset='coco' \(criterion='iou'\)",
        ),
        (
            "stardist",
            {"aggregation": "images_then_classes"},
            r"`aggregation` must agree with preset='stardist' \(aggregation='pooled'\)",
        ),
        (
            "stardist",
            {"empty": math.nan},
            r"`empty` must agree with preset='stardist' \(EmptyPolicy\(zero_division=0.0, .*\) "
            r"for 'pq'\) or be left unset, got nan\.",
        ),
        (
            "panoptica",
            {"empty": EmptyPolicy()},
            r"`empty` must agree with preset='panoptica' .* for 'sq'\)",
        ),
        (
            "medpy",
            {},
            r"`preset` must be a preset with object-level conventions \('monai', 'torchmetrics', "
            r"'stardist', 'panoptica', 'cellpose', 'coco'\), got 'medpy'\.",
        ),
        ("stardust", {}, r"`preset` must be one of 'monai', .*, got 'stardust'\."),
        ("stardist", {"matching": "hungarian"}, r"`matching` must be one of 'optimal'"),
    ],
)
def test_conflicts_are_errors(preset, kwargs, message):
    pred, target = tie_image()
    with pytest.raises(InputError, match=message):
        instance_scores(pred, target, ["pq", "sq", "tp@0.5"], preset=preset, **kwargs)
    with pytest.raises(InputError, match=message):
        score_tables(overlap_table(pred, target), ["pq", "sq"], preset=preset, **kwargs)


def test_without_preset_the_defaults_hold():
    pred, target = tie_image()
    s = instance_scores(pred, target, "pq")["pq"]
    assert (s.conventions.preset, s.conventions.aggregation) == (None, "images_then_classes")
    assert s.conventions.instance["matching"] == "optimal"
    assert math.isnan(s.conventions.empty.zero_division)


def test_instance_conventions_are_checked():
    with pytest.raises(InputError, match=r"`matching` must be one of"):
        InstanceConventions("x", matching="best", comparison=">=", aggregation="pooled")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"`connectivity_3d` must be one of 'face', 'full'"):
        InstanceConventions(
            "x",
            "optimal",
            ">=",
            "pooled",
            connectivity_3d="26",  # type: ignore[arg-type]
        )


# -- StarDist 0.9.2 --------------------------------------------------------------------------------
STARDIST_KEYS = {  # its field -> segscore's metric
    "precision": "precision",
    "recall": "recall",
    "f1": "f1",
    "accuracy": "dsb",
    "mean_matched_score": "sq",
    "panoptic_quality": "pq",
}
THRESHOLDS = [0.5, 0.6, 0.7, 0.75, 0.9]


def _stardist_names(t: float) -> list[str]:
    return [f"{m}@{t}" for m in (*STARDIST_KEYS.values(), "tp", "fp", "fn")]


@pytest.mark.parametrize("seed", [0, 1])
def test_stardist(seed):
    sm = stardist_matching()
    pred, target = mixed_batch(seed)
    names = [n for t in THRESHOLDS for n in _stardist_names(t)]
    ours = instance_scores(pred, target, names, preset="stardist")
    for t in THRESHOLDS:
        # matching_dataset(by_image=False), its default: the preset's pooled numbers
        r = sm.matching_dataset(list(target), list(pred), thresh=t, show_progress=False)
        assert [ours[f"{k}@{t}"].value for k in ("tp", "fp", "fn")] == [r.tp, r.fp, r.fn]
        for key, name in STARDIST_KEYS.items():
            np.testing.assert_allclose(ours[f"{name}@{t}"].value, getattr(r, key), **F32)
    for i in range(pred.shape[0]):  # per image, empty images included: every value
        for t, r in zip(
            THRESHOLDS, sm.matching(target[i], pred[i], thresh=THRESHOLDS), strict=True
        ):
            assert [ours[f"{k}@{t}"].per_image[i] for k in ("tp", "fp", "fn")] == [r.tp, r.fp, r.fn]
            for key, name in STARDIST_KEYS.items():
                np.testing.assert_allclose(ours[f"{name}@{t}"].per_image[i], getattr(r, key), **F32)


# -- panoptica 2.1.7 -------------------------------------------------------------------------------
PANOPTICA_KEYS = {"rq": "rq", "sq": "sq", "pq": "pq", "prec": "precision@0.5", "rec": "recall@0.5"}


def _panoptica(pred, target, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own RuntimeWarnings (0/0, uint overflow)
        return panoptica_evaluate(pred, target, **kwargs)


@pytest.mark.parametrize("seed", [0, 1])
def test_panoptica(seed):
    pred, target = mixed_batch(seed)
    ours = instance_scores(
        pred, target, ["tp@0.5", "fp@0.5", "fn@0.5", *PANOPTICA_KEYS.values()], preset="panoptica"
    )
    cases = [_panoptica(pred[i], target[i]) for i in range(pred.shape[0])]
    for i, r in enumerate(cases):
        assert [ours[f"{k}@0.5"].per_image[i] for k in ("tp", "fp", "fn")] == [r.tp, r.fp, r.fn]
        for key, name in PANOPTICA_KEYS.items():
            want = getattr(r, key)
            want = NAN if want is None else want  # None: panoptica raised ZeroDivisionError
            np.testing.assert_allclose(ours[name].per_image[i], want, **F64, err_msg=key)
    for key in ("rq", "sq", "pq"):  # the mean over cases (NaN cases skipped here, counted)
        want = np.nanmean([getattr(r, key) for r in cases])
        assert ours[PANOPTICA_KEYS[key]].value == pytest.approx(want, rel=1e-12)
        assert ours[PANOPTICA_KEYS[key]].n_nan == 1


@pytest.mark.parametrize("spatial_dims", [2, 3])
def test_panoptica_semantic_input_with_its_connected_components(spatial_dims):
    rng = np.random.default_rng(spatial_dims)
    shape = (24, 24) if spatial_dims == 2 else (12, 12, 12)
    target = rng.random(shape) < 0.25  # many small touching-by-corner blobs
    pred = np.roll(target, 1, axis=0) ^ (rng.random(shape) < 0.05)
    conn = get_preset("panoptica").instance.connectivity_for(spatial_dims)
    assert conn == ("face" if spatial_dims == 2 else "full")
    p, t = (
        label_components(m, connectivity=conn, spatial_dims=spatial_dims) for m in (pred, target)
    )
    ours = instance_scores(
        p, t, ["tp@0.5", "fp@0.5", "fn@0.5", "pq"], spatial_dims=spatial_dims, preset="panoptica"
    )
    r = _panoptica(pred.astype(np.uint8), target.astype(np.uint8), semantic=True)
    assert [ours[f"{k}@0.5"].value for k in ("tp", "fp", "fn")] == [r.tp, r.fp, r.fn]
    assert ours["pq"].value == pytest.approx(r.pq, rel=1e-12)


@pytest.mark.parametrize(
    ("dtype", "ids", "theirs"),
    [(np.int32, (1, 255), (1, 0, 1)), (np.uint16, (7, 65535), (0, 1, 2))],
)
def test_panoptica_id_at_the_dtype_maximum(dtype, ids, theirs):
    # CONVENTIONS-objects §4: panoptica down-casts the labels to the smallest unsigned dtype and
    # max(label) + 1 wraps to 0; two identical objects each side, segscore counts both matches.
    target = np.zeros((4, 4), dtype)
    target[0, :2], target[2, :2] = ids
    pred = target.copy()
    ours = instance_scores(pred, target, ["tp@0.5", "pq"], preset="panoptica")
    assert (ours["tp@0.5"].value, ours["pq"].value) == (2.0, 1.0)
    wrong = _panoptica(pred, target)
    assert ((wrong.tp, wrong.fp, wrong.fn), wrong.pq) == (theirs, 0.0)  # their bug, pinned
    right = _panoptica(
        compact_ids(pred, 1).astype(np.int32), compact_ids(target, 1).astype(np.int32)
    )
    assert (right.tp, right.pq) == (2, 1.0)


# -- cellpose 4.2.1.1 ------------------------------------------------------------------------------
CELLPOSE_THRESHOLDS = [0.5, 0.7, 0.75, 0.9]


@pytest.mark.parametrize("seed", [0, 1])
def test_cellpose_average_precision(seed):
    cp = cellpose_metrics()
    pred, target = mixed_batch(seed)
    pred, target = (np.stack([compact_ids(a) for a in x]) for x in (pred, target))
    names = [f"{m}@{t}" for t in CELLPOSE_THRESHOLDS for m in ("dsb", "tp", "fp", "fn")]
    ours = instance_scores(pred, target, [*names, "dsb@0.5:0.95"], preset="cellpose")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its 0/0 on the image without objects
        ap, tp, fp, fn = cp.average_precision(
            list(target), list(pred), threshold=CELLPOSE_THRESHOLDS
        )
        sweep = cp.average_precision(
            list(target), list(pred), threshold=list(np.linspace(0.5, 0.95, 10))
        )[0]
    for j, t in enumerate(CELLPOSE_THRESHOLDS):
        for name, counts in (("tp", tp), ("fp", fp), ("fn", fn)):
            np.testing.assert_array_equal(ours[f"{name}@{t}"].per_image, counts[:, j])
        np.testing.assert_allclose(ours[f"dsb@{t}"].per_image, ap[:, j], **F32)  # ap is float32
        assert ours[f"dsb@{t}"].value == pytest.approx(np.nanmean(ap[:, j]), rel=1e-6)
    np.testing.assert_allclose(ours["dsb@0.5:0.95"].per_image, sweep.mean(axis=1), **F32)


def test_cellpose_loses_ties_at_arange_thresholds():
    # CONVENTIONS-objects §3 #2: the pair at IoU exactly 7/10 of the tie image
    cp = cellpose_metrics()
    pred, target = tie_image()
    spelled = np.arange(0.5, 1.0, 0.05)[4]
    assert spelled > 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0/0 in its dense IoU matrix for absent ids
        tp_spelled = cp.average_precision(target, pred, threshold=[spelled])[1][0]
        tp_decimal = cp.average_precision(target, pred, threshold=[0.7])[1][0]
    assert tp_decimal == tp_spelled + 1
    ours = instance_scores(pred, target, "tp@0.7", preset="cellpose")["tp@0.7"].value
    assert ours == tp_decimal


def test_cellpose_needs_a_background_pixel():
    # it counts objects as len(np.unique(labels)) - 1: without background one object is lost
    cp = cellpose_metrics()
    labels = np.array([[1, 1, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ap, tp, fp, fn = cp.average_precision(labels, labels, threshold=[0.5])
    assert (tp[0], fp[0], fn[0], ap[0]) == (2, -1, -1, np.inf)
    s = instance_scores(labels, labels, ["tp@0.5", "fp@0.5", "dsb@0.5"], preset="cellpose")
    assert [s[k].value for k in ("tp@0.5", "fp@0.5", "dsb@0.5")] == [2, 0, 1]


# -- pycocotools 2.0.11 ----------------------------------------------------------------------------
COCO_T = [f"{t:.2f}" for t in np.linspace(0.5, 0.95, 10)]


@pytest.mark.parametrize("seed", [0, 1])
def test_coco_recall_and_matches(seed):
    pred, target = mixed_batch(seed)
    ev = pycocotools_evaluate(pred, target)
    names = [f"{m}@{t}" for t in COCO_T for m in ("recall", "tp")]
    ours = instance_scores(pred, target, names, preset="coco")
    for j, t in enumerate(COCO_T):
        assert ours[f"recall@{t}"].value == pytest.approx(ev.eval["recall"][j, 0, 0, 0], rel=1e-12)
    images = {e["image_id"]: e for e in ev.evalImgs if e is not None}
    for i in range(pred.shape[0]):
        for j, t in enumerate(COCO_T):
            matched = 0 if i not in images else int((images[i]["dtMatches"][j] > 0).sum())
            assert ours[f"tp@{t}"].per_image[i] == matched


def test_coco_recall_without_targets():
    # COCO writes -1 where recall is undefined (no target in the whole set); segscore NaN
    pred, _ = mixed_batch(2)
    target = np.zeros_like(pred)
    ev = pycocotools_evaluate(pred, target)
    assert ev.eval["recall"][0, 0, 0, 0] == -1
    assert math.isnan(
        instance_scores(pred, target, "recall@0.5", preset="coco")["recall@0.5"].value
    )


def test_score_counts_takes_the_preset_and_checks_the_counts():
    from segscore.metrics.instance import InstanceEvaluator
    from segscore.metrics.instance.metrics import instance_counts, score_counts
    from segscore.metrics.registry import parse_metrics

    pred, target = mixed_batch(3)
    tables = overlap_table(pred, target)
    specs = parse_metrics("pq,f1@0.5")
    direct = instance_scores(pred, target, ["pq", "f1@0.5"], preset="stardist")
    counted = score_counts(instance_counts(tables), {}, specs, preset="stardist")
    assert counted["pq"].value == direct["pq"].value
    assert counted["pq"].conventions == direct["pq"].conventions
    with pytest.raises(InputError, match=r"`comparison` must agree with preset='stardist'"):
        score_counts(instance_counts(tables, comparison=">"), {}, specs, preset="stardist")
    with pytest.raises(
        InputError, match=r"`aji` must hold the per-image numerator .*'aji_cellpose'"
    ):
        score_counts(instance_counts(tables), {}, parse_metrics("aji_cellpose"))
    ev = InstanceEvaluator(["aji_cellpose"])  # the streaming accumulator knows every AJI
    ev.update(pred[:4], target[:4])
    ev.update(pred[4:], target[4:])
    np.testing.assert_array_equal(
        ev.compute("aji_cellpose").per_image,
        instance_scores(pred, target, "aji_cellpose")["aji_cellpose"].per_image,
    )

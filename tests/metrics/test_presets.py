"""Presets: names, records, and the overlap conventions of each preset against the library itself
(sklearn, SMP's functional.py loaded by path, MONAI, torchmetrics, MedPy) or, where it is not
installed (nnU-Net, Metrics Reloaded), against numbers worked out from its published code."""

from __future__ import annotations

import math

import numpy as np
import pytest

import segscore
from segscore.errors import InputError
from segscore.metrics.boundary import distance_metrics
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.presets import PRESETS, Preset, get_preset
from segscore.metrics.registry import get_metric

from ._peers import smp_functional

NAMES = ["monai", "medpy", "deepmind", "metrics-reloaded", "torchmetrics", "mmseg", "nnunet", "smp"]
OBJECTS_ONLY = [
    "stardist",
    "panoptica",
    "cellpose",
    "coco",
]  # tests/metrics/test_instance_presets.py


def test_names_and_aliases():
    assert list(PRESETS) == NAMES + OBJECTS_ONLY
    assert [n for n, p in PRESETS.items() if p.has_overlap] == NAMES
    assert get_preset("MR") is PRESETS["metrics-reloaded"]
    assert get_preset("hf") is PRESETS["mmseg"]
    assert isinstance(get_preset("smp"), Preset)
    with pytest.raises(InputError, match=r"`preset` must be one of 'monai', .* got 'sklearn'"):
        get_preset("sklearn")


def test_frozen():
    with pytest.raises(AttributeError):
        get_preset("monai").rule = "pooled"  # type: ignore[misc]


@pytest.mark.parametrize("name", NAMES)
def test_preset_recorded_in_result(name):
    m = np.zeros((10, 10), bool)
    m[2:6, 2:6] = True
    r = distance_metrics(m, np.roll(m, 1, 0), ["hd95", "assd"], preset=name)
    assert r.conventions["hd95"].preset == name
    assert r.conventions["hd95"].boundary["hd_percentile_rule"] == get_preset(name).rule
    assert r.conventions["hd95"].empty == get_preset(name).empty_for(get_metric("hd95"))
    assert not math.isnan(r["hd95"][0, 0])


def test_explicit_option_overrides_preset():
    m = np.zeros((10, 10), bool)
    m[2:6, 2:6] = True
    r = distance_metrics(m, np.roll(m, 1, 0), ["hd95"], preset="medpy", rule="max_directed")
    assert r.conventions["hd95"].boundary["hd_percentile_rule"] == "max_directed"
    e = np.zeros_like(m)
    # an explicit empty policy overrides the preset's, for the metrics it names
    r = distance_metrics(m, e, ["hd", "nsd@1"], preset="medpy", empty={"hd": EmptyPolicy()})
    assert (r["hd"][0, 0], r["nsd@1"][0, 0]) == (math.inf, 0.0)


INF, NAN = math.inf, math.nan
CASES = ("both_empty", "target_empty", "prediction_empty", "both_present")
# (hd, hd95, assd, nsd@1, biou@1px) per case: the numbers each preset gave before the policies were
# made per metric (MONAI: HD inf but HD95 NaN; DeepMind: HD95 inf when both are empty; Metrics
# Reloaded: distances NaN with one empty and 0 with both, NSD and BIoU 1 with both; MedPy: NaN).
EMPTY_VALUES = {
    None: {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (INF, INF, INF, 0.0, 0.0),
        "prediction_empty": (INF, INF, INF, 0.0, 0.0),
    },
    "monai": {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (INF, NAN, INF, 0.0, 0.0),
        "prediction_empty": (INF, NAN, INF, 0.0, 0.0),
    },
    "medpy": {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (NAN, NAN, NAN, 0.0, 0.0),
        "prediction_empty": (NAN, NAN, NAN, 0.0, 0.0),
    },
    "deepmind": {
        "both_empty": (NAN, INF, NAN, NAN, NAN),
        "target_empty": (INF, INF, INF, 0.0, 0.0),
        "prediction_empty": (INF, INF, INF, 0.0, 0.0),
    },
    "metrics-reloaded": {
        "both_empty": (0.0, 0.0, 0.0, 1.0, 1.0),
        "target_empty": (NAN, NAN, NAN, 0.0, 0.0),
        "prediction_empty": (NAN, NAN, NAN, 0.0, 0.0),
    },
    "torchmetrics": {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (INF, INF, INF, 0.0, 0.0),
        "prediction_empty": (INF, INF, INF, 0.0, 0.0),
    },
}


def _empty_case(case):
    square = np.zeros((12, 12), bool)
    square[3:8, 3:8] = True
    empty = np.zeros_like(square)
    return {
        "both_empty": (empty, empty),
        "target_empty": (square, empty),
        "prediction_empty": (empty, square),
        "both_present": (np.roll(square, 1, 0), square),
    }[case]


@pytest.mark.parametrize("preset", list(EMPTY_VALUES), ids=str)
@pytest.mark.parametrize("case", CASES)
def test_preset_empty_values(preset, case):
    names = ["hd", "hd95", "assd", "nsd@1", "biou@1px"]
    pred, target = _empty_case(case)
    r = distance_metrics(pred, target, names, preset=preset)
    got = tuple(float(r[n][0, 0]) for n in names)
    assert r.empty_cases["hd"][case] == 1
    if case == "both_present":
        assert all(math.isfinite(v) for v in got)
        return
    np.testing.assert_array_equal(got, EMPTY_VALUES[preset][case])


@pytest.mark.parametrize("preset", ["mmseg", "nnunet", "smp"])
def test_presets_without_distances_carry_the_defaults(preset):
    for case in CASES[:3]:
        pred, target = _empty_case(case)
        names = ["hd", "hd95", "assd", "nsd@1", "biou@1px"]
        r = distance_metrics(pred, target, names, preset=preset)
        np.testing.assert_array_equal([r[n][0, 0] for n in names], EMPTY_VALUES[None][case])


def test_empty_for_lookup_order():
    dm, mr = get_preset("deepmind"), get_preset("metrics-reloaded")
    assert dm.empty_for(get_metric("hd95")) == EmptyPolicy(both_empty=INF)  # 'hdP'
    assert dm.empty_for(get_metric("hd")) == dm.boundary_empty  # no percentile: family default
    assert mr.empty_for(get_metric("hd99")) == mr.metric_empty["hd"]  # the base name
    assert mr.empty_for(get_metric("nsd@2")) == EmptyPolicy(zero_division=1.0)
    assert mr.empty_for(get_metric("dice")) == EmptyPolicy(both_empty=1.0)  # exact name
    assert mr.empty_for(get_metric("iou")) == mr.empty  # overlap family default
    assert get_preset("medpy").overlap_kwargs("jaccard")["empty"] == EmptyPolicy(zero_division=1.0)


# -- overlap conventions against the peers ---------------------------------------------------------
# the peers' own warnings (MedPy, MONAI, torchmetrics) are not what these tests check
peer_warnings = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::RuntimeWarning", "ignore::DeprecationWarning"
)


def _data():
    """3 images 6x7, 3 classes: class 2 absent from image 0 and image 2; image 2 has an empty GT
    for class 1 with FP pixels (CONVENTIONS §5.3 shape)."""
    rng = np.random.default_rng(7)
    target = rng.integers(0, 3, (3, 6, 7))
    pred = np.where(rng.random((3, 6, 7)) < 0.7, target, rng.integers(0, 3, (3, 6, 7)))
    target[0][target[0] == 2] = 0
    target[2][target[2] == 2] = 0
    pred[0][pred[0] == 2] = 0
    pred[2][pred[2] == 2] = 0
    target[2][target[2] == 1] = 0
    pred[2, 0, :3] = 1
    return pred, target


def _score(preset, metric, pred, target, num_classes=3):
    c = segscore.confusion(pred, target, num_classes=num_classes)
    return segscore.score(c, metric, **get_preset(preset).overlap_kwargs(metric))


@peer_warnings
def test_mmseg_matches_sklearn_pooled():
    metrics = pytest.importorskip("sklearn.metrics")
    pred, target = _data()
    s = _score("mmseg", "iou", pred, target)
    ref = metrics.jaccard_score(target.ravel(), pred.ravel(), average=None, labels=[0, 1, 2])
    np.testing.assert_allclose(s.per_class, ref, rtol=1e-12)
    assert s.value == pytest.approx(ref.mean(), rel=1e-12)


@peer_warnings
@pytest.mark.parametrize("metric", ["iou", "dice"])
def test_smp_micro_imagewise(metric):
    torch = pytest.importorskip("torch")
    smp = smp_functional()
    pred, target = _data()
    pred[1] = 0  # an image whose foreground is wholly empty in the prediction
    c = segscore.confusion(pred, target, num_classes=3)
    tensors = [torch.from_numpy(getattr(c, k)) for k in ("tp", "fp", "fn", "tn")]
    fn = smp.iou_score if metric == "iou" else smp.f1_score
    ref = fn(*tensors, reduction="micro-imagewise", zero_division=1.0).item()
    assert _score("smp", metric, pred, target).value == pytest.approx(ref, rel=1e-6)


@peer_warnings
def test_monai_dice_ignore_empty():
    torch = pytest.importorskip("torch")
    mm = pytest.importorskip("monai.metrics")
    from monai.metrics.utils import do_metric_reduction

    pred, target = _data()
    oh = lambda a: torch.from_numpy(np.eye(3)[a].transpose(0, 3, 1, 2))  # noqa: E731
    f = mm.compute_dice(oh(pred), oh(target), include_background=True, ignore_empty=True)
    ref, _ = do_metric_reduction(f, "mean")
    assert _score("monai", "dice", pred, target).value == pytest.approx(ref.item(), rel=1e-6)


@peer_warnings
def test_torchmetrics_mean_iou():
    torch = pytest.importorskip("torch")
    tms = pytest.importorskip("torchmetrics.segmentation")
    pred, target = _data()
    m = tms.MeanIoU(num_classes=3, include_background=True, input_format="index")
    ref = m(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert _score("torchmetrics", "iou", pred, target).value == pytest.approx(ref, rel=1e-6)


@peer_warnings
def test_medpy_dc_jc_single_pair():
    mb = pytest.importorskip("medpy.metric.binary")
    pred, target = _data()
    p, t = pred[0] == 1, target[0] == 1
    assert _score("medpy", "dice", p[None], t[None], None).value == pytest.approx(mb.dc(p, t))
    assert _score("medpy", "iou", p[None], t[None], None).value == pytest.approx(mb.jc(p, t))
    e = np.zeros((1, 4, 4), bool)
    assert _score("medpy", "iou", e, e, None).value == 1.0  # jc of two empty masks
    assert math.isnan(_score("medpy", "dice", e, e, None).value)  # dc: NaN under NumPy 2


def _score_none(preset, metric, pred, target):
    c = segscore.confusion(pred, target, num_classes=3)
    return segscore.score(c, metric, **get_preset(preset).overlap_kwargs(metric))


@peer_warnings
def test_nnunet_worked_example():
    """nnU-Net v2 evaluation/evaluate_predictions.py: per case and label, dice = 2tp/(2tp+fp+fn),
    NaN when tp+fp+fn == 0; 'mean' per label = np.nanmean over cases; 'foreground_mean' = mean of
    the label means (labels 1..C-1)."""
    pred = np.array([[[1, 1, 0, 0]], [[0, 0, 2, 2]]])
    target = np.array([[[1, 0, 0, 0]], [[0, 0, 2, 0]]])
    # label 1: case0 2*1/(2+1) = 2/3, case1 NaN -> 2/3; label 2: case0 NaN, case1 2/3 -> 2/3
    assert _score_none("nnunet", "dice", pred, target).value == pytest.approx(2 / 3)


@peer_warnings
def test_metrics_reloaded_worked_example():
    """Metrics Reloaded pairwise_measures: DSC of two empty references is 1 (dsc: `if
    np.sum(ref)+np.sum(pred) == 0: return 1`), foreground labels only, per label mean over cases."""
    pred = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 0]]])
    target = np.array([[[1, 0, 0, 0]], [[0, 0, 0, 0]]])
    # label 1: (2/3 + 1) / 2; label 2: (1 + 1) / 2 -> mean 0.9166...
    assert _score_none("metrics-reloaded", "dice", pred, target).value == pytest.approx(
        (5 / 6 + 1) / 2
    )


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torchmetrics_preset_has_a_rule_per_metric(seed):
    # Issue #11 (peers): DiceScore averages each image over classes first, MeanIoU pools the
    # image x class cells; one rule for both gave a wrong number for one of them.
    torch = pytest.importorskip("torch")
    seg = pytest.importorskip("torchmetrics.segmentation")
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 3, (4, 8, 8))
    pred = np.where(rng.random((4, 8, 8)) < 0.6, target, rng.integers(0, 3, (4, 8, 8)))
    target[0][target[0] == 2] = 0  # class 2 absent from image 0
    pred[0][pred[0] == 2] = 1
    p, t = torch.from_numpy(pred), torch.from_numpy(target)
    counts = segscore.confusion(pred, target, num_classes=3)
    preset = get_preset("torchmetrics")
    dice = float(seg.DiceScore(num_classes=3, input_format="index")(p, t))
    miou = float(seg.MeanIoU(num_classes=3, input_format="index")(p, t))
    got_dice = segscore.score(counts, "dice", **preset.overlap_kwargs("dice")).value
    got_iou = segscore.score(counts, "iou", **preset.overlap_kwargs("iou")).value
    assert got_dice == pytest.approx(dice, rel=1e-6)  # torchmetrics computes in float32
    assert got_iou == pytest.approx(miou, rel=1e-6)
    assert preset.overlap_kwargs("dice")["aggregation"] == "classes_then_images"
    assert preset.overlap_kwargs("iou")["aggregation"] == "per_image_per_class"

"""Overlap conventions of each preset against the library itself (sklearn, SMP's functional.py
loaded by path, MONAI, torchmetrics, MedPy) or, where it is not installed (nnU-Net, Metrics
Reloaded), against numbers worked out from its published code."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import segscore
from segscore.metrics.presets import PRESETS, get_preset

pytestmark = pytest.mark.filterwarnings(
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


def test_every_preset_has_all_conventions():
    for name, p in PRESETS.items():
        assert p.overlap_kwargs()["aggregation"] in segscore.AGGREGATIONS, name
        assert set(p.distance_kwargs()) == {
            "surface",
            "connectivity",
            "rule",
            "interpolation",
            "assd_variant",
            "boundary_metric",
        }
        assert p.as_dict()["name"] == name


def test_mmseg_matches_sklearn_pooled():
    metrics = pytest.importorskip("sklearn.metrics")
    pred, target = _data()
    s = _score("mmseg", "iou", pred, target)
    ref = metrics.jaccard_score(target.ravel(), pred.ravel(), average=None, labels=[0, 1, 2])
    np.testing.assert_allclose(s.per_class, ref, rtol=1e-12)
    assert s.value == pytest.approx(ref.mean(), rel=1e-12)


def _smp():
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("segmentation_models_pytorch not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "metrics" / "functional.py"
    mod_spec = importlib.util.spec_from_file_location("_smp_functional", path)
    assert mod_spec is not None
    assert mod_spec.loader is not None
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("metric", ["iou", "dice"])
def test_smp_micro_imagewise(metric):
    torch = pytest.importorskip("torch")
    smp = _smp()
    pred, target = _data()
    pred[1] = 0  # an image whose foreground is wholly empty in the prediction
    c = segscore.confusion(pred, target, num_classes=3)
    tensors = [torch.from_numpy(getattr(c, k)) for k in ("tp", "fp", "fn", "tn")]
    fn = smp.iou_score if metric == "iou" else smp.f1_score
    ref = fn(*tensors, reduction="micro-imagewise", zero_division=1.0).item()
    assert _score("smp", metric, pred, target).value == pytest.approx(ref, rel=1e-6)


def test_monai_dice_ignore_empty():
    torch = pytest.importorskip("torch")
    mm = pytest.importorskip("monai.metrics")
    from monai.metrics.utils import do_metric_reduction

    pred, target = _data()
    oh = lambda a: torch.from_numpy(np.eye(3)[a].transpose(0, 3, 1, 2))  # noqa: E731
    f = mm.compute_dice(oh(pred), oh(target), include_background=True, ignore_empty=True)
    ref, _ = do_metric_reduction(f, "mean")
    assert _score("monai", "dice", pred, target).value == pytest.approx(ref.item(), rel=1e-6)


def test_torchmetrics_mean_iou():
    torch = pytest.importorskip("torch")
    tms = pytest.importorskip("torchmetrics.segmentation")
    pred, target = _data()
    m = tms.MeanIoU(num_classes=3, include_background=True, input_format="index")
    ref = m(torch.from_numpy(pred), torch.from_numpy(target)).item()
    assert _score("torchmetrics", "iou", pred, target).value == pytest.approx(ref, rel=1e-6)


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


def test_nnunet_worked_example():
    """nnU-Net v2 evaluation/evaluate_predictions.py: per case and label, dice = 2tp/(2tp+fp+fn),
    NaN when tp+fp+fn == 0; 'mean' per label = np.nanmean over cases; 'foreground_mean' = mean of
    the label means (labels 1..C-1)."""
    pred = np.array([[[1, 1, 0, 0]], [[0, 0, 2, 2]]])
    target = np.array([[[1, 0, 0, 0]], [[0, 0, 2, 0]]])
    # label 1: case0 2*1/(2+1) = 2/3, case1 NaN -> 2/3; label 2: case0 NaN, case1 2/3 -> 2/3
    assert _score_none("nnunet", "dice", pred, target).value == pytest.approx(2 / 3)


def test_metrics_reloaded_worked_example():
    """Metrics Reloaded pairwise_measures: DSC of two empty references is 1 (dsc: `if
    np.sum(ref)+np.sum(pred) == 0: return 1`), foreground labels only, per label mean over cases."""
    pred = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 0]]])
    target = np.array([[[1, 0, 0, 0]], [[0, 0, 0, 0]]])
    # label 1: (2/3 + 1) / 2; label 2: (1 + 1) / 2 -> mean 0.9166...
    assert _score_none("metrics-reloaded", "dice", pred, target).value == pytest.approx(
        (5 / 6 + 1) / 2
    )

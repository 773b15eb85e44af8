"""The background rule of boundary metrics per preset (``Preset.distance_include_background``).

MONAI's ``HausdorffDistanceMetric`` / ``compute_hausdorff_distance``, ``SurfaceDistanceMetric``
and ``SurfaceDiceMetric`` default to ``include_background=False``, and so does torchmetrics'
``functional.segmentation.hausdorff_distance``, while their Dice/IoU default to True. The presets
reproduce each family's default: ``distance_metrics(preset=...)`` and ``evaluate --preset``
leave class 0 out of distance class means for ``monai`` and ``torchmetrics`` unless
``include_background`` is chosen. Checked here against the peers at their defaults on multiclass
label maps.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import segscore
from segscore.cli import main
from segscore.evaluation import evaluate_arrays
from segscore.metrics.options import CountingOptions
from segscore.metrics.presets import PRESETS, get_preset

F32 = {"rtol": 3e-6, "atol": 1e-5}  # MONAI and torchmetrics compute in float32


def _label_maps(n: int = 3, size: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, size, size) label maps with classes 0, 1, 2 present in both maps of every image."""
    rng = np.random.default_rng(seed)
    pred = np.zeros((n, size, size), dtype=np.int64)
    target = np.zeros_like(pred)
    for i in range(n):
        for k, (y, x) in ((1, (3, 3)), (2, (13, 12))):
            h, w = rng.integers(4, 8, size=2)
            dy, dx = rng.integers(-2, 3, size=2)
            target[i, y : y + h, x : x + w] = k
            pred[i, y + dy : y + dy + h + 1, x + dx : x + dx + w] = k
    return pred, target


def _one_hot(labels: np.ndarray, c: int):
    torch = pytest.importorskip("torch")
    return torch.from_numpy(np.stack([labels == k for k in range(c)], axis=1).astype(np.float32))


def _reference_monai(pred: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """MONAI's metric classes at their defaults (include_background=False), (N, C - 1) each."""
    pytest.importorskip("torch")
    mm = pytest.importorskip("monai.metrics")
    p, t = _one_hot(pred, 3), _one_hot(target, 3)
    out = {}
    for name, metric in (
        ("hd", mm.HausdorffDistanceMetric()),
        ("hd95", mm.HausdorffDistanceMetric(percentile=95)),
        ("assd", mm.SurfaceDistanceMetric(symmetric=True)),
        ("nsd@1", mm.SurfaceDiceMetric(class_thresholds=[1.0, 1.0])),
    ):
        out[name] = np.asarray(metric(p, t).numpy(), dtype=np.float64)
    out["hd_fn"] = np.asarray(mm.compute_hausdorff_distance(p, t).numpy(), dtype=np.float64)
    return out


def test_presets_name_each_familys_background_rule() -> None:
    monai, tm = get_preset("monai"), get_preset("torchmetrics")
    assert (monai.include_background, monai.distance_background) == (True, False)
    assert (tm.include_background, tm.distance_background) == (True, False)
    assert monai.as_dict()["distance_include_background"] is False
    assert monai.distance_kwargs()["include_background"] is False
    for p in PRESETS.values():  # the others: one rule for both families
        if p.name not in ("monai", "torchmetrics"):
            assert p.distance_background == p.include_background, p.name


def test_distance_metrics_monai_preset_matches_monai_defaults() -> None:
    pred, target = _label_maps()
    want = _reference_monai(pred, target)
    names = ["hd", "hd95", "assd", "nsd@1"]
    got = segscore.distance_metrics(pred, target, names, num_classes=3, preset="monai")
    assert got.class_ids == (1, 2)
    assert got.conventions["hd"].include_background is False
    for name in names:
        np.testing.assert_allclose(got[name], want[name], **F32, err_msg=name)
    np.testing.assert_allclose(got["hd"], want["hd_fn"], **F32)
    # options that leave include_background unchosen take the preset's rule too
    opts = CountingOptions(num_classes=3)
    assert segscore.distance_metrics(
        pred, target, ["hd"], options=opts, preset="monai"
    ).class_ids == (1, 2)
    # a chosen rule wins
    kept = segscore.distance_metrics(
        pred, target, ["hd"], num_classes=3, preset="monai", include_background=True
    )
    assert kept.class_ids == (0, 1, 2)


def test_distance_metrics_torchmetrics_preset_matches_torchmetrics_default() -> None:
    torch = pytest.importorskip("torch")
    tms = pytest.importorskip("torchmetrics.functional.segmentation")
    pred, target = _label_maps(size=24)  # square images (torchmetrics misplaces non-square ones)
    want = tms.hausdorff_distance(
        torch.from_numpy(pred), torch.from_numpy(target), num_classes=3, input_format="index"
    ).numpy()
    assert want.shape == (3, 2)  # background left out by default
    got = segscore.distance_metrics(pred, target, ["hd"], num_classes=3, preset="torchmetrics")
    assert got.class_ids == (1, 2)
    np.testing.assert_allclose(got["hd"], want.astype(np.float64), **F32)


def test_evaluate_monai_preset_scores_distances_without_background() -> None:
    """evaluate --preset monai: Dice with the background (DiceMetric's default), HD95 without
    (HausdorffDistanceMetric's default); the class mean of HD95 is MONAI's mean."""
    pytest.importorskip("torch")
    mm = pytest.importorskip("monai.metrics")
    pred, target = _label_maps()
    want = _reference_monai(pred, target)
    r = evaluate_arrays(
        pred, target, metrics="dice,hd95", preset="monai", options=CountingOptions(num_classes=3)
    )
    hd95 = r.summary["metrics"]["hd95"]
    assert hd95["conventions"]["classes"] == [1, 2]
    assert hd95["conventions"]["include_background"] is False
    assert hd95["value"] == pytest.approx(float(want["hd95"].mean()), rel=3e-6)
    dice = r.summary["metrics"]["dice"]
    assert dice["conventions"]["classes"] == [0, 1, 2]
    dice_monai = mm.DiceMetric()(_one_hot(pred, 3), _one_hot(target, 3)).numpy()
    assert dice["value"] == pytest.approx(float(dice_monai.mean()), rel=1e-6)
    conventions = r.summary["conventions"]
    assert conventions["include_background"] is True
    assert conventions["distance_include_background"] is False


def test_evaluate_chosen_background_applies_to_every_family() -> None:
    pred, target = _label_maps()
    r = evaluate_arrays(
        pred,
        target,
        metrics="dice,hd95",
        preset="monai",
        options=CountingOptions(num_classes=3, include_background=True),
    )
    assert r.summary["metrics"]["hd95"]["conventions"]["classes"] == [0, 1, 2]
    assert r.summary["conventions"]["distance_include_background"] is True


def test_cli_evaluate_monai_preset_files_match_arrays(tmp_path: Path) -> None:
    pred, target = _label_maps()
    np.save(tmp_path / "p.npy", pred.astype(np.uint8))
    np.save(tmp_path / "t.npy", target.astype(np.uint8))
    out = tmp_path / "out"
    args = ["evaluate", "--pred", str(tmp_path / "p.npy"), "--gt", str(tmp_path / "t.npy")]
    flags = ["--num-classes", "3", "--metrics", "dice,hd95", "--preset", "monai"]
    assert main([*args, *flags, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["hd95"]["conventions"]["classes"] == [1, 2]
    assert summary["metrics"]["dice"]["conventions"]["classes"] == [0, 1, 2]
    assert summary["conventions"]["distance_include_background"] is False
    want = _reference_monai(pred, target)["hd95"]
    assert summary["metrics"]["hd95"]["value"] == pytest.approx(float(want.mean()), rel=3e-6)

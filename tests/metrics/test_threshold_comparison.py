"""The probability threshold's comparison (``CountingOptions.threshold_comparison``).

torchmetrics thresholds probabilities with ``preds > threshold``
(``functional/classification/stat_scores.py``, ``_binary_stat_scores_format``); SMP
(``metrics/functional.py``, ``get_stats``) and MONAI (``AsDiscrete(threshold=t)``) with ``>=``. A
probability exactly at the threshold is real (``sigmoid(0) = 0.5``, float16 outputs), so the
``torchmetrics`` preset selects ``'>'``. Each path that thresholds probabilities (numpy with and
without the compiled kernel, torch tensors, the boundary inputs, the threshold sweep,
``to_mask``, folder evaluation) is checked here against the peers and against ``p > t`` written
out, in float16, float32 and float64: the comparison is made in the prediction's dtype.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import segscore
from segscore.cli import main
from segscore.errors import InputError
from segscore.evaluation import evaluate_arrays
from segscore.evaluation.thresholds import SWEEP_THRESHOLDS, sweep_counts
from segscore.metrics._kernel import KernelSettings
from segscore.metrics.counts import count_arrays
from segscore.metrics.options import CountingOptions, above_threshold
from segscore.metrics.presets import get_preset
from segscore.metrics.thresholds import to_mask
from tests.metrics._peers import smp_functional

DTYPES = [np.float16, np.float32, np.float64]
THRESHOLDS = [0.3, 0.5, 0.7]

# The reviewer's case: two pixels exactly at 0.5 (sigmoid of a zero logit), one true positive.
TIE_PRED = np.array([[0.5, 0.5, 0.9, 0.1]])
TIE_TARGET = np.array([[0, 0, 1, 0]])


def _torch():
    return pytest.importorskip("torch")


def _tm_classification():
    _torch()
    return pytest.importorskip("torchmetrics.functional.classification")


def _probabilities(dtype, threshold: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(4, 16, 16) probabilities of ``dtype`` with many values exactly at the threshold (in that
    dtype) and at its two neighbours, and a random binary target."""
    rng = np.random.default_rng(seed)
    t = dtype(threshold)
    near = np.array(
        [t, np.nextafter(t, dtype(0)), np.nextafter(t, dtype(1)), dtype(0), dtype(1)], dtype=dtype
    )
    p = rng.random((4, 16, 16)).astype(dtype)
    pick = rng.random(p.shape) < 0.5
    p[pick] = rng.choice(near, size=int(pick.sum()))
    return p, (rng.random(p.shape) < 0.5).astype(np.uint8)


def _reference_counts(p: np.ndarray, target: np.ndarray, threshold: float, comparison: str):
    """tp, fp, fn, tn per image from ``p > t`` / ``p >= t`` written out in ``p``'s dtype."""
    t = p.dtype.type(threshold)
    fg = (p > t) if comparison == ">" else (p >= t)
    if comparison == ">":  # the same set: the next representable value up, compared with >=
        assert np.array_equal(fg, p >= np.nextafter(t, p.dtype.type(np.inf)))
    g = target != 0
    axes = tuple(range(1, p.ndim))
    return [
        np.count_nonzero(a, axis=axes)
        for a in (fg & g, fg & ~g, ~fg & g, ~fg & ~g)  # tp, fp, fn, tn
    ]


def _reference_torchmetrics_stats(p: np.ndarray, target: np.ndarray, threshold: float):
    """torchmetrics' tp, fp, fn, tn per image (``binary_stat_scores``, samplewise)."""
    torch, tmc = _torch(), _tm_classification()
    s = tmc.binary_stat_scores(
        torch.from_numpy(p),
        torch.from_numpy(target.astype(np.int64)),
        threshold=threshold,
        multidim_average="samplewise",
    ).numpy()
    return [s[:, 0], s[:, 1], s[:, 3], s[:, 2]]  # its order: tp, fp, tn, fn, support


def _counts(c) -> list[np.ndarray]:
    return [c.tp[:, 0], c.fp[:, 0], c.fn[:, 0], c.tn[:, 0]]


def _assert_counts(got, want) -> None:
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


# -- the reviewer's numbers --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_torchmetrics_preset_gives_torchmetrics_jaccard_at_exact_ties(dtype) -> None:
    """torchmetrics' binary_jaccard_index is 1.0 here (the 0.5 pixels are background); segscore
    gave 1/3 before the preset selected '>'."""
    torch, tmc = _torch(), _tm_classification()
    p = TIE_PRED.astype(dtype)
    want = float(
        tmc.binary_jaccard_index(torch.from_numpy(p), torch.from_numpy(TIE_TARGET), threshold=0.5)
    )
    assert want == 1.0
    got = evaluate_arrays(p, TIE_TARGET, metrics="iou", preset="torchmetrics")
    assert got.summary["metrics"]["iou"]["value"] == want
    assert got.summary["conventions"]["options"]["threshold_comparison"] == ">"
    counts = got.summary["metrics"]["iou"]["conventions"]["counting"]
    assert counts["threshold_comparison"] == ">"
    # segscore's default (SMP, MONAI) keeps p == t: 1/3
    default = evaluate_arrays(p, TIE_TARGET, metrics="iou")
    assert default.summary["metrics"]["iou"]["value"] == pytest.approx(1 / 3, rel=1e-15)
    assert default.summary["conventions"]["options"]["threshold_comparison"] == ">="


def test_an_explicit_comparison_overrides_the_preset() -> None:
    opts = CountingOptions(threshold_comparison=">=")
    got = evaluate_arrays(TIE_PRED, TIE_TARGET, metrics="iou", preset="torchmetrics", options=opts)
    assert got.summary["metrics"]["iou"]["value"] == pytest.approx(1 / 3, rel=1e-15)


def test_each_preset_names_its_comparison() -> None:
    assert get_preset("torchmetrics").threshold_comparison == ">"
    for name in ("monai", "smp", "medpy", "deepmind", "metrics-reloaded", "mmseg", "nnunet"):
        assert get_preset(name).threshold_comparison == ">=", name
    assert get_preset("torchmetrics").as_dict()["threshold_comparison"] == ">"


# -- every counting path against the peers and the rule written out --------------------------------
@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_strict_counts_match_torchmetrics(dtype, threshold) -> None:
    p, target = _probabilities(dtype, threshold)
    want = _reference_torchmetrics_stats(p, target, threshold)
    _assert_counts(want, _reference_counts(p, target, threshold, ">"))
    opts = CountingOptions(threshold=threshold, threshold_comparison=">")
    for kernel in (KernelSettings(), KernelSettings(compiled=False)):
        _assert_counts(_counts(count_arrays(p, target, opts, kernel=kernel)), want)
    torch = _torch()
    tensors = segscore.confusion(torch.from_numpy(p), torch.from_numpy(target), options=opts)
    _assert_counts(_counts(tensors), want)
    assert tensors.spec is not None
    assert tensors.spec.threshold_comparison == ">"


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_default_counts_match_smp(dtype, threshold) -> None:
    """SMP's get_stats keeps p == t (``output >= threshold``): segscore's default and its preset."""
    torch, smp = _torch(), smp_functional()
    p, target = _probabilities(dtype, threshold, seed=1)
    tp, fp, fn, tn = smp.get_stats(
        torch.from_numpy(p)[:, None],
        torch.from_numpy(target.astype(np.int64))[:, None],
        mode="binary",
        threshold=threshold,
    )
    want = [x[:, 0].numpy() for x in (tp, fp, fn, tn)]
    _assert_counts(want, _reference_counts(p, target, threshold, ">="))
    assert get_preset("smp").threshold_comparison == ">="
    got = segscore.confusion(p, target, threshold=threshold)
    _assert_counts(_counts(got), want)
    assert got.spec is not None
    assert got.spec.threshold_comparison == ">="


@pytest.mark.parametrize("comparison", [">=", ">"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_sweep_counts_follow_the_comparison(dtype, comparison) -> None:
    p, target = _probabilities(dtype, 0.5, seed=2)
    p[0, 0, :9] = np.asarray(SWEEP_THRESHOLDS[:9], dtype=dtype)  # ties at sweep thresholds
    got = sweep_counts(p[0], target[0], threshold_comparison=comparison)
    for k, t in enumerate(SWEEP_THRESHOLDS):
        want = _reference_counts(p[:1], target[:1], t, comparison)
        assert got[k].tolist() == [int(w[0]) for w in want], t


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_to_mask_and_boundary_inputs_follow_the_comparison(dtype) -> None:
    p, target = _probabilities(dtype, 0.5, seed=3)
    t = dtype(0.5)
    strict = to_mask(p[:, None], threshold_comparison=">")
    np.testing.assert_array_equal(strict, (p > t).astype(np.uint8))
    np.testing.assert_array_equal(to_mask(p[:, None]), (p >= t).astype(np.uint8))
    np.testing.assert_array_equal(above_threshold(p, 0.5, ">"), p > t)
    opts = CountingOptions(threshold_comparison=">")
    got = segscore.distance_metrics(p, target, ["hd"], options=opts)
    want = segscore.distance_metrics(p > t, target, ["hd"])
    np.testing.assert_array_equal(got["hd"], want["hd"])
    assert got.conventions["hd"].counting.threshold_comparison == ">"
    by_preset = segscore.distance_metrics(p, target, ["hd"], preset="torchmetrics")
    np.testing.assert_array_equal(by_preset["hd"], want["hd"])


def test_bad_comparison_is_refused() -> None:
    with pytest.raises(InputError, match=r"`threshold_comparison` must be one of '>=', '>', got"):
        CountingOptions(threshold_comparison="=>")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"`threshold_comparison` must be one of '>=', '>'"):
        segscore.confusion(TIE_PRED, TIE_TARGET, threshold_comparison="gt")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"`threshold_comparison` must be one of '>=', '>'"):
        to_mask(TIE_PRED[None], threshold_comparison="<")  # type: ignore[arg-type]


# -- the command line --------------------------------------------------------------------------------
def _write_case(folder: Path, dtype=np.float32) -> tuple[Path, Path]:
    pred, gt = folder / "pred", folder / "gt"
    pred.mkdir()
    gt.mkdir()
    np.save(pred / "a.npy", TIE_PRED.reshape(2, 2).astype(dtype))
    np.save(gt / "a.npy", TIE_TARGET.reshape(2, 2).astype(np.uint8))
    return pred, gt


@pytest.mark.parametrize(
    ("flags", "comparison", "iou"),
    [
        ([], ">=", 1 / 3),
        (["--preset", "torchmetrics"], ">", 1.0),
        (["--threshold-comparison", ">"], ">", 1.0),
        (["--preset", "torchmetrics", "--threshold-comparison", ">="], ">=", 1 / 3),
    ],
)
def test_cli_evaluate_records_the_comparison(tmp_path: Path, flags, comparison, iou) -> None:
    pred, gt = _write_case(tmp_path)
    out = tmp_path / "out"
    args = [
        "evaluate",
        "--pred",
        str(pred),
        "--gt",
        str(gt),
        "--metrics",
        "iou",
        "--out",
        str(out),
        *flags,
    ]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["conventions"]["options"]["threshold_comparison"] == comparison
    assert summary["metrics"]["iou"]["value"] == pytest.approx(iou, rel=1e-15)
    sweep = summary["threshold_sweep"]
    half = sweep["thresholds"].index(0.5)
    assert sweep["iou"][half] == pytest.approx(iou, rel=1e-15)


def test_cli_refuses_a_bad_comparison(tmp_path: Path, capsys) -> None:
    pred, gt = _write_case(tmp_path)
    args = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--out", str(tmp_path / "o")]
    assert main([*args, "--threshold-comparison", "=>"]) == 2
    err = capsys.readouterr().err
    assert "`--threshold-comparison` must be one of '>=', '>', got '=>'." in err


@pytest.mark.parametrize("entry", ["Evaluator", "TensorEvaluator", "SegscoreMetric"])
def test_every_accumulator_takes_the_comparison_as_a_keyword(entry: str) -> None:
    # Reviewed: only confusion and CountingOptions took it; the accumulators needed `options=`.
    torch = pytest.importorskip("torch")
    tm = pytest.importorskip("torchmetrics.functional.classification")
    p, t = torch.tensor([[0.5, 0.5, 0.9, 0.1]]), torch.tensor([[0, 0, 1, 0]])
    want = float(tm.binary_jaccard_index(p, t, threshold=0.5))  # torchmetrics: p > 0.5
    if entry == "SegscoreMetric":
        from segscore.integrations.torchmetrics import SegscoreMetric

        m = SegscoreMetric("iou", aggregation="pooled", threshold_comparison=">")
        m.update(p, t)
        got = float(m.compute())
    else:
        from segscore.integrations.torch import TensorEvaluator

        cls = segscore.Evaluator if entry == "Evaluator" else TensorEvaluator
        ev = cls(threshold_comparison=">")
        ev.update(
            p.numpy() if entry == "Evaluator" else p, t.numpy() if entry == "Evaluator" else t
        )
        got = ev.compute("iou", aggregation="pooled").value
    assert want == 1.0
    assert got == want


def test_distance_metrics_take_the_comparison_as_a_keyword() -> None:
    from segscore.metrics.boundary import distance_metrics

    prob = np.zeros((1, 8, 8))
    prob[0, 2:6, 2:6] = 0.5  # exactly at the threshold: foreground under '>=' only
    target = (prob > 0).astype(np.uint8)
    assert distance_metrics(prob, target, ["hd"], threshold_comparison=">=")["hd"][0, 0] == 0
    assert np.isinf(distance_metrics(prob, target, ["hd"], threshold_comparison=">")["hd"][0, 0])

"""Every accumulator gives the one-shot counts and scores, exactly.

One list of batches per input kind (binary masks, label maps with an ignore label, multilabel
stacks; batches of 1 to 4 images) goes through each accumulator: :class:`segscore.Evaluator`
(update, and the merge of two halves in both orders), ``TensorEvaluator`` and the torchmetrics
adapter ``SegscoreMetric`` (each with ``cpu_counting="kernel"``, CPU tensors through the compiled
kernel, and ``"torch"``, the device path that CUDA tensors take), and the Dask backend (one
``.npy`` file per image, matched by :func:`segscore.io.pairs.match_cases`). Each must give int64
counts equal to one :func:`segscore.confusion` on the concatenated batches, and the same
:func:`segscore.score` values to the bit. Backend-specific behaviour (devices, process groups,
errors, files) is tested next to each backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from segscore import AGGREGATIONS, Counts, Evaluator, confusion, score

FIELDS = ("tp", "fp", "fn", "tn")
METRICS = ("iou", "dice", "mcc")
SIZES = (1, 3, 2, 4)  # images per batch; the halves are batches [0, 2) and [2, 4)
OPTIONS: dict[str, dict[str, Any]] = {
    "binary": {},
    "multiclass-ignore": {"num_classes": 4, "ignore_index": 255},
    "multilabel": {"multilabel": True},
}


def _batches(kind: str) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(len(kind))
    out = []
    for n in SIZES:
        if kind == "binary":
            target = rng.random((n, 9, 11)) < 0.4
            pred = np.where(rng.random(target.shape) < 0.8, target, ~target)
            if n == 3:
                target[1] = False  # an empty target: NaN cells under the default policy
        elif kind == "multiclass-ignore":
            target = rng.integers(0, 4, (n, 9, 11))
            pred = np.where(
                rng.random(target.shape) < 0.6, target, rng.integers(0, 4, target.shape)
            )
            target[rng.random(target.shape) < 0.1] = 255
            pred[rng.random(target.shape) < 0.03] = 255  # the ignore label predicted: a miss
            target[target == 3] = 0  # class 3 only ever predicted
        else:
            target = rng.random((n, 3, 9, 11)) < 0.3
            pred = np.where(rng.random(target.shape) < 0.8, target, rng.random(target.shape) < 0.3)
        out.append((pred, target))
    return out


KINDS = list(OPTIONS)


# -- the accumulators: each returns its counts and a `compute(metric, aggregation) -> float` ------
Run = tuple[Counts, Callable[[str, str], float]]


def _evaluator(batches: list, options: dict[str, Any]) -> Evaluator:
    ev = Evaluator(**options)
    for pred, target in batches:
        batch = ev.update(pred, target)
        assert batch.n_images == len(pred)
    return ev


def _run_evaluator(batches, options, _tmp) -> Run:
    ev = _evaluator(batches, options)
    return ev.counts, lambda m, a: ev.compute(m, aggregation=a).value


def _run_merge(first_half_first: bool) -> Callable[..., Run]:
    def run(batches, options, _tmp) -> Run:
        a, b = _evaluator(batches[:2], options), _evaluator(batches[2:], options)
        ev = a.merge(b) if first_half_first else b.merge(a)
        return ev.counts, lambda m, agg: ev.compute(m, aggregation=agg).value

    return run


def _run_tensor_evaluator(cpu_counting: str) -> Callable[..., Run]:
    def run(batches, options, _tmp) -> Run:
        torch = pytest.importorskip("torch")
        from segscore.integrations.torch import TensorEvaluator

        ev = TensorEvaluator(**options, cpu_counting=cpu_counting)
        for pred, target in batches:
            ev.update(torch.from_numpy(pred), torch.from_numpy(target))
        return ev.counts, lambda m, a: ev.compute(m, aggregation=a).value

    return run


def _run_segscore_metric(batches, options, _tmp, cpu_counting: str) -> Run:
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchmetrics")
    from segscore.integrations.torchmetrics import SegscoreMetric

    def fill(metric: str = "iou", aggregation: str = "images_then_classes") -> Any:
        m = SegscoreMetric(metric, aggregation=aggregation, cpu_counting=cpu_counting, **options)
        for pred, target in batches:
            m.update(torch.from_numpy(pred), torch.from_numpy(target))
        return m

    def compute(metric: str, aggregation: str) -> float:
        value = fill(metric, aggregation).compute()
        assert value.dtype == torch.float64
        return float(value)

    return fill().counts, compute


def _run_dask(batches, options, tmp_path: Path, scheduler: str) -> Run:
    from segscore.evaluation.dask import evaluate_dask
    from segscore.evaluation.runner import EvaluateOptions
    from segscore.io.pairs import match_cases

    pred_dir, gt_dir = tmp_path / "pred", tmp_path / "gt"
    pred_dir.mkdir()
    gt_dir.mkdir()
    images = [pair for pred, target in batches for pair in zip(pred, target, strict=True)]
    for i, (pred, target) in enumerate(images):  # one file per image, names in image order
        np.save(pred_dir / f"case{i:03d}.npy", pred)
        np.save(gt_dir / f"case{i:03d}.npy", target)
    cases = match_cases(pred_dir, gt_dir, strict=True).cases
    evaluation = evaluate_dask(
        cases, EvaluateOptions(**options, sweep=False), scheduler=scheduler, partitions=3
    )
    assert evaluation.names == [f"case{i:03d}" for i in range(len(images))]
    counts = evaluation.counts
    return counts, lambda m, a: score(counts, m, aggregation=a).value


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster of two threads in this process: no worker processes to start."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address


BACKENDS = [
    "evaluator",
    "evaluator merge a+b",
    "evaluator merge b+a",
    "tensor evaluator cpu_counting=kernel",
    "tensor evaluator cpu_counting=torch",
    "torchmetrics cpu_counting=kernel",
    "torchmetrics cpu_counting=torch",
    "dask",
]


def _run(backend: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Run:
    batches, options = _batches(kind), OPTIONS[kind]
    if backend == "evaluator":
        return _run_evaluator(batches, options, tmp_path)
    if backend.startswith("evaluator merge"):
        return _run_merge(backend.endswith("a+b"))(batches, options, tmp_path)
    if backend.startswith("tensor evaluator"):
        run = _run_tensor_evaluator(backend.rpartition("=")[2])
        return run(batches, options, tmp_path)
    if backend.startswith("torchmetrics"):
        return _run_segscore_metric(batches, options, tmp_path, backend.rpartition("=")[2])
    return _run_dask(batches, options, tmp_path, request.getfixturevalue("scheduler"))


def _one_shot(kind: str) -> Counts:
    batches = _batches(kind)
    pred = np.concatenate([p for p, _ in batches])
    target = np.concatenate([t for _, t in batches])
    return confusion(pred, target, **OPTIONS[kind])


def _row_order(backend: str) -> np.ndarray:
    n = sum(SIZES)
    if backend == "evaluator merge b+a":  # the second half's rows come first
        half = sum(SIZES[:2])
        return np.r_[half:n, 0:half]
    return np.arange(n)


def _same_bits(a: float, b: float) -> bool:
    return np.float64(a).tobytes() == np.float64(b).tobytes() or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_counts_equal_one_confusion(backend, kind, request, tmp_path):
    counts, _ = _run(backend, kind, request, tmp_path)
    one = _one_shot(kind)
    rows = _row_order(backend)
    for f in FIELDS:
        got = getattr(counts, f)
        assert got.dtype == np.int64, f
        np.testing.assert_array_equal(got, getattr(one, f)[rows], err_msg=f)
    assert counts.spec == one.spec


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_scores_equal_one_shot_score(backend, kind, request, tmp_path):
    _, compute = _run(backend, kind, request, tmp_path)
    one = _one_shot(kind)
    for metric in METRICS:
        for aggregation in AGGREGATIONS:
            got, want = compute(metric, aggregation), score(one, metric, aggregation=aggregation)
            assert _same_bits(got, want.value), (metric, aggregation, got, want.value)

"""W6: lesion-wise Dice and HD95 on 10 binary volumes of 128³, segscore vs panoptica.

Run: ``python benchmarks/bench_lesion_w6.py [--repeats 3] [--panoptica-repeats 1] [--cases 10]``.

Volumes (CONVENTIONS-objects W6, generated here, seeded): 5-40 balls per volume, radius
1.5-12 voxels, apart from each other. The prediction redraws each ball with its centre
jittered (sd 0.6 voxel) and its radius scaled by 0.8-1.2, misses ~10% of them and adds 0-4
false-positive balls (radius 1.5-5). Lesion = connected component, 26-connectivity.

Rows, each the whole set, median over ``--repeats`` runs, in ms:

- panoptica 2.1.7: ``Panoptica_Evaluator`` on semantic input (its cc3d connected components),
  ``NaiveThresholdMatching(matching_threshold=0, strict_threshold=True,
  allow_many_to_one=True)`` (any overlap, each predicted lesion to its best target),
  instance metrics DSC and HD95 (boundary voxels, pooled percentile);
- segscore with the same conventions (``dilation=0, min_volume=0, surface='voxel',
  rule='pooled'``), with cc3d and with the scipy fallback. The BraTS-style totals
  ``sum(DSC) / (n_ref + FP)`` and ``(sum(HD95) + (FN + FP) * 374) / (n_ref + FP)`` per volume
  are computed from panoptica's per-instance lists and checked against segscore's;
- segscore with the BraTS 2023 defaults (dilation 3, volume > 50, DeepMind surfels).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from segscore.metrics.instance import lesion_scores

SHAPE = (128, 128, 128)
PENALTY = 374.0
LIKE_PANOPTICA: dict[str, Any] = {
    "dilation": 0,
    "min_volume": 0,
    "surface": "voxel",
    "rule": "pooled",
    "connectivity": "full",
}


def _ball(volume: np.ndarray, center: np.ndarray, radius: float) -> None:
    r = int(np.ceil(radius)) + 1
    lo = [max(int(np.floor(c)) - r, 0) for c in center]
    hi = [min(int(np.floor(c)) + r + 2, n) for c, n in zip(center, volume.shape, strict=True)]
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    grid = np.ogrid[box]
    d2 = sum((g - c) ** 2 for g, c in zip(grid, center, strict=True))
    volume[box] |= d2 <= radius**2


def make_w6(n: int = 10, shape: tuple[int, ...] = SHAPE, seed: int = 6) -> list[tuple]:
    """(pred, target) boolean volumes, as in the module docstring."""
    cases = []
    for i in range(n):
        rng = np.random.default_rng((seed, i))
        target = np.zeros(shape, bool)
        pred = np.zeros(shape, bool)
        balls: list[tuple[np.ndarray, float]] = []
        wanted = int(rng.integers(5, 41))
        for _ in range(2000):
            if len(balls) == wanted:
                break
            radius = rng.uniform(1.5, 12)
            center = np.array([rng.uniform(radius + 1, s - radius - 2) for s in shape])
            if any(np.linalg.norm(center - c) < radius + r + 4 for c, r in balls):
                continue  # lesions stay apart (their jittered predictions too)
            balls.append((center, radius))
        for center, radius in balls:
            _ball(target, center, radius)
            if rng.random() < 0.1:
                continue  # missed
            _ball(pred, center + rng.normal(0, 0.6, 3), radius * rng.uniform(0.8, 1.2))
        for _ in range(int(rng.integers(0, 5))):
            radius = rng.uniform(1.5, 5)
            center = np.array([rng.uniform(radius + 1, s - radius - 2) for s in shape])
            _ball(pred, center, radius)
        cases.append((pred, target))
    return cases


def _segscore(**kwargs: Any) -> Callable[[np.ndarray, np.ndarray], tuple[float, float]]:
    def run(pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
        s = lesion_scores(pred, target, ["lesion_dice", "lesion_hd95"], spatial_dims=3, **kwargs)
        return s["lesion_dice"].value, s["lesion_hd95"].value

    return run


def _panoptica() -> Callable[[np.ndarray, np.ndarray], tuple[float, float]]:
    from panoptica import (
        ConnectedComponentsInstanceApproximator,
        InputType,
        Metric,
        MetricMode,
        NaiveThresholdMatching,
        Panoptica_Evaluator,
    )
    from panoptica.utils.logger import set_log_level

    set_log_level("ERROR")
    evaluator = Panoptica_Evaluator(
        expected_input=InputType.SEMANTIC,
        instance_approximator=ConnectedComponentsInstanceApproximator(),
        instance_matcher=NaiveThresholdMatching(
            matching_threshold=0.0, strict_threshold=True, allow_many_to_one=True
        ),
        instance_metrics=[Metric.DSC, Metric.HD95],
        global_metrics=[Metric.DSC],
    )

    def run(pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
        results = evaluator.evaluate(pred.astype(np.uint8), target.astype(np.uint8))
        result = next(iter(results.values()))
        dsc = result.get_list_metric(Metric.DSC, MetricMode.ALL)  # per matched target lesion
        hd95 = result.get_list_metric(Metric.HD95, MetricMode.ALL)
        n_ref, tp, fp = result.n_ref_instances, result.tp, result.fp
        den = n_ref + fp
        return sum(dsc) / den, (sum(hd95) + (n_ref - tp + fp) * PENALTY) / den

    return run


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(median wall ms, median CPU ms, result). Every library here runs on one thread, so the
    process CPU time is the work done, whatever else shares the machine's cores."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--panoptica-repeats", type=int, default=1)
    args = parser.parse_args(argv)
    cases = make_w6(args.cases)
    n_target = n_pred = 0
    from segscore.metrics.instance import lesion_tables

    for pred, target in cases:
        t = lesion_tables(pred, target, dilation=0, min_volume=0, percentile=None, spatial_dims=3)
        n_target += t[0][0].target_voxels.size
        n_pred += t[0][0].pred_voxels.size
    print(f"W6: {len(cases)} volumes {SHAPE}, {n_target} target / {n_pred} predicted lesions")

    rows: dict[str, tuple[float, float, list]] = {}
    runners: dict[str, tuple[Callable[..., tuple[float, float]], int]] = {
        "segscore, panoptica's conventions (own labels)": (
            _segscore(**LIKE_PANOPTICA, backend="segscore"),
            args.repeats,
        ),
        "segscore, panoptica's conventions (cc3d)": (
            _segscore(**LIKE_PANOPTICA, backend="cc3d"),
            args.repeats,
        ),
        "segscore, panoptica's conventions (scipy)": (
            _segscore(**LIKE_PANOPTICA, backend="scipy"),
            args.repeats,
        ),
        "segscore, BraTS 2023 defaults (own labels)": (_segscore(backend="segscore"), args.repeats),
        "segscore, BraTS 2023 defaults (cc3d)": (_segscore(backend="cc3d"), args.repeats),
    }
    try:
        runners["panoptica 2.1.7 (cc3d)"] = (_panoptica(), args.panoptica_repeats)
    except ImportError as error:
        print(f"  panoptica: not installed ({error})")
    for name, (run, repeats) in runners.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows[name] = _time(lambda run=run: [run(p, t) for p, t in cases], repeats)
    base = rows.get("panoptica 2.1.7 (cc3d)")
    print(
        f"  {'':44s} {'wall ms':>9s} {'CPU ms':>9s}  {'mean Dice':>9s} {'HD95':>8s}  panoptica/this (CPU)"
    )
    for name, (wall, cpu, values) in rows.items():
        ratio = f"{base[1] / cpu:9.1f}x" if base is not None else ""
        dice = np.mean([v[0] for v in values])
        hd = np.mean([v[1] for v in values])
        print(f"  {name:44s} {wall:9.1f} {cpu:9.1f}  {dice:9.4f} {hd:8.3f}  {ratio}")
    if base is not None:
        for labels in ("own labels", "cc3d"):
            mine = rows[f"segscore, panoptica's conventions ({labels})"][2]
            diff = max(
                max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(mine, base[2], strict=True)
            )
            print(f"  max |segscore ({labels}) - panoptica| per volume (Dice, HD95): {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

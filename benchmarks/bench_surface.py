"""W4: boundary metrics on 10 binary volumes of 128³ (HD95 + ASSD + NSD@1), segscore vs peers.

Run: ``python benchmarks/bench_surface.py [--repeats 3] [--medpy-cases 2] [--skip-peers]``.

Volumes: deterministic perturbed spheres (radius 28-40 voxels, a smooth random radial
perturbation of a few voxels). The prediction is the target's sphere shifted by 1-3 voxels with
its own perturbation. Each library computes HD95, ASSD and NSD at tolerance 1 with its own
conventions; segscore runs with the matching preset and the numbers are checked to agree.
MedPy (~1.4 s per volume) runs on ``--medpy-cases`` volumes and is scaled to 10.
Times are the median over ``--repeats`` runs of the whole set, in ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np

from segscore.metrics.boundary import distance_metrics

SHAPE = (128, 128, 128)
SPACINGS = {"unit": (1.0, 1.0, 1.0), "aniso": (1.0, 0.8, 2.5)}


def _harmonics(rng: np.random.Generator, n: int, low: float, high: float) -> list:
    return [(rng.normal(size=3), rng.uniform(low, high)) for _ in range(n)]


def _blob(center: np.ndarray, radius: float, harmonics: list) -> np.ndarray:
    grid = np.indices(SHAPE, dtype=np.float32)
    rel = [grid[i] - center[i] for i in range(3)]
    r = np.sqrt(rel[0] ** 2 + rel[1] ** 2 + rel[2] ** 2) + 1e-6
    u = [rel[i] / r for i in range(3)]
    bump = np.zeros(SHAPE, dtype=np.float32)
    for a, amplitude in harmonics:  # smooth perturbation by low-order harmonics of the direction
        bump += amplitude * np.sin(2.0 * (a[0] * u[0] + a[1] * u[1] + a[2] * u[2]))
    return r <= radius + bump


def make_cases(n: int = 10) -> list[tuple[np.ndarray, np.ndarray]]:
    """Target: a perturbed sphere; prediction: the same shape shifted 1-2 voxels, radius +-1,
    plus its own small perturbation (surface distances mostly 0-3 voxels)."""
    cases = []
    for i in range(n):
        rng = np.random.default_rng(1000 + i)
        center = np.array([64.0, 64.0, 64.0]) + rng.uniform(-8, 8, 3)
        radius = rng.uniform(28, 40)
        shape = _harmonics(rng, 4, 1.0, 3.0)
        target = _blob(center, radius, shape)
        shift = rng.uniform(1, 2, 3) * rng.choice([-1, 1], 3)
        error = _harmonics(rng, 3, 0.3, 1.0)
        pred = _blob(center + shift, radius + rng.uniform(-1, 1), shape + error)
        cases.append((pred, target))
    return cases


def _segscore(preset: str) -> Callable[..., tuple[float, float, float]]:
    def run(pred: np.ndarray, target: np.ndarray, spacing: tuple) -> tuple[float, float, float]:
        r = distance_metrics(
            pred,
            target,
            ["hd95", "assd", "nsd@1.0"],
            preset=preset,
            spacing=spacing,
            spatial_dims=3,
        )
        return float(r["hd95"][0, 0]), float(r["assd"][0, 0]), float(r["nsd@1.0"][0, 0])

    return run


def _monai() -> Callable[..., tuple[float, float, float]]:
    import torch
    from monai.metrics import (
        compute_average_surface_distance,
        compute_hausdorff_distance,
        compute_surface_dice,
    )

    def run(pred: np.ndarray, target: np.ndarray, spacing: tuple) -> tuple[float, float, float]:
        p = torch.from_numpy(pred[None, None])
        t = torch.from_numpy(target[None, None])
        sp = list(spacing)
        hd = compute_hausdorff_distance(p, t, include_background=True, percentile=95, spacing=sp)
        asd = compute_average_surface_distance(
            p, t, include_background=True, symmetric=True, spacing=sp
        )
        nsd = compute_surface_dice(p, t, [1.0], include_background=True, spacing=sp)
        return float(hd), float(asd), float(nsd)

    return run


def _deepmind() -> Callable[..., tuple[float, float, float]]:
    import surface_distance as sdm

    def run(pred: np.ndarray, target: np.ndarray, spacing: tuple) -> tuple[float, float, float]:
        d = sdm.compute_surface_distances(target, pred, spacing)
        hd = sdm.compute_robust_hausdorff(d, 95)
        a_tp, a_pt = sdm.compute_average_surface_distance(d)
        nsd = sdm.compute_surface_dice_at_tolerance(d, 1.0)
        return float(hd), 0.5 * (a_tp + a_pt), float(nsd)

    return run


def _medpy() -> Callable[..., tuple[float, float, float]]:
    from medpy.metric import binary as mb

    def run(pred: np.ndarray, target: np.ndarray, spacing: tuple) -> tuple[float, float, float]:
        return mb.hd95(pred, target, spacing), mb.assd(pred, target, spacing), float("nan")

    return run


def _time(
    fn: Callable[..., tuple[float, float, float]], cases: list, spacing: tuple, repeats: int
) -> tuple[float, list]:
    times, values = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        values = [fn(p, t, spacing) for p, t in cases]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--medpy-cases", type=int, default=2)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    cases = make_cases()
    print(
        f"W4: {len(cases)} volumes {SHAPE}, HD95 + ASSD + NSD@1; median of {args.repeats} runs, ms"
    )
    r = [distance_metrics(p, t, ["hd95", "assd"], spatial_dims=3) for p, t in cases]
    print(
        f"  geometry: median HD95 {np.median([x['hd95'][0, 0] for x in r]):.2f}, "
        f"median ASSD {np.median([x['assd'][0, 0] for x in r]):.2f} voxels"
    )
    for label, spacing in SPACINGS.items():
        rows: list[tuple[str, float]] = []
        checks = []
        peers = (
            []
            if args.skip_peers
            else [
                ("monai", "monai", _monai),
                ("deepmind", "deepmind", _deepmind),
                ("medpy", "medpy", _medpy),
            ]
        )
        ms, _ = _time(_segscore("monai"), cases, spacing, args.repeats)
        rows.append(("segscore (monai preset)", ms))
        ms, _ = _time(_segscore("deepmind"), cases, spacing, args.repeats)
        rows.append(("segscore (deepmind preset)", ms))
        ms, _ = _time(_segscore("medpy"), cases, spacing, args.repeats)
        rows.append(("segscore (medpy preset)", ms))
        for name, preset, factory in peers:
            try:
                fn = factory()
            except ImportError:
                print(f"  {name}: not installed")
                continue
            sub = cases if name != "medpy" else cases[: args.medpy_cases]
            reps = args.repeats if name != "medpy" else 1
            ms, values = _time(fn, sub, spacing, reps)
            ms *= len(cases) / len(sub)
            rows.append(
                (
                    name
                    + (
                        f" (x{len(cases) / len(sub):g} from {len(sub)} cases)"
                        if len(sub) < len(cases)
                        else ""
                    ),
                    ms,
                )
            )
            ours = [_segscore(preset)(p, t, spacing) for p, t in sub]
            k = 2 if name == "medpy" else 3
            err = max(
                abs(a - b) / max(abs(b), 1e-12)
                for o, v in zip(ours, values, strict=True)
                for a, b in zip(o[:k], v[:k], strict=True)
            )
            checks.append(f"{name}: max rel. diff {err:.1e}")
        print(f"spacing {label} {spacing}")
        seg = {n: m for n, m in rows if n.startswith("segscore")}
        peer = {n: m for n, m in rows if not n.startswith("segscore")}
        fastest = min(peer.values()) if peer else None
        for n, m in rows:
            ratio = f"  {fastest / m:6.1f}x vs fastest peer" if fastest and n in seg else ""
            print(f"  {n:40s} {m:10.1f}{ratio}")
        for c in checks:
            print("  check", c)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

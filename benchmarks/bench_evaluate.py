"""Benchmark: `segscore evaluate` on 1,000 pairs of 512×512 PNG masks vs merely decoding them.

Usage: python benchmarks/bench_evaluate.py [--cases 1000] [--size 512] [--jobs N] [--repeat 7]

The target (issue #4): scoring takes at most 1.2x the time of decoding the 2,000 PNGs with the same
number of processes. Both sides use the same decoder (pyspng for 8-bit grayscale PNG, Pillow
otherwise) and the same process pool shape; the data are generated once into a cache folder.

Two levels are timed. "api": ``match_cases`` + ``evaluate`` in this process against decoding the
files in this process. "command": the whole ``python -m segscore evaluate --no-report`` command
(start-up, imports, listing, counting, per_case.csv, summary.json, journal) against a small
decode-only program run the same way.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from segscore.evaluation.allocator import keep_freed_buffers
from segscore.evaluation.runner import EvaluateOptions, evaluate
from segscore.io.arrays import read_array
from segscore.io.pairs import match_cases


def _mask(rng: np.random.Generator, size: int) -> np.ndarray:
    noise = ndimage.gaussian_filter(rng.standard_normal((size, size)), sigma=size / 40)
    return noise > np.quantile(noise, rng.uniform(0.6, 0.9))


def make_data(root: Path, n: int, size: int) -> tuple[Path, Path]:
    pred_dir, gt_dir = root / "pred", root / "gt"
    if (root / f".done-{n}-{size}").exists():
        return pred_dir, gt_dir
    pred_dir.mkdir(parents=True, exist_ok=True)
    gt_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        target = _mask(rng, size)
        pred = ndimage.binary_dilation(target, iterations=int(rng.integers(0, 3))) ^ (
            rng.random((size, size)) < 0.002
        )
        Image.fromarray(target.astype(np.uint8) * 255).save(gt_dir / f"case{i:05d}.png")
        Image.fromarray(pred.astype(np.uint8) * 255).save(pred_dir / f"case{i:05d}.png")
    (root / f".done-{n}-{size}").touch()
    return pred_dir, gt_dir


def _decode_batch(paths: list[Path]) -> int:
    return sum(int(read_array(p).array.shape[0]) for p in paths)


def decode_only(paths: list[Path], jobs: int) -> float:
    start = time.perf_counter()
    if jobs == 1:
        _decode_batch(paths)
    else:
        batches = [paths[i : i + 16] for i in range(0, len(paths), 16)]
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_decode_batch, batches))
    return time.perf_counter() - start


# "Merely decoding" as a program of its own: start Python, list both folders, decode every PNG
# with pyspng in the same pool shape, exit. Timed end to end against the `segscore evaluate`
# command, so that interpreter start-up, imports, listing and writing the outputs all count.
DECODE_PROGRAM = """
import os, sys
from concurrent.futures import ProcessPoolExecutor
import pyspng

def decode(paths):
    for p in paths:
        with open(p, "rb") as f:
            pyspng.load(f.read())

jobs = int(sys.argv[1])
paths = sorted(e.path for d in sys.argv[2:] for e in os.scandir(d) if e.name.endswith(".png"))
if jobs == 1:
    decode(paths)
else:
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(decode, [paths[i : i + 16] for i in range(0, len(paths), 16)]))
"""


# As installed packages are: with bytecode caches (the warm-up run writes them even where the
# environment sets PYTHONDONTWRITEBYTECODE, which would recompile segscore's modules every run).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def decode_program(pred_dir: Path, gt_dir: Path, jobs: int) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, "-c", DECODE_PROGRAM, str(jobs), str(pred_dir), str(gt_dir)]
    subprocess.run(cmd, check=True, env=_ENV)
    return time.perf_counter() - start


def evaluate_command(pred_dir: Path, gt_dir: Path, jobs: int, out: Path) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "segscore", "evaluate", "--pred", str(pred_dir), "--gt"]
    cmd += [str(gt_dir), "--out", str(out), "--no-report", "--jobs", str(jobs)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_ENV)
    return time.perf_counter() - start


def score_all(pred_dir: Path, gt_dir: Path, jobs: int) -> float:
    start = time.perf_counter()
    found = match_cases(pred_dir, gt_dir)
    evaluate(found.cases, EvaluateOptions(), jobs=jobs)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "segscore-bench-evaluate"
    )
    args = parser.parse_args()
    # As the `segscore evaluate` command does in its own process (the workers do it themselves):
    # keep freed image buffers between cases instead of faulting them in again (glibc).
    keep_freed_buffers()
    pred_dir, gt_dir = make_data(args.cache, args.cases, args.size)
    paths = sorted(pred_dir.iterdir()) + sorted(gt_dir.iterdir())
    paths = [p for p in paths if p.suffix == ".png"]
    job_list = [1] + (
        [args.jobs or os.cpu_count() or 1] if (args.jobs or os.cpu_count() or 1) > 1 else []
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}"
    )
    print(f"data: {args.cases} pairs of {args.size}x{args.size} PNG masks ({len(paths)} files)")
    print(
        f"{'':>8} {'jobs':>4} {'decode (s)':>11} {'evaluate (s)':>13} {'ratio':>6} "
        f"{'ratio range':>12}  (median of {args.repeat} interleaved pairs)"
    )
    out = Path(tempfile.mkdtemp(prefix="segscore-bench-out-"))
    for level in ("api", "command"):
        for jobs in job_list:
            if level == "api":

                def decode(jobs: int = jobs) -> float:
                    return decode_only(paths, jobs)

                def score(jobs: int = jobs) -> float:
                    return score_all(pred_dir, gt_dir, jobs)
            else:

                def decode(jobs: int = jobs) -> float:
                    return decode_program(pred_dir, gt_dir, jobs)

                def score(jobs: int = jobs) -> float:
                    return evaluate_command(pred_dir, gt_dir, jobs, out)

            decode()  # warm the page cache and the pool start-up path
            score()
            # Decode and evaluate alternate, and the ratio is taken within each pair: a machine
            # whose speed drifts (other tenants, frequency) moves both sides of a pair together.
            dec, ev, ratios = [], [], []
            for _ in range(args.repeat):
                dec.append(decode())
                ev.append(score())
                ratios.append(ev[-1] / dec[-1])
            print(
                f"{level:>8} {jobs:>4} {statistics.median(dec):>11.3f} "
                f"{statistics.median(ev):>13.3f} {statistics.median(ratios):>6.2f} "
                f"{min(ratios):>5.2f}-{max(ratios):<5.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

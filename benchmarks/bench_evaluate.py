"""Benchmark: `segscore evaluate` on 1,000 pairs of 512×512 PNG masks vs merely decoding them.

Usage: python benchmarks/bench_evaluate.py [--cases 1000] [--size 512] [--jobs N] [--repeat 7]

The target (issues #4 and #13): the whole command within 1.15x the time of decoding the 2,000
PNGs with the same number of processes. Two decode-only yardsticks are timed, with the same
process pool shape; the data are generated once into a cache folder:

- "pyspng": pyspng, the fastest PNG decoder on PyPI (libspng + zlib), as a program of its own.
- "libdeflate": segscore's own decoder for plain 8-bit grayscale PNGs
  (:func:`segscore.io.png.decode_gray8`: libdeflate + a C unfilter, about 4x pyspng), which
  ``segscore evaluate`` itself uses. Against it the ratio is what the command adds to decoding
  (hashing, counting, journal, outputs, start-up) when decoding is as fast as segscore makes it.

Two levels are timed. "api": ``match_cases`` + ``evaluate`` in this process against decoding the
files in this process (with pyspng). "command": the whole ``python -m segscore evaluate
--no-report`` command (start-up, imports, listing, counting, per_case.csv, summary.json,
journal) against the decode-only programs run the same way.
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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
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
# in the same pool shape, exit. Timed end to end against the `segscore evaluate` command, so that
# interpreter start-up, imports, listing and writing the outputs all count.
_PROGRAM = """
import os, sys
from concurrent.futures import ProcessPoolExecutor
{imports}

def decode(paths):
{setup}    for p in paths:
        with open(p, "rb") as f:
            {decode}

jobs = int(sys.argv[1])
paths = sorted(e.path for d in sys.argv[2:] for e in os.scandir(d) if e.name.endswith(".png"))
if jobs == 1:
    decode(paths)
else:
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(decode, [paths[i : i + 16] for i in range(0, len(paths), 16)]))
"""

# With pyspng:
DECODE_PROGRAM = _PROGRAM.format(imports="import pyspng", setup="", decode="pyspng.load(f.read())")

# With segscore's decoder, and its allocator setting (image buffers kept between files, as
# `segscore evaluate` and its workers do; without it every 256 KiB buffer is faulted in again,
# which would make this yardstick slower than it need be).
DECODE_PROGRAM_LIBDEFLATE = _PROGRAM.format(
    imports="from segscore.evaluation.allocator import keep_freed_buffers\n"
    "from segscore.io.png import decode_gray8",
    setup="    keep_freed_buffers()\n",
    decode="assert decode_gray8(f.read()) is not None",
)


# As installed packages are: with bytecode caches (the warm-up run writes them even where the
# environment sets PYTHONDONTWRITEBYTECODE, which would recompile segscore's modules every run).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def decode_program(pred_dir: Path, gt_dir: Path, jobs: int, program: str = DECODE_PROGRAM) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, "-c", program, str(jobs), str(pred_dir), str(gt_dir)]
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
        "times: median of the rounds; ratios: evaluate / decode, median of the per-round ratios "
        f"(range), {args.repeat} rounds, the programs' order rotated each round"
    )
    out = Path(tempfile.mkdtemp(prefix="segscore-bench-out-"))
    for level in ("api", "command"):
        for jobs in job_list:
            programs: dict[str, Callable[[], float]]
            if level == "api":  # read_array: segscore's decoder, as evaluate uses it
                programs = {
                    "decode (read_array)": partial(decode_only, paths, jobs),
                    "evaluate": partial(score_all, pred_dir, gt_dir, jobs),
                }
            else:
                programs = {
                    "decode (pyspng)": partial(decode_program, pred_dir, gt_dir, jobs),
                    "decode (libdeflate)": partial(
                        decode_program, pred_dir, gt_dir, jobs, DECODE_PROGRAM_LIBDEFLATE
                    ),
                    "evaluate": partial(evaluate_command, pred_dir, gt_dir, jobs, out),
                }
            for run in programs.values():  # warm the page cache and the pool start-up path
                run()
            # The ratio is taken within each round, and the order rotates: a machine whose speed
            # drifts (other tenants, frequency) moves all programs of a round together.
            names = list(programs)
            times: dict[str, list[float]] = {name: [] for name in names}
            for r in range(args.repeat):
                k = r % len(names)
                for name in names[k:] + names[:k]:
                    times[name].append(programs[name]())
            cells = [f"{name} {statistics.median(times[name]):.3f} s" for name in names]
            print(f"{level:>8} jobs {jobs}: " + ", ".join(cells))
            for name in names[:-1]:
                ratios = [e / d for e, d in zip(times["evaluate"], times[name], strict=True)]
                print(
                    f"{'':>8} evaluate / {name}: {statistics.median(ratios):.2f} "
                    f"({min(ratios):.2f}-{max(ratios):.2f})"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: memory stays flat when streaming 1,000 vs 100,000 binary 128×128 masks.

Usage: python benchmarks/bench_memory.py [--sizes 1000,100000] [--batch 256] [--torch]

Each size runs in fresh processes (peak RSS is a per-process high-water mark): one measures peak
RSS, a second one the tracemalloc peaks (tracemalloc's own bookkeeping would inflate the RSS). The masks are
generated on the fly, one batch at a time, from a seeded generator and streamed through
:class:`segscore.Evaluator` (``--torch``: :class:`segscore.integrations.torch.TensorEvaluator` on
CPU tensors); no list of masks is kept. Printed per size: peak RSS of the process, the
tracemalloc peak while streaming (batch buffers and counting temporaries), the tracemalloc peak of
the final ``compute`` (the counts: 4 int64 per case and class, 32 bytes per binary case, plus one
concatenated copy and the float64 cells of the score), and the time.

Target (issue #6): peak RSS for 100,000 masks within 10% of that for 1,000.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np

SIZE = 128


def batches(n: int, batch: int, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(pred, target)`` batches of binary uint8 masks, generated on the fly."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch):
        b = min(batch, n - start)
        target = rng.integers(0, 2, size=(b, SIZE, SIZE), dtype=np.uint8)
        pred = target ^ (rng.integers(0, 8, size=(b, SIZE, SIZE), dtype=np.uint8) == 0)
        yield pred, target


def child(n: int, batch: int, use_torch: bool, trace: bool) -> dict[str, Any]:
    import segscore

    if use_torch:
        import torch

        from segscore.integrations.torch import TensorEvaluator

        ev: Any = TensorEvaluator()
        convert: Any = torch.from_numpy
    else:
        ev = segscore.Evaluator()

        def convert(a: np.ndarray) -> np.ndarray:
            return a

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    for pred, target in batches(n, batch):
        ev.update(convert(pred), convert(target))
    del pred, target  # the last batch: not part of what `compute` needs
    stream_peak = tracemalloc.get_traced_memory()[1] if trace else math.nan
    if trace:
        tracemalloc.reset_peak()
    result = ev.compute("iou")
    compute_peak = tracemalloc.get_traced_memory()[1] if trace else math.nan
    elapsed = time.perf_counter() - start
    if trace:
        tracemalloc.stop()
    assert ev.n_images == n
    return {
        "n": n,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_imports_mb": rss_before / 1024,
        "stream_peak_mb": stream_peak / 2**20,
        "compute_peak_mb": compute_peak / 2**20,
        "seconds": elapsed,
        "iou": result.value,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--torch", action="store_true", help="stream through TensorEvaluator")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.batch, args.torch, args.trace)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    kind = "TensorEvaluator (torch CPU)" if args.torch else "Evaluator (numpy)"
    print(f"# {kind}, binary {SIZE}x{SIZE} masks, batch {args.batch}")
    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores")
    print(
        f"{'masks':>8} {'peak RSS MB':>12} {'RSS after imports MB':>21} "
        f"{'stream peak MB':>15} {'compute peak MB':>16} {'seconds':>8}"
    )
    rows = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--batch", str(args.batch)]
        cmd += ["--torch"] if args.torch else []
        # Two fresh processes per size: peak RSS without tracemalloc (whose own bookkeeping
        # would be counted), then the tracemalloc peaks.
        row, traced = (
            json.loads(
                subprocess.run(cmd + extra, check=True, capture_output=True, text=True)
                .stdout.strip()
                .splitlines()[-1]
            )
            for extra in ([], ["--trace"])
        )
        row["stream_peak_mb"], row["compute_peak_mb"] = (
            traced["stream_peak_mb"],
            traced["compute_peak_mb"],
        )
        rows.append(row)
        print(
            f"{row['n']:>8} {row['peak_rss_mb']:>12.1f} {row['rss_after_imports_mb']:>21.1f} "
            f"{row['stream_peak_mb']:>15.2f} {row['compute_peak_mb']:>16.2f} {row['seconds']:>8.1f}"
        )
    if len(rows) >= 2:
        ratio = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
        verdict = "within" if ratio <= 1.10 else "NOT within"
        print(
            f"peak RSS {rows[-1]['n']:,} / {rows[0]['n']:,} masks = {ratio:.3f} "
            f"({verdict} the 10% target)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

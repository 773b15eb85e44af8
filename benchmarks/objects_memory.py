"""The 5,000-object figure: peak memory and time of object-level scoring on one 2048x2048 image.

Run through ``python -m benchmarks.bench_objects --memory-only [--memory-peers stardist,cellpose]``.

The parent generates the image pair (:func:`benchmarks.objects_data.make_many`: about 5,000
touching objects per side, uint16 ids in 1..60000), saves it, and measures each library in two
fresh processes (a peak is a per-process high-water mark):

- peak RSS growth: the peak RSS (``VmHWM``, reset through ``/proc/self/clear_refs``) after the
  scoring minus the RSS before it, once the label maps are loaded and a warm-up call on a
  128x128 crop has imported everything; the same process times ``--repeat`` calls (median);
- tracemalloc peak: the largest traced allocation total during the call above what was allocated
  before it (numpy reports its buffers to tracemalloc), in a second process, because
  tracemalloc's own bookkeeping would inflate the RSS.

Both are divided by the size of the two label maps (2 x 2048 x 2048 x 2 bytes = 16 MiB).
Target (issue #12): segscore's peak below 4x the label maps.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TARGET = 4.0
METRICS = ["f1@0.5", "pq", "aji"]


def scorer(library: str) -> Callable[[Any, Any], dict[str, float]]:
    """The call measured for ``library`` on one image ``(pred, target)``."""
    if library == "segscore":
        import segscore

        def run(p: Any, t: Any) -> dict[str, float]:
            r = segscore.instance_scores(p, t, METRICS)
            return {k: v.value for k, v in r.items()}

        return run
    from benchmarks import objects_peers as peers

    if library == "stardist":
        m = peers.load_stardist()

        def run_stardist(p: Any, t: Any) -> dict[str, float]:
            r = m.matching(t, p, thresh=0.5)
            return {"f1@0.5": float(r.f1), "pq": float(r.panoptic_quality)}

        return run_stardist
    if library == "cellpose":
        m = peers.load_cellpose()

        def run_cellpose(p: Any, t: Any) -> dict[str, float]:
            tc, pc = peers.relabel(t[None]), peers.relabel(p[None])  # included in the time
            _, tp, fp, fn = m.average_precision(tc, pc, threshold=[0.5])
            f1 = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())
            return {
                "f1@0.5": float(f1),
                "aji (cellpose variant)": float(m.aggregated_jaccard_index(tc, pc)[0]),
            }

        return run_cellpose
    raise SystemExit(f"unknown library {library!r}; choose segscore, stardist or cellpose")


def _status(field: str) -> int | None:
    """``field`` of /proc/self/status in bytes (Linux), or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> int:
    """Reset the peak RSS to the current RSS where Linux allows it; return the baseline.

    ``ru_maxrss`` cannot be used alone: Linux carries the parent's high-water mark into a child
    across fork and exec. ``VmHWM`` belongs to the process's own memory map, and writing 5 to
    ``/proc/self/clear_refs`` resets it to the current RSS.
    """
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _peak_rss()


def _peak_rss() -> int:
    hwm = _status("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(library: str, data: Path, trace: bool, repeat: int) -> dict[str, Any]:
    pred = np.load(data / "pred.npy")
    target = np.load(data / "target.npy")
    run = scorer(library)
    run(pred[:128, :128], target[:128, :128])  # warm-up: imports, JIT
    out: dict[str, Any] = {"library": library}
    if trace:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run(pred, target)
        out["traced_peak"] = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        return out
    rss_before = _reset_peak_rss()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        values = run(pred, target)
        times.append(time.perf_counter() - start)
    out["rss_growth"] = _peak_rss() - rss_before
    out["rss_before"] = rss_before
    out["seconds"] = statistics.median(times)
    out["values"] = values
    return out


def _spawn(library: str, data: Path, trace: bool, repeat: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.objects_memory",
        "--child",
        library,
        "--data",
        str(data),
        "--repeat",
        str(repeat),
    ]
    cmd += ["--trace"] if trace else []
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def memory_report(libraries: list[str], repeat: int = 3) -> dict[str, Any]:
    from benchmarks.objects_data import make_many

    pred, target = make_many()
    maps = pred.nbytes + target.nbytes
    n_t = int(np.count_nonzero(np.bincount(target.ravel())[1:]))
    n_p = int(np.count_nonzero(np.bincount(pred.ravel())[1:]))
    print(
        f"\n5,000-object image: 2048x2048 uint16, {n_t} target and {n_p} predicted objects; "
        f"label maps {maps / 2**20:.1f} MiB (pred + target)",
        flush=True,
    )
    print(
        f"{'library':<10} {'time':>9} {'traced peak':>12} {'x maps':>7} {'RSS growth':>11} "
        f"{'x maps':>7}  values",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "pred.npy", pred)
        np.save(Path(tmp) / "target.npy", target)
        for lib in libraries:
            row = _spawn(lib, Path(tmp), False, repeat)
            row.update(_spawn(lib, Path(tmp), True, 1))
            row["traced_ratio"] = row["traced_peak"] / maps
            row["rss_ratio"] = row["rss_growth"] / maps
            rows.append(row)
            vals = ", ".join(f"{k} {v:.4f}" for k, v in row["values"].items())
            print(
                f"{lib:<10} {row['seconds']:>8.2f}s {row['traced_peak'] / 2**20:>9.1f} MiB "
                f"{row['traced_ratio']:>6.2f}x {row['rss_growth'] / 2**20:>7.1f} MiB "
                f"{row['rss_ratio']:>6.2f}x  {vals}",
                flush=True,
            )
    ours = rows[0]
    worst = max(ours["traced_ratio"], ours["rss_ratio"])
    print(
        f"segscore peak / label maps = {worst:.2f}x (target < {TARGET:g}x: "
        f"{'met' if worst < TARGET else 'NOT met'})",
        flush=True,
    )
    return {"objects": [n_p, n_t], "label_maps_bytes": maps, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(child(args.child, args.data, args.trace, args.repeat), default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

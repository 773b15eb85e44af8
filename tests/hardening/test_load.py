"""Load: 20,000 mask pairs with --jobs 2 give the outputs of --jobs 1, with flat memory.

Memory is the peak RSS of the ``segscore evaluate`` process tree (workers included). What grows
with the number of cases is the bookkeeping of the results (counts, rows: about 2 KB a case);
what must not grow is anything proportional to the masks: 2,000 pairs of 128x128 masks peak
where 2,000 pairs of 32x32 masks do. Figures are recorded in docs/bad-input.md.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

PEAK_RSS = """
import resource, subprocess, sys
rc = subprocess.run([sys.executable, "-m", "segscore", *sys.argv[1:]], stdout=subprocess.DEVNULL).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _png_bytes(mask: np.ndarray) -> bytes:
    """An 8-bit gray PNG, built directly (about 20 times faster than Pillow for tiny masks)."""
    height, width = mask.shape
    rows = np.zeros((height, width + 1), np.uint8)
    rows[:, 1:] = mask

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + chunk(b"IEND", b"")
    )


def make_pairs(root: Path, n: int, size: int, seed: int = 0) -> Path:
    """n pairs of random size x size binary PNG masks in root/pred and root/gt."""
    rng = np.random.default_rng(seed)
    for role in ("pred", "gt"):
        (root / role).mkdir(parents=True)
    for i in range(n):
        masks = (rng.random((2, size, size)) < 0.3).astype(np.uint8) * 255
        (root / "pred" / f"c{i:05d}.png").write_bytes(_png_bytes(masks[0]))
        (root / "gt" / f"c{i:05d}.png").write_bytes(_png_bytes(masks[1]))
    return root


def run_evaluate(root: Path, out: str, jobs: int) -> tuple[float, int]:
    """Run ``segscore evaluate`` in a fresh process; return (seconds, peak RSS in KB)."""
    argv = ["evaluate", "--pred", str(root / "pred"), "--gt", str(root / "gt")]
    argv += ["--out", str(root / out), "--jobs", str(jobs), "--no-report"]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *argv], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    rc, peak = (int(v) for v in done.stdout.split())
    assert rc == 0, done.stderr
    return seconds, peak


def _outputs(out: Path) -> tuple[bytes, dict]:  # type: ignore[type-arg]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["inputs"].pop("jobs")
    return (out / "per_case.csv").read_bytes(), summary


@pytest.mark.slow
def test_twenty_thousand_pairs_two_jobs_equal_one_job(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "d", 20_000, 32)
    seconds1, peak1 = run_evaluate(root, "out1", 1)
    seconds2, peak2 = run_evaluate(root, "out2", 2)
    print(f"20000 pairs 32x32: jobs=1 {seconds1:.1f} s {peak1 / 1024:.0f} MB; ", end="")
    print(f"jobs=2 {seconds2:.1f} s {peak2 / 1024:.0f} MB")
    assert _outputs(root / "out1") == _outputs(root / "out2")
    assert _outputs(root / "out1")[1]["inputs"]["n_cases"] == 20_000
    assert max(peak1, peak2) < 400 * 1024  # a few KB a case at most, never the masks


@pytest.mark.slow
def test_memory_does_not_grow_with_mask_size(tmp_path: Path) -> None:
    small = make_pairs(tmp_path / "small", 2_000, 32)
    large = make_pairs(tmp_path / "large", 2_000, 128)  # 64 MB of pixels if they were kept
    _, peak_small = run_evaluate(small, "out", 2)
    _, peak_large = run_evaluate(large, "out", 2)
    print(f"2000 pairs: 32x32 {peak_small / 1024:.0f} MB, 128x128 {peak_large / 1024:.0f} MB")
    assert peak_large - peak_small < 16 * 1024

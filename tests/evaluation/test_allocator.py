"""Freed image buffers are kept for the next case (glibc), instead of being faulted in again."""

from __future__ import annotations

import subprocess
import sys

import pytest

from segscore.evaluation.allocator import keep_freed_buffers

# Two 256 KiB masks made, read and freed per "case", with small objects growing the heap between
# them as a case loop does; the number of minor page faults of the loop is printed. Without the
# setting the loop faults ~38,000 times (300 cases x 2 buffers x 64 pages).
LOOP = """
import ctypes, resource, sys
import numpy as np
from segscore.evaluation.allocator import keep_freed_buffers
# Pin glibc's default thresholds (128 KiB), which its dynamic adjustment may or may not have
# raised by now depending on the process's history: each 256 KiB buffer is then mapped anew.
libc = ctypes.CDLL("libc.so.6")
assert libc.mallopt(-3, 128 * 1024) and libc.mallopt(-1, 128 * 1024)
if sys.argv[1] == "keep":
    assert keep_freed_buffers()
junk = [bytearray(100) for _ in range(20000)]
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(300):
    a = np.ones((512, 512), np.uint8)
    b = np.ones((512, 512), np.uint8)
    a.sum(), b.sum()
    del a, b
    junk.append(bytearray(100))
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
"""


def _faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", LOOP, mode], capture_output=True, text=True, check=True, timeout=120
    )
    return int(out.stdout.strip())


def test_is_idempotent() -> None:
    first = keep_freed_buffers()
    assert keep_freed_buffers() is first


@pytest.mark.skipif(not keep_freed_buffers(), reason="glibc only")
def test_freed_buffers_are_not_faulted_in_again() -> None:
    # 300 cases x 2 buffers x 64 pages: ~38,000 faults when each buffer is mapped anew.
    default, kept = _faults("default"), _faults("keep")
    assert default > 10_000
    assert kept < default / 20


def test_collector_paused_restores_the_collector_after_an_error() -> None:
    import gc

    from segscore.evaluation.allocator import collector_paused

    def fail_inside() -> None:
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        fail_inside()
    assert gc.isenabled()
    gc.disable()  # a caller that runs with the collector off keeps it off
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_evaluate_leaves_the_collector_as_it_was(tmp_path) -> None:
    import gc

    import numpy as np
    from PIL import Image

    from segscore.cli import main

    for sub in ("pred", "gt"):
        (tmp_path / sub).mkdir()
        Image.fromarray(np.eye(8, dtype=np.uint8) * 255).save(tmp_path / sub / "a.png")
    out = tmp_path / "out"
    args = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*args, "--out", str(out), "--no-report"]) == 0
    assert gc.isenabled()
    missing = [*args[:3], "--gt", str(tmp_path / "missing"), "--out", str(out), "--no-report"]
    assert main(missing) == 2  # a DatasetError inside the paused block
    assert gc.isenabled()

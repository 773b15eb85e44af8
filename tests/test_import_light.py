"""`import segscore` must stay light: no torch (an optional extra)."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_does_not_import_torch():
    result = _run("import segscore, sys; assert 'torch' not in sys.modules")
    assert result.returncode == 0, result.stderr


def test_counting_numpy_arrays_does_not_import_torch():
    code = (
        "import sys, numpy as np, segscore\n"
        "c = segscore.confusion(np.array([[0, 1]]), np.array([[0, 1]]), num_classes=2)\n"
        "segscore.score(c, 'dice')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr


def test_the_check_can_fail():
    """The subprocess check itself detects torch when it is imported."""
    result = _run("import torch, segscore, sys; assert 'torch' not in sys.modules")
    assert result.returncode != 0

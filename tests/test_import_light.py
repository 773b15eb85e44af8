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


def test_cli_start_up_imports_neither_scipy_nor_rich_nor_metadata():
    # scipy.ndimage alone costs ~0.2 s and importlib.metadata ~50 ms at every command's start;
    # they are imported where used (boundary metrics, reports), not by `segscore.cli`.
    code = (
        "import sys, segscore, segscore.cli\n"
        "heavy = [m for m in ('scipy', 'rich', 'importlib.metadata', 'PIL') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr

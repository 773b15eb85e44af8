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


def test_evaluate_on_plain_masks_does_not_import_the_presets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The presets module (a dozen libraries' records) cost ~10 ms of every evaluate's start-up
    # when score(preset=) imported it at module level (measured in review: +4-7% on 1,000 pairs).
    import numpy as np
    from PIL import Image

    for folder in ("p", "g"):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.eye(8, dtype=np.uint8) * 255).save(tmp_path / folder / "a.png")
    code = (
        "import sys\n"
        "from segscore.cli import main\n"
        f"assert main(['evaluate', '--pred', {str(tmp_path / 'p')!r}, '--gt', "
        f"{str(tmp_path / 'g')!r}, '--out', {str(tmp_path / 'o')!r}, '--no-report', "
        "'--jobs', '1']) == 0\n"
        "assert 'segscore.metrics.presets' not in sys.modules\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr

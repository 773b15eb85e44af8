"""Importing segscore, its integrations package and the Dask runner imports no heavy library."""

from __future__ import annotations

import subprocess
import sys


def test_imports_stay_light() -> None:
    code = (
        "import sys, segscore, segscore.integrations, segscore.evaluation.dask\n"
        "heavy = [m for m in ('torch', 'torchmetrics', 'dask', 'distributed') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

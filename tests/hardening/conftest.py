"""Shared helpers of the hardening tests, and the Hypothesis profiles of the fuzzing session.

``HYPOTHESIS_PROFILE=fuzz`` (set by ``scripts/fuzz``) runs the fuzz tests with many more examples
and no deadline; the default profile keeps the normal test run short and deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from PIL import Image

settings.register_profile(
    "hardening", max_examples=60, deadline=None, derandomize=True, print_blob=True
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20000")),
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
PROFILE = "fuzz" if FUZZ else "hardening"


def png(path: Path, array: np.ndarray, **kwargs: object) -> Path:
    """Write a 2-D array as a PNG (mode from the dtype) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("format", "PNG")
    Image.fromarray(array).save(path, **kwargs)
    return path


def binary_pair(root: Path, name: str, seed: int = 0, size: int = 16) -> tuple[Path, Path]:
    """A prediction and a ground-truth binary PNG called ``name`` in root/pred and root/gt."""
    rng = np.random.default_rng(seed)
    pred = (rng.random((size, size)) < 0.5).astype(np.uint8) * 255
    target = (rng.random((size, size)) < 0.5).astype(np.uint8) * 255
    return png(root / "pred" / name, pred), png(root / "gt" / name, target)


def evaluate_argv(root: Path, *extra: str, out: str = "out") -> list[str]:
    """``evaluate --pred root/pred --gt root/gt --out root/out --no-report`` plus ``extra``."""
    return [
        "evaluate",
        "--pred",
        str(root / "pred"),
        "--gt",
        str(root / "gt"),
        "--out",
        str(root / out),
        "--no-report",
        *extra,
    ]

"""Fixtures for the HTML report tests: realistic evaluation data and a headless Chromium runner."""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from segscore.report.html import CaseVisual

CHROMIUM = Path("/usr/bin/chromium")
EVIL_NAME = "<script>alert(1)</script>.png"
EVIL_VALUE = '"><img src=x onerror=alert(1)>'


def _disk(shape: tuple[int, int], cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.asarray((yy - cy) ** 2 + (xx - cx) ** 2 <= r**2)


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def _stats(values: list[float]) -> dict[str, Any]:
    v = np.array(values, dtype=float)
    ok = v[np.isfinite(v)]
    if not ok.size:
        return {k: None for k in ("mean", "median", "std", "min", "max")}
    return {
        "mean": float(ok.mean()),
        "median": float(np.median(ok)),
        "std": float(ok.std()),
        "min": float(ok.min()),
        "max": float(ok.max()),
    }


def make_case_data(n_cases: int = 24, size: int = 48, seed: int = 0) -> dict[str, Any]:
    """Synthetic binary evaluation: masks, images, per-case rows and a summary record."""
    rng = np.random.default_rng(seed)
    shape = (size, size)
    cases = []
    for i in range(n_cases):
        name = f"case_{i:03d}.png" if i != 5 else EVIL_NAME
        cy, cx = rng.uniform(14, size - 14, 2)
        r = rng.uniform(5, 12)
        target = _disk(shape, cy, cx, r)
        kind = i % 6
        if kind == 0:  # a small object missed entirely: accuracy high, IoU 0
            target = _disk(shape, cy, cx, 3)
            pred = np.zeros(shape, bool)
        elif kind == 1:  # shifted
            pred = _disk(shape, cy + rng.uniform(2, 6), cx - rng.uniform(2, 6), r)
        elif kind == 2:  # over-segmented
            pred = _disk(shape, cy, cx, r * 1.35)
        else:  # good
            pred = _disk(shape, cy + rng.uniform(-1, 1), cx + rng.uniform(-1, 1), r)
        if i == n_cases - 1:  # both empty: IoU undefined
            target = np.zeros(shape, bool)
            pred = np.zeros(shape, bool)
        image = None
        if i % 2 == 0:
            _yy, xx = np.mgrid[:size, :size]
            image = 0.25 + 0.5 * target + 0.08 * np.sin(xx / 3.0) + rng.normal(0, 0.05, shape)
            image = np.clip(image, 0, 1)
        cases.append((name, target, pred, image))

    rows: list[dict[str, Any]] = []
    pooled = {c: np.zeros(4, np.int64) for c in (0, 1)}
    for name, target, pred, _ in cases:
        for c in (0, 1):
            t = target if c == 1 else ~target
            p = pred if c == 1 else ~pred
            tp, fp = int(np.sum(t & p)), int(np.sum(~t & p))
            fn, tn = int(np.sum(t & ~p)), int(np.sum(~t & ~p))
            pooled[c] += [tp, fp, fn, tn]
            rows.append(
                {
                    "case": name,
                    "class": c,
                    "iou": _ratio(tp, tp + fp + fn),
                    "dice": _ratio(2 * tp, 2 * tp + fp + fn),
                    "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
                    "tp": tp,
                    "fp": fp,
                    "fn": fn,
                    "tn": tn,
                    "target_empty": not t.any(),
                    "prediction_empty": not p.any(),
                }
            )

    def pooled_value(metric: str, c: int) -> float:
        tp, fp, fn, tn = (int(x) for x in pooled[c])
        return {
            "iou": _ratio(tp, tp + fp + fn),
            "dice": _ratio(2 * tp, 2 * tp + fp + fn),
            "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        }[metric]

    metrics: dict[str, Any] = {}
    for metric in ("iou", "dice", "accuracy"):
        values = [r[metric] for r in rows]
        per_class = {
            str(c): _stats([r[metric] for r in rows if r["class"] == c])["mean"] for c in (0, 1)
        }
        record = _stats(values)
        n_valid = int(np.isfinite(values).sum())
        record.update(
            pooled=(pooled_value(metric, 0) + pooled_value(metric, 1)) / 2,
            per_class=per_class,
            class_mean=float(np.mean(list(per_class.values()))),
            n_valid=n_valid,
            n_nan=len(values) - n_valid,
            n_inf=0,
            n_excluded=len(values) - n_valid,
            ci95=[record["mean"] - 0.041, record["mean"] + 0.037],
        )
        metrics[metric] = record
    summary = {
        "segscore_version": "0.1.0",
        "inputs": {
            "pred": "runs/unet-small/predictions",
            "gt": "data/shapes/val/masks",
            "n_cases": n_cases,
            "hash": "sha256:9f2c51e0a4b7d3c8e1f6a2b9c4d7e0f3",
        },
        "conventions": {
            "mode": "multiclass",
            "num_classes": 2,
            "ignore_index": None,
            "include_background": True,
            "aggregation": "images_then_classes",
            "empty": {"zero_division": None, "both_empty": "excluded"},
            "threshold": 0.5,
            "note": EVIL_VALUE,
            "classes": [0, 1],
        },
        "metrics": metrics,
        "unmatched": {"pred": ["extra_001.png", "extra_002.png"], "gt": ["lonely_gt.png"]},
        "failed": [{"case": "broken.png", "error": "`pred` and `target` must have the same shape"}],
    }
    fg = [r for r in rows if r["class"] == 1]
    order = sorted(
        range(n_cases), key=lambda i: (math.isnan(fg[i]["iou"]), fg[i]["iou"] if fg else 0)
    )
    finite = [i for i in order if not math.isnan(fg[i]["iou"])]

    def visual(i: int) -> CaseVisual:
        name, target, pred, image = cases[i]
        return CaseVisual(name, target, pred, fg[i]["iou"], image)

    thresholds = [round(t, 2) for t in np.linspace(0.05, 0.95, 19)]
    iou_curve = [0.78 - 1.6 * (t - 0.45) ** 2 for t in thresholds]
    return {
        "summary": summary,
        "rows": rows,
        "worst": [visual(i) for i in finite[:4]] + [visual(5)],
        "best": [visual(i) for i in finite[-4:]],
        "threshold_curve": {
            "thresholds": thresholds,
            "iou": iou_curve,
            "dice": [2 * v / (1 + v) for v in iou_curve],
            "best_threshold": 0.45,
            "best_metric": "iou",
        },
        "training_trace": [
            {
                "epoch": e,
                "loss": 0.7 * math.exp(-e / 6) + 0.08,
                "val_loss": 0.72 * math.exp(-e / 7) + 0.12,
                "train_iou": 0.85 - 0.6 * math.exp(-e / 5),
                "val_iou": 0.78 - 0.55 * math.exp(-e / 5),
                "val_dice": 0.86 - 0.5 * math.exp(-e / 5),
            }
            for e in range(1, 21)
        ],
    }


@pytest.fixture(scope="session")
def case_data() -> dict[str, Any]:
    return make_case_data()


def chromium_command(page: Path, profile: Path, *flags: str) -> list[str]:
    """The headless Chromium command line that loads ``page`` with the given extra flags."""
    return [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *flags,
        page.resolve().as_uri(),
    ]


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run headless Chromium on a file with the given extra flags; skip if it is not installed."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("/usr/bin/chromium is absent; install it with `bash scripts/install-chromium`")

    def run(page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
        profile = tmp_path / f"chromium-profile-{len(list(tmp_path.iterdir()))}"
        cmd = chromium_command(page, profile, *flags)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)

    return run

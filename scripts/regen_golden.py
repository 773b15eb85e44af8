#!/usr/bin/env python
"""Regenerate the golden files of the metrics core: tests/golden/{cases,expected}/.

Run by hand only, after a deliberate change of a definition, and review the diff in the PR:

    python scripts/regen_golden.py

CI never runs this script; tests/golden/test_golden.py compares the library against the files.
Each case is a small .npz (``pred``, ``target`` and ``options``, a JSON string of the keyword
arguments of ``segscore.confusion``); its .json holds the counts and every metric under every
aggregation and two empty policies, at full float precision (NaN written as null).
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib

import numpy as np

import segscore
from segscore import AGGREGATIONS, METRICS

ROOT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "golden"
EMPTY_POLICIES = {"nan": math.nan, "one": 1.0}


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray, dict]]:
    rng = np.random.default_rng(20240601)
    cases = {}

    # 2-D binary masks: a square, its shifted copy, an empty target, an empty prediction
    t = np.zeros((4, 12, 12), bool)
    p = np.zeros((4, 12, 12), bool)
    t[0, 2:8, 3:9] = True
    p[0, 3:9, 3:10] = True
    p[1, 5:7, 5:7] = True  # image 1: empty target, 4 false positives
    t[2, 1:4, 1:4] = True  # image 2: empty prediction
    t[3] = rng.random((12, 12)) < 0.3
    p[3] = np.where(rng.random((12, 12)) < 0.8, t[3], ~t[3])
    cases["binary_2d"] = (p, t, {})

    # 3-D probabilities thresholded at 0.4, one volume
    t3 = np.zeros((6, 7, 8), np.uint8)
    t3[1:5, 2:6, 2:7] = 1
    probs = np.clip(t3 * 0.7 + rng.normal(0.0, 0.25, t3.shape), 0.0, 1.0)
    cases["binary_3d_probabilities"] = (probs, t3, {"threshold": 0.4, "spatial_dims": 3})

    # 2-D multiclass uint8 with ignore 255 (void band, predictions under it and of it)
    tm = rng.integers(0, 4, size=(3, 10, 10)).astype(np.uint8)
    tm[:, :, 0] = 255
    tm[2][tm[2] == 3] = 0  # class 3 absent from image 2's target
    pm = np.where(rng.random(tm.shape) < 0.7, tm, rng.integers(0, 4, size=tm.shape)).astype(
        np.uint8
    )
    pm[:, :, 0] = rng.integers(0, 4, size=(3, 10))
    pm[0, 5, 5] = 255
    cases["multiclass_2d_ignore"] = (pm, tm, {"num_classes": 4, "ignore_index": 255})

    # 3-D multiclass batch (N, D, H, W), 5 classes with class 4 absent from both
    tv = rng.integers(0, 4, size=(2, 4, 5, 6))
    pv = np.where(rng.random(tv.shape) < 0.6, tv, rng.integers(0, 4, size=tv.shape))
    cases["multiclass_3d"] = (pv, tv, {"num_classes": 5})

    # multilabel (N, C, H, W), one channel empty everywhere in the target
    tl = rng.random((2, 3, 8, 8)) < 0.35
    tl[:, 2] = False
    pl = np.where(rng.random(tl.shape) < 0.75, tl, rng.random(tl.shape) < 0.2)
    cases["multilabel_2d"] = (pl, tl, {"multilabel": True})

    # empty cases: both empty, target empty, prediction empty
    te = np.zeros((3, 6, 6), bool)
    pe = np.zeros((3, 6, 6), bool)
    pe[1, 0, 0] = True
    te[2, 5, 5] = True
    cases["empty"] = (pe, te, {})
    return cases


def _floats(values) -> object:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        v = float(array)
        return None if math.isnan(v) else v
    return [_floats(v) for v in array]


def expected_for(pred: np.ndarray, target: np.ndarray, options: dict) -> dict:
    counts = segscore.confusion(pred, target, **options)
    out: dict = {
        "options": options,
        "counts": {f: getattr(counts, f).tolist() for f in ("tp", "fp", "fn", "tn")},
        "scores": {},
        "generalized_dice": {
            w: _floats(segscore.generalized_dice(counts, weight=w))
            for w in ("square", "simple", "uniform")
        },
    }
    for metric in [m for m, spec in METRICS.items() if spec.kind == "overlap"]:
        for aggregation in AGGREGATIONS:
            for policy_name, policy in EMPTY_POLICIES.items():
                s = segscore.score(counts, metric, aggregation=aggregation, empty=policy)
                out["scores"][f"{metric}/{aggregation}/{policy_name}"] = {
                    "value": _floats(s.value),
                    "per_image": _floats(s.per_image),
                    "per_class": _floats(s.per_class),
                    "n_valid": s.n_valid,
                    "n_excluded": s.n_excluded,
                }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path, default=ROOT, help="golden folder")
    args = parser.parse_args(argv)
    (args.root / "cases").mkdir(parents=True, exist_ok=True)
    (args.root / "expected").mkdir(parents=True, exist_ok=True)
    for name, (pred, target, options) in _cases().items():
        np.savez_compressed(
            args.root / "cases" / f"{name}.npz",
            pred=pred,
            target=target,
            options=np.array(json.dumps(options, sort_keys=True)),
        )
        expected = expected_for(pred, target, options)
        text = json.dumps(expected, indent=1, sort_keys=True, allow_nan=False)
        (args.root / "expected" / f"{name}.json").write_text(text + "\n")
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

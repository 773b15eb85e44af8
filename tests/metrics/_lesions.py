"""Seeded lesion volumes and the two independent references of the lesion-wise tests.

- :func:`brats_lesions`: the BraTS 2023 procedure (``get_LesionWiseScores`` /
  ``get_LesionWiseResults`` of rachitsaluja/BraTS-2023-Metrics ``metrics.py``) written again,
  literally: full-size masks per lesion, ``scipy.ndimage`` labels (26-connectivity) and
  dilations (the whole target, then each lesion again), DeepMind surface-distance 0.1 for HD95;
  missed lesions get ``inf``. Nothing of segscore is used.
- :func:`panoptica_lesions`: panoptica 2.1.7 on semantic input, ``NaiveThresholdMatching(0,
  strict, allow_many_to_one)``: per matched target lesion its DSC and HD95 (boundary voxels,
  pooled percentile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import ndimage


def ball(volume: np.ndarray, center, radius: float) -> None:
    grid = np.ogrid[tuple(slice(0, n) for n in volume.shape)]
    volume |= sum((g - c) ** 2 for g, c in zip(grid, center, strict=True)) <= radius**2


def lesion_volumes(
    seed: int, shape=(28, 30, 32), n=(3, 8), apart: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(pred, target): balls of radius 1-5; ~20% missed, predictions jittered and rescaled,
    0-3 false-positive balls. ``apart=False`` lets balls touch, merge and lie close."""
    rng = np.random.default_rng(seed)
    target = np.zeros(shape, bool)
    pred = np.zeros(shape, bool)
    balls: list[tuple[np.ndarray, float]] = []
    wanted = int(rng.integers(*n))
    for _ in range(500):
        if len(balls) == wanted:
            break
        r = rng.uniform(1.0, 5.0)
        c = np.array([rng.uniform(r, s - r - 1) for s in shape])
        if apart and any(np.linalg.norm(c - c2) < r + r2 + 5 for c2, r2 in balls):
            continue
        balls.append((c, r))
    for c, r in balls:
        ball(target, c, r)
        if rng.random() < 0.2:
            continue
        ball(pred, c + rng.normal(0, 0.5, len(shape)), r * rng.uniform(0.8, 1.2))
    for _ in range(int(rng.integers(0, 4))):
        r = rng.uniform(1.0, 3.0)
        ball(pred, [rng.uniform(r, s - r - 1) for s in shape], r)
    return pred, target


@dataclass
class Reference:
    """Per kept target lesion: voxels, Dice and HD95 (inf: missed); the false positives."""

    voxels: list[int]
    dice: list[float]
    hd95: list[float]
    n_tp: int
    n_fn: int
    n_fp: int

    def scores(self, penalty: float = 374.0) -> tuple[float, float]:
        """BraTS' final (lesion-wise Dice, lesion-wise HD95); no lesion: (1, 0)."""
        den = len(self.dice) + self.n_fp
        if den == 0:
            return 1.0, 0.0
        hd = [penalty if math.isinf(h) else h for h in self.hd95]
        return sum(self.dice) / den, (sum(hd) + self.n_fp * penalty) / den


def brats_lesions(pred, target, spacing, dilation: int, min_volume: float) -> Reference:
    sdm = pytest.importorskip("surface_distance")
    full = ndimage.generate_binary_structure(pred.ndim, pred.ndim)
    dil = ndimage.generate_binary_structure(pred.ndim, 2)
    pred_cc, _ = ndimage.label(pred, full)
    grown = ndimage.binary_dilation(target, dil, iterations=dilation) if dilation else target
    grown_cc, n = ndimage.label(grown, full)
    lesions = grown_cc * target  # target components combined by their dilation
    touched: set[int] = set()
    ref = Reference([], [], [], 0, 0, 0)
    for j in range(1, n + 1):
        lesion = lesions == j
        region = ndimage.binary_dilation(lesion, dil, iterations=dilation) if dilation else lesion
        hits = [int(h) for h in np.unique(pred_cc[region]) if h]
        touched.update(hits)
        matched = np.isin(pred_cc, hits)
        dice = 2 * np.logical_and(matched, lesion).sum() / (matched.sum() + lesion.sum())
        if hits:
            d = sdm.compute_surface_distances(lesion, matched, spacing)
            hd = float(sdm.compute_robust_hausdorff(d, 95))
        else:
            hd = math.inf
        if lesion.sum() * math.prod(spacing) > min_volume:
            ref.voxels.append(int(lesion.sum()))
            ref.dice.append(float(dice))
            ref.hd95.append(hd)
            ref.n_tp += bool(hits)
            ref.n_fn += not hits
    ref.n_fp = int(pred_cc.max()) - len(touched)
    return ref


def panoptica_lesions(pred, target, spacing) -> Reference:
    pan = pytest.importorskip("panoptica")
    from panoptica.utils.logger import set_log_level

    set_log_level("ERROR")
    evaluator = pan.Panoptica_Evaluator(
        expected_input=pan.InputType.SEMANTIC,
        instance_approximator=pan.ConnectedComponentsInstanceApproximator(),
        instance_matcher=pan.NaiveThresholdMatching(
            matching_threshold=0.0, strict_threshold=True, allow_many_to_one=True
        ),
        instance_metrics=[pan.Metric.DSC, pan.Metric.HD95],
        global_metrics=[pan.Metric.DSC],
    )
    result = next(
        iter(
            evaluator.evaluate(
                pred.astype(np.uint8), target.astype(np.uint8), voxelspacing=spacing
            ).values()
        )
    )
    mode = pan.MetricMode.ALL
    voxels = list(result.instance_voxel_count_matched_ref_list) if result.tp else []
    dsc = list(result.get_list_metric(pan.Metric.DSC, mode)) if result.tp else []
    hd = list(result.get_list_metric(pan.Metric.HD95, mode)) if result.tp else []
    missed = result.n_ref_instances - result.tp
    return Reference(
        voxels + [0] * missed,
        [float(v) for v in dsc] + [0.0] * missed,
        [float(v) for v in hd] + [math.inf] * missed,
        int(result.tp),
        int(missed),
        int(result.fp),
    )

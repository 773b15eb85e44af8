"""Seeded instance label maps for the instance-metric tests (a small W5: touching objects,
predictions with misses, merges, splits, false positives and new non-consecutive ids)."""

from __future__ import annotations

import numpy as np


def random_instances(
    rng: np.random.Generator, shape: tuple[int, ...] = (64, 64), n: int = 12, max_id: int = 60000
) -> np.ndarray:
    """Touching ellipses (later ones overwrite earlier ones) with random ids in 1..max_id."""
    grid = np.indices(shape)
    out = np.zeros(shape, np.int64)
    ids = rng.choice(np.arange(1, max_id + 1), size=n, replace=False)
    for k in ids:
        centre = [rng.uniform(0, s) for s in shape]
        radii = [rng.uniform(3, max(4, s / 5)) for s in shape]
        inside = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1
        out[inside] = k
    return out


def perturb(rng: np.random.Generator, target: np.ndarray, max_id: int = 60000) -> np.ndarray:
    """A prediction: shifted by a pixel, objects missed, merged and split, false positives."""
    pred = np.roll(
        target, shift=tuple(rng.integers(-1, 2, size=target.ndim)), axis=tuple(range(target.ndim))
    )
    ids = [int(i) for i in np.unique(pred) if i]
    rng.shuffle(ids)
    if len(ids) > 3:
        pred[pred == ids[0]] = 0  # a miss
        pred[pred == ids[1]] = ids[2]  # a merge
        obj = np.argwhere(pred == ids[3])  # a split along the first axis
        if len(obj) > 1:
            half = obj[obj[:, 0] > np.median(obj[:, 0])]
            pred[tuple(half.T)] = max_id + 1
    corner = tuple(slice(int(rng.integers(0, s - 4)), None) for s in target.shape)
    blob = np.zeros(target.shape, bool)
    blob[corner] = True
    blob &= np.indices(target.shape).sum(axis=0) % 7 < 3
    blob &= pred == 0
    pred[blob] = max_id + 2  # a false-positive blob (maybe disconnected: still one object)
    # relabel with new random ids
    old = np.unique(pred)
    new = np.zeros(old.size, np.int64)
    new[old != 0] = rng.choice(np.arange(1, max_id + 3), size=int((old != 0).sum()), replace=False)
    return new[np.searchsorted(old, pred)]


def batch(seed: int, n_images: int = 4, shape: tuple[int, ...] = (64, 64), n: int = 12):
    """(pred, target) of shape (N, *shape), int64."""
    rng = np.random.default_rng(seed)
    targets = [random_instances(rng, shape, n) for _ in range(n_images)]
    preds = [perturb(rng, t) for t in targets]
    return np.stack(preds), np.stack(targets)


def tie_image(shape: tuple[int, int] = (40, 40)) -> tuple[np.ndarray, np.ndarray]:
    """(pred, target) with exact ties: a prediction covering two targets at IoU 1/2 each, an
    exact match, a pair at IoU exactly 3/4 and one at exactly 7/10 (ids not consecutive)."""
    pred = np.zeros(shape, np.int64)
    target = np.zeros(shape, np.int64)
    target[2:6, 2:6], target[2:6, 6:10] = 20, 30
    pred[2:6, 2:10] = 11
    target[20:25, 20:25] = pred[20:25, 20:25] = 4000  # the same id on both sides
    target[30:34, 2:10], pred[30:34, 2:8] = 7, 900
    target[36, 0:10], pred[36, 0:7] = 5, 6
    return pred, target


def mixed_batch(
    seed: int, n_random: int = 3, shape: tuple[int, int] = (40, 40)
) -> tuple[np.ndarray, np.ndarray]:
    """Random images, the tie image, then the three empty cases: both empty, target empty
    (one predicted object), prediction empty (one target object)."""
    preds, targets = batch(seed, n_images=n_random, shape=shape)
    tie_p, tie_t = tie_image(shape)
    blob = np.zeros(shape, np.int64)
    blob[5:9, 5:9] = 77
    zero = np.zeros(shape, np.int64)
    return (
        np.concatenate([preds, tie_p[None], zero[None], blob[None], zero[None]]),
        np.concatenate([targets, tie_t[None], zero[None], zero[None], blob[None]]),
    )


def compact_ids(labels: np.ndarray, step: int = 7) -> np.ndarray:
    """The same objects with small non-consecutive ids (0, then step + 3, 2 * step + 3, ...)."""
    values, inverse = np.unique(labels, return_inverse=True)
    new = np.arange(values.size) * step + 3
    new[values == 0] = 0
    return new[inverse].reshape(labels.shape)

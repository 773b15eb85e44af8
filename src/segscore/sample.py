"""A built-in sample of mask pairs, for trying the metrics without any file.

The sample mimics what a segmentation model gets wrong: shifted and eroded boundaries, missed small
objects, spurious blobs, and a few images whose masks are empty. Deterministic by seed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from segscore._validation import check_int

__all__ = ["sample_masks"]


def _disk(shape: tuple[int, int], cy: float, cx: float, r: float) -> NDArray[np.bool_]:
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    return np.asarray((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r)


def sample_masks(
    n: int = 100, size: int = 128, *, seed: int = 0
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], list[str]]:
    """Return ``(pred, target, names)``: ``n`` binary mask pairs of ``size × size``.

    Parameters
    ----------
    n : int, default 100
        Number of image pairs.
    size : int, default 128
        Side of each square mask.
    seed : int, default 0
        Seed of the generator; the same seed gives the same masks.

    Returns
    -------
    pred, target : ndarray of bool, shape (n, size, size)
        Predicted and ground-truth masks.
    names : list of str
        Case names ``sample-000`` ...

    Examples
    --------
    >>> pred, target, names = sample_masks(4, 32, seed=1)
    >>> pred.shape, target.dtype, names[0]
    ((4, 32, 32), dtype('bool'), 'sample-000')
    """
    n = check_int("n", n, low=1)
    size = check_int("size", size, low=8)
    rng = np.random.default_rng(seed)
    shape = (size, size)
    pred = np.zeros((n, size, size), dtype=bool)
    target = np.zeros((n, size, size), dtype=bool)
    for i in range(n):
        kind = rng.random()
        if kind < 0.04:  # both empty
            continue
        if kind < 0.08:  # empty target, a spurious blob predicted
            cy, cx = rng.uniform(0.2, 0.8, 2) * size
            pred[i] = _disk(shape, cy, cx, size * 0.05)
            continue
        small = kind < 0.3
        for _ in range(int(rng.integers(1, 4))):
            cy, cx = rng.uniform(0.15, 0.85, 2) * size
            r = size * (rng.uniform(0.02, 0.05) if small else rng.uniform(0.08, 0.2))
            target[i] |= _disk(shape, cy, cx, r)
            if small and rng.random() < 0.5:
                continue  # a missed small object: accuracy barely moves, IoU falls
            dy, dx = rng.normal(0.0, r * 0.15, 2)
            pred[i] |= _disk(shape, cy + dy, cx + dx, r * rng.uniform(0.8, 1.1))
        if rng.random() < 0.2:
            cy, cx = rng.uniform(0.1, 0.9, 2) * size
            pred[i] |= _disk(shape, cy, cx, size * 0.03)
    return pred, target, [f"sample-{i:03d}" for i in range(n)]

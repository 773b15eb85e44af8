"""Seeded instance label maps for the object-level benchmark: W5 and the 5,000-object image.

W5 (CONVENTIONS-objects.md): 100 uint16 label maps 512x512, each with 100-200 touching ellipses
whose ids are random in 1..60000. The prediction is a perturbed copy: every ellipse jittered
(centre, radii, angle), about 5% of the objects missed, 5% of them merged with a touching
neighbour (one predicted id over both), 5% split in two along their minor axis, 5% extra
false-positive blobs, then relabelled with new random ids in 1..60000.

Rendering is vectorised: the pixels of every ellipse's bounding box are listed at once, and each
pixel goes to the ellipse of smallest normalised distance ``(u/a)^2 + (v/b)^2 <= 1`` (one
``np.minimum.at`` on packed ``(distance, ellipse)`` codes), so that ellipses touch along curved
borders instead of overwriting each other. 100 image pairs take a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_ID = 60000
RATE = 0.05
"""Share of misses, merges, splits and false-positive blobs (each, per image)."""

Array = np.ndarray[Any, Any]


@dataclass
class Ellipses:
    """Ellipses of a batch of images; ``value``/``value2`` are the ids of the two halves
    (``value2 == value`` unless the ellipse is split)."""

    image: Array
    cy: Array
    cx: Array
    a: Array
    b: Array
    theta: Array
    value: Array
    value2: Array

    @staticmethod
    def concat(parts: list[Ellipses]) -> Ellipses:
        fields = Ellipses.__dataclass_fields__
        return Ellipses(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})


def render(e: Ellipses, n_images: int, size: int, chunk: int = 1 << 20) -> Array:
    """Return ``(n_images, size, size)`` uint16 label maps of the ellipses (0 = background).

    Scanlines: for every ellipse and row the interval of pixels inside is solved from the
    quadratic form ``d = A dx^2 + B dx dy + C dy^2 <= 1``; every inside pixel competes for its
    place with its ``d`` (smallest wins), packed with the ellipse (and half) into one uint64.
    """
    flat_size = n_images * size * size
    best = np.full(flat_size, np.iinfo(np.uint64).max, np.uint64)
    cos, sin = np.cos(e.theta), np.sin(e.theta)
    ia, ib = 1 / e.a**2, 1 / e.b**2
    qa = cos**2 * ia + sin**2 * ib  # d = qa dx^2 + qb dx dy + qc dy^2, dx, dy from the centre
    qb = 2 * cos * sin * (ia - ib)
    qc = sin**2 * ia + cos**2 * ib
    hy = np.sqrt((e.a * sin) ** 2 + (e.b * cos) ** 2)  # half-height of the bounding box
    y0 = np.clip(np.ceil(e.cy - hy), 0, size).astype(np.int64)
    y1 = np.clip(np.floor(e.cy + hy) + 1, 0, size).astype(np.int64)
    n_rows = np.maximum(y1 - y0, 0)
    values = np.stack([e.value, e.value2], axis=1).reshape(-1)  # code 2k + half
    # one entry per (ellipse, row)
    k = np.repeat(np.arange(e.value.size), n_rows)
    y = y0[k] + np.arange(k.size) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    dy = y - e.cy[k]
    disc = np.maximum((qb[k] * dy) ** 2 - 4 * qa[k] * (qc[k] * dy**2 - 1), 0)
    root = np.sqrt(disc) / (2 * qa[k])
    mid = e.cx[k] - qb[k] * dy / (2 * qa[k])
    x0 = np.clip(np.ceil(mid - root), 0, size).astype(np.int64)
    x1 = np.clip(np.floor(mid + root) + 1, 0, size).astype(np.int64)
    width = np.maximum(x1 - x0, 0)
    f32 = np.float32
    # per row: the terms of d and of the half (u = dx cos + dy sin > 0), as float32
    row_pix = (e.image[k] * size + y) * size + x0
    row_dx0 = (x0 - e.cx[k]).astype(f32)
    row_qa = qa[k].astype(f32)
    row_lin = (qb[k] * dy).astype(f32)
    row_const = (qc[k] * dy**2).astype(f32)
    row_cos = cos[k].astype(f32)
    row_sin = (sin[k] * dy).astype(f32)
    row_code = (2 * k).astype(np.uint64)
    ends = np.cumsum(width)
    start = 0
    while start < k.size:  # chunks of about `chunk` pixels
        stop = start + max(
            1, int(np.searchsorted(ends[start:] - (ends[start] - width[start]), chunk))
        )
        w = width[start:stop]
        local = np.arange(int(w.sum()), dtype=np.int64) - np.repeat(np.cumsum(w) - w, w)
        dx = np.repeat(row_dx0[start:stop], w) + local.astype(f32)
        d = np.repeat(row_qa[start:stop], w) * dx
        d += np.repeat(row_lin[start:stop], w)
        d *= dx
        d += np.repeat(row_const[start:stop], w)
        np.clip(d, 0, 1, out=d)
        dx *= np.repeat(row_cos[start:stop], w)
        dx += np.repeat(row_sin[start:stop], w)
        code = (d * f32(65535)).astype(np.uint64) << np.uint64(32)
        code |= np.repeat(row_code[start:stop], w)
        code |= dx > 0
        np.minimum.at(best, np.repeat(row_pix[start:stop], w) + local, code)
        start = stop
    out = np.zeros(flat_size, np.uint16)
    hit = best != np.iinfo(np.uint64).max
    out[hit] = values[(best[hit] & np.uint64(0xFFFFFFFF)).astype(np.int64)]
    return out.reshape(n_images, size, size)


def _mean_radius(n: int, size: int, coverage: float) -> float:
    """Mean radius of ``n`` circles covering ``coverage`` of a ``size`` x ``size`` image."""
    return float(np.sqrt(coverage * size * size / (n * np.pi)))


def _random_ellipses(
    rng: np.random.Generator, image: int, n: int, size: int, mean_r: float
) -> Ellipses:
    a = mean_r * rng.uniform(0.8, 1.5, n)
    ids = rng.choice(MAX_ID, n, replace=False).astype(np.int64) + 1
    return Ellipses(
        image=np.full(n, image, np.int64),
        cy=rng.uniform(0, size, n),
        cx=rng.uniform(0, size, n),
        a=a,
        b=a * rng.uniform(0.5, 1.0, n),
        theta=rng.uniform(0, np.pi, n),
        value=ids,
        value2=ids.copy(),
    )


def _touching_pairs(target: Array) -> Array:
    """Pairs (smaller id, larger id) of different objects sharing an edge, unique."""
    keys = []
    for a, b in ((target[:, :-1], target[:, 1:]), (target[:-1], target[1:])):
        edge = (a != b) & (a > 0) & (b > 0)
        lo, hi = np.minimum(a[edge], b[edge]), np.maximum(a[edge], b[edge])
        keys.append(lo.astype(np.int64) << 16 | hi)
    key = np.unique(np.concatenate(keys))
    return np.stack([key >> 16, key & 0xFFFF], axis=1)


def _perturb(rng: np.random.Generator, e: Ellipses, target: Array, size: int) -> Ellipses:
    """The prediction's ellipses for one image: jittered, with misses, merges, splits, FPs."""
    n = e.value.size
    present = np.isin(e.value, target)
    role = np.zeros(n, np.int8)  # 0 plain, 1 missed, 2 split, 3 merged
    idx = rng.permutation(np.flatnonzero(present))
    n_miss, n_split, n_merge, n_fp = (int(rng.binomial(idx.size, RATE)) for _ in range(4))
    role[idx[:n_miss]] = 1
    role[idx[n_miss : n_miss + n_split]] = 2
    pid = np.arange(n, dtype=np.int64) + 1  # predicted object of each ellipse (merges share)
    order = np.argsort(e.value)
    pairs = _touching_pairs(target)
    pairs = order[np.searchsorted(e.value[order], pairs)]  # ids -> ellipse index
    merged = 0
    for i, j in pairs[rng.permutation(len(pairs))].tolist():
        if merged >= n_merge:
            break
        if role[i] == 0 and role[j] == 0:
            role[i] = role[j] = 3
            pid[j] = pid[i]
            merged += 1
    keep = role != 1
    second = np.where(role == 2, n + 1 + np.arange(n), pid)
    # false positives: smaller blobs anywhere (they take pixels from the objects they touch)
    fp = _random_ellipses(rng, int(e.image[0]), n_fp, size, 0.5 * float(np.mean(e.a)) / 1.15)
    jitter = Ellipses(
        image=e.image[keep],
        cy=(e.cy + rng.normal(0, 1.0, n))[keep],
        cx=(e.cx + rng.normal(0, 1.0, n))[keep],
        a=(e.a * rng.normal(1, 0.06, n))[keep],
        b=(e.b * rng.normal(1, 0.06, n))[keep],
        theta=(e.theta + rng.normal(0, 0.05, n))[keep],
        value=pid[keep],
        value2=second[keep],
    )
    fp.value = fp.value2 = 2 * n + 2 + np.arange(n_fp)
    return Ellipses.concat([jitter, fp])


def _new_ids(rngs: list[np.random.Generator], labels: Array) -> Array:
    """Relabel every image's objects with new random ids in 1..MAX_ID (0 stays 0)."""
    out = np.zeros_like(labels)
    for i, (rng, lab) in enumerate(zip(rngs, labels, strict=True)):
        old = np.flatnonzero(np.bincount(lab.ravel()))
        new = np.zeros(int(old[-1]) + 1, np.uint16)
        new[old] = rng.choice(MAX_ID, old.size, replace=False) + 1
        new[0] = 0
        out[i] = new[lab]
    return out


def make_objects(
    n_images: int,
    seed: int,
    *,
    size: int = 512,
    objects: tuple[int, int] = (100, 200),
    coverage: float = 0.7,
) -> tuple[Array, Array]:
    """Return ``(pred, target)``, uint16 ``(n_images, size, size)`` label maps (module doc)."""
    # one generator per image: image i is the same whatever n_images
    rngs = [np.random.default_rng([seed, i]) for i in range(n_images)]
    counts = [int(r.integers(objects[0], objects[1] + 1)) for r in rngs]
    truth = [
        _random_ellipses(r, i, c, size, _mean_radius(c, size, coverage))
        for i, (r, c) in enumerate(zip(rngs, counts, strict=True))
    ]
    target = render(Ellipses.concat(truth), n_images, size)
    guess = [
        _perturb(r, e, target[i], size) for i, (r, e) in enumerate(zip(rngs, truth, strict=True))
    ]
    pred = _new_ids(rngs, render(Ellipses.concat(guess), n_images, size))
    return pred, target


def make_w5(n_images: int = 100, seed: int = 5) -> tuple[Array, Array]:
    """W5, or its first ``n_images`` images (each image has its own seeded generator)."""
    return make_objects(n_images, seed)


def make_many(seed: int = 50) -> tuple[Array, Array]:
    """One 2048x2048 image with about 5,000 touching objects (pred, target), shape (2048, 2048)."""
    pred, target = make_objects(1, seed, size=2048, objects=(5000, 5000))
    return pred[0], target[0]

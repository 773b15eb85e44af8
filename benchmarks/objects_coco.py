"""COCO mask AP on W5-like data: segscore (overlap tables) against pycocotools (RLE + COCOeval).

Run: ``python -m benchmarks.objects_coco [--images 20] [--max-dets 1,10,1000] [--repeats 3]``.

Workload (seeded, generated in memory; CONVENTIONS-objects "W5"): label maps 512x512 with
100-200 touching ellipses each (ids random in 1..60000); the prediction redraws every ellipse
with jittered centre and radii, misses ~5%, merges ~5% with a touching neighbour, splits ~5%,
adds ~5% false-positive blobs on the background and relabels with new random ids; one random
detection score per predicted object.

Timed (median of ``--repeats``, ``time.perf_counter``):

- segscore ``coco_evaluate``: the overlap tables plus every threshold, size range and
  ``maxDets`` (what ``COCOeval.evaluate() + accumulate()`` compute); also the tables alone and
  ``coco_score_tables(..., ["ap"])`` (one size range and one ``maxDets``);
- pycocotools: RLE encoding (one ``mask.encode`` per object on a Fortran view), then
  ``COCO`` + ``loadRes`` + ``evaluate`` + ``accumulate`` (run once: it is slow).

The two precision arrays are compared (largest absolute difference printed).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from segscore.metrics.instance import coco_evaluate, coco_score_tables, overlap_table

SIZE = 512


def _ellipse(shape: tuple[int, int], centre, radii, angle: float):
    """The pixels (rows, cols) of a rotated ellipse, computed in its bounding box only."""
    r = max(radii) + 1
    r0, r1 = max(int(centre[0] - r), 0), min(int(centre[0] + r) + 1, shape[0])
    c0, c1 = max(int(centre[1] - r), 0), min(int(centre[1] + r) + 1, shape[1])
    if r0 >= r1 or c0 >= c1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    y, x = np.mgrid[r0:r1, c0:c1]
    dy, dx = y - centre[0], x - centre[1]
    cos, sin = np.cos(angle), np.sin(angle)
    u, v = cos * dy + sin * dx, -sin * dy + cos * dx
    inside = (u / radii[0]) ** 2 + (v / radii[1]) ** 2 <= 1
    return y[inside], x[inside]


def make_w5(n_images: int, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray], list]:
    """Targets, predictions (uint16 label maps) and detection scores (one array per image)."""
    rng = np.random.default_rng(seed)
    shape = (SIZE, SIZE)
    targets, preds, scores = [], [], []
    for _ in range(n_images):
        n = int(rng.integers(100, 201))
        centres = rng.uniform(0, SIZE, (n, 2))
        radii = rng.uniform(9, 24, (n, 2))
        angles = rng.uniform(0, np.pi, n)
        target = np.zeros(shape, np.int64)
        pred = np.zeros(shape, np.int64)
        for k in range(n):
            target[_ellipse(shape, centres[k], radii[k], angles[k])] = k + 1
            if rng.uniform() < 0.05:
                continue  # a miss
            jitter_c = centres[k] + rng.normal(0, 1.0, 2)
            jitter_r = radii[k] * rng.uniform(0.9, 1.1, 2)
            pred[_ellipse(shape, jitter_c, jitter_r, angles[k] + rng.normal(0, 0.1))] = k + 1
        next_id = n + 1
        ids = np.unique(pred)[1:]
        # merges: an object takes the id of a touching neighbour
        right = pred[:, 1:] != pred[:, :-1]
        pairs = np.stack([pred[:, :-1][right], pred[:, 1:][right]], axis=1)
        pairs = pairs[(pairs > 0).all(axis=1)]
        for a in rng.choice(ids, size=int(0.05 * ids.size), replace=False):
            partners = pairs[pairs[:, 0] == a, 1]
            if partners.size:
                pred[pred == a] = partners[0]
        # splits: the half of an object beyond its centre row becomes a new object
        for a in rng.choice(np.unique(pred)[1:], size=int(0.05 * ids.size), replace=False):
            rows, cols = np.nonzero(pred == a)
            half = rows > np.median(rows)
            pred[rows[half], cols[half]] = next_id
            next_id += 1
        # false-positive blobs on the background
        for _ in range(int(0.05 * n)):
            yy, xx = _ellipse(shape, rng.uniform(0, SIZE, 2), rng.uniform(4, 12, 2), 0.0)
            free = pred[yy, xx] == 0
            pred[yy[free], xx[free]] = next_id
            next_id += 1
        # new random ids, both sides
        for labels in (target, pred):
            old = np.unique(labels)
            new = np.zeros(old.size, np.int64)
            new[1:] = rng.choice(np.arange(1, 60001), size=old.size - 1, replace=False)
            labels[...] = new[np.searchsorted(old, labels)]
        targets.append(target.astype(np.uint16))
        preds.append(pred.astype(np.uint16))
        scores.append(rng.uniform(size=np.unique(pred).size - 1))
    return targets, preds, scores


def _encode(labels: np.ndarray, mask_util: Any) -> list[tuple[int, dict, int]]:
    """(id, RLE, area) per object: one mask.encode on a Fortran view of each object's mask."""
    transposed = np.ascontiguousarray(labels.T)
    out = []
    for i in np.unique(labels)[1:].tolist():
        mask = (transposed == i).view(np.uint8).T  # Fortran order, no copy
        out.append((i, mask_util.encode(mask), int(np.count_nonzero(mask))))
    return out


def _pycocotools(encoded_targets, encoded_preds, scores, max_dets, shape):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, detections = [], [], []
    for i, (gts, dts, sc) in enumerate(zip(encoded_targets, encoded_preds, scores, strict=True)):
        images.append({"id": i + 1, "height": shape[0], "width": shape[1]})
        for _, rle, area in gts:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": 1,
                    "segmentation": rle,
                    "area": area,
                    "iscrowd": 0,
                }
            )
        for (_, rle, _), s in zip(dts, sc, strict=True):
            detections.append(
                {"image_id": i + 1, "category_id": 1, "segmentation": rle, "score": float(s)}
            )
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations, "categories": [{"id": 1}]}
        gt.createIndex()
        dt = gt.loadRes(detections)
        ev = COCOeval(gt, dt, "segm")
        ev.params.maxDets = list(max_dets)
        ev.evaluate()
        ev.accumulate()
    return ev.eval["precision"][:, :, 0]


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--max-dets", default="1,10,1000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    max_dets = tuple(int(m) for m in args.max_dets.split(","))
    start = time.perf_counter()
    targets, preds, scores = make_w5(args.images, args.seed)
    n_gt = sum(np.unique(t).size - 1 for t in targets)
    n_dt = sum(s.size for s in scores)
    print(
        f"W5-like: {args.images} images {SIZE}x{SIZE}, {n_gt} target and {n_dt} predicted "
        f"objects (generated in {time.perf_counter() - start:.1f} s); maxDets {max_dets}; "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}"
    )
    pred, target = np.stack(preds), np.stack(targets)

    def tables():
        return overlap_table(pred, target)

    def full():
        return coco_evaluate(tables(), scores, max_detections=max_dets)

    def ap_only():
        return coco_score_tables(tables(), scores, ["ap"], max_detections=max_dets[-1])

    t_tables, _ = _time(tables, args.repeats)
    t_full, ev = _time(full, args.repeats)
    t_ap, s = _time(ap_only, args.repeats)
    rows = [
        ("segscore overlap tables", t_tables),
        ("segscore coco_evaluate (tables + all settings)", t_full),
        ("segscore AP only (tables + one setting)", t_ap),
    ]
    try:
        from pycocotools import mask as mask_util
    except ImportError:
        print("pycocotools is not installed: segscore only")
        mask_util = None
    if mask_util is not None:
        t_rle, encoded = _time(
            lambda: (
                [_encode(t, mask_util) for t in targets],
                [_encode(p, mask_util) for p in preds],
            ),
            1,
        )
        t_coco, precision = _time(
            lambda: _pycocotools(encoded[0], encoded[1], scores, max_dets, (SIZE, SIZE)), 1
        )
        rows += [
            ("pycocotools RLE encoding", t_rle),
            ("pycocotools COCOeval evaluate + accumulate", t_coco),
            ("pycocotools total (incl. RLE)", t_rle + t_coco),
        ]
        ours = ev.precision
        theirs = np.where(precision == -1, np.nan, precision)
        same_nan = bool((np.isnan(ours) == np.isnan(theirs)).all())
        diff = float(np.nanmax(np.abs(ours - theirs)))
    print(f"AP@[.5:.95] (all, maxDets {max_dets[-1]}) = {s['ap'].value:.6f}")
    width = max(len(r[0]) for r in rows)
    for name, ms in rows:
        print(f"  {name:<{width}}  {ms:10.1f} ms")
    if mask_util is not None:
        print(
            f"ratios: pycocotools excl. RLE / segscore coco_evaluate = {t_coco / t_full:.1f}x; "
            f"incl. RLE = {(t_rle + t_coco) / t_full:.1f}x; "
            f"incl. RLE / segscore AP only = {(t_rle + t_coco) / t_ap:.1f}x"
        )
        print(
            f"precision arrays: max |segscore - pycocotools| = {diff:.2e}, NaN/-1 same: {same_nan}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

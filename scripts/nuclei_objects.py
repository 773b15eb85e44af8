"""What pixel IoU hides on the built-in nuclei tiles: pixel IoU beside object F1 and merges.

Takes a run of ``segscore train nuclei`` (its validation tiles are those its seed held out),
predicts the 16 tiles, turns each mask into objects with connected components and with the
watershed (``segscore.predict.objects.mask_to_objects``) and prints, as a Markdown table, pixel
IoU, object F1@0.5 and the number of merged true nuclei for the validation tiles and for all
16 (13 of which the network was trained on). The last rows take the *true* foreground as the
mask: what the object step alone can do.

    segscore train nuclei --out runs/nuclei              # defaults: 60 epochs of batch 4
    .venv/bin/python scripts/nuclei_objects.py runs/nuclei [--min-size 0]
"""

from __future__ import annotations

import argparse
from typing import cast

import numpy as np
from numpy.typing import NDArray

from segscore._types import Aggregation
from segscore.data import load_dataset
from segscore.predict.inference import load_run, predict_probabilities
from segscore.predict.object_scores import PixelsAndObjects, pixels_and_objects
from segscore.predict.objects import OBJECT_METHODS, mask_to_objects
from segscore.predict.thresholds import to_mask


def _score(
    masks: NDArray[np.int64], truth: NDArray[np.int64], min_size: int, aggregation: Aggregation
) -> dict[str, PixelsAndObjects]:
    """Per object method: pixel IoU, object F1 and merged nuclei."""
    out: dict[str, PixelsAndObjects] = {}
    for method in OBJECT_METHODS:
        objects = np.stack([mask_to_objects(m, method=method, min_size=min_size) for m in masks])
        out[method] = pixels_and_objects(objects, truth, aggregation=aggregation)
    return out


def _row(label: str, n_tiles: int, results: dict[str, PixelsAndObjects]) -> str:
    comp, ws = results["components"], results["watershed"]
    return (
        f"| {label} | {n_tiles} | {comp.n_target} | {comp.pixel_iou.value:.3f} | "
        f"{comp.object_f1.value:.3f} ({comp.tp}/{comp.n_target}) | "
        f"{ws.object_f1.value:.3f} ({ws.tp}/{ws.n_target}) | "
        f"{comp.n_merged} | {ws.n_merged} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run folder of `segscore train nuclei`")
    parser.add_argument("--min-size", type=int, default=0, help="mask_to_objects min_size")
    parser.add_argument(
        "--aggregation",
        choices=("images_then_classes", "pooled"),
        default="images_then_classes",
        help="mean over tiles (as training reports IoU), or counts pooled over tiles",
    )
    args = parser.parse_args(argv)
    data = load_dataset("nuclei")
    assert data.instances is not None
    loaded = load_run(args.run)
    config = loaded.config
    _, val = data.split(float(config.get("val_fraction", 0.2)), rng=int(config.get("seed", 0)))
    probs = predict_probabilities(loaded.model, data.images)
    masks = np.stack([to_mask(p, threshold=loaded.threshold) for p in probs]).astype(np.int64)
    truth = np.stack(data.instances)
    val_idx = [data.names.index(name) for name in val.names]
    print(
        f"run {args.run}: validation tiles {', '.join(val.names)}; aggregation {args.aggregation}"
    )
    print()
    print(
        "| masks | tiles | nuclei | pixel IoU | F1@0.5 components (matched) | "
        "F1@0.5 watershed (matched) | merged nuclei, components | merged nuclei, watershed |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows: list[tuple[str, NDArray[np.int64], NDArray[np.int64]]] = [
        ("predicted, validation", masks[val_idx], truth[val_idx]),
        ("predicted, all 16", masks, truth),
        ("true foreground, validation", (truth[val_idx] > 0).astype(np.int64), truth[val_idx]),
        ("true foreground, all 16", (truth > 0).astype(np.int64), truth),
    ]
    aggregation = cast(Aggregation, args.aggregation)
    for label, m, t in rows:
        print(_row(label, len(m), _score(m, t, args.min_size, aggregation)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``segscore predict RUN IMAGES --out PRED``: probabilities, then masks at the threshold."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from segscore.errors import InputError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``predict`` subcommand."""
    p = subparsers.add_parser(
        "predict",
        help="predict masks for images with a trained run",
        description=(
            "Run the network of RUN on IMAGES (a folder or one file) and write one mask PNG per "
            "input into PRED, with the input's stem ({0, 1}, or class labels). Probability maps "
            "go to PRED/probs/ with --save-probs (binary: (H, W); classes: (K, H, W))."
        ),
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `segscore train`")
    p.add_argument("images", metavar="IMAGES", help="image file or folder of images")
    p.add_argument("--out", required=True, metavar="PRED", help="output folder")
    p.add_argument(
        "--threshold", type=float, default=None, help="mask threshold (default: the run's, 0.5)"
    )
    p.add_argument(
        "--threshold-from",
        default=None,
        metavar="EVAL_RUN",
        help="use the threshold chosen on a validation set: EVAL_RUN's summary.json "
        "threshold_sweep.best_threshold (segscore evaluate on probability maps); not with "
        "--threshold",
    )
    p.add_argument(
        "--save-probs", choices=("npy", "tiff"), default=None, help="also write probability maps"
    )
    p.add_argument("--batch-size", type=int, default=8, help="images per forward pass")
    p.set_defaults(func=run)


def load_input(path: Path, in_channels: int) -> Any:
    """Read an image file and scale it to float32 (C, H, W) in [0, 1] for a C-channel network."""
    import numpy as np

    from segscore.data.normalize import to_unit_range
    from segscore.io.images import read_image

    image = to_unit_range(read_image(path))
    c = int(image.shape[0])
    if c == in_channels:
        return image
    if in_channels == 1 and c == 3:
        return image.mean(axis=0, keepdims=True, dtype=np.float32)
    if in_channels == 3 and c == 1:
        return np.repeat(image, 3, axis=0)
    raise InputError(
        f"image {str(path)!r} must have {in_channels} channel(s) like the training data, got {c}."
    )


def run(args: argparse.Namespace) -> int:
    """Run ``segscore predict``."""
    import torch

    from segscore.cli.train import make_console
    from segscore.io.images import list_input_images, write_mask_png, write_probabilities
    from segscore.predict.inference import load_run, predict_probabilities
    from segscore.predict.thresholds import to_mask
    from segscore.train.seeding import default_threads

    if args.batch_size < 1:
        raise InputError(f"`--batch-size` must be an integer >= 1, got {args.batch_size}.")
    source = ""
    if args.threshold_from is not None:
        from segscore.evaluation.thresholds import threshold_from_run

        if args.threshold is not None:
            raise InputError(
                f"`--threshold` must not be combined with `--threshold-from`, got {args.threshold}."
            )
        chosen = threshold_from_run(args.threshold_from, option="--threshold-from")
        args.threshold, source = chosen.threshold, f" (chosen on {chosen.source})"
    files = list_input_images(args.images, name="IMAGES")
    loaded = load_run(args.run_dir)
    threshold = loaded.threshold if args.threshold is None else args.threshold
    out = Path(args.out)
    console = make_console()
    torch.set_num_threads(default_threads())
    images = [load_input(f, loaded.in_channels) for f in files]
    probs = predict_probabilities(loaded.model, images, batch_size=args.batch_size)
    if args.threshold is not None and probs and probs[0].shape[0] > 1:
        raise InputError(
            f"`{'--threshold-from' if source else '--threshold'}` applies to binary runs, got a "
            f"run with {probs[0].shape[0]} classes "
            "(its masks are the arg-max over the class probabilities)."
        )
    for f, p in zip(files, probs, strict=True):
        write_mask_png(out / f"{f.stem}.png", to_mask(p, threshold=threshold))
        if args.save_probs is not None:
            # In their own folder, so that `segscore evaluate --pred PRED` sees one file per stem
            # and `--pred PRED/probs` scores the probabilities (with the threshold sweep).
            suffix = ".npy" if args.save_probs == "npy" else ".tiff"
            prob = p[0] if p.shape[0] == 1 else p  # binary: (H, W), like its mask
            write_probabilities(out / "probs" / f"{f.stem}{suffix}", prob, fmt=args.save_probs)
    what = "masks" + (
        "" if args.save_probs is None else f" and {args.save_probs} probabilities (in probs/)"
    )
    console.print(
        f"predicted {len(files)} image(s) with {loaded.path} at threshold {threshold:g}{source}; "
        f"wrote {what} to {out}"
    )
    return 0

"""``segscore predict RUN IMAGES --out PRED``: probabilities, masks at the threshold, objects.

With ``--instances components|watershed`` each binary mask is also turned into objects
(:func:`segscore.predict.objects.mask_to_objects`) and written as a 16-bit instance label map to
``PRED/instances/<stem>.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from segscore._types import Comparison
from segscore.errors import InputError
from segscore.predict.objects import DEFAULT_MIN_DISTANCE, OBJECT_METHODS

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``predict`` subcommand."""
    p = subparsers.add_parser(
        "predict",
        help="predict masks for images with a trained run",
        description=(
            "Run the network of RUN on IMAGES (a folder or one file) and write one mask PNG per "
            "input into PRED, with the input's stem ({0, 1}, or class labels). Probability maps "
            "go to PRED/probs/ with --save-probs (binary: (H, W); classes: (K, H, W)). With "
            "--instances (binary runs), each mask is also split into objects, written as 16-bit "
            "instance label maps (0 = background, objects 1..n) to PRED/instances/: "
            "'components' makes each connected region one object; 'watershed' splits touching "
            "objects at their necks (a watershed on the distance transform of the mask)."
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
    p.add_argument(
        "--instances",
        choices=OBJECT_METHODS,
        default=None,
        help="also write instance label maps (16-bit PNG) to PRED/instances/",
    )
    p.add_argument(
        "--min-size",
        type=int,
        default=None,
        help="with --instances: remove objects of fewer pixels (default 0: keep all)",
    )
    p.add_argument(
        "--min-distance",
        type=int,
        default=None,
        help=f"with --instances watershed: pixels between seeds (default {DEFAULT_MIN_DISTANCE})",
    )
    p.set_defaults(func=run)


def check_object_options(args: argparse.Namespace) -> None:
    """Refuse object options that do not apply, before any image is read or predicted."""
    if args.instances is None:
        for flag, value in (("--min-size", args.min_size), ("--min-distance", args.min_distance)):
            if value is not None:
                raise InputError(f"`{flag}` applies only with `--instances`, got {flag} {value}.")
        return
    if args.min_distance is not None and args.instances != "watershed":
        raise InputError(
            "`--min-distance` applies only to `--instances watershed`, "
            f"got --instances {args.instances}."
        )
    for flag, value in (("--min-size", args.min_size), ("--min-distance", args.min_distance)):
        if value is not None and value < 0:
            raise InputError(f"`{flag}` must be an integer >= 0, got {value}.")


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


def _check_inputs_kept(files: list[Path], out: Path) -> None:
    """Refuse an ``--out`` where a mask would be written over one of the input images."""
    inputs = {f.resolve() for f in files}
    for f in files:
        target = (out / f"{f.stem}.png").resolve()
        if target in inputs:
            raise InputError(
                f"`--out` must not hold the input images: the mask of {f.name!r} would be "
                f"written over the input {str(target)!r}; choose another folder."
            )


def run(args: argparse.Namespace) -> int:
    """Run ``segscore predict``."""
    import torch

    from segscore import __version__
    from segscore.cli.train import make_console
    from segscore.io.images import list_input_images, write_mask_png, write_probabilities
    from segscore.io.instances import write_instances
    from segscore.io.results import check_writable_folder, write_json
    from segscore.predict.inference import load_run, predict_probabilities
    from segscore.predict.objects import mask_to_objects
    from segscore.predict.thresholds import to_mask
    from segscore.train.seeding import default_threads

    if args.batch_size < 1:
        raise InputError(f"`--batch-size` must be an integer >= 1, got {args.batch_size}.")
    if args.threshold is not None:  # before the network runs, named as the flag
        from segscore._validation import check_number

        check_number(
            "--threshold", args.threshold, low=0, high=1, low_inclusive=False, high_inclusive=False
        )
    source = ""
    chosen_from: dict[str, Any] | None = None
    rule: Comparison = ">="
    if args.threshold_from is not None:
        from segscore.evaluation.thresholds import threshold_from_run

        if args.threshold is not None:
            raise InputError(
                f"`--threshold` must not be combined with `--threshold-from`, got {args.threshold}."
            )
        chosen = threshold_from_run(args.threshold_from, option="--threshold-from")
        args.threshold, source = chosen.threshold, f" (chosen on {chosen.source})"
        chosen_from = chosen.as_dict()
        rule = chosen.comparison  # the rule the threshold was best under
    check_object_options(args)
    files = list_input_images(args.images, name="IMAGES")
    out = check_writable_folder(args.out, option="--out")  # before the network runs
    _check_inputs_kept(files, out)
    loaded = load_run(args.run_dir)
    threshold = loaded.threshold if args.threshold is None else args.threshold
    console = make_console()
    torch.set_num_threads(default_threads())
    images = [load_input(f, loaded.in_channels) for f in files]
    probs = predict_probabilities(loaded.model, images, batch_size=args.batch_size)
    n_classes = int(probs[0].shape[0]) if probs else 1
    if args.threshold is not None and n_classes > 1:
        raise InputError(
            f"`{'--threshold-from' if source else '--threshold'}` applies to binary runs, got a "
            f"run with {n_classes} classes "
            "(its masks are the arg-max over the class probabilities)."
        )
    if args.instances is not None and n_classes > 1:
        raise InputError(
            f"`--instances` applies to binary runs, got a run with {n_classes} classes."
        )
    n_objects = 0
    for f, p in zip(files, probs, strict=True):
        mask = to_mask(p, threshold=threshold, threshold_comparison=rule)
        write_mask_png(out / f"{f.stem}.png", mask)
        if args.instances is not None:
            objects = mask_to_objects(
                mask,
                method=args.instances,
                min_size=0 if args.min_size is None else args.min_size,
                min_distance=args.min_distance,
            )
            # In their own folder, like probs/: `segscore evaluate --pred PRED` keeps one file
            # per stem, and `--pred PRED/instances` finds the label maps.
            write_instances(out / "instances" / f"{f.stem}.png", objects)
            n_objects += int(objects.max())
        if args.save_probs is not None:
            # In their own folder, so that `segscore evaluate --pred PRED` sees one file per stem
            # and `--pred PRED/probs` scores the probabilities (with the threshold sweep).
            suffix = ".npy" if args.save_probs == "npy" else ".tiff"
            prob = p[0] if p.shape[0] == 1 else p  # binary: (H, W), like its mask
            write_probabilities(out / "probs" / f"{f.stem}{suffix}", prob, fmt=args.save_probs)
    # How the masks were made, beside them (evaluate skips the .json: not a mask file).
    write_json(
        out / "predict.json",
        {
            "segscore_version": __version__,
            "run": str(loaded.path),
            "images": str(args.images),
            "n_images": len(files),
            "threshold": threshold if n_classes == 1 else None,
            "threshold_source": chosen_from,
            "threshold_comparison": rule if n_classes == 1 else None,
            "masks": f"probability {rule} threshold" if n_classes == 1 else "arg-max over classes",
            "instances": None
            if args.instances is None
            else {
                "method": args.instances,
                "min_size": 0 if args.min_size is None else args.min_size,
                "min_distance": args.min_distance,
            },
            "probabilities": args.save_probs,
        },
    )
    what = "masks" + (
        "" if args.save_probs is None else f" and {args.save_probs} probabilities (in probs/)"
    )
    if args.instances is not None:
        what += f" and {n_objects} objects by {args.instances} (in instances/)"
    console.print(
        f"predicted {len(files)} image(s) with {loaded.path} at threshold {threshold:g}{source}; "
        f"wrote {what} and predict.json (how they were made) to {out}"
    )
    return 0

"""``segscore trace RUN IMAGE [--mask MASK] [--out PNG]``: every stage of one prediction."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from segscore._validation import check_number
from segscore.errors import InputError

__all__ = ["add_parser", "run", "trace_lines", "trace_stages"]


def add_parser(subparsers: Any) -> None:
    """Register the ``trace`` subcommand."""
    p = subparsers.add_parser(
        "trace",
        help="show each stage of one prediction (shapes, ranges, picture)",
        description=(
            "Follow one image through the pipeline: raw input, [0, 1] scaling, padding, each "
            "encoder block, bottleneck and decoder block, logits, sigmoid (or softmax), threshold, "
            "and IoU and Dice when a mask is given. Prints shape, dtype and value range of each "
            "step and, with --out, writes a PNG with one panel per stage."
        ),
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `segscore train`")
    p.add_argument("image", metavar="IMAGE", help="image file")
    p.add_argument("--mask", default=None, help="true mask of the image (for IoU and Dice)")
    p.add_argument(
        "--mask-layout",
        choices=("binary", "instances"),
        default=None,
        help="binary runs: read --mask as {0, 1}/{0, 255} or as an instance label map, scored on "
        "its foreground id > 0 (default: the run's layout)",
    )
    p.add_argument("--out", default=None, metavar="PNG", help="write the stage picture here")
    p.add_argument("--threshold", type=float, default=None, help="default: the run's threshold")
    p.set_defaults(func=run)


def trace_stages(model: Any, image: Any, threshold: float) -> list[tuple[str, Any]]:
    """Network stages of one (C, H, W) image, then probabilities and the mask (numpy arrays)."""
    import numpy as np
    import torch

    from segscore.model import activate
    from segscore.predict.thresholds import to_mask

    x = torch.from_numpy(np.ascontiguousarray(image)[None])
    with torch.inference_mode():
        if hasattr(model, "stages"):
            stages = [(n, t[0].numpy().copy()) for n, t in model.stages(x)]
            logits = torch.from_numpy(stages[-1][1][None])
        else:
            logits = model(x)
            stages = [("input", image), ("logits", logits[0].numpy().copy())]
        probs = activate(model, logits)[0].numpy()
    name = "sigmoid" if probs.shape[0] == 1 else "softmax"
    mask = to_mask(probs, threshold=threshold)
    step = f"threshold {threshold:g}" if probs.shape[0] == 1 else "argmax"
    return [*stages, (name, probs), (step, mask)]


def trace_lines(
    stages: list[tuple[str, Any]],
    truth: Any = None,
    *,
    against: str = "the true mask",
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> list[str]:
    """Return the prediction trace as text: one line per stage, then the scores.

    Each stage gives its shape, dtype, min, max and mean; with the true mask ``truth``, a last
    line gives IoU, Dice and pixel accuracy of the last stage (the mask) against it.
    """
    from segscore.predict.evaluation import evaluate_masks
    from segscore.report.training import stage_lines

    lines = stage_lines(stages)
    if truth is not None:
        ev = evaluate_masks(
            [stages[-1][1]], [truth], num_classes=num_classes, ignore_index=ignore_index
        )
        width = max(11, *(len(name) + 1 for name, _ in stages))
        lines.append(
            f"{'scores':<{width}} IoU {ev.iou.value:.4f}  Dice {ev.dice.value:.4f}  "
            f"pixel accuracy {ev.accuracy.value:.4f} (against {against})"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    """Run ``segscore trace``."""
    import numpy as np

    from segscore.cli.predict import load_input
    from segscore.cli.train import make_console
    from segscore.io.images import read_image, read_mask
    from segscore.model import model_spec
    from segscore.predict.inference import load_run
    from segscore.report.training import stages_picture

    if args.threshold is not None:
        check_number(
            "--threshold", args.threshold, low=0, high=1, low_inclusive=False, high_inclusive=False
        )
    if args.out is not None:  # before the network runs
        from segscore.io.results import check_writable_file

        check_writable_file(args.out, option="--out", suffix=".png")
    path = Path(args.image)
    raw = read_image(path)
    loaded = load_run(args.run_dir)
    threshold = loaded.threshold if args.threshold is None else float(args.threshold)
    image = load_input(path, loaded.in_channels)
    truth = None
    n_classes = loaded.config.get("num_classes")
    if args.mask_layout is not None and n_classes is not None:
        raise InputError(
            f"`--mask-layout` applies to binary runs, got a run with {n_classes} classes."
        )
    if args.mask is not None:
        layout = args.mask_layout
        if layout is None:
            layout = "instances" if loaded.config.get("layout") == "instances" else "binary"
        truth = read_mask(
            args.mask,
            layout="multiclass" if n_classes is not None else layout,
            num_classes=n_classes,
        )
        if truth.shape != image.shape[1:]:
            from segscore.errors import DatasetError

            raise DatasetError(
                f"mask {args.mask!r} must have the image's size {image.shape[1:]}, got {truth.shape}."
            )
    stages = trace_stages(loaded.model, image, threshold)
    stages = [("raw", raw), ("[0,1] input", image), *stages[1:]]
    console = make_console()
    console.print(
        f"trace of {path.name} through {loaded.path} ({model_spec(loaded.model)['arch']})"
    )
    against = None if args.mask is None else Path(args.mask).name
    lines = trace_lines(
        stages,
        truth,
        against=str(against),
        num_classes=loaded.config.get("num_classes"),
        ignore_index=loaded.config.get("ignore_index"),
    )
    for line in lines:
        console.print("  " + line, markup=False)
    if truth is not None:
        stages.append(("true mask", np.asarray(truth)))
    if args.out is not None:
        import io

        from segscore.io.results import atomic_write_bytes

        buffer = io.BytesIO()
        stages_picture(stages).save(buffer, format="PNG")
        atomic_write_bytes(args.out, buffer.getvalue())
        console.print(f"wrote {args.out} ({len(stages)} panels)")
    return 0

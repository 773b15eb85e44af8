"""``segscore demo``: the whole pipeline on built-in synthetic data, in one command.

Trains a U-Net on its own generated training set (seed ``S + 1``), then predicts and scores 100
held-out images (seed ``S``), printing each of the five stages: input, preprocessing, model,
thresholding and evaluation. Everything is written into the output folder.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segscore.data.dataset import SegmentationDataset
    from segscore.train.config import TrainConfig

__all__ = ["DEMO_DEFAULTS", "add_parser", "run"]

DEMO_DEFAULTS: dict[str, Any] = {
    "n_train": 320,
    "n_test": 100,
    "size": 128,
    "epochs": 7,
    "batch_size": 8,
    "lr": 3e-3,
    "base_channels": 8,
    "depth": 3,
    "stem": "space_to_depth",
    "soft_dice": "per_image",
    "micro_batches": 2,
    "val_fraction": 0.1,
}
"""Demo settings, tuned to finish within 30 s on two CPU cores (docs/benchmarks.md, "The demo in
30 s, session 7").

The U-Net folds 2x2 pixels into channels (``stem="space_to_depth"``: about a third of the classic
U-Net's time per step), the loss averages each image's soft Dice (the way the evaluation averages
IoU over images, so the images of a few small objects count), and every batch trains as two
micro-batches at once, one per core: the held-out result is the same bits with any number of
threads. ``--stem conv --soft-dice pooled --micro-batches 1 --epochs 6`` is the demo of
segscore 0.1 before session 7 (held-out IoU 0.8783 with 2 threads, about twice the time).
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="train, predict and score on built-in synthetic data (the whole pipeline)",
        description=(
            "Generate a training set and 100 held-out test images (different seeds), train a "
            "U-Net, predict the test masks and score every image: 100 IoU and 100 Dice scores with "
            "pixel accuracy beside them. Prints each stage and the prediction trace of one "
            "held-out image (every layer: shape and value range); writes per_case.csv, "
            "summary.json, report.html, the training trace (trace.csv), the layer-by-layer "
            "trace (stages.png, stages.csv), the checkpoint and the predicted masks into --out."
        ),
    )
    p.add_argument("--out", default="segscore-demo", metavar="DIR", help="output folder")
    p.add_argument("--epochs", type=int, default=DEMO_DEFAULTS["epochs"], help="training epochs")
    p.add_argument("--seed", type=int, default=0, help="test-set seed (training uses seed + 1)")
    p.add_argument("--n-train", type=int, default=DEMO_DEFAULTS["n_train"], help="training images")
    p.add_argument("--n-test", type=int, default=DEMO_DEFAULTS["n_test"], help="test images")
    p.add_argument("--size", type=int, default=DEMO_DEFAULTS["size"], help="image side")
    p.add_argument(
        "--stem",
        choices=("conv", "space_to_depth"),
        default=DEMO_DEFAULTS["stem"],
        help="U-Net stem (default %(default)s: 2x2 pixels folded into channels, all blocks at "
        "half resolution or less; conv: the classic U-Net, about 3x the time per step)",
    )
    p.add_argument(
        "--soft-dice",
        choices=("pooled", "per_image"),
        default=DEMO_DEFAULTS["soft_dice"],
        help="the loss's soft Dice: the mean of each image's (default) or one over the batch",
    )
    p.add_argument(
        "--micro-batches",
        type=int,
        default=DEMO_DEFAULTS["micro_batches"],
        help="micro-batches per batch, trained at once, one thread each (default %(default)s); "
        "from 2 on the result does not depend on the thread count",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads (default: all cores). With 2 or more micro-batches training uses "
        "min(micro-batches, threads) of them and the result is the same bits for any thread "
        "count on one kind of CPU; with 1, all of them, and the bits depend on the count",
    )
    p.set_defaults(func=run)


def _rule(console: Any, title: str) -> None:
    console.print(f"\n[bold]{title}[/bold]")


class _Drawing:
    """Synthetic sets being drawn, here or in a forked process; :meth:`result` hands them over.

    Parameters
    ----------
    specs : sequence of (n, size, seed)
        The sets, as :func:`~segscore.data.make_synthetic` arguments.
    threads : int
        Cores the demo may use.

    Notes
    -----
    While torch is not imported, no other thread runs and a second core is free
    (``threads >= 2``), the sets are drawn in a forked process, so that importing torch (about
    2 s) and drawing the demo's 420 images (about 3 s with scipy's import) overlap: the demo
    imports torch right after making this object. Otherwise they are drawn in this process on
    ``threads`` threads when :meth:`result` is called. The arrays are the same either way: every
    image comes from its own child seed. :meth:`close` stops the drawing when the demo ends
    early.

    Examples
    --------
    >>> first, second = _Drawing([(2, 16, 0), (1, 16, 5)], threads=1).result()
    >>> first.source, second.source
    ('synthetic(n=2,size=16,seed=0)', 'synthetic(n=1,size=16,seed=5)')
    """

    def __init__(self, specs: Sequence[tuple[int, int, int]], *, threads: int) -> None:
        import multiprocessing
        import sys
        import threading

        self.specs, self.threads = list(specs), threads
        self.pool: Any = None
        if (
            threads < 2
            or "torch" in sys.modules  # OpenMP's threads do not survive a fork
            or threading.active_count() > 1  # nor would another thread's locks
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            return
        import signal
        from concurrent.futures import ProcessPoolExecutor

        from segscore.data import make_synthetic

        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=signal.signal,  # Ctrl-C is the main process's to report, in one line
            initargs=(signal.SIGINT, signal.SIG_IGN),
        )
        self.futures = [self.pool.submit(make_synthetic, n, sz, seed=s) for n, sz, s in specs]

    def result(self) -> list[SegmentationDataset]:
        """Return the sets, in the order asked for."""
        if self.pool is None:
            from segscore.data import make_synthetic

            return [
                make_synthetic(n, size, seed=seed, workers=self.threads)
                for n, size, seed in self.specs
            ]
        try:
            return [f.result() for f in self.futures]
        finally:
            self.pool.shutdown(wait=True)  # done drawing: the process exits at once
            self.pool = None

    def close(self) -> None:
        """Stop the drawing process, if any, without waiting for it (again: nothing happens)."""
        if self.pool is not None:
            processes = list(getattr(self.pool, "_processes", {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:  # it ignores Ctrl-C; the demo ends here, so must it
                process.terminate()
            self.pool = None


def run(args: argparse.Namespace) -> int:
    """Run ``segscore demo``."""
    t_start = time.perf_counter()
    from segscore._validation import check_int
    from segscore.train.config import TrainConfig
    from segscore.train.threads import default_threads

    for name in ("epochs", "n_train", "n_test", "micro_batches"):
        check_int(f"--{name.replace('_', '-')}", getattr(args, name), low=1)
    check_int("--size", args.size, low=16)
    check_int("--seed", args.seed, low=0)
    if args.threads is not None:
        check_int("--threads", args.threads, low=1)
    threads = default_threads() if args.threads is None else args.threads
    d = DEMO_DEFAULTS
    config = TrainConfig(
        data="synthetic",
        n=args.n_train,
        size=args.size,
        seed=args.seed + 1,
        epochs=args.epochs,
        batch_size=d["batch_size"],
        lr=d["lr"],
        base_channels=d["base_channels"],
        depth=d["depth"],
        stem=args.stem,
        soft_dice=args.soft_dice,
        micro_batches=args.micro_batches,
        val_fraction=d["val_fraction"],
        threads=threads,
    )
    # Training uses seed + 1, the held-out test set seed: drawn while torch is imported.
    drawn = _Drawing(
        [(args.n_train, args.size, config.seed), (args.n_test, args.size, args.seed)],
        threads=threads,
    )
    try:
        return _run(args, config, drawn, t_start)
    finally:
        drawn.close()


def _run(args: argparse.Namespace, config: TrainConfig, drawn: _Drawing, t_start: float) -> int:
    """Run the demo once its options are checked and its images are being drawn."""
    from segscore.train.threads import passive_openmp_waits

    threads = config.threads
    passive_openmp_waits()  # before torch is imported
    import numpy as np
    import torch

    from segscore import __version__
    from segscore.cli.trace import trace_lines, trace_stages
    from segscore.cli.train import describe_model, make_console, train_with_progress
    from segscore.data import to_unit_range
    from segscore.io.images import write_mask_png
    from segscore.io.results import atomic_write_bytes, write_csv
    from segscore.model.unet import padding_multiple
    from segscore.predict.inference import predict_probabilities
    from segscore.predict.thresholds import to_mask
    from segscore.report.training import (
        STAGE_COLUMNS,
        describe_array,
        loss_chart,
        stage_records,
        stages_picture,
    )

    out = Path(args.out)
    console = make_console()
    torch.set_num_threads(threads)
    d = DEMO_DEFAULTS

    console.print(
        f"segscore {__version__} demo: train a U-Net on synthetic data, score {args.n_test} "
        f"held-out images ({threads} CPU thread(s))"
    )

    # 1 Input -----------------------------------------------------------------------------
    _rule(console, "1 Input")
    marks = {"start": t_start}  # perf_counter when each part ends, in the order of the demo
    train_data, test = drawn.result()
    marks["start-up and data"] = time.perf_counter()
    img0, mask0 = test.images[0], test.masks[0]
    fg = float(np.mean([m.mean() for m in test.masks]))
    console.print(
        f"  training set  {len(train_data)} images (seed {config.seed}); test set "
        f"{len(test)} held-out images (seed {args.seed}), never seen in training"
    )
    console.print(f"  image  {test.names[0]}: {describe_array(img0)}")
    console.print(
        f"  mask   {test.names[0]}: {describe_array(mask0)}, values {np.unique(mask0).tolist()}; "
        f"foreground {100 * fg:.1f}% of pixels on average"
    )

    # 2 Preprocessing ---------------------------------------------------------------------
    _rule(console, "2 Preprocessing")
    raw = np.round(img0[0] * 255).astype(np.uint8)  # the image as an 8-bit file would hold it
    r, c = np.unravel_index(int(np.argmax(mask0)), mask0.shape)
    unit = to_unit_range(raw)
    console.print(
        f"  to_unit_range: 8-bit {describe_array(raw)} -> {describe_array(unit)}; "
        f"pixel {int(raw[r, c])} -> {float(unit[0, r, c]):.2f} (value / 255)"
    )
    m = padding_multiple(d["depth"], args.stem)
    console.print(
        f"  any size: the model pads to a multiple of {m} (reflect) and crops back, "
        f"e.g. 37x53 -> {-(-37 // m) * m}x{-(-53 // m) * m} -> 37x53; "
        f"{args.size}x{args.size} needs {(-args.size) % m} px"
    )

    # 3 Model + training ------------------------------------------------------------------
    _rule(console, "3 Model")
    train_set, val_set = train_data.split(config.val_fraction, rng=config.seed)
    console.print(f"  {describe_model(config, train_data.in_channels)}")
    console.print(
        f"  training: {len(train_set)} images, {len(val_set)} for validation, {config.epochs} epochs, "
        f"batch {config.batch_size}"
        + (f" in {config.micro_batches} micro-batches" if config.micro_batches > 1 else "")
        + f", Adam lr {config.lr:g}, loss BCE + soft Dice "
        f"({config.soft_dice.replace('_', ' ')}), seed {config.seed}"
    )
    marks["model"] = time.perf_counter()
    trained = train_with_progress(config, train_set, val_set, out, console)
    marks["training"] = time.perf_counter()
    console.print(loss_chart([rec.train_loss for rec in trained.history], label="train loss"))
    model = trained.model
    result_seconds = trained.seconds

    # 4 Thresholding ----------------------------------------------------------------------
    _rule(console, "4 Thresholding")
    probs = predict_probabilities(model, test.images, batch_size=16)
    masks = [to_mask(p, threshold=config.threshold) for p in probs]
    p0 = probs[0][0]
    examples = []
    for want in (0.8, 0.2):  # the pixels of the first image closest to these probabilities
        at = np.unravel_index(int(np.argmin(np.abs(p0 - want))), p0.shape)
        examples.append(f"{float(p0[at]):.2f} -> {int(masks[0][at])}")
    console.print(f"  probabilities {describe_array(np.stack(probs))}")
    console.print(
        f"  masks at threshold {config.threshold:g} (p >= t is foreground): "
        f"{describe_array(np.stack(masks))}; {', '.join(examples)}"
    )
    for name, mask in zip(test.names, masks, strict=True):
        write_mask_png(out / "masks" / f"{name}.png", mask)

    # 5 Evaluation ------------------------------------------------------------------------
    marks["prediction"] = time.perf_counter()
    _rule(console, "5 Evaluation")
    from segscore.evaluation.folder import evaluate_arrays
    from segscore.evaluation.outputs import write_outputs

    result = evaluate_arrays(
        np.stack(masks),
        np.stack(test.masks),
        metrics="iou,dice,accuracy",
        names=list(test.names),
        inputs={"pred": f"{out}/masks (the U-Net at threshold {config.threshold:g})", "gt": "test"},
    )
    n = len(test.names)
    console.print(
        f"  {n} images -> {n} IoU and {n} Dice scores (segscore.evaluation.evaluate_arrays: "
        "segscore.confusion + segscore.score)"
    )
    console.print(f"  {'':<16}{'mean':>8}{'median':>8}{'min':>8}{'max':>8}")
    metrics = result.summary["metrics"]
    for key, label in (("iou", "IoU"), ("dice", "Dice"), ("accuracy", "pixel accuracy")):
        s = metrics[key]
        console.print(
            f"  {label:<16}{s['mean']:>8.4f}{s['median']:>8.4f}{s['min']:>8.4f}{s['max']:>8.4f}"
        )
    iou, acc = result.scores["iou"].per_image, result.scores["accuracy"].per_image
    gap = np.where(np.isnan(iou), -np.inf, acc - iou)
    k = int(np.argmax(gap))
    console.print(
        f"  {test.names[k]}: pixel accuracy {acc[k]:.3f} but IoU {iou[k]:.3f}, Dice "
        f"{result.scores['dice'].per_image[k]:.3f} -> overlap scores show what pixel accuracy hides"
    )
    conv = result.scores["iou"].conventions
    console.print(
        f"  conventions: threshold {config.threshold:g} (p >= t), empty policy: both masks empty -> "
        f"nan (excluded, {metrics['iou']['n_nan']} images), aggregation {conv.aggregation!r} "
        f"(as every command), segscore {conv.version}"
    )
    # The prediction trace of one held-out image: the code of `segscore trace` ----------------
    marks["evaluation"] = time.perf_counter()
    _rule(console, f"Prediction trace of {test.names[0]} (held out), layer by layer")
    stages = trace_stages(model, img0, config.threshold)
    for line in trace_lines(stages, mask0, against=f"the true mask of {test.names[0]}"):
        console.print("  " + line, markup=False)
    import io as _io

    buffer = _io.BytesIO()
    stages_picture([*stages, ("true mask", mask0)]).save(buffer, format="PNG")
    atomic_write_bytes(out / "stages.png", buffer.getvalue())
    write_csv(out / "stages.csv", stage_records(stages), STAGE_COLUMNS)
    for line in (
        f"layer by layer: {out / 'stages.png'} (one panel per stage), {out / 'stages.csv'} "
        "(these lines)",
        f"per epoch: {out / 'trace.csv'}, {out / 'trace.json'} (the training trace)",
        f"again for any image: segscore trace {out} IMAGE --mask MASK --out stages.png",
    ):
        console.print("  " + line, markup=False)
    marks["trace"] = time.perf_counter()
    names = list(marks)
    parts = {b: round(marks[b] - marks[a], 2) for a, b in itertools.pairwise(names)}
    result.summary["demo"] = {
        "accuracy_hides": {"name": test.names[k], "accuracy": acc[k], "iou": iou[k]},
        "threshold": config.threshold,
        "train": {"config": config.to_dict(), "seconds": round(sum(result_seconds), 2)},
        "test": {"n": args.n_test, "size": args.size, "seed": args.seed},
        "seconds": parts | {"total before the outputs": round(marks["trace"] - t_start, 2)},
        "reproducible": (
            "bit for bit on one kind of CPU for any thread count (micro-batches of one thread "
            "each); other CPUs give slightly different numbers"
            if config.micro_batches > 1
            else "bit for bit on one machine with the same thread count; other CPUs give "
            "slightly different numbers"
        ),
    }
    write_outputs(result, out, run=out, title="segscore demo: held-out synthetic images")
    parts["outputs"] = round(time.perf_counter() - marks["trace"], 2)
    elapsed = time.perf_counter() - t_start
    console.print(
        f"\nwrote {out}/: per_case.csv ({n} rows), summary.json, report.html, trace.json, "
        f"trace.csv, timing.json, checkpoint.pt, config.json, stages.png, stages.csv, masks/ "
        f"({len(masks)} PNG) in {elapsed:.1f} s ("
        + ", ".join(f"{name} {sec:.1f} s" for name, sec in parts.items())
        + ")"
    )
    return 0

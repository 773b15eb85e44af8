"""``segscore train DATA --out RUN``: train a U-Net, write checkpoint, config and trace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segscore.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from segscore.data.dataset import SegmentationDataset
    from segscore.train.config import TrainConfig
    from segscore.train.loop import TrainResult

__all__ = ["add_parser", "run", "train_with_progress"]

_OVERRIDABLE = (
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "val_fraction",
    "threshold",
    "layout",
    "num_classes",
    "ignore_index",
    "arch",
    "encoder",
    "base_channels",
    "depth",
    "stem",
    "soft_dice",
    "micro_batches",
    "n",
    "size",
    "threads",
)


def add_parser(subparsers: Any) -> None:
    """Register the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train",
        help="train a U-Net on synthetic, nuclei or folder data",
        description=(
            "Train a U-Net (BCE + soft Dice, Adam) with a seeded train/validation split. Writes "
            "checkpoint.pt (after every epoch), config.json, trace.json, trace.csv and timing.json "
            "into RUN. The same seed gives the same trace and weights, bit for bit, on one machine "
            "with the same --threads."
        ),
    )
    p.add_argument(
        "data", metavar="DATA", help='"synthetic", "nuclei" or a folder of images and masks'
    )
    p.add_argument("--out", required=True, metavar="RUN", help="run folder to write")
    add_training_options(p)
    p.add_argument("--resume", action="store_true", help="continue the run in RUN (up to --epochs)")
    p.set_defaults(func=run)


def add_training_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``train`` (all default to the TrainConfig defaults)."""
    p.add_argument(
        "--epochs", type=int, default=None, help="passes over the data (default 8; nuclei 60)"
    )
    p.add_argument(
        "--batch-size", type=int, default=None, help="images per step (default 8; nuclei 4)"
    )
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.003)")
    p.add_argument(
        "--seed", type=int, default=None, help="seed of split, init and shuffling (default 0)"
    )
    p.add_argument(
        "--val-fraction", type=float, default=None, help="validation share (default 0.2)"
    )
    p.add_argument("--threshold", type=float, default=None, help="mask threshold (default 0.5)")
    p.add_argument(
        "--layout",
        choices=("binary", "multiclass", "oxford-pet", "instances"),
        default=None,
        help="mask layout (instances: label maps, trained on their foreground id > 0)",
    )
    p.add_argument("--num-classes", type=int, default=None, help="classes of multiclass masks")
    p.add_argument("--ignore-index", type=int, default=None, help="mask label to ignore")
    p.add_argument("--arch", default=None, help='"unet" (default) or "smp:<Architecture>"')
    p.add_argument("--encoder", default=None, help="encoder of an smp: architecture")
    p.add_argument("--base-channels", type=int, default=None, help="U-Net width (default 8)")
    p.add_argument("--depth", type=int, default=None, help="U-Net down-sampling steps (default 3)")
    p.add_argument(
        "--stem",
        choices=("conv", "space_to_depth"),
        default=None,
        help="U-Net stem: conv (default, full-resolution first and last blocks) or "
        "space_to_depth (2x2 pixels folded into channels, blocks at half resolution: about 40%% "
        "of the training time per epoch)",
    )
    p.add_argument(
        "--soft-dice",
        choices=("pooled", "per_image"),
        default=None,
        help="the loss's soft Dice: pooled over the batch (default) or the mean of each "
        "image's (small-object images weigh as much as others)",
    )
    p.add_argument(
        "--micro-batches",
        type=int,
        default=None,
        help="split each batch into this many micro-batches, each with its own batch-norm "
        "statistics, trained at once on up to --threads threads of one torch thread each; "
        "from 2 on the result does not depend on --threads (default 1)",
    )
    p.add_argument("--n", type=int, default=None, help="number of synthetic images")
    p.add_argument("--size", type=int, default=None, help="side of synthetic images")
    p.add_argument("--no-augment", action="store_true", help="no random flips and transposes")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads, recorded in config.json (default: all cores). The same seed gives the "
        "same bits on one machine with one thread count; --threads 1 does not depend on the "
        "number of cores",
    )


def _explicit(args: argparse.Namespace) -> dict[str, Any]:
    values = {k: getattr(args, k) for k in _OVERRIDABLE if getattr(args, k) is not None}
    if args.layout is None and args.num_classes is not None:
        values["layout"] = "multiclass"
    if args.no_augment:
        values["augment"] = False
    return values


def describe_model(config: TrainConfig, in_channels: int) -> str:
    """Return one line naming the network of ``config`` and its parameter count."""
    import torch

    from segscore.model import count_parameters
    from segscore.train.loop import build_for_config

    with torch.random.fork_rng(devices=[]):  # leaves the global generator as it was
        net = build_for_config(config, in_channels)
    head = "sigmoid" if config.out_channels == 1 else "softmax"
    shape = (
        f"base width {config.base_channels}, depth {config.depth}"
        + ("" if config.stem == "conv" else f", stem {config.stem}")
        if config.arch == "unet"
        else f"encoder {config.encoder}"
    )
    return (
        f"{config.arch}: {in_channels} -> {config.out_channels} channel(s) + {head}, {shape}; "
        f"{count_parameters(net):,} parameters"
    )


def make_console() -> Console:
    """Return a rich console on the current stdout (captured by tests); plain when not a terminal."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def train_with_progress(
    config: TrainConfig,
    train_set: SegmentationDataset,
    val_set: SegmentationDataset,
    run_dir: Path,
    console: Console,
    *,
    resume: dict[str, Any] | None = None,
) -> TrainResult:
    """Train with a progress bar, print one row per epoch, write the run files after each epoch."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from segscore.report.training import EPOCH_HEADER, epoch_row
    from segscore.train.loop import EpochRecord, fit
    from segscore.train.run import CHECKPOINT_NAME, write_run_files

    history: list[dict[str, Any]] = []
    seconds: list[float] = []
    if resume is not None:
        history = [dict(r) for r in resume.get("history", [])]
        seconds = [float("nan")] * len(history)
    console.print(EPOCH_HEADER)
    for row in history:
        console.print(epoch_row(row, float("nan")))
    progress = Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task("train", total=None, epoch=0)

    def on_step(epoch: int, step: int, n_steps: int) -> None:
        progress.update(task, completed=step, total=n_steps, epoch=f"{epoch}/{config.epochs}")

    def on_epoch(record: EpochRecord, secs: float) -> None:
        history.append(record.as_dict())
        seconds.append(secs)
        write_run_files(run_dir, config, history, seconds)
        progress.console.print(epoch_row(record.as_dict(), secs))

    with progress:
        result = fit(
            config,
            train_set,
            val_set,
            checkpoint_path=run_dir / CHECKPOINT_NAME,
            resume=resume,
            on_step=on_step,
            on_epoch=on_epoch,
        )
    write_run_files(run_dir, config, history, seconds)
    return result


def run(args: argparse.Namespace) -> int:
    """Run ``segscore train``."""
    from segscore.train.threads import default_threads, passive_openmp_waits

    passive_openmp_waits()  # before torch is imported
    from segscore.io.checkpoint import holds_checkpoint, load_checkpoint
    from segscore.report.training import loss_chart
    from segscore.train.config import TrainConfig
    from segscore.train.run import CHECKPOINT_NAME, load_config, load_training_data

    out = Path(args.out)
    explicit = _explicit(args)
    resume = None
    if args.resume:
        saved = load_config(out)
        if args.data != saved.data:
            raise InputError(
                f"`DATA` must be the run's data {saved.data!r} with --resume, got {args.data!r}."
            )
        for key, value in explicit.items():
            if key != "epochs" and getattr(saved, key) != value:
                raise InputError(
                    f"`--{key.replace('_', '-')}` must match the run's config with --resume "
                    f"({getattr(saved, key)!r}), got {value!r}; only --epochs may change."
                )
        config = saved.replace(epochs=explicit.get("epochs", saved.epochs))
        resume = load_checkpoint(out / CHECKPOINT_NAME)
    else:
        if holds_checkpoint(out):
            raise InputError(
                f"`--out` {str(out)!r} already holds a run; use --resume to continue it "
                "or choose another folder."
            )
        if "threads" not in explicit:
            explicit["threads"] = default_threads()
        config = TrainConfig.for_data(args.data, **explicit)
    if config.arch.startswith("smp:"):  # fail before loading data when the extra is missing
        from segscore.model.smp import import_smp

        import_smp()
    console = make_console()
    data = load_training_data(config)
    train_set, val_set = data.split(config.val_fraction, rng=config.seed)
    console.print(
        f"data {data.source or config.data}: {len(train_set)} training, {len(val_set)} validation "
        f"images; {config.epochs} epochs, batch {config.batch_size}, lr {config.lr:g}, "
        f"seed {config.seed}, {config.threads} thread(s)"
    )
    console.print(f"model {describe_model(config, data.in_channels)}")
    if resume is not None:
        done = int(resume["epoch"])
        console.print(f"resuming {str(out)!r} after epoch {done}")
    result = train_with_progress(config, train_set, val_set, out, console, resume=resume)
    console.print(loss_chart([r.train_loss for r in result.history], label="train loss"))
    console.print(f"wrote {out / CHECKPOINT_NAME}, config.json, trace.json, trace.csv, timing.json")
    return 0

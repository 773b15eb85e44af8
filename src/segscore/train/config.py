"""The frozen training configuration: every choice that makes a run, seeds included.

A :class:`TrainConfig` is written to ``config.json`` in the run folder and read back on
``--resume``, so a run is reproduced from that file alone.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from segscore._validation import check_number, check_option, fail
from segscore.train.threads import default_threads

__all__ = ["DATA_DEFAULTS", "Layout", "SoftDice", "TrainConfig"]

Layout = Literal["binary", "multiclass", "oxford-pet", "instances"]
SoftDice = Literal["pooled", "per_image"]

_ARCHS = ("unet",)

DATA_DEFAULTS: dict[str, dict[str, Any]] = {
    "nuclei": {"epochs": 60, "batch_size": 4},
}
"""Defaults that depend on the data, applied by :meth:`TrainConfig.for_data`.

The built-in ``nuclei`` set trains on 13 tiles: at the general defaults (8 epochs of batch 8,
16 optimisation steps) the network has not left its start (validation IoU 0.53, probabilities
between 0.42 and 0.70). 60 epochs of batch 4 (240 steps) reach 0.85-0.90 for every seed tried
(docs/pipeline.md).
"""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters, model shape and seeds of one training run.

    Parameters
    ----------
    data : str
        ``"synthetic"``, ``"nuclei"`` or a folder path.
    layout : {'binary', 'multiclass', 'oxford-pet', 'instances'}, default 'binary'
        Mask layout of a folder (:func:`segscore.io.images.read_mask`); multiclass needs
        ``num_classes``; instance label maps train on their foreground (id > 0).
    num_classes : int or None
        Number of classes of a multiclass dataset; None for binary masks.
    ignore_index : int or None
        Mask label excluded from loss and scores.
    epochs, batch_size : int
        Number of passes and images per step.
    lr : float
        Adam learning rate.
    seed : int
        Seeds the weight initialisation, the train/validation split, shuffling and augmentation.
    val_fraction : float
        Share of the data held out for validation, in [0, 1).
    threshold : float
        Probability threshold of the binary masks, in (0, 1).
    arch : str
        ``"unet"`` or ``"smp:<Architecture>"`` (segmentation-models-pytorch, when installed).
    encoder : str
        Encoder of an ``smp:`` architecture (ignored by ``unet``).
    base_channels, depth : int
        Width of the first U-Net block and number of down-sampling steps.
    stem : {'conv', 'space_to_depth'}, default 'conv'
        The U-Net's stem (:class:`~segscore.model.UNet`): ``'conv'``, the classic full-resolution
        first and last blocks; ``'space_to_depth'``, blocks at half resolution or less (about 40%
        of the training time at the same widths).
    augment : bool
        Random horizontal and vertical flips of training batches.
    n, size : int or None
        Number and side of synthetic images (None: the data loader's default).
    schedule : {'cosine', 'constant'}, default 'cosine'
        Learning rate per step: a linear warm-up over the first 5% of the steps, then a cosine
        decay to 0 at the last step; or ``lr`` throughout.
    soft_dice : {'pooled', 'per_image'}, default 'pooled'
        The loss's soft Dice term (:func:`~segscore.train.loop.segmentation_loss`): one value over
        the batch, or the mean of each image's (small-object images weigh as much as others).
    micro_batches : int, default 1
        Split every batch into this many micro-batches (``torch.tensor_split``), each with its
        own batch-norm statistics (like data-parallel training), run at the same time on up to
        ``threads`` CPU threads, one torch thread each; their parts of the batch's loss are
        exact (BCE over the batch's valid pixels, each image's Dice term), their gradients are
        summed in a fixed order and the batch-norm running statistics averaged after every step.
        With ``micro_batches >= 2`` the result does not depend on ``threads`` (the same bits on 1
        or 16 cores of one instruction set), and training uses ``min(micro_batches, threads)``
        cores. Needs ``soft_dice='per_image'``, at most ``batch_size`` micro-batches and the
        built-in U-Net. On 2 cores two micro-batches train the ``space_to_depth`` U-Net 1.05-1.1x
        as fast as two torch threads on whole batches (docs/benchmarks.md).
    threads : int, default: the CPU cores of this process
        torch CPU threads while training (:func:`~segscore.train.threads.default_threads`). Part of
        the configuration because the thread count changes how float sums are split: with one
        micro-batch the same seed gives the same bits on one machine only with the same number of
        threads; ``threads=1`` does not depend on the number of cores.

    Examples
    --------
    >>> cfg = TrainConfig(data="synthetic", epochs=2)
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.out_channels
    1
    >>> TrainConfig(data="x", lr=-1.0)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `lr` must be a number in (0, inf), got -1.0.
    """

    data: str
    layout: Layout = "binary"
    num_classes: int | None = None
    ignore_index: int | None = None
    epochs: int = 8
    batch_size: int = 8
    lr: float = 3e-3
    seed: int = 0
    val_fraction: float = 0.2
    threshold: float = 0.5
    arch: str = "unet"
    encoder: str = "resnet18"
    base_channels: int = 8
    depth: int = 3
    stem: Literal["conv", "space_to_depth"] = "conv"
    augment: bool = True
    n: int | None = None
    size: int | None = None
    schedule: Literal["cosine", "constant"] = "cosine"
    soft_dice: SoftDice = "pooled"
    micro_batches: int = 1
    threads: int = field(default_factory=default_threads)

    def __post_init__(self) -> None:
        check_option("layout", self.layout, ("binary", "multiclass", "oxford-pet", "instances"))
        check_option("schedule", self.schedule, ("cosine", "constant"))
        check_option("stem", self.stem, ("conv", "space_to_depth"))
        check_option("soft_dice", self.soft_dice, ("pooled", "per_image"))
        for name, low in (
            ("epochs", 1),
            ("batch_size", 1),
            ("base_channels", 1),
            ("depth", 1),
            ("micro_batches", 1),
            ("threads", 1),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                fail(f"`{name}` must be an integer >= {low}, got {value!r}.")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            fail(f"`seed` must be a non-negative integer, got {self.seed!r}.")
        check_number("lr", self.lr, low=0, high=math.inf, low_inclusive=False, high_inclusive=False)
        check_number("val_fraction", self.val_fraction, low=0, high=1, high_inclusive=False)
        check_number(
            "threshold", self.threshold, low=0, high=1, low_inclusive=False, high_inclusive=False
        )
        if self.layout == "multiclass":
            if self.num_classes is None or self.num_classes < 2:
                fail(
                    "`num_classes` must be an integer >= 2 with layout 'multiclass', "
                    f"got {self.num_classes!r}."
                )
        elif self.num_classes is not None:
            fail(
                f"`num_classes` must be None with layout {self.layout!r}, got {self.num_classes!r}."
            )
        if self.arch not in _ARCHS and not self.arch.startswith("smp:"):
            fail(f"`arch` must be 'unet' or 'smp:<Architecture>', got {self.arch!r}.")
        if self.micro_batches > 1:
            if self.micro_batches > self.batch_size:
                fail(
                    f"`micro_batches` must be at most `batch_size` ({self.batch_size}), "
                    f"got {self.micro_batches}."
                )
            if self.soft_dice != "per_image":
                fail(
                    "`soft_dice` must be 'per_image' with `micro_batches` >= 2 (a Dice pooled "
                    f"over the batch does not split into micro-batches), got {self.soft_dice!r}; "
                    "set `micro_batches` to 1 for a pooled Dice."
                )
            if self.arch != "unet":
                fail(
                    f"`micro_batches` must be 1 with arch {self.arch!r} (micro-batches are for the "
                    f"built-in U-Net, which draws no random numbers while training), "
                    f"got {self.micro_batches}."
                )
        if self.stem != "conv" and self.arch != "unet":
            fail(
                f"`stem` must be 'conv' with arch {self.arch!r} (a U-Net option), got {self.stem!r}."
            )

    @property
    def out_channels(self) -> int:
        """Channels of the network output: 1 (binary, sigmoid) or ``num_classes`` (softmax)."""
        return 1 if self.num_classes is None else int(self.num_classes)

    def learning_rate(self, step: int, total_steps: int) -> float:
        """Learning rate of optimisation step ``step`` (0-based) of ``total_steps``.

        Examples
        --------
        >>> cfg = TrainConfig(data="synthetic", lr=0.01)
        >>> [round(cfg.learning_rate(s, 100), 5) for s in (0, 4, 5, 50, 99)]
        [0.002, 0.01, 0.01, 0.00533, 0.0]
        """
        if self.schedule == "constant":
            return self.lr
        warmup = max(1, round(0.05 * total_steps))
        if step < warmup:
            return self.lr * (step + 1) / warmup
        span = max(1, total_steps - 1 - warmup)
        progress = min(1.0, (step - warmup) / span) if total_steps - 1 > warmup else 1.0
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * progress))

    @classmethod
    def for_data(cls, data: str, **options: Any) -> TrainConfig:
        """Build the configuration of ``data`` with its own defaults (:data:`DATA_DEFAULTS`).

        Options given explicitly win over those defaults; ``config.json`` records the result.

        Examples
        --------
        >>> cfg = TrainConfig.for_data("nuclei", seed=2)
        >>> cfg.epochs, cfg.batch_size, cfg.seed
        (60, 4, 2)
        >>> TrainConfig.for_data("nuclei", epochs=5).epochs
        5
        >>> TrainConfig.for_data("synthetic").epochs
        8
        """
        return cls(data=data, **(DATA_DEFAULTS.get(data, {}) | options))

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-friendly dict: only what the run uses.

        The ``encoder`` of ``smp:`` architectures is left out for the built-in U-Net, which has
        none (a ``config.json`` must not say ``"encoder": "resnet18"`` for a run that used no
        encoder); :meth:`from_dict` gives the field its default back.

        Examples
        --------
        >>> "encoder" in TrainConfig(data="synthetic").to_dict()
        False
        >>> TrainConfig(data="x", arch="smp:Unet", encoder="resnet34").to_dict()["encoder"]
        'resnet34'
        """
        values = dataclasses.asdict(self)
        if not self.arch.startswith("smp:"):
            values.pop("encoder")
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build a configuration from :meth:`to_dict` output; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            fail(f"`config` must only have the keys {sorted(known)}, got unknown {unknown}.")
        return cls(**values)

    def to_json(self) -> str:
        """Return the configuration as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

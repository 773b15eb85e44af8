"""The training loop: BCE + soft Dice (or cross-entropy + Dice), Adam, seeded and deterministic.

Everything random comes from the frozen :class:`~segscore.train.config.TrainConfig`: the weights
are initialised under :func:`~segscore.train.seeding.deterministic` (torch's global generator is
seeded there and restored afterwards), and a private ``torch.Generator`` draws the shuffling order
and the flips. The generator state, the optimizer state and the weights are checkpointed after
every epoch, so a resumed run ends with the same weights and trace as an uninterrupted one.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from segscore.data.dataset import SegmentationDataset
from segscore.errors import CheckpointError
from segscore.io.checkpoint import save_checkpoint
from segscore.metrics import Counts
from segscore.metrics.mask_scores import count_masks, evaluate_counts
from segscore.metrics.thresholds import to_mask
from segscore.model import activate, load_weights, model_spec
from segscore.train.adam import Adam
from segscore.train.config import SoftDice, TrainConfig
from segscore.train.seeding import deterministic, make_generator

__all__ = ["EpochRecord", "TrainResult", "build_for_config", "fit", "segmentation_loss"]

StepCallback = Callable[[int, int, int], None]
"""``(epoch, step, n_steps)`` after every optimisation step."""
EpochCallback = Callable[["EpochRecord", float], None]
"""``(record, seconds)`` after every epoch (the checkpoint is already written)."""


@dataclass(frozen=True)
class EpochRecord:
    """Loss, pixel accuracy, IoU and Dice of one epoch, on training and validation data.

    Training values come from the predictions made during the epoch (before each update), with the
    network in training mode; validation values from the network at the end of the epoch. IoU and
    Dice are means of per-image values (:func:`~segscore.metrics.mask_scores.evaluate_counts`).
    Without validation data the ``val_*`` fields are NaN.
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    train_iou: float
    train_dice: float
    val_loss: float
    val_accuracy: float
    val_iou: float
    val_dice: float

    def as_dict(self) -> dict[str, float | int]:
        """Return the record as a dict (the row of ``trace.json`` / ``trace.csv``)."""
        return asdict(self)


@dataclass
class TrainResult:
    """What :func:`fit` returns: the trained network, the trace and the epoch times."""

    model: nn.Module
    history: list[EpochRecord]
    seconds: list[float] = field(default_factory=list)


def segmentation_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    valid: torch.Tensor,
    *,
    soft_dice: SoftDice = "pooled",
) -> torch.Tensor:
    """BCE + soft Dice for one output channel; cross-entropy + soft Dice (class mean) otherwise.

    Parameters
    ----------
    logits : Tensor, shape (N, K, H, W)
    target : Tensor of int64, shape (N, H, W)
        {0, 1} or class labels (any value where ``valid`` is 0).
    valid : Tensor of float, shape (N, H, W)
        1 for pixels that count, 0 for ignored and padding pixels.
    soft_dice : {'pooled', 'per_image'}, default 'pooled'
        ``'pooled'``: one soft Dice over the whole batch, ``1 - (2 Σ p t + 1) / (Σ p + Σ t + 1)``
        (large objects dominate it). ``'per_image'``: that term for each image, then the mean over
        the images, the way segscore averages IoU and Dice over images: an image of a few small
        objects weighs as much as one of large ones.

    Returns
    -------
    Tensor
        Scalar loss: the mean BCE (cross-entropy) over valid pixels plus the soft Dice term.

    Examples
    --------
    >>> t = torch.tensor([[[1, 0]]])
    >>> loss = segmentation_loss(torch.tensor([[[[9.0, -9.0]]]]), t, torch.ones(1, 1, 2))
    >>> round(float(loss), 3)
    0.0

    Two images, one nearly empty: pooled, its miss hardly shows; per image it is half the term.

    >>> logits = torch.full((2, 1, 4, 4), -9.0)
    >>> logits[0, 0, :, :2] = 9.0
    >>> target = torch.zeros(2, 4, 4, dtype=torch.int64)
    >>> target[0, :, :2] = 1
    >>> target[1, 0, 0] = 1  # missed
    >>> ones = torch.ones(2, 4, 4)
    >>> [round(float(segmentation_loss(logits, target, ones, soft_dice=d)), 3)
    ...  for d in ("pooled", "per_image")]
    [0.337, 0.532]
    """
    pixel_sum, dice_term = _loss_parts(logits, target, valid, soft_dice)
    return pixel_sum / valid.sum().clamp(min=1.0) + dice_term


def _loss_parts(
    logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, soft_dice: SoftDice
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the loss's parts: the BCE (cross-entropy) summed over valid pixels, the Dice term."""
    k = int(logits.shape[1])
    if k == 1:
        y = target.to(logits.dtype) * valid
        bce = F.binary_cross_entropy_with_logits(logits[:, 0], y, reduction="none")
        p = torch.sigmoid(logits[:, 0]) * valid
        if soft_dice == "pooled":
            inter = (p * y).sum()
            dice_term = 1.0 - (2.0 * inter + 1.0) / (p.sum() + y.sum() + 1.0)
        else:
            inter = (p * y).sum(dim=(1, 2))
            dice = (2.0 * inter + 1.0) / (p.sum(dim=(1, 2)) + y.sum(dim=(1, 2)) + 1.0)
            dice_term = 1.0 - dice.mean()
        return (bce * valid).sum(), dice_term
    labels = torch.where(valid > 0, target, torch.zeros_like(target))
    ce = F.cross_entropy(logits, labels, reduction="none")
    p = torch.softmax(logits, dim=1) * valid[:, None]
    onehot = F.one_hot(labels, k).permute(0, 3, 1, 2).to(logits.dtype) * valid[:, None]
    dims = (0, 2, 3) if soft_dice == "pooled" else (2, 3)
    inter = (p * onehot).sum(dim=dims)
    dice = (2.0 * inter + 1.0) / (p.sum(dim=dims) + onehot.sum(dim=dims) + 1.0)
    return (ce * valid).sum(), 1.0 - dice.mean()


def build_for_config(config: TrainConfig, in_channels: int) -> nn.Module:
    """Build the network a configuration describes (random weights from the global generator)."""
    from segscore.model import build_model

    spec: dict[str, Any] = {
        "arch": config.arch,
        "in_channels": in_channels,
        "out_channels": config.out_channels,
    }
    if config.arch == "unet":
        spec |= {"base_channels": config.base_channels, "depth": config.depth, "padding": "reflect"}
        if config.stem != "conv":  # as UNet.spec() records it
            spec["stem"] = config.stem
    else:
        spec |= {"encoder": config.encoder}
    return build_model(spec)


def _collate(
    data: SegmentationDataset, idx: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
    """Stack a batch; pad mixed sizes with zeros (valid = 0 there)."""
    sizes = [tuple(int(s) for s in data.masks[i].shape) for i in idx]
    h = max(s[0] for s in sizes)
    w = max(s[1] for s in sizes)
    c = data.images[idx[0]].shape[0]
    x = np.zeros((len(idx), c, h, w), np.float32)
    y = np.zeros((len(idx), h, w), np.int64)
    valid = np.zeros((len(idx), h, w), np.float32)
    for j, i in enumerate(idx):
        hh, ww = sizes[j]
        x[j, :, :hh, :ww] = data.images[i]
        m = data.masks[i]
        keep = np.ones(m.shape, bool) if data.ignore_index is None else m != data.ignore_index
        y[j, :hh, :ww] = np.where(keep, m, 0)
        valid[j, :hh, :ww] = keep
    pairs = [(hh, ww) for hh, ww in sizes]
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(valid), pairs


def _augment(
    x: torch.Tensor, y: torch.Tensor, v: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random flips (and transposes of square batches) per image, drawn from ``g``."""
    n = int(x.shape[0])
    draws = torch.rand(n, 3, generator=g) < 0.5
    square = int(x.shape[-1]) == int(x.shape[-2])
    out = []
    for t in (x, y, v):
        shape = (n, *([1] * (t.ndim - 1)))
        t = torch.where(draws[:, 0].reshape(shape), t.flip(-1), t)
        t = torch.where(draws[:, 1].reshape(shape), t.flip(-2), t)
        if square:
            t = torch.where(draws[:, 2].reshape(shape), t.transpose(-1, -2), t)
        out.append(t.contiguous())
    return out[0], out[1], out[2]


def _masks(
    model: nn.Module, logits: torch.Tensor, sizes: list[tuple[int, int]], threshold: float
) -> list[NDArray[np.uint8]]:
    probs = activate(model, logits.detach()).numpy()
    masks = to_mask(probs, threshold=threshold)
    return [masks[j, :h, :w] for j, (h, w) in enumerate(sizes)]


def _targets(
    y: torch.Tensor, v: torch.Tensor, sizes: list[tuple[int, int]], ignore_index: int | None
) -> list[NDArray[np.int64]]:
    """Return the (augmented) targets of a batch, cropped, with the ignore label put back."""
    y_np = y.numpy()
    if ignore_index is not None:
        y_np = np.where(v.numpy() > 0, y_np, ignore_index)
    return [y_np[j, :h, :w] for j, (h, w) in enumerate(sizes)]


def _counts(
    preds: list[NDArray[np.uint8]], targets: list[NDArray[np.int64]], data: SegmentationDataset
) -> Counts:
    return count_masks(preds, targets, num_classes=data.num_classes, ignore_index=data.ignore_index)


def _evaluate(
    model: nn.Module, data: SegmentationDataset, config: TrainConfig
) -> tuple[float, float, float, float]:
    if len(data) == 0:
        return (math.nan,) * 4
    model.eval()
    losses: list[float] = []
    preds: list[NDArray[np.uint8]] = []
    order = list(range(len(data)))
    with torch.inference_mode():
        for start in range(0, len(data), config.batch_size):
            idx = order[start : start + config.batch_size]
            x, y, v, sizes = _collate(data, idx)
            logits = model(x.contiguous(memory_format=torch.channels_last))
            loss = segmentation_loss(logits, y, v, soft_dice=config.soft_dice)
            losses.append(float(loss) * len(idx))
            preds += _masks(model, logits, sizes, config.threshold)
    ev = evaluate_counts(_counts(preds, [data.masks[i] for i in order], data))
    return (
        math.fsum(losses) / len(data),
        ev.accuracy.value,
        ev.iou.value,
        ev.dice.value,
    )


def _replicas(model: nn.Module, k: int) -> list[nn.Module]:
    """Return ``model`` and ``k - 1`` copies sharing its parameters, each with its own buffers."""
    replicas = [model]
    for _ in range(k - 1):
        twin = copy.deepcopy(model)
        for mod_twin, mod in zip(twin.modules(), model.modules(), strict=True):
            for name, param in mod._parameters.items():
                mod_twin._parameters[name] = param
        replicas.append(twin)
    return replicas


def _average_buffers(replicas: Sequence[nn.Module], ran: int) -> None:
    """Give every replica the mean float buffers of the first ``ran`` (those that trained).

    Batch-norm running statistics are averaged; step counters are copied from the first replica,
    so the replicas that sat out a short last batch are in step again.
    """
    if len(replicas) < 2:
        return
    with torch.no_grad():
        for buffers in zip(*(r.buffers() for r in replicas), strict=True):
            if buffers[0].is_floating_point():
                value = buffers[0].clone()
                for b in buffers[1:ran]:
                    value += b
                value /= ran
            else:
                value = buffers[0]
            for b in buffers:
                if b is not value:
                    b.copy_(value)


def _micro_step(
    replica: nn.Module,
    params: Sequence[nn.Parameter],
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    n_valid: float,
    share: float,
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor | None, ...]]:
    """Forward and backward of one micro-batch: its logits, its part of the loss, gradients.

    Its part of the batch's loss is its BCE sum over the batch's ``n_valid`` pixels plus its
    per-image Dice term times its ``share`` of the batch's images: the parts add up to the loss
    of the whole batch, padding and ignored pixels included.
    """
    x, y, v = batch
    logits = replica(x)
    pixel_sum, dice_term = _loss_parts(logits, y, v, "per_image")
    loss = pixel_sum / n_valid + dice_term * share
    grads = torch.autograd.grad(loss, params, allow_unused=True)  # None: a parameter unused
    return logits.detach(), loss.detach(), grads


@contextmanager
def _micro_batch_runner(
    config: TrainConfig,
) -> Iterator[ThreadPoolExecutor | None]:
    """Threads for the micro-batches after the first, each op on one torch thread; restored after."""
    if config.micro_batches < 2:
        yield None
        return
    workers = min(config.micro_batches, config.threads) - 1
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    # Each worker sets its own OpenMP count first: a thread takes the process count only at its
    # first parallel_for, and a oneDNN convolution run before that would use every core.
    pool = (
        ThreadPoolExecutor(max_workers=workers, initializer=torch.set_num_threads, initargs=(1,))
        if workers > 0
        else None
    )
    try:
        yield pool
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        torch.set_num_threads(old_threads)


def _split_step(
    replicas: Sequence[nn.Module],
    params: Sequence[nn.Parameter],
    x: torch.Tensor,
    y: torch.Tensor,
    v: torch.Tensor,
    pool: ThreadPoolExecutor | None,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """One step's forward and backward in micro-batches; set each parameter's summed gradient.

    Returns the batch's logits, its loss (the sum of the micro-batches' parts, see
    :func:`_micro_step`) and the number of micro-batches that ran (fewer than the replicas when
    the batch has fewer images).
    """
    n = int(x.shape[0])
    k = min(len(replicas), n)
    n_valid = max(float(v.sum()), 1.0)
    parts = list(zip(*(torch.tensor_split(t, k) for t in (x, y, v)), strict=True))
    jobs = [
        (replicas[i], params, parts[i], n_valid, int(parts[i][0].shape[0]) / n) for i in range(k)
    ]
    later = [] if pool is None else [pool.submit(_micro_step, *job) for job in jobs[1:]]
    results = [_micro_step(*jobs[0])]
    results += (
        [f.result() for f in later] if pool is not None else [_micro_step(*job) for job in jobs[1:]]
    )
    for j, param in enumerate(params):
        grad = None  # left None when no micro-batch used the parameter, as backward() leaves it
        for r in results:
            g = r[2][j]
            if g is not None:
                grad = g if grad is None else grad + g
        param.grad = grad
    loss = results[0][1]
    for r in results[1:]:
        loss = loss + r[1]
    return torch.cat([r[0] for r in results]), loss, k


def fit(
    config: TrainConfig,
    train_set: SegmentationDataset,
    val_set: SegmentationDataset,
    *,
    checkpoint_path: str | os.PathLike[str] | None = None,
    resume: dict[str, Any] | None = None,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train a network on ``train_set`` and validate on ``val_set`` after every epoch.

    Parameters
    ----------
    config : TrainConfig
        Hyper-parameters and seeds.
    train_set, val_set : SegmentationDataset
        Training and validation data (``val_set`` may be empty).
    checkpoint_path : path-like, optional
        Written atomically after every epoch (weights, optimizer, generator state, trace).
    resume : dict, optional
        A checkpoint read by :func:`~segscore.train.checkpoint.load_checkpoint`; training goes on
        from the epoch after the one it holds, up to ``config.epochs``.
    on_step, on_epoch : callable, optional
        Progress callbacks (see :data:`StepCallback`, :data:`EpochCallback`).

    Returns
    -------
    TrainResult

    Raises
    ------
    CheckpointError
        If ``resume`` was saved for another architecture or configuration.
    """
    if len(train_set) == 0:
        from segscore._validation import fail

        fail("`train_set` must hold at least one image, got 0.")
    path = None if checkpoint_path is None else os.fspath(checkpoint_path)
    with deterministic(config.seed, threads=config.threads):
        model = build_for_config(config, train_set.in_channels)
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        optimizer = Adam(model.parameters(), lr=config.lr)
        gen = make_generator(config.seed)
        history: list[EpochRecord] = []
        start = 1
        if resume is not None:
            where = path or "<resume>"
            spec = resume["model_spec"]
            if spec != model_spec(model):
                raise CheckpointError(
                    f"checkpoint {where!r} was saved for the model {spec}, but the configuration "
                    f"builds {model_spec(model)}."
                )
            load_weights(model, resume["model_state"], path=where)
            try:
                optimizer.load_state_dict(resume["optimizer_state"])
                gen.set_state(resume["generator_state"])
                torch.set_rng_state(resume["torch_rng_state"])
                history = [EpochRecord(**row) for row in resume["history"]]
            except (KeyError, ValueError, TypeError, RuntimeError) as exc:
                raise CheckpointError(
                    f"checkpoint {where!r} cannot resume training ({type(exc).__name__}: {exc})."
                ) from None
            start = int(resume["epoch"]) + 1
        seconds: list[float] = []
        n = len(train_set)
        n_steps = math.ceil(n / config.batch_size)
        replicas = _replicas(model, config.micro_batches)
        params = [p for p in model.parameters() if p.requires_grad]
        with _micro_batch_runner(config) as pool:
            for epoch in range(start, config.epochs + 1):
                t0 = time.perf_counter()
                for replica in replicas:
                    replica.train()
                order = [int(i) for i in torch.randperm(n, generator=gen)]
                losses: list[float] = []
                preds: list[NDArray[np.uint8]] = []
                targets: list[NDArray[np.int64]] = []
                for step in range(n_steps):
                    idx = order[step * config.batch_size : (step + 1) * config.batch_size]
                    x, y, v, sizes = _collate(train_set, idx)
                    if config.augment and len(set(sizes)) == 1:
                        x, y, v = _augment(x, y, v, gen)
                        sizes = [(int(x.shape[-2]), int(x.shape[-1]))] * len(idx)
                    x = x.contiguous(memory_format=torch.channels_last)
                    lr = config.learning_rate((epoch - 1) * n_steps + step, config.epochs * n_steps)
                    for group in optimizer.param_groups:
                        group["lr"] = lr
                    optimizer.zero_grad(set_to_none=True)
                    if len(replicas) == 1:
                        logits = model(x)
                        loss = segmentation_loss(logits, y, v, soft_dice=config.soft_dice)
                        loss.backward()  # type: ignore[no-untyped-call]
                    else:
                        logits, loss, ran = _split_step(replicas, params, x, y, v, pool)
                        _average_buffers(replicas, ran)
                    optimizer.step()
                    losses.append(float(loss.detach()) * len(idx))
                    preds += _masks(model, logits, sizes, config.threshold)
                    targets += _targets(y, v, sizes, train_set.ignore_index)
                    if on_step is not None:
                        on_step(epoch, step + 1, n_steps)
                train_ev = evaluate_counts(_counts(preds, targets, train_set))
                val = _evaluate(model, val_set, config)
                record = EpochRecord(
                    epoch=epoch,
                    train_loss=math.fsum(losses) / n,
                    train_accuracy=train_ev.accuracy.value,
                    train_iou=train_ev.iou.value,
                    train_dice=train_ev.dice.value,
                    val_loss=val[0],
                    val_accuracy=val[1],
                    val_iou=val[2],
                    val_dice=val[3],
                )
                history.append(record)
                if path is not None:
                    save_checkpoint(
                        path,
                        {
                            "model_spec": model_spec(model),
                            "model_state": model.state_dict(),
                            "optimizer_state": optimizer.state_dict(),
                            "generator_state": gen.get_state(),
                            "torch_rng_state": torch.get_rng_state(),
                            "epoch": epoch,
                            "history": [r.as_dict() for r in history],
                            "config": config.to_dict(),
                        },
                    )
                seconds.append(time.perf_counter() - t0)
                if on_epoch is not None:
                    on_epoch(record, seconds[-1])
        model.eval()
    return TrainResult(model=model, history=history, seconds=seconds)

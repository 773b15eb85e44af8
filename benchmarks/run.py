"""Time segscore's counting against its peers and against the memory floor.

Usage::

    python -m benchmarks.run [--quick] [--workloads W1,W2,W3|all] [--repeat 7] [--peers-repeat 3]
                             [--peer-budget 4] [--markdown docs/benchmarks.md] [--device cuda]

``--device cuda`` (issue #6, on a GPU machine): segscore counts device tensors
(``segscore.confusion`` and ``TensorEvaluator``) against torchmetrics, MONAI and smp on the same
GPU and data, each call followed by ``torch.cuda.synchronize()``; the floor is two
``torch.count_nonzero`` on the device.

Workloads (deterministic, generated once in memory and shared by every library):

- W1: 100 binary masks 128x128 (bool);
- W2: 1000 binary masks 512x512 (bool);
- W3: 200 label maps 512x512 (uint8), 21 classes, ~5% ignore label 255 in bands along the
  class boundaries, predictions that mostly agree with the target.

The variants of issue #13 (``--workloads all``) check that the counting speed does not depend on
what the masks look like:

- W3-random: 40 label maps 512x512, labels uniformly random per pixel, 20% of the predictions
  replaced by random labels, 5% of the target ignored (no runs of equal pixels at all);
- W3-blocky: 40 label maps 512x512 of random 8x8 blocks, the prediction shifted 5 pixels;
- W3-cityscapes: 5 smooth label maps 1024x2048, 19 classes + ignore 255 (Cityscapes-sized);
- W3-ade: 40 smooth label maps 512x512, 150 classes, 12 objects per image (ADE20K-sized);
- W2-random: 200 random binary masks 512x512;
- W-multilabel-random: 40 random multilabel masks of 8 labels, 256x256.

Peers on W3-ade and W3-cityscapes are timed on a few images and scaled (MONAI's one-hot inputs
of the whole workload would take gigabytes); see ``PEER_IMAGES``.

Every library is asked for the per-image counts (tp, fp, fn, tn per image and class) and, for
segscore, IoU from them. Inputs are converted to each peer's documented input format (torch
tensors, one-hot for MONAI, int64 for smp) *outside* the timer. Times are the median of repeats
of ``time.perf_counter``. A peer whose single run on a subsample predicts more than
``--peer-budget`` seconds on the full workload is timed on the subsample and scaled linearly
(marked ``~``). Missing peers are skipped with a note.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

N_CLASSES = 21
IGNORE = 255

DEVICE = "cpu"
"""``--device``: where torch tensors live. ``cpu`` times segscore on numpy arrays (its main path);
``cuda`` (or ``cuda:N``) times segscore and the torch peers on GPU tensors, synchronising before
the clock stops, and the floor as two ``torch.count_nonzero`` on the device."""


def _on_gpu() -> bool:
    return DEVICE.startswith("cuda")


def _tensor(array: np.ndarray[Any, Any]) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(array)).to(DEVICE)


def _synced(run: Callable[[Any], object]) -> Callable[[Any], object]:
    """``run`` followed by ``torch.cuda.synchronize()`` on a GPU, so that its kernels are timed."""
    if not _on_gpu():
        return run
    import torch

    def call(state: Any) -> object:
        out = run(state)
        torch.cuda.synchronize()
        return out

    return call


# ------------------------------------------------------------------------------------------------
# Workloads
# ------------------------------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    description: str
    pred: np.ndarray[Any, Any]
    target: np.ndarray[Any, Any]
    num_classes: int | None  # None: binary masks
    ignore_index: int | None
    multilabel: bool = False  # binary masks (N, C, H, W), one row per image and channel


def _upsampler(low: int, size: int) -> np.ndarray[Any, Any]:
    """Linear-interpolation matrix (size, low): smooth fields from coarse noise by two matmuls."""
    x = np.linspace(0, low - 1, size)
    i0 = np.clip(np.floor(x).astype(int), 0, low - 2)
    w = x - i0
    a = np.zeros((size, low), dtype=np.float32)
    a[np.arange(size), i0] = 1 - w
    a[np.arange(size), i0 + 1] = w
    return a


def _fields(
    rng: np.random.Generator, shape: tuple[int, ...], size: int | tuple[int, int], low: int
) -> Any:
    """Smooth random fields of ``size`` (an int for square), ``low`` noise points per side."""
    h, w = (size, size) if isinstance(size, int) else size
    low_w = low * w // h  # the same smoothness along both axes
    noise = rng.standard_normal((*shape, low, low_w), dtype=np.float32)
    return _upsampler(low, h) @ noise @ _upsampler(low_w, w).T


def make_binary(name: str, n: int, size: int, seed: int) -> Workload:
    rng = np.random.default_rng(seed)
    pred = np.empty((n, size, size), dtype=bool)
    target = np.empty((n, size, size), dtype=bool)
    batch = 50
    for s in range(0, n, batch):
        m = min(batch, n - s)
        truth = _fields(rng, (m,), size, 10)
        error = _fields(rng, (m,), size, 24)
        target[s : s + m] = truth > 0.3
        pred[s : s + m] = truth + 0.25 * error > 0.3
    desc = f"{n} binary masks {size}x{size} (bool)"
    return Workload(name, desc, pred, target, None, None)


def _boundary(labels: np.ndarray[Any, Any], radius: int) -> np.ndarray[Any, Any]:
    """Pixels within ``radius`` (Chebyshev) of a label change."""
    edge = np.zeros(labels.shape, dtype=bool)
    diff_y = labels[..., 1:, :] != labels[..., :-1, :]
    diff_x = labels[..., :, 1:] != labels[..., :, :-1]
    edge[..., 1:, :] |= diff_y
    edge[..., :, 1:] |= diff_x
    band = edge.copy()
    for r in range(1, radius + 1):
        band[..., r:, :] |= edge[..., :-r, :]
        band[..., :-r, :] |= edge[..., r:, :]
    out: np.ndarray[Any, Any] = band.copy()
    for r in range(1, radius + 1):
        out[..., :, r:] |= band[..., :, :-r]
        out[..., :, :-r] |= band[..., :, r:]
    return out


def make_multiclass(
    name: str,
    n: int,
    size: int | tuple[int, int],
    seed: int,
    *,
    num_classes: int = N_CLASSES,
    n_obj: int = 3,
    batch: int = 20,
) -> Workload:
    """Smooth label maps: ``n_obj`` objects of random classes on a background (class 0), the
    target's class boundaries ignored (label 255) in 3-pixel bands, the prediction a perturbed
    copy of the target's fields."""
    rng = np.random.default_rng(seed)
    h, w = (size, size) if isinstance(size, int) else size
    pred = np.empty((n, h, w), dtype=np.uint8)
    target = np.empty((n, h, w), dtype=np.uint8)
    for s in range(0, n, batch):
        m = min(batch, n - s)
        classes = np.stack(
            [rng.choice(np.arange(1, num_classes), n_obj, replace=False) for _ in range(m)]
        )
        truth = _fields(rng, (m, n_obj + 1), (h, w), 8)
        truth[:, 0] += 0.6  # background is the largest region
        error = _fields(rng, (m, n_obj + 1), (h, w), 20)
        lut = np.concatenate([np.zeros((m, 1), dtype=np.uint8), classes.astype(np.uint8)], axis=1)
        t_idx = truth.argmax(axis=1)
        p_idx = (truth + 0.2 * error).argmax(axis=1)
        t = np.take_along_axis(lut, t_idx.reshape(m, -1), axis=1).reshape(m, h, w)
        p = np.take_along_axis(lut, p_idx.reshape(m, -1), axis=1).reshape(m, h, w)
        t[_boundary(t, 1)] = IGNORE
        target[s : s + m] = t
        pred[s : s + m] = p
    return _labels_workload(name, f"{n} smooth label maps", pred, target, num_classes)


def _labels_workload(
    name: str, kind: str, pred: np.ndarray[Any, Any], target: np.ndarray[Any, Any], c: int
) -> Workload:
    _, h, w = target.shape
    desc = (
        f"{kind} {h}x{w} (uint8), {c} classes, {np.mean(target == IGNORE):.1%} ignore {IGNORE}, "
        f"pred = target on {np.mean(pred == target):.1%}"
    )
    return Workload(name, desc, pred, target, c, IGNORE)


def _ignore_some(rng: np.random.Generator, target: np.ndarray[Any, Any], rate: float) -> None:
    """Set a random ``rate`` of the target pixels to the ignore label, image by image."""
    for t in target:
        t[rng.random(t.shape, dtype=np.float32) < rate] = IGNORE


def make_random_labels(name: str, n: int, size: int, seed: int, *, num_classes: int) -> Workload:
    """Uniformly random labels per pixel; 20% of the predictions replaced by random labels; 5%
    of the target ignored. No runs of equal pixels: the worst case of run-based shortcuts."""
    rng = np.random.default_rng(seed)
    target = rng.integers(0, num_classes, (n, size, size), dtype=np.uint8)
    pred = target.copy()
    for p in pred:
        wrong = rng.random(p.shape, dtype=np.float32) < 0.2
        p[wrong] = rng.integers(0, num_classes, int(wrong.sum()), dtype=np.uint8)
    _ignore_some(rng, target, 0.05)
    return _labels_workload(name, f"{n} uniformly random label maps", pred, target, num_classes)


def make_blocky_labels(name: str, n: int, size: int, seed: int) -> Workload:
    """Random labels in 8x8 blocks, the prediction shifted 5 pixels to the right (runs of 3 and
    5 pixels in every row), 5% of the target ignored."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, N_CLASSES, (n, size // 8, size // 8), dtype=np.uint8)
    target = blocks.repeat(8, axis=1).repeat(8, axis=2)
    pred = np.roll(target, 5, axis=2)
    _ignore_some(rng, target, 0.05)
    return _labels_workload(name, f"{n} blocky label maps (8x8 blocks)", pred, target, N_CLASSES)


def make_random_binary(name: str, n: int, size: int, seed: int, *, labels: int = 0) -> Workload:
    """Random masks (target 40% foreground, 20% of the prediction flipped); with ``labels``,
    multilabel masks (N, labels, H, W)."""
    rng = np.random.default_rng(seed)
    shape = (n, labels, size, size) if labels else (n, size, size)
    target = np.empty(shape, dtype=bool)
    pred = np.empty(shape, dtype=bool)
    for i in range(n):
        target[i] = rng.random(shape[1:], dtype=np.float32) < 0.4
        pred[i] = target[i] ^ (rng.random(shape[1:], dtype=np.float32) < 0.2)
    if labels:
        desc = f"{n} multilabel masks {labels}x{size}x{size} (bool), random"
        return Workload(name, desc, pred, target, None, None, multilabel=True)
    return Workload(
        name, f"{n} binary masks {size}x{size} (bool), random", pred, target, None, None
    )


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "W1": lambda: make_binary("W1", 100, 128, seed=1),
    "W2": lambda: make_binary("W2", 1000, 512, seed=2),
    "W3": lambda: make_multiclass("W3", 200, 512, seed=3),
    # Issue #13: counting speed whatever the masks look like.
    "W3-random": lambda: make_random_labels("W3-random", 40, 512, seed=4, num_classes=N_CLASSES),
    "W3-blocky": lambda: make_blocky_labels("W3-blocky", 40, 512, seed=5),
    "W3-cityscapes": lambda: make_multiclass(
        "W3-cityscapes", 5, (1024, 2048), seed=6, num_classes=19, n_obj=8, batch=1
    ),
    "W3-ade": lambda: make_multiclass("W3-ade", 40, 512, seed=7, num_classes=150, n_obj=12),
    "W2-random": lambda: make_random_binary("W2-random", 200, 512, seed=8),
    "W-multilabel-random": lambda: make_random_binary(
        "W-multilabel-random", 40, 256, seed=9, labels=8
    ),
}
DEFAULT_WORKLOADS = "W1,W2,W3"
"""Run by default; ``--workloads all`` adds the variants of issue #13."""

PEER_IMAGES: dict[str, int] = {"W3-ade": 4, "W3-cityscapes": 1}
"""Workloads whose peers are timed on at most this many images and scaled (marked ``~``): MONAI's
one-hot inputs of 150 classes or of 2-megapixel maps would take gigabytes."""


# ------------------------------------------------------------------------------------------------
# Contenders: name -> (prepare(data) -> state outside the timer, run(state) inside it)
# ------------------------------------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    call: str  # what is timed, in words
    prepare: Callable[[Workload, slice], Any]
    run: Callable[[Any], object]
    peer: bool = True


def _segscore() -> list[Contender]:
    import segscore
    from segscore.metrics import _kernel

    def run(w: Workload) -> object:
        c = segscore.confusion(
            w.pred,
            w.target,
            num_classes=w.num_classes,
            ignore_index=w.ignore_index,
            multilabel=w.multilabel,
        )
        return segscore.iou(c)

    kind = "compiled kernel" if _kernel.HAVE_COMPILED else "numpy reference (no compiled kernel)"
    return [
        Contender(
            "segscore",
            f"segscore.confusion + segscore.iou ({kind})",
            lambda w, sl: _sub(w, sl),
            run,
            peer=False,
        )
    ]


def _segscore_device() -> list[Contender]:
    """On a GPU: segscore.confusion on device tensors, and the validation-loop accumulator."""
    import segscore
    from segscore.integrations.torch import TensorEvaluator

    def prepare(w: Workload, sl: slice) -> Any:
        p, t = _tensor(w.pred[sl]), _tensor(w.target[sl])
        return (
            p,
            t,
            dict(num_classes=w.num_classes, ignore_index=w.ignore_index, multilabel=w.multilabel),
        )

    def run(s: Any) -> object:
        p, t, options = s
        return segscore.iou(segscore.confusion(p, t, **options))

    def run_accumulator(s: Any) -> object:
        p, t, options = s
        ev = TensorEvaluator(**options)
        for i in range(0, p.shape[0], 16):  # batches of 16, as a validation loop would
            ev.update(p[i : i + 16], t[i : i + 16])
        return ev.compute("iou")

    return [
        Contender(
            "segscore",
            f"segscore.confusion + segscore.iou on {DEVICE} tensors (counts on the device)",
            prepare,
            _synced(run),
            peer=False,
        ),
        Contender(
            "segscore TensorEvaluator",
            f"TensorEvaluator.update per batch of 16 on {DEVICE}, then compute('iou')",
            prepare,
            _synced(run_accumulator),
            peer=False,
        ),
    ]


def _sub(w: Workload, sl: slice) -> Workload:
    return Workload(
        w.name, w.description, w.pred[sl], w.target[sl], w.num_classes, w.ignore_index, w.multilabel
    )


def _rows(w: Workload) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``(pred, target)`` as ``(rows, pixels)``: one row per image, or per image and channel."""
    n = w.pred.shape[0] * (w.pred.shape[1] if w.multilabel else 1)
    return w.pred.reshape(n, -1), w.target.reshape(n, -1)


def _kernel_only() -> list[Contender]:
    from segscore.metrics import _kernel

    def run(w: Workload) -> object:
        p, t = _rows(w)
        if w.num_classes is None:
            return _kernel.binary_counts(p, t)
        return _kernel.confusion_matrix(p, t, w.num_classes, w.ignore_index)

    call = "segscore.metrics._kernel alone (the counting pass, without input validation)"
    return [Contender("segscore kernel", call, lambda w, sl: _sub(w, sl), run, peer=False)]


def _numpy() -> list[Contender]:
    def run(w: Workload) -> object:
        p, t = _rows(w)
        n = p.shape[0]
        if w.num_classes is None:
            tp = np.count_nonzero(p & t, axis=1)
            return tp, np.count_nonzero(p, axis=1), np.count_nonzero(t, axis=1)
        c = w.num_classes
        keep = t != w.ignore_index
        rows = np.broadcast_to(np.arange(n)[:, None], t.shape)[keep]
        keys = (rows * c + t[keep]) * c + p[keep]
        return np.bincount(keys, minlength=n * c * c).reshape(n, c, c)

    call = "count_nonzero(p & t), count_nonzero(p), count_nonzero(t) per row / bincount of keys"
    return [Contender("numpy", call, lambda w, sl: _sub(w, sl), run)]


def _floor() -> list[Contender]:
    if _on_gpu():
        import torch

        def run_device(s: Any) -> object:
            return torch.count_nonzero(s[0]), torch.count_nonzero(s[1])

        call = f"torch.count_nonzero(pred); torch.count_nonzero(target) on {DEVICE}"
        prepare = lambda w, sl: (_tensor(w.pred[sl]), _tensor(w.target[sl]))  # noqa: E731
        return [Contender("floor", call, prepare, _synced(run_device), peer=False)]

    def run(w: Workload) -> object:
        return np.count_nonzero(w.pred), np.count_nonzero(w.target)

    call = "np.count_nonzero(pred); np.count_nonzero(target): one read of both arrays"
    return [Contender("floor", call, lambda w, sl: _sub(w, sl), run, peer=False)]


def _torchmetrics() -> list[Contender]:
    import torch
    from torchmetrics.functional.classification import (
        binary_stat_scores,
        multiclass_stat_scores,
        multilabel_stat_scores,
    )

    def prepare(w: Workload, sl: slice) -> Any:
        p = _tensor(w.pred[sl])
        t = _tensor(w.target[sl])
        if w.multilabel:
            return p.to(torch.uint8), t.to(torch.uint8), -p.shape[1], None
        if w.num_classes is None:
            return p.to(torch.uint8), t.to(torch.uint8), None, None
        return p.long(), t.long(), w.num_classes, w.ignore_index

    def run(s: Any) -> object:
        p, t, c, ignore = s
        if c is None:
            return binary_stat_scores(p, t, multidim_average="samplewise")
        if c < 0:  # multilabel: -C labels
            return multilabel_stat_scores(
                p, t, num_labels=-c, average="none", multidim_average="samplewise"
            )
        return multiclass_stat_scores(
            p, t, num_classes=c, average="none", multidim_average="samplewise", ignore_index=ignore
        )

    call = (
        "binary_stat_scores / multiclass_stat_scores / multilabel_stat_scores(average='none', "
        "multidim_average='samplewise')"
    )
    return [Contender("torchmetrics", call, prepare, _synced(run))]


def _monai() -> list[Contender]:
    import torch
    from monai.metrics.confusion_matrix import get_confusion_matrix

    def prepare(w: Workload, sl: slice) -> Any:
        p = _tensor(w.pred[sl])
        t = _tensor(w.target[sl])
        if w.num_classes is None:
            if w.multilabel:  # (N, C, H, W) masks are MONAI's one-hot input already
                return p.float(), t.float()
            return p[:, None].float(), t[:, None].float()
        c = w.num_classes
        ignore = IGNORE if w.ignore_index is None else w.ignore_index
        valid = t.ne(ignore)
        t_safe = torch.where(valid, t.long(), torch.full_like(t, c, dtype=torch.long))
        # One-hot (N, C, H, W); ignored pixels are all-zero in both, so they count only as tn.
        t_hot = torch.nn.functional.one_hot(t_safe, c + 1)[..., :c].permute(0, 3, 1, 2).float()
        p_hot = torch.nn.functional.one_hot(p.long(), c).permute(0, 3, 1, 2).float()
        p_hot = p_hot * valid[:, None].float()
        return p_hot.contiguous(), t_hot.contiguous()

    def run(s: Any) -> object:
        return get_confusion_matrix(s[0], s[1], include_background=True)

    call = "monai.metrics.get_confusion_matrix on one-hot float tensors (ignored pixels zeroed)"
    return [Contender("MONAI", call, prepare, _synced(run))]


def _smp() -> list[Contender]:

    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError("segmentation_models_pytorch is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "metrics" / "functional.py"
    mspec = importlib.util.spec_from_file_location("_smp_functional", path)
    if mspec is None or mspec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(module)
    get_stats = module.get_stats

    def prepare(w: Workload, sl: slice) -> Any:
        p = _tensor(w.pred[sl]).long()
        t = _tensor(w.target[sl]).long()
        if w.multilabel:
            return p, t, "multilabel", None, None
        if w.num_classes is None:
            return p[:, None], t[:, None], "binary", None, None
        return p, t, "multiclass", w.num_classes, w.ignore_index

    def run(s: Any) -> object:
        p, t, mode, c, ignore = s
        return get_stats(p, t, mode=mode, num_classes=c, ignore_index=ignore)

    call = (
        "get_stats(mode='binary'|'multiclass'|'multilabel') on int64 tensors "
        "(metrics/functional.py by path)"
    )
    return [Contender("smp", call, prepare, _synced(run))]


# ------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    workload: str
    name: str
    seconds: float
    scaled_from: int | None  # images timed when scaled, else None


def _time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bench(c: Contender, w: Workload, repeat: int, budget: float, quick: bool) -> Result:
    n = w.pred.shape[0]
    if not c.peer:
        state = c.prepare(w, slice(None))
        c.run(state)  # warm-up
        return Result(w.name, c.name, _time(lambda: c.run(state), repeat), None)
    n_sub = max(1, n // (20 if quick else 10))
    cap = PEER_IMAGES.get(w.name)
    if cap is not None:
        n_sub = min(n_sub, cap)
    state = c.prepare(w, slice(0, n_sub))
    c.run(state)  # warm-up (lazy imports, allocator)
    probe = _time(lambda: c.run(state), 1)
    if (cap is not None and n_sub < n) or probe * n / n_sub > budget:
        return Result(w.name, c.name, _time(lambda: c.run(state), repeat) * n / n_sub, n_sub)
    del state
    state = c.prepare(w, slice(None))
    return Result(w.name, c.name, _time(lambda: c.run(state), repeat), None)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    parts = [f"{cpu}, {os.cpu_count()} logical cores", f"Python {platform.python_version()}"]
    parts.append(f"numpy {np.__version__}")
    for mod in ("torch", "torchmetrics", "monai"):
        with contextlib.suppress(Exception):
            parts.append(f"{mod} {__import__(mod).__version__}")
    with contextlib.suppress(Exception):
        parts.append(f"torch threads {__import__('torch').get_num_threads()}")
    if _on_gpu():
        import torch

        props = torch.cuda.get_device_properties(torch.device(DEVICE))
        parts.append(
            f"GPU {props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
        )
    with contextlib.suppress(Exception):
        from segscore.metrics import _kernel

        parts.append(f"segscore kernel threads {_kernel.DEFAULT_KERNEL.threads}")
    return "; ".join(parts)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def render(
    results: list[Result], notes: list[str], calls: dict[str, str], workloads: dict[str, str]
) -> str:
    lines = ["| workload | library | time | vs segscore | vs floor |", "|---|---|---:|---:|---:|"]
    by_w: dict[str, dict[str, Result]] = {}
    for r in results:
        by_w.setdefault(r.workload, {})[r.name] = r
    for w, rs in by_w.items():
        base = rs.get("segscore")
        floor = rs.get("floor")
        for r in rs.values():
            mark = f" ~(scaled from {r.scaled_from} images)" if r.scaled_from else ""
            vs_s = f"{r.seconds / base.seconds:.2f}x" if base else "-"
            vs_f = f"{r.seconds / floor.seconds:.2f}x" if floor else "-"
            lines.append(f"| {w} | {r.name} | {_fmt(r.seconds)}{mark} | {vs_s} | {vs_f} |")
    out = ["Workloads:"] + [f"- {k}: {v}" for k, v in workloads.items()]
    out += ["", "Timed calls:"] + [f"- {k}: {v}" for k, v in calls.items()]
    out += ["", *lines]
    if notes:
        out += ["", "Notes:"] + [f"- {n}" for n in notes]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller peer samples")
    parser.add_argument(
        "--workloads",
        default=DEFAULT_WORKLOADS,
        help=f"comma-separated, or 'all' (default {DEFAULT_WORKLOADS}; all: {', '.join(WORKLOADS)})",
    )
    parser.add_argument("--repeat", type=int, default=None, help="repeats for segscore and floor")
    parser.add_argument("--peers-repeat", type=int, default=None, help="repeats for peers")
    parser.add_argument("--peer-budget", type=float, default=4.0, help="seconds before scaling")
    parser.add_argument(
        "--torch-threads", type=int, default=None, help="torch.set_num_threads for the peers"
    )
    parser.add_argument(
        "--libraries", default=None, help="comma-separated subset, e.g. floor,segscore,numpy"
    )
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    parser.add_argument(
        "--device",
        default="cpu",
        help="cpu (numpy arrays, the default) or cuda[:N] (segscore and peers on GPU tensors)",
    )
    args = parser.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    if _on_gpu():
        import torch

        if not torch.cuda.is_available():
            parser.error(f"--device {DEVICE}: torch sees no CUDA device here")
    elif DEVICE != "cpu":
        parser.error(f"--device must be cpu or cuda[:N], got {DEVICE!r}")
    spelled = {k.upper(): k for k in WORKLOADS}
    asked = [n.strip().upper() for n in args.workloads.split(",") if n.strip()]
    if asked == ["ALL"]:
        asked = list(spelled)
    unknown = [n for n in asked if n not in spelled]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)} or 'all'")
    names = [spelled[n] for n in asked]
    repeat = args.repeat or (3 if args.quick else 9)
    peers_repeat = args.peers_repeat or (1 if args.quick else 3)
    warnings.simplefilter("ignore")
    if args.torch_threads is not None:
        with contextlib.suppress(ImportError):
            import torch

            torch.set_num_threads(args.torch_threads)

    notes: list[str] = []
    contenders: list[Contender] = []
    # On a GPU segscore counts device tensors; the numpy contenders have nothing to say there.
    ours = (_segscore_device,) if _on_gpu() else (_segscore, _kernel_only, _numpy)
    for factory in (_floor, *ours, _torchmetrics, _monai, _smp):
        try:
            contenders += factory()
        except Exception as exc:  # a missing or broken peer is skipped, not fatal
            notes.append(f"skipped {factory.__name__.strip('_')}: {type(exc).__name__}: {exc}")

    if args.libraries is not None:
        keep = {n.strip().lower() for n in args.libraries.split(",")}
        contenders = [c for c in contenders if c.name.lower() in keep]
    info = machine()
    print(f"Machine: {info}", flush=True)
    results: list[Result] = []
    workloads: dict[str, str] = {}
    for name in names:
        w = WORKLOADS[name]()
        workloads[name] = w.description
        print(f"{name}: {w.description}", flush=True)
        for c in contenders:
            rep = peers_repeat if c.peer else repeat
            try:
                r = _bench(c, w, rep, args.peer_budget, args.quick)
            except Exception as exc:
                notes.append(f"{c.name} failed on {name}: {type(exc).__name__}: {exc}")
                continue
            results.append(r)
            print(f"  {c.name:<16} {_fmt(r.seconds)}", flush=True)
        del w
    calls = {c.name: c.call for c in contenders}
    notes.append(
        "peer inputs are converted to the peer's documented input format outside the timer; "
        f"median of {repeat} runs (segscore, floor) / {peers_repeat} (numpy and peers); "
        "'~' marks a peer timed on a subsample and scaled linearly to the full workload"
    )
    table = render(results, notes, calls, workloads)
    print()
    print(table)
    if args.markdown is not None:
        args.markdown.write_text(f"Machine: {info}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Object-level metrics on W5 (segscore vs StarDist, cellpose, panoptica, MONAI, torchmetrics),
and the memory of segscore on one image with 5,000 objects.

Usage::

    python -m benchmarks.bench_objects [--images 100] [--repeat 5] [--peers-repeat 3]
        [--slow-images 2] [--peer-budget 20] [--only a,b,d,stardist,...] [--json OUT]
        [--memory | --memory-only] [--memory-peers stardist,cellpose] [--torch-threads N]

W5 (:mod:`benchmarks.objects_data`, CONVENTIONS-objects.md): 100 uint16 label maps 512x512 with
100-200 touching ellipses each, ids random in 1..60000; the prediction is a perturbed copy with
misses, merges, splits and false positives, relabelled with new random ids. Tasks
(:mod:`benchmarks.objects_peers`): (a) F1/precision/recall at IoU 0.5 + PQ/SQ/RQ, pooled; (b) the
DSB2018 score over 0.5:0.05:0.95; (d) AJI. Each library runs its own public API on the same
arrays; conversion to its input (cellpose's relabelling to 1..n, torch tensors) is timed apart.

Before timing, the outputs are checked against segscore's exact counts: StarDist and cellpose
(optimal matching, IoU >= t) per image at all 10 thresholds, panoptica at 0.5, MONAI per image and
torchmetrics pooled against segscore with ``comparison='>'`` (their rule). The floor is one read
of both label maps (``np.count_nonzero`` of each). Times are medians of repeats; a peer whose
warm run on one image predicts more than ``--peer-budget`` seconds for the whole workload is
timed on ``--slow-images`` images and scaled linearly (marked ``*``). ``--memory`` adds the
5,000-object figure: peak memory of ``instance_scores(..., ['f1@0.5', 'pq', 'aji'])`` on one
2048x2048 image (tracemalloc peak and peak-RSS growth, each in a fresh process) against the size
of the two label maps (:mod:`benchmarks.objects_memory`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import objects_peers as peers
from benchmarks.objects_data import make_w5
from benchmarks.objects_memory import memory_report
from benchmarks.run import machine

Array = np.ndarray[Any, Any]
TARGET_FLOOR = 3.0  # segscore within 3x the floor
TARGET_PEER = 10.0  # the fastest peer at least 10x slower than segscore


@dataclass
class Timing:
    library: str
    task: str
    seconds: float  # for the whole workload (scaled when timed on a subsample)
    conversion: float  # seconds to convert the inputs, same scale
    images: int  # images timed
    scaled: bool
    values: dict[str, float] = field(default_factory=dict)


def _median_time(fn: Callable[[], object], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def bench(c: peers.Contender, pred: Array, target: Array, args: argparse.Namespace) -> Timing:
    n = pred.shape[0]
    state = c.prepare(pred[:1], target[:1])
    c.run(state)  # warm-up: lazy imports, JIT compilation, allocator
    # the probe: one image decides whether a peer is timed on all images or on a few, scaled
    probe, _ = _median_time(lambda: c.run(state), 1)
    subset = c.peer and probe * n > args.peer_budget
    m = min(args.slow_images, n) if subset else n
    start = time.perf_counter()
    state = c.prepare(pred[:m], target[:m])
    conversion = time.perf_counter() - start
    repeat = (args.slow_repeat if subset else args.peers_repeat) if c.peer else args.repeat
    seconds, values = _median_time(lambda: c.run(state), repeat)
    scale = n / m
    return Timing(c.library, c.task, seconds * scale, conversion * scale, m, m < n, values)


# -- agreement checks ---------------------------------------------------------------------------------
def _segscore_counts(pred: Array, target: Array, comparison: str) -> Any:
    from segscore.metrics.instance import instance_counts, overlap_table

    tables = overlap_table(pred, target)
    return instance_counts(tables, thresholds=peers.THRESHOLDS, comparison=comparison)  # type: ignore[arg-type]


def _compare(name: str, ours: Array, theirs: Array, what: str) -> str:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    bad = int(np.count_nonzero(ours != theirs))
    verdict = "EQUAL" if bad == 0 else f"DIFFER in {bad} of {ours.size}"
    return f"{name}: {what}: {verdict}"


def check(pred: Array, target: Array, libraries: set[str], n_slow: int) -> list[str]:
    """Compare every peer's outputs with segscore's exact counts (see the module docstring)."""
    import segscore

    n = pred.shape[0]
    ge = _segscore_counts(pred, target, ">=")
    gt = _segscore_counts(pred, target, ">")
    lines = [
        f"segscore: {int(ge.tp[:, 0].sum())} TP, {int(ge.fp[:, 0].sum())} FP, "
        f"{int(ge.fn[:, 0].sum())} FN at IoU >= 0.5; {int((ge.tp - gt.tp)[:, 0].sum())} pairs "
        f"with IoU exactly 0.5 (TP with '>': {int(gt.tp[:, 0].sum())})"
    ]
    cells = f"tp/fp/fn per image at 10 thresholds ({n} x 10 x 3)"
    if "stardist" in libraries:
        m = peers.load_stardist()
        rows = [
            m.matching(t, p, thresh=peers.THRESHOLDS) for p, t in zip(pred, target, strict=True)
        ]
        theirs = np.array([[[r.tp, r.fp, r.fn] for r in row] for row in rows])
        ours = np.stack([ge.tp, ge.fp, ge.fn], axis=-1)
        lines.append(_compare("stardist matching (optimal, >=)", ours, theirs, cells))
    if "cellpose" in libraries:
        m = peers.load_cellpose()
        _, tp, fp, fn = m.average_precision(
            peers.relabel(target), peers.relabel(pred), threshold=peers.THRESHOLDS
        )
        ours = np.stack([ge.tp, ge.fp, ge.fn], axis=-1)
        lines.append(
            _compare(
                "cellpose average_precision (optimal, >=)",
                ours,
                np.stack([tp, fp, fn], axis=-1),
                cells,
            )
        )
        aji = segscore.instance_scores(pred, target, ["aji", "aji+"])
        theirs_aji = float(
            m.aggregated_jaccard_index(peers.relabel(target), peers.relabel(pred)).mean()
        )
        lines.append(
            f"AJI (mean over {n} images): segscore Kumar {aji['aji'].value:.4f}, AJI+ "
            f"{aji['aji+'].value:.4f}; cellpose variant {theirs_aji:.4f} (a different definition: "
            "0.5-optimal assignment, denominator = union of all foreground; no peer computes Kumar)"
        )
    k = min(n_slow, n)
    few = f"tp/fp/fn per image at 0.5 (first {k} images)"
    if "panoptica" in libraries:
        peers.panoptica_contenders()  # silences its citation banner
        ev = peers.panoptica_evaluator(0.5)
        theirs = np.array([peers.panoptica_counts(ev, pred[i], target[i])[:3] for i in range(k)])
        ours = np.stack([ge.tp[:k, 0], ge.fp[:k, 0], ge.fn[:k, 0]], axis=-1)
        lines.append(_compare("panoptica Naive (greedy, >=)", ours, theirs, few))
    if "MONAI" in libraries:
        p, t = peers._int32_tensors(pred[:k], target[:k])
        c = np.array([peers.monai_counts(p[i], t[i]) for i in range(k)], dtype=np.float64)
        ours = np.stack([gt.tp[:k, 0], gt.fp[:k, 0], gt.fn[:k, 0]], axis=-1)
        diff = float(np.max(np.abs(c[:, 3] - gt.score_sum[:k, 0])))
        lines.append(
            _compare(
                "MONAI compute_panoptic_quality (>) vs segscore comparison='>'", ours, c[:, :3], few
            )
            + f"; max |IoU sum diff| {diff:.1e}"
        )
    if "torchmetrics" in libraries:
        theirs = peers.torchmetrics_pq(peers.torchmetrics_input(pred[:k], target[:k]))
        r = segscore.instance_scores(
            pred[:k], target[:k], ["pq", "sq", "rq"], comparison=">", aggregation="pooled"
        )
        diff = max(abs(theirs[key] - r[key].value) for key in ("pq", "sq", "rq"))
        verdict = "EQUAL" if diff < 1e-6 else "DIFFER"
        lines.append(
            f"torchmetrics panoptic_quality (>) vs segscore comparison='>': pooled "
            f"PQ/SQ/RQ on the first {k} images: {verdict} (max diff {diff:.1e})"
        )
    return lines


# -- report ---------------------------------------------------------------------------------------------
def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _values(t: Timing) -> str:
    keys = ("f1", "pq", "sq", "dsb", "aji")
    return ", ".join(f"{k} {t.values[k]:.4f}" for k in keys if k in t.values)


def render(timings: list[Timing], n: int) -> tuple[str, dict[str, Any]]:
    lines = [
        f"| task | library | time ({n} images) | conversion | vs segscore | vs floor | values |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    ratios: dict[str, Any] = {}
    for task in peers.TASKS:
        rows = [t for t in timings if t.task == task]
        ours = next((t for t in rows if t.library == "segscore"), None)
        floor = next((t for t in rows if t.library == "floor"), None)
        for t in rows:
            mark = f" *(n={t.images})" if t.scaled else ""
            conv = _fmt(t.conversion) if t.conversion > 1e-3 else "-"
            vs_s = f"{t.seconds / ours.seconds:.1f}x" if ours else "-"
            vs_f = f"{t.seconds / floor.seconds:.1f}x" if floor else "-"
            vals = _values(t) + (f" (first {t.images} images)" if t.scaled else "")
            lines.append(
                f"| {task} | {t.library} | {_fmt(t.seconds)}{mark} | {conv} | {vs_s} | "
                f"{vs_f} | {vals} |"
            )
        others = [t for t in rows if t.library not in ("segscore", "floor")]
        if ours and floor:
            r: dict[str, Any] = {"segscore_vs_floor": ours.seconds / floor.seconds}
            if others:
                best = min(others, key=lambda t: t.seconds)
                r.update(fastest_peer=best.library, peer_vs_segscore=best.seconds / ours.seconds)
            ratios[task] = r
    out = ["", *lines, "", "Ratios (targets: segscore <= 3x floor, fastest peer >= 10x segscore):"]
    for task, r in ratios.items():
        s = (
            f"- ({task}) {peers.TASKS[task]}: segscore / floor = {r['segscore_vs_floor']:.1f}x "
            f"({'met' if r['segscore_vs_floor'] <= TARGET_FLOOR else 'NOT met'})"
        )
        if "fastest_peer" in r:
            s += (
                f"; fastest peer {r['fastest_peer']} / segscore = {r['peer_vs_segscore']:.1f}x "
                f"({'met' if r['peer_vs_segscore'] >= TARGET_PEER else 'NOT met'})"
            )
        out.append(s)
    return "\n".join(out), ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100, help="W5 images (default 100)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats for segscore and floor")
    parser.add_argument("--peers-repeat", type=int, default=3, help="repeats for peers")
    parser.add_argument("--slow-images", type=int, default=2, help="images for scaled peers")
    parser.add_argument("--slow-repeat", type=int, default=1, help="repeats for scaled peers")
    parser.add_argument("--peer-budget", type=float, default=20.0, help="seconds before scaling")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated tasks (a,b,d) and/or libraries "
        f"({','.join(peers.FACTORIES)}); floor and segscore always run",
    )
    parser.add_argument("--no-check", action="store_true", help="skip the agreement checks")
    parser.add_argument("--memory", action="store_true", help="add the 5,000-object figure")
    parser.add_argument("--memory-only", action="store_true", help="only the 5,000-object figure")
    parser.add_argument(
        "--memory-peers",
        default="",
        help="also measure these on the 5,000-object image (stardist,cellpose)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch.set_num_threads for MONAI/torchmetrics",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.torch_threads is not None:
        with contextlib.suppress(ImportError):
            import torch

            torch.set_num_threads(args.torch_threads)
    info = machine()
    print(f"Machine: {info}", flush=True)
    report: dict[str, Any] = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
    if not args.memory_only:
        report.update(run_w5(args))
    if args.memory or args.memory_only:
        extra = [s.strip() for s in args.memory_peers.split(",") if s.strip()]
        report["memory"] = memory_report(["segscore", *extra])
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, default=float) + "\n")
        print(f"wrote {args.json}")
    return 0


def run_w5(args: argparse.Namespace) -> dict[str, Any]:
    only = {s.strip() for s in (args.only or "").split(",") if s.strip()}
    tasks = [t for t in peers.TASKS if not only & set(peers.TASKS) or t in only]
    named = {lib for lib in peers.FACTORIES if lib.lower() in {s.lower() for s in only}}
    libraries = [
        lib for lib in peers.FACTORIES if not named or lib in named or lib in ("floor", "segscore")
    ]
    start = time.perf_counter()
    pred, target = make_w5(args.images)
    n_obj = sum(int(np.count_nonzero(np.bincount(t.ravel())[1:])) for t in target)
    desc = (
        f"W5: {args.images} uint16 label maps 512x512, {n_obj} target objects "
        f"(generated in {time.perf_counter() - start:.1f} s)"
    )
    print(desc, flush=True)
    contenders: list[peers.Contender] = []
    notes: list[str] = []
    for lib in libraries:
        try:
            contenders += [c for c in peers.FACTORIES[lib]() if c.task in tasks]
        except Exception as exc:  # a missing peer is skipped, not fatal
            notes.append(f"skipped {lib}: {type(exc).__name__}: {exc}")
    if "stardist" in libraries and not peers._importable("numba"):
        notes.append("numba is absent: stardist's overlap runs as a plain-Python pixel loop")
    present = {c.library for c in contenders}
    checks: list[str] = []
    if not args.no_check:
        print("\nAgreement checks (before timing):", flush=True)
        for line in check(pred, target, present, args.slow_images):
            print(f"- {line}", flush=True)
            checks.append(line)
    print("\nTimed calls:")
    for c in contenders:
        print(f"- ({c.task}) {c.library}: {c.call}", flush=True)
    timings = []
    for c in contenders:
        try:
            t = bench(c, pred, target, args)
        except Exception as exc:
            notes.append(f"{c.library} failed on ({c.task}): {type(exc).__name__}: {exc}")
            continue
        timings.append(t)
        mark = f" * (timed on {t.images} images)" if t.scaled else ""
        print(f"  ({c.task}) {c.library:<13} {_fmt(t.seconds)}{mark}  {_values(t)}", flush=True)
    table, ratios = render(timings, args.images)
    print(table)
    notes.append(
        f"median of {args.repeat} runs (segscore, floor) / {args.peers_repeat} (peers) / "
        f"{args.slow_repeat} (peers timed on {args.slow_images} images and scaled, '*'); "
        "conversion to the peer's input is timed apart; MONAI and torchmetrics count IoU > t, "
        "the others IoU >= t"
    )
    print("\nNotes:\n" + "\n".join(f"- {s}" for s in notes))
    return {
        "workload": desc,
        "checks": checks,
        "timings": [asdict(t) for t in timings],
        "ratios": ratios,
        "notes": notes,
    }


if __name__ == "__main__":
    sys.exit(main())

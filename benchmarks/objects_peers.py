"""The object-level benchmark's contenders: segscore, the floor and five peer libraries.

Every contender answers the same three tasks of W5 (CONVENTIONS-objects.md §2) through its own
public API; ``prepare`` converts the label maps to its documented input (timed separately, as
"conversion") and ``run`` is what is timed. Each ``run`` returns the task's values as a dict:

- ``a``: detection at IoU 0.5 and panoptic quality, pooled over the images (StarDist's
  ``matching_dataset`` default): ``tp``, ``fp``, ``fn``, ``precision``, ``recall``, ``f1`` and,
  where the library has them, ``pq``, ``sq``, ``rq``;
- ``b``: the DSB2018 score: per image the mean over t in 0.5:0.05:0.95 of TP/(TP+FP+FN), then the
  mean over images (``dsb``);
- ``d``: the aggregated Jaccard index, mean over images (``aji``; segscore: Kumar 2017; cellpose:
  its own variant, CONVENTIONS-objects §3 #8: not the same number).

Peers that are not installed are skipped by the caller. StarDist and cellpose are loaded by file
path (``stardist/matching.py``, ``cellpose/metrics.py``) with stubs for the imports their metric
functions do not use, as ``tests/metrics/_peers.py`` does (numba is used when importable).
"""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]
THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
"""DSB2018's thresholds, each the float nearest its decimal (not ``np.arange``'s spelling)."""
SEGSCORE_A = ["f1@0.5", "precision@0.5", "recall@0.5", "pq", "sq", "rq"]
TASKS = {
    "a": "F1, precision, recall at IoU 0.5 + PQ/SQ/RQ (pooled)",
    "b": "DSB2018 score: mean TP/(TP+FP+FN) over 0.5:0.05:0.95, per image, then mean",
    "d": "AJI, mean over images",
}


@dataclass
class Contender:
    library: str
    task: str
    call: str  # what is timed, in words
    prepare: Callable[[Array, Array], Any]  # (pred, target) -> state; timed as conversion
    run: Callable[[Any], dict[str, float]]
    peer: bool = True
    strict: bool = False  # IoU > t instead of >= t


def _pooled(tp: float, fp: float, fn: float, iou_sum: float | None = None) -> dict[str, float]:
    out = {"tp": tp, "fp": fp, "fn": fn}
    out["precision"] = tp / (tp + fp) if tp + fp else float("nan")
    out["recall"] = tp / (tp + fn) if tp + fn else float("nan")
    out["f1"] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    if iou_sum is not None:
        out["sq"] = iou_sum / tp if tp else float("nan")
        out["rq"] = out["f1"]
        out["pq"] = out["sq"] * out["rq"] if tp else 0.0
    return out


def _as_arrays(pred: Array, target: Array) -> tuple[Array, Array]:
    return pred, target


# -- segscore and the floor --------------------------------------------------------------------------
def segscore_contenders() -> list[Contender]:
    import segscore

    def run_a(s: tuple[Array, Array]) -> dict[str, float]:
        r = segscore.instance_scores(s[0], s[1], SEGSCORE_A, aggregation="pooled")
        out = {k.split("@")[0]: v.value for k, v in r.items()}
        return out

    def run_b(s: tuple[Array, Array]) -> dict[str, float]:
        return {"dsb": segscore.instance_scores(s[0], s[1], ["dsb@0.5:0.95"])["dsb@0.5:0.95"].value}

    def run_d(s: tuple[Array, Array]) -> dict[str, float]:
        return {"aji": segscore.instance_scores(s[0], s[1], ["aji"])["aji"].value}

    call = "segscore.instance_scores(pred, target, {}{})"
    return [
        Contender(
            "segscore",
            "a",
            call.format(SEGSCORE_A, ", aggregation='pooled'"),
            _as_arrays,
            run_a,
            peer=False,
        ),
        Contender(
            "segscore", "b", call.format(["dsb@0.5:0.95"], ""), _as_arrays, run_b, peer=False
        ),
        Contender("segscore", "d", call.format(["aji"], ""), _as_arrays, run_d, peer=False),
    ]


def floor_contenders() -> list[Contender]:
    def run(s: tuple[Array, Array]) -> dict[str, float]:
        return {"nonzero": float(np.count_nonzero(s[0]) + np.count_nonzero(s[1]))}

    call = "np.count_nonzero(pred); np.count_nonzero(target): one read of both label maps"
    return [Contender("floor", t, call, _as_arrays, run, peer=False) for t in TASKS]


# -- StarDist ----------------------------------------------------------------------------------------
def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _load(path: Path, name: str, stubs: dict[str, Any]) -> types.ModuleType:
    """Execute ``path`` as module ``name`` with ``stubs`` in ``sys.modules`` (restored after)."""
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for k, old in saved.items():
            if old is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = old
    return module


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def load_stardist() -> types.ModuleType:
    """``stardist/matching.py`` (installed with ``--no-deps``: csbdeep is absent)."""

    def _raise(e: BaseException) -> Any:
        raise e

    stubs: dict[str, Any] = {
        "csbdeep": types.SimpleNamespace(),
        "csbdeep.utils": types.SimpleNamespace(_raise=_raise),
    }
    if not _importable("numba"):  # plain-Python pixel loop: very slow, reported by the caller
        stubs["numba"] = types.SimpleNamespace(jit=lambda *a, **k: lambda f: f)
    if not _importable("tqdm"):
        stubs["tqdm"] = types.SimpleNamespace(tqdm=lambda it, **k: it)
    if not _importable("skimage"):
        stubs["skimage"] = types.SimpleNamespace()
        stubs["skimage.measure"] = types.SimpleNamespace(regionprops=None)
    return _load(_package_dir("stardist") / "matching.py", "_bench_stardist_matching", stubs)


def stardist_contenders() -> list[Contender]:
    m = load_stardist()

    def lists(pred: Array, target: Array) -> tuple[list[Array], list[Array]]:
        return list(target), list(pred)  # y_true, y_pred

    def run_a(s: Any) -> dict[str, float]:
        r = m.matching_dataset(s[0], s[1], thresh=0.5, by_image=False, show_progress=False)
        out = _pooled(r.tp, r.fp, r.fn)
        out.update(pq=r.panoptic_quality, sq=r.mean_matched_score, rq=r.f1)
        return out

    def run_b(s: Any) -> dict[str, float]:
        rs = m.matching_dataset(s[0], s[1], thresh=THRESHOLDS, by_image=True, show_progress=False)
        return {"dsb": float(np.mean([r.accuracy for r in rs]))}

    call = "stardist.matching.matching_dataset(y_true, y_pred, thresh={}, by_image={})"
    return [
        Contender("stardist", "a", call.format(0.5, False), lists, run_a),
        Contender("stardist", "b", call.format("[0.5..0.95]", True), lists, run_b),
    ]


# -- cellpose ----------------------------------------------------------------------------------------
def load_cellpose() -> types.ModuleType:
    """``cellpose/metrics.py`` (``import cellpose`` needs fastremap; ``utils`` is stubbed: only
    ``boundary_scores``, not timed, uses it)."""
    package = types.ModuleType("_bench_cellpose")
    package.__path__ = []
    stubs = {"_bench_cellpose": package, "_bench_cellpose.utils": types.ModuleType("utils")}
    path = _package_dir("cellpose") / "metrics.py"
    return _load(path, "_bench_cellpose.metrics", stubs)


def relabel(labels: Array) -> list[Array]:
    """Each image's ids as 1..n (cellpose's dense ``(max id + 1)^2`` matrices need it), int32."""
    out = []
    for lab in labels:
        ids, inverse = np.unique(lab, return_inverse=True)
        codes = inverse.reshape(lab.shape).astype(np.int32)
        if ids[0] != 0:
            codes += 1
        out.append(codes)
    return out


def cellpose_contenders() -> list[Contender]:
    m = load_cellpose()

    def lists(pred: Array, target: Array) -> tuple[list[Array], list[Array]]:
        return relabel(target), relabel(pred)  # masks_true, masks_pred

    def run_a(s: Any) -> dict[str, float]:
        _, tp, fp, fn = m.average_precision(s[0], s[1], threshold=[0.5])
        return _pooled(float(tp.sum()), float(fp.sum()), float(fn.sum()))

    def run_b(s: Any) -> dict[str, float]:
        ap, _, _, _ = m.average_precision(s[0], s[1], threshold=THRESHOLDS)
        return {"dsb": float(ap.mean(axis=1).mean())}

    def run_d(s: Any) -> dict[str, float]:
        return {"aji": float(m.aggregated_jaccard_index(s[0], s[1]).mean())}

    return [
        Contender(
            "cellpose", "a", "cellpose.metrics.average_precision(threshold=[0.5])", lists, run_a
        ),
        Contender(
            "cellpose",
            "b",
            "cellpose.metrics.average_precision(threshold=[0.5..0.95])",
            lists,
            run_b,
        ),
        Contender(
            "cellpose", "d", "cellpose.metrics.aggregated_jaccard_index (its variant)", lists, run_d
        ),
    ]


# -- panoptica ---------------------------------------------------------------------------------------
def panoptica_evaluator(threshold: float) -> Any:
    from panoptica import InputType, Metric, NaiveThresholdMatching, Panoptica_Evaluator

    return Panoptica_Evaluator(
        expected_input=InputType.UNMATCHED_INSTANCE,
        instance_matcher=NaiveThresholdMatching(
            matching_metric=Metric.IOU, matching_threshold=threshold
        ),
        instance_metrics=[Metric.IOU],
        global_metrics=[],
    )


def panoptica_counts(evaluator: Any, pred: Array, target: Array) -> tuple[int, int, int, float]:
    """(tp, fp, fn, IoU sum) of one image."""
    r = evaluator.evaluate(pred, target, verbose=False)["ungrouped"]
    return r.tp, r.fp, r.fn, (r.sq * r.tp if r.tp else 0.0)


def panoptica_contenders() -> list[Contender]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from panoptica.utils.citation_reminder import disable_citation_reminder

        disable_citation_reminder()
    at_half = panoptica_evaluator(0.5)
    sweep = [panoptica_evaluator(t) for t in THRESHOLDS]

    def run_a(s: tuple[Array, Array]) -> dict[str, float]:
        c = np.array([panoptica_counts(at_half, p, t) for p, t in zip(*s, strict=True)])
        return _pooled(*c.sum(axis=0))

    def run_b(s: tuple[Array, Array]) -> dict[str, float]:
        per_image = []
        for p, t in zip(*s, strict=True):
            c = np.array([panoptica_counts(ev, p, t)[:3] for ev in sweep], dtype=float)
            per_image.append(np.mean(c[:, 0] / c.sum(axis=1)))
        return {"dsb": float(np.mean(per_image))}

    call = "Panoptica_Evaluator(UNMATCHED_INSTANCE, NaiveThresholdMatching(IOU, {}), instance_metrics=[IOU]).evaluate per image"
    return [
        Contender("panoptica", "a", call.format(0.5), _as_arrays, run_a),
        Contender("panoptica", "b", call.format("t") + ", one evaluator per t", _as_arrays, run_b),
    ]


# -- MONAI and torchmetrics (IoU > t) -----------------------------------------------------------------
def _int32_tensors(pred: Array, target: Array) -> tuple[Any, Any]:
    import torch

    return torch.from_numpy(pred.astype(np.int32)), torch.from_numpy(target.astype(np.int32))


def monai_counts(pred: Any, target: Any, threshold: float = 0.5) -> Any:
    """MONAI's (tp, fp, fn, IoU sum) of one image, as numpy."""
    from monai.metrics import compute_panoptic_quality

    return compute_panoptic_quality(
        pred, target, match_iou_threshold=threshold, output_confusion_matrix=True
    ).numpy()


def monai_contenders() -> list[Contender]:
    import monai.metrics  # noqa: F401  (fail early when absent)

    def run_a(s: Any) -> dict[str, float]:
        c = np.array([monai_counts(p, t) for p, t in zip(*s, strict=True)], dtype=np.float64)
        return _pooled(*c.sum(axis=0))

    def run_b(s: Any) -> dict[str, float]:
        per_image = []
        for p, t in zip(*s, strict=True):
            c = np.array([monai_counts(p, t, th)[:3] for th in THRESHOLDS], dtype=np.float64)
            per_image.append(np.mean(c[:, 0] / c.sum(axis=1)))
        return {"dsb": float(np.mean(per_image))}

    call = "monai.metrics.compute_panoptic_quality(pred, gt, match_iou_threshold={}, output_confusion_matrix=True) per image"
    return [
        Contender("MONAI", "a", call.format(0.5), _int32_tensors, run_a, strict=True),
        Contender(
            "MONAI",
            "b",
            call.format("t") + ", 10 calls per image",
            _int32_tensors,
            run_b,
            strict=True,
        ),
    ]


def torchmetrics_input(pred: Array, target: Array) -> tuple[Any, Any]:
    """(N, H, W, 2) int64 tensors of (category, instance): category 1 = object, 0 = background."""
    import torch

    def pair(a: Array) -> Any:
        x = torch.from_numpy(a.astype(np.int64))
        return torch.stack([(x > 0).long(), x], dim=-1)

    return pair(pred), pair(target)


def torchmetrics_pq(s: tuple[Any, Any]) -> dict[str, float]:
    from torchmetrics.functional.detection import panoptic_quality

    # background declared a stuff; the thing row (first) read (CONVENTIONS-objects §3 #5)
    out = panoptic_quality(*s, things={1}, stuffs={0}, return_sq_and_rq=True, return_per_class=True)
    pq, sq, rq = (float(v) for v in out[0])
    return {"pq": pq, "sq": sq, "rq": rq}


def torchmetrics_contenders() -> list[Contender]:
    import torchmetrics.functional.detection  # noqa: F401

    call = (
        "torchmetrics.functional.detection.panoptic_quality((N,H,W,2), things={1}, "
        "stuffs={0}, return_sq_and_rq=True, return_per_class=True)"
    )
    return [Contender("torchmetrics", "a", call, torchmetrics_input, torchmetrics_pq, strict=True)]


FACTORIES: dict[str, Callable[[], list[Contender]]] = {
    "floor": floor_contenders,
    "segscore": segscore_contenders,
    "stardist": stardist_contenders,
    "cellpose": cellpose_contenders,
    "panoptica": panoptica_contenders,
    "MONAI": monai_contenders,
    "torchmetrics": torchmetrics_contenders,
}

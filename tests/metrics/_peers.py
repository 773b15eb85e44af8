"""The peer libraries behind the per-metric reference functions, and their input adapters.

Each peer is imported on first use with :func:`pytest.importorskip`, so a missing peer skips only
the checks built on it. The adapters turn an input case of :mod:`._inputs` into what the peer takes:

- scikit-learn scores flat vectors. :func:`sklearn_rows` gives one row per image, then one pooled
  over the images: label vectors of the counted pixels (the ignored ones dropped, pixel-mask
  semantics, CONVENTIONS §5.4) with ``labels=range(C)``, so that a prediction of the ignore label
  on a counted pixel is a false negative of the target's class and a false positive of none
  (segscore's rule); multilabel rows are (pixels, C) indicator matrices. :func:`segscore_rows`
  gives segscore's counts in the same row order.
- torchmetrics raises on a prediction outside ``[0, C)`` even with ``ignore_index``:
  :func:`torchmetrics_labels` replaces predicted ignore labels by class 0 (segscore counts the
  same replaced arrays, :func:`torchmetrics_counts`).
- MONAI takes one-hot tensors (N, C, *S): :func:`monai_one_hot`.
- segmentation_models_pytorch: importing the package needs timm and torchvision, so only
  ``segmentation_models_pytorch/metrics/functional.py`` (pure torch) is loaded, by path
  (:func:`smp_functional`). :data:`SMP_REDUCTIONS` maps its reductions onto segscore's
  aggregations.
"""

from __future__ import annotations

import functools
import importlib.util
import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import segscore
from segscore.metrics.counts import Counts

from ._inputs import Case, as_label_maps, one_hot

F32 = {"rtol": 1e-6, "atol": 1e-7}  # peers that compute in float32
F64 = {"rtol": 1e-12, "atol": 1e-15}  # the same formula; only the order of float operations differs


# -- peers, imported on first use ------------------------------------------------------------------
def sklearn_metrics() -> Any:
    return pytest.importorskip("sklearn.metrics")


def torch() -> Any:
    return pytest.importorskip("torch")


def torchmetrics_classification() -> Any:
    torch()
    return pytest.importorskip("torchmetrics.functional.classification")


def torchmetrics_segmentation() -> Any:
    torch()
    return pytest.importorskip("torchmetrics.functional.segmentation")


def monai_metrics() -> Any:
    torch()
    return pytest.importorskip("monai.metrics")


@functools.cache
def _load_smp_functional() -> Any:
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "metrics" / "functional.py"
    module_spec = importlib.util.spec_from_file_location("_smp_metrics_functional", path)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def smp_functional() -> Any:
    torch()
    module = _load_smp_functional()
    if module is None:
        pytest.skip("segmentation_models_pytorch is not installed")
    return module


# -- scikit-learn ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlatRow:
    """One image (or the pooled images) as scikit-learn's flat inputs."""

    target: np.ndarray  # (pixels,) labels, or (pixels, C) indicator for multilabel
    pred: np.ndarray
    labels: list[int]

    def one_vs_rest(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Boolean (target, pred) vectors of class ``k`` against the rest."""
        if self.target.ndim == 2:
            return self.target[:, k] == 1, self.pred[:, k] == 1
        return self.target == k, self.pred == k


def sklearn_rows(case: Case) -> list[FlatRow]:
    """Per image, then pooled over the images (the row order of :func:`segscore_rows`)."""
    if case.mode == "multilabel":
        c = case.num_classes

        def flat(a: np.ndarray) -> np.ndarray:  # (n, C, *S) -> (n * prod(S), C)
            return np.moveaxis(a, 1, -1).reshape(-1, c).astype(np.int64)

        images = [slice(n, n + 1) for n in range(case.pred.shape[0])]
        return [
            FlatRow(flat(case.target[s]), flat(case.pred[s]), list(range(c)))
            for s in [*images, slice(None)]
        ]
    pred, target, c = as_label_maps(case)
    labels = [1] if case.mode == "binary" else list(range(c))
    rows = []
    for n in [*range(pred.shape[0]), None]:
        t = target.ravel() if n is None else target[n].ravel()
        p = pred.ravel() if n is None else pred[n].ravel()
        keep = t != case.ignore_index if case.ignore_index is not None else np.ones(t.shape, bool)
        rows.append(FlatRow(t[keep].astype(np.int64), p[keep].astype(np.int64), labels))
    return rows


def segscore_counts(case: Case) -> Counts:
    return segscore.confusion(case.pred, case.target, **case.confusion_kwargs())


def segscore_rows(case: Case) -> Counts:
    """segscore's counts per image, then pooled over the images: shape (N + 1, C)."""
    counts = segscore_counts(case)
    pooled = counts.sum(axis=0)
    return Counts.concat(
        [counts, Counts(pooled.tp[None], pooled.fp[None], pooled.fn[None], pooled.tn[None])]
    )


def sklearn_score(
    fn: Any, row: FlatRow, average: str, zero_division: float, **kwargs: Any
) -> np.ndarray:
    """``fn(target, pred, labels=..., average=..., zero_division=...)`` in segscore's conventions.

    ``average="none"`` is scikit-learn's ``average=None``. A weighted mean over classes that all
    have zero support is, in both libraries, the plain mean of the per-class values.
    """
    value = fn(
        row.target,
        row.pred,
        labels=row.labels,
        average=None if average == "none" else average,
        zero_division=zero_division,
        **kwargs,
    )
    return np.asarray(value, dtype=np.float64)


def sklearn_one_vs_rest(fn: Any, row: FlatRow, average: str) -> np.ndarray:
    """``fn(target_k, pred_k)`` on each class's boolean vectors against the rest.

    'micro' applies ``fn`` once to the classes' vectors joined end to end (the counts summed over
    the classes); 'macro' and 'weighted' average the per-class values skipping NaN, 'weighted' by
    the target support of each class (NaN when nothing is left to average).
    """
    pairs = [row.one_vs_rest(k) for k in row.labels]
    if average == "micro":
        return np.asarray(
            fn(np.concatenate([t for t, _ in pairs]), np.concatenate([p for _, p in pairs])),
            dtype=np.float64,
        )
    values = np.array([fn(t, p) for t, p in pairs], dtype=np.float64)
    if average == "none":
        return values
    weights = np.array(
        [1.0 if average == "macro" else float(t.sum()) for t, _ in pairs], dtype=np.float64
    )
    weights[np.isnan(values)] = 0.0
    if average == "weighted" and weights.sum() == 0:  # no target pixel: the plain mean
        weights = (~np.isnan(values)).astype(np.float64)
    if weights.sum() == 0:
        return np.asarray(np.nan)
    return np.asarray(np.sum(np.nan_to_num(values) * weights) / weights.sum())


# -- torchmetrics ----------------------------------------------------------------------------------
def as_tensor(a: np.ndarray) -> Any:
    return torch().from_numpy(np.ascontiguousarray(a))


def torchmetrics_labels(case: Case) -> tuple[np.ndarray, np.ndarray, int]:
    """Label maps with predicted ignore labels replaced by class 0 (binary: 2-class maps)."""
    pred, target, c = as_label_maps(case)
    if case.ignore_index is not None:
        pred = np.where(pred == case.ignore_index, 0, pred)
    return pred, target, c


def torchmetrics_counts(case: Case) -> Counts:
    """segscore's counts of :func:`torchmetrics_labels` (2 classes for binary cases)."""
    pred, target, c = torchmetrics_labels(case)
    return segscore.confusion(pred, target, num_classes=c, ignore_index=case.ignore_index)


# -- MONAI -----------------------------------------------------------------------------------------
def monai_one_hot(case: Case, *, mask_ignored: bool = True) -> tuple[Any, Any]:
    """float64 one-hot (pred, target) tensors of shape (N, C, *S).

    Ignored pixels are all-zero in the one-hot target, and a prediction of the ignore label on a
    counted pixel is all-zero in the one-hot prediction (a false negative, segscore's rule). With
    ``mask_ignored`` the ignored pixels are zeroed in the prediction too: they are then true
    negatives of every class, which the scores built on tp, fp and fn do not use.
    """
    if case.mode == "multilabel":
        p, t = case.pred.astype(np.float64), case.target.astype(np.float64)
    elif case.mode == "binary":
        p, t = case.pred[:, None].astype(np.float64), case.target[:, None].astype(np.float64)
    else:
        p, t = one_hot(case.pred, case.num_classes), one_hot(case.target, case.num_classes)
        if mask_ignored and case.ignore_index is not None:
            p = p * (case.target != case.ignore_index)[:, None]
    return as_tensor(p), as_tensor(t)


def monai_confusion(case: Case) -> Any:
    """MONAI's (N, C, 4) counts tp, fp, tn, fn (its order), ignored pixels left out."""
    p, t = monai_one_hot(case, mask_ignored=False)
    return monai_metrics().get_confusion_matrix(p, t, ignore_index=case.ignore_index)


def monai_count_metric(case: Case, name: str) -> Any:
    """MONAI's ``compute_confusion_matrix_metric(name, ...)`` per (image, class): NaN for 0/0."""
    return monai_metrics().compute_confusion_matrix_metric(name, monai_confusion(case))


# -- segmentation_models_pytorch -------------------------------------------------------------------
SMP_REDUCTIONS = {
    "macro": "pooled",
    "micro": "pooled_micro",
    "micro-imagewise": "per_image_micro",
    "macro-imagewise": "images_then_classes",
}


def smp_stats(case: Case) -> tuple[Any, Any, Any, Any]:
    """SMP's (tp, fp, fn, tn), each (N, C) int64."""
    smp = smp_functional()
    p = as_tensor(case.pred.astype(np.int64))
    t = as_tensor(case.target.astype(np.int64))
    if case.mode == "binary":
        return smp.get_stats(p[:, None], t[:, None], mode="binary")
    if case.mode == "multilabel":
        return smp.get_stats(p, t, mode="multilabel")
    return smp.get_stats(
        p, t, mode="multiclass", num_classes=case.num_classes, ignore_index=case.ignore_index
    )


def smp_score(case: Case, name: str, reduction: str, zero_division: float, **kw: Any) -> Any:
    """SMP's score ``name`` on float64 stats (double precision, as segscore)."""
    fn = getattr(smp_functional(), name)
    stats = [s.double() for s in smp_stats(case)]
    return fn(*stats, reduction=reduction, zero_division=zero_division, **kw).numpy()


def segscore_like_smp(case: Case, metric: str, reduction: str, zero_division: float) -> Any:
    """segscore's number for SMP's ``reduction``: the cells for 'none', else the aggregation."""
    s = segscore.score(
        segscore_counts(case),
        metric,
        aggregation=SMP_REDUCTIONS.get(reduction, "images_then_classes"),
        empty=zero_division,
    )
    return s.cells if reduction == "none" else s.value


MONAI_REDUCTIONS = ("none", "mean", "mean_batch", "mean_channel")


def monai_reduce(cells: Any, reduction: str) -> np.ndarray:
    """MONAI's ``do_metric_reduction`` with NaN where it averaged nothing (it writes 0 there)."""
    from monai.metrics.utils import do_metric_reduction

    value, not_nans = do_metric_reduction(cells, reduction)
    return np.where(not_nans.numpy() > 0, value.numpy(), np.nan)


def segscore_like_monai(score: Any, reduction: str) -> Any:
    """The part of a ``classes_then_images`` Score that MONAI's ``reduction`` gives."""
    return {
        "none": score.cells,
        "mean": score.value,
        "mean_batch": score.per_class,
        "mean_channel": score.per_image,
    }[reduction]


# -- StarDist --------------------------------------------------------------------------------------
@functools.cache
def _load_stardist_matching() -> Any:
    """``stardist/matching.py`` loaded by path with stubs for what its other functions import.

    Installed with ``--no-deps``: numba (whose pins want another numpy), tqdm, scikit-image and
    csbdeep are absent. ``matching``/``matching_dataset`` use none of them except ``_raise`` and
    ``tqdm`` (a pass-through here); ``jit`` decorates ``_label_overlap``, which runs as plain
    Python over the pixels (slow: keep the images small).
    """
    import sys
    import types

    spec = importlib.util.find_spec("stardist")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "matching.py"

    def _raise(e: BaseException) -> Any:
        raise e

    stubs = {
        "numba": types.SimpleNamespace(jit=lambda *a, **k: lambda f: f),
        "tqdm": types.SimpleNamespace(tqdm=lambda it, **k: it),
        "skimage": types.SimpleNamespace(),
        "skimage.measure": types.SimpleNamespace(regionprops=None),
        "csbdeep": types.SimpleNamespace(),
        "csbdeep.utils": types.SimpleNamespace(_raise=_raise),
    }
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)  # type: ignore[arg-type]
    try:
        module_spec = importlib.util.spec_from_file_location("_stardist_matching", path)
        assert module_spec is not None
        assert module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    return module


def stardist_matching() -> Any:
    module = _load_stardist_matching()
    if module is None:
        pytest.skip("stardist is not installed")
    return module


# -- cellpose --------------------------------------------------------------------------------------
@functools.cache
def _load_cellpose_metrics() -> Any:
    """``cellpose/metrics.py`` loaded by path, its ``from . import utils`` given a stub package.

    Installed with ``--no-deps``: ``import cellpose.metrics`` fails (fastremap, fill_voids and the
    rest of cellpose's requirements are absent). ``metrics.py`` uses ``utils`` only in
    ``boundary_scores``; ``average_precision`` and ``aggregated_jaccard_index`` run unmodified.
    """
    import sys
    import types

    spec = importlib.util.find_spec("cellpose")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "metrics.py"
    package = types.ModuleType("_cellpose_stub")
    package.__path__ = []  # a package, so that the relative import resolves
    package.utils = types.ModuleType("_cellpose_stub.utils")  # type: ignore[attr-defined]
    stubs = {"_cellpose_stub": package, "_cellpose_stub.utils": package.utils}  # type: ignore[attr-defined]
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        module_spec = importlib.util.spec_from_file_location("_cellpose_stub.metrics", path)
        assert module_spec is not None
        assert module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    return module


def cellpose_metrics() -> Any:
    module = _load_cellpose_metrics()
    if module is None:
        pytest.skip("cellpose is not installed")
    return module


# -- panoptica -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PanopticaCase:
    """The numbers of one ``PanopticaResult`` (``prec``/``rec`` None where panoptica raises)."""

    tp: int
    fp: int
    fn: int
    rq: float
    sq: float
    pq: float
    prec: float | None
    rec: float | None


def panoptica_evaluate(
    pred: np.ndarray, target: np.ndarray, *, semantic: bool = False, threshold: float = 0.5
) -> PanopticaCase:
    """panoptica 2.1.7's default pipeline on one case: NaiveThresholdMatching (IoU >= t).

    ``semantic=True`` gives it binary masks and lets its connected components make the objects
    (scipy 4-connectivity in 2-D, cc3d 26-connectivity in 3-D).
    """
    panoptica = pytest.importorskip("panoptica")
    from panoptica.instance_approximator import ConnectedComponentsInstanceApproximator
    from panoptica.metrics import Metric
    from panoptica.utils.citation_reminder import disable_citation_reminder

    disable_citation_reminder()
    kind = panoptica.InputType.SEMANTIC if semantic else panoptica.InputType.UNMATCHED_INSTANCE
    evaluator = panoptica.Panoptica_Evaluator(
        expected_input=kind,
        instance_approximator=ConnectedComponentsInstanceApproximator() if semantic else None,
        instance_matcher=panoptica.NaiveThresholdMatching(matching_threshold=threshold),
        instance_metrics=[Metric.IOU],
        global_metrics=[],
    )
    result = evaluator.evaluate(pred, target, verbose=False)["ungrouped"]

    def value(name: str) -> float | None:
        try:
            return float(getattr(result, name))
        except ZeroDivisionError:
            return None

    return PanopticaCase(
        int(result.tp),
        int(result.fp),
        int(result.fn),
        float(result.rq),
        float(result.sq),
        float(result.pq),
        value("prec"),
        value("rec"),
    )


# -- pycocotools -----------------------------------------------------------------------------------
def pycocotools_evaluate(preds: np.ndarray, targets: np.ndarray) -> Any:
    """``COCOeval(iouType='segm')`` on label maps: one category, every object one annotation.

    Every detection has score 1 (label maps carry none: COCO's stable sort keeps them in id
    order), area range 'all' only, maxDets large enough for every object. Returns the evaluated
    ``COCOeval`` (``evalImgs`` hold the matches per image, ``eval['recall']`` the pooled recall).
    """
    pytest.importorskip("pycocotools")
    import contextlib
    import io

    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, gts, dts = [], [], []
    for n, (p, t) in enumerate(zip(preds, targets, strict=True)):
        images.append({"id": n, "height": p.shape[0], "width": p.shape[1]})
        for out, labels in ((gts, t), (dts, p)):
            for k in np.unique(labels[labels > 0]).tolist():
                rle = mask_utils.encode(np.asfortranarray(labels == k, dtype=np.uint8))
                rle["counts"] = rle["counts"].decode("ascii")
                item = {"image_id": n, "category_id": 1, "segmentation": rle, "object": int(k)}
                if out is gts:
                    item.update(id=len(gts) + 1, iscrowd=0, area=float((labels == k).sum()))
                else:
                    item["score"] = 1.0
                out.append(item)
    with contextlib.redirect_stdout(io.StringIO()):
        ground = COCO()
        ground.dataset = {"images": images, "annotations": gts, "categories": [{"id": 1}]}
        ground.createIndex()
        result = ground.loadRes(dts)
        ev = COCOeval(ground, result, iouType="segm")
        ev.params.areaRng = [ev.params.areaRng[0]]
        ev.params.areaRngLbl = ["all"]
        ev.params.maxDets = [10_000]
        ev.evaluate()
        ev.accumulate()
    return ev

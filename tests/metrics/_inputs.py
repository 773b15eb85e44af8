"""Deterministic inputs shared by the per-metric reference cross-checks and the accumulator test.

Each case is a batch of label maps or masks with a leading image axis: 2-D images (N, H, W) or 3-D
volumes (N, D, H, W); multilabel inputs carry the class axis at 1. Random cases draw labels
uniformly; structured cases are shifted boxes with an empty image, an absent class and, where an
ignore label is used, an ignored band with predictions under it and a prediction of the ignore
label on a counted pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IGNORE = 255
SHAPES = {"2d": (3, 9, 11), "3d": (2, 4, 5, 6)}


@dataclass(frozen=True)
class Case:
    id: str
    pred: np.ndarray
    target: np.ndarray
    mode: str  # "binary", "multiclass" or "multilabel"
    num_classes: int  # C (1 for binary)
    ignore_index: int | None

    def confusion_kwargs(self) -> dict[str, object]:
        if self.mode == "binary":
            return {}
        if self.mode == "multilabel":
            return {"multilabel": True}
        return {"num_classes": self.num_classes, "ignore_index": self.ignore_index}


def _boxes(shape: tuple[int, ...], num_classes: int, shift: int) -> np.ndarray:
    """Label map of axis-aligned boxes of classes 1..C-1 on background 0, shifted by `shift`."""
    out = np.zeros(shape, dtype=np.int64)
    spatial = shape[1:]
    for n in range(shape[0]):
        for k in range(1, num_classes):
            lo = [(k * (n + 1) + shift) % max(s - 2, 1) for s in spatial]
            hi = [min(lo_i + 2 + (k + n) % 3, s) for lo_i, s in zip(lo, spatial, strict=True)]
            box = (n, *(slice(a, b) for a, b in zip(lo, hi, strict=True)))
            out[box] = k
    return out


def _labels(kind: str, dims: str, num_classes: int, ignore: bool, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    shape = SHAPES[dims]
    if kind == "random":
        target = rng.integers(0, num_classes, size=shape)
        pred = np.where(rng.random(shape) < 0.6, target, rng.integers(0, num_classes, size=shape))
    else:
        target = _boxes(shape, num_classes, 0)
        pred = _boxes(shape, num_classes, 1)
        target[-1] = 0  # an image with only background: every foreground class empty in the target
        if num_classes > 2:
            target[target == num_classes - 1] = 0  # the last class is absent from the target...
            pred[pred == num_classes - 1] = 0  # ...and from the prediction
    if ignore:
        void = rng.random(shape) < 0.15
        target = np.where(void, IGNORE, target)
        # predictions under ignored pixels must not count; some counted pixels predict the ignore label
        pred = np.where(void, rng.integers(0, num_classes, size=shape), pred)
        pred = np.where(~void & (rng.random(shape) < 0.05), IGNORE, pred)
    return pred.astype(np.int64), target.astype(np.int64)


def make_case(mode: str, dims: str, kind: str, num_classes: int = 1, ignore: bool = False) -> Case:
    seed = sum(
        map(ord, f"{mode}{dims}{kind}{num_classes}{ignore}")
    )  # stable across runs (no hash())
    case_id = f"{mode}-C{num_classes}-{dims}-{kind}" + ("-ignore" if ignore else "")
    if mode == "binary":
        pred, target = _labels(kind, dims, 2, False, seed)
        return Case(case_id, pred.astype(bool), target.astype(bool), mode, 1, None)
    if mode == "multilabel":
        rng = np.random.default_rng(seed)
        shape = SHAPES[dims]
        full = (shape[0], num_classes, *shape[1:])
        target = rng.random(full) < 0.3
        if kind == "structured":
            target[:, -1] = False  # a class absent from every target
            target[0] = False  # an image with no label at all
        pred = np.where(rng.random(full) < 0.7, target, rng.random(full) < 0.3)
        return Case(case_id, pred, target, mode, num_classes, None)
    pred, target = _labels(kind, dims, num_classes, ignore, seed)
    return Case(case_id, pred, target, mode, num_classes, IGNORE if ignore else None)


def all_cases(*, multilabel: bool = True, ignore: bool = True) -> list[Case]:
    cases = []
    for dims in ("2d", "3d"):
        for kind in ("random", "structured"):
            cases.append(make_case("binary", dims, kind))
            for c in (2, 5):
                for ign in (False, True) if ignore else (False,):
                    cases.append(make_case("multiclass", dims, kind, c, ign))
            if multilabel:
                cases.append(make_case("multilabel", dims, kind, 3))
    return cases


def as_label_maps(case: Case) -> tuple[np.ndarray, np.ndarray, int]:
    """Binary cases as 2-class label maps (class 1 is the foreground); multiclass unchanged."""
    if case.mode == "binary":
        return case.pred.astype(np.int64), case.target.astype(np.int64), 2
    return case.pred, case.target, case.num_classes


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, *S) labels -> (N, C, *S) float64 one-hot; labels outside [0, C) give all-zero pixels."""
    out = np.stack([labels == k for k in range(num_classes)], axis=1)
    return out.astype(np.float64)


def ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]

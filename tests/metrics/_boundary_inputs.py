"""Inputs, a brute-force reference and peer adapters shared by the boundary-metric tests.

The grid (``GRID``): 2-D batches of two 20×20 images and 3-D single volumes of 10×11×12, each
with isotropic and anisotropic spacing (plus non-square 18×23 images at spacing (1.3, 0.6)), as binary masks, as 4-class (2-D) / 3-class (3-D) label
maps, and as those label maps with an ignore label (a band and a blob of 255 in the target, random
labels predicted under it and the ignore label predicted on a few counted pixels). Masks are
smoothed random fields (deterministic seeds), so every class has curved borders; in the 2-D label
maps image 1 has a class only predicted and one only in the target, the one-empty cases.

The brute-force reference (:func:`brute_surfaces`) shares no code with segscore: the voxel border
is ``mask & ~scipy.ndimage.binary_erosion(mask, structure, border_value=0)`` on the whole image,
the distances are all pairs (``scipy.spatial.distance.cdist``) between the explicitly listed
border-voxel centres, scaled by the spacing, and the reductions are numpy one-liners. Ignored
voxels leave the border after it is extracted (segscore's rule; MONAI's ``mask`` argument).

Peer adapters: :func:`monai_one_hot` (float32 one-hot tensors), :func:`cells` (per image and
class, the two binary masks the per-mask peers MedPy and DeepMind take). Where a peer raises on an
empty mask (MedPy 0.5.2: RuntimeError; DeepMind 0.1 under NumPy 2: AttributeError ``np.Inf``),
the grid compares only the cells where both masks are present, and the empty cells against the
preset's documented value.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from segscore.metrics.boundary import distance_metrics
from segscore.metrics.empty import EmptyPolicy

IGNORE = 255
F32 = {"rtol": 1e-6, "atol": 1e-6}  # MONAI and torchmetrics: float32 distances and quantiles
# torch.quantile interpolates between two float32 distances in float32: 3e-6 relative at most
F32_QUANTILE = {"rtol": 3e-6, "atol": 1e-6}
F64 = {"rtol": 1e-12, "atol": 1e-12}  # float64 peers: only the order of operations differs
PERCENTILES = (50, 95, 99, 100)
INF, NAN = math.inf, math.nan

# every peer's options written out, to check that the preset and the explicit options agree
EXPLICIT: dict[str, dict[str, Any]] = {
    "monai": {
        "include_background": False,  # its distance metrics' default (Dice/IoU: True)
        "surface": "voxel",
        "connectivity": 1,
        "rule": "max_directed",
        "interpolation": "linear",
        "assd_variant": "pooled",
        "empty": {
            "hdP": EmptyPolicy(target_empty=NAN, prediction_empty=NAN),
            "asd": EmptyPolicy(target_empty=INF, prediction_empty=INF),
        },
    },
    "medpy": {
        "surface": "voxel",
        "connectivity": 1,
        "rule": "pooled",
        "interpolation": "linear",
        "assd_variant": "pooled",
        "empty": {
            k: EmptyPolicy(target_empty=NAN, prediction_empty=NAN)
            for k in ("hd", "asd", "assd", "masd")
        },
    },
    "deepmind": {
        "surface": "surfel",
        "rule": "area_weighted",
        "assd_variant": "mean_of_means",
        "empty": {"hdP": EmptyPolicy(both_empty=INF)},
    },
    "torchmetrics": {
        "include_background": False,  # hausdorff_distance's default (MeanIoU/DiceScore: True)
        "surface": "voxel",
        "connectivity": 1,
        "rule": "max_directed",
    },
}


@dataclass(frozen=True)
class BCase:
    """A batch (N, *S) of binary masks or label maps with its spacing."""

    id: str
    pred: np.ndarray
    target: np.ndarray
    spacing: tuple[float, ...]
    num_classes: int | None = None  # None: binary masks
    ignore_index: int | None = None
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def ndim(self) -> int:
        return len(self.spacing)

    @property
    def class_ids(self) -> tuple[int, ...]:
        return (1,) if self.num_classes is None else tuple(range(self.num_classes))

    def kwargs(self) -> dict[str, Any]:
        """The keywords of :func:`distance_metrics` for this case."""
        out: dict[str, Any] = {"spacing": self.spacing, "spatial_dims": self.ndim}
        if self.num_classes is not None:
            out.update(num_classes=self.num_classes, ignore_index=self.ignore_index)
        return out

    def run(self, names: list[str], **options: Any) -> Any:
        return distance_metrics(self.pred, self.target, names, **self.kwargs(), **options)


@dataclass(frozen=True)
class Cell:
    """One (image, class): its two binary masks and the counted pixels (None: all)."""

    n: int
    column: int
    class_id: int
    pred: np.ndarray
    target: np.ndarray
    valid: np.ndarray | None

    @property
    def both_present(self) -> bool:
        return bool(self.pred.any() and self.target.any())


def cells(case: BCase) -> Iterator[Cell]:
    for n in range(case.pred.shape[0]):
        valid = None if case.ignore_index is None else case.target[n] != case.ignore_index
        if case.num_classes is None:
            yield Cell(n, 0, 1, case.pred[n], case.target[n], None)
            continue
        for k in range(case.num_classes):
            yield Cell(n, k, k, case.pred[n] == k, case.target[n] == k, valid)


def _field(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    return np.asarray(ndimage.gaussian_filter(rng.random(shape), sigma))


def _label_map(rng: np.random.Generator, shape: tuple[int, ...], c: int) -> tuple:
    """Target: argmax of c smooth fields; prediction: the same fields plus smooth noise."""
    fields = np.stack([_field(rng, shape, 2.0) for _ in range(c)])
    target = np.argmax(fields, axis=0)
    noise = np.stack([_field(rng, shape, 1.0) for _ in range(c)])
    pred = np.argmax(fields + 0.08 * (noise - noise.mean()), axis=0)
    return pred.astype(np.int64), target.astype(np.int64)


def make_case(dims: str, spacing: str, kind: str) -> BCase:
    seed = sum(map(ord, f"{dims}{spacing}{kind}"))
    rng = np.random.default_rng(seed)
    n, shape = (2, (20, 20)) if dims == "2d" else (1, (10, 11, 12))
    if spacing == "rect":
        shape = (18, 23)
    sp: tuple[float, ...] = {
        ("2d", "rect"): (1.3, 0.6),
        ("2d", "iso"): (1.0, 1.0),
        ("2d", "aniso"): (0.7, 1.9),
        ("3d", "iso"): (1.0, 1.0, 1.0),
        ("3d", "aniso"): (1.0, 0.8, 2.5),
    }[dims, spacing]
    case_id = f"{dims}-{spacing}-{kind}"
    tags = frozenset({dims, spacing, kind})
    if kind == "binary":
        target = np.stack([_field(rng, shape, 1.5) > 0.5 for _ in range(n)])
        pred = np.stack([t ^ (_field(rng, shape, 1.0) > 0.58) for t in target])
        return BCase(case_id, pred, target, sp, tags=tags)
    c = 4 if dims == "2d" else 3
    pairs = [_label_map(rng, shape, c) for _ in range(n)]
    pred = np.stack([p for p, _ in pairs])
    target = np.stack([t for _, t in pairs])
    if n > 1:  # image 1: the last class only predicted, the one before only in the target
        target[1][target[1] == c - 1] = 0
        pred[1][pred[1] == c - 2] = 0
    if kind == "labels":
        return BCase(case_id, pred, target, sp, c, None, tags)
    void = np.zeros(target.shape, bool)
    void[(slice(None), slice(0, 3))] = True  # a band along the first spatial axis
    void |= np.stack([_field(rng, shape, 1.5) > 0.56 for _ in range(n)])  # and blobs
    target = np.where(void, IGNORE, target)
    pred = np.where(void, rng.integers(0, c, target.shape), pred)
    pred = np.where(~void & (rng.random(target.shape) < 0.02), IGNORE, pred)
    return BCase(case_id, pred, target, sp, c, IGNORE, tags)


GRID = [
    make_case(dims, spacing, kind)
    for dims in ("2d", "3d")
    for spacing in ("iso", "aniso")
    for kind in ("binary", "labels", "ignore")
] + [make_case("2d", "rect", kind) for kind in ("binary", "labels")]
NO_IGNORE = [c for c in GRID if c.ignore_index is None]


def ids(cases: list[BCase]) -> list[str]:
    return [c.id for c in cases]


def empty_cases() -> list[BCase]:
    """Binary 2-D and 3-D cases with every empty combination: both present, target empty,
    prediction empty, both empty (one image each)."""
    out = []
    for dims, shape in (("2d", (12, 12)), ("3d", (8, 9, 10))):
        t = np.zeros(shape, bool)
        t[(slice(2, 6),) * len(shape)] = True
        e = np.zeros_like(t)
        pred = np.stack([np.roll(t, 1, 0), t, e, e])
        target = np.stack([t, e, t, e])
        sp = (1.0, 2.0) if dims == "2d" else (1.0, 0.8, 2.5)
        out.append(BCase(f"empty-{dims}", pred, target, sp, tags=frozenset({dims, "empty"})))
    return out


EMPTY = empty_cases()
EMPTY_ORDER = ("both_present", "target_empty", "prediction_empty", "both_empty")


# -- the brute-force reference ---------------------------------------------------------------------
@dataclass(frozen=True)
class Surfaces:
    """Directed distances of one cell: prediction border → target border and back."""

    pt: np.ndarray
    tp: np.ndarray

    @property
    def empty(self) -> str:
        p, t = self.pt.size > 0, self.tp.size > 0
        return {
            (True, True): "both_present",
            (True, False): "target_empty",
            (False, True): "prediction_empty",
            (False, False): "both_empty",
        }[p, t]


def border(mask: np.ndarray, connectivity: int) -> np.ndarray:
    structure = ndimage.generate_binary_structure(mask.ndim, connectivity)
    return np.asarray(mask & ~ndimage.binary_erosion(mask, structure, border_value=0))


def brute_surfaces(cell: Cell, spacing: tuple[float, ...], connectivity: int = 1) -> Surfaces:
    bp, bt = border(cell.pred, connectivity), border(cell.target, connectivity)
    if cell.valid is not None:
        bp, bt = bp & cell.valid, bt & cell.valid
    xp = np.argwhere(bp) * np.asarray(spacing)
    xt = np.argwhere(bt) * np.asarray(spacing)
    if xp.size == 0 or xt.size == 0:
        return Surfaces(np.full(len(xp), INF), np.full(len(xt), INF))
    d = cdist(xp, xt)
    return Surfaces(d.min(axis=1), d.min(axis=0))


def brute_hd(s: Surfaces, percentile: float | None, rule: str) -> float:
    if s.empty != "both_present":
        return {"both_empty": NAN}.get(s.empty, INF)
    if percentile is None:
        return float(max(s.pt.max(), s.tp.max())) if rule != "directed" else float(s.pt.max())
    if rule == "pooled":
        return float(np.percentile(np.concatenate([s.pt, s.tp]), percentile))
    if rule == "directed":
        return float(np.percentile(s.pt, percentile))
    return float(max(np.percentile(s.pt, percentile), np.percentile(s.tp, percentile)))


def brute_asd(s: Surfaces) -> tuple[float, float, float, float]:
    """(pred → target, target → pred, pooled ASSD, MASD) of a cell with both surfaces."""
    a, b = float(s.pt.mean()), float(s.tp.mean())
    return a, b, float(np.concatenate([s.pt, s.tp]).mean()), (a + b) / 2


def brute_nsd(s: Surfaces, tolerance: float) -> float:
    inside = np.sum(s.pt <= tolerance) + np.sum(s.tp <= tolerance)
    return float(inside / (s.pt.size + s.tp.size))


def brute_grid(case: BCase, fn: Any, connectivity: int = 1) -> np.ndarray:
    """``fn(Surfaces)`` per (image, class) as an (N, C[, k]) array, NaN where a border is empty."""
    return per_cell(case, lambda cell: fn(brute_surfaces(cell, case.spacing, connectivity)))


# -- peers -----------------------------------------------------------------------------------------
def torch() -> Any:
    return pytest.importorskip("torch")


def monai_metrics() -> Any:
    torch()
    return pytest.importorskip("monai.metrics")


def medpy_binary() -> Any:
    return pytest.importorskip("medpy.metric.binary")


def deepmind() -> Any:
    return pytest.importorskip("surface_distance")


def torchmetrics_segmentation() -> Any:
    torch()
    return pytest.importorskip("torchmetrics.functional.segmentation")


def monai_one_hot(case: BCase, *, clear_ignored: bool = False) -> tuple[Any, Any]:
    """float32 one-hot (pred, target) of shape (N, C, *S); a label outside [0, C) is all-zero.

    ``clear_ignored`` zeroes the ignored pixels in the prediction too (MONAI's own ``ignore_index``
    rule in its metric classes: both masks cleared before the edges are found).
    """
    t = torch()
    if case.num_classes is None:
        p, g = case.pred[:, None], case.target[:, None]
    else:
        ks = range(case.num_classes)
        p = np.stack([case.pred == k for k in ks], axis=1)
        g = np.stack([case.target == k for k in ks], axis=1)
        if clear_ignored and case.ignore_index is not None:
            p = p & (case.target != case.ignore_index)[:, None]
    return (
        t.from_numpy(np.ascontiguousarray(p, dtype=np.float32)),
        t.from_numpy(np.ascontiguousarray(g, dtype=np.float32)),
    )


def monai_background(case: BCase) -> bool:
    """MONAI's distance metrics at their default ``include_background=False`` on label maps; a
    binary case's one-hot (:func:`monai_one_hot`) holds only the foreground, which is kept."""
    return case.num_classes is None


def monai_cells(case: BCase, fn: Any) -> np.ndarray:
    """MONAI's per (image, class) values of ``fn(pred_one_hot, target_one_hot)`` as float64."""
    p, g = monai_one_hot(case)
    return np.asarray(fn(p, g).numpy(), dtype=np.float64)


def per_cell(case: BCase, fn: Any, *, present_only: bool = True) -> np.ndarray:
    """``fn(cell)`` per (image, class) as an (N, C[, k]) array; NaN where not both present."""
    out: np.ndarray | None = None
    for cell in cells(case):
        if present_only and not cell.both_present:
            continue
        value = np.asarray(fn(cell), dtype=np.float64)
        if out is None:
            out = np.full((case.pred.shape[0], len(case.class_ids), *value.shape), NAN)
        out[cell.n, cell.column] = value
    if out is None:  # no cell with both masks
        out = np.full((case.pred.shape[0], len(case.class_ids)), NAN)
    return out


def present_mask(case: BCase) -> np.ndarray:
    out = np.zeros((case.pred.shape[0], len(case.class_ids)), bool)
    for cell in cells(case):
        out[cell.n, cell.column] = cell.both_present
    return out


def assert_where(got: np.ndarray, expected: np.ndarray, where: np.ndarray, **tol: Any) -> None:
    """``got == expected`` on the cells of ``where`` (broadcast over trailing axes)."""
    where = np.broadcast_to(where.reshape(where.shape + (1,) * (got.ndim - where.ndim)), got.shape)
    np.testing.assert_allclose(got[where], np.asarray(expected)[where], **tol)


def same(a: Any, b: Any) -> None:
    """Equal bits, NaN and inf included."""
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

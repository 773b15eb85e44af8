"""Hausdorff distance (hd) and its percentiles (hdP: hd50, hd95, hd99, hd100).

Grid (tests/metrics/_boundary_inputs.py): 2-D and 3-D × isotropic and anisotropic spacing × binary
masks, label maps, label maps with an ignore label; against

- the brute force (all-pairs distances of the listed border voxels): every percentile rule except
  'area_weighted', voxel connectivity 1 and full, every case including ignore and empty cells;
- MONAI ``compute_hausdorff_distance`` (voxel connectivity 1, 'max_directed' and 'directed',
  float32: 1e-6 relative), empty cells included;
- MedPy 0.5.2 ``hd`` and ``hd95`` ('pooled'; connectivity 1 and full; hd50/hd99 by MedPy's own
  ``hd95`` procedure on its ``__surface_distances``), cells with both masks (it raises otherwise);
- DeepMind 0.1 ``compute_robust_hausdorff`` (surfel, 'area_weighted'), cells with both masks;
- torchmetrics ``hausdorff_distance`` (2-D, maximum only).

Each peer through its preset and through the same options written out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from segscore.errors import InputError
from segscore.metrics.boundary import hausdorff_distance, surface_distances
from segscore.metrics.empty import EmptyPolicy

from ._boundary_inputs import (
    EMPTY,
    EXPLICIT,
    F32,
    F32_QUANTILE,
    F64,
    GRID,
    NO_IGNORE,
    PERCENTILES,
    BCase,
    Cell,
    assert_where,
    brute_hd,
    brute_surfaces,
    cells,
    deepmind,
    ids,
    medpy_binary,
    monai_background,
    monai_cells,
    monai_metrics,
    per_cell,
    present_mask,
    same,
    torch,
    torchmetrics_segmentation,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::RuntimeWarning", "ignore::DeprecationWarning"
)

NAMES = ["hd", *(f"hd{q}" for q in PERCENTILES)]
QS: list[float | None] = [None, *PERCENTILES]


def _square(shape=(16, 16), lo=(4, 4), size=(6, 6)):
    m = np.zeros(shape, dtype=bool)
    m[lo[0] : lo[0] + size[0], lo[1] : lo[1] + size[1]] = True
    return m


# -- one reference per peer ------------------------------------------------------------------------
def _reference_hausdorff_brute(case: BCase, q: float | None, rule: str, conn: int) -> np.ndarray:
    """Natural values: inf with one border empty, NaN with both (segscore's default policy)."""
    return per_cell(
        case,
        lambda cell: brute_hd(brute_surfaces(cell, case.spacing, conn), q, rule),
        present_only=False,
    )


def _reference_hausdorff_monai(case: BCase, q: float | None, directed: bool) -> np.ndarray:
    mm = monai_metrics()
    return monai_cells(
        case,
        lambda p, g: mm.compute_hausdorff_distance(
            p,
            g,
            include_background=monai_background(case),
            percentile=q,
            directed=directed,
            spacing=case.spacing,
        ),
    )


def _reference_hausdorff_medpy(cell: Cell, spacing, q: float | None, conn: int) -> float:
    mb = medpy_binary()
    if q is None:
        return float(mb.hd(cell.pred, cell.target, spacing, conn))
    if q == 95:
        return float(mb.hd95(cell.pred, cell.target, spacing, conn))
    # MedPy's hd95 procedure (metric/binary.py) with another percentile
    directed = mb.__dict__["__surface_distances"]
    d1 = directed(cell.pred, cell.target, spacing, conn)
    d2 = directed(cell.target, cell.pred, spacing, conn)
    return float(np.percentile(np.hstack((d1, d2)), q))


def _reference_hausdorff_deepmind(cell: Cell, spacing, q: float | None) -> float:
    sdm = deepmind()
    d = sdm.compute_surface_distances(cell.target, cell.pred, spacing)
    return float(sdm.compute_robust_hausdorff(d, 100 if q is None else q))


def _reference_hausdorff_torchmetrics(case: BCase) -> np.ndarray:
    tms, t = torchmetrics_segmentation(), torch()
    binary = case.num_classes is None
    return np.asarray(
        tms.hausdorff_distance(
            t.from_numpy(case.pred.astype(np.int64)),
            t.from_numpy(case.target.astype(np.int64)),
            num_classes=2 if binary else case.num_classes,  # its default include_background=False
            input_format="index",
            spacing=list(case.spacing),
        ).numpy(),
        dtype=np.float64,
    )


def _both_ways(case: BCase, peer: str, names: list[str], **extra) -> object:
    """segscore through the peer's preset, checked equal to the same options written out."""
    by_preset = case.run(names, preset=peer, **extra)
    explicit = case.run(names, **{**EXPLICIT[peer], **extra})
    for name in names:
        same(by_preset[name], explicit[name])
    return by_preset


# -- by hand and errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("percentile", [-1, 100.5, float("nan")])
def test_percentile_out_of_range(percentile):
    sd = surface_distances(_square(), _square())
    with pytest.raises(InputError, match=r"`percentile` must be a number in \[0, 100\]"):
        hausdorff_distance(sd, percentile=percentile)


def test_unknown_rule():
    with pytest.raises(InputError, match=r"`rule` must be one of"):
        hausdorff_distance(surface_distances(_square(), _square()), percentile=95, rule="mean")


def test_percentile_rules_order():
    target = _square((32, 32), (8, 8), (12, 12))
    pred = np.roll(target, 1, axis=0)
    pred[1:3, 1:3] = True
    sd = surface_distances(pred, target)
    hd = hausdorff_distance(sd)[0]
    pooled = hausdorff_distance(sd, percentile=95, rule="pooled")[0]
    maxdir = hausdorff_distance(sd, percentile=95, rule="max_directed")[0]
    directed = hausdorff_distance(sd, percentile=95, rule="directed")[0]
    assert pooled <= maxdir <= hd
    assert directed == np.percentile(sd.pred_to_target[0], 95)


def test_empty_policies():
    m, e = _square(), np.zeros((16, 16), bool)
    sd = surface_distances(m, e)
    assert sd.cases() == ["target_empty"]
    assert hausdorff_distance(sd)[0] == math.inf
    assert math.isnan(hausdorff_distance(sd, empty="nan")[0])
    assert hausdorff_distance(sd, empty="diagonal")[0] == pytest.approx(16 * math.sqrt(2))
    assert hausdorff_distance(sd, empty=42.0)[0] == 42.0
    monai = {"hdP": EmptyPolicy(target_empty=math.nan, prediction_empty=math.nan)}
    assert math.isnan(hausdorff_distance(sd, percentile=95, empty=monai)[0])
    assert hausdorff_distance(sd, empty=monai)[0] == math.inf


# -- the grid against the brute force --------------------------------------------------------------
@pytest.mark.parametrize("connectivity", ["1", "full"])
@pytest.mark.parametrize("rule", ["pooled", "max_directed", "directed"])
@pytest.mark.parametrize("case", GRID, ids=ids(GRID))
def test_matches_brute_force(case, rule, connectivity):
    conn = 1 if connectivity == "1" else case.ndim
    r = case.run(NAMES, rule=rule, connectivity=conn)
    for name, q in zip(NAMES, QS, strict=True):
        expected = _reference_hausdorff_brute(case, q, rule, conn)
        np.testing.assert_allclose(r[name], expected, **F64, err_msg=name)


# -- the grid against the peers --------------------------------------------------------------------
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("case", NO_IGNORE + EMPTY, ids=ids(NO_IGNORE + EMPTY))
def test_matches_monai(case, directed):
    extra = {"rule": "directed"} if directed else {}
    r = _both_ways(case, "monai", NAMES, **extra)
    for name, q in zip(NAMES, QS, strict=True):
        expected = _reference_hausdorff_monai(case, q, directed)
        tol = F32 if q in (None, 100) else F32_QUANTILE
        np.testing.assert_allclose(r[name], expected, **tol, equal_nan=True, err_msg=name)


def test_monai_directed_empty_cells():
    """MONAI ``directed=True`` with an empty mask: inf for the maximum, NaN for a percentile,
    whichever mask is empty, and NaN with both; segscore's 'directed' rule under the MONAI preset
    applies the preset's symmetric policy, which gives the same numbers."""
    case = EMPTY[0]
    r = case.run(["hd", "hd95"], preset="monai", rule="directed")
    for name, q in (("hd", None), ("hd95", 95)):
        same(r[name], _reference_hausdorff_monai(case, q, True))


@pytest.mark.parametrize("connectivity", ["1", "full"])
@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_matches_medpy(case, connectivity):
    conn = 1 if connectivity == "1" else case.ndim
    r = _both_ways(case, "medpy", NAMES, connectivity=conn)
    for name, q in zip(NAMES, QS, strict=True):
        expected = per_cell(
            case, lambda c, q=q: _reference_hausdorff_medpy(c, case.spacing, q, conn)
        )
        assert_where(r[name], expected, present_mask(case), **F64, err_msg=name)


@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_matches_deepmind(case):
    r = _both_ways(case, "deepmind", NAMES)
    for name, q in zip(NAMES, QS, strict=True):
        expected = per_cell(case, lambda c, q=q: _reference_hausdorff_deepmind(c, case.spacing, q))
        assert_where(r[name], expected, present_mask(case), **F64, err_msg=name)


# torchmetrics misplaces distances on non-square images (preset notes): square ones only
TM_CASES = [c for c in NO_IGNORE + EMPTY if c.ndim == 2 and "rect" not in c.tags]


@pytest.mark.parametrize("case", TM_CASES, ids=ids(TM_CASES))
def test_matches_torchmetrics(case):
    r = _both_ways(case, "torchmetrics", ["hd"])
    expected = _reference_hausdorff_torchmetrics(case) if "empty" not in case.tags else None
    if expected is None:  # torchmetrics raises when both masks are empty: one image at a time
        tms, t = torchmetrics_segmentation(), torch()
        rows = []
        for n in range(case.pred.shape[0]):
            p = t.from_numpy(case.pred[n : n + 1].astype(np.int64))
            g = t.from_numpy(case.target[n : n + 1].astype(np.int64))
            kw = {"num_classes": 2, "include_background": False, "input_format": "index"}
            if not (case.pred[n].any() or case.target[n].any()):
                with pytest.raises(RuntimeError, match=r"max\(\)"):
                    tms.hausdorff_distance(p, g, **kw, spacing=list(case.spacing))
                rows.append([math.nan])  # the preset's documented value (NaN, counted)
                continue
            rows.append(tms.hausdorff_distance(p, g, **kw, spacing=list(case.spacing))[0].numpy())
        expected = np.asarray(rows, dtype=np.float64)
    np.testing.assert_allclose(r["hd"], expected, **F32, equal_nan=True)


# -- empty cells where the peer raises -------------------------------------------------------------
@pytest.mark.parametrize("case", EMPTY, ids=ids(EMPTY))
def test_medpy_raises_on_empty_masks_and_the_preset_gives_nan(case):
    mb = medpy_binary()
    r = case.run(NAMES, preset="medpy")
    for cell in cells(case):
        if cell.both_present:
            continue
        with pytest.raises(RuntimeError, match="does not contain any binary object"):
            mb.hd(cell.pred, cell.target, case.spacing)
        for name in NAMES:
            assert math.isnan(r[name][cell.n, cell.column]), name


@pytest.mark.parametrize("case", EMPTY, ids=ids(EMPTY))
def test_deepmind_on_empty_masks(case, monkeypatch):
    """surface-distance 0.1 uses ``np.Inf`` on an empty surface: under NumPy 2 it raises
    AttributeError (CONVENTIONS edge-case table), unless something set ``np.Inf`` back
    (``import torchmetrics`` does, torchmetrics/__init__.py). With the NumPy 1 name its code gives
    inf for every robust Hausdorff distance with one or both surfaces empty: the preset's values."""
    sdm = deepmind()
    r = case.run(NAMES, preset="deepmind")
    for cell in cells(case):
        if cell.both_present:
            continue
        monkeypatch.delattr(np, "Inf", raising=False)

        def robust_hd(cell=cell):  # raises in the distances (one empty) or the robust HD (both)
            d = sdm.compute_surface_distances(cell.target, cell.pred, case.spacing)
            return sdm.compute_robust_hausdorff(d, 95)

        with pytest.raises(AttributeError, match=r"np\.Inf"):
            robust_hd()
        monkeypatch.setattr(np, "Inf", np.inf, raising=False)
        d = sdm.compute_surface_distances(cell.target, cell.pred, case.spacing)
        for name, q in zip(NAMES, QS, strict=True):
            expected = sdm.compute_robust_hausdorff(d, 100 if q is None else q)
            assert expected == math.inf
            if name != "hd":  # hd (no percentile) takes the family default: NaN with both empty
                assert r[name][cell.n, cell.column] == expected, name
        want_hd = math.nan if not cell.pred.any() and not cell.target.any() else math.inf
        same(r["hd"][cell.n, cell.column], want_hd)


RECT = [c for c in NO_IGNORE if "rect" in c.tags]


@pytest.mark.parametrize("case", RECT, ids=ids(RECT))
def test_torchmetrics_misplaces_distances_on_non_square_images(case):
    """A peer bug, not segscore's: torchmetrics 1.9 ``hausdorff_distance`` flattens its distance
    transform with the row count (``z[i * h + j]``), so on a non-square image its HD differs from
    the brute force, which segscore matches (test_matches_brute_force)."""
    r = case.run(["hd"], preset="torchmetrics")  # background left out, as torchmetrics does
    brute = _reference_hausdorff_brute(case, None, "max_directed", 1)
    np.testing.assert_allclose(r["hd"], brute if case.num_classes is None else brute[:, 1:])
    finite = np.isfinite(r["hd"])
    assert not np.allclose(r["hd"][finite], _reference_hausdorff_torchmetrics(case)[finite])


@pytest.mark.parametrize("k", [1.0, 3.0])
def test_area_weighted_percentile_at_an_exact_tie_is_deepminds(k) -> None:  # type: ignore[no-untyped-def]
    """Here the cumulative surfel-area share reaches exactly 50%: DeepMind's float share
    ``cumsum / sum`` lands on either side of 0.5 depending on the scale of the spacing (HD50 1 at
    spacing (1, 3, 1), 9 rather than 3 at (3, 9, 3)), and the ``area_weighted`` rule reproduces it
    exactly, scale dependence included (hence no scaling property for it in
    tests/properties/test_boundary_properties.py)."""
    sdm = deepmind()
    pred = np.zeros((3, 3, 3), bool)
    pred[0, 1, 0] = True
    target = np.zeros((3, 3, 3), bool)
    target[0, 0, :2] = True
    spacing = (k, 3 * k, k)
    got = surface_distances(pred, target, spacing=spacing, surface="surfel", spatial_dims=3)
    value = hausdorff_distance(got, percentile=50, rule="area_weighted")
    sd = sdm.compute_surface_distances(target, pred, spacing)  # (gt, pred) as DeepMind orders
    assert value == pytest.approx(sdm.compute_robust_hausdorff(sd, 50), rel=1e-12)

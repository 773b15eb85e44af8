"""Average surface distances: asd (both directed means), assd (pooled or mean of means), masd.

Grid (tests/metrics/_boundary_inputs.py) against

- the brute force: voxel connectivity 1 and full, both ASSD variants, every case including ignore
  and empty cells;
- MONAI ``compute_average_surface_distance`` (``symmetric=False``: asd prediction → target;
  ``symmetric=True``: pooled assd), float32, empty cells included;
- MedPy 0.5.2 ``asd`` (both argument orders), ``assd`` (pooled; MedPy <= 0.4's mean of means is
  masd), connectivity 1 and full, cells with both masks (it raises otherwise);
- DeepMind 0.1 ``compute_average_surface_distance`` (surfel; its two directed means, target →
  prediction first; masd their mean), cells with both masks, and its NumPy 1 values on empty ones.

torchmetrics has no average surface distance. Each peer through its preset and through the same
options written out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from segscore.errors import InputError
from segscore.metrics.boundary import assd, average_surface_distance, surface_distances
from segscore.metrics.empty import EmptyPolicy

from ._boundary_inputs import (
    EMPTY,
    EXPLICIT,
    F32,
    F64,
    GRID,
    NO_IGNORE,
    BCase,
    Cell,
    assert_where,
    brute_asd,
    brute_grid,
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
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::RuntimeWarning", "ignore::DeprecationWarning"
)

NAMES = ["asd", "assd", "masd"]


def _square(shape=(16, 16), lo=(4, 4), size=(6, 6)):
    m = np.zeros(shape, dtype=bool)
    m[lo[0] : lo[0] + size[0], lo[1] : lo[1] + size[1]] = True
    return m


# -- one reference per peer ------------------------------------------------------------------------
def _reference_average_surface_distance_brute(case: BCase, conn: int) -> np.ndarray:
    """(N, C, 4): pred → target, target → pred, pooled ASSD, MASD; NaN where a border is empty."""
    return brute_grid(case, brute_asd, conn)


def _reference_average_surface_distance_monai(case: BCase, symmetric: bool) -> np.ndarray:
    mm = monai_metrics()
    return monai_cells(
        case,
        lambda p, g: mm.compute_average_surface_distance(
            p,
            g,
            include_background=monai_background(case),
            symmetric=symmetric,
            spacing=case.spacing,
        ),
    )


def _reference_average_surface_distance_medpy(cell: Cell, spacing, conn: int) -> list[float]:
    """[asd(pred, target), asd(target, pred), assd, mean of the two (MedPy <= 0.4 assd)]."""
    mb = medpy_binary()
    a = mb.asd(cell.pred, cell.target, spacing, conn)
    b = mb.asd(cell.target, cell.pred, spacing, conn)
    return [a, b, mb.assd(cell.pred, cell.target, spacing, conn), (a + b) / 2]


def _reference_average_surface_distance_deepmind(cell: Cell, spacing) -> list[float]:
    """[pred → target, target → pred] (DeepMind returns them the other way round)."""
    sdm = deepmind()
    gt_to_pred, pred_to_gt = sdm.compute_average_surface_distance(
        sdm.compute_surface_distances(cell.target, cell.pred, spacing)
    )
    return [pred_to_gt, gt_to_pred]


# -- by hand and errors ----------------------------------------------------------------------------
def test_not_a_surface_distances():
    with pytest.raises(InputError, match=r"`sd` must be a SurfaceDistances"):
        assd(np.zeros(3))


def test_directions_and_mean_of_means():
    target = _square((32, 32), (8, 8), (12, 12))
    pred = np.roll(target, 1, axis=0)
    pred[1:3, 1:3] = True
    sd = surface_distances(pred, target)
    asd = average_surface_distance(sd)[0]
    assert asd[0] == pytest.approx(sd.pred_to_target[0].mean())
    assert assd(sd, variant="mean_of_means")[0] == pytest.approx(asd.mean())


def test_empty_policies():
    m, e = _square(), np.zeros((16, 16), bool)
    both = surface_distances(e, e)
    assert both.cases() == ["both_empty"]
    assert math.isnan(assd(both)[0])
    mr = EmptyPolicy(zero_division=0.0, target_empty="nan", prediction_empty="nan")
    assert assd(both, empty=mr)[0] == 0.0
    # the prediction empty: (zero_division, inf) in segscore's order
    same(average_surface_distance(surface_distances(e, m))[0], [math.nan, math.inf])


# -- the grid against the brute force --------------------------------------------------------------
@pytest.mark.parametrize("connectivity", ["1", "full"])
@pytest.mark.parametrize("case", GRID, ids=ids(GRID))
def test_matches_brute_force(case, connectivity):
    conn = 1 if connectivity == "1" else case.ndim
    r = case.run(NAMES, connectivity=conn)
    mean_of_means = case.run(["assd"], connectivity=conn, assd_variant="mean_of_means")
    ref = _reference_average_surface_distance_brute(case, conn)
    where = ~np.isnan(ref[..., 0])
    assert_where(r["asd"], ref[..., :2], where, **F64)
    assert_where(r["assd"], ref[..., 2], where, **F64)
    assert_where(r["masd"], ref[..., 3], where, **F64)
    same(mean_of_means["assd"], r["masd"])
    # the other cells: natural values (one border empty: inf, or 0/0 -> NaN for its own mean)
    assert np.all(np.isnan(r["assd"][~where]) | np.isinf(r["assd"][~where]))


# -- the grid against the peers --------------------------------------------------------------------
@pytest.mark.parametrize("case", NO_IGNORE + EMPTY, ids=ids(NO_IGNORE + EMPTY))
def test_matches_monai(case):
    by_preset = case.run(NAMES, preset="monai")
    explicit = case.run(NAMES, **EXPLICIT["monai"])
    for name in NAMES:
        same(by_preset[name], explicit[name])
    directed = _reference_average_surface_distance_monai(case, symmetric=False)
    symmetric = _reference_average_surface_distance_monai(case, symmetric=True)
    np.testing.assert_allclose(by_preset["asd"][..., 0], directed, **F32, equal_nan=True)
    np.testing.assert_allclose(by_preset["assd"], symmetric, **F32, equal_nan=True)


@pytest.mark.parametrize("connectivity", ["1", "full"])
@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_matches_medpy(case, connectivity):
    conn = 1 if connectivity == "1" else case.ndim
    by_preset = case.run(NAMES, preset="medpy", connectivity=conn)
    explicit = case.run(NAMES, **{**EXPLICIT["medpy"], "connectivity": conn})
    for name in NAMES:
        same(by_preset[name], explicit[name])
    ref = per_cell(case, lambda c: _reference_average_surface_distance_medpy(c, case.spacing, conn))
    where = present_mask(case)
    assert_where(by_preset["asd"], ref[..., :2], where, **F64)
    assert_where(by_preset["assd"], ref[..., 2], where, **F64)
    assert_where(by_preset["masd"], ref[..., 3], where, **F64)
    assert np.isnan(by_preset["assd"][~where]).all()  # MedPy raises there: the preset's NaN


@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_matches_deepmind(case):
    by_preset = case.run(NAMES, preset="deepmind")
    explicit = case.run(NAMES, **EXPLICIT["deepmind"])
    for name in NAMES:
        same(by_preset[name], explicit[name])
    ref = per_cell(case, lambda c: _reference_average_surface_distance_deepmind(c, case.spacing))
    where = present_mask(case)
    assert_where(by_preset["asd"], ref, where, **F64)
    assert_where(by_preset["masd"], ref.mean(axis=-1), where, **F64)
    same(by_preset["assd"], by_preset["masd"])  # the preset's ASSD variant is the mean of means


@pytest.mark.parametrize("case", EMPTY, ids=ids(EMPTY))
def test_medpy_raises_on_empty_masks_and_the_preset_gives_nan(case):
    mb = medpy_binary()
    r = case.run(NAMES, preset="medpy")
    for cell in cells(case):
        if cell.both_present:
            continue
        for fn in (mb.asd, mb.assd):
            with pytest.raises(RuntimeError, match="does not contain any binary object"):
                fn(cell.pred, cell.target, case.spacing)
        assert np.isnan(r["asd"][cell.n, cell.column]).all()
        assert math.isnan(r["assd"][cell.n, cell.column])


@pytest.mark.parametrize("case", EMPTY, ids=ids(EMPTY))
def test_deepmind_on_empty_masks(case, monkeypatch):
    """Under NumPy 2 surface-distance raises on one empty surface (``np.Inf``); with the NumPy 1
    name its directed means are the preset's: (inf, NaN) in its order for an empty prediction,
    (NaN, NaN) for two empty surfaces."""
    sdm = deepmind()
    r = case.run(NAMES, preset="deepmind")
    for cell in cells(case):
        if cell.both_present:
            continue
        one_empty = cell.pred.any() or cell.target.any()
        if one_empty:
            monkeypatch.delattr(np, "Inf", raising=False)
            with pytest.raises(AttributeError, match=r"np\.Inf"):
                sdm.compute_surface_distances(cell.target, cell.pred, case.spacing)
        monkeypatch.setattr(np, "Inf", np.inf, raising=False)
        with np.errstate(invalid="ignore"):
            ref = _reference_average_surface_distance_deepmind(cell, case.spacing)
        same(r["asd"][cell.n, cell.column], ref)

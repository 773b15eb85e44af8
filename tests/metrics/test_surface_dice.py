"""Normalised surface Dice (nsd@T) at tolerances 0, 1, 1.5 and 2.

Grid (tests/metrics/_boundary_inputs.py) against

- the brute force: voxel connectivity 1 and full (element counts), every case including ignore and
  empty cells;
- MONAI ``compute_surface_dice`` (voxel counts; ``use_subvoxels=True``: surfel areas), float32,
  empty cells included;
- DeepMind 0.1 ``compute_surface_dice_at_tolerance`` (surfel areas), cells with both masks, and its
  NumPy 1 values on empty ones.

MedPy and torchmetrics have no surface Dice. Each peer through its preset and through the same
options written out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from segscore.errors import InputError
from segscore.metrics.boundary import distance_metrics, surface_dice, surface_distances
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
    brute_grid,
    brute_nsd,
    cells,
    deepmind,
    ids,
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

TOLERANCES = (0.0, 1.0, 1.5, 2.0)
NAMES = [f"nsd@{t:g}" for t in TOLERANCES]


def _square(shape=(16, 16), lo=(4, 4), size=(6, 6)):
    m = np.zeros(shape, dtype=bool)
    m[lo[0] : lo[0] + size[0], lo[1] : lo[1] + size[1]] = True
    return m


# -- one reference per peer ------------------------------------------------------------------------
def _reference_surface_dice_brute(case: BCase, tolerance: float, conn: int) -> np.ndarray:
    return brute_grid(case, lambda s: brute_nsd(s, tolerance), conn)


def _reference_surface_dice_monai(case: BCase, tolerance: float, subvoxels: bool) -> np.ndarray:
    mm = monai_metrics()
    keep = monai_background(case)  # its default include_background=False on label maps
    c = len(case.class_ids) - (0 if keep else 1)
    return monai_cells(
        case,
        lambda p, g: mm.compute_surface_dice(
            p,
            g,
            [tolerance] * c,
            include_background=keep,
            spacing=case.spacing,
            use_subvoxels=subvoxels,
        ),
    )


def _reference_surface_dice_deepmind(cell: Cell, spacing, tolerance: float) -> float:
    sdm = deepmind()
    d = sdm.compute_surface_distances(cell.target, cell.pred, spacing)
    return float(sdm.compute_surface_dice_at_tolerance(d, tolerance))


# -- by hand and errors ----------------------------------------------------------------------------
def test_tolerance_negative():
    sd = surface_distances(_square(), _square())
    with pytest.raises(InputError, match=r"`tolerance` must be a number >= 0, got -0.5"):
        surface_dice(sd, tolerance=-0.5)
    with pytest.raises(InputError, match=r"`metric` must give nsd a tolerance >= 0"):
        distance_metrics(_square(), _square(), ["nsd@-1"])


def test_empty_policies():
    m, e = _square(), np.zeros((16, 16), bool)
    assert surface_dice(surface_distances(m, e), tolerance=1)[0] == 0.0
    both = surface_distances(e, e)
    assert math.isnan(surface_dice(both, tolerance=1)[0])
    assert surface_dice(both, tolerance=1, empty=EmptyPolicy(zero_division=1.0))[0] == 1.0
    assert surface_dice(both, tolerance=1, empty=1.0)[0] == 1.0


# -- the grid against the brute force --------------------------------------------------------------
@pytest.mark.parametrize("connectivity", ["1", "full"])
@pytest.mark.parametrize("case", GRID, ids=ids(GRID))
def test_matches_brute_force(case, connectivity):
    conn = 1 if connectivity == "1" else case.ndim
    r = case.run(NAMES, connectivity=conn)
    for name, tol in zip(NAMES, TOLERANCES, strict=True):
        ref = _reference_surface_dice_brute(case, tol, conn)
        where = ~np.isnan(ref)
        assert_where(r[name], ref, where, **F64, err_msg=name)
        # one border empty: 0; both: NaN (the natural values)
        assert np.all((r[name][~where] == 0) | np.isnan(r[name][~where]))


# -- the grid against the peers --------------------------------------------------------------------
@pytest.mark.parametrize("surface", ["voxel", "surfel"])
@pytest.mark.parametrize("case", NO_IGNORE + EMPTY, ids=ids(NO_IGNORE + EMPTY))
def test_matches_monai(case, surface):
    names = NAMES[1:3]  # two tolerances: MONAI's subvoxel path is slow
    by_preset = case.run(names, preset="monai", surface=surface)
    explicit = case.run(names, **{**EXPLICIT["monai"], "surface": surface})
    for i, name in enumerate(names):
        same(by_preset[name], explicit[name])
        ref = _reference_surface_dice_monai(case, TOLERANCES[i + 1], surface == "surfel")
        np.testing.assert_allclose(by_preset[name], ref, **F32, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_matches_deepmind(case):
    by_preset = case.run(NAMES, preset="deepmind")
    explicit = case.run(NAMES, **EXPLICIT["deepmind"])
    where = present_mask(case)
    for name, tol in zip(NAMES, TOLERANCES, strict=True):
        same(by_preset[name], explicit[name])
        ref = per_cell(case, lambda c, t=tol: _reference_surface_dice_deepmind(c, case.spacing, t))
        assert_where(by_preset[name], ref, where, **F64, err_msg=name)


@pytest.mark.parametrize("case", EMPTY, ids=ids(EMPTY))
def test_deepmind_on_empty_masks(case, monkeypatch):
    """Under NumPy 2 surface-distance raises on one empty surface (``np.Inf``); with the NumPy 1
    name its NSD is the preset's: 0 with one surface empty, NaN with both."""
    sdm = deepmind()
    r = case.run(NAMES, preset="deepmind")
    for cell in cells(case):
        if cell.both_present:
            continue
        if cell.pred.any() or cell.target.any():
            monkeypatch.delattr(np, "Inf", raising=False)
            with pytest.raises(AttributeError, match=r"np\.Inf"):
                sdm.compute_surface_distances(cell.target, cell.pred, case.spacing)
        monkeypatch.setattr(np, "Inf", np.inf, raising=False)
        for name, tol in zip(NAMES, TOLERANCES, strict=True):
            with np.errstate(invalid="ignore"):
                ref = _reference_surface_dice_deepmind(cell, case.spacing, tol)
            same(r[name][cell.n, cell.column], ref)

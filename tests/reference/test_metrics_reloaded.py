"""The ``metrics-reloaded`` preset against values worked out from Metrics Reloaded's code.

Metrics Reloaded is not on PyPI, so nothing of it runs here. Read at commit
``cb38dfc0a5ed4fa3bdc559e4960b6e2b93c3b967`` of github.com/Project-MONAI/MetricsReloaded
(2025-06-02), ``MetricsReloaded/metrics/pairwise_measures.py``, class ``BinaryPairwiseMeasures``
(``pred``, ``ref`` 0/1 arrays, ``pixdim``, ``dict_args``):

- ``dsc``: ``2 tp / (n_pos_pred + n_pos_ref)``; denominator 0 (both empty) -> 1.
- ``intersection_over_union``: both empty -> NaN, else ``n_intersection / n_union``.
- ``fbeta``: ``(1 + b²) PPV R / (b² PPV + R)``; a NaN or zero denominator gives 0 when
  ``fp + fn > 0`` and 1 otherwise (both empty: 1).
- ``border_distance``: border = ``mask - binary_erosion(mask)`` (``utility/utils.py``,
  ``MorphologyOps.border_map``: SciPy's default cross, outside the image is background; the
  ``connectivity`` argument is not used); ``distance_transform_edt(1 - border, sampling=pixdim)``
  of each border, read on the other border.
- ``measured_distance`` (behind ``measured_hausdorff_distance``, ``measured_hausdorff_distance_perc``,
  ``measured_average_distance``, ``measured_masd``): both empty -> ``0, 0, 0, 0``; one empty ->
  NaN for all four; else HD = the max of both directions, HD-perc = ``max`` of the two directed
  ``np.percentile(..., q=perc)`` (linear; ``perc`` = ``dict_args["hd_perc"]``, default 95), ASSD =
  both sums over both border sizes (pooled), MASD = the mean of the two directed means.
- ``normalised_surface_distance``: ``tau`` = ``dict_args["nsd"]`` (default 1, units of pixdim);
  both empty -> 1; else (border points of each within ``tau`` of the other border, ``<=``) over
  the sum of both border sizes.
- ``boundary_iou``: ``d`` = ``dict_args["boundary_dist"]`` (default 1); both empty -> 1; else IoU
  of ``{x in mask : edt(1 - border)(x) < d}`` (no pixdim): for d = 1 the borders themselves.

The cases: a 14×14 image; reference R = rows 4–6 × columns 4–6 (9 pixels, border = the 8 pixels
around (5, 5)); prediction P = rows 4–6 × columns 5–7 plus the pixel (11, 11) (10 pixels; border =
the 8 pixels around (5, 6) and the lone pixel). Overlap: tp = 6 (rows 4–6 × columns 5–6), fp = 4,
fn = 3.
Directed border distances with spacing (sy, sx) = (1, 1) or (2, 1) (rows, columns):

- P -> R: (4,5) (4,6) (6,5) (6,6) lie on R's border: 0; (4,7) (5,5) (5,7) (6,7) are one column from
  it: 1 (sx); (11,11) -> (6,6): D = sqrt((5 sy)² + (5 sx)²), sqrt(50) or sqrt(125).
- R -> P: (4,5) (4,6) (6,5) (6,6): 0; (4,4) (5,4) (5,6) (6,4): one column from P's border: 1.

So d(P->R) sorted = [0, 0, 0, 0, 1, 1, 1, 1, D] (9), d(R->P) = [0, 0, 0, 0, 1, 1, 1, 1] (8).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import segscore
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.presets import get_preset

PRESET = "metrics-reloaded"
SHAPE = (14, 14)


def _masks() -> tuple[np.ndarray, np.ndarray]:
    ref = np.zeros(SHAPE, bool)
    ref[4:7, 4:7] = True
    pred = np.zeros(SHAPE, bool)
    pred[4:7, 5:8] = True
    pred[11, 11] = True
    return pred, ref


def _case(name: str) -> tuple[np.ndarray, np.ndarray]:
    pred, ref = _masks()
    empty = np.zeros(SHAPE, bool)
    return {
        "both_present": (pred, ref),
        "both_empty": (empty, empty),
        "ref_empty": (pred, empty),
        "pred_empty": (empty, ref),
    }[name]


CASES = ["both_present", "both_empty", "ref_empty", "pred_empty"]
NAN = math.nan

# pairwise_measures.py: dsc, intersection_over_union, fbeta (dict_args["beta"] = 2).
OVERLAP = {
    "both_present": {
        "dice": 2 * 6 / (10 + 9),  # dsc: 2 tp / (n_pos_pred + n_pos_ref)
        "iou": 6 / 13,  # n_intersection / n_union = 6 / (10 + 9 - 6)
        "f2": 30 / 46,  # PPV 6/10, R 6/9: 5 PPV R / (4 PPV + R) = 5 tp / (5 tp + 4 fn + fp)
    },
    "both_empty": {"dice": 1.0, "iou": NAN, "f2": 1.0},  # dsc: denominator 0 -> 1; iou: NaN
    # one mask empty: tp = 0 and a non-zero denominator (dsc, iou); fbeta: PPV or R NaN/0 with
    # fp + fn > 0 -> 0
    "ref_empty": {"dice": 0.0, "iou": 0.0, "f2": 0.0},
    "pred_empty": {"dice": 0.0, "iou": 0.0, "f2": 0.0},
}


def _boundary(case: str, spacing: tuple[float, float]) -> dict[str, float]:
    """pairwise_measures.py, measured_distance / normalised_surface_distance / boundary_iou."""
    if case == "both_empty":
        # measured_distance: np.sum(pred + ref) == 0 -> 0, 0, 0, 0; NSD and boundary IoU -> 1
        return {"hd": 0.0, "hd95": 0.0, "assd": 0.0, "masd": 0.0, "nsd@1": 1.0, "biou@1px": 1.0}
    if case in ("ref_empty", "pred_empty"):
        # measured_distance: one sum zero -> NaN x 4. NSD: the empty border is all zeros, so the
        # other border's distances are edt(ones): SciPy measures to the point one step before
        # index 0 along axis 0 (see test_nsd_one_empty_near_the_first_corner); the masks here lie
        # farther than tau = 1 from it (nearest: (4, 4) or (4, 5), over 5 away), so no border point
        # counts: 0 / |border| = 0. boundary IoU: the empty mask's band is empty (mask > 0 is
        # False everywhere): 0 / |other band| = 0.
        return {"hd": NAN, "hd95": NAN, "assd": NAN, "masd": NAN, "nsd@1": 0.0, "biou@1px": 0.0}
    sy, sx = spacing
    d = math.sqrt((5 * sy) ** 2 + (5 * sx) ** 2)  # (11, 11) -> (6, 6)
    one = sx  # the unit steps are along columns
    return {
        "hd": d,  # max of both directions
        # max(np.percentile(d(P->R), 95), np.percentile(d(R->P), 95)): position 0.95 * 8 = 7.6
        # in [0,0,0,0,1,1,1,1,D] -> 1 + 0.6 (D - 1); d(R->P) gives 1
        "hd95": one + 0.6 * (d - one),
        # average_distance = (sum d(P->R) + sum d(R->P)) / (|border P| + |border R|)
        "assd": (4 * one + d + 4 * one) / 17,
        # masd = 0.5 (sum d(P->R) / |border P| + sum d(R->P) / |border R|)
        "masd": 0.5 * ((4 * one + d) / 9 + 4 * one / 8),
        # (8 of P's 9 within tau = 1, all 8 of R's) / 17 (with sx = 1; D > 1)
        "nsd@1": 16 / 17,
        # boundary_iou, d = 1: band = the border itself: |B_P ∩ B_R| = 4 ((4,5) (4,6) (6,5) (6,6)),
        # |B_P ∪ B_R| = 9 + 8 - 4 = 13 (no pixdim: the same for every spacing)
        "biou@1px": 4 / 13,
    }


SPACINGS = [(1.0, 1.0), (2.0, 1.0)]
BOUNDARY = ["hd", "hd95", "assd", "masd", "nsd@1", "biou@1px"]


def _same(got: float, want: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return got == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("metric", ["dice", "iou"])
@pytest.mark.parametrize("case", CASES)
def test_overlap(case: str, metric: str) -> None:
    pred, ref = _case(case)
    counts = segscore.confusion(pred[None], ref[None])
    got = segscore.score(counts, metric, **get_preset(PRESET).overlap_kwargs(metric)).value
    assert _same(got, OVERLAP[case][metric]), (case, metric, got)


@pytest.mark.parametrize("spacing", SPACINGS, ids=["iso", "aniso"])
@pytest.mark.parametrize("case", CASES)
def test_boundary(case: str, spacing: tuple[float, float]) -> None:
    pred, ref = _case(case)
    result = segscore.distance_metrics(pred, ref, BOUNDARY, preset=PRESET, spacing=spacing)
    want = _boundary(case, spacing)
    for name in BOUNDARY:
        got = float(np.ravel(result[name])[0])
        assert _same(got, want[name]), (case, spacing, name, got, want[name])


def test_hd95_is_not_the_pooled_percentile() -> None:
    """The worked case separates the rules: pooled over the 17 distances np.percentile(.., 95) is
    position 15.2 of [0 x 8, 1 x 8, D] -> 1 + 0.2 (D - 1), not MR's 1 + 0.6 (D - 1)."""
    pred, ref = _masks()
    got = float(np.ravel(segscore.distance_metrics(pred, ref, ["hd95"], preset=PRESET)["hd95"])[0])
    d = math.sqrt(50)
    assert got == pytest.approx(1 + 0.6 * (d - 1), rel=1e-12)
    assert got != pytest.approx(1 + 0.2 * (d - 1), rel=1e-6)


# -- documented differences (docs/conventions.md) ---------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_fbeta(case: str) -> None:
    """fbeta agrees except when both masks are empty: MR gives 1, the preset (which sets
    ``both_empty=1`` for Dice only) NaN; ``empty=EmptyPolicy(both_empty=1.0)`` gives MR's 1."""
    pred, ref = _case(case)
    counts = segscore.confusion(pred[None], ref[None])
    got = segscore.score(counts, "f2", **get_preset(PRESET).overlap_kwargs("f2")).value
    if case == "both_empty":
        assert math.isnan(got)
        kwargs = {**get_preset(PRESET).overlap_kwargs("f2"), "empty": EmptyPolicy(both_empty=1.0)}
        assert segscore.score(counts, "f2", **kwargs).value == OVERLAP[case]["f2"]
    else:
        assert _same(got, OVERLAP[case]["f2"])


def test_nsd_one_empty_near_the_first_corner() -> None:
    """normalised_surface_distance with the reference empty: ``border_distance`` takes
    ``distance_transform_edt(1 - border_ref)`` of an array without a zero, which SciPy measures to
    the point (-1, 0) (observed with SciPy 1.17: ``edt(ones((3, 4)))[0] = [1, sqrt 2, sqrt 5,
    sqrt 10]``). Prediction rows 0–2 × columns 0–2: its border is the 8 pixels around (1, 1); only
    (0, 0) is within tau = 1 of (-1, 0), so MR gives 1/8 (and the same with the masks swapped).
    segscore gives 0, its value for one empty mask (no border point lies near an empty border)."""
    from scipy import ndimage

    np.testing.assert_allclose(
        ndimage.distance_transform_edt(np.ones((3, 4)))[0], np.sqrt([1, 2, 5, 10])
    )
    pred = np.zeros((10, 10), bool)
    pred[0:3, 0:3] = True
    empty = np.zeros_like(pred)
    mr_value = 1 / 8
    for p, t in ((pred, empty), (empty, pred)):
        got = float(np.ravel(segscore.distance_metrics(p, t, ["nsd@1"], preset=PRESET)["nsd@1"])[0])
        assert got == 0.0 != mr_value


def test_aggregation_of_processes_overall_process() -> None:
    """processes/overall_process.py, ``ProcessEvaluation``: ``get_stats_res`` gives per label
    ``groupby('label').describe()`` (mean over cases, NaN skipped) and, over cases,
    ``grouped_lab.describe()`` of ``label_aggregation``'s per-case ``<measure>_average``
    (``np.ma.average`` of the labels, NaN masked). Two 1×4 cases, labels 1 and 2, IoU:
    case 0: label 1 tp 1 fp 1 -> 1/2, label 2 both empty -> NaN; case 1: label 1 -> 1,
    label 2 predicted only -> 0. Per label: (1/2 + 1) / 2 = 3/4 and 0 -> ``per_class``. Per case:
    1/2 and 1/2, mean 1/2 = ``classes_then_images``, the preset's rule (``images_then_classes``,
    the mean of the per-label means, would give 3/8, a number MR does not report)."""
    pred = np.array([[[1, 1, 0, 0]], [[1, 0, 2, 0]]])
    target = np.array([[[1, 0, 0, 0]], [[1, 0, 0, 0]]])
    counts = segscore.confusion(pred, target, num_classes=3)
    kwargs = get_preset(PRESET).overlap_kwargs("iou")
    got = segscore.score(counts, "iou", **kwargs)
    assert kwargs["aggregation"] == "classes_then_images"
    np.testing.assert_allclose(got.per_class, [3 / 4, 0.0])  # stats_lab: per label over cases
    np.testing.assert_allclose(got.per_image, [1 / 2, 1 / 2])  # grouped_lab: per case
    assert got.value == pytest.approx(1 / 2)  # stats_all: the mean over cases

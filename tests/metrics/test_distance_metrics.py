"""The one-call entry point, distance_metrics: names, layouts, the background rule, empty
policies, counters and conventions records, and the peers' published numbers (CONVENTIONS §5.1
experiment and edge-case table) for several metrics at once. Per-metric grids: test_hausdorff.py,
test_average_surface_distance.py, test_surface_dice.py, test_boundary_iou.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segscore.errors import InputError
from segscore.metrics.boundary import distance_metrics, surface_distances
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.presets import get_preset
from segscore.metrics.registry import get_metric

from ._boundary_inputs import F32, GRID, ids, monai_metrics, monai_one_hot

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::RuntimeWarning", "ignore::DeprecationWarning"
)

RTOL = 1e-6


def _square(shape=(16, 16), lo=(4, 4), size=(6, 6)):
    m = np.zeros(shape, dtype=bool)
    m[lo[0] : lo[0] + size[0], lo[1] : lo[1] + size[1]] = True
    return m


def test_errors():
    with pytest.raises(InputError, match=r"`metric` must be one of 'iou'"):
        get_metric("nsd", kind="boundary")
    with pytest.raises(InputError, match=r"`metric` must be a boundary metric here, got 'iou'"):
        distance_metrics(_square(), _square(), ["iou"])
    with pytest.raises(
        InputError, match=r"`target_empty` must be NaN, a finite number, inf or 'diagonal'"
    ):
        EmptyPolicy(target_empty="worst")


# -- names and values ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("hd", "percentile", None),
        ("hd95", "percentile", 95.0),
        ("hd99.5", "percentile", 99.5),
        ("nsd@1.0", "tolerance", 1.0),
        ("nsd@2mm", "tolerance", 2.0),
        ("biou@2px", "width_unit", "px"),
        ("biou@0.02diag", "width", 0.02),
        ("biou@1.5mm", "width_unit", "mm"),
        ("masd", "base", "masd"),
    ],
)
def test_names(name, field, value):
    spec = get_metric(name, kind="boundary")
    assert spec.kind == "boundary"
    got = getattr(spec, field) if field == "base" else spec.params.get(field)
    assert got == value


def test_identical_masks_give_zero_distances():
    m = _square()
    r = distance_metrics(m, m, ["hd", "hd95", "assd", "masd", "nsd@0", "biou@1px", "asd"])
    for name in ("hd", "hd95", "assd", "masd", "asd"):
        assert np.all(r[name] == 0)
    assert r["nsd@0"][0, 0] == 1.0
    assert r["biou@1px"][0, 0] == 1.0
    assert r["asd"].shape == (1, 1, 2)


def test_empty_cases_counted():
    m, e = _square(), np.zeros((16, 16), bool)
    r = distance_metrics(m, e, ["hd", "nsd@1"])
    assert (r.n_inf["hd"], r.n_valid["nsd@1"]) == (1, 1)
    assert r.empty_cases["hd"] == {
        "both_empty": 0,
        "target_empty": 1,
        "prediction_empty": 0,
        "both_present": 0,
    }


def test_deprecated_distance_empty_is_a_per_metric_mapping():
    from segscore.metrics.empty import DistanceEmpty

    m, e = _square(), np.zeros((16, 16), bool)
    with pytest.warns(DeprecationWarning, match="DistanceEmpty is deprecated"):
        old = DistanceEmpty(one_empty="nan", both_empty=0.0, overlap_both_empty=1.0)
    assert old["hd"] == EmptyPolicy(
        both_empty=0.0, target_empty=math.nan, prediction_empty=math.nan
    )
    assert old["nsd"] == EmptyPolicy(zero_division=1.0)
    r = distance_metrics(m, e, ["hd95", "asd", "nsd@1"], empty=old)
    assert math.isnan(r["hd95"][0, 0])
    assert np.isnan(r["asd"]).all()
    assert r["nsd@1"][0, 0] == 0.0
    assert distance_metrics(e, e, ["nsd@1", "assd"], empty=old)["nsd@1"][0, 0] == 1.0
    with (
        pytest.warns(DeprecationWarning, match="DistanceEmpty is deprecated"),
        pytest.raises(InputError, match=r"`one_empty` must"),
    ):
        DistanceEmpty(one_empty="worst")


# -- one options object, one layout, one background rule ------------------------------------------
def _label_pair(shape=(20, 20), seed=0):
    rng = np.random.default_rng(seed)
    target = np.zeros(shape, np.int64)
    target[2:8, 2:8] = 1
    target[10:18, 10:18] = 2
    pred = np.roll(target, int(rng.integers(1, 3)), axis=0)
    return pred, target


NAMES = ["hd", "hd95", "asd", "assd", "masd", "nsd@1", "biou@1px"]


def test_batch_of_images_equals_one_call_per_image():
    rng = np.random.default_rng(4)
    preds = rng.random((3, 12, 13)) < 0.3
    targets = rng.random((3, 12, 13)) < 0.3
    preds[1] = False  # an empty prediction inside the batch
    batch = distance_metrics(preds, targets, NAMES)
    assert batch["hd"].shape == (3, 1)
    assert batch["asd"].shape == (3, 1, 2)
    for n in range(3):
        one = distance_metrics(preds[n], targets[n], NAMES)
        for name in NAMES:
            np.testing.assert_array_equal(batch[name][n], one[name][0])
    assert batch.empty_cases["hd"]["prediction_empty"] == 1


def test_spatial_dims_3_reads_one_volume():
    m = np.zeros((6, 7, 8), bool)
    m[1:4, 2:5, 2:6] = True
    shifted = np.roll(m, 1, axis=0)
    volume = distance_metrics(shifted, m, ["hd", "assd"], spatial_dims=3, spacing=(2.0, 1.0, 1.0))
    assert volume["hd"].shape == (1, 1)
    assert volume["hd"][0, 0] == 2.0  # the shift is along axis 0, spacing 2
    batch = distance_metrics(shifted, m, ["hd"])  # 3-D without spatial_dims: 6 images
    assert batch["hd"].shape == (6, 1)
    many = distance_metrics(shifted[None], m[None], ["hd"], spacing=(2.0, 1.0, 1.0))  # 4-D
    assert many["hd"][0, 0] == 2.0
    sd = surface_distances(shifted, m, spatial_dims=3)
    assert sd.shape == (6, 7, 8)
    with pytest.raises(InputError, match=r"`spacing` must have 2 values"):
        distance_metrics(shifted, m, ["hd"], spacing=(2.0, 1.0, 1.0))


def test_background_rule_is_the_counting_options_rule():
    from segscore.metrics.options import CountingOptions

    pred, target = _label_pair()
    all_classes = distance_metrics(pred, target, ["hd", "nsd@1"], num_classes=3)
    assert all_classes.class_ids == (0, 1, 2)  # class 0 scored by default
    background = distance_metrics(pred == 0, target == 0, ["hd", "nsd@1"])
    assert all_classes["hd"][0, 0] == background["hd"][0, 0]
    dropped = distance_metrics(
        pred, target, ["hd"], options=CountingOptions(num_classes=3, include_background=False)
    )
    assert dropped.class_ids == (1, 2)
    np.testing.assert_array_equal(dropped["hd"], all_classes["hd"][:, 1:])
    assert dropped.conventions["hd"].include_background is False
    assert dropped.conventions["hd"].classes == (1, 2)
    # binary masks: one class, the foreground, class id 1, whatever the background rule
    for keep in (True, False):
        r = distance_metrics(pred == 1, target == 1, ["hd"], include_background=keep)
        assert r.class_ids == (1,)
        assert r["hd"][0, 0] == all_classes["hd"][0, 1]
    with pytest.raises(InputError, match=r"`num_classes` must not be given with `options`"):
        distance_metrics(
            pred, target, ["hd"], options=CountingOptions(num_classes=3), num_classes=4
        )


def test_float_predictions_are_thresholded_as_confusion_does():
    from segscore.metrics.counting import confusion

    rng = np.random.default_rng(2)
    prob = rng.random((10, 10))
    target = rng.random((10, 10)) < 0.4
    for threshold in (0.3, 0.5, 0.8):
        r = distance_metrics(prob, target, ["hd", "assd"], threshold=threshold)
        mask = distance_metrics(prob >= threshold, target, ["hd", "assd"])
        np.testing.assert_array_equal(r["hd"], mask["hd"])
        assert confusion(prob, target, threshold=threshold).tp[0, 0] == np.sum(
            (prob >= threshold) & target
        )
    assert r.conventions["hd"].counting is not None
    assert r.conventions["hd"].counting.threshold == 0.8
    with pytest.raises(InputError, match=r"`target` must be a binary mask"):
        distance_metrics(target, prob, ["hd"])


def test_multilabel_is_refused():
    m = np.zeros((2, 6, 6), bool)
    with pytest.raises(InputError, match=r"`multilabel` must be False for boundary metrics"):
        distance_metrics(m, m, ["hd"], multilabel=True)


def test_counters_and_conventions_record():
    e = np.zeros((3, 8, 8), bool)
    t = e.copy()
    t[:, 2:5, 2:5] = True
    p = t.copy()
    p[0] = False  # prediction empty
    t[1] = False  # target empty
    p[2] = np.roll(p[2], 1, 0)  # both present
    r = distance_metrics(p, t, ["hd", "nsd@1", "asd"])
    assert r.n_inf["hd"] == 2
    assert r.n_valid["hd"] == 1
    assert r.n_nan["hd"] == r.n_excluded["hd"] == 0
    assert (r.n_inf["asd"], r.n_nan["asd"], r.n_valid["asd"]) == (2, 2, 2)
    assert r.n_valid["nsd@1"] == 3
    both = distance_metrics(e, e, ["hd", "nsd@1"])
    assert both.n_nan == both.n_excluded == {"hd": 3, "nsd@1": 3}
    assert both.empty_cases["nsd@1"]["both_empty"] == 3
    c = r.conventions["hd"]
    assert (c.metric, c.kind, c.preset, c.aggregation) == ("hd", "boundary", None, None)
    assert c.boundary is not None
    assert c.boundary["surface_model"] == "voxel_border(connectivity=1)"
    assert c.boundary["spacing"] == [1.0, 1.0]
    assert c.boundary["hd_percentile_rule"] == "max_directed"
    assert c.empty == EmptyPolicy()
    record = r.as_dict()
    assert record["values"]["hd"][0] == ["Infinity"]
    assert record["conventions"]["asd"]["empty"]["zero_division"] == "NaN"
    assert record["class_ids"] == [1]


def test_empty_argument_forms():
    m, e = _square(), np.zeros((16, 16), bool)
    names = ["hd", "hd95", "assd", "nsd@1", "biou@1px"]
    word = distance_metrics(m, e, names, empty="diagonal")
    for name in ("hd", "hd95", "assd"):
        assert word[name][0, 0] == pytest.approx(16 * math.sqrt(2))
    assert (word["nsd@1"][0, 0], word["biou@1px"][0, 0]) == (0.0, 0.0)  # ratios keep theirs
    assert distance_metrics(m, e, ["hd"], empty=3.5)["hd"][0, 0] == 3.5
    mapping = {"hd95": EmptyPolicy(target_empty=1.0), "hd": EmptyPolicy(target_empty=2.0)}
    r = distance_metrics(m, e, ["hd", "hd95", "hd90"], empty=mapping)
    assert (r["hd"][0, 0], r["hd95"][0, 0], r["hd90"][0, 0]) == (2.0, 1.0, 2.0)
    r = distance_metrics(m, e, ["hd", "hd90"], empty={"hdP": EmptyPolicy(target_empty=1.0)})
    assert (r["hd"][0, 0], r["hd90"][0, 0]) == (math.inf, 1.0)
    assert r.conventions["hd90"].empty == EmptyPolicy(target_empty=1.0)
    both = distance_metrics(e, e, names, empty=EmptyPolicy(zero_division=0.0))
    assert all(both[n][0, 0] == 0.0 for n in names)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"empty": EmptyPolicy(target_empty=math.inf)},
            r"`target_empty` must be NaN or a finite number for the ratio metric 'nsd@1' \(inf "
            r"and 'diagonal' are distances\), got inf\.",
        ),
        (
            {"empty": {"biou": EmptyPolicy(both_empty="diagonal")}},
            r"`both_empty` must be NaN or a finite number for the ratio metric 'biou@1px'",
        ),
        (
            {"empty": {"hd96x": EmptyPolicy()}},
            r"`empty` must map metric names, 'hdP' or base names .*got the key 'hd96x'\.",
        ),
        ({"empty": {"hd": 1.0}}, r"`empty` must map metric names to EmptyPolicy, got 'hd': 1.0\."),
        (
            {"empty": "worst"},
            r"`empty` must be NaN, a finite number, inf or 'diagonal', got 'worst'\.",
        ),
        ({"empty": -math.inf}, r"`empty` must be NaN, a finite number, inf or 'diagonal'"),
    ],
)
def test_policy_validation_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        distance_metrics(_square(), _square(), ["hd", "nsd@1", "biou@1px"], **kwargs)


def test_policy_values_and_overlap_refusal():
    from segscore.metrics.counting import confusion
    from segscore.metrics.overlap import iou
    from segscore.metrics.reduce import score

    assert EmptyPolicy(both_empty="inf").both_empty == math.inf
    assert math.isnan(EmptyPolicy(both_empty="NaN").both_empty)
    assert EmptyPolicy(target_empty="nan") == EmptyPolicy(target_empty=np.nan)
    c = confusion(np.zeros((2, 2), int), np.zeros((2, 2), int))
    with pytest.raises(
        InputError, match=r"`prediction_empty` must be NaN or a finite number for a ratio metric"
    ):
        iou(c, empty=EmptyPolicy(prediction_empty="diagonal"))
    with pytest.raises(InputError, match=r"for the ratio metric 'iou'"):
        score(c, "iou", empty=EmptyPolicy(both_empty=math.inf))
    with pytest.raises(InputError, match=r"`zero_division` must be NaN or a finite number"):
        EmptyPolicy(zero_division="diagonal")  # type: ignore[arg-type]


# -- CONVENTIONS §5.1 ------------------------------------------------------------------------------
def _experiment():
    """64x64, GT the 20x20 square [22:42, 22:42]; prediction: GT shifted 1 px down plus a 2x2 blob
    at [5:7, 5:7] (diagonally ~16 px from the square's corner)."""
    target = np.zeros((64, 64), bool)
    target[22:42, 22:42] = True
    pred = np.zeros((64, 64), bool)
    pred[23:43, 22:42] = True
    pred[5:7, 5:7] = True
    return pred, target


def test_conventions_5_1_experiment():
    pred, target = _experiment()
    medpy = distance_metrics(pred, target, ["hd", "hd95", "assd", "masd", "nsd@1"], preset="medpy")
    monai = distance_metrics(pred, target, ["hd95", "nsd@1"], preset="monai")
    deepmind = distance_metrics(pred, target, ["hd95", "asd", "nsd@1"], preset="deepmind")
    assert medpy["hd"][0, 0] == pytest.approx(24.04, abs=0.005)
    assert medpy["hd95"][0, 0] == pytest.approx(1.00, abs=0.005)
    assert monai["hd95"][0, 0] == pytest.approx(2.08, abs=0.005)
    assert deepmind["hd95"][0, 0] == pytest.approx(21.93, abs=0.005)
    assert medpy["assd"][0, 0] == pytest.approx(1.0856, abs=5e-5)
    assert medpy["masd"][0, 0] == pytest.approx(1.0710, abs=5e-5)
    assert deepmind["asd"][0, 0, 1] == pytest.approx(0.50, abs=0.005)  # gt -> pred
    assert deepmind["asd"][0, 0, 0] == pytest.approx(2.27, abs=0.005)  # pred -> gt
    assert deepmind["nsd@1"][0, 0] == pytest.approx(0.9585, abs=5e-5)
    assert monai["nsd@1"][0, 0] == pytest.approx(0.9744, abs=5e-5)
    # ... and the real peers give the same numbers on this geometry
    mb = pytest.importorskip("medpy.metric.binary")
    sdm = pytest.importorskip("surface_distance")
    assert mb.hd(pred, target) == pytest.approx(medpy["hd"][0, 0], rel=RTOL)
    assert mb.hd95(pred, target) == pytest.approx(medpy["hd95"][0, 0], rel=RTOL)
    assert mb.assd(pred, target) == pytest.approx(medpy["assd"][0, 0], rel=RTOL)
    d = sdm.compute_surface_distances(target, pred, (1.0, 1.0))
    assert sdm.compute_robust_hausdorff(d, 95) == pytest.approx(deepmind["hd95"][0, 0], rel=RTOL)
    assert sdm.compute_surface_dice_at_tolerance(d, 1.0) == pytest.approx(
        deepmind["nsd@1"][0, 0], rel=RTOL
    )


# -- CONVENTIONS edge-case table (24^3 volumes, NSD tolerance 1) --------------------------------------
def _cube(shift_axis=None, spacing=None):
    t = np.zeros((24, 24, 24), bool)
    t[9:15, 9:15, 9:15] = True  # a 6^3 cube: the geometry that reproduces the table
    p = t if shift_axis is None else np.roll(t, 1, axis=shift_axis)
    return p, t


@pytest.mark.parametrize(
    ("axis", "voxel", "surfel"),
    [
        (2, (2.5, 0.7026, 0.7368), (2.5, 0.396, 0.8485)),
        (0, (1.0, 0.3316, 1.0), (1.0, 0.3574, 1.0)),
    ],
)
def test_edge_table_shifted_cube(axis, voxel, surfel):
    p, t = _cube(axis)
    sp = (1.0, 0.8, 2.5)
    v = distance_metrics(
        p, t, ["hd95", "assd", "nsd@1"], preset="monai", spacing=sp, spatial_dims=3
    )
    s = distance_metrics(
        p, t, ["hd95", "masd", "nsd@1"], preset="deepmind", spacing=sp, spatial_dims=3
    )
    assert (v["hd95"][0, 0], v["assd"][0, 0], v["nsd@1"][0, 0]) == pytest.approx(voxel, abs=5e-5)
    assert (s["hd95"][0, 0], s["masd"][0, 0], s["nsd@1"][0, 0]) == pytest.approx(surfel, abs=5e-4)


def test_edge_table_single_voxels():
    t = np.zeros((24, 24, 24), bool)
    p = t.copy()
    t[12, 12, 10] = True
    p[12, 12, 12] = True
    v = distance_metrics(p, t, ["hd", "hd95", "assd", "nsd@1"], preset="monai", spatial_dims=3)
    assert (v["hd"][0, 0], v["hd95"][0, 0], v["assd"][0, 0], v["nsd@1"][0, 0]) == (
        2.0,
        2.0,
        2.0,
        0.0,
    )
    s = distance_metrics(p, t, ["hd95", "masd", "nsd@1"], preset="deepmind", spatial_dims=3)
    assert (s["hd95"][0, 0], s["masd"][0, 0], s["nsd@1"][0, 0]) == pytest.approx((2.0, 1.5, 0.5))
    same = distance_metrics(t, t, ["hd95", "assd", "nsd@1"], preset="deepmind", spatial_dims=3)
    assert (same["hd95"][0, 0], same["assd"][0, 0], same["nsd@1"][0, 0]) == (0.0, 0.0, 1.0)


def test_edge_table_empty_masks_monai():
    torch = pytest.importorskip("torch")
    mm = pytest.importorskip("monai.metrics")
    _, t = _cube()
    e = np.zeros_like(t)
    for pred, target in ((e, t), (e, e)):
        P = torch.from_numpy(pred[None, None].astype(np.float32))
        T = torch.from_numpy(target[None, None].astype(np.float32))
        r = distance_metrics(
            pred, target, ["hd", "hd95", "assd", "nsd@1"], preset="monai", spatial_dims=3
        )
        refs = {
            "hd": mm.compute_hausdorff_distance(P, T, include_background=True).item(),
            "hd95": mm.compute_hausdorff_distance(
                P, T, include_background=True, percentile=95
            ).item(),
            "assd": mm.compute_average_surface_distance(
                P, T, include_background=True, symmetric=True
            ).item(),
            "nsd@1": mm.compute_surface_dice(P, T, [1.0], include_background=True).item(),
        }
        for k, ref in refs.items():
            got = r[k][0, 0]
            assert (math.isnan(got) and math.isnan(ref)) or got == ref, (k, got, ref)


def test_medpy_and_deepmind_empty_presets():
    _, t = _cube()
    e = np.zeros_like(t)
    med = distance_metrics(
        e, t, ["hd", "hd95", "assd"], preset="medpy", spatial_dims=3
    )  # MedPy raises: NaN here
    assert all(math.isnan(med[k][0, 0]) for k in ("hd", "hd95", "assd"))
    dm = distance_metrics(
        e, e, ["hd95", "nsd@1"], preset=get_preset("deepmind").name, spatial_dims=3
    )
    assert dm["hd95"][0, 0] == math.inf  # DeepMind: robust HD of two empty surfaces is inf
    assert math.isnan(dm["nsd@1"][0, 0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dims", [2, 3])
def test_deepmind_empty_surfaces_under_numpy_1(monkeypatch, dims):
    """DeepMind's own code on empty surfaces, run with the NumPy 1 names it uses (np.Inf):
    the directed average distances per direction, robust HD and NSD."""
    sdm = pytest.importorskip("surface_distance")
    monkeypatch.setattr(np, "Inf", np.inf, raising=False)
    monkeypatch.setattr(np, "NaN", np.nan, raising=False)
    shape = (12,) * dims
    t = np.zeros(shape, bool)
    t[(slice(3, 8),) * dims] = True
    e = np.zeros_like(t)
    spacing = (1.0,) * dims
    for pred, target in ((e, t), (t, e), (e, e), (np.roll(t, 1, 0), t)):
        d = sdm.compute_surface_distances(target, pred, spacing)
        with np.errstate(invalid="ignore", divide="ignore"):
            gt_to_pred, pred_to_gt = sdm.compute_average_surface_distance(d)
            nsd = sdm.compute_surface_dice_at_tolerance(d, 1.0)
        r = distance_metrics(
            pred, target, ["asd", "hd95", "hd100", "nsd@1"], preset="deepmind", spatial_dims=dims
        )
        np.testing.assert_allclose(r["asd"][0, 0], [pred_to_gt, gt_to_pred], rtol=1e-12)
        for p in (95, 100):
            ref = sdm.compute_robust_hausdorff(d, p)
            np.testing.assert_allclose(r[f"hd{p}"][0, 0], ref, rtol=1e-12)
        np.testing.assert_allclose(r["nsd@1"][0, 0], nsd, rtol=1e-12)
    # the prediction empty: (inf, NaN) in DeepMind's order (target -> pred, pred -> target)
    d = sdm.compute_surface_distances(t, e, spacing)
    with np.errstate(invalid="ignore"):
        assert np.array_equal(
            sdm.compute_average_surface_distance(d), (np.inf, np.nan), equal_nan=True
        )
    # ... and the segscore default gives the same natural pair, in segscore's order
    r = distance_metrics(e, t, ["asd"], spatial_dims=dims)
    np.testing.assert_array_equal(r["asd"][0, 0], [np.nan, np.inf])


IGNORE_CASES = [c for c in GRID if c.ignore_index is not None]


@pytest.mark.parametrize("case", IGNORE_CASES, ids=ids(IGNORE_CASES))
def test_monai_metric_classes_clear_ignored_voxels_first(case):
    """A documented difference, not a bug: MONAI's HausdorffDistanceMetric(ignore_index=...)
    zeroes the ignored voxels in both one-hot masks before it finds the edges, so the border of
    the ignored region becomes surface. That is segscore on the masks with the ignored voxels
    cleared (no ignore_index), not segscore's ignore rule (elements in ignored voxels dropped)."""
    mm = monai_metrics()
    metric = mm.HausdorffDistanceMetric(
        include_background=True, percentile=95, ignore_index=case.ignore_index
    )
    p, g = monai_one_hot(case)
    ref = metric(p, g, spacing=case.spacing).numpy().astype(np.float64)
    valid = case.target != case.ignore_index
    cleared = np.stack(
        [
            distance_metrics(
                (case.pred == k) & valid,
                (case.target == k) & valid,
                ["hd95"],
                preset="monai",
                spacing=case.spacing,
                spatial_dims=case.ndim,
            )["hd95"][:, 0]
            for k in case.class_ids
        ],
        axis=1,
    )
    np.testing.assert_allclose(cleared, ref, **F32, equal_nan=True)
    if case.ndim == 2:  # here the two rules give different numbers (in 3-D they happen to agree)
        ours = case.run(["hd95"], preset="monai", include_background=True)["hd95"]
        assert not np.allclose(ours, ref, equal_nan=True)

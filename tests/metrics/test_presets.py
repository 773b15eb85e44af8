from __future__ import annotations

import math

import numpy as np
import pytest

from segscore.errors import InputError
from segscore.metrics.boundary import distance_metrics
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.presets import PRESETS, Preset, get_preset
from segscore.metrics.registry import get_metric

NAMES = ["monai", "medpy", "deepmind", "metrics-reloaded", "torchmetrics", "mmseg", "nnunet", "smp"]


def test_names_and_aliases():
    assert list(PRESETS) == NAMES
    assert get_preset("MR") is PRESETS["metrics-reloaded"]
    assert get_preset("hf") is PRESETS["mmseg"]
    assert isinstance(get_preset("smp"), Preset)
    with pytest.raises(InputError, match=r"`preset` must be one of 'monai', .* got 'sklearn'"):
        get_preset("sklearn")


def test_frozen():
    with pytest.raises(AttributeError):
        get_preset("monai").rule = "pooled"  # type: ignore[misc]


@pytest.mark.parametrize("name", NAMES)
def test_preset_recorded_in_result(name):
    m = np.zeros((10, 10), bool)
    m[2:6, 2:6] = True
    r = distance_metrics(m, np.roll(m, 1, 0), ["hd95", "assd"], preset=name)
    assert r.conventions["hd95"].preset == name
    assert r.conventions["hd95"].boundary["hd_percentile_rule"] == get_preset(name).rule
    assert r.conventions["hd95"].empty == get_preset(name).empty_for(get_metric("hd95"))
    assert not math.isnan(r["hd95"][0, 0])


def test_explicit_option_overrides_preset():
    m = np.zeros((10, 10), bool)
    m[2:6, 2:6] = True
    r = distance_metrics(m, np.roll(m, 1, 0), ["hd95"], preset="medpy", rule="max_directed")
    assert r.conventions["hd95"].boundary["hd_percentile_rule"] == "max_directed"
    e = np.zeros_like(m)
    # an explicit empty policy overrides the preset's, for the metrics it names
    r = distance_metrics(m, e, ["hd", "nsd@1"], preset="medpy", empty={"hd": EmptyPolicy()})
    assert (r["hd"][0, 0], r["nsd@1"][0, 0]) == (math.inf, 0.0)


INF, NAN = math.inf, math.nan
CASES = ("both_empty", "target_empty", "prediction_empty", "both_present")
# (hd, hd95, assd, nsd@1, biou@1px) per case: the numbers each preset gave before the policies were
# made per metric (MONAI: HD inf but HD95 NaN; DeepMind: HD95 inf when both are empty; Metrics
# Reloaded: distances NaN with one empty and 0 with both, NSD and BIoU 1 with both; MedPy: NaN).
EMPTY_VALUES = {
    None: {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (INF, INF, INF, 0.0, 0.0),
        "prediction_empty": (INF, INF, INF, 0.0, 0.0),
    },
    "monai": {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (INF, NAN, INF, 0.0, 0.0),
        "prediction_empty": (INF, NAN, INF, 0.0, 0.0),
    },
    "medpy": {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (NAN, NAN, NAN, 0.0, 0.0),
        "prediction_empty": (NAN, NAN, NAN, 0.0, 0.0),
    },
    "deepmind": {
        "both_empty": (NAN, INF, NAN, NAN, NAN),
        "target_empty": (INF, INF, INF, 0.0, 0.0),
        "prediction_empty": (INF, INF, INF, 0.0, 0.0),
    },
    "metrics-reloaded": {
        "both_empty": (0.0, 0.0, 0.0, 1.0, 1.0),
        "target_empty": (NAN, NAN, NAN, 0.0, 0.0),
        "prediction_empty": (NAN, NAN, NAN, 0.0, 0.0),
    },
    "torchmetrics": {
        "both_empty": (NAN, NAN, NAN, NAN, NAN),
        "target_empty": (INF, INF, INF, 0.0, 0.0),
        "prediction_empty": (INF, INF, INF, 0.0, 0.0),
    },
}


def _empty_case(case):
    square = np.zeros((12, 12), bool)
    square[3:8, 3:8] = True
    empty = np.zeros_like(square)
    return {
        "both_empty": (empty, empty),
        "target_empty": (square, empty),
        "prediction_empty": (empty, square),
        "both_present": (np.roll(square, 1, 0), square),
    }[case]


@pytest.mark.parametrize("preset", list(EMPTY_VALUES), ids=str)
@pytest.mark.parametrize("case", CASES)
def test_preset_empty_values(preset, case):
    names = ["hd", "hd95", "assd", "nsd@1", "biou@1px"]
    pred, target = _empty_case(case)
    r = distance_metrics(pred, target, names, preset=preset)
    got = tuple(float(r[n][0, 0]) for n in names)
    assert r.empty_cases["hd"][case] == 1
    if case == "both_present":
        assert all(math.isfinite(v) for v in got)
        return
    np.testing.assert_array_equal(got, EMPTY_VALUES[preset][case])


@pytest.mark.parametrize("preset", ["mmseg", "nnunet", "smp"])
def test_presets_without_distances_carry_the_defaults(preset):
    for case in CASES[:3]:
        pred, target = _empty_case(case)
        names = ["hd", "hd95", "assd", "nsd@1", "biou@1px"]
        r = distance_metrics(pred, target, names, preset=preset)
        np.testing.assert_array_equal([r[n][0, 0] for n in names], EMPTY_VALUES[None][case])


def test_empty_for_lookup_order():
    dm, mr = get_preset("deepmind"), get_preset("metrics-reloaded")
    assert dm.empty_for(get_metric("hd95")) == EmptyPolicy(both_empty=INF)  # 'hdP'
    assert dm.empty_for(get_metric("hd")) == dm.boundary_empty  # no percentile: family default
    assert mr.empty_for(get_metric("hd99")) == mr.metric_empty["hd"]  # the base name
    assert mr.empty_for(get_metric("nsd@2")) == EmptyPolicy(zero_division=1.0)
    assert mr.empty_for(get_metric("dice")) == EmptyPolicy(both_empty=1.0)  # exact name
    assert mr.empty_for(get_metric("iou")) == mr.empty  # overlap family default
    assert get_preset("medpy").overlap_kwargs("jaccard")["empty"] == EmptyPolicy(zero_division=1.0)

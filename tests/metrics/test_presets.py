from __future__ import annotations

import math

import numpy as np
import pytest

from segscore.errors import InputError
from segscore.metrics.boundary import distance_metrics
from segscore.metrics.presets import PRESETS, Preset, get_preset

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
    assert r.conventions["preset"] == name
    assert r.conventions["hd_percentile_rule"] == get_preset(name).rule
    assert not math.isnan(r["hd95"][0])


def test_explicit_option_overrides_preset():
    m = np.zeros((10, 10), bool)
    m[2:6, 2:6] = True
    r = distance_metrics(m, np.roll(m, 1, 0), ["hd95"], preset="medpy", rule="max_directed")
    assert r.conventions["hd_percentile_rule"] == "max_directed"

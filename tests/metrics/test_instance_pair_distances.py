"""Boundary distances of matched object pairs: on crops, equal to the full image, and to MedPy."""

from __future__ import annotations

import numpy as np
import pytest

import segscore
from segscore.errors import InputError
from segscore.metrics.instance.matching import match_instances
from segscore.metrics.instance.pairs import pair_distances

from ._instances import batch, perturb, random_instances

METRICS = ["hd", "hd95", "assd", "masd", "nsd@1.0", "biou@1px"]


@pytest.mark.parametrize("spacing", [None, (0.7, 1.3)])
def test_crops_equal_the_full_image(spacing) -> None:  # type: ignore[no-untyped-def]
    pred, target = batch(17, n_images=3, shape=(48, 40), n=9)
    for p, t in zip(pred, target, strict=True):
        m = match_instances(p, t)[0]
        got = pair_distances(p, t, m, METRICS, spacing=spacing)
        for k, (a, b) in enumerate(m.matched_ids()):
            full = segscore.distance_metrics(p == a, t == b, METRICS, spacing=spacing)
            for name in METRICS:
                assert got[name][k] == full.values[name][0, 0], (name, a, b)


def test_volumes_and_ignored_pixels() -> None:
    rng = np.random.default_rng(2)
    t = random_instances(rng, (14, 18, 16), n=6)
    p = perturb(rng, t)
    t[0] = 99_999  # an ignored slab
    m = match_instances(p, t, ignore_index=99_999, spatial_dims=3)[0]
    got = pair_distances(p, t, m, ["hd95", "assd"], spacing=(2.0, 1.0, 1.0), ignore_index=99_999)
    for k, (a, b) in enumerate(m.matched_ids()):
        full = segscore.distance_metrics(
            p == a, t == b, ["hd95", "assd"], spatial_dims=3, spacing=(2.0, 1.0, 1.0),
            ignore_mask=t == 99_999,
        )  # fmt: skip
        assert got["hd95"][k] == full.values["hd95"][0, 0]
        assert got["assd"][k] == full.values["assd"][0, 0]


def test_hd95_of_pairs_equals_medpy() -> None:
    binary = pytest.importorskip("medpy.metric.binary")
    pred, target = batch(4, n_images=2, shape=(40, 40), n=7)
    for p, t in zip(pred, target, strict=True):
        m = match_instances(p, t)[0]
        got = pair_distances(p, t, m, ["hd95", "assd"], spacing=(1.0, 0.5), preset="medpy")
        for k, (a, b) in enumerate(m.matched_ids()):
            ref = binary.hd95(p == a, t == b, voxelspacing=(1.0, 0.5))
            assert got["hd95"][k] == pytest.approx(ref, rel=1e-12)
            ref = binary.assd(p == a, t == b, voxelspacing=(1.0, 0.5))
            assert got["assd"][k] == pytest.approx(ref, rel=1e-12)


def test_bad_input() -> None:
    pred, target = batch(3, n_images=1, shape=(20, 20), n=4)
    m = match_instances(pred[0], target[0])[0]
    with pytest.raises(InputError, match=r"symmetric distances per pair"):
        pair_distances(pred[0], target[0], m, ["asd"])
    with pytest.raises(InputError, match=r"whose overlap table was matched"):
        pair_distances(np.zeros_like(pred[0]), target[0], m)
    with pytest.raises(InputError, match=r"one 2-D or 3-D image each"):
        pair_distances(pred[0], target, m)

"""The streaming object accumulator: batches, merges in any order and torch tensors give the
scores of one pass, exactly; StarDist's ``matching_dataset`` is the independent reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segscore import InputError, instance_scores, label_components
from segscore.metrics.instance import InstanceEvaluator

from ._instances import batch
from ._peers import stardist_matching

METRICS = ["f1@0.5", "precision@0.75", "recall@0.5", "dsb@0.5:0.95", "pq", "sq", "aji", "aji+"]
PRED, TARGET = batch(21, n_images=6, shape=(40, 48), n=9)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("aggregation", ["pooled", "images_then_classes"])
def test_batches_equal_one_pass(aggregation: str) -> None:
    ev = InstanceEvaluator(METRICS)
    for i in range(0, 6, 2):
        ev.update(PRED[i : i + 2], TARGET[i : i + 2])
    whole = instance_scores(PRED, TARGET, METRICS, aggregation=aggregation)  # type: ignore[arg-type]
    got = ev.compute_all(aggregation=aggregation)  # type: ignore[arg-type]
    assert ev.n_images == 6
    for m in METRICS:
        assert _same(got[m].value, whole[m].value), m
        np.testing.assert_array_equal(got[m].per_image, whole[m].per_image)


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(6)), st.integers(1, 5))
def test_merge_in_any_order_is_exact(order: list[int], cut: int) -> None:
    """Accumulators over any split of the images, merged, equal one pass over them (pooled)."""
    first, second = InstanceEvaluator(METRICS), InstanceEvaluator(METRICS)
    for k, i in enumerate(order):
        (first if k < cut else second).update(PRED[i], TARGET[i])
    merged = second.merge(first)
    ref = instance_scores(PRED[order], TARGET[order], METRICS, aggregation="pooled")
    for m in METRICS:
        assert _same(merged.compute(m, aggregation="pooled").value, ref[m].value), m


def test_pooled_equals_stardist() -> None:
    sm = stardist_matching()
    if sm is None:
        pytest.skip("stardist is not installed")
    ev = InstanceEvaluator(["f1@0.5", "precision@0.5", "recall@0.5", "pq"])
    for p, t in zip(PRED, TARGET, strict=True):
        ev.update(p, t)
    ref = sm.matching_dataset(list(TARGET), list(PRED), thresh=0.5, by_image=False)
    got = ev.compute_all(aggregation="pooled", empty=0.0)
    assert got["f1@0.5"].value == pytest.approx(ref.f1, rel=2e-6)
    assert got["precision@0.5"].value == pytest.approx(ref.precision, rel=2e-6)
    assert got["recall@0.5"].value == pytest.approx(ref.recall, rel=2e-6)
    assert got["pq"].value == pytest.approx(ref.panoptic_quality, rel=2e-6)
    assert int(ev.counts.tp.sum()) == ref.tp


def test_torch_tensors_equal_numpy() -> None:
    torch = pytest.importorskip("torch")
    a, b = InstanceEvaluator(METRICS), InstanceEvaluator(METRICS)
    a.update(torch.from_numpy(PRED), torch.from_numpy(TARGET))
    b.update(PRED, TARGET)
    np.testing.assert_array_equal(a.counts.tp, b.counts.tp)
    assert a.compute("aji").value == b.compute("aji").value


def test_components_equal_labelled_masks() -> None:
    masks_p, masks_t = PRED > 0, TARGET > 0
    ev = InstanceEvaluator(["f1@0.5", "aji"], components="full")
    ev.update(masks_p, masks_t)
    ref = instance_scores(
        label_components(masks_p, connectivity="full"),
        label_components(masks_t, connectivity="full"),
        ["f1@0.5", "aji"],
    )
    assert ev.compute("f1@0.5").value == ref["f1@0.5"].value
    assert ev.compute("aji").value == ref["aji"].value


def test_bad_input() -> None:
    with pytest.raises(InputError, match=r"must name instance metrics .* got 'iou'"):
        InstanceEvaluator(["f1@0.5", "iou"])
    with pytest.raises(InputError, match="`components` must be one of 'face', 'full'"):
        InstanceEvaluator(components="8")
    ev = InstanceEvaluator()
    with pytest.raises(InputError, match="holds no image yet"):
        ev.compute()
    with pytest.raises(InputError, match="integer instance ids"):
        ev.update(PRED.astype(np.float32), TARGET)
    assert ev.n_images == 0  # nothing was added by the failed update
    ev.update(PRED[:1], TARGET[:1])
    with pytest.raises(InputError, match="same metrics and conventions"):
        ev.merge(InstanceEvaluator(["f1@0.5"], comparison=">"))
    with pytest.raises(InputError, match=r"`metric` must be one of f1@0\.5, got 'pq'"):
        ev.compute("pq")

"""Streaming: Evaluator batches and merges in any order give the one-shot scores, to the bit."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from segscore import AGGREGATIONS, Evaluator, confusion, score

from ._strategies import label_maps


def _same_value(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@given(label_maps(), st.data())
def test_batches_and_merges_equal_one_shot(data, draw):
    pred, target, c, ignore = data
    n = pred.shape[0]
    cuts = sorted(draw.draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=2, unique=True)))
    bounds = [0, *[k for k in cuts if k < n], n]
    opts = {"num_classes": c, "ignore_index": ignore}
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        ev = Evaluator(**opts)
        ev.update(pred[lo:hi], target[lo:hi])
        parts.append(ev)
    order = draw.draw(st.permutations(range(len(parts))))
    merged = Evaluator(**opts)
    for i in order:
        merged.merge(parts[i])
    whole = confusion(pred, target, **opts)
    # the same rows, in merge order
    rows = np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i in order])
    np.testing.assert_array_equal(merged.counts.tp, whole.tp[rows])
    np.testing.assert_array_equal(merged.counts.tn, whole.tn[rows])
    for metric in ("iou", "dice", "precision", "mcc"):
        for aggregation in AGGREGATIONS:
            a = merged.compute(metric, aggregation=aggregation).value
            b = score(whole, metric, aggregation=aggregation).value
            assert _same_value(a, b), (metric, aggregation, a, b)
            assert np.float64(a).tobytes() == np.float64(b).tobytes() or math.isnan(a)

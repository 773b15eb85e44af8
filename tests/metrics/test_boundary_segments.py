"""Hausdorff reductions of many segments at once equal numpy's, segment by segment, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segscore._types import INTERPOLATIONS, PERCENTILE_RULES
from segscore.metrics.boundary.segments import (
    segment_hausdorff,
    segment_max,
    segment_percentile,
    segment_weighted_rank,
)


def _weighted_rank_by_lexsort(distances, weights, q):
    """DeepMind's rank: sort by (distance, weight), first cumulative share >= q."""
    order = np.lexsort((weights, distances))
    d, w = distances[order], weights[order]
    index = int(np.searchsorted(np.cumsum(w) / np.sum(w), q))
    return float(d[min(index, d.size - 1)])


def _reference_hausdorff(d_pt, w_pt, d_tp, w_tp, percentile, rule, interpolation):
    """One segment, written out from the definitions (hausdorff_distance's Notes)."""
    if rule == "directed":
        if percentile is None:
            return float(d_pt.max())
        return float(np.percentile(d_pt, percentile, method=interpolation))
    if percentile is None:
        return float(max(d_pt.max(), d_tp.max()))
    if rule == "pooled":
        return float(np.percentile(np.concatenate([d_pt, d_tp]), percentile, method=interpolation))
    if rule == "max_directed":
        return float(
            max(
                np.percentile(d_pt, percentile, method=interpolation),
                np.percentile(d_tp, percentile, method=interpolation),
            )
        )
    q = percentile / 100.0
    return max(_weighted_rank_by_lexsort(d_pt, w_pt, q), _weighted_rank_by_lexsort(d_tp, w_tp, q))


def _segments(rng, n_segments, most, lattice):
    """Distances cut into non-empty segments: lattice distances (many ties) or continuous."""
    counts = rng.integers(1, most + 1, n_segments)
    n = int(counts.sum())
    if lattice:
        values = np.sqrt(rng.integers(0, 40, n).astype(np.float64)) * rng.choice([1.0, 0.7])
    else:
        values = rng.exponential(3.0, n)
    weights = rng.choice(rng.uniform(0.01, 2.0, 4), n)  # few distinct areas, as surfels
    return values, weights, counts


def _split(values, counts):
    return np.split(values, np.cumsum(counts)[:-1])


percentiles = st.one_of(st.sampled_from([0.0, 50.0, 95.0, 99.0, 100.0]), st.floats(0.0, 100.0))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 12),
    st.integers(1, 60),
    st.booleans(),
    percentiles,
    st.sampled_from(INTERPOLATIONS),
)
def test_segment_percentile_equals_numpy_per_segment(seed, n_segments, most, lattice, q, method):
    rng = np.random.default_rng(seed)
    values, _, counts = _segments(rng, n_segments, most, lattice)
    before = values.copy()
    got = segment_percentile(values, counts, q, method)
    want = [np.percentile(part, q, method=method) for part in _split(values, counts)]
    np.testing.assert_array_equal(got, want)  # bit for bit, not approximately
    np.testing.assert_array_equal(values, before)  # the input is left alone


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 10), st.integers(1, 80), st.floats(0.0, 1.0))
def test_segment_weighted_rank_equals_the_two_key_sort(seed, n_segments, most, q):
    # The key sort must sum the weights in the very order of a (distance, weight) lexsort, so
    # the rank found is the same even where the cumulative share lands exactly on q.
    rng = np.random.default_rng(seed)
    values, weights, counts = _segments(rng, n_segments, most, lattice=True)
    got = segment_weighted_rank(values, weights, counts, q)
    want = [
        _weighted_rank_by_lexsort(d, w, q)
        for d, w in zip(_split(values, counts), _split(weights, counts), strict=True)
    ]
    np.testing.assert_array_equal(got, want)


def test_weighted_rank_exact_ties():
    half = np.full(4, 0.5)  # cumulative shares 0.25, 0.5, 0.75, 1.0: 0.5 is reached at 2.0
    got = segment_weighted_rank(np.array([1.0, 2.0, 3.0, 4.0]), half, np.array([4]), 0.5)
    assert got.tolist() == [2.0]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 8),
    st.sampled_from(PERCENTILE_RULES),
    st.one_of(st.none(), percentiles),
    st.sampled_from(["linear", "nearest", "lower", "hazen"]),
)
def test_segment_hausdorff_equals_each_segment_alone(seed, n_segments, rule, percentile, method):
    rng = np.random.default_rng(seed)
    d_pt, w_pt, n_pt = _segments(rng, n_segments, 40, lattice=bool(seed % 2))
    d_tp, w_tp, n_tp = _segments(rng, n_segments, 40, lattice=bool(seed % 3))
    got = segment_hausdorff(
        d_pt, w_pt, n_pt, d_tp, w_tp, n_tp, percentile=percentile, rule=rule, interpolation=method
    )
    want = [
        _reference_hausdorff(a, wa, b, wb, percentile, rule, method)
        for a, wa, b, wb in zip(
            _split(d_pt, n_pt), _split(w_pt, n_pt), _split(d_tp, n_tp), _split(w_tp, n_tp),
            strict=True,
        )
    ]  # fmt: skip
    np.testing.assert_array_equal(got, want)


def test_segment_max_and_single_elements():
    values = np.array([3.0, 1.0, 2.0, 7.0, 0.5])
    counts = np.array([1, 3, 1])
    assert segment_max(values, counts).tolist() == [3.0, 7.0, 0.5]
    # one element per segment: every percentile is that element
    for q in (0.0, 37.5, 95.0, 100.0):
        assert segment_percentile(values, np.ones(5, np.int64), q).tolist() == values.tolist()


@pytest.mark.parametrize("q", [0.0, 25.0, 95.0, 100.0])
def test_linear_interpolation_at_the_ends(q):
    # two segments whose ranks fall exactly on elements and between them
    values = np.array([0.0, 10.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    counts = np.array([2, 5])
    want = [np.percentile(values[:2], q), np.percentile(values[2:], q)]
    np.testing.assert_array_equal(segment_percentile(values, counts, q), want)

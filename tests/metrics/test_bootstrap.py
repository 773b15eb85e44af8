"""Bootstrap intervals against scipy.stats.bootstrap, and the paired comparison."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import segscore
from segscore.errors import InputError
from segscore.metrics.bootstrap import (
    bootstrap_ci,
    bootstrap_statistic,
    bootstrap_values,
    paired_comparison,
)


@pytest.fixture(scope="module")
def counts() -> segscore.Counts:
    rng = np.random.default_rng(11)
    target = rng.random((80, 16, 16)) > 0.6
    noise = rng.random((80, 16, 16)) < rng.uniform(0.05, 0.4, (80, 1, 1))
    return segscore.confusion(target ^ noise, target)


def test_mean_over_images_matches_scipy_percentile(counts: segscore.Counts) -> None:
    values = segscore.score(counts, "iou").per_image
    ref = stats.bootstrap(
        (values,), np.mean, n_resamples=4000, method="percentile", random_state=0
    ).confidence_interval
    low, high = bootstrap_ci(counts, "iou", n_resamples=4000, rng=1)
    width = ref.high - ref.low
    assert abs(low - ref.low) < 0.1 * width
    assert abs(high - ref.high) < 0.1 * width


def test_pooled_matches_scipy_on_summed_counts(counts: segscore.Counts) -> None:
    tp, fp, fn = counts.tp[:, 0], counts.fp[:, 0], counts.fn[:, 0]

    def pooled_iou(i: np.ndarray) -> float:
        return tp[i].sum() / (tp[i] + fp[i] + fn[i]).sum()

    idx = np.arange(counts.n_images)
    ref = stats.bootstrap(
        (idx,), pooled_iou, n_resamples=2000, method="percentile", random_state=0, vectorized=False
    ).confidence_interval
    low, high = bootstrap_ci(counts, "iou", n_resamples=2000, rng=3, aggregation="pooled")
    width = ref.high - ref.low
    assert abs(low - ref.low) < 0.12 * width
    assert abs(high - ref.high) < 0.12 * width


def test_seeded_interval_is_reproducible_and_contains_the_value(counts: segscore.Counts) -> None:
    for aggregation in segscore.AGGREGATIONS:
        a = bootstrap_ci(counts, "dice", n_resamples=300, rng=5, aggregation=aggregation)
        b = bootstrap_ci(counts, "dice", n_resamples=300, rng=5, aggregation=aggregation)
        assert a == b
        value = segscore.score(counts, "dice", aggregation=aggregation).value
        assert a[0] <= value <= a[1]


def test_multiclass_images_then_classes_interval(counts: segscore.Counts) -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(0, 4, (40, 8, 8))
    pred = np.where(rng.random((40, 8, 8)) < 0.7, target, rng.integers(0, 4, (40, 8, 8)))
    c = segscore.confusion(pred, target, num_classes=4)
    low, high = bootstrap_ci(c, "iou", n_resamples=500, rng=0, include_background=False)
    value = segscore.score(c, "iou", include_background=False).value
    assert low < value < high


def test_bad_arguments(counts: segscore.Counts) -> None:
    with pytest.raises(InputError, match="`n_resamples` must be an integer >= 1"):
        bootstrap_ci(counts, n_resamples=0)
    with pytest.raises(InputError, match=r"`confidence` must be a number in \(0, 1\)"):
        bootstrap_ci(counts, confidence=1.0)
    with pytest.raises(InputError, match="same length"):
        paired_comparison(np.zeros(3), np.zeros(4))


def test_paired_comparison_against_scipy() -> None:
    rng = np.random.default_rng(4)
    a = rng.random(30)
    b = a + rng.normal(0.05, 0.05, 30)
    a[3] = np.nan
    r = paired_comparison(a, b, rng=0)
    keep = ~np.isnan(a)
    assert r.n == 29
    assert r.mean_difference == pytest.approx(np.mean(b[keep] - a[keep]), rel=1e-12)
    assert r.wilcoxon_p == pytest.approx(stats.wilcoxon(b[keep] - a[keep]).pvalue, rel=1e-12)
    assert r.ci95[0] < r.mean_difference < r.ci95[1]
    same = paired_comparison(a, a)
    assert same.mean_difference == 0
    assert np.isnan(same.wilcoxon_p)


def test_values_of_boundary_metrics_match_scipy() -> None:
    """Per-case distances (HD95 here) bootstrap as scipy does their mean."""
    rng = np.random.default_rng(4)
    target = rng.random((60, 20, 20)) > 0.7
    pred = target ^ (rng.random((60, 20, 20)) < rng.uniform(0.02, 0.2, (60, 1, 1)))
    values = segscore.distance_metrics(pred, target, ["hd95"]).values["hd95"][:, 0]
    ref = stats.bootstrap(
        (values,), np.mean, n_resamples=4000, method="percentile", random_state=0
    ).confidence_interval
    low, high = bootstrap_values(values, n_resamples=4000, rng=2)
    width = ref.high - ref.low
    assert abs(low - ref.low) < 0.1 * width
    assert abs(high - ref.high) < 0.1 * width


def test_statistic_of_pooled_object_counts_matches_scipy() -> None:
    from tests.metrics._instances import batch

    pred, target = batch(8, n_images=40, shape=(32, 32), n=6)
    found = segscore.instance_scores(pred, target, ["tp@0.5", "fp@0.5", "fn@0.5"])
    tp, fp, fn = (found[m].per_image for m in ("tp@0.5", "fp@0.5", "fn@0.5"))

    def pooled_f1(i: np.ndarray) -> float:
        return float(2 * tp[i].sum() / (2 * tp[i].sum() + fp[i].sum() + fn[i].sum()))

    idx = np.arange(40)
    ref = stats.bootstrap(
        (idx,), pooled_f1, n_resamples=2000, method="percentile", random_state=0, vectorized=False
    ).confidence_interval
    low, high = bootstrap_statistic(40, pooled_f1, n_resamples=2000, rng=5)
    width = ref.high - ref.low
    assert abs(low - ref.low) < 0.12 * width
    assert abs(high - ref.high) < 0.12 * width


def test_values_bad_input_and_infinities() -> None:
    with pytest.raises(InputError, match=r"pooled rules need counts"):
        bootstrap_values(np.ones(3), aggregation="pooled")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"`cells` must have shape"):
        bootstrap_values(np.ones((0, 2)))
    _, high = bootstrap_values(np.array([1.0, np.inf] * 10), n_resamples=200, rng=0)
    assert high == np.inf
    assert bootstrap_values(np.array([np.nan, np.nan])) == (pytest.approx(np.nan, nan_ok=True),) * 2


def test_paired_comparison_gives_no_interval_for_one_pair() -> None:
    # Reviewed: one pair gave a zero-width interval that excluded 0 (and `compare` a winner).
    one = paired_comparison(np.array([0.5]), np.array([0.63]), rng=0)
    assert one.n == 1
    assert one.mean_difference == pytest.approx(0.13)
    assert np.isnan(one.ci95[0])
    assert np.isnan(one.ci95[1])
    with pytest.raises(InputError, match="n_resamples"):
        paired_comparison(np.array([np.nan]), np.array([1.0]), n_resamples=-5)

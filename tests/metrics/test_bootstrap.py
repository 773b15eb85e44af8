"""Bootstrap intervals against scipy.stats.bootstrap, and the paired comparison."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import segscore
from segscore.errors import InputError
from segscore.metrics.bootstrap import bootstrap_ci, paired_comparison


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

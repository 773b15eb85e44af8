"""SegscoreMetric (torchmetrics adapter): exact rows as states, the core's score at the end."""

from __future__ import annotations

import math

import numpy as np
import pytest

import segscore
from segscore.errors import InputError

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")

from segscore.integrations.torchmetrics import SegscoreMetric  # noqa: E402


def _data(seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for n in (3, 1, 4):
        p = rng.integers(0, 3, (n, 8, 8)).astype(np.int64)
        t = rng.integers(0, 3, (n, 8, 8)).astype(np.int64)
        t[:, 0, :] = 255
        out.append((p, t))
    return out


@pytest.mark.parametrize("cpu_counting", ["kernel", "torch"])
@pytest.mark.parametrize("aggregation", ["pooled", "images_then_classes", "per_image_micro"])
def test_score_carries_the_core_cells_and_conventions(aggregation: str, cpu_counting: str) -> None:
    # counts and values against the one-shot core: tests/metrics/test_accumulators.py
    data = _data()
    m = SegscoreMetric(
        "dice",
        aggregation=aggregation,
        num_classes=3,
        ignore_index=255,
        include_background=False,
        cpu_counting=cpu_counting,
    )
    for p, t in data:
        m.update(torch.from_numpy(p), torch.from_numpy(t))
    counts = segscore.confusion(
        np.concatenate([p for p, _ in data]),
        np.concatenate([t for _, t in data]),
        num_classes=3,
        ignore_index=255,
    )
    want = segscore.score(counts, "dice", aggregation=aggregation, include_background=False)
    got = m.score
    assert got.value == want.value
    np.testing.assert_array_equal(got.cells, want.cells)
    assert got.conventions == want.conventions
    m.reset()
    with pytest.raises(InputError, match=r"the accumulator is empty"):
        _ = m.score


def test_forward_gives_the_batch_value_and_accumulates() -> None:
    data = _data(2)
    m = SegscoreMetric("iou", num_classes=3, ignore_index=255)
    for p, t in data:
        batch = m(torch.from_numpy(p), torch.from_numpy(t))
        want = segscore.score(segscore.confusion(p, t, num_classes=3, ignore_index=255), "iou")
        assert float(batch) == want.value
    assert m.counts.n_images == 8
    assert m.score.conventions.counting == segscore.CountingSpec("multiclass", 3, None, 255)


def test_binary_probabilities_record_the_threshold() -> None:
    m = SegscoreMetric("dice", threshold=0.3)
    m.update(torch.tensor([[[0.2, 0.4]]]), torch.tensor([[[0, 1]]]))
    assert float(m.compute()) == 1.0
    assert m.score.conventions.counting == segscore.CountingSpec("binary", 1, 0.3, None, ">=")


def test_errors() -> None:
    with pytest.raises(InputError, match=r"`aggregation` must be one of"):
        SegscoreMetric(aggregation="mean")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"`threshold` must"):
        SegscoreMetric(threshold=0.0)
    with pytest.raises(InputError, match=r"`cpu_counting` must be one of 'kernel', 'torch'"):
        SegscoreMetric(cpu_counting="cuda")  # type: ignore[arg-type]
    m = SegscoreMetric()
    m.update(torch.zeros((1, 4, 4), dtype=torch.uint8), torch.zeros((1, 4, 4), dtype=torch.uint8))
    with pytest.raises(InputError, match=r"every update must have the same dtypes"):
        m.update(torch.zeros((1, 4, 4)), torch.zeros((1, 4, 4)))
    with pytest.raises(InputError, match=r"every update must have the same image shape"):
        m.update(
            torch.zeros((1, 4, 5), dtype=torch.uint8), torch.zeros((1, 4, 5), dtype=torch.uint8)
        )
    assert m.counts.n_images == 1
    assert math.isnan(float(m.compute()))  # both masks empty: NaN under the default policy


def test_object_metric_equals_the_core_over_updates() -> None:
    from segscore.integrations.torchmetrics import SegscoreObjectMetric

    rng = np.random.default_rng(5)
    t = segscore.label_components(rng.random((5, 20, 20)) < 0.45)
    p = segscore.label_components(np.roll(t > 0, 1, axis=1))
    names = ["f1@0.5", "precision@0.75", "dsb@0.5:0.95", "pq", "sq", "aji", "aji+"]
    for aggregation in ("pooled", "images_then_classes"):
        m = SegscoreObjectMetric("aji", metrics=names, aggregation=aggregation, empty=0.0)
        for lo, hi in ((0, 2), (2, 3), (3, 5)):
            m.update(torch.from_numpy(p[lo:hi]), torch.from_numpy(t[lo:hi]))
        want = segscore.instance_scores(p, t, names, aggregation=aggregation, empty=0.0)
        assert float(m.compute()) == want["aji"].value
        for name, s in m.scores.items():
            assert s.value == want[name].value, name
            np.testing.assert_array_equal(s.per_image, want[name].per_image)
            assert s.conventions == want[name].conventions


def test_object_metric_bad_input() -> None:
    from segscore.integrations.torchmetrics import SegscoreObjectMetric

    with pytest.raises(InputError, match=r"must name instance metrics .* got 'iou'"):
        SegscoreObjectMetric("iou")
    with pytest.raises(InputError, match=r"`metric` must be one of `metrics` \(f1@0.5\), got 'pq'"):
        SegscoreObjectMetric("pq", metrics=["f1@0.5"])
    m = SegscoreObjectMetric()
    with pytest.raises(InputError, match=r"the accumulator is empty"):
        _ = m.scores
    with pytest.raises(InputError, match=r"integer instance ids"):
        m.update(torch.zeros(1, 4, 4), torch.zeros(1, 4, 4, dtype=torch.int64))


def test_a_collection_never_shares_states_across_counting_options() -> None:
    # Reviewed: in a MetricCollection (compute groups on), two metrics whose states were equal
    # after the first batch were grouped, and the threshold-0.7 metric returned the 0.3 one's
    # value under its own conventions.
    from torchmetrics import MetricCollection

    pred = [torch.tensor([[[0.9, 0.1]]]), torch.tensor([[[0.5, 0.5]]])]
    target = torch.tensor([[[True, False]]])
    collection = MetricCollection(
        {
            "at_03": SegscoreMetric("dice", threshold=0.3),
            "at_07": SegscoreMetric("dice", threshold=0.7),
        }
    )
    for p in pred:
        collection.update(p, target)
    got = {k: float(v) for k, v in collection.compute().items()}
    for name, threshold in (("at_03", 0.3), ("at_07", 0.7)):
        counts = segscore.confusion(
            torch.cat(pred), torch.cat([target, target]), threshold=threshold
        )
        assert got[name] == pytest.approx(segscore.score(counts, "dice").value, rel=1e-15)
    assert got["at_03"] != got["at_07"]


def test_merge_state_refuses_other_counting_options() -> None:
    p, t = torch.tensor([[[0.5, 0.2]]]), torch.tensor([[[True, False]]])
    a, b, c = (SegscoreMetric("dice", threshold=x) for x in (0.3, 0.7, 0.3))
    for m in (a, b, c):
        m.update(p, t)
    with pytest.raises(InputError, match="accumulators to merge must use the same conventions"):
        a.merge_state(b)
    a.merge_state(c)
    assert a.counts.n_images == 2

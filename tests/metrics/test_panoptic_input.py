"""PQ, SQ and RQ of panoptic (class map, instance map) pairs, against torchmetrics and MONAI.

- torchmetrics 1.9 ``panoptic_quality(..., return_sq_and_rq=True, return_per_class=True)`` on
  (B, *S, 2) tensors (category, instance): one row per class, things then stuffs, pooled over the
  batch. A target class outside ``things``/``stuffs`` is its void (CONVENTIONS-objects §3 #5);
  predicted void needs ``allow_unknown_preds_category=True``. Like panopticapi's ``pq_average``
  it gives a class with segments but no match SQ 0 (so does segscore by default) and a class
  without any segment 0, left out of its means (segscore: NaN, left out and counted); without
  ``return_per_class`` it returns those means.
- MONAI ``compute_panoptic_quality(..., output_confusion_matrix=True)`` per thing class and
  image, on that class's instance maps: the same tp, fp, fn, and IoU sums within its float32.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segscore import InputError
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.instance import panoptic_scores

from ._instances import perturb, random_instances
from ._peers import F32, monai_metrics, torch, torchmetrics_segmentation

THINGS, STUFFS, VOID = (1, 2), (0, 3), 255


def panoptic_case(seed: int, n_images: int = 3, shape=(48, 48), void: bool = False):
    """(pred_classes, pred_instances, target_classes, target_instances), int64 (N, *shape)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_images):
        ti = random_instances(rng, shape, 10)
        pi = perturb(rng, ti)
        ids = np.unique(ti[ti > 0])
        cls_of = dict(zip(ids.tolist(), rng.choice(THINGS, ids.size).tolist(), strict=True))
        stuff = np.where(np.indices(shape)[0] < shape[0] // 3, 3, 0)  # a band of stuff 3
        lut = np.zeros(int(ti.max()) + 1, np.int64)
        lut[ids] = [cls_of[i] for i in ids.tolist()]
        tc = np.where(ti > 0, lut[ti], stuff)
        pc = np.where(pi > 0, 0, np.roll(stuff, int(rng.integers(-3, 4)), axis=0))
        for p in np.unique(pi[pi > 0]).tolist():  # the class of the target it covers most
            under = tc[pi == p]
            votes = np.bincount(under, minlength=4)[list(THINGS)]
            pc[pi == p] = THINGS[int(votes.argmax())] if rng.random() > 0.15 else rng.choice(THINGS)
        if void:
            tc[shape[0] - 6 :, : shape[1] // 2] = VOID  # an unlabelled corner
            pc[:4, -5:] = VOID  # and a region the model leaves open
        out.append((pc, pi, tc, ti))
    return tuple(np.stack(a).astype(np.int64) for a in zip(*out, strict=True))


def _reference_torchmetrics(pc, pi, tc, ti, void: bool):  # float32 results
    torchmetrics_segmentation()
    from torchmetrics.functional.detection import panoptic_quality

    def pan(c, i):
        return torch().from_numpy(np.stack([c, i], axis=-1))

    value = panoptic_quality(
        pan(pc, pi), pan(tc, ti), things=set(THINGS), stuffs=set(STUFFS),
        allow_unknown_preds_category=void, return_sq_and_rq=True, return_per_class=True,
    )  # fmt: skip
    return value.reshape(-1, 3).numpy().astype(np.float64)  # rows: classes, columns: pq, sq, rq


def _reference_torchmetrics_means(pc, pi, tc, ti, void: bool, things=THINGS, stuffs=STUFFS):
    """torchmetrics' own class means (pq, sq, rq): over the classes with tp + fp + fn > 0."""
    torchmetrics_segmentation()
    from torchmetrics.functional.detection import panoptic_quality

    def pan(c, i):
        return torch().from_numpy(np.stack([c, i], axis=-1).astype(np.int64))

    value = panoptic_quality(
        pan(pc, pi), pan(tc, ti), things=set(things), stuffs=set(stuffs),
        allow_unknown_preds_category=void, return_sq_and_rq=True,
    )  # fmt: skip
    return value.numpy().astype(np.float64)


def _agrees_with_torchmetrics(s, ref, means) -> None:
    """Per class (segscore's NaN: a class without any segment, 0 there) and the three means."""
    for column, metric in enumerate(("pq", "sq", "rq")):
        score = s[metric]
        absent = np.isnan(score.per_class)
        assert not absent.any() or (ref[absent, column] == 0).all()
        np.testing.assert_allclose(score.per_class[~absent], ref[~absent, column], **F32)
        assert score.value == pytest.approx(float(means[column]), rel=1e-6, abs=1e-7), metric


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("void", [False, True])
def test_equals_torchmetrics_per_class(seed, void):
    pc, pi, tc, ti = panoptic_case(seed, void=void)
    s = panoptic_scores(pc, pi, tc, ti, things=THINGS, stuffs=STUFFS, void=VOID if void else None)
    ref = _reference_torchmetrics(pc, pi, tc, ti, void)
    assert s["pq"].class_ids == (1, 2, 0, 3)  # torchmetrics' order: things, then stuffs
    np.testing.assert_allclose(s["pq"].per_class, ref[:, 0], **F32)
    np.testing.assert_allclose(s["rq"].per_class, ref[:, 2], **F32)
    np.testing.assert_allclose(s["sq"].per_class, ref[:, 1], **F32)
    _agrees_with_torchmetrics(s, ref, _reference_torchmetrics_means(pc, pi, tc, ti, void))


def without_class_two(case, variant: str):
    """``'missed'``: class 2 is never predicted (tp 0, fn > 0); ``'absent'``: nowhere at all."""
    pc, pi, tc, ti = (a.copy() for a in case)
    pc[pc == 2] = 1  # instance ids are unique per image, so no id gets two classes
    if variant == "absent":
        tc[tc == 2] = 1
    return pc, pi, tc, ti


@pytest.mark.parametrize("variant", ["missed", "absent"])
@pytest.mark.parametrize("seed", [0, 5])
def test_class_means_equal_torchmetrics_without_a_match_or_a_segment(variant, seed):
    """SQ of a class with segments but no match is 0 (panopticapi, torchmetrics): it counts in
    the mean; a class without any segment is NaN and left out of every mean, as there."""
    pc, pi, tc, ti = without_class_two(panoptic_case(seed), variant)
    s = panoptic_scores(pc, pi, tc, ti, things=THINGS, stuffs=STUFFS)
    if variant == "missed":
        assert s["sq"].per_class[1] == 0.0
        assert s["sq"].n_valid == 4
    else:
        assert math.isnan(s["sq"].per_class[1])
        assert (s["pq"].n_nan, s["sq"].n_nan, s["rq"].n_nan) == (1, 1, 1)
    ref = _reference_torchmetrics(pc, pi, tc, ti, False)
    _agrees_with_torchmetrics(s, ref, _reference_torchmetrics_means(pc, pi, tc, ti, False))


def test_the_reviewers_case_of_a_missed_thing():
    """One thing missed, the background (a stuff) right: torchmetrics pq 0.375, sq 0.375, rq 0.5."""
    tc = np.zeros((4, 4), np.int64)
    tc[:2, :2] = 1
    ti = (tc == 1).astype(np.int64)
    pc = pi = np.zeros((4, 4), np.int64)
    s = panoptic_scores(pc, pi, tc, ti, things=[1], stuffs=[0])
    np.testing.assert_array_equal(s["sq"].per_class, [0.0, 0.75])  # 0.75: 12 / 16 background
    assert [s[m].value for m in ("pq", "sq", "rq")] == [0.375, 0.375, 0.5]
    one = (a[None] for a in (pc, pi, tc, ti))  # torchmetrics: (B, *S, 2)
    means = _reference_torchmetrics_means(*one, False, things=[1], stuffs=[0])
    np.testing.assert_allclose(means, [0.375, 0.375, 0.5], rtol=1e-15)
    assert s["sq"].conventions.empty == EmptyPolicy(zero_division=0.0, both_empty=math.nan)
    # an explicit policy applies to every 0 / 0, SQ's tp = 0 included (the former default)
    nan = panoptic_scores(pc, pi, tc, ti, things=[1], stuffs=[0], empty=EmptyPolicy())
    np.testing.assert_array_equal(nan["sq"].per_class, [np.nan, 0.75])
    assert nan["sq"].value == 0.75


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 3),
    shape=st.tuples(st.integers(1, 6), st.integers(1, 6)),
)
def test_random_maps_equal_torchmetrics(data, n, shape):
    """Any small maps (void, classes without segments or matches): per class and the means."""

    def draw():  # segment labels 0..7: 0 stuff 0, 1 stuff 3, 2 void, 3..7 things 1 or 2
        labels = data.draw(arrays(np.int64, (n, *shape), elements=st.integers(0, 7)))
        classes = np.select(
            [labels == 0, labels == 1, labels == 2, labels % 2 == 1], [0, 3, VOID, 1], default=2
        )
        return classes, np.where(labels >= 3, labels, 0)

    (pc, pi), (tc, ti) = draw(), draw()
    s = panoptic_scores(pc, pi, tc, ti, things=THINGS, stuffs=STUFFS, void=VOID)
    if all(math.isnan(v) for v in s["pq"].per_class):  # torchmetrics: the mean of nothing
        return
    ref = _reference_torchmetrics(pc, pi, tc, ti, True)
    _agrees_with_torchmetrics(s, ref, _reference_torchmetrics_means(pc, pi, tc, ti, True))


def test_void_changes_unions_and_unmatched_segments():
    """Thing 1 at 3 of 5 pixels of the target plus 2 void pixels: IoU 3/3 with void, 3/5 without;
    a predicted segment mostly in void is no false positive."""
    tc = np.array([[1, 1, 1, 9, 9, 0, 9, 9, 9]])
    ti = np.array([[4, 4, 4, 0, 0, 0, 0, 0, 0]])
    pc = np.array([[1, 1, 1, 1, 1, 0, 1, 1, 0]])
    pi = np.array([[2, 2, 2, 2, 2, 0, 5, 5, 0]])
    s = panoptic_scores(pc, pi, tc, ti, things=[1], stuffs=[0], void=9)
    assert s["sq"].per_class[0] == 1.0
    assert s["rq"].per_class[0] == 1.0
    ref = _reference_torchmetrics_void_case(pc, pi, tc, ti)
    np.testing.assert_allclose(s["pq"].per_class, ref, **F32)


def _reference_torchmetrics_void_case(pc, pi, tc, ti):
    torchmetrics_segmentation()
    from torchmetrics.functional.detection import panoptic_quality

    def pan(c, i):
        return torch().from_numpy(np.stack([c, i], axis=-1))

    value = panoptic_quality(
        pan(pc, pi), pan(tc, ti), things={1}, stuffs={0}, return_per_class=True
    )
    return value.reshape(-1).numpy().astype(np.float64)


@pytest.mark.parametrize("seed", [3, 4])
def test_thing_counts_equal_monai_per_class_and_image(seed):
    m = monai_metrics()
    pc, pi, tc, ti = panoptic_case(seed)
    s = panoptic_scores(
        pc, pi, tc, ti, things=THINGS, stuffs=STUFFS, aggregation="per_image_per_class"
    )
    pooled = panoptic_scores(pc, pi, tc, ti, things=THINGS, stuffs=STUFFS)
    totals = np.zeros((len(THINGS), 4))
    for k, c in enumerate(THINGS):
        for n in range(pc.shape[0]):
            p = np.where(pc[n] == c, pi[n] + 1, 0)  # MONAI: 0 is background
            t = np.where(tc[n] == c, ti[n] + 1, 0)
            cm = m.compute_panoptic_quality(
                torch().from_numpy(p), torch().from_numpy(t), output_confusion_matrix=True
            ).numpy()
            totals[k] += cm
            pq = m.compute_panoptic_quality(torch().from_numpy(p), torch().from_numpy(t))
            assert s["pq"].cells[n, k] == pytest.approx(float(pq), rel=1e-5, abs=1e-5)
    tp, fp, fn, sums = totals.T
    np.testing.assert_allclose(pooled["rq"].per_class[:2], tp / (tp + fp / 2 + fn / 2), rtol=1e-12)
    np.testing.assert_allclose(pooled["sq"].per_class[:2], sums / tp, rtol=1e-5)


def test_empty_classes_and_aggregation():
    z = np.zeros((2, 1, 4), np.int64)  # two 1 x 4 images
    tc = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 0]]])
    ti = np.array([[[5, 5, 0, 0]], [[0, 0, 0, 0]]])
    s = panoptic_scores(tc, ti, tc, ti, things=[1, 2], stuffs=[0])  # class 2 never appears
    assert math.isnan(s["pq"].per_class[1])
    assert s["pq"].value == 1.0
    assert s["pq"].n_excluded == 1
    per_image = panoptic_scores(
        z, z, tc, ti, things=[1], stuffs=[0], aggregation="per_image_per_class"
    )
    np.testing.assert_array_equal(per_image["pq"].cells, [[0.0, 0.0], [np.nan, 1.0]])
    zero = panoptic_scores(tc, ti, tc, ti, things=[1, 2], stuffs=[0], empty=0.0)
    assert zero["pq"].per_class[1] == 0.0


def test_bad_input():
    a = np.zeros((4, 4), np.int64)
    kw = {"things": [1], "stuffs": [0]}
    with pytest.raises(
        InputError, match=r"`pred_instances` and `target_classes` must have the same shape"
    ):
        panoptic_scores(a, np.zeros((4, 5), np.int64), a, a, **kw)
    two = a.copy()
    two[0, :2], two[1, :2] = 1, 2
    inst = np.full((4, 4), 7)
    with pytest.raises(
        InputError, match=r"`target_instances` must give each instance id of thing pixels one class"
    ):
        panoptic_scores(a, a, two, inst, things=[1, 2], stuffs=[0])
    with pytest.raises(InputError, match=r"`pred_classes` must hold integer"):
        panoptic_scores(a.astype(float), a, a, a, **kw)
    with pytest.raises(InputError, match=r"`target_instances` must hold instance ids >= 0"):
        panoptic_scores(a, a, a, a - 1, **kw)
    with pytest.raises(InputError, match=r"`target_classes` has classes \[5\] that are neither"):
        panoptic_scores(a, a, a + 5, a, **kw)
    with pytest.raises(InputError, match=r"`things` and `stuffs` must not share class ids"):
        panoptic_scores(a, a, a, a, things=[0, 1], stuffs=[0])
    with pytest.raises(InputError, match=r"`void` must not be a thing or stuff class"):
        panoptic_scores(a, a, a, a, void=0, **kw)
    with pytest.raises(InputError, match=r"`metrics` must be one of 'pq', 'sq', 'rq'"):
        panoptic_scores(a, a, a, a, metrics="f1", **kw)


@pytest.mark.parametrize(
    ("dtype", "big"), [(np.int64, 0), (np.int64, 2**62), (np.uint64, 2**64 - 10)]
)
def test_an_instance_id_in_two_classes_is_named_at_any_size(dtype, big):
    """Ids past 2**62 / T take the pairwise sort (the 1-D keys would overflow): same message."""
    classes = np.array([[1, 1, 2, 2, 0, 2]])
    instances = np.array([[5, 5, 5, 9, 0, 3]], dtype=dtype) + dtype(big)
    ok = np.array([[5, 5, 6, 6, 0, 3]], dtype=np.int64)
    panoptic_scores(classes, ok, classes, ok, things=[1, 2], stuffs=[0])  # valid
    with pytest.raises(
        InputError,
        match=rf"`pred_instances` must give .* got id {5 + big} with classes \[1, 2\] in image 0",
    ):
        panoptic_scores(classes, instances, classes, ok, things=[1, 2], stuffs=[0])


@pytest.mark.parametrize(
    ("dtype", "big"),
    [
        (np.int64, 2**61),  # wrapped to a negative segment id before
        (np.int64, 2**62),  # wrapped onto another class's segment before
        (np.int64, 2**63 - 1),
        (np.uint64, 2**63),
        (np.uint64, 2**64 - 1),
    ],
)
def test_the_largest_instance_ids_equal_small_relabelled_ids(dtype, big):
    """Segment ids ``1 + rank * width + id`` would overflow int64: the ids are relabelled."""
    tc = np.array([[[1, 1, 255, 1, 1, 255, 5, 5, 0]], [[5, 5, 5, 1, 1, 0, 0, 0, 6]]])
    rows = [[[big, big, 0, 104, 104, 0, 100, 100, 0]], [[big, big, 3, 100, 100, 0, 0, 0, 0]]]
    ti = np.array(rows, dtype=dtype)  # two 1 x 9 images
    pi = ti.copy()
    pi[0, 0, 1], pi[1, 0, 2] = 104, big  # an object of image 0 loses a pixel, image 1's gains one
    kw = {"things": [1, 2, 3, 4, 5], "stuffs": [0, 6], "void": 255}
    small = {name: np.where(a == big, 7, a).astype(np.int64) for name, a in (("p", pi), ("t", ti))}
    want = panoptic_scores(tc, small["p"], tc, small["t"], **kw)
    got = panoptic_scores(tc, pi, tc, ti, **kw)
    for metric in ("pq", "sq", "rq"):
        np.testing.assert_array_equal(got[metric].cells, want[metric].cells)
        np.testing.assert_array_equal(got[metric].per_class, want[metric].per_class)
    # class 1: big at IoU 1/2 (fp, fn), 104 and 100 matched; class 5: 100, big (IoU 2/3), 3 missed
    np.testing.assert_array_equal(want["rq"].per_class[[0, 4]], [2 / 3, 4 / 5])


def test_the_reviewers_case_of_a_wrapped_segment_id():
    tc = np.array([[1, 1, 255, 1, 1, 255, 5, 5]])
    ti = np.array([[2**62, 2**62, 0, 104, 104, 0, 100, 100]])
    s = panoptic_scores(tc, ti, tc, ti, things=[1, 2, 3, 4, 5], void=255)
    np.testing.assert_array_equal(s["pq"].per_class, [1.0, np.nan, np.nan, np.nan, 1.0])


def test_huge_uint64_ids_beside_int64_ids_stay_apart():
    # Reviewed: both sides were relabelled together, and uint64 beside int64 joined as float64,
    # which made the ids 2**63 + 10 and 2**63 + 11 one segment (PQ 0 for a perfect prediction).
    classes = np.ones((1, 4, 4), np.int64)
    pred = np.zeros((1, 4, 4), np.uint64)
    pred[0, :, :2], pred[0, :, 2:] = 2**63 + 10, 2**63 + 11
    target = np.zeros((1, 4, 4), np.int64)
    target[0, :, :2], target[0, :, 2:] = 1, 2
    s = panoptic_scores(classes, pred, classes, target, things=[1])
    assert s["pq"].value == 1.0
    np.testing.assert_array_equal(s["rq"].per_class, [1.0])

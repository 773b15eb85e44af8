"""confusion() and Counts: hand-counted cases, modes, layouts, exactness and int64 everywhere, and
the counts against scikit-learn, torchmetrics, MONAI and SMP."""

from __future__ import annotations

import numpy as np
import pytest

from segscore import CountingSpec, Counts, InputError, confusion, confusion_matrix
from segscore.metrics._reference import confusion_matrix_reference

from ._inputs import Case, all_cases, as_label_maps, ids
from ._peers import (
    FlatRow,
    as_tensor,
    monai_confusion,
    segscore_counts,
    segscore_rows,
    sklearn_metrics,
    sklearn_rows,
    smp_stats,
    torchmetrics_classification,
    torchmetrics_counts,
    torchmetrics_labels,
)


def _fields(c: Counts) -> tuple:
    return tuple(getattr(c, f).tolist() for f in ("tp", "fp", "fn", "tn"))


def test_multiclass_counts_by_hand():
    pred = np.array([[0, 1, 2, 2, 1, 0]])
    target = np.array([[0, 1, 1, 2, 0, 0]])
    c = confusion(pred, target, num_classes=3)
    # class 0: tp 2 (px 0, 5), fp 0, fn 1 (px 4), tn 3
    # class 1: tp 1 (px 1), fp 1 (px 4), fn 1 (px 2), tn 3
    # class 2: tp 1 (px 3), fp 1 (px 2), fn 0, tn 4
    assert _fields(c) == ([[2, 1, 1]], [[0, 1, 1]], [[1, 1, 0]], [[3, 3, 4]])
    assert c.spec == CountingSpec("multiclass", 3, None, None)


def test_ignore_index_drops_pixels_and_predicted_ignore_is_a_miss():
    pred = np.array([[1, 1, 255, 0]])
    target = np.array([[255, 1, 1, 0]])  # px 0 ignored whatever the prediction; px 2 predicts 255
    c = confusion(pred, target, num_classes=2, ignore_index=255)
    assert _fields(c) == ([[1, 1]], [[0, 0]], [[0, 1]], [[2, 1]])
    assert c.total.tolist() == [[3, 3]]
    m = confusion_matrix(pred, target, num_classes=2, ignore_index=255)
    assert m.tolist() == [[[1, 0], [0, 1]]]  # the pixel predicted 255 is in no column


def test_negative_ignore_index():
    c = confusion(np.array([[0, 1, 1]]), np.array([[-1, 1, 0]]), num_classes=2, ignore_index=-1)
    assert _fields(c) == ([[0, 1]], [[0, 1]], [[1, 0]], [[1, 0]])


def test_binary_value_conventions_agree():
    t = np.array([[[1, 0], [1, 1]]])
    p = np.array([[[1, 1], [0, 1]]])
    expected = ([[2]], [[1]], [[1]], [[0]])
    assert _fields(confusion(p, t)) == expected
    assert _fields(confusion(p.astype(bool), t.astype(bool))) == expected
    assert _fields(confusion((p * 255).astype(np.uint8), (t * 255).astype(np.uint8))) == expected
    assert _fields(confusion(p.astype(np.float32), t.astype(np.float64))) == expected


def test_threshold_is_inclusive():
    probs = np.array([[0.49, 0.5, 0.51, 0.3]])
    target = np.array([[1, 1, 1, 0]])
    assert confusion(probs, target).tp.tolist() == [[2]]
    assert confusion(probs, target, threshold=0.3).fp.tolist() == [[1]]
    assert confusion(probs, target).spec.threshold == 0.5
    assert confusion(probs > 0.5, target).spec.threshold is None


def test_multilabel_channels_are_classes():
    pred = np.zeros((2, 3, 2, 2), bool)
    target = np.zeros((2, 3, 2, 2), bool)
    pred[0, 1, 0, 0] = target[0, 1, 0, 0] = True
    pred[1, 2] = True
    target[1, 0, 1, 1] = True
    c = confusion(pred, target, multilabel=True)
    assert c.shape == (2, 3)
    assert c.tp.tolist() == [[0, 1, 0], [0, 0, 0]]
    assert c.fp.tolist() == [[0, 0, 0], [0, 0, 4]]
    assert c.fn.tolist() == [[0, 0, 0], [1, 0, 0]]
    # one image without the batch axis
    assert _fields(confusion(pred[0], target[0], multilabel=True)) == _fields(c.select(rows=[0]))


def test_layouts_2d_batch_3d_and_spatial_dims():
    rng = np.random.default_rng(1)
    vol_p = rng.integers(0, 3, size=(4, 5, 6))
    vol_t = rng.integers(0, 3, size=(4, 5, 6))
    as_batch = confusion(vol_p, vol_t, num_classes=3)  # (N, H, W): 4 images
    as_volume = confusion(vol_p, vol_t, num_classes=3, spatial_dims=3)  # one (D, H, W) volume
    assert as_batch.shape == (4, 3)
    assert as_volume.shape == (1, 3)
    assert _fields(as_batch.sum(axis=0)) == _fields(
        Counts(*(a[0] for a in (as_volume.tp, as_volume.fp, as_volume.fn, as_volume.tn)))
    )
    one = confusion(vol_p[0], vol_t[0], num_classes=3)  # (H, W): one image
    assert _fields(one) == _fields(as_batch.select(rows=[0]))
    four_d = confusion(vol_p[None], vol_t[None], num_classes=3)  # (N, D, H, W)
    assert _fields(four_d) == _fields(as_volume)
    assert _fields(confusion(vol_p[0], vol_t[0], num_classes=3, spatial_dims=2)) == _fields(one)


def test_inputs_are_not_mutated():
    pred = np.array([[0, 255, 1]], dtype=np.int64)
    target = np.array([[255, 1, 1]], dtype=np.int64)
    before = pred.copy(), target.copy()
    confusion(pred, target, num_classes=2, ignore_index=255)
    np.testing.assert_array_equal(pred, before[0])
    np.testing.assert_array_equal(target, before[1])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32, np.int64, np.uint64])
def test_int64_counts_for_every_label_dtype(dtype):
    pred = np.array([[[0, 1], [2, 1]]], dtype=dtype)
    target = np.array([[[0, 1], [1, 1]]], dtype=dtype)
    c = confusion(pred, target, num_classes=3)
    for f in ("tp", "fp", "fn", "tn"):
        assert getattr(c, f).dtype == np.int64
    assert c.total.dtype == np.int64
    assert confusion_matrix(pred, target, num_classes=3).dtype == np.int64
    assert c.sum(axis=0).tp.dtype == np.int64
    assert c.sum().tp.dtype == np.int64
    assert (c + c).tp.dtype == np.int64
    assert Counts.concat([c, c]).tp.dtype == np.int64
    assert confusion(pred > 0, target > 0).tp.dtype == np.int64


def test_uint8_labels_beyond_16_classes_do_not_overflow():
    """uint8 `target * C + pred` wraps for C > 16 (torchmetrics #1510); counting must not."""
    c = 40
    labels = np.arange(c, dtype=np.uint8)
    target = np.repeat(labels, 7).reshape(1, 8, 35)
    pred = np.roll(target, 1)  # one pixel per class boundary predicted as the previous class
    counts = confusion(pred, target, num_classes=c)
    expected = confusion(pred.astype(np.int64), target.astype(np.int64), num_classes=c)
    assert _fields(counts) == _fields(expected)
    assert counts.tp.tolist() == [[6] * c]
    assert counts.total.tolist() == [[280] * c]
    # 255 classes in uint8, the last label 254
    t = np.arange(255, dtype=np.uint8).reshape(1, 15, 17)
    big = confusion(t, t, num_classes=255)
    assert big.tp.tolist() == [[1] * 255]
    assert big.tn.tolist() == [[254] * 255]


def test_counts_beyond_2_31_are_exact():
    """Counts arithmetic stays exact in int64 past 2^31 (and 2^53 is not a float issue here)."""
    big = 2**31 + 7
    row = Counts.from_arrays(tp=[[big]], fp=[[3]], fn=[[5]], tn=[[big - 1]])
    many = Counts.concat([row] * 1000)
    pooled = many.sum(axis=0)
    assert pooled.tp.tolist() == [1000 * big]
    assert pooled.tn.tolist() == [1000 * (big - 1)]
    assert pooled.total.tolist() == [1000 * (2 * big + 7)]
    assert pooled.tp.dtype == np.int64
    assert (row + row).tp.tolist() == [[2 * big]]
    total = many.sum()
    assert int(total.tp) == 1000 * big
    # counts derived from a confusion matrix whose entries pass 2^31 (a 3-class "image" of about
    # 2^34 pixels, without allocating it): tn = total - tp - fp - fn stays exact
    from segscore.metrics.counts import _counts_from_matrix

    m = np.array([[[big, 1, 2, 3], [5, big + 1, 7, 0], [11, 13, 3 * big, 17]]], dtype=np.int64)
    derived = _counts_from_matrix(m, CountingSpec("multiclass", 3, None, 255))
    total = int(m.sum())
    assert derived.tp.tolist() == [[big, big + 1, 3 * big]]
    assert derived.fp.tolist() == [[16, 14, 9]]
    assert derived.fn.tolist() == [[6, 12, 41]]
    assert derived.tn.tolist() == [[total - big - 22, total - big - 1 - 26, total - 3 * big - 50]]
    assert derived.total.tolist() == [[total] * 3]


def test_counts_from_matrix_reference_by_hand():
    pred = np.array([[0, 1, 1, 255], [2, 2, 0, 1]])
    target = np.array([[0, 1, 0, 1], [2, 255, 0, 1]])
    m = confusion_matrix_reference(pred, target, num_classes=3, ignore_index=255)
    assert m.shape == (2, 3, 4)
    assert m[0].tolist() == [[1, 1, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]]
    assert m[1].tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]


class TestCountsObject:
    C = Counts.from_arrays(
        tp=[[1, 2], [3, 4]], fp=[[0, 1], [1, 0]], fn=[[2, 0], [0, 1]], tn=[[5, 5], [4, 3]]
    )

    def test_properties(self):
        assert self.C.shape == (2, 2)
        assert self.C.n_images == 2
        assert self.C.n_classes == 2
        assert self.C.support.tolist() == [[3, 2], [3, 5]]
        assert self.C.predicted.tolist() == [[1, 3], [4, 4]]
        assert self.C.total.tolist() == [[8, 8], [8, 8]]
        assert self.C.sum(axis=0).n_images == 1
        assert not self.C.target_empty.any()
        assert Counts.from_arrays(tp=[0], fp=[1], fn=[0], tn=[0]).target_empty.tolist() == [True]
        assert Counts.from_arrays(tp=[0], fp=[0], fn=[1], tn=[0]).prediction_empty.tolist() == [
            True
        ]

    def test_add_and_concat(self):
        s = self.C + self.C
        assert s.tp.tolist() == [[2, 4], [6, 8]]
        cat = Counts.concat([self.C, self.C.select(rows=[1])])
        assert cat.tp.tolist() == [[1, 2], [3, 4], [3, 4]]
        assert self.C.__add__(3) is NotImplemented

    def test_select_and_as_dict(self):
        assert self.C.select(rows=[1], classes=[0]).tp.tolist() == [[3]]
        d = self.C.as_dict()
        assert d["tn"] == [[5, 5], [4, 3]]
        assert d["spec"] is None
        assert isinstance(d["tp"][0][0], int)

    def test_frozen(self):
        with pytest.raises(AttributeError):
            self.C.tp = self.C.fp  # type: ignore[misc]

    def test_combining_different_conventions_is_an_error(self):
        a = confusion(np.array([[0, 1]]), np.array([[0, 1]]), num_classes=2)
        b = confusion(np.array([[0, 1]]), np.array([[0, 1]]), num_classes=2, ignore_index=255)
        with pytest.raises(InputError, match=r"same conventions, got \{.*'ignore_index': None"):
            a + b
        with pytest.raises(InputError, match="same conventions"):
            Counts.concat([a, b])


# -- against the peers: tp, fp, fn, tn exactly, per image ------------------------------------------
CASES = all_cases()
LABEL_CASES = [c for c in CASES if c.mode != "multilabel"]


def _reference_confusion_sklearn(row: FlatRow) -> np.ndarray:
    """(C, 4) tp, fp, fn, tn per label from sklearn's one-vs-rest confusion matrices."""
    skm = sklearn_metrics()
    m = skm.multilabel_confusion_matrix(
        row.target, row.pred, labels=row.labels
    )  # [[tn, fp], [fn, tp]]
    return np.stack([m[:, 1, 1], m[:, 0, 1], m[:, 1, 0], m[:, 0, 0]], axis=1)


def _reference_confusion_matrix_sklearn(row: FlatRow, num_classes: int) -> np.ndarray:
    """(C, C) matrix; the ignore label predicted on a counted pixel goes to an extra column, dropped."""
    p = np.where((row.pred < 0) | (row.pred >= num_classes), num_classes, row.pred)
    matrix = sklearn_metrics().confusion_matrix(row.target, p, labels=list(range(num_classes + 1)))
    return matrix[:num_classes, :num_classes]


def _reference_confusion_torchmetrics(case: Case) -> np.ndarray:
    """(N, C, 4) tp, fp, fn, tn per image (`multidim_average="samplewise"`)."""
    tmc = torchmetrics_classification()
    if case.mode == "binary":
        s = tmc.binary_stat_scores(
            as_tensor(case.pred.astype(np.int64)),
            as_tensor(case.target.astype(np.int64)),
            multidim_average="samplewise",
        )[:, None, :]
    elif case.mode == "multilabel":
        s = tmc.multilabel_stat_scores(
            as_tensor(case.pred.astype(np.int64)),
            as_tensor(case.target.astype(np.int64)),
            num_labels=case.num_classes,
            average=None,
            multidim_average="samplewise",
        )
    else:
        pred, target, c = torchmetrics_labels(case)
        s = tmc.multiclass_stat_scores(
            as_tensor(pred),
            as_tensor(target),
            num_classes=c,
            average=None,
            multidim_average="samplewise",
            ignore_index=case.ignore_index,
        )
    s = s.numpy()  # [..., tp, fp, tn, fn, support]
    return np.stack([s[..., 0], s[..., 1], s[..., 3], s[..., 2]], axis=-1)


def _reference_confusion_monai(case: Case) -> np.ndarray:
    """(N, C, 4) tp, fp, fn, tn. MONAI returns float counts: exact below 2^24 pixels."""
    m = monai_confusion(case).numpy()  # tp, fp, tn, fn
    return np.stack([m[..., 0], m[..., 1], m[..., 3], m[..., 2]], axis=-1)


def _reference_confusion_smp(case: Case) -> np.ndarray:
    """(N, C, 4) tp, fp, fn, tn from SMP's get_stats (int64)."""
    return np.stack([s.numpy() for s in smp_stats(case)], axis=-1)


def _stacked(c: Counts) -> np.ndarray:
    return np.stack([c.tp, c.fp, c.fn, c.tn], axis=-1)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_counts_match_sklearn(case):
    got = _stacked(segscore_rows(case))
    assert got.dtype == np.int64
    for i, row in enumerate(sklearn_rows(case)):
        np.testing.assert_array_equal(got[i], _reference_confusion_sklearn(row), err_msg=f"row {i}")


@pytest.mark.parametrize("case", LABEL_CASES, ids=ids(LABEL_CASES))
def test_confusion_matrix_matches_sklearn(case):
    pred, target, c = as_label_maps(case)
    matrix = confusion_matrix(pred, target, num_classes=c, ignore_index=case.ignore_index)
    assert matrix.dtype == np.int64
    rows = sklearn_rows(case)
    for n in range(pred.shape[0]):
        np.testing.assert_array_equal(matrix[n], _reference_confusion_matrix_sklearn(rows[n], c))
    np.testing.assert_array_equal(
        matrix.sum(axis=0), _reference_confusion_matrix_sklearn(rows[-1], c)
    )


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_counts_match_torchmetrics_stat_scores(case):
    c = segscore_counts(case) if case.mode != "multiclass" else torchmetrics_counts(case)
    np.testing.assert_array_equal(_stacked(c), _reference_confusion_torchmetrics(case))


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_counts_match_monai_get_confusion_matrix(case):
    np.testing.assert_array_equal(_stacked(segscore_counts(case)), _reference_confusion_monai(case))


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_counts_match_smp_get_stats(case):
    np.testing.assert_array_equal(_stacked(segscore_counts(case)), _reference_confusion_smp(case))


def test_cached_options_never_accept_a_value_of_another_type():
    # Options built from keywords are cached; 1 == True and 2.0 == 2 must not share an entry.
    from segscore.metrics.options import resolve_options

    assert resolve_options(None, multilabel=True).multilabel is True
    assert resolve_options(None, num_classes=2).num_classes == 2
    with pytest.raises(InputError, match=r"`multilabel` must be True or False, got 1"):
        resolve_options(None, multilabel=1)
    with pytest.raises(InputError, match=r"`num_classes` must be an integer >= 1, got 2.0"):
        resolve_options(None, num_classes=2.0)
    assert resolve_options(None, num_classes=2) is resolve_options(None, num_classes=2)

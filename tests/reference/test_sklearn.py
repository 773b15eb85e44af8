"""Cross-checks against scikit-learn, per image and pooled over images.

scikit-learn scores flat label vectors; every reference below drops the ignored pixels first
(pixel-mask semantics, CONVENTIONS §5.4), and passes ``labels=range(C)`` so that a prediction of the
ignore label on a counted pixel is a false negative of the target's class and a false positive of
none, which is segscore's rule.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import segscore
from segscore.metrics.counts import Counts

from ._inputs import Case, all_cases, as_label_maps, ids

skm = pytest.importorskip("sklearn.metrics")

CASES = all_cases()
LABEL_CASES = [c for c in CASES if c.mode != "multilabel"]
MULTICLASS_CASES = [c for c in CASES if c.mode == "multiclass"]


def _flat_pairs(case: Case) -> list[tuple[np.ndarray, np.ndarray, list[int]]]:
    """Per image, then pooled: flat (target, pred) vectors of counted pixels and the label list.

    Multilabel cases become one binary problem per class: the pairs are then per (image, class),
    and the label list is [0, 1] with class 1 the positive one.
    """
    if case.mode == "multilabel":
        pairs = []
        for n in range(case.pred.shape[0]):
            for k in range(case.num_classes):
                pairs.append((case.target[n, k].ravel(), case.pred[n, k].ravel(), [1]))
        return pairs
    pred, target, c = as_label_maps(case)
    pairs = []
    for n in [*range(pred.shape[0]), None]:
        t = target.ravel() if n is None else target[n].ravel()
        p = pred.ravel() if n is None else pred[n].ravel()
        keep = t != case.ignore_index if case.ignore_index is not None else np.ones(t.shape, bool)
        labels = [1] if case.mode == "binary" else list(range(c))
        pairs.append((t[keep].astype(np.int64), p[keep].astype(np.int64), labels))
    return pairs


def _segscore_rows(case: Case) -> Counts:
    """segscore counts in the row order of `_flat_pairs`: per image, then pooled."""
    counts = segscore.confusion(case.pred, case.target, **case.confusion_kwargs())
    if case.mode == "multilabel":
        flat = {f: getattr(counts, f).reshape(-1, 1) for f in ("tp", "fp", "fn", "tn")}
        return Counts(**flat)
    pooled = counts.sum(axis=0)
    return Counts.concat(
        [counts, Counts(pooled.tp[None], pooled.fp[None], pooled.fn[None], pooled.tn[None])]
    )


def _sk(fn, t, p, labels, **kw):
    return np.atleast_1d(np.asarray(fn(t, p, labels=labels, average=None, **kw), dtype=np.float64))


# -- one reference per metric ----------------------------------------------------------------------
def _reference_confusion(t, p, labels):
    """(C, 4) tp, fp, fn, tn per label from sklearn's one-vs-rest confusion matrices."""
    m = skm.multilabel_confusion_matrix(t, p, labels=labels)  # (C, 2, 2): [[tn, fp], [fn, tp]]
    return np.stack([m[:, 1, 1], m[:, 0, 1], m[:, 1, 0], m[:, 0, 0]], axis=1)


def _reference_confusion_matrix(t, p, num_classes):
    """(C, C) matrix; the ignore label predicted on a counted pixel goes to an extra column, dropped."""
    p = np.where((p < 0) | (p >= num_classes), num_classes, p)
    return skm.confusion_matrix(t, p, labels=list(range(num_classes + 1)))[
        :num_classes, :num_classes
    ]


def _reference_iou(t, p, labels):
    # sklearn allows zero_division in {0, 1} only: compared with segscore's empty=0.
    return _sk(skm.jaccard_score, t, p, labels, zero_division=0)


def _reference_dice(t, p, labels):
    return _sk(skm.f1_score, t, p, labels, zero_division=np.nan)


def _reference_precision(t, p, labels):
    return _sk(skm.precision_score, t, p, labels, zero_division=np.nan)


def _reference_recall(t, p, labels):
    return _sk(skm.recall_score, t, p, labels, zero_division=np.nan)


def _reference_fbeta(t, p, labels, beta):
    return _sk(skm.fbeta_score, t, p, labels, beta=beta, zero_division=np.nan)


def _reference_matthews_corrcoef(t, p, labels):
    """Per class, one-vs-rest. sklearn returns 0 for a zero denominator: segscore's empty=0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "a single label was found"
        return np.array([skm.matthews_corrcoef(t == k, p == k) for k in labels], dtype=np.float64)


def _reference_balanced_accuracy(t, p):
    """Binary only: (TPR + TNR) / 2; defined when the target holds both classes."""
    return skm.balanced_accuracy_score(t == 1, p == 1)


# -- tests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_counts_match_sklearn(case):
    rows = _segscore_rows(case)
    got = np.stack([rows.tp, rows.fp, rows.fn, rows.tn], axis=-1)
    for i, (t, p, labels) in enumerate(_flat_pairs(case)):
        np.testing.assert_array_equal(got[i], _reference_confusion(t, p, labels))
    assert got.dtype == np.int64


@pytest.mark.parametrize("case", LABEL_CASES, ids=ids(LABEL_CASES))
def test_confusion_matrix_matches_sklearn(case):
    pred, target, c = as_label_maps(case)
    matrix = segscore.confusion_matrix(pred, target, num_classes=c, ignore_index=case.ignore_index)
    pairs = _flat_pairs(case)
    assert matrix.dtype == np.int64
    for n in range(pred.shape[0]):
        t, p, _ = pairs[n]
        np.testing.assert_array_equal(matrix[n], _reference_confusion_matrix(t, p, c))
    t, p, _ = pairs[-1]
    np.testing.assert_array_equal(matrix.sum(axis=0), _reference_confusion_matrix(t, p, c))


METRICS = [
    ("iou", lambda c: segscore.iou(c, empty=0.0), _reference_iou),
    ("dice", segscore.dice, _reference_dice),
    ("precision", segscore.precision, _reference_precision),
    ("recall", segscore.recall, _reference_recall),
    ("f2", lambda c: segscore.fbeta(c, beta=2.0), lambda t, p, k: _reference_fbeta(t, p, k, 2.0)),
    ("f0.5", lambda c: segscore.fbeta(c, beta=0.5), lambda t, p, k: _reference_fbeta(t, p, k, 0.5)),
    ("mcc", lambda c: segscore.matthews_corrcoef(c, empty=0.0), _reference_matthews_corrcoef),
]


@pytest.mark.parametrize(("name", "ours", "reference"), METRICS, ids=[m[0] for m in METRICS])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_per_class_metric_matches_sklearn(case, name, ours, reference):
    rows = _segscore_rows(case)
    got = ours(rows)
    for i, (t, p, labels) in enumerate(_flat_pairs(case)):
        expected = reference(t, p, labels)
        # the formulas are the same; only the order of float operations may differ
        np.testing.assert_allclose(got[i], expected, rtol=1e-12, atol=1e-15, err_msg=f"row {i}")


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
@pytest.mark.parametrize("case", MULTICLASS_CASES, ids=ids(MULTICLASS_CASES))
def test_class_averages_match_sklearn(case, average):
    """sklearn's averages include zero-division classes at the zero_division value: set empty=0."""
    rows = _segscore_rows(case)
    for i, (t, p, labels) in enumerate(_flat_pairs(case)):
        one = Counts(*(getattr(rows, f)[i] for f in ("tp", "fp", "fn", "tn")))
        for ours, theirs in (
            (segscore.iou, skm.jaccard_score),
            (segscore.dice, skm.f1_score),
            (segscore.precision, skm.precision_score),
            (segscore.recall, skm.recall_score),
        ):
            expected = theirs(t, p, labels=labels, average=average, zero_division=0)
            got = ours(one, average=average, empty=0.0)
            np.testing.assert_allclose(
                got, expected, rtol=1e-12, err_msg=f"{ours.__name__} row {i}"
            )


@pytest.mark.parametrize("case", [c for c in CASES if c.mode == "binary"], ids=lambda c: c.id)
def test_binary_balanced_accuracy_matches_sklearn(case):
    rows = _segscore_rows(case)
    got = segscore.balanced_accuracy(rows)
    checked = 0
    for i, (t, p, _) in enumerate(_flat_pairs(case)):
        if 0 < np.count_nonzero(t) < t.size:
            np.testing.assert_allclose(got[i, 0], _reference_balanced_accuracy(t, p), rtol=1e-12)
            checked += 1
        else:
            assert np.isnan(got[i, 0])  # one class missing from the target: undefined, not 0.5
    assert checked > 0


@pytest.mark.parametrize("case", MULTICLASS_CASES, ids=ids(MULTICLASS_CASES))
def test_multiclass_balanced_accuracy_is_macro_recall(case):
    """sklearn's multiclass balanced accuracy is the mean recall over the classes in the target."""
    t, p, _ = _flat_pairs(case)[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true"
        expected = skm.balanced_accuracy_score(t, p)
    pooled = segscore.confusion(case.pred, case.target, **case.confusion_kwargs()).sum(axis=0)
    np.testing.assert_allclose(segscore.recall(pooled, average="macro"), expected, rtol=1e-12)

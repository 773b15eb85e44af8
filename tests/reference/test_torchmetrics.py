"""Cross-checks against torchmetrics' functional API.

torchmetrics raises on a prediction outside ``[0, C)`` even when ``ignore_index`` is set, so the
multiclass inputs here have their predicted ignore labels replaced by class 0 (segscore counts the
same replaced arrays). Counts are compared exactly; scores, which torchmetrics computes in float32,
within float32 rounding (rtol 1e-6).
"""

from __future__ import annotations

import numpy as np
import pytest

import segscore

from ._inputs import Case, all_cases, as_label_maps, ids

torch = pytest.importorskip("torch")
tmc = pytest.importorskip("torchmetrics.functional.classification")
tms = pytest.importorskip("torchmetrics.functional.segmentation")

CASES = all_cases()
LABEL_CASES = [c for c in CASES if c.mode != "multilabel"]
NO_IGNORE = [c for c in LABEL_CASES if c.ignore_index is None]


def _every_class_somewhere(case: Case) -> bool:
    _, target, c = as_label_maps(case)
    return any(len(np.unique(t)) == c for t in target)


GD_CASES = [c for c in NO_IGNORE if _every_class_somewhere(c)]
F32 = {"rtol": 1e-6, "atol": 1e-7}


def _label_inputs(case: Case) -> tuple[np.ndarray, np.ndarray, int]:
    pred, target, c = as_label_maps(case)
    if case.ignore_index is not None:
        pred = np.where(pred == case.ignore_index, 0, pred)
    return pred, target, c


def _t(a: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(a))


# -- one reference per metric ----------------------------------------------------------------------
def _reference_stat_scores(case: Case) -> np.ndarray:
    """(N, C, 4) tp, fp, fn, tn per image (`multidim_average="samplewise"`)."""
    if case.mode == "binary":
        s = tmc.binary_stat_scores(
            _t(case.pred.astype(np.int64)),
            _t(case.target.astype(np.int64)),
            multidim_average="samplewise",
        )[:, None, :]
    elif case.mode == "multilabel":
        s = tmc.multilabel_stat_scores(
            _t(case.pred.astype(np.int64)),
            _t(case.target.astype(np.int64)),
            num_labels=case.num_classes,
            average=None,
            multidim_average="samplewise",
        )
    else:
        pred, target, c = _label_inputs(case)
        s = tmc.multiclass_stat_scores(
            _t(pred),
            _t(target),
            num_classes=c,
            average=None,
            multidim_average="samplewise",
            ignore_index=case.ignore_index,
        )
    s = s.numpy()  # [..., tp, fp, tn, fn, support]
    return np.stack([s[..., 0], s[..., 1], s[..., 3], s[..., 2]], axis=-1)


def _reference_iou(case: Case, average) -> np.ndarray:
    """Dataset-pooled IoU (JaccardIndex). zero_division=0 for a class absent from both."""
    pred, target, c = _label_inputs(case)
    return tmc.multiclass_jaccard_index(
        _t(pred),
        _t(target),
        num_classes=c,
        average=average,
        ignore_index=case.ignore_index,
        zero_division=0.0,
    ).numpy()


def _reference_mean_iou(case: Case, per_class: bool) -> np.ndarray:
    """Per-image IoU; per_class gives -1 for a class absent from both masks."""
    pred, target, c = _label_inputs(case)
    return tms.mean_iou(
        _t(pred), _t(target), num_classes=c, per_class=per_class, input_format="index"
    ).numpy()


def _reference_dice(case: Case, average, aggregation_level) -> np.ndarray:
    pred, target, c = _label_inputs(case)
    return tms.dice_score(
        _t(pred),
        _t(target),
        num_classes=c,
        average=average,
        input_format="index",
        aggregation_level=aggregation_level,
    ).numpy()


def _reference_generalized_dice(case: Case, weight_type) -> np.ndarray:
    pred, target, c = _label_inputs(case)
    return tms.generalized_dice_score(
        _t(pred), _t(target), num_classes=c, weight_type=weight_type, input_format="index"
    ).numpy()


def _counts(case: Case):
    if case.mode in ("multilabel", "binary"):
        return segscore.confusion(case.pred, case.target, **case.confusion_kwargs())
    pred, target, c = _label_inputs(case)
    return segscore.confusion(pred, target, num_classes=c, ignore_index=case.ignore_index)


def _label_counts(case: Case):
    pred, target, c = _label_inputs(case)
    return segscore.confusion(pred, target, num_classes=c, ignore_index=case.ignore_index)


# -- tests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_samplewise_stat_scores_match(case):
    c = _counts(case)
    got = np.stack([c.tp, c.fp, c.fn, c.tn], axis=-1)
    np.testing.assert_array_equal(got, _reference_stat_scores(case))


@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
@pytest.mark.parametrize("case", LABEL_CASES, ids=ids(LABEL_CASES))
def test_jaccard_index_matches_pooled(case, average):
    counts = _label_counts(case)
    expected = _reference_iou(case, "none" if average is None else average)
    if average is None:
        got = segscore.iou(counts.sum(axis=0), empty=0.0)
    elif average == "macro":
        # torchmetrics leaves a class absent from the whole dataset out of the macro mean: that is
        # segscore's "pooled" aggregation with the default NaN for 0/0.
        got = segscore.score(counts, "iou", aggregation="pooled").value
    else:
        got = segscore.iou(counts.sum(axis=0), average=average, empty=0.0)
    np.testing.assert_allclose(got, expected, **F32)


@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_mean_iou_matches_per_image(case):
    counts = _label_counts(case)
    # per class: torchmetrics' -1 for a class absent from both masks is segscore's empty=-1
    np.testing.assert_allclose(
        segscore.iou(counts, empty=-1.0), _reference_mean_iou(case, True), **F32
    )
    # the per-image mean skips those classes: macro with NaN excluded
    np.testing.assert_allclose(
        segscore.iou(counts, average="macro"), _reference_mean_iou(case, False), **F32
    )


# torchmetrics warns about its own default of `average` even when it is passed explicitly
@pytest.mark.filterwarnings("ignore:dice_score metric currently defaults:UserWarning")
@pytest.mark.parametrize("aggregation_level", ["samplewise", "global"])
@pytest.mark.parametrize("average", ["none", "macro", "micro", "weighted"])
@pytest.mark.parametrize("case", NO_IGNORE, ids=ids(NO_IGNORE))
def test_dice_score_matches(case, average, aggregation_level):
    counts = _label_counts(case)
    if aggregation_level == "global":
        counts = counts.sum(axis=0)
    got = segscore.dice(counts, average=average)  # NaN for 0/0, excluded from the class means
    expected = _reference_dice(case, average, aggregation_level)
    np.testing.assert_allclose(got, expected.reshape(got.shape), **F32)


@pytest.mark.parametrize(
    ("ours", "theirs"), [("square", "square"), ("simple", "simple"), ("uniform", "linear")]
)
@pytest.mark.parametrize("case", GD_CASES, ids=ids(GD_CASES))
def test_generalized_dice_matches_when_every_class_is_present(case, ours, theirs):
    """torchmetrics fills the weight of a class absent from an image's target from other images
    (a max over the batch axis); segscore and MONAI use the largest weight of the same image. The
    two agree exactly on images whose target holds every class, which is what is compared here."""
    counts = _label_counts(case)
    got = segscore.generalized_dice(counts, weight=ours)
    expected = _reference_generalized_dice(case, theirs)
    every_class = np.all(counts.support > 0, axis=1)
    assert every_class.any()
    np.testing.assert_allclose(got[every_class], expected[every_class], **F32)

"""The lesion-wise metrics in words: BraTS 2023's lesion-wise Dice, HD95 and lesion counts.

Sources: ``metrics.py`` of github.com/rachitsaluja/BraTS-2023-Metrics (``get_LesionWiseScores``,
``get_LesionWiseResults``), as :mod:`segscore.metrics.instance.lesion` reproduces it;
``CONVENTIONS-objects`` beside the project (``../shared/CONVENTIONS-objects.md``: panoptica
2.1.7 on workload W6, 3-D lesions); ``tests/metrics/test_lesion_dice.py`` and
``tests/metrics/test_lesion_hd95.py`` (segscore's checks against the BraTS procedure written
again and against panoptica).
"""

from __future__ import annotations

from segscore.report.explain.base import Question, Topic

__all__ = ["LESION_TOPICS"]

_LESIONS = (
    "L = kept target lesions (connected components, 26-connectivity in 3-D, grouped by "
    "dilating the target; volume > min volume), FP = predicted lesions that touch no dilated "
    "target lesion; a missed lesion has Dice 0 and HD95 = the penalty (374)."
)
_NO_LESION = (
    "L + FP = 0 (no kept lesion, no false positive): BraTS gives Dice 1 and HD95 0, so an "
    "empty case lifts the mean over cases."
)
_BRATS = (
    "BraTS 2023 (rachitsaluja/BraTS-2023-Metrics metrics.py): dilation 3 and min volume 50 "
    "for GLI, SSA, PED; dilation 1 for MEN, and min volume 2 for MET (segscore's BRATS_2023; "
    "the defaults are GLI's). Checked against the procedure written again with scipy and "
    "DeepMind surface-distance 0.1: tests/metrics/test_lesion_dice.py, test_lesion_hd95.py."
)
_PANOPTICA = (
    "panoptica 2.1.7 (the only peer with lesion-wise scores, CONVENTIONS-objects §1): "
    "connected components (cc3d 26-connectivity in 3-D, scipy 4-connectivity in 2-D, §3 #9: "
    "217 vs 220 predicted lesions on W6 with 6-connectivity), no dilation, no volume "
    "threshold, and per matched pair only (sq_dsc, sq_hd95: misses and false positives do not "
    "enter). With dilation 0, min volume 0 and its surface model the per-lesion values are "
    "the same: tests/metrics/test_lesion_dice.py and test_lesion_hd95.py check both."
)
_OTHERS = (
    "stardist, cellpose, MONAI, torchmetrics and pycocotools have no lesion-wise score "
    "(CONVENTIONS-objects §1); their object F1 and PQ need one-to-one matches at IoU >= T, "
    "where BraTS counts any contact."
)

LESION_TOPICS: tuple[Topic, ...] = (
    Topic(
        key="lesion_dice",
        title="BraTS 2023 lesion-wise Dice",
        definition=(
            "Each target lesion is scored alone: its Dice with the predicted lesions that "
            "touch it (after dilation), 0 when none does; the sum over lesions is divided by "
            "the lesions plus the false-positive lesions. A small lesion missed costs as much "
            "as a large one, and a stray blob costs as much as a miss, where pixel Dice barely "
            "notices either."
        ),
        formula="lesion_dice = sum over L of Dice(l) / (L + FP)",
        notes=(_LESIONS, "Range [0, 1].", _NO_LESION),
        peers=(_BRATS, _PANOPTICA, _OTHERS),
        quiz=Question(
            "One large lesion is segmented perfectly; two small lesions (above the minimum "
            "volume) are missed; no false positive. lesion_dice?",
            ("1", "About pixel Dice, near 1", "1/3"),
            2,
            "(1 + 0 + 0) / (3 + 0): each lesion weighs the same, whatever its size.",
        ),
    ),
    Topic(
        key="lesion_hd95",
        title="BraTS 2023 lesion-wise HD95",
        definition=(
            "Each target lesion's 95th-percentile Hausdorff distance to the predicted lesions "
            "that touch it; a missed lesion and a false-positive lesion each count the "
            "penalty 374 (about the diagonal of BraTS' volumes, in mm). One miss outweighs any number "
            "of good outlines: the value is mostly a count of errors times 374."
        ),
        formula="lesion_hd95 = (sum over L of HD95(l) + FP * 374) / (L + FP)",
        notes=(
            _LESIONS,
            "HD95 per lesion: DeepMind's surfel model, area-weighted nearest rank, max of the "
            "two directions, in the units of spacing; range [0, inf), lower is better.",
            _NO_LESION,
        ),
        peers=(_BRATS, _PANOPTICA, _OTHERS),
        quiz=Question(
            "Three lesions are found, each with HD95 2 mm, and one false-positive blob is "
            "added. lesion_hd95?",
            ("2", "95", "374"),
            1,
            "(2 + 2 + 2 + 374) / (3 + 1) = 95: one false positive dominates.",
        ),
    ),
    Topic(
        key="lesion_counts",
        title="BraTS lesion counts (lesion_tp, lesion_fp, lesion_fn)",
        definition=(
            "BraTS' Num_TP, Num_FP and Num_FN: kept target lesions touched by a prediction, "
            "predicted lesions touching no target lesion, kept target lesions touched by none. "
            "Dropped (too small) target lesions count nowhere, and predictions touching them "
            "are not false positives."
        ),
        formula="lesion_tp, lesion_fp, lesion_fn = lesions found, false-positive lesions, missed",
        notes=(
            _LESIONS,
            "Counts, exact integers, per image and class (summed with aggregation 'pooled').",
        ),
        peers=(_BRATS, _PANOPTICA),
        quiz=Question(
            "Under BraTS' GLI rules (min volume 50 voxels of 1 mm³), a target lesion of 30 "
            "voxels is missed. What changes?",
            (
                "lesion_fn + 1",
                "Nothing: the lesion is dropped and counted nowhere",
                "lesion_fp + 1",
            ),
            1,
            "Lesions of volume <= min volume are dropped before counting (and a prediction "
            "touching one would not be a false positive).",
        ),
    ),
)
"""One topic per lesion metric (``lesion_tp``, ``lesion_fp``, ``lesion_fn`` share one)."""

"""The instance family in words: matched objects, and what the peers do with them.

Source: ``CONVENTIONS-objects`` beside the project (``../shared/CONVENTIONS-objects.md``:
stardist 0.9.2, cellpose 4.2.1.1, MONAI 1.6.1, torchmetrics 1.9.0, panoptica 2.1.7, pycocotools
2.0.11 run on workloads W5, 2-D nuclei, and W6, 3-D lesions); ``tests/metrics/test_instance_*.py``
(segscore's checks).
"""

from __future__ import annotations

from segscore.report.explain.base import Question, Topic

__all__ = ["INSTANCE_TOPICS"]

_MATCH = (
    "tp = matched pairs (one-to-one, IoU >= T), fp = predicted objects left unmatched, "
    "fn = target objects left unmatched."
)
_TIES = (
    "IoU >= T (stardist, cellpose, panoptica, COCO) or > T (MONAI, torchmetrics): W5 has 24 "
    "pairs at exactly 0.5, F1 0.8577 vs 0.8561 (CONVENTIONS-objects §3 #1); thresholds spelled "
    "with np.arange lose exact ties in cellpose (§3 #2)."
)
_POOLED = (
    "Pooled counts (stardist matching_dataset default, torchmetrics, MONAI mean_batch) vs the "
    "mean of per-image values (stardist by_image=True, cellpose, panoptica): W6 F1 0.7306 vs "
    "0.7103 (CONVENTIONS-objects §3 #4)."
)
_CHECKED = "Checked against StarDist's matching: tests/metrics/test_instance_matching.py."

INSTANCE_TOPICS: tuple[Topic, ...] = (
    Topic(
        key="object_f1",
        title="object F1 at matching threshold T",
        definition=(
            "Objects, not pixels: each target object is matched to at most one predicted "
            "object whose IoU with it reaches T; F1 is the harmonic mean of the share of "
            "predicted objects matched and the share of target objects matched. Two touching "
            "objects predicted as one can keep pixel IoU high and still cost a miss."
        ),
        formula="F1@T = 2*tp / (2*tp + fp + fn)",
        notes=(_MATCH, "Range [0, 1]; rq is F1 at 0.5."),
        peers=(
            "stardist matching 'f1' (optimal matching, IoU >= T), cellpose average_precision "
            "(its 'ap' is tp / (tp + fp + fn)), panoptica (greedy by default).",
            _TIES,
            _POOLED,
            _CHECKED,
        ),
        quiz=Question(
            "What does object F1@0.5 count as a true positive?",
            (
                "Any predicted object that touches a target object",
                "A predicted object matched one-to-one to a target object with IoU >= 0.5",
                "A pixel that both masks call foreground",
            ),
            1,
            "At T >= 0.5 at most one pair per object can pass, so the matching is one-to-one.",
        ),
    ),
    Topic(
        key="object_precision",
        title="object precision at matching threshold T",
        definition=(
            "The share of predicted objects matched to a target object at IoU >= T: it falls "
            "with false-positive objects and with merges and splits that fail the threshold."
        ),
        formula="precision@T = tp / (tp + fp)",
        notes=(_MATCH, "Undefined (empty policy) when nothing is predicted."),
        peers=(
            "stardist matching 'precision'; panoptica raises ZeroDivisionError when nothing is "
            "predicted (CONVENTIONS-objects §4).",
            _TIES,
            _POOLED,
            _CHECKED,
        ),
        quiz=Question(
            "An image has no predicted object and two target objects. precision@0.5?",
            ("0", "1", "NaN by default: 0 / 0, left out of means and counted"),
            2,
            "tp + fp = 0; recall@0.5 is 0 there (both target objects missed).",
        ),
    ),
    Topic(
        key="object_recall",
        title="object recall at matching threshold T",
        definition=(
            "The share of target objects matched to a predicted object at IoU >= T: it falls "
            "with missed objects, and with merges (one prediction can match one target only)."
        ),
        formula="recall@T = tp / (tp + fn)",
        notes=(_MATCH, "Undefined (empty policy) when the target has no object."),
        peers=(
            "stardist matching 'recall'; panoptica raises ZeroDivisionError when the target "
            "has no object (CONVENTIONS-objects §4).",
            _TIES,
            _POOLED,
            _CHECKED,
        ),
        quiz=Question(
            "One predicted object exactly covers three equal, touching target objects. recall@0.5?",
            ("1", "1/3", "0"),
            2,
            "Each target's IoU with it is a / 3a = 1/3 < 0.5: no pair matches, so all three "
            "targets are missed (fn 3) and the prediction is a false positive.",
        ),
    ),
    Topic(
        key="dsb",
        title="DSB2018 score (stardist 'accuracy')",
        definition=(
            "Matched pairs over all objects of both sides, tp / (tp + fp + fn), per image; "
            "dsb@A:B is its mean over thresholds A, A + 0.05, ..., B, the Data Science Bowl "
            "2018 score. It is often called mAP but is not COCO's average precision."
        ),
        formula="DSB@T = tp / (tp + fp + fn)",
        notes=(_MATCH, "Range [0, 1]; the sweep matches once per threshold."),
        peers=(
            "DSB2018, stardist 'accuracy' and cellpose 'ap' are this score; COCO AP is the "
            "area under a precision-recall curve of scored detections: W5 0.4941 vs 0.5132 "
            "from the same matches (CONVENTIONS-objects §3 #7).",
            _TIES,
            _CHECKED,
        ),
        quiz=Question(
            "Is the DSB2018 'mAP' the same number as COCO mask AP?",
            (
                "Yes, two names for one number",
                "No: DSB averages tp / (tp + fp + fn) over thresholds; COCO integrates "
                "precision over recall using detection scores",
                "Only at threshold 0.5",
            ),
            1,
            "CONVENTIONS-objects §3 #7 measured 0.4941 vs 0.5132 on the same predictions.",
        ),
    ),
    Topic(
        key="pq",
        title="panoptic quality",
        definition=(
            "Detection and outline quality in one number (Kirillov et al.): the sum of the "
            "matched pairs' IoUs over tp + fp/2 + fn/2, which equals SQ x RQ."
        ),
        formula="PQ = S / (tp + fp/2 + fn/2)",
        notes=(
            "S = sum of the matched pairs' IoU; T = 0.5 unless pq@T.",
            "Range [0, 1]; PQ = SQ * RQ.",
        ),
        peers=(
            "torchmetrics PanopticQuality (IoU > 0.5; background must be declared a stuff and "
            "the thing row read: else 0.8315 instead of 0.7001, CONVENTIONS-objects §3 #5); "
            "MONAI compute_panoptic_quality (> T, 1e-6 added to denominators: identical "
            "masks 0.999999, §3 #10); panoptica, stardist 'panoptic_quality'.",
            "Both images empty: MONAI 0, panoptica NaN, stardist 0 (§4).",
            "Checked against torchmetrics and MONAI: tests/metrics/test_instance_pq.py.",
        ),
        quiz=Question(
            "PQ = SQ x RQ. What does SQ measure?",
            (
                "The share of objects found",
                "The mean IoU of the matched pairs",
                "The pixel IoU of the whole mask",
            ),
            1,
            "SQ = S / tp: how well the matched objects are outlined; RQ (F1) how many are found.",
        ),
    ),
    Topic(
        key="sq",
        title="segmentation quality (mean IoU of matched objects)",
        definition=(
            "The mean IoU of the matched pairs: how well the objects that were found are "
            "outlined, blind to missed and false objects."
        ),
        formula="SQ = S / tp",
        notes=("S = sum of the matched pairs' IoU; undefined without a match.",),
        peers=(
            "stardist 'mean_matched_score'; torchmetrics and MONAI as for pq "
            "(CONVENTIONS-objects §1).",
            "Checked against torchmetrics and MONAI: tests/metrics/test_instance_pq.py.",
        ),
        quiz=Question(
            "A model finds 1 of 10 objects, perfectly outlined. SQ?",
            ("0.1", "1", "0.18"),
            1,
            "SQ averages over matched pairs only: one pair with IoU 1. RQ is 2/11 = 0.18.",
        ),
    ),
    Topic(
        key="rq",
        title="recognition quality (object F1 at 0.5)",
        definition=(
            "The detection half of panoptic quality: object F1 at matching threshold 0.5 (or rq@T)."
        ),
        formula="RQ = 2*tp / (2*tp + fp + fn)",
        notes=(_MATCH,),
        peers=(
            "stardist 'f1'; torchmetrics and MONAI use IoU > 0.5 (CONVENTIONS-objects §3 #1).",
            "Checked against torchmetrics and MONAI: tests/metrics/test_instance_pq.py.",
        ),
        quiz=Question(
            "Which is RQ the same as?",
            ("Object F1 at 0.5", "Pixel Dice", "Mean matched IoU"),
            0,
            "RQ = 2 tp / (2 tp + fp + fn) with matches at IoU 0.5.",
        ),
    ),
    Topic(
        key="aji",
        title="aggregated Jaccard index (Kumar 2017; aji+: one-to-one)",
        definition=(
            "One pixel-level IoU over all objects: each target object is paired with the "
            "predicted object of largest IoU, the intersections and unions of the pairs are "
            "added, and unused predicted objects join the union. Kumar's AJI lets one "
            "prediction serve two targets; AJI+ (HoVer-Net) pairs one-to-one."
        ),
        formula="AJI = sum |g & p(g)| / (sum |g | p(g)| + sum |unused p|)",
        notes=(
            "No matching threshold; range [0, 1].",
            "p(g): the best prediction of target g (AJI: any; AJI+: a one-to-one assignment).",
        ),
        peers=(
            "Kumar 2017 (reuse allowed), AJI+ (HoVer-Net, Hungarian), cellpose's variant "
            "(0.5-optimal pairs, denominator the union of all foreground): W5 mean per image "
            "0.7086, 0.7293 and 0.7690 (CONVENTIONS-objects §3 #8).",
            "Checked against references written from HoVer-Net's get_fast_aji and "
            "get_fast_aji_plus: tests/metrics/test_instance_aji.py.",
        ),
        quiz=Question(
            "One predicted object exactly covers two equal target objects. AJI vs AJI+?",
            ("Both 0.5", "AJI 0.5, AJI+ 0.333", "AJI 0.333, AJI+ 0.5"),
            1,
            "AJI pairs both targets with it: 2a / 4a; AJI+ pairs one (I = a, U = 2a) and adds the "
            "other target to the union: a / 3a (CONVENTIONS-objects §3 #8).",
        ),
    ),
    Topic(
        key="object_counts",
        title="matched and unmatched objects (tp@T, fp@T, fn@T)",
        definition=(
            "The counts every object metric is made of: matched pairs, predicted objects "
            "without a match, target objects without a match."
        ),
        formula="tp@T = matched pairs; fp@T = unmatched predictions; fn@T = unmatched targets",
        notes=("Counts, exact integers; per image, or summed with aggregation 'pooled'.",),
        peers=(
            "stardist matching (tp, fp, fn), MONAI compute_panoptic_quality "
            "output_confusion_matrix (CONVENTIONS-objects §1).",
            _TIES,
            _CHECKED,
        ),
        quiz=Question(
            "A prediction merges two target objects into one that matches neither at 0.5. "
            "What changes?",
            ("tp +1", "fp +1 and fn +2", "fn +1"),
            1,
            "The merged object is unmatched (fp) and so are both targets (fn).",
        ),
    ),
)
"""One topic per instance base (``f1``, ``precision``, ``recall`` at T; ``aji+`` shares ``aji``)."""

"""COCO mask AP and AR in words: ranked detections, interpolated precision, recall.

Sources: pycocotools 2.0.11 ``cocoeval.py`` (``evaluateImg``, ``accumulate``, ``summarize``), as
:mod:`segscore.metrics.instance.coco` reproduces it; ``CONVENTIONS-objects`` beside the project
(``../shared/CONVENTIONS-objects.md``, workload W5: 2-D nuclei, 100-200 objects per image);
``tests/metrics/test_coco_ap.py`` (segscore against pycocotools, run in the test).
"""

from __future__ import annotations

from segscore.report.explain.base import Question, Topic

__all__ = ["COCO_TOPICS"]

_RANKED = (
    "Detections (predicted objects) are ranked by score; a segmentation model's score of an "
    "object is its mean probability (segscore.object_scores). At each IoU threshold T each "
    "detection, best score first, takes the unmatched target of largest IoU >= T (greedy, as "
    "pycocotools); G = target objects in the size range."
)
_SIZES = (
    "Sizes are pixel (voxel) counts, both ends included: small [0, 32²], medium [32², 96²], "
    "large [96², 1e10]; a size suffix (_small...) ignores targets outside the range, and "
    "detections outside it that match nothing."
)
_MAX_DETS = (
    "pycocotools keeps the 100 best detections per image (maxDets [1, 10, 100]): on W5 (100-200 "
    "objects per image) AP@[.5:.95] is 0.389 instead of 0.513 with 1000, and with maxDets "
    "[1, 10, 1000] summarize() prints -1 for stats[0], whose _summarize defaults to 100 "
    "(CONVENTIONS-objects §3 #6): read eval['precision'], or use max_detections here."
)
_CHECKED = (
    "Checked against pycocotools 2.0.11 COCOeval(iouType='segm'), its eval['precision'] and "
    "eval['recall'] arrays, run in the test: tests/metrics/test_coco_ap.py (to about 1e-15)."
)
_PEERS = (
    "torchmetrics MeanAveragePrecision(iou_type='segm') wraps pycocotools or faster-coco-eval "
    "(CONVENTIONS-objects §1, not measured); stardist, cellpose, MONAI and panoptica have no "
    "COCO AP. pycocotools is 2-D only (RLE) and averages over categories: here one category, "
    "any dimension."
)

COCO_TOPICS: tuple[Topic, ...] = (
    Topic(
        key="coco_ap",
        title="COCO mask average precision",
        definition=(
            "The area under the precision-recall curve of ranked detections: precision after "
            "each detection, made non-increasing from the right, read at 101 recall points "
            "0, 0.01, ..., 1 (0 where recall never gets there), averaged; then over the IoU "
            "thresholds 0.5:0.05:0.95 (ap), one T (ap@T) or A:0.05:B (ap@A:B). It needs a "
            "score per object: the same masks score higher when the false positives are "
            "ranked last."
        ),
        formula="AP@T = (1/101) sum over r = 0, 0.01, ..., 1 of max{precision_k : recall_k >= r}",
        notes=(
            "ap, ap@A:B: the mean of AP@T over their thresholds; precision_k and recall_k are "
            "tp / k and tp / G after the k best-ranked detections.",
            _RANKED,
            _SIZES,
            "Pooled over images (COCO): the detections of all images are ranked together.",
            "No target object (G = 0): NaN (pycocotools -1, skipped by summarize).",
        ),
        peers=(
            "pycocotools COCOeval('segm'): 101 recall points, IoU >= T (its thresholds are "
            "np.linspace floats at or below their decimals, so exact ties pass as here).",
            "'mAP' means two things: the DSB2018 score (stardist 'accuracy', cellpose 'ap', "
            "dsb@0.5:0.95 here: no scores, tp / (tp + fp + fn) averaged) and COCO AP: W5 "
            "0.4941 vs 0.5132 from the same matches (CONVENTIONS-objects §3 #7).",
            _MAX_DETS,
            _PEERS,
            _CHECKED,
        ),
        quiz=Question(
            "Two models predict the same objects with the same outlines; one gives its "
            "false-positive objects the highest scores, the other the lowest. Their COCO AP?",
            (
                "The same: AP counts matches",
                "Lower for the model that ranks its false positives first",
                "Higher for the model that ranks its false positives first",
            ),
            1,
            "Precision at each recall level is read after the detections ranked above it: "
            "false positives ranked first lower every point of the curve.",
        ),
    ),
    Topic(
        key="coco_ar",
        title="COCO mask average recall",
        definition=(
            "The share of target objects matched by one of the best-scored N detections of "
            "their image, averaged over the IoU thresholds 0.5:0.05:0.95: arN with N per image "
            "(ar1, ar10, ar100), ar with max_detections (100). It ignores how false positives "
            "are ranked, except that they can push a match out of the N kept."
        ),
        formula="AR@T = tp(T) / G; ar = mean of AR@T over T",
        notes=(
            _RANKED,
            _SIZES,
            "tp(T): targets matched at T by the N best-scored detections of their image.",
            "No target object (G = 0): NaN (pycocotools -1, skipped by summarize).",
        ),
        peers=(
            "pycocotools COCOeval('segm') stats[6:9] (ar1, ar10, ar100) and stats[9:12] (sizes).",
            _MAX_DETS,
            _PEERS,
            _CHECKED,
        ),
        quiz=Question(
            "An image has 150 target objects, each found exactly by one detection. What is "
            "ar100 (COCO's default of 100 detections per image)?",
            ("1", "100/150 = 0.667", "0"),
            1,
            "Only the 100 best-scored detections are kept: at most 100 of the 150 targets "
            "can be matched (CONVENTIONS-objects §3 #6).",
        ),
    ),
)
"""One topic for the ``ap`` names and one for the ``ar`` names of the registry."""

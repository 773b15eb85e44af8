"""The overlap family in words: formulas in tp, fp, fn, tn and what the peers do with them.

Sources: ``CONVENTIONS`` is the peer table beside the project (``../shared/CONVENTIONS.md``,
measured with torchmetrics 1.9.0, MONAI 1.6.1, SMP 0.6.0, MedPy 0.5.2, scikit-learn 1.9.1);
``docs/conventions.md`` lists the presets that reproduce them; ``tests/metrics/test_<metric>.py``
holds segscore's own check of each metric against the peers named in its docstring.
"""

from __future__ import annotations

from segscore.report.explain.base import Question, Topic

__all__ = ["OVERLAP_TOPICS"]

_EMPTY_PEERS = (
    "Both masks empty (CONVENTIONS §5.2): MedPy jc 1, SMP 1 (zero_division=1), miseval IoU 0 "
    "but DSC 1, Metrics Reloaded DSC 1 but IoU NaN, torchmetrics MeanIoU -1 in per_class, "
    "scikit-learn 0 with a warning, pycocotools 0."
)

OVERLAP_TOPICS: tuple[Topic, ...] = (
    Topic(
        key="iou",
        title="intersection over union (Jaccard index)",
        definition=(
            "The pixels both masks call the class, divided by the pixels either calls it. "
            "Background the two agree on (tn) does not enter, so a small object missed "
            "entirely scores 0 while pixel accuracy stays near 1. mIoU is its mean over "
            "classes; how images and classes are averaged is a convention (below)."
        ),
        formula="tp / (tp + fp + fn)",
        notes=(
            "Range [0, 1]; 1 only when fp = fn = 0 and tp > 0.",
            "IoU = Dice / (2 - Dice) for every cell, so IoU <= Dice.",
            "Denominator 0 only when both masks are empty: the empty policy decides.",
        ),
        peers=(
            "torchmetrics JaccardIndex pools counts over the dataset; MeanIoU averages "
            "(image, class) cells and shows -1 for a class never present (CONVENTIONS §5.2; "
            "preset torchmetrics).",
            "MONAI compute_iou, ignore_empty=True (its default): NaN when the target is empty, "
            "false positives ignored (CONVENTIONS §5.2; preset monai).",
            "SMP iou_score: zero_division=1, so two empty masks score 1; MMSeg and HF mean_iou "
            "pool counts per class, then nanmean (CONVENTIONS §5.3; presets smp, mmseg).",
            _EMPTY_PEERS,
            "Checked against scikit-learn, torchmetrics, MONAI and SMP: tests/metrics/test_iou.py.",
        ),
        quiz=Question(
            "What does an IoU of 1.0 mean?",
            (
                "The prediction contains the whole object (it may be larger)",
                "Prediction and ground truth are exactly the same pixels",
                "At least half of the object was found",
                "Both masks are empty",
            ),
            1,
            "IoU = tp / (tp + fp + fn) is 1 only when fp = fn = 0 and tp > 0; a larger "
            "prediction adds fp, and two empty masks give 0 / 0 (NaN by default, not 1).",
        ),
    ),
    Topic(
        key="dice",
        title="Dice similarity coefficient (F1 score of pixels)",
        definition=(
            "Twice the overlap divided by the sizes of the two masks added: the harmonic mean "
            "of pixel precision and recall. It ranks predictions exactly as IoU does (a "
            "monotone function of it) but is larger, so Dice and IoU figures must never be "
            "compared with each other."
        ),
        formula="2*tp / (2*tp + fp + fn)",
        notes=(
            "Range [0, 1]; Dice = 2 IoU / (1 + IoU).",
            "Denominator 0 only when both masks are empty.",
        ),
        peers=(
            "torchmetrics DiceScore: NaN excluded by nanmean; its default average moved from "
            "micro to macro (#3031); GeneralizedDiceScore gives 0 for two empty masks (#2846) "
            "(CONVENTIONS §5.2, §5.3).",
            "MONAI compute_dice, ignore_empty=True: NaN when the target is empty; a mean over "
            "only NaN values is 0 (CONVENTIONS §5.2; preset monai).",
            "MedPy dc: meant to give 1 for two empty masks, NaN with NumPy 2.4.6 "
            "(CONVENTIONS §5.2, §5.6); Metrics Reloaded and miseval DSC: 1; nnU-Net: NaN, "
            "excluded (preset nnunet).",
            "Checked against scikit-learn, torchmetrics, MONAI and SMP: "
            "tests/metrics/test_dice.py.",
        ),
        quiz=Question(
            "A case has Dice 0.8. What is its IoU?",
            ("0.8", "0.667", "0.889", "It cannot be told without the counts"),
            1,
            "IoU = Dice / (2 - Dice) = 0.8 / 1.2 = 0.667 for every case: both are functions "
            "of the same counts.",
        ),
    ),
    Topic(
        key="precision",
        title="precision (positive predictive value)",
        definition=(
            "Of the pixels predicted as the class, the share that truly are: it falls with "
            "false alarms and ignores misses. An empty prediction leaves it undefined."
        ),
        formula="tp / (tp + fp)",
        notes=(
            "Range [0, 1]; precision(pred, target) = recall(target, pred).",
            "Denominator 0 when the prediction is empty (both_empty and prediction_empty).",
        ),
        peers=(
            "scikit-learn precision_score: 0 with a warning when undefined (zero_division); "
            "SMP precision: zero_division=1 (preset smp).",
            "MONAI ConfusionMatrixMetric: counts cast to float32, so tn is inexact above 2^24 "
            "pixels per case (CONVENTIONS §5.6).",
            "Checked against scikit-learn, MONAI and SMP: tests/metrics/test_precision.py.",
        ),
        quiz=Question(
            "The target has an object, the prediction is empty. Precision with segscore's "
            "default empty policy?",
            ("0", "1", "NaN: 0 / 0, left out of means and counted", "-1"),
            2,
            "tp + fp = 0, so precision is 0 / 0; segscore gives the zero-division value "
            "(NaN by default) and reports how many cells it left out. Recall is 0 there.",
        ),
    ),
    Topic(
        key="recall",
        title="recall (sensitivity, true positive rate)",
        definition=(
            "Of the true pixels of the class, the share the prediction found: it falls with "
            "misses and ignores false alarms, so predicting everything gives recall 1."
        ),
        formula="tp / (tp + fn)",
        notes=(
            "Range [0, 1]; aliases sensitivity, tpr.",
            "Denominator 0 when the target is empty (both_empty and target_empty).",
        ),
        peers=(
            "scikit-learn recall_score: 0 with a warning when undefined (zero_division); SMP "
            "recall and sensitivity: zero_division=1 (preset smp).",
            "MONAI ConfusionMatrixMetric 'sensitivity': float32 counts (CONVENTIONS §5.6).",
            "Checked against scikit-learn, MONAI and SMP: tests/metrics/test_recall.py.",
        ),
        quiz=Question(
            "Recall is 1.0 and precision 0.1. What happened?",
            (
                "The object was missed",
                "The whole object was found, with nine times as many extra pixels",
                "Half the object was found",
            ),
            1,
            "Recall 1 means fn = 0 (nothing missed); precision tp / (tp + fp) = 0.1 means "
            "fp = 9 tp.",
        ),
    ),
    Topic(
        key="specificity",
        title="specificity (true negative rate)",
        definition=(
            "Of the true background pixels (for the class), the share left as background. "
            "Background is usually most of the image, so specificity is close to 1 for "
            "almost any prediction of a small object and says little about it."
        ),
        formula="tn / (tn + fp)",
        notes=(
            "Range [0, 1]; alias tnr.",
            "Denominator 0 only when every pixel is the class.",
        ),
        peers=(
            "scikit-learn has no specificity function: it is recall of the other class "
            "(recall_score with pos_label=0); SMP specificity: zero_division=1.",
            "MONAI ConfusionMatrixMetric 'specificity': float32 counts, tn inexact above "
            "2^24 pixels (CONVENTIONS §5.6).",
            "Checked against scikit-learn, MONAI and SMP: tests/metrics/test_specificity.py.",
        ),
        quiz=Question(
            "Why is specificity near 1 for almost any prediction of a small object?",
            (
                "The background (tn) dominates its denominator tn + fp",
                "It ignores the background",
                "It equals recall",
            ),
            0,
            "With thousands of background pixels, a few dozen false positives hardly move "
            "tn / (tn + fp).",
        ),
    ),
    Topic(
        key="accuracy",
        title="accuracy (pixel accuracy for a binary mask)",
        definition=(
            "The share of counted pixels classified correctly for the class, background "
            "included. It stays high when a small object is missed entirely: the seed's "
            "lesson that pixel accuracy hides what IoU and Dice show."
        ),
        formula="(tp + tn) / (tp + fp + fn + tn)",
        notes=(
            "Range [0, 1]; for label maps this is one class against the rest: "
            "segscore.pixel_accuracy is the share of pixels given their true label.",
            "Denominator 0 only when no pixel was counted (all ignored).",
        ),
        peers=(
            "scikit-learn accuracy_score, SMP accuracy, MONAI ConfusionMatrixMetric "
            "'accuracy' (float32 counts, CONVENTIONS §5.6).",
            "Checked against scikit-learn, MONAI and SMP: tests/metrics/test_accuracy.py.",
        ),
        quiz=Question(
            "A 10-pixel object in a 100 x 100 image; the model predicts nothing. Pixel accuracy?",
            ("0", "0.5", "0.999", "NaN"),
            2,
            "9,990 of 10,000 pixels are right (tn), so accuracy is 0.999 while IoU and Dice "
            "are 0: the object was missed.",
        ),
    ),
    Topic(
        key="balanced_accuracy",
        title="balanced accuracy",
        definition=(
            "The mean of recall and specificity: accuracy with the class and its background "
            "weighted equally, whatever their sizes."
        ),
        formula="(tp / (tp + fn) + tn / (tn + fp)) / 2",
        notes=(
            "Range [0, 1]; 0.5 for a prediction of all background or all foreground.",
            "Undefined (empty policy) when the target is empty or all class.",
        ),
        peers=(
            "scikit-learn balanced_accuracy_score (the mean of the per-class recalls), SMP "
            "balanced_accuracy, MONAI ConfusionMatrixMetric 'balanced accuracy'.",
            "Checked against scikit-learn, MONAI and SMP: tests/metrics/test_balanced_accuracy.py.",
        ),
        quiz=Question(
            "Balanced accuracy is the mean of which two numbers?",
            ("Precision and recall", "Recall and specificity", "IoU and Dice"),
            1,
            "(tp / (tp + fn) + tn / (tn + fp)) / 2: the true positive and true negative rates.",
        ),
    ),
    Topic(
        key="mcc",
        title="Matthews correlation coefficient",
        definition=(
            "The correlation between the two masks as binary variables, in [-1, 1]: 1 for "
            "the same masks, 0 for no better than chance, -1 for exactly opposite masks. It "
            "uses all four counts and stays fair when the class is rare."
        ),
        formula="(tp*tn - fp*fn) / sqrt((tp + fp)*(tp + fn)*(tn + fp)*(tn + fn))",
        notes=(
            "Range [-1, 1]; computed in float64 from the exact int64 counts.",
            "Denominator 0 when a row or column of the 2 x 2 table is empty (an empty mask).",
        ),
        peers=(
            "scikit-learn matthews_corrcoef returns 0 where it is undefined; segscore's "
            "default is NaN (src/segscore/metrics/overlap.py).",
            "MONAI ConfusionMatrixMetric 'matthews correlation coefficient' (float32 counts).",
            "Checked against scikit-learn and MONAI: tests/metrics/test_mcc.py.",
        ),
        quiz=Question(
            "What does MCC = 0 mean?",
            (
                "A perfect prediction",
                "No correlation: no better than chance",
                "Every pixel wrong",
            ),
            1,
            "MCC is a correlation: 1 perfect, 0 none, -1 every pixel wrong.",
        ),
    ),
    Topic(
        key="fbeta",
        title="F-beta score",
        definition=(
            "The weighted harmonic mean of precision and recall, recall weighted beta times "
            "as much: F2 punishes misses more than false alarms, F0.5 the reverse, F1 is "
            "Dice."
        ),
        formula="(1 + B^2)*tp / ((1 + B^2)*tp + B^2*fn + fp)",
        notes=(
            "Range [0, 1]; B = beta (f2: 2, f0.5: 0.5, fbeta@B: B).",
            "Denominator 0 only when both masks are empty.",
        ),
        peers=(
            "scikit-learn fbeta_score (zero_division), SMP fbeta_score (zero_division=1).",
            "Metrics Reloaded gives 1 for two empty masks; its preset gives NaN (set "
            "EmptyPolicy(both_empty=1.0)) (docs/conventions.md).",
            "Checked against scikit-learn and SMP: tests/metrics/test_fbeta.py.",
        ),
        quiz=Question(
            "Which F-beta punishes a missed pixel (fn) more than a false alarm (fp)?",
            ("F0.5", "F1", "F2"),
            2,
            "fn is weighted by beta^2 in the denominator: beta > 1 favours recall.",
        ),
    ),
    Topic(
        key="vs",
        title="a volume score (Taha and Hanbury 2015)",
        definition=(
            "How alike the two volumes are, wherever they lie (Taha and Hanbury 2015): a size "
            "score, not an overlap score. Two masks of the same size that do not touch score "
            "1."
        ),
        formula="1 - |fn - fp| / (2*tp + fp + fn)",
        notes=(
            "Range [0, 1]; = 1 - ||P| - |G|| / (|P| + |G|).",
            "Denominator 0 only when both masks are empty.",
        ),
        peers=(
            "SimpleITK LabelOverlapMeasuresImageFilter.GetVolumeSimilarity and seg-metrics vs "
            "give the signed 2 (|P| - |G|) / (|P| + |G|); VS = 1 - |that| / 2 "
            "(src/segscore/metrics/overlap.py).",
            "Checked against SimpleITK: tests/metrics/test_volume_similarity.py.",
        ),
        quiz=Question(
            "Prediction and ground truth have the same number of pixels but do not overlap. VS?",
            ("0", "0.5", "1"),
            2,
            "VS compares sizes only: |fn - fp| = 0 gives 1, while IoU is 0.",
        ),
    ),
    Topic(
        key="ravd",
        title="relative absolute volume difference",
        definition=(
            "How much larger or smaller the prediction is than the target, relative to the "
            "target: |RVD| of (|P| - |G|) / |G|. Lower is better; like VS it ignores where "
            "the pixels lie."
        ),
        formula="|fp - fn| / (tp + fn)",
        notes=(
            "Range [0, inf); 0 for equal sizes.",
            "Denominator 0 when the target is empty (both_empty and target_empty).",
        ),
        peers=(
            "MedPy ravd(result, reference) is the signed (|P| - |G|) / |G|; segscore's 'ravd' "
            "is its absolute value (src/segscore/metrics/overlap.py).",
            "Checked against MedPy: tests/metrics/test_relative_volume_difference.py.",
        ),
        quiz=Question(
            "The prediction contains the target and is twice its size. RAVD?",
            ("0.5", "1", "2"),
            1,
            "(|P| - |G|) / |G| = (2|G| - |G|) / |G| = 1.",
        ),
    ),
)
"""One topic per overlap base name (``f2``, ``f0.5`` and ``fbeta@B`` share ``fbeta``)."""

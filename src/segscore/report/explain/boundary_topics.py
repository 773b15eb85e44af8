"""The boundary family in words: distances between the two masks' borders, and the peers.

Sources: ``CONVENTIONS §5.1`` (HD95 / surface-distance conventions measured on the same masks
with MedPy 0.5.2, surface-distance 0.1, MONAI 1.6.1), ``§5.2`` (empty masks), ``§5.5`` (Boundary
IoU width), beside the project in ``../shared/CONVENTIONS.md``; ``docs/conventions.md``
(presets and definitions); ``tests/metrics/test_<metric>.py`` (segscore's checks).
"""

from __future__ import annotations

from segscore.report.explain.base import Question, Topic

__all__ = ["BOUNDARY_TOPICS"]

_BORDERS = (
    "Border extraction differs: MedPy has a connectivity parameter, MONAI erodes by faces, "
    "seg-metrics uses SimpleITK LabelContour(fullyConnected=True), DeepMind uses half-voxel "
    "surfels (CONVENTIONS §5.1)."
)
_EMPTY = (
    "One mask empty (CONVENTIONS §5.2): MONAI HD inf but HD95 NaN (#9095), torchmetrics inf, "
    "DeepMind inf, Metrics Reloaded NaN, seg-metrics 0 (the best score), MedPy raises."
)

BOUNDARY_TOPICS: tuple[Topic, ...] = (
    Topic(
        key="hd",
        title="Hausdorff distance",
        definition=(
            "The largest distance from a border element of one mask to the nearest border "
            "element of the other, in both directions: the worst boundary error. One stray "
            "pixel far away sets it, which is why percentiles (hd95) exist."
        ),
        formula="HD = max( max d(P->G), max d(G->P) )",
        notes=(
            "d(P->G): for each border element of the prediction P, the distance to the nearest "
            "border element of the target G (Euclidean, in the units of spacing).",
            "Range [0, inf); lower is better; inf when one surface is empty.",
        ),
        peers=(
            "MedPy hd, MONAI compute_hausdorff_distance (percentile=None), torchmetrics "
            "hausdorff_distance (2-D, maximum only), DeepMind compute_robust_hausdorff(., 100).",
            _BORDERS,
            _EMPTY,
            "Checked against MONAI, MedPy, DeepMind surface-distance and torchmetrics: "
            "tests/metrics/test_hausdorff.py.",
        ),
        quiz=Question(
            "One false-positive pixel appears far from the object. Which number moves most?",
            ("HD", "HD95", "Dice"),
            0,
            "HD is a maximum: one element sets it. HD95 drops the farthest 5 % (if the stray "
            "element is fewer than 5 % of the border) and Dice counts one more fp.",
        ),
    ),
    Topic(
        key="hdP",
        title="percentile Hausdorff distance (hd95, hdP)",
        definition=(
            "The P-th percentile of the border distances instead of their maximum, so that a "
            "few outlying elements do not set the score. Which distances the percentile is "
            "taken over, and how it is interpolated, is a convention: the same masks give "
            "HD95 = 1.00, 2.08 or 21.93 in three libraries."
        ),
        formula="HDP = max( percentile_P d(P->G), percentile_P d(G->P) )",
        notes=(
            "segscore's default rule 'max_directed' (linear interpolation), shown above; "
            "'pooled' takes one percentile of both directions' distances together, "
            "'area_weighted' a nearest rank weighted by surfel area (DeepMind).",
            "Range [0, inf); lower is better; hdP <= hd.",
        ),
        peers=(
            "On the same masks (CONVENTIONS §5.1): MedPy hd95 1.00 (pooled), MONAI and "
            "Metrics Reloaded 2.08 (max of the directed p95), DeepMind "
            "compute_robust_hausdorff 21.93 (surfel area weighted, nearest rank).",
            "With one mask empty MONAI gives NaN for HD95 but inf for HD (#9095); "
            "torch.quantile caps at 2^24 elements (CONVENTIONS §5.2, §5.6).",
            _BORDERS,
            "Checked against MONAI, MedPy and DeepMind surface-distance: "
            "tests/metrics/test_hausdorff.py.",
        ),
        quiz=Question(
            "MedPy gives HD95 = 1.00 and MONAI 2.08 on the same masks. Why?",
            (
                "One of them has a bug",
                "MedPy takes one percentile of both directions pooled, MONAI the larger of "
                "the two directed percentiles",
                "They use different spacings",
            ),
            1,
            "Both are right by their definitions (CONVENTIONS §5.1); segscore names the rule "
            "(pooled, max_directed, directed, area_weighted) and records it.",
        ),
    ),
    Topic(
        key="asd",
        title="average surface distance (both directions)",
        definition=(
            "The mean distance from the border of one mask to the other's, in each direction: "
            "two numbers, prediction -> target and target -> prediction. One tells extra "
            "boundary, the other missed boundary."
        ),
        formula="ASD = ( mean d(P->G), mean d(G->P) )",
        notes=(
            "Range [0, inf) each; lower is better.",
            "segscore returns the pair (prediction -> target first); assd and masd combine it.",
        ),
        peers=(
            "DeepMind compute_average_surface_distance gives (target -> prediction, "
            "prediction -> target), its order; MONAI symmetric=False the prediction -> "
            "target mean; MedPy asd(result, reference) likewise (CONVENTIONS §5.1).",
            "Checked against MONAI, MedPy and DeepMind surface-distance: "
            "tests/metrics/test_average_surface_distance.py.",
        ),
        quiz=Question(
            "asd gives two numbers. What are they?",
            (
                "The mean and the maximum distance",
                "The mean distance prediction -> target and target -> prediction",
                "The distance in mm and in pixels",
            ),
            1,
            "The two directed means; their combinations are ASSD (pooled) and MASD (mean).",
        ),
    ),
    Topic(
        key="assd",
        title="average symmetric surface distance (pooled)",
        definition=(
            "The mean of all border distances of both directions together. It weights each "
            "direction by its number of border elements, so it differs from MASD (the mean "
            "of the two directed means) when the two borders differ in length."
        ),
        formula="ASSD = (sum d(P->G) + sum d(G->P)) / (n_P + n_G)",
        notes=(
            "n_P, n_G: border elements (voxels, weight 1; surfels: weighted by area).",
            "Range [0, inf); lower is better; inf when one surface is empty.",
        ),
        peers=(
            "Pooled: MedPy >= 0.5.2 assd, MONAI symmetric=True, Metrics Reloaded assd, "
            "seg-metrics msd; mean of means: Metrics Reloaded masd, MedPy <= 0.4 (MONAI "
            "#3788, MedPy #108/#131; CONVENTIONS §5.1).",
            "On the §5.1 masks: MedPy assd 1.0856 (pooled) vs MASD 1.0710.",
            "Checked against MONAI, MedPy and DeepMind surface-distance: "
            "tests/metrics/test_average_surface_distance.py.",
        ),
        quiz=Question(
            "When do ASSD (pooled) and MASD (mean of the directed means) differ?",
            (
                "Never",
                "When the two borders have different numbers of elements",
                "Only with anisotropic spacing",
            ),
            1,
            "Pooled weights each direction by its element count; with equal counts the two agree.",
        ),
    ),
    Topic(
        key="masd",
        title="mean average surface distance (mean of the two directed means)",
        definition=(
            "The two directed mean border distances averaged with equal weight, however long "
            "each border is (Metrics Reloaded's masd)."
        ),
        formula="MASD = (mean d(P->G) + mean d(G->P)) / 2",
        notes=("Range [0, inf); lower is better; inf when one surface is empty.",),
        peers=(
            "Metrics Reloaded masd and MedPy <= 0.4 assd; DeepMind gives only the two directed "
            "means (CONVENTIONS §5.1; MedPy #108/#131).",
            "Checked against MedPy and DeepMind surface-distance: "
            "tests/metrics/test_average_surface_distance.py.",
        ),
        quiz=Question(
            "A prediction has 100 border elements, all 1 away; the target 10, all 10 away. MASD?",
            ("1.82", "5.5", "10"),
            1,
            "(1 + 10) / 2 = 5.5; pooled ASSD would be (100 + 100) / 110 = 1.82.",
        ),
    ),
    Topic(
        key="nsd",
        title="normalised surface Dice at tolerance T",
        definition=(
            "The share of both borders that lies within T of the other border: a boundary "
            "overlap with a tolerance, in [0, 1], higher is better. T is in the units of "
            "spacing (mm for a scan with a header)."
        ),
        formula="NSD@T = (#{d(P->G) <= T} + #{d(G->P) <= T}) / (n_P + n_G)",
        notes=(
            "Voxel surfaces count elements; surfel surfaces weight them by area.",
            "Range [0, 1]; 0 when one surface is empty.",
        ),
        peers=(
            "DeepMind compute_surface_dice_at_tolerance weights surfels by area; MONAI "
            "compute_surface_dice counts voxels (use_subvoxels=True for surfels): 0.9585 vs "
            "0.9744 at 1 px on the same masks (CONVENTIONS §5.1).",
            "Both masks empty: MONAI NaN, Metrics Reloaded 1 (docs/conventions.md).",
            "Checked against MONAI and DeepMind surface-distance: "
            "tests/metrics/test_surface_dice.py.",
        ),
        quiz=Question(
            "NSD@1 is 1.0. What does it say?",
            (
                "The masks are identical",
                "Every border element of each mask lies within 1 of the other's border",
                "HD is exactly 1",
            ),
            1,
            "NSD counts elements within the tolerance; it says nothing of how far inside it.",
        ),
    ),
    Topic(
        key="biou",
        title="Boundary IoU",
        definition=(
            "IoU of the two masks' inner boundary bands (pixels within W of the background), "
            "so that errors along the outline of a large object are not diluted by its "
            "interior (Cheng et al., CVPR 2021)."
        ),
        formula="BIoU@W = |B(P) & B(G)| / |B(P) | B(G)|,  B(M) = pixels of M within W of the "
        "background",
        notes=(
            "W in pixels (px), spacing units (mm) or a fraction of the image diagonal (diag); "
            "depth chessboard (default) or Euclidean.",
            "Range [0, 1]; 0 when one mask is empty.",
        ),
        peers=(
            "boundary-iou-api (Cheng et al.): W = 2 % of the diagonal, chessboard erosion, "
            "image frame counted as boundary; Metrics Reloaded: W = 1 px, Euclidean; the two "
            "values are not comparable (CONVENTIONS §5.5).",
            "Both masks empty: pycocotools / Boundary IoU 0, Metrics Reloaded 1 "
            "(CONVENTIONS §5.2).",
            "Checked against boundary-iou-api's procedure run on OpenCV: "
            "tests/metrics/test_boundary_iou.py.",
        ),
        quiz=Question(
            "Why does Boundary IoU punish outline errors of a large object more than IoU?",
            (
                "It counts only a band along the border, so the interior cannot dilute them",
                "It uses the Hausdorff distance",
                "It counts the background",
            ),
            0,
            "Mask IoU divides by the whole object; Boundary IoU by the bands only.",
        ),
    ),
)
"""One topic per boundary base (``hd`` without and ``hdP`` with a percentile)."""

"""Presets: every convention of a peer library, so that segscore reproduces its numbers.

A :class:`Preset` fixes the counting conventions it decides (``threshold_comparison``: whether a
probability exactly at the threshold is foreground), the overlap conventions (aggregation rule
of :data:`segscore.metrics.reduce.AGGREGATIONS`, :class:`~segscore.metrics.empty.EmptyPolicy`,
``include_background``) and the boundary conventions (surface model, erosion connectivity,
Hausdorff percentile rule and interpolation, ASSD variant, boundary IoU depth, and the
background rule of distance class means, ``distance_include_background``, which MONAI and
torchmetrics default differently from their overlap metrics). Empty masks take
one :class:`~segscore.metrics.empty.EmptyPolicy` per metric: :meth:`Preset.empty_for` looks up the
metric's exact name, then ``'hdP'`` for any Hausdorff percentile, then its base name, then the
family default (``empty`` for overlap metrics, ``boundary_empty`` for boundary metrics).
``overlap_kwargs()`` feeds :func:`segscore.score`, ``distance_kwargs()`` and ``empty_for()``
feed :func:`~segscore.metrics.boundary.distance_metrics`.

Object-level (instance) conventions live in the same preset, as an :class:`InstanceConventions`
in ``Preset.instance``: the matching rule, criterion and threshold comparison, the aggregation over
images, one :class:`~segscore.metrics.empty.EmptyPolicy` per instance metric, the library's AJI
variant and the connectivity of its connected components. They feed
:func:`~segscore.metrics.instance.instance_scores` (``preset=name``). Panoptic input (``pq``,
``sq``, ``rq`` per class, then their means over classes) takes ``panoptic_empty`` where it is set,
and segscore's default is :data:`PANOPTIC_EMPTY` (panopticapi's). Libraries of objects only
(``stardist``, ``panoptica``, ``cellpose``, ``coco``) carry segscore's pixel defaults with
``has_overlap=False`` and ``has_distance=False``; pixel libraries without object metrics have
``instance=None``.

The full table, with the peer function each row reproduces and the tests that check it, is in
``docs/conventions.md``. Libraries without distance metrics (``mmseg``, ``nnunet``, ``smp``)
carry segscore's distance defaults and ``has_distance=False``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from segscore._types import (
    AGGREGATIONS,
    COMPARISONS,
    CONNECTIVITIES,
    CRITERIA,
    DEFAULT_AGGREGATION,
    MATCHINGS,
    Aggregation,
    AssdVariant,
    BoundaryMetric,
    Comparison,
    Connectivity,
    Criterion,
    MatchingRule,
    PercentileRule,
    SurfaceModel,
)
from segscore._validation import check_option, fail
from segscore.metrics.empty import EmptyPolicy, lookup_policy
from segscore.metrics.registry import MetricSpec, _parse_or_none

__all__ = ["PANOPTIC_EMPTY", "PRESETS", "InstanceConventions", "Preset", "get_preset"]

NAN = math.nan
INF = math.inf

_DISTANCES = ("hd", "asd", "assd", "masd")


def _distances(policy: EmptyPolicy) -> dict[str, EmptyPolicy]:
    """Return the same policy for every distance metric (the base names hd, asd, assd, masd)."""
    return dict.fromkeys(_DISTANCES, policy)


@dataclass(frozen=True, slots=True)
class InstanceConventions:
    """The object-level conventions of one library (the ``instance`` part of a :class:`Preset`).

    Attributes
    ----------
    library : str
        The functions (and version) whose numbers these conventions reproduce.
    matching : {'optimal', 'greedy', 'unique'}
        Matching rule (:mod:`segscore.metrics.instance.matching`).
    comparison : {'>=', '>'}
        Whether a pair scoring exactly the threshold matches.
    aggregation : str
        ``'pooled'`` (counts summed over images first) or a per-image rule (the mean of the
        per-image values), in the names of :data:`segscore.metrics.reduce.AGGREGATIONS`.
    criterion : {'iou', 'dice', 'iop', 'iot'}, default 'iou'
        The pair score the threshold applies to.
    empty : EmptyPolicy
        The policy of every instance ratio metric without its own.
    metric_empty : dict of str to EmptyPolicy
        Per-metric policies, keyed by exact name (``'sq@0.5'``) or base name (``'sq'``).
    panoptic_empty : dict of str to EmptyPolicy or None
        The policies of ``pq``, ``sq`` and ``rq`` per class of panoptic input
        (:func:`~segscore.metrics.instance.panoptic.panoptic_scores`, ``evaluate --panoptic``),
        where the library's class means differ from its per-image values; None: those of the
        object metrics (:meth:`panoptic_empty_for`).
    aji : str or None
        The registry name of the library's aggregated Jaccard index (``'aji_cellpose'``), or
        None when it has none.
    connectivity_2d, connectivity_3d : {'face', 'full'} or None
        The connectivity of the library's connected components (masks to objects) in 2-D and
        3-D; None when it labels no components.
    notes : str
        What the preset does not reproduce.

    Examples
    --------
    >>> from segscore.metrics.registry import get_metric
    >>> c = get_preset("panoptica").instance
    >>> c.matching, c.comparison, c.empty_for(get_metric("sq")).zero_division
    ('greedy', '>=', 0.0)
    >>> c.connectivity_for(2), c.connectivity_for(3)
    ('face', 'full')
    """

    library: str
    matching: MatchingRule
    comparison: Comparison
    aggregation: Aggregation
    criterion: Criterion = "iou"
    empty: EmptyPolicy = field(default_factory=EmptyPolicy)
    metric_empty: Mapping[str, EmptyPolicy] = field(default_factory=dict)
    aji: str | None = None
    connectivity_2d: Connectivity | None = None
    connectivity_3d: Connectivity | None = None
    notes: str = ""
    panoptic_empty: Mapping[str, EmptyPolicy] | None = None

    def __post_init__(self) -> None:
        check_option("matching", self.matching, MATCHINGS)
        check_option("comparison", self.comparison, COMPARISONS)
        check_option("criterion", self.criterion, CRITERIA)
        check_option("aggregation", self.aggregation, AGGREGATIONS)
        for name in ("connectivity_2d", "connectivity_3d"):
            value = getattr(self, name)
            if value is not None:
                check_option(name, value, CONNECTIVITIES)

    def empty_for(self, spec: MetricSpec) -> EmptyPolicy:
        """Return the empty policy of an instance metric (exact name, base name, default)."""
        found = lookup_policy(self.metric_empty, spec.name, spec.base, False)
        return self.empty if found is None else found

    def panoptic_empty_for(self, spec: MetricSpec) -> EmptyPolicy:
        """Return the policy of ``pq``, ``sq`` or ``rq`` per class of panoptic input.

        Examples
        --------
        >>> from segscore.metrics.registry import get_metric
        >>> sq = get_metric("sq")
        >>> get_preset("torchmetrics").instance.panoptic_empty_for(sq).as_dict()
        {'zero_division': 0.0, 'both_empty': nan, 'target_empty': None, 'prediction_empty': None}
        >>> get_preset("monai").instance.panoptic_empty_for(sq) == get_preset("monai").instance.empty
        True
        """
        if self.panoptic_empty is not None:
            found = lookup_policy(self.panoptic_empty, spec.name, spec.base, False)
            if found is not None:
                return found
        return self.empty_for(spec)

    def connectivity_for(self, spatial_dims: int) -> Connectivity | None:
        """Return the connectivity of the library's components in 2-D or 3-D (None: none)."""
        return self.connectivity_3d if spatial_dims >= 3 else self.connectivity_2d

    def as_dict(self) -> dict[str, Any]:
        """Return every convention as a JSON-friendly dict."""
        return {
            "library": self.library,
            "matching": self.matching,
            "criterion": self.criterion,
            "comparison": self.comparison,
            "aggregation": self.aggregation,
            "empty": self.empty.as_dict(),
            "metric_empty": {k: v.as_dict() for k, v in self.metric_empty.items()},
            "aji": self.aji,
            "connectivity_2d": self.connectivity_2d,
            "connectivity_3d": self.connectivity_3d,
            "notes": self.notes,
            "panoptic_empty": (
                None
                if self.panoptic_empty is None
                else {k: v.as_dict() for k, v in self.panoptic_empty.items()}
            ),
        }


@dataclass(frozen=True, slots=True)
class Preset:
    """The conventions of one library.

    Attributes
    ----------
    name : str
        Preset name.
    library : str
        The library and version whose numbers the preset reproduces.
    aggregation : str
        Overlap aggregation rule (:data:`segscore.metrics.reduce.AGGREGATIONS`).
    metric_aggregation : dict of str to str
        Per-metric rules where the library's metrics disagree (torchmetrics: ``DiceScore``
        averages each image over classes first, ``MeanIoU`` pools the image x class cells).
    empty : EmptyPolicy
        Overlap empty policy (the overlap family default).
    include_background : bool
        Whether class 0 enters overlap means.
    threshold_comparison : {'>=', '>'}
        Whether a probability exactly at the threshold is foreground (``'>='``: SMP, MONAI) or
        not (``'>'``: torchmetrics' ``preds > threshold``); the counting options' default when
        they leave it unchosen.
    distance_include_background : bool or None
        Whether class 0 enters boundary metrics' class means (MONAI's distance metrics and
        torchmetrics' ``hausdorff_distance`` default to False where their Dice/IoU default to
        True); None: the same as ``include_background``. :attr:`distance_background` resolves it.
    metric_empty : dict of str to EmptyPolicy
        Per-metric policies, keyed by exact name (``'hd95'``), ``'hdP'`` (every Hausdorff
        percentile) or base name (``'hd'``, ``'nsd'``, ``'iou'``); MedPy's ``dc`` and ``jc``
        disagree, MONAI's HD and HD95 too.
    boundary_empty : EmptyPolicy
        The boundary family default (the natural values of :mod:`segscore.metrics.empty`).
    surface, connectivity, rule, interpolation, assd_variant, boundary_metric
        Boundary conventions (:mod:`segscore.metrics.boundary`).
    has_distance : bool
        Whether the library defines boundary metrics at all.
    has_overlap : bool
        Whether the library defines pixel overlap metrics at all (False: the overlap fields
        hold segscore's defaults).
    instance : InstanceConventions or None
        The object-level conventions, for libraries with instance metrics.
    notes : str
        Quirks the preset cannot reproduce.

    Examples
    --------
    >>> p = get_preset("medpy")
    >>> p.distance_kwargs()["rule"], p.overlap_kwargs("iou")["empty"].zero_division
    ('pooled', 1.0)
    >>> from segscore.metrics.registry import get_metric
    >>> get_preset("monai").empty_for(get_metric("hd95")).target_empty
    nan
    >>> p = get_preset("stardist")
    >>> p.has_overlap, p.has_distance, p.instance.matching, p.empty_for(get_metric("pq")).zero_division
    (False, False, 'optimal', 0.0)
    >>> p = get_preset("monai")
    >>> p.include_background, p.distance_background, p.threshold_comparison
    (True, False, '>=')
    >>> get_preset("torchmetrics").threshold_comparison
    '>'
    """

    name: str
    library: str
    aggregation: Aggregation
    empty: EmptyPolicy
    include_background: bool
    surface: SurfaceModel = "voxel"
    connectivity: int = 1
    rule: PercentileRule = "max_directed"
    interpolation: str = "linear"
    assd_variant: AssdVariant = "pooled"
    boundary_empty: EmptyPolicy = field(default_factory=EmptyPolicy)
    boundary_metric: BoundaryMetric = "chessboard"
    has_distance: bool = True
    metric_empty: Mapping[str, EmptyPolicy] = field(default_factory=dict)
    metric_aggregation: Mapping[str, Aggregation] = field(default_factory=dict)
    notes: str = ""
    has_overlap: bool = True
    instance: InstanceConventions | None = None
    threshold_comparison: Comparison = ">="
    distance_include_background: bool | None = None

    def __post_init__(self) -> None:
        check_option("threshold_comparison", self.threshold_comparison, COMPARISONS)

    @property
    def distance_background(self) -> bool:
        """Whether class 0 enters boundary metrics' class means (``distance_include_background``)."""
        if self.distance_include_background is None:
            return self.include_background
        return self.distance_include_background

    def aggregation_for(self, metric: str) -> Aggregation:
        """Return the aggregation rule of a metric (its own rule, else the preset's).

        Examples
        --------
        >>> p = get_preset("torchmetrics")
        >>> p.aggregation_for("dice"), p.aggregation_for("iou")
        ('classes_then_images', 'per_image_per_class')
        """
        spec = _parse_or_none(metric)
        if spec is not None:
            for key in (spec.name, spec.base):
                if key in self.metric_aggregation:
                    return self.metric_aggregation[key]
        return self.aggregation

    def empty_for(self, spec: MetricSpec) -> EmptyPolicy:
        """Return the empty policy of a metric (exact name, ``'hdP'``, base name, family default).

        Instance metrics take the policy of :attr:`instance` (NaN by default when the library
        has no object-level conventions).

        Examples
        --------
        >>> from segscore.metrics.registry import get_metric
        >>> dm = get_preset("deepmind")
        >>> dm.empty_for(get_metric("hd99")).both_empty, dm.empty_for(get_metric("hd")).both_empty
        (inf, None)
        """
        if spec.kind == "instance":
            return EmptyPolicy() if self.instance is None else self.instance.empty_for(spec)
        found = lookup_policy(
            self.metric_empty,
            spec.name,
            spec.base,
            spec.base == "hd" and "percentile" in spec.params,
        )
        if found is not None:
            return found
        return self.empty if spec.kind == "overlap" else self.boundary_empty

    def overlap_kwargs(self, metric: str | None = None) -> dict[str, Any]:
        """Keyword arguments for :func:`segscore.score` (``metric`` picks a per-metric policy)."""
        empty = self.empty
        spec = _parse_or_none(metric) if isinstance(metric, str) else None
        if spec is not None and spec.kind == "overlap":
            empty = self.empty_for(spec)
        return {
            "aggregation": self.aggregation if metric is None else self.aggregation_for(metric),
            "empty": empty,
            "include_background": self.include_background,
        }

    def distance_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`~segscore.metrics.boundary.distance_metrics`."""
        return {
            "include_background": self.distance_background,
            "threshold_comparison": self.threshold_comparison,
            "surface": self.surface,
            "connectivity": self.connectivity,
            "rule": self.rule,
            "interpolation": self.interpolation,
            "assd_variant": self.assd_variant,
            "boundary_metric": self.boundary_metric,
        }

    def as_dict(self) -> dict[str, Any]:
        """Return every convention as a JSON-friendly dict."""
        return {
            "name": self.name,
            "library": self.library,
            "aggregation": self.aggregation,
            "empty": self.empty.as_dict(),
            "metric_empty": {k: v.as_dict() for k, v in self.metric_empty.items()},
            "metric_aggregation": dict(self.metric_aggregation),
            "include_background": self.include_background,
            "threshold_comparison": self.threshold_comparison,
            "distance_include_background": self.distance_background,
            "surface": self.surface,
            "connectivity": self.connectivity,
            "rule": self.rule,
            "interpolation": self.interpolation,
            "assd_variant": self.assd_variant,
            "boundary_empty": self.boundary_empty.as_dict(),
            "boundary_metric": self.boundary_metric,
            "has_distance": self.has_distance,
            "has_overlap": self.has_overlap,
            "instance": None if self.instance is None else self.instance.as_dict(),
            "notes": self.notes,
        }


_ZERO = EmptyPolicy(zero_division=0.0)

PANOPTIC_EMPTY: Mapping[str, EmptyPolicy] = {
    "pq": EmptyPolicy(),
    "sq": EmptyPolicy(zero_division=0.0, both_empty=NAN),
    "rq": EmptyPolicy(),
}
"""The default policies of ``pq``, ``sq`` and ``rq`` per class of panoptic input: panopticapi's
``pq_average`` (and torchmetrics'). A class with segments but no match has SQ 0 (``iou / tp if tp
!= 0 else 0``) and counts in the class means; a class without any segment (every ratio 0 / 0) is
NaN, left out of the means and counted, where those libraries report 0 and leave it out."""

_MONAI_OBJECTS = InstanceConventions(
    "MONAI 1.6 (compute_panoptic_quality; PanopticQualityMetric, reduction='mean_batch')",
    matching="unique",
    comparison=">",
    aggregation="pooled",
    empty=_ZERO,
    notes="MONAI adds smooth_numerator=1e-6 to every denominator: its values are segscore's "
    "exact ratios times ~(1 - 1e-6 / denominator) (identical objects give 0.999999), and "
    "0 where segscore divides 0 by 0. Its 'mean_batch' averages the counts of the images "
    "(the pooled ratio). Below IoU 0.5 MONAI matches by the largest IoU sum (Hungarian), "
    "then keeps pairs > t: no segscore rule ('unique' refuses thresholds < 0.5; 'optimal' "
    "maximises the number of matches first). IoU in float32. Panoptic input: "
    "PanopticQualityMetric(num_classes=C) scores the classes 1..C (0 is its background: "
    "declare it a stuff) and gives every class a value, 0 without a match or a segment; the "
    "preset keeps those zeros, so the mean over the things equals the mean of its per-class "
    "output.",
)

_TORCHMETRICS_OBJECTS = InstanceConventions(
    "torchmetrics 1.9 (detection.PanopticQuality, functional panoptic_quality; the thing "
    "class's row with return_per_class=True)",
    matching="unique",
    comparison=">",
    aggregation="pooled",
    empty=_ZERO,
    notes="The threshold is fixed at 0.5 (pq, sq, rq only). torchmetrics averages PQ over "
    "categories, background included when it is declared a stuff: read the thing row "
    "(return_per_class=True), which is segscore's number; its average over categories skips "
    "categories without any segment, where segscore's per-class value is 0. Panoptic input "
    "(panoptic_empty): such a category is NaN here (left out and counted; 0 in torchmetrics' "
    "per-class output), a category with segments but no match has SQ 0, so the class means "
    "equal torchmetrics' pq, sq and rq.",
    panoptic_empty=PANOPTIC_EMPTY,
)

_STARDIST_OBJECTS = InstanceConventions(
    "StarDist 0.9.2 (stardist.matching.matching, matching_dataset with by_image=False)",
    matching="optimal",
    comparison=">=",
    aggregation="pooled",
    empty=_ZERO,
    notes="Every empty case gives 0 (precision, recall, f1, accuracy = dsb, "
    "mean_matched_score = sq, panoptic_quality = pq). matching_dataset(by_image=True) is "
    "the per-image mean: pass aggregation='images_then_classes', matching='optimal', "
    "empty=0.0 without the preset. Among matchings of the most pairs StarDist prefers the "
    "largest IoU sum of every assigned pair, passing or not; segscore that of the matched "
    "pairs: below IoU 0.5 the matched pairs (so sq and pq, never the counts) can differ. "
    "IoU and threshold in float32.",
)

_PANOPTICA_OBJECTS = InstanceConventions(
    "panoptica 2.1.7 (Panoptica_Evaluator, InputType.UNMATCHED_INSTANCE or SEMANTIC with "
    "ConnectedComponentsInstanceApproximator, NaiveThresholdMatching; cases averaged by "
    "Panoptica_Statistic)",
    matching="greedy",
    comparison=">=",
    aggregation=DEFAULT_AGGREGATION,
    empty=EmptyPolicy(),
    # its edge-case handler: IoU-based sq is 0 whenever tp == 0, NaN without any instance
    metric_empty={"sq": EmptyPolicy(zero_division=0.0, both_empty=NAN)},
    connectivity_2d="face",
    connectivity_3d="full",
    notes="prec (precision) and rec (recall) raise ZeroDivisionError when their denominator "
    "is 0; segscore gives NaN. panoptica down-casts labels to the smallest unsigned dtype, "
    "then max(label) + 1 wraps to 0 when an id equals its maximum (255, 65535): such cases "
    "are silently wrong there (TP lost), right here. Its mean over cases is np.average "
    "(a NaN case makes the mean NaN); segscore skips NaN cases and counts them. "
    "strict_threshold=True is comparison '>'; MaxBipartiteMatching maximises the IoU sum "
    "and MaximizeMergeMatching merges predictions: neither is reproduced.",
)

_CELLPOSE_OBJECTS = InstanceConventions(
    "cellpose 4.2.1.1 (cellpose.metrics.average_precision, aggregated_jaccard_index)",
    matching="optimal",
    comparison=">=",
    aggregation=DEFAULT_AGGREGATION,
    empty=EmptyPolicy(),
    aji="aji_cellpose",
    notes="Its 'ap' is TP / (TP + FP + FN) per image and threshold (segscore's dsb@T); it "
    "returns per-image arrays, averaged here over images (NaN skipped; np.mean would give "
    "NaN). Thresholds are compared as given in float64: np.arange spellings "
    "(0.6000000000000001) lose exact ties there, not here (thresholds are read as "
    "decimals). It needs ids 1..n in practice (a dense (max id + 1)^2 matrix) and raises on "
    "uint16 id 65535 (max() + 1 wraps).",
)

_COCO_OBJECTS = InstanceConventions(
    "pycocotools 2.0.11 (COCOeval iouType='segm': evaluateImg matching; recall "
    "eval['recall'] with area 'all')",
    matching="greedy",
    comparison=">=",
    aggregation="pooled",
    empty=EmptyPolicy(),
    notes="COCO matches detections in decreasing score order, each taking its best unmatched "
    "target (ties: the last); label maps carry no scores, so segscore's greedy (by decreasing "
    "IoU) stands in: the same counts at thresholds >= 0.5, where matches are unique up to "
    "exact ties. Its thresholds np.linspace(.5, .95, 10) include 0.8999999999999999, the same "
    "as 0.9 for every IoU of a pixel grid. Undefined values are -1 in COCO (no target: "
    "recall; no detection: precision), NaN here; loadRes([]) raises IndexError when no "
    "image has a detection. AP and AR over detection scores are coco_scores "
    "(segscore.metrics.instance.coco_metrics), which matches by score as COCO does.",
)


def _objects_only(name: str, instance: InstanceConventions) -> Preset:
    """Return the preset of a library of object metrics only (pixel fields: segscore defaults)."""
    return Preset(
        name,
        instance.library,
        aggregation=DEFAULT_AGGREGATION,
        empty=EmptyPolicy(),
        include_background=True,
        has_distance=False,
        has_overlap=False,
        instance=instance,
        notes="Object-level conventions only (Preset.instance); no pixel metrics.",
    )


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "monai",
            "MONAI 1.6 (DiceMetric/MeanIoU ignore_empty=True, reduction='mean'; "
            "compute_hausdorff_distance, compute_average_surface_distance symmetric=True, "
            "compute_surface_dice)",
            aggregation="classes_then_images",
            empty=EmptyPolicy(target_empty=NAN),
            include_background=True,
            rule="max_directed",
            assd_variant="pooled",
            metric_empty={
                # MONAI: HD inf with one mask empty, but HD95 NaN (#9095); directed ASD inf.
                "hdP": EmptyPolicy(target_empty=NAN, prediction_empty=NAN),
                "asd": EmptyPolicy(target_empty=INF, prediction_empty=INF),
            },
            notes="MONAI's aggregate gives 0 when every value is NaN; segscore gives NaN. "
            "MONAI distances are float32 (agreement to ~1e-7 relative). percentile=0 means max "
            "in MONAI (`if not percentile`). Its distance metrics (HausdorffDistanceMetric, "
            "SurfaceDistanceMetric, SurfaceDiceMetric) default to include_background=False, "
            "its DiceMetric/MeanIoU to True. AsDiscrete(threshold=t) keeps p >= t.",
            instance=_MONAI_OBJECTS,
            distance_include_background=False,
        ),
        Preset(
            "medpy",
            "MedPy 0.5.2 (metric.binary hd, hd95, asd, assd, dc, jc)",
            aggregation="per_image_per_class",
            empty=EmptyPolicy(),
            include_background=True,
            metric_empty={
                "iou": EmptyPolicy(zero_division=1.0),
                **_distances(EmptyPolicy(target_empty=NAN, prediction_empty=NAN)),
            },
            rule="pooled",
            assd_variant="pooled",
            notes="MedPy raises RuntimeError on any empty mask; the preset returns NaN (counted). "
            "dc of two empty masks is NaN under NumPy 2 (observed), jc is 1.",
        ),
        Preset(
            "deepmind",
            "DeepMind surface-distance 0.1 (compute_surface_distances, compute_robust_hausdorff, "
            "compute_average_surface_distance, compute_surface_dice_at_tolerance)",
            aggregation="per_image_per_class",
            empty=EmptyPolicy(),
            include_background=True,
            surface="surfel",
            rule="area_weighted",
            assd_variant="mean_of_means",
            # compute_robust_hausdorff gives inf for two empty surfaces; the rest is natural:
            # asd (inf, NaN) in DeepMind's order when the prediction is empty, NSD 0 / NaN.
            metric_empty={"hdP": EmptyPolicy(both_empty=INF)},
            notes="DeepMind gives no symmetric ASSD (average_surface_distance gives its two "
            "directed values, in reverse order). Under NumPy 2 it raises on an empty surface "
            "(np.Inf); the values shown are those of its code under NumPy 1.",
        ),
        Preset(
            "metrics-reloaded",
            "Metrics Reloaded (MetricsReloaded.metrics.pairwise_measures and "
            "processes.overall_process.ProcessEvaluation; code reading)",
            aggregation="classes_then_images",
            empty=EmptyPolicy(),
            include_background=False,
            metric_empty={
                "dice": EmptyPolicy(both_empty=1.0),
                **_distances(
                    EmptyPolicy(zero_division=0.0, target_empty=NAN, prediction_empty=NAN)
                ),
                "nsd": EmptyPolicy(zero_division=1.0),
                "biou": EmptyPolicy(zero_division=1.0),
            },
            rule="max_directed",
            assd_variant="pooled",
            boundary_metric="euclidean",
            notes="Not installed here: checked against numbers worked out from its code. "
            "'masd' gives its MASD. Boundary IoU uses d = 1 px, Euclidean ('biou@1px').",
        ),
        Preset(
            "torchmetrics",
            "torchmetrics 1.9 (MeanIoU, DiceScore, GeneralizedDiceScore, "
            "functional.segmentation.hausdorff_distance)",
            aggregation="per_image_per_class",
            metric_aggregation={"dice": "classes_then_images"},
            empty=EmptyPolicy(),
            include_background=True,
            rule="max_directed",
            notes="MeanIoU pools the image x class cells (per_image_per_class); DiceScore "
            "(average='macro') averages each image over its classes first (classes_then_images). "
            "MeanIoU(per_class=True) reports -1 for a class absent from prediction and target in "
            "every image; segscore reports NaN there (excluded and counted), and the means agree. "
            "torchmetrics has only the maximum HD, 2-D only; it raises when both masks are "
            "empty and misplaces distances on non-square crops (z[i * h + j]). Probabilities "
            "are foreground where preds > threshold (stat_scores' _binary_stat_scores_format), "
            "so p == threshold is background; hausdorff_distance defaults to "
            "include_background=False, MeanIoU/DiceScore to True.",
            instance=_TORCHMETRICS_OBJECTS,
            threshold_comparison=">",
            distance_include_background=False,
        ),
        Preset(
            "mmseg",
            "MMSegmentation IoUMetric / HF evaluate mean_iou (dataset-pooled per class)",
            aggregation="pooled",
            empty=EmptyPolicy(),
            include_background=True,
            has_distance=False,
            notes="No boundary metrics: segscore defaults. Also HF evaluate's mean_iou.",
        ),
        Preset(
            "nnunet",
            "nnU-Net v2 evaluation (per-class nanmean over cases, then mean over foreground)",
            aggregation="images_then_classes",
            empty=EmptyPolicy(),
            include_background=False,
            has_distance=False,
            notes="No boundary metrics: segscore defaults. A label empty in both masks of every "
            "case: nnU-Net's foreground_mean is NaN (np.mean); segscore skips the NaN class.",
        ),
        Preset(
            "smp",
            "segmentation_models_pytorch 0.6 metrics (reduction='micro-imagewise', "
            "zero_division=1.0)",
            aggregation="per_image_micro",
            empty=EmptyPolicy(zero_division=1.0),
            include_background=True,
            has_distance=False,
            notes="SMP's other reductions: 'micro' = pooled_micro (NaN on zero division), "
            "'macro' = pooled, 'macro-imagewise' = images_then_classes.",
        ),
        _objects_only("stardist", _STARDIST_OBJECTS),
        _objects_only("panoptica", _PANOPTICA_OBJECTS),
        _objects_only("cellpose", _CELLPOSE_OBJECTS),
        _objects_only("coco", _COCO_OBJECTS),
    )
}
"""Every preset by name (``docs/conventions.md`` has the table)."""

_ALIASES = {
    "mr": "metrics-reloaded",
    "metrics_reloaded": "metrics-reloaded",
    "metricsreloaded": "metrics-reloaded",
    "hf": "mmseg",
    "evaluate": "mmseg",
    "mmsegmentation": "mmseg",
    "surface-distance": "deepmind",
    "segmentation_models_pytorch": "smp",
    "pycocotools": "coco",
}


def get_preset(name: str, *, option: str = "preset") -> Preset:
    """Return the preset named ``name`` (aliases such as ``'mr'`` and ``'hf'`` accepted).

    ``option`` is the argument's name in the error message (``'--preset'`` on the command line).

    Examples
    --------
    >>> get_preset("deepmind").surface
    'surfel'
    >>> get_preset("sklearn")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `preset` must be one of 'monai', 'medpy', 'deepmind', 'metrics-reloaded', 'torchmetrics', 'mmseg', 'nnunet', 'smp', 'stardist', 'panoptica', 'cellpose', 'coco', got 'sklearn'.
    """
    key = name.lower() if isinstance(name, str) else name
    key = _ALIASES.get(key, key) if isinstance(key, str) else key
    if isinstance(key, str) and key in PRESETS:
        return PRESETS[key]
    options = ", ".join(repr(n) for n in PRESETS)
    fail(f"`{option}` must be one of {options}, got {name!r}.")

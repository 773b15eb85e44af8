"""Instance (object-level) metrics, pure numpy and scipy.

- :mod:`.table`: :func:`overlap_table`, the exact sparse overlap table of each image, from which
  everything else is computed;
- :mod:`.components`: :func:`label_components`, masks to objects by connected components;
- :mod:`.matching`: :func:`match_instances`, one-to-one matching as named conventions
  (``matching``, ``criterion``, ``comparison``; exact thresholds);
- :mod:`.aji`: :func:`aggregated_jaccard`, the aggregated Jaccard index (Kumar, AJI+, cellpose's);
- :mod:`.metrics`: :func:`instance_scores`, F1, precision, recall, the DSB2018 score and its
  sweep, PQ, SQ, RQ and the AJIs, aggregated, with the empty cases of every family and the
  conventions of a preset (``preset='stardist'``...);
- :mod:`.coco`: :func:`coco_evaluate`, COCO mask AP and AR (pycocotools' definition) from the
  same tables and one detection score per predicted object; :mod:`.coco_metrics`:
  :func:`coco_scores`, its registry names (``ap``, ``ap@0.5``, ``ar100``...) as scores;
- :mod:`.detection_scores`: :func:`object_scores`, those scores from a probability map;
- :mod:`.evaluator`: :class:`InstanceEvaluator`, the streaming accumulator (exact merges).
- :mod:`.lesion`: :func:`lesion_scores`, BraTS 2023 lesion-wise Dice and HD95 from masks;
- :mod:`.panoptic`: :func:`panoptic_scores`, PQ, SQ and RQ per class of (class map, instance
  map) pairs with things, stuffs and void.
"""

from typing import TYPE_CHECKING

from segscore._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and readers; at run time each on first use
    from segscore.metrics.instance.aji import aggregated_jaccard
    from segscore.metrics.instance.coco import CocoEvaluation, coco_evaluate
    from segscore.metrics.instance.coco_metrics import coco_score_tables, coco_scores
    from segscore.metrics.instance.components import label_components
    from segscore.metrics.instance.detection_scores import object_scores
    from segscore.metrics.instance.evaluator import InstanceEvaluator
    from segscore.metrics.instance.lesion import LesionTable, lesion_scores, lesion_tables
    from segscore.metrics.instance.matching import Matching, match, match_instances
    from segscore.metrics.instance.metrics import (
        InstanceCounts,
        instance_counts,
        instance_scores,
        score_tables,
    )
    from segscore.metrics.instance.panoptic import panoptic_scores
    from segscore.metrics.instance.table import OverlapTable, overlap_table

__all__ = [
    "CocoEvaluation",
    "InstanceCounts",
    "InstanceEvaluator",
    "LesionTable",
    "Matching",
    "OverlapTable",
    "aggregated_jaccard",
    "coco_evaluate",
    "coco_score_tables",
    "coco_scores",
    "instance_counts",
    "instance_scores",
    "label_components",
    "lesion_scores",
    "lesion_tables",
    "match",
    "match_instances",
    "object_scores",
    "overlap_table",
    "panoptic_scores",
    "score_tables",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "segscore.metrics.instance.aji": ("aggregated_jaccard",),
        "segscore.metrics.instance.coco": (
            "CocoEvaluation",
            "coco_evaluate",
        ),
        "segscore.metrics.instance.coco_metrics": (
            "coco_score_tables",
            "coco_scores",
        ),
        "segscore.metrics.instance.components": ("label_components",),
        "segscore.metrics.instance.detection_scores": ("object_scores",),
        "segscore.metrics.instance.evaluator": ("InstanceEvaluator",),
        "segscore.metrics.instance.lesion": (
            "LesionTable",
            "lesion_scores",
            "lesion_tables",
        ),
        "segscore.metrics.instance.matching": (
            "Matching",
            "match",
            "match_instances",
        ),
        "segscore.metrics.instance.metrics": (
            "InstanceCounts",
            "instance_counts",
            "instance_scores",
            "score_tables",
        ),
        "segscore.metrics.instance.panoptic": ("panoptic_scores",),
        "segscore.metrics.instance.table": (
            "OverlapTable",
            "overlap_table",
        ),
    },
)

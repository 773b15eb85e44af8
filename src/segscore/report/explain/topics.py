"""Every topic by key, and the topic of each name of the registry."""

from __future__ import annotations

from segscore.metrics.registry import MetricSpec
from segscore.report.explain.base import Topic
from segscore.report.explain.boundary_topics import BOUNDARY_TOPICS
from segscore.report.explain.coco_topics import COCO_TOPICS
from segscore.report.explain.instance_topics import INSTANCE_TOPICS
from segscore.report.explain.lesion_topics import LESION_TOPICS
from segscore.report.explain.overlap_topics import OVERLAP_TOPICS

__all__ = ["TOPICS", "topic_key"]

TOPICS: dict[str, Topic] = {
    t.key: t
    for t in (*OVERLAP_TOPICS, *BOUNDARY_TOPICS, *INSTANCE_TOPICS, *LESION_TOPICS, *COCO_TOPICS)
}
"""The topics by key."""

_INSTANCE_KEYS = {
    "f1": "object_f1",
    "precision": "object_precision",
    "recall": "object_recall",
    "aji+": "aji",
    "aji_cellpose": "aji",
    "tp": "object_counts",
    "fp": "object_counts",
    "fn": "object_counts",
    "ap": "coco_ap",
    "ar": "coco_ar",
    "lesion_tp": "lesion_counts",
    "lesion_fp": "lesion_counts",
    "lesion_fn": "lesion_counts",
}


def topic_key(spec: MetricSpec) -> str:
    """Return the key of the topic that explains ``spec``.

    Examples
    --------
    >>> from segscore.metrics.registry import get_metric
    >>> [topic_key(get_metric(n)) for n in ("f2", "hd95", "hd", "precision", "precision@0.5")]
    ['fbeta', 'hdP', 'hd', 'precision', 'object_precision']
    >>> [topic_key(get_metric(n)) for n in ("ap@0.5_small", "ar10", "lesion_dice", "lesion_fp")]
    ['coco_ap', 'coco_ar', 'lesion_dice', 'lesion_counts']
    """
    if spec.kind == "instance":
        return _INSTANCE_KEYS.get(spec.base, spec.base)
    if spec.kind == "boundary" and spec.base == "hd" and "percentile" in spec.params:
        return "hdP"
    if spec.kind == "overlap" and spec.base in ("f2", "f0.5"):
        return "fbeta"
    return spec.base

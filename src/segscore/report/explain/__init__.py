"""``segscore explain METRIC``: what a metric of the registry means, shown on tiny masks.

For every name of :mod:`segscore.metrics.registry`: its definition, its formula in counts (or
distances, or matched objects), a worked example on a mask small enough to draw in a terminal,
the conventions that change the number (empty masks, aggregation, threshold, ignore label,
background, spacing and percentile rules, matching), what the peer libraries do, optionally the
case of a results folder that illustrates it best, and a quiz question.

Numbers are never written into the text: each is computed by segscore's own functions on the
drawn masks when the explanation is built. Nothing here reads arguments or prints; the command
is :mod:`segscore.cli.explain`.

- :mod:`.base`: :class:`Topic` and :class:`Question` (text), :func:`substitute`;
- :mod:`.overlap_topics`, :mod:`.boundary_topics`, :mod:`.instance_topics`,
  :mod:`.lesion_topics` (BraTS lesion-wise), :mod:`.coco_topics` (COCO AP, AR): the topics;
- :mod:`.overlap_example`, :mod:`.boundary_example`, :mod:`.instance_example`,
  :mod:`.lesion_example`, :mod:`.coco_example`: the computed parts;
- :mod:`.run_case`: the case of a results folder; :mod:`.document`: :func:`explain`.
"""

from segscore.report.explain.base import Question, Topic
from segscore.report.explain.document import Explanation, explain
from segscore.report.explain.run_case import RunCase, pick_case
from segscore.report.explain.topics import TOPICS, topic_key

__all__ = [
    "TOPICS",
    "Explanation",
    "Question",
    "RunCase",
    "Topic",
    "explain",
    "pick_case",
    "topic_key",
]

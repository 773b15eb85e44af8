"""A streaming accumulator for object metrics: ``update`` batch by batch, ``merge``, ``compute``.

Each batch is turned into one overlap table per image, matched once at every threshold the
metrics need, and reduced to exact per-image integers: matched, unmatched predicted and unmatched
target objects per threshold, the numerator and denominator of the aggregated Jaccard index, and
the sum of matched scores per threshold (a float sum of exactly rounded ratios per image, summed
over images with :func:`math.fsum`, so the result does not depend on the order of batches or
merges). The masks and the tables are not kept: memory grows by a few dozen bytes per image and
threshold. Any aggregation and empty policy can be chosen at :meth:`compute`; the metrics (and
so the thresholds) are fixed when the accumulator is made.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from segscore._types import Aggregation, Comparison, Criterion, IntArray, MatchingRule
from segscore._validation import check_option, fail
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.instance.aji import AJI_METRICS
from segscore.metrics.instance.components import CONNECTIVITIES, label_components
from segscore.metrics.instance.matching import check_matching
from segscore.metrics.instance.metrics import (
    InstanceCounts,
    aggregated_jaccard,
    instance_counts,
    score_counts,
    thresholds_of,
)
from segscore.metrics.instance.table import _as_ids, overlap_table
from segscore.metrics.options import CountingOptions
from segscore.metrics.reduce import AGGREGATIONS, DEFAULT_AGGREGATION, Score
from segscore.metrics.registry import parse_metrics

__all__ = ["InstanceEvaluator"]


class InstanceEvaluator:
    """Accumulate exact object counts over batches of instance label maps (or masks).

    Parameters
    ----------
    metrics : str or iterable of str, default ('f1@0.5',)
        Instance metrics of the registry; their thresholds are matched at every update.
    matching, criterion, comparison : str
        The conventions of :mod:`segscore.metrics.instance.matching`.
    components : {'face', 'full'}, optional
        Turn masks into objects by connected components with this connectivity before
        matching (:func:`~segscore.metrics.instance.components.label_components`); without
        it the inputs are instance label maps.
    options, spatial_dims, ignore_index
        The layout rule and ignore id (:func:`~segscore.metrics.instance.table.overlap_table`).

    Examples
    --------
    >>> ev = InstanceEvaluator(["f1@0.5", "aji"])
    >>> _ = ev.update(np.array([[1, 1, 0, 2]]), np.array([[3, 3, 3, 0]]))
    >>> other = InstanceEvaluator(["f1@0.5", "aji"])
    >>> _ = other.update(np.array([[0, 0, 0, 0]]), np.array([[0, 4, 4, 0]]))
    >>> ev.merge(other).n_images, ev.compute("f1@0.5").per_image
    (2, array([0.66666667, 0.        ]))
    >>> ev.compute("f1@0.5", aggregation="pooled").value
    0.5
    """

    def __init__(
        self,
        metrics: str | Iterable[str] = ("f1@0.5",),
        *,
        matching: MatchingRule = "optimal",
        criterion: Criterion = "iou",
        comparison: Comparison = ">=",
        components: str | None = None,
        options: CountingOptions | None = None,
        spatial_dims: int | None = None,
        ignore_index: int | None = None,
    ) -> None:
        specs = parse_metrics(metrics)
        for spec in specs:
            if spec.kind != "instance":
                fail(
                    f"`metrics` must name instance metrics (f1@T, pq, aji, ...), got {spec.name!r} "
                    f"({spec.kind}); count pixels with segscore.Evaluator."
                )
        thresholds = tuple(dict.fromkeys(t for s in specs for t in thresholds_of(s)))
        check_matching(matching, criterion, comparison, thresholds)
        if components is not None:
            check_option("components", components, CONNECTIVITIES)
        self._specs = specs
        self._thresholds = thresholds or (thresholds_of(parse_metrics("f1@0.5")[0])[0],)
        self._conventions = (matching, criterion, comparison)
        self._components = components
        self._layout = {"options": options, "spatial_dims": spatial_dims}
        self._ignore_index = ignore_index
        self._aji_kinds = tuple(sorted({s.base for s in specs} & set(AJI_METRICS)))
        self.reset()

    def reset(self) -> None:
        """Forget every image."""
        self._parts: list[InstanceCounts] = []
        self._aji: dict[str, list[tuple[IntArray, IntArray]]] = {k: [] for k in self._aji_kinds}

    @property
    def n_images(self) -> int:
        """Number of images accumulated."""
        return sum(p.n_images for p in self._parts)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics this accumulator can compute."""
        return tuple(s.name for s in self._specs)

    def update(self, pred: Any, target: Any) -> InstanceCounts:
        """Add a batch (numpy arrays or torch tensors, copied to the host) and return its counts.

        Raises
        ------
        InputError
            On bad ids or shapes; nothing is added then.
        """
        if self._components is not None:
            layout: dict[str, Any] = dict(self._layout)
            pred = label_components(pred, connectivity=self._components, **layout)  # type: ignore[arg-type]
            target = _components_keeping_ignore(
                target, self._components, self._ignore_index, layout
            )
        tables = overlap_table(pred, target, ignore_index=self._ignore_index, **self._layout)  # type: ignore[arg-type]
        matching, criterion, comparison = self._conventions
        counts = instance_counts(
            tables,
            thresholds=self._thresholds,
            matching=matching,
            criterion=criterion,
            comparison=comparison,
        )
        aji = {k: aggregated_jaccard(tables, variant=AJI_METRICS[k]) for k in self._aji_kinds}
        self._parts.append(counts)
        for k, v in aji.items():
            self._aji[k].append(v)
        return counts

    def merge(self, other: InstanceEvaluator) -> InstanceEvaluator:
        """Add another accumulator's images (made with the same metrics and conventions)."""
        if not isinstance(other, InstanceEvaluator):
            fail(f"`other` must be an InstanceEvaluator, got {type(other).__name__}.")
        mine = (self.metrics, self._conventions, self._components)
        theirs = (other.metrics, other._conventions, other._components)
        if mine != theirs:
            fail(f"`other` must have the same metrics and conventions, got {theirs} for {mine}.")
        self._parts.extend(other._parts)
        for k in self._aji_kinds:
            self._aji[k].extend(other._aji[k])
        return self

    @property
    def counts(self) -> InstanceCounts:
        """The exact per-image counts so far (one row per image)."""
        if not self._parts:
            fail("the accumulator holds no image yet: call `update` first.")
        return InstanceCounts.concat(self._parts)

    def compute(
        self,
        metric: str | None = None,
        *,
        aggregation: Aggregation = DEFAULT_AGGREGATION,
        empty: float | EmptyPolicy = math.nan,
    ) -> Score:
        """Return the score of one metric (default: the first) over every image so far."""
        return self.compute_all(aggregation=aggregation, empty=empty, only=metric)[
            metric or self._specs[0].name
        ]

    def compute_all(
        self,
        *,
        aggregation: Aggregation = DEFAULT_AGGREGATION,
        empty: float | EmptyPolicy = math.nan,
        only: str | None = None,
    ) -> dict[str, Score]:
        """Return the score of every metric (or of ``only``) over every image so far."""
        check_option("aggregation", aggregation, AGGREGATIONS)
        specs = self._specs
        if only is not None:
            specs = tuple(s for s in specs if s.name == parse_metrics(only)[0].name)
            if not specs:
                fail(f"`metric` must be one of {', '.join(self.metrics)}, got {only!r}.")
        aji = {
            k: (np.concatenate([a for a, _ in v]), np.concatenate([b for _, b in v]))
            for k, v in self._aji.items()
            if v
        }
        return score_counts(self.counts, aji, specs, aggregation=aggregation, empty=empty)


def _components_keeping_ignore(
    target: Any, connectivity: str, ignore: int | None, layout: dict[str, Any]
) -> Any:
    """Components of a target mask whose ignore pixels keep the ignore id (left out of counts)."""
    if ignore is None:
        return label_components(target, connectivity=connectivity, **layout)  # type: ignore[arg-type]
    t = _as_ids("target", target)
    objects = label_components(np.where(t == ignore, 0, t), connectivity=connectivity, **layout)  # type: ignore[arg-type]
    if objects.size and int(objects.max()) >= ignore:
        fail(
            f"`ignore_index` ({ignore}) must be larger than the number of objects in an image "
            f"with `components`, got an image with {int(objects.max())} objects."
        )
    objects[t == ignore] = ignore
    return objects

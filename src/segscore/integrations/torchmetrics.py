"""A ``torchmetrics.Metric`` that keeps segscore's exact per-image counts (for Lightning).

:class:`SegscoreMetric` counts each batch on its device and keeps the per-image rows as int64
states registered with ``dist_reduce_fx="cat"``, so torchmetrics gathers them across processes
before ``compute``; the score is then :func:`segscore.score` of the whole dataset's rows, as on one
process. Importing this module imports torch and torchmetrics; ``import segscore`` does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat

from segscore._types import Aggregation, Comparison, CpuCounting
from segscore._validation import check_option, fail, fail_changed
from segscore.integrations.torch import _UpdateGuard
from segscore.metrics.counts import CountingSpec, Counts
from segscore.metrics.empty import EmptyPolicy
from segscore.metrics.options import CountingOptions, resolve_options
from segscore.metrics.reduce import AGGREGATIONS, Score, score
from segscore.metrics.registry import get_metric

__all__ = ["SegscoreMetric", "SegscoreObjectMetric"]

_FIELDS = ("tp", "fp", "fn", "tn")


def _fingerprint(options: CountingOptions) -> int:
    """Return 56 bits of the SHA-256 of the counting options (a non-negative int64)."""
    import hashlib
    import json

    text = json.dumps(options.as_dict(), sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:7], "big")


_T = TypeVar("_T")


class SegscoreMetric(Metric):
    """Exact segmentation score as a torchmetrics ``Metric``: counts synced, scored at the end.

    Parameters
    ----------
    metric : str, default 'iou'
        A metric of :data:`segscore.METRICS` (``'iou'``, ``'dice'``, ...).
    aggregation : str, default 'images_then_classes'
        One of :data:`segscore.AGGREGATIONS`.
    empty : float or EmptyPolicy, default NaN
        Empty-mask policy (:mod:`segscore.metrics.empty`).
    include_background : bool, optional
        Class 0 enters class means; default the options' rule (True).
    options : CountingOptions, optional
        What is counted (:mod:`segscore.metrics.options`).
    num_classes, threshold, ignore_index, multilabel, spatial_dims, threshold_comparison
        Counting options, as for :func:`segscore.confusion`.
    fixed_shape : bool, default True
        Every update must have the image shape of the first (see
        :class:`~segscore.integrations.torch.TensorEvaluator`).
    cpu_counting : {'kernel', 'torch'}, default 'kernel'
        How CPU tensors are counted: by the compiled kernel on zero-copy views, or by torch
        operations as CUDA tensors are. The counts are the same; the kernel is much faster.
    **kwargs
        Passed to ``torchmetrics.Metric`` (``sync_on_compute``, ``process_group``, ...).

    Attributes
    ----------
    score : Score
        The full :class:`~segscore.Score` (per image, per class, n_valid, conventions) of all
        processes' rows, as ``compute`` sees them (syncs like ``compute``: call it on every rank).
    counts : Counts
        All processes' per-image rows as host :class:`~segscore.Counts` (syncs likewise).

    Raises
    ------
    InputError
        On invalid options or ``cpu_counting``; in ``update`` as :class:`~segscore.integrations.torch.TensorEvaluator`;
        in ``compute`` when nothing was counted or the processes disagree on the number of classes
        or on the input kind.

    Notes
    -----
    States, all int64 and reduced by concatenation: ``tp``, ``fp``, ``fn``, ``tn`` hold the rows
    ``(n, C)`` of each update flattened row-major to ``(n * C,)``, and ``meta`` holds
    ``(C, float_input, options)`` per update, ``options`` a 56-bit fingerprint of the counting
    options: states counted under other options never compare equal (a ``MetricCollection``
    would otherwise share one metric's states with another of another threshold or ignore label,
    its compute groups) and never merge (``merge_state``, or processes that disagree). Flat states concatenate exactly even when a process saw no
    batch (torchmetrics then sends an empty 1-D placeholder, made int64 here via ``set_dtype``).
    ``compute`` returns the value as a float64 tensor.

    Examples
    --------
    >>> import torch
    >>> m = SegscoreMetric("dice")
    >>> m.update(torch.tensor([[[1, 1], [0, 0]]]), torch.tensor([[[1, 0], [0, 0]]]))
    >>> m.compute()
    tensor(0.6667, dtype=torch.float64)
    >>> m.score.n_valid, m.counts.tp
    (1, array([[1]]))
    """

    is_differentiable = False
    full_state_update = False

    def __init__(
        self,
        metric: str = "iou",
        *,
        aggregation: Aggregation = "images_then_classes",
        empty: float | EmptyPolicy = math.nan,
        include_background: bool | None = None,
        options: CountingOptions | None = None,
        num_classes: int | None = None,
        threshold: float = 0.5,
        ignore_index: int | None = None,
        multilabel: bool = False,
        spatial_dims: int | None = None,
        threshold_comparison: Comparison | None = None,
        fixed_shape: bool = True,
        cpu_counting: CpuCounting = "kernel",
        **kwargs: Any,
    ) -> None:
        spec = get_metric(metric, kind="overlap")
        check_option("aggregation", aggregation, AGGREGATIONS)
        options = resolve_options(
            options,
            num_classes=num_classes,
            threshold=threshold,
            ignore_index=ignore_index,
            multilabel=multilabel,
            spatial_dims=spatial_dims,
            threshold_comparison=threshold_comparison,
        )
        guard = _UpdateGuard(options, fixed_shape, cpu_counting)
        super().__init__(**kwargs)
        self.metric_name = spec.name
        self.aggregation: Aggregation = aggregation
        self.empty = empty
        self.include_background = include_background
        self._options = options
        self._fingerprint = _fingerprint(options)
        self._guard = guard
        # Make the placeholder of a process without updates int64 (see Notes).
        self.set_dtype(torch.int64)
        for name in (*_FIELDS, "meta"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """Count one batch on its device and append its rows to the states."""
        counts, layout = self._guard.count(pred, target)
        self._guard.accept(layout, counts.spec)
        for name in _FIELDS:
            self._list_state(name).append(getattr(counts, name).reshape(-1))
        is_float = int(counts.spec.threshold is not None)
        meta = torch.tensor(
            [counts.spec.num_classes, is_float, self._fingerprint],
            dtype=torch.int64,
            device=counts.tp.device,
        )
        self._list_state("meta").append(meta)

    def merge_state(self, incoming_state: dict[str, Any] | Metric) -> None:
        """Merge another metric's rows (refused when its counting options differ)."""
        if (
            isinstance(incoming_state, SegscoreMetric)
            and incoming_state._options.as_dict() != self._options.as_dict()  # unset = default
        ):
            fail(
                "accumulators to merge must use the same conventions, got "
                f"{self._options.as_dict()} and {incoming_state._options.as_dict()}."
            )
        super().merge_state(incoming_state)

    def _list_state(self, name: str) -> list[torch.Tensor]:
        value = getattr(self, name)
        assert isinstance(value, list), "update called on synced states"
        return value

    def _state(self, name: str) -> list[torch.Tensor]:
        """Return a list state (after a sync, the concatenated tensor as a one-item list)."""
        value = getattr(self, name)
        return value if isinstance(value, list) else [value]

    def reset(self) -> None:
        """Forget every row."""
        super().reset()
        self._guard.reset()

    def _spec(self, meta: torch.Tensor) -> CountingSpec:
        pairs = meta.reshape(-1, 3).cpu().tolist()
        if any(p[2] != self._fingerprint for p in pairs):
            fail(
                "`counts` must all be made under this metric's counting options "
                f"({self._options!r}), got rows of other options (merged, or from a process "
                "with other options)."
            )
        widths = sorted({p[0] for p in pairs})
        if len(widths) > 1:
            fail_changed("number of classes (over all processes)", widths[0], widths[-1])
        kinds = sorted({p[1] for p in pairs})
        if len(kinds) > 1:
            fail_changed("input kind (over all processes)", "integer/bool", "float probabilities")
        options = self._options
        threshold = options.threshold if kinds[0] else None
        comparison = options.threshold_test if kinds[0] else None
        return CountingSpec(
            options.mode, int(widths[0]), threshold, options.ignore_index, comparison
        )

    def _counts(self) -> Counts:
        parts = self._state("meta")
        meta = dim_zero_cat(parts) if parts else torch.empty(0, dtype=torch.int64)
        if meta.numel() == 0:
            fail(
                "the accumulator is empty: call `update` with at least one batch before `compute`."
            )
        spec = self._spec(meta)
        flat = torch.stack([dim_zero_cat(self._state(name)) for name in _FIELDS])
        out = flat.reshape(4, -1, spec.num_classes).to(torch.int64).cpu().numpy()
        return Counts(out[0].copy(), out[1].copy(), out[2].copy(), out[3].copy(), spec)

    def compute(self) -> torch.Tensor:
        """Return the metric under the aggregation, over all processes' rows (float64 tensor)."""
        return torch.tensor(self._score_now().value, dtype=torch.float64)

    def _score_now(self) -> Score:
        return score(
            self._counts(),
            self.metric_name,
            aggregation=self.aggregation,
            empty=self.empty,
            include_background=self.include_background,
            options=self._options,
        )

    def _gathered(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn`` on the states synced across processes (as ``compute`` sees them)."""
        if self._is_synced or not self.sync_on_compute:
            return fn()
        with self.sync_context(dist_sync_fn=self.dist_sync_fn):
            return fn()

    @property
    def score(self) -> Score:
        """The full :class:`~segscore.Score` of all processes' rows (a collective when distributed)."""
        return self._gathered(self._score_now)

    @property
    def counts(self) -> Counts:
        """All processes' per-image rows on the host (a collective when distributed)."""
        return self._gathered(self._counts)


_OBJECT_ROWS = ("tp", "fp", "fn", "score_bits")  # (n, T) per update, flattened
_AJI_STATES = {"aji": "aji", "aji+": "aji1", "aji_cellpose": "ajic"}  # metric -> state prefix
_OBJECT_IMAGES = (
    "n_pred",
    "n_target",
    *(f"{prefix}_{part}" for prefix in _AJI_STATES.values() for part in ("num", "den")),
)  # (n,) per update


class SegscoreObjectMetric(Metric):
    """Exact object-level score (F1, PQ, AJI, ...) as a torchmetrics ``Metric``.

    Each batch is matched on the host by :class:`~segscore.metrics.instance.InstanceEvaluator`
    and reduced to exact per-image rows: matched, unmatched predicted and unmatched target objects
    per threshold (int64), objects per image, the aggregated Jaccard numerator and denominator
    (int64), and each image's sum of matched scores per threshold, a float64 kept as its 64 bits
    in an int64 state so that syncing moves it unchanged. States are reduced by concatenation,
    so ``compute`` scores the whole dataset's rows as on one process.

    Parameters
    ----------
    metric : str, default 'f1@0.5'
        The instance metric ``compute`` returns.
    metrics : iterable of str, optional
        Every instance metric :attr:`scores` can give (default: ``metric`` alone).
    aggregation : str, default 'images_then_classes'
        ``'pooled'`` sums counts over images; per-image rules average per-image values.
    empty : float or EmptyPolicy, default NaN
        Empty policy of the ratio metrics.
    matching, criterion, comparison, components, options, spatial_dims, ignore_index
        As for :class:`~segscore.metrics.instance.InstanceEvaluator`.
    **kwargs
        Passed to ``torchmetrics.Metric``.

    Examples
    --------
    >>> import torch
    >>> m = SegscoreObjectMetric("f1@0.5", metrics=["f1@0.5", "aji"], aggregation="pooled")
    >>> m.update(torch.tensor([[[1, 1, 0, 2]]]), torch.tensor([[[3, 3, 3, 0]]]))
    >>> m.update(torch.tensor([[[0, 0, 0, 0]]]), torch.tensor([[[0, 4, 4, 0]]]))
    >>> m.compute()
    tensor(0.5000, dtype=torch.float64)
    >>> round(m.scores["aji"].value, 4)
    0.3333
    """

    is_differentiable = False
    full_state_update = False

    def __init__(
        self,
        metric: str = "f1@0.5",
        *,
        metrics: list[str] | tuple[str, ...] | None = None,
        aggregation: Aggregation = "images_then_classes",
        empty: float | EmptyPolicy = math.nan,
        matching: str = "optimal",
        criterion: str = "iou",
        comparison: str = ">=",
        components: str | None = None,
        options: CountingOptions | None = None,
        spatial_dims: int | None = None,
        ignore_index: int | None = None,
        **kwargs: Any,
    ) -> None:
        from segscore.metrics.instance.evaluator import InstanceEvaluator

        names = [metric] if metrics is None else list(metrics)
        evaluator = InstanceEvaluator(
            names,
            matching=matching,  # type: ignore[arg-type]
            criterion=criterion,  # type: ignore[arg-type]
            comparison=comparison,  # type: ignore[arg-type]
            components=components,
            options=options,
            spatial_dims=spatial_dims,
            ignore_index=ignore_index,
        )
        chosen = get_metric(metric, kind="instance").name
        if chosen not in evaluator.metrics:
            fail(
                f"`metric` must be one of `metrics` ({', '.join(evaluator.metrics)}), got {metric!r}."
            )
        check_option("aggregation", aggregation, AGGREGATIONS)
        super().__init__(**kwargs)
        self.metric_name = chosen
        self.aggregation: Aggregation = aggregation
        self.empty = empty
        self._evaluator = evaluator
        self.set_dtype(torch.int64)
        for name in (*_OBJECT_ROWS, *_OBJECT_IMAGES):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """Match one batch (on the host) and append its exact rows to the states."""
        evaluator = self._evaluator
        evaluator.reset()
        counts = evaluator.update(pred, target)
        device = pred.device if isinstance(pred, torch.Tensor) else torch.device("cpu")
        n = counts.n_images
        aji = evaluator._aji
        zeros = np.zeros(n, np.int64)
        values = {
            "tp": counts.tp,
            "fp": counts.fp,
            "fn": counts.fn,
            "score_bits": np.ascontiguousarray(counts.score_sum, dtype=np.float64).view(np.int64),
            "n_pred": counts.n_pred,
            "n_target": counts.n_target,
            **{
                f"{prefix}_{part}": aji[kind][0][k] if kind in aji else zeros
                for kind, prefix in _AJI_STATES.items()
                for k, part in enumerate(("num", "den"))
            },
        }
        for name, value in values.items():
            state = getattr(self, name)
            assert isinstance(state, list), "update called on synced states"
            state.append(
                torch.from_numpy(np.ascontiguousarray(value, np.int64).reshape(-1)).to(device)
            )
        evaluator.reset()

    def _flat(self, name: str) -> np.ndarray[Any, Any]:
        value = getattr(self, name)
        parts = value if isinstance(value, list) else [value]
        if not parts:
            return np.zeros(0, np.int64)
        return np.asarray(dim_zero_cat(parts).to(torch.int64).cpu().numpy())

    def _scores_now(self) -> dict[str, Score]:
        from segscore.metrics.instance.metrics import InstanceCounts, score_counts

        evaluator = self._evaluator
        n_pred = self._flat("n_pred")
        if n_pred.size == 0:
            fail(
                "the accumulator is empty: call `update` with at least one batch before `compute`."
            )
        t = len(evaluator._thresholds)
        rows = {name: self._flat(name).reshape(-1, t) for name in _OBJECT_ROWS}
        matching, criterion, comparison = evaluator._conventions
        counts = InstanceCounts(
            evaluator._thresholds,
            rows["tp"],
            rows["fp"],
            rows["fn"],
            np.ascontiguousarray(rows["score_bits"]).view(np.float64),
            n_pred,
            self._flat("n_target"),
            matching,
            criterion,
            comparison,
        )
        aji = {
            kind: (self._flat(f"{prefix}_num"), self._flat(f"{prefix}_den"))
            for kind, prefix in _AJI_STATES.items()
            if kind in evaluator._aji_kinds
        }
        return score_counts(
            counts, aji, evaluator._specs, aggregation=self.aggregation, empty=self.empty
        )

    def compute(self) -> torch.Tensor:
        """Return ``metric`` over all processes' rows (float64 tensor)."""
        return torch.tensor(self._scores_now()[self.metric_name].value, dtype=torch.float64)

    def _gathered(self, fn: Callable[[], _T]) -> _T:
        if self._is_synced or not self.sync_on_compute:
            return fn()
        with self.sync_context(dist_sync_fn=self.dist_sync_fn):
            return fn()

    @property
    def scores(self) -> dict[str, Score]:
        """Every metric's full :class:`~segscore.Score` (a collective when distributed)."""
        return self._gathered(self._scores_now)

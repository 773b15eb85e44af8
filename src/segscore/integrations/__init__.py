"""Scale-out integrations: counting in a training loop, across processes and on a cluster.

Each module imports its third-party library itself, so ``import segscore`` (and importing this
package) imports neither torch, torchmetrics nor dask:

- :mod:`segscore.integrations.torch`: :class:`~segscore.integrations.torch.TensorEvaluator`, an
  accumulator that keeps exact int64 counts on the tensors' device (CPU or CUDA).
- :mod:`segscore.integrations.torchmetrics`:
  :class:`~segscore.integrations.torchmetrics.SegscoreMetric`, a ``torchmetrics.Metric`` whose
  per-image count rows are synced across processes (Lightning's ``self.log``).
- :mod:`segscore.integrations.distributed`: :func:`~segscore.integrations.distributed.sync_counts`,
  an exact all-gather of per-image rows over ``torch.distributed``.
- :mod:`segscore.evaluation.dask`: :func:`~segscore.evaluation.dask.evaluate_dask`, folder
  evaluation on a Dask cluster.

See ``docs/scale.md``.
"""

__all__: list[str] = []

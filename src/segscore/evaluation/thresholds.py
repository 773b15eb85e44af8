"""The probability threshold of an evaluation: the sweep over thresholds, and one taken from a run.

``segscore evaluate`` on probability maps counts every case at every threshold of
:data:`SWEEP_THRESHOLDS` (:func:`sweep_counts`, exact integers) and ``summary.json`` records the
best one (``threshold_sweep.best_threshold``). That threshold is chosen on the evaluated cases
themselves, so the score at it is optimistic: choose it on a validation run and apply it to the
test set with ``--threshold-from VALIDATION_RUN`` (:func:`threshold_from_run`), which reads it
back and says where it came from (:class:`ChosenThreshold`, recorded in the test run's
conventions as ``threshold_source``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from segscore._types import Comparison, IntArray
from segscore._validation import fail
from segscore.io.results import read_json_object

__all__ = [
    "SWEEP_NOTE",
    "SWEEP_THRESHOLDS",
    "ChosenThreshold",
    "sweep_counts",
    "threshold_from_run",
]

SWEEP_THRESHOLDS = tuple(round(0.01 * k, 2) for k in range(1, 100))
"""Thresholds of the sweep for probability predictions: 0.01, 0.02, ..., 0.99."""

SWEEP_NOTE = (
    "chosen on the evaluated cases, so its score is optimistic; choose the threshold on a "
    "validation run and apply it here with --threshold-from VALIDATION_RUN"
)
"""What ``summary.json``, the console and the report say about the sweep's best threshold."""


def sweep_counts(
    prob: np.ndarray[Any, Any],
    target: np.ndarray[Any, Any],
    *,
    threshold_comparison: Comparison = ">=",
) -> IntArray:
    """Exact tp, fp, fn, tn at every sweep threshold, compared in the probability's dtype.

    Parameters
    ----------
    prob : ndarray of float
        Foreground probabilities of one case; a pixel is foreground at ``t`` when ``p >= t``.
    target : ndarray
        Its ground truth, same size (non-zero is foreground).
    threshold_comparison : {'>=', '>'}, default '>='
        ``'>'``: a pixel is foreground at ``t`` when ``p > t`` (the counting options' rule,
        :func:`~segscore.metrics.options.above_threshold`).

    Returns
    -------
    ndarray of int64, shape (len(SWEEP_THRESHOLDS), 4)
        tp, fp, fn, tn at each threshold.

    Examples
    --------
    >>> c = sweep_counts(np.array([0.2, 0.7], np.float32), np.array([0, 1]))
    >>> c[SWEEP_THRESHOLDS.index(0.5)].tolist(), c[SWEEP_THRESHOLDS.index(0.1)].tolist()
    ([1, 0, 0, 1], [1, 1, 0, 0])
    >>> half = np.array([0.5, 0.7], np.float32)
    >>> sweep_counts(half, np.array([0, 1]), threshold_comparison=">")[SWEEP_THRESHOLDS.index(0.5)]
    array([1, 0, 0, 1])
    """
    thresholds = np.asarray(SWEEP_THRESHOLDS, dtype=prob.dtype)
    fg = target.reshape(-1) != 0
    # Number of thresholds <= p ('>='; < p for '>'): the pixel is foreground at thresholds[k]
    # for k < index.
    side: Literal["left", "right"] = "left" if threshold_comparison == ">" else "right"
    index = np.searchsorted(thresholds, prob.reshape(-1), side=side)
    t = len(thresholds)
    pos = np.bincount(index[fg], minlength=t + 1)
    neg = np.bincount(index[~fg], minlength=t + 1)
    # foreground at threshold k: pixels with index > k.
    tp = np.cumsum(pos[::-1])[::-1][1:]
    fp = np.cumsum(neg[::-1])[::-1][1:]
    n_pos, n_neg = int(fg.sum()), int(fg.size - fg.sum())
    out = np.stack([tp, fp, n_pos - tp, n_neg - fp], axis=1).astype(np.int64)
    return out


@dataclass(frozen=True)
class ChosenThreshold:
    """A threshold chosen on another evaluation, and where it came from.

    Attributes
    ----------
    threshold : float
        The threshold (a pixel is foreground when ``p >= threshold``).
    source : str
        The ``summary.json`` it was read from.
    metric : str
        The metric the sweep maximised (``'iou'``).
    value : float
        That metric at the threshold, on the run it was chosen on.
    inputs_hash : str or None
        ``inputs.hash`` of that run: which predictions and ground truth it was chosen on.
    comparison : {'>=', '>'}
        The threshold comparison of that run's sweep (``'>='`` for runs written before it was
        recorded): the threshold is best under that rule.
    """

    threshold: float
    source: str
    metric: str
    value: float
    inputs_hash: str | None = None
    comparison: Comparison = ">="

    def as_dict(self) -> dict[str, Any]:
        """Return the record written as ``conventions.threshold_source`` of ``summary.json``.

        Examples
        --------
        >>> ChosenThreshold(0.42, "val/summary.json", "iou", 0.8).as_dict()["chosen_on"]
        'val/summary.json'
        """
        return {
            "threshold": self.threshold,
            "chosen_on": self.source,
            "by": "threshold_sweep.best_threshold",
            "metric": self.metric,
            "value_there": self.value,
            "inputs_hash_there": self.inputs_hash,
            "threshold_comparison": self.comparison,
        }


def threshold_from_run(
    run: str | os.PathLike[str], *, option: str = "threshold_from"
) -> ChosenThreshold:
    """Read the threshold chosen by the sweep of a finished evaluation (a validation run).

    Parameters
    ----------
    run : path
        The output folder of ``segscore evaluate`` on probability maps (or its ``summary.json``).
    option : str, default 'threshold_from'
        How to name the argument in errors (the CLI passes ``'--threshold-from'``).

    Returns
    -------
    ChosenThreshold

    Raises
    ------
    InputError
        If the run has no readable ``summary.json``, or its summary holds no threshold sweep
        (masks were scored, not probabilities; a training run's ``config.json`` records the
        threshold it was given, not one tuned on data). The message names the option and the file.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> sweep = {"best_threshold": 0.42, "best_metric": "iou", "best_value": 0.8}
    >>> _ = (run / "summary.json").write_text(json.dumps({"threshold_sweep": sweep}))
    >>> threshold_from_run(run).threshold
    0.42
    >>> _ = (run / "summary.json").write_text(json.dumps({"threshold_sweep": None}))
    >>> threshold_from_run(run, option="--threshold-from")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--threshold-from` must name an evaluation of probability maps ...
    """
    where = Path(run)
    path = where if where.suffix == ".json" else where / "summary.json"
    if not path.is_file() and (where / "config.json").is_file():
        fail(
            f"`{option}` must name an evaluation of probability maps (its summary.json holds the "
            f"threshold chosen by the sweep), got the training run {str(where)!r}: its "
            "config.json records the threshold it was given, not one tuned on data; run "
            "`segscore evaluate` on its validation probabilities first."
        )
    summary = read_json_object(path, what="a segscore summary (JSON)", needed_by=option)
    sweep = summary.get("threshold_sweep")
    best = sweep.get("best_threshold") if isinstance(sweep, dict) else None
    if not isinstance(best, (int, float)) or isinstance(best, bool) or not 0 < best < 1:
        fail(
            f"`{option}` must name an evaluation of probability maps with a threshold sweep, "
            f"got {str(path)!r}, which holds no threshold_sweep.best_threshold (masks were "
            "scored, not probabilities)."
        )
    value = sweep.get("best_value")  # type: ignore[union-attr]
    inputs = summary.get("inputs")
    options = (summary.get("conventions") or {}).get("options") or {}
    rule = options.get("threshold_comparison") if isinstance(options, dict) else None
    return ChosenThreshold(
        threshold=float(best),
        source=str(path),
        metric=str(sweep.get("best_metric", "iou")),  # type: ignore[union-attr]
        value=float(value) if isinstance(value, (int, float)) else math.nan,
        inputs_hash=inputs.get("hash") if isinstance(inputs, dict) else None,
        comparison=">" if rule == ">" else ">=",
    )

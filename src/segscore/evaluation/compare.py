"""Compare two evaluations of the same ground truth, case by case (``segscore compare A B``).

:func:`compare_runs` reads ``summary.json`` and ``per_case.csv`` of two ``segscore evaluate``
output folders and checks, before any number is compared, that the comparison means something:

1. both runs scored the same cases: a case scored in one run only (unmatched, failed, or not
   there) is never dropped silently; the comparison is refused, or, with ``force``, the case is
   dropped and counted;
2. both scored the same ground truth: ``inputs.gt_hash`` (SHA-256 over the case names and the
   ground-truth files) is equal;
3. both used the same conventions: the counting options, aggregation, empty policy, preset,
   background rule, boundary and object conventions, and each compared metric's conventions
   record are equal. Not compared: the probability threshold, its comparison (``>=`` or ``>``)
   and its source (a threshold makes the prediction, it is not a way of scoring it: comparing
   two thresholds is a comparison of predictions), class names (labels only), the segscore version (noted when it differs), the
   bootstrap settings and the statistics text.

A failed check raises :class:`~segscore.errors.DatasetError` naming the runs and the first
difference, unless ``force``: then the comparison goes ahead and says, in every output, what was
forced (:attr:`Comparison.forced`).

For every metric both runs have (or those asked for), a case's value is the mean of its valid
class values in ``per_case.csv`` (NaN classes left out), as in the summary's statistics. The
paired differences are **B − A**, in the metric's units; the metric's direction comes from the
registry (:attr:`~segscore.metrics.registry.MetricSpec.higher_is_better`), so for HD95 a negative
difference favours B. Pairs with a NaN or infinite value have no finite difference: they are
left out and counted (``n_nonfinite``). The mean difference gets a percentile bootstrap 95%
interval over cases and a Wilcoxon signed-rank p-value
(:func:`segscore.metrics.bootstrap.paired_comparison`). :attr:`MetricComparison.better` names
the run the difference favours when the interval excludes 0 *and* the signed-rank test agrees
(p < 0.05). Both are needed: with few cases the percentile interval is too narrow (two pairs of
one sign always give an interval that excludes 0, one pair a zero-width one), while the exact
rank test cannot reach p < 0.05 with 5 pairs or fewer (its smallest two-sided p is 1/16), so
such comparisons never name a winner.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segscore._types import FloatArray
from segscore._version import __version__
from segscore.errors import DatasetError, InputError
from segscore.io.results import read_per_case_columns
from segscore.metrics.bootstrap import PairedComparison, paired_comparison
from segscore.metrics.registry import display_name, get_metric

__all__ = [
    "IGNORED_CONVENTIONS",
    "SIGN_CONVENTION",
    "Comparison",
    "EvaluationRun",
    "MetricComparison",
    "compare_runs",
    "read_run",
]

SIGN_CONVENTION = (
    "difference = B - A, in the metric's units; where lower is better (distances), a negative "
    "difference favours B"
)
"""How every difference of a comparison is signed (written into its outputs)."""

IGNORED_CONVENTIONS = frozenset(
    {
        "segscore_version",
        "threshold",
        "threshold_comparison",
        "threshold_source",
        "class_names",
        "bootstrap",
        "statistics",
    }
)
"""Keys of the conventions records that do not have to agree (see the module docstring)."""

_NAMES = {"a": "a", "b": "b", "force": "force=True", "metrics": "metrics"}


@dataclass(frozen=True)
class EvaluationRun:
    """A finished evaluation, read back: its summary and each case's value of each metric.

    Attributes
    ----------
    folder : Path
        The output folder of ``segscore evaluate``.
    role : str
        ``'A'`` or ``'B'``: how messages name it.
    summary : dict
        ``summary.json`` as read (non-finite numbers as the strings of segscore's JSON).
    values : dict of str to dict of str to float
        Per metric, per case (in file order): the mean of the case's valid class values.
    """

    folder: Path
    role: str
    summary: dict[str, Any]
    values: dict[str, dict[str, float]]

    @property
    def label(self) -> str:
        """``A ('runs/a')``: the role and the folder, for messages."""
        return f"{self.role} ({str(self.folder)!r})"

    @property
    def cases(self) -> list[str]:
        """The scored cases, in file order."""
        first = next(iter(self.values.values()), {})
        return list(first)

    @property
    def metrics(self) -> list[str]:
        """The metrics of the run, in its order."""
        return list(self.values)

    @property
    def threshold(self) -> float | None:
        """The probability threshold the run used (``conventions.options.threshold``)."""
        options = (self.summary.get("conventions") or {}).get("options") or {}
        value = options.get("threshold")
        return float(value) if isinstance(value, (int, float)) else None


def _case_value(values: list[float]) -> float:
    """Mean of a case's valid class values (NaN left out; an infinite one makes it infinite)."""
    valid = [v for v in values if not math.isnan(v)]
    return math.fsum(valid) / len(valid) if valid else math.nan


def read_run(folder: str | os.PathLike[str], *, role: str = "A") -> EvaluationRun:
    """Read an evaluation folder: ``summary.json`` and every metric column of ``per_case.csv``.

    Raises
    ------
    DatasetError
        If the folder, its ``summary.json`` or ``per_case.csv`` is missing or unreadable, or
        the summary is not a segscore summary with metrics.

    Examples
    --------
    >>> from segscore.evaluation import evaluate_arrays, write_outputs
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> target = np.zeros((2, 4, 4), bool); target[:, 1:3, 1:3] = True
    >>> _ = write_outputs(evaluate_arrays(target, target, metrics="iou"), out, report=False)
    >>> run = read_run(out, role="B")
    >>> run.label == f"B ({str(out)!r})", run.cases, run.values["iou"]
    (True, ['case-0000', 'case-0001'], {'case-0000': 1.0, 'case-0001': 1.0})
    """
    import json

    where = Path(folder)
    path = where / "summary.json"
    if not path.is_file():
        what = "not found" if not where.exists() else "holds no summary.json"
        raise DatasetError(
            f"run {role} {str(where)!r}: {what}; expected the output folder of segscore evaluate."
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"file {str(path)!r}: cannot be read as JSON ({exc}).") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("metrics"), dict):
        raise DatasetError(f"file {str(path)!r}: expected a segscore summary with 'metrics'.")
    from segscore.evaluation.summary import SCHEMA_VERSION

    version = summary.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise DatasetError(
            f"file {str(path)!r}: expected a summary of schema version {SCHEMA_VERSION} or "
            f"earlier, got {version} (written by a newer segscore; upgrade this one)."
        )
    names = [str(m) for m in summary["metrics"]]
    columns = read_per_case_columns(where, names)
    values = {m: {case: _case_value(v) for case, v in columns[m].items()} for m in names}
    return EvaluationRun(where, role, summary, values)


@dataclass(frozen=True)
class MetricComparison:
    """One metric of a comparison: the paired case values and what they say.

    Attributes
    ----------
    name : str
        Registry name.
    higher_is_better : bool
        The metric's direction (from the registry).
    unit : str
        ``'ratio'``, ``'distance'`` or ``'count'``.
    cases : tuple of str
        The paired cases.
    a, b : ndarray of float, shape (n_cases,)
        Their values in run A and run B.
    result : PairedComparison
        Mean difference B − A, its 95% interval, Wilcoxon p, ``n`` finite pairs, ``n_nonfinite``.
    """

    name: str
    higher_is_better: bool
    unit: str
    cases: tuple[str, ...]
    a: FloatArray
    b: FloatArray
    result: PairedComparison

    @property
    def differences(self) -> FloatArray:
        """B − A per case (NaN or infinite where a value is)."""
        with np.errstate(invalid="ignore"):
            return np.asarray(self.b - self.a, dtype=np.float64)

    @property
    def finite(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """The pairs with two finite values (those the statistics use)."""
        return np.asarray(np.isfinite(self.a) & np.isfinite(self.b))

    def favours(self, difference: float) -> str | None:
        """``'B'``, ``'A'`` or None: the run a difference B − A favours, given the direction."""
        if math.isnan(difference) or difference == 0:
            return None
        return "B" if (difference > 0) == self.higher_is_better else "A"

    @property
    def better(self) -> str | None:
        """The run the mean difference favours when its 95% interval excludes 0 and p < 0.05."""
        low, high = self.result.ci95
        if math.isnan(low) or math.isnan(high) or low <= 0 <= high:
            return None
        if not self.result.wilcoxon_p < 0.05:  # NaN included
            return None
        return self.favours(self.result.mean_difference)

    def changed_most(self, top: int) -> list[int]:
        """Return the indices of the ``top`` pairs of largest finite ``|B − A|`` (ties: case order)."""
        d = self.differences
        order = sorted(np.flatnonzero(self.finite & (d != 0)).tolist(), key=lambda i: -abs(d[i]))
        return order[: max(0, top)]

    def as_record(self, top: int = 10) -> dict[str, Any]:
        """Return the metric's entry of ``compare.json``."""
        keep = self.finite
        r = self.result
        d = self.differences
        return {
            "label": display_name(self.name),
            "higher_is_better": self.higher_is_better,
            "unit": self.unit,
            "n_paired": r.n,
            "n_nonfinite": r.n_nonfinite,
            "mean_a": float(np.mean(self.a[keep])) if r.n else math.nan,
            "mean_b": float(np.mean(self.b[keep])) if r.n else math.nan,
            "mean_difference": r.mean_difference,
            "ci95": list(r.ci95),
            "wilcoxon_p": r.wilcoxon_p,
            "favours": self.favours(r.mean_difference),
            "better": self.better,
            "changed_most": [
                {
                    "case": self.cases[i],
                    "a": float(self.a[i]),
                    "b": float(self.b[i]),
                    "difference": float(d[i]),
                    "favours": self.favours(float(d[i])),
                }
                for i in self.changed_most(top)
            ],
        }


@dataclass(frozen=True)
class Comparison:
    """The comparison of two evaluations (:func:`compare_runs`).

    Attributes
    ----------
    run_a, run_b : EvaluationRun
        The two runs.
    metrics : dict of str to MetricComparison
        One entry per compared metric, in order.
    only_a, only_b : tuple of str
        Cases scored in one run only (dropped, with ``force``).
    forced : tuple of str
        What ``force`` overrode (empty when every check passed).
    notes : tuple of str
        Other facts worth saying (metrics not compared, different segscore versions, ...).
    n_resamples, seed : int
        The bootstrap's resamples and seed.
    """

    run_a: EvaluationRun
    run_b: EvaluationRun
    metrics: dict[str, MetricComparison]
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()
    forced: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    n_resamples: int = 2000
    seed: int = 0
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def cases(self) -> tuple[str, ...]:
        """The paired cases (in A's order)."""
        first = next(iter(self.metrics.values()), None)
        return () if first is None else first.cases

    def as_record(self, top: int = 10) -> dict[str, Any]:
        """Return the record written to ``compare.json`` (floats as floats)."""

        def run(r: EvaluationRun) -> dict[str, Any]:
            inputs = r.summary.get("inputs") or {}
            return {
                "folder": str(r.folder),
                "pred": inputs.get("pred"),
                "gt": inputs.get("gt"),
                "n_cases": len(r.cases),
                "hash": inputs.get("hash"),
                "gt_hash": inputs.get("gt_hash"),
                "threshold": r.threshold,
                "threshold_source": (r.summary.get("conventions") or {}).get("threshold_source"),
                "segscore_version": r.summary.get("segscore_version"),
            }

        return {
            "schema": "segscore.compare",
            "schema_version": 1,
            "segscore_version": __version__,
            "run_a": run(self.run_a),
            "run_b": run(self.run_b),
            "sign": SIGN_CONVENTION,
            "checks": dict(self.checks),
            "forced": list(self.forced),
            "cases": {
                "n_paired": len(self.cases),
                "only_in_a": list(self.only_a),
                "only_in_b": list(self.only_b),
                "n_dropped": len(self.only_a) + len(self.only_b),
            },
            "bootstrap": {
                "method": "percentile",
                "resamples": self.n_resamples,
                "seed": self.seed,
                "over": "cases",
            },
            "metrics": {m: c.as_record(top) for m, c in self.metrics.items()},
            "notes": list(self.notes),
        }

    def case_rows(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Return the rows of ``compare.csv`` (one per case and metric) and its columns."""
        rows = []
        for name, m in self.metrics.items():
            d = m.differences
            for i, case in enumerate(m.cases):
                rows.append(
                    {
                        "case": case,
                        "metric": name,
                        "a": float(m.a[i]),
                        "b": float(m.b[i]),
                        "difference": float(d[i]),
                        "favours": m.favours(float(d[i])) or "",
                    }
                )
        return rows, ["case", "metric", "a", "b", "difference", "favours"]


# --------------------------------------------------------------------------------------------
# The checks.


def _shown(names: Sequence[str], limit: int = 5) -> str:
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _walk(a: object, b: object, path: str) -> Iterator[tuple[str, object, object]]:
    """Yield ``(path, value in A, value in B)`` for every field that differs (a key missing is None)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in [*a, *(k for k in b if k not in a)]:
            if key in IGNORED_CONVENTIONS:
                continue
            yield from _walk(a.get(key), b.get(key), f"{path}.{key}")
    elif a != b:
        yield path, a, b


def _conventions_differences(
    a: EvaluationRun, b: EvaluationRun, metrics: Iterable[str], kinds: set[str]
) -> list[tuple[str, object, object]]:
    """Every differing field: the run's conventions, then each compared metric's record.

    The run-level boundary (object) record is compared only when a boundary (object) metric is:
    a run that also scored HD95 compares with one that did not on IoU.
    """
    skip = {
        k for k, kind in (("boundary", "boundary"), ("instances", "instance")) if kind not in kinds
    }
    if "boundary" not in kinds:
        skip.add("distance_include_background")
    shared = [
        {k: v for k, v in _as_written_now(r.summary.get("conventions")).items() if k not in skip}
        for r in (a, b)
    ]
    found = list(_walk(shared[0], shared[1], "conventions"))
    for m in metrics:
        ca = _as_written_now((a.summary["metrics"].get(m) or {}).get("conventions"))
        cb = _as_written_now((b.summary["metrics"].get(m) or {}).get("conventions"))
        found += _walk(ca, cb, f"metrics.{m}.conventions")
    return found


def _as_written_now(record: object) -> dict[str, Any]:
    """Return a conventions record with the fields earlier summaries lack filled as they meant.

    A run written before ``threshold_comparison`` and ``distance_include_background`` existed
    thresholded with ``>=`` and applied one background rule to every family: a run of today with
    the same choices compares with it.
    """
    out = dict(record) if isinstance(record, Mapping) else {}
    if "options" in out and "distance_include_background" not in out:  # the run's record
        out["distance_include_background"] = out.get("include_background")
    options = out.get("options")
    if isinstance(options, Mapping) and "threshold_comparison" not in options:
        out["options"] = {**options, "threshold_comparison": ">="}
    counting = out.get("counting")
    if isinstance(counting, Mapping) and "threshold_comparison" not in counting:
        rule = None if counting.get("threshold") is None else ">="
        out["counting"] = {**counting, "threshold_comparison": rule}
    return out


def _short(value: object) -> str:
    """Return a value for a message: a record is named, not spelled out."""
    if isinstance(value, Mapping):
        return "a record {...}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _direction(name: str, summary_entry: Mapping[str, Any]) -> tuple[bool, str]:
    try:
        spec = get_metric(name)
    except (InputError, ValueError):  # a column the registry does not know: trust the summary
        return bool(summary_entry.get("higher_is_better", True)), str(summary_entry.get("unit"))
    return spec.higher_is_better, spec.unit


def _kind(name: str, summary_entry: Mapping[str, Any]) -> str:
    try:
        return get_metric(name).kind
    except (InputError, ValueError):
        return str(summary_entry.get("kind"))


def _metrics(
    a: EvaluationRun, b: EvaluationRun, asked: Sequence[str] | None, names: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Return the metrics to compare and the notes on those left out."""
    if asked is not None:
        for m in asked:
            for run in (a, b):
                if m not in run.values:
                    raise DatasetError(
                        f"`{names['metrics']}` names {m!r}, which run {run.label} did not score; "
                        f"it scored {', '.join(run.metrics)}."
                    )
        return list(dict.fromkeys(asked)), []
    chosen = [m for m in a.metrics if m in b.values]
    if not chosen:
        raise DatasetError(
            f"runs {a.label} and {b.label} have no metric in common ({', '.join(a.metrics)} vs "
            f"{', '.join(b.metrics)})."
        )
    notes = [
        f"not compared: {m} (scored in {run.role} only)"
        for run, other in ((a, b), (b, a))
        for m in run.metrics
        if m not in other.values
    ]
    return chosen, notes


def compare_runs(
    a: str | os.PathLike[str] | EvaluationRun,
    b: str | os.PathLike[str] | EvaluationRun,
    *,
    metrics: str | Sequence[str] | None = None,
    force: bool = False,
    n_resamples: int = 2000,
    seed: int = 0,
    names: Mapping[str, str] | None = None,
) -> Comparison:
    """Compare two evaluations of the same ground truth, case by case (see the module docstring).

    Parameters
    ----------
    a, b : path or EvaluationRun
        Output folders of ``segscore evaluate`` (A: the baseline), or runs read by
        :func:`read_run`.
    metrics : str or sequence of str, optional
        The metrics to compare (comma-separated or a list); default every metric both runs have.
    force : bool, default False
        Compare even when the cases, the ground truth or the conventions differ; what was forced
        is recorded in :attr:`Comparison.forced`. Cases in one run only are then dropped.
    n_resamples, seed : int
        Bootstrap resamples of the mean difference's interval, and their seed.
    names : mapping, optional
        How messages name the arguments (the CLI passes ``{"force": "--force", ...}``).

    Returns
    -------
    Comparison

    Raises
    ------
    DatasetError
        If a run cannot be read, no case or metric is in both, a metric asked for is missing,
        or (without ``force``) the cases, the ground truth or the conventions differ: one
        message naming both runs and the first difference.

    Examples
    --------
    >>> from segscore.evaluation import evaluate_arrays, write_outputs
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> target = np.zeros((8, 4, 4), bool); target[:, 1:3, 1:3] = True
    >>> for run, pred in (("a", np.roll(target, 1, axis=2)), ("b", target)):
    ...     _ = write_outputs(evaluate_arrays(pred, target, metrics="iou"), root / run, report=False)
    >>> c = compare_runs(root / "a", root / "b")
    >>> m = c.metrics["iou"]
    >>> m.result.n, round(m.result.mean_difference, 4), round(m.result.wilcoxon_p, 4), m.better
    (8, 0.6667, 0.0078, 'B')
    """
    names = {**_NAMES, **(names or {})}
    run_a = a if isinstance(a, EvaluationRun) else read_run(a, role="A")
    run_b = b if isinstance(b, EvaluationRun) else read_run(b, role="B")
    asked = (
        [m.strip() for m in metrics.split(",") if m.strip()]
        if isinstance(metrics, str)
        else metrics
    )
    chosen, notes = _metrics(run_a, run_b, asked, names)
    forced: list[str] = []
    checks: dict[str, str] = {}

    def refuse(problem: str, remedy: str, anyway: str = "to compare anyway") -> None:
        if not force:
            raise DatasetError(f"{problem}; {remedy}, or pass {names['force']} {anyway}.")
        forced.append(problem)

    in_b = set(run_b.cases)
    in_a = set(run_a.cases)
    only_a = tuple(c for c in run_a.cases if c not in in_b)
    only_b = tuple(c for c in run_b.cases if c not in in_a)
    common = [c for c in run_a.cases if c in in_b]
    if not common:
        raise DatasetError(f"no case is in both run {run_a.label} and run {run_b.label}.")
    checks["cases"] = "equal" if not (only_a or only_b) else "differ"
    if only_a or only_b:
        parts = [
            f"{len(only)} case(s) only in {role} ({_shown(only)})"
            for only, role in ((only_a, "A"), (only_b, "B"))
            if only
        ]
        refuse(
            f"runs {run_a.label} and {run_b.label} must score the same cases, got "
            + " and ".join(parts),
            "score the same cases in both (a failed case counts as missing)",
            f"to compare the {len(common)} case(s) in both, dropping (and counting) the "
            f"{len(only_a) + len(only_b)} other(s)",
        )
    hashes = [(r.summary.get("inputs") or {}).get("gt_hash") for r in (run_a, run_b)]
    if only_a or only_b:
        checks["gt_hash"] = "not checked (the runs hold different cases)"
        forced.append(
            f"the ground truth of the {len(common)} case(s) in both was not checked: "
            "inputs.gt_hash covers each run's own cases"
        )
    elif None in hashes:
        run = run_a if hashes[0] is None else run_b
        checks["gt_hash"] = "unknown"
        refuse(
            f"run {run.label} records no inputs.gt_hash (written by an earlier segscore), so its "
            "ground truth cannot be checked",
            "run segscore evaluate on it again",
        )
    elif hashes[0] != hashes[1]:
        checks["gt_hash"] = "differs"
        refuse(
            f"runs {run_a.label} and {run_b.label} must score the same ground truth, got "
            f"inputs.gt_hash {str(hashes[0])[:19]}... in A and {str(hashes[1])[:19]}... in B "
            "(same case names, other ground-truth files)",
            "compare runs of one ground truth",
        )
    else:
        checks["gt_hash"] = "equal"
    kinds = {_kind(m, run_a.summary["metrics"].get(m) or {}) for m in chosen}
    differences = _conventions_differences(run_a, run_b, chosen, kinds)
    checks["conventions"] = "equal" if not differences else f"differ at {differences[0][0]}"
    if differences:
        path, in_a_value, in_b_value = differences[0]
        more = f" (and {len(differences) - 1} more field(s))" if len(differences) > 1 else ""
        refuse(
            f"runs {run_a.label} and {run_b.label} must be scored under the same conventions, "
            f"got {path} = {_short(in_a_value)} in A and {_short(in_b_value)} in B{more}",
            "score one run again with the other's options",
        )
    versions = [r.summary.get("segscore_version") for r in (run_a, run_b)]
    if versions[0] != versions[1]:
        notes.append(f"scored by segscore {versions[0]} (A) and {versions[1]} (B)")
    compared: dict[str, MetricComparison] = {}
    for m in chosen:
        va = np.array([run_a.values[m].get(c, math.nan) for c in common], dtype=np.float64)
        vb = np.array([run_b.values[m].get(c, math.nan) for c in common], dtype=np.float64)
        up, unit = _direction(m, run_a.summary["metrics"].get(m) or {})
        result = paired_comparison(va, vb, n_resamples=n_resamples, rng=seed)
        compared[m] = MetricComparison(m, up, unit, tuple(common), va, vb, result)
    return Comparison(
        run_a,
        run_b,
        compared,
        only_a,
        only_b,
        tuple(forced),
        tuple(notes),
        n_resamples,
        seed,
        checks,
    )

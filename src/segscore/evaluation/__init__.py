"""Evaluate folders of predictions against ground truth: match, stream cases, count, summarise.

The library entry points are :func:`evaluate_folder` (returns a :class:`FolderEvaluation`) and
:func:`write_outputs`; ``segscore evaluate`` is a thin command around them. Two finished
evaluations are compared by :func:`compare_runs` (written by :func:`write_comparison`;
``segscore compare``), and :func:`threshold_from_run` reads the threshold a validation run chose.
"""

from typing import TYPE_CHECKING

from segscore._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and readers; at run time each on first use
    from segscore.evaluation.compare import Comparison, compare_runs, read_run
    from segscore.evaluation.compare_outputs import write_comparison
    from segscore.evaluation.folder import FolderEvaluation, evaluate_arrays, evaluate_folder
    from segscore.evaluation.outputs import write_outputs
    from segscore.evaluation.runner import CaseResult, EvaluateOptions, Evaluation, evaluate
    from segscore.evaluation.settings import EvaluationSettings, make_settings
    from segscore.evaluation.thresholds import ChosenThreshold, threshold_from_run

__all__ = [
    "CaseResult",
    "ChosenThreshold",
    "Comparison",
    "EvaluateOptions",
    "Evaluation",
    "EvaluationSettings",
    "FolderEvaluation",
    "compare_runs",
    "evaluate",
    "evaluate_arrays",
    "evaluate_folder",
    "make_settings",
    "read_run",
    "threshold_from_run",
    "write_comparison",
    "write_outputs",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "segscore.evaluation.compare": (
            "Comparison",
            "compare_runs",
            "read_run",
        ),
        "segscore.evaluation.compare_outputs": ("write_comparison",),
        "segscore.evaluation.folder": (
            "FolderEvaluation",
            "evaluate_arrays",
            "evaluate_folder",
        ),
        "segscore.evaluation.outputs": ("write_outputs",),
        "segscore.evaluation.runner": (
            "CaseResult",
            "EvaluateOptions",
            "Evaluation",
            "evaluate",
        ),
        "segscore.evaluation.settings": (
            "EvaluationSettings",
            "make_settings",
        ),
        "segscore.evaluation.thresholds": (
            "ChosenThreshold",
            "threshold_from_run",
        ),
    },
)

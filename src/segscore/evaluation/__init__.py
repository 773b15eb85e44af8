"""Evaluate folders of predictions against ground truth: match, stream cases, count, summarise.

The library entry points are :func:`evaluate_folder` (returns a :class:`FolderEvaluation`) and
:func:`write_outputs`; ``segscore evaluate`` is a thin command around them.
"""

from segscore.evaluation.folder import FolderEvaluation, evaluate_arrays, evaluate_folder
from segscore.evaluation.outputs import write_outputs
from segscore.evaluation.runner import CaseResult, EvaluateOptions, Evaluation, evaluate
from segscore.evaluation.settings import EvaluationSettings, make_settings

__all__ = [
    "CaseResult",
    "EvaluateOptions",
    "Evaluation",
    "EvaluationSettings",
    "FolderEvaluation",
    "evaluate",
    "evaluate_arrays",
    "evaluate_folder",
    "make_settings",
    "write_outputs",
]

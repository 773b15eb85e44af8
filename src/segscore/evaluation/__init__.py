"""Evaluate folders of predictions against ground truth: stream cases, count, summarise."""

from segscore.evaluation.runner import CaseResult, EvaluateOptions, Evaluation, evaluate

__all__ = ["CaseResult", "EvaluateOptions", "Evaluation", "evaluate"]

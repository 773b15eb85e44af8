"""Per-image IoU, Dice and pixel accuracy of predicted masks.

Defined in :mod:`segscore.metrics.mask_scores`: they live below ``train`` and ``predict`` so
that both use them without importing each other.
"""

from __future__ import annotations

from segscore.metrics.mask_scores import Evaluation, count_masks, evaluate_counts, evaluate_masks

__all__ = ["Evaluation", "count_masks", "evaluate_counts", "evaluate_masks"]

"""From probabilities to masks: :func:`to_mask` (defined in :mod:`segscore.metrics.thresholds`).

It lives below ``train`` and ``predict`` so that both use it without importing each other.
"""

from __future__ import annotations

from segscore.metrics.thresholds import DEFAULT_THRESHOLD, to_mask

__all__ = ["DEFAULT_THRESHOLD", "to_mask"]

"""Merged and split objects, counted exactly from one overlap table.

A predicted object *merges* the target objects of which it covers more than half; it is a merge
when there are two or more. A target object is *split* when more than half of each of two or more
predicted objects lies inside it. Both tests are in integers (``2 * intersection > area``). These
are the merges that pixel IoU does not see: two touching nuclei predicted as one blob with exactly
the right pixels have pixel IoU 1.0 and one merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segscore.metrics.instance.table import OverlapTable

__all__ = ["Merges", "merges"]


@dataclass(frozen=True, slots=True)
class Merges:
    """Merged and split objects of one case (exact counts; see :func:`merges`)."""

    merged_predictions: int  # predicted objects covering most of two or more target objects
    merged_targets: int  # the target objects inside them
    split_targets: int  # target objects most of two or more predicted objects lie in


def merges(table: OverlapTable) -> Merges:
    """Count merges and splits in one overlap table.

    A predicted object *merges* the target objects of which it covers more than half; it is a
    merge when there are two or more. A target object is *split* when more than half of each of
    two or more predicted objects lies inside it. Both are decided in integers.

    Examples
    --------
    >>> from segscore.metrics.instance.table import overlap_table
    >>> t = overlap_table(np.array([[1, 1, 1, 1, 0, 5, 6]]), np.array([[7, 7, 9, 9, 0, 3, 3]]))[0]
    >>> merges(t)
    Merges(merged_predictions=1, merged_targets=2, split_targets=1)
    """
    inter = table.pair_intersection
    covers = 2 * inter > table.pair_target_area  # the prediction holds most of the target
    inside = 2 * inter > table.pair_pred_area  # most of the prediction lies in the target
    per_pred = np.bincount(table.pair_pred[covers], minlength=table.n_pred)
    per_target = np.bincount(table.pair_target[inside], minlength=table.n_target)
    merged = per_pred >= 2
    return Merges(int(merged.sum()), int(per_pred[merged].sum()), int((per_target >= 2).sum()))

"""The aggregated Jaccard index (AJI) and its variants, as exact integers per image.

=============  ============================================================  ====================
variant        pairs summed into the numerator I and the union U              as in
=============  ============================================================  ====================
``kumar``      each target object with its best-IoU prediction (a            Kumar et al. 2017,
               prediction may serve several targets; ties: the smallest id);  HoVer-Net
               U adds targets without overlap and predictions never taken    ``get_fast_aji``
``one_to_one`` a one-to-one assignment of the largest IoU sum; U as above     AJI+ (Graham et al.
                                                                             2019)
``cellpose``   the assignment of cellpose's ``mask_ious``: the most pairs     cellpose 4.2.1.1
               with IoU >= 0.5, then the largest IoU sum over every          ``metrics.aggregated
               assigned pair (passing or not); U = the pixels of the union   _jaccard_index``
               of all foreground (prediction or target)
=============  ============================================================  ====================

AJI = I / U; the registry names are ``aji``, ``aji+`` and ``aji_cellpose``. CONVENTIONS-objects
§3 #8: on W5 the three differ by up to 0.08 per image; one prediction over two targets gives
1/2, 1/3 and 1/2. An image without any object has U = 0 (the empty policy's zero division).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

import numpy as np

from segscore._types import IntArray
from segscore._validation import check_option, fail
from segscore.metrics.instance.bulk import bulk_kumar
from segscore.metrics.instance.matching import _passes, _resolve_optimal
from segscore.metrics.instance.table import OverlapTable

__all__ = ["AJI_VARIANTS", "AjiVariant", "aggregated_jaccard"]

AjiVariant = Literal["kumar", "one_to_one", "cellpose"]
AJI_VARIANTS: tuple[AjiVariant, ...] = ("kumar", "one_to_one", "cellpose")

AJI_METRICS: dict[str, AjiVariant] = {
    "aji": "kumar",
    "aji+": "one_to_one",
    "aji_cellpose": "cellpose",
}
"""The registry name of each variant."""


def _kumar(t: OverlapTable, iou: np.ndarray) -> IntArray:
    # pairs sorted by target, then decreasing IoU, then prediction: the first of each target
    order = np.lexsort((t.pair_pred, -iou, t.pair_target))
    first = np.ones(order.size, bool)
    first[1:] = t.pair_target[order][1:] != t.pair_target[order][:-1]
    chosen: IntArray = order[first]
    return chosen


def _image(t: OverlapTable, variant: str) -> tuple[int, int]:
    iou = t.pair_intersection / np.maximum(t.pair_union, 1)
    every = np.arange(t.n_pairs)
    if variant == "kumar":
        chosen = _kumar(t, iou)
    elif variant == "one_to_one":
        chosen = _resolve_optimal(t, every, iou, count_first=False)
    else:
        passing = _passes(t.pair_intersection, t.pair_union, Fraction(1, 2), ">=")
        chosen = _resolve_optimal(t, every, iou, counted=passing)
        foreground = (
            int(t.pred_areas.sum()) + int(t.target_areas.sum()) - int(t.pair_intersection.sum())
        )
        return int(t.pair_intersection[chosen].sum()), foreground
    used_pred = np.zeros(t.n_pred, bool)
    used_pred[t.pair_pred[chosen]] = True
    used_target = np.zeros(t.n_target, bool)
    used_target[t.pair_target[chosen]] = True
    union = (
        int(t.pair_union[chosen].sum())
        + int(t.target_areas[~used_target].sum())
        + int(t.pred_areas[~used_pred].sum())
    )
    return int(t.pair_intersection[chosen].sum()), union


def aggregated_jaccard(
    tables: Sequence[OverlapTable],
    *,
    one_to_one: bool = False,
    variant: AjiVariant | None = None,
) -> tuple[IntArray, IntArray]:
    """Return the exact numerator and denominator of the aggregated Jaccard index per image.

    Parameters
    ----------
    tables : sequence of OverlapTable
        One per image (:func:`~segscore.metrics.instance.table.overlap_table`).
    one_to_one : bool, default False
        AJI+ (the same as ``variant='one_to_one'``; kept for existing callers).
    variant : {'kumar', 'one_to_one', 'cellpose'}, optional
        Which AJI (module docstring); default ``'kumar'``.

    Returns
    -------
    intersection, union : ndarray of int64, shape (N,)

    Raises
    ------
    InputError
        On an unknown variant, or ``one_to_one=True`` with another variant.

    Examples
    --------
    >>> from segscore.metrics.instance import overlap_table
    >>> tables = overlap_table(np.array([[1, 1, 1, 1]]), np.array([[2, 2, 3, 3]]))
    >>> aggregated_jaccard(tables), aggregated_jaccard(tables, one_to_one=True)
    ((array([4]), array([8])), (array([2]), array([6])))
    >>> aggregated_jaccard(tables, variant="cellpose")     # U = the 4 foreground pixels
    (array([2]), array([4]))
    """
    if variant is None:
        variant = "one_to_one" if one_to_one else "kumar"
    check_option("variant", variant, AJI_VARIANTS)
    if one_to_one and variant != "one_to_one":
        fail(
            f"`one_to_one` must be False with `variant`={variant!r} (it means "
            "variant='one_to_one'), got True."
        )
    if variant == "kumar":  # all tables at once (equal to _image on each)
        return bulk_kumar(tables)
    inter = np.zeros(len(tables), np.int64)
    union = np.zeros(len(tables), np.int64)
    for i, t in enumerate(tables):
        inter[i], union[i] = _image(t, variant)
    return inter, union

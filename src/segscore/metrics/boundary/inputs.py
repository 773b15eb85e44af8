"""Input handling of the boundary metrics: ``pred`` and ``target`` to per-case, per-class masks.

The arrays are read by the one set of counting options (:mod:`segscore.metrics.options`) and the
same checks as :func:`~segscore.metrics.counting.confusion`: the same layout rule (a 3-D array is a
batch of 2-D images unless ``spatial_dims=3``), the same binary values and thresholding of float
predictions, the same label checks, the same background rule. Spacing and the two ignore options
are checked here once, for :func:`~segscore.metrics.boundary.distances.surface_distances`,
:func:`~segscore.metrics.boundary.iou.boundary_iou` and
:func:`~segscore.metrics.boundary.dispatch.distance_metrics` alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from segscore._types import BoolArray
from segscore._validation import (
    check_not_empty,
    check_same_shape,
    check_spacing,
    fail,
    fail_must,
)
from segscore.metrics.counts import (
    CountingSpec,
    _as_array,
    _as_binary,
    _batch_shape,
    _check_labels,
)
from segscore.metrics.options import CountingOptions, resolve_options


def _options(options: CountingOptions | None, keywords: dict[str, Any]) -> CountingOptions:
    """Resolve the counting options of a boundary entry point.

    ``include_background=None`` keeps the options' own value (True by default).
    """
    if keywords.get("include_background") is None:
        keywords = {k: v for k, v in keywords.items() if k != "include_background"}
    opts = resolve_options(options, **keywords)
    if opts.multilabel:
        fail_must(
            "multilabel",
            "be False for boundary metrics (score each channel as a binary mask)",
            "True",
        )
    return opts


@dataclass(frozen=True, slots=True)
class _Prepared:
    pred: np.ndarray[Any, Any]  # (N, *S): bool masks (binary) or labels (multiclass)
    target: np.ndarray[Any, Any]
    columns: tuple[int, ...]  # kept columns: the class label of label maps, 0 for binary
    class_ids: tuple[int, ...]
    ignore: BoolArray | None  # (N, *S)
    ignore_name: str | None
    spacing: tuple[float, ...]
    shape: tuple[int, ...]  # spatial shape of one case
    options: CountingOptions
    spec: CountingSpec

    @property
    def n_cases(self) -> int:
        return int(self.pred.shape[0])

    def masks(self, n: int) -> list[tuple[BoolArray, BoolArray]]:
        """Return the (prediction, target) masks of every kept class of case ``n``."""
        p, t = self.pred[n], self.target[n]
        if self.options.mode == "binary":
            return [(p, t)]
        return [(p == k, t == k) for k in self.columns]

    def ignore_of(self, n: int) -> BoolArray | None:
        if self.ignore is None:
            return None
        ignore = self.ignore[n]
        return ignore if ignore.any() else None


def _prepare(
    pred: ArrayLike,
    target: ArrayLike,
    spacing: object,
    options: CountingOptions,
    ignore_mask: ArrayLike | None,
) -> _Prepared:
    p = _as_array("pred", pred)
    t = _as_array("target", target)
    for name, a in (("pred", p), ("target", t)):
        if a.dtype.kind not in "biuf":
            fail(f"`{name}` must be a bool, integer or float array, got dtype {a.dtype}.")
    check_same_shape(p.shape, t.shape)
    shape = _batch_shape("target", t.shape, options.spatial_dims, channel_axis=False)
    check_not_empty("target", t.shape)
    sp = check_spacing("spacing", spacing, len(shape) - 1)
    ignore: BoolArray | None = None
    names: list[str] = []
    if ignore_mask is not None:
        im = np.asarray(ignore_mask)
        check_same_shape(im.shape, t.shape, ("ignore_mask", "target"))
        if im.dtype.kind != "b":
            fail(f"`ignore_mask` must be a bool array (True where ignored), got dtype {im.dtype}.")
        ignore = im.reshape(shape)
        names.append("ignore_mask")
    if options.num_classes is None:
        comparison = options.threshold_test
        pb = _as_binary("pred", p, options.threshold, comparison, is_target=False)
        tb = _as_binary("target", t, options.threshold, comparison, is_target=True)
        pm = np.asarray(pb if pb.dtype == bool else pb != 0, dtype=bool).reshape(shape)
        tm = np.asarray(tb if tb.dtype == bool else tb != 0, dtype=bool).reshape(shape)
        n_cols = 1
        is_float = p.dtype.kind == "f"
        spec = CountingSpec(
            "binary",
            1,
            options.threshold if is_float else None,
            None,
            comparison if is_float else None,
        )
    else:
        c, ignore_index = options.num_classes, options.ignore_index
        _check_labels("pred", p, c, ignore_index)
        _check_labels("target", t, c, ignore_index)
        pm, tm = p.reshape(shape), t.reshape(shape)
        n_cols = c
        spec = CountingSpec("multiclass", c, None, ignore_index)
        if ignore_index is not None:
            by_label = tm == ignore_index
            ignore = by_label if ignore is None else (ignore | by_label)
            names.insert(0, f"ignore_index={ignore_index}")
    if ignore is not None and not ignore.any():
        ignore = None
    columns = options.kept_columns(n_cols)
    all_ids = options.class_ids(n_cols)
    return _Prepared(
        pred=pm,
        target=tm,
        columns=columns,
        class_ids=tuple(all_ids[k] for k in columns),
        ignore=ignore,
        ignore_name=" and ".join(names) or None,
        spacing=sp,
        shape=tuple(int(n) for n in shape[1:]),
        options=options,
        spec=spec,
    )


def _one_case(prepared: _Prepared, function: str) -> None:
    """Refuse a batch in a per-case entry point."""
    n = prepared.n_cases
    if n != 1:
        fail_must(
            "pred",
            f"hold one case for {function} (an image, or a volume with `spatial_dims=3`); "
            "use distance_metrics for a batch",
            f"a batch of {n} cases, shape {(n, *prepared.shape)}",
        )

"""Exact confusion counts per image and class: the base of every overlap metric.

Every overlap metric of segscore is a formula in four counts per (image, class): true positives
``tp``, false positives ``fp``, false negatives ``fn`` and true negatives ``tn``. They are counted
once, exactly, in int64, and every score and every aggregation is computed from them without
touching the masks again.

This module holds the result types (:class:`Counts`, :class:`CountingSpec`), the input checks and
the numpy counting engine (:func:`count_arrays`, :func:`confusion_matrix_arrays`). The public
entry points :func:`~segscore.metrics.counting.confusion` and
:func:`~segscore.metrics.counting.confusion_matrix` live in :mod:`segscore.metrics.counting`,
which also routes torch tensors to :mod:`segscore.metrics._torch_counts`.

Two counting paths exist and must agree exactly on every input:

- the *reference*, :mod:`segscore.metrics._reference`: the obviously-right ``np.bincount``
  confusion matrix and ``np.count_nonzero``;
- the *fast path*, :mod:`segscore.metrics._kernel`: one fused pass over the data in compiled code
  where the extension was built, otherwise the reference.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from segscore._types import Comparison, IntArray
from segscore._validation import (
    check_finite_probabilities,
    check_int,
    check_ndim,
    check_not_empty,
    check_same_shape,
    fail,
    fail_binary_values,
    fail_labels,
)
from segscore.metrics import _kernel
from segscore.metrics._kernel import DEFAULT_KERNEL, KernelSettings
from segscore.metrics.options import BINARY_FOREGROUND, CountingOptions, above_threshold

__all__ = [
    "MATRIX_MAX_CLASSES",
    "CountingSpec",
    "Counts",
    "confusion_matrix_arrays",
    "count_arrays",
]

Mode = Literal["binary", "multiclass", "multilabel"]


@dataclass(frozen=True, slots=True)
class CountingSpec:
    """How a :class:`Counts` was counted; part of every result's conventions record.

    Attributes
    ----------
    mode : {'binary', 'multiclass', 'multilabel'}
        Binary masks (one class), label maps with ``num_classes`` classes, or one binary mask per class.
    num_classes : int
        Number of class columns ``C`` (1 for binary).
    threshold : float or None
        Probability threshold used for float inputs (a pixel is foreground when ``p >= threshold``,
        or ``p > threshold``: ``threshold_comparison``); None for label maps.
    ignore_index : int or None
        Target label whose pixels were excluded from every count.
    threshold_comparison : {'>=', '>'} or None
        How float inputs were compared with ``threshold``; None when nothing was thresholded.
    """

    mode: Mode
    num_classes: int
    threshold: float | None
    ignore_index: int | None
    threshold_comparison: Comparison | None = None

    @property
    def class_ids(self) -> tuple[int, ...]:
        """The class id of each count column: ``(1,)`` (the foreground) for binary masks.

        Examples
        --------
        >>> CountingSpec("binary", 1, 0.5, None).class_ids, CountingSpec("multiclass", 3, None, 255).class_ids
        ((1,), (0, 1, 2))
        """
        if self.mode == "binary":
            return (BINARY_FOREGROUND,) * self.num_classes
        return tuple(range(self.num_classes))

    def as_dict(self) -> dict[str, Any]:
        """Return the record as a plain dict (for JSON).

        Examples
        --------
        >>> CountingSpec("binary", 1, 0.5, None, ">=").as_dict()
        {'mode': 'binary', 'num_classes': 1, 'threshold': 0.5, 'ignore_index': None, 'threshold_comparison': '>='}
        """
        return {
            "mode": self.mode,
            "num_classes": self.num_classes,
            "threshold": self.threshold,
            "ignore_index": self.ignore_index,
            "threshold_comparison": self.threshold_comparison,
        }


@dataclass(frozen=True, slots=True)
class Counts:
    """Confusion counts ``tp, fp, fn, tn`` per image and class, exact int64.

    Fields are int64 arrays of one shape: ``(N, C)`` as returned by
    :func:`~segscore.metrics.counting.confusion` (one row per
    image, one column per class), ``(C,)`` after ``sum(axis=0)`` (pooled over images), or ``()``.

    Attributes
    ----------
    tp, fp, fn, tn : ndarray of int64
        True positives, false positives, false negatives and true negatives. Ignored pixels are in
        none of them, so ``tp + fp + fn + tn`` is the number of counted pixels.
    spec : CountingSpec or None
        How the counts were made; None for counts built by hand.

    Examples
    --------
    >>> c = Counts.from_arrays(tp=[[2]], fp=[[1]], fn=[[0]], tn=[[5]])
    >>> c.shape, c.total
    ((1, 1), array([[8]]))
    >>> (c + c).tp
    array([[4]])
    >>> Counts.concat([c, c]).tp.ravel()
    array([2, 2])
    """

    tp: IntArray
    fp: IntArray
    fn: IntArray
    tn: IntArray
    spec: CountingSpec | None = None

    def __post_init__(self) -> None:
        shapes = {np.shape(a) for a in (self.tp, self.fp, self.fn, self.tn)}
        if len(shapes) != 1:
            fail(f"`tp`, `fp`, `fn` and `tn` must have one shape, got {sorted(shapes)}.")
        for name in ("tp", "fp", "fn", "tn"):
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.dtype != np.int64:
                fail(
                    f"`{name}` must be an int64 ndarray, got {type(value).__name__} "
                    f"of dtype {getattr(value, 'dtype', None)}."
                )
            if value.size and int(value.min()) < 0:
                fail(f"`{name}` must hold non-negative counts, got minimum {int(value.min())}.")

    @classmethod
    def _made(
        cls, tp: IntArray, fp: IntArray, fn: IntArray, tn: IntArray, spec: CountingSpec | None
    ) -> Counts:
        """Wrap counts made by the counting functions of this module without re-checking them.

        They are int64, of one shape and non-negative by construction (as the reference
        cross-checks test); the checks of ``__post_init__`` are for counts from outside.
        """
        made = object.__new__(cls)
        for name, value in (("tp", tp), ("fp", fp), ("fn", fn), ("tn", tn), ("spec", spec)):
            object.__setattr__(made, name, value)
        return made

    @classmethod
    def from_arrays(
        cls,
        *,
        tp: Any,
        fp: Any,
        fn: Any,
        tn: Any,
        spec: CountingSpec | None = None,
    ) -> Counts:
        """Build counts from array-likes of integers (converted to int64 exactly).

        Raises
        ------
        InputError
            If a value is not integral, is negative, or the shapes differ.
        """
        arrays = []
        for name, value in (("tp", tp), ("fp", fp), ("fn", fn), ("tn", tn)):
            array = np.asarray(value)
            if array.dtype.kind not in "iub":
                fail(f"`{name}` must hold integer counts, got dtype {array.dtype}.")
            arrays.append(array.astype(np.int64))
        return cls(arrays[0], arrays[1], arrays[2], arrays[3], spec)

    # -- shape --------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of each count array."""
        return tuple(self.tp.shape)

    @property
    def n_images(self) -> int:
        """Number of rows (images); 1 for pooled counts."""
        return int(self.tp.shape[0]) if self.tp.ndim == 2 else 1

    @property
    def n_classes(self) -> int:
        """Number of class columns."""
        return int(self.tp.shape[-1]) if self.tp.ndim >= 1 else 1

    # -- derived counts -------------------------------------------------------------------------
    @property
    def total(self) -> IntArray:
        """Counted (non-ignored) pixels, ``tp + fp + fn + tn``."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def support(self) -> IntArray:
        """Target pixels of the class, ``tp + fn``."""
        return self.tp + self.fn

    @property
    def predicted(self) -> IntArray:
        """Predicted pixels of the class, ``tp + fp``."""
        return self.tp + self.fp

    @property
    def target_empty(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """True where the target has no pixel of the class (``tp + fn == 0``)."""
        return np.asarray(self.support == 0, dtype=bool)

    @property
    def prediction_empty(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """True where the prediction has no pixel of the class (``tp + fp == 0``)."""
        return np.asarray(self.predicted == 0, dtype=bool)

    # -- combining ------------------------------------------------------------------------------
    def _spec_with(self, other: Counts) -> CountingSpec | None:
        if self.spec is not None and other.spec is not None and self.spec != other.spec:
            fail(
                "counts to combine must be made with the same conventions, got "
                f"{self.spec.as_dict()} and {other.spec.as_dict()}."
            )
        return self.spec if self.spec is not None else other.spec

    def __add__(self, other: Counts) -> Counts:
        """Add counts of the same shape element by element (e.g. two passes over one image)."""
        if not isinstance(other, Counts):
            return NotImplemented
        if self.shape != other.shape:
            fail(f"counts to add must have the same shape, got {self.shape} and {other.shape}.")
        spec = self._spec_with(other)
        return Counts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn, spec
        )

    @staticmethod
    def concat(parts: Sequence[Counts]) -> Counts:
        """Stack the rows (images) of several ``(N_i, C)`` counts into one ``(sum N_i, C)``.

        The result equals :func:`~segscore.metrics.counting.confusion` on the concatenated data, row for row.

        Raises
        ------
        InputError
            If ``parts`` is empty, the class counts differ, or the conventions differ.
        """
        if len(parts) == 0:
            fail("`parts` must hold at least one Counts, got an empty sequence.")
        spec = parts[0].spec
        for part in parts:
            if part.tp.ndim != 2:
                fail(f"counts to concatenate must have shape (N, C), got {part.shape}.")
            if part.n_classes != parts[0].n_classes:
                fail(
                    "counts to concatenate must have the same number of classes, got "
                    f"{parts[0].n_classes} and {part.n_classes}."
                )
            spec = parts[0]._spec_with(part)
        return Counts(
            np.concatenate([p.tp for p in parts]),
            np.concatenate([p.fp for p in parts]),
            np.concatenate([p.fn for p in parts]),
            np.concatenate([p.tn for p in parts]),
            spec,
        )

    def sum(self, axis: int | tuple[int, ...] | None = None) -> Counts:
        """Sum counts over an axis: ``axis=0`` pools images (per class), ``None`` pools everything.

        Examples
        --------
        >>> c = Counts.from_arrays(tp=[[1, 2], [3, 4]], fp=[[0, 0], [1, 1]], fn=[[0, 1], [0, 0]],
        ...                        tn=[[9, 7], [6, 5]])
        >>> c.sum(axis=0).tp
        array([4, 6])
        >>> int(c.sum().tp)
        10
        """
        return Counts(
            np.asarray(self.tp.sum(axis=axis), dtype=np.int64),
            np.asarray(self.fp.sum(axis=axis), dtype=np.int64),
            np.asarray(self.fn.sum(axis=axis), dtype=np.int64),
            np.asarray(self.tn.sum(axis=axis), dtype=np.int64),
            self.spec,
        )

    def select(self, rows: Any = slice(None), classes: Any = slice(None)) -> Counts:
        """Return the counts of some images (``rows``) and classes (``classes``) of ``(N, C)`` counts.

        Examples
        --------
        >>> c = Counts.from_arrays(tp=[[1, 2]], fp=[[0, 0]], fn=[[0, 1]], tn=[[9, 7]])
        >>> c.select(classes=[1]).tp
        array([[2]])
        """
        if self.tp.ndim != 2:
            fail(f"`select` needs counts of shape (N, C), got {self.shape}.")

        def take(a: IntArray) -> IntArray:
            return np.ascontiguousarray(a[rows][:, classes]).reshape(-1, _width(a, classes))

        try:
            return Counts(take(self.tp), take(self.fp), take(self.fn), take(self.tn), self.spec)
        except (IndexError, TypeError, ValueError) as exc:
            fail(
                f"`rows` and `classes` must index counts of shape {self.shape}, got rows={rows!r}, "
                f"classes={classes!r} ({exc})."
            )

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as nested lists of Python ints (for JSON)."""
        return {
            "tp": self.tp.tolist(),
            "fp": self.fp.tolist(),
            "fn": self.fn.tolist(),
            "tn": self.tn.tolist(),
            "spec": None if self.spec is None else self.spec.as_dict(),
        }


def _width(a: IntArray, classes: Any) -> int:
    return int(np.empty(a.shape[1])[classes].size)


# ------------------------------------------------------------------------------------------------
# Input handling
# ------------------------------------------------------------------------------------------------


def _as_array(name: str, x: Any) -> np.ndarray[Any, Any]:
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists, objects numpy cannot hold
        fail(f"`{name}` must be an array of one shape, got {type(x).__name__} ({exc}).")


def _batch_shape(
    name: str, shape: tuple[int, ...], spatial_dims: int | None, channel_axis: bool
) -> tuple[int, ...]:
    """Return the array's shape with a leading batch axis, validating the number of axes.

    Cached: a folder of equal-sized cases checks its layout once (errors are never cached).
    """
    if type(spatial_dims) is int or spatial_dims is None:
        return _checked_batch_shape(name, tuple(shape), spatial_dims, channel_axis)
    return _checked_batch_shape.__wrapped__(name, tuple(shape), spatial_dims, channel_axis)


@functools.lru_cache(maxsize=256)
def _checked_batch_shape(
    name: str, shape: tuple[int, ...], spatial_dims: int | None, channel_axis: bool
) -> tuple[int, ...]:
    extra = 1 if channel_axis else 0
    layout = "C, " if channel_axis else ""
    if spatial_dims is None:
        allowed = (2 + extra, 3 + extra, 4 + extra)
        meaning = (
            f"({layout}H, W) for one image, (N, {layout}H, W) for a batch of 2-D images or "
            f"(N, {layout}D, H, W) for a batch of 3-D volumes; set `spatial_dims=3` for one volume"
        )
        check_ndim(name, shape, allowed, meaning)
        return shape if len(shape) > 2 + extra else (1, *shape)
    spatial = check_int("spatial_dims", spatial_dims, low=2)
    if spatial not in (2, 3):
        fail(f"`spatial_dims` must be 2 or 3, got {spatial_dims!r}.")
    meaning = f"({layout}{'D, ' if spatial == 3 else ''}H, W) for one image or with a leading batch axis N"
    check_ndim(name, shape, (spatial + extra, spatial + extra + 1), meaning)
    return shape if len(shape) == spatial + extra + 1 else (1, *shape)


def _as_binary(
    name: str,
    array: np.ndarray[Any, Any],
    threshold: float,
    comparison: Comparison,
    is_target: bool,
    *,
    kernel: KernelSettings = DEFAULT_KERNEL,
) -> Any:
    """Validate a binary mask and return it as an array whose nonzero pixels are foreground.

    Float predictions are thresholded by :func:`~segscore.metrics.options.above_threshold`.

    The checks read the data as few times as possible: a max (and a min for signed or float
    types), plus one comparison for {0, 255} masks; the slow scans run only to word an error.
    """
    kind = array.dtype.kind
    if kind == "b":
        return array
    if kind == "f":
        low, high = float(array.min()), float(array.max())
        if is_target:
            if not (low >= 0.0 and high <= 1.0 and np.all((array == 0) | (array == 1))):
                finite = np.isfinite(array)
                values = np.unique(array[finite])[:9] if finite.all() else [np.nan]
                fail_binary_values(name, values)
            return array != 0
        if not (np.isfinite(low) and np.isfinite(high)):
            n_bad = int(array.size - np.count_nonzero(np.isfinite(array)))
            check_finite_probabilities(name, low, high, n_bad)
        check_finite_probabilities(name, low, high, 0)
        return above_threshold(array, threshold, comparison)
    if kind in "iu":
        fused = _kernel.uint8_mask_values(array, kernel=kernel)  # one compiled pass for uint8 masks
        if fused is not None and fused < 2:
            return array
        high = int(array.max())
        low = int(array.min()) if kind == "i" else 0
        if low < 0 or high > 1:
            ok = (
                low >= 0
                and high == 255
                and np.count_nonzero(array) == np.count_nonzero(array == 255)
            )
            if not ok:
                fail_binary_values(name, np.unique(array))
        return array
    fail(f"`{name}` must be a bool, integer or float array, got dtype {array.dtype}.")


def _check_labels(
    name: str,
    array: np.ndarray[Any, Any],
    num_classes: int,
    ignore_index: int | None,
    *,
    scan: bool = True,
) -> None:
    """Check a label map's dtype and, with ``scan``, its values (the scan costs a pass or more)."""
    kind = array.dtype.kind
    if kind == "b":
        if num_classes < 2 and np.any(array):
            fail_labels(name, [1], num_classes, ignore_index)
        return
    if kind not in "iu":
        hint = (
            " (for probabilities, take the argmax over the class axis first)" if kind == "f" else ""
        )
        fail(
            f"`{name}` must be an integer label map when `num_classes` is set, got dtype "
            f"{array.dtype}{hint}."
        )
    info = np.iinfo(array.dtype)
    if int(info.max) + 1 < num_classes:
        fail(
            f"`num_classes` must fit the label dtype of `{name}`: {array.dtype} holds at most "
            f"{int(info.max) + 1} labels, got num_classes={num_classes} (labels may have wrapped)."
        )
    if not scan:
        return
    high = int(array.max())
    low = int(array.min()) if kind == "i" else 0
    if low < 0 or high >= num_classes:
        outside = (
            array[(array < 0) | (array >= num_classes)]
            if kind == "i"
            else array[array >= num_classes]
        )
        labels = np.unique(outside)
        bad = labels[labels != ignore_index] if ignore_index is not None else labels
        if bad.size:
            fail_labels(name, bad, num_classes, ignore_index)


def _counts_from_matrix(matrix: IntArray, spec: CountingSpec) -> Counts:
    c = matrix.shape[1]
    tp = np.diagonal(matrix[:, :, :c], axis1=1, axis2=2).astype(np.int64)
    fp = matrix[:, :, :c].sum(axis=1) - tp
    fn = matrix.sum(axis=2) - tp
    total = matrix.sum(axis=(1, 2))[:, None]
    tn = total - tp - fp - fn
    return Counts._made(tp, fp, fn, tn, spec)


@functools.lru_cache(maxsize=64, typed=True)
def _binary_spec(
    mode: Mode, n_cols: int, threshold: float | None, comparison: Comparison | None
) -> CountingSpec:
    """Return the spec of binary or multilabel counts (immutable: one object per run)."""
    return CountingSpec(mode, n_cols, threshold, None, comparison)


def _prepare(
    pred: Any,
    target: Any,
    options: CountingOptions,
    *,
    defer_uint8: bool = False,
    kernel: KernelSettings = DEFAULT_KERNEL,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], CountingSpec]:
    """Validate the arguments and return ``(pred, target)`` shaped ``(rows, pixels)`` and the spec.

    With ``defer_uint8``, when both binary masks are uint8 their values are not scanned here:
    the caller counts them with :func:`_kernel.binary_counts_checked`, which checks them in the
    same pass (and, on a bad value, scans in the usual order to word the error).
    """
    num_classes, threshold = options.num_classes, options.threshold
    ignore_index, multilabel = options.ignore_index, options.multilabel
    comparison = options.threshold_test
    p = _as_array("pred", pred)
    t = _as_array("target", target)
    for name, a in (("pred", p), ("target", t)):
        if a.dtype.kind not in "biuf":
            fail(f"`{name}` must be a bool, integer or float array, got dtype {a.dtype}.")
    check_same_shape(p.shape, t.shape)
    shape = _batch_shape("pred", p.shape, options.spatial_dims, channel_axis=multilabel)
    check_not_empty("pred", p.shape)
    if num_classes is None:
        mode: Mode = "multilabel" if multilabel else "binary"
        n_cols = shape[1] if multilabel else 1
        rows = shape[0] * n_cols
        if defer_uint8 and p.dtype == np.uint8 and t.dtype == np.uint8:
            pb, tb = p, t  # two uint8 masks: their values are checked in the counting pass
        else:
            pb = _as_binary("pred", p, threshold, comparison, is_target=False, kernel=kernel)
            tb = _as_binary("target", t, threshold, comparison, is_target=True, kernel=kernel)
        pb, tb = pb.reshape(rows, -1), tb.reshape(rows, -1)
        if p.dtype.kind == "f":
            return pb, tb, _binary_spec(mode, n_cols, threshold, comparison)
        return pb, tb, _binary_spec(mode, n_cols, None, None)
    c = num_classes
    # The compiled kernel range-checks labels during its counting pass; then only the dtypes are
    # checked here, and the values are scanned only to word an error (see _count_matrix).
    p2, t2 = p.reshape(shape[0], -1), t.reshape(shape[0], -1)
    scan = not _kernel.validates_labels(p2, t2, c, ignore_index, kernel=kernel)
    _check_labels("pred", p, c, ignore_index, scan=scan)
    _check_labels("target", t, c, ignore_index, scan=scan)
    return p2, t2, CountingSpec("multiclass", c, None, ignore_index)


MATRIX_MAX_CLASSES = 1024
"""Above this many classes the C × C matrix costs more memory than it is worth: per-class counts
are made directly (:func:`_counts_many_classes`), and
:func:`~segscore.metrics.counting.confusion_matrix` is refused."""

_MATRIX_SMALL_CLASSES = 64


def _uses_matrix(pixels: int, num_classes: int) -> bool:
    """Whether :func:`count_arrays` counts label maps through the per-image confusion matrix.

    Asked only where the compiled kernel does not count the maps (it counts per class directly,
    at any size, see :func:`_count_classes`). The matrix is the fastest numpy way for few
    classes, but its work and memory per image grow with
    C²: 1,000 images of 6 pixels with 700 classes would fill 3.9 GB of matrices. It is used only
    while the matrix is small or no larger than the image (about 2 C² bins against the pixels);
    otherwise the counts are made per class directly, in O(pixels + C) per image.

    >>> _uses_matrix(512 * 512, 21), _uses_matrix(6, 700), _uses_matrix(512 * 512, 700)
    (True, False, False)
    """
    if num_classes > MATRIX_MAX_CLASSES:
        return False
    return (
        num_classes <= _MATRIX_SMALL_CLASSES or 2 * (num_classes + 2) * (num_classes + 1) <= pixels
    )


def _counts_many_classes(p: Any, t: Any, spec: CountingSpec) -> Counts:
    """tp, fp, fn, tn per row and class without the C × C matrix (memory O(N C), not O(N C²))."""
    c = spec.num_classes
    n = p.shape[0]
    p64 = np.asarray(p, dtype=np.int64)
    t64 = np.asarray(t, dtype=np.int64)
    valid = (
        np.ones(t64.shape, dtype=bool) if spec.ignore_index is None else t64 != spec.ignore_index
    )
    rows = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None] * c, t64.shape)
    hit = valid & (p64 == t64)
    predicted_ok = valid & (p64 >= 0) & (p64 < c)  # the ignore label predicted is "no class"
    tp = np.bincount((rows + t64)[hit], minlength=n * c).reshape(n, c)
    predicted = np.bincount((rows + p64)[predicted_ok], minlength=n * c).reshape(n, c)
    support = np.bincount((rows + t64)[valid], minlength=n * c).reshape(n, c)
    total = valid.sum(axis=1, dtype=np.int64)[:, None]
    fp, fn = predicted - tp, support - tp
    return Counts._made(tp, fp, fn, total - tp - fp - fn, spec)


def _count_binary(
    p: Any, t: Any, threshold: float, kernel: KernelSettings
) -> tuple[IntArray, IntArray, IntArray]:
    """Count binary rows; two uint8 masks left unchecked by ``_prepare`` are checked in the pass."""
    if not (p.dtype == np.uint8 and t.dtype == np.uint8):  # `_prepare` has checked both
        return _kernel.binary_counts(p, t, kernel=kernel)
    counted = _kernel.binary_counts_checked(p, t, kernel=kernel)
    if counted is None:  # no compiled kernel: `_prepare` has checked both
        return _kernel.binary_counts(p, t, kernel=kernel)
    tp, predicted, support, pred_code, target_code = counted
    if pred_code == 2 or target_code == 2:  # scan to word the error (the kernel saw a bad byte)
        _as_binary("pred", p, threshold, ">=", is_target=False, kernel=kernel)
        _as_binary("target", t, threshold, ">=", is_target=True, kernel=kernel)
        raise AssertionError("the counting kernel reported mask values that the scan did not find")
    return tp, predicted, support


def _kernel_label_pass(
    counter: Any, p: Any, t: Any, spec: CountingSpec, kernel: KernelSettings
) -> IntArray:
    """Run a compiled label-map pass (``_kernel.confusion_matrix`` or ``_kernel.class_counts``).

    The kernel range-checks the labels as it counts; when it finds an invalid one the values are
    scanned here to word the error.
    """
    counted: IntArray | None = counter(p, t, spec.num_classes, spec.ignore_index, kernel=kernel)
    if counted is None:
        _check_labels("pred", p, spec.num_classes, spec.ignore_index)
        _check_labels("target", t, spec.num_classes, spec.ignore_index)
        raise AssertionError(
            "the counting kernel reported invalid labels that the scan did not find"
        )
    return counted


def _count_matrix(p: Any, t: Any, spec: CountingSpec, kernel: KernelSettings) -> IntArray:
    """Per-image ``C x (C + 1)`` matrices of label maps (kernel or reference)."""
    return _kernel_label_pass(_kernel.confusion_matrix, p, t, spec, kernel)


def _count_classes(p: Any, t: Any, spec: CountingSpec, kernel: KernelSettings) -> IntArray:
    """Per-class ``(tp, predicted, support)`` of label maps in one kernel pass."""
    return _kernel_label_pass(_kernel.class_counts, p, t, spec, kernel)


def _counts_from_classes(counted: IntArray, spec: CountingSpec) -> Counts:
    """Build Counts from per-row ``(tp, predicted, support)`` per class, shape ``(rows, 3, C)``."""
    tp = np.ascontiguousarray(counted[:, 0])
    fp = counted[:, 1] - tp
    fn = counted[:, 2] - tp
    tn = counted[:, 2].sum(axis=1)[:, None] - tp - fp - fn
    return Counts._made(tp, fp, fn, tn, spec)


def count_arrays(
    pred: Any, target: Any, options: CountingOptions, *, kernel: KernelSettings = DEFAULT_KERNEL
) -> Counts:
    """Count numpy arrays: :func:`~segscore.metrics.counting.confusion` without the tensor dispatch.

    ``options`` are already checked (:class:`~segscore.metrics.options.CountingOptions`); the
    arrays are validated here. ``kernel`` says how the counting kernels run
    (:class:`~segscore.metrics._kernel.KernelSettings`); the counts are the same under any.
    """
    threshold = options.threshold
    p, t, spec = _prepare(
        pred,
        target,
        options,
        defer_uint8=kernel.uses_compiled,
        kernel=kernel,
    )
    if spec.mode == "multiclass":
        if _kernel.validates_labels(p, t, spec.num_classes, spec.ignore_index, kernel=kernel):
            return _counts_from_classes(_count_classes(p, t, spec, kernel), spec)
        if not _uses_matrix(p.shape[1], spec.num_classes):
            return _counts_many_classes(p, t, spec)
        return _counts_from_matrix(_count_matrix(p, t, spec, kernel), spec)
    tp, predicted, support = _count_binary(p, t, threshold, kernel)
    shape = (-1, spec.num_classes)
    tp = tp.reshape(shape)
    fp = predicted.reshape(shape) - tp
    fn = support.reshape(shape) - tp
    tn = (p.shape[1] - tp) - fp - fn
    return Counts._made(tp, fp, fn, tn, spec)


def confusion_matrix_arrays(
    pred: Any, target: Any, options: CountingOptions, *, kernel: KernelSettings = DEFAULT_KERNEL
) -> IntArray:
    """Per-image ``C × C`` matrices of numpy label maps (``options.num_classes`` set, checked).

    The engine of :func:`~segscore.metrics.counting.confusion_matrix`; the arrays are validated
    here, ``kernel`` as for :func:`count_arrays`.
    """
    p, t, spec = _prepare(pred, target, options, kernel=kernel)
    matrix = _count_matrix(p, t, spec, kernel)
    return np.ascontiguousarray(matrix[:, :, : spec.num_classes])

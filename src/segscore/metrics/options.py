"""What is counted: one options object for every metric family and every entry point.

:class:`CountingOptions` says how a pair of arrays becomes per-(case, class) quantities: the
number of classes, the probability threshold and its comparison, the ignore label, multilabel
stacks, the number of spatial axes (and so the batch axis), whether the background class enters
class means, and the class names. The same object, with the same defaults, is accepted by
:func:`~segscore.metrics.counting.confusion`, :func:`~segscore.distance_metrics`,
:class:`~segscore.Evaluator`, the torch accumulator, the torchmetrics adapter and folder
evaluation; keyword arguments such as ``num_classes=21`` build the same object.

The rules, written once:

- **Layout.** Without ``spatial_dims`` a 2-D array is one image, a 3-D array is a batch of 2-D
  images ``(N, H, W)`` and a 4-D array a batch of volumes ``(N, D, H, W)``; ``spatial_dims=3``
  reads a 3-D array as one volume. Multilabel stacks have a class axis after the batch axis.
- **Classes.** Binary masks have one class: the foreground, class id ``1`` (the mask value) in
  every result. Label maps have class ids ``0 .. C-1``; multilabel stacks one id per channel.
- **Threshold.** Float predictions are foreground where ``p >= threshold`` or, with
  ``threshold_comparison='>'``, where ``p > threshold`` (torchmetrics' rule; SMP and MONAI use
  ``>=``). Both compare in the prediction's own float dtype (the threshold rounded to it, as
  numpy and torch compare an array with a Python float), so a value exactly at the threshold
  (``sigmoid(0) = 0.5``, float16 outputs) is foreground under ``'>='`` only. The one rule is
  :func:`above_threshold`, for numpy arrays and torch tensors alike.
- **Background.** ``include_background=False`` drops class ``0`` of label maps and channel ``0``
  of multilabel stacks (the one-hot background, as MONAI) from class means, for every metric
  family alike. Binary masks have no background class: the foreground is always scored.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from segscore._types import COMPARISONS, Comparison
from segscore._validation import check_int, check_number, check_option, fail

__all__ = [
    "BINARY_FOREGROUND",
    "DEFAULT_OPTIONS",
    "MAX_CLASSES",
    "CountingOptions",
    "above_threshold",
    "resolve_options",
]

Mode = Literal["binary", "multiclass", "multilabel"]

BINARY_FOREGROUND = 1
"""The class id of the foreground of binary masks, in every result of every family."""

MAX_CLASSES = 2**24
"""The largest ``num_classes`` accepted."""

_FIELDS = (
    "num_classes",
    "threshold",
    "ignore_index",
    "multilabel",
    "spatial_dims",
    "include_background",
    "class_names",
    "threshold_comparison",
)


def _check(values: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """Check every option; messages use ``names`` (e.g. CLI flags) for the option names."""

    def name(key: str) -> str:
        return names.get(key, key)

    out = dict(values)
    out["threshold"] = check_number(
        name("threshold"),
        values["threshold"],
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
    )
    comparison = values["threshold_comparison"]
    if comparison is not None:
        check_option(name("threshold_comparison"), comparison, COMPARISONS)
    ignore = values["ignore_index"]
    if ignore is not None:
        ignore = check_int(name("ignore_index"), ignore)
        if not -(2**63) <= ignore < 2**63:
            fail(f"`{name('ignore_index')}` must fit int64, got {ignore}.")
    out["ignore_index"] = ignore
    multilabel = values["multilabel"]
    if not isinstance(multilabel, (bool, np.bool_)):
        fail(f"`{name('multilabel')}` must be True or False, got {multilabel!r}.")
    out["multilabel"] = bool(multilabel)
    c = values["num_classes"]
    if c is not None:
        if multilabel:
            flag = name("multilabel")
            when = f"`{flag}`" if flag.startswith("-") else f"`{flag}=True`"
            fail(
                f"`{name('num_classes')}` must be None when {when}: classes are the channel "
                f"axis (C), got {c!r}."
            )
        c = check_int(name("num_classes"), c, low=1)
        if c > MAX_CLASSES:
            fail(f"`{name('num_classes')}` must be at most {MAX_CLASSES}, got {c}.")
        if ignore is not None and 0 <= ignore < c:
            fail(
                f"`{name('ignore_index')}` must lie outside [0, {c}) (the class labels), got "
                f"{ignore} (it names pixels to drop, not a class); "
                + (
                    "to leave class 0 out of the class means use `--no-include-background`."
                    if name("include_background").startswith("-")
                    else "to leave classes out of the class means use "
                    "`include_background=False` or `classes=`."
                )
            )
    elif ignore is not None:
        fail(
            f"`{name('ignore_index')}` needs label maps: set `{name('num_classes')}` (binary masks "
            f"have no ignore label), got {name('ignore_index')}={ignore!r} with "
            f"{name('num_classes')}=None."
        )
    out["num_classes"] = c
    dims = values["spatial_dims"]
    if dims is not None:
        dims = check_int(name("spatial_dims"), dims, low=2)
        if dims not in (2, 3):
            fail(f"`{name('spatial_dims')}` must be 2 or 3, got {values['spatial_dims']!r}.")
    out["spatial_dims"] = dims
    background = values["include_background"]
    if background is not None and not isinstance(background, (bool, np.bool_)):
        fail(f"`{name('include_background')}` must be True, False or None, got {background!r}.")
    out["include_background"] = None if background is None else bool(background)
    if c == 1 and out["include_background"] is False:
        fail(
            f"`{name('include_background')}` must not be False with "
            f"`{name('num_classes')}` 1: class 0 is the only class, none would be left "
            "(binary masks: leave num_classes unset, their foreground is scored)."
        )
    out["class_names"] = _check_names(
        name("class_names"), values["class_names"], 1 if c is None and not multilabel else c
    )
    return out


def _check_names(name: str, names: object, num_classes: int | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str) or not isinstance(names, Sequence):
        fail(f"`{name}` must be a sequence of strings, got {names!r}.")
    items = tuple(names)
    bad = [n for n in items if not isinstance(n, str) or not n.strip()]
    if bad or not items:
        fail(f"`{name}` must be non-empty strings, got {list(items)!r}.")
    repeated = sorted({n for n in items if items.count(n) > 1})
    if repeated:
        fail(f"`{name}` must be unique, got {repeated!r} more than once.")
    if num_classes is not None and len(items) != num_classes:
        fail(
            f"`{name}` must have one name per class ({num_classes}), got {len(items)}: "
            f"{list(items)!r}."
        )
    return items


@dataclass(frozen=True, slots=True)
class CountingOptions:
    """How predictions and targets are read and which classes are scored (module docstring).

    Parameters
    ----------
    num_classes : int, optional
        Label maps with classes ``0 .. C-1``. None: binary masks (or multilabel stacks).
    threshold : float, default 0.5
        Float predictions are foreground where ``p >= threshold`` (``p > threshold`` with
        ``threshold_comparison='>'``); in (0, 1).
    ignore_index : int, optional
        Target label (outside ``[0, C)``) whose pixels are left out of every count and surface.
    multilabel : bool, default False
        Inputs hold one binary mask per class on the axis after the batch axis.
    spatial_dims : {2, 3}, optional
        Number of spatial axes; None reads 2-D as one image, 3-D as a batch of 2-D images.
    include_background : bool, optional
        Class 0 (channel 0 of multilabel stacks) enters class means. No effect on binary masks.
        None (the default) means "not chosen": True, unless a preset decides otherwise.
    class_names : sequence of str, optional
        One name per class (``num_classes`` names for label maps; one per channel for
        multilabel stacks, checked when counting; one name for binary masks' foreground).
    threshold_comparison : {'>=', '>'}, optional
        Whether a probability exactly at ``threshold`` is foreground (``'>='``) or not
        (``'>'``, torchmetrics); compared in the prediction's dtype. None (the default) means
        "not chosen": ``'>='``, unless a preset decides otherwise (:attr:`threshold_test`).

    Raises
    ------
    InputError
        On any value out of its range or a combination that cannot be counted (``ignore_index``
        without ``num_classes``, ``num_classes`` with ``multilabel``, the ignore label inside the
        class range, a wrong number of class names). Found here, before any case is read.

    Examples
    --------
    >>> opts = CountingOptions(num_classes=3, ignore_index=255, include_background=False)
    >>> opts.mode, opts.class_ids(3), opts.kept_columns(3)
    ('multiclass', (0, 1, 2), (1, 2))
    >>> CountingOptions().class_ids(1), CountingOptions(include_background=False).kept_columns(1)
    ((1,), (0,))
    >>> CountingOptions().threshold_test, CountingOptions(threshold_comparison=">").threshold_test
    ('>=', '>')
    >>> CountingOptions(ignore_index=255)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `ignore_index` needs label maps: set `num_classes` (binary masks have no ignore label), got ignore_index=255 with num_classes=None.
    """

    num_classes: int | None = None
    threshold: float = 0.5
    ignore_index: int | None = None
    multilabel: bool = False
    spatial_dims: int | None = None
    include_background: bool | None = None
    class_names: tuple[str, ...] | None = None
    threshold_comparison: Comparison | None = None

    def __post_init__(self) -> None:
        checked = _check({f: getattr(self, f) for f in _FIELDS}, {})
        for key, value in checked.items():
            object.__setattr__(self, key, value)

    @classmethod
    def checked(cls, names: Mapping[str, str] | None = None, **values: Any) -> CountingOptions:
        """Build options, wording errors with ``names`` (e.g. ``{'num_classes': '--num-classes'}``).

        Examples
        --------
        >>> CountingOptions.checked({"threshold": "--threshold"}, threshold=2.0)
        Traceback (most recent call last):
        ...
        segscore.errors.InputError: `--threshold` must be a number in (0, 1), got 2.0.
        """
        unknown = sorted(set(values) - set(_FIELDS))
        if unknown:
            fail(f"`options` must use the fields {', '.join(_FIELDS)}, got {unknown!r}.")
        full = {f: values.get(f, getattr(DEFAULT_OPTIONS, f)) for f in _FIELDS}
        checked = _check(full, names or {})
        made = object.__new__(cls)  # the values are checked: no second check in __post_init__
        for key, value in checked.items():
            object.__setattr__(made, key, value)
        return made

    @property
    def mode(self) -> Mode:
        """``'binary'``, ``'multiclass'`` or ``'multilabel'``."""
        if self.multilabel:
            return "multilabel"
        return "binary" if self.num_classes is None else "multiclass"

    @property
    def background(self) -> bool:
        """Whether class 0 enters class means (``include_background``, True when not chosen)."""
        return True if self.include_background is None else self.include_background

    @property
    def threshold_test(self) -> Comparison:
        """The probability threshold's comparison (``threshold_comparison``, ``'>='`` when not chosen)."""
        return ">=" if self.threshold_comparison is None else self.threshold_comparison

    def class_ids(self, n_columns: int) -> tuple[int, ...]:
        """Return the class id of each of ``n_columns`` count columns (binary: the foreground, 1)."""
        if self.mode == "binary":
            return (BINARY_FOREGROUND,) * n_columns
        return tuple(range(n_columns))

    def kept_columns(self, n_columns: int) -> tuple[int, ...]:
        """Return the columns that enter class means (all but column 0 without background; binary: all)."""
        if self.mode == "binary" or self.background:
            return tuple(range(n_columns))
        if n_columns < 2:
            fail(
                "`include_background` must not be False for a multilabel stack of one channel: "
                "channel 0 is the only class, none would be left."
            )
        return tuple(range(1, n_columns))

    def class_name(self, column: int) -> str:
        """Return the name of a count column: its class name, else its class id as text."""
        if self.class_names is not None and column < len(self.class_names):
            return self.class_names[column]
        return str(self.class_ids(column + 1)[column])

    def replace(self, **changes: Any) -> CountingOptions:
        """Return a copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Return the options as a JSON-friendly dict.

        Examples
        --------
        >>> CountingOptions(num_classes=2).as_dict()["mode"]
        'multiclass'
        """
        return {
            "mode": self.mode,
            "num_classes": self.num_classes,
            "threshold": self.threshold,
            "threshold_comparison": self.threshold_test,
            "ignore_index": self.ignore_index,
            "multilabel": self.multilabel,
            "spatial_dims": self.spatial_dims,
            "include_background": self.background,
            "class_names": None if self.class_names is None else list(self.class_names),
        }


DEFAULT_OPTIONS = CountingOptions()
"""Binary masks, threshold 0.5 (``p >= 0.5``), no ignore label, 2-D images, background included."""


def above_threshold(values: Any, threshold: float, comparison: Comparison) -> Any:
    """Return where float ``values`` pass the threshold: ``values >= t`` or ``values > t``.

    The one thresholding rule of segscore (module docstring), for numpy arrays and torch
    tensors. The comparison is made in the values' own float dtype, the threshold rounded to it
    (as numpy and torch compare an array with a Python float): ``p > t`` is exactly
    ``p >= nextafter(t, +inf)`` in that dtype.

    Parameters
    ----------
    values : ndarray or torch.Tensor of float
        Probabilities.
    threshold : float
        The threshold (checked by the caller).
    comparison : {'>=', '>'}
        Whether a value exactly at the threshold passes.

    Returns
    -------
    ndarray or torch.Tensor of bool
        The foreground, the shape of ``values``.

    Examples
    --------
    >>> p = np.array([0.25, 0.5, 0.75], dtype=np.float16)
    >>> above_threshold(p, 0.5, ">="), above_threshold(p, 0.5, ">")
    (array([False,  True,  True]), array([False, False,  True]))
    """
    t = float(threshold)
    return values > t if comparison == ">" else values >= t


def resolve_options(options: CountingOptions | None, **keywords: Any) -> CountingOptions:
    """Return ``options``, or the options built from keyword arguments (never both).

    A keyword left at its default does not conflict with ``options``; a keyword set to another
    value together with ``options`` is an error, so that no choice is silently overridden.

    Examples
    --------
    >>> resolve_options(None, num_classes=4).num_classes
    4
    >>> resolve_options(CountingOptions(num_classes=4), num_classes=5)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `num_classes` must not be given with `options` (set it in the options), got num_classes=5 with options.num_classes=4.
    """
    if options is None:
        return _from_keywords(tuple(sorted(keywords.items())))
    if not isinstance(options, CountingOptions):
        fail(f"`options` must be CountingOptions, got {type(options).__name__}.")
    for key, value in keywords.items():
        default = getattr(DEFAULT_OPTIONS, key)
        same_default = value is default or (
            isinstance(value, float) and isinstance(default, float) and value == default
        )
        if same_default or (isinstance(value, float) and math.isnan(value)):
            continue
        if value != getattr(options, key):
            fail(
                f"`{key}` must not be given with `options` (set it in the options), got "
                f"{key}={value!r} with options.{key}={getattr(options, key)!r}."
            )
    return options


@functools.lru_cache(maxsize=256)
def _cached(items: tuple[tuple[str, type, Any], ...]) -> CountingOptions:
    return CountingOptions.checked(**{key: value for key, _, value in items})


def _from_keywords(items: tuple[tuple[str, Any], ...]) -> CountingOptions:
    """Options from keyword arguments, cached (they are immutable): a call costs a dict lookup.

    Values that cannot be a cache key (unhashable) or whose checks fail are built uncached, so
    the error is raised every time.
    """
    try:
        hash(items)
    except TypeError:
        return CountingOptions.checked(**dict(items))
    if any(type(v) is float and v != v for _, v in items):  # NaN keys never hit: build directly
        return CountingOptions.checked(**dict(items))
    # The type is part of the key: 1 == True and 2.0 == 2 must not share an entry (both invalid).
    return _cached(tuple((key, type(value), value) for key, value in items))

"""Argument checks. Every user-facing error message of the package is worded here.

Messages follow one template: ``"`{name}` must {requirement}, got {actual}."`` with shapes, dtypes
and values included, so that a message names the argument, what was expected and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import numpy as np

from segscore.errors import InputError

__all__ = [
    "check_finite_probabilities",
    "check_int",
    "check_ndim",
    "check_not_empty",
    "check_number",
    "check_option",
    "check_same_shape",
    "fail",
    "fail_binary_values",
    "fail_labels",
]


def fail(message: str) -> NoReturn:
    """Raise an :class:`~segscore.errors.InputError` with ``message``."""
    raise InputError(message)


def _show(values: Iterable[Any], limit: int = 8) -> str:
    items = list(values)
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in items[:limit])
    more = f", ... ({len(items)} in all)" if len(items) > limit else ""
    return f"[{shown}{more}]"


def check_option(name: str, value: object, allowed: Sequence[object]) -> None:
    """Check that ``value`` is one of ``allowed``.

    Examples
    --------
    >>> check_option("average", "mean", ("none", "macro"))
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `average` must be one of 'none', 'macro', got 'mean'.
    """
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        fail(f"`{name}` must be one of {options}, got {value!r}.")


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number within the given bounds; return it as float.

    Examples
    --------
    >>> check_number("threshold", 1.5, low=0, high=1, low_inclusive=False, high_inclusive=False)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `threshold` must be a number in (0, 1), got 1.5.
    """
    lo = "" if low is None else ("[" if low_inclusive else "(") + f"{low:g}"
    hi = "" if high is None else f"{high:g}" + ("]" if high_inclusive else ")")
    if low is not None and high is not None:
        requirement = f"a number in {lo}, {hi}"
    elif low is not None:
        requirement = f"a number {'>=' if low_inclusive else '>'} {low:g}"
    elif high is not None:
        requirement = f"a number {'<=' if high_inclusive else '<'} {high:g}"
    else:
        requirement = "a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(f"`{name}` must be {requirement}, got {value!r}.")
    number = float(value)
    ok = math.isfinite(number)
    if ok and low is not None:
        ok = number >= low if low_inclusive else number > low
    if ok and high is not None:
        ok = number <= high if high_inclusive else number < high
    if not ok:
        fail(f"`{name}` must be {requirement}, got {value!r}.")
    return number


def check_int(name: str, value: object, *, low: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool) of at least ``low``; return it.

    Examples
    --------
    >>> check_int("num_classes", 0, low=1)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `num_classes` must be an integer >= 1, got 0.
    """
    requirement = "an integer" if low is None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        fail(f"`{name}` must be {requirement}, got {value!r}.")
    number = int(value)
    if low is not None and number < low:
        fail(f"`{name}` must be {requirement}, got {value!r}.")
    return number


def check_same_shape(
    pred_shape: tuple[int, ...],
    target_shape: tuple[int, ...],
    names: tuple[str, str] = ("pred", "target"),
) -> None:
    """Check that prediction and target shapes are equal.

    Examples
    --------
    >>> check_same_shape((256, 256), (256, 255))
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `pred` and `target` must have the same shape, got (256, 256) and (256, 255).
    """
    if tuple(pred_shape) != tuple(target_shape):
        fail(
            f"`{names[0]}` and `{names[1]}` must have the same shape, "
            f"got {tuple(pred_shape)} and {tuple(target_shape)}."
        )


def check_ndim(name: str, shape: tuple[int, ...], allowed: Sequence[int], meaning: str) -> None:
    """Check the number of axes of an array.

    Examples
    --------
    >>> check_ndim("pred", (4,), (2, 3, 4), "(H, W), (N, H, W) or (N, D, H, W)")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `pred` must have 2, 3 or 4 axes: (H, W), (N, H, W) or (N, D, H, W), got shape (4,).
    """
    if len(shape) not in allowed:
        counts = [str(a) for a in allowed]
        listed = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " or " + counts[-1]
        fail(f"`{name}` must have {listed} axes: {meaning}, got shape {tuple(shape)}.")


def check_not_empty(name: str, shape: tuple[int, ...]) -> None:
    """Check that an array holds at least one element.

    Examples
    --------
    >>> check_not_empty("pred", (0, 16, 16))
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `pred` must not be empty, got shape (0, 16, 16).
    """
    if 0 in shape:
        fail(f"`{name}` must not be empty, got shape {tuple(shape)}.")


def check_finite_probabilities(name: str, low: float, high: float, n_nonfinite: int) -> None:
    """Check that float values are finite and within [0, 1] (the caller computes the extremes).

    Examples
    --------
    >>> check_finite_probabilities("pred", -0.5, 1.0, 0)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `pred` must hold probabilities in [0, 1], got values in [-0.5, 1].
    """
    if n_nonfinite:
        fail(f"`{name}` must hold finite probabilities, got {n_nonfinite} NaN or infinite values.")
    if low < 0.0 or high > 1.0:
        fail(f"`{name}` must hold probabilities in [0, 1], got values in [{low:g}, {high:g}].")


def fail_binary_values(name: str, values: Iterable[Any]) -> NoReturn:
    """Raise for a binary mask whose values are neither {0, 1} nor {0, 255}.

    Examples
    --------
    >>> fail_binary_values("target", [0, 1, 2])
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `target` must be a binary mask with values {0, 1} or {0, 255}, got values [0, 1, 2]; for label maps set `num_classes`.
    """
    fail(
        f"`{name}` must be a binary mask with values {{0, 1}} or {{0, 255}}, got values "
        f"{_show(values)}; for label maps set `num_classes`."
    )


def fail_labels(
    name: str, labels: Iterable[Any], num_classes: int, ignore_index: int | None
) -> NoReturn:
    """Raise for labels outside ``[0, num_classes)`` that are not the ignore label.

    Examples
    --------
    >>> fail_labels("target", [3, 7], 3, None)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `target` has labels [3, 7] outside [0, 3); set `num_classes` or `ignore_index`.
    """
    allowed = f"[0, {num_classes})"
    if ignore_index is not None:
        allowed += f" and not the ignore label {ignore_index}"
    fail(
        f"`{name}` has labels {_show(labels)} outside {allowed}; set `num_classes` or `ignore_index`."
    )


def check_spacing(name: str, spacing: object, ndim: int) -> tuple[float, ...]:
    """Check a voxel spacing: one positive finite number per axis (numpy order), or one for all.

    Examples
    --------
    >>> check_spacing("spacing", (1.0, 0.8), 3)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `spacing` must have 3 values (one per array axis, in numpy axis order), got (1.0, 0.8).
    >>> check_spacing("spacing", (1.0, -2.0), 2)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `spacing` must hold positive finite numbers, got (1.0, -2.0).
    """
    if spacing is None:
        return (1.0,) * ndim
    if isinstance(spacing, (int, float, np.integer, np.floating)) and not isinstance(spacing, bool):
        values: tuple[Any, ...] = (spacing,) * ndim
    else:
        try:
            values = tuple(np.asarray(spacing, dtype=object).ravel().tolist())
        except (TypeError, ValueError):  # pragma: no cover - np.asarray(object) rarely fails
            fail(f"`{name}` must be a sequence of {ndim} positive numbers, got {spacing!r}.")
        if np.ndim(np.asarray(spacing, dtype=object)) != 1 or len(values) != ndim:
            shown = tuple(spacing) if isinstance(spacing, (list, tuple)) else spacing
            hint = ""
            if ndim == 2 and len(values) == 3:  # the commonest cause: one volume read as a batch
                hint = (
                    "; a 3-D array is a batch of 2-D images unless `spatial_dims=3` "
                    "(one volume (D, H, W))"
                )
            fail(
                f"`{name}` must have {ndim} values (one per array axis, in numpy axis order), "
                f"got {shown!r}{hint}."
            )
    ok = all(
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, bool)
        and math.isfinite(float(v))
        and float(v) > 0
        for v in values
    )
    if not ok:
        shown = tuple(spacing) if isinstance(spacing, (list, tuple)) else spacing
        fail(f"`{name}` must hold positive finite numbers, got {shown!r}.")
    if max(float(v) for v in values) > 1e100:
        # Squared distances must stay finite in float64 (1e100 squared is 1e200).
        fail(f"`{name}` must hold numbers at most 1e100, got {tuple(values)!r}.")
    return tuple(float(v) for v in values)


# --- Files and folders (datasets): every message names the file, what was expected and what was found.

__all__ += ["fail_file", "fail_files", "show_values"]


def fail_file(path: object, requirement: str, found: str) -> NoReturn:
    """Raise a :class:`~segscore.errors.DatasetError` for one file or folder.

    Examples
    --------
    >>> fail_file("masks/a.png", "hold a binary mask with values {0, 1} or {0, 255}", "values [0, 7]")
    Traceback (most recent call last):
    ...
    segscore.errors.DatasetError: 'masks/a.png' must hold a binary mask with values {0, 1} or {0, 255}, got values [0, 7].
    """
    from segscore.errors import DatasetError

    raise DatasetError(f"{str(path)!r} must {requirement}, got {found}.")


def fail_files(problem: str, names: Iterable[str], where: object, limit: int = 10) -> NoReturn:
    """Raise a :class:`~segscore.errors.DatasetError` listing the files that share one problem.

    Examples
    --------
    >>> fail_files("image without mask", ["a.png", "b.png"], "data/")
    Traceback (most recent call last):
    ...
    segscore.errors.DatasetError: image without mask in 'data/': a.png, b.png.
    """
    items = list(names)
    shown = ", ".join(items[:limit])
    more = f", ... ({len(items)} in all)" if len(items) > limit else ""
    from segscore.errors import DatasetError

    raise DatasetError(f"{problem} in {str(where)!r}: {shown}{more}.")


def show_values(values: Iterable[Any], limit: int = 8) -> str:
    """Format values found in data for a message, at most ``limit`` of them.

    Examples
    --------
    >>> show_values(np.arange(20))
    '[0, 1, 2, 3, 4, 5, 6, 7, ... (20 in all)]'
    """
    return _show(values, limit)


# --- Accumulators, multi-process sync and clusters (segscore.integrations, evaluation.dask).

__all__ += [
    "fail_changed",
    "fail_merge",
    "fail_missing_extra",
    "fail_must",
    "fail_ranks",
    "fail_unreachable",
]


def fail_must(name: str, requirement: str, found: object) -> NoReturn:
    """Raise the template message ``"`{name}` must {requirement}, got {found}."``.

    Examples
    --------
    >>> fail_must("pred", "be a torch tensor", "ndarray")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `pred` must be a torch tensor, got ndarray.
    """
    fail(f"`{name}` must {requirement}, got {found}.")


def fail_changed(what: str, first: object, then: object) -> NoReturn:
    """Raise for an accumulator whose updates disagree on ``what`` (device, dtype, shape, ...).

    Examples
    --------
    >>> fail_changed("device", "cpu", "cuda:0")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: every update must have the same device, got cpu and then cuda:0.
    """
    fail(f"every update must have the same {what}, got {first} and then {then}.")


def fail_merge(what: str, first: object, second: object) -> NoReturn:
    """Raise for two accumulators that cannot be merged.

    Examples
    --------
    >>> fail_merge("conventions", {"threshold": 0.5}, {"threshold": 0.3})
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: accumulators to merge must have the same conventions, got {'threshold': 0.5} and {'threshold': 0.3}.
    """
    fail(f"accumulators to merge must have the same {what}, got {first} and {second}.")


def fail_ranks(what: str, values: Iterable[Any]) -> NoReturn:
    """Raise for processes of a distributed group that disagree on ``what``.

    Examples
    --------
    >>> fail_ranks("number of classes", [3, 4])
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: every rank must have the same number of classes, got [3, 4] (in rank order).
    """
    fail(f"every rank must have the same {what}, got {_show(values, limit=16)} (in rank order).")


def fail_missing_extra(feature: str, package: str, extra: str) -> NoReturn:
    """Raise for an optional dependency that is not installed, naming the extra to install.

    Examples
    --------
    >>> fail_missing_extra("`evaluate_dask`", "dask.distributed", "dask")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `evaluate_dask` needs dask.distributed, which is not installed: pip install 'segscore[dask]'.
    """
    fail(f"{feature} needs {package}, which is not installed: pip install 'segscore[{extra}]'.")


def fail_unreachable(what: str, address: str, timeout: float, detail: str) -> NoReturn:
    """Raise for a server (a Dask scheduler) that did not answer in time.

    Examples
    --------
    >>> fail_unreachable("Dask scheduler", "tcp://127.0.0.1:1", 10, "connection refused")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: cannot reach the Dask scheduler at 'tcp://127.0.0.1:1' within 10 s (connection refused); no case was scored.
    """
    fail(
        f"cannot reach the {what} at {address!r} within {timeout:g} s ({detail}); "
        "no case was scored."
    )

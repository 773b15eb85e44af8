"""Panoptic pairs in a folder evaluation: their settings, each case's counts, their scores.

A panoptic file holds one array of shape ``(*S, 2)`` (``.npy``, or ``.npz`` with one array):
channel 0 is the class id of every pixel, channel 1 its instance id (torchmetrics'
``PanopticQuality`` layout; instance ids are read for thing pixels only). Two files given as
``--pred``/``--gt`` are stacks ``(N, *S, 2)`` under the usual batch rule (a 2-D class map per
image unless ``spatial_dims=3``).

Each case gives its :class:`~segscore.metrics.instance.panoptic.PanopticCounts` (matched,
false-positive and false-negative segments and the matched IoU sum, per class: a few numbers
per class, merged exactly over the cases) and its class maps, which the pixel metrics score as
label maps of ``max(things + stuffs) + 1`` classes. The void class (``ignore_index``) counts
nowhere, on either side: a pixel the prediction calls void is left out of the pixel counts as
PQ leaves it out of every union.

The settings are checked before any file is read (:func:`check_panoptic`): things and stuffs
disjoint and not void, PQ's matching rule (same class, IoU > 1/2, one-to-one) against the
matching options and the preset, the object metrics limited to pq, sq and rq.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from segscore._validation import fail_must
from segscore.errors import InputError
from segscore.metrics.options import CountingOptions
from segscore.metrics.registry import MetricSpec, parse_metrics

if TYPE_CHECKING:
    from segscore.evaluation.runner import EvaluateOptions, Evaluation
    from segscore.evaluation.settings import EvaluationSettings
    from segscore.metrics.instance.panoptic import PanopticCounts
    from segscore.metrics.presets import Preset
    from segscore.metrics.reduce import Score

__all__ = [
    "PANOPTIC_METRICS",
    "PanopticSettings",
    "case_panoptic",
    "check_panoptic",
    "panoptic_groups",
    "panoptic_metric_scores",
    "panoptic_num_classes",
    "split_panoptic",
]

PANOPTIC_METRICS = ("pq", "sq", "rq")
"""The object metrics of panoptic pairs (added when ``panoptic`` is set without any named)."""


@dataclass(frozen=True)
class PanopticSettings:
    """Which classes of panoptic pairs are things, stuffs and void (Kirillov 2019).

    The files hold ``(*S, 2)`` arrays: channel 0 the class id, channel 1 the instance id
    (torchmetrics' layout). Segments of one class match when their IoU is above 1/2
    (:func:`~segscore.metrics.instance.panoptic.panoptic_counts`); the pixel metrics score the
    class maps (channel 0) as label maps of ``max(things + stuffs) + 1`` classes, with the
    void pixels of either side left out as PQ leaves them.

    Attributes
    ----------
    things, stuffs : tuple of int
        The thing and the stuff class ids (sorted, disjoint).
    void : int or None
        The void class (the counting options' ``ignore_index``): its pixels count nowhere.
    """

    things: tuple[int, ...] = ()
    stuffs: tuple[int, ...] = ()
    void: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        from segscore.metrics.instance.panoptic import panoptic_record

        record = panoptic_record(self.things, self.stuffs, self.void)
        record.update(
            layout="(*S, 2) arrays: channel 0 class id, channel 1 instance id",
            pixel_metrics="class maps (channel 0); void pixels of either side left out",
        )
        return record


_RULE = {"matching": "unique", "criterion": "iou", "comparison": ">"}
"""PQ's matching rule, in the words of the object options (IoU > 1/2 makes matches unique)."""


def _class_ids(value: str | Iterable[int] | None, argument: str) -> tuple[int, ...]:
    """Parse class ids: ``'1,2'`` or integers >= 0; sorted, without repeats."""
    if value is None:
        return ()
    items: list[Any]
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    else:
        try:
            items = list(value)
        except TypeError:
            fail_must(argument, "be comma-separated class ids >= 0 such as 1,2", repr(value))
    out = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, np.integer)):
            fail_must(argument, "be comma-separated class ids >= 0 such as 1,2", repr(value))
        text = str(item)
        if not text.isdigit():
            fail_must(argument, "be comma-separated class ids >= 0 such as 1,2", repr(value))
        out.add(int(text))
    return tuple(sorted(out))


def panoptic_num_classes(
    things: str | Iterable[int] | None,
    stuffs: str | Iterable[int] | None,
    *,
    name: Callable[[str], str] = str,
) -> int | None:
    """Return the number of classes of the class maps: the largest thing or stuff id + 1.

    None when neither names a class (:func:`check_panoptic` says so). The CLI sets
    ``--num-classes`` to it, so that the void class (``--ignore-index``) is checked against it.

    Examples
    --------
    >>> panoptic_num_classes("1,2", "0,3"), panoptic_num_classes(None, "")
    (4, None)
    """
    ids = _class_ids(things, name("things")) + _class_ids(stuffs, name("stuffs"))
    return max(ids) + 1 if ids else None


def check_panoptic(
    specs: tuple[MetricSpec, ...],
    options: CountingOptions,
    *,
    panoptic: bool,
    things: str | Iterable[int] | None,
    stuffs: str | Iterable[int] | None,
    preset: Preset | None,
    aggregation: str | None,
    given: Mapping[str, Any],
    name: Callable[[str], str],
) -> tuple[tuple[MetricSpec, ...], CountingOptions, PanopticSettings]:
    """Check the panoptic options; return the metrics, the counting options and the settings.

    ``given`` holds the object options as passed (None: unset); ``name`` words the arguments
    (the CLI's flags). Every conflict raises :class:`~segscore.errors.InputError` here,
    before any file is read.

    Examples
    --------
    >>> from segscore.metrics.registry import parse_metrics
    >>> opts = CountingOptions(num_classes=3, ignore_index=255)
    >>> specs, opts, s = check_panoptic(
    ...     parse_metrics("iou"), opts, panoptic=True, things="1,2",
    ...     stuffs=[0], preset=None, aggregation=None, given={}, name=str)
    >>> [m.name for m in specs], opts.num_classes, s
    (['iou', 'pq', 'sq', 'rq'], 3, PanopticSettings(things=(1, 2), stuffs=(0,), void=255))
    """
    flag = name("panoptic")
    if not panoptic:
        key, value = ("things", things) if things is not None else ("stuffs", stuffs)
        fail_must(name(key), f"come with `{flag}`", f"{value!r} without it")
    thing_ids = _class_ids(things, name("things"))
    stuff_ids = _class_ids(stuffs, name("stuffs"))
    if not thing_ids and not stuff_ids:
        fail_must(f"{name('things')}` or `{name('stuffs')}", f"name classes with `{flag}`", "none")
    both = sorted(set(thing_ids) & set(stuff_ids))
    if both:
        fail_must(f"{name('things')}` and `{name('stuffs')}", "not share class ids", f"{both}")
    void = options.ignore_index
    if void is not None and void in thing_ids + stuff_ids:
        fail_must(
            name("ignore_index"),
            f"(the void class of `{flag}`) not be a thing or stuff class",
            void,
        )
    for key in ("instances", "connectivity", "object_distances"):
        if given.get(key) is not None:
            fail_must(
                name(key),
                f"not be set with `{flag}` (channel 1 of the files holds the instance ids)",
                repr(given[key]),
            )
    rule = " ".join(f"{k} {v!r}" for k, v in _RULE.items())
    for key, fixed in _RULE.items():
        value = given.get(key)
        if value is not None and value != fixed:
            fail_must(
                name(key),
                f"be {fixed!r} or unset with `{flag}` (PQ matches segments of one class when "
                "IoU > 0.5, one-to-one)",
                repr(value),
            )
    conventions = preset.instance if preset is not None else None
    if preset is not None and conventions is not None:
        found = {k: getattr(conventions, k) for k in _RULE}
        if found != _RULE:
            fail_must(
                f"{name('preset')} {preset.name}",
                f"agree with `{flag}` ({rule}: PQ's rule) or be left unset",
                " ".join(f"{k} {v!r}" for k, v in found.items()),
            )
        if aggregation is not None and (aggregation in ("pooled", "pooled_micro")) != (
            conventions.aggregation in ("pooled", "pooled_micro")
        ):
            fail_must(
                name("aggregation"),
                f"agree with `{name('preset')} {preset.name}` for object metrics "
                f"({conventions.aggregation!r}) or be left unset",
                repr(aggregation),
            )
    if options.multilabel:
        fail_must(name("multilabel"), f"not be set with `{flag}` (one class map per case)", True)
    if options.include_background is not None:
        fail_must(
            name("include_background"),
            f"be unset with `{flag}` (`{name('things')}` and `{name('stuffs')}` say which "
            f"classes are scored; `{name('ignore_index')}` is the void class)",
            options.include_background,
        )
    top = max(thing_ids + stuff_ids)
    if options.num_classes is not None and options.num_classes <= top:
        fail_must(
            name("num_classes"),
            f"be greater than every thing and stuff class ({top}) or unset with `{flag}`",
            options.num_classes,
        )
    wanted = [m for m in specs if m.kind == "instance"]
    other = [m.name for m in wanted if m.name not in PANOPTIC_METRICS]
    if other:
        fail_must(
            name("metrics"),
            f"hold the object metrics pq, sq, rq only with `{flag}` (pixel metrics score the "
            "class maps)",
            ", ".join(other),
        )
    if not wanted:
        specs = specs + parse_metrics(PANOPTIC_METRICS)
    counting = options.replace(
        num_classes=top + 1 if options.num_classes is None else options.num_classes,
        include_background=True,
    )
    return specs, counting, PanopticSettings(thing_ids, stuff_ids, void)


def split_panoptic(
    array: np.ndarray[Any, Any], what: str
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Return the class map and the instance map of a ``(*S, 2)`` panoptic array.

    ``what`` names the array in errors (``"prediction 'p/a.npy'"``).

    Examples
    --------
    >>> classes, instances = split_panoptic(np.array([[[1, 7], [0, 0]]]), "x")
    >>> classes.tolist(), instances.tolist()
    ([[1, 0]], [[7, 0]])
    >>> split_panoptic(np.zeros((4, 4, 3), np.uint8), "prediction 'a.npy'")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `prediction 'a.npy'` must be a panoptic array of shape (*S, 2) (channel 0 class ids, channel 1 instance ids), got shape (4, 4, 3).
    """
    if array.ndim < 3 or array.shape[-1] != 2:
        fail_must(
            what,
            "be a panoptic array of shape (*S, 2) (channel 0 class ids, channel 1 instance ids)",
            f"shape {array.shape}",
        )
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        fail_must(what, "hold integer class and instance ids", f"dtype {array.dtype}")
    if array.size and np.issubdtype(array.dtype, np.signedinteger):
        low = int(array.min())
        if low < 0:
            fail_must(what, "hold class and instance ids >= 0", f"minimum {low}")
    return array[..., 0], array[..., 1]


def case_panoptic(
    p: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    options: EvaluateOptions,
    *,
    names: tuple[str, str] = ("the prediction", "the ground truth"),
    spatial_dims: int | None = None,
) -> tuple[PanopticCounts, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Return the panoptic counts of one case (or stack) and the class maps its pixels score.

    ``names`` say which file is which in errors; ``options.panoptic`` holds the things and
    stuffs, ``options.ignore_index`` the void class. The prediction's void pixels are void in
    the returned target class map too (left out of the pixel counts), and 0 in the prediction's.

    Raises
    ------
    InputError
        On a bad layout, float or negative ids, an instance id used by two classes, a class
        neither thing, stuff nor void (the message names the file).
    """
    from segscore.metrics.instance.panoptic import panoptic_counts

    assert options.panoptic is not None
    things, stuffs = options.panoptic
    pred, target = names
    pc, pi = split_panoptic(p, pred)
    tc, ti = split_panoptic(t, target)
    try:
        counts = panoptic_counts(
            pc, pi, tc, ti, things=things, stuffs=stuffs, void=options.ignore_index,
            spatial_dims=spatial_dims,
        )  # fmt: skip
    except InputError as exc:
        message = str(exc)
        for role, file in (("pred", pred), ("target", target)):
            message = message.replace(f"`{role}_classes`", f"{file} (channel 0, class ids)")
            message = message.replace(f"`{role}_instances`", f"{file} (channel 1, instance ids)")
        raise InputError(message) from exc
    void = options.ignore_index
    if void is None:
        return counts, pc, tc
    left_out = pc == void
    if not left_out.any():
        return counts, pc, tc
    return counts, np.where(left_out, 0, pc), np.where(left_out, void, tc)


def panoptic_metric_scores(
    evaluation: Evaluation, settings: EvaluationSettings, *, aggregation: str | None = None
) -> dict[str, Score]:
    """Return the Score of every panoptic metric of a run from its merged counts.

    ``aggregation`` overrides each metric's rule (the summary's ``pooled`` entry).
    """
    from segscore.errors import DatasetError
    from segscore.metrics.instance.panoptic import panoptic_score_counts

    if evaluation.panoptic is None:
        raise DatasetError("panoptic metrics were asked for but no case has them; this is a bug.")
    opts = settings.options
    named = None
    if opts.class_names is not None:
        named = [opts.class_name(k) for k in evaluation.panoptic.class_ids]
    out: dict[str, Score] = {}
    for spec in settings.instance_metrics:
        preset = settings.preset_for(spec)
        out[spec.name] = panoptic_score_counts(
            evaluation.panoptic,
            spec.name,
            aggregation=(aggregation or settings.aggregation_for(spec)),  # type: ignore[arg-type]
            empty=settings.empty_for(spec),
            preset=None if preset is None else preset.name,
            class_names=named,
        )[spec.name]
    return out


def panoptic_groups(score: Score, chosen: PanopticSettings) -> dict[str, Any]:
    """Return the mean over the thing, the stuff and all classes of a metric's ``per_class``.

    Classes whose value is NaN (no segment on either side) are left out and counted; under the
    pooled rule, ``all`` is the metric's value (Kirillov's PQ, PQ^Th and PQ^St).

    Examples
    --------
    >>> from segscore.metrics.instance.panoptic import panoptic_scores
    >>> pc = np.array([[0, 1, 1, 1, 0, 0, 0]]); pi = np.array([[0, 7, 7, 7, 0, 0, 0]])
    >>> tc = np.array([[0, 1, 1, 0, 0, 1, 0]]); ti = np.array([[0, 3, 3, 0, 0, 4, 0]])
    >>> s = panoptic_scores(pc, pi, tc, ti, things=[1, 2], stuffs=[0])["pq"]
    >>> g = panoptic_groups(s, PanopticSettings((1, 2), (0,)))
    >>> g["things"], g["stuffs"]["mean"], g["all"]["mean"] == s.value
    ({'classes': [1, 2], 'mean': 0.4444444444444444, 'n_valid': 1, 'n_nan': 1}, 0.6, True)
    """
    values = dict(zip(score.class_ids, np.asarray(score.per_class).tolist(), strict=True))
    groups = {"things": chosen.things, "stuffs": chosen.stuffs}
    groups["all"] = chosen.things + chosen.stuffs
    out: dict[str, Any] = {}
    for group, classes in groups.items():
        found = [values[k] for k in classes if k in values]
        valid = [v for v in found if not math.isnan(v)]
        out[group] = {
            "classes": list(classes),
            "mean": math.fsum(valid) / len(valid) if valid else math.nan,
            "n_valid": len(valid),
            "n_nan": len(found) - len(valid),
        }
    return out

"""What a folder evaluation computes and under which conventions, checked before any case is read.

:class:`EvaluationSettings` gathers the counting options (:class:`~segscore.CountingOptions`),
the metrics (parsed by the one registry), the aggregation rule, the empty-mask policy, the preset,
the spacing, the bootstrap and the palette of colour masks. :func:`make_settings` builds and checks it once, so that an option
conflict is found before the first file is opened; its ``names`` argument words errors with the
command line's flags (``--num-classes``) instead of the API's arguments (``num_classes``).

Per metric, :meth:`EvaluationSettings.empty_for` and :meth:`EvaluationSettings.aggregation_for`
say which policy and rule apply: an explicit choice first, then the preset's rule for that metric,
then segscore's default. Metrics that do not pool over images (boundary metrics) take the
per-image rule closest to a pooled one (``images_then_classes``), and their conventions say so.

:func:`label_set_options` builds the counting options of a built-in label set
(:mod:`segscore.data.label_sets`: ``voc``, ``cityscapes``, ``ade20k``): its class names, its
number of classes and its ignore label, unless given; a given value that contradicts the set is an
error naming both.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from segscore._types import Aggregation
from segscore._validation import check_int, check_option, fail
from segscore.data.label_sets import get_label_set
from segscore.evaluation.panoptic import PanopticSettings, check_panoptic
from segscore.io.arrays import MAX_PIXELS_DEFAULT
from segscore.io.palette import Palette, read_palette
from segscore.metrics.empty import EmptyPolicy, as_empty_policy
from segscore.metrics.options import CountingOptions
from segscore.metrics.reduce import AGGREGATIONS, CELL_AGGREGATIONS, DEFAULT_AGGREGATION
from segscore.metrics.registry import MetricSpec, parse_metrics

if TYPE_CHECKING:  # the presets are imported when one is named (start-up time)
    from segscore.metrics.presets import Preset

__all__ = [
    "DEFAULT_AGGREGATION",
    "INSTANCE_MODES",
    "PALETTES",
    "EvaluationSettings",
    "InstanceSettings",
    "PanopticSettings",
    "label_set_options",
    "make_settings",
]

PALETTES = ("voc", "cityscapes")
"""Built-in palettes of colour masks (the label sets whose colours are one per class)."""

INSTANCE_MODES = ("labels", "components")
"""How files become objects: instance label maps as they are, or connected components of masks."""

DEFAULT_INSTANCE_METRICS = ("f1@0.5", "precision@0.5", "recall@0.5", "pq", "aji")
"""The object metrics scored when objects are asked for (``--instances``) without naming any."""


@dataclass(frozen=True)
class InstanceSettings:
    """How objects are made and matched (the object half of the conventions).

    Attributes
    ----------
    mode : {'labels', 'components'}
        ``'labels'``: the files are instance label maps (0 = background, any integer ids); pixel
        metrics score their foreground (id > 0) as a binary mask. ``'components'``: the files are
        binary masks (or probabilities, thresholded first); objects are their connected
        components.
    connectivity : {'face', 'full'}
        Neighbours of a component (``'components'`` only).
    matching, criterion, comparison : str
        The conventions of :func:`segscore.match_instances`.
    distances : tuple of str
        Boundary metrics of every matched pair, written to ``per_object.csv``.
    max_detections : int
        COCO metrics: detections kept per image (COCO's 100 by default; crowded images need
        more).
    """

    mode: str = "labels"
    connectivity: str = "face"
    matching: str = "optimal"
    criterion: str = "iou"
    comparison: str = ">="
    distances: tuple[str, ...] = ()
    max_detections: int = 100

    @property
    def needs_scores(self) -> bool:
        """Whether detection scores are kept (COCO metrics: components of probability maps)."""
        return self.mode == "components"

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return {
            "mode": self.mode,
            "connectivity": self.connectivity if self.mode == "components" else None,
            "matching": self.matching,
            "criterion": self.criterion,
            "comparison": self.comparison,
            "pair_distances": list(self.distances),
            "max_detections": self.max_detections,
        }


@dataclass(frozen=True)
class EvaluationSettings:
    """Everything that is the same for every case of an evaluation.

    Attributes
    ----------
    options : CountingOptions
        What is counted.
    metrics : tuple of MetricSpec
        The metrics, in the order asked for.
    aggregation : str or None
        The aggregation rule chosen explicitly (None: the preset's per metric, else the default).
    empty : EmptyPolicy or None
        The empty-mask policy chosen explicitly (None: the preset's per metric, else the default).
    preset : Preset or None
        The library whose conventions fill the rest.
    spacing : tuple of float or None
        Voxel spacing for boundary metrics (None: each file's, else 1).
    bootstrap, seed : int
        Percentile bootstrap resamples over cases (0: none) and their seed.
    max_pixels : int
        Largest image decoded (a guard against decompression bombs).
    check_geometry : bool
        Refuse pairs whose files declare different spacing, orientation or origin.
    palette : Palette or None
        Colours of RGB masks and their class ids (None: colour images are refused).
    instances : InstanceSettings or None
        How objects are made and matched (None: no object metrics).
    panoptic : PanopticSettings or None
        The classes of panoptic pairs (None: the files are not panoptic).
    distance_background : bool
        Whether class 0 enters boundary metrics' class means: ``include_background`` when it
        was chosen, else the preset's distance rule (``Preset.distance_background``: False for
        MONAI and torchmetrics), else True.
    """

    options: CountingOptions = field(default_factory=CountingOptions)
    metrics: tuple[MetricSpec, ...] = ()
    aggregation: Aggregation | None = None
    empty: EmptyPolicy | None = None
    preset: Preset | None = None
    spacing: tuple[float, ...] | None = None
    bootstrap: int = 0
    seed: int = 0
    max_pixels: int = MAX_PIXELS_DEFAULT
    check_geometry: bool = True
    palette: Palette | None = None
    instances: InstanceSettings | None = None
    panoptic: PanopticSettings | None = None
    distance_background: bool = True

    @property
    def overlap_metrics(self) -> tuple[MetricSpec, ...]:
        """The metrics made from counts."""
        return tuple(m for m in self.metrics if m.kind == "overlap")

    @property
    def boundary_metrics(self) -> tuple[MetricSpec, ...]:
        """The metrics made from surfaces."""
        return tuple(m for m in self.metrics if m.kind == "boundary")

    @property
    def instance_metrics(self) -> tuple[MetricSpec, ...]:
        """The metrics made from matched objects."""
        return tuple(m for m in self.metrics if m.kind == "instance")

    def empty_for(self, spec: MetricSpec) -> EmptyPolicy:
        """Return the empty policy of a metric: explicit, else the preset's, else the default.

        The pq, sq and rq of panoptic pairs take the preset's panoptic policies, else
        :data:`~segscore.metrics.presets.PANOPTIC_EMPTY` (panopticapi's class means).
        """
        if self.empty is not None:
            return self.empty
        preset = self.preset_for(spec)
        if self.panoptic is not None and spec.kind == "instance":
            if preset is None or preset.instance is None:
                from segscore.metrics.presets import PANOPTIC_EMPTY

                return PANOPTIC_EMPTY.get(spec.base, EmptyPolicy())
            return preset.instance.panoptic_empty_for(spec)
        if preset is not None and spec.kind == "instance":
            assert preset.instance is not None
            return preset.instance.empty_for(spec)
        if preset is not None:
            return preset.empty_for(spec)
        return EmptyPolicy()

    def preset_for(self, spec: MetricSpec) -> Preset | None:
        """Return the preset if it has conventions for the metric's family, else None.

        An object-only preset (``stardist``...) leaves pixel and boundary metrics at segscore's
        defaults, and a pixel preset without object conventions leaves object metrics so; the
        metric's conventions record then names no preset.
        """
        p = self.preset
        if p is None:
            return None
        if spec.kind == "instance":
            return p if p.instance is not None else None
        if spec.kind == "boundary":
            return p if p.has_distance or p.has_overlap else None
        return p if p.has_overlap else None

    def aggregation_for(self, spec: MetricSpec) -> Aggregation:
        """Return the aggregation rule of a metric (per-image rules for metrics that do not pool)."""
        rule: Aggregation = DEFAULT_AGGREGATION
        preset = self.preset_for(spec)
        if self.aggregation is not None:
            rule = self.aggregation
        elif spec.base in ("ap", "ar"):
            rule = "pooled"  # COCO ranks the detections of all images together
        elif spec.base.startswith("lesion_"):
            rule = DEFAULT_AGGREGATION  # BraTS 2023: each case's value, then the mean
        elif self.panoptic is not None and spec.kind == "instance" and preset is None:
            rule = "pooled"  # Kirillov's PQ: counts and IoU sums over the images, per class
        elif preset is not None and spec.kind == "instance":
            assert preset.instance is not None
            rule = preset.instance.aggregation
        elif preset is not None:
            rule = preset.overlap_kwargs(spec.name)["aggregation"]
        if spec.kind == "boundary" and rule not in CELL_AGGREGATIONS:
            return DEFAULT_AGGREGATION
        return rule

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return {
            "counting": self.options.as_dict(),
            "distance_include_background": self.distance_background,
            "metrics": [m.name for m in self.metrics],
            "aggregation": self.aggregation,
            "empty": None if self.empty is None else self.empty.as_dict(),
            "preset": None if self.preset is None else self.preset.name,
            "spacing": None if self.spacing is None else list(self.spacing),
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "check_geometry": self.check_geometry,
            "palette": None if self.palette is None else self.palette.name,
            "instances": None if self.instances is None else self.instances.as_dict(),
            "panoptic": None if self.panoptic is None else self.panoptic.as_dict(),
        }


def _spacing(value: object, name: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            numbers = tuple(float(v) for v in value.replace("x", ",").split(","))
        except ValueError:
            fail(f"`{name}` must be comma-separated numbers such as 1.0,0.8,2.5, got {value!r}.")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        numbers = (float(value),)
    elif isinstance(value, Iterable):
        try:
            numbers = tuple(float(v) for v in value)
        except (TypeError, ValueError):
            fail(f"`{name}` must be positive finite numbers, got {value!r}.")
    else:
        fail(f"`{name}` must be positive finite numbers, got {value!r}.")
    if not numbers or any(not math.isfinite(v) or v <= 0 for v in numbers):
        fail(f"`{name}` must be positive finite numbers, got {value!r}.")
    return numbers


def label_set_options(
    label_set: str,
    *,
    names: Mapping[str, str] | None = None,
    **values: Any,
) -> CountingOptions:
    """Return the counting options of a built-in label set (class names, classes, ignore label).

    Parameters
    ----------
    label_set : str
        One of :data:`segscore.data.label_sets.LABEL_SETS`.
    names : mapping of str to str, optional
        How to name the arguments in error messages (the CLI passes its flags).
    **values
        Other fields of :class:`~segscore.CountingOptions`. ``num_classes`` and ``ignore_index``
        default to the set's; ``ignore_index`` may be set to another label outside the classes.

    Raises
    ------
    InputError
        On an unknown set, ``class_names`` given too, a ``num_classes`` other than the set's,
        or ``multilabel``: the message names both arguments.

    Examples
    --------
    >>> opts = label_set_options("voc")
    >>> opts.num_classes, opts.ignore_index, opts.class_names[15]
    (21, 255, 'person')
    >>> label_set_options("voc", num_classes=5)
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `num_classes` must be 21 with `class_names='voc'` (the label set's classes), got 5.
    """
    names = dict(names or {})

    def name(key: str) -> str:
        return names.get(key, key)

    flag = name("class_names")
    given = f"`{flag} {label_set}`" if flag.startswith("-") else f"`{flag}={label_set!r}`"
    chosen = get_label_set(label_set, argument=flag)
    if values.get("class_names") is not None:
        fail(f"`{flag}` must be one label set or a list of names, got both.")
    c = values.get("num_classes")
    if c is not None and c != chosen.num_classes:
        fail(
            f"`{name('num_classes')}` must be {chosen.num_classes} with {given} (the label set's "
            f"classes), got {c!r}."
        )
    if values.get("multilabel"):
        fail(f"`{name('multilabel')}` must not be set with {given} (label maps), got True.")
    full = dict(values)
    full["num_classes"] = chosen.num_classes
    full["class_names"] = chosen.class_names
    if full.get("ignore_index") is None:
        full["ignore_index"] = chosen.ignore_index
    return CountingOptions.checked(names, **full)


def _palette(value: object, name: str) -> Palette | None:
    """Return the palette of a built-in name (:data:`PALETTES`), a file path, or a Palette."""
    if value is None or isinstance(value, Palette):
        return value
    if isinstance(value, str) and value in PALETTES:
        chosen = get_label_set(value)
        return Palette(
            value,
            colours=chosen.colours + chosen.ignore_colours,
            ids=tuple(range(chosen.num_classes))
            + (chosen.ignore_index,) * len(chosen.ignore_colours),
        )
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not os.path.splitext(path)[1] and not os.path.exists(path):
            fail(
                f"`{name}` must be one of {', '.join(map(repr, PALETTES))} or a .json/.csv "
                f"file, got {path!r}."
            )
        return read_palette(path)
    fail(f"`{name}` must be a palette name, a file or a Palette, got {type(value).__name__}.")


def make_settings(
    *,
    options: CountingOptions | None = None,
    metrics: str | Iterable[str] = ("iou", "dice"),
    aggregation: str | None = None,
    empty: float | EmptyPolicy | None = None,
    preset: str | None = None,
    spacing: object = None,
    bootstrap: int = 0,
    seed: int = 0,
    max_pixels: int | None = None,
    check_geometry: bool = True,
    palette: str | os.PathLike[str] | Palette | None = None,
    instances: str | None = None,
    connectivity: str | None = None,
    matching: str | None = None,
    criterion: str | None = None,
    comparison: str | None = None,
    object_distances: str | Iterable[str] = (),
    max_detections: int = 100,
    panoptic: bool = False,
    things: str | Iterable[int] | None = None,
    stuffs: str | Iterable[int] | None = None,
    names: Mapping[str, str] | None = None,
) -> EvaluationSettings:
    """Build and check the settings of an evaluation (every conflict is found here).

    Parameters
    ----------
    options : CountingOptions, optional
        What is counted (default: binary masks, threshold 0.5).
    metrics : str or iterable of str, default ('iou', 'dice')
        Registry names (:mod:`segscore.metrics.registry`), or one comma-separated string.
    aggregation : str, optional
        One of :data:`segscore.AGGREGATIONS` (default: the preset's, else
        ``'images_then_classes'``).
    empty : float or EmptyPolicy, optional
        Empty-mask policy for every metric (default: the preset's per metric, else NaN excluded).
    preset : str, optional
        A name of :data:`segscore.PRESETS`. It decides the counting options left unchosen
        (None) in ``options``: ``include_background`` (overlap metrics; boundary metrics take
        its distance rule) and ``threshold_comparison``.
    spacing : str or sequence of float, optional
        Voxel spacing, numpy axis order (default: each file's, else 1).
    bootstrap, seed : int
        Bootstrap resamples (0: none) and their seed.
    max_pixels : int, optional
        Largest image decoded.
    check_geometry : bool, default True
        Refuse pairs whose files declare different geometries.
    palette : str, path-like or Palette, optional
        Read RGB masks as colours of classes: ``'voc'``, ``'cityscapes'`` (:data:`PALETTES`),
        a JSON/CSV file (:func:`~segscore.io.palette.read_palette`) or a
        :class:`~segscore.io.palette.Palette`.
    instances : {'labels', 'components'}, optional
        Score objects too (:class:`InstanceSettings`): the files are instance label maps, or
        masks whose connected components are the objects. Without instance metrics in
        ``metrics``, :data:`DEFAULT_INSTANCE_METRICS` are added.
    connectivity, matching, criterion, comparison : str, optional
        How components are made and objects matched (:class:`InstanceSettings`); unset: the
        preset's object conventions, else ``'face'``, ``'optimal'``, ``'iou'``, ``'>='``. An
        explicit value that contradicts the preset is an error.
    object_distances : str or iterable of str, optional
        Boundary metrics of every matched pair of objects (``'hd95,assd'``), in
        ``per_object.csv``.
    max_detections : int, default 100
        COCO metrics (``ap``, ``ar``...): detections kept per image.
    panoptic : bool, default False
        The files are panoptic pairs (:class:`PanopticSettings`); ``options.ignore_index`` is
        the void class. Without pq, sq or rq in ``metrics``, all three are added; other object
        metrics are refused.
    things, stuffs : str or iterable of int, optional
        With ``panoptic``: the thing and stuff class ids (``'1,2'``); every class of the files
        must be one of them or void.
    names : mapping of str to str, optional
        How to name the arguments in error messages (the CLI passes its flags).

    Raises
    ------
    InputError
        On any bad value or conflicting combination.

    Examples
    --------
    >>> s = make_settings(metrics="iou,hd95", preset="monai")
    >>> [m.name for m in s.metrics], s.aggregation_for(s.metrics[0]), s.preset.name
    (['iou', 'hd95'], 'classes_then_images', 'monai')
    >>> s.options.background, s.distance_background  # MONAI's Dice/IoU and distance defaults
    (True, False)
    >>> make_settings(preset="torchmetrics").options.threshold_comparison
    '>'
    >>> make_settings(metrics="iou", bootstrap=-1, names={"bootstrap": "--bootstrap"})
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--bootstrap` must be an integer >= 0, got -1.
    >>> s = make_settings(metrics="iou", instances="components")
    >>> [m.name for m in s.metrics], s.instances.matching
    (['iou', 'f1@0.5', 'precision@0.5', 'recall@0.5', 'pq', 'aji'], 'optimal')
    >>> s = make_settings(metrics="iou", panoptic=True, things="1,2", stuffs="0")
    >>> [m.name for m in s.metrics], s.options.num_classes, s.aggregation_for(s.metrics[1])
    (['iou', 'pq', 'sq', 'rq'], 3, 'pooled')
    >>> make_settings(metrics="iou,pq")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `instances` must be 'labels' or 'components' to score object metrics (pq), got None.
    """
    names = dict(names or {})

    def name(key: str) -> str:
        return names.get(key, key)

    opts = CountingOptions() if options is None else options
    if not isinstance(opts, CountingOptions):
        fail(f"`{name('options')}` must be CountingOptions, got {type(opts).__name__}.")
    specs = parse_metrics(metrics, argument=name("metrics"))
    if aggregation is not None:
        check_option(name("aggregation"), aggregation, AGGREGATIONS)
    policy = None if empty is None else as_empty_policy(empty)
    chosen = None
    if preset is not None:
        from segscore.metrics.presets import get_preset

        chosen = get_preset(preset, option=name("preset"))
    panoptic_settings = None
    if panoptic or things is not None or stuffs is not None:
        specs, opts, panoptic_settings = check_panoptic(
            specs,
            opts,
            panoptic=panoptic,
            things=things,
            stuffs=stuffs,
            preset=chosen,
            aggregation=aggregation,
            given={
                "instances": instances,
                "connectivity": connectivity,
                "matching": matching,
                "criterion": criterion,
                "comparison": comparison,
                "object_distances": object_distances or None,
            },
            name=name,
        )
    distance_background = opts.include_background
    if distance_background is None:  # not chosen: each family's rule of the preset
        distance_background = True if chosen is None else chosen.distance_background
    if opts.num_classes == 1 and opts.include_background is None and chosen is not None:
        has_boundary = any(m.kind == "boundary" for m in specs)
        if not chosen.include_background or (has_boundary and not distance_background):
            fail(
                f"`{name('num_classes')}` must be more than 1 with `{name('preset')}` "
                f"{chosen.name!r}, which leaves class 0 out of the class means (none would be "
                f"left), got 1; for binary masks leave `{name('num_classes')}` unset, or keep "
                f"class 0 with `{name('include_background')}`."
            )
    if opts.include_background is None:
        background = True if chosen is None else chosen.include_background
        opts = opts.replace(include_background=background)
    if opts.threshold_comparison is None:  # (not `comparison`: that is the objects' option)
        threshold_rule = ">=" if chosen is None else chosen.threshold_comparison
        opts = opts.replace(threshold_comparison=threshold_rule)
    objects = None
    if panoptic_settings is None:  # panoptic pairs: their object options were checked above
        specs, objects = _instance_settings(
            specs,
            opts,
            instances,
            connectivity=connectivity,
            matching=matching,
            criterion=criterion,
            comparison=comparison,
            distances=object_distances,
            max_detections=max_detections,
            preset=chosen,
            aggregation=aggregation,
            name=name,
        )
    boundary = [m for m in specs if m.kind == "boundary"]
    if boundary and opts.multilabel:
        fail(
            f"`{name('metrics')}` must not hold boundary metrics with `{name('multilabel')}` "
            f"stacks, got {', '.join(m.name for m in boundary)}."
        )
    return EvaluationSettings(
        options=opts,
        metrics=specs,
        aggregation=aggregation,  # type: ignore[arg-type]
        empty=policy,
        preset=chosen,
        spacing=_spacing(spacing, name("spacing")),
        bootstrap=check_int(name("bootstrap"), bootstrap, low=0),
        seed=check_int(name("seed"), seed, low=0),
        max_pixels=(
            MAX_PIXELS_DEFAULT
            if max_pixels is None
            else check_int(name("max_pixels"), max_pixels, low=1)
        ),
        check_geometry=bool(check_geometry),
        palette=_palette(palette, name("palette")),
        instances=objects,
        panoptic=panoptic_settings,
        distance_background=distance_background,
    )


def _instance_settings(
    specs: tuple[MetricSpec, ...],
    opts: CountingOptions,
    instances: str | None,
    *,
    connectivity: str | None,
    matching: str | None,
    criterion: str | None,
    comparison: str | None,
    distances: str | Iterable[str],
    max_detections: int,
    preset: Preset | None,
    aggregation: str | None,
    name: Callable[[str], str],
) -> tuple[tuple[MetricSpec, ...], InstanceSettings | None]:
    """Check the object options against the metrics and the counting options."""
    wanted = [m for m in specs if m.kind == "instance"]
    pair_metrics = _pair_metrics(distances, name("object_distances"))
    if instances is None and pair_metrics:
        fail(
            f"`{name('object_distances')}` needs `{name('instances')}` 'labels' or 'components' "
            f"(distances of matched objects), got {', '.join(pair_metrics)} without objects."
        )
    if instances is None:
        if wanted:
            fail(
                f"`{name('instances')}` must be 'labels' or 'components' to score object metrics "
                f"({', '.join(m.name for m in wanted)}), got None."
            )
        given = {"connectivity": connectivity, "matching": matching, "criterion": criterion}
        given["comparison"] = comparison
        for key, value in given.items():  # an object option without objects would do nothing
            if value is not None:
                fail(
                    f"`{name(key)}` must be left unset without `{name('instances')}` (it applies "
                    f"to objects), got {value!r}."
                )
        return specs, None
    # imported only when objects are scored
    from segscore.metrics.instance.components import CONNECTIVITIES
    from segscore.metrics.instance.matching import (
        COMPARISONS,
        CRITERIA,
        MATCHINGS,
        check_matching,
    )
    from segscore.metrics.instance.metrics import thresholds_of

    check_option(name("instances"), instances, INSTANCE_MODES)
    for key, value, allowed in (
        ("connectivity", connectivity, CONNECTIVITIES),
        ("matching", matching, MATCHINGS),
        ("criterion", criterion, CRITERIA),
        ("comparison", comparison, COMPARISONS),
    ):
        if value is not None:
            check_option(name(key), value, allowed)
    if opts.multilabel:
        fail(
            f"`{name('multilabel')}` must not be set with `{name('instances')}` (objects are "
            "read from one label map per case), got True."
        )
    if opts.num_classes is not None and opts.num_classes > 2:
        fail(
            f"`{name('num_classes')}` must be 2 or unset with `{name('instances')}` (objects "
            "of one class; pixel metrics score their foreground), got "
            f"{opts.num_classes}."
        )
    if not wanted:
        specs = specs + parse_metrics(DEFAULT_INSTANCE_METRICS)
        wanted = [m for m in specs if m.kind == "instance"]
    lesions = [m for m in wanted if m.base.startswith("lesion_")]
    if lesions and opts.ignore_index is not None:
        fail(
            f"`{name('metrics')}` lesion metrics ({', '.join(m.name for m in lesions)}) have no "
            f"ignore label (BraTS 2023 scores whole volumes), got `{name('ignore_index')}` "
            f"{opts.ignore_index}."
        )
    coco = [m for m in wanted if m.base in ("ap", "ar")] + lesions
    if coco and instances != "components":
        fail(
            f"`{name('metrics')}` COCO metrics ({', '.join(m.name for m in coco)}) need detection "
            f"scores: use `{name('instances')} components` on probability maps (the score of an "
            f"object is its mean probability), got `{name('instances')} {instances}`."
        )
    conventions = preset.instance if preset is not None else None
    if conventions is not None:
        given = {"matching": matching, "criterion": criterion, "comparison": comparison}
        for key, value in given.items():
            fixed = getattr(conventions, key)
            if value is not None and value != fixed:
                fail(
                    f"`{name(key)}` must agree with `{name('preset')} {preset.name}` "  # type: ignore[union-attr]
                    f"({key} {fixed!r}) or be left unset, got {value!r}."
                )
        matching, criterion, comparison = (getattr(conventions, k) for k in given)
        if aggregation is not None and (aggregation in ("pooled", "pooled_micro")) != (
            conventions.aggregation in ("pooled", "pooled_micro")
        ):
            fail(
                f"`{name('aggregation')}` must agree with `{name('preset')} {preset.name}` "  # type: ignore[union-attr]
                f"for object metrics ({conventions.aggregation!r}) or be left unset, got "
                f"{aggregation!r}."
            )
    matching = matching or "optimal"
    criterion = criterion or "iou"
    comparison = comparison or ">="
    if connectivity is None:
        connectivity = "face"
    thresholds = [t for m in wanted if m not in coco for t in thresholds_of(m)]
    check_matching(matching, criterion, comparison, thresholds)
    chosen = InstanceSettings(
        instances,
        connectivity,
        matching,
        criterion,
        comparison,
        pair_metrics,
        check_int(name("max_detections"), max_detections, low=1),
    )
    return specs, chosen


def _pair_metrics(value: str | Iterable[str], argument: str) -> tuple[str, ...]:
    """Parse the boundary metrics of matched pairs (symmetric ones: 'asd' has two directions)."""
    if not value:
        return ()
    specs = parse_metrics(value, argument=argument)
    for spec in specs:
        if spec.kind != "boundary" or spec.name == "asd":
            fail(
                f"`{argument}` must name symmetric boundary metrics (hd, hd95, hdP, assd, masd, "
                f"nsd@T, biou@W), got {spec.name!r}."
            )
    return tuple(s.name for s in specs)

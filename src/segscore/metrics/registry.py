"""One registry of metric names for every family: overlap, boundary and (to come) instance.

Short names (``"iou"``, ``"hd95"``, ``"nsd@1.0"``, ``"biou@2px"``) exist only here; functions use
full names. The API, the CLI, the summary and the report read this registry and nothing else
lists metrics. Each name parses to a :class:`MetricSpec`: its family (``kind``), direction, unit,
whether distances are in the units of ``spacing``, and its parameters.

================  ========  =========================================================  ==========
name              kind      meaning                                                    unit
================  ========  =========================================================  ==========
iou, dice, ...    overlap   a formula in tp, fp, fn, tn (:mod:`~segscore.metrics.overlap`)  ratio
fbeta@B           overlap   F-beta with beta = B (``f2``, ``f0.5`` are names for two)     ratio
hd, hdP           boundary  Hausdorff distance, and its P-th percentile (``hd95``)        distance
asd               boundary  the two directed average surface distances                  distance
assd, masd        boundary  symmetric average surface distance, pooled / mean of means  distance
nsd@T             boundary  normalised surface Dice at tolerance T (units of spacing)   ratio
biou@W{px,mm,     boundary  Boundary IoU with band width W in pixels, spacing units or  ratio
diag}                       a fraction of the image diagonal
f1@T, precision   instance  object F1, precision, recall at matching threshold T        ratio
@T, recall@T
dsb@T, dsb@A:B    instance  DSB2018 score tp / (tp + fp + fn); its mean over A:0.05:B  ratio
pq, sq, rq        instance  panoptic, segmentation, recognition quality (T = 0.5, or    ratio
                            ``pq@T``)
aji, aji+,        instance  aggregated Jaccard index (Kumar), one-to-one (AJI+),      ratio
aji_cellpose                cellpose's variant (union of all foreground)
tp@T, fp@T, fn@T  instance  matched, unmatched predicted, unmatched target objects     count
ap, ap@T, ap@A:B  instance  COCO mask AP (needs detection scores) over 0.5:0.05:0.95,  ratio
                            at T, or over A:0.05:B; ``_small``, ``_medium``,
                            ``_large``: COCO's size ranges (``ap_small``)
ar, arN           instance  COCO mask AR with ``max_detections`` / N detections per    ratio
                            image; ``@T``, ``@A:B`` and size suffixes as for ``ap``
lesion_dice,      instance  BraTS 2023 lesion-wise Dice and HD95 (from masks, by        ratio,
lesion_hd95                 :func:`~segscore.metrics.instance.lesion.lesion_scores`)    distance
lesion_tp, _fp,   instance  BraTS' lesion counts (``Num_TP``, ``Num_FP``, ``Num_FN``)  count
_fn
================  ========  =========================================================  ==========

Instance metrics are computed by :mod:`segscore.metrics.instance` (its ``metrics`` module
gives the formulas and empty cases; its ``coco`` module the COCO metrics, scored by
``coco_scores`` because they need a score per predicted object).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from segscore._types import FloatArray
from segscore._validation import fail
from segscore.metrics import overlap
from segscore.metrics.conventions import MetricKind
from segscore.metrics.counts import Counts
from segscore.metrics.empty import EmptyPolicy

__all__ = ["METRICS", "MetricSpec", "display_name", "get_metric", "parse_metrics"]

CellMetric = Callable[..., FloatArray]
Unit = Literal["ratio", "distance", "count"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A named metric of any family.

    Attributes
    ----------
    name : str
        The canonical name used in reports and on the command line (``'iou'``, ``'hd95'``).
    kind : {'overlap', 'boundary', 'instance'}
        The family, which says which intermediate the metric is computed from: counts
        (overlap), surface distances (boundary) or matched objects (instance).
    higher_is_better : bool
        Direction of the score (False for distances).
    unit : {'ratio', 'distance', 'count'}
        What the values are; distances are in the units of ``spacing``.
    needs_spacing : bool
        Whether the value depends on the voxel spacing.
    bounds : tuple of float
        Range of valid values.
    base : str
        The metric without its parameters (``'hd'`` for ``'hd95'``, ``'nsd'`` for ``'nsd@1.0'``).
    params : mapping
        Parsed parameters: ``percentile``, ``tolerance``, ``width`` and ``width_unit``, ``beta``.
    fn : callable or None
        Overlap metrics: ``fn(counts, *, empty=...) -> ndarray`` of the counts' shape.
    label : str
        The name shown to people in tables and reports (``'IoU'``, ``'HD95'``).

    Examples
    --------
    >>> spec = get_metric("hd95")
    >>> spec.kind, spec.base, spec.params["percentile"], spec.higher_is_better, spec.unit
    ('boundary', 'hd', 95.0, False, 'distance')
    """

    name: str
    kind: MetricKind
    higher_is_better: bool = True
    unit: Unit = "ratio"
    needs_spacing: bool = False
    bounds: tuple[float, float] = (0.0, 1.0)
    base: str = ""
    params: Mapping[str, float | str] = field(default_factory=dict)
    fn: CellMetric | None = None
    label: str = ""

    def cells(self, counts: Counts, empty: EmptyPolicy) -> FloatArray:
        """Return an overlap metric for every cell of ``counts``."""
        if self.fn is None:
            fail(f"`metric` must be an overlap metric to compute from counts, got {self.name!r}.")
        return self.fn(counts, empty=empty)


def _overlap(
    name: str, fn: CellMetric, label: str, bounds: tuple[float, float] = (0.0, 1.0)
) -> MetricSpec:
    return MetricSpec(name, "overlap", bounds=bounds, base=name, fn=fn, label=label)


_INF = float("inf")


_INSTANCE_LABELS = {
    "pq": "PQ",
    "sq": "SQ",
    "rq": "RQ",
    "aji": "AJI",
    "aji+": "AJI+",
    "aji_cellpose": "AJI (cellpose)",
}


def _instance(
    name: str, base: str, unit: Unit = "ratio", label: str = "", **params: float | str
) -> MetricSpec:
    bounds = (0.0, _INF) if unit == "count" else (0.0, 1.0)
    return MetricSpec(
        name,
        "instance",
        unit=unit,
        bounds=bounds,
        base=base,
        params=params,
        label=label or _INSTANCE_LABELS.get(name) or name.upper(),
    )


def _lesion(name: str, unit: Unit, label: str, higher: bool, **params: float | str) -> MetricSpec:
    return MetricSpec(
        name,
        "instance",
        higher_is_better=higher,
        unit=unit,
        needs_spacing=unit == "distance",
        bounds=(0.0, 1.0) if unit == "ratio" else (0.0, _INF),
        base=name,
        params=params,
        label=label,
    )


def _distance(name: str, base: str, label: str = "", **params: float | str) -> MetricSpec:
    return MetricSpec(
        name,
        "boundary",
        higher_is_better=False,
        unit="distance",
        needs_spacing=True,
        bounds=(0.0, _INF),
        base=base,
        params=params,
        label=label or name.upper(),
    )


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _overlap("iou", overlap.iou, "IoU"),
        _overlap("dice", overlap.dice, "Dice"),
        _overlap("precision", overlap.precision, "Precision"),
        _overlap("recall", overlap.recall, "Recall"),
        _overlap("specificity", overlap.specificity, "Specificity"),
        _overlap("accuracy", overlap.accuracy, "Pixel accuracy"),
        _overlap("balanced_accuracy", overlap.balanced_accuracy, "Balanced accuracy"),
        _overlap("mcc", overlap.matthews_corrcoef, "MCC", bounds=(-1.0, 1.0)),
        _overlap("f2", partial(overlap.fbeta, beta=2.0), "F2"),
        _overlap("f0.5", partial(overlap.fbeta, beta=0.5), "F0.5"),
        _overlap("vs", overlap.volume_similarity, "Volumetric similarity"),
        MetricSpec(
            "ravd",
            "overlap",
            higher_is_better=False,
            bounds=(0.0, _INF),
            base="ravd",
            fn=partial(overlap.relative_volume_difference, absolute=True),
            label="|RVD|",
        ),
        _distance("hd", "hd", "HD"),
        _distance("hd95", "hd", "HD95", percentile=95.0),
        _distance("asd", "asd", "ASD"),
        _distance("assd", "assd", "ASSD"),
        _distance("masd", "masd", "MASD"),
        _instance("pq", "pq", threshold=0.5),
        _instance("sq", "sq", threshold=0.5),
        _instance("rq", "rq", threshold=0.5),
        _instance("aji", "aji"),
        _instance("aji+", "aji+"),
        _instance("aji_cellpose", "aji_cellpose"),
        _lesion("lesion_dice", "ratio", "Lesion-wise Dice", True),
        _lesion("lesion_hd95", "distance", "Lesion-wise HD95", False, percentile=95.0),
        _lesion("lesion_tp", "count", "Lesion TP", True),
        _lesion("lesion_fp", "count", "Lesion FP", False),
        _lesion("lesion_fn", "count", "Lesion FN", False),
    )
}
"""Metrics with a fixed name. Parameterised names (``fbeta@B``, ``hdP``, ``nsd@T``,
``biou@W{px,mm,diag}``) are parsed by :func:`get_metric`."""

ALIASES = {
    "jaccard": "iou",
    "f1": "dice",
    "sensitivity": "recall",
    "tpr": "recall",
    "tnr": "specificity",
}

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_COCO_PATTERNS = (
    "ap",
    "ap@T",
    "ap@A:B",
    "ap_{small,medium,large}",
    "ar",
    "arN",
    "ar_{small,medium,large}",
)
_PATTERNS = (
    "fbeta@B",
    "hdP (0 <= P <= 100)",
    "nsd@T",
    "biou@W{px,mm,diag}",
    "f1@T",
    "precision@T",
    "recall@T",
    "dsb@T",
    "dsb@A:B",
    "pq@T",
    "sq@T",
    "rq@T",
    "tp@T",
    "fp@T",
    "fn@T",
    *_COCO_PATTERNS,
)
_INSTANCE_AT = ("f1", "precision", "recall", "dsb", "pq", "sq", "rq", "tp", "fp", "fn")


def _unit_threshold(text: str) -> bool:
    return 0 < float(text) <= 1


def _fail_parameter(raw: str, argument: str) -> None:
    """Raise, naming the parameter, when ``raw`` is a known pattern with a parameter out of range.

    An instance metric's matching threshold outside (0, 1], a Hausdorff percentile above 100, a
    negative NSD tolerance, a boundary IoU width without its unit or of less than one pixel.
    """
    key = raw.strip().lower()
    got = raw.strip()
    base, _, rest = key.partition("@")
    if base in _INSTANCE_AT and rest:
        for part in rest.split(":"):
            if re.fullmatch(_NUMBER, part) and not _unit_threshold(part):
                fail(f"`{argument}` must give {base} a matching threshold in (0, 1], got {got!r}.")
    if re.fullmatch(r"hd" + _NUMBER, key):
        fail(f"`{argument}` must give hd a percentile in [0, 100] (hd95), got {got!r}.")
    if re.fullmatch(r"nsd@-" + _NUMBER + r"(mm)?", key):
        fail(f"`{argument}` must give nsd a tolerance >= 0 (nsd@1.0), got {got!r}.")
    width = re.fullmatch(r"biou@-?" + _NUMBER + r"(px|mm|diag)?", key)
    if width is not None:
        if width.group(2) is None:
            fail(
                f"`{argument}` must give biou a width with its unit, px, mm or diag "
                f"(biou@2px, biou@1.5mm, biou@0.02diag), got {got!r}."
            )
        if width.group(2) == "px":
            fail(
                f"`{argument}` must give biou a width of at least 1 pixel (the border pixels "
                f"themselves lie at depth 1: a thinner band is empty), got {got!r}."
            )
        fail(f"`{argument}` must give biou a width > 0, got {got!r}.")


_COCO_NAME = re.compile(
    r"(ap|ar)(\d+)?(?:@" + _NUMBER + r"(?::" + _NUMBER + r"(?::" + _NUMBER + r")?)?)?"
    r"(?:_(small|medium|large))?"
)


def _parse_coco(key: str) -> MetricSpec | None:
    """Parse a COCO name (:mod:`segscore.metrics.instance.coco`); None when it is not one."""
    match = _COCO_NAME.fullmatch(key)
    if match is None:
        return None
    base, dets, low, high, step, area = match.groups()
    if (base == "ap" and dets is not None) or (dets is not None and int(dets) < 1):
        return None
    numbers = [g for g in (low, high, step) if g is not None]
    if not all(_unit_threshold(g) for g in numbers) or (high and float(low) > float(high)):
        return None
    params: dict[str, float | str] = {"area": area or "all"}
    label = base.upper() + (dets or "")
    if high is not None:
        params.update(low=float(low), high=float(high), step=float(step or 0.05))
        label += f"@[{float(low):g}:{float(high):g}]"
    elif low is not None:
        params["threshold"] = float(low)
        label += f"@{float(low):g}"
    if dets is not None:
        params["max_detections"] = float(dets)
    label += f" ({area})" if area else ""
    return MetricSpec(key, "instance", base=base, params=params, label=label)


def _parse(key: str) -> MetricSpec | None:
    """Parse a parameterised name; None when it is not one."""
    coco = _parse_coco(key)
    if coco is not None:
        return coco
    match = re.fullmatch(r"fbeta@" + _NUMBER, key)
    if match and float(match.group(1)) > 0:
        beta = float(match.group(1))
        return MetricSpec(
            key,
            "overlap",
            base="fbeta",
            params={"beta": beta},
            fn=partial(overlap.fbeta, beta=beta),
            label=f"F-beta ({beta:g})",
        )
    match = re.fullmatch(r"([a-z0-9]+)@" + _NUMBER, key)
    if match and match.group(1) in _INSTANCE_AT and _unit_threshold(match.group(2)):
        base = match.group(1)
        kind_of_value: Unit = "count" if base in ("tp", "fp", "fn") else "ratio"
        return _instance(key, base, kind_of_value, threshold=float(match.group(2)))
    match = re.fullmatch(r"dsb@" + _NUMBER + ":" + _NUMBER + "(?::" + _NUMBER + ")?", key)
    if match and all(_unit_threshold(g) for g in match.groups() if g is not None):
        low, high, step = match.groups()
        if float(low) <= float(high):
            return _instance(key, "dsb", low=float(low), high=float(high), step=float(step or 0.05))
    match = re.fullmatch(r"hd" + _NUMBER, key)
    if match and float(match.group(1)) <= 100:
        return _distance(key, "hd", f"HD{match.group(1)}", percentile=float(match.group(1)))
    match = re.fullmatch(r"nsd@" + _NUMBER + r"(mm)?", key)
    if match:
        return MetricSpec(
            key,
            "boundary",
            needs_spacing=True,
            base="nsd",
            params={"tolerance": float(match.group(1))},
            label=f"NSD at {float(match.group(1)):g}",
        )
    match = re.fullmatch(r"biou@" + _NUMBER + r"(px|mm|diag)", key)
    # a band in pixels holds the pixels at depth <= width: the border's own are at depth 1
    if match and float(match.group(1)) >= (1 if match.group(2) == "px" else sys.float_info.min):
        unit = {"diag": "diagonal"}.get(match.group(2), match.group(2))
        return MetricSpec(
            key,
            "boundary",
            needs_spacing=unit == "mm",
            base="biou",
            params={"width": float(match.group(1)), "width_unit": unit},
            label=f"Boundary IoU ({float(match.group(1)):g} {match.group(2)})",
        )
    return None


def get_metric(name: str, *, kind: MetricKind | None = None) -> MetricSpec:
    """Return the metric named ``name`` (aliases and parameterised names accepted).

    Parameters
    ----------
    name : str
        A name of :data:`METRICS`, an alias (``'jaccard'``, ``'f1'``...) or a parameterised name.
    kind : {'overlap', 'boundary', 'instance'}, optional
        Accept only metrics of this family.

    Raises
    ------
    InputError
        On an unknown name, or a metric of another family than ``kind``.

    Examples
    --------
    >>> get_metric("jaccard").name, get_metric("fbeta@3").params["beta"]
    ('iou', 3.0)
    >>> get_metric("biou@0.02diag").params["width_unit"], get_metric("nsd@1.5").kind
    ('diagonal', 'boundary')
    >>> get_metric("hd95", kind="overlap")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `metric` must be an overlap metric here, got 'hd95' (a boundary metric).
    >>> get_metric("jacard")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `metric` must be one of 'iou', 'dice', 'precision', 'recall', 'specificity', 'accuracy', 'balanced_accuracy', 'mcc', 'f2', 'f0.5', 'vs', 'ravd', 'hd', 'hd95', 'asd', 'assd', 'masd', 'pq', 'sq', 'rq', 'aji', 'aji+', 'aji_cellpose', 'lesion_dice', 'lesion_hd95', 'lesion_tp', 'lesion_fp', 'lesion_fn', 'fbeta@B', 'hdP (0 <= P <= 100)', 'nsd@T', 'biou@W{px,mm,diag}', 'f1@T', 'precision@T', 'recall@T', 'dsb@T', 'dsb@A:B', 'pq@T', 'sq@T', 'rq@T', 'tp@T', 'fp@T', 'fn@T', 'ap', 'ap@T', 'ap@A:B', 'ap_{small,medium,large}', 'ar', 'arN', 'ar_{small,medium,large}', got 'jacard'.
    >>> get_metric("hd101")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `metric` must give hd a percentile in [0, 100] (hd95), got 'hd101'.
    """
    spec: MetricSpec | None = None
    if isinstance(name, str):
        key = name.strip().lower()
        key = ALIASES.get(key, key)
        spec = METRICS.get(key) or _parse(key)
    if spec is None:
        if isinstance(name, str):
            _fail_parameter(name, "metric")
        names = ", ".join(repr(n) for n in [*METRICS, *_PATTERNS])
        fail(f"`metric` must be one of {names}, got {name!r}.")
    if kind is not None and spec.kind != kind:
        fail(
            f"`metric` must be {_article(kind)} {kind} metric here, got {name!r} "
            f"({_article(spec.kind)} {spec.kind} metric)."
        )
    return spec


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def parse_metrics(
    names: str | Iterable[str], *, argument: str = "metrics"
) -> tuple[MetricSpec, ...]:
    """Parse a comma-separated string or a sequence of names; duplicates are dropped.

    Examples
    --------
    >>> [s.name for s in parse_metrics("iou, dice,hd95,iou")]
    ['iou', 'dice', 'hd95']
    >>> parse_metrics("iou,hd96.5x", argument="--metrics")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--metrics` must name metrics of the registry (overlap: iou, dice, precision, recall, specificity, accuracy, balanced_accuracy, mcc, f2, f0.5, vs, ravd, fbeta@B; boundary: hd, hd95, hdP, asd, assd, masd, nsd@T, biou@W{px,mm,diag}; instance: f1@T, precision@T, recall@T, dsb@T, dsb@A:B, pq, sq, rq, aji, aji+, aji_cellpose, lesion_dice, lesion_hd95, lesion_tp, lesion_fp, lesion_fn, tp@T, fp@T, fn@T, ap, ap@T, ap@A:B, ap_{small,medium,large}, ar, arN, ar_{small,medium,large}), got 'hd96.5x'.
    """
    items: Sequence[str] = names.split(",") if isinstance(names, str) else list(names)
    out: dict[str, MetricSpec] = {}
    for raw in items:
        if not isinstance(raw, str) or not raw.strip():
            continue
        spec = _parse_or_none(raw)
        if spec is None:
            _fail_parameter(raw, argument)
            fail(f"`{argument}` must name metrics of the registry ({describe()}), got {raw!r}.")
        out.setdefault(spec.name, spec)
    if not out:
        fail(f"`{argument}` must name at least one metric ({describe()}), got {names!r}.")
    return tuple(out.values())


def display_name(name: str) -> str:
    """Return the name people read for a metric name (the name itself if it is not registered).

    Examples
    --------
    >>> display_name("iou"), display_name("hd95"), display_name("nsd@1.0"), display_name("x")
    ('IoU', 'HD95', 'NSD at 1', 'x')
    """
    spec = _parse_or_none(name) if isinstance(name, str) else None
    return spec.label if spec is not None and spec.label else name


def _parse_or_none(name: str) -> MetricSpec | None:
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    return METRICS.get(key) or _parse(key)


def describe() -> str:
    """Return the names of the registry by family, for messages and ``--help``."""
    families: dict[str, list[str]] = {}
    for spec in METRICS.values():
        families.setdefault(spec.kind, []).append(spec.name)
    families["overlap"].append("fbeta@B")
    families["boundary"][2:2] = ["hdP"]
    families["boundary"] += ["nsd@T", "biou@W{px,mm,diag}"]
    families["instance"] = [
        "f1@T",
        "precision@T",
        "recall@T",
        "dsb@T",
        "dsb@A:B",
        *families["instance"],
        "tp@T",
        "fp@T",
        "fn@T",
        *_COCO_PATTERNS,
    ]
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in families.items())

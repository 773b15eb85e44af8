"""Option parsers shared by the subcommands (messages follow the package's template)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from segscore._validation import fail

__all__ = ["FLAGS", "add_scoring_flags", "parse_empty", "path_argument", "settings_from_args"]


def path_argument(text: str) -> Path:
    """Return ``text`` as a Path (an argparse ``type``); an empty one (the current folder) is refused.

    Examples
    --------
    >>> path_argument("out")
    PosixPath('out')
    """
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got ''")
    return Path(text)


def parse_empty(text: str, option: str = "--empty") -> float:
    """Parse the zero-denominator value: ``nan``, ``0`` or ``1``.

    Examples
    --------
    >>> parse_empty("0"), parse_empty("NaN")
    (0.0, nan)
    """
    if text.lower() == "nan":
        return math.nan
    if text in ("0", "1"):
        return float(text)
    fail(f"`{option}` must be one of 'nan', '0', '1', got {text!r}.")


def add_scoring_flags(p: argparse.ArgumentParser, *, default_metrics: str) -> None:
    """Add the flags that say what is scored and how: the same names for every command."""
    from segscore.metrics.reduce import AGGREGATIONS
    from segscore.metrics.registry import describe

    p.add_argument("--num-classes", type=int, default=None, help="label maps with C classes")
    p.add_argument(
        "--ignore-index",
        type=int,
        default=None,
        help="target label to exclude (with --panoptic: the void class, on both sides)",
    )
    p.add_argument(
        "--include-background",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="class 0 enters class means, for every metric (default: yes, or the preset's rule "
        "per family: monai and torchmetrics leave it out of boundary metrics only); binary "
        "masks always score their foreground",
    )
    p.add_argument("--multilabel", action="store_true", help="stacks hold one mask per class")
    p.add_argument(
        "--class-names",
        default=None,
        metavar="NAMES|FILE|SET",
        help="class names: road,sidewalk,... or a .json/.yaml/.txt file, or a label set "
        "(voc, cityscapes, ade20k: also sets --num-classes and --ignore-index 255)",
    )
    p.add_argument(
        "--palette",
        default=None,
        metavar="voc|cityscapes|FILE",
        help="read RGB masks as class colours (FILE: .json or .csv of id -> r,g,b); "
        "an unknown colour is an error",
    )
    p.add_argument("--spatial-dims", type=int, default=None, choices=(2, 3), help="2 or 3")
    p.add_argument(
        "--threshold", type=float, default=None, help="for probability maps (default 0.5)"
    )
    p.add_argument(
        "--threshold-comparison",
        default=None,
        metavar=">=|>",
        help="probability maps: >= makes p equal to the threshold foreground, > background "
        "(default: the preset's, else >=; torchmetrics uses >, SMP and MONAI >=)",
    )
    p.add_argument(
        "--metrics",
        default=default_metrics,
        help=f"comma-separated names of the registry ({describe()}); default {default_metrics}",
    )
    p.add_argument(
        "--preset",
        default=None,
        help="reproduce a library's conventions: monai, medpy, deepmind, metrics-reloaded, "
        "torchmetrics, mmseg, nnunet, smp (pixels; explicit options override it); for objects "
        "stardist, cellpose, panoptica, coco, monai, torchmetrics (an object option that "
        "contradicts it is an error)",
    )
    p.add_argument(
        "--aggregation",
        default=None,
        help=", ".join(AGGREGATIONS) + " (default images_then_classes, or the preset's)",
    )
    p.add_argument("--empty", default=None, help="zero-denominator value: nan (default), 0, 1")
    p.add_argument(
        "--spacing",
        default=None,
        help="voxel spacing for boundary metrics, numpy axis order, e.g. 1.0,0.8,2.5 "
        "(default: the file's, else 1)",
    )
    p.add_argument("--bootstrap", type=int, default=0, help="N percentile bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--max-pixels", type=int, default=None, help="refuse larger images (bomb guard)")
    objects = p.add_argument_group(
        "objects", "score objects too: instance label maps, or connected components of masks"
    )
    objects.add_argument(
        "--instances",
        default=None,
        metavar="labels|components",
        help="labels: files are instance label maps (0 = background; pixel metrics score "
        "id > 0); components: objects are the masks' connected components. Adds "
        "f1@0.5,precision@0.5,recall@0.5,pq,aji unless --metrics names object metrics; "
        "writes per_object.csv",
    )
    objects.add_argument(
        "--connectivity",
        default=None,
        metavar="face|full",
        help="components: neighbours through faces (4/6, default) or also edges and corners (8/26)",
    )
    objects.add_argument(
        "--matching",
        default=None,
        metavar="optimal|greedy|unique",
        help="one-to-one matching (default: the preset's, else optimal: most matches, then "
        "largest IoU sum)",
    )
    objects.add_argument(
        "--criterion",
        default=None,
        metavar="iou|dice|iop|iot",
        help="the score a match must reach (default: the preset's, else iou)",
    )
    objects.add_argument(
        "--comparison",
        default=None,
        metavar=">=|>",
        help="the threshold test (default: the preset's, else >=; MONAI and torchmetrics use >)",
    )
    objects.add_argument(
        "--object-distances",
        default="",
        metavar="METRICS",
        help="boundary metrics of every matched pair of objects, e.g. hd95,assd (per_object.csv)",
    )
    objects.add_argument(
        "--max-detections",
        type=int,
        default=100,
        help="COCO metrics (ap, ar...; components of probability maps, scored by their mean "
        "probability): detections kept per image (COCO's 100; crowded images need more)",
    )
    panoptic = p.add_argument_group(
        "panoptic",
        "score panoptic pairs: .npy/.npz arrays (*S, 2), channel 0 class id, channel 1 "
        "instance id (torchmetrics' layout)",
    )
    panoptic.add_argument(
        "--panoptic",
        action="store_true",
        help="the files are panoptic pairs: PQ, SQ, RQ per class (segments of one class match "
        "when IoU > 0.5), pooled over the cases unless --aggregation or --preset say otherwise; "
        "adds pq,sq,rq unless --metrics names them; pixel metrics score the class maps; "
        "--ignore-index is the void class (left out on both sides)",
    )
    panoptic.add_argument(
        "--things",
        default=None,
        metavar="IDS",
        help="with --panoptic: the thing classes (counted instance by instance), e.g. 1,2",
    )
    panoptic.add_argument(
        "--stuffs",
        "--stuff",
        dest="stuffs",
        default=None,
        metavar="IDS",
        help="with --panoptic: the stuff classes (one segment per class and image), e.g. 0,3",
    )
    p.add_argument(
        "--allow-geometry-mismatch",
        action="store_true",
        help="score pairs whose files declare different spacing, orientation or origin (NIfTI) "
        "with the ground truth's spacing (default: refuse them)",
    )


FLAGS = {
    "num_classes": "--num-classes",
    "threshold": "--threshold",
    "threshold_comparison": "--threshold-comparison",
    "ignore_index": "--ignore-index",
    "multilabel": "--multilabel",
    "spatial_dims": "--spatial-dims",
    "include_background": "--include-background",
    "class_names": "--class-names",
    "palette": "--palette",
    "metrics": "--metrics",
    "aggregation": "--aggregation",
    "empty": "--empty",
    "preset": "--preset",
    "spacing": "--spacing",
    "bootstrap": "--bootstrap",
    "seed": "--seed",
    "max_pixels": "--max-pixels",
    "instances": "--instances",
    "connectivity": "--connectivity",
    "matching": "--matching",
    "criterion": "--criterion",
    "comparison": "--comparison",
    "object_distances": "--object-distances",
    "max_detections": "--max-detections",
    "panoptic": "--panoptic",
    "things": "--things",
    "stuffs": "--stuffs",
    "options": "options",
}
"""Argument names as the command line spells them, for error messages."""


def settings_from_args(args: argparse.Namespace) -> Any:
    """Build the evaluation settings from the flags (every option conflict is found here)."""
    from segscore.cli._classes import parse_class_names
    from segscore.evaluation.settings import label_set_options, make_settings
    from segscore.metrics.options import CountingOptions
    from segscore.metrics.thresholds import DEFAULT_THRESHOLD

    values = {
        "num_classes": args.num_classes,
        "threshold": DEFAULT_THRESHOLD if args.threshold is None else args.threshold,
        "ignore_index": args.ignore_index,
        "multilabel": args.multilabel,
        "spatial_dims": args.spatial_dims,
        "include_background": args.include_background,
        "threshold_comparison": args.threshold_comparison,
    }
    names, label_set = parse_class_names(getattr(args, "class_names", None))
    if args.panoptic and args.num_classes is None and label_set is None:
        from segscore.evaluation.panoptic import panoptic_num_classes

        # the class maps' classes, so that the void class (--ignore-index) lies outside them
        values["num_classes"] = panoptic_num_classes(
            args.things, args.stuffs, name=lambda key: FLAGS[key]
        )
    if label_set is not None:
        options = label_set_options(label_set, names=FLAGS, **values)
    else:
        options = CountingOptions.checked(FLAGS, class_names=names, **values)
    return make_settings(
        options=options,
        metrics=args.metrics,
        aggregation=args.aggregation,
        empty=None if args.empty is None else parse_empty(args.empty),
        preset=args.preset,
        spacing=args.spacing,
        bootstrap=args.bootstrap,
        seed=args.seed,
        max_pixels=args.max_pixels,
        check_geometry=not args.allow_geometry_mismatch,
        palette=getattr(args, "palette", None),
        instances=args.instances,
        connectivity=args.connectivity,
        matching=args.matching,
        criterion=args.criterion,
        comparison=args.comparison,
        object_distances=args.object_distances,
        max_detections=args.max_detections,
        panoptic=args.panoptic,
        things=args.things,
        stuffs=args.stuffs,
        names=FLAGS,
    )

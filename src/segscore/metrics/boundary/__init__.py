"""Boundary and distance metrics in two stages, with every convention named.

Stage 1, :func:`surface_distances`, extracts the two surfaces of every (case, class) once and
stores the directed distances from each surface element to the other surface, with the element
weights. Stage 2, the reducers :func:`hausdorff_distance`, :func:`average_surface_distance`,
:func:`assd` and :func:`surface_dice`, turn that intermediate into numbers without touching the
masks again. :func:`boundary_iou` works on the masks; :func:`distance_metrics` computes any list of
named metrics (``"hd95"``, ``"assd"``, ``"nsd@1.0"``, ``"biou@2px"``...) in one call.

The peers disagree on almost every step (CONVENTIONS §5.1: the same masks give HD95 = 1.0, 2.08 or
21.9). Each step is an option, recorded in every result:

=================  ===========================================================  =================
option             values                                                       peers
=================  ===========================================================  =================
``surface``        ``"voxel"``: foreground voxels removed by one binary         MedPy, MONAI, MR,
                   erosion (``connectivity`` 1 = face, ``ndim`` = full), each   torchmetrics
                   weighted 1; ``"surfel"``: one element per grid corner whose
                   2^d neighbourhood is mixed, weighted by its marching-squares
                   length / marching-cubes area                                 DeepMind
``rule``           ``"pooled"``: percentile of both directions' distances       MedPy
                   together; ``"max_directed"``: max of the two directed        MONAI, MR
                   percentiles; ``"directed"``: prediction to target only;      MONAI directed
                   ``"area_weighted"``: per direction the smallest distance     DeepMind
                   whose cumulative weight reaches p %, then the max
``interpolation``  numpy percentile method for the pooled / directed rules      numpy, torch
``assd variant``   ``"pooled"``: weighted mean of both directions' distances;   MedPy, MONAI, MR
                   ``"mean_of_means"`` (MASD): mean of the two directed means   MR masd
``empty``          :class:`~segscore.metrics.empty.EmptyPolicy` per metric:     see presets
                   values when one or both surfaces are empty (NaN, inf, the
                   image diagonal or a number)
=================  ===========================================================  =================

Distances are Euclidean in the units of ``spacing`` (numpy axis order) between element centres:
voxel centres for ``"voxel"``, grid corners for ``"surfel"``. Outside the image is background.
Ignored regions (``ignore_index`` in the target, or ``ignore_mask``) drop the surface elements
that lie in them (for surfels: that touch them) before any distance is measured, as MONAI's
``mask`` argument does.

The modules follow the stages: :mod:`~segscore.metrics.boundary.inputs` (``pred`` and ``target``
to per-class masks), :mod:`~segscore.metrics.boundary.extraction` (surface elements and weights,
with :mod:`~segscore.metrics.boundary.surfel_tables`), :mod:`~segscore.metrics.boundary.search`
(nearest-element distances), :mod:`~segscore.metrics.boundary.distances` (stage 1),
:mod:`~segscore.metrics.boundary.reductions` (stage 2; its Hausdorff percentiles of many classes or
lesions at once in :mod:`~segscore.metrics.boundary.segments`), :mod:`~segscore.metrics.boundary.iou`
(Boundary IoU) and :mod:`~segscore.metrics.boundary.dispatch` (metric names and
:func:`distance_metrics`). The empty policy lives in :mod:`segscore.metrics.empty`, the option
types in :mod:`segscore._types`; neither imports this package, so :mod:`segscore.metrics.presets`
builds on them without an import cycle.
"""

from typing import TYPE_CHECKING

from segscore._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and readers; at run time each on first use
    from segscore._types import ASSD_VARIANTS, PERCENTILE_RULES, SURFACE_MODELS
    from segscore.metrics.boundary.dispatch import (
        DistanceResult,
        distance_metrics,
        get_distance_metric,
    )
    from segscore.metrics.boundary.distances import SurfaceDistances, surface_distances
    from segscore.metrics.boundary.iou import boundary_iou
    from segscore.metrics.boundary.reductions import (
        assd,
        average_surface_distance,
        hausdorff_distance,
        surface_dice,
    )
    from segscore.metrics.empty import DistanceEmpty

__all__ = [
    "ASSD_VARIANTS",
    "PERCENTILE_RULES",
    "SURFACE_MODELS",
    "DistanceEmpty",
    "DistanceResult",
    "SurfaceDistances",
    "assd",
    "average_surface_distance",
    "boundary_iou",
    "distance_metrics",
    "get_distance_metric",
    "hausdorff_distance",
    "surface_dice",
    "surface_distances",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "segscore._types": (
            "ASSD_VARIANTS",
            "PERCENTILE_RULES",
            "SURFACE_MODELS",
        ),
        "segscore.metrics.boundary.dispatch": (
            "DistanceResult",
            "distance_metrics",
            "get_distance_metric",
        ),
        "segscore.metrics.boundary.distances": (
            "SurfaceDistances",
            "surface_distances",
        ),
        "segscore.metrics.boundary.iou": ("boundary_iou",),
        "segscore.metrics.boundary.reductions": (
            "assd",
            "average_surface_distance",
            "hausdorff_distance",
            "surface_dice",
        ),
        "segscore.metrics.empty": ("DistanceEmpty",),
    },
)

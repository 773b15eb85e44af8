"""Stage 1: :class:`SurfaceDistances`, the intermediate, and :func:`surface_distances`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from numpy.typing import ArrayLike

from segscore._types import SURFACE_MODELS, FloatArray, SurfaceModel
from segscore._validation import check_int, check_option, fail
from segscore.metrics.boundary.extraction import _surfaces
from segscore.metrics.boundary.inputs import _one_case, _options, _prepare, _Prepared
from segscore.metrics.boundary.surfel_tables import surfel_area_table
from segscore.metrics.empty import EmptyCase
from segscore.metrics.options import CountingOptions

__all__ = ["SurfaceDistances", "surface_distances"]


@dataclass(frozen=True, slots=True)
class SurfaceDistances:
    """Directed surface distances with element weights, per class of one case.

    Attributes
    ----------
    pred_to_target, target_to_pred : tuple of ndarray of float64
        Per class, the distance from each element of one surface to the nearest element of the
        other (inf when the other surface is empty), in the units of ``spacing``, in raster order.
    pred_weights, target_weights : tuple of ndarray of float64
        Per class, the weight of each element (1 for voxels, length or area for surfels).
    class_ids : tuple of int
        Class id of each entry (``(1,)`` for a binary mask: its foreground).
    spacing : tuple of float
        Voxel spacing, numpy axis order.
    shape : tuple of int
        Image shape.
    surface : {'voxel', 'surfel'}
        Surface model.
    connectivity : int or None
        Erosion connectivity for the voxel model (None for surfels).
    ignore : str or None
        What was ignored: ``'ignore_index=255'``, ``'ignore_mask'``, both, or None.
    """

    pred_to_target: tuple[FloatArray, ...]
    target_to_pred: tuple[FloatArray, ...]
    pred_weights: tuple[FloatArray, ...]
    target_weights: tuple[FloatArray, ...]
    class_ids: tuple[int, ...]
    spacing: tuple[float, ...]
    shape: tuple[int, ...]
    surface: SurfaceModel
    connectivity: int | None
    ignore: str | None = None

    @property
    def diagonal(self) -> float:
        """Image diagonal in the units of ``spacing``: ``sqrt(sum((n_i * s_i) ** 2))``."""
        return math.sqrt(sum((n * s) ** 2 for n, s in zip(self.shape, self.spacing, strict=True)))

    def cases(self) -> list[EmptyCase]:
        """Per class, the :class:`~segscore.metrics.empty.EmptyCase` of the two surfaces."""
        return [
            _case(bool(p.size), bool(t.size))
            for p, t in zip(self.pred_weights, self.target_weights, strict=True)
        ]

    def conventions(self) -> dict[str, Any]:
        """Return the surface conventions as a JSON-friendly dict."""
        return {
            "surface_model": (
                f"voxel_border(connectivity={self.connectivity})"
                if self.surface == "voxel"
                else "surfel(marching-cubes area)"
            ),
            "connectivity": self.connectivity,
            "spacing": list(self.spacing),
            "spacing_axis_order": "numpy (axis 0 first)",
            "ignore": self.ignore,
        }


def _case(pred_present: bool, target_present: bool) -> EmptyCase:
    if pred_present and target_present:
        return EmptyCase.BOTH_PRESENT
    if pred_present:
        return EmptyCase.TARGET_EMPTY
    return EmptyCase.PREDICTION_EMPTY if target_present else EmptyCase.BOTH_EMPTY


def _check_surface(surface: object, connectivity: object, ndim: int) -> int:
    check_option("surface", surface, SURFACE_MODELS)
    conn = check_int("connectivity", connectivity, low=1)
    if conn > ndim:
        fail(f"`connectivity` must be an integer in [1, {ndim}] for {ndim}-D masks, got {conn}.")
    return conn


def _case_distances(
    prepared: _Prepared,
    n: int,
    surface: SurfaceModel,
    connectivity: int,
    table: FloatArray | None,
) -> SurfaceDistances:
    """Stage 1 for case ``n`` of prepared inputs (options already checked)."""
    ignore = prepared.ignore_of(n)
    parts = [
        _surfaces(p, t, ignore, surface, connectivity, prepared.spacing, table)
        for p, t in prepared.masks(n)
    ]
    return SurfaceDistances(
        pred_to_target=tuple(x[0] for x in parts),
        target_to_pred=tuple(x[1] for x in parts),
        pred_weights=tuple(x[2] for x in parts),
        target_weights=tuple(x[3] for x in parts),
        class_ids=prepared.class_ids,
        spacing=prepared.spacing,
        shape=prepared.shape,
        surface=surface,
        connectivity=connectivity if surface == "voxel" else None,
        ignore=prepared.ignore_name,
    )


def surface_distances(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    spacing: float | Sequence[float] | None = None,
    surface: SurfaceModel = "voxel",
    connectivity: int = 1,
    options: CountingOptions | None = None,
    num_classes: int | None = None,
    threshold: float = 0.5,
    ignore_index: int | None = None,
    spatial_dims: int | None = None,
    include_background: bool | None = None,
    ignore_mask: ArrayLike | None = None,
) -> SurfaceDistances:
    """Extract both surfaces of one case once and measure the directed distances between them.

    Parameters
    ----------
    pred, target : array_like, shape (H, W), (D, H, W) with ``spatial_dims=3``, or (1, *S)
        One case: binary masks (bool, {0, 1} or {0, 255}; float predictions are thresholded) or,
        with ``num_classes``, integer label maps. The layout rule is
        :func:`~segscore.metrics.counting.confusion`'s: a 3-D array is a batch of 2-D images unless
        ``spatial_dims=3``; a batch of more than one case is refused (use
        :func:`distance_metrics`).
    spacing : float or sequence of float, optional
        Voxel spacing, one value per spatial axis in numpy axis order (or one for all); default 1.
    surface : {'voxel', 'surfel'}, default 'voxel'
        Surface model (:mod:`segscore.metrics.boundary`).
    connectivity : int, default 1
        Erosion connectivity of the voxel model, 1 (face) to ``ndim`` (full).
    options : CountingOptions, optional
        The counting options (:mod:`segscore.metrics.options`); the keywords below build the same
        object and must not be given with it.
    num_classes, threshold, ignore_index, spatial_dims, include_background
        As in :class:`~segscore.metrics.options.CountingOptions`: label maps score classes
        ``0 .. C-1`` (class 0 too unless ``include_background=False``); binary masks score their
        foreground, class id 1. Target pixels equal to ``ignore_index`` are ignored.
    ignore_mask : array_like of bool, optional
        True where ignored, shape of ``target``. Surface elements there are dropped.

    Returns
    -------
    SurfaceDistances

    Raises
    ------
    InputError
        On different shapes, a wrong number of axes or a batch, a wrong spacing, a bad option, a
        label map without ``num_classes``, labels outside the classes or multilabel inputs.

    Notes
    -----
    For each class the masks are cropped to the bounding box of their union (plus one voxel),
    the surface elements are extracted, elements in ignored regions dropped, and the distance
    from each element to the nearest element of the other surface computed exactly (Euclidean, in
    the units of ``spacing``): a search over voxel offsets in order of length finds most nearest
    elements, and a KD-tree answers the few that lie further away. Empty masks give
    empty arrays (and inf distances on the other side); the reducers apply the empty policy.

    Examples
    --------
    >>> pred = np.zeros((5, 5), dtype=bool); pred[1:3, 1:3] = True
    >>> target = np.zeros((5, 5), dtype=bool); target[1:3, 2:4] = True
    >>> sd = surface_distances(pred, target)
    >>> sd.pred_to_target[0], sd.class_ids
    (array([1., 0., 1., 0.]), (1,))
    >>> surface_distances(pred, target, spacing=(1.0, 2.0)).target_to_pred[0]
    array([0., 2., 0., 2.])
    """
    opts = _options(
        options,
        {
            "num_classes": num_classes,
            "threshold": threshold,
            "ignore_index": ignore_index,
            "spatial_dims": spatial_dims,
            "include_background": include_background,
        },
    )
    check_option("surface", surface, SURFACE_MODELS)
    prepared = _prepare(pred, target, spacing, opts, ignore_mask)
    _one_case(prepared, "surface_distances")
    conn = _check_surface(surface, connectivity, len(prepared.shape))
    table = surfel_area_table(prepared.spacing) if surface == "surfel" else None
    return _case_distances(prepared, 0, surface, conn, table)

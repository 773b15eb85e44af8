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
from segscore.metrics.boundary.inputs import _prepare
from segscore.metrics.boundary.surfel_tables import surfel_area_table

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
    classes : tuple of int
        Class label of each entry (``(1,)`` for a binary mask).
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
    classes: tuple[int, ...]
    spacing: tuple[float, ...]
    shape: tuple[int, ...]
    surface: SurfaceModel
    connectivity: int | None
    ignore: str | None = None

    @property
    def diagonal(self) -> float:
        """Image diagonal in the units of ``spacing``: ``sqrt(sum((n_i * s_i) ** 2))``."""
        return math.sqrt(sum((n * s) ** 2 for n, s in zip(self.shape, self.spacing, strict=True)))

    def cases(self) -> list[str]:
        """Per class: ``'both_present'``, ``'target_empty'``, ``'prediction_empty'`` or ``'both_empty'``."""
        out = []
        for p, t in zip(self.pred_weights, self.target_weights, strict=True):
            if p.size and t.size:
                out.append("both_present")
            elif p.size:
                out.append("target_empty")
            elif t.size:
                out.append("prediction_empty")
            else:
                out.append("both_empty")
        return out

    def conventions(self) -> dict[str, Any]:
        """Return the surface conventions as a JSON-friendly dict."""
        return {
            "surface_model": (
                f"voxel_border(connectivity={self.connectivity})"
                if self.surface == "voxel"
                else "surfel(marching-cubes area)"
            ),
            "spacing": list(self.spacing),
            "spacing_axis_order": "numpy (axis 0 first)",
            "classes": list(self.classes),
            "ignore": self.ignore,
        }


def surface_distances(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    spacing: float | Sequence[float] | None = None,
    surface: SurfaceModel = "voxel",
    connectivity: int = 1,
    num_classes: int | None = None,
    include_background: bool = False,
    ignore_index: int | None = None,
    ignore_mask: ArrayLike | None = None,
) -> SurfaceDistances:
    """Extract both surfaces once and measure the directed distances between them.

    Parameters
    ----------
    pred, target : array_like, shape (H, W) or (D, H, W)
        Binary masks (bool, {0, 1} or {0, 255}) or, with ``num_classes``, integer label maps.
    spacing : float or sequence of float, optional
        Voxel spacing, one value per axis in numpy axis order (or one for all); default 1.
    surface : {'voxel', 'surfel'}, default 'voxel'
        Surface model (:mod:`segscore.metrics.boundary`).
    connectivity : int, default 1
        Erosion connectivity of the voxel model, 1 (face) to ``ndim`` (full).
    num_classes : int, optional
        Treat the inputs as label maps with labels ``0 .. num_classes - 1``.
    include_background : bool, default False
        With ``num_classes``, also measure class 0.
    ignore_index : int, optional
        With ``num_classes``, the target label of ignored regions.
    ignore_mask : array_like of bool, optional
        True where ignored. Surface elements there are dropped.

    Returns
    -------
    SurfaceDistances

    Raises
    ------
    InputError
        On different shapes, not 2 or 3 axes, a wrong spacing, a bad option, a label map without
        ``num_classes`` or labels outside the classes.

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
    >>> sd.pred_to_target[0]
    array([1., 0., 1., 0.])
    >>> surface_distances(pred, target, spacing=(1.0, 2.0)).target_to_pred[0]
    array([0., 2., 0., 2.])
    """
    check_option("surface", surface, SURFACE_MODELS)
    prepared = _prepare(
        pred, target, spacing, num_classes, include_background, ignore_index, ignore_mask
    )
    ndim = len(prepared.shape)
    conn = check_int("connectivity", connectivity, low=1)
    if conn > ndim:
        fail(f"`connectivity` must be an integer in [1, {ndim}] for {ndim}-D masks, got {conn}.")
    table = surfel_area_table(prepared.spacing) if surface == "surfel" else None
    parts = [
        _surfaces(p, t, prepared.ignore, surface, conn, prepared.spacing, table)
        for p, t in prepared.masks
    ]
    return SurfaceDistances(
        pred_to_target=tuple(x[0] for x in parts),
        target_to_pred=tuple(x[1] for x in parts),
        pred_weights=tuple(x[2] for x in parts),
        target_weights=tuple(x[3] for x in parts),
        classes=prepared.classes,
        spacing=prepared.spacing,
        shape=prepared.shape,
        surface=surface,
        connectivity=conn if surface == "voxel" else None,
        ignore=prepared.ignore_name,
    )

"""3-D overlays: three orthogonal slices through a volume's worst region, at true proportions.

**Where to look** (:func:`worst_point`): the *largest disagreement* is the largest connected
component (face connectivity, 6 neighbours in 3-D) of the voxels where prediction and ground
truth differ (the ignore label left out); ties go to the component met first in raster order.
The slices pass through the voxel **of that component** nearest its centroid (distances in
``spacing`` units), so each of the three slices cuts the disagreement itself, even when the
component is curved and its centroid lies outside it. A case without disagreement is sliced
through the largest ground-truth component the same way, and an empty case through its centre.

**Which slice is which** (:func:`orthogonal_planes`): with a NIfTI affine, each array axis is
matched to the world axis it runs most along (RAS+: x left→right, y posterior→anterior,
z inferior→superior). The axial slice holds z fixed and shows y down the rows (anterior at
the top) and x along the columns; the coronal slice holds y fixed, the sagittal slice x, both
with z down the rows (superior at the top). Columns keep the array's order (no radiological
left-right flip). Without an affine (NPY files) the array is taken as ``(z, y, x)``, the usual
``(D, H, W)`` order, and drawn in index order.

**Proportions** (:func:`display_grid`): each slice is resampled (nearest neighbour) onto square
display pixels of one common size ``pixel = max_i(n_i * s_i) / display``, so all three slices
share one physical scale and the longest extent of the volume spans ``display`` pixels: a slice
of ``r x c`` voxels of spacing ``(s_r, s_c)`` is shown as ``round(r s_r / pixel) x
round(c s_c / pixel)`` pixels, its aspect ratio ``r s_r / (c s_c)`` to within one pixel. Short
ticks in :data:`MARK_COLOR` on the four edges of each slice (and of each panel) point at the row
and the column of the voxel sliced through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from segscore._validation import check_spacing, fail

if TYPE_CHECKING:
    from segscore.report.class_overlay import ClassStyle

__all__ = [
    "MARK_COLOR",
    "Plane",
    "PlaneView",
    "disagreement",
    "display_grid",
    "orthogonal_planes",
    "plane_slice",
    "volume_views",
    "worst_point",
]

#: Ticks on the edges of each slice at the row and column of the voxel sliced through.
MARK_COLOR = "#CC0066"

_WORLD_ORDER_WITHOUT_AFFINE = (2, 1, 0)  # array axis 0 runs along z, 1 along y, 2 along x


@dataclass(frozen=True)
class Plane:
    """One orthogonal slice of a volume, and how it is drawn.

    Attributes
    ----------
    name : str
        ``'axial'``, ``'coronal'`` or ``'sagittal'``.
    axis : int
        The array axis held fixed.
    index : int
        Its index along ``axis``.
    rows, cols : int
        The array axes drawn top to bottom and left to right.
    flip_rows : bool
        Whether the rows are drawn in decreasing index order (anterior or superior at the top).

    Examples
    --------
    >>> Plane("axial", 0, 5, 1, 2, False).name
    'axial'
    """

    name: str
    axis: int
    index: int
    rows: int
    cols: int
    flip_rows: bool


def worst_point(
    disagreement: NDArray[np.bool_],
    *,
    spacing: tuple[float, ...] | None = None,
    fallback: NDArray[np.bool_] | None = None,
) -> tuple[int, ...]:
    """Return the voxel the slices go through: inside the largest disagreement.

    Parameters
    ----------
    disagreement : ndarray of bool, shape (*S)
        Where prediction and ground truth differ (ignore label left out).
    spacing : tuple of float, optional
        Voxel spacing (numpy axis order); default 1 per axis.
    fallback : ndarray of bool, shape (*S), optional
        Used when there is no disagreement (e.g. the ground-truth foreground).

    Returns
    -------
    tuple of int
        The voxel of the largest connected component (face connectivity) nearest the
        component's centroid; without any, the centre ``n // 2`` of each axis.

    Raises
    ------
    InputError
        If ``spacing`` does not have one positive value per axis, or ``fallback`` has another
        shape.

    Examples
    --------
    >>> d = np.zeros((5, 5, 5), bool); d[0, 0, 0] = True; d[2:5, 1, 3] = True
    >>> worst_point(d)
    (3, 1, 3)
    """
    from scipy import ndimage

    d = np.asarray(disagreement, dtype=bool)
    sp = np.asarray(
        (1.0,) * d.ndim if spacing is None else check_spacing("spacing", spacing, d.ndim)
    )
    if fallback is not None and np.shape(fallback) != d.shape:
        fail(
            f"`fallback` must have the shape of `disagreement` {d.shape}, got {np.shape(fallback)}."
        )
    for region in (d, None if fallback is None else np.asarray(fallback, dtype=bool)):
        if region is None or not region.any():
            continue
        labels, n = ndimage.label(region)
        sizes = np.bincount(labels.reshape(-1), minlength=n + 1)[1:]
        largest = int(np.argmax(sizes)) + 1  # first of the largest in raster order
        coords = np.argwhere(labels == largest)
        centroid = coords.mean(axis=0)
        dist = (((coords - centroid) * sp) ** 2).sum(axis=1)
        return tuple(int(v) for v in coords[int(np.argmin(dist))])
    return tuple(n // 2 for n in d.shape)


def _world_axes(affine: NDArray[np.floating] | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Per array axis: the world axis it runs most along, and the sign of that direction."""
    if affine is None:
        return _WORLD_ORDER_WITHOUT_AFFINE, (0, 0, 0)
    m = np.asarray(affine, dtype=np.float64)[:3, :3]
    world = tuple(int(np.argmax(np.abs(m[:, a]))) for a in range(3))
    if sorted(world) != [0, 1, 2]:  # oblique: two axes nearest the same world axis
        world = (0, 1, 2)
    signs = tuple(int(np.sign(m[w, a])) for a, w in enumerate(world))
    return world, signs


def orthogonal_planes(
    shape: tuple[int, ...],
    point: tuple[int, ...],
    *,
    affine: NDArray[np.floating] | None = None,
) -> tuple[Plane, Plane, Plane]:
    """Return the axial, coronal and sagittal planes of a volume through ``point``.

    Parameters
    ----------
    shape : tuple of int
        The volume's shape (three axes).
    point : tuple of int
        The voxel the planes go through.
    affine : ndarray of float, shape (4, 4), optional
        Voxel-to-world matrix (NIfTI, RAS+); without it the array is ``(z, y, x)``.

    Returns
    -------
    tuple of Plane
        Axial, coronal, sagittal (see the module docstring for the orientation rules).

    Raises
    ------
    InputError
        If ``shape`` is not 3-D or ``point`` lies outside it.

    Examples
    --------
    >>> [(p.name, p.axis, p.index) for p in orthogonal_planes((4, 5, 6), (1, 2, 3))]
    [('axial', 0, 1), ('coronal', 1, 2), ('sagittal', 2, 3)]
    >>> [(p.name, p.axis) for p in orthogonal_planes((4, 5, 6), (1, 2, 3), affine=np.eye(4))]
    [('axial', 2), ('coronal', 1), ('sagittal', 0)]
    """
    if len(shape) != 3:
        fail(f"`shape` must have 3 axes, got {tuple(shape)}.")
    if len(point) != 3 or not all(0 <= i < n for i, n in zip(point, shape, strict=True)):
        fail(f"`point` must be a voxel of shape {tuple(shape)}, got {tuple(point)}.")
    world, signs = _world_axes(affine)
    along = {w: a for a, w in enumerate(world)}  # world axis -> array axis

    def plane(name: str, fixed: int, rows: int, cols: int) -> Plane:
        a = along[fixed]
        r = along[rows]
        return Plane(name, a, int(point[a]), r, along[cols], signs[r] > 0)

    return (
        plane("axial", 2, 1, 0),
        plane("coronal", 1, 2, 0),
        plane("sagittal", 0, 2, 1),
    )


def plane_slice(volume: NDArray[np.generic], plane: Plane) -> NDArray[np.generic]:
    """Return the 2-D slice of ``volume`` in ``plane``, rows and columns as drawn.

    Parameters
    ----------
    volume : ndarray, shape (n0, n1, n2)
        Any 3-D array.
    plane : Plane
        From :func:`orthogonal_planes`.

    Returns
    -------
    ndarray, shape (n_rows, n_cols)
        The slice (a view where possible).

    Examples
    --------
    >>> v = np.arange(24).reshape(2, 3, 4)
    >>> plane_slice(v, Plane("coronal", 1, 2, 0, 2, False))
    array([[ 8,  9, 10, 11],
           [20, 21, 22, 23]])
    """
    s = np.take(np.asarray(volume), plane.index, axis=plane.axis)
    rest = [a for a in range(3) if a != plane.axis]  # the slice's axes, in array order
    s = np.transpose(s, (rest.index(plane.rows), rest.index(plane.cols)))
    return s[::-1] if plane.flip_rows else s


def display_grid(
    n_rows: int, n_cols: int, row_spacing: float, col_spacing: float, pixel: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Return the source row and column of every display pixel (nearest neighbour).

    Parameters
    ----------
    n_rows, n_cols : int
        The slice's size in voxels.
    row_spacing, col_spacing : float
        Voxel size along the rows and the columns.
    pixel : float
        The size of a display pixel, in the units of the spacing.

    Returns
    -------
    rows, cols : ndarray of int
        ``slice[np.ix_(rows, cols)]`` is the slice at display size ``(round(n_rows *
        row_spacing / pixel), round(n_cols * col_spacing / pixel))`` (at least 1 each); display
        pixel ``i`` shows voxel ``floor((i + 0.5) * pixel / spacing)``.

    Examples
    --------
    >>> rows, cols = display_grid(2, 3, 2.0, 1.0, 1.0)
    >>> rows.tolist(), cols.tolist()
    ([0, 0, 1, 1], [0, 1, 2])
    """

    def axis(n: int, s: float) -> NDArray[np.intp]:
        m = max(1, round(n * s / pixel))
        idx = np.floor((np.arange(m) + 0.5) * (pixel / s)).astype(np.intp)
        return np.asarray(np.minimum(idx, n - 1), dtype=np.intp)

    return axis(n_rows, row_spacing), axis(n_cols, col_spacing)


@dataclass(frozen=True)
class PlaneView:
    """One drawn slice of a volume.

    Attributes
    ----------
    plane : Plane
        Which slice.
    rgb : ndarray of uint8, shape (h, w, 3)
        The drawing (binary: contours; multiclass: ground truth | prediction | errors).
    extent : tuple of float
        The slice's physical height and width (rows x spacing, columns x spacing).

    Examples
    --------
    >>> v = PlaneView(Plane("axial", 0, 0, 1, 2, False), np.zeros((1, 1, 3), np.uint8), (1.0, 1.0))
    >>> v.plane.name
    'axial'
    """

    plane: Plane
    rgb: NDArray[np.uint8]
    extent: tuple[float, float]


def disagreement(
    target: NDArray[np.generic], pred: NDArray[np.generic], *, ignore_index: int | None = None
) -> NDArray[np.bool_]:
    """Return where ``pred`` and ``target`` differ, pixels of the ignore label left out.

    Examples
    --------
    >>> disagreement(np.array([0, 1, 255, 2]), np.array([1, 1, 0, 255]), ignore_index=255)
    array([ True, False, False, False])
    """
    t, p = np.asarray(target), np.asarray(pred)
    out = np.asarray(t != p)
    if ignore_index is not None:
        out &= (t != ignore_index) & (p != ignore_index)
    return out


def _mark(
    rgb: NDArray[np.uint8], at_row: NDArray[np.bool_], at_col: NDArray[np.bool_], width: int
) -> None:
    """Draw the point's ticks on the edges of every panel of ``rgb`` (in place)."""
    from segscore.report.class_overlay import PANEL_GAP

    h = rgb.shape[0]
    length = max(2, round(max(h, width) / 24))
    colour = np.array([int(MARK_COLOR[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)
    for x0 in range(0, rgb.shape[1], width + PANEL_GAP):
        panel = rgb[:, x0 : x0 + width]
        panel[at_row, :length] = colour
        panel[at_row, -length:] = colour
        panel[:length, at_col] = colour
        panel[-length:, at_col] = colour


def volume_views(
    target: NDArray[np.generic],
    pred: NDArray[np.generic],
    *,
    spacing: tuple[float, ...] | None = None,
    affine: NDArray[np.floating] | None = None,
    style: ClassStyle | None = None,
    display: int = 256,
    ignore: NDArray[np.bool_] | None = None,
    point: tuple[int, ...] | None = None,
) -> tuple[tuple[int, ...], list[PlaneView]]:
    """Draw the axial, coronal and sagittal slices through the largest disagreement.

    Parameters
    ----------
    target : ndarray, shape (n0, n1, n2)
        Ground truth: a bool mask (binary), or a label map when ``style`` is given.
    pred : ndarray, shape (n0, n1, n2)
        Prediction, the same kind.
    spacing : tuple of float, optional
        Voxel spacing, numpy axis order (default 1 per axis).
    affine : ndarray of float, shape (4, 4), optional
        Voxel-to-world matrix, for the slices' names and orientation.
    style : ClassStyle, optional
        Class colours: each slice becomes ground truth | prediction | errors
        (:func:`~segscore.report.class_overlay.class_panels_rgb`); without it, contours
        (:func:`~segscore.report.overlay.overlay_rgb`).
    display : int, optional
        Display pixels along the volume's longest physical extent.
    ignore : ndarray of bool, shape (n0, n1, n2), optional
        Binary volumes: the voxels of the ignore label, drawn striped and never counted as
        disagreement (with ``style``, its ignore label is used).
    point : tuple of int, optional
        The voxel the slices go through, instead of the largest disagreement (``compare``
        draws two predictions through the voxel where they differ most).

    Returns
    -------
    point : tuple of int
        The voxel the slices go through (:func:`worst_point`).
    views : list of PlaneView
        Axial, coronal, sagittal.

    Raises
    ------
    InputError
        If the volumes are not 3-D of one shape, or ``spacing`` is not three positive numbers.

    Examples
    --------
    >>> t = np.zeros((4, 6, 8), bool); t[1:3, 2:4, 2:6] = True
    >>> point, views = volume_views(t, t, spacing=(2.0, 1.0, 1.0), display=16)
    >>> point, [v.rgb.shape[:2] for v in views]
    ((1, 2, 3), [(12, 16), (16, 16), (16, 12)])
    """
    from segscore.report.class_overlay import class_panels_rgb
    from segscore.report.overlay import overlay_rgb

    t, p = np.asarray(target), np.asarray(pred)
    if t.ndim != 3 or t.shape != p.shape:
        fail(f"`pred` and `target` must be volumes of one shape, got {p.shape} and {t.shape}.")
    if display < 1:
        fail(f"`display` must be >= 1, got {display!r}.")
    sp = (1.0, 1.0, 1.0) if spacing is None else check_spacing("spacing", spacing, 3)
    label = None if style is None else style.ignore_index
    skip = np.zeros(t.shape, bool) if ignore is None else np.asarray(ignore, dtype=bool)
    if skip.shape != t.shape:
        fail(f"`ignore` must have the shape of the volumes {t.shape}, got {skip.shape}.")
    fallback = (
        t.astype(bool) if style is None else (t != 0) & (t != (-1 if label is None else label))
    )
    if point is None:
        point = worst_point(
            disagreement(t, p, ignore_index=label) & ~skip, spacing=sp, fallback=fallback & ~skip
        )
    elif len(point) != 3 or not all(0 <= int(i) < n for i, n in zip(point, t.shape, strict=True)):
        fail(f"`point` must be a voxel of the volumes {t.shape}, got {point!r}.")
    pixel = max(n * s for n, s in zip(t.shape, sp, strict=True)) / display
    views = []
    for plane in orthogonal_planes(t.shape, point, affine=affine):
        t2, p2 = plane_slice(t, plane), plane_slice(p, plane)
        rows, cols = display_grid(t2.shape[0], t2.shape[1], sp[plane.rows], sp[plane.cols], pixel)
        t2, p2 = t2[np.ix_(rows, cols)], p2[np.ix_(rows, cols)]
        if style is None:
            s2 = np.asarray(plane_slice(skip, plane)[np.ix_(rows, cols)], dtype=bool)
            rgb = overlay_rgb(t2.astype(bool), p2.astype(bool), display=1, ignore=s2)
        else:
            rgb = class_panels_rgb(t2, p2, style, display=1)
        row = point[plane.rows]
        if plane.flip_rows:
            row = t.shape[plane.rows] - 1 - row
        _mark(rgb, rows == row, cols == point[plane.cols], len(cols))
        extent = (t.shape[plane.rows] * sp[plane.rows], t.shape[plane.cols] * sp[plane.cols])
        views.append(PlaneView(plane, rgb, extent))
    return point, views

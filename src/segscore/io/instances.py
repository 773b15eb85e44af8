"""Instance label maps on disk: one integer id per object, 0 = background, as 16-bit PNG.

The binary foreground of such a file (id > 0) is read by
:func:`segscore.io.read_mask` with ``layout="instances"``; this module keeps the ids.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from segscore._validation import check_ndim, fail
from segscore.io.images import _atomic_write, _check_ids, _single_channel

__all__ = ["read_instances", "write_instances"]


def read_instances(path: str | os.PathLike[str]) -> NDArray[np.int64]:
    """Read an instance label map: one integer id per object, 0 = background.

    Parameters
    ----------
    path : str or os.PathLike
        A single-channel PNG (8- or 16-bit gray, or palette indices), TIFF or BMP. Ids need not
        be consecutive; they are returned as stored (not renumbered).

    Returns
    -------
    ndarray of int64, shape (H, W)

    Raises
    ------
    DatasetError
        If the file cannot be read, has colour channels, or holds fractions or negative values.

    See Also
    --------
    write_instances : Write them as 16-bit PNG.
    segscore.io.read_mask : With ``layout="instances"``, the binary foreground (id > 0).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "objects.png"
    >>> write_instances(path, np.array([[0, 7, 7], [300, 0, 1]]))
    >>> read_instances(path)
    array([[  0,   7,   7],
           [300,   0,   1]])
    """
    file = Path(path)
    raw = _single_channel(file)
    _check_ids(file, raw)
    return raw.astype(np.int64)


def write_instances(path: str | os.PathLike[str], labels: NDArray[np.generic]) -> None:
    """Write an instance label map as a 16-bit gray PNG, atomically.

    Always 16-bit, whatever the largest id, so that a label map is never mistaken for an 8-bit
    binary or class mask (and up to 65,535 objects fit); read it back with
    :func:`read_instances`.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; parent folders are created.
    labels : ndarray of int, shape (H, W)
        Object ids in 0..65535, 0 = background; written as they are.

    Raises
    ------
    InputError
        If ``labels`` is not 2-D, not integer, or holds values outside 0..65535.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "objects.png"
    >>> write_instances(path, np.array([[0, 1], [2, 2]], dtype=np.uint8))
    >>> with Image.open(path) as file:
    ...     file.mode
    'I;16'
    >>> read_instances(path).tolist()
    [[0, 1], [2, 2]]
    """
    array = np.asarray(labels)
    check_ndim("labels", array.shape, (2,), "(H, W)")
    if not np.issubdtype(array.dtype, np.integer):
        fail(f"`labels` must have an integer dtype, got {array.dtype}.")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 65535:
            fail(f"`labels` must have values in 0..65535 to be stored as PNG, got [{low}, {high}].")
    from PIL import Image

    img = Image.fromarray(array.astype(np.uint16))  # mode I;16
    _atomic_write(Path(path), lambda handle: img.save(handle, format="PNG"))

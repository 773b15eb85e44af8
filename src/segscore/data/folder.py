"""Datasets stored as a folder with ``images/`` and ``masks/``, matched by file stem."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from segscore._validation import check_option, fail, fail_file
from segscore.data.dataset import SegmentationDataset
from segscore.data.normalize import to_unit_range
from segscore.errors import DatasetError, InputError
from segscore.io.images import (
    MASK_LAYOUTS,
    OXFORD_PET_IGNORE,
    MaskLayout,
    dataset_pairs,
    read_image,
    read_mask,
)
from segscore.io.instances import read_instances

__all__ = ["load_folder"]


def load_folder(
    root: str | os.PathLike[str],
    *,
    layout: MaskLayout = "binary",
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> SegmentationDataset:
    """Load every image/mask pair of a folder.

    Parameters
    ----------
    root : str or os.PathLike
        A folder holding ``images/`` and ``masks/``. Files are paired by stem (``images/a.jpg``
        with ``masks/a.png``); files whose suffix is not one of
        :data:`~segscore.io.IMAGE_SUFFIXES`, and hidden files, are skipped.
    layout, num_classes, ignore_index
        How masks are read, see :func:`segscore.io.read_mask`. For ``"oxford-pet"`` the border
        value ``ignore_index`` defaults to 255 and the dataset's ``ignore_index`` is set to it.
        For ``"instances"`` the masks are instance label maps (any ids, 0 = background): the
        dataset's ``masks`` are their binary foreground (id > 0) and its ``instances`` the ids
        as stored (:func:`segscore.io.read_instances`).

    Returns
    -------
    SegmentationDataset
        Cases sorted by name. Images are scaled by :func:`to_unit_range` (by their dtype's
        declared range). When some images are RGB and others gray, the gray ones are repeated
        to 3 channels. Images may differ in size from one case to the next.

    Raises
    ------
    DatasetError
        On a missing folder, no pairs, images without masks or masks without images (all names
        listed), two files with the same stem, unreadable files, a mask whose size differs from
        its image, or mask values the layout does not allow; the one-line message names the
        file(s).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "images").mkdir(); (root / "masks").mkdir()
    >>> Image.fromarray(np.full((4, 4), 200, np.uint8)).save(root / "images" / "a.jpg")
    >>> Image.fromarray(np.eye(4, dtype=np.uint8) * 255).save(root / "masks" / "a.png")
    >>> ds = load_folder(root)
    >>> ds.names, ds.images[0].shape, int(ds.masks[0].sum()), ds.instances
    (['a'], (1, 4, 4), 4, None)
    >>> from segscore.io import write_instances
    >>> write_instances(root / "masks" / "a.png", np.array([[0, 0, 3, 3]] * 2 + [[5, 0, 0, 0]] * 2))
    >>> ds = load_folder(root, layout="instances")
    >>> ds.masks[0].tolist()[::3], ds.instances[0].tolist()[::3]
    ([[0, 0, 1, 1], [1, 0, 0, 0]], [[0, 0, 3, 3], [5, 0, 0, 0]])
    """
    check_option("layout", layout, MASK_LAYOUTS)
    if layout == "instances":  # before any file is read
        for option, value in (("num_classes", num_classes), ("ignore_index", ignore_index)):
            if value is not None:
                fail(f"`{option}` must be None for layout 'instances', got {value!r}.")
    if layout == "oxford-pet" and ignore_index is None:
        ignore_index = OXFORD_PET_IGNORE
    folder = Path(root)
    pairs = dataset_pairs(folder)
    names = [name for name, _, _ in pairs]
    images: list[NDArray[np.float32]] = []
    masks: list[NDArray[np.int64]] = []
    instances: list[NDArray[np.int64]] = []
    for _, image_path, mask_path in pairs:
        raw = read_image(image_path)
        try:
            image = to_unit_range(raw)
        except DatasetError:
            raise
        except InputError as exc:
            raise DatasetError(f"{str(image_path)!r}: {exc}") from None
        if layout == "instances":
            ids = read_instances(mask_path)
            mask = (ids > 0).astype(np.int64)  # pixel work sees the foreground, explicitly
            instances.append(ids)
        else:
            mask = read_mask(
                mask_path, layout=layout, num_classes=num_classes, ignore_index=ignore_index
            )
        if mask.shape != image.shape[1:]:
            fail_file(
                mask_path,
                f"have the size of its image {image_path.name} (H, W) = {image.shape[1:]}",
                f"{mask.shape}",
            )
        images.append(image)
        masks.append(mask)
    if any(im.shape[0] == 3 for im in images):
        images = [np.repeat(im, 3, axis=0) if im.shape[0] == 1 else im for im in images]
    return SegmentationDataset(
        images=images,
        masks=masks,
        names=names,
        num_classes=num_classes,
        ignore_index=ignore_index,
        source=f"folder:{folder}",
        instances=instances if layout == "instances" else None,
    )

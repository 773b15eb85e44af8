"""Datasets stored as a folder with ``images/`` and ``masks/``, matched by file stem."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from segscore._validation import check_option, fail_file, fail_files
from segscore.data.dataset import SegmentationDataset
from segscore.data.normalize import to_unit_range
from segscore.errors import DatasetError, InputError
from segscore.io.images import (
    IMAGE_SUFFIXES,
    MASK_LAYOUTS,
    OXFORD_PET_IGNORE,
    MaskLayout,
    read_image,
    read_mask,
)

__all__ = ["load_folder"]


def _listing(folder: Path) -> dict[str, Path]:
    """Image files of a folder by stem; hidden files and other suffixes are skipped."""
    by_stem: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if entry.is_file():
            by_stem.setdefault(entry.stem, []).append(entry)
    repeated = [", ".join(p.name for p in paths) for paths in by_stem.values() if len(paths) > 1]
    if repeated:
        fail_files("files with the same stem", [f"({r})" for r in repeated], folder)
    return {stem: paths[0] for stem, paths in by_stem.items()}


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
    >>> ds.names, ds.images[0].shape, int(ds.masks[0].sum())
    (['a'], (1, 4, 4), 4)
    """
    check_option("layout", layout, MASK_LAYOUTS)
    if layout == "oxford-pet" and ignore_index is None:
        ignore_index = OXFORD_PET_IGNORE
    folder = Path(root)
    if not folder.is_dir():
        fail_file(folder, "be a dataset folder holding images/ and masks/", "no such folder")
    for sub in ("images", "masks"):
        if not (folder / sub).is_dir():
            found = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
            fail_file(folder / sub, "exist (a dataset folder holds images/ and masks/)", f"{found}")
    images_by_stem = _listing(folder / "images")
    masks_by_stem = _listing(folder / "masks")
    lonely_images = sorted(set(images_by_stem) - set(masks_by_stem))
    lonely_masks = sorted(set(masks_by_stem) - set(images_by_stem))
    if lonely_images:
        fail_files("image without mask", [images_by_stem[s].name for s in lonely_images], folder)
    if lonely_masks:
        fail_files("mask without image", [masks_by_stem[s].name for s in lonely_masks], folder)
    if not images_by_stem:
        fail_file(
            folder,
            f"hold at least one image/mask pair ({', '.join(IMAGE_SUFFIXES)})",
            "none in images/ and masks/",
        )

    names = sorted(images_by_stem)
    images: list[NDArray[np.float32]] = []
    masks: list[NDArray[np.int64]] = []
    for name in names:
        image_path, mask_path = images_by_stem[name], masks_by_stem[name]
        raw = read_image(image_path)
        try:
            image = to_unit_range(raw)
        except DatasetError:
            raise
        except InputError as exc:
            raise DatasetError(f"{str(image_path)!r}: {exc}") from None
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
    )

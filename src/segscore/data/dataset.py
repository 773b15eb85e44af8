"""An in-memory segmentation dataset: normalised images, integer masks and case names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from segscore._validation import check_number, fail

__all__ = ["SegmentationDataset"]


def _as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


@dataclass(frozen=True)
class SegmentationDataset:
    """Images, masks and names of a segmentation dataset, held in memory.

    Parameters
    ----------
    images : list of ndarray of float32, each shape (C, H, W)
        Normalised images with values in [0, 1]; ``C`` is 1 (gray) or 3 (RGB) and the same for all.
    masks : list of ndarray of int64, each shape (H, W)
        Binary masks ({0, 1}) when ``num_classes`` is None, else labels in ``[0, num_classes)``;
        either may hold ``ignore_index``.
    names : list of str
        Unique case names (file stems), one per image.
    num_classes : int or None
        Number of classes, or None for a binary dataset.
    ignore_index : int or None, optional
        Mask value of pixels to leave out of training and scoring.
    source : str, optional
        Where the data came from, e.g. ``"synthetic(n=100,size=128,seed=0)"`` or ``"folder:/path"``.
    instances : list of ndarray of int64, each shape (H, W), optional
        Instance label maps of a binary dataset, one per case: one id per object, 0 =
        background, and ``masks[i] == (instances[i] > 0)``. None when the source has no
        objects (the built-in ``"nuclei"`` and folders read with ``layout="instances"`` have
        them). Pixel work (training, pixel scores) uses ``masks``; object scores use these.

    Raises
    ------
    InputError
        If the lists differ in length, names repeat, an image and its mask differ in size, or
        ``instances`` is given for a dataset with classes or does not match the masks.

    Examples
    --------
    >>> ds = SegmentationDataset(
    ...     images=[np.zeros((1, 2, 2), np.float32)] * 3,
    ...     masks=[np.zeros((2, 2), np.int64)] * 3,
    ...     names=["a", "b", "c"],
    ...     num_classes=None,
    ... )
    >>> len(ds), ds.in_channels
    (3, 1)
    >>> ds.subset([2, 0]).names
    ['c', 'a']
    """

    images: list[NDArray[np.float32]]
    masks: list[NDArray[np.int64]]
    names: list[str]
    num_classes: int | None
    ignore_index: int | None = None
    source: str = field(default="")
    instances: list[NDArray[np.int64]] | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        if len(self.masks) != n or len(self.names) != n:
            fail(
                "`images`, `masks` and `names` must have the same length, "
                f"got {n}, {len(self.masks)} and {len(self.names)}."
            )
        if len(set(self.names)) != n:
            dups = sorted(name for name, count in Counter(self.names).items() if count > 1)
            fail(f"`names` must be unique, got repeated names {dups}.")
        for image, mask, name in zip(self.images, self.masks, self.names, strict=True):
            if image.ndim != 3 or image.shape[1:] != mask.shape:
                fail(
                    f"image and mask of case {name!r} must have shapes (C, H, W) and (H, W), "
                    f"got {image.shape} and {mask.shape}."
                )
        if self.instances is not None:
            self._check_instances(self.instances)

    def _check_instances(self, instances: list[NDArray[np.int64]]) -> None:
        if self.num_classes is not None:
            fail(
                "`instances` must be None for a dataset with classes, "
                f"got instances with num_classes={self.num_classes}."
            )
        if len(instances) != len(self.masks):
            fail(
                "`instances` must hold one label map per case, "
                f"got {len(instances)} for {len(self.masks)} cases."
            )
        for ids, mask, name in zip(instances, self.masks, self.names, strict=True):
            if ids.shape != mask.shape or not np.array_equal(ids > 0, mask == 1):
                found = f"shape {ids.shape}" if ids.shape != mask.shape else "other pixels"
                fail(
                    f"the instances of case {name!r} must cover exactly its mask's foreground "
                    f"(instances > 0 == mask), got {found}."
                )

    def __len__(self) -> int:
        return len(self.images)

    @property
    def in_channels(self) -> int:
        """Number of image channels (1 for gray, 3 for RGB); 1 for an empty dataset."""
        return int(self.images[0].shape[0]) if self.images else 1

    def subset(self, indices: Sequence[int] | NDArray[np.integer]) -> SegmentationDataset:
        """Return the cases at ``indices``, in that order (arrays shared, not copied).

        Examples
        --------
        >>> from segscore.data import make_synthetic
        >>> make_synthetic(4, 16, seed=0).subset([3, 1]).names
        ['synthetic_003', 'synthetic_001']
        """
        idx = [int(i) for i in np.asarray(indices, dtype=np.int64).ravel()]
        return SegmentationDataset(
            images=[self.images[i] for i in idx],
            masks=[self.masks[i] for i in idx],
            names=[self.names[i] for i in idx],
            num_classes=self.num_classes,
            ignore_index=self.ignore_index,
            source=self.source,
            instances=None if self.instances is None else [self.instances[i] for i in idx],
        )

    def split(
        self, val_fraction: float, *, rng: np.random.Generator | int | None
    ) -> tuple[SegmentationDataset, SegmentationDataset]:
        """Split into disjoint training and validation parts by a random permutation.

        Parameters
        ----------
        val_fraction : float
            Fraction of cases for validation, in [0, 1); the count is ``round(val_fraction * n)``,
            at least 1 when ``val_fraction > 0`` and ``n >= 2``.
        rng : numpy.random.Generator or int or None
            The same seed gives the same split.

        Returns
        -------
        train, val : SegmentationDataset
            Both keep the original case order.

        Examples
        --------
        >>> from segscore.data import make_synthetic
        >>> train, val = make_synthetic(10, 16, seed=0).split(0.2, rng=0)
        >>> len(train), len(val)
        (8, 2)
        """
        fraction = check_number("val_fraction", val_fraction, low=0, high=1, high_inclusive=False)
        n = len(self)
        n_val = round(fraction * n)
        if fraction > 0 and n >= 2:
            n_val = min(max(n_val, 1), n - 1)
        order = _as_generator(rng).permutation(n)
        val_idx = np.sort(order[:n_val])
        train_idx = np.sort(order[n_val:])
        return self.subset(train_idx), self.subset(val_idx)

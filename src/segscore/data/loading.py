"""Load a dataset by name: the built-in ones (``synthetic``, ``nuclei``) or a folder."""

from __future__ import annotations

import os
from pathlib import Path

from segscore._validation import check_option, fail
from segscore.data.dataset import SegmentationDataset
from segscore.data.folder import load_folder
from segscore.data.synthetic import make_synthetic
from segscore.io.images import MASK_LAYOUTS, MaskLayout

__all__ = ["BUILTIN_DATASETS", "load_dataset"]

BUILTIN_DATASETS = ("synthetic", "nuclei")
"""Dataset names that :func:`load_dataset` resolves without a folder."""

_BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


def load_dataset(
    spec: str | os.PathLike[str],
    *,
    layout: MaskLayout = "binary",
    num_classes: int | None = None,
    ignore_index: int | None = None,
    n: int | None = None,
    size: int | None = None,
    seed: int = 0,
) -> SegmentationDataset:
    """Load a dataset by name or folder.

    Parameters
    ----------
    spec : str or os.PathLike
        ``"synthetic"``, ``"nuclei"``, or the path of a folder with ``images/`` and ``masks/``.
        A ``str`` equal to a built-in name selects the built-in; write ``"./nuclei"`` (or pass a
        ``Path``) for a folder of that name.
    layout : {"binary", "multiclass", "oxford-pet", "instances"}, optional
        How a folder's masks are read (:func:`segscore.io.read_mask`; ``"instances"``: label
        maps, see :func:`load_folder`); built-ins take the default.
    num_classes, ignore_index : int, optional
        For folders only, see :func:`load_folder`.
    n, size : int, optional
        For ``"synthetic"`` only: number and size of images (default 100 and 128).
    seed : int, optional
        For ``"synthetic"``: the generator seed. Ignored by the other sources (they hold no
        randomness).

    Returns
    -------
    SegmentationDataset
        Binary masks for ``"synthetic"`` and ``"nuclei"``. ``"nuclei"`` also carries
        ``instances``: one label map per tile, ids ``1..n`` per tile, each nucleus cut by the
        tile border keeping one id.

    Raises
    ------
    InputError
        If an option does not apply to the chosen source (e.g. ``n`` for a folder, or
        ``num_classes`` for ``"nuclei"``).
    DatasetError
        If a folder or one of its files is missing, unreadable or inconsistent.

    Examples
    --------
    >>> ds = load_dataset("synthetic", n=4, size=32, seed=3)
    >>> len(ds), ds.source
    (4, 'synthetic(n=4,size=32,seed=3)')
    >>> nuclei = load_dataset("nuclei")
    >>> len(nuclei), nuclei.images[0].shape, nuclei.source
    (16, (1, 128, 128), 'nuclei')
    >>> int(nuclei.instances[0].max()), bool(np.array_equal(nuclei.instances[0] > 0, nuclei.masks[0]))
    (12, True)
    """
    check_option("layout", layout, MASK_LAYOUTS)
    builtin = spec if isinstance(spec, str) and spec in BUILTIN_DATASETS else None
    if builtin is None or builtin == "nuclei":
        for option, value in (("n", n), ("size", size)):
            if value is not None:
                where = "'nuclei'" if builtin else "a folder dataset"
                fail(f"`{option}` applies only to 'synthetic', not to {where}, got {value!r}.")
    if builtin is not None:
        if layout != "binary":
            fail(f"`layout` must be 'binary' for the built-in {builtin!r}, got {layout!r}.")
        for option, value in (("num_classes", num_classes), ("ignore_index", ignore_index)):
            if value is not None:
                fail(
                    f"`{option}` must be None for the built-in {builtin!r} (binary), got {value!r}."
                )
    if builtin == "synthetic":
        return make_synthetic(100 if n is None else n, 128 if size is None else size, seed=seed)
    if builtin == "nuclei":
        ds = load_folder(_BUILTIN_DIR / "nuclei", layout="instances")
        return SegmentationDataset(
            images=ds.images,
            masks=ds.masks,
            names=ds.names,
            num_classes=None,
            ignore_index=None,
            source="nuclei",
            instances=ds.instances,
        )
    return load_folder(spec, layout=layout, num_classes=num_classes, ignore_index=ignore_index)

"""segscore.data: datasets in memory (synthetic, built-in, folders), splits and normalisation.

Three sources, one entry point, :func:`load_dataset`:

- ``"synthetic"``: generated on the fly by :func:`make_synthetic` (the embedded default).
- ``"nuclei"``: 16 real 128×128 tiles of a DSB2018 fluorescence image shipped with the package
  (``data/builtin/nuclei``; see its SOURCE.md for attribution and licence). Its masks are
  instance label maps (one id per nucleus): the dataset's ``masks`` are their foreground and
  its ``instances`` the ids.
- any other value: a folder with ``images/`` and ``masks/``, see :func:`load_folder`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segscore._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and readers; at run time each on first use
    from segscore.data.dataset import SegmentationDataset
    from segscore.data.folder import load_folder
    from segscore.data.loading import BUILTIN_DATASETS, load_dataset
    from segscore.data.normalize import to_unit_range
    from segscore.data.synthetic import make_synthetic

__all__ = [
    "BUILTIN_DATASETS",
    "SegmentationDataset",
    "load_dataset",
    "load_folder",
    "make_synthetic",
    "to_unit_range",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "segscore.data.dataset": ("SegmentationDataset",),
        "segscore.data.folder": ("load_folder",),
        "segscore.data.loading": ("BUILTIN_DATASETS", "load_dataset"),
        "segscore.data.normalize": ("to_unit_range",),
        "segscore.data.synthetic": ("make_synthetic",),
    },
)

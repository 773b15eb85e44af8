"""segscore.io: the only code that touches files (images, masks, probability maps).

Pillow is imported inside the functions that need it, so ``import segscore.io`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segscore._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and readers; at run time each on first use
    from segscore.io.images import (
        IMAGE_SUFFIXES,
        MASK_LAYOUTS,
        OXFORD_PET_IGNORE,
        MaskLayout,
        read_image,
        read_mask,
        write_mask_png,
        write_probabilities,
    )
    from segscore.io.instances import read_instances, write_instances

__all__ = [
    "IMAGE_SUFFIXES",
    "MASK_LAYOUTS",
    "OXFORD_PET_IGNORE",
    "MaskLayout",
    "read_image",
    "read_instances",
    "read_mask",
    "write_instances",
    "write_mask_png",
    "write_probabilities",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "segscore.io.images": (
            "IMAGE_SUFFIXES",
            "MASK_LAYOUTS",
            "OXFORD_PET_IGNORE",
            "MaskLayout",
            "read_image",
            "read_mask",
            "write_mask_png",
            "write_probabilities",
        ),
        "segscore.io.instances": (
            "read_instances",
            "write_instances",
        ),
    },
)

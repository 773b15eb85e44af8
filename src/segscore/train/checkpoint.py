"""Checkpoints of training runs (see :mod:`segscore.io.checkpoint`).

Reading and writing the file is :mod:`segscore.io.checkpoint`'s job; loading the weights into a
network is :func:`segscore.model.load_weights`. This module keeps the names where training code
and users import them.
"""

from __future__ import annotations

from segscore.io.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from segscore.model import load_weights

__all__ = ["FORMAT", "load_checkpoint", "load_weights", "save_checkpoint"]

"""Checkpoints: a plain dict of tensors and numbers, written atomically, read with ``weights_only``.

A checkpoint holds the model spec (architecture and shape), the model and optimizer state dicts,
the shuffling generator's state, the epoch reached and the training trace. It contains no pickled
code, so ``torch.load(path, weights_only=True)`` reads it, and segscore refuses any file that needs
more than that.

torch is imported inside the functions, so ``import segscore.io.checkpoint`` stays light.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from segscore.errors import CheckpointError, InputError
from segscore.io.results import atomic_open

__all__ = [
    "CHECKPOINT_NAME",
    "FORMAT",
    "find_checkpoint",
    "holds_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
]

FORMAT = "segscore-checkpoint/1"
"""The value of the ``"format"`` key of every checkpoint segscore writes."""

CHECKPOINT_NAME = "checkpoint.pt"
"""The checkpoint's file name in a run folder."""

_KEYS = ("format", "model_spec", "model_state", "epoch")


def holds_checkpoint(run_dir: str | os.PathLike[str]) -> bool:
    """Return whether ``run_dir`` already holds a checkpoint (a finished or interrupted run).

    Examples
    --------
    >>> holds_checkpoint("no-such-run")
    False
    """
    return (Path(run_dir) / CHECKPOINT_NAME).exists()


def find_checkpoint(run: str | os.PathLike[str]) -> tuple[Path, bool]:
    """Locate the checkpoint of a run folder, or take a checkpoint file as given.

    Returns
    -------
    (Path, bool)
        The checkpoint file, and whether ``run`` was a run folder.

    Raises
    ------
    InputError
        If the folder does not exist or holds no checkpoint.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (run / CHECKPOINT_NAME).write_bytes(b"")
    >>> find_checkpoint(run) == (run / CHECKPOINT_NAME, True)
    True
    """
    p = Path(run)
    if p.is_dir():
        ckpt_path = p / CHECKPOINT_NAME
        if not ckpt_path.is_file():
            raise InputError(
                f"`run` {str(p)!r} must be a run folder with {CHECKPOINT_NAME}, got none."
            )
        return ckpt_path, True
    if p.is_file():
        return p, False
    raise InputError(f"`run` must be an existing run folder or checkpoint file, got {str(p)!r}.")


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) atomically: a temporary file, then ``os.replace``.

    Parameters
    ----------
    path : path-like
        Destination file (``.pt``); missing parent folders are created.
    payload : dict
        Tensors, numbers, strings, lists and dicts only (what ``weights_only`` loading accepts).

    Returns
    -------
    Path
        The written file.
    """
    import torch

    with atomic_open(path) as f:
        torch.save({"format": FORMAT, **payload}, f)
    return Path(path)


def _unpickler_cause(message: str) -> str:
    """Return the one useful sentence of torch's long ``weights_only`` error message."""
    marker = "WeightsUnpickler error:"
    if marker in message:
        rest = message.split(marker, 1)[1].strip()
        first = rest.splitlines()[0].strip() if rest else ""
        return first.split(". ")[0].rstrip(".") or "refused"
    return message.strip().splitlines()[0] if message.strip() else "refused"


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a segscore checkpoint safely (``weights_only=True``).

    Raises
    ------
    CheckpointError
        If the file is missing, unreadable, carries pickled code, or is not a segscore checkpoint.
    """
    import torch

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {str(p)!r} does not exist.")
    try:
        data = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        cause = _unpickler_cause(str(exc))
        if "global" in cause.lower():
            raise CheckpointError(
                f"checkpoint {str(p)!r} cannot be loaded safely: it carries pickled code or "
                f"objects that weights_only=True refuses ({cause})."
            ) from None
        raise CheckpointError(
            f"checkpoint {str(p)!r} is not a readable torch file ({cause})."
        ) from None
    except Exception as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointError(
            f"checkpoint {str(p)!r} is not a readable torch file ({type(exc).__name__}: {cause})."
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(
            f"checkpoint {str(p)!r} must be a segscore checkpoint ({FORMAT!r}), got {found!r}."
        )
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise CheckpointError(f"checkpoint {str(p)!r} lacks the keys {missing}.")
    return data

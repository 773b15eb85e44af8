"""Checkpoints: a plain dict of tensors and numbers, written atomically, read with ``weights_only``.

A checkpoint holds the model spec (architecture and shape), the model and optimizer state dicts,
the shuffling generator's state, the epoch reached and the training trace. It contains no pickled
code, so ``torch.load(path, weights_only=True)`` reads it, and segscore refuses any file that needs
more than that.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from segscore.errors import CheckpointError

__all__ = ["FORMAT", "load_checkpoint", "load_weights", "save_checkpoint"]

FORMAT = "segscore-checkpoint/1"
"""The value of the ``"format"`` key of every checkpoint segscore writes."""

_KEYS = ("format", "model_spec", "model_state", "epoch")


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) atomically: a temporary file, then ``os.replace``.

    Parameters
    ----------
    path : path-like
        Destination file (``.pt``); its folder must exist.
    payload : dict
        Tensors, numbers, strings, lists and dicts only (what ``weights_only`` loading accepts).

    Returns
    -------
    Path
        The written file.
    """
    from segscore.io.results import atomic_open

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


def load_weights(model: nn.Module, state: dict[str, Any], *, path: str | os.PathLike[str]) -> None:
    """Load a state dict into ``model``, or raise a :class:`CheckpointError` naming the mismatch."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k}: {tuple(state[k].shape)} in the file, {tuple(own[k].shape)} in the model"
        for k in own
        if k in state and isinstance(state[k], torch.Tensor) and state[k].shape != own[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensors (first {missing[0]!r})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors (first {unexpected[0]!r})")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatches (first {shapes[0]})")
    if problems:
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not fit the model {type(model).__name__}: "
            + "; ".join(problems)
            + "."
        )
    model.load_state_dict(state)

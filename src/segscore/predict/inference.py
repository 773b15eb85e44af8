"""Inference: load a trained network from a run folder and turn images into probabilities.

Images of any size go through the network unchanged (the models pad and crop internally);
consecutive images of the same size are batched.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from segscore.errors import CheckpointError, InputError
from segscore.io.checkpoint import CHECKPOINT_NAME, find_checkpoint, load_checkpoint
from segscore.io.results import read_json_object
from segscore.model import activate, load_weights

__all__ = ["CHECKPOINT_NAME", "LoadedRun", "load_run", "predict_probabilities"]


class LoadedRun:
    """A trained network with its checkpoint record and run configuration.

    Attributes
    ----------
    model : nn.Module
        In eval mode, with ``activation(logits)`` and ``spec()``.
    checkpoint : dict
        The checkpoint as read (weights included).
    config : dict
        The run's ``config.json`` (or the copy inside the checkpoint).
    path : Path
        The checkpoint file.
    """

    def __init__(
        self, model: nn.Module, checkpoint: dict[str, Any], config: dict[str, Any], path: Path
    ) -> None:
        self.model = model
        self.checkpoint = checkpoint
        self.config = config
        self.path = path

    @property
    def threshold(self) -> float:
        """The run's threshold (0.5 when the run does not record one)."""
        return float(self.config.get("threshold", 0.5))

    @property
    def in_channels(self) -> int:
        """Image channels the network expects."""
        return int(self.checkpoint["model_spec"]["in_channels"])


def load_run(run: str | os.PathLike[str]) -> LoadedRun:
    """Load the network of a run folder (or of a checkpoint file).

    Raises
    ------
    InputError
        If the folder does not exist or holds no checkpoint.
    CheckpointError
        If the checkpoint is unsafe, unreadable or does not fit its recorded architecture.
    """
    from segscore.model import build_model

    ckpt_path, folder = find_checkpoint(run)
    ckpt = load_checkpoint(ckpt_path)
    spec = ckpt["model_spec"]
    if not isinstance(spec, dict):
        raise CheckpointError(
            f"checkpoint {str(ckpt_path)!r} has no valid model spec, got {spec!r}."
        )
    try:
        model = build_model(spec)
    except InputError as exc:
        raise CheckpointError(f"checkpoint {str(ckpt_path)!r}: {exc}") from None
    load_weights(model, ckpt["model_state"], path=ckpt_path)
    # As trained (channels last): the same kernels give the same bits.
    model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    model.eval()
    config: dict[str, Any] = dict(ckpt.get("config") or {})
    if folder:  # a missing or unreadable config.json: the copy inside the checkpoint
        with contextlib.suppress(InputError):
            config = read_json_object(ckpt_path.parent / "config.json", needed_by="run")
    return LoadedRun(model, ckpt, config, ckpt_path)


def predict_probabilities(
    model: nn.Module, images: Sequence[NDArray[np.float32]], *, batch_size: int = 8
) -> list[NDArray[np.float32]]:
    """Probabilities of every image: sigmoid (K = 1) or softmax over K classes.

    Parameters
    ----------
    model : nn.Module
        A network with ``activation(logits)``, in eval mode.
    images : sequence of ndarray of float32, each shape (C, H, W)
        Images in [0, 1]; sizes may differ.
    batch_size : int, default 8
        Images per forward pass (only consecutive images of one size are batched).

    Returns
    -------
    list of ndarray of float32, each shape (K, H, W)

    Examples
    --------
    >>> from segscore.model import UNet
    >>> net = UNet(1, 1, base_channels=2, depth=1).eval()
    >>> [p.shape for p in predict_probabilities(net, [np.zeros((1, 5, 7), np.float32)] * 2)]
    [(1, 5, 7), (1, 5, 7)]
    """
    out: list[NDArray[np.float32]] = []
    i = 0
    with torch.inference_mode():
        while i < len(images):
            j = i + 1
            while j < len(images) and j - i < batch_size and images[j].shape == images[i].shape:
                j += 1
            x = torch.from_numpy(np.stack([np.asarray(a, np.float32) for a in images[i:j]]))
            x = x.contiguous(memory_format=torch.channels_last)
            probs = activate(model, model(x))
            out += [p.contiguous().numpy().astype(np.float32) for p in probs]
            i = j
    return out

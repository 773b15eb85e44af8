"""segscore.model: the networks (``torch.nn.Module`` only; no training, no files).

Importing this package imports torch; ``import segscore`` does not import it.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from segscore.errors import CheckpointError, InputError
from segscore.model.unet import UNet, count_parameters

__all__ = ["UNet", "activate", "build_model", "count_parameters", "load_weights", "model_spec"]


def build_model(spec: dict[str, Any]) -> nn.Module:
    """Build a network from its spec (the ``spec()`` record stored in checkpoints).

    Parameters
    ----------
    spec : dict
        ``{"arch": "unet", "in_channels", "out_channels", "base_channels", "depth", "padding"}``
        (``"stem"`` optional, default ``"conv"``; see :class:`UNet`) or
        ``{"arch": "smp:<Architecture>", "encoder", "in_channels", "out_channels"}``.

    Returns
    -------
    nn.Module
        With ``activation(logits)`` and ``spec()`` methods; random weights.

    Raises
    ------
    InputError
        On an unknown architecture or bad sizes; for ``smp:`` when SMP cannot be imported.

    Examples
    --------
    >>> net = build_model({"arch": "unet", "in_channels": 1, "out_channels": 1, "base_channels": 4, "depth": 2})
    >>> net.spec()["base_channels"], count_parameters(net)
    (4, 7477)
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("arch"), str):
        raise InputError(f"`spec` must be a dict with an 'arch' string, got {spec!r}.")
    arch = spec["arch"]
    try:
        if arch == "unet":
            return UNet(
                int(spec["in_channels"]),
                int(spec["out_channels"]),
                base_channels=int(spec["base_channels"]),
                depth=int(spec["depth"]),
                padding=spec.get("padding", "reflect"),
                stem=spec.get("stem", "conv"),
            )
        if arch.startswith("smp:"):
            from segscore.model.smp import build_smp

            return build_smp(
                arch[4:],
                encoder=str(spec["encoder"]),
                in_channels=int(spec["in_channels"]),
                out_channels=int(spec["out_channels"]),
            )
    except KeyError as exc:
        raise CheckpointError(f"model spec {spec!r} lacks the key {exc.args[0]!r}.") from None
    raise InputError(f"`arch` must be 'unet' or 'smp:<Architecture>', got {arch!r}.")


def model_spec(model: nn.Module) -> dict[str, Any]:
    """Return the constructor record of a segscore network (its ``spec()``), as stored in checkpoints.

    Examples
    --------
    >>> model_spec(UNet(1, 1, base_channels=2, depth=1))["arch"]
    'unet'
    """
    spec = getattr(model, "spec", None)
    result = spec() if callable(spec) else None
    if not isinstance(result, dict):
        raise InputError(
            f"`model` must be a segscore network with spec(), got {type(model).__name__}."
        )
    return result


def activate(model: nn.Module, logits: torch.Tensor) -> torch.Tensor:
    """Probabilities from logits: sigmoid for one output channel, softmax over channels otherwise.

    Examples
    --------
    >>> activate(UNet(1, 1, base_channels=2, depth=1), torch.zeros(1, 1, 1, 1)).item()
    0.5
    """
    if int(model_spec(model)["out_channels"]) == 1:
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=1)


def load_weights(model: nn.Module, state: dict[str, Any], *, path: str | os.PathLike[str]) -> None:
    """Load a state dict into ``model``, or raise a :class:`CheckpointError` naming the mismatch.

    ``path`` only names the checkpoint in the message; nothing is read here.
    """
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

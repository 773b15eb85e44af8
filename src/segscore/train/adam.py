"""Adam for the training loop, without importing torch's compiler stack.

``torch.optim.Optimizer.__init__`` imports ``torch._dynamo`` (its ``add_param_group`` is wrapped to
keep the compiler out), and that import pulls in ``torch._inductor``: 2.7 s of CPU on the project's
2-core EPYC, about 5% of ``segscore demo``, for a compiler training never uses. :class:`Adam`
applies the same update, in the same order of float operations, as ``torch.optim.Adam`` with its
CPU defaults (one tensor at a time, no weight decay, no AMSGrad), so the weights are the same bits
(tested), and its ``state_dict`` has the layout of ``torch.optim.Adam``'s, so checkpoints written
before it resume with it, and the other way round.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

__all__ = ["Adam"]


class Adam:
    """Adam (Kingma and Ba, 2015) over a list of parameters: the update of ``torch.optim.Adam``.

    Parameters
    ----------
    params : iterable of Parameter
        The tensors to update (those with ``grad`` None after the backward pass are skipped).
    lr : float
        Learning rate; the loop sets ``param_groups[0]["lr"]`` before every step.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-8
        Added to the bias-corrected square root of the second moment.

    Notes
    -----
    One step, for every parameter ``p`` with gradient ``g``, at step ``t`` (from 1)::

        m <- m + (1 - beta1) (g - m)            (torch.lerp)
        v <- beta2 v + (1 - beta2) g g
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.detach()  # the first step moves every weight by lr against its gradient's sign
    tensor([ 0.9000, -1.9000])
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        *,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.param_groups: list[dict[str, Any]] = [
            {
                "lr": lr,
                "betas": betas,
                "eps": eps,
                "weight_decay": 0,
                "amsgrad": False,
                "maximize": False,
                "foreach": None,
                "capturable": False,
                "differentiable": False,
                "fused": None,
                "decoupled_weight_decay": False,
            }
        ]
        self.state: dict[int, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop (or zero) every parameter's gradient."""
        for p in self.params:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient."""
        group = self.param_groups[0]
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad = p.grad
            state = self.state.get(i)
            if state is None:
                state = {
                    "step": torch.tensor(0.0, dtype=torch.float32),
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
                self.state[i] = state
            step_t, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
            step_t += 1
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            t = float(step_t.item())
            step_size = lr / (1 - beta1**t)
            denom = (exp_avg_sq.sqrt() / (1 - beta2**t) ** 0.5).add_(eps)
            p.addcdiv_(exp_avg, denom, value=-step_size)

    def state_dict(self) -> dict[str, Any]:
        """Return the state in ``torch.optim.Adam``'s layout (``state`` by index, ``param_groups``)."""
        group = dict(self.param_groups[0])
        group["params"] = list(range(len(self.params)))
        return {
            "state": {i: dict(s) for i, s in self.state.items()},
            "param_groups": [group],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state written by :meth:`state_dict` or by ``torch.optim.Adam.state_dict``.

        Raises
        ------
        ValueError
            If the state holds another number of parameter groups or parameters, other shapes,
            or options this optimizer does not implement.
        KeyError
            If a key of the layout is missing.
        """
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError(
                f"the optimizer state has {[len(g['params']) for g in groups]} parameters per "
                f"group, this model one group of {len(self.params)}"
            )
        group = groups[0]
        for name, value in (("weight_decay", 0), ("amsgrad", False), ("maximize", False)):
            if group.get(name, value) != value:
                raise ValueError(f"the optimizer state uses {name}={group[name]!r}")
        index = {int(k): j for j, k in enumerate(group["params"])}
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, saved in state_dict["state"].items():
            i = index[int(key)]
            p = self.params[i]
            moments = {name: saved[name] for name in ("exp_avg", "exp_avg_sq")}
            for name, tensor in moments.items():
                if tuple(tensor.shape) != tuple(p.shape):
                    raise ValueError(
                        f"the optimizer state's {name} of parameter {i} has shape "
                        f"{tuple(tensor.shape)}, the parameter {tuple(p.shape)}"
                    )
            state[i] = {
                "step": torch.as_tensor(saved["step"], dtype=torch.float32).clone(),
                "exp_avg": moments["exp_avg"].to(p.dtype).clone(),
                "exp_avg_sq": moments["exp_avg_sq"].to(p.dtype).clone(),
            }
        self.state = state
        self.param_groups[0].update(
            {k: v for k, v in group.items() if k != "params" and k in self.param_groups[0]}
        )

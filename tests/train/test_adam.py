"""segscore's Adam against torch.optim.Adam: the same bits, the same state layout."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch

from segscore.model import UNet
from segscore.train.adam import Adam


def _net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return UNet(1, 1, base_channels=4, depth=2).to(memory_format=torch.channels_last)


def _steps(net: torch.nn.Module, opt: object, lrs: list[float], seed: int) -> list[float]:
    g = torch.Generator().manual_seed(seed)
    losses = []
    for lr in lrs:
        for group in opt.param_groups:  # type: ignore[attr-defined]
            group["lr"] = lr
        x = torch.rand(2, 1, 16, 16, generator=g).contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)  # type: ignore[attr-defined]
        loss = (net(x) - x).square().mean()
        loss.backward()
        opt.step()  # type: ignore[attr-defined]
        losses.append(float(loss.detach()))
    return losses


LRS = [1e-3, 3e-3, 3e-3, 2e-3, 5e-4, 1e-4]  # a changing rate, as the schedule sets it


def test_same_bits_as_torch_adam() -> None:
    ours, theirs = _net(0), _net(0)
    a = _steps(ours, Adam(ours.parameters(), lr=1e-3), LRS, seed=1)
    b = _steps(theirs, torch.optim.Adam(theirs.parameters(), lr=1e-3), LRS, seed=1)
    assert a == b
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert torch.equal(p, q), name
    assert not torch.equal(next(ours.parameters()), next(_net(0).parameters()))  # it moved


def test_state_dict_has_torch_layout_and_resumes_both_ways() -> None:
    ref = _net(0)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-3)
    _steps(ref, ref_opt, LRS[:3], seed=1)
    ours = _net(0)
    ours.load_state_dict(ref.state_dict())
    opt = Adam(ours.parameters(), lr=1e-3)
    opt.load_state_dict(ref_opt.state_dict())  # a checkpoint written with torch.optim.Adam
    saved = opt.state_dict()
    expected = ref_opt.state_dict()
    assert saved["param_groups"] == expected["param_groups"]
    assert saved["state"].keys() == expected["state"].keys()
    for i, s in expected["state"].items():
        assert saved["state"][i].keys() == s.keys()
        for key, value in s.items():
            assert torch.equal(saved["state"][i][key], value), (i, key)
            assert saved["state"][i][key].dtype == value.dtype
    # Going on from the same state gives the same bits with either optimizer,
    # and torch.optim.Adam loads segscore's state.
    other = _net(0)
    other.load_state_dict(ref.state_dict())
    other_opt = torch.optim.Adam(other.parameters(), lr=1e-3)
    other_opt.load_state_dict(copy.deepcopy(saved))  # as read back from a checkpoint file
    a = _steps(ours, opt, LRS[3:], seed=2)
    b = _steps(ref, ref_opt, LRS[3:], seed=2)
    c = _steps(other, other_opt, LRS[3:], seed=2)
    assert a == b == c
    for p, q, r in zip(ours.parameters(), ref.parameters(), other.parameters(), strict=True):
        assert torch.equal(p, q)
        assert torch.equal(p, r)


def test_skips_parameters_without_gradient() -> None:
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    frozen = torch.nn.Parameter(torch.tensor([5.0]))
    opt = Adam([w, frozen], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    assert torch.equal(frozen.detach(), torch.tensor([5.0]))
    assert torch.allclose(w.detach(), torch.tensor([0.5, 1.5]))  # lr against the gradient's sign
    assert list(opt.state_dict()["state"]) == [0]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"params": [0]}, "parameters per group"),
        ({"weight_decay": 0.1}, "weight_decay=0.1"),
        ({"amsgrad": True}, "amsgrad=True"),
    ],
)
def test_load_refuses_other_states(change: dict[str, object], match: str) -> None:
    net = _net(0)
    ref = torch.optim.Adam(net.parameters(), lr=1e-3)
    state = ref.state_dict()
    state["param_groups"][0].update(change)
    with pytest.raises(ValueError, match=match):
        Adam(net.parameters(), lr=1e-3).load_state_dict(state)


def test_training_does_not_import_the_compiler() -> None:
    # torch.optim and torch.use_deterministic_algorithms import torch._dynamo/_inductor
    # (seconds of CPU); a training run must not.
    code = (
        "import sys, torch\n"
        "from segscore.data import make_synthetic\n"
        "from segscore.train.config import TrainConfig\n"
        "from segscore.train.loop import fit\n"
        "tr, va = make_synthetic(4, 16, seed=0).split(0.25, rng=0)\n"
        "fit(TrainConfig(data='synthetic', epochs=1, batch_size=2, threads=1), tr, va)\n"
        "assert 'torch._dynamo' not in sys.modules, 'dynamo'\n"
        "assert 'torch._inductor' not in sys.modules, 'inductor'\n"
        "assert not torch.are_deterministic_algorithms_enabled()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

import os
import subprocess
import sys

import torch

from segscore.train.seeding import deterministic
from segscore.train.threads import passive_openmp_waits


def _python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()[-1]


def test_passive_waits_set_before_torch_only():
    code = (
        "import os, sys; from segscore.train.threads import passive_openmp_waits as p; "
        "print(f\"{'torch' in sys.modules}|{p()}|{os.environ['OMP_WAIT_POLICY']}\")"
    )
    assert _python(code) == "False|True|PASSIVE"
    assert passive_openmp_waits() is False  # torch is imported in this process


def test_user_choice_of_wait_policy_wins(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert passive_openmp_waits() is False
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_cli_parser_does_not_import_torch():
    code = (
        "import sys; from segscore.cli import build_parser; build_parser(); "
        "print('torch' in sys.modules)"
    )
    assert _python(code) == "False"


def test_deterministic_restores_flags_and_threads():
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.utils.deterministic.fill_uninitialized_memory,  # type: ignore[attr-defined]
        torch.get_num_threads(),
    )
    with deterministic(0, threads=1):
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.utils.deterministic.fill_uninitialized_memory  # type: ignore[attr-defined]
        assert torch.get_num_threads() == 1
    after = (
        torch.are_deterministic_algorithms_enabled(),
        torch.utils.deterministic.fill_uninitialized_memory,  # type: ignore[attr-defined]
        torch.get_num_threads(),
    )
    assert after == before

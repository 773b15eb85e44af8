"""Shared fixtures of the CLI tests: the options of a tiny training run, and one trained run."""

from __future__ import annotations

import pytest

from segscore.cli import main

TINY_OPTIONS = (
    "--n",
    "6",
    "--size",
    "32",
    "--epochs",
    "1",
    "--batch-size",
    "4",
    "--base-channels",
    "4",
    "--depth",
    "2",
    "--threads",
    "1",
)


@pytest.fixture
def tiny() -> list[str]:
    """`segscore train` options for a run of a few seconds (the first 4 set the synthetic data)."""
    return list(TINY_OPTIONS)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One tiny trained run, shared by the predict and trace tests (read only)."""
    run = tmp_path_factory.mktemp("run")
    assert main(["train", "synthetic", "--out", str(run), *TINY_OPTIONS]) == 0
    return run

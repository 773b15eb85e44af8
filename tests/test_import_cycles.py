"""No import cycles: every import counts, a lazy one inside a function included (issue #11)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "import_cycles.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_the_package_has_no_import_cycle() -> None:
    result = _run("--core", "segscore.metrics")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 cycle(s)" in result.stdout, result.stdout


def test_the_check_finds_lazy_cycles_and_imports_of_the_package(tmp_path: pathlib.Path) -> None:
    """A cycle closed by an import inside a function, and a core module importing the package."""
    pkg = tmp_path / "pkg"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text("__version__ = '1'\n")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("from pkg.core import b\n")
    (pkg / "core" / "b.py").write_text("def f():\n    from . import a\n")
    (pkg / "core" / "c.py").write_text("from pkg import __version__\n")
    (pkg / "core" / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.core import e\n"
    )
    (pkg / "core" / "e.py").write_text("from pkg.core import d\n")
    result = _run("--src", str(tmp_path), "--package", "pkg", "--core", "pkg.core")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 cycle(s)" in result.stdout  # d -> e only under TYPE_CHECKING: no cycle
    assert "loop: pkg.core.a -> pkg.core.b -> pkg.core.a" in result.stdout
    assert "pkg.core.c imports the package pkg itself" in result.stdout

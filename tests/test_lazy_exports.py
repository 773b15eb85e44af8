"""Packages that export their names lazily (``segscore._lazy``): the lists agree, every name
resolves to its module's object, and commands import only what they use."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

LAZY_PACKAGES = (
    "segscore",
    "segscore.data",
    "segscore.evaluation",
    "segscore.io",
    "segscore.metrics",
    "segscore.metrics.boundary",
    "segscore.metrics.instance",
)


def _declared(package: str) -> tuple[dict[str, set[str]], dict[str, set[str]], set[str]]:
    """Return (TYPE_CHECKING imports, lazy_exports mapping, eager names) read from the source."""
    source = Path(importlib.import_module(package).__file__ or "").read_text()
    tree = ast.parse(source)
    typed: dict[str, set[str]] = {}
    lazy: dict[str, set[str]] = {}
    eager: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                assert imp.module
                typed.setdefault(imp.module, set()).update(a.name for a in imp.names)
        elif isinstance(node, ast.ImportFrom) and node.module not in ("__future__", "typing"):
            eager.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.FunctionDef):
            eager.add(node.name)
        elif isinstance(node, ast.Assign):
            eager.update(t.id for t in node.targets if isinstance(t, ast.Name))
    mapping = importlib.import_module(package).__lazy_exports__
    lazy = {module: set(names) for module, names in mapping.items()}
    return typed, lazy, eager - {"__all__", "lazy_exports", "_EAGER", "__getattr__", "__dir__"}


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_type_checking_imports_lazy_map_and_all_agree(package: str) -> None:
    typed, lazy, eager = _declared(package)
    assert lazy, f"{package} declares no lazy exports"
    assert typed == lazy
    exported = set().union(*lazy.values())
    module = importlib.import_module(package)
    assert set(module.__all__) == exported | (eager & set(module.__all__))
    assert exported <= set(module.__all__)
    assert exported <= set(dir(module))
    # importing a submodule binds its name on the package: a public name must not be one
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert not exported & submodules


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_lazy_name_is_its_modules_object(package: str) -> None:
    _, lazy, _ = _declared(package)
    module = importlib.import_module(package)
    for owner, names in lazy.items():
        for name in names:
            assert getattr(module, name) is getattr(importlib.import_module(owner), name)


def test_unknown_names_and_submodules() -> None:
    import segscore

    with pytest.raises(AttributeError, match="module 'segscore' has no attribute 'nope'"):
        _ = segscore.nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = segscore.__wrapped__  # type: ignore[attr-defined]
    assert segscore.metrics is importlib.import_module("segscore.metrics")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return set(out.split())


def test_import_segscore_imports_no_metric_module() -> None:
    loaded = _modules_after("import segscore")
    assert "numpy" not in loaded
    assert not {m for m in loaded if m.startswith("segscore.metrics.")}
    # and the names still work, importing what they need
    loaded = _modules_after(
        "import segscore, numpy as np\nsegscore.iou(segscore.confusion(np.ones((1, 2)), np.ones((1, 2))))"
    )
    assert "segscore.metrics.overlap" in loaded
    assert "segscore.metrics.instance" not in loaded


def test_binary_evaluate_imports_neither_objects_nor_boundary_nor_bootstrap(tmp_path: Path) -> None:
    for folder in ("pred", "gt"):
        (tmp_path / folder).mkdir()
        mask = np.zeros((8, 8), np.uint8)
        mask[2:6, 2:6] = 255
        Image.fromarray(mask).save(tmp_path / folder / "a.png")
    code = (
        "import contextlib, io\n"
        "from segscore.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['evaluate', '--pred', {str(tmp_path / 'pred')!r}, '--gt', "
        f"{str(tmp_path / 'gt')!r}, '--out', {str(tmp_path / 'out')!r}, '--no-report']) == 0"
    )
    loaded = _modules_after(code)
    assert (tmp_path / "out" / "per_case.csv").is_file()
    roots = (
        "segscore.metrics.instance",
        "segscore.metrics.boundary",
        "segscore.metrics.bootstrap",
        "segscore.evaluation.compare",
        "segscore.evaluation.visuals",
        "segscore.report.overlay",
        "segscore.cli.train",
        "segscore.predict",
        "scipy",
        "PIL",
        "numpy.ma",  # np.median's first call imports it
        "rich",  # the summary table is laid out without it (report/console.py)
    )
    unwanted = {m for m in loaded for r in roots if m == r or m.startswith(r + ".")}
    assert not unwanted, sorted(unwanted)

#!/usr/bin/env python
"""Print the import cycles of a package, read from its source (nothing is imported).

    python scripts/import_cycles.py                       # every cycle of src/segscore
    python scripts/import_cycles.py --core segscore.metrics  # exit 1 if one lies inside the core

Every ``import`` statement counts, at module level and inside functions alike (a lazy import is
still an import; only ``if TYPE_CHECKING:`` blocks are skipped, as they never run). An import of a
package counts as an import of its ``__init__``: ``import a.b`` and ``from a.b import name`` are
edges to ``a.b`` (its ``__init__`` when it is a package), ``from a.b import sub`` is an edge to
the submodule ``a.b.sub`` when one exists. The parents that Python imports on the way (``a`` for
``a.b``) are not edges: every submodule of a package that re-exports it would be a cycle.

A cycle is a strongly connected component of the graph; each is printed with one shortest loop
through it. With ``--core``, the script also checks that no module under that prefix imports the
top-level package (``import segscore``, ``from segscore import __version__``) and exits 1 if it
finds either that or a cycle among core modules.
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import sys
from collections import deque
from collections.abc import Iterator

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"


def module_files(root: pathlib.Path, package: str) -> dict[str, pathlib.Path]:
    """Map every module name of ``package`` (found under ``root``) to its file."""
    out = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def edges_of(name: str, path: pathlib.Path, modules: dict[str, pathlib.Path]) -> set[str]:
    """The modules of ``modules`` that the module ``name`` (file ``path``) imports."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            targets = []
            for alias in node.names:
                sub = f"{parent}.{alias.name}"
                targets.append(sub if sub in modules else parent)
        out.update(t for t in targets if t in modules and t != name)
    return out


def graph(root: pathlib.Path, package: str) -> dict[str, set[str]]:
    """The import graph of ``package``: module name -> the package's modules it imports."""
    modules = module_files(root, package)
    return {name: edges_of(name, path, modules) for name, path in modules.items()}


def components(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(g[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return sorted(out)


def shortest_loop(g: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest loop through the component's first module, staying inside the component."""
    inside = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(g[node] & inside):
            if child == start:
                loop = [node]
                while loop[-1] != start:
                    loop.append(previous[loop[-1]])
                return [*reversed(loop), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError("a strongly connected component has a loop")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=pathlib.Path, default=SRC, help="source root")
    parser.add_argument("--package", default="segscore", help="top-level package")
    parser.add_argument("--core", help="module prefix that must hold no cycle (exit 1 otherwise)")
    args = parser.parse_args(argv)
    g = graph(args.src, args.package)
    cycles = components(g)
    n_edges = sum(len(v) for v in g.values())
    print(f"{len(g)} modules, {n_edges} imports, {len(cycles)} cycle(s)")
    failed = False
    for comp in cycles:
        in_core = args.core is not None and any(m.startswith(args.core) for m in comp)
        failed |= in_core
        mark = " [core]" if in_core else ""
        print(f"- {len(comp)} modules{mark}: {', '.join(comp)}")
        print(f"  loop: {' -> '.join(shortest_loop(g, comp))}")
    if args.core is not None:
        core_to_top = sorted(
            m for m, deps in g.items() if m.startswith(args.core) and args.package in deps
        )
        for m in core_to_top:
            print(f"- {m} imports the package {args.package} itself")
        failed |= bool(core_to_top)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

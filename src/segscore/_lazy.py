"""Lazy public names of a package: each is imported from its module on first use.

``segscore``, ``segscore.metrics`` and ``segscore.evaluation`` export many names from many
modules. Importing all of them eagerly costs every command's start-up the bootstrap, boundary,
instance and comparison modules (and the numpy submodules they pull in) even when it uses none of
them: a quarter of a second on a busy 2-core machine, against a one-second evaluation. So a
package lists its exports as ``{module: names}``; its ``__getattr__`` (PEP 562) imports the module
when a name is first asked for, and caches the value on the package. The same names are imported
under ``typing.TYPE_CHECKING`` for type checkers and readers; ``tests/test_lazy_exports.py``
checks that the two lists and ``__all__`` agree and that every name resolves.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package`` exporting ``{module: names}`` lazily.

    A name that is not exported but is a submodule of ``package`` (``segscore.metrics`` after a
    bare ``import segscore``) is imported too, as an eager package would have made it available.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("json", {"json.decoder": ["JSONDecodeError"]})
    >>> getattr_("JSONDecodeError").__name__
    'JSONDecodeError'
    >>> "JSONDecodeError" in dir_()
    True
    >>> getattr_("nope")
    Traceback (most recent call last):
    ...
    AttributeError: module 'json' has no attribute 'nope'
    """
    owner = {name: module for module, names in exports.items() for name in names}
    # kept on the package for readers and tests (tests/test_lazy_exports.py)
    vars(sys.modules[package])["__lazy_exports__"] = {m: tuple(n) for m, n in exports.items()}

    def __getattr__(name: str) -> Any:
        module = owner.get(name)
        if name.startswith("__"):  # probes such as __wrapped__ or __path__ of a module
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(owner))

    return __getattr__, __dir__

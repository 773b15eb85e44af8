"""The version of segscore: the one place it is written (pyproject.toml reads it from here).

A module constant rather than ``importlib.metadata.version``, which costs ~50 ms at import.
"""

__version__ = "0.1.0"

"""Exceptions raised by segscore.

The tree::

    SegscoreError                 base of every error segscore raises on purpose
    ├── InputError(ValueError)    a bad argument or array: shape, dtype, labels, option values
    │   └── DatasetError          a bad file or folder: unreadable, unmatched, wrong size
    └── CheckpointError           a checkpoint that cannot be loaded safely or does not fit the model

    Interrupted(KeyboardInterrupt)  Ctrl-C during a long run, saying how to continue it

Any other exception escaping segscore is a bug. The CLI prints ``error: <message>`` for a
``SegscoreError`` and exits 2; for anything else it shows the traceback and exits 1.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "DatasetError", "InputError", "Interrupted", "SegscoreError"]


class SegscoreError(Exception):
    """Base class of the errors segscore raises on purpose."""


class InputError(SegscoreError, ValueError):
    """An argument or array does not meet the documented requirements.

    Examples
    --------
    >>> from segscore.errors import InputError
    >>> issubclass(InputError, ValueError)
    True
    """


class DatasetError(InputError):
    """A file or folder of a dataset is missing, unreadable or inconsistent."""


class CheckpointError(SegscoreError, ValueError):
    """A checkpoint cannot be loaded safely or was saved for another architecture."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a long run; the message says how to continue it (the CLI exits 130)."""

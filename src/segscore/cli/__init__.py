"""The ``segscore`` command: parse arguments, call the library, return an exit code.

Exit codes: 0 success; 1 internal error (a bug: the traceback is shown); 2 bad input or usage, with
one line ``error: <message>`` on stderr; 130 interrupted.

Each subcommand lives in its own module ``segscore.cli.<name>`` that defines
``add_parser(subparsers)``; the parser sets ``func`` to a callable ``(args) -> int``. Modules are
imported when the parser is built, and they import heavy dependencies (torch) only inside ``func``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from segscore.errors import Interrupted, SegscoreError

__all__ = ["console_main", "main"]

SUBCOMMANDS = ("demo", "score", "evaluate", "compare", "explain", "train", "predict", "trace")

EPILOG = """exit codes:
  0   success
  1   internal error (a bug; please report it with the traceback)
  2   bad input or usage (one line on stderr names the argument or file)
  130 interrupted
"""


class UsageError(SegscoreError):
    """A command-line usage error (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the ``segscore`` argument parser with every available subcommand.

    With ``only``, the parser has that one subcommand: ``main`` builds it when the command line
    names one, so that ``segscore evaluate`` does not import the modules of the seven others
    (their import costs every command's start-up; ``segscore --help`` still lists them all).
    """
    from segscore import __version__

    parser = _Parser(
        prog="segscore",
        description="Train, run and score image segmentation models: exact, explicit, fast metrics.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"segscore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS if only is None else (only,):
        try:
            module = importlib.import_module(f"segscore.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand module not written yet
            if exc.name != f"segscore.cli.{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``segscore`` command line; return the exit code.

    Examples
    --------
    >>> main(["score", "--threshold", "2"])
    2
    """
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        # Building the parser imports the command's modules (numpy, the metrics core). Their
        # objects live until exit, yet they would set off the cyclic collector again and again:
        # paused, start-up runs 3% fewer instructions (callgrind, `segscore evaluate`).
        collecting = gc.isenabled()
        gc.disable()
        try:
            parser = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None)
            args = parser.parse_args(argv)
        finally:
            if collecting:
                gc.enable()
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 2
        return int(args.func(args))
    except SegscoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        hint = f"; {exc}" if isinstance(exc, Interrupted) and str(exc) else ""
        print(f"error: interrupted{hint}", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except Exception:
        traceback.print_exc()
        print("error: internal error (a bug in segscore); the traceback is above.", file=sys.stderr)
        return 1


def console_main() -> int:
    """Run the ``segscore`` program: :func:`main`, then exit quickly from a process with torch.

    When the interpreter exits it runs a last garbage collection over every object it tracks;
    with torch's ~half a million objects loaded that takes 0.7-0.9 s on the project's 2-core EPYC,
    longer than many commands. :func:`gc.freeze` moves them out of the collector's reach first
    (they are still freed, by reference counting). Only the program does this, never
    :func:`main`, which tests and notebooks call in a process that goes on.
    """
    code = main()
    if "torch" in sys.modules:
        gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())

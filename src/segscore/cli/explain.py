"""``segscore explain METRIC [--run OUT] [--no-quiz] [--answer X]``: what a metric means.

The text is built by :func:`segscore.report.explain.explain`; this module reads the arguments,
prints, and asks the quiz question (on a terminal) or prints its answer key (stdin not a
terminal, no ``--answer``), so that a pipe or a script never waits for input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]

_TRIES = 3


def add_parser(subparsers: Any) -> None:
    """Register the ``explain`` subcommand."""
    p = subparsers.add_parser(
        "explain",
        help="explain a metric: definition, formula, worked example, conventions, peers, quiz",
        description=(
            "Explain a metric of the registry (iou, dice, hd95, nsd@1.0, biou@2px, f1@0.5, pq, "
            "aji, ...): its definition, its formula in counts, a worked example on a mask drawn "
            "in the terminal (every number computed by segscore), the conventions that change "
            "the number and what the peer libraries do. With --run, point to the case of a "
            "`segscore evaluate` folder that illustrates it best. Ends with a quiz question."
        ),
    )
    p.add_argument("metric", metavar="METRIC", help="a metric name (segscore.metrics.registry)")
    p.add_argument(
        "--run",
        type=Path,
        default=None,
        metavar="OUT",
        help="output folder of `segscore evaluate` (summary.json, per_case.csv)",
    )
    p.add_argument("--no-quiz", action="store_true", help="skip the quiz question")
    p.add_argument(
        "--answer",
        default=None,
        metavar="LETTER",
        help="answer the quiz without being asked (a, b, c, ...); without it and without a "
        "terminal on stdin, the answer key is printed",
    )
    p.set_defaults(func=run)


def _ask(quiz: Any) -> str:
    """Ask on the terminal until a valid letter (or give the key)."""
    letters = ", ".join(quiz.letters)
    for _ in range(_TRIES):
        try:
            answer = input(f"  Your answer ({letters}): ")
        except EOFError:
            print()
            return str(quiz.key())
        if answer.strip().lower().rstrip(")") in quiz.letters:
            return str(quiz.grade(answer)[1])
        print(f"  Answer with one of {letters}.")
    return str(quiz.key())


def run(args: argparse.Namespace) -> int:
    """Run ``segscore explain`` (a reader that stops early, ``| head``, is not an error)."""
    try:
        return _run(args)
    except BrokenPipeError:
        # Python's advice: point stdout at devnull so that the final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    from segscore._validation import fail_must
    from segscore.report.explain import explain
    from segscore.report.explain.text import wrap

    if args.no_quiz and args.answer is not None:
        fail_must("--answer", "not be given with --no-quiz", repr(args.answer))
    explanation = explain(args.metric, run=args.run, run_option="--run")
    quiz = explanation.quiz
    if args.answer is not None:
        quiz.index(args.answer, name="--answer")  # a bad letter fails before anything is printed
    print(explanation.text())
    if args.no_quiz:
        return 0
    print("\nQuiz")
    for line in quiz.lines():
        print("  " + line)
    if args.answer is not None:
        verdict = quiz.grade(args.answer, name="--answer")[1]
    elif sys.stdin is not None and sys.stdin.isatty():
        verdict = _ask(quiz)
    else:
        verdict = quiz.key()
    for line in wrap(verdict, indent="  "):
        print("  " + line)
    return 0

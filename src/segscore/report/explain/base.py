"""The parts of a metric's explanation that are text: its topic and its quiz question.

A :class:`Topic` holds what does not depend on data (definition, formula, what the peers do,
each fact with its source); the numbers of an explanation are computed by segscore's own
functions in the example modules of this package.
"""

from __future__ import annotations

import re
import string
import textwrap
from dataclasses import dataclass

from segscore._validation import check_option

__all__ = ["Question", "Topic", "substitute"]


@dataclass(frozen=True, slots=True)
class Question:
    """One multiple-choice question with its answer and why.

    Examples
    --------
    >>> q = Question("What is 1 + 1?", ("1", "2", "3"), 1, "One and one make two.")
    >>> q.letters
    ('a', 'b', 'c')
    >>> q.grade("B")
    (True, 'Right: b) 2. One and one make two.')
    >>> q.grade("c")[1]
    'Wrong: c) 3; the answer is b) 2. One and one make two.'
    >>> q.grade("z", name="--answer")
    Traceback (most recent call last):
    ...
    segscore.errors.InputError: `--answer` must be one of 'a', 'b', 'c', got 'z'.
    """

    text: str
    choices: tuple[str, ...]
    answer: int
    why: str

    @property
    def letters(self) -> tuple[str, ...]:
        """The letter of each choice: ``a``, ``b``, ..."""
        return tuple(string.ascii_lowercase[: len(self.choices)])

    def index(self, answer: str, *, name: str = "answer") -> int:
        """Return the index of the choice ``answer`` names (a letter, any case).

        Raises
        ------
        InputError
            When ``answer`` is not one of the letters.
        """
        letter = answer.strip().lower().rstrip(")") if isinstance(answer, str) else ""
        if letter not in self.letters:
            check_option(name, answer, self.letters)  # raises, naming what was given
        return self.letters.index(letter)

    def choice(self, k: int) -> str:
        """Return ``'b) text'`` for choice ``k``."""
        return f"{self.letters[k]}) {self.choices[k]}"

    def grade(self, answer: str, *, name: str = "answer") -> tuple[bool, str]:
        """Return whether ``answer`` is right and the sentence that says so, with the reason."""
        k = self.index(answer, name=name)
        if k == self.answer:
            return True, f"Right: {self.choice(k)}. {self.why}"
        return (
            False,
            f"Wrong: {self.choice(k)}; the answer is {self.choice(self.answer)}. {self.why}",
        )

    def key(self) -> str:
        """Return the answer key: the right choice and why."""
        return f"Answer: {self.choice(self.answer)}. {self.why}"

    def lines(self) -> list[str]:
        """Return the question and its choices, wrapped to 92 columns.

        Examples
        --------
        >>> Question("Which?", ("one", "two"), 0, "").lines()
        ['Which?', '  a) one', '  b) two']
        """
        out = textwrap.wrap(self.text, 92) or [""]
        for k in range(len(self.choices)):
            out += textwrap.wrap(self.choice(k), 92, initial_indent="  ", subsequent_indent="     ")
        return out


@dataclass(frozen=True, slots=True)
class Topic:
    """What one metric is, in words, and where the facts come from.

    Attributes
    ----------
    key : str
        The topic's key (``'iou'``, ``'hdP'``, ``'object_f1'``...).
    title : str
        What the metric is called, in a few words.
    definition : str
        One paragraph: what the number measures and when it misleads.
    formula : str
        The formula in counts (overlap: ``tp``, ``fp``, ``fn``, ``tn``; instance: matched
        objects) or distances (boundary); :func:`substitute` fills in numbers.
    notes : tuple of str
        Range, relations to other metrics, the zero denominator.
    peers : tuple of str
        What the peer libraries do, one sentence each with its source (``CONVENTIONS §5.2``:
        the measured peer table beside the project; ``docs/conventions.md``: the presets).
    quiz : Question
        The question that ends the explanation.
    """

    key: str
    title: str
    definition: str
    formula: str
    notes: tuple[str, ...]
    peers: tuple[str, ...]
    quiz: Question


_TOKEN = re.compile(r"\b(tp|fp|fn|tn|B|S)\b")


def substitute(formula: str, values: dict[str, float]) -> str:
    """Write ``formula`` with the numbers of ``values`` in place of its names.

    Examples
    --------
    >>> substitute("2*tp / (2*tp + fp + fn)", {"tp": 9, "fp": 5, "fn": 3})
    '2*9 / (2*9 + 5 + 3)'
    >>> substitute("(1 + B^2)*tp", {"tp": 1, "B": 0.5})
    '(1 + 0.5^2)*1'
    """

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return name
        value = values[name]
        return f"{value:g}" if isinstance(value, float) else str(value)

    return _TOKEN.sub(number, formula)

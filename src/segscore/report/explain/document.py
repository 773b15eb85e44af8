"""One metric explained: the sections of text, built from its topic and the family's examples."""

from __future__ import annotations

import os
from dataclasses import dataclass

from segscore.metrics.registry import MetricSpec, get_metric
from segscore.report.explain.base import Question, Topic, substitute
from segscore.report.explain.boundary_example import boundary_conventions, boundary_example
from segscore.report.explain.coco_example import coco_conventions, coco_example
from segscore.report.explain.instance_example import instance_conventions, instance_example
from segscore.report.explain.lesion_example import lesion_conventions, lesion_example
from segscore.report.explain.overlap_example import beta_of, overlap_conventions, overlap_example
from segscore.report.explain.run_case import RunCase, pick_case
from segscore.report.explain.text import wrap
from segscore.report.explain.topics import TOPICS, topic_key

__all__ = ["Explanation", "explain"]

Section = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Explanation:
    """A metric explained in sections of text, with its quiz.

    Attributes
    ----------
    spec : MetricSpec
        The metric, as the registry parses its name.
    topic : Topic
        What is said of it in words.
    sections : tuple of (str, tuple of str)
        Heading and lines of each section, in order.
    run : RunCase or None
        The case of a results folder that illustrates it, when one was given.
    """

    spec: MetricSpec
    topic: Topic
    sections: tuple[Section, ...]
    run: RunCase | None = None

    @property
    def quiz(self) -> Question:
        """The question that ends the explanation."""
        return self.topic.quiz

    def text(self) -> str:
        """Return the explanation (without the quiz) as text, lines within 100 columns."""
        out: list[str] = []
        for k, (heading, lines) in enumerate(self.sections):
            if k:
                out.append("")
            out.append(heading)
            out += [("  " + line).rstrip() for line in lines]
        return "\n".join(out)


def _facts(spec: MetricSpec) -> str:
    direction = "higher is better" if spec.higher_is_better else "lower is better"
    if spec.kind == "instance" and spec.base in ("fp", "fn"):
        direction = "lower is better"
    low, high = spec.bounds
    closed = "]" if high != float("inf") else ")"
    unit = {"ratio": "a ratio", "distance": "a distance", "count": "a count"}[spec.unit]
    params = ", ".join(
        f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in spec.params.items()
    )
    spacing = "; in the units of spacing" if spec.needs_spacing else ""
    extra = f"; {params}" if params else ""
    return f"{spec.kind} metric; {unit} in [{low:g}, {high:g}{closed}; {direction}{spacing}{extra}"


def _formula(spec: MetricSpec, topic: Topic) -> list[str]:
    if spec.kind == "overlap":
        lines = [f"{spec.label} = {topic.formula}"]
        beta = beta_of(spec)
        if beta is not None:
            lines.append(f"{' ' * len(spec.label)} = {substitute(topic.formula, {'B': beta})}")
    else:
        lines = [topic.formula]
    lines.append(
        "counts of one image and class (tp, fp, fn, tn), exact int64"
        if spec.kind == "overlap"
        else ""
    )
    lines = [line for line in lines if line]
    for note in topic.notes:
        lines += wrap(f"- {note}", indent="  ")
    return lines


def explain(
    name: str, *, run: str | os.PathLike[str] | None = None, run_option: str = "run"
) -> Explanation:
    """Explain the metric ``name`` of the registry, optionally pointing into a results folder.

    Parameters
    ----------
    name : str
        A name of :mod:`segscore.metrics.registry` (``'iou'``, ``'hd95'``, ``'nsd@1.0'``,
        ``'f1@0.5'``...), aliases and parameterised names included.
    run : path, optional
        A folder written by ``segscore evaluate``: the explanation then names the case that
        illustrates the metric best (:func:`~segscore.report.explain.run_case.pick_case`).
    run_option : str, default 'run'
        The argument named in error messages about ``run``.

    Returns
    -------
    Explanation

    Raises
    ------
    InputError
        On a name the registry does not know (its message lists the names), or a ``run``
        folder that did not score the metric.

    Examples
    --------
    >>> e = explain("iou")
    >>> [heading for heading, _ in e.sections]  # doctest: +NORMALIZE_WHITESPACE
    ['IoU (iou): intersection over union (Jaccard index)', 'Formula', 'Worked example',
     'Conventions that change the number', 'What the peers do']
    >>> e.quiz.text
    'What does an IoU of 1.0 mean?'
    """
    spec = get_metric(name)
    topic = TOPICS[topic_key(spec)]
    found = None if run is None else pick_case(run, spec, option=run_option)
    if spec.kind == "overlap":
        example = overlap_example(spec, topic.formula)
        conventions = overlap_conventions(spec)
    elif spec.kind == "boundary":
        example = boundary_example(spec)
        conventions = boundary_conventions(spec)
    elif spec.base.startswith("lesion_"):
        example = lesion_example(spec)
        conventions = lesion_conventions(spec)
    elif spec.base in ("ap", "ar"):
        example = coco_example(spec)
        conventions = coco_conventions(spec)
    else:
        example = instance_example(spec, topic.formula)
        conventions = instance_conventions(spec)
    typed = name.strip().lower()
    alias = (
        [] if typed == spec.name else [f"'{typed}' is a name for '{spec.name}' in the registry."]
    )
    sections: list[Section] = [
        (
            f"{spec.label} ({spec.name}): {topic.title}",
            (*wrap(_facts(spec)), *alias, "", *wrap(topic.definition)),
        ),
        ("Formula", tuple(_formula(spec, topic))),
        ("Worked example", tuple(example)),
        ("Conventions that change the number", tuple(conventions)),
        (
            "What the peers do",
            tuple(line for p in topic.peers for line in wrap(f"- {p}", indent="  ")),
        ),
    ]
    if found is not None:
        sections.append(("In your run", found.lines))
    return Explanation(spec, topic, tuple(sections), found)

"""`tutor bank validate`: the self-test of a template.

For each of N seeds: generate; read every key back as a learner's answer and compare it with the
engine's value; check every key by a second method (the template's kind knows which: central
differences of the loss for gradients and deltas, an independent double-precision forward pass
for values, …); then check that no two seeds gave the same problem. Returns the problems found.
"""

from __future__ import annotations

from pathlib import Path

from backprop_tutor.bank.generate import generate
from backprop_tutor.bank.problem import Part
from backprop_tutor.bank.second_methods import KEY_REL
from backprop_tutor.bank.template import load_template
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.grading.answers import floats, judge, numbers, read_for, same, target_of
from backprop_tutor.grading.result import Status
from backprop_tutor.grading.tolerance_check import swamping_tolerances


def check_template(path: Path, seeds: int = 20) -> list[str]:
    template = load_template(path)
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    generated = []
    for seed in range(seeds):
        problem = generate(template, seed)
        generated.append(problem)
        previous = seen.setdefault(problem.fingerprint(), seed)
        if previous != seed:
            problems.append(f"seeds {previous} and {seed} give the same problem; widen the parameter ranges")
        for part in problem.parts:
            for issue in _check_key(part) + problem.kind.second_method(problem, part):
                problems.append(f"seed {seed}, part {part.id}: {issue}")
    return problems + swamping_tolerances(generated)


def _check_key(part: Part) -> list[str]:
    """The key, read back as a learner's answer: graded correct, and equal to the engine's value."""
    target = target_of(part)
    try:
        read, echo = read_for(target, part.answer)
    except AnswerFormatError as e:
        return [f"the key {part.answer!r} cannot be read back as an answer: {e}"]
    graded = judge(target, read, echo)
    if graded.status is not Status.CORRECT:
        return [f"the key {part.answer!r}, graded as a learner's answer, is {graded.status}: {graded.feedback}"]
    if part.value.expression:  # judged equivalent to the engine's expression: nothing closer to check
        return []
    # A number must also match far closer than the tolerance: the key carries 12 digits.
    if same(numbers(read), floats(part.value.approx), ("relative", KEY_REL)):
        return []
    return [f"the key {part.answer!r} does not read back as the engine's value"]


"""`tutor bank validate`: the self-test of a template.

For each of N seeds: generate; read every key back as a learner's answer and compare it with the
engine's value; check every key by a second method (the template's kind knows which: central
differences of the loss for gradients and deltas, an independent double-precision forward pass
for values, …); then check that no two seeds gave the same problem. Returns the problems found.
"""

from __future__ import annotations

import random
from pathlib import Path

import sympy as sp

from backprop_tutor.bank.generate import generate
from backprop_tutor.bank.problem import Part
from backprop_tutor.bank.second_methods import KEY_REL, close
from backprop_tutor.bank.template import load_template
from backprop_tutor.errors import AnswerFormatError


def check_template(path: Path, seeds: int = 20) -> list[str]:
    template = load_template(path)
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    for seed in range(seeds):
        problem = generate(template, seed)
        previous = seen.setdefault(problem.fingerprint(), seed)
        if previous != seed:
            problems.append(f"seeds {previous} and {seed} give the same problem; widen the parameter ranges")
        for part in problem.parts:
            for issue in _check_key(part) + problem.kind.second_method(problem, part):
                problems.append(f"seed {seed}, part {part.id}: {issue}")
    return problems


def _check_key(part: Part) -> list[str]:
    """The key, read back as a learner's answer: graded correct, and equal to the engine's value."""
    from backprop_tutor.engine.parsing import parse, to_sympy
    from backprop_tutor.grading.answers import grade, target_of

    graded = grade(target_of(part), part.answer)
    if graded.status != "correct":
        return [f"the key {part.answer!r}, graded as a learner's answer, is {graded.status}: {graded.feedback}"]
    try:
        read = to_sympy(parse(part.answer, part.value.variables if part.value.expression else ()))
    except AnswerFormatError as e:
        return [f"the key {part.answer!r} cannot be read back as an answer: {e}"]
    if part.value.expression:
        return [] if _same_function(read, part.value.exact, part.value.variables) else [
            f"the key {part.answer!r} does not equal the engine's expression {part.value.exact}"]
    try:
        ok = _close_nested(read, part.value.approx, KEY_REL)
    except (TypeError, ValueError):
        ok = False
    return [] if ok else [f"the key {part.answer!r} does not read back as the engine's value"]


def _same_function(a: sp.Expr, b: sp.Expr, variables) -> bool:
    rng = random.Random(0)
    symbols = {s.name: s for s in a.free_symbols | b.free_symbols}
    for _ in range(6):
        point = {symbols[v]: sp.Rational(rng.randint(-300, 300), 100) for v in variables if v in symbols}
        x, y = sp.N(a.xreplace(point), 30), sp.N(b.xreplace(point), 30)
        if not close(x, y, 1e-12):
            return False
    return True


def _close_nested(read, expected, rel: float) -> bool:
    if isinstance(expected, tuple):
        rows = list(read) if isinstance(read, (list, tuple)) else None
        return rows is not None and len(rows) == len(expected) and all(
            _close_nested(r, e, rel) for r, e in zip(rows, expected))
    return not isinstance(read, (list, tuple)) and close(read, expected, rel)

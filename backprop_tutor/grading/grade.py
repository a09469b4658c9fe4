"""Problem part + answer text → Result. A badly formed answer is `invalid` (costs no attempt);
a wrong one is `incorrect`, with the diagnosed mistake when one matches; never an exception.

Numbers are compared by relative tolerance (1e-3 unless the part says otherwise), vectors and
matrices entry by entry after the shape, expressions with SymPy and, when simplification is
not conclusive, by evaluation at random points. Every evaluation of learner input is bounded
in time (an interval timer in the main thread) as well as by the parser's size limits.
"""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.engine.legacy_values import Value

TIME_LIMIT = 2.0
DEFAULT_TOLERANCE = ("relative", 1e-3)
CORRECT, INCORRECT, INVALID = "correct", "incorrect", "invalid"


@dataclass(frozen=True)
class Result:
    status: str
    score: float
    interpreted_as: str | None
    expected: str
    feedback: str
    diagnosis: str | None = None
    points: float = 1

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "score": self.score, "interpreted_as": self.interpreted_as,
                "expected": self.expected, "feedback": self.feedback, "diagnosis": self.diagnosis}


@dataclass(frozen=True)
class Target:
    """What a part expects: the engine's value, its key text and how to compare."""

    value: Value
    key: str
    tolerance: tuple[str, float] | None = None
    points: float = 1
    mistakes: tuple[tuple[str, Value, str], ...] = field(default=())  # (name, value, feedback)
    where: tuple[tuple[str, str], ...] = ()  # intermediates the answer may be written in


class _Timeout(BaseException):
    """Raised by the alarm. A BaseException, like KeyboardInterrupt, because SymPy catches
    `Exception` in places and would otherwise swallow it and carry on computing."""


@contextmanager
def time_limit(seconds: float):
    """Raise AnswerFormatError when the body runs longer than `seconds` (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Timeout:
        raise AnswerFormatError(f"this answer takes longer than {seconds:g} s to evaluate; simplify it") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_answer(text: str, variables: tuple[str, ...] = ()) -> tuple[Any, str]:
    """(SymPy value or nested lists, the answer as understood). AnswerFormatError on bad input."""
    with time_limit(TIME_LIMIT):
        return _read(text, variables)


def _read(text: str, variables: tuple[str, ...], where: tuple[tuple[str, str], ...] = ()) -> tuple[Any, str]:
    """Parse within `variables`; a name defined in `where` stands for its expression."""
    from backprop_tutor.engine.parsing import parse, to_sympy, unparse

    if not isinstance(text, str):
        raise AnswerFormatError("an answer is text")
    defined = {name: to_sympy(parse(expression, variables)) for name, expression in where}
    node = parse(text, variables + tuple(defined))
    return to_sympy(node, defined), unparse(node)


def grade(target: Target, text: str) -> Result:
    expected = target.key
    echo = None
    try:
        with time_limit(TIME_LIMIT):
            read, echo = _read(text, target.value.variables if target.value.expression else (),
                               target.where if target.value.expression else ())
            verdict = _compare(read, target.value, target.tolerance or DEFAULT_TOLERANCE)
            if verdict is None:
                return Result(CORRECT, target.points, echo, expected, "Correct.", None, target.points)
            for name, value, feedback in target.mistakes:
                if _compare(read, value, target.tolerance or DEFAULT_TOLERANCE) is None:
                    return Result(INCORRECT, 0, echo, expected, feedback, name, target.points)
    except AnswerFormatError as e:
        return Result(INVALID, 0, None, expected, str(e), None, target.points)
    except _ShapeError as e:
        return Result(INVALID if e.invalid else INCORRECT, 0, echo, expected, str(e), "shape" if not e.invalid else None,
                      target.points)
    return Result(INCORRECT, 0, echo, expected, verdict, None, target.points)


class _ShapeError(Exception):
    def __init__(self, message: str, invalid: bool = False):
        super().__init__(message)
        self.invalid = invalid


def _compare(read, value: Value, tolerance) -> str | None:
    """None when `read` matches; otherwise a short reason (never the expected value)."""
    if value.expression:
        if isinstance(read, list):
            raise _ShapeError("an expression is expected here, not a list", invalid=True)
        return None if equivalent(read, value.exact, value.variables) else "Not equivalent to the expected expression."
    return _compare_numbers(read, value.approx, tolerance, "")


def _compare_numbers(read, expected, tolerance, where: str) -> str | None:
    if isinstance(expected, tuple):
        kind = "matrix" if expected and isinstance(expected[0], tuple) else "vector"
        if not isinstance(read, list):
            raise _ShapeError(f"a {kind} of {_shape(expected)} is expected{where}, not a single number; "
                              "write it in brackets, e.g. [0.1, -0.2]", invalid=True)
        if len(read) != len(expected) or (kind == "matrix" and any(not isinstance(r, list) or len(r) != len(e)
                                                                      for r, e in zip(read, expected))):
            raise _ShapeError(f"the {kind} should be {_shape(expected)}, yours is {_shape(read)}")
        wrong = [i for i, (r, e) in enumerate(zip(read, expected)) if _compare_numbers(r, e, tolerance, f" at {i}")]
        if not wrong:
            return None
        entries = ", ".join(f"[{i}]" for i in wrong[:4])
        return f"{len(wrong)} of {len(expected)} entries are off: {entries}."
    if isinstance(read, list):
        raise _ShapeError("a single number is expected here, not a list", invalid=True)
    number = sp.N(read, 30)
    if number.free_symbols:
        names = ", ".join(sorted(s.name for s in number.free_symbols))
        raise AnswerFormatError(f"a number is expected, but the answer has variables ({names})")
    if not (number.is_real and number.is_finite):
        raise AnswerFormatError("the answer is not a finite real number")
    return None if within(number, expected, tolerance) else "Not within the tolerance of the expected value."


def within(number: sp.Expr, expected: sp.Expr, tolerance: tuple[str, float]) -> bool:
    kind, amount = tolerance
    diff = abs(number - expected)
    if kind == "absolute":
        return diff <= amount
    if kind == "sigfigs":
        return num.to_decimal(number, int(amount)) == num.to_decimal(expected, int(amount))
    return diff <= amount * abs(expected) or diff <= 1e-12


def _shape(value) -> str:
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        return f"{len(value)}×{len(value[0])}"
    if isinstance(value, (list, tuple)):
        return f"{len(value)} {'entry' if len(value) == 1 else 'entries'} long"
    return "a number"


def equivalent(a: sp.Expr, b: sp.Expr, variables: tuple[str, ...], points: int = 8) -> bool:
    """Evaluation at random points first, SymPy's simplify only when the points cannot decide.

    Most wrong answers differ at the first point, so they are refuted in milliseconds instead
    of waiting for simplify (which can run for seconds on `tanh(x)^999`); an answer that agrees
    at `points` random points to 1e-9 is accepted (WeBWorK's test). Simplify settles the rest:
    expressions undefined at every point tried."""
    verdict = _agree_at_points(a, b, variables, points)
    if verdict is not None:
        return verdict
    try:
        return sp.simplify(a - b) == 0
    except (TypeError, ValueError, RecursionError):
        return False


def _agree_at_points(a: sp.Expr, b: sp.Expr, variables: tuple[str, ...], points: int) -> bool | None:
    """True/False when the values at random points decide; None when too few points were defined."""
    symbols = {s.name: s for s in (a.free_symbols | b.free_symbols)}
    rng = random.Random(0)
    tried = 0
    for _ in range(points * 3):
        point = {symbols[v]: sp.Rational(rng.randint(-250, 250), 100) for v in variables if v in symbols}
        x, y = sp.N(a.xreplace(point), 30), sp.N(b.xreplace(point), 30)
        if not (x.is_number and y.is_number) or x.free_symbols or y.free_symbols:
            return False
        if not (y.is_real and y.is_finite):
            continue  # the expected expression is undefined here: try another point
        tried += 1
        if not (x.is_real and x.is_finite) or abs(x - y) > 1e-9 * max(1, abs(y)):
            return False
        if tried >= points:
            return True
    return None


def target_of(part) -> Target:
    """A generated Part as a grading target."""
    mistakes = tuple((name or f"{part.id}_mistake{i + 1}", value, feedback)
                     for i, (value, feedback, name) in enumerate(part.mistakes))
    return Target(part.value, part.answer, part.tolerance, part.points, mistakes, part.where)


GradeFunction = Callable[[Target, str], Result]


def grade_part(problem, part_id: str, text: str, earlier: dict[str, str] | None = None) -> Result:
    """Grade one part of a generated problem: the key, then the diagnosed mistakes (the
    template's own, then those derived from the derivation), then error carried forward from
    the learner's `earlier` answers (part id → text)."""
    part = next((p for p in problem.parts if p.id == part_id), None)
    if part is None:
        ids = ", ".join(p.id for p in problem.parts)
        raise AnswerFormatError(f"no part {part_id!r} in {problem.template}; its parts are {ids}")
    target = target_of(part)
    result = grade(target, text)
    if result.status == INCORRECT and not result.diagnosis:
        # Only an undiagnosed wrong answer needs the derived mistakes (they re-run the network once per slip).
        derived = _derived_mistakes(problem, part)
        if derived:
            target = replace(target, mistakes=target.mistakes + derived)
            result = grade(target, text)
    if result.status != INCORRECT or problem.kind != "network" or not earlier:
        return result
    return _carried_forward(problem, part, target, text, earlier) or result


def _derived_mistakes(problem, part) -> tuple:
    """Mistakes worked out from the derivation: the network slips, or an activation's classic ones."""
    if problem.kind == "network":
        from backprop_tutor.engine.mistakes import diagnoses

        return tuple(diagnoses(problem.solution, part.quantity))
    if problem.kind == "activation" and part.value.expression:
        from backprop_tutor.engine.mistakes import symbolic_slips

        return tuple((name, Value(expr, expr, True, part.value.variables), feedback)
                     for name, expr, feedback in symbolic_slips(problem.solution.name))
    return ()


def _carried_forward(problem, part, target: Target, text: str, earlier: dict[str, str]) -> Result | None:
    from backprop_tutor.grading.carry_forward import expand, recompute

    given: dict[str, sp.Expr] = {}
    source: dict[str, str] = {}
    order = [p.id for p in problem.parts]
    for other in problem.parts[: order.index(part.id)]:
        if other.id not in earlier or other.value.expression:
            continue
        try:
            value, _ = read_answer(earlier[other.id])
            entries = expand(other.quantity, _numeric(value))
        except (AnswerFormatError, TypeError, ValueError):
            continue
        for name, v in entries.items():
            given[name] = v
            source[name] = other.id
    if not given:
        return None
    value, used = recompute(problem.solution, part.quantity, given)
    if not used or _same_numbers(value, part.value.approx):
        return None
    wrong = [name for name in used if not _matches_engine(problem, name, given[name])]
    if not wrong:
        return None
    carried = Target(Value(value, None), target.key, target.tolerance, target.points)
    try:
        with time_limit(TIME_LIMIT):
            read, echo = _read(text, ())
            if _compare(read, carried.value, target.tolerance or DEFAULT_TOLERANCE) is not None:
                return None
    except (AnswerFormatError, _ShapeError):
        return None
    parts = sorted({source[name] for name in wrong}, key=[p.id for p in problem.parts].index)
    note = (f"Correct given your value for {', '.join(wrong[:3])} (part {', '.join(parts)}); "
            f"the error began in part {parts[0]}.")
    return Result(CORRECT, target.points, echo, target.key, note, "error_carried_forward", target.points)


def _numeric(value):
    if isinstance(value, list):
        return [_numeric(v) for v in value]
    number = sp.N(value, 50)
    if number.free_symbols or not number.is_real:
        raise ValueError("not a number")
    return number


def _same_numbers(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same_numbers(x, y) for x, y in zip(a, b))
    return abs(a - b) <= 1e-12 * max(1, abs(b))


def _matches_engine(problem, name: str, value) -> bool:
    from backprop_tutor.engine.legacy_values import network_value

    return within(value, network_value(problem.solution, name).approx, DEFAULT_TOLERANCE)


def target_for_expected(text: str) -> Target:
    """`tutor check --expected EXPR`: a number, vector, matrix or expression in its own variables."""
    from backprop_tutor.engine.parsing import parse, to_sympy, variables_of

    with time_limit(TIME_LIMIT):
        node = parse(text)
        value = to_sympy(node)
        names = variables_of(node)
    if isinstance(value, list):
        approx = _numeric(value)
        as_tuple = tuple(tuple(r) if isinstance(r, list) else r for r in approx)
        return Target(Value(as_tuple, None), text)
    if names:
        return Target(Value(value, value, True, tuple(names)), text)
    return Target(Value(sp.N(value, 50), value), text)

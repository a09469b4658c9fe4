"""Reading an answer and comparing it with an expected value, whatever the problem.

Numbers are compared by relative tolerance (1e-3 unless the part says otherwise), vectors and
matrices entry by entry after the shape, formulas by grading/formulas.py (a cheap symbolic proof,
then test points drawn from a hash of the answer, so no learner can aim at them). Every
evaluation of learner input is bounded by a count, not a clock (grading/budget.py on the tree,
engine/bounded.py `bounded_value` on the built answer: nothing above 10^100 is exponentiated), so
the same answer gets the same verdict on any machine; an interval timer remains as a last resort.
"""

from __future__ import annotations

import math
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sympy as sp

from backprop_tutor.bank.problem import Part, Value
from backprop_tutor.engine.bounded import ExponentTooLarge, bounded_value
from backprop_tutor.engine.numbers import DEFAULT_TOLERANCE, exact_number, pretty, within
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.grading.budget import check_arguments
from backprop_tutor.grading.formulas import equivalent
from backprop_tutor.grading.result import Result, Status

# A last resort only: the deterministic budget (check_arguments, bounded_value, the size caps of
# the symbolic proof) keeps one answer's grading well under 2 s. A timer would make the verdict
# depend on the machine's speed, so it is generous and its outcome says it is not a verdict.
TIME_LIMIT = 10.0


@dataclass(frozen=True)
class Target:
    """What a part expects: the engine's value, its key text and how to compare."""

    value: Value
    key: str
    tolerance: tuple[str, float] | None = None
    points: float = 1
    where: tuple[tuple[str, str], ...] = ()  # intermediates the answer may be written in

    @property
    def within(self) -> tuple[str, float]:
        return self.tolerance or DEFAULT_TOLERANCE


def target_of(part: Part) -> Target:
    """A generated Part as a grading target."""
    return Target(part.value, part.answer, part.tolerance, part.points, part.where)


class GradingFailure(Exception):
    """The grader itself failed on an answer: a bug, not a verdict. Raised by the grading entry
    points (`grade`, grade.py `grade_part`) in place of any unexpected exception, so that
    `tutor check` can exit with its own code (3, not 1 = incorrect), practice can carry on, and
    the gradebook can give the answer a `grading_error` row. One line, no traceback."""


def internal_error(error: Exception) -> GradingFailure:
    """The safety net's one message, for every entry point alike."""
    return GradingFailure(f"internal error: this answer could not be graded ({type(error).__name__}); "
                          "please report it with the answer")


class _Timeout(BaseException):
    """Raised by the alarm. A BaseException, like KeyboardInterrupt, because SymPy catches
    `Exception` in places and would otherwise swallow it and carry on computing."""


@contextmanager
def time_limit(seconds: float):
    """Raise AnswerFormatError when the body runs longer than `seconds` (main thread only). Inside
    another guard it adds none: there is one interval timer, and resetting it would cancel the outer."""
    if (threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer")
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return

    def expire(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Timeout:
        raise AnswerFormatError(f"grading this answer was stopped after {seconds:g} s (a guard, not a verdict); "
                                "simplify it") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_answer(text: str, variables: tuple[str, ...] = (), where: tuple[tuple[str, str], ...] = ()) -> tuple[Any, str]:
    """(SymPy value or nested lists, the answer as understood). AnswerFormatError on bad input.
    A name defined in `where` stands for its expression."""
    from backprop_tutor.engine.parsing import parse, to_sympy, unparse

    if not isinstance(text, str):
        raise AnswerFormatError("an answer is text")
    if _DECIMAL_COMMA.fullmatch(text.strip()):
        raise AnswerFormatError(decimal_comma(text.strip()))
    try:
        with time_limit(TIME_LIMIT):
            defined = {name: to_sympy(parse(expression, variables)) for name, expression in where}
            node = parse(text, variables + tuple(defined))
            check_arguments(node)
            return to_sympy(node, defined), unparse(fold_signs(node))
    except AnswerFormatError:
        if has_decimal_comma(text):
            raise AnswerFormatError(decimal_comma(text.strip())) from None
        raise


def fold_signs(node):
    """The answer's tree with its signs folded for the echo, as a textbook writes them:
    `z - -53/100` is understood as `z + 53/100`, `z + -0.5z` as `z − 0.5·z`, `--z` as `z`."""
    from backprop_tutor.engine.parsing import Binary, Call, Unary, Vector

    if isinstance(node, Vector):
        return Vector(tuple(fold_signs(i) for i in node.items))
    if isinstance(node, Call):
        return Call(node.func, tuple(fold_signs(a) for a in node.args))
    if isinstance(node, Unary):
        operand = fold_signs(node.operand)
        if node.op == "+":
            return operand
        positive = _without_minus(operand)
        return positive if positive is not None else Unary("-", operand)
    if isinstance(node, Binary):
        left, right = fold_signs(node.left), fold_signs(node.right)
        positive = _without_minus(right) if node.op in "+-" else None
        if positive is not None:
            return Binary("+" if node.op == "-" else "-", left, positive)
        return Binary(node.op, left, right)
    return node


def _without_minus(node):
    """A term that begins with a minus (−a, −53/100, −2·z) without it; None for any other."""
    from backprop_tutor.engine.parsing import Binary, Unary

    if isinstance(node, Unary) and node.op == "-":
        return node.operand
    if isinstance(node, Binary) and node.op in "*/":
        left = _without_minus(node.left)
        return None if left is None else Binary(node.op, left, node.right)
    return None


# 0,5: a decimal comma, as European schools write it. A whole answer of this form is always one;
# inside brackets or a function the comma may separate entries and arguments ([1,2], max(0,5)),
# so there a digit-comma-digit is only blamed when the answer is refused or has the wrong shape.
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_COMMA_BETWEEN_DIGITS = re.compile(r"(?<=\d),(?=\d)")


def has_decimal_comma(text: str) -> bool:
    """Whether the answer has a digit, a comma and a digit with no space between (0,97)."""
    return isinstance(text, str) and bool(_COMMA_BETWEEN_DIGITS.search(text))


def decimal_comma(text: str) -> str:
    """The one explanation of a decimal comma, for check, practice and grade alike."""
    return f"write decimals with a point: {_COMMA_BETWEEN_DIGITS.sub('.', text)}, not {text}"


class ShapeError(Exception):
    """The answer's shape does not fit: `invalid` when it is not even the right form (a list
    for a number), else a wrong answer."""

    def __init__(self, message: str, invalid: bool = False):
        super().__init__(message)
        self.invalid = invalid


def read_for(target: Target, text: str) -> tuple[Any, str]:
    """The answer read in the target's variables (a formula) or as numbers; either may use the
    names the part defines (`where`), which stand for what they were defined as."""
    value = target.value
    return read_answer(text, value.variables if value.expression else (), target.where)


def compare(read, value: Value, tolerance) -> str | None:
    """None when `read` matches; otherwise a short reason (never the expected value). ShapeError
    and AnswerFormatError when the answer is not of the expected form."""
    if value.expression:
        if isinstance(read, list):
            raise ShapeError("an expression is expected here, not a list", invalid=True)
        with time_limit(TIME_LIMIT):
            return None if equivalent(read, value.exact, value.variables) else "Not equivalent to the expected expression."
    return _compare_numbers(read, value.approx, tolerance, "")


def _compare_numbers(read, expected, tolerance, where: str) -> str | None:
    if isinstance(expected, tuple):
        kind = "matrix" if expected and isinstance(expected[0], tuple) else "vector"
        if not isinstance(read, list):
            raise ShapeError(f"a {kind} of {_shape(expected)} is expected{where}, not a single number; "
                             "write it in brackets, e.g. [0.1, -0.2]", invalid=True)
        if len(read) != len(expected) or (kind == "matrix" and any(not isinstance(r, list) or len(r) != len(e)
                                                                     for r, e in zip(read, expected))):
            raise ShapeError(f"the {kind} should be {_shape(expected)}, yours is {_shape(read)}")
        wrong = [i for i, (r, e) in enumerate(zip(read, expected)) if _compare_numbers(r, e, tolerance, f" at {i}")]
        if not wrong:
            return None
        entries = ", ".join(f"[{i}]" for i in wrong[:4])
        return f"{len(wrong)} of {len(expected)} entries are off: {entries}."
    if isinstance(read, list):
        raise ShapeError("a single number is expected here, not a list", invalid=True)
    return None if within(number(read), expected, tolerance) else "Not within the tolerance of the expected value."


def number(read) -> sp.Float:
    """A read answer as a 30-digit number; AnswerFormatError when it is not a finite real number."""
    try:
        with time_limit(TIME_LIMIT):
            value = bounded_value(read, 30)
    except ExponentTooLarge as e:
        raise AnswerFormatError(str(e)) from None
    except (ArithmeticError, ValueError) as e:
        raise AnswerFormatError("the answer is not a finite real number") from e
    if value.free_symbols:
        names = ", ".join(sorted(s.name for s in value.free_symbols))
        raise AnswerFormatError(f"a number is expected, but the answer has variables ({names})")
    if not (value.is_real and value.is_finite):
        raise AnswerFormatError("the answer is not a finite real number")
    return value


def numbers(read) -> Any:
    """A read answer (number, vector, matrix) as floats, for comparing with the grader's re-runs;
    None when it is not made of finite real numbers."""
    try:
        if isinstance(read, list):
            items = [numbers(r) for r in read]
            return None if any(i is None for i in items) else tuple(items)
        value = float(number(read))
    except (AnswerFormatError, TypeError, ValueError, OverflowError):
        return None
    return value if value == value and abs(value) != float("inf") else None


def floats(value):
    """The engine's numbers (SymPy Floats, nested tuples) as Python floats."""
    return tuple(floats(v) for v in value) if isinstance(value, tuple) else float(value)


def same(answer, expected, tolerance: tuple[str, float]) -> bool:
    """Whether numbers (floats, nested tuples) match within the tolerance, shapes included. A
    re-run from a learner's numbers can overflow to inf or nan: that matches nothing."""
    if isinstance(expected, tuple) or isinstance(answer, tuple):
        return (isinstance(expected, tuple) and isinstance(answer, tuple) and len(answer) == len(expected)
                and all(same(a, e, tolerance) for a, e in zip(answer, expected)))
    try:
        if not (math.isfinite(answer) and math.isfinite(expected)):
            return False
        return within(answer, expected, tolerance)
    except (TypeError, ValueError, OverflowError):
        return False


def _shape(value) -> str:
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        return f"{len(value)}×{len(value[0])}"
    if isinstance(value, (list, tuple)):
        return f"{len(value)} {'entry' if len(value) == 1 else 'entries'} long"
    return "a number"


def grade(target: Target, text: str) -> Result:
    """An answer against a target's key alone (no diagnosis): `tutor check --expected`, and a
    set.json key when the bank no longer has the template. GradingFailure when the grader fails."""
    try:
        try:
            read, echo = read_for(target, text)
        except AnswerFormatError as e:
            return Result(Status.INVALID, 0, None, target.key, str(e), None, target.points)
        return judge(target, read, echo, text)
    except Exception as e:  # the safety net: whatever escaped the checks above is not a verdict
        raise internal_error(e) from e


def judge(target: Target, read, echo: str, text: str = "") -> Result:
    """A read answer against the key: correct, or incorrect with the reason, or invalid. `text`
    is the answer as typed: an answer of the wrong form or shape written with a digit-comma-digit
    (`[0,97, 0, 0,13]` for three entries) was meant with decimal commas, which costs no attempt."""
    try:
        reason = compare(read, target.value, target.within)
    except (AnswerFormatError, ShapeError) as e:
        if has_decimal_comma(text):
            return Result(Status.INVALID, 0, None, target.key, decimal_comma(text.strip()), None, target.points)
        if isinstance(e, ShapeError) and not e.invalid:
            return Result(Status.INCORRECT, 0, echo, target.key, str(e), None, target.points)
        return Result(Status.INVALID, 0, None, target.key, str(e), None, target.points)
    if reason is None:
        return Result(Status.CORRECT, target.points, echo, target.key, "Correct.", None, target.points)
    if _uses_defined_names(target, text):
        reason = f"{echo} = {pretty(number(read))} here, not the expected value."
    return Result(Status.INCORRECT, 0, echo, target.key, reason, None, target.points)


def _uses_defined_names(target: Target, text: str) -> bool:
    """Whether a number answer is written in the names the part defines (`o - t`): then the
    learner is told what their formula comes to, which "not within the tolerance" does not say."""
    from backprop_tutor.engine.parsing import parse, variables_of

    if target.value.expression or not target.where or not text:
        return False
    defined = tuple(name for name, _ in target.where)
    try:
        return bool(set(variables_of(parse(text, defined))) & set(defined))
    except AnswerFormatError:
        return False


def target_for_expected(text: str) -> Target:
    """`tutor check --expected EXPR`: a number, vector, matrix or expression in its own variables."""
    from backprop_tutor.engine.parsing import parse, to_sympy, variables_of

    with time_limit(TIME_LIMIT):
        node = parse(text)
        value = to_sympy(node)
        names = variables_of(node)
    if isinstance(value, list):
        approx = _exact_numbers(value)
        return Target(Value(tuple(tuple(r) if isinstance(r, list) else r for r in approx), None), text)
    if names:
        return Target(Value(value, value, True, tuple(names)), text)
    return Target(Value(exact_number(value, 50), value), text)


def _exact_numbers(value):
    if isinstance(value, list):
        return [_exact_numbers(v) for v in value]
    result = exact_number(value, 50)
    if result.free_symbols or not result.is_real:
        raise AnswerFormatError("a vector or matrix of numbers is expected")
    return result

"""The grading budget of an answer, checked on its tree before SymPy builds it.

Counted, not timed: the same answer is refused on a fast machine and a slow one alike
(docs/formats.md, "The grading budget"). engine/bounded.py `bounded_value` holds the same limit
wherever a built answer is evaluated (at a formula's test points, as a number).
"""

from __future__ import annotations

import sympy as sp

from backprop_tutor.engine.bounded import EXPONENT_LIMIT_DIGITS, ExponentTooLarge
from backprop_tutor.engine.numbers import exact_number
from backprop_tutor.errors import AnswerFormatError


def check_arguments(node) -> None:
    """Refuse an answer that gives a function or an exponent a number above 10^100, before
    SymPy builds it: reading `sigmoid(1e999)` means evaluating e^(−10^999), half a second each,
    and an answer has room for dozens. The numbers are found bottom-up at 15 digits, each step
    only after its own arguments passed, so no step here costs more than e^(10^100). A subtree
    with a variable in it, or that cannot be evaluated, is left to the parser and the points."""
    from backprop_tutor.engine.parsing import Binary, Call, Constant, Number, Unary, Vector, to_sympy

    def checked(value):
        if value is not None and not abs(value) <= _ARGUMENT_LIMIT:
            raise AnswerFormatError(str(ExponentTooLarge()))
        return value

    def value(n):
        if isinstance(n, Number):
            return sp.Float(n.text, 15)
        if isinstance(n, Constant):
            return sp.N(to_sympy(n), 15)
        if isinstance(n, Vector):
            for item in n.items:
                value(item)
            return None
        if isinstance(n, Unary):
            operand = value(n.operand)
            return None if operand is None else (-operand if n.op == "-" else operand)
        if isinstance(n, Call):
            args = [checked(value(a)) for a in n.args]
            if any(a is None or (a != 0 and abs(a) < _TINY) for a in args):
                return None  # e^(10^-3000000): its exact argument would be a 3,000,000-digit fraction
            return _number_or_none(lambda: to_sympy(Call(n.func, tuple(Number(str(a)) for a in args))))
        if isinstance(n, Binary):
            left, right = value(n.left), value(n.right)
            if n.op == "^":
                checked(right)
            if left is None or right is None:
                return None
            return _number_or_none(lambda: _OPERATIONS[n.op](left, right))
        return None  # a name: its value is known only at the test points (bounded_value)

    value(node)


_ARGUMENT_LIMIT = sp.Float(10) ** EXPONENT_LIMIT_DIGITS
_TINY = sp.Float(10) ** -1000
# Only the answer's own operation is computed: (−3)^(10^30000) beside a sum took 15 s.
_OPERATIONS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a / b if b else sp.nan, "^": sp.Pow}


def _number_or_none(build):
    """A subtree's value at 15 digits; None when it is not a finite real number (the parser
    then says why in its own words)."""
    try:
        result = exact_number(build(), 15)
    except (AnswerFormatError, ArithmeticError, ValueError, TypeError, RecursionError):
        return None
    return result if result.is_real and result.is_finite else None

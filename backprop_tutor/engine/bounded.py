"""A learner's formula evaluated within a budget: the same cost, and so the same verdict, on a
fast machine and a slow one.

Two things make SymPy's evalf slow on hostile answers, and neither is bounded by a timer
deterministically: e^x costs more with every digit of x (e^(10^740) a quarter of a second), and
evalf walks an expression as a tree, with adaptive precision at every level, so gelu_tanh nested
four deep (each level names its argument three times) took two seconds a point. Here a number
above 10^100 is never exponentiated, and the expression is evaluated as the graph it is: each
distinct subexpression once, in mpmath at a fixed 200 bits (60 digits), far more than the
1e-9 a formula is compared to.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from backprop_tutor.engine.dag import free_symbols_of

EXPONENT_LIMIT_DIGITS = 100  # exp(x) and b^x are evaluated only for |x| ≤ 10^100
WORK_BITS = 200
RATIONAL_BITS = 40_000  # about 12,000 digits: past the parser's 10,000 for any number it reads


class ExponentTooLarge(ArithmeticError):
    """An exponent above the budget: refused before anything costly is computed."""

    def __init__(self) -> None:
        super().__init__(f"a number above 10^{EXPONENT_LIMIT_DIGITS} as an exponent or inside a function "
                         "(e^x, b^x, σ(x) …) is not evaluated; simplify it")


_LIMIT = mpmath.mpf(10) ** EXPONENT_LIMIT_DIGITS
_UNARY = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh, sp.sinh: mpmath.sinh,
          sp.cosh: mpmath.cosh, sp.sech: mpmath.sech, sp.erf: mpmath.erf, sp.Abs: abs}


def bounded_value(value: sp.Expr, digits: int, at: dict | None = None) -> sp.Expr:
    """`value` to `digits` digits, at the point `at` (symbol → number) when given: a Float, a
    complex number, or nan/±oo. ExponentTooLarge past the budget. A formula with a variable
    the point does not give is returned as SymPy evaluates it (the caller names the variable)."""
    at = at or {}
    if free_symbols_of(value) - set(at):
        return sp.N(value, digits)
    return _sympy_number(_at_precision(value, at, WORK_BITS), digits)


def graph_number(value: sp.Expr, digits: int) -> sp.Expr | None:
    """A number's exact form (no variables) to `digits` correct digits, evaluated as a graph
    (each distinct subexpression once) at two precisions; None when the two disagree, i.e. the
    form cancels (cosh(1)² − sinh(1)² − 1) and needs SymPy's adaptive evalf, or cannot be
    evaluated here. SymPy's evalf walks the form as a tree, refining at every level: gelu nested
    five deep at an exact point took 25 s of a worked solution; this takes milliseconds.
    ExponentTooLarge past the budget, like bounded_value."""
    bits = int(digits * 3.33) + 40
    try:
        first = _at_precision(value, {}, bits)
        second = _at_precision(value, {}, bits + 64)
    except (ValueError, ZeroDivisionError):
        return None
    with mpmath.workprec(bits + 64):
        if not (mpmath.isfinite(first) and mpmath.isfinite(second)):
            agree = not (mpmath.isfinite(first) or mpmath.isfinite(second))
        else:
            agree = first == second or abs(first - second) <= abs(second) * mpmath.mpf(10) ** -(digits + 5)
        return _sympy_number(second, digits) if agree else None


def _at_precision(value: sp.Expr, at: dict, bits: int):
    memo: dict = {}
    try:
        with mpmath.workprec(bits):
            return _evaluate(value, at, memo)
    except (AttributeError, KeyError, TypeError) as e:  # a form this evaluator does not know
        raise ValueError(f"cannot evaluate {type(e).__name__}") from None


def _evaluate(node, at, memo):
    # Keyed by identity: equal but distinct subtrees would make the dict compare them, and
    # SymPy's == walks the whole tree (3^depth nodes for an elu nest).
    if id(node) in memo:
        return memo[id(node)]
    if node.is_Symbol:
        result = _evaluate(at[node], at, memo)  # the point's numbers are SymPy numbers already
    elif node.is_Rational:
        if max(node.p.bit_length(), node.q.bit_length()) > RATIONAL_BITS:
            raise ExponentTooLarge()  # mpmath takes seconds to read one; no answer's number is that long
        result = mpmath.mpf(node.p) / node.q
    elif node.is_Float:
        result = mpmath.mpf(node._mpf_)
    elif node is sp.pi:
        result = +mpmath.pi
    elif node is sp.E:
        result = +mpmath.e
    elif node is sp.I:
        result = mpmath.mpc(0, 1)
    elif node.is_Add:
        result = mpmath.fsum(_evaluate(a, at, memo) for a in node.args)
    elif node.is_Mul:
        result = mpmath.fprod(_evaluate(a, at, memo) for a in node.args)
    elif node.is_Pow:
        base, exponent = _evaluate(node.base, at, memo), _evaluate(node.exp, at, memo)
        if not node.exp.is_Integer:
            _check(exponent)
        elif abs(node.exp) > 10 ** 6:
            raise ExponentTooLarge()
        if base == 0 and mpmath.re(exponent) < 0:
            raise ZeroDivisionError("0 to a negative power")
        result = mpmath.power(base, exponent)
    elif type(node) in _UNARY and len(node.args) == 1:
        argument = _evaluate(node.args[0], at, memo)
        if node.func is sp.exp:
            _check(argument)
        result = _UNARY[type(node)](argument)
    elif isinstance(node, sp.Piecewise):
        result = _piecewise(node, at, memo)
    else:  # Max, Min, a comparison …: SymPy, on the values of the arguments
        args = [_sympy_number(_evaluate(a, at, memo), _digits()) if isinstance(a, sp.Expr) else a for a in node.args]
        result = _mpmath_number(sp.N(node.func(*args), _digits()))
    memo[id(node)] = result
    return result


def _piecewise(node, at, memo):
    for expression, condition in node.args:
        if _holds(condition, at, memo):
            return _evaluate(expression, at, memo)
    return mpmath.nan


_COMPARE = {sp.StrictGreaterThan: lambda a, b: a > b, sp.GreaterThan: lambda a, b: a >= b,
            sp.StrictLessThan: lambda a, b: a < b, sp.LessThan: lambda a, b: a <= b,
            sp.Equality: lambda a, b: a == b, sp.Unequality: lambda a, b: a != b}


def _holds(condition, at, memo) -> bool:
    """A Piecewise condition at the point, from the evaluated sides of its comparisons."""
    def compare(relation) -> bool:
        if type(relation) not in _COMPARE:
            raise TypeError(f"a condition of the form {type(relation).__name__}")
        left, right = (_real(_evaluate(side, at, memo)) for side in relation.args)
        return bool(_COMPARE[type(relation)](left, right))

    return truth(condition, compare)


def truth(condition, compare) -> bool:
    """Whether a condition holds, `compare` deciding each comparison in it: the And, Or, Not and
    ITE SymPy folds nested conditions into (relu(relu(z))) are taken apart here."""
    if condition in (sp.true, sp.false) or isinstance(condition, bool):
        return bool(condition)
    if isinstance(condition, sp.And):
        return all(truth(c, compare) for c in condition.args)
    if isinstance(condition, sp.Or):
        return any(truth(c, compare) for c in condition.args)
    if isinstance(condition, sp.Not):
        return not truth(condition.args[0], compare)
    if isinstance(condition, sp.ITE):
        test, then, otherwise = condition.args
        return truth(then if truth(test, compare) else otherwise, compare)
    return compare(condition)


def _real(value):
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            raise TypeError("a condition on a complex number")
        return value.real
    return value


def _digits() -> int:
    """Digits for a step SymPy takes on evaluated arguments (a Max, a condition): the working
    precision's, and a few more."""
    return mpmath.mp.dps + 5


def _check(exponent) -> None:
    if abs(exponent) > _LIMIT:
        raise ExponentTooLarge()


def _sympy_number(value, digits: int) -> sp.Expr:
    if isinstance(value, mpmath.mpc):
        if value.imag == 0:
            value = value.real
        else:
            return _sympy_number(value.real, digits) + sp.I * _sympy_number(value.imag, digits)
    if mpmath.isnan(value):
        return sp.nan
    if mpmath.isinf(value):
        return sp.oo if value > 0 else -sp.oo
    value = value if isinstance(value, mpmath.mpf) else mpmath.mpf(value)
    return sp.Float(sp.Float._new(value._mpf_, max(WORK_BITS, mpmath.mp.prec)), digits)  # not mpf(value): 53 bits


def _mpmath_number(value: sp.Expr):
    if value.is_Float or value.is_Rational:
        return mpmath.mpf(sp.Float(value, _digits())._mpf_)
    if value.is_number and value.is_finite is not False and not value.has(sp.nan):
        re, im = value.as_real_imag()
        return mpmath.mpc(_mpmath_number(sp.N(re, _digits())), _mpmath_number(sp.N(im, _digits())))
    return mpmath.nan

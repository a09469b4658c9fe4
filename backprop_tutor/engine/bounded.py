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

EXPONENT_LIMIT_DIGITS = 100  # exp(x) and b^x are evaluated only for |x| ≤ 10^100
WORK_BITS = 200


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
    if value.free_symbols - set(at):
        return sp.N(value, digits)
    memo: dict = {}
    try:
        with mpmath.workprec(WORK_BITS):
            result = _evaluate(value, at, memo)
    except (AttributeError, KeyError, TypeError) as e:  # a form this evaluator does not know
        raise ValueError(f"cannot evaluate {type(e).__name__}") from None
    return _sympy_number(result, digits)


def _evaluate(node, at, memo):
    if node in memo:
        return memo[node]
    if node.is_Symbol:
        result = _evaluate(at[node], at, memo)  # the point's numbers are SymPy numbers already
    elif node.is_Rational:
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
        args = [_sympy_number(_evaluate(a, at, memo), 60) if isinstance(a, sp.Expr) else a for a in node.args]
        result = _mpmath_number(sp.N(node.func(*args), 60))
    memo[node] = result
    return result


def _piecewise(node, at, memo):
    for expression, condition in node.args:
        if condition is sp.true:
            return _evaluate(expression, at, memo)
        sides = [_sympy_number(_evaluate(side, at, memo), 60) for side in condition.args]
        if condition.func(*sides) is sp.true:
            return _evaluate(expression, at, memo)
    return mpmath.nan


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
    return sp.Float(sp.Float._new(value._mpf_, WORK_BITS), digits)  # not mpf(value): it rounds to 53 bits


def _mpmath_number(value: sp.Expr):
    if value.is_Float or value.is_Rational:
        return mpmath.mpf(sp.Float(value, 60)._mpf_)
    if value.is_number and value.is_finite is not False and not value.has(sp.nan):
        re, im = value.as_real_imag()
        return mpmath.mpc(_mpmath_number(sp.N(re, 60)), _mpmath_number(sp.N(im, 60)))
    return mpmath.nan

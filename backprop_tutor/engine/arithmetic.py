"""The numbers a rule computes with. The rules (engine/rules.py) are written once, with `+`,
`-`, `*` and three calls on an `Ops`; an Ops decides what the numbers are:

- `Precise`: mpmath numbers at WORK_DPS digits. The keys, the worked solution and every
  decimal the tool prints; turned into SymPy Floats at the end.
- `Exact`: pairs of an exact SymPy form and its precise decimal (`Pair`); the exact forms of
  the solution JSON. Forms built from anything but rationals are assembled unevaluated (SymPy's
  automatic evaluation would query assumptions of nested transcendental forms, which re-evaluates
  the whole nest each time), and a form larger than EXACT_NODE_LIMIT nodes is dropped (None).
- `Floats`: Python floats. The grader's re-runs (a slip, or the learner's own earlier values in
  place of the engine's) only compare with an answer to a relative 1e-3, and run many times.

Functions of the quantities (activations, their derivatives, losses and their gradients) are
SymPy expressions; `call` evaluates one, lambdified for the number type and cached.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from functools import lru_cache

import mpmath
import sympy as sp

from backprop_tutor.engine.numbers import WORK_DPS

EXACT_NODE_LIMIT = 400


@lru_cache(maxsize=None)
def _lambdified(expr: sp.Expr, symbols: tuple[sp.Symbol, ...], module: str):
    return sp.lambdify(symbols, expr, module)


class Floats:
    """Python floats: fast, for comparing with a learner's answer."""

    context = staticmethod(contextlib.nullcontext)

    def given(self, value: sp.Rational) -> float:
        return float(value)

    def sum(self, terms: Sequence[float]) -> float:
        return math.fsum(terms)

    def call(self, expr: sp.Expr, symbols: tuple[sp.Symbol, ...], values: Sequence[float]) -> float:
        return float(_lambdified(expr, symbols, "math")(*values))

    def finish(self, value: float) -> float:
        return value


class Precise:
    """mpmath numbers at WORK_DPS significant digits (evaluate inside `Precise.context()`)."""

    @staticmethod
    def context():
        return mpmath.workdps(WORK_DPS)

    def given(self, value: sp.Rational) -> mpmath.mpf:
        return _precise(value, mpmath.mp.prec)

    def sum(self, terms: Sequence[mpmath.mpf]) -> mpmath.mpf:
        total = terms[0]
        for term in terms[1:]:  # left to right, as the worked solution writes the sum
            total = total + term
        return total

    def call(self, expr: sp.Expr, symbols: tuple[sp.Symbol, ...], values: Sequence[mpmath.mpf]) -> mpmath.mpf:
        return mpmath.mpf(_lambdified(expr, symbols, "mpmath")(*values))

    def finish(self, value: mpmath.mpf) -> sp.Float:
        return sp.Float._new(mpmath.mpf(value)._mpf_, mpmath.mp.prec)


@lru_cache(maxsize=4096)
def _precise(value: sp.Rational, prec: int) -> mpmath.mpf:
    """A given number (a weight, an input, η) at the working precision; the same few recur.
    Usually exact; a Float where a weight was moved by descent (the why lesson)."""
    if value.is_Float:
        return mpmath.mpf(value._mpf_)
    return mpmath.mpf(value.p) / value.q


class Pair:
    """An exact SymPy form (None once dropped for size) beside its precise decimal."""

    __slots__ = ("approx", "exact")

    def __init__(self, approx: mpmath.mpf, exact: sp.Expr | None):
        self.approx = approx
        self.exact = exact

    def __add__(self, other) -> Pair:
        other = _lift(other)
        return _combine(sp.Add, (self, other), self.approx + other.approx)

    __radd__ = __add__

    def __sub__(self, other) -> Pair:
        other = _lift(other)
        return _combine(sp.Add, (self, -other), self.approx - other.approx)

    def __rsub__(self, other) -> Pair:
        return _lift(other) - self

    def __mul__(self, other) -> Pair:
        other = _lift(other)
        return _combine(sp.Mul, (self, other), self.approx * other.approx)

    __rmul__ = __mul__

    def __neg__(self) -> Pair:
        exact = None if self.exact is None else (-self.exact if self.exact.is_Rational else sp.Mul(-1, self.exact,
                                                                                                  evaluate=False))
        return Pair(-self.approx, exact)


def _lift(value) -> Pair:
    if isinstance(value, Pair):
        return value
    rational = sp.Rational(value)
    return Pair(mpmath.mpf(rational.p) / rational.q, rational)


def _combine(op, args: Sequence[Pair], approx) -> Pair:
    exacts = [a.exact for a in args]
    if any(e is None for e in exacts):
        return Pair(approx, None)
    if all(e.is_Rational for e in exacts):
        return Pair(approx, op(*exacts))
    return Pair(approx, _bounded(op(*exacts, evaluate=False)))


def _bounded(expr: sp.Expr) -> sp.Expr | None:
    """The form, or None when it has more than EXACT_NODE_LIMIT nodes (counting stops there)."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > EXACT_NODE_LIMIT:
            return None
    return expr


class Exact:
    """Pairs: exact forms where they stay small, with their decimals (inside `Exact.context()`)."""

    @staticmethod
    def context():
        return mpmath.workdps(WORK_DPS)

    def given(self, value: sp.Rational) -> Pair:
        return Pair(_precise(value, mpmath.mp.prec), value)

    def sum(self, terms: Sequence[Pair]) -> Pair:
        approx = Precise().sum([t.approx for t in terms])
        return _combine(sp.Add, terms, approx)

    def call(self, expr: sp.Expr, symbols: tuple[sp.Symbol, ...], values: Sequence[Pair]) -> Pair:
        approx = mpmath.mpf(_lambdified(expr, symbols, "mpmath")(*[v.approx for v in values]))
        exacts = [v.exact for v in values]
        if any(e is None for e in exacts):
            return Pair(approx, None)
        rational = all(e.is_Rational for e in exacts)
        if isinstance(expr, sp.Piecewise) and not rational:
            expr = _branch(expr, symbols, [v.approx for v in values])
        with sp.evaluate(rational):
            form = expr.xreplace(dict(zip(symbols, exacts)))
        return Pair(approx, form if rational else _bounded(form))

    def finish(self, value: Pair) -> sp.Expr | None:
        return value.exact


def _branch(expr: sp.Piecewise, symbols, approx) -> sp.Expr:
    """The Piecewise branch that holds at the decimals: asking SymPy whether a nested exact
    form is > 0 goes through the assumptions system, which re-evaluates the whole nest."""
    point = {s: sp.Float._new(mpmath.mpf(a)._mpf_, mpmath.mp.prec) for s, a in zip(symbols, approx)}
    for branch, condition in expr.args:
        if condition.xreplace(point) == sp.true:
            return branch
    return expr


FLOATS = Floats()
PRECISE = Precise()
EXACT = Exact()

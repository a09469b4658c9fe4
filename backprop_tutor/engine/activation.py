"""Single-activation problems: f(z), f′(z) by SymPy, and f′ at a point (worked/activation.py writes the steps)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from backprop_tutor.engine.activations import ELEMENTWISE, z
from backprop_tutor.engine.numbers import WORK_DPS


@dataclass(frozen=True)
class ActivationSolution:
    name: str
    point: sp.Rational
    value: sp.Expr  # f(point), exact
    slope: sp.Expr  # f′(point), exact
    derivative: sp.Expr  # f′(z) as SymPy computed it

    def approx(self, value: sp.Expr) -> sp.Float:
        return sp.N(value, WORK_DPS)

    def nudged(self, h: sp.Rational) -> sp.Float:
        """f(point + h): (f(z + h) − f(z))/h approaches f′(z), the slope seen as a limit."""
        return self.approx(ELEMENTWISE[self.name](self.point + h))


def solve_activation(name: str, point: sp.Rational) -> ActivationSolution:
    act = ELEMENTWISE[name]
    return ActivationSolution(name, point, act(point), act.prime(point), act.derivative)


def answer_text(expr: sp.Expr) -> str:
    """An expression as a learner would type it (and our parser reads): `1 - tanh(z)^2`,
    `sigmoid(z)*(1 - sigmoid(z))` rather than SymPy's exp-form of σ."""
    sigma = sp.Function("sigmoid")(z)
    return sp.sstr(expr.subs(1 / (1 + sp.exp(-z)), sigma)).replace("**", "^")


__all__ = ["ActivationSolution", "solve_activation", "answer_text", "z"]

"""Single-activation problems: f(z) and f′(z) at a point, by the network rules of one unit whose
z is given (so the keys come from the same rules the grader re-runs), and f′ as a formula, by
SymPy. worked/activation.py writes the steps."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from backprop_tutor.engine.activations import ELEMENTWISE, z
from backprop_tutor.engine.arithmetic import EXACT
from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.network import unit_network
from backprop_tutor.engine.numbers import WORK_DPS, evaluated
from backprop_tutor.engine.quantities import ACTIVATION_SLOPE, ACTIVATION_VALUE, Kind, q


@dataclass(frozen=True)
class ActivationSolution:
    name: str
    point: sp.Rational
    value: sp.Expr  # f(point), exact
    slope: sp.Expr  # f′(point), exact
    derivative: sp.Expr  # f′(z) as SymPy computed it

    def nudged(self, h: sp.Rational) -> sp.Float:
        """f(point + h): (f(z + h) − f(z))/h approaches f′(z), the slope seen as a limit."""
        return evaluated(ELEMENTWISE[self.name](self.point + h))

    def nudge_ratio(self, h: sp.Rational) -> sp.Float:
        """(f(z + h) − f(z))/h at 50 digits."""
        return (self.nudged(h) - evaluated(self.value)) / sp.Float(h, WORK_DPS)


UNIT_Z = q(Kind.Z, 1, 0)


def solve_activation(name: str, point: sp.Rational) -> ActivationSolution:
    with EXACT.context():
        evaluation = Evaluation(unit_network(name), EXACT, overrides={UNIT_Z: EXACT.given(point)})
        value, slope = (EXACT.finish(evaluation.value(quantity)) for quantity in (ACTIVATION_VALUE, ACTIVATION_SLOPE))
    return ActivationSolution(name, point, value, slope, ELEMENTWISE[name].derivative)


def answer_text(expr: sp.Expr) -> str:
    """An expression as a learner would type it (and our parser reads): `1 - tanh(z)^2`,
    `sigmoid(z)*(1 - sigmoid(z))` rather than SymPy's exp-form of σ."""
    sigma = sp.Function("sigmoid")(z)
    return sp.sstr(expr.subs(1 / (1 + sp.exp(-z)), sigma)).replace("**", "^")


__all__ = ["ActivationSolution", "solve_activation", "answer_text", "z", "UNIT_Z"]

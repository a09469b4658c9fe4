"""Single-activation problems: f(z), f′(z) by SymPy, and f′ at a point, with worked steps."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activations import ELEMENTWISE, z
from backprop_tutor.worked.notation import function, prime
from backprop_tutor.engine.numbers import WORK_DPS
from backprop_tutor.worked.steps import Step
from backprop_tutor.worked.texescape import escape


@dataclass(frozen=True)
class ActivationSolution:
    name: str
    point: sp.Rational
    value: sp.Expr  # f(point), exact
    slope: sp.Expr  # f′(point), exact
    derivative: sp.Expr  # f′(z) as SymPy computed it

    def approx(self, value: sp.Expr) -> sp.Float:
        return sp.N(value, WORK_DPS)


def solve_activation(name: str, point: sp.Rational) -> ActivationSolution:
    act = ELEMENTWISE[name]
    return ActivationSolution(name, point, act(point), act.prime(point), act.derivative)


def activation_steps(sol: ActivationSolution) -> tuple[Step, ...]:
    act = ELEMENTWISE[sol.name]
    f, fp = function(sol.name), prime(sol.name)
    ft, fpt = function(sol.name, True), prime(sol.name, True)
    p = num.pretty(sol.point)
    pt = num.latex(sol.point)
    value, slope = sol.approx(sol.value), sol.approx(sol.slope)
    steps = [
        Step("The function", f"{act.unicode}", f"\\[ {act.latex} \\]"),
        Step("Its derivative, by the rules of differentiation",
             f"SymPy: {f}′(z) = {_unicode(sol.derivative)}\nwhich is the textbook form {act.derivative_unicode}"
             + (f"\n({act.kink_note})" if act.kink_note else ""),
             f"\\[ {fpt}(z) = {sp.latex(sol.derivative)} \\]\n\\[ {act.derivative_latex} \\]"
             + (f"\n({escape(act.kink_note)})" if act.kink_note else "")),
        Step(f"At z = {p}",
             f"  {f}({p}) = {num.pretty(value)}\n  {fp}({p}) = {num.pretty(slope)}",
             f"\\[ {ft}({pt}) = {num.latex(value)}, \\quad {fpt}({pt}) = {num.latex(slope)} \\]"),
    ]
    h = sp.Rational(1, 1000)
    nudged = sp.N(ELEMENTWISE[sol.name](sol.point + h), WORK_DPS)
    ratio = (nudged - value) / sp.Float(h, WORK_DPS)
    steps.append(Step(
        "What the number means",
        f"Nudge z by h = 0.001: ({f}({p} + 0.001) − {f}({p}))/0.001 = {num.pretty(ratio)}, close to {fp}({p}) = "
        f"{num.pretty(slope)}.\nThe derivative is how much the output moves per unit change of z; backprop "
        "multiplies these local slopes along the chain to find how the loss moves when a weight moves.",
        f"Nudge $z$ by $h = 0.001$: $\\frac{{{ft}({pt} + 0.001) - {ft}({pt})}}{{0.001}} = {num.latex(ratio)}$, "
        f"close to ${fpt}({pt}) = {num.latex(slope)}$. The derivative is how much the output moves per unit change "
        "of $z$; backprop multiplies these local slopes along the chain to find how the loss moves when a weight moves.",
    ))
    return tuple(steps)


def _unicode(expr: sp.Expr) -> str:
    text = sp.sstr(expr).replace("**", "^").replace("*", "·").replace("exp(", "e^(").replace("-", "−")
    return text


def answer_text(expr: sp.Expr) -> str:
    """An expression as a learner would type it (and our parser reads): `1 - tanh(z)^2`,
    `sigmoid(z)*(1 - sigmoid(z))` rather than SymPy's exp-form of σ."""
    sigma = sp.Function("sigmoid")(z)
    return sp.sstr(expr.subs(1 / (1 + sp.exp(-z)), sigma)).replace("**", "^")


__all__ = ["ActivationSolution", "solve_activation", "activation_steps", "answer_text", "z"]

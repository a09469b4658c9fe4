"""The worked solution of a single-activation problem: f, f′ by SymPy beside the textbook form,
both at the point, and a nudge that shows what the slope means."""

from __future__ import annotations

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activation import ActivationSolution
from backprop_tutor.engine.activations import ELEMENTWISE
from backprop_tutor.engine.quantities import ACTIVATION_SLOPE, ACTIVATION_VALUE, Kind, QuantityId
from backprop_tutor.worked.notation import function, prime, sympy_unicode
from backprop_tutor.worked.steps import Step
from backprop_tutor.worked.texescape import escape

# An activation problem is a one-unit graph: its value is a1 and its slope at the point fprime1.
_VALUE, _SLOPE = ACTIVATION_VALUE.family, ACTIVATION_SLOPE.family


def activation_steps(sol: ActivationSolution) -> tuple[Step, ...]:
    act = ELEMENTWISE[sol.name]
    f, fp = function(sol.name), prime(sol.name)
    ft, fpt = function(sol.name, True), prime(sol.name, True)
    p = num.pretty(sol.point)
    pt = num.latex(sol.point)
    value, slope = num.evaluated(sol.value), num.evaluated(sol.slope)
    steps = [
        Step("The function", f"{act.unicode}", f"\\[ {act.latex} \\]"),
        Step("Its derivative, by the rules of differentiation",
             f"SymPy: {f}′(z) = {sympy_unicode(sol.derivative)}\nwhich is the textbook form {act.derivative_unicode}"
             + (f"\n({act.kink_note})" if act.kink_note else ""),
             f"\\[ {fpt}(z) = {sp.latex(sol.derivative)} \\]\n\\[ {act.derivative_latex} \\]"
             + (f"\n({escape(act.kink_note)})" if act.kink_note else ""),
             (QuantityId(Kind.DERIVATIVE),)),
        Step(f"At z = {p}",
             f"  {f}({p}) = {num.pretty(value)}\n  {fp}({p}) = {num.pretty(slope)}",
             f"\\[ {ft}({pt}) = {num.latex(value)}, \\quad {fpt}({pt}) = {num.latex(slope)} \\]",
             (_VALUE, _SLOPE)),
    ]
    ratio = sol.nudge_ratio(sp.Rational(1, 1000))
    steps.append(Step(
        "What the number means",
        f"Nudge z by h = 0.001: ({f}({p} + 0.001) − {f}({p}))/0.001 = {num.pretty(ratio)}, close to {fp}({p}) = "
        f"{num.pretty(slope)}.\nThe derivative is how much the output moves per unit change of z; backprop "
        "multiplies these local slopes along the chain to find how the loss moves when a weight moves.",
        f"Nudge $z$ by $h = 0.001$: $\\frac{{{ft}({pt} + 0.001) - {ft}({pt})}}{{0.001}} = {num.latex(ratio)}$, "
        f"close to ${fpt}({pt}) = {num.latex(slope)}$. The derivative is how much the output moves per unit change "
        "of $z$; backprop multiplies these local slopes along the chain to find how the loss moves when a weight moves.",
        (_SLOPE,),
    ))
    return tuple(steps)

"""The worked solution of a single-activation problem: f, f′ derived line by line (chain,
product or quotient rule down to the textbook form), both at the point, and a nudge that shows
what the slope means."""

from __future__ import annotations

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activation import ActivationSolution
from backprop_tutor.engine.activations import ELEMENTWISE
from backprop_tutor.engine.derivations import DERIVATIONS
from backprop_tutor.engine.quantities import ACTIVATION_SLOPE, ACTIVATION_VALUE, Kind, QuantityId
from backprop_tutor.worked.notation import formula, function, prime
from backprop_tutor.worked.slopes import slope_chain
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
        _derivation(sol.name),
        Step(f"At z = {p}",
             f"  {f}({p}) = {num.pretty(value)}\n  {fp}({p}) = {slope_chain(sol.name, 'z', sol.point, slope)}",
             f"\\[ {ft}({pt}) = {num.latex(value)} \\]\n"
             f"\\[ {fpt}({pt}) = {slope_chain(sol.name, 'z', sol.point, slope, True)} \\]",
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


def _derivation(name: str) -> Step:
    """The derivation of engine/derivations.py: each line's reason, then f′(z) written so. A
    piecewise activation is derived on each side of its kink, then its convention at the kink."""
    act = ELEMENTWISE[name]
    f, fp, ft, fpt = function(name), prime(name), function(name, True), prime(name, True)
    text, tex = [], []
    branches = DERIVATIONS[name]
    smooth = len(branches) == 1
    for branch in branches:
        if smooth:
            text.append(f"{f}(z) = {formula(branch.start)}")
            tex.append(f"\\[ {ft}(z) = {formula(branch.start, True)} \\]")
        for line in branch.lines:
            text += [f"{line.reason}:", f"  {fp}(z) = {formula(line.expr)}"]
            tex += [f"{line.reason_latex}:", f"\\[ {fpt}(z) = {formula(line.expr, True)} \\]"]
    if not smooth:
        text.append(f"So {act.derivative_unicode}" + (f" ({act.kink_note})." if act.kink_note else "."))
        tex.append(f"So \\[ {act.derivative_latex} \\]" + (f" ({escape(act.kink_note)})." if act.kink_note else ""))
    return Step("Its derivative, step by step", "\n".join(text), "\n".join(tex), (QuantityId(Kind.DERIVATIVE),))

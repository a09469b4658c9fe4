"""The worked solution of an expression: its graph forward, the chain rule node by node backward,
the gradient, and a nudge that shows the derivative as a limit.

The numbers come from the engine's `ExpressionSolution`; this module only writes them out.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from backprop_tutor.engine import kinks
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activations import ELEMENTWISE
from backprop_tutor.engine.expression import ExpressionSolution, GraphNode
from backprop_tutor.engine.quantities import Kind, QuantityId
from backprop_tutor.worked.notation import prime
from backprop_tutor.worked.slopes import slope_chain
from backprop_tutor.worked.steps import Step
from backprop_tutor.worked.texescape import escape

# How each operation hands the gradient on, as a learner would say it (one line per op that has a
# rule worth naming; an activation multiplies by its derivative, worked out on a line of its own).
_RULES = {
    "add": "add passes the gradient to both inputs unchanged",
    "sub": "subtract passes it on, with a minus sign for the second input",
    "mul": "multiply swaps: each input gets the other input's value times the upstream gradient",
    "div": "divide: ∂(u/v)/∂u = 1/v and ∂(u/v)/∂v = −u/v²",
    "max": "max routes the whole gradient to the larger input (the first one at a tie)",
    "min": "min routes the whole gradient to the smaller input (the first one at a tie)",
    "neg": "negation flips the sign",
}
_NUDGES = ("0.1", "0.01", "0.001")


def expression_steps(sol: ExpressionSolution) -> tuple[Step, ...]:
    """Forward, backward, the gradient, and the nudge of the first variable, in that order."""
    gradients = tuple(QuantityId(Kind.GRADIENT, variable=name) for name in sol.gradient)
    return (
        _forward_step(sol),
        _backward_step(sol, gradients),
        _gradient_step(sol, gradients),
        _nudge_step(sol),
    )


def _forward_step(sol: ExpressionSolution) -> Step:
    by_id = {n.id: n for n in sol.nodes}
    at = ", ".join(f"{k} = {num.pretty(v)}" for k, v in sol.at.items())
    forward_text, forward_tex = [], []
    for n in sol.nodes:
        if n.op in ("var", "const"):
            continue
        args = ", ".join(f"{i} = {num.pretty(by_id[i].value)}" for i in n.inputs)
        forward_text.append(f"  {n.id} = {n.label} = {num.pretty(n.value)}    ({n.op} of {args})")
        forward_tex.append(rf"\[ {n.id} = {_latex(n.formula())} = {num.latex(n.value)} \]")
    return Step("The graph, forward", f"f = {sol.echo} at {at}, one node per operation:\n" + "\n".join(forward_text),
                f"{escape(f'f = {sol.echo}')} at {escape(at)}, one node per operation:\n" + "\n".join(forward_tex),
                (QuantityId(Kind.VALUE),))


@lru_cache(maxsize=4096)  # printing LaTeX is slow, and a template's variants share their graph's formulas
def _latex(formula: sp.Expr) -> str:
    return sp.latex(formula)


def _backward_step(sol: ExpressionSolution, gradients: tuple[QuantityId, ...]) -> Step:
    output = sol.output
    back_text = [f"  ∂f/∂{output} = 1 (the output)"]
    back_tex = [rf"\[ \frac{{\partial f}}{{\partial {output}}} = 1 \]"]
    users: dict[str, list[tuple[GraphNode, sp.Expr]]] = {}
    for n in sol.nodes:
        for input_id, local in n.local:
            users.setdefault(input_id, []).append((n, local))
    for n in reversed(sol.nodes):
        if n.id == output or n.id not in users or n.op == "const":
            continue
        terms = [num.product([user.grad, local]) for user, local in users[n.id]]
        symbols = " + ".join(f"∂f/∂{user.id}·∂{user.id}/∂{n.id}" for user, _ in users[n.id])
        rules = sorted({_RULES[user.op] for user, _ in users[n.id] if user.op in _RULES})
        note = f"    ({'; '.join(rules)})" if rules else ""
        name = n.label if n.op == "var" else n.id
        back_text.append(f"  ∂f/∂{name} = {symbols} = {num.signed_sum(terms)} = {num.pretty(n.grad)}{note}")
        tex_terms = [num.product([user.grad, local], tex=True) for user, local in users[n.id]]
        back_tex.append(rf"\[ \frac{{\partial f}}{{\partial {escape(name) if n.op != 'var' else name}}} = "
                        f"{num.signed_sum(tex_terms, tex=True)} = {num.latex(n.grad)} \\]")
        for user, local in users[n.id]:
            if user.op in ELEMENTWISE:  # the activation's slope from the learner's own rule, numbers put in
                back_text.append(f"    with ∂{user.id}/∂{name} = {prime(user.op)}({name}) = "
                                 + slope_chain(user.op, name, n.value, local))
                back_tex.append(rf"\[ \text{{with }} \frac{{\partial {user.id}}}{{\partial {name}}} = "
                                f"{prime(user.op, True)}({name}) = " + slope_chain(user.op, name, n.value, local, True)
                                + r" \]")
    return Step("Backward: the chain rule, node by node from the output", "\n".join(back_text), "\n".join(back_tex),
                gradients)


def _gradient_step(sol: ExpressionSolution, gradients: tuple[QuantityId, ...]) -> Step:
    grads = ", ".join(f"∂f/∂{k} = {num.pretty(g)}" for k, g in sol.gradient.items())
    return Step("The gradient", grads, escape(grads), gradients)


def _nudge_step(sol: ExpressionSolution) -> Step:
    """The derivative seen as a limit: nudge a variable and watch the ratio. At a kink the limit
    from the right is not the one from the left, and the step says so (docs/formats.md)."""
    if not sol.gradient:
        return Step("No variables", "The expression is a constant: its value does not depend on anything.",
                    "The expression is a constant.")
    kinked = kinks.graph_kinks(sol)
    sides = _parted_sides(sol) if kinked else None
    if sides is None:
        name = next(iter(sol.gradient))
        text, tex = _ratio_rows(sol, name, _NUDGES)
        return Step(f"Why: nudge {name} and watch f",
                    f"Change {name} a little and f changes by about ∂f/∂{name} times as much:\n" + "\n".join(text)
                    + f"\nThe ratios approach ∂f/∂{name} = {num.pretty(sol.gradient[name], 8)}.",
                    f"Change ${name}$ a little and $f$ changes by about $\\partial f/\\partial {name}$ times as much:\n"
                    + "\n".join(tex) + f"\nThe ratios approach ${num.latex(sol.gradient[name], 8)}$.",
                    (QuantityId(Kind.GRADIENT, variable=name),))
    name, right, left = sides
    return _kink_step(sol, name, right, left, kinked)


def _ratio_rows(sol: ExpressionSolution, name: str, steps: tuple[str, ...]) -> tuple[list[str], list[str]]:
    text, tex = [], []
    for h in steps:
        ratio = sol.nudge_ratio(name, sp.Rational(h))
        text.append(f"  h = {num.pretty(sp.Rational(h))}: (f({name}+h) − f({name}))/h = {num.pretty(ratio, 8)}")
        tex.append(rf"\[ h = {num.latex(sp.Rational(h))}: \frac{{f({name}+h) - f({name})}}{{h}} = {num.latex(ratio, 8)} \]")
    return text, tex


def _parted_sides(sol: ExpressionSolution) -> tuple[str, sp.Expr | None, sp.Expr | None] | None:
    """The first variable whose slope from the right differs from its slope from the left (None
    for a side where f jumps), with both slopes; None when every variable has one slope."""
    for name in sol.gradient:
        right, left = kinks.one_sided_derivative(sol, name, 1), kinks.one_sided_derivative(sol, name, -1)
        if right is None or left is None or right != left:
            return name, right, left
    return None


def _kink_step(sol: ExpressionSolution, name: str, right: sp.Expr | None, left: sp.Expr | None,
               kinked: tuple[kinks.GraphKink, ...]) -> Step:
    """Both sides of a kink: the ratios for h and −h, the two one-sided slopes, the convention
    backprop used instead of a derivative that does not exist, and what that means for learning."""
    gradient = num.pretty(sol.gradient[name], 8)
    where = "; ".join(f"node {k.node} = {k.label} has its input exactly at the "
                      f"{'jump' if k.kink.jumps else 'kink'} of {k.kink.function}" for k in kinked)
    conventions = "; ".join(dict.fromkeys(k.kink.convention_text(num.pretty) for k in kinked))
    right_rows, right_tex = _ratio_rows(sol, name, _NUDGES)
    left_rows, left_tex = _ratio_rows(sol, name, tuple("-" + h for h in _NUDGES))

    def side(slope: sp.Expr | None, which: str) -> str:
        return (f"from the {which} the ratios approach {num.pretty(slope, 8)}" if slope is not None
                else f"from the {which} the ratios grow without bound (f jumps here)")

    def rate(slope: sp.Expr | None, which: str) -> str:
        return f"{num.pretty(slope, 8)} to the {which}" if slope is not None else f"without bound to the {which}"

    said = (f"At {', '.join(f'{k} = {num.pretty(v)}' for k, v in sol.at.items())}, {where}: "
            f"nudging {name} to the right (h > 0) and to the left (h < 0) gives different ratios.\n")
    limits = (f"The one-sided ratios differ: {side(right, 'right')}, {side(left, 'left')}. So f has no "
              f"derivative in {name} here, and ∂f/∂{name} = {gradient} is a convention: {conventions}.\n"
              f"What that means for learning: gradient descent uses the convention's value, ∂f/∂{name} = "
              f"{gradient}, while a tiny change of {name} actually changes f at the rate {rate(right, 'right')} "
              f"and {rate(left, 'left')}. Exactly at a kink the gradient is a choice, not a limit.")
    return Step(f"Why: nudge {name} on both sides of a kink",
                said + "\n".join(right_rows + left_rows) + "\n" + limits,
                escape(said) + "\n".join(right_tex + left_tex) + "\n" + escape(limits),
                (QuantityId(Kind.GRADIENT, variable=name),))

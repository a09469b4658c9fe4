"""The worked solution of an expression: its graph forward, the chain rule node by node backward,
the gradient, and a nudge that shows the derivative as a limit.

The numbers come from the engine's `ExpressionSolution`; this module only writes them out.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.expression import ExpressionSolution, GraphNode
from backprop_tutor.engine.quantities import Kind, QuantityId
from backprop_tutor.worked.steps import Step
from backprop_tutor.worked.texescape import escape

# How each operation hands the gradient on, as a learner would say it (one line per op that has a
# rule worth naming; functions such as tanh just multiply by their derivative).
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
                f"f = {escape(sol.echo)} at {escape(at)}, one node per operation:\n" + "\n".join(forward_tex),
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
    return Step("Backward: the chain rule, node by node from the output", "\n".join(back_text), "\n".join(back_tex),
                gradients)


def _gradient_step(sol: ExpressionSolution, gradients: tuple[QuantityId, ...]) -> Step:
    grads = ", ".join(f"∂f/∂{k} = {num.pretty(g)}" for k, g in sol.gradient.items())
    return Step("The gradient", grads, escape(grads), gradients)


def _nudge_step(sol: ExpressionSolution) -> Step:
    """The derivative seen as a limit: nudge the first variable and watch the ratio."""
    if not sol.gradient:
        return Step("No variables", "The expression is a constant: its value does not depend on anything.",
                    "The expression is a constant.")
    name = next(iter(sol.gradient))
    text, tex = [], []
    for h in _NUDGES:
        ratio = sol.nudge_ratio(name, sp.Rational(h))
        text.append(f"  h = {h}: (f({name}+h) − f({name}))/h = {num.pretty(ratio, 8)}")
        tex.append(rf"\[ h = {h}: \frac{{f({name}+h) - f({name})}}{{h}} = {num.latex(ratio, 8)} \]")
    derivative = num.pretty(sol.gradient[name], 8)
    return Step(f"Why: nudge {name} and watch f",
                f"Change {name} a little and f changes by about ∂f/∂{name} times as much:\n" + "\n".join(text)
                + f"\nThe ratios approach ∂f/∂{name} = {derivative}.",
                f"Change ${name}$ a little and $f$ changes by about $\\partial f/\\partial {name}$ times as much:\n"
                + "\n".join(tex) + f"\nThe ratios approach ${num.latex(sol.gradient[name], 8)}$.",
                (QuantityId(Kind.GRADIENT, variable=name),))

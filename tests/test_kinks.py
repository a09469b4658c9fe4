"""Kinks (relu at 0, abs at 0, max at a tie, step at its jump): the nudge lessons show both sides,
say the one-sided ratios differ and name the convention backprop used. The one-sided slopes are
checked against the exact form nudged by ±10⁻³⁰ at 60 digits, not against the graph's own walk."""

from __future__ import annotations

import re

import pytest
import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.expression import parse_assignments, solve_expression
from backprop_tutor.worked.expression import expression_steps

TINY = sp.Rational(1, 10**30)


def oracle_ratio(sol, name: str, h: sp.Rational) -> sp.Float:
    """(f(x + h) − f(x))/h on the whole exact form, by SymPy at 60 digits."""
    def f(point):
        return sp.N(sol.expr.xreplace({s: point[s.name] for s in sol.expr.free_symbols}), 60)
    return (f({**sol.at, name: sol.at[name] + h}) - f(sol.at)) / h


# (expression, point, nudged variable, the convention's function, its words)
KINKED = [
    ("relu(x)*y", "x=0,y=2", "x", "relu′(0) = 0, as this tool and most frameworks take it"),
    ("abs(x)", "x=0", "x", "abs′(0) = 0, as this tool and most frameworks take it"),
    ("leaky_relu(x)*3", "x=0", "x", "leaky_relu′(0) = 0.01, as this tool and most frameworks take it"),
    ("max(x, y)", "x=1,y=1", "x", "at the tie max(1, 1)"),
    ("relu(x - y)*tanh(x)", "x=0.5,y=0.5", "x", "relu′(0) = 0"),
    ("step(x)*3", "x=0", "x", "step′(0) = 0, as this tool takes it"),
]


def nudge_step(text: str, at: str):
    sol = solve_expression(text, parse_assignments(at))
    return sol, expression_steps(sol)[-1]


@pytest.mark.parametrize("text,at,name,convention", KINKED)
def test_at_a_kink_the_expression_nudge_shows_both_sides_and_the_convention(text, at, name, convention):
    sol, step = nudge_step(text, at)
    flat = " ".join(step.text.split())
    assert step.title == f"Why: nudge {name} on both sides of a kink"
    assert "The ratios approach" not in flat  # the claim that is false at a kink
    assert "The one-sided ratios differ" in flat and convention in flat
    assert "gradient descent uses the convention's value" in flat
    for h in ("0.001", "−0.001"):
        assert f"h = {h}: (f({name}+h) − f({name}))/h" in flat
    right, left = oracle_ratio(sol, name, TINY), oracle_ratio(sol, name, -TINY)
    assert abs(right - left) > sp.Rational(1, 100)  # the oracle agrees: two different slopes
    for value, which in ((right, "right"), (left, "left")):
        if abs(value) > 10**20:  # step: f jumps, the ratio grows like 1/h
            assert f"from the {which} the ratios grow without bound" in flat
        else:
            shown = re.search(rf"from the {which} the ratios approach (−?[0-9.]+)", flat).group(1)
            assert abs(sp.Float(shown.rstrip(".").replace("−", "-")) - value) < 1e-7 * max(1, abs(value))
    # the convention's value is the gradient the graph's backward pass computed
    assert f"∂f/∂{name} = {num.pretty(sol.gradient[name], 8)} is a convention" in flat


@pytest.mark.parametrize("text,at", [
    ("elu(x)*2", "x=0"),          # elu (α = 1) has slope 1 on both sides of 0: no kink
    ("relu(x)*y", "x=0.5,y=2"),   # relu away from its corner
    ("relu(x)*y", "x=0,y=0"),     # at the corner, but y = 0 flattens both sides alike
    ("tanh(w*x)", "w=0,x=1"),
])
def test_where_both_sides_agree_the_ratio_still_becomes_the_derivative(text, at):
    sol, step = nudge_step(text, at)
    name = next(iter(sol.gradient))
    assert "The ratios approach" in step.text and "kink" not in step.text
    assert abs(oracle_ratio(sol, name, TINY) - oracle_ratio(sol, name, -TINY)) < 1e-20


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_the_named_convention_is_sympys_derivative_at_the_corner(name):
    _, step = nudge_step(f"{name}(x)", "x=0")
    slope = sp.diff(activations.ELEMENTWISE[name].expr, activations.z).subs(activations.z, 0)
    assert f"{name}′(0) = {num.pretty(slope)}," in step.text

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
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.quantities import Kind, QuantityId
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.worked.expression import expression_steps
from backprop_tutor.worked.network import network_steps

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


# --- a network with a unit at its kink ----------------------------------------------------------

def kinked_network(activation: str, bias0: str = "0") -> dict:
    """z⁽¹⁾₀ = 0.4·1 − 0.8·0.5 + bias0: exactly 0 when bias0 = 0."""
    return {"input": [1, 0.5], "target": [0.3],
            "layers": [{"activation": activation, "weights": [[0.4, -0.8], [0.3, 0.2]], "bias": [bias0, 0.1]},
                       {"activation": "sigmoid", "weights": [[0.7, -0.5]], "bias": [0.2]}],
            "loss": "half_sse", "learning_rate": 0.5}


def oracle_loss_ratio(data: dict, h: sp.Rational) -> sp.Float:
    """(L(w⁽¹⁾₀₀ + h) − L)/h, the network written out as one SymPy expression at 60 digits."""
    def loss(shift):
        a = [sp.nsimplify(v) for v in data["input"]]
        for n, layer in enumerate(data["layers"]):
            f = activations.ELEMENTWISE[layer["activation"]].expr
            z = [sum(sp.nsimplify(w) * x for w, x in zip(row, a)) + sp.nsimplify(b)
                 for row, b in zip(layer["weights"], layer["bias"])]
            if n == 0:
                z[0] += shift * a[0]
            a = [f.xreplace({activations.z: v}) for v in z]
        return sp.Rational(1, 2) * sum((sp.nsimplify(t) - o) ** 2 for t, o in zip(data["target"], a))
    return sp.N((loss(h) - loss(0)) / h, 60)


def nudge_text(data: dict) -> tuple[str, str]:
    sol = solve_network(network_from_dict(data, "test"))
    step = next(s for s in network_steps(sol) if s.computes == (QuantityId(Kind.NUDGE),))
    return step.title, " ".join(step.text.split())


@pytest.mark.parametrize("activation,convention", [("relu", "relu′(0) = 0, as this tool and most frameworks take it"),
                                                   ("leaky_relu", "leaky_relu′(0) = 0.01")])
def test_a_network_unit_at_a_kink_shows_both_sides_of_the_nudge(activation, convention):
    data = kinked_network(activation)
    title, flat = nudge_text(data)
    assert title == "Why it works, and where it does not: nudge ratios on both sides of a kink"
    assert "As h shrinks the ratio becomes the derivative" not in flat
    assert f"z⁽¹⁾₀ = 0 sits exactly at the kink of {activation}" in flat and convention in flat
    assert "h = −0.0001: (L(w+h) − L(w))/h" in flat
    # w⁽¹⁾₀₀ moves z⁽¹⁾₀ through the kink: its one-sided limits, against the written-out loss
    said = flat.split("w⁽¹⁾₀₀: ∂L/∂w⁽¹⁾₀₀")[1]
    found = re.search(r"from the right \(h > 0\) they approach (−?[0-9.]+), from the left \(h < 0\) they approach "
                      r"(−?[0-9.]+)", said)
    assert found, said
    for shown, h in zip(found.groups(), (TINY, -TINY)):
        expected = oracle_loss_ratio(data, h)
        assert abs(sp.Float(shown.rstrip(".").replace("−", "-")) - expected) < 1e-9 * max(1, abs(expected))
    assert abs(oracle_loss_ratio(data, TINY) - oracle_loss_ratio(data, -TINY)) > 1e-3
    # b⁽²⁾₀ does not move z⁽¹⁾₀: one slope, the usual rows only
    assert "h = −0.1: (L(b+h) − L(b))/h" not in flat


def test_a_network_unit_at_the_jump_of_step_says_the_ratio_grows_without_bound():
    title, flat = nudge_text(kinked_network("step"))
    assert "z⁽¹⁾₀ = 0 sits exactly at the jump of step" in flat
    assert "from the left (h < 0) they grow without bound" in flat
    assert abs(oracle_loss_ratio(kinked_network("step"), -TINY)) > 10**20


def test_a_network_away_from_its_kinks_keeps_the_plain_lesson():
    title, flat = nudge_text(kinked_network("relu", bias0="0.05"))
    assert title == "Why it works: the derivative is the limit of the nudge ratio"
    assert "As h shrinks the ratio becomes the derivative." in flat and "kink" not in flat


def test_the_solution_tables_nudge_check_at_a_kink_shows_both_sides_too():
    """The summary table beside the worked solution must not claim ratio → ∂L/∂w where it is false:
    it titles the kink and lists the −h rows, each L(w − h) against the written-out loss."""
    from backprop_tutor.worked.report import network_report

    data = kinked_network("relu")
    sol = solve_network(network_from_dict(data, "test"))
    [table] = [t for t in network_report(sol, ()).tables if t.title.startswith("Nudge check")]
    assert "kink" in table.title and "→ ∂L/∂w" not in table.title
    rows = [(r[0].text, r[1].text, r[3].text) for r in table.rows if r[0].text == "w⁽¹⁾₀₀"]
    assert [h for _, h, _ in rows] == ["0.1", "0.01", "0.001", "0.0001", "−0.1", "−0.01", "−0.001", "−0.0001"]
    for _, h, ratio in rows:
        expected = oracle_loss_ratio(data, sp.Rational(h.replace("−", "-")))
        assert abs(sp.Float(ratio.replace("−", "-")) - expected) < 1e-9 * max(1, abs(expected))
    [plain] = [t for t in network_report(solve_network(network_from_dict(kinked_network("relu", "0.05"), "t")),
                                         ()).tables if t.title.startswith("Nudge check")]
    assert plain.title == "Nudge check: (L(w+h) − L(w))/h → ∂L/∂w" and all(not r[1].text.startswith("−") for r in plain.rows)

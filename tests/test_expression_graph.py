"""Expression graphs: every gradient equals sympy.diff of the whole expression; ties route as
documented; order is deterministic; bad --at values are clear."""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine import activations, kinks
from backprop_tutor.engine.expression import parse_assignments, solve_expression
from backprop_tutor.engine.parsing import parse_expression
from backprop_tutor.engine.quantities import Kind, QuantityId
from backprop_tutor.worked.expression import expression_steps

CASES = [
    ("tanh(w*x+b)", "w=0.5,x=1,b=0"), ("sigmoid(w1*x1 + w2*x2 + b)", "w1=0.3,x1=-1,w2=-0.7,x2=0.4,b=0.1"),
    ("(x+y)*z", "x=-2,y=5,z=-4"), ("x*x", "x=3/7"), ("x^3/y", "x=1.5,y=-0.25"), ("exp(x)*ln(y)", "x=0.2,y=2.5"),
    ("max(x, y)*z", "x=2,y=-1,z=3"), ("max(x, y)*z", "x=-2,y=1,z=3"), ("relu(w*x + b)", "w=0.5,x=2,b=-0.3"),
    ("gelu(x*y)", "x=0.7,y=-0.4"), ("softplus(x) - silu(y)", "x=0.3,y=1.2"), ("(1 - sigmoid(x))^2/2", "x=0.9"),
    ("tanh(tanh(w*x))*w", "w=-0.6,x=0.8"), ("leaky_relu(x) + elu(y)", "x=-0.5,y=-0.5"), ("sqrt(x^2 + y^2)", "x=3,y=4"),
    ("abs(x - y) + min(x, y)", "x=0.25,y=0.75"), ("x/(1 + e^(-x))", "x=-1.3"), ("gelu_tanh(x)", "x=0.35"),
    # a power at a zero base: the power rule n·x^(n−1), not SymPy's n·x^n/x (0/0 at x = 0)
    ("x^2", "x=0"), ("x^3*y", "x=0,y=1.5"), ("tanh(x)^2 + relu(y)^2", "x=0,y=0"),
]


@pytest.mark.parametrize("text,at", CASES)
def test_gradient_equals_sympy_diff_of_the_whole(text, at):
    values = parse_assignments(at)
    sol = solve_expression(text, values)
    expr = parse_expression(text)
    point = {s: values[s.name] for s in expr.free_symbols}
    assert abs(sp.N(sol.value - expr.xreplace(point), 40)) < 1e-35
    for s in expr.free_symbols:
        expected = sp.diff(expr, s).xreplace(point)
        assert abs(sp.N(sol.gradient[s.name] - expected, 40)) < 1e-35, s


@pytest.mark.parametrize("text,at", CASES + [
    ("exp(x) - 1 - x", "x=1e-30"),  # the numeric pass cancels away its digits: evaluated exactly instead
    ("step(w*x + b)", "w=0.8,x=1.3,b=-1.17"),  # w + 0.1 lands on the jump, where rounding errs below 0
    ("x*y - y*x + y", "x=1,y=2"),  # x is gone from the whole form: moving it changes nothing
])
def test_nudged_values_equal_the_exact_form_at_the_moved_point(text, at):
    values = parse_assignments(at)
    sol = solve_expression(text, values)
    expr = parse_expression(text)
    for name in sol.gradient:
        for h in ("0", "0.1", "0.001"):
            moved = {**values, name: values[name] + sp.Rational(h)}
            exact = sp.N(expr.xreplace({s: moved[s.name] for s in expr.free_symbols}), 60)
            assert abs(sol.nudged(name, sp.Rational(h)) - exact) <= sp.Float("1e-45") * abs(exact), (name, h)


def test_ties_route_to_the_first_argument_and_kinks_give_zero():
    sol = solve_expression("max(x, y)", parse_assignments("x=1,y=1"))
    assert sol.gradient == {"x": 1, "y": 0}
    assert solve_expression("min(x, y)", parse_assignments("x=1,y=1")).gradient == {"x": 1, "y": 0}
    assert solve_expression("relu(x)", parse_assignments("x=0")).gradient == {"x": 0}
    assert solve_expression("abs(x)", parse_assignments("x=0")).gradient == {"x": 0}


def test_node_order_is_deterministic_and_topological():
    first = solve_expression("tanh(w*x+b)", parse_assignments("w=0.5,x=1,b=0"))
    second = solve_expression("tanh(w*x+b)", parse_assignments("w=0.5,x=1,b=0"))
    assert [(n.id, n.op, n.inputs) for n in first.nodes] == [(n.id, n.op, n.inputs) for n in second.nodes]
    assert [n.op for n in first.nodes] == ["var", "var", "mul", "var", "add", "tanh"]
    seen = set()
    for node in first.nodes:
        assert set(node.inputs) <= seen
        seen.add(node.id)


def test_steps_are_written_like_a_textbook():
    sol = solve_expression("(x - y)*z", parse_assignments("x=-0.5,y=0.25,z=-2"))
    text = "\n".join(s.text for s in expression_steps(sol))
    assert not re.search(r"\+ -|\+ −|--|−−|-0\.0\b", text)
    assert "multiply swaps" in text and "∂f/∂z" in text


def test_each_step_names_what_it_computes():
    sol = solve_expression("(x - y)*z", parse_assignments("x=-0.5,y=0.25,z=-2"))
    value, grad_x, grad_z = QuantityId(Kind.VALUE), QuantityId(Kind.GRADIENT, variable="x"), \
        QuantityId(Kind.GRADIENT, variable="z")
    shown = {s.title: (s.shows(value), s.shows(grad_x), s.shows(grad_z)) for s in expression_steps(sol)}
    assert shown == {
        "The graph, forward": (True, False, False),
        "Backward: the chain rule, node by node from the output": (False, True, True),
        "The gradient": (False, True, True),
        "Why: nudge x and watch f": (False, True, False),
    }


@pytest.mark.parametrize("at,message", [
    ("w=0.5,x=1", "--at: no value for 'b'; give it one, e.g. b=0.5 in --at"),
    ("w=0.5,x=1,b=0,q=2", "--at: 'q' is not in the expression; leave it out"),
    ("w=0.5,x=1,b=0,w=2", "--at: 'w' is given twice"),
    ("w=0.5,x=1,b", "--at: 'b' is not NAME=VALUE; write e.g. --at w=0.5,x=1"),
    ("w=0.5,x=1,b=oops", "--at b=oops: unknown name 'oops' at position 1 (a number is expected here; no variables)"),
])
def test_bad_at_values(at, message):
    result = CliRunner().invoke(cli, ["solve", "--expression", "tanh(w*x+b)", "--at", at])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"


def test_bad_expressions():
    for text, message in [("__import__('os')", "the character '_' at position 1 is not allowed"),
                          ("tanh(w*x+", "ends too early"), ("ln(x - 2)", "not a real number at these values")]:
        result = CliRunner().invoke(cli, ["solve", "--expression", text, "--at", "x=1" if "x -" in text else ""])
        assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_expression_json():
    result = CliRunner().invoke(cli, ["solve", "-e", "tanh(w*x+b)", "--at", "w=0.5,x=1,b=0", "--format", "json"])
    data = json.loads(result.stdout)
    assert {"expression", "at", "value", "gradient", "nodes", "exact", "parts", "steps"} <= set(data)
    assert data["gradient"]["x"] == pytest.approx(0.5 * (1 - 0.46211715726000974**2), rel=1e-12)
    assert [n["op"] for n in data["nodes"]] == ["var", "var", "mul", "var", "add", "tanh"]
    assert data["nodes"][2]["local_derivatives"] == {"n0": 1, "n1": 0.5}


@pytest.mark.parametrize("text,at", [c for c in CASES if any(f in c[0] for f in ("tanh", "sigmoid", "relu", "gelu",
                                                                                 "softplus", "silu", "elu"))])
def test_an_activations_slope_is_worked_out_from_its_rule(text, at):
    """Each activation node's local derivative is written σ′(n) = σ(n)(1 − σ(n)) = … = value, and
    that value is the activation's slope at the input's value (a 40-digit central difference)."""
    sol = solve_expression(text, parse_assignments(at))
    step = expression_steps(sol)[1]
    by_id = {n.id: n for n in sol.nodes}
    worked = {}
    for line in step.text.splitlines():
        found = re.match(r"\s+with ∂(n\d+)/∂(\S+) = (\S+)′\(\S+\) = (.*)", line)
        if found:
            worked[found[1]] = (found[2], found[3], found[4])
    users = [n for n in sol.nodes if n.op in activations.ELEMENTWISE]
    assert users and {n.id for n in users} == set(worked)
    for node in users:
        _, _, chain = worked[node.id]
        shown = sp.Float(chain.split(", as ")[0].split(" = ")[-1].replace("−", "-"))
        x = by_id[node.inputs[0]].value
        if kinks.activation_kink(node.op, x) is not None:
            continue  # at the corner the slope is a convention, not a limit (tests/test_kinks.py)
        f = activations.ELEMENTWISE[node.op].expr
        h = sp.Rational(1, 10**15)
        difference = (f.xreplace({activations.z: x + h}) - f.xreplace({activations.z: x - h})) / (2 * h)
        assert abs(shown - sp.N(difference, 40)) < 1e-5 * max(1, abs(shown)), (node.op, chain)
        assert chain.count(" = ") >= 1  # the rule, then its value: not a bare number

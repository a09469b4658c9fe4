"""Expression graphs beyond tests/test_expression_graph.py: --at names are declared (so `wx`
means w·x), and values too large to print are refused before they are computed."""

from __future__ import annotations

import re
import time

import pytest
import sympy as sp

from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.engine.expression import parse_assignments, solve_expression
from backprop_tutor.engine.parsing import parse_expression
from backprop_tutor.worked.expression import expression_steps


def test_names_given_in_at_split_a_concatenation():
    sol = solve_expression("wx + b", parse_assignments("w=0.5,x=-2,b=0.1"))
    assert sol.gradient == {"w": -2, "x": sp.Rational(1, 2), "b": 1}
    assert [n.op for n in sol.nodes] == ["var", "var", "mul", "var", "add"]


def test_e_is_a_variable_when_at_gives_it():
    sol = solve_expression("e*x", parse_assignments("e=2,x=3"))
    assert sol.value == 6 and sol.gradient == {"e": 3, "x": 2}
    assert solve_expression("e^x", parse_assignments("x=0")).gradient == {"x": 1}  # otherwise Euler's e


@pytest.mark.parametrize("text,at,message", [
    ("xy + z", "x=1,y=2", "--at: no value for 'z'; give it one, e.g. z=0.5 in --at"),
    ("x + b", "x=1", "--at: no value for 'b'; give it one, e.g. b=0.5 in --at"),
    ("x", "x=1,y=2", "--at: 'y' is not in the expression; leave it out"),
    ("x^y", "x=10,y=100000", "x^y at node n2: a number that large"),
    ("exp(x)", "x=10^999", "exp(x) at these values (node n1) is a number too large"),
    ("ln(x)*y", "x=0,y=1", "not defined at these values"),
    ("tanh(w*x+", "w=1,x=1", "ends too early"),
])
def test_clear_errors(text, at, message):
    start = time.perf_counter()
    with pytest.raises(AnswerFormatError, match=re.escape(message)):
        solve_expression(text, parse_assignments(at))
    assert time.perf_counter() - start < 3


def test_at_pairs_split_outside_brackets_only():
    assert parse_assignments("w=max(1, 2),x=min(3,4)") == {"w": 2, "x": 3}
    with pytest.raises(AnswerFormatError, match="out of range"):
        parse_assignments("x=1e5000")


TIES = [("max(x, y)", "x=1,y=1", {"x": 1, "y": 0}), ("min(x, y)", "x=1,y=1", {"x": 1, "y": 0}),
        ("max(x, y, z)", "x=2,y=2,z=2", {"x": 1, "y": 0, "z": 0}), ("relu(x)", "x=0", {"x": 0}),
        ("abs(x)", "x=0", {"x": 0}), ("max(x, y)*x", "x=-1,y=-1", {"x": -2, "y": 0})]


@pytest.mark.parametrize("text,at,gradient", TIES)
def test_ties_route_to_the_first_argument(text, at, gradient):
    assert solve_expression(text, parse_assignments(at)).gradient == gradient


SIGNS = ["x - -3", "x*-3 + y", "-(x - y)*(-z)", "x + y*(-0.1)", "-x^2 - y", "max(-x, y) - min(x, -y)"]


@pytest.mark.parametrize("text", SIGNS)
def test_negative_numbers_are_printed_once_and_gradients_match_sympy(text):
    values = parse_assignments("x=-0.5,y=0.25,z=-2")
    expr = parse_expression(text)
    values = {k: v for k, v in values.items() if k in {s.name for s in expr.free_symbols}}
    sol = solve_expression(text, values)
    for step in expression_steps(sol):
        assert not re.search(r"\+ -|\+ −|--|−−|-0\.0\b|−0\.0\b", step.text), step.text
    point = {s: values[s.name] for s in expr.free_symbols}
    for s in expr.free_symbols:
        assert sp.N(sol.gradient[s.name] - sp.diff(expr, s).xreplace(point), 40) == 0

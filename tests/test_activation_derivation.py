"""Issue 12, point 12: an activation's derivative is derived as a teacher writes it (chain,
product, quotient rule), and every line shown is SymPy's derivative, written another way."""

from __future__ import annotations

import json

import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine.activation import solve_activation
from backprop_tutor.engine.activations import ELEMENTWISE, z
from backprop_tutor.engine.derivations import DERIVATIONS, expanded
from backprop_tutor.worked.activation import activation_steps
from backprop_tutor.worked.notation import formula

# z on one side of a kink: a Piecewise in z > 0 settles to its branch with these assumptions.
_SIDE = {sp.true: z, z > 0: sp.Symbol("z", positive=True), z < 0: sp.Symbol("z", negative=True)}

LINES = [(name, i, branch, line) for name, branches in DERIVATIONS.items()
         for i, branch in enumerate(branches) for line in branch.lines]


def test_every_activation_is_derived():
    assert set(DERIVATIONS) == set(ELEMENTWISE)


@pytest.mark.parametrize("name, i, branch, line", LINES, ids=[f"{n}-{i}-{k}" for k, (n, i, _, _) in enumerate(LINES)])
def test_every_line_is_sympys_derivative(name, i, branch, line):
    side = _SIDE[branch.condition]
    act = ELEMENTWISE[name]
    assert sp.simplify(expanded(branch.start).subs(z, side) - act.expr.subs(z, side)) == 0  # the f being differentiated
    assert sp.simplify(expanded(line.expr).subs(z, side) - act.derivative.subs(z, side)) == 0


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_the_worked_solution_shows_the_derivation_not_sympys_answer(name):
    steps = activation_steps(solve_activation(name, sp.Rational(3, 10)))
    derivation = next(s for s in steps if s.title == "Its derivative, step by step")
    assert "SymPy" not in derivation.text
    for branch in DERIVATIONS[name]:
        for line in branch.lines:
            assert line.reason in derivation.text
            assert formula(line.expr) in derivation.text
            assert formula(line.expr, True) in derivation.latex


def test_sigmoid_goes_from_the_quotient_to_the_textbook_form():
    text = next(s.text for s in activation_steps(solve_activation("sigmoid", sp.Rational(1, 2)))
                if s.title == "Its derivative, step by step")
    assert "chain rule" in text
    assert "σ′(z) = e^(−z)/((1 + e^(−z))²)" in text
    assert text.rstrip().endswith("σ′(z) = σ(z)·(1 − σ(z))")


def test_tanh_uses_the_quotient_rule():
    text = next(s.text for s in activation_steps(solve_activation("tanh", sp.Rational(1, 2)))
                if s.title == "Its derivative, step by step")
    assert "quotient rule" in text and text.rstrip().endswith("tanh′(z) = 1 − tanh(z)²")


@pytest.mark.parametrize("template", ["activation_derivative_symbolic", "activation_derivative_at_point"])
def test_tutor_solve_shows_the_derivation(template):
    result = CliRunner().invoke(cli, ["solve", template, "--seed", "5", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    step = next(s for s in data["steps"] if s["title"] == "Its derivative, step by step")
    branches = DERIVATIONS[data["activation"]]
    assert all(formula(line.expr) in step["text"] for b in branches for line in b.lines)

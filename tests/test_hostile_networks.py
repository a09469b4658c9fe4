"""Issue 13, points 6 and 7: hostile network files end in one line and exit 2, quickly; and the
cost of a deep network grows like backprop (linearly in the layers)."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli

LIMITS = "use 0 or numbers between 1e-100 and 1000 in size"


def one_unit(weight: str = "0.1", *, target: str = "0.5", loss: str = "half_sse", x: str = "1") -> str:
    return (f"input: [{x}]\ntarget: [{target}]\nlayers:\n  - activation: sigmoid\n    weights: [[{weight}]]\n"
            f"loss: {loss}\nlearning_rate: 0.5\n")


def chain(layers: int) -> str:
    rows = "".join("  - {activation: sigmoid, weights: [[0.5]], bias: [0.1]}\n" for _ in range(layers))
    return f"input: [0.5]\ntarget: [0.2]\nlayers:\n{rows}loss: half_sse\nlearning_rate: 0.5\n"


ROW = "[" + ", ".join(["0.1"] * 1000) + "]"
ALIAS_BOMB = (f"input: &x {ROW}\ntarget: [0.5]\nlayers:\n  - activation: sigmoid\n    weights: [{', '.join(['*x'] * 1000)}]\n"
              "loss: half_sse\nlearning_rate: 0.5\n")
W = "layers[0].weights[0][0]"

HOSTILE = [
    ("divide-by-zero", one_unit("'1/0'"), f"{W}: 1/0 divides by zero; write a number, like 0.25 or '1/3'"),
    ("exponent-hang", one_unit("'1e-99999999'"), f"{W}: 1e-99999999 is out of range; {LIMITS}"),
    ("exponent-100000", one_unit("'1e-100000'"), f"{W}: 1e-100000 is out of range; {LIMITS}"),
    ("exponent-5000", one_unit("'1e-5000'"), f"{W}: 1e-5000 is out of range; {LIMITS}"),
    # unquoted, a float cannot hold them (0.0 and inf): read from their text all the same
    ("unquoted-1e-5000", one_unit("1e-5000"), f"{W}: 1e-5000 is out of range; {LIMITS}"),
    ("unquoted-1e5000", one_unit("-1e5000"), f"{W}: -1e5000 is out of range; use numbers between −1000 and 1000"),
    ("huge-exponent", one_unit("'1e99999999'"), f"{W}: 1e99999999 is out of range; use numbers between −1000 and 1000"),
    ("5000-digit-integer", one_unit("1" * 5000), "past a limit: a number longer than 4300 digits (the limit); quote it if it is meant as text"),
    ("5000-digit-fraction", one_unit("'1/" + "7" * 5000 + "'"),
     f"{W}: 1/7777777777777777777777777... has more than 50 digits; use at most 50"),
    ("nested-1000", one_unit("[" * 1000 + "1" + "]" * 1000),
     "past a limit: collections nested more than 100 deep (the limit)"),
    ("alias-bomb", ALIAS_BOMB,
     "past a limit: its aliases expand to more than 100,000 values (the limit)"),
    ("bce-output-exactly-1", one_unit("200", target="0.5", loss="bce"),
     "a1[0] = 1.00 is within 1e-40 of 1: bce takes ln o and ln(1 − o), which lose every digit there; "
     "use smaller weights or inputs"),
    ("bce-nudge-reaches-1", one_unit("117.05", target="0.5", loss="bce"),
     "a1[0] = 1.00 is within 1e-40 of 1: bce takes ln o and ln(1 − o), which lose every digit there; "
     "use smaller weights or inputs"),
]


@pytest.mark.parametrize("name,text,message", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_network_gets_one_line_quickly(tmp_path, name, text, message):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["solve", "--network", str(path)], catch_exceptions=False)
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {message}\n"


def test_decimal_overflow_is_a_message(tmp_path):
    """∂L/∂o of bce at an output of 10^−434294481 is 10^434294481: no decimal can print it."""
    path = tmp_path / "overflow.yaml"
    path.write_text("input: [1000]\ntarget: [1]\nlayers:\n  - {activation: identity, weights: [[1000]]}\n"
                    "  - {activation: identity, weights: [[1000]]}\n  - {activation: sigmoid, weights: [[-1000]]}\n"
                    "loss: bce\nlearning_rate: 0.5\n")
    result = CliRunner().invoke(cli, ["solve", "--network", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}: a3[0] = 5.60e-434294481904 is within 1e-40 of 0: bce takes")


def test_tiny_numbers_within_the_limit_are_exact(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(one_unit("'1e-100'"))
    result = CliRunner().invoke(cli, ["solve", "--network", str(path), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0


def _solve_seconds(tmp_path, layers: int) -> float:
    path = tmp_path / f"chain{layers}.yaml"
    path.write_text(chain(layers))
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["solve", "--network", str(path)], catch_exceptions=False)
    assert result.exit_code == 0
    return time.perf_counter() - start


def test_a_chain_of_one_unit_layers_costs_linearly(tmp_path):
    _solve_seconds(tmp_path, 20)  # imports and caches paid once
    small, large = _solve_seconds(tmp_path, 100), _solve_seconds(tmp_path, 400)
    assert large <= 4 * small + 2.0, (small, large)


@pytest.mark.parametrize("expression,node", [("1/(cosh(w)^2-sinh(w)^2-1)", "1/(cosh(w)² − sinh(w)² − 1)", ),
                                             ("(cosh(w)^2-sinh(w)^2-1)^(-2)", "(cosh(w)² − sinh(w)² − 1)⁻²")])
def test_division_by_an_unsimplified_zero_is_not_defined(expression, node):
    """Not −1.5×10¹⁶⁴ with a zero gradient: the divisor is exactly 0 once simplified."""
    result = CliRunner().invoke(cli, ["solve", "--expression", expression, "--at", "w=0.5"], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"{node} is not defined at these values" in result.stderr
    assert "division by zero, the divisor simplifies to 0" in result.stderr
    assert result.stderr.count("\n") == 1


def test_functions_nested_past_the_limit_are_refused_up_front():
    """tanh nested 20 deep took 25 s, 49 deep 283 s: refused at once, the limit named."""
    nested = "tanh(" * 20 + "w" + ")" * 20
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["solve", "--expression", nested, "--at", "w=0.5"], catch_exceptions=False)
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2
    assert result.stderr == (f"Error: --expression {nested!r}: functions nested 20 deep; `tutor solve --expression` "
                             "works through functions nested at most 8 deep\n")


def test_functions_nested_to_the_limit_are_solved():
    nested = "tanh(" * 8 + "w" + ")" * 8
    result = CliRunner().invoke(cli, ["solve", "--expression", nested, "--at", "w=0.5"], catch_exceptions=False)
    assert result.exit_code == 0

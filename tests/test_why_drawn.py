"""`tutor why`, issue 14: the limit drawn (L(w), the nudge table's secants, the tangent) and
∂L/∂w factor by factor; the product of the factors checked against a 50-digit central finite
difference of L written out whole (not the backprop engine)."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from click.testing import CliRunner
from rich.console import Console

from backprop_tutor.cli.app import cli
from backprop_tutor.cli.why_drawn import lines_of
from backprop_tutor.cli.why_view import render
from backprop_tutor.engine import activations
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.learner import why
from backprop_tutor.learner.why import CHOICES, lesson

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CASES = [("tanh", 3, 80), ("silu", 10, 120), ("sigmoid", 4, 80), ("step", 1, 120)]


def shown(result, width: int) -> str:
    """The lesson as a terminal of `width` columns without colour shows it."""
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, markup=False, emoji=False, highlight=False).print(render(result))
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


@pytest.mark.parametrize("activation, seed, width", CASES)
def test_golden_terminal_output(activation, seed, width):
    text = shown(lesson(activation, seed), width)
    path = GOLDEN / f"why-{activation}-seed{seed}-{width}.txt"
    if os.environ.get("TUTOR_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    assert max(len(line) for line in text.splitlines()) <= width


def test_the_secant_slopes_printed_are_the_nudge_table_ratios():
    result = lesson("silu", 10)
    text = shown(result, 80)
    printed = re.findall(r"secant from w to w \+ ([0-9.]+): slope (−?[0-9.]+)", text)
    assert [h for h, _ in printed] == ["0.1", "0.01", "0.001", "0.0001"]
    for (h, slope), nudge in zip(printed, result.nudges):
        assert sp.Rational(h) == nudge.h
        assert slope == num.pretty(nudge.ratio, num.KEY_DIGITS)  # as the table prints it
        assert f"   {slope}   " in text  # … and the table does
    assert [line.slope for line in lines_of(result)] == [n.ratio for n in result.nudges] + [result.derivative]
    assert f"tangent at w: slope ∂L/∂w = {num.pretty(result.derivative, num.KEY_DIGITS)}" in text


def loss_function(result):
    """L(w) = ½(t − (v·f(w·x + b) + c))² as an mpmath function, written out whole."""
    net = result.network
    first, second = net.layers
    w = sp.Symbol("w", real=True)
    f = activations.ELEMENTWISE[result.activation].expr.xreplace({activations.z: w * net.input[0] + first.bias[0]})
    return sp.lambdify(w, sp.Rational(1, 2) * (net.target[0] - (second.weights[0][0] * f + second.bias[0])) ** 2,
                       "mpmath")


@pytest.mark.parametrize("activation", [a for a in CHOICES if a != "step"])
@pytest.mark.parametrize("seed", [0, 3])
def test_the_product_of_the_factors_is_the_derivative_and_a_central_difference(activation, seed):
    result = lesson(activation, seed)
    product = sp.Mul(*[f.value for f in result.factors])
    assert abs(product - result.derivative) <= 1e-40 * abs(result.derivative)
    L = loss_function(result)
    with mpmath.workdps(50):
        w, h = mpmath.mpf(str(result.weight)), mpmath.mpf("1e-15")
        central = (L(w + h) - L(w - h)) / (2 * h)
    assert abs(float(central) - float(product)) <= 1e-9 * abs(float(product))
    # the factors as printed multiply to ∂L/∂w as printed
    printed = [float(num.pretty(f.value).replace(num.MINUS, "-")) for f in result.factors]
    assert float(sp.Mul(*printed)) == pytest.approx(float(result.derivative), rel=1e-4)
    assert [f.symbol for f in result.factors][::3] == ["o − t", "x"]


def saturated_sigmoid():
    """σ at z = 4.5: σ′ = 0.011, while o − t, w⁽²⁾ and x are all far from 0."""
    network = network_from_dict({
        "name": "saturated", "input": ["1.5"], "target": ["-1"],
        "layers": [{"activation": "sigmoid", "weights": [["1"]], "bias": ["3"]},
                   {"activation": "identity", "weights": [["2"]], "bias": ["0"]}],
        "loss": "half_sse", "learning_rate": "1/2"}, "test")
    return why._build("sigmoid", 0, network, solve_network(network))


def test_the_small_factor_sentence_names_a_saturated_unit():
    result = saturated_sigmoid()
    small = result.small_factor
    assert small == result.factors[2] and small.symbol == "σ′(z⁽¹⁾)"
    assert 0.01 < small.value < 0.02
    flat = " ".join(shown(result, 80).split())
    assert (f"σ′(z⁽¹⁾) = {num.pretty(small.value)} is what makes ∂L/∂w small: the unit is saturated: "
            "sigmoid is nearly flat at z⁽¹⁾ = 4.5") in flat
    assert "σ′(z⁽¹⁾) = σ(z⁽¹⁾)·(1 − σ(z⁽¹⁾)) = 0.989013·(1 − 0.989013)" in flat  # the learner's own rule


def test_a_drawn_seed_with_a_small_slope_says_so_and_a_large_one_says_none_is_small():
    assert lesson("silu", 10).small_factor.symbol == "silu′(z⁽¹⁾)"
    assert lesson("tanh", 3).small_factor is None
    assert "No factor is small" in " ".join(shown(lesson("tanh", 3), 80).split())
    step = lesson("step", 1)
    assert step.small_factor.symbol == "step′(z⁽¹⁾)" and step.small_factor.value == 0
    assert "step′(z⁽¹⁾) = 0 is what makes ∂L/∂w zero" in " ".join(shown(step, 80).split())


@pytest.mark.parametrize("columns", ["80", "120"])
def test_piped_the_lesson_is_plain_text_and_the_drawing_fits_80_columns(columns):
    result = CliRunner().invoke(cli, ["why", "--seed", "3"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stdout
    lines = result.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.strip() == "L"))
    drawing = lines[start:start + 24]
    assert any("└" in line for line in drawing) and max(len(line) for line in drawing) <= 80
    assert "T tangent at w: slope ∂L/∂w =" in result.stdout


def test_in_a_terminal_the_drawing_is_coloured():
    result = CliRunner().invoke(cli, ["why", "--seed", "3"], env={"COLUMNS": "100", "FORCE_COLOR": "1",
                                                                  "TERM": "xterm-256color"})
    assert "\x1b[" in result.stdout
    plain = ANSI.sub("", result.stdout)
    assert max(len(line) for line in plain.splitlines()) <= 100


def test_json_has_the_factors():
    data = json.loads(CliRunner().invoke(cli, ["why", "--seed", "3", "--format", "json"]).stdout)
    assert [f["symbol"] for f in data["factors"]] == ["o − t", "w⁽²⁾", "tanh′(z⁽¹⁾)", "x"]
    assert all(set(f) == {"symbol", "value", "meaning", "working"} for f in data["factors"])
    product = 1.0
    for f in data["factors"]:
        product *= f["value"]
    assert product == pytest.approx(data["derivative"], rel=1e-12)
    assert data["small_factor"] is None
    assert data["factors"][2]["working"].startswith("tanh′(z⁽¹⁾) = 1 − tanh(z⁽¹⁾)² = ")


def test_the_png_has_the_curve_the_secants_and_the_tangent():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from backprop_tutor.cli import why_view

    result = lesson("tanh", 3)
    figure = why_view.figure_of(result)
    try:
        lines = figure.axes[2].get_lines()
        assert len(lines) == 1 + len(result.nudges) + 1  # the curve, the secants, the tangent
        labels = [line.get_label() for line in lines]
        assert labels[0] == "L(w)" and labels[-1].startswith("tangent at w")
        for line, nudge in zip(lines[1:], result.nudges):
            xs, ys = line.get_data()
            assert (ys[-1] - ys[0]) / (xs[-1] - xs[0]) == pytest.approx(float(nudge.ratio), rel=1e-9)
    finally:
        plt.close(figure)

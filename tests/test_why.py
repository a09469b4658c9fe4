"""`tutor why`: the nudge ratio becomes the derivative, descent lowers the loss, step does not
move; checked against SymPy's own derivative of the whole loss (not the backprop engine)."""

from __future__ import annotations

import json
import sys

import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.engine import activations
from backprop_tutor.cli import learner as cli_learner
from backprop_tutor.cli.app import cli
from backprop_tutor.learner.why import CHOICES, DESCENT_STEPS, lesson

LEARNING = [name for name in CHOICES if name != "step"]


def oracle_derivative(result) -> sp.Float:
    """∂L/∂w by sympy.diff of L(w) = ½(t − (v·f(w·x + b) + c))², written out whole."""
    w = sp.Symbol("w", real=True)
    net = result.network
    first, second = net.layers
    f = activations.ELEMENTWISE[result.activation].expr.xreplace({activations.z: w * net.input[0] + first.bias[0]})
    loss = sp.Rational(1, 2) * (net.target[0] - (second.weights[0][0] * f + second.bias[0])) ** 2
    return sp.N(sp.diff(loss, w).subs(w, first.weights[0][0]), 40)


@pytest.mark.parametrize("activation", LEARNING)
@pytest.mark.parametrize("seed", [0, 5])
def test_the_nudge_ratio_converges_to_the_derivative(activation, seed):
    result = lesson(activation, seed)
    derivative = oracle_derivative(result)
    assert abs(result.derivative - derivative) <= 1e-30 * max(1, abs(derivative))
    assert [str(n.h) for n in result.nudges] == ["1/10", "1/100", "1/1000", "1/10000"]
    errors = [abs(n.ratio - derivative) for n in result.nudges]
    assert all(later < earlier / 5 for earlier, later in zip(errors, errors[1:])), errors  # shrinks like h
    assert errors[-1] < 1e-3 * max(1, abs(derivative))
    assert abs(derivative) > 0.01


@pytest.mark.parametrize("activation", LEARNING)
def test_gradient_descent_lowers_the_loss_at_every_step(activation):
    result = lesson(activation, 2)
    losses = [step.loss for step in result.descent]
    assert len(losses) == DESCENT_STEPS + 1
    assert all(b < a for a, b in zip(losses, losses[1:]))
    first, second = result.descent[:2]
    assert second.weight == pytest.approx(float(first.weight - result.network.learning_rate * first.gradient), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_step_has_derivative_zero_ratio_zero_and_descent_does_not_move(seed):
    result = lesson("step", seed)
    assert result.derivative == 0 and oracle_derivative(result) == 0
    assert [n.ratio for n in result.nudges] == [0, 0, 0, 0]
    assert all(abs(step.weight - result.weight) < 1e-45 for step in result.descent)  # w never moves
    assert len({step.loss for step in result.descent}) == 1
    assert result.loss > 0  # there was something to learn


def test_the_text_lesson_shows_table_descent_and_the_two_sentences():
    result = CliRunner().invoke(cli, ["why", "--seed", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "1. Nudge w by h and watch the loss" in out
    assert "ratio (L(w+h) − L(w))/h" in out and "|ratio − ∂L/∂w|" in out
    assert "2. Gradient descent on w: w ← w − η·∂L/∂w, η = 0.5, 20 steps" in out
    assert "████" in out  # the chart
    flat = " ".join(out.split())
    assert "Why: the derivative ∂L/∂w says which way and how fast the loss changes when w moves" in flat
    assert "Gradient descent follows it downhill" in flat


def test_the_step_lesson_says_nothing_moves():
    out = " ".join(CliRunner().invoke(cli, ["why", "--activation", "step", "--seed", "1"]).output.split())
    assert "The ratio is 0 for every h" in out
    assert "descent does not move" in out and "nothing learns" in out


def test_same_seed_same_output_and_a_drawn_seed_is_printed():
    runs = [CliRunner().invoke(cli, ["why", "--seed", "4", "--activation", "sigmoid"]).output for _ in range(2)]
    assert runs[0] == runs[1]
    drawn = CliRunner().invoke(cli, ["why", "--format", "json"])
    seed = json.loads(drawn.stdout)["seed"]
    assert f"seed {seed} (repeat with --seed {seed})" in drawn.stderr


def test_json_is_the_documented_object():
    result = CliRunner().invoke(cli, ["why", "--seed", "3", "--format", "json"])
    data = json.loads(result.stdout)
    assert {"weight", "derivative", "nudges", "descent"} <= set(data)
    assert [n["h"] for n in data["nudges"]] == [0.1, 0.01, 0.001, 0.0001]
    assert all(set(n) >= {"h", "ratio"} for n in data["nudges"])
    assert len(data["descent"]) == DESCENT_STEPS + 1 and data["descent"][-1] < data["descent"][0]
    assert data["weight"] == data["network"]["layers"][0]["weights"][0][0]
    assert abs(data["nudges"][-1]["ratio"] - data["derivative"]) < 1e-3 * max(1, abs(data["derivative"]))


def test_plot_writes_a_real_png(tmp_path):
    path = tmp_path / "why.png"
    result = CliRunner().invoke(cli, ["why", "--seed", "3", "--plot", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {path}" in result.stderr


def test_plot_without_matplotlib_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    result = CliRunner().invoke(cli, ["why", "--seed", "3", "--plot", str(tmp_path / "why.png")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: --plot needs matplotlib: pip install 'backprop-tutor[plot]' (or pip install matplotlib)"]


@pytest.mark.parametrize("args, message", [
    (["--activation", "softmax"], "Error: Invalid value for '--activation' / '-a': 'softmax' is not one of"),
    (["--activation", "tanhh"], "Error: Invalid value for '--activation' / '-a': 'tanhh' is not one of"),
    (["--seed", "-1"], "Error: Invalid value for '--seed': -1 is not in the range x>=0."),
    (["--seed", "abc"], "Error: Invalid value for '--seed': 'abc' is not a valid integer range."),
    (["--seed", "1", "--plot", "why.jpg"], "Error: --plot why.jpg: the plot is a PNG; give a file name ending in .png"),
    (["--seed", "1", "--plot", "/no/such/folder/why.png"], "Error: --plot /no/such/folder/why.png: cannot write"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(cli, ["why", *args])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith(message), result.output
    assert "Traceback" not in result.output


def test_the_cli_lists_exactly_the_lessons_activations():
    assert cli_learner._activations() == CHOICES


@pytest.mark.parametrize("command", ["practice", "stats", "why"])
def test_learner_commands_have_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output and f"tutor {command}" in result.output


def test_bank_options_are_spelled_as_on_every_other_command():
    def options(name):
        return {(tuple(p.opts), p.help) for p in cli.commands[name].params if "bank" in p.opts[0]}

    assert options("practice") == options("solve") == options("stats")


def test_the_loss_chart_switches_to_a_log_scale_so_late_steps_stay_visible():
    from backprop_tutor.cli.why_view import _bars

    linear, title = _bars([4, 2, 1])
    assert title == "chart of L" and [len(b) for b in linear] == [20, 10, 5]
    falling = [10.0 ** -k for k in range(0, 20, 2)]  # ten orders of magnitude... and more
    bars, title = _bars(falling)
    assert title == "chart of L (log scale)"
    widths = [len(b.rstrip()) for b in bars]
    assert widths[0] == 20 and all(w > 0 for w in widths)
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]


def oracle_loss(result, w) -> sp.Float:
    """L(w) = ½(t − (v·f(w·x + b) + c))², written out whole and evaluated by SymPy."""
    net = result.network
    first, second = net.layers
    f = activations.ELEMENTWISE[result.activation].expr.xreplace({activations.z: w * net.input[0] + first.bias[0]})
    return sp.N(sp.Rational(1, 2) * (net.target[0] - (second.weights[0][0] * f + second.bias[0])) ** 2, 40)


@pytest.mark.parametrize("activation,seed", [("relu", 3), ("relu", 5), ("tanh", 1)])
def test_descent_stops_once_the_loss_is_below_1e_12_and_says_it_converged(activation, seed):
    result = lesson(activation, seed)
    losses = [step.loss for step in result.descent]
    assert len(losses) < DESCENT_STEPS + 1
    assert losses[-1] < 1e-12 and all(loss >= 1e-12 for loss in losses[:-1])  # stops at the first below
    last = result.descent[-1]
    assert abs(oracle_loss(result, last.weight) - last.loss) <= 1e-30  # a second formulation of L
    out = " ".join(CliRunner().invoke(cli, ["why", "--activation", activation, "--seed", str(seed)]).output.split())
    steps = len(losses) - 1
    assert f"converged after {steps} steps" in out
    assert "descent has converged" in out
    data = json.loads(CliRunner().invoke(cli, ["why", "--activation", activation, "--seed", str(seed),
                                               "--format", "json"]).output)
    assert len(data["descent"]) == steps + 1 and data["descent"][-1] < 1e-12


def test_the_plot_counts_descent_steps_in_whole_steps():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from backprop_tutor.cli import why_view

    figure = why_view.figure_of(lesson("relu", 5))  # 4 steps: matplotlib alone would tick 0, 0.5, 1 …
    try:
        low, high = figure.axes[1].get_xlim()
        ticks = [t for t in figure.axes[1].get_xticks() if low <= t <= high]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    finally:
        plt.close(figure)


def test_a_weighted_sum_that_is_exactly_zero_is_printed_as_0():
    """−0.2·1.5 + 0.3 = 0 exactly; the 50-digit pass has −6.7×10⁻⁵², which the lesson must not print."""
    found = lesson("softplus", 15)
    net = found.network
    w, x, b = net.layers[0].weights[0][0], net.input[0], net.layers[0].bias[0]
    assert w * x + b == 0 and found.z == 0
    output = CliRunner().invoke(cli, ["why", "--activation", "softplus", "--seed", "15"]).output
    assert "z⁽¹⁾ = 0," in output and "with z⁽¹⁾ = 0 put in: softplus′(z⁽¹⁾) = σ(z⁽¹⁾) = 0.5" in output
    assert "×10⁻⁵²" not in output


@pytest.mark.parametrize("activation, seed", [("tanh", 3), ("relu", 1), ("step", 2), ("gelu", 4)])
def test_the_drawn_curve_is_the_loss_of_the_network_with_w_replaced(activation, seed):
    """L(w) across the window comes from the forward pass run again; a whole solution of the
    network with w replaced (the second formulation) gives the same 50-digit loss at every point."""
    from backprop_tutor.engine.solution import solve_network
    from backprop_tutor.learner.why import with_weight

    taught = lesson(activation, seed)
    curve = taught.curve(9)
    assert [w for w, _ in curve] == [taught.window[0] + (taught.window[1] - taught.window[0]) * sp.Rational(k, 8)
                                     for k in range(9)]
    for w, loss in curve:
        assert loss == solve_network(with_weight(taught.network, w)).numeric.loss

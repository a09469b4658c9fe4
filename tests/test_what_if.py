"""`tutor why --what-if`: each experiment shows the effect it claims, asserted on its numbers;
the true gradient is checked against mpmath's own central difference of the loss (not the
engine), the forward passes are counted, and the text is compared with a golden file (the
measured times masked)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import mpmath
import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
import sympy as sp

from backprop_tutor.engine.arithmetic import PRECISE
from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.rules import gradient_of
from backprop_tutor.learner.what_if import W2, STEPS, _with, costs, larger_network, learning_rates, what_if
from backprop_tutor.learner.why import lesson
from backprop_tutor.engine.rules import parameters

SEED = 1  # the tanh lesson whose real descent reaches the bottom of its valley
GOLDEN = Path(__file__).parent / "golden" / "what_if-tanh-seed1.txt"
MEASURED = re.compile(r"^Measured on this machine: .*$", re.M)


@pytest.fixture(scope="module")
def result():
    return what_if("tanh", SEED)


def experiment(result, name):
    return next(e for e in result.experiments if e.name == name)


def test_a_saturated_unit_stalls(result):
    e = experiment(result, "saturated")
    stalled = e.changed[0]
    assert abs(abs(stalled.z) - 6) < 1e-40 and stalled.slope < 1e-4
    assert e.real.change < 0  # the real run learns
    assert abs(stalled.change) < abs(e.real.change) / 10
    assert stalled.losses[0] > 0.1  # there was something to learn


def test_too_large_a_rate_overshoots_and_too_small_crawls(result):
    e = experiment(result, "learning_rate")
    real, large, small = e.real, *e.changed
    assert real.learning_rate == 20 * small.learning_rate
    assert abs(large.learning_rate * e.curvature - 3) < 1e-40  # η = 3/L″
    assert all(b < a for a, b in zip(real.losses, real.losses[1:]))
    assert all(b > a for a, b in zip(large.losses, large.losses[1:]))  # every step lands further off
    assert small.change < 0 and abs(small.change) < abs(real.change)
    assert len(real.losses) == len(large.losses) == len(small.losses) == STEPS + 1


def test_dropping_f_prime_scales_the_gradient_by_exactly_f_prime_and_descends_worse(result):
    e = experiment(result, "drop_slope")
    real, dropped = e.real, e.changed[0]
    assert e.true_gradient == real.gradients[0] and e.dropped_gradient == dropped.gradients[0]
    assert abs(e.dropped_gradient * real.slope - e.true_gradient) <= 1e-45 * abs(e.true_gradient)
    assert abs(e.dropped_gradient) > abs(e.true_gradient)  # tanh′ < 1: the steps are too long
    assert dropped.losses[-1] > real.losses[-1]


def loss_of(network, w):
    """½(t − (v·tanh(w·x + b) + c))², written out in mpmath: not the engine."""
    first, second = network.layers
    x, b = (mpmath.mpf(str(v)) for v in (network.input[0], first.bias[0]))
    v, c, t = (mpmath.mpf(str(u)) for u in (second.weights[0][0], second.bias[0], network.target[0]))
    return (t - (v * mpmath.tanh(w * x + b) + c)) ** 2 / 2


def test_the_true_gradient_is_a_50_digit_central_difference_of_the_loss(result):
    network = result.lesson.network
    real = experiment(result, "drop_slope").real
    with mpmath.workdps(50):
        for w, gradient in list(zip(real.weights, real.gradients))[:3]:
            w = mpmath.mpf(w._mpf_)
            h = mpmath.mpf("1e-20")
            difference = (loss_of(network, w + h) - loss_of(network, w - h)) / (2 * h)
            assert abs(mpmath.mpf(gradient._mpf_) - difference) <= 1e-9 * abs(difference)


def test_nudging_takes_two_forward_passes_per_parameter():
    layers = (2, 4, 3, 1)
    P = sum(n_in * n_out + n_out for n_in, n_out in zip(layers, layers[1:]))
    assert P == len(parameters(larger_network(0, layers))) == 31
    c = costs(0, timed=False, layers=layers)
    assert (c.parameters, c.nudge_passes, c.backprop_forward, c.backprop_backward) == (P, 2 * P, 1, 1)
    assert c.largest_gap < 1e-6  # both computed the same gradients
    assert c.nudge_seconds is None


def test_the_larger_network_counts_and_the_direction_of_the_times(result):
    c = experiment(result, "cost")
    assert c.layers == (2, 16, 16, 1) and c.parameters == 337 and c.nudge_passes == 674
    assert c.nudge_passes > c.backprop_forward + c.backprop_backward
    assert c.nudge_seconds > c.backprop_seconds  # the direction only, never a time


def test_the_text_matches_the_golden_file_with_the_times_masked():
    out = CliRunner().invoke(cli, ["why", "--what-if", "--seed", str(SEED)], env={"COLUMNS": "80"})
    assert out.exit_code == 0, out.output
    text = MEASURED.sub("Measured on this machine: (masked)", out.stdout)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_json_lists_the_experiments_with_their_losses():
    out = CliRunner().invoke(cli, ["why", "--what-if", "--seed", str(SEED), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["seed"] == SEED and data["steps"] == STEPS
    names = [e["name"] for e in data["experiments"]]
    assert names == ["drop_slope", "saturated", "learning_rate", "cost"]
    for e in data["experiments"][:3]:
        assert all(len(run["losses"]) == STEPS + 1 for run in e["runs"])
    assert data["experiments"][3]["nudge_forward_passes"] == 2 * data["experiments"][3]["parameters"]


@pytest.mark.parametrize("args, message", [
    (["--activation", "step"], "--what-if: step has no slope"),
    (["--plot", "x.png"], "leave it out with --what-if"),
])
def test_what_cannot_be_shown_is_one_line_and_exit_2(args, message):
    out = CliRunner().invoke(cli, ["why", "--what-if", "--seed", "1", *args])
    assert out.exit_code == 2 and message in out.output


def test_a_refused_activation_draws_no_seed_first():
    out = CliRunner().invoke(cli, ["why", "--what-if", "--activation", "step"])
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [
        "Error: --what-if: step has no slope to drop or saturate; use one of sigmoid, tanh, relu, leaky_relu, "
        "softplus, elu, silu, gelu, gelu_tanh"]


def test_the_help_has_the_example():
    assert "tutor why --what-if" in CliRunner().invoke(cli, ["why", "--help"]).output


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "gelu"])
def test_the_large_rate_overshoots_at_every_seed(activation):
    """On w⁽²⁾ the loss is a parabola, L″ = (a⁽¹⁾)²: η = 3/L″ multiplies the error by 1 − 3 = −2 at
    each step, so the loss grows fourfold, whatever the seed (a fixed η × 20 on w⁽¹⁾ overshot at
    3 seeds of 10). L″ is checked against a central difference of the engine's gradient."""
    for seed in range(6):
        net = lesson(activation, seed).network
        e = learning_rates(net)
        real, large, small = e.real, *e.changed
        for a, b in zip(large.losses, large.losses[1:]):
            assert abs(b / a - 4) < 1e-30
        assert real.change < 0 and small.change < 0 and abs(small.change) < abs(real.change)
        h = sp.Float("1e-20", 60)
        w2 = net.layers[1].weights[0][0]
        gradient = [Evaluation(_with(net, W2, w2 + d), PRECISE).values(gradient_of(W2), finish=True) for d in (h, -h)]
        assert abs((gradient[0] - gradient[1]) / (2 * h) - e.curvature) < 1e-15

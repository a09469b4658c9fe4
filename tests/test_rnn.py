"""A recurrent cell unrolled two or three steps (docs/formats.md, `recurrent`): every gradient and
every δₜ against a 50-digit central finite difference of the loss, written out here as an
unrolled loop in mpmath without the engine's rules; the two recurrent slips; one-line errors."""

from __future__ import annotations

import random

import mpmath as mp
import pytest
import sympy as sp

from backprop_tutor.engine import slips
from backprop_tutor.engine.entries import values
from backprop_tutor.engine.evaluation import GRADER, Evaluation
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.quantities import QuantityError, parse_network_quantity
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.errors import NetworkError
from backprop_tutor.worked.network import network_steps

DPS = 60
H = mp.mpf("1e-20")

# --- the loss of the unrolled cell, in mpmath, from the specification ------------------------------

F = {"tanh": mp.tanh, "sigmoid": lambda z: 1 / (1 + mp.exp(-z)), "identity": lambda z: z}


def loss(p: dict, nudge_z: tuple[int, mp.mpf] | None = None) -> mp.mpf:
    """hₜ = f(w_x·xₜ + w_h·hₜ₋₁ + b), o = g(w_o·h_T + b_o), L of o against t; `nudge_z` adds to
    one step's z (so that ∂L/∂zₜ = δₜ is a central difference too)."""
    h = p["h0"]
    for t, x in enumerate(p["inputs"], 1):
        z = p["w_x"] * x + p["w_h"] * h + p["b"]
        if nudge_z and nudge_z[0] == t:
            z += nudge_z[1]
        h = F[p["f"]](z)
    o = F[p["g"]](p["w_o"] * h + p["b_o"])
    t = p["t"]
    return {"half_sse": (t - o) ** 2 / 2, "sse": (t - o) ** 2, "mse": (t - o) ** 2,
            "bce": -(t * mp.log(o) + (1 - t) * mp.log(1 - o))}[p["loss"]]


def central(p: dict, name: str) -> mp.mpf:
    up, down = dict(p), dict(p)
    up[name] += H
    down[name] -= H
    return (loss(up) - loss(down)) / (2 * H)


def central_z(p: dict, t: int) -> mp.mpf:
    return (loss(p, (t, H)) - loss(p, (t, -H))) / (2 * H)


def random_cell(rng: random.Random, steps: int, f: str) -> tuple[dict, dict]:
    """A network file's mapping and the same numbers as mpmath values."""
    loss_name = rng.choice(["half_sse", "sse", "mse", "bce"])
    g = "sigmoid" if loss_name == "bce" else rng.choice(["identity", "tanh"])

    def number(low=-1.5, high=1.5) -> str:
        return f"{rng.uniform(low, high):.3f}"

    raw = {"inputs": [number() for _ in range(steps)], "h0": number(-0.5, 0.5), "w_x": number(), "w_h": number(),
           "b": number(-0.5, 0.5), "activation": f, "output": {"w": number(), "b": number(-0.5, 0.5), "activation": g},
           "target": number(0.05, 0.95) if loss_name == "bce" else number()}
    file = {"recurrent": raw, "loss": loss_name, "learning_rate": "0.2"}
    p = {"inputs": [mp.mpf(v) for v in raw["inputs"]], "h0": mp.mpf(raw["h0"]), "w_x": mp.mpf(raw["w_x"]),
         "w_h": mp.mpf(raw["w_h"]), "b": mp.mpf(raw["b"]), "w_o": mp.mpf(raw["output"]["w"]),
         "b_o": mp.mpf(raw["output"]["b"]), "t": mp.mpf(raw["target"]), "f": f, "g": g, "loss": loss_name}
    return file, p


def _mp(value) -> mp.mpf:
    return mp.mpf(str(sp.N(value, 50)))


def _close(engine, reference, rel=1e-9) -> bool:
    return abs(_mp(engine) - reference) <= rel * abs(reference) + mp.mpf("1e-40")


CASES = [(steps, f, seed) for steps in (2, 3) for f in ("tanh", "sigmoid") for seed in range(5)]


@pytest.mark.parametrize("steps, f, seed", CASES)
def test_every_gradient_agrees_with_a_central_difference_of_the_unrolled_loss(steps, f, seed):
    file, p = random_cell(random.Random(f"rnn:{steps}:{f}:{seed}"), steps, f)
    sol = solve_network(network_from_dict(file))
    n, L = sol.numeric, steps + 1
    failures = []
    with mp.workdps(DPS):
        if not _close(n.loss, loss(p)):
            failures.append(f"loss: engine {n.loss}, reference {loss(p)}")
        engine = {"w_x": n.grad_W[1][0][0], "w_h": n.grad_W[1][0][1], "b": n.grad_b[1][0],
                  "w_o": n.grad_W[L][0][0], "b_o": n.grad_b[L][0]}
        for name, value in engine.items():
            if not _close(value, central(p, name)):
                failures.append(f"∂L/∂{name}: engine {value}, central difference {central(p, name)}")
        for t in range(1, steps + 1):
            if not _close(n.delta[t][0], central_z(p, t)):
                failures.append(f"δ{t}: engine {n.delta[t][0]}, central difference {central_z(p, t)}")
        # the update moves each shared weight once, by its summed gradient
        eta = mp.mpf("0.2")
        for name, new in (("w_x", n.W_new[1][0][0]), ("w_h", n.W_new[1][0][1]), ("b", n.b_new[1][0])):
            if not _close(new, p[name] - eta * central(p, name)):
                failures.append(f"{name} after the step: engine {new}")
    assert not failures, f"{file}: " + "; ".join(failures)


def _three_steps() -> dict:
    return {"recurrent": {"inputs": [0.5, -0.3, 0.8], "h0": 0.2, "w_x": 0.9, "w_h": 0.7, "b": 0.1, "activation": "tanh",
                          "output": {"w": 1.3, "b": -0.2}, "target": 0.4},
            "loss": "half_sse", "learning_rate": 0.1}


def _value(evaluation: Evaluation, text: str):
    return values(evaluation, parse_network_quantity(text))


def test_the_recurrent_slips_by_hand():
    """forgot_sum_over_time: the last step's term alone; dropped_recurrent_weight: δₜ without w_h."""
    net = network_from_dict(_three_steps())
    correct = Evaluation(net, rules=GRADER)
    d3, h2, x3 = (_value(correct, q) for q in ("delta3[0]", "a2[0]", "x[2]"))
    last = correct.with_rules(slips.BY_NAME["forgot_sum_over_time"].rules((1,)))
    assert _value(last, "dW1[0][1]") == pytest.approx(float(d3 * h2), rel=1e-12)
    assert _value(last, "dW1[0][0]") == pytest.approx(float(d3 * x3), rel=1e-12)
    assert _value(last, "db1[0]") == pytest.approx(float(d3), rel=1e-12)
    dropped = correct.with_rules(slips.BY_NAME["dropped_recurrent_weight"].rules((1, 2)))
    d2 = d3 * _value(correct, "fprime2[0]")
    assert _value(dropped, "delta2[0]") == pytest.approx(float(d2), rel=1e-12)
    assert _value(dropped, "delta1[0]") == pytest.approx(float(d2 * _value(correct, "fprime1[0]")), rel=1e-12)
    assert [s for s in slips.BY_NAME["dropped_recurrent_weight"].scopes(net)] == [(1,), (2,), (1, 2)]
    assert slips.BY_NAME["forgot_sum_over_time"].scopes(net) == [(1,)]
    assert slips.BY_NAME["forgot_sum_over_time"].scopes(network_from_dict({
        "input": [0.1], "target": [0.2], "layers": [{"activation": "tanh", "weights": [[0.3]]}], "loss": "half_sse",
        "learning_rate": 0.1})) == []


def test_the_worked_solution_writes_the_sum_over_time_out_with_numbers():
    text = "\n".join(step.text for step in network_steps(solve_network(network_from_dict(_three_steps()))))
    assert "z₂ = w_x·x₂ + w_h·h₁ + b = 0.9·(−0.3) + 0.7·0.597982 + 0.1 = 0.248587" in text
    assert ("∂L/∂w_h = δ₃·h₂ + δ₂·h₁ + δ₁·h₀ = 0.213168·0.24359 + 0.140364·0.597982 + 0.0631205·0.2 = "
            "0.0519258 + 0.0839351 + 0.0126241 = 0.148485") in text
    assert "δ₂ = δ₃·w_h·tanh′(z₂) = 0.213168·0.7·0.940664 = 0.140364" in text
    assert "each step back multiplies δ by w_h·tanh′(z) of that step, here 0.658465 and 0.449692" in text


@pytest.mark.parametrize("text, message", [
    ("dW2[0][1]", "every step of a recurrent cell shares W1 and b1"),
    ("W3[0][0]", "every step of a recurrent cell shares W1 and b1"),
    ("b2_new[0]", "every step of a recurrent cell shares W1 and b1"),
])
def test_the_later_steps_have_no_parameters_of_their_own(text, message):
    with pytest.raises(QuantityError, match=message):
        _value(Evaluation(network_from_dict(_three_steps())), text)


def _with(change: dict, top: dict | None = None) -> dict:
    net = _three_steps()
    net["recurrent"] = {k: v for k, v in {**net["recurrent"], **change}.items() if v is not None}
    return {**net, **(top or {})}


@pytest.mark.parametrize("net, message", [
    (_with({"inputs": [0.5]}), "network: recurrent.inputs: expected one input per time step, 2 or 3 of them (the cell "
                               "is unrolled 2 or 3 steps), found 1 input"),
    (_with({"inputs": [0.1, 0.2, 0.3, 0.4]}), "network: recurrent.inputs: expected one input per time step, 2 or 3"),
    (_with({"w_h": None}), "network: recurrent.w_h: missing"),
    (_with({"target": None}), "network: recurrent.target: missing"),
    (_with({"w_x": "a"}), "network: recurrent.w_x: expected a number"),
    (_with({"activation": "softmax"}), "network: recurrent.activation: unknown activation 'softmax'"),
    (_with({"output": {"w": 1, "bias": 0}}), "network: recurrent.output.bias: unknown key"),
    (_with({"steps": 3}), "network: recurrent.steps: unknown key"),
    (_with({}, {"weight_decay": 0.1}), "network: weight_decay: cannot be combined with recurrent"),
    (_with({}, {"optimizer": {"kind": "momentum"}}), "network: optimizer: cannot be combined with recurrent"),
    (_with({}, {"layers": []}), "network: layers: cannot be combined with recurrent"),
    (_with({}, {"loss": "cross_entropy"}), "network: loss: 'cross_entropy' is not a loss of a recurrent network"),
    (_with({}, {"loss": "bce"}), "network: loss: bce needs a sigmoid output"),
    ({"recurrent": [1, 2], "loss": "half_sse", "learning_rate": 0.1}, "network: recurrent: expected a mapping"),
])
def test_bad_recurrent_files_are_one_line_errors(net, message):
    with pytest.raises(NetworkError) as error:
        network_from_dict(net)
    assert str(error.value).startswith(message) and "\n" not in str(error.value), str(error.value)


def test_a_recurrent_file_round_trips():
    net = network_from_dict(_three_steps())
    assert network_from_dict(net.to_json()) == net
    assert net.to_json()["recurrent"]["output"] == {"w": 1.3, "b": -0.2, "activation": "identity"}


def test_practice_shows_the_cell_with_h0_not_a_table_of_layers():
    """A table of the unrolled layers would hide h₀ and the state carried between steps."""
    from rich.console import Console

    from backprop_tutor.bank.folders import Bank
    from backprop_tutor.bank.generate import generate
    from backprop_tutor.cli.practice_view import problem_view

    problem = generate(Bank.open().load("rnn_two_steps_tanh"), 2)
    console = Console(width=100, record=True)
    console.print(problem_view(problem, "", 1, None))
    shown = console.export_text()
    assert "h₀ = " in shown and "z₁ = w_x·x₁ + w_h·h₀ + b" in shown and "W (row j = unit j)" not in shown


def test_dot_says_in_one_line_that_a_recurrent_cell_is_not_drawn(tmp_path):
    from click.testing import CliRunner

    from backprop_tutor.cli.app import cli

    path = tmp_path / "cell.json"
    path.write_text(__import__("json").dumps(_three_steps()), encoding="utf-8")
    result = CliRunner().invoke(cli, ["solve", "--network", str(path), "--format", "dot"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "a recurrent cell's steps are in its worked solution" in result.stderr


def test_the_solution_json_lists_the_cells_parameters_once_not_an_empty_entry_per_step(tmp_path):
    """Steps 2..T share step 1's w_x, w_h and b: their gradients are summed into W1 and b1, and the
    JSON has no W2/b2 … of their own (they were [] before, and a part with the answer "[]")."""
    from click.testing import CliRunner

    from backprop_tutor.cli.app import cli

    path = tmp_path / "cell.json"
    path.write_text(__import__("json").dumps(_three_steps()), encoding="utf-8")
    result = CliRunner().invoke(cli, ["solve", "--network", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    data = __import__("json").loads(result.stdout)
    assert set(data["gradients"]) == set(data["updated"]) == set(data["exact"]["gradients"]) == {"W1", "b1", "W4", "b4"}
    assert [p["id"] for p in data["parts"] if p["id"][0] in "Wb"] == ["W1", "b1", "W4", "b4"]
    assert all(p["answer"] != "[]" for p in data["parts"])

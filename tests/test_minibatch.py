"""Mini-batches (docs/formats.md, `examples`): the batch's loss and gradients against a 50-digit
central finite difference of the mean loss, written out here in mpmath without the engine's
rules; a batch of one equal to the single example; the batch slips; one-line errors."""

from __future__ import annotations

import json
import random

import mpmath as mp
import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine import slips
from backprop_tutor.engine.entries import values
from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.quantities import QuantityError, parse_network_quantity
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.errors import NetworkError
from backprop_tutor.worked.network import network_steps

from test_backprop import _mp_loss_of

DPS = 60
H = mp.mpf("1e-20")

# --- the mean loss in mpmath, from the specification -------------------------------------------
# One example's loss is test_backprop's forward pass in mpmath (written without the engine);
# the batch's is their mean, written out here.

SMOOTH = ("identity", "sigmoid", "tanh", "softplus")


def mean_loss(net: dict, W: list, b: list):
    """L = (1/B) Σₑ Lₑ over the batch's examples."""
    batch = net["examples"]
    return mp.fsum(_mp_loss_of({**net, "input": e["input"], "target": e["target"]}, W, b) for e in batch) / len(batch)


def parameters(net: dict) -> tuple[list, list]:
    W = [[[mp.mpf(w) for w in row] for row in layer["weights"]] for layer in net["layers"]]
    b = [[mp.mpf(v) for v in layer["bias"]] for layer in net["layers"]]
    return W, b


def central(net: dict, kind: str, l: int, index: tuple) -> mp.mpf:
    """(L(p + h) − L(p − h)) / 2h for one weight or bias p, at 60 digits."""
    def moved(h):
        W, b = parameters(net)
        if kind == "W":
            W[l][index[0]][index[1]] += h
        else:
            b[l][index[0]] += h
        return mean_loss(net, W, b)
    return (moved(H) - moved(-H)) / (2 * H)


def random_batch(rng: random.Random, B: int) -> dict:
    sizes = [rng.randint(1, 3) for _ in range(rng.randint(2, 4))]
    loss = rng.choice(["half_sse", "sse", "mse", "bce"])
    acts = [rng.choice(SMOOTH) for _ in sizes[1:]]
    if loss == "bce":
        acts[-1] = "sigmoid"

    def number() -> str:
        return f"{rng.uniform(-1, 1):.2f}"

    def target() -> str:
        return f"{rng.uniform(0.05, 0.95):.2f}" if loss == "bce" else number()

    return {
        "examples": [{"input": [number() for _ in range(sizes[0])], "target": [target() for _ in range(sizes[-1])]}
                     for _ in range(B)],
        "layers": [{"activation": act, "weights": [[number() for _ in range(n_in)] for _ in range(n_out)],
                    "bias": [number() for _ in range(n_out)]}
                   for act, n_in, n_out in zip(acts, sizes, sizes[1:])],
        "loss": loss,
        "learning_rate": "0.3",
    }


def _mp(value) -> mp.mpf:
    return mp.mpf(str(sp.N(value, 50)))


def _close(engine, reference, rel=1e-9) -> bool:
    return abs(_mp(engine) - reference) <= rel * abs(reference) + mp.mpf("1e-40")


@pytest.mark.parametrize("seed", range(12))
def test_batch_gradients_agree_with_central_differences_of_the_mean_loss(seed):
    rng = random.Random(f"minibatch:{seed}")
    B = 1 + seed % 4
    net = random_batch(rng, B)
    sol = solve_network(network_from_dict(net))
    n = sol.numeric
    failures = []
    with mp.workdps(DPS):
        assert _close(n.loss, mean_loss(net, *parameters(net))), "the batch's loss"
        for l, layer in enumerate(net["layers"]):
            for j, row in enumerate(layer["weights"]):
                for k in range(len(row)):
                    if not _close(n.grad_W[l + 1][j][k], central(net, "W", l, (j, k))):
                        failures.append(f"dW{l + 1}[{j}][{k}]: engine {n.grad_W[l + 1][j][k]}")
                if not _close(n.grad_b[l + 1][j], central(net, "b", l, (j,))):
                    failures.append(f"db{l + 1}[{j}]: engine {n.grad_b[l + 1][j]}")
        # each example's own gradient is the derivative of its own loss
        for e in range(B):
            alone = {**net, "examples": [net["examples"][e]]}
            for l, layer in enumerate(net["layers"]):
                if not _close(n.examples[e].grad_W[l + 1][0][0], central(alone, "W", l, (0, 0))):
                    failures.append(f"e{e + 1}.dW{l + 1}[0][0]")
    assert not failures, f"seed {seed}, B = {B}, {net['loss']}: " + "; ".join(failures)


def test_the_update_and_loss_after_use_the_batch_gradient():
    net = random_batch(random.Random("update"), 3)
    sol = solve_network(network_from_dict(net))
    n = sol.numeric
    eta = mp.mpf("0.3")
    with mp.workdps(DPS):
        W, b = parameters(net)
        W_new = [[[w - eta * _mp(n.grad_W[l + 1][j][k]) for k, w in enumerate(row)] for j, row in enumerate(Wl)]
                 for l, Wl in enumerate(W)]
        b_new = [[v - eta * _mp(n.grad_b[l + 1][j]) for j, v in enumerate(bl)] for l, bl in enumerate(b)]
        assert _close(n.W_new[1][0][0], W_new[0][0][0])
        assert _close(n.loss_after, mean_loss(net, W_new, b_new))
        check = sol.nudges[0]  # the nudge ratio of the batch's loss
        h = mp.mpf(str(check.rows[-1][0]))
        W_moved, _ = parameters(net)
        W_moved[-1][0][0] += h
        assert _close(check.rows[-1][2], (mean_loss(net, W_moved, b) - mean_loss(net, W, b)) / h)


# --- a batch of one is the single example ------------------------------------------------------

def test_a_batch_of_one_equals_the_single_example(example):
    single = solve_network(network_from_dict(example))
    as_batch = {k: v for k, v in example.items() if k not in ("input", "target")}
    as_batch["examples"] = [{"input": example["input"], "target": example["target"]}]
    batch = solve_network(network_from_dict(as_batch))
    s, b = single.numeric, batch.numeric
    for name in ("loss", "grad_W", "grad_b", "W_new", "b_new", "loss_after"):
        assert getattr(s, name) == getattr(b, name), name
    for name in ("z", "a", "delta", "grad_W"):
        assert getattr(s, name) == getattr(b.examples[0], name), name
    assert single.nudges == batch.nudges
    evaluation = Evaluation(batch.network)
    assert values(evaluation, parse_network_quantity("e1.delta2")) == s.delta[2]


# --- slips ------------------------------------------------------------------------------------

def test_the_batch_slips():
    net = network_from_dict(random_batch(random.Random("slips"), 3))
    evaluation = Evaluation(net)
    dW = parse_network_quantity("dW1[0][0]")
    mean = values(evaluation, dW)
    for name, expected in (("summed_not_averaged", 3 * mean),
                           ("one_example_only", values(evaluation, parse_network_quantity("e1.dW1[0][0]")))):
        slip = slips.BY_NAME[name]
        scopes = slip.scopes(net)
        assert scopes[-1] == tuple(range(1, len(net.layers) + 1))
        slipped = evaluation.with_rules(slip.rules(scopes[-1]))
        assert abs(values(slipped, dW) - expected) < sp.Float("1e-45")
        assert "mean" in slips.feedback(name) or "average" in slips.feedback(name)
    single = network_from_dict({**{k: v for k, v in net.to_json().items() if k != "examples"},
                                "input": [0.1] * len(net.input), "target": [0.2] * len(net.target)})
    assert slips.BY_NAME["summed_not_averaged"].scopes(single) == []


# --- the worked solution and the solution JSON -------------------------------------------------

def _two_examples() -> dict:
    return {"examples": [{"input": [0.5, -0.3], "target": [0.2]}, {"input": [-0.4, 0.8], "target": [0.7]}],
            "layers": [{"activation": "sigmoid", "weights": [[0.3, -0.6]], "bias": [0.1]}],
            "loss": "half_sse", "learning_rate": 0.5}


def test_the_worked_solution_writes_the_mean_out():
    sol = solve_network(network_from_dict(_two_examples()))
    text = "\n".join(f"{s.title}\n{s.text}" for s in network_steps(sol))
    assert "Example 1: forward pass, layer 1" in text and "Example 2: gradients of layer 1" in text
    assert "L = ½(L₁ + L₂) = ½(0.0823667 + 0.05199) = 0.0671784" in text
    assert "∂L/∂w⁽¹⁾₀₀ = ½(∂L₁/∂w⁽¹⁾₀₀ + ∂L₂/∂w⁽¹⁾₀₀) = ½(0.0484594 + 0.0303117) = 0.0393855" in text
    assert "w⁽¹⁾₀₀ = 0.3 − 0.5·0.0393855 = 0.280307" in text


def test_solve_json_has_every_example(tmp_path):
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(_two_examples()), encoding="utf-8")
    result = CliRunner().invoke(cli, ["solve", "--network", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["network"]["examples"][1] == {"input": [-0.4, 0.8], "target": [0.7]}
    assert "input" not in data["network"] and "activations" not in data
    first, second = data["examples"]
    assert data["gradients"]["W1"][0][0] == pytest.approx((first["gradients"]["W1"][0][0]
                                                           + second["gradients"]["W1"][0][0]) / 2, rel=1e-15)
    assert data["loss"] == pytest.approx((first["loss"] + second["loss"]) / 2, rel=1e-15)


# --- one-line errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"input": [0.1, 0.2]}, "network: examples: given with input; give either input and target (one example) or "
                            "examples (a mini-batch), not both"),
    ({"examples": []}, "network: examples: expected a non-empty list of {input: [...], target: [...]}"),
    ({"examples": [[0.1, 0.2]]}, "network: examples[0]: expected a mapping with input and target"),
    ({"examples": [{"input": [0.1, 0.2]}]}, "network: examples[0].target: missing; add `target:"),
    ({"examples": [{"input": [0.1, 0.2], "target": [0.5], "weight": 1}]}, "network: examples[0].weight: unknown key"),
    ({"examples": [{"input": [0.1, 0.2], "target": [0.5]}, {"input": [0.1], "target": [0.5]}]},
     "network: examples[1].input: has 1 entry but the first layer's rows have 2"),
    ({"examples": [{"input": [0.1, 0.2], "target": [0.5]}, {"input": [0.1, 0.3], "target": [0.5, 0.1]}]},
     "network: examples[1].target: has 2 entries but the output layer has 1 unit"),
    ({"examples": [{"input": [0.1, "x"], "target": [0.5]}]}, "network: examples[0].input[1]: expected a number"),
    ({"examples": [{"input": [0.1, 0.2], "target": [0.5]}, {"input": [0.1, 0.2], "target": "a"}]},
     "network: examples[1].target: expected a non-empty list of numbers"),
])
def test_bad_examples_are_one_line_errors(change, message):
    net = {**_two_examples(), **change}
    with pytest.raises(NetworkError) as error:
        network_from_dict(net)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_bce_targets_of_every_example_are_checked():
    net = {**_two_examples(), "loss": "bce"}
    net["examples"][1]["target"] = [1.5]
    with pytest.raises(NetworkError, match=r"examples\[1\].target: is outside \[0, 1\]"):
        network_from_dict(net)


def test_bad_examples_on_the_command_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("examples: []\nlayers: [{activation: sigmoid, weights: [[0.1]]}]\nloss: half_sse\n"
                    "learning_rate: 0.5\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["solve", "--network", str(path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "examples" in result.output


@pytest.mark.parametrize("text, message", [
    ("z1[0]", "this network has a batch of 2 examples; name one, e.g. e1.z1[0]"),
    ("e3.delta1[0]", "the batch has examples e1 to e2"),
    ("e1.W1[0][0]", "only x, t, z, a, fprime, loss, dL_da, delta, dW and db belong to one example"),
    ("e0.z1[0]", "examples are numbered from 1"),
])
def test_example_quantities_are_checked(text, message):
    evaluation = Evaluation(network_from_dict(_two_examples()))
    with pytest.raises(QuantityError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        values(evaluation, parse_network_quantity(text))


def test_a_single_example_has_no_example_names(example):
    with pytest.raises(QuantityError, match="this network has one example"):
        values(Evaluation(network_from_dict(example)), parse_network_quantity("e1.z1[0]"))
    assert "examples" not in network_from_dict(example).to_json()


def test_practice_shows_every_example():
    from rich.console import Console

    from backprop_tutor.cli.practice_view import _layers

    console = Console(width=100, record=True)
    console.print(_layers(network_from_dict(_two_examples())))
    shown = console.export_text()
    assert "example 2: x = (−0.4, 0.8)" in shown and "example 2: t = (0.7)" in shown


@pytest.mark.parametrize("extra", ["weight_decay: 0.1", "optimizer: {kind: momentum, beta: 0.9}"])
def test_a_batch_with_weight_decay_or_an_optimizer_is_refused_in_one_line(tmp_path, extra):
    """Their rules are written for one example: refused by name, never computed wrong."""
    path = tmp_path / "net.yaml"
    path.write_text("examples:\n  - {input: [0.5], target: [0.2]}\n  - {input: [0.1], target: [0.9]}\n"
                    "layers:\n  - {activation: sigmoid, weights: [[0.5]], bias: [0.1]}\n"
                    f"loss: half_sse\nlearning_rate: 0.5\n{extra}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["solve", "--network", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {path}: examples: a mini-batch cannot be combined with weight_decay or an optimizer yet; give one "
        "example (input and target), or leave weight_decay and optimizer out")

"""Weight decay, momentum and Adam (issue 15) against methods independent of the engine's rules.

The loss is written out here with mpmath from its definition (forward pass, data loss, plus
(λ/2)·Σ w² over the weights), and every gradient is its 50-digit central finite difference;
momentum and Adam are written out by hand over two steps from those gradients. Random shapes
and values, a fixed seed. Also: the one-line errors of the new network-file fields, and the
templates' slips by name.
"""

from __future__ import annotations

import copy
import random

import mpmath
import pytest

from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.quantities import parse_network_quantity
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.errors import NetworkError

DPS = 50
H = mpmath.mpf("1e-15")
REL = mpmath.mpf("1e-9")


# --- the loss, written out independently --------------------------------------------------------------

def _f(name, z):
    return 1 / (1 + mpmath.exp(-z)) if name == "sigmoid" else mpmath.tanh(z)


def loss(net: dict, W: list, b: list, data_only: bool = False):
    """L(W, b) from the definitions: forward pass, half_sse or mse, + (λ/2)·Σ w² (no biases)."""
    a = [mpmath.mpf(str(v)) for v in net["input"]]
    for layer, Wl, bl in zip(net["layers"], W, b):
        a = [_f(layer["activation"], mpmath.fsum(w * ak for w, ak in zip(row, a)) + bj) for row, bj in zip(Wl, bl)]
    t = [mpmath.mpf(str(v)) for v in net["target"]]
    squares = mpmath.fsum((tj - oj) ** 2 for oj, tj in zip(a, t))
    data = squares / 2 if net["loss"] == "half_sse" else squares / len(t)
    if data_only:
        return data
    decay = mpmath.mpf(str(net.get("weight_decay", 0)))
    return data + decay / 2 * mpmath.fsum(w * w for Wl in W for row in Wl for w in row)


def params(net: dict):
    W = [[[mpmath.mpf(str(w)) for w in row] for row in layer["weights"]] for layer in net["layers"]]
    b = [[mpmath.mpf(str(v)) for v in layer["bias"]] for layer in net["layers"]]
    return W, b


def names(net: dict) -> list[str]:
    out = []
    for l, layer in enumerate(net["layers"], 1):
        for j, row in enumerate(layer["weights"]):
            out += [f"W{l}[{j}][{k}]" for k in range(len(row))] + [f"b{l}[{j}]"]
    return out


def _moved(W, b, name: str, h):
    W = [[list(row) for row in Wl] for Wl in W]
    b = [list(bl) for bl in b]
    l, *idx = [int(p) for p in name[1:].replace("][", " ").replace("[", " ").replace("]", "").split()]
    if name[0] == "W":
        W[l - 1][idx[0]][idx[1]] += h
    else:
        b[l - 1][idx[0]] += h
    return W, b


def central(net: dict, W, b, name: str, data_only: bool = False):
    """∂L/∂p by the central difference (L(p + h) − L(p − h))/2h at 50 digits."""
    up = loss(net, *_moved(W, b, name, H), data_only=data_only)
    down = loss(net, *_moved(W, b, name, -H), data_only=data_only)
    return (up - down) / (2 * H)


def random_network(rng: random.Random, optimizer: dict | None = None) -> dict:
    sizes = [rng.randint(1, 3) for _ in range(rng.randint(2, 4))]
    layers = [{"activation": rng.choice(["sigmoid", "tanh"]) if l < len(sizes) - 1 else "sigmoid",
               "weights": [[round(rng.uniform(-1, 1), 3) for _ in range(sizes[l - 1])] for _ in range(sizes[l])],
               "bias": [round(rng.uniform(-0.5, 0.5), 3) for _ in range(sizes[l])]}
              for l in range(1, len(sizes))]
    net = {"input": [round(rng.uniform(-1, 1), 3) for _ in range(sizes[0])],
           "target": [round(rng.uniform(0.1, 0.9), 2) for _ in range(sizes[-1])],
           "layers": layers, "loss": rng.choice(["half_sse", "mse"]),
           "learning_rate": rng.choice([0.1, 0.5, 1]), "weight_decay": rng.choice([0.01, 0.1, 0.3])}
    if optimizer:
        net["optimizer"] = optimizer
    return net


def close(engine, expected) -> bool:
    return abs(mpmath.mpf(engine) - expected) <= REL * max(abs(expected), mpmath.mpf("1e-30"))


def value(solution, text: str):
    with mpmath.workdps(DPS):
        return mpmath.mpf(str(solution.value(parse_network_quantity(text))))


# --- weight decay: every gradient vs central differences -----------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_decayed_gradients_agree_with_central_differences(seed):
    net = random_network(random.Random(seed))
    solution = solve_network(network_from_dict(net))
    failures = []
    with mpmath.workdps(DPS):
        W, b = params(net)
        assert close(value(solution, "loss"), loss(net, W, b))
        assert close(value(solution, "data_loss"), loss(net, W, b, data_only=True))
        for name in names(net):
            gradient = "d" + name
            expected = central(net, W, b, name)
            if not close(value(solution, gradient), expected):
                failures.append(f"{gradient}: engine {value(solution, gradient)}, difference {expected}")
            if name[0] == "W":  # the backprop part alone is the data loss's derivative
                data = "dW" + name[1:].replace("[", "_data[", 1)
                if not close(value(solution, data), central(net, W, b, name, data_only=True)):
                    failures.append(f"{data} disagrees with the data loss's difference")
    assert not failures, "\n".join(failures)


# --- momentum and Adam, two steps, by hand ----------------------------------------------------------------

def _gradients(net, W, b) -> dict:
    return {name: central(net, W, b, name) for name in names(net)}


def by_hand(net: dict) -> dict:
    """Every state entry of two optimizer steps, from zero state, with gradients by central
    differences at the weights of each step."""
    opt = net["optimizer"]
    eta = mpmath.mpf(str(net["learning_rate"]))
    W, b = params(net)
    m = {name: start(opt, "m", name) for name in names(net)}
    v = {name: start(opt, "velocity" if opt["kind"] == "momentum" else "v", name) for name in names(net)}
    out = {}
    for step in (1, 2):
        grads = _gradients(net, W, b)
        for name in names(net):
            g = grads[name]
            current = loss_parameter(W, b, name)
            out[f"g({name},{step})"] = g
            if opt["kind"] == "momentum":
                v[name] = mpmath.mpf(str(opt["beta"])) * v[name] + g
                new = current - eta * v[name]
            else:
                b1, b2 = mpmath.mpf(str(opt["beta1"])), mpmath.mpf(str(opt["beta2"]))
                m[name] = b1 * m[name] + (1 - b1) * g
                v[name] = b2 * v[name] + (1 - b2) * g * g
                t = opt.get("t", 0) + step
                mhat, vhat = m[name] / (1 - b1**t), v[name] / (1 - b2**t)
                out[f"m({name},{step})"], out[f"mhat({name},{step})"], out[f"vhat({name},{step})"] = m[name], mhat, vhat
                new = current - eta * mhat / (mpmath.sqrt(vhat) + mpmath.mpf(str(opt["epsilon"])))
            out[f"v({name},{step})"] = v[name]
            out[f"new({name},{step})"] = new
        for name in names(net):  # every parameter moves at once, after all the gradients are known
            W, b = _moved(W, b, name, out[f"new({name},{step})"] - loss_parameter(W, b, name))
    return out


def start(opt: dict, state: str, name: str):
    """The file's start of a state for one parameter (`velocity: {W1: [[…]]}`), else 0."""
    family, *idx = name.replace("]", "").split("[")
    given = (opt.get(state) or {}).get(family)
    if given is None:
        return mpmath.mpf(0)
    return mpmath.mpf(str(given[int(idx[0])][int(idx[1])] if len(idx) == 2 else given[int(idx[0])]))


def loss_parameter(W, b, name: str):
    l, *idx = [int(p) for p in name[1:].replace("][", " ").replace("[", " ").replace("]", "").split()]
    return W[l - 1][idx[0]][idx[1]] if name[0] == "W" else b[l - 1][idx[0]]


OPTIMIZERS = [{"kind": "momentum", "beta": 0.9, "steps": 2, "velocity": {"W1": "given", "b1": "given"}},
              {"kind": "momentum", "beta": 0.5, "steps": 2},
              {"kind": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "steps": 2},
              {"kind": "adam", "beta1": 0.8, "beta2": 0.99, "epsilon": 0.001, "steps": 2},
              {"kind": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "steps": 2, "t": 4,
               "m": {"W1": "given", "b1": "given"}, "v": {"W1": "given"}}]


def with_state(net: dict, rng: random.Random) -> dict:
    """The optimizer's "given" starts filled with random values shaped like layer 1 (v ≥ 0)."""
    opt = net["optimizer"]
    layer = net["layers"][0]
    for state in ("velocity", "m", "v"):
        for family in list((opt.get(state) or {})):
            low = 0 if state == "v" else -0.1
            opt[state][family] = ([[round(rng.uniform(low, 0.1), 3) for _ in row] for row in layer["weights"]]
                                  if family[0] == "W" else [round(rng.uniform(low, 0.1), 3) for _ in layer["bias"]])
    return net


@pytest.mark.parametrize("seed", range(len(OPTIMIZERS)))
def test_optimizer_state_over_two_steps_agrees_with_a_hand_written_optimizer(seed):
    rng = random.Random(100 + seed)
    net = with_state(random_network(rng, copy.deepcopy(OPTIMIZERS[seed])), rng)
    solution = solve_network(network_from_dict(net))
    with mpmath.workdps(DPS):
        expected = by_hand(net)
        failures = [f"{name}: engine {value(solution, name)}, by hand {v}"
                    for name, v in expected.items() if not close(value(solution, name), v)]
        for name in names(net):  # W_new, b_new are the parameters after the last step
            new = name.replace("[", "_new[", 1)
            if not close(value(solution, new), expected[f"new({name},2)"]):
                failures.append(f"{new} is not new({name}, 2)")
        W, b = params(net)
        for name in names(net):
            W, b = _moved(W, b, name, expected[f"new({name},2)"] - loss_parameter(W, b, name))
        if not close(value(solution, "loss_after"), loss(net, W, b)):
            failures.append("loss_after is not the loss at the weights after two steps")
    assert not failures, "\n".join(failures)


def test_one_step_is_the_first_of_two():
    net = random_network(random.Random(7), {"kind": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8})
    one = solve_network(network_from_dict(net))
    two = solve_network(network_from_dict({**net, "optimizer": {**net["optimizer"], "steps": 2}}))
    assert value(one, "W1_new[0][0]") == value(two, "new(W1[0][0], 1)") != value(two, "W1_new[0][0]")
    with pytest.raises(Exception, match="takes 1 step"):
        one.value(parse_network_quantity("v(W1[0][0], 2)"))


# --- the network file: one-line errors ------------------------------------------------------------------

BASE = {"input": [0.5], "target": [0.3], "layers": [{"activation": "sigmoid", "weights": [[0.2]], "bias": [0.1]}],
        "loss": "half_sse", "learning_rate": 0.5}


@pytest.mark.parametrize("extra, field, words", [
    ({"weight_decay": -0.1}, "weight_decay", "0 or more"),
    ({"weight_decay": "lots"}, "weight_decay", "expected a number"),
    ({"optimizer": "adam"}, "optimizer", "expected a mapping"),
    ({"optimizer": {"beta": 0.9}}, "optimizer.kind", "missing"),
    ({"optimizer": {"kind": "adamw"}}, "optimizer.kind", "did you mean 'adam'"),
    ({"optimizer": {"kind": "momentum", "beta": 1}}, "optimizer.beta", "outside [0, 1)"),
    ({"optimizer": {"kind": "momentum", "beta1": 0.9}}, "optimizer.beta1", "unknown key"),
    ({"optimizer": {"kind": "adam", "epsilon": 0}}, "optimizer.epsilon", "must be positive"),
    ({"optimizer": {"kind": "adam", "steps": 3}}, "optimizer.steps", "from 1 to 2"),
    ({"optimizer": {"kind": "momentum", "steps": True}}, "optimizer.steps", "from 1 to 2"),
    ({"optimizer": {"kind": "adam", "t": -1}}, "optimizer.t", "whole number"),
    ({"optimizer": {"kind": "momentum", "velocity": [0.1]}}, "optimizer.velocity", "expected a mapping"),
    ({"optimizer": {"kind": "momentum", "velocity": {"W2": [[0.1]]}}}, "optimizer.velocity.W2", "unknown key"),
    ({"optimizer": {"kind": "momentum", "velocity": {"W1": [[0.1, 0.2]]}}}, "optimizer.velocity.W1", "1 entries"),
    ({"optimizer": {"kind": "adam", "v": {"b1": [-0.1]}}}, "optimizer.v.b1", "never negative"),
    ({"optimizer": {"kind": "momentum", "m": {"b1": [0.1]}}}, "optimizer.m", "unknown key"),
])
def test_bad_fields_are_one_line_errors_naming_the_field(extra, field, words):
    with pytest.raises(NetworkError) as error:
        network_from_dict({**BASE, **extra}, "net.yaml")
    message = str(error.value)
    assert "\n" not in message and f"{field}:" in message and words in message, message


def test_the_fields_round_trip_through_to_json():
    net = {**BASE, "weight_decay": 0.01, "optimizer": {"kind": "adam", "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6,
                                                       "t": 3, "steps": 2, "m": {"W1": [[0.25]]}, "v": {"b1": [0.5]}}}
    assert network_from_dict(net).to_json() == net
    assert "weight_decay" not in network_from_dict(BASE).to_json()


def test_decay_quantities_need_no_optimizer_and_optimizer_state_needs_one():
    solution = solve_network(network_from_dict({**BASE, "weight_decay": 0.1}))
    with mpmath.workdps(DPS):
        assert close(value(solution, "decay"), mpmath.mpf("0.1") / 2 * mpmath.mpf("0.2") ** 2)
    with pytest.raises(Exception, match="no optimizer"):
        solution.value(parse_network_quantity("v(W1[0][0], 1)"))

"""The engine against independent oracles: a hand-written chain rule for the PRODUCT.md example,
published values for it, and 50-digit central finite differences on random networks."""

from __future__ import annotations

import random

import mpmath as mp
import pytest
import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import losses
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.engine.network import network_from_dict

from conftest import EXAMPLE

mp.mp.dps = 50


def close(a, b, rel=1e-9, abs_=1e-30) -> bool:
    a, b = mp.mpf(str(sp.N(a, 50))) if not isinstance(a, mp.mpf) else a, b
    return abs(a - b) <= rel * abs(b) + abs_


# --- the PRODUCT.md example, chain rule written out by hand -------------------------------------

def _hand_solution():
    s = lambda x: 1 / (1 + mp.e ** (-x))  # noqa: E731
    x1, x2 = mp.mpf("0.05"), mp.mpf("0.10")
    t1, t2 = mp.mpf("0.01"), mp.mpf("0.99")
    w1, w2, w3, w4, b1 = map(mp.mpf, ("0.15", "0.20", "0.25", "0.30", "0.35"))
    w5, w6, w7, w8, b2 = map(mp.mpf, ("0.40", "0.45", "0.50", "0.55", "0.60"))
    h1 = s(w1 * x1 + w2 * x2 + b1)
    h2 = s(w3 * x1 + w4 * x2 + b1)
    o1 = s(w5 * h1 + w6 * h2 + b2)
    o2 = s(w7 * h1 + w8 * h2 + b2)
    loss = ((t1 - o1) ** 2 + (t2 - o2) ** 2) / 2
    d_o1 = (o1 - t1) * o1 * (1 - o1)
    d_o2 = (o2 - t2) * o2 * (1 - o2)
    d_h1 = (w5 * d_o1 + w7 * d_o2) * h1 * (1 - h1)
    d_h2 = (w6 * d_o1 + w8 * d_o2) * h2 * (1 - h2)
    return {
        "loss": loss, "o": (o1, o2),
        "W2": ((d_o1 * h1, d_o1 * h2), (d_o2 * h1, d_o2 * h2)), "b2": (d_o1, d_o2),
        "W1": ((d_h1 * x1, d_h1 * x2), (d_h2 * x1, d_h2 * x2)), "b1": (d_h1, d_h2),
        "W2_new": tuple(tuple(w - mp.mpf("0.5") * g for w, g in zip(row, grow))
                        for row, grow in zip(((w5, w6), (w7, w8)), ((d_o1 * h1, d_o1 * h2), (d_o2 * h1, d_o2 * h2)))),
    }


def test_example_matches_hand_written_chain_rule():
    sol = solve_network(network_from_dict(EXAMPLE)).numeric
    hand = _hand_solution()
    assert close(sol.loss, hand["loss"], rel=1e-40)
    for j in range(2):
        assert close(sol.a[2][j], hand["o"][j], rel=1e-40)
        assert close(sol.grad_b[2][j], hand["b2"][j], rel=1e-40)
        assert close(sol.grad_b[1][j], hand["b1"][j], rel=1e-40)
        for k in range(2):
            assert close(sol.grad_W[2][j][k], hand["W2"][j][k], rel=1e-40)
            assert close(sol.grad_W[1][j][k], hand["W1"][j][k], rel=1e-40)
            assert close(sol.W_new[2][j][k], hand["W2_new"][j][k], rel=1e-40)


def test_example_matches_published_worked_example():
    # Matt Mazur, "A Step by Step Backpropagation Example" (2015): the same network and numbers.
    sol = solve_network(network_from_dict(EXAMPLE)).numeric
    assert float(sol.loss) == pytest.approx(0.298371109, abs=1e-9)
    assert float(sol.a[2][0]) == pytest.approx(0.75136507, abs=1e-8)
    assert float(sol.a[2][1]) == pytest.approx(0.772928465, abs=1e-9)
    assert float(sol.W_new[2][0][0]) == pytest.approx(0.35891648, abs=1e-8)
    assert float(sol.W_new[2][0][1]) == pytest.approx(0.408666186, abs=1e-9)
    assert float(sol.W_new[2][1][0]) == pytest.approx(0.511301270, abs=1e-9)
    assert float(sol.W_new[2][1][1]) == pytest.approx(0.561370121, abs=1e-9)
    assert float(sol.W_new[1][0][0]) == pytest.approx(0.149780716, abs=1e-9)
    assert float(sol.W_new[1][1][1]) == pytest.approx(0.29950229, abs=1e-8)


def test_example_exact_forms_agree_with_decimals():
    sol = solve_network(network_from_dict(EXAMPLE))
    assert sol.exact.loss is not None
    assert sp.N(sol.exact.loss, 45) - sol.numeric.loss == pytest.approx(0, abs=1e-40)
    assert sol.exact.a[1][0] == 1 / (1 + sp.exp(-sp.Rational(151, 400)))
    for j in range(2):
        for k in range(2):
            exact = sol.exact.grad_W[1][j][k]
            assert abs(sp.N(exact, 45) - sol.numeric.grad_W[1][j][k]) < 1e-40


def test_loss_decreases_after_the_step():
    sol = solve_network(network_from_dict(EXAMPLE)).numeric
    assert sol.loss_after < sol.loss


# --- an independent forward pass in mpmath, for finite differences ----------------------------

def _phi(x):
    return (1 + mp.erf(x / mp.sqrt(2))) / 2


MP_ACTIVATIONS = {
    "identity": lambda x: x,
    "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
    "tanh": mp.tanh,
    "relu": lambda x: x if x > 0 else mp.mpf(0),
    "leaky_relu": lambda x: x if x > 0 else x / 100,
    "softplus": lambda x: mp.log(1 + mp.exp(x)),
    "elu": lambda x: x if x > 0 else mp.exp(x) - 1,
    "silu": lambda x: x / (1 + mp.exp(-x)),
    "gelu": lambda x: x * _phi(x),
    "gelu_tanh": lambda x: x / 2 * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x**3))),
    "step": lambda x: mp.mpf(1) if x >= 0 else mp.mpf(0),
}


def _mp_loss(name, o, t):
    n = len(o)
    if name == "half_sse":
        return sum((tj - oj) ** 2 for oj, tj in zip(o, t)) / 2
    if name == "sse":
        return sum((tj - oj) ** 2 for oj, tj in zip(o, t))
    if name == "mse":
        return sum((tj - oj) ** 2 for oj, tj in zip(o, t)) / n
    if name == "bce":
        return -sum(tj * mp.log(oj) + (1 - tj) * mp.log(1 - oj) for oj, tj in zip(o, t)) / n
    return -sum(tj * mp.log(oj) for oj, tj in zip(o, t))


def _mp_loss_of(data, W, b):
    a = [mp.mpf(str(v)) for v in data["input"]]
    for l, layer in enumerate(data["layers"]):
        z = [sum(W[l][j][k] * a[k] for k in range(len(a))) + b[l][j] for j in range(len(W[l]))]
        if layer["activation"] == "softmax":
            m = [mp.exp(v) for v in z]
            a = [v / sum(m) for v in m]
        else:
            a = [MP_ACTIVATIONS[layer["activation"]](v) for v in z]
    return _mp_loss(data["loss"], a, [mp.mpf(str(v)) for v in data["target"]])


def _random_network(rng: random.Random, hidden: str, loss: str) -> dict:
    depth = rng.randint(1, 3)  # hidden layers
    sizes = [rng.randint(1, 3)] + [rng.randint(1, 3) for _ in range(depth)]
    out_act = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, rng.choice(["identity", "sigmoid", "tanh", hidden]))
    outputs = rng.randint(2, 3) if out_act == "softmax" else rng.randint(1, 3)
    sizes.append(outputs)
    dec = lambda: round(rng.uniform(-1, 1), 2) or 0.17  # noqa: E731
    layers = []
    for l in range(1, len(sizes)):
        layers.append({
            "activation": hidden if l < len(sizes) - 1 else out_act,
            "weights": [[dec() for _ in range(sizes[l - 1])] for _ in range(sizes[l])],
            "bias": [dec() for _ in range(sizes[l])],
        })
    if loss == "cross_entropy":
        hot = rng.randrange(outputs)
        target = [1 if j == hot else 0 for j in range(outputs)]
    elif loss == "bce":
        target = [rng.choice([0, 1, 0.25]) for _ in range(outputs)]
    else:
        target = [dec() for _ in range(outputs)]
    return {"input": [dec() for _ in range(sizes[0])], "target": target, "layers": layers,
            "loss": loss, "learning_rate": 0.1}


CASES = [(act, loss, seed) for act in activations.ELEMENTWISE for loss in losses.NAMES for seed in (1, 2)]


@pytest.mark.parametrize("hidden,loss,seed", CASES)
def test_every_gradient_matches_central_difference(hidden, loss, seed):
    data = _random_network(random.Random(f"{hidden}-{loss}-{seed}"), hidden, loss)
    sol = solve_network(network_from_dict(data)).numeric
    W = [[[mp.mpf(str(w)) for w in row] for row in layer["weights"]] for layer in data["layers"]]
    b = [[mp.mpf(str(v)) for v in layer["bias"]] for layer in data["layers"]]
    h = mp.mpf("1e-18")
    assert close(sol.loss, _mp_loss_of(data, W, b), rel=1e-40)

    def central(params, l, j, k=None):
        def at(shift):
            moved = [[list(r) for r in layer] for layer in W] if k is not None else [list(layer) for layer in b]
            if k is not None:
                moved[l][j][k] += shift
                return _mp_loss_of(data, moved, b)
            moved[l][j] += shift
            return _mp_loss_of(data, W, moved)
        return (at(h) - at(-h)) / (2 * h)

    for l, layer in enumerate(data["layers"]):
        for j, row in enumerate(layer["weights"]):
            for k in range(len(row)):
                assert close(sol.grad_W[l + 1][j][k], central(W, l, j, k)), (l, j, k)
            assert close(sol.grad_b[l + 1][j], central(b, l, j)), (l, j)


@pytest.mark.parametrize("hidden", list(activations.ELEMENTWISE))
def test_exact_pass_agrees_with_numeric_pass(hidden):
    data = {"input": [0.3, -0.7], "target": [0.25], "loss": "half_sse", "learning_rate": 0.5,
            "layers": [{"activation": hidden, "weights": [[0.5, -0.25], [0.75, 0.2]], "bias": [0.1, -0.3]},
                       {"activation": "sigmoid", "weights": [[0.4, -0.6]], "bias": [0.05]}]}
    sol = solve_network(network_from_dict(data))
    pairs = [(sol.exact.loss, sol.numeric.loss), (sol.exact.grad_W[1][1][0], sol.numeric.grad_W[1][1][0]),
             (sol.exact.grad_b[2][0], sol.numeric.grad_b[2][0]), (sol.exact.loss_after, sol.numeric.loss_after)]
    for exact, approx in pairs[:3]:
        assert exact is not None
    for exact, approx in pairs:
        if exact is not None:  # loss_after may pass the size limit; then it is dropped, not wrong
            assert abs(sp.N(exact, 45) - approx) < 1e-40


def test_relu_kink_uses_zero_derivative():
    data = {"input": [1.0], "target": [1.0], "loss": "half_sse", "learning_rate": 0.1,
            "layers": [{"activation": "relu", "weights": [[0.5]], "bias": [-0.5]},
                       {"activation": "identity", "weights": [[2.0]], "bias": [0.0]}]}
    sol = solve_network(network_from_dict(data)).numeric
    assert sol.z[1][0] == 0
    assert sol.delta[1][0] == 0 and sol.grad_W[1][0][0] == 0


def test_step_activation_cannot_learn():
    data = {"input": [0.5], "target": [1.0], "loss": "half_sse", "learning_rate": 0.5,
            "layers": [{"activation": "step", "weights": [[0.4]], "bias": [-0.5]}]}
    sol = solve_network(network_from_dict(data)).numeric
    assert sol.grad_W[1][0][0] == 0 and sol.loss_after == sol.loss


def test_softmax_cross_entropy_delta_is_p_minus_t():
    data = {"input": [0.3, -0.2], "target": [0, 1, 0], "loss": "cross_entropy", "learning_rate": 0.1,
            "layers": [{"activation": "softmax", "weights": [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]], "bias": [0, 0.1, -0.1]}]}
    sol = solve_network(network_from_dict(data)).numeric
    for k in range(3):
        assert abs(sol.delta[1][k] - (sol.a[1][k] - sp.Rational(data["target"][k]))) < 1e-45


def test_large_network_omits_exact_forms_but_keeps_decimals():
    rng = random.Random(7)
    sizes = [4, 16, 16, 4]
    data = {"input": [round(rng.uniform(-1, 1), 2) for _ in range(4)], "target": [0.1, 0.2, 0.3, 0.4],
            "loss": "half_sse", "learning_rate": 0.1,
            "layers": [{"activation": "sigmoid",
                        "weights": [[round(rng.uniform(-1, 1), 2) for _ in range(sizes[l - 1])] for _ in range(sizes[l])],
                        "bias": [0.1] * sizes[l]} for l in range(1, 4)]}
    sol = solve_network(network_from_dict(data))
    assert not sol.exact.complete
    assert sol.numeric.loss_after < sol.numeric.loss

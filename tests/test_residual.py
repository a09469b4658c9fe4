"""Residual (skip) connections (issue 15): a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ᵏ⁾, and ∂L/∂a⁽ᵏ⁾ gains the skip's path.

Gradients are checked against a 50-digit central difference of the loss written out here with
mpmath (its own forward pass with the skip), independent of the engine's rules."""

from __future__ import annotations

import random

import mpmath
import pytest

from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.errors import NetworkError

F = {"tanh": mpmath.tanh, "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)), "identity": lambda z: z,
     "softplus": lambda z: mpmath.log(1 + mpmath.exp(z))}


def _loss(net: dict, W, b) -> mpmath.mpf:
    a = [[mpmath.mpf(v) for v in net["input"]]]
    for l, layer in enumerate(net["layers"]):
        z = [mpmath.fsum(w * x for w, x in zip(row, a[-1])) + bj for row, bj in zip(W[l], b[l])]
        out = [F[layer["activation"]](v) for v in z]
        if layer.get("skip") is not None:
            out = [v + s for v, s in zip(out, a[layer["skip"]])]
        a.append(out)
    return mpmath.fsum((o - mpmath.mpf(t)) ** 2 for o, t in zip(a[-1], net["target"])) / 2


def _random_network(rng: random.Random) -> dict:
    width = rng.randint(1, 3)
    sizes = [width] * (rng.randint(2, 4) + 1)
    sizes[0] = rng.choice([width, rng.randint(1, 3)])
    layers = []
    for l in range(1, len(sizes)):
        layer = {"activation": rng.choice(list(F)),
                 "weights": [[round(rng.uniform(-1, 1), 2) for _ in range(sizes[l - 1])] for _ in range(sizes[l])],
                 "bias": [round(rng.uniform(-0.5, 0.5), 2) for _ in range(sizes[l])]}
        sources = [k for k in range(l - 1) if sizes[k] == sizes[l]]
        if sources and rng.random() < 0.8:
            layer["skip"] = rng.choice(sources)
        layers.append(layer)
    return {"input": [round(rng.uniform(-1, 1), 2) for _ in range(sizes[0])],
            "target": [round(rng.uniform(-1, 1), 2) for _ in range(sizes[-1])],
            "layers": layers, "loss": "half_sse", "learning_rate": 0.5}


@pytest.mark.parametrize("seed", range(12))
def test_gradients_match_a_50_digit_central_difference(seed):
    net = _random_network(random.Random(seed))
    engine = Evaluation(network_from_dict(net))
    mpmath.mp.dps = 50
    h = mpmath.mpf("1e-20")
    W = [[[mpmath.mpf(str(w)) for w in row] for row in layer["weights"]] for layer in net["layers"]]
    b = [[mpmath.mpf(str(v)) for v in layer["bias"]] for layer in net["layers"]]
    for l, layer in enumerate(net["layers"]):
        for j, row in enumerate(layer["weights"]):
            for k in range(len(row)):
                W[l][j][k] += h
                up = _loss(net, W, b)
                W[l][j][k] -= 2 * h
                down = _loss(net, W, b)
                W[l][j][k] += h
                expected = (up - down) / (2 * h)
                got = mpmath.mpf(str(engine.values(q(Kind.WEIGHT_GRADIENT, l + 1, j, k), finish=True)))
                assert abs(got - expected) <= 1e-9 * max(abs(expected), mpmath.mpf("1e-30")), (net, l, j, k)


def test_the_skip_adds_both_paths_and_the_slip_keeps_one():
    from backprop_tutor.engine import slips
    net = network_from_dict({"input": [0.5], "target": [0.2], "loss": "half_sse", "learning_rate": 0.5, "layers": [
        {"activation": "tanh", "weights": [[0.8]], "bias": [0.1]},
        {"activation": "tanh", "weights": [[-0.6]], "bias": [0.2]},
        {"activation": "identity", "weights": [[0.7]], "bias": [-0.1], "skip": 1}]})
    e = Evaluation(net)
    v = lambda ev, *k: float(ev.value(q(*k)))  # noqa: E731
    through = -0.6 * v(e, Kind.DELTA, 2, 0)
    assert v(e, Kind.ACTIVATION_GRADIENT, 1, 0) == pytest.approx(through + v(e, Kind.LOSS_GRADIENT, None, 0), rel=1e-12)
    slip = slips.BY_NAME["forgot_skip_gradient"]
    assert slip.scopes(net) == [(1,)]
    slipped = e.with_rules(slip.rules((1,)))
    assert v(slipped, Kind.ACTIVATION_GRADIENT, 1, 0) == pytest.approx(through, rel=1e-12)


def test_a_network_without_skips_is_unchanged():
    from conftest import EXAMPLE
    import reference_backprop as R
    e, ref = Evaluation(network_from_dict(EXAMPLE)), R.evaluate(EXAMPLE)
    for name in ("delta1[0]", "dW1[1][0]", "a2[1]"):
        kind = {"d": Kind.DELTA, "a": Kind.A}[name[0]] if not name.startswith("dW") else Kind.WEIGHT_GRADIENT
        idx = [int(i) for i in name.split("[")[1:] for i in [i.rstrip("]")]]
        assert float(e.value(q(kind, int(name[len(name.split("[")[0]) - 1]), *idx))) == pytest.approx(ref[name], rel=1e-12)


BASE = {"input": [0.5, 0.1], "target": [0.2], "loss": "half_sse", "learning_rate": 0.5}


@pytest.mark.parametrize("layers, extra, message", [
    ([{"activation": "tanh", "weights": [[1, 1], [1, 1]], "skip": 1}], {}, "layers[0].skip: 1 is not a layer below layer 1"),
    ([{"activation": "tanh", "weights": [[1, 1], [1, 1]], "skip": -1}], {}, "layers[0].skip: -1 is not a layer below"),
    ([{"activation": "tanh", "weights": [[1, 1]], "skip": 0}], {}, "layers[0].skip: layer 0 has 2 units but layer 1 has 1"),
    ([{"activation": "tanh", "weights": [[1, 1], [1, 1]], "skip": "one"}], {}, "layers[0].skip: expected a layer number"),
    ([{"activation": "tanh", "weights": [[1, 1], [1, 1]]},
      {"activation": "softmax", "weights": [[1, 1], [1, 1]], "skip": 1}], {"target": [0, 1], "loss": "cross_entropy"},
     "layers[1].skip: a softmax layer cannot take a skip"),
    ([{"activation": "tanh", "weights": [[1, 1], [1, 1]], "skip": 0}, {"activation": "tanh", "weights": [[1, 1]]}],
     {"weight_decay": 0.1}, "layers[0].skip: a skip connection cannot be combined with weight_decay"),
])
def test_bad_skips_get_one_line_errors(layers, extra, message):
    with pytest.raises(NetworkError) as error:
        network_from_dict({**BASE, "layers": layers, "target": [0.2] * len(layers[-1]["weights"]), **extra})
    assert message in str(error.value) and "\n" not in str(error.value)

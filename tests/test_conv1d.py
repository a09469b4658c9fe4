"""A conv1d layer (issue 15): every gradient against a 50-digit central finite difference of the
loss written out here by hand (the convolution as nested sums, not the engine's rules), for random
lengths, kernels and values; its slips; and one-line errors for bad conv1d layers."""

from __future__ import annotations

import random

import mpmath
import pytest

from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.quantities import parse_network_quantity
from backprop_tutor.engine.slips import BY_NAME
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.errors import NetworkError

mpmath.mp.dps = 50
H = mpmath.mpf("1e-20")
ACTS = {"identity": lambda z: z, "tanh": mpmath.tanh, "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
        "relu": lambda z: max(z, mpmath.mpf(0))}


def _num(rng: random.Random) -> float:
    return round(rng.uniform(-1, 1), 2)


def random_network(seed: int) -> dict:
    rng = random.Random(seed)
    n = rng.randint(3, 7)
    K = rng.randint(1, n)
    m = rng.randint(1, 2)
    positions = n - K + 1
    return {"input": [_num(rng) for _ in range(n)], "target": [_num(rng) for _ in range(m)],
            "layers": [{"type": "conv1d", "kernel": [_num(rng) for _ in range(K)], "bias": _num(rng),
                        "activation": rng.choice(sorted(ACTS))},
                       {"activation": rng.choice(["identity", "tanh", "sigmoid"]),
                        "weights": [[_num(rng) for _ in range(positions)] for _ in range(m)],
                        "bias": [_num(rng) for _ in range(m)]}],
            "loss": "half_sse", "learning_rate": 0.1}


def loss(data: dict, params: dict) -> mpmath.mpf:
    """L = ½ Σ (t − o)², o = g(W·f(conv(x, k) + b) + c), the convolution written as a double loop."""
    x = [mpmath.mpf(str(v)) for v in data["input"]]
    k, b = params["k"], params["b"]
    conv, dense = data["layers"]
    hidden = []
    for i in range(len(x) - len(k) + 1):
        total = b
        for j in range(len(k)):
            total += k[j] * x[i + j]
        hidden.append(ACTS[conv["activation"]](total))
    out = 0
    for u, (row, c) in enumerate(zip(params["W"], params["c"])):
        o = ACTS[dense["activation"]](sum(w * h for w, h in zip(row, hidden)) + c)
        out += (mpmath.mpf(str(data["target"][u])) - o) ** 2 / 2
    return out


def parameters(data: dict) -> dict:
    conv, dense = data["layers"]
    m = lambda v: mpmath.mpf(str(v))  # noqa: E731
    return {"k": [m(v) for v in conv["kernel"]], "b": m(conv["bias"]),
            "W": [[m(v) for v in row] for row in dense["weights"]], "c": [m(v) for v in dense["bias"]]}


def central(data: dict, name: str, *index: int) -> mpmath.mpf:
    def moved(h):
        p = parameters(data)
        if not index:
            p[name] += h
        elif len(index) == 1:
            p[name][index[0]] += h
        else:
            p[name][index[0]][index[1]] += h
        return loss(data, p)
    return (moved(H) - moved(-H)) / (2 * H)


def close(engine, expected) -> bool:
    engine = mpmath.mpf(str(engine))
    return abs(engine - expected) <= mpmath.mpf("1e-9") * max(abs(expected), mpmath.mpf("1e-30"))


def _away_from_kinks(data: dict) -> bool:
    """relu's z not within 1e-6 of 0, where a difference of ±1e-20 would straddle the kink."""
    solution = solve_network(network_from_dict(data))
    return all(abs(z) > 1e-6 for z in solution.numeric.z[1])


@pytest.mark.parametrize("seed", range(25))
def test_every_gradient_agrees_with_a_50_digit_central_difference(seed):
    data = random_network(seed)
    if not _away_from_kinks(data):
        pytest.skip("a z at relu's kink")
    solution = solve_network(network_from_dict(data))
    value = lambda text: solution.value(parse_network_quantity(text))  # noqa: E731
    K, positions = len(data["layers"][0]["kernel"]), len(data["input"]) - len(data["layers"][0]["kernel"]) + 1
    assert close(value("loss"), loss(data, parameters(data)))
    for j in range(K):
        assert close(value(f"dK1[{j}]"), central(data, "k", j)), (seed, j)
    assert close(value("db1[0]"), central(data, "b"))
    for u in range(len(data["target"])):
        assert close(value(f"db2[{u}]"), central(data, "c", u))
        for i in range(positions):
            assert close(value(f"dW2[{u}][{i}]"), central(data, "W", u, i))
    # the update moves the kernel and the shared bias against their gradients
    eta = mpmath.mpf("0.1")
    for j in range(K):
        assert close(value(f"K1_new[{j}]"), parameters(data)["k"][j] - eta * central(data, "k", j))


EXAMPLE = {"input": [0.5, -0.3, 0.8, 0.2, -0.6], "target": [0.4],
           "layers": [{"type": "conv1d", "kernel": [0.3, -0.5, 0.2], "bias": 0.1, "activation": "relu"},
                      {"activation": "identity", "weights": [[0.6, -0.4, 0.7]], "bias": [0.05]}],
           "loss": "half_sse", "learning_rate": 0.1}


def test_the_worked_example_by_hand():
    """z₀ = 0.3·0.5 + (−0.5)(−0.3) + 0.2·0.8 + 0.1 = 0.56; ∂L/∂k₀ = δ₀x₀ + δ₁x₁ + δ₂x₂ = 0.042·0.5 + 0 + 0.049·0.8."""
    solution = solve_network(network_from_dict(EXAMPLE))
    value = lambda text: float(solution.value(parse_network_quantity(text)))  # noqa: E731
    assert value("z1[0]") == pytest.approx(0.56) and value("z1[1]") == pytest.approx(-0.35)
    assert value("dK1[0]") == pytest.approx(0.042 * 0.5 + 0.049 * 0.8)
    assert value("db1[0]") == pytest.approx(0.042 + 0.049)


def _slipped(data: dict, slip: str, text: str) -> float:
    network = network_from_dict(data)
    evaluation = Evaluation(network).with_rules(BY_NAME[slip].rules((1,)))
    return float(evaluation.value(parse_network_quantity(text)))


def test_slips_compute_what_they_name():
    solution = solve_network(network_from_dict(EXAMPLE))
    value = lambda text: float(solution.value(parse_network_quantity(text)))  # noqa: E731
    assert _slipped(EXAMPLE, "forgot_sum_over_positions", "dK1[2]") == pytest.approx(value("delta1[0]") * 0.8)
    assert _slipped(EXAMPLE, "kernel_flipped", "z1[0]") == pytest.approx(0.2 * 0.5 + (-0.5) * (-0.3) + 0.3 * 0.8 + 0.1)
    assert [scope for scope in BY_NAME["forgot_sum_over_positions"].scopes(network_from_dict(EXAMPLE))] == [(1,)]


def _with(**conv) -> dict:
    layers = [dict(EXAMPLE["layers"][0], **conv), EXAMPLE["layers"][1]]
    return dict(EXAMPLE, layers=layers)


@pytest.mark.parametrize("data, field, words", [
    (_with(stride=2), "layers[0].stride", "only stride 1, no padding"),
    (_with(padding=1), "layers[0].padding", "only stride 1, no padding"),
    (_with(kernel=[0.1] * 6), "layers[0].kernel", "must fit in the input"),
    (_with(type="conv2d"), "layers[0].type", "use dense or conv1d"),
    (_with(activation="softmax"), "layers[0].activation", "use one of"),
    (dict(EXAMPLE, weight_decay=0.1), "layers[0].type", "cannot be combined"),
    (dict(EXAMPLE, target=[0.4, 0.1, 0.2], layers=[EXAMPLE["layers"][0], {
        "activation": "identity", "weights": [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]], "bias": [0, 0, 0], "skip": 1}]),
     "layers[0].type", "cannot be combined"),
    (dict(EXAMPLE, layers=[{"activation": "relu", "weights": [[0.1] * 5] * 5}, EXAMPLE["layers"][0]]),
     "layers[1].type", "must be the first layer"),
])
def test_bad_conv_layers_are_refused_in_one_line(data, field, words):
    with pytest.raises(NetworkError) as caught:
        network_from_dict(data, "net.yaml")
    message = str(caught.value)
    assert "\n" not in message and field in message and words in message, message


def test_kernel_quantities_only_where_there_is_a_kernel():
    from backprop_tutor.engine.quantities import QuantityError

    solution = solve_network(network_from_dict(EXAMPLE))
    with pytest.raises(QuantityError, match="not a conv1d layer"):
        solution.value(parse_network_quantity("dK2[0]"))
    with pytest.raises(QuantityError, match="conv1d layer"):
        solution.value(parse_network_quantity("dW1"))
    assert network_from_dict(EXAMPLE).to_json()["layers"][0] == EXAMPLE["layers"][0]

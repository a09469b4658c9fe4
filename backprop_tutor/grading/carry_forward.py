"""Error carried forward: recompute a part from the learner's own earlier answers.

A part such as ∂L/∂w⁽¹⁾₀₁ = δ⁽¹⁾₀·x₁ is right *given* the learner's δ⁽¹⁾₀ even when that δ was
wrong; then it earns credit with a note pointing at the part where the error began. Each
quantity is recomputed by its one local formula, with the learner's values for its inputs
where they gave them and the engine's values elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import losses
from backprop_tutor.engine.backprop import NetworkSolution
from backprop_tutor.engine.legacy_values import network_value

_SCALAR = re.compile(r"(?P<name>z|a|delta|dW|db|W|b)(?P<layer>\d+)(?P<new>_new)?(?P<idx>(?:\[\d+\])+)|loss")


def expand(quantity: str, value) -> dict[str, sp.Expr]:
    """A (vector or matrix) answer as scalar entries keyed by name: delta1 → delta1[0], delta1[1]."""
    if isinstance(value, (list, tuple)):
        out: dict[str, sp.Expr] = {}
        for i, v in enumerate(value):
            out.update(expand(f"{quantity}[{i}]", v))
        return out
    return {quantity: value}


def recompute(sol: NetworkSolution, quantity: str, given: Mapping[str, sp.Expr]) -> tuple[object, tuple[str, ...]]:
    """(the quantity recomputed from `given`, which given names it used). Entries of vectors and
    matrices are recomputed one by one; names the formula does not use leave it unchanged."""
    engine = network_value(sol, quantity).approx
    used: list[str] = []

    def entry(name: str):
        value, names = _local(sol, name, given)
        used.extend(n for n in names if n not in used)
        return value

    def walk(name: str, value):
        if isinstance(value, tuple):
            return tuple(walk(f"{name}[{i}]", v) for i, v in enumerate(value))
        return entry(name)

    return walk(quantity, engine), tuple(used)


def _local(sol: NetworkSolution, name: str, given: Mapping[str, sp.Expr]) -> tuple[sp.Expr, list[str]]:
    used: list[str] = []

    def get(key: str) -> sp.Expr:
        if key in given:
            used.append(key)
            return given[key]
        return network_value(sol, key).approx

    m = _SCALAR.fullmatch(name)
    net = sol.network
    if not m or m[0] == "loss":
        if name == "loss":
            o = [get(f"a{len(net.layers)}[{j}]") for j in range(len(net.target))]
            return losses.LOSSES[net.loss].value(o, [sp.Float(t, 50) for t in net.target]), used
        return network_value(sol, name).approx, used
    kind, l, idx = m["name"], int(m["layer"]), [int(i) for i in re.findall(r"\d+", m["idx"])]
    L = len(net.layers)
    if m["new"]:
        rate = sp.Float(net.learning_rate, 50)
        if kind == "W":
            j, k = idx
            return net.layers[l - 1].weights[j][k] - rate * get(f"dW{l}[{j}][{k}]"), used
        (j,) = idx
        return net.layers[l - 1].bias[j] - rate * get(f"db{l}[{j}]"), used
    if kind == "dW":
        j, k = idx
        below = get(f"a{l - 1}[{k}]") if l > 1 else sp.Float(net.input[k], 50)
        return get(f"delta{l}[{j}]") * below, used
    if kind == "db":
        return get(f"delta{l}[{idx[0]}]"), used
    if kind == "delta":
        (j,) = idx
        if l == L and net.layers[-1].activation == activations.SOFTMAX:
            # softmax with cross-entropy: δ = p − t, from the learner's own p
            return get(f"a{L}[{j}]") - sp.Float(net.target[j], 50), used
        slope = _slope(sol, l, j, get)
        if l == L:
            o = [get(f"a{L}[{i}]") for i in range(len(net.target))]
            grad = losses.LOSSES[net.loss].output_gradient(o, [sp.Float(t, 50) for t in net.target])[j]
            return grad * slope, used
        above = net.layers[l]
        total = sum((above.weights[i][j] * get(f"delta{l + 1}[{i}]") for i in range(above.units)), sp.Float(0, 50))
        return slope * total, used
    if kind == "a":
        (j,) = idx
        act = net.layers[l - 1].activation
        if act == activations.SOFTMAX:
            return network_value(sol, name).approx, used
        return sp.N(activations.ELEMENTWISE[act](get(f"z{l}[{j}]")), 50), used
    if kind == "z":
        (j,) = idx
        layer = net.layers[l - 1]
        below = [get(f"a{l - 1}[{k}]") if l > 1 else sp.Float(v, 50) for k, v in enumerate(net.input)]
        return sum((w * a for w, a in zip(layer.weights[j], below)), sp.Float(layer.bias[j], 50)), used
    return network_value(sol, name).approx, used


def _slope(sol: NetworkSolution, l: int, j: int, get) -> sp.Expr:
    """f′(z⁽ˡ⁾ⱼ) as a learner computes it: from their activation value where the textbook does
    (σ′ = a(1 − a), tanh′ = 1 − a²), else from the engine's z."""
    act = sol.network.layers[l - 1].activation
    key = f"a{l}[{j}]"
    if act == "sigmoid":
        a = get(key)
        return a * (1 - a)
    if act == "tanh":
        a = get(key)
        return 1 - a**2
    return network_value(sol, f"fprime{l}[{j}]").approx

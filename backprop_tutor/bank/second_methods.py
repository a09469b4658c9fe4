"""Independent checks for `tutor bank validate`: a forward pass in double precision written
without the engine, and the tolerances the self-test compares with."""

from __future__ import annotations

import math

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.numbers import within
from backprop_tutor.engine.quantities import Kind

KEY_REL = 1e-10  # keys carry 12 significant digits
CHECK_REL = 1e-7  # second methods in double precision / finite differences
H = "1e-20"  # the step of the central differences, taken on the engine's 50-digit loss


def close(value, expected, rel: float) -> bool:
    """Within a relative `rel` (numbers.within), after checking both are real numbers."""
    value, expected = sp.N(value, 30), sp.N(expected, 30)
    if not (value.is_number and expected.is_number and value.is_real and expected.is_real):
        return False
    return within(value, expected, ("relative", rel))


def central(f, point) -> sp.Float:
    """(f(x + h) − f(x − h)) / 2h at 50 digits, h = H: the derivative of a one-variable function
    (x ↦ SymPy expression) at an exact point, by a method that shares nothing with the engine's."""
    h = sp.Rational(H)
    return (sp.N(f(point + h), num.WORK_DPS) - sp.N(f(point - h), num.WORK_DPS)) / (2 * sp.Float(H, num.WORK_DPS))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


FLOAT_ACTIVATIONS = {
    "identity": lambda x: x,
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "relu": lambda x: x if x > 0 else 0.0,
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    "softplus": lambda x: math.log1p(math.exp(x)),
    "elu": lambda x: x if x > 0 else math.expm1(x),
    "silu": lambda x: x * _sigmoid(x),
    "gelu": lambda x: x * (1 + math.erf(x / math.sqrt(2))) / 2,
    "gelu_tanh": lambda x: x / 2 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "step": lambda x: 1.0 if x >= 0 else 0.0,
}


class FloatNetwork:
    """The forward pass and the loss in plain floats, from the network's numbers."""

    def __init__(self, network, W=None, b=None):
        self.network = network
        self.W = W or [[[float(w) for w in row] for row in layer.weights] for layer in network.layers]
        self.b = b or [[float(v) for v in layer.bias] for layer in network.layers]

    def moved(self, which: Kind, layer: int, idx: tuple, h: float) -> FloatNetwork:
        """The network with a weight (Kind.WEIGHT) or a bias (Kind.BIAS) moved by h at layer, idx."""
        W = [[list(r) for r in m] for m in self.W]
        b = [list(v) for v in self.b]
        if which is Kind.WEIGHT:
            W[layer - 1][idx[0]][idx[1]] += h
        elif which is Kind.KERNEL:  # a conv1d kernel entry kⱼ: column i + j of every row i of the banded matrix
            for i, row in enumerate(W[layer - 1]):
                row[i + idx[0]] += h
        elif self.network.layers[layer - 1].kernel is not None:  # a conv1d layer's one bias, at every position
            b[layer - 1] = [v + h for v in b[layer - 1]]
        else:
            b[layer - 1][idx[0]] += h
        return FloatNetwork(self.network, W, b)

    def forward(self):
        """(z per layer, a per layer, loss), with index 0 the input (z[0] empty)."""
        a = [float(v) for v in self.network.input]
        zs, acts = [[]], [a]
        for layer, W, b in zip(self.network.layers, self.W, self.b):
            z = [sum(w * x for w, x in zip(row, a)) + bj for row, bj in zip(W, b)]
            if layer.activation == "softmax":
                top = max(z)
                e = [math.exp(v - top) for v in z]
                a = [v / sum(e) for v in e]
            else:
                a = [FLOAT_ACTIVATIONS[layer.activation](v) for v in z]
                if layer.skip is not None:  # a residual layer: f(z) + a⁽ᵏ⁾
                    a = [v + s for v, s in zip(a, acts[layer.skip])]
            zs.append(z)
            acts.append(a)
        t = [float(v) for v in self.network.target]
        n = len(a)
        squares = sum((tj - oj) ** 2 for oj, tj in zip(a, t))
        loss = {
            "half_sse": lambda: squares / 2,
            "sse": lambda: squares,
            "mse": lambda: squares / n,
            "bce": lambda: -sum(tj * math.log(oj) + (1 - tj) * math.log(1 - oj) for oj, tj in zip(a, t)) / n,
            "cross_entropy": lambda: -sum(tj * math.log(oj) for oj, tj in zip(a, t) if tj),
        }[self.network.loss]()
        return zs, acts, loss

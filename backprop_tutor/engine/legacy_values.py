"""Names for the quantities a template part can ask for, resolved against a solution.

Network problems (indices 0-based, layers 1-based, as in PRODUCT.md):
  x[k]  t[j]  W2[j][k]  b2[j]          the given numbers
  z1[j]  a1[j]  fprime1[j]             forward pass; fprime is f′(z)
  loss  loss_after  dL_da[j]           the loss, after one step, ∂L/∂a⁽ᴸ⁾
  delta2[j]  dW2[j][k]  db2[j]         backward pass and gradients
  W2_new[j][k]  b2_new[j]              after one step of gradient descent
  nudge(W2[0][0], 0.01)                (L(w+h) − L(w))/h
Leaving out trailing indices asks for the whole vector or matrix: delta1, dW2, a1.

Activation problems: value, derivative_at (numbers), derivative (an expression in z).
Expression problems: value, grad[x] (the derivative of the output with respect to x).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from backprop_tutor.engine.backprop import NetworkSolution, Q, local_slopes, loss_at, nudged, parameters
from backprop_tutor.engine.numbers import WORK_DPS

_NETWORK = re.compile(r"(?P<name>z|a|fprime|delta|dW|db|W|b)(?P<layer>\d+)(?P<new>_new)?(?P<idx>(?:\[\d+\])*)"
                      r"|(?P<plain>x|t|dL_da|loss|loss_after)(?P<idx2>(?:\[\d+\])*)")
_NUDGE = re.compile(r"nudge\(\s*(?P<p>W|b)(?P<layer>\d+)(?P<idx>(?:\[\d+\])+)\s*,\s*(?P<h>[0-9.eE+-]+)\s*\)")
_INDEX = re.compile(r"\[(\d+)\]")


class QuantityError(ValueError):
    """A quantity name that the problem does not have; the message says why."""


@dataclass(frozen=True)
class Value:
    """A resolved quantity: numbers (scalar, vector or matrix of 50-digit Floats) or an expression."""

    approx: object  # sp.Expr | tuple | tuple[tuple]
    exact: object = None
    expression: bool = False  # True: a symbolic answer in `variables`
    variables: tuple[str, ...] = ()

    @property
    def form(self) -> str:
        if self.expression:
            return "expression"
        if isinstance(self.approx, tuple):
            return "matrix" if self.approx and isinstance(self.approx[0], tuple) else "vector"
        return "number"


def network_value(sol: NetworkSolution, text: str, exact: bool = False) -> Value:
    """The quantity's decimals; with exact=True also its exact form (computing the exact pass)."""
    value = _network_value(sol, text, sol.exact if exact else sol.numeric)
    return value if exact else Value(value.approx, None)


def _network_value(sol: NetworkSolution, text: str, e) -> Value:
    text = text.replace(" ", "")
    nudge = _NUDGE.fullmatch(text)
    if nudge:
        return _nudge(sol, nudge)
    match = _NETWORK.fullmatch(text)
    if not match:
        raise QuantityError(f"{text!r} is not a quantity; use names such as z1[0], a2[1], delta2[0], dW1[0][1], "
                            "db2[0], W2_new[0][0], loss, loss_after or nudge(W2[0][0], 0.01)")
    n, L = sol.numeric, sol.depth
    if match["plain"]:
        name, idx = match["plain"], _indices(match["idx2"])
        table = {"x": (n.a[0], e.a[0]), "t": (_given(sol.network.target),) * 2, "dL_da": (n.dL_da, e.dL_da),
                 "loss": (n.loss, e.loss), "loss_after": (n.loss_after, e.loss_after)}
        approx, exact = table[name]
        if name == "t":
            exact = sol.network.target
        return _index(approx, exact, idx, text)
    name, layer, new, idx = match["name"], int(match["layer"]), bool(match["new"]), _indices(match["idx"])
    if not 1 <= layer <= L and not (name == "a" and layer == 0):
        raise QuantityError(f"{text!r}: the network has layers 1 to {L}")
    if new and name not in ("W", "b"):
        raise QuantityError(f"{text!r}: only W and b have an updated value (_new)")
    if name == "W":
        pair = (n.W_new[layer], e.W_new[layer]) if new else (_given_matrix(sol, layer), sol.network.layers[layer - 1].weights)
    elif name == "b":
        pair = (n.b_new[layer], e.b_new[layer]) if new else (_given(sol.network.layers[layer - 1].bias), sol.network.layers[layer - 1].bias)
    elif name == "fprime":
        activation = sol.network.layers[layer - 1].activation
        if activation == "softmax":
            raise QuantityError(f"{text!r}: softmax has a Jacobian, not one f′ per unit; ask for delta instead")
        slopes = local_slopes(activation, tuple(Q(v, x if isinstance(x, sp.Basic) and not x.is_Float else None)
                                                for v, x in zip(n.z[layer], e.z[layer])))
        pair = (tuple(q.approx for q in slopes), tuple(q.exact for q in slopes))
    else:
        field = {"z": "z", "a": "a", "delta": "delta", "dW": "grad_W", "db": "grad_b"}[name]
        pair = (getattr(n, field)[layer], getattr(e, field)[layer])
    return _index(*pair, idx, text)


def _given(values) -> tuple:
    return tuple(sp.Float(v, WORK_DPS) for v in values)


def _given_matrix(sol: NetworkSolution, layer: int) -> tuple:
    return tuple(_given(row) for row in sol.network.layers[layer - 1].weights)


def _indices(text: str) -> tuple[int, ...]:
    return tuple(int(i) for i in _INDEX.findall(text))


def _index(approx, exact, idx: tuple[int, ...], text: str) -> Value:
    for depth, i in enumerate(idx):
        if not isinstance(approx, tuple):
            raise QuantityError(f"{text!r}: too many indices (this quantity is a number)")
        if i >= len(approx):
            raise QuantityError(f"{text!r}: index {i} is out of range (there are {len(approx)} entries)")
        approx = approx[i]
        exact = exact[i] if isinstance(exact, tuple) else None
    return Value(approx, exact)


def _nudge(sol: NetworkSolution, match: re.Match) -> Value:
    layer, idx = int(match["layer"]), _indices(match["idx"])
    h = sp.Rational(match["h"])
    if h == 0:
        raise QuantityError("nudge(...): h must not be 0")
    if not 1 <= layer <= sol.depth:
        raise QuantityError(f"nudge: the network has layers 1 to {sol.depth}")
    W, b = parameters(sol.network)
    try:
        if match["p"] == "W":
            j, k = idx
            W[layer][j][k]
            moved = loss_at(sol.network, nudged(W, layer, j, k, h), b)
        else:
            (j,) = idx
            b[layer][j]
            moved = loss_at(sol.network, W, nudged(b, layer, j, -1, h))
    except (ValueError, IndexError):
        raise QuantityError(f"nudge: {match['p']}{layer}{match['idx']} is not a parameter of this network") from None
    ratio = ((moved - sol.numeric.loss) / sp.Float(h, WORK_DPS)).evalf(WORK_DPS)
    return Value(ratio, None)

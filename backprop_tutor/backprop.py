"""The backprop engine: network → forward pass, loss, deltas, gradients, one descent step.

The same code runs twice over SymPy numbers: once in 50-digit Floats (every decimal the tool
prints) and once exactly (Rationals, exp, log …) for the exact forms. Each node is computed once
from the layer below (forward) or the layer above (backward), so cost grows linearly with the
number of weights. Exact forms grow with depth, so the exact pass stops — and says so — once a
value exceeds EXACT_NODE_LIMIT; the decimals never depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import sympy as sp

from backprop_tutor import activations, losses
from backprop_tutor.network import Layer, Network
from backprop_tutor.numbers import WORK_DPS

EXACT_NODE_LIMIT = 400
FD_STEPS = ("0.1", "0.01", "0.001", "0.0001")

Vector = tuple[sp.Expr, ...]
Matrix = tuple[Vector, ...]


@dataclass(frozen=True)
class Pass:
    """Every quantity of one evaluation, indexed like PRODUCT.md: a[0] is the input, z[0] unused."""

    z: tuple[Vector, ...] = ()
    a: tuple[Vector, ...] = ()
    loss: sp.Expr | None = None
    dL_da: Vector = ()  # ∂L/∂a⁽ᴸ⁾
    delta: tuple[Vector, ...] = ()  # delta[l] = ∂L/∂z⁽ˡ⁾, delta[0] unused
    grad_W: tuple[Matrix, ...] = ()
    grad_b: tuple[Vector, ...] = ()
    W_new: tuple[Matrix, ...] = ()
    b_new: tuple[Vector, ...] = ()
    loss_after: sp.Expr | None = None
    complete: bool = True  # False when the exact pass stopped early


@dataclass(frozen=True)
class NudgeCheck:
    """(L(w+h) − L(w))/h for shrinking h beside the exact ∂L/∂w: the derivative, seen."""

    layer: int
    j: int
    k: int  # k == -1: the bias b⁽ˡ⁾ⱼ
    derivative: sp.Expr
    rows: tuple[tuple[sp.Rational, sp.Expr, sp.Expr], ...]  # (h, L(w+h), ratio)


@dataclass(frozen=True)
class NetworkSolution:
    network: Network
    numeric: Pass
    exact: Pass
    nudges: tuple[NudgeCheck, ...] = field(default=())

    @property
    def depth(self) -> int:
        return len(self.network.layers)


class _ExactTooLarge(Exception):
    pass


class _Arithmetic:
    """How the pass turns results into numbers: rounding to Floats, or exact with a size guard."""

    def __init__(self, exact: bool):
        self.exact = exact

    def number(self, value: sp.Rational) -> sp.Expr:
        return value if self.exact else sp.Float(value, WORK_DPS)

    def done(self, value: sp.Expr) -> sp.Expr:
        if not self.exact:
            return value if value.is_Float else value.evalf(WORK_DPS)
        if _tree_size(value, EXACT_NODE_LIMIT) > EXACT_NODE_LIMIT:
            raise _ExactTooLarge
        return value


def _tree_size(expr: sp.Expr, limit: int) -> int:
    """Nodes in the expression tree, counting stops just past `limit` (cheap for huge trees)."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > limit:
            break
    return count


def solve_network(network: Network, nudge: bool = True) -> NetworkSolution:
    numeric = _run(network, _Arithmetic(exact=False))
    exact = _run(network, _Arithmetic(exact=True))
    checks = _nudge_checks(network, numeric) if nudge else ()
    return NetworkSolution(network, numeric, exact, checks)


def _run(network: Network, arith: _Arithmetic) -> Pass:
    """One full evaluation; the exact pass returns what it reached before growing too large."""
    result = Pass(complete=False)
    try:
        W, b = _parameters(network, arith)
        x = tuple(arith.number(v) for v in network.input)
        t = tuple(arith.number(v) for v in network.target)
        z, a = forward(network.layers, W, b, x, arith)
        loss_fn = losses.LOSSES[network.loss]
        loss = arith.done(loss_fn.value(a[-1], t))
        result = replace(result, z=z, a=a, loss=loss)
        dL_da = tuple(arith.done(g) for g in loss_fn.output_gradient(a[-1], t))
        result = replace(result, dL_da=dL_da)
        delta = backward(network.layers, W, z, dL_da, arith)
        grad_W = tuple(
            tuple(tuple(arith.done(d * ak) for ak in a[l - 1]) for d in delta[l]) if l else ()
            for l in range(len(a))
        )
        result = replace(result, delta=delta, grad_W=grad_W, grad_b=delta)
        rate = arith.number(network.learning_rate)
        W_new = tuple(
            tuple(tuple(arith.done(w - rate * g) for w, g in zip(row, grow)) for row, grow in zip(Wl, gWl))
            for Wl, gWl in zip(W, grad_W)
        )
        b_new = tuple(tuple(arith.done(v - rate * g) for v, g in zip(bl, gbl)) for bl, gbl in zip(b, delta))
        result = replace(result, W_new=W_new, b_new=b_new)
        _, a_after = forward(network.layers, W_new, b_new, x, arith)
        loss_after = arith.done(loss_fn.value(a_after[-1], t))
        return replace(result, loss_after=loss_after, complete=True)
    except _ExactTooLarge:
        return result


def _parameters(network: Network, arith: _Arithmetic) -> tuple[tuple[Matrix, ...], tuple[Vector, ...]]:
    """W[l], b[l] for l = 1..L; index 0 is an empty placeholder so indices match the notation."""
    W = ((),) + tuple(tuple(tuple(arith.number(w) for w in row) for row in layer.weights) for layer in network.layers)
    b = ((),) + tuple(tuple(arith.number(v) for v in layer.bias) for layer in network.layers)
    return W, b


def forward(
    layers: Sequence[Layer], W: Sequence[Matrix], b: Sequence[Vector], x: Vector, arith: _Arithmetic
) -> tuple[tuple[Vector, ...], tuple[Vector, ...]]:
    """z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f_l(z⁽ˡ⁾), layer by layer."""
    z: list[Vector] = [()]
    a: list[Vector] = [x]
    for l, layer in enumerate(layers, start=1):
        zl = tuple(
            arith.done(sp.Add(*[w * ak for w, ak in zip(row, a[-1])], bj)) for row, bj in zip(W[l], b[l])
        )
        z.append(zl)
        a.append(_activate(layer.activation, zl, arith))
    return tuple(z), tuple(a)


def _activate(name: str, zl: Vector, arith: _Arithmetic) -> Vector:
    if name == activations.SOFTMAX:
        return tuple(arith.done(p) for p in activations.softmax(list(zl)))
    f = activations.ELEMENTWISE[name]
    return tuple(arith.done(f(v)) for v in zl)


def local_slopes(name: str, zl: Vector, arith: _Arithmetic) -> Vector:
    """f′(zⱼ) for an elementwise activation."""
    f = activations.ELEMENTWISE[name]
    return tuple(arith.done(f.prime(v)) for v in zl)


def softmax_jacobian_at(zl: Vector, arith: _Arithmetic) -> Matrix:
    """∂pⱼ/∂zₖ evaluated at z, from SymPy's derivative of the softmax."""
    J, symbols = activations.softmax_jacobian(len(zl))
    subs = dict(zip(symbols, zl))
    return tuple(tuple(arith.done(J[j, k].xreplace(subs)) for k in range(len(zl))) for j in range(len(zl)))


def backward(
    layers: Sequence[Layer], W: Sequence[Matrix], z: Sequence[Vector], dL_da: Vector, arith: _Arithmetic
) -> tuple[Vector, ...]:
    """δ⁽ᴸ⁾ from the loss, then δ⁽ˡ⁾ = f′(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾, each reusing the layer above."""
    L = len(layers)
    delta: list[Vector] = [()] * (L + 1)
    out = layers[-1].activation
    if out == activations.SOFTMAX:
        J = softmax_jacobian_at(z[L], arith)
        n = len(dL_da)
        delta[L] = tuple(arith.done(sp.Add(*[dL_da[j] * J[j][k] for j in range(n)])) for k in range(n))
    else:
        slopes = local_slopes(out, z[L], arith)
        delta[L] = tuple(arith.done(g * s) for g, s in zip(dL_da, slopes))
    for l in range(L - 1, 0, -1):
        slopes = local_slopes(layers[l - 1].activation, z[l], arith)
        above = delta[l + 1]
        delta[l] = tuple(
            arith.done(slopes[k] * sp.Add(*[W[l + 1][j][k] * above[j] for j in range(len(above))]))
            for k in range(len(slopes))
        )
    return tuple(delta)


def loss_at(network: Network, W: Sequence[Matrix], b: Sequence[Vector]) -> sp.Expr:
    """The loss for other parameters (numeric pass): what a nudge or a descent step changes."""
    arith = _Arithmetic(exact=False)
    x = tuple(arith.number(v) for v in network.input)
    t = tuple(arith.number(v) for v in network.target)
    _, a = forward(network.layers, W, b, x, arith)
    return arith.done(losses.LOSSES[network.loss].value(a[-1], t))


def nudged(params, l: int, j: int, k: int, h: sp.Expr):
    """A copy of the W (k ≥ 0) or b (k == −1) parameters with one entry moved by h."""
    if k >= 0:
        row = list(params[l][j])
        row[k] = row[k] + h
        layer = list(params[l])
        layer[j] = tuple(row)
    else:
        layer = list(params[l])
        layer[j] = layer[j] + h
    out = list(params)
    out[l] = tuple(layer)
    return tuple(out)


def _nudge_checks(network: Network, numeric: Pass) -> tuple[NudgeCheck, ...]:
    arith = _Arithmetic(exact=False)
    W, b = _parameters(network, arith)
    L = len(network.layers)
    chosen = [(L, 0, 0)] + ([(1, 0, 0)] if L > 1 else []) + [(L, 0, -1)]
    checks = []
    for l, j, k in chosen:
        derivative = numeric.grad_W[l][j][k] if k >= 0 else numeric.grad_b[l][j]
        rows = []
        for text in FD_STEPS:
            h = sp.Rational(text)
            hf = arith.number(h)
            moved = loss_at(network, nudged(W, l, j, k, hf), b) if k >= 0 else loss_at(network, W, nudged(b, l, j, k, hf))
            rows.append((h, moved, arith.done((moved - numeric.loss) / hf)))
        checks.append(NudgeCheck(l, j, k, derivative, tuple(rows)))
    return tuple(checks)



"""The backprop engine: network → forward pass, loss, deltas, gradients, one descent step.

Every quantity is computed once, as a pair: a 50-digit SymPy Float (the decimals the tool
prints) and its exact SymPy form (Rationals, exp, log …). Each node comes from the layer below
(forward) or the layer above (backward), so cost grows linearly with the number of weights.

Exact forms of deep nodes are nested transcendental expressions. SymPy's automatic evaluation
asks assumptions of them (positive? zero?), and each question re-evaluates the whole nest
numerically, which costs seconds on a three-layer net; so exact results built from anything
but rationals are assembled unevaluated, and a form larger than EXACT_NODE_LIMIT nodes is
dropped (None) — the decimal beside it never depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import mpmath

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import losses
from backprop_tutor.engine.network import Layer, Network
from backprop_tutor.engine.numbers import WORK_DPS

EXACT_NODE_LIMIT = 400
FD_STEPS = ("0.1", "0.01", "0.001", "0.0001")


@dataclass(frozen=True)
class Q:
    """One quantity: its numeric value and, while it stays small, its exact form."""

    approx: sp.Float
    exact: sp.Expr | None


Vector = tuple  # tuple of Q (or of SymPy numbers in a Pass)
Matrix = tuple


@dataclass(frozen=True)
class Pass:
    """Every quantity of one evaluation, indexed like PRODUCT.md: a[0] is the input, z[0],
    delta[0], grad_W[0] … are empty so that index l means layer l. Entries are SymPy numbers
    (the numeric view) or exact forms / None (the exact view)."""

    z: tuple
    a: tuple
    loss: sp.Expr | None
    dL_da: tuple  # ∂L/∂a⁽ᴸ⁾
    delta: tuple  # delta[l] = ∂L/∂z⁽ˡ⁾
    grad_W: tuple
    grad_b: tuple
    W_new: tuple
    b_new: tuple
    loss_after: sp.Expr | None

    @property
    def complete(self) -> bool:
        """True when no exact form was dropped for size."""
        return not _contains_none(
            (self.z, self.a, self.loss, self.dL_da, self.delta, self.grad_W, self.W_new, self.b_new, self.loss_after)
        )


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
    nudges: tuple[NudgeCheck, ...] = ()

    @property
    def depth(self) -> int:
        return len(self.network.layers)

    @cached_property
    def exact(self) -> Pass:
        """The exact forms, computed on first use: keys, steps and grading need only the
        decimals, so generating a problem never pays for them."""
        return _view(_run(self.network, exact=True), "exact")


def _contains_none(value) -> bool:
    if value is None:
        return True
    if isinstance(value, tuple):
        return any(_contains_none(v) for v in value)
    return False


def _tree_size(expr: sp.Expr, limit: int) -> int:
    """Nodes in the expression tree, counting stops just past `limit` (cheap for huge trees)."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > limit:
            break
    return count


def number(value: sp.Rational, exact: bool = True) -> Q:
    """A given number. Without its exact form, everything computed from it is numeric only."""
    return Q(sp.Float(value, WORK_DPS), value if exact else None)


def add(*terms: sp.Expr) -> sp.Expr:
    """Σ terms. Floats are added pairwise by Float's own operator, which works on the binary
    mantissas directly; sp.Add would flatten, sort and query assumptions for every sum, and
    that made the numeric pass most of a problem's cost."""
    if all(t.is_Float for t in terms):
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total
    return sp.Add(*terms)


def mul(*factors: sp.Expr) -> sp.Expr:
    """Π factors, with the same fast path as `add`."""
    if all(f.is_Float for f in factors):
        product = factors[0]
        for f in factors[1:]:
            product = product * f
        return product
    return sp.Mul(*factors)


def compute(build: Callable[..., sp.Expr], *args: Q, exact: bool = True) -> Q:
    """build(*values) on both views. Exact: evaluated normally when every input is rational,
    otherwise assembled unevaluated; None when an input is None or the result is too large."""
    approx = build(*[a.approx for a in args])
    if not approx.is_Float:
        approx = approx.evalf(WORK_DPS)
    if not exact or any(a.exact is None for a in args):
        return Q(approx, None)
    values = [a.exact for a in args]
    if all(v.is_Rational for v in values):
        value = build(*values)
    else:
        with sp.evaluate(False):
            value = build(*values)
    if _tree_size(value, EXACT_NODE_LIMIT) > EXACT_NODE_LIMIT:
        value = None
    return Q(approx, value)


def _apply(f: Callable[..., sp.Expr], q: Q) -> Q:
    """An activation (or its derivative) at q; the numeric twin chooses a Piecewise branch."""
    return compute(lambda v: f(v, q.approx) if not v.is_Float else f(v), q)


def solve_network(network: Network, nudge: bool = True) -> NetworkSolution:
    numeric = _view(_run(network, exact=False), "approx")
    checks = _nudge_checks(network, numeric) if nudge else ()
    return NetworkSolution(network, numeric, checks)


def _view(result: dict, attribute: str) -> Pass:
    def pick(value):
        if isinstance(value, tuple):
            return tuple(pick(v) for v in value)
        return getattr(value, attribute)

    return Pass(**{key: pick(value) for key, value in result.items()})


def _run(network: Network, exact: bool) -> dict:
    W, b = parameters(network, exact)
    x = tuple(number(v, exact) for v in network.input)
    t = tuple(number(v, exact) for v in network.target)
    z, a = forward(network.layers, W, b, x)
    loss_fn = losses.LOSSES[network.loss]
    loss = compute(lambda *ot: loss_fn.value(ot[: len(t)], ot[len(t):]), *a[-1], *t)
    dL_da = tuple(
        compute(lambda *ot, j=j: loss_fn.output_gradient(ot[: len(t)], ot[len(t):])[j], *a[-1], *t)
        for j in range(len(t))
    )
    delta = backward(network.layers, W, z, dL_da)
    grad_W = ((),) + tuple(
        tuple(tuple(compute(mul, d, ak) for ak in a[l - 1]) for d in delta[l]) for l in range(1, len(a))
    )
    rate = number(network.learning_rate, exact)
    W_new = ((),) + tuple(
        tuple(tuple(compute(_descend, w, rate, g) for w, g in zip(row, grow)) for row, grow in zip(W[l], grad_W[l]))
        for l in range(1, len(a))
    )
    b_new = ((),) + tuple(
        tuple(compute(_descend, v, rate, g) for v, g in zip(b[l], delta[l])) for l in range(1, len(a))
    )
    _, a_after = forward(network.layers, W_new, b_new, x)
    loss_after = compute(lambda *ot: loss_fn.value(ot[: len(t)], ot[len(t):]), *a_after[-1], *t)
    return dict(z=z, a=a, loss=loss, dL_da=dL_da, delta=delta, grad_W=grad_W, grad_b=delta,
                W_new=W_new, b_new=b_new, loss_after=loss_after)


def _descend(value: sp.Expr, rate: sp.Expr, gradient: sp.Expr) -> sp.Expr:
    """One step of gradient descent: value − η·gradient."""
    if value.is_Float and rate.is_Float and gradient.is_Float:
        return value - rate * gradient
    return sp.Add(value, sp.Mul(-1, rate, gradient))


def parameters(network: Network, exact: bool = False) -> tuple[tuple, tuple]:
    """W[l], b[l] for l = 1..L as quantities; index 0 is empty so indices match the notation."""
    W = ((),) + tuple(tuple(tuple(number(w, exact) for w in row) for row in layer.weights) for layer in network.layers)
    b = ((),) + tuple(tuple(number(v, exact) for v in layer.bias) for layer in network.layers)
    return W, b


def forward(layers: Sequence[Layer], W: Sequence, b: Sequence, x: tuple) -> tuple[tuple, tuple]:
    """z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f_l(z⁽ˡ⁾), layer by layer."""
    z: list = [()]
    a: list = [x]
    for l, layer in enumerate(layers, start=1):
        zl = tuple(compute(_affine(len(a[-1])), *row, *a[-1], bj) for row, bj in zip(W[l], b[l]))
        z.append(zl)
        a.append(_activate(layer.activation, zl))
    return tuple(z), tuple(a)


def _affine(n: int) -> Callable[..., sp.Expr]:
    """(w₀ … wₙ₋₁, a₀ … aₙ₋₁, b) ↦ Σ wₖaₖ + b."""
    return lambda *args: add(*[mul(args[k], args[n + k]) for k in range(n)], args[2 * n])


def _dot(n: int) -> Callable[..., sp.Expr]:
    return lambda *args: add(*[mul(args[k], args[n + k]) for k in range(n)])


def _activate(name: str, zl: tuple) -> tuple:
    if name == activations.SOFTMAX:
        return tuple(compute(lambda *v, j=j: activations.softmax(list(v))[j], *zl) for j in range(len(zl)))
    f = activations.ELEMENTWISE[name]
    return tuple(_apply(f, v) for v in zl)


def local_slopes(name: str, zl: tuple) -> tuple:
    """f′(zⱼ) for an elementwise activation."""
    f = activations.ELEMENTWISE[name]
    return tuple(_apply(f.prime, v) for v in zl)


def softmax_jacobian_at(zl: tuple) -> tuple:
    """∂pⱼ/∂zₖ evaluated at z, from SymPy's derivative of the softmax."""
    J, symbols = activations.softmax_jacobian(len(zl))
    return tuple(
        tuple(compute(lambda *v, e=J[j, k]: e.xreplace(dict(zip(symbols, v))), *zl) for k in range(len(zl)))
        for j in range(len(zl))
    )


def backward(layers: Sequence[Layer], W: Sequence, z: Sequence, dL_da: tuple) -> tuple:
    """δ⁽ᴸ⁾ from the loss, then δ⁽ˡ⁾ = f′(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾, each reusing the layer above."""
    L = len(layers)
    delta: list = [()] * (L + 1)
    n = len(dL_da)
    if layers[-1].activation == activations.SOFTMAX:
        J = softmax_jacobian_at(z[L])
        delta[L] = tuple(compute(_dot(n), *dL_da, *(J[j][k] for j in range(n))) for k in range(n))
    else:
        slopes = local_slopes(layers[-1].activation, z[L])
        delta[L] = tuple(compute(mul, g, s) for g, s in zip(dL_da, slopes))
    for l in range(L - 1, 0, -1):
        slopes = local_slopes(layers[l - 1].activation, z[l])
        above = delta[l + 1]
        m = len(above)
        delta[l] = tuple(
            compute(lambda s, *wd: mul(s, _dot(m)(*wd)), slopes[k], *(row[k] for row in W[l + 1]), *above)
            for k in range(len(slopes))
        )
    return tuple(delta)


def loss_at(network: Network, W: Sequence, b: Sequence) -> sp.Expr:
    """The loss for other parameters, numerically: what a nudge or a descent step changes.

    Runs the forward pass in mpmath at WORK_DPS with the same lambdified activation and loss
    functions the numeric pass uses: a finite-difference table needs a dozen of these per
    problem, and SymPy Float arithmetic would make them most of a variant's cost."""
    def mp(value) -> mpmath.mpf:
        value = value.approx if isinstance(value, Q) else value
        return mpmath.mpf(value._mpf_) if value.is_Float else mpmath.mpf(value.p) / value.q

    with mpmath.workdps(WORK_DPS):
        a = [mp(v) for v in network.input]
        for l, layer in enumerate(network.layers, start=1):
            zl = [mpmath.fsum(mp(w) * ak for w, ak in zip(row, a)) + mp(bj) for row, bj in zip(W[l], b[l])]
            if layer.activation == activations.SOFTMAX:
                a = [mpmath.mpf(p) for p in _softmax_numeric(len(zl))(*zl)]
            else:
                f = activations.ELEMENTWISE[layer.activation]._numeric
                a = [mpmath.mpf(f(v)) for v in zl]
        value = mpmath.mpf(losses.numeric_value(network.loss, len(a))(*a, *(mp(v) for v in network.target)))
        return sp.Float._new(value._mpf_, mpmath.mp.prec)


@lru_cache(maxsize=None)
def _softmax_numeric(n: int):
    zs = sp.symbols(f"z0:{n}", real=True)
    return sp.lambdify(zs, activations.softmax(list(zs)), "mpmath")


def nudged(params: tuple, l: int, j: int, k: int, h: sp.Rational) -> tuple:
    """A copy of the W (k ≥ 0) or b (k == −1) parameters, numeric only, with one entry moved by h."""
    def shift(q: Q) -> Q:
        return Q(q.approx + sp.Float(h, WORK_DPS), None)

    def strip(value):
        return tuple(strip(v) for v in value) if isinstance(value, tuple) else Q(value.approx, None)

    out = [strip(p) for p in params]
    layer = list(out[l])
    if k >= 0:
        row = list(layer[j])
        row[k] = shift(row[k])
        layer[j] = tuple(row)
    else:
        layer[j] = shift(layer[j])
    out[l] = tuple(layer)
    return tuple(out)


def _nudge_checks(network: Network, numeric: Pass) -> tuple[NudgeCheck, ...]:
    W, b = parameters(network)
    L = len(network.layers)
    chosen = [(L, 0, 0)] + ([(1, 0, 0)] if L > 1 else []) + [(L, 0, -1)]
    checks = []
    for l, j, k in chosen:
        derivative = numeric.grad_W[l][j][k] if k >= 0 else numeric.grad_b[l][j]
        rows = []
        for text in FD_STEPS:
            h = sp.Rational(text)
            moved = loss_at(network, nudged(W, l, j, k, h), b) if k >= 0 else loss_at(network, W, nudged(b, l, j, k, h))
            rows.append((h, moved, ((moved - numeric.loss) / sp.Float(h, WORK_DPS)).evalf(WORK_DPS)))
        checks.append(NudgeCheck(l, j, k, derivative, tuple(rows)))
    return tuple(checks)

"""Mistake diagnosis derived from the derivation, not listed per template.

Each mistake is the backprop derivation re-run with one classic slip (the f′ factor left out,
the sign of the error flipped, the ½ dropped, the update's sign flipped …). A wrong answer
that equals what a slip produces is diagnosed as that slip; because later quantities are
computed from the slipped ones, the slip is recognised wherever it shows up downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import losses
from backprop_tutor.engine.backprop import (NetworkSolution, Pass, Q, _dot, compute, mul, forward, local_slopes,
                                     parameters, softmax_jacobian_at)
from backprop_tutor.engine.network import Network
from backprop_tutor.engine.legacy_values import QuantityError, Value, network_value


@dataclass(frozen=True)
class Slip:
    name: str
    feedback: str  # what went wrong and where to look; never the answer


SLIPS = (
    Slip("missing_fprime", "The activation's derivative is missing: δ = ∂L/∂a · f′(z); check the f′(z) factor."),
    Slip("fprime_at_a", "f′ was evaluated at the activation a instead of at z; f′ takes the pre-activation z."),
    Slip("f_instead_of_fprime", "You multiplied by the activation f(z) itself, not by its derivative f′(z)."),
    Slip("error_sign", "The sign of the error is flipped: ∂L/∂o is (o − t), not (t − o)."),
    Slip("half_dropped", "The ½ of the loss cancels the 2 from the power rule; you kept the 2."),
    Slip("two_forgotten", "This loss has no ½: the power rule leaves a factor 2 in ∂L/∂o."),
    Slip("mean_forgotten", "The mean squared error divides by n, the number of outputs; the 1/n is missing."),
    Slip("weights_transposed", "The weight indices are swapped in the hidden delta: w⁽ˡ⁺¹⁾ⱼₖ goes from unit k "
                               "to unit j above, so δ⁽ˡ⁾ₖ sums w⁽ˡ⁺¹⁾ⱼₖ·δ⁽ˡ⁺¹⁾ⱼ over j (a column of W, not a row)."),
    Slip("gradient_transposed", "The gradient's indices are swapped: ∂L/∂w⁽ˡ⁾ⱼₖ pairs δ⁽ˡ⁾ⱼ of the unit above "
                                "with aₖ of the unit below (row j, column k)."),
    Slip("fanout_term_dropped", "A term of the hidden delta's sum is missing: a hidden unit feeds every unit of "
                                "the next layer, so δ sums w·δ over all of them."),
    Slip("update_sign", "The update went uphill: gradient descent subtracts, w ← w − η·∂L/∂w."),
    Slip("rate_forgotten", "The learning rate is missing from the update: w ← w − η·∂L/∂w."),
    Slip("updated_weights_used", "The hidden delta used the already-updated weights; backprop uses the weights of "
                                 "the forward pass, and all updates happen after the backward pass."),
)
_BY_NAME = {s.name: s for s in SLIPS}


def diagnoses(sol: NetworkSolution, quantity: str) -> tuple[tuple[str, Value, str], ...]:
    """(slip name, the value the slip gives for `quantity`, feedback), for slips that change it."""
    correct = network_value(sol, quantity).approx
    out = []
    for slip in sorted(SLIPS, key=lambda s: s.name not in _FIRST_FOR.get(_stage(quantity), ())):
        variant = _variant(sol.network, slip.name)
        if variant is None:
            continue
        try:
            value = network_value(NetworkSolution(sol.network, variant), quantity)
        except (QuantityError, IndexError):
            continue
        if not _same(value.approx, correct):
            out.append((slip.name, value, slip.feedback))
    return tuple(out)


# Slips that give the same number (with η = 0.5, forgetting η equals keeping the 2 of the power
# rule) are told apart by where the part is in the derivation: the slip of that stage comes first.
_FIRST_FOR = {
    "update": ("update_sign", "rate_forgotten"),
    "hidden": ("fanout_term_dropped", "weights_transposed", "gradient_transposed", "updated_weights_used"),
}


def _stage(quantity: str) -> str:
    if "_new" in quantity or quantity.startswith("loss_after"):
        return "update"
    return "hidden" if quantity.startswith(("delta", "dW", "db")) else "other"


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    return abs(a - b) <= 1e-12 * max(1, abs(b))


@lru_cache(maxsize=512)
def _variant(network: Network, slip: str) -> Pass | None:
    """The numeric pass with one slip, or None when the slip does not apply to this network."""
    loss_name, L = network.loss, len(network.layers)
    out_act = network.layers[-1].activation
    if slip == "half_dropped" and loss_name != "half_sse":
        return None
    if slip == "two_forgotten" and loss_name not in ("sse", "mse"):
        return None
    if slip == "mean_forgotten" and (loss_name != "mse" or len(network.target) == 1):
        return None
    if slip in ("missing_fprime", "fprime_at_a", "f_instead_of_fprime") and all(
            layer.activation in ("identity", activations.SOFTMAX) for layer in network.layers):
        return None
    if slip in ("fanout_term_dropped", "updated_weights_used", "weights_transposed") and L < 2:
        return None
    W, b = parameters(network)
    W, b = _numeric(W), _numeric(b)
    x = tuple(Q(q.approx, None) for q in _numeric(parameters_input(network)))
    t = tuple(Q(sp.Float(v, 50), None) for v in network.target)
    z, a = forward(network.layers, W, b, x)
    loss_fn = losses.LOSSES[loss_name]
    n = len(t)
    dL_da = tuple(Q(g, None) for g in loss_fn.output_gradient([q.approx for q in a[-1]], [q.approx for q in t]))
    scale = {"error_sign": -1, "half_dropped": 2, "two_forgotten": sp.Rational(1, 2), "mean_forgotten": n}.get(slip, 1)
    dL_da = tuple(Q(q.approx * scale, None) for q in dL_da)

    def slopes(l: int) -> tuple:
        name = network.layers[l - 1].activation
        if slip == "missing_fprime":
            return tuple(Q(sp.Float(1, 50), None) for _ in z[l])
        if slip == "fprime_at_a":
            return local_slopes(name, a[l])
        if slip == "f_instead_of_fprime":
            f = activations.ELEMENTWISE[name]
            return tuple(compute(f, q, exact=False) for q in z[l])
        return local_slopes(name, z[l])

    delta: list = [()] * (L + 1)
    if out_act == activations.SOFTMAX:
        J = softmax_jacobian_at(z[L])
        delta[L] = tuple(compute(_dot(n), *dL_da, *(J[j][k] for j in range(n)), exact=False) for k in range(n))
    else:
        delta[L] = tuple(compute(mul, g, s, exact=False) for g, s in zip(dL_da, slopes(L)))
    rate = sp.Float(network.learning_rate, 50)
    W_backward = W
    for l in range(L - 1, 0, -1):
        above = delta[l + 1]
        if slip == "updated_weights_used":
            W_backward = list(W)
            W_backward[l + 1] = tuple(tuple(Q(w.approx - rate * d.approx * ak.approx, None) for w, ak in zip(row, a[l]))
                                      for row, d in zip(W[l + 1], above))
        rows = W_backward[l + 1]
        s = slopes(l)
        delta_l = []
        for k in range(len(s)):
            if slip == "weights_transposed":
                if len(rows) != len(s):
                    return None
                column = tuple(rows[k][j] for j in range(len(above)))
            else:
                column = tuple(row[k] for row in rows)
            terms = list(zip(column, above))
            if slip == "fanout_term_dropped":
                if len(terms) < 2:
                    return None
                terms = terms[:-1]
            total = sum((w.approx * d.approx for w, d in terms), sp.Float(0, 50))
            delta_l.append(Q(s[k].approx * total, None))
        delta[l] = tuple(delta_l)
    if slip == "gradient_transposed":
        if any(len(delta[l]) != len(a[l - 1]) for l in range(1, L + 1)):
            return None
        grad_W = ((),) + tuple(tuple(tuple(Q(delta[l][k].approx * a[l - 1][j].approx, None) for k in range(len(a[l - 1])))
                                     for j in range(len(delta[l]))) for l in range(1, L + 1))
    else:
        grad_W = ((),) + tuple(tuple(tuple(Q(d.approx * ak.approx, None) for ak in a[l - 1]) for d in delta[l])
                               for l in range(1, L + 1))
    step = {"update_sign": -rate, "rate_forgotten": sp.Float(1, 50)}.get(slip, rate)
    W_new = ((),) + tuple(tuple(tuple(Q(w.approx - step * g.approx, None) for w, g in zip(row, grow))
                                for row, grow in zip(W[l], grad_W[l])) for l in range(1, L + 1))
    b_new = ((),) + tuple(tuple(Q(v.approx - step * g.approx, None) for v, g in zip(b[l], delta[l]))
                          for l in range(1, L + 1))
    _, a_after = forward(network.layers, W_new, b_new, x)
    loss = loss_fn.value([q.approx for q in a[-1]], [q.approx for q in t])
    loss_after = loss_fn.value([q.approx for q in a_after[-1]], [q.approx for q in t])

    def view(value):
        return tuple(view(v) for v in value) if isinstance(value, tuple) else value.approx

    return Pass(z=view(tuple(z)), a=view(tuple(a)), loss=sp.N(loss, 50), dL_da=view(dL_da), delta=view(tuple(delta)),
                grad_W=view(grad_W), grad_b=view(tuple(delta)), W_new=view(W_new), b_new=view(b_new),
                loss_after=sp.N(loss_after, 50))


def parameters_input(network: Network) -> tuple:
    return tuple(Q(sp.Float(v, 50), None) for v in network.input)


def _numeric(params):
    if isinstance(params, tuple):
        return tuple(_numeric(p) for p in params)
    return Q(params.approx, None)


SYMBOLIC_SLIPS = {  # classic slips in writing an activation's derivative, as expressions in z
    "sigmoid": [("sigma_one_plus", "σ′ = σ(1 − σ), with a minus: check the sign inside the bracket.",
                 lambda s: s * (1 + s)),
                ("sigma_itself", "That is σ itself; its derivative is σ(1 − σ).", lambda s: s)],
    "tanh": [("one_plus_tanh_squared", "tanh′ = 1 − tanh², with a minus.", lambda t: 1 + t**2),
             ("tanh_itself", "That is tanh itself; its derivative is 1 − tanh².", lambda t: t),
             ("sech_unsquared", "sech needs the square: tanh′ = sech².", lambda t: 1 / sp.cosh(sp.atanh(t)))],
    "relu": [("relu_itself", "relu′ is not relu: it is 1 where z > 0 and 0 elsewhere.", lambda r: r)],
}


def symbolic_slips(name: str) -> tuple[tuple[str, sp.Expr, str], ...]:
    """(slip, the wrong derivative as an expression in z, feedback) for an activation."""
    f = activations.ELEMENTWISE[name]
    return tuple((slip, make(f.expr), feedback) for slip, feedback, make in SYMBOLIC_SLIPS.get(name, []))


def slip_feedback(name: str) -> str:
    return _BY_NAME[name].feedback if name in _BY_NAME else name

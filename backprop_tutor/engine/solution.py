"""Network → solution: every quantity of the forward pass, the loss, the backward pass, the
gradients, one step of gradient descent and the loss after it, plus nudge checks.

All of it is the rules (engine/rules.py) evaluated over the network's graph, at 50 digits; the
exact forms are a second evaluation of the same rules, made on first use (only the solution
JSON shows them). Layer by layer, each delta reusing the layer above, so the cost grows
linearly with the number of weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine.arithmetic import EXACT, PRECISE
from backprop_tutor.engine.entries import entries, values
from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.network import Network
from backprop_tutor.errors import NetworkError
from backprop_tutor.engine.quantities import Kind, QuantityId, of_example, q
from backprop_tutor.engine.rules import examples, gradient_of, nudged_loss, own_parameters

FD_STEPS = ("0.1", "0.01", "0.001", "0.0001")


@dataclass(frozen=True)
class Pass:
    """Every quantity of one evaluation, indexed like docs/formats.md: a[0] is the input; z[0],
    delta[0], grad_W[0] … are empty so that index l means layer l. Entries are SymPy Floats
    (the decimals) or exact forms / None (the exact view). slope[l] is () for a softmax layer."""

    z: tuple
    a: tuple
    slope: tuple  # f′(z⁽ˡ⁾)
    loss: Any
    dL_da: tuple  # ∂L/∂a⁽ᴸ⁾
    delta: tuple  # delta[l] = ∂L/∂z⁽ˡ⁾
    grad_W: tuple
    grad_b: tuple
    W_new: tuple
    b_new: tuple
    loss_after: Any
    # A mini-batch's examples, one Pass each (z … grad_b; W_new and b_new empty, loss_after None).
    # Then z, a, slope, dL_da and delta above are the first example's (their shapes are every
    # example's); loss, grad_W, grad_b, the update and loss_after are the batch's.
    examples: tuple = ()

    @property
    def complete(self) -> bool:
        """True when no exact form was dropped for size."""
        return not _contains_none((self.z, self.a, self.loss, self.dL_da, self.delta, self.grad_W, self.W_new,
                                   self.b_new, self.loss_after))


@dataclass(frozen=True)
class NudgeCheck:
    """(L(w+h) − L(w))/h for shrinking h beside the exact ∂L/∂w: the derivative, seen."""

    parameter: QuantityId  # W{l}[j][k] or b{l}[j]
    derivative: sp.Float
    rows: tuple[tuple[sp.Rational, sp.Float, sp.Float, sp.Float], ...]  # (h, L(w+h), ratio, ratio − derivative)


@dataclass(frozen=True)
class NetworkSolution:
    network: Network
    numeric: Pass
    evaluation: Evaluation = field(compare=False, repr=False)  # the 50-digit one

    @property
    def depth(self) -> int:
        return len(self.network.layers)

    def value(self, quantity: QuantityId) -> Any:
        """A quantity's decimals: a SymPy Float, or a tuple (of tuples) for a vector (matrix)."""
        return values(self.evaluation, quantity)

    def entries(self, quantity: QuantityId) -> Any:
        return entries(self.network, quantity)

    @cached_property
    def nudges(self) -> tuple[NudgeCheck, ...]:
        """The nudge checks, made on first use: a draw the template's constraints reject, or a
        problem regenerated for grading, never needs them."""
        return _nudge_checks(self.evaluation)

    @cached_property
    def exact(self) -> Pass:
        """The exact forms, computed on first use: keys, steps and grading need only the
        decimals, so generating a problem never pays for them."""
        return _pass(Evaluation(self.network, EXACT))


def solve_network(network: Network) -> NetworkSolution:
    """NetworkError when the numbers leave what the loss can take: an output that saturates to
    exactly 0 or 1 at 50 digits puts ln 0 in bce or cross-entropy."""
    evaluation = Evaluation(network, PRECISE)
    try:
        numeric = _pass(evaluation)
    except (ArithmeticError, ValueError, TypeError):
        _check_saturation(network, values(evaluation, of_example(q(Kind.A, len(network.layers)), 1 if network.examples else None)))  # names the output
        raise NetworkError("the loss or its gradient is not a finite number for these values (an output that is "
                           "exactly 0 or 1 makes ln 0)", fix="use smaller weights or inputs") from None
    for each in numeric.examples or (numeric,):
        _check_saturation(network, each.a[-1])
    # mpmath does not raise: ln 0 is −inf, and an output near 0 can make ∂L/∂o 10^434294481, more
    # than a decimal can print. Name the first such quantity rather than print inf or crash.
    for name, value in _named_values(numeric):
        if not _printable(value):
            raise NetworkError(f"{name} is not a finite number a decimal can hold (an output that is exactly 0 or "
                               "1, or almost, makes ln 0 or 1/0)", fix="use smaller weights or inputs")
    return NetworkSolution(network, numeric, evaluation)


# bce and cross-entropy take ln o and ln(1 − o); at 50 digits, an output closer than this to 0 or 1
# leaves 1 − o, and so ∂L/∂o and δ, without correct digits (δ = 0.29 where o − t = 0.5).
SATURATION_MARGIN = sp.Rational(1, 10**40)


def _check_saturation(network: Network, outputs: tuple) -> None:
    if network.loss not in ("bce", "cross_entropy"):
        return
    L = len(network.layers)
    for j, o in enumerate(outputs):
        if o < SATURATION_MARGIN or 1 - o < SATURATION_MARGIN:
            raise NetworkError(f"a{L}[{j}] = {o:.3g} is within 1e-40 of {0 if o < SATURATION_MARGIN else 1}: "
                               f"{network.loss} takes ln o and ln(1 − o), which lose every digit there",
                               fix="use smaller weights or inputs")


# A decimal prints exponents up to 999999 (Python's default context): 2^3,000,000 ≈ 10^903090.
_LARGEST_EXPONENT = 3_000_000


def _printable(value) -> bool:
    if not isinstance(value, sp.Float):
        return value is None or bool(value.is_finite)
    _, mantissa, exponent, bits = value._mpf_
    if not mantissa:  # 0, or one of mpmath's inf and nan
        return exponent == 0 and bits == 0
    return exponent + bits < _LARGEST_EXPONENT


def _named_values(numeric: Pass):
    """(`loss`, value), (`delta2[0]`, value), (`W1[0][1]` …): every number of a pass, by name."""
    for name in ("z", "a", "slope", "loss", "dL_da", "delta", "grad_W", "grad_b", "W_new", "b_new", "loss_after"):
        yield from _flatten(name, getattr(numeric, name))


def _flatten(name: str, value):
    if isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _flatten(f"{name}[{i}]", item)
    else:
        yield name, value


def _pass(evaluation: Evaluation, example: int | None = None) -> Pass:
    network = evaluation.network
    L = len(network.layers)
    layers = range(1, L + 1)
    if network.examples is not None and example is None:
        return _batch_pass(evaluation)

    def per_layer(kind: Kind, only=lambda l: True) -> tuple:
        return ((),) + tuple(values(evaluation, of_example(q(kind, l), example)) if only(l) else () for l in layers)

    if example is not None:  # one example of a batch: its own passes, no update
        return Pass(z=per_layer(Kind.Z), a=(values(evaluation, q(Kind.INPUT)._replace(example=example)),)
                    + per_layer(Kind.A)[1:], slope=_slopes(network, per_layer),
                    loss=values(evaluation, q(Kind.LOSS)._replace(example=example)),
                    dL_da=values(evaluation, q(Kind.LOSS_GRADIENT)._replace(example=example)),
                    delta=per_layer(Kind.DELTA), grad_W=per_layer(Kind.WEIGHT_GRADIENT),
                    grad_b=per_layer(Kind.BIAS_GRADIENT), W_new=(), b_new=(), loss_after=None)

    elementwise = [layer.activation != activations.SOFTMAX for layer in network.layers]
    own = partial(own_parameters, network)  # a recurrent cell's later steps have none of their own

    def dense(l: int) -> bool:
        return network.layers[l - 1].kernel is None

    return Pass(
        z=per_layer(Kind.Z),
        a=(values(evaluation, q(Kind.INPUT)),) + per_layer(Kind.A)[1:],
        slope=per_layer(Kind.SLOPE, lambda l: elementwise[l - 1]),
        loss=values(evaluation, q(Kind.LOSS)),
        dL_da=values(evaluation, q(Kind.LOSS_GRADIENT)),
        delta=per_layer(Kind.DELTA),
        grad_W=per_layer(Kind.WEIGHT_GRADIENT, lambda l: own(l) and dense(l)),  # a conv1d layer's kernel: dK1, K1_new
        grad_b=per_layer(Kind.BIAS_GRADIENT, own),
        W_new=per_layer(Kind.WEIGHT_NEW, lambda l: own(l) and dense(l)),
        b_new=per_layer(Kind.BIAS_NEW, own),
        loss_after=values(evaluation, q(Kind.LOSS_AFTER)),
    )


def _slopes(network: Network, per_layer) -> tuple:
    elementwise = [layer.activation != activations.SOFTMAX for layer in network.layers]
    return per_layer(Kind.SLOPE, lambda l: elementwise[l - 1])


def _batch_pass(evaluation: Evaluation) -> Pass:
    """The batch's loss, gradients and update beside each example's pass (see Pass.examples)."""
    network = evaluation.network
    each = tuple(_pass(evaluation, e) for e in examples(network))
    layers = range(1, len(network.layers) + 1)

    def per_layer(kind: Kind) -> tuple:
        return ((),) + tuple(values(evaluation, q(kind, l)) for l in layers)

    first = each[0]
    return Pass(z=first.z, a=first.a, slope=first.slope, loss=values(evaluation, q(Kind.LOSS)), dL_da=first.dL_da,
                delta=first.delta, grad_W=per_layer(Kind.WEIGHT_GRADIENT), grad_b=per_layer(Kind.BIAS_GRADIENT),
                W_new=per_layer(Kind.WEIGHT_NEW), b_new=per_layer(Kind.BIAS_NEW),
                loss_after=values(evaluation, q(Kind.LOSS_AFTER)), examples=each)


def _nudge_checks(evaluation: Evaluation) -> tuple[NudgeCheck, ...]:
    """The last layer's first weight, the first layer's first weight (when there are two
    layers or more) and the last layer's first bias."""
    L = len(evaluation.network.layers)
    first = q(Kind.KERNEL, 1, 0) if evaluation.network.layers[0].kernel is not None else q(Kind.WEIGHT, 1, 0, 0)
    chosen = [q(Kind.WEIGHT, L, 0, 0)] + ([first] if L > 1 else []) + [q(Kind.BIAS, L, 0)]
    checks = []
    for parameter in chosen:
        derivative = values(evaluation, gradient_of(parameter))
        rows = []
        for h in FD_STEPS:
            ratio = values(evaluation, QuantityId(Kind.NUDGE, of=parameter, h=h))
            with PRECISE.context():
                moved = PRECISE.finish(nudged_loss(evaluation, parameter, h))
            # a nudge that pushes an output to exactly 1 makes ln 0 (−inf): that h shows nothing
            if _printable(moved) and _printable(ratio) and moved.is_finite and ratio.is_finite:
                rows.append((sp.Rational(h), moved, ratio, ratio - derivative))
        if rows:
            checks.append(NudgeCheck(parameter, derivative, tuple(rows)))
    return tuple(checks)


def _contains_none(value) -> bool:
    if value is None:
        return True
    if isinstance(value, tuple):
        return any(_contains_none(v) for v in value)
    return False

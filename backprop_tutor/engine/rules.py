"""Backprop as a small set of named rules; the only place in the package that writes its formulas.

Each rule computes one kind of quantity, one entry at a time, from the entries it `reads`
(explicit dependencies: the evaluation in engine/evaluation.py walks them). Its `formula`
takes the numbers in the order they were read and uses `+`, `-`, `*` and `ops.sum/call/given`
only, so the same rule runs on exact forms, 50-digit decimals or floats (engine/arithmetic.py).
The table of rules, with their formulas, is docs/rules-and-slips.md.

`loss_after` and `nudge_ratio` run the forward rules again with some parameters replaced
(`Evaluation.rerun`), so the forward pass is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sympy as sp

from backprop_tutor.engine import activations, losses
from backprop_tutor.engine.network import Network, OptimizerKind
from backprop_tutor.engine.quantities import PER_EXAMPLE, Kind, QuantityError, QuantityId, of_example, q

if TYPE_CHECKING:
    from backprop_tutor.engine.evaluation import Site

Reads = Callable[[Network, QuantityId], tuple[QuantityId, ...]]
Formula = Callable[["Site", Sequence[Any]], Any]


@dataclass(frozen=True)
class Rule:
    name: str  # the rule's name in docs/rules-and-slips.md; a slip names the rule it replaces
    reads: Reads
    formula: Formula
    reruns: bool = False  # runs the forward pass again (so every forward rule matters to it)


# --- what the rules read --------------------------------------------------------------------------

def below(l: int, k: int) -> QuantityId:
    """a⁽ˡ⁻¹⁾ₖ: the input x for the first layer."""
    return q(Kind.INPUT, None, k) if l == 1 else q(Kind.A, l - 1, k)


def fan_in(network: Network, l: int) -> int:
    return len(network.layers[l - 1].weights[0])


def units(network: Network, l: int) -> int:
    return network.layers[l - 1].units


def outputs(network: Network) -> tuple[QuantityId, ...]:
    L = len(network.layers)
    return tuple(q(Kind.A, L, j) for j in range(units(network, L)))


def targets(network: Network) -> tuple[QuantityId, ...]:
    return tuple(q(Kind.TARGET, None, j) for j in range(len(network.target)))


def parameters(network: Network) -> tuple[QuantityId, ...]:
    """Every weight and bias, layer by layer."""
    out = []
    for l, layer in enumerate(network.layers, 1):
        if not own_parameters(network, l):
            continue  # a recurrent cell's later steps share layer 1's
        if layer.kernel is not None:  # a conv1d layer: its kernel and its one shared bias
            out += [*(q(Kind.KERNEL, l, j) for j in range(len(layer.kernel))), q(Kind.BIAS, l, 0)]
            continue
        for j in range(layer.units):
            out += [q(Kind.WEIGHT, l, j, k) for k in range(len(layer.weights[j]))]
            out.append(q(Kind.BIAS, l, j))
    return tuple(out)


def activation_of(network: Network, l: int) -> str:
    return network.layers[l - 1].activation


# --- the SymPy expressions the formulas evaluate ----------------------------------------------------

@lru_cache(maxsize=None)
def softmax_entry(n: int, j: int) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    zs = sp.symbols(f"z0:{n}", real=True)
    return activations.softmax(list(zs))[j], tuple(zs)


def _loss_symbols(n: int) -> tuple[sp.Symbol, ...]:
    o, t = losses.symbols(n)
    return (*o, *t)


# --- the rules ------------------------------------------------------------------------------------------

def _weighted_sum_reads(net: Network, z: QuantityId) -> tuple[QuantityId, ...]:
    (l, (j,)) = z.layer, z.index
    n = fan_in(net, l)
    return (*(q(Kind.WEIGHT, l, j, k) for k in range(n)), *(below(l, k) for k in range(n)), q(Kind.BIAS, l, j))


def _weighted_sum(site: Site, v: Sequence) -> Any:
    n = (len(v) - 1) // 2
    return site.ops.sum([v[k] * v[n + k] for k in range(n)] + [v[-1]])


def _activation_reads(net: Network, a: QuantityId) -> tuple[QuantityId, ...]:
    l = a.layer
    if activation_of(net, l) == activations.SOFTMAX:
        return tuple(q(Kind.Z, l, k) for k in range(units(net, l)))
    return (q(Kind.Z, l, *a.index),)


def activation(site: Site, v: Sequence) -> Any:
    """a = f(z); a softmax layer's entry reads every z of the layer."""
    name = activation_of(site.network, site.quantity.layer)
    if name == activations.SOFTMAX:
        expr, zs = softmax_entry(len(v), site.quantity.index[0])
        return site.ops.call(expr, zs, v)
    return site.ops.call(activations.ELEMENTWISE[name].expr, (activations.z,), v)


def no_softmax_slope(s: QuantityId) -> QuantityError:
    """The error for f′ asked of a softmax layer."""
    return QuantityError(f"{s.text!r}: softmax has a Jacobian, not one f′ per unit; ask for delta instead")


def _elementwise(net: Network, s: QuantityId) -> activations.Activation:
    name = activation_of(net, s.layer)
    if name == activations.SOFTMAX:
        raise no_softmax_slope(s)
    return activations.ELEMENTWISE[name]


def _slope_reads(net: Network, s: QuantityId) -> tuple[QuantityId, ...]:
    _elementwise(net, s)
    return (q(Kind.Z, s.layer, *s.index),)


def slope(site: Site, v: Sequence) -> Any:
    """f′(z), SymPy's derivative: every digit even where a = f(z) is within 1e-40 of 1."""
    f = _elementwise(site.network, site.quantity)
    return site.ops.call(f.derivative, (activations.z,), v)


def _textbook_slope_reads(net: Network, s: QuantityId) -> tuple[QuantityId, ...]:
    # a layer with a skip outputs f(z) + a⁽ᵏ⁾, not f(z): its slope is taken in z
    in_a = _elementwise(net, s).output_slope is not None and skip_of(net, s.layer) is None
    kind = Kind.A if in_a else Kind.Z
    return (q(kind, s.layer, *s.index),)


def _textbook_slope(site: Site, v: Sequence) -> Any:
    """f′ as a learner computes it on paper: from the unit's output where the textbook writes it
    so (σ′ = a(1 − a), tanh′ = 1 − a²), else from z."""
    f = _elementwise(site.network, site.quantity)
    if f.output_slope is not None and skip_of(site.network, site.quantity.layer) is None:
        return site.ops.call(f.output_slope, (activations.a,), v)
    return site.ops.call(f.derivative, (activations.z,), v)


def _loss_reads(net: Network, _: QuantityId) -> tuple[QuantityId, ...]:
    return (*outputs(net), *targets(net))


def _loss(site: Site, v: Sequence) -> Any:
    n = len(v) // 2
    return site.ops.call(losses.LOSSES[site.network.loss].expr(n), _loss_symbols(n), v)


def _loss_gradient(site: Site, v: Sequence) -> Any:
    n = len(v) // 2
    gradient = losses.LOSSES[site.network.loss].gradient(n)[site.quantity.index[0]]
    return site.ops.call(gradient, _loss_symbols(n), v)


def _output_delta_reads(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    L, (j,) = d.layer, d.index
    if activation_of(net, L) == activations.SOFTMAX:
        n = units(net, L)
        return (*(q(Kind.LOSS_GRADIENT, None, i) for i in range(n)), *(q(Kind.A, L, i) for i in range(n)))
    return q(Kind.LOSS_GRADIENT, None, j), q(Kind.SLOPE, L, j)


def _output_delta(site: Site, v: Sequence) -> Any:
    if activation_of(site.network, site.quantity.layer) == activations.SOFTMAX:
        return softmax_chain(site, v, diagonal_only=False)
    return v[0] * v[1]


def softmax_chain(site: Site, v: Sequence, diagonal_only: bool) -> Any:
    """δₖ = Σⱼ ∂L/∂pⱼ · ∂pⱼ/∂zₖ with ∂pⱼ/∂zₖ = pⱼ([j = k] − pₖ) (SymPy's derivative of the
    softmax, written in p; the tests check the two agree). `diagonal_only` keeps j = k alone."""
    n = len(v) // 2
    g, p = v[:n], v[n:]
    k = site.quantity.index[0]
    return site.ops.sum([g[j] * softmax_jacobian_entry(p, j, k) for j in range(n) if not diagonal_only or j == k])


def softmax_jacobian_entry(p: Sequence, j: int, k: int) -> Any:
    """∂pⱼ/∂zₖ of a softmax output p."""
    return p[j] * ((1 if j == k else 0) - p[k])


def _hidden_delta_reads(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    l, (k,) = d.layer, d.index
    m = units(net, l + 1)
    return (q(Kind.SLOPE, l, k), *(q(Kind.WEIGHT, l + 1, j, k) for j in range(m)),
            *(q(Kind.DELTA, l + 1, j) for j in range(m)))


def _hidden_delta(site: Site, v: Sequence) -> Any:
    m = (len(v) - 1) // 2
    return v[0] * site.ops.sum([v[1 + j] * v[1 + m + j] for j in range(m)])


def _weight_gradient_reads(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    l, (j, k) = g.layer, g.index
    return q(Kind.DELTA, l, j), below(l, k)


def _product(site: Site, v: Sequence) -> Any:
    return v[0] * v[1]


def _bias_gradient_reads(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    return (q(Kind.DELTA, g.layer, *g.index),)


def itself(site: Site, v: Sequence) -> Any:
    return v[0]


# A parameter's kind → (its gradient's kind, its updated value's kind).
_DERIVED = {Kind.WEIGHT: (Kind.WEIGHT_GRADIENT, Kind.WEIGHT_NEW), Kind.BIAS: (Kind.BIAS_GRADIENT, Kind.BIAS_NEW)}
_PARAMETER_OF = {new: parameter for parameter, (_, new) in _DERIVED.items()}


def gradient_of(parameter: QuantityId) -> QuantityId:
    """∂L/∂w for a weight or bias w: W2[0][1] → dW2[0][1], b1[0] → db1[0]."""
    return QuantityId(_DERIVED[parameter.kind][0], parameter.layer, parameter.index)


def updated(parameter: QuantityId) -> QuantityId:
    """A weight or bias after the step: W2[0][1] → W2_new[0][1], b1[0] → b1_new[0]."""
    return QuantityId(_DERIVED[parameter.kind][1], parameter.layer, parameter.index)


def _update_reads(net: Network, new: QuantityId) -> tuple[QuantityId, ...]:
    parameter = QuantityId(_PARAMETER_OF[new.kind], new.layer, new.index)
    return parameter, gradient_of(parameter)


def _update(site: Site, v: Sequence) -> Any:
    return v[0] - site.ops.given(site.network.learning_rate) * v[1]


def _loss_after_reads(net: Network, _: QuantityId) -> tuple[QuantityId, ...]:
    return tuple(updated(p) for p in parameters(net))


def _loss_after(site: Site, v: Sequence) -> Any:
    return site.evaluation.rerun(dict(zip(parameters(site.network), v))).value(q(Kind.LOSS))


def _nudge_reads(net: Network, nudge: QuantityId) -> tuple[QuantityId, ...]:
    return q(Kind.LOSS), nudge.of


def _nudge_ratio(site: Site, v: Sequence) -> Any:
    loss, _ = v
    moved = nudged_loss(site.evaluation, site.quantity.of, site.quantity.h)
    return (moved - loss) * site.ops.given(1 / sp.Rational(site.quantity.h))


def nudged_loss(evaluation, parameter: QuantityId, h: str) -> Any:
    """L with one weight or bias moved by h: the forward pass run again."""
    moved = evaluation.value(parameter) + evaluation.ops.given(sp.Rational(h))
    return evaluation.rerun({parameter: moved}, key=("nudge", parameter, h)).value(q(Kind.LOSS))


WEIGHTED_SUM = Rule("weighted_sum", _weighted_sum_reads, _weighted_sum)
ACTIVATION = Rule("activation", _activation_reads, activation)
ACTIVATION_SLOPE = Rule("activation_slope", _slope_reads, slope)
# The grader's form of the same rule (evaluation.GRADER): a learner's own a carries into f′.
TEXTBOOK_SLOPE = Rule("activation_slope", _textbook_slope_reads, _textbook_slope)
LOSS = Rule("loss", _loss_reads, _loss)
LOSS_GRADIENT = Rule("loss_gradient", _loss_reads, _loss_gradient)
OUTPUT_DELTA = Rule("output_delta", _output_delta_reads, _output_delta)
HIDDEN_DELTA = Rule("hidden_delta", _hidden_delta_reads, _hidden_delta)
WEIGHT_GRADIENT = Rule("weight_gradient", _weight_gradient_reads, _product)
BIAS_GRADIENT = Rule("bias_gradient", _bias_gradient_reads, itself)
UPDATE = Rule("update", _update_reads, _update)
LOSS_AFTER = Rule("loss_after", _loss_after_reads, _loss_after, reruns=True)
NUDGE_RATIO = Rule("nudge_ratio", _nudge_reads, _nudge_ratio, reruns=True)

_BY_KIND = {Kind.Z: WEIGHTED_SUM, Kind.A: ACTIVATION, Kind.SLOPE: ACTIVATION_SLOPE, Kind.LOSS: LOSS,
            Kind.LOSS_GRADIENT: LOSS_GRADIENT, Kind.WEIGHT_GRADIENT: WEIGHT_GRADIENT,
            Kind.BIAS_GRADIENT: BIAS_GRADIENT, Kind.WEIGHT_NEW: UPDATE, Kind.BIAS_NEW: UPDATE,
            Kind.LOSS_AFTER: LOSS_AFTER, Kind.NUDGE: NUDGE_RATIO}
RULES: tuple[Rule, ...] = (WEIGHTED_SUM, ACTIVATION, ACTIVATION_SLOPE, LOSS, LOSS_GRADIENT, OUTPUT_DELTA,
                           HIDDEN_DELTA, WEIGHT_GRADIENT, BIAS_GRADIENT, UPDATE, LOSS_AFTER, NUDGE_RATIO)


def standard_rule(network: Network, quantity: QuantityId) -> Rule:
    """The rule that computes `quantity` (an entry) in this network."""
    if network.examples is not None and quantity.example is None and quantity.kind in _BATCH_RULES:
        return _BATCH_RULES[quantity.kind]
    check_example(network, quantity)
    if network.recurrent is not None and (rule := recurrent_rule(network, quantity)) is not None:
        return rule
    if network.weight_decay and quantity.kind in _DECAYED:
        return _DECAYED[quantity.kind]
    if quantity.kind in _OPTIMIZED:
        return optimizer_rule(network, quantity)
    if quantity.kind in _RESIDUAL and (residual := residual_rule(network, quantity)) is not None:
        return residual
    conv = conv_rule(network, quantity)
    if conv is not None:
        return conv
    if quantity.kind is Kind.DELTA:
        return OUTPUT_DELTA if quantity.layer == len(network.layers) else HIDDEN_DELTA
    try:
        return _BY_KIND[quantity.kind]
    except KeyError:
        raise QuantityError(f"{quantity.text!r} is not computed by a network's rules") from None


def rule_site(network: Network, rule: Rule) -> tuple[int | None, ...]:
    """The places a rule is applied: each layer for the per-layer rules, (None,) for the others."""
    L = len(network.layers)
    if network.recurrent is not None and (sites := recurrent_site(network, rule)) is not None:
        return sites
    conv = conv_layers(network)
    if rule in CONV_RULES:
        return conv
    if conv and rule in (WEIGHTED_SUM, WEIGHT_GRADIENT, BIAS_GRADIENT):  # a conv1d layer has its own forms of these
        return tuple(l for l in range(1, L + 1) if l not in conv)
    if rule in (LOSS, LOSS_GRADIENT, LOSS_AFTER, NUDGE_RATIO, BATCH_LOSS) or rule in WHOLE_NETWORK_RULES:
        return (None,)
    if rule is OUTPUT_DELTA:
        return (L,)
    if rule is HIDDEN_DELTA:
        return tuple(l for l in range(1, L) if not skipped_to(network, l))
    if rule in _RESIDUAL_SITES:
        return _RESIDUAL_SITES[rule](network)
    return tuple(range(1, L + 1))


# --- weight decay (L2): the loss gains (λ/2)·Σ w² over the weights, biases excluded ------------------------
# Written in the loss as its own quantity, `decay`, beside the data loss; each weight's gradient
# gains the decay term's derivative, taken by SymPy, beside the backprop part δ·a (`dW_data`),
# so that a slip in δ·a and a forgotten decay term are two separate slips.

_LAMBDA, _W = sp.symbols("lambda w", real=True)
DECAY_TERM = _LAMBDA / 2 * _W**2  # one weight's share of the penalty
DECAY_SLOPE = sp.diff(DECAY_TERM, _W)  # λ·w


def weights(network: Network) -> tuple[QuantityId, ...]:
    """Every weight, layer by layer (the parameters the decay term reads: no biases)."""
    return tuple(p for p in parameters(network) if p.kind is Kind.WEIGHT)


def _decay(site: Site, v: Sequence) -> Any:
    rate = site.ops.given(site.network.weight_decay)
    return site.ops.sum([site.ops.call(DECAY_TERM, (_LAMBDA, _W), (rate, w)) for w in v])


def _regularised_loss_reads(net: Network, _: QuantityId) -> tuple[QuantityId, ...]:
    return q(Kind.DATA_LOSS), q(Kind.DECAY)


def _sum(site: Site, v: Sequence) -> Any:
    return site.ops.sum(list(v))


def _decayed_gradient_reads(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    return QuantityId(Kind.DATA_GRADIENT, g.layer, g.index), QuantityId(Kind.WEIGHT, g.layer, g.index)


def _decayed_gradient(site: Site, v: Sequence) -> Any:
    """∂L/∂w = δ·a + λ·w: the backprop part, plus the decay term's derivative."""
    return site.ops.sum([v[0], site.ops.call(DECAY_SLOPE, (_LAMBDA, _W), (site.ops.given(site.network.weight_decay), v[1]))])


DECAY_PENALTY = Rule("weight_decay", lambda net, _: weights(net), _decay)
REGULARISED_LOSS = Rule("regularised_loss", _regularised_loss_reads, _sum)
DECAYED_GRADIENT = Rule("weight_decay_gradient", _decayed_gradient_reads, _decayed_gradient)
_DECAYED = {Kind.LOSS: REGULARISED_LOSS, Kind.WEIGHT_GRADIENT: DECAYED_GRADIENT}
_BY_KIND.update({Kind.DATA_LOSS: LOSS, Kind.DECAY: DECAY_PENALTY, Kind.DATA_GRADIENT: WEIGHT_GRADIENT})


# --- optimizers: momentum and Adam, one or two steps, their state as quantities ----------------------------
# Each state entry is per parameter p and step s: g(p, s) the gradient at the weights of step s
# (the second recomputed by backprop at the weights after the first), then the optimizer's rules.

_BETA, _PREV, _G, _ETA, _STATE_V, _STATE_M, _T, _EPS = sp.symbols("beta prev g eta v m t epsilon", real=True)
MOMENTUM_VELOCITY = _BETA * _PREV + _G  # v ← β·v + ∂L/∂w
MOMENTUM_STEP = _PREV - _ETA * _STATE_V  # w ← w − η·v
ADAM_FIRST_MOMENT = _BETA * _PREV + (1 - _BETA) * _G  # m ← β₁m + (1 − β₁)g
ADAM_SECOND_MOMENT = _BETA * _PREV + (1 - _BETA) * _G**2  # v ← β₂v + (1 − β₂)g²
BIAS_CORRECTED = _STATE_M / (1 - _BETA**_T)  # m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
ADAM_STEP = _PREV - _ETA * _STATE_M / (sp.sqrt(_STATE_V) + _EPS)  # w ← w − η·m̂/(√v̂ + ε)


def state(kind: Kind, parameter: QuantityId, step: int) -> QuantityId:
    """v(W1[0][0], 2) and the like; new(p, 0) is p itself."""
    if kind is Kind.STEPPED and step == 0:
        return parameter
    return QuantityId(kind, of=parameter, h=str(step))


def _step(quantity: QuantityId) -> int:
    return int(quantity.h)


def _earlier(kind: Kind, quantity: QuantityId) -> tuple[QuantityId, ...]:
    """The same state one step before (nothing at step 1: the state starts at 0)."""
    s = _step(quantity)
    return (state(kind, quantity.of, s - 1),) if s > 1 else ()


def _prior(site: Site, v: Sequence) -> Any:
    """The state before this step: read, or at the first step the start (0 unless the file gave one)."""
    if _step(site.quantity) > 1:
        return v[0]
    return site.ops.given(start(site.network, site.quantity.kind, site.quantity.of))


def start(network: Network, kind: Kind, parameter: QuantityId) -> sp.Rational:
    """v(p, 0) or m(p, 0): the optimizer's state before its first step."""
    optimizer = network.optimizer
    name = "m" if kind is Kind.MOMENT else ("velocity" if optimizer.kind is OptimizerKind.MOMENTUM else "v")
    return optimizer.start(name, parameter.text)


def _step_gradient_reads(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    s = _step(g)
    return (gradient_of(g.of),) if s == 1 else tuple(state(Kind.STEPPED, p, s - 1) for p in parameters(net))


def _step_gradient(site: Site, v: Sequence) -> Any:
    """The first step's gradient is ∂L/∂w; a later step's is backprop again at the moved weights."""
    if _step(site.quantity) == 1:
        return v[0]
    moved = site.evaluation.rerun(dict(zip(parameters(site.network), v)), key=("step", site.quantity.h, tuple(v)))
    return moved.value(gradient_of(site.quantity.of))


def _accumulated_reads(kind: Kind):
    def reads(net: Network, s: QuantityId) -> tuple[QuantityId, ...]:
        return (*_earlier(kind, s), state(Kind.STEP_GRADIENT, s.of, _step(s)))
    return reads


def _accumulate(expr: sp.Expr, beta: str):
    def formula(site: Site, v: Sequence) -> Any:
        rate = site.ops.given(getattr(site.network.optimizer, beta))
        return site.ops.call(expr, (_BETA, _PREV, _G), (rate, _prior(site, v), v[-1]))
    return formula


def _momentum_step_reads(net: Network, new: QuantityId) -> tuple[QuantityId, ...]:
    s = _step(new)
    return state(Kind.STEPPED, new.of, s - 1), state(Kind.VELOCITY, new.of, s)


def _momentum_step(site: Site, v: Sequence) -> Any:
    return site.ops.call(MOMENTUM_STEP, (_PREV, _ETA, _STATE_V), (v[0], site.ops.given(site.network.learning_rate), v[1]))


_RAW_MOMENT = {Kind.M_HAT: (Kind.MOMENT, "beta1"), Kind.V_HAT: (Kind.VELOCITY, "beta2")}


def _bias_correction_reads(net: Network, hat: QuantityId) -> tuple[QuantityId, ...]:
    return (state(_RAW_MOMENT[hat.kind][0], hat.of, _step(hat)),)


def _bias_correction(site: Site, v: Sequence) -> Any:
    optimizer = site.network.optimizer
    beta = getattr(optimizer, _RAW_MOMENT[site.quantity.kind][1])
    t = site.ops.given(sp.Integer(optimizer.t0 + _step(site.quantity)))  # t counts every step taken
    return site.ops.call(BIAS_CORRECTED, (_STATE_M, _BETA, _T), (v[0], site.ops.given(beta), t))


def _adam_step_reads(net: Network, new: QuantityId) -> tuple[QuantityId, ...]:
    s = _step(new)
    return state(Kind.STEPPED, new.of, s - 1), state(Kind.M_HAT, new.of, s), state(Kind.V_HAT, new.of, s)


def _adam_step(site: Site, v: Sequence) -> Any:
    ops, optimizer = site.ops, site.network.optimizer
    return ops.call(ADAM_STEP, (_PREV, _ETA, _STATE_M, _STATE_V, _EPS),
                    (v[0], ops.given(site.network.learning_rate), v[1], v[2], ops.given(optimizer.epsilon)))


def _after_steps_reads(net: Network, new: QuantityId) -> tuple[QuantityId, ...]:
    parameter = QuantityId(_PARAMETER_OF[new.kind], new.layer, new.index)
    return (state(Kind.STEPPED, parameter, net.optimizer.steps),)


STEP_GRADIENT = Rule("step_gradient", _step_gradient_reads, _step_gradient, reruns=True)
MOMENTUM_VELOCITY_RULE = Rule("momentum_velocity", _accumulated_reads(Kind.VELOCITY), _accumulate(MOMENTUM_VELOCITY, "beta"))
MOMENTUM_UPDATE = Rule("momentum_update", _momentum_step_reads, _momentum_step)
ADAM_FIRST_MOMENT_RULE = Rule("adam_first_moment", _accumulated_reads(Kind.MOMENT), _accumulate(ADAM_FIRST_MOMENT, "beta1"))
ADAM_SECOND_MOMENT_RULE = Rule("adam_second_moment", _accumulated_reads(Kind.VELOCITY),
                               _accumulate(ADAM_SECOND_MOMENT, "beta2"))
BIAS_CORRECTION = Rule("bias_correction", _bias_correction_reads, _bias_correction)
ADAM_UPDATE = Rule("adam_update", _adam_step_reads, _adam_step)
AFTER_STEPS = Rule("after_steps", _after_steps_reads, itself)  # W_new, b_new: the parameter after the last step

_OPTIMIZER_RULES = {
    OptimizerKind.MOMENTUM: {Kind.VELOCITY: MOMENTUM_VELOCITY_RULE, Kind.STEPPED: MOMENTUM_UPDATE},
    OptimizerKind.ADAM: {Kind.MOMENT: ADAM_FIRST_MOMENT_RULE, Kind.VELOCITY: ADAM_SECOND_MOMENT_RULE, Kind.M_HAT: BIAS_CORRECTION,
             Kind.V_HAT: BIAS_CORRECTION, Kind.STEPPED: ADAM_UPDATE},
}
_OPTIMIZED = frozenset({Kind.STEP_GRADIENT, Kind.VELOCITY, Kind.MOMENT, Kind.M_HAT, Kind.V_HAT, Kind.STEPPED,
                        Kind.WEIGHT_NEW, Kind.BIAS_NEW})


def optimizer_rule(network: Network, quantity: QuantityId) -> Rule:
    optimizer = network.optimizer
    if quantity.kind in (Kind.WEIGHT_NEW, Kind.BIAS_NEW):
        return UPDATE if optimizer is None else AFTER_STEPS
    if optimizer is None:
        raise QuantityError(f"{quantity.text!r}: this network has no optimizer (plain gradient descent)")
    if _step(quantity) > optimizer.steps:
        raise QuantityError(f"{quantity.text!r}: the optimizer takes {optimizer.steps} step(s)")
    if quantity.kind is Kind.STEP_GRADIENT:
        return STEP_GRADIENT
    try:
        return _OPTIMIZER_RULES[optimizer.kind][quantity.kind]
    except KeyError:
        raise QuantityError(f"{quantity.text!r}: {optimizer.kind} has no {quantity.kind.value}") from None


RULES += (DECAY_PENALTY, REGULARISED_LOSS, DECAYED_GRADIENT, STEP_GRADIENT, MOMENTUM_VELOCITY_RULE, MOMENTUM_UPDATE,
          ADAM_FIRST_MOMENT_RULE, ADAM_SECOND_MOMENT_RULE, BIAS_CORRECTION, ADAM_UPDATE, AFTER_STEPS)
# Rules applied once per network or per parameter, not per layer (their quantities have no layer).
WHOLE_NETWORK_RULES = (DECAY_PENALTY, REGULARISED_LOSS, STEP_GRADIENT, MOMENTUM_VELOCITY_RULE, MOMENTUM_UPDATE,
                       ADAM_FIRST_MOMENT_RULE, ADAM_SECOND_MOMENT_RULE, BIAS_CORRECTION, ADAM_UPDATE)

# --- mini-batches: the batch's loss and gradients are the means over its examples -----------------

def examples(network: Network) -> range:
    """The examples' numbers, 1 to B (range(1, 2) for a network of one example)."""
    return range(1, len(network.examples or ((),)) + 1)


def check_example(network: Network, quantity: QuantityId) -> None:
    """A batch's x, z, δ … belong to one example, which must be named (and exist); a single
    example's quantities are named without one."""
    if quantity.kind not in PER_EXAMPLE:
        return
    if network.examples is None:
        if quantity.example is not None:
            raise QuantityError(f"{quantity.text!r}: this network has one example; drop the e{quantity.example}.")
        return
    B = len(network.examples)
    if quantity.example is None:
        raise QuantityError(f"{quantity.text!r}: this network has a batch of {B} examples; name one, e.g. "
                            f"e1.{quantity.text}")
    if quantity.example > B:
        raise QuantityError(f"{quantity.text!r}: the batch has examples e1 to e{B}")


def _per_example_reads(net: Network, quantity: QuantityId) -> tuple[QuantityId, ...]:
    return tuple(of_example(quantity, e) for e in examples(net))


def batch_mean(site: Site, v: Sequence) -> Any:
    """L = (1/B) Σₑ Lₑ and ∂L/∂w = (1/B) Σₑ ∂Lₑ/∂w: the batch's loss is the mean of the examples'
    losses, so its derivative is the mean of theirs (the derivative of a sum is the sum)."""
    return site.ops.sum(list(v)) * site.ops.given(sp.Rational(1, len(v)))


BATCH_LOSS = Rule("batch_loss", _per_example_reads, batch_mean)
BATCH_GRADIENT = Rule("batch_gradient", _per_example_reads, batch_mean)
_BATCH_RULES = {Kind.LOSS: BATCH_LOSS, Kind.WEIGHT_GRADIENT: BATCH_GRADIENT, Kind.BIAS_GRADIENT: BATCH_GRADIENT}
RULES += (BATCH_LOSS, BATCH_GRADIENT)


# --- residual (skip) connections: a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ᵏ⁾, so ∂L/∂a⁽ᵏ⁾ gains the gradient through the skip ----
# At a skip's source k, ∂L/∂a⁽ᵏ⁾ (`da`) is the path through the layers, Σⱼ w⁽ᵏ⁺¹⁾ⱼᵢ·δ⁽ᵏ⁺¹⁾ⱼ, plus the path
# through the skip, ∂a⁽ˡ⁾/∂a⁽ᵏ⁾·∂L/∂a⁽ˡ⁾ for each layer l that adds a⁽ᵏ⁾ (`skip_gradient`, one rule, so that
# forgot_skip_gradient can replace it); there δ⁽ᵏ⁾ = f′(z⁽ᵏ⁾)·∂L/∂a⁽ᵏ⁾ (`skip_delta`). Elsewhere the rules
# are the usual ones; `da` of any other layer is the path through the layers alone (`activation_gradient`).

_Z_, _SKIPPED = sp.symbols("z s", real=True)
RESIDUAL_FORM = sp.Function("f")(_Z_) + _SKIPPED  # a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ᵏ⁾
SKIP_SLOPE = sp.diff(RESIDUAL_FORM, _SKIPPED)  # ∂a⁽ˡ⁾/∂a⁽ᵏ⁾ = 1: the skip passes the gradient on unchanged


def skip_of(network: Network, l: int | None) -> int | None:
    """k of layer l's `skip: k` (None: no skip, or no such layer)."""
    return network.layers[l - 1].skip if l is not None and 0 < l <= len(network.layers) else None


def skipped_to(network: Network, k: int) -> tuple[int, ...]:
    """The layers l whose output adds a⁽ᵏ⁾ through a skip."""
    return tuple(l for l, layer in enumerate(network.layers, 1) if layer.skip == k)


def has_skips(network: Network) -> bool:
    return any(layer.skip is not None for layer in network.layers)


@lru_cache(maxsize=None)
def _residual_expr(name: str) -> sp.Expr:
    return RESIDUAL_FORM.subs(sp.Function("f")(_Z_), activations.ELEMENTWISE[name].expr.subs(activations.z, _Z_))


def _skip_activation_reads(net: Network, a: QuantityId) -> tuple[QuantityId, ...]:
    l, (j,) = a.layer, a.index
    return q(Kind.Z, l, j), below(skip_of(net, l) + 1, j)


def _skip_activation(site: Site, v: Sequence) -> Any:
    """a = f(z) + a⁽ᵏ⁾."""
    return site.ops.call(_residual_expr(activation_of(site.network, site.quantity.layer)), (_Z_, _SKIPPED), v)


def _through_layers_reads(net: Network, da: QuantityId) -> tuple[QuantityId, ...]:
    l, (k,) = da.layer, da.index
    if l == len(net.layers):
        return (q(Kind.LOSS_GRADIENT, None, k),)
    m = units(net, l + 1)
    return (*(q(Kind.WEIGHT, l + 1, j, k) for j in range(m)), *(q(Kind.DELTA, l + 1, j) for j in range(m)))


def _through_layers(site: Site, v: Sequence) -> Any:
    """∂L/∂a⁽ˡ⁾ₖ through the layers: ∂L/∂oₖ at the output, else Σⱼ w⁽ˡ⁺¹⁾ⱼₖ·δ⁽ˡ⁺¹⁾ⱼ."""
    if len(v) == 1:
        return v[0]
    m = len(v) // 2
    return site.ops.sum([v[j] * v[m + j] for j in range(m)])


def _skip_gradient_reads(net: Network, da: QuantityId) -> tuple[QuantityId, ...]:
    l, (k,) = da.layer, da.index
    return (*_through_layers_reads(net, da), *(q(Kind.ACTIVATION_GRADIENT, m, k) for m in skipped_to(net, l)))


def _skip_gradient(site: Site, v: Sequence) -> Any:
    """∂L/∂a⁽ᵏ⁾ = (through the layers) + (through each skip): the two paths' gradients add."""
    skips = len(skipped_to(site.network, site.quantity.layer))
    one = site.ops.given(SKIP_SLOPE)
    return site.ops.sum([_through_layers(site, v[:-skips])] + [one * g for g in v[-skips:]])


def _skip_delta_reads(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    return q(Kind.SLOPE, d.layer, *d.index), q(Kind.ACTIVATION_GRADIENT, d.layer, *d.index)


SKIP_ACTIVATION = Rule("skip_activation", _skip_activation_reads, _skip_activation)
ACTIVATION_GRADIENT = Rule("activation_gradient", _through_layers_reads, _through_layers)
SKIP_GRADIENT = Rule("skip_gradient", _skip_gradient_reads, _skip_gradient)
SKIP_DELTA = Rule("skip_delta", _skip_delta_reads, _product)
_RESIDUAL = frozenset({Kind.A, Kind.DELTA, Kind.ACTIVATION_GRADIENT})


def residual_rule(network: Network, quantity: QuantityId) -> Rule | None:
    """The rule of a residual network's a, δ or ∂L/∂a where it differs from the usual one (None: the usual)."""
    l = quantity.layer
    if quantity.kind is Kind.ACTIVATION_GRADIENT:
        if l is None or not 0 <= l <= len(network.layers):  # 0: ∂L/∂x, the input's
            raise QuantityError(f"{quantity.text!r} is not a layer of this network")
        return SKIP_GRADIENT if skipped_to(network, l) else ACTIVATION_GRADIENT
    if quantity.kind is Kind.A and skip_of(network, l) is not None:
        return SKIP_ACTIVATION
    if quantity.kind is Kind.DELTA and l is not None and 0 < l < len(network.layers) and skipped_to(network, l):
        return SKIP_DELTA
    return None


def _layers_where(test):
    return lambda net: tuple(l for l in range(1, len(net.layers) + 1) if test(net, l))


_RESIDUAL_SITES = {
    ACTIVATION: _layers_where(lambda net, l: skip_of(net, l) is None),
    SKIP_ACTIVATION: _layers_where(lambda net, l: skip_of(net, l) is not None),
    ACTIVATION_GRADIENT: _layers_where(lambda net, l: not skipped_to(net, l)),
    SKIP_GRADIENT: _layers_where(lambda net, l: bool(skipped_to(net, l))),
    SKIP_DELTA: _layers_where(lambda net, l: l < len(net.layers) and bool(skipped_to(net, l))),
}
RULES += (SKIP_ACTIVATION, ACTIVATION_GRADIENT, SKIP_GRADIENT, SKIP_DELTA)

# --- a recurrent cell unrolled over time: backpropagation through time ------------------------------
# Layers 1..T are the cell's steps and share layer 1's parameters, W1 = [[w_x, w_h]] and b1 = [b]
# (they are one weight each: step t's own W{t}, b{t} are not quantities); layer T+1 is the output.
# Per step t: z_t = w_x·x_t + w_h·h_{t−1} + b (z{t}[0]), h_t = f(z_t) (a{t}[0]), δ_t = ∂L/∂z_t.

def recurrent_steps(network: Network) -> int:
    """T, the number of time steps (0 for a feed-forward network)."""
    return len(network.input) if network.recurrent is not None else 0


def _previous_state(net: Network, t: int) -> tuple[QuantityId, ...]:
    """h_{t−1} as a quantity to read: nothing at t = 1, where it is the given h₀."""
    return (q(Kind.A, t - 1, 0),) if t > 1 else ()


def _state_or_h0(site: Site, read: Sequence, t: int) -> Any:
    return read[0] if t > 1 else site.ops.given(site.network.recurrent.h0)


_W_X, _W_H, _B_CELL = q(Kind.WEIGHT, 1, 0, 0), q(Kind.WEIGHT, 1, 0, 1), q(Kind.BIAS, 1, 0)


def _recurrent_sum_reads(net: Network, z: QuantityId) -> tuple[QuantityId, ...]:
    t = z.layer
    return (_W_X, q(Kind.INPUT, None, t - 1), _W_H, _B_CELL, *_previous_state(net, t))


def _recurrent_sum(site: Site, v: Sequence) -> Any:
    """z_t = w_x·x_t + w_h·h_{t−1} + b: every step reads the same w_x, w_h and b."""
    w_x, x, w_h, b = v[:4]
    return site.ops.sum([w_x * x, w_h * _state_or_h0(site, v[4:], site.quantity.layer), b])


def _through_time_reads(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    t = d.layer
    return q(Kind.DELTA, t + 1, 0), _W_H, q(Kind.SLOPE, t, 0)


def _through_time(site: Site, v: Sequence) -> Any:
    """δ_{t} = δ_{t+1}·w_h·f′(z_t): z_t reaches the loss only through h_t, which the next step
    multiplies by w_h (the last step's δ_T comes from the output, by hidden_delta)."""
    return v[0] * v[1] * v[2]


def _time_factor(net: Network, t: int, w: QuantityId) -> tuple[QuantityId, ...]:
    """What δ_t multiplies in the shared parameter's gradient at step t: x_t for w_x, h_{t−1} for
    w_h (h₀ given at t = 1), nothing for b."""
    if w.kind is Kind.BIAS_GRADIENT:
        return ()
    return (q(Kind.INPUT, None, t - 1),) if w.index == (0, 0) else _previous_state(net, t)


def _sum_over_time_reads(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    """δ_T, its factor, δ_{T−1}, its factor, …, from the last step back to the first."""
    return tuple(read for t in range(recurrent_steps(net), 0, -1)
                 for read in (q(Kind.DELTA, t, 0), *_time_factor(net, t, g)))


def time_terms(site: Site, v: Sequence) -> list:
    """The terms δ_t·(x_t, h_{t−1} or 1) of the reads, from the last step back (those read)."""
    g, out, i = site.quantity, [], 0
    for t in range(recurrent_steps(site.network), 0, -1):
        if i >= len(v):
            break
        factors = _time_factor(site.network, t, g)
        if g.kind is Kind.BIAS_GRADIENT:
            out.append(v[i])
        elif factors:
            out.append(v[i] * v[i + 1])
        else:  # δ₁·h₀
            out.append(v[i] * site.ops.given(site.network.recurrent.h0))
        i += 1 + len(factors)
    return out


def _sum_over_time(site: Site, v: Sequence) -> Any:
    """∂L/∂w = Σ_t δ_t·(x_t or h_{t−1}), ∂L/∂b = Σ_t δ_t: the weight is shared by every step, so its
    gradient is the sum of what each step's use of it contributes."""
    return site.ops.sum(time_terms(site, v))


RECURRENT_SUM = Rule("recurrent_sum", _recurrent_sum_reads, _recurrent_sum)
THROUGH_TIME = Rule("delta_through_time", _through_time_reads, _through_time)
SUM_OVER_TIME = Rule("sum_over_time", _sum_over_time_reads, _sum_over_time)
RECURRENT_RULES = (RECURRENT_SUM, THROUGH_TIME, SUM_OVER_TIME)
RULES += RECURRENT_RULES


def recurrent_rule(network: Network, quantity: QuantityId) -> Rule | None:
    """The rule of a recurrent network's quantity where it is not the feed-forward one (None)."""
    T, t = recurrent_steps(network), quantity.layer
    if t is None or t > T:
        return None  # the output layer, the loss: the usual rules
    if t > 1 and quantity.kind in _SHARED:
        raise QuantityError(f"{quantity.text!r}: every step of a recurrent cell shares W1 and b1 (w_x, w_h, b); "
                            f"ask for {QuantityId(quantity.kind, 1, quantity.index).text}")
    if quantity.kind is Kind.Z:
        return RECURRENT_SUM
    if quantity.kind is Kind.DELTA and t < T:
        return THROUGH_TIME
    if quantity.kind in (Kind.WEIGHT_GRADIENT, Kind.BIAS_GRADIENT):
        return SUM_OVER_TIME
    return None


_SHARED = frozenset({Kind.WEIGHT, Kind.BIAS, Kind.WEIGHT_GRADIENT, Kind.BIAS_GRADIENT, Kind.WEIGHT_NEW, Kind.BIAS_NEW})


def own_parameters(network: Network, l: int) -> bool:
    """Whether layer l has parameters of its own (in a recurrent network, steps 2..T share step 1's)."""
    return not 1 < l <= recurrent_steps(network)


def recurrent_site(network: Network, rule: Rule) -> tuple[int | None, ...] | None:
    """Where the recurrent rules are applied (None for the others)."""
    T = recurrent_steps(network)
    return {RECURRENT_SUM: tuple(range(1, T + 1)), THROUGH_TIME: tuple(range(1, T)), SUM_OVER_TIME: (1,),
            # the feed-forward rules that the recurrent ones replace at the steps: where they remain
            WEIGHTED_SUM: (T + 1,), HIDDEN_DELTA: (T,), WEIGHT_GRADIENT: (T + 1,), BIAS_GRADIENT: (T + 1,),
            UPDATE: (1, T + 1)}.get(rule)

# --- a conv1d layer: zᵢ = Σⱼ kⱼ·a⁽ˡ⁻¹⁾ᵢ₊ⱼ + b with one kernel k and one b shared by every position ----
# Each kⱼ and b appears in every zᵢ, so their gradients sum over the positions i (the chain rule
# through a shared parameter): ∂L/∂kⱼ = Σᵢ δᵢ·a⁽ˡ⁻¹⁾ᵢ₊ⱼ and ∂L/∂b = Σᵢ δᵢ. Stride 1, no padding, and only
# as the first layer (network.py), so no δ is passed down through the kernel.

def conv_layers(network: Network) -> tuple[int, ...]:
    return tuple(l for l, layer in enumerate(network.layers, 1) if layer.kernel is not None)


def kernel_size(network: Network, l: int) -> int:
    return len(network.layers[l - 1].kernel)


def _conv_sum_reads(net: Network, z: QuantityId) -> tuple[QuantityId, ...]:
    """The kernel, the window a⁽ˡ⁻¹⁾ᵢ … a⁽ˡ⁻¹⁾ᵢ₊ₖ₋₁ under it, and the shared bias (read as _weighted_sum reads)."""
    (l, (i,)), K = (z.layer, z.index), kernel_size(net, z.layer)
    return (*(q(Kind.KERNEL, l, j) for j in range(K)), *(below(l, i + j) for j in range(K)), q(Kind.BIAS, l, 0))


def _kernel_gradient_reads(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    """Every position's δᵢ, then the input each kⱼ met there, a⁽ˡ⁻¹⁾ᵢ₊ⱼ."""
    (l, (j,)), P = (g.layer, g.index), units(net, g.layer)
    return (*(q(Kind.DELTA, l, i) for i in range(P)), *(below(l, i + j) for i in range(P)))


def sum_of_products(site: Site, v: Sequence) -> Any:
    """Σᵢ v[i]·v[n+i] over the two halves of what was read."""
    n = len(v) // 2
    return site.ops.sum([v[i] * v[n + i] for i in range(n)])


def _shared_bias_gradient_reads(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    return tuple(q(Kind.DELTA, g.layer, i) for i in range(units(net, g.layer)))


CONV_SUM = Rule("conv1d_sum", _conv_sum_reads, _weighted_sum)
KERNEL_GRADIENT = Rule("kernel_gradient", _kernel_gradient_reads, sum_of_products)
SHARED_BIAS_GRADIENT = Rule("shared_bias_gradient", _shared_bias_gradient_reads, _sum)
CONV_RULES = (CONV_SUM, KERNEL_GRADIENT, SHARED_BIAS_GRADIENT)
RULES += CONV_RULES
_DERIVED[Kind.KERNEL] = (Kind.KERNEL_GRADIENT, Kind.KERNEL_NEW)
_PARAMETER_OF[Kind.KERNEL_NEW] = Kind.KERNEL
_CONV = {Kind.Z: CONV_SUM, Kind.KERNEL_GRADIENT: KERNEL_GRADIENT, Kind.BIAS_GRADIENT: SHARED_BIAS_GRADIENT,
         Kind.KERNEL_NEW: UPDATE}


def conv_rule(network: Network, quantity: QuantityId) -> Rule | None:
    """The rule of a conv1d layer's z, ∂L/∂k, ∂L/∂b or k_new; None for every other quantity."""
    kernel = quantity.kind in (Kind.KERNEL_GRADIENT, Kind.KERNEL_NEW)
    if quantity.kind not in _CONV or quantity.layer not in conv_layers(network):
        if kernel:
            raise QuantityError(f"{quantity.text!r}: layer {quantity.layer} is not a conv1d layer (it has no kernel)")
        return None
    return _CONV[quantity.kind]

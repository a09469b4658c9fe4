"""The slip catalogue: each slip is one rule of engine/rules.py replaced by its buggy form.

The grader re-runs the engine with a slip applied to one layer at a time, and to every layer
at once, and names the slip whose result a wrong answer matches (grading/diagnosis.py). The
table, with where each slip can be made, is docs/rules-and-slips.md; a test keeps the two equal.
Feedback says what went wrong and where to look, never the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import rules as r
from backprop_tutor.engine.chain import is_deep_chain
from backprop_tutor.engine.evaluation import GRADER, RuleBook, Site
from backprop_tutor.engine.network import Network, OptimizerKind
from backprop_tutor.engine.quantities import Kind, QuantityId, q
from backprop_tutor.engine.rules import Rule


class NotApplicable(Exception):
    """The slip cannot be made here (the swapped index does not exist, the matrix is not square)."""


@dataclass(frozen=True)
class Slip:
    name: str
    replaces: str  # the name of the rule it replaces; "" for names a template may use without a rule
    rule: Rule | None
    where: Callable[[Network, int | None], bool]  # can it be made at this layer (None: rules without one)?
    feedback: Callable[[str, int | None], str]  # (activation at that layer, layer or None) → text
    # When the asked quantity is the one the slipped rule computes, and the usual feedback (about
    # its effect further on) would not fit: a forgotten f′ shows in f′ itself as a plain 1.
    when_asked: Callable[[str, int | None], str] | None = None

    def scopes(self, network: Network) -> list[tuple[int | None, ...]]:
        """Each layer where the slip can be made, alone, then all of them at once (when more than one)."""
        if self.rule is None:
            return []
        sites = [layer for layer in r.rule_site(network, _RULES[self.replaces]) if self.where(network, layer)]
        return [(layer,) for layer in sites] + ([tuple(sites)] if len(sites) > 1 else [])

    def rules(self, scope: tuple[int | None, ...], base: RuleBook = GRADER) -> RuleBook:
        """The grader's rule book (or `base`) with this slip made at `scope`."""
        return base.replacing(self.replaces, scope, self.rule)


_RULES = {rule.name: rule for rule in r.RULES}


def _always(network: Network, layer: int | None) -> bool:
    return True


def _elementwise(network: Network, layer: int) -> bool:
    return r.activation_of(network, layer) not in ("identity", activations.SOFTMAX)


def _activation_in(*names: str):
    return lambda network, layer: r.activation_of(network, layer) in names


def _loss_in(*names: str):
    return lambda network, layer: network.loss in names


def _text(template: str) -> Callable[[str, int | None], str]:
    """Feedback with {f} (the activation, as σ or tanh) and {in_layer} ("" or " in layer l")."""
    def say(activation: str, layer: int | None) -> str:
        f = activations.display_name(activation) if activation else "f"
        return template.format(f=f, in_layer=f" in layer {layer}" if layer else "", l=layer or "l")
    return say


# --- buggy forms of the rules ---------------------------------------------------------------------

def _plain_sum_reads(net: Network, z: QuantityId) -> tuple[QuantityId, ...]:
    return r.WEIGHTED_SUM.reads(net, z)[:-1]


def _plain_sum(site: Site, v: Sequence) -> Any:
    n = len(v) // 2
    return site.ops.sum([v[k] * v[n + k] for k in range(n)])


def _z_of(net: Network, a: QuantityId) -> tuple[QuantityId, ...]:
    return (q(Kind.Z, a.layer, *a.index),)


def _a_of(net: Network, s: QuantityId) -> tuple[QuantityId, ...]:
    return (q(Kind.A, s.layer, *s.index),)


def _one(site: Site, v: Sequence) -> Any:
    return site.ops.given(sp.Integer(1))


# Slips in writing f′, in the unit's output a (as the textbook form is written); in z for the
# keys' arithmetic and for a formula answer (f′ as an expression in z).
_WRITTEN_IN_A = {
    "slope_sign_flipped": {"sigmoid": activations.a * (1 + activations.a), "tanh": 1 + activations.a ** 2},
    "sech_not_squared": {"tanh": sp.sqrt(1 - activations.a ** 2)},
}


@lru_cache(maxsize=None)
def written_in_z(slip: str, activation: str) -> sp.Expr:
    """The slip's f′ as an expression in z: σ(z)(1 + σ(z)), 1 + tanh²(z), sech(z)."""
    f = activations.ELEMENTWISE[activation]
    form = _WRITTEN_IN_A[slip][activation].xreplace({activations.a: f.expr})
    return sp.sech(activations.z) if slip == "sech_not_squared" else form


def _miswritten(slip: str):
    """f′ miswritten as on paper, in the unit's output a (sigmoid and tanh, the only activations
    these slips apply to, have their textbook f′ in a)."""
    def formula(site: Site, v: Sequence) -> Any:
        name = r.activation_of(site.network, site.quantity.layer)
        return site.ops.call(_WRITTEN_IN_A[slip][name], (activations.a,), v)
    return formula


def _scaled(rule: Rule, factor: Callable[[Network], sp.Rational]) -> Rule:
    def formula(site: Site, v: Sequence) -> Any:
        return site.ops.given(factor(site.network)) * rule.formula(site, v)
    return Rule(rule.name, rule.reads, formula)


def _softmax_diagonal(site: Site, v: Sequence) -> Any:
    return r.softmax_chain(site, v, diagonal_only=True)


def _rows_for_columns(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    l, (k,) = d.layer, d.index
    m = r.units(net, l + 1)
    return (q(Kind.SLOPE, l, k), *(q(Kind.WEIGHT, l + 1, k, j) for j in range(m)),
            *(q(Kind.DELTA, l + 1, j) for j in range(m)))


def _square_above(network: Network, layer: int) -> bool:
    return r.units(network, layer + 1) == r.fan_in(network, layer + 1)


def _first_term(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    l, (k,) = d.layer, d.index
    return q(Kind.SLOPE, l, k), q(Kind.WEIGHT, l + 1, 0, k), q(Kind.DELTA, l + 1, 0)


def _updated_weights(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    l, (k,) = d.layer, d.index
    m = r.units(net, l + 1)
    return (q(Kind.SLOPE, l, k), *(q(Kind.WEIGHT_NEW, l + 1, j, k) for j in range(m)),
            *(q(Kind.DELTA, l + 1, j) for j in range(m)))


def _swapped(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    l, (j, k) = g.layer, g.index
    if k >= r.units(net, l) or j >= r.fan_in(net, l):
        raise NotApplicable
    return q(Kind.DELTA, l, k), r.below(l, j)


def _with_z_below(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    l, (j, k) = g.layer, g.index
    return q(Kind.DELTA, l, j), q(Kind.Z, l - 1, k)


def _with_own_a(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    l, (j, k) = g.layer, g.index
    if k >= r.units(net, l):
        raise NotApplicable
    return q(Kind.DELTA, l, j), q(Kind.A, l, k)


def _delta_alone(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    return (q(Kind.DELTA, g.layer, g.index[0]),)


def _uphill(site: Site, v: Sequence) -> Any:
    return v[0] + site.ops.given(site.network.learning_rate) * v[1]


def _no_rate(site: Site, v: Sequence) -> Any:
    return v[0] - v[1]


def _deltas_above(net: Network, d: QuantityId) -> tuple[QuantityId, ...]:
    l, (k,) = d.layer, d.index
    return (q(Kind.SLOPE, l, k), *(q(Kind.DELTA, l + 1, j) for j in range(r.units(net, l + 1))))


def _slope_times_sum(site: Site, v: Sequence) -> Any:
    return v[0] * site.ops.sum(list(v[1:]))


def _gradient_of_nudged(net: Network, nudge: QuantityId) -> tuple[QuantityId, ...]:
    return (r.gradient_of(nudge.of),)


def _more_than_one_entry(network: Network, layer: int) -> bool:
    return r.units(network, layer) > 1 or r.fan_in(network, layer) > 1


def _plain_descent(network: Network, layer: int | None) -> bool:
    """With an optimizer, W_new is the weight after its steps (with two, reading it in the backward
    pass would make the second step's gradient depend on itself): plain descent only."""
    return network.optimizer is None


def _data_part(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    return (QuantityId(Kind.DATA_GRADIENT, g.layer, g.index),)


def _optimizer_is(kind: OptimizerKind):
    return lambda net, layer: net.optimizer is not None and net.optimizer.kind is kind


SLIPS: tuple[Slip, ...] = (
    Slip("forgot_bias", "weighted_sum", Rule("weighted_sum", _plain_sum_reads, _plain_sum), _always,
         _text("The bias is missing from the weighted sum{in_layer}: z = Σₖ w·aₖ + b.")),
    Slip("forgot_activation", "activation", Rule("activation", _z_of, r.itself), _elementwise,
         _text("The activation was not applied{in_layer}: a = {f}(z), not z itself.")),
    Slip("forgot_activation_slope", "activation_slope", Rule("activation_slope", lambda net, s: (), _one),
         _elementwise,
         _text("The activation's derivative is missing{in_layer}: δ = ∂L/∂a · f′(z); check the {f}′(z) factor."),
         _text("{f}′(z) is not simply 1{in_layer}: a slope of 1 belongs to the identity (and to relu only where "
               "z > 0); differentiate {f} and evaluate it at z.")),
    Slip("slope_at_activation", "activation_slope", Rule("activation_slope", _a_of, r.slope), _elementwise,
         _text("{f}′ was evaluated at the activation a instead of at z{in_layer}; {f}′ takes the pre-activation z.")),
    Slip("activation_for_slope", "activation_slope", Rule("activation_slope", _z_of, r.activation), _elementwise,
         _text("That uses the activation {f}(z) itself{in_layer}, not its derivative {f}′(z).")),
    Slip("slope_sign_flipped", "activation_slope",
         Rule("activation_slope", _a_of, _miswritten("slope_sign_flipped")), _activation_in("sigmoid", "tanh"),
         _text("Check the sign inside {f}′{in_layer}: σ′ = σ(1 − σ) and tanh′ = 1 − tanh², each with a minus."),
         _text("Check the sign inside {f}′{in_layer}: differentiate {f} again and compare the sign of each term "
               "with yours.")),
    Slip("sech_not_squared", "activation_slope",
         Rule("activation_slope", _a_of, _miswritten("sech_not_squared")), _activation_in("tanh"),
         _text("sech needs the square{in_layer}: tanh′ = sech² = 1 − tanh²."),
         _text("sech needs the square{in_layer}: check the power of sech in the derivative of tanh.")),
    Slip("loss_half_missing", "loss", _scaled(r.LOSS, lambda net: sp.Integer(2)), _loss_in("half_sse"),
         _text("The ½ in front is missing: half_sse = ½Σ(t − o)².")),
    Slip("error_sign", "loss_gradient", _scaled(r.LOSS_GRADIENT, lambda net: sp.Integer(-1)), _always,
         _text("The sign of the error is flipped: L grows as o moves away from t, so ∂L/∂o is positive when o is "
               "above t and negative when o is below it.")),
    Slip("kept_power_two", "loss_gradient", _scaled(r.LOSS_GRADIENT, lambda net: sp.Integer(2)),
         _loss_in("half_sse"), _text("The ½ of the loss cancels the 2 from the power rule; you kept the 2.")),
    Slip("dropped_power_two", "loss_gradient", _scaled(r.LOSS_GRADIENT, lambda net: sp.Rational(1, 2)),
         _loss_in("sse", "mse"), _text("This loss has no ½: the power rule leaves a factor 2 in ∂L/∂o.")),
    Slip("dropped_mean", "loss_gradient", _scaled(r.LOSS_GRADIENT, lambda net: sp.Integer(len(net.target))),
         lambda net, layer: net.loss == "mse" and len(net.target) > 1,
         _text("The mean squared error divides by n, the number of outputs; the 1/n is missing.")),
    Slip("softmax_jacobian_dropped", "output_delta", Rule("output_delta", r.OUTPUT_DELTA.reads, _softmax_diagonal),
         _activation_in(activations.SOFTMAX),
         _text("Softmax couples the outputs: every oⱼ depends on every zₖ, so δₖ = Σⱼ ∂L/∂oⱼ · ∂oⱼ/∂zₖ sums over "
               "all j, not only j = k.")),
    Slip("weights_not_transposed", "hidden_delta", Rule("hidden_delta", _rows_for_columns, r.HIDDEN_DELTA.formula),
         _square_above,
         _text("The weight indices are swapped in the hidden delta{in_layer}: w⁽ˡ⁺¹⁾ⱼₖ goes from unit k to unit j "
               "above, so δ⁽ˡ⁾ₖ sums w⁽ˡ⁺¹⁾ⱼₖ·δ⁽ˡ⁺¹⁾ⱼ over j (a column of W, that is Wᵀ, not a row).")),
    Slip("dropped_fanout_term", "hidden_delta", Rule("hidden_delta", _first_term, r.HIDDEN_DELTA.formula),
         lambda net, layer: r.units(net, layer + 1) > 1,
         _text("A term of the hidden delta's sum is missing{in_layer}: a hidden unit feeds every unit of the next "
               "layer, so δ sums w·δ over all of them.")),
    Slip("updated_weights_in_backward", "hidden_delta", Rule("hidden_delta", _updated_weights, r.HIDDEN_DELTA.formula),
         _plain_descent,
         _text("The hidden delta{in_layer} used the already-updated weights; backprop uses the weights of the forward "
               "pass, and all updates happen after the backward pass.")),
    Slip("swapped_indices", "weight_gradient", Rule("weight_gradient", _swapped, r.WEIGHT_GRADIENT.formula),
         _more_than_one_entry,
         _text("The gradient's indices are swapped{in_layer}: ∂L/∂w⁽ˡ⁾ⱼₖ pairs δ⁽ˡ⁾ⱼ of the unit above with aₖ of "
               "the unit below (row j, column k).")),
    Slip("preactivation_for_activation", "weight_gradient",
         Rule("weight_gradient", _with_z_below, r.WEIGHT_GRADIENT.formula), lambda net, layer: layer >= 2,
         _text("The weight{in_layer} multiplies the output a = f(z) of the unit below, not its weighted sum z: "
               "∂L/∂w⁽ˡ⁾ⱼₖ = δ⁽ˡ⁾ⱼ·a⁽ˡ⁻¹⁾ₖ.")),
    Slip("wrong_layer_activation", "weight_gradient",
         Rule("weight_gradient", _with_own_a, r.WEIGHT_GRADIENT.formula), _always,
         _text("∂L/∂w⁽ˡ⁾ⱼₖ{in_layer} takes the activation of the layer below, a⁽ˡ⁻¹⁾ₖ (what the weight multiplies), "
               "not this layer's own output.")),
    Slip("forgot_input_factor", "weight_gradient", Rule("weight_gradient", _delta_alone, r.itself), _always,
         _text("That is δ alone{in_layer}; the weight multiplies a⁽ˡ⁻¹⁾ₖ, so ∂L/∂w = δ·a⁽ˡ⁻¹⁾ₖ has that extra "
               "factor.")),
    Slip("update_sign", "update", Rule("update", r.UPDATE.reads, _uphill), _plain_descent,
         _text("The update went uphill: gradient descent subtracts, w ← w − η·∂L/∂w.")),
    Slip("forgot_learning_rate", "update", Rule("update", r.UPDATE.reads, _no_rate),
         lambda net, layer: net.learning_rate != 1 and net.optimizer is None,
         _text("The learning rate is missing from the update: w ← w − η·∂L/∂w.")),
    Slip("derivative_not_ratio", "nudge_ratio", Rule("nudge_ratio", _gradient_of_nudged, r.itself), _always,
         _text("That is the derivative, the limit as h → 0; with a finite h the ratio differs from it a little. "
               "Recompute L with the nudged parameter.")),
    Slip("forgot_weight_decay", "weight_decay_gradient", Rule("weight_decay_gradient", _data_part, r.itself),
         lambda net, layer: bool(net.weight_decay),
         _text("The weight decay term is missing from the gradient{in_layer}: the loss has + (λ/2)·Σ w², so "
               "∂L/∂w = δ·a + λ·w.")),
    Slip("momentum_sign", "momentum_update", Rule("momentum_update", r.MOMENTUM_UPDATE.reads, _uphill),
         _optimizer_is(OptimizerKind.MOMENTUM),
         _text("The momentum step went uphill: the velocity v accumulates the gradient, so the step subtracts it, "
               "w ← w − η·v.")),
    Slip("adam_no_bias_correction", "bias_correction", Rule("bias_correction", r.BIAS_CORRECTION.reads, r.itself),
         _optimizer_is(OptimizerKind.ADAM),
         _text("Adam's moments start at 0, so they are too small in the first steps: divide by (1 − βᵗ), "
               "m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ), before the step.")),
    # Names a template may give its own mistakes, with no rule of the network engine:
    Slip("swapped_inputs", "", None, _always,
         _text("In a multiply node each input's gradient is the upstream gradient times the other input's value.")),
    # A deep chain's δ⁽¹⁾ read as "the product of the slopes" alone: only there, where δ is one product.
    Slip("dropped_chain_weight", "hidden_delta", Rule("hidden_delta", _deltas_above, _slope_times_sum),
         lambda net, layer: is_deep_chain(net),
         _text("The weight is missing from the chain{in_layer}: going down one layer multiplies δ by the weight "
               "above as well as the slope, δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾·w⁽ˡ⁺¹⁾·{f}′(z⁽ˡ⁾).")),
)



# --- mini-batches ---------------------------------------------------------------------------------

def _batch_sum(site: Site, v: Sequence) -> Any:
    return site.ops.sum(list(v))


def _batch_of_two_or_more(network: Network, layer: int | None) -> bool:
    return network.examples is not None and len(network.examples) > 1


SLIPS += (
    Slip("summed_not_averaged", "batch_gradient", Rule("batch_gradient", r.BATCH_GRADIENT.reads, _batch_sum),
         _batch_of_two_or_more,
         _text("That is the sum of the examples' gradients{in_layer}; the batch's loss is their mean, "
               "L = (1/B) Σₑ Lₑ, so its gradient is the mean too: divide by the batch size B.")),
    Slip("one_example_only", "batch_gradient", Rule("batch_gradient", lambda net, g: r.BATCH_GRADIENT.reads(net, g)[:1],
                                                    r.itself), _batch_of_two_or_more,
         _text("That is the first example's gradient alone{in_layer}; the batch's gradient averages every "
               "example's: ∂L/∂w = (1/B) Σₑ ∂Lₑ/∂w.")),
)


# --- residual (skip) connections ----------------------------------------------------------------

def _through_layers_only(net: Network, da: QuantityId) -> tuple[QuantityId, ...]:
    return r.ACTIVATION_GRADIENT.reads(net, da)


def _not_at_a_skip(where):
    """f′ written in a assumes a = f(z), which a layer with a skip (a = f(z) + a⁽ᵏ⁾) does not have."""
    return lambda net, layer: where(net, layer) and r.skip_of(net, layer) is None


SLIPS = tuple(replace(slip, where=_not_at_a_skip(slip.where)) if slip.name in _WRITTEN_IN_A else slip
              for slip in SLIPS)
SLIPS += (
    Slip("forgot_skip_gradient", "skip_gradient",
         Rule("skip_gradient", _through_layers_only, r.ACTIVATION_GRADIENT.formula), _always,
         _text("The skip connection adds a second path; gradients from both paths add{in_layer}: "
               "∂L/∂a⁽ᵏ⁾ = Σⱼ w·δ (through the layers) + ∂L/∂a⁽ˡ⁾ (through the skip, where a⁽ˡ⁾ = f(z) + a⁽ᵏ⁾).")),
)


# --- a recurrent cell unrolled over time --------------------------------------------------------------

def _recurrent(network: Network, layer: int | None) -> bool:
    return network.recurrent is not None


def _last_step_only(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    """The sum over time's reads from the last step alone: δ_T and what it multiplies."""
    reads = r.SUM_OVER_TIME.reads(net, g)
    return reads[:1] if g.kind is Kind.BIAS_GRADIENT else reads[:2]


SLIPS += (
    Slip("forgot_sum_over_time", "sum_over_time", Rule("sum_over_time", _last_step_only, r.SUM_OVER_TIME.formula),
         _recurrent,
         _text("That is the last step's term alone; the weight is shared by every step, so its gradient sums "
               "every step's δ times what the weight multiplied there (x₁, x₂, … or h₀, h₁, …).")),
    Slip("dropped_recurrent_weight", "delta_through_time",
         Rule("delta_through_time", lambda net, d: r.THROUGH_TIME.reads(net, d)[::2], r.WEIGHT_GRADIENT.formula),
         _recurrent,
         _text("The recurrent weight is missing: a step's state reaches the next step through w_h, so "
               "δ₁ = δ₂·w_h·{f}′(z₁), and so on back through time.")),
)


# --- a conv1d layer ---------------------------------------------------------------------------------

def _first_position(net: Network, g: QuantityId) -> tuple[QuantityId, ...]:
    """∂L/∂kⱼ from position 0 alone: δ₀·a⁽ˡ⁻¹⁾ⱼ, the sum over positions forgotten."""
    reads = r.KERNEL_GRADIENT.reads(net, g)
    return reads[0], reads[len(reads) // 2]


def _flipped_kernel(net: Network, z: QuantityId) -> tuple[QuantityId, ...]:
    """zᵢ with k_{K−1−j} against a⁽ˡ⁻¹⁾ᵢ₊ⱼ: the kernel read backwards (a true convolution's flip)."""
    reads = r.CONV_SUM.reads(net, z)
    K = r.kernel_size(net, z.layer)
    return (*reversed(reads[:K]), *reads[K:])


def _kernel_of_two_or_more(network: Network, layer: int | None) -> bool:
    return r.kernel_size(network, layer) > 1


SLIPS += (
    Slip("forgot_sum_over_positions", "kernel_gradient", Rule("kernel_gradient", _first_position, r.sum_of_products),
         lambda network, layer: network.layers[layer - 1].units > 1,
         _text("That is one position's share of the kernel's gradient{in_layer}; the same kⱼ multiplies an input "
               "at every position, so ∂L/∂kⱼ = Σᵢ δᵢ·a⁽ˡ⁻¹⁾ᵢ₊ⱼ sums over all the positions i.")),
    Slip("kernel_flipped", "conv1d_sum", Rule("conv1d_sum", _flipped_kernel, r.CONV_SUM.formula),
         _kernel_of_two_or_more,
         _text("The kernel was read backwards{in_layer}: here (as in deep-learning libraries) zᵢ = Σⱼ kⱼ·a⁽ˡ⁻¹⁾ᵢ₊ⱼ, "
               "so k₀ meets the leftmost input of the window, not the rightmost.")),
)

BY_NAME: dict[str, Slip] = {slip.name: slip for slip in SLIPS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def feedback(name: str, activation: str = "", layer: int | None = None, asked: bool = False) -> str:
    """The slip's feedback, naming the activation (σ, tanh …) and the layer where they are known;
    `asked`: the part asks for the very quantity the slipped rule computes."""
    slip = BY_NAME[name]
    say = slip.when_asked if asked and slip.when_asked else slip.feedback
    return say(activation, layer)


def feedback_at(name: str, network: Network, scope: tuple[int | None, ...], asked: bool = False) -> str:
    """The feedback of a slip made at `scope` in a network: the activation named when the scope
    is one layer, and the layer too when there is more than one."""
    layer = scope[0] if len(scope) == 1 else None
    activation = r.activation_of(network, layer) if layer else ""
    return feedback(name, activation, layer if len(network.layers) > 1 else None, asked)


def symbolic_forms(activation: str) -> tuple[tuple[str, sp.Expr], ...]:
    """Slips in writing f′ as a formula in z, for an activation: (name, the wrong f′)."""
    f = activations.ELEMENTWISE[activation]
    forms = [] if activation == "identity" else [("activation_for_slope", f.expr)]
    forms += [(name, written_in_z(name, activation)) for name, by in _WRITTEN_IN_A.items() if activation in by]
    return tuple(forms)


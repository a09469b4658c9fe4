"""An independent reference for the grader's tests: a network's forward and backward pass in
plain Python floats, written from docs/rules-and-slips.md and PRODUCT.md only.

Nothing here imports backprop_tutor's engine or grading; the network is the normalized dict
(`problem.solution.network.to_json()`: input, target, layers[{activation, weights, bias}],
loss, learning_rate). Loss gradients and activation slopes are written out by hand from their
definitions, so agreement with the engine is an independent check of SymPy's derivatives.

    evaluate(network, slip=None, scope=None, overrides=None) -> Results   (name -> float)
    scopes(network, slip) -> list      where a slip can be made ([] when nowhere)
    value(results, "delta1") -> [..]   a quantity by its id: scalar, vector, matrix or nudge(...)
    nudge(network, "W2[0][1]", 0.01, slip=..., scope=..., overrides=...) -> float

Semantics (the grader's contract):
- A slip replaces one rule wherever that rule is applied: the forward-pass slips (forgot_bias,
  forgot_activation) and loss_half_missing also act in the forward passes of loss_after and of
  the nudge ratio; `scope` is the layer the slip is made in (an int), "all" (every layer where
  it can be made) or None for rules without layers. The update slips act per layer, on both
  W{l}_new and b{l}_new of that layer; hidden_delta slips are scoped by the layer whose delta
  they compute; softmax_jacobian_dropped by the output layer.
- `overrides` (scalar name -> float) replace a quantity by the learner's value; everything read
  from it downstream is computed from the replacement: fprime from a for sigmoid and tanh (from
  z otherwise), the softmax delta from p = a{L}, loss_after from W_new/b_new, nudge from loss.
- An entry a slip cannot produce (swapped_indices where the swapped index does not exist,
  wrong_layer_activation where a{l}[k] does not exist) is None, and so is everything computed
  from it; a loss (or loss gradient) that is undefined for the slipped outputs is NaN.
  evaluate() raises NotApplicable for a slip/scope that cannot be made at all.
- A conv1d first layer ({type: conv1d, kernel, bias: b}) is run as the banded dense layer it acts as
  (row i holds the kernel at columns i … i+K−1, b at every position); its quantities are K1[j],
  b1[0], dK1[j] = Σᵢ δᵢ·xᵢ₊ⱼ (= Σᵢ dW[i][i+j]), db1[0] = Σᵢ δᵢ, K1_new[j], b1_new[0]. forgot_bias and
  the weight-gradient slips are not made there (it has its own rules); forgot_sum_over_positions
  and kernel_flipped are made only there.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping

# The slip catalogue of docs/rules-and-slips.md, in its order.
CATALOGUE = (
    "forgot_bias", "forgot_activation", "forgot_activation_slope", "slope_at_activation",
    "activation_for_slope", "slope_sign_flipped", "sech_not_squared", "loss_half_missing", "error_sign",
    "kept_power_two", "dropped_power_two", "dropped_mean", "softmax_jacobian_dropped", "weights_not_transposed",
    "dropped_fanout_term", "updated_weights_in_backward", "swapped_indices", "preactivation_for_activation",
    "wrong_layer_activation", "forgot_input_factor", "update_sign", "forgot_learning_rate", "derivative_not_ratio",
    "dropped_chain_weight",
    "forgot_weight_decay", "momentum_sign", "adam_no_bias_correction",
    "summed_not_averaged", "one_example_only",
    "forgot_skip_gradient",
    "forgot_sum_over_time", "dropped_recurrent_weight",
    "forgot_sum_over_positions", "kernel_flipped",
)
# Names a template's own mistakes may have besides the catalogue's (they have no rule).
OTHER_MISTAKE_NAMES = ("swapped_inputs",)

_SLOPE = ("forgot_activation_slope", "slope_at_activation", "activation_for_slope", "slope_sign_flipped",
          "sech_not_squared")
_LOSS_GRADIENT = {"error_sign": None, "kept_power_two": ("half_sse",), "dropped_power_two": ("sse", "mse"),
                  "dropped_mean": ("mse",)}
_HIDDEN = ("weights_not_transposed", "dropped_fanout_term", "updated_weights_in_backward", "dropped_chain_weight")
_WEIGHT_GRADIENT = ("swapped_indices", "preactivation_for_activation", "wrong_layer_activation",
                    "forgot_input_factor")
_UPDATE = ("update_sign", "forgot_learning_rate")


class NotApplicable(Exception):
    """The slip cannot be made in this network (or not in this scope)."""


# --- activations and losses, by hand -----------------------------------------------------------

def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def _softplus(z: float) -> float:
    return z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


def _phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _gelu_tanh(z: float) -> float:
    return 0.5 * z * (1 + math.tanh(_SQRT_2_OVER_PI * (z + _GELU_CUBIC * z**3)))


def _gelu_tanh_prime(z: float) -> float:
    u = math.tanh(_SQRT_2_OVER_PI * (z + _GELU_CUBIC * z**3))
    return 0.5 * (1 + u) + 0.5 * z * (1 - u * u) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * z * z)


F = {  # f(z)
    "identity": lambda z: z,
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "relu": lambda z: z if z > 0 else 0.0,
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "softplus": _softplus,
    "elu": lambda z: z if z > 0 else math.expm1(z),
    "silu": lambda z: z * _sigmoid(z),
    "gelu": lambda z: z * _phi(z),
    "gelu_tanh": _gelu_tanh,
    "step": lambda z: 1.0 if z >= 0 else 0.0,
}
DF = {  # f'(z), written in z
    "identity": lambda z: 1.0,
    "sigmoid": lambda z: _sigmoid(z) * (1 - _sigmoid(z)),
    "tanh": lambda z: 1 - math.tanh(z) ** 2,
    "relu": lambda z: 1.0 if z > 0 else 0.0,
    "leaky_relu": lambda z: 1.0 if z > 0 else 0.01,
    "softplus": _sigmoid,
    "elu": lambda z: 1.0 if z > 0 else math.exp(z),
    "silu": lambda z: _sigmoid(z) * (1 + z * (1 - _sigmoid(z))),
    "gelu": lambda z: _phi(z) + z * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
    "gelu_tanh": _gelu_tanh_prime,
    "step": lambda z: 0.0,
}
ELEMENTWISE = tuple(F)


def _slope(act: str, z: float, a: float, slip: str | None) -> float:
    """f' of one unit by the activation_slope rule, or by the slipped rule."""
    if slip == "forgot_activation_slope":
        return 1.0
    if slip == "slope_at_activation":
        return DF[act](a)
    if slip == "activation_for_slope":
        return F[act](z)
    if slip == "slope_sign_flipped":
        if act == "sigmoid":
            s = _sigmoid(z)
            return s * (1 + s)
        return 1 + math.tanh(z) ** 2
    if slip == "sech_not_squared":
        return 1 / math.cosh(z)
    # sigmoid and tanh read the unit's output a, so that a learner's own a carries into f';
    # where a is f(z) itself, the same slope is taken in z, which keeps every digit when a ≈ ±1
    if act == "sigmoid":
        return _sigmoid(z) * _sigmoid(-z) if a == _sigmoid(z) else a * (1 - a)
    if act == "tanh":
        return 1 / math.cosh(z) ** 2 if a == math.tanh(z) else 1 - a * a
    return DF[act](z)


def _loss(name: str, o: list, t: list, slip: str | None) -> float:
    """The loss; NaN where it is undefined (the log of an output outside (0, 1) after a slip)."""
    try:
        return _loss_value(name, o, t, slip)
    except ValueError:
        return math.nan


def _loss_value(name: str, o: list, t: list, slip: str | None) -> float:
    n = len(o)
    if name in ("half_sse", "sse", "mse"):
        total = math.fsum((tj - oj) ** 2 for oj, tj in zip(o, t))
        if name == "half_sse":
            return total if slip == "loss_half_missing" else total / 2
        return total if name == "sse" else total / n
    if name == "bce":
        terms = []
        for oj, tj in zip(o, t):
            if tj != 0:
                terms.append(tj * math.log(oj))
            if tj != 1:
                terms.append((1 - tj) * math.log(1 - oj))
        return -math.fsum(terms) / n
    if name == "cross_entropy":
        return -math.fsum(tj * math.log(oj) for oj, tj in zip(o, t) if tj != 0)
    raise ValueError(f"unknown loss {name!r}")


def _loss_gradient(name: str, oj: float, tj: float, n: int) -> float:
    try:
        return _loss_gradient_value(name, oj, tj, n)
    except ZeroDivisionError:
        return math.nan


def _loss_gradient_value(name: str, oj: float, tj: float, n: int) -> float:
    if name == "half_sse":
        return oj - tj
    if name == "sse":
        return 2 * (oj - tj)
    if name == "mse":
        return 2 / n * (oj - tj)
    if name == "bce":
        return (oj - tj) / (oj * (1 - oj)) / n
    if name == "cross_entropy":
        return -tj / oj
    raise ValueError(f"unknown loss {name!r}")


# --- where a slip can be made ----------------------------------------------------------------

def _units(network: Mapping, l: int) -> int:
    if l > 0 and "kernel" in network["layers"][l - 1]:  # a conv1d layer: one unit per position
        return _units(network, l - 1) - len(network["layers"][l - 1]["kernel"]) + 1
    return len(_one(network)["input"]) if l == 0 else len(network["layers"][l - 1]["bias"])


def _layers_where(network: Mapping, slip: str) -> list | None:
    """The layers a layered slip can be made in; None for slips of rules without layers."""
    layers = network["layers"]
    L = len(layers)
    acts = [None] + [layer["activation"] for layer in layers]
    every = list(range(1, L + 1))
    hidden = list(range(1, L))
    if slip in _BATCH:
        return every if len(network.get("examples", ())) > 1 else []
    if slip == "updated_weights_in_backward" and "examples" in network:
        return []  # which update a batch's example would read is not defined by the spec: not made
    dense = [l for l in every if "kernel" not in layers[l - 1]]  # a conv1d layer has its own sum and gradients
    if slip == "forgot_bias":
        return dense
    if slip == "forgot_sum_over_positions":
        return [l for l in every if l not in dense and _units(network, l) > 1]
    if slip == "kernel_flipped":
        return [l for l in every if l not in dense and len(layers[l - 1]["kernel"]) > 1]
    if slip == "forgot_skip_gradient":
        return _skip_sources(network)
    if slip in ("forgot_activation", "slope_sign_flipped", "sech_not_squared"):  # these read a as f(z)
        every = [l for l in every if _skip(network, l) is None]
    if slip in ("forgot_activation", "forgot_activation_slope", "slope_at_activation", "activation_for_slope"):
        return [l for l in every if acts[l] in ELEMENTWISE and acts[l] != "identity"]
    if slip == "slope_sign_flipped":
        return [l for l in every if acts[l] in ("sigmoid", "tanh")]
    if slip == "sech_not_squared":
        return [l for l in every if acts[l] == "tanh"]
    if slip in _HIDDEN:  # a skip's source has its own δ, f′·∂L/∂a
        hidden = [l for l in hidden if l not in _skip_sources(network)]
    if slip == "softmax_jacobian_dropped":
        return [L] if acts[L] == "softmax" else []
    if slip == "weights_not_transposed":
        return [l for l in hidden if _units(network, l + 1) == _units(network, l)]
    if slip == "dropped_fanout_term":
        return [l for l in hidden if _units(network, l + 1) >= 2]
    if slip == "updated_weights_in_backward":
        # with an optimizer, W_new is the weight after its steps: not a slip of the backward pass
        return [] if _optimizer(network) else hidden
    if slip == "dropped_chain_weight":  # a deep chain: every layer (and the input) one unit, 4 layers or more
        chain = L >= 4 and all(_units(network, l) == 1 for l in range(0, L + 1))
        return hidden if chain else []
    if slip in ("swapped_indices", "wrong_layer_activation", "forgot_input_factor"):
        return dense
    if slip == "update_sign":  # an optimizer's steps replace the plain update
        return [] if _optimizer(network) else every
    if slip == "forgot_weight_decay":
        return every if _decay(network) else []
    if slip == "preactivation_for_activation":
        return [l for l in every if l >= 2]
    if slip == "forgot_learning_rate":
        return every if float(network["learning_rate"]) != 1 and not _optimizer(network) else []
    if slip in ("forgot_sum_over_time", "dropped_recurrent_weight"):
        return []  # a recurrent cell's slips: scopes() takes recurrent networks to _recurrent_scopes
    return None


def _applies_without_layers(network: Mapping, slip: str) -> bool:
    loss = network["loss"]
    if slip == "loss_half_missing":
        return loss == "half_sse"
    if slip in _LOSS_GRADIENT:
        allowed = _LOSS_GRADIENT[slip]
        if allowed is not None and loss not in allowed:
            return False
        return slip != "dropped_mean" or len(_one(network)["target"]) > 1
    if slip == "derivative_not_ratio":
        return True
    if slip in ("momentum_sign", "adam_no_bias_correction"):
        return _optimizer(network).get("kind") == ("momentum" if slip == "momentum_sign" else "adam")
    raise ValueError(f"{slip!r} is not a slip of the catalogue")


def scopes(network: Mapping, slip: str) -> list:
    """The scopes a slip can be made in: its layers (ints) plus "all" when there are several;
    [None] for a slip of a rule without layers that applies; [] when it cannot be made."""
    if "recurrent" in network:
        return _recurrent_scopes(network, slip)
    layers = _layers_where(network, slip)
    if layers is None:
        return [None] if _applies_without_layers(network, slip) else []
    return layers + (["all"] if len(layers) > 1 else [])


def _hit(network: Mapping, slip: str | None, scope) -> frozenset:
    """The layers the slip acts on (empty for none or a rule without layers)."""
    if slip is None:
        return frozenset()
    if scope not in scopes(network, slip):
        raise NotApplicable(f"{slip} cannot be made in scope {scope!r} of this network")
    if scope is None:
        return frozenset()
    if scope == "all":
        return frozenset(_layers_where(network, slip))
    return frozenset((scope,))


# --- the passes --------------------------------------------------------------------------------

class Results(dict):
    """Scalar name -> float (None where the slip cannot produce it); remembers how it was made
    so that value() can answer nudge(...) quantities."""

    network: Mapping
    slip: str | None
    scope: object
    overrides: Mapping


def _keep(name: str, v):
    return v


def _forward(network: Mapping, W: list, b: list, x: list, slip: str | None, hit: frozenset, put=_keep):
    """z[l], a[l] of every layer (a[0] = x), with the forward-pass slips."""
    z: list = [None]
    a: list = [list(x)]
    for l, layer in enumerate(network["layers"], start=1):
        act = layer["activation"]
        zl = []
        for j, row in enumerate(W[l]):
            if slip == "kernel_flipped" and l in hit:  # the band of row j (the kernel at columns j … j+K−1) reversed
                K = len(layer["kernel"])
                row = row[:j] + row[j:j + K][::-1] + row[j + K:]
            s = math.fsum(w * ak for w, ak in zip(row, a[l - 1]))
            if not (slip == "forgot_bias" and l in hit):
                s += b[l][j]
            zl.append(put(f"z{l}[{j}]", s))
        if act == "softmax":
            top = max(zl)
            e = [math.exp(v - top) for v in zl]
            total = math.fsum(e)
            al = [put(f"a{l}[{j}]", v / total) for j, v in enumerate(e)]
        elif slip == "forgot_activation" and l in hit:
            al = [put(f"a{l}[{j}]", v) for j, v in enumerate(zl)]
        else:
            k = layer.get("skip")  # a residual layer: a = f(z) + a⁽ᵏ⁾
            al = [put(f"a{l}[{j}]", F[act](v) + (0.0 if k is None else a[k][j])) for j, v in enumerate(zl)]
        z.append(zl)
        a.append(al)
    return z, a


def _loss_of(network: Mapping, W: list, b: list, x: list, t: list, slip: str | None, hit: frozenset) -> float:
    """The loss of a fresh forward pass (the rules of loss_after and nudge_ratio), with the
    weight decay (λ/2)·Σ w² of these weights."""
    _, a = _forward(network, W, b, x, slip, hit)
    return _loss(network["loss"], a[-1], t, slip) + _penalty(network, W)


def _decay(network: Mapping) -> float:
    return float(network.get("weight_decay", 0))


def _penalty(network: Mapping, W: list) -> float:
    """(λ/2)·Σ w² over every weight (not the biases)."""
    return _decay(network) / 2 * math.fsum(w * w for rows in W[1:] for row in rows for w in row)


def _optimizer(network: Mapping) -> dict:
    return dict(network.get("optimizer") or {})


def _recorder(network: Mapping, slip, scope, overrides):
    """Empty results, and put(name, value): record a value, or the learner's in its place."""
    given = dict(overrides or {})
    r = Results()
    r.network, r.slip, r.scope, r.overrides = network, slip, scope, given

    def put(name: str, v):
        r[name] = float(given[name]) if name in given else v
        return r[name]
    return r, put


def evaluate(network: Mapping, slip: str | None = None, scope=None,
             overrides: Mapping[str, float] | None = None) -> Results:
    """Every scalar quantity of the network by its canonical name, with at most one slip."""
    if "examples" in network:
        return _evaluate_batch(network, slip, scope, overrides)
    if "recurrent" in network:
        return _evaluate_recurrent(network, slip, scope, overrides)
    hit = _hit(network, slip, scope)
    r, put = _recorder(network, slip, scope, overrides)
    layers = network["layers"]
    L = len(layers)
    eta = float(network["learning_rate"])
    x = [put(f"x[{k}]", float(v)) for k, v in enumerate(network["input"])]
    t = [put(f"t[{j}]", float(v)) for j, v in enumerate(network["target"])]
    n = len(t)
    W: list = [None]
    b: list = [None]
    for l, layer in enumerate(layers, start=1):
        if "kernel" in layer:  # a conv1d layer: its kernel as the banded matrix it acts as, one shared bias
            kernel = [put(f"K{l}[{j}]", float(v)) for j, v in enumerate(layer["kernel"])]
            W.append(_banded(kernel, _units(network, l - 1)))
            b.append([put(f"b{l}[0]", float(layer["bias"]))] * len(W[l]))
            continue
        W.append([[put(f"W{l}[{j}][{k}]", float(w)) for k, w in enumerate(row)]
                  for j, row in enumerate(layer["weights"])])
        b.append([put(f"b{l}[{j}]", float(v)) for j, v in enumerate(layer["bias"])])

    # forward pass and slopes
    z, a = _forward(network, W, b, x, slip, hit, put)
    fprime: list = [None] * (L + 1)
    for l, layer in enumerate(layers, start=1):
        act = layer["activation"]
        if act == "softmax":
            continue
        rule = slip if (slip in _SLOPE and l in hit) else None
        # at a layer with a skip, a is f(z) + a⁽ᵏ⁾: the slope is taken from f(z) (but f′(a) is that slip's)
        own = layer.get("skip") is None or rule == "slope_at_activation"
        fprime[l] = [put(f"fprime{l}[{j}]", _slope(act, zj, aj if own else F[act](zj), rule))
                     for j, (zj, aj) in enumerate(zip(z[l], a[l]))]

    # loss and its gradient
    data_loss = put("data_loss", _loss(network["loss"], a[L], t, slip))
    put("loss", data_loss + put("decay", _penalty(network, W)))
    factor = {"error_sign": -1.0, "kept_power_two": 2.0, "dropped_power_two": 0.5, "dropped_mean": float(n)}
    scale = factor.get(slip, 1.0)
    dL_da = [put(f"dL_da[{j}]", scale * _loss_gradient(network["loss"], oj, tj, n))
             for j, (oj, tj) in enumerate(zip(a[L], t))]

    # backward pass: delta, gradients and the update, layer by layer from the top
    delta: list = [None] * (L + 1)
    da: list = [None] * (L + 1)  # ∂L/∂a⁽ˡ⁾, the skip's second path included at its source
    dW: list = [None] * (L + 1)
    db: list = [None] * (L + 1)
    W_new: list = [None] * (L + 1)
    b_new: list = [None] * (L + 1)
    for l in range(L, 0, -1):
        units = len(b[l])
        if l == L:
            if layers[-1]["activation"] == "softmax":
                p = a[L]
                if slip == "softmax_jacobian_dropped":
                    dl = [dL_da[k] * p[k] * (1 - p[k]) for k in range(n)]
                else:
                    dl = [math.fsum(dL_da[j] * p[j] * ((1.0 if j == k else 0.0) - p[k]) for j in range(n))
                          for k in range(n)]
            else:
                dl = [g * s for g, s in zip(dL_da, fprime[L])]
        elif l in _skip_sources(network):
            da[l] = [put(f"da{l}[{k}]", v) for k, v in enumerate(_skip_source_gradient(network, W, delta, da, l, slip, hit))]
            dl = [None if g is None else fprime[l][k] * g for k, g in enumerate(da[l])]
        else:
            above = delta[l + 1]
            rule = slip if (slip in _HIDDEN and l in hit) else None
            dl = []
            for k in range(units):
                if rule == "weights_not_transposed":
                    terms = [W[l + 1][k][j] * d for j, d in enumerate(above)]
                elif rule == "dropped_fanout_term":
                    terms = [W[l + 1][0][k] * above[0]]
                elif rule == "dropped_chain_weight":
                    terms = list(above)
                elif rule == "updated_weights_in_backward":
                    if any(W_new[l + 1][j][k] is None for j in range(len(above))):
                        terms = None
                    else:
                        terms = [W_new[l + 1][j][k] * d for j, d in enumerate(above)]
                else:
                    terms = [W[l + 1][j][k] * d for j, d in enumerate(above)]
                dl.append(None if terms is None or any(d is None for d in above) else fprime[l][k] * math.fsum(terms))
        delta[l] = [put(f"delta{l}[{j}]", v) for j, v in enumerate(dl)]
        if da[l] is None:  # through the layers alone
            da[l] = [put(f"da{l}[{k}]", v) for k, v in enumerate(dL_da if l == L else _through(W, delta, l))]

        rule = slip if (slip in _WEIGHT_GRADIENT and l in hit) else None
        below = a[l - 1]
        if "kernel" in layers[l - 1]:
            _conv_step(layers[l - 1], l, put, delta[l], below, W, b, dW, db, W_new, b_new, eta,
                       slip if l in hit else None)
            continue
        dW[l] = []
        for j in range(units):
            row = []
            for k in range(len(below)):
                if rule == "swapped_indices":
                    v = delta[l][k] * below[j] if k < units and j < len(below) else None
                elif rule == "preactivation_for_activation":
                    v = delta[l][j] * z[l - 1][k]
                elif rule == "wrong_layer_activation":
                    v = delta[l][j] * a[l][k] if k < units else None
                elif rule == "forgot_input_factor":
                    v = delta[l][j]
                else:
                    v = delta[l][j] * below[k]
                if _decay(network):  # ∂L/∂w = δ·a + λ·w, unless the decay term is forgotten
                    v = put(f"dW{l}_data[{j}][{k}]", v)
                    kept = v is not None and not (slip == "forgot_weight_decay" and l in hit)
                    v = v + _decay(network) * W[l][j][k] if kept else v
                row.append(put(f"dW{l}[{j}][{k}]", v))
            dW[l].append(row)
        db[l] = [put(f"db{l}[{j}]", d) for j, d in enumerate(delta[l])]

        rule = slip if (slip in _UPDATE and l in hit) else None
        step = {"update_sign": -eta, "forgot_learning_rate": 1.0}.get(rule, eta)
        W_new[l] = [[put(f"W{l}_new[{j}][{k}]", None if g is None else w - step * g)
                     for k, (w, g) in enumerate(zip(wr, gr))] for j, (wr, gr) in enumerate(zip(W[l], dW[l]))]
        b_new[l] = [put(f"b{l}_new[{j}]", None if g is None else v - step * g)
                    for j, (v, g) in enumerate(zip(b[l], db[l]))]

    if _optimizer(network):
        _optimizer_steps(network, r, put, W, b, dW, db, W_new, b_new, slip, scope)
    complete = all(v is not None for l in range(1, L + 1) for row in W_new[l] for v in row) and \
        all(v is not None for l in range(1, L + 1) for v in b_new[l])
    put("loss_after", _loss_of(network, W_new, b_new, x, t, slip, hit) if complete else None)
    return r


def _banded(kernel: list, n: int) -> list:
    """The kernel as the dense matrix a stride-1, unpadded conv1d acts as: row i holds it at columns i … i+K−1."""
    K = len(kernel)
    return [[kernel[c - i] if 0 <= c - i < K else 0.0 for c in range(n)] for i in range(n - K + 1)]


def _conv_step(layer, l, put, delta, below, W, b, dW, db, W_new, b_new, eta, slip) -> None:
    """A conv1d layer's gradients and update: dK[j] = Σᵢ dW[i][i+j] = Σᵢ δᵢ·a⁽ˡ⁻¹⁾ᵢ₊ⱼ (position 0 alone
    under forgot_sum_over_positions), db = Σᵢ δᵢ, and the kernel and bias each take one step."""
    K, P = len(layer["kernel"]), len(delta)
    positions = range(1) if slip == "forgot_sum_over_positions" else range(P)
    missing = any(d is None for d in delta)
    dK = [put(f"dK{l}[{j}]", None if missing else math.fsum(delta[i] * below[i + j] for i in positions))
          for j in range(K)]
    g = put(f"db{l}[0]", None if missing else math.fsum(delta))
    dW[l], db[l] = _banded(dK, len(below)), [g] * P
    step = {"update_sign": -eta, "forgot_learning_rate": 1.0}.get(slip, eta)
    kernel = [W[l][0][j] for j in range(K)]
    new = [put(f"K{l}_new[{j}]", None if gj is None else k - step * gj) for j, (k, gj) in enumerate(zip(kernel, dK))]
    W_new[l] = _banded(new, len(below))
    b_new[l] = [put(f"b{l}_new[0]", None if g is None else b[l][0] - step * g)] * P


def _optimizer_steps(network, r, put, W, b, dW, db, W_new, b_new, slip, scope) -> None:
    """Momentum (v ← βv + g, w ← w − ηv) or Adam (m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
    m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), w ← w − η·m̂/(√v̂ + ε)), from zero state, for each weight
    and bias; a second step takes the gradient of a fresh evaluation at the weights after the first.
    W_new and b_new are the parameters after the last step."""
    opt = _optimizer(network)
    eta, L = float(network["learning_rate"]), len(W) - 1
    names = [(f"W{l}[{j}][{k}]", ("W", l, j, k)) for l in range(1, L + 1) for j in range(len(W[l]))
             for k in range(len(W[l][j]))] + [(f"b{l}[{j}]", ("b", l, j)) for l in range(1, L + 1) for j in range(len(b[l]))]

    def get(table, where):
        return table[where[1]][where[2]][where[3]] if where[0] == "W" else table[where[1]][where[2]]

    current = {name: r[name] for name, _ in names}
    state = {name: {"m": _start(opt, "m", where), "v": _start(opt, "velocity" if opt["kind"] == "momentum" else "v", where)}
             for name, where in names}
    for step in (1, 2)[: opt.get("steps", 1)]:
        if step == 1:
            grads = {name: get(dW if where[0] == "W" else db, where) for name, where in names}
        else:
            grads = _gradients_at(network, current, slip, scope)
        for name, _ in names:
            g = put(f"g({name},{step})", grads[name])
            s = state[name]
            if g is None or current[name] is None or None in s.values():  # a slip that cannot produce it
                current[name] = s["m"] = s["v"] = None
                for kind in ("m", "v", "mhat", "vhat", "new"):
                    put(f"{kind}({name},{step})", None)
                continue
            if opt["kind"] == "momentum":
                s["v"] = put(f"v({name},{step})", float(opt["beta"]) * s["v"] + g)
                sign = -1.0 if slip == "momentum_sign" else 1.0
                current[name] = put(f"new({name},{step})", current[name] - sign * eta * s["v"])
                continue
            b1, b2, eps = float(opt["beta1"]), float(opt["beta2"]), float(opt["epsilon"])
            t = opt.get("t", 0) + step
            s["m"] = put(f"m({name},{step})", b1 * s["m"] + (1 - b1) * g)
            s["v"] = put(f"v({name},{step})", b2 * s["v"] + (1 - b2) * g * g)
            corrected = slip != "adam_no_bias_correction"
            mhat = put(f"mhat({name},{step})", s["m"] / (1 - b1**t) if corrected else s["m"])
            vhat = put(f"vhat({name},{step})", s["v"] / (1 - b2**t) if corrected else s["v"])
            current[name] = put(f"new({name},{step})", current[name] - eta * mhat / (math.sqrt(vhat) + eps))
    for name, where in names:
        value = put(f"{where[0]}{where[1]}_new" + "".join(f"[{i}]" for i in where[2:]), current[name])
        (W_new[where[1]][where[2]].__setitem__(where[3], value) if where[0] == "W"
         else b_new[where[1]].__setitem__(where[2], value))


def _start(opt: dict, state: str, where: tuple) -> float:
    """A state before the first step: the file's `velocity`/`m`/`v: {W1: [[…]], b1: […]}`, else 0."""
    family = (opt.get(state) or {}).get(f"{where[0]}{where[1]}")
    if family is None:
        return 0.0
    return float(family[where[2]][where[3]] if where[0] == "W" else family[where[2]])


def _gradients_at(network, params: dict, slip, scope) -> dict:
    """∂L/∂p at other weights: a fresh evaluation (the same slip; no learner's values, which are
    about the first pass), without the optimizer."""
    if any(v is None for v in params.values()):
        return dict.fromkeys(params)
    moved = {key: v for key, v in network.items() if key != "optimizer"}
    moved["layers"] = [dict(layer, weights=[[params[f"W{l}[{j}][{k}]"] for k in range(len(row))]
                                            for j, row in enumerate(layer["weights"])],
                            bias=[params[f"b{l}[{j}]"] for j in range(len(layer["bias"]))])
                       for l, layer in enumerate(network["layers"], start=1)]
    optimizer_slip = slip in ("momentum_sign", "adam_no_bias_correction")
    fresh = evaluate(moved, None if optimizer_slip else slip, None if optimizer_slip else scope)
    return {name: fresh[f"d{name}"] for name in params}


def nudge(network: Mapping, param: str, h, slip: str | None = None, scope=None,
          overrides: Mapping[str, float] | None = None, results: Results | None = None) -> float | None:
    """nudge(p, h) = (L with p replaced by p + h, minus L) / h; derivative_not_ratio gives ∂L/∂p."""
    r = results if results is not None else evaluate(network, slip, scope, overrides)
    if "examples" in network:
        return _nudge_batch(r, param, h)
    if "recurrent" in network:
        return _nudge_recurrent(r, param.replace(" ", ""), float(h))
    param = param.replace(" ", "")
    m = re.fullmatch(r"(W|b|K)(\d+)((?:\[\d+\])+)", param)
    if not m:
        raise ValueError(f"nudge: {param!r} is not a weight, bias or kernel entry")
    if slip == "derivative_not_ratio":
        return r[f"d{param}"]
    hit = _hit(network, slip, scope)
    h = float(h)
    L = len(network["layers"])
    x = [r[f"x[{k}]"] for k in range(len(network["input"]))]
    t = [r[f"t[{j}]"] for j in range(len(network["target"]))]
    W, b = _parameters(network, r)
    l, idx = int(m[2]), [int(i) for i in re.findall(r"\d+", m[3])]
    conv = "kernel" in network["layers"][l - 1]
    if m[1] == "W":
        W[l][idx[0]][idx[1]] += h
    elif m[1] == "K":  # kⱼ sits at column i + j of every row i of the banded matrix
        for i, row in enumerate(W[l]):
            row[i + idx[0]] += h
    elif conv:  # the one shared bias, at every position
        b[l] = [v + h for v in b[l]]
    else:
        b[l][idx[0]] += h
    return (_loss_of(network, W, b, x, t, slip, hit) - r["loss"]) / h


def _parameters(network: Mapping, r: Results) -> tuple[list, list]:
    """W[l] and b[l] of every layer from the results (a learner's values included); a conv1d layer's
    as its banded matrix and its one bias at every position."""
    W: list = [None]
    b: list = [None]
    for l, layer in enumerate(network["layers"], start=1):
        if "kernel" in layer:
            W.append(_banded([r[f"K{l}[{j}]"] for j in range(len(layer["kernel"]))], _units(network, l - 1)))
            b.append([r[f"b{l}[0]"]] * _units(network, l))
            continue
        W.append([[r[f"W{l}[{j}][{k}]"] for k in range(_units(network, l - 1))] for j in range(_units(network, l))])
        b.append([r[f"b{l}[{j}]"] for j in range(_units(network, l))])
    return W, b


# --- reading quantities ----------------------------------------------------------------------

_NUDGE = re.compile(r"nudge\((?P<p>[^,()]+),(?P<h>[^,()]+)\)")


def value(results: Results, quantity: str):
    """A quantity by its id: "delta1[0]" -> float, "delta1" -> list, "dW1" -> list of lists,
    "loss" -> float, "nudge(W2[0][1],0.01)" -> float. Entries a slip cannot produce are None."""
    q = str(quantity).replace(" ", "")
    m = _NUDGE.fullmatch(q)
    if m:
        return nudge(results.network, m["p"], m["h"], results.slip, results.scope, results.overrides, results)
    q = re.sub(r"^a0(?=\[|$)", "x", q)
    if q in results:
        return results[q]

    def has(name: str) -> bool:
        return name in results or f"{name}[0]" in results or f"{name}[0][0]" in results

    def build(name: str):
        if name in results:
            return results[name]
        items = []
        while has(f"{name}[{len(items)}]"):
            items.append(build(f"{name}[{len(items)}]"))
        return items

    if not has(f"{q}[0]"):
        raise KeyError(f"{quantity!r} is not a quantity of this network")
    return build(q)


def entries(quantity: str, v) -> dict[str, float]:
    """A (vector or matrix) value as scalar names: ("delta1", [p, q]) -> {"delta1[0]": p, "delta1[1]": q}."""
    q = str(quantity).replace(" ", "")
    if isinstance(v, (list, tuple)):
        out: dict[str, float] = {}
        for i, item in enumerate(v):
            out.update(entries(f"{q}[{i}]", item))
        return out
    return {q: v}


def expression_value(results: Results, text: str):
    """A template mistake's value ("-delta3[0]", "2*dL_da", "dW2[0][1]", "0.5*delta1[0]") from the
    reference's values: + - * / ** elementwise over vectors and matrices, quantities by name."""

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) or (isinstance(node, ast.Call) and
                                                                         getattr(node.func, "id", "") in _CALLED):
            return value(results, ast.get_source_segment(text, node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            return _map(lambda u: None if u is None else sign * u, ev(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _zip(_OPS[type(node.op)], ev(node.left), ev(node.right))
        raise ValueError(f"mistake value {text!r}: cannot evaluate {ast.dump(node)}")

    return ev(ast.parse(text.strip(), mode="eval"))


_CALLED = ("nudge", "g", "v", "m", "mhat", "vhat", "new")  # quantities written as calls
_OPS = {ast.Add: lambda p, q: p + q, ast.Sub: lambda p, q: p - q, ast.Mult: lambda p, q: p * q,
        ast.Div: lambda p, q: p / q, ast.Pow: lambda p, q: p**q}


def _map(f, v):
    return [_map(f, item) for item in v] if isinstance(v, list) else f(v)


def _zip(f, p, q):
    if isinstance(p, list) and isinstance(q, list):
        if len(p) != len(q):
            raise ValueError("shapes differ")
        return [_zip(f, u, w) for u, w in zip(p, q)]
    if isinstance(p, list):
        return [_zip(f, u, q) for u in p]
    if isinstance(q, list):
        return [_zip(f, p, w) for w in q]
    return None if p is None or q is None else f(p, q)


# --- helpers for the tests: answers as text, tolerance as the spec states it ------------------

DEFAULT_TOLERANCE = ("relative", 1e-3)


def as_floats(v):
    """An engine value (SymPy Float, tuple, tuple of tuples) or a reference value as floats."""
    if isinstance(v, (list, tuple)):
        return [as_floats(item) for item in v]
    return None if v is None else float(v)


def complete(v) -> bool:
    """No entry missing (None) and every entry finite."""
    if isinstance(v, list):
        return all(complete(item) for item in v)
    return v is not None and math.isfinite(v)


def close(answer, expected, tolerance=None) -> bool:
    """The answer is within the part's tolerance of `expected`, entry by entry (PRODUCT.md:
    relative 1e-3 unless the part says otherwise; 1e-12 absolute below that)."""
    if isinstance(expected, list) or isinstance(answer, list):
        return (isinstance(expected, list) and isinstance(answer, list) and len(answer) == len(expected)
                and all(close(u, w, tolerance) for u, w in zip(answer, expected)))
    kind, amount = tolerance or DEFAULT_TOLERANCE
    diff = abs(answer - expected)
    if kind == "absolute":
        return diff <= amount
    if kind == "sigfigs":
        return f"{answer:.{int(amount) - 1}e}" == f"{expected:.{int(amount) - 1}e}"
    return diff <= amount * abs(expected) or diff <= 1e-12


def same(u, w, rel: float = 1e-12) -> bool:
    """Equal up to rounding (no tolerance of a part): for 'does this value change?'."""
    if isinstance(u, list) or isinstance(w, list):
        return (isinstance(u, list) and isinstance(w, list) and len(u) == len(w)
                and all(same(p, q, rel) for p, q in zip(u, w)))
    if u is None or w is None:
        return u is w
    return abs(u - w) <= rel * max(1.0, abs(w))


def answer_text(v) -> str:
    """A value as a learner would type it: repr of floats, [a, b], [[a, b], [c, d]]."""
    if isinstance(v, list):
        return "[" + ", ".join(answer_text(item) for item in v) + "]"
    return repr(float(v))


# --- mini-batches: each example on its own, then the means -------------------------------------
# A batch network has `examples: [{input, target}, ...]` in place of input and target. Example e's
# quantities are named e{e}.z1[0] …; loss, dW, db are the batch's: the means over the examples.

_BATCH = ("summed_not_averaged", "one_example_only")
_SHARED = re.compile(r"(W|b)\d+\[")  # the parameters, every example's
_PER_UPDATE = re.compile(r"(W|b)\d+_new\[|loss_after$")  # an example's own update: not the batch's


def _one(network: Mapping) -> Mapping:
    """The network, or for a batch its first example as a network (for shapes)."""
    return network if "examples" not in network else _example(network, 1)


def _example(network: Mapping, e: int) -> dict:
    example = network["examples"][e - 1]
    return {**{k: v for k, v in network.items() if k != "examples"}, "input": example["input"],
            "target": example["target"]}


def _mean(values: list):
    return None if any(v is None for v in values) else math.fsum(values) / len(values)


def _combine(slip: str | None, values: list):
    """The batch's gradient from the examples': the mean, or a batch slip's form of it."""
    if any(v is None for v in values):
        return None
    if slip == "summed_not_averaged":
        return math.fsum(values)
    if slip == "one_example_only":
        return values[0]
    return _mean(values)


def _evaluate_batch(network: Mapping, slip: str | None, scope, overrides) -> Results:
    hit = _hit(network, slip, scope)
    given = dict(overrides or {})
    r = Results()
    r.network, r.slip, r.scope, r.overrides = network, slip, scope, given
    B = len(network["examples"])
    each_slip = None if slip in _BATCH else slip
    shared = {k: v for k, v in given.items() if _SHARED.match(k)}
    runs = []
    for e in range(1, B + 1):
        prefix = f"e{e}."
        own = {k[len(prefix):]: v for k, v in given.items() if k.startswith(prefix)}
        run = evaluate(_example(network, e), each_slip, scope if each_slip else None, {**shared, **own})
        runs.append(run)
        for name, v in run.items():
            if _SHARED.match(name):
                r[name] = v
            elif not _PER_UPDATE.match(name):
                r[prefix + name] = v

    def put(name: str, v):
        r[name] = float(given[name]) if name in given else v
        return r[name]

    put("loss", _mean([run["loss"] for run in runs]))
    eta = float(network["learning_rate"])
    W_new: list = [None]
    b_new: list = [None]
    for l, layer in enumerate(network["layers"], start=1):
        rule = slip if l in hit else None
        step = {"update_sign": -eta, "forgot_learning_rate": 1.0}.get(rule, eta)

        def updated(name: str, old: float):
            g = put(f"d{name}", _combine(rule, [r[f"e{e}.d{name}"] for e in range(1, B + 1)]))
            return put(name.replace("[", "_new[", 1), None if g is None else old - step * g)

        W_new.append([[updated(f"W{l}[{j}][{k}]", r[f"W{l}[{j}][{k}]"]) for k in range(len(row))]
                      for j, row in enumerate(layer["weights"])])
        b_new.append([updated(f"b{l}[{j}]", r[f"b{l}[{j}]"]) for j in range(len(layer["bias"]))])
    complete = all(v is not None for W in W_new[1:] for row in W for v in row) and \
        all(v is not None for b in b_new[1:] for v in b)
    put("loss_after", _batch_loss(r, W_new, b_new) if complete else None)
    return r


def _batch_loss(r: Results, W: list, b: list) -> float:
    """The batch's loss (the examples' mean) of a fresh forward pass with these parameters."""
    network, B = r.network, len(r.network["examples"])
    each_slip = None if r.slip in _BATCH else r.slip
    losses = []
    for e in range(1, B + 1):
        alone = _example(network, e)
        x = [r[f"e{e}.x[{k}]"] for k in range(_units(network, 0))]
        t = [r[f"e{e}.t[{j}]"] for j in range(len(alone["target"]))]
        losses.append(_loss_of(alone, W, b, x, t, each_slip, _hit(alone, each_slip, r.scope if each_slip else None)))
    return _mean(losses)


def _nudge_batch(r: Results, param: str, h) -> float | None:
    param = param.replace(" ", "")
    if r.slip == "derivative_not_ratio":
        return r[f"d{param}"]
    network, L = r.network, len(r.network["layers"])
    W = [None] + [[[r[f"W{l}[{j}][{k}]"] for k in range(_units(network, l - 1))] for j in range(_units(network, l))]
                  for l in range(1, L + 1)]
    b = [None] + [[r[f"b{l}[{j}]"] for j in range(_units(network, l))] for l in range(1, L + 1)]
    l, idx = int(re.match(r"[Wb](\d+)", param)[1]), [int(i) for i in re.findall(r"\[(\d+)\]", param)]
    if param.startswith("W"):
        W[l][idx[0]][idx[1]] += float(h)
    else:
        b[l][idx[0]] += float(h)
    return (_batch_loss(r, W, b) - r["loss"]) / float(h)


# --- residual (skip) connections: layer l with `skip: k` outputs a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ᵏ⁾ ------------------
# a⁽ᵏ⁾ then reaches the loss through the layers above it and through the skip, where ∂a⁽ˡ⁾/∂a⁽ᵏ⁾ = 1:
# ∂L/∂a⁽ᵏ⁾ = Σⱼ w⁽ᵏ⁺¹⁾ⱼᵢ δ⁽ᵏ⁺¹⁾ⱼ + ∂L/∂a⁽ˡ⁾ᵢ, and δ⁽ᵏ⁾ = f′(z⁽ᵏ⁾)·∂L/∂a⁽ᵏ⁾. forgot_skip_gradient keeps the first.

def _skip(network: Mapping, l: int):
    return network["layers"][l - 1].get("skip")


def _skip_sources(network: Mapping) -> list:
    """The layers k ≥ 1 whose output a later layer adds through a skip."""
    return sorted({layer["skip"] for layer in network["layers"] if layer.get("skip")})


def _through(W: list, delta: list, l: int) -> list:
    above = delta[l + 1]
    if any(d is None for d in above):
        return [None] * len(W[l + 1][0])
    return [math.fsum(W[l + 1][j][k] * d for j, d in enumerate(above)) for k in range(len(W[l + 1][0]))]


def _skip_source_gradient(network: Mapping, W: list, delta: list, da: list, k: int, slip, hit) -> list:
    out = []
    receivers = [l for l in range(k + 1, len(network["layers"]) + 1) if _skip(network, l) == k]
    for i, g in enumerate(_through(W, delta, k)):
        if not (slip == "forgot_skip_gradient" and k in hit):
            g = None if g is None or any(da[m][i] is None for m in receivers) else g + math.fsum(da[m][i] for m in receivers)
        out.append(g)
    return out

# --- a recurrent cell unrolled over time -----------------------------------------------------------
# `recurrent: {inputs, h0, w_x, w_h, b, activation, output: {w, b, activation}, target}`: step t is
# layer t, hₜ = f(w_x·xₜ + w_h·hₜ₋₁ + b) (z{t}[0], a{t}[0]); W1 = [[w_x, w_h]] and b1 = [b] are every
# step's; the output o = g(w_o·h_T + b_o) is layer T + 1 (W{T+1}, b{T+1}); L is on o only.
# Backward: δ_o = ∂L/∂o·g′, δ_T = δ_o·w_o·f′(z_T) (hidden_delta), δₜ = δₜ₊₁·w_h·f′(zₜ) (delta_through_time);
# ∂L/∂w_x = Σ δₜ·xₜ, ∂L/∂w_h = Σ δₜ·hₜ₋₁, ∂L/∂b = Σ δₜ (sum_over_time). Where the slips act:
# forward, slope, loss and loss-gradient slips as in a network of these layers (z of the steps has
# no forgot_bias: that is the output's weighted_sum only); hidden_delta slips at layer T; weight_gradient
# slips at the output; update slips at layers 1 and T + 1.

def _cell(network: Mapping) -> dict:
    return network["recurrent"]


def _recurrent_layers(network: Mapping) -> tuple[int, str, str]:
    cell = _cell(network)
    return len(cell["inputs"]), cell.get("activation", "tanh"), cell["output"].get("activation", "identity")


def _recurrent_scopes(network: Mapping, slip: str) -> list:
    T, f, g = _recurrent_layers(network)
    acts = {t: f for t in range(1, T + 1)} | {T + 1: g}

    def where(layers: list) -> list:
        return layers + (["all"] if len(layers) > 1 else [])

    smooth = [l for l, act in acts.items() if act != "identity"]
    layered = {
        "forgot_bias": [T + 1], "forgot_activation": smooth, "forgot_activation_slope": smooth,
        "slope_at_activation": smooth, "activation_for_slope": smooth,
        "slope_sign_flipped": [l for l in smooth if acts[l] in ("sigmoid", "tanh")],
        "sech_not_squared": [l for l in smooth if acts[l] == "tanh"],
        "weights_not_transposed": [T], "updated_weights_in_backward": [T],
        "swapped_indices": [T + 1], "preactivation_for_activation": [T + 1], "wrong_layer_activation": [T + 1],
        "forgot_input_factor": [T + 1], "update_sign": [1, T + 1],
        "forgot_learning_rate": [1, T + 1] if float(network["learning_rate"]) != 1 else [],
        "forgot_sum_over_time": [1], "dropped_recurrent_weight": list(range(1, T)),
    }
    if slip in layered:
        return where(layered[slip])
    if slip in ("softmax_jacobian_dropped", "dropped_fanout_term", "dropped_chain_weight", "forgot_weight_decay",
                "momentum_sign", "adam_no_bias_correction", "forgot_skip_gradient", "forgot_sum_over_positions",
                "kernel_flipped") or slip in _BATCH:
        return []  # no softmax, fan-out, deep chain, decay, optimizer, batch, skip or kernel in a recurrent cell
    return [None] if _applies_without_layers({"loss": network["loss"], "target": [0]}, slip) else []


def _recurrent_forward(f: str, g: str, xs: list, h0: float, w: dict, slip, hit, put=_keep):
    """z and h (a) of every step and of the output, with the forward-pass slips."""
    T = len(xs)
    z, a = [None] * (T + 2), [h0] + [None] * (T + 1)
    for t in range(1, T + 2):
        if t <= T:
            s = math.fsum([w["w_x"] * xs[t - 1], w["w_h"] * a[t - 1], w["b"]])
        else:
            s = w["w_o"] * a[T] + (0.0 if slip == "forgot_bias" and t in hit else w["b_o"])
        z[t] = put(f"z{t}[0]", s)
        act = f if t <= T else g
        a[t] = put(f"a{t}[0]", z[t] if slip == "forgot_activation" and t in hit else F[act](z[t]))
    return z, a


def _recurrent_weights(r: Results, T: int) -> dict:
    return {"w_x": r["W1[0][0]"], "w_h": r["W1[0][1]"], "b": r["b1[0]"], "w_o": r[f"W{T + 1}[0][0]"],
            "b_o": r[f"b{T + 1}[0]"]}


def _evaluate_recurrent(network: Mapping, slip, scope, overrides) -> Results:
    cell = _cell(network)
    T, f, g = _recurrent_layers(network)
    if slip is not None and scope not in _recurrent_scopes(network, slip):
        raise NotApplicable(f"{slip} cannot be made in scope {scope!r} of this network")
    hit = _recurrent_hit(network, slip, scope)
    r, put = _recorder(network, slip, scope, overrides)
    out = cell["output"]
    xs = [put(f"x[{k}]", float(v)) for k, v in enumerate(cell["inputs"])]
    t = put("t[0]", float(cell["target"]))
    h0 = float(cell.get("h0", 0))
    for name, v in (("W1[0][0]", cell["w_x"]), ("W1[0][1]", cell["w_h"]), ("b1[0]", cell.get("b", 0)),
                    (f"W{T + 1}[0][0]", out["w"]), (f"b{T + 1}[0]", out.get("b", 0))):
        put(name, float(v))
    w = _recurrent_weights(r, T)
    z, a = _recurrent_forward(f, g, xs, h0, w, slip, hit, put)
    fp = [None] + [put(f"fprime{l}[0]", _slope(f if l <= T else g, z[l], a[l], slip if l in hit and slip in _SLOPE
                                                else None)) for l in range(1, T + 2)]
    put("loss", _loss(network["loss"], [a[T + 1]], [t], slip))
    scale = {"error_sign": -1.0, "kept_power_two": 2.0, "dropped_power_two": 0.5}.get(slip, 1.0)
    g_o = put("dL_da[0]", scale * _loss_gradient(network["loss"], a[T + 1], t, 1))
    delta = [None] * (T + 2)
    delta[T + 1] = put(f"delta{T + 1}[0]", g_o * fp[T + 1])
    eta = float(network["learning_rate"])

    def update(name: str, l: int, gradient: float) -> float:
        step = {"update_sign": -eta, "forgot_learning_rate": 1.0}.get(slip if l in hit else None, eta)
        return put(name.replace("[", "_new[", 1), r[name] - step * put("d" + name, gradient))

    # the output's gradients and update (read by δ_T when the updated weights are used by mistake)
    rule = slip if T + 1 in hit else None
    factor = {"preactivation_for_activation": z[T], "wrong_layer_activation": a[T + 1],
              "forgot_input_factor": 1.0}.get(rule, a[T])
    new = {f"W{T + 1}[0][0]": update(f"W{T + 1}[0][0]", T + 1, delta[T + 1] * factor),
           f"b{T + 1}[0]": update(f"b{T + 1}[0]", T + 1, delta[T + 1])}
    w_o = new[f"W{T + 1}[0][0]"] if slip == "updated_weights_in_backward" and T in hit else w["w_o"]
    delta[T] = put(f"delta{T}[0]", fp[T] * w_o * delta[T + 1])
    for s in range(T - 1, 0, -1):
        recurrent = 1.0 if slip == "dropped_recurrent_weight" and s in hit else w["w_h"]
        delta[s] = put(f"delta{s}[0]", delta[s + 1] * recurrent * fp[s])
    # the shared weights: sums over time (or, slipped, the last step's term alone)
    steps = [T] if slip == "forgot_sum_over_time" else range(1, T + 1)
    new["W1[0][0]"] = update("W1[0][0]", 1, math.fsum(delta[s] * xs[s - 1] for s in steps))
    new["W1[0][1]"] = update("W1[0][1]", 1, math.fsum(delta[s] * a[s - 1] for s in steps))
    new["b1[0]"] = update("b1[0]", 1, math.fsum(delta[s] for s in steps))
    moved = {"w_x": new["W1[0][0]"], "w_h": new["W1[0][1]"], "b": new["b1[0]"], "w_o": new[f"W{T + 1}[0][0]"],
             "b_o": new[f"b{T + 1}[0]"]}
    put("loss_after", _recurrent_loss(network, moved, r, slip, hit))
    return r


def _recurrent_loss(network: Mapping, w: dict, r: Results, slip, hit) -> float:
    """The loss of a fresh forward pass with these parameters (the learner's x and t kept)."""
    T, f, g = _recurrent_layers(network)
    xs = [r[f"x[{k}]"] for k in range(T)]
    _, a = _recurrent_forward(f, g, xs, float(_cell(network).get("h0", 0)), w, slip, hit)
    return _loss(network["loss"], [a[T + 1]], [r["t[0]"]], slip)


def _nudge_recurrent(r: Results, param: str, h: float) -> float:
    if r.slip == "derivative_not_ratio":
        return r[f"d{param}"]
    T = len(_cell(r.network)["inputs"])
    w = _recurrent_weights(r, T)
    key = {"W1[0][0]": "w_x", "W1[0][1]": "w_h", "b1[0]": "b", f"W{T + 1}[0][0]": "w_o", f"b{T + 1}[0]": "b_o"}[param]
    w[key] += h
    return (_recurrent_loss(r.network, w, r, r.slip, _recurrent_hit(r.network, r.slip, r.scope)) - r["loss"]) / h


def _recurrent_hit(network: Mapping, slip, scope) -> frozenset:
    """The layers (steps) the slip acts on."""
    if scope is None:
        return frozenset()
    return frozenset(l for l in _recurrent_scopes(network, slip) if l != "all") if scope == "all" else frozenset((scope,))

"""Network files: load, validate and normalise into frozen dataclasses.

Numbers in a file become exact rationals (0.15 → 3/20) so the engine can keep exact forms.
Every error is one line naming the source, the field and the fix, raised as NetworkError.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import losses
from backprop_tutor.engine.files import ReadProblem, read_bytes
from backprop_tutor.errors import NetworkError, check_keys, describe, did_you_mean, yaml_problem

MAX_FILE_BYTES = 1_000_000
MAX_PARAMETERS = 20_000
MAX_MAGNITUDE = 1000
# A number is at most MAX_DIGITS digits (the working precision: more could not change a printed
# value) and, unless 0, at least 10^−MAX_EXPONENT in size. Text is checked before SymPy reads it:
# '1e-99999999' would make Rational compute 10^99999999 (a hang), and a 5000-digit denominator
# would be carried through every exact form.
MAX_DIGITS = 50
MAX_EXPONENT = 100

_KEYS = ("name", "input", "target", "layers", "loss", "learning_rate", "weight_decay", "optimizer", "examples",
         "recurrent")
_REQUIRED = ("input", "target", "layers", "loss", "learning_rate")
_LAYER_KEYS = ("activation", "weights", "bias", "skip")
_NUMBER_TEXT = re.compile(r"\s*[-+]?(?P<int>\d*)\.?(?P<frac>\d*)(?:[eE](?P<exp>[-+]?\d+))?(?:\s*/\s*(?P<den>\d+))?\s*")


@dataclass(frozen=True)
class Layer:
    activation: str
    weights: tuple[tuple[sp.Rational, ...], ...]  # weights[j][k]: unit k below → unit j here
    bias: tuple[sp.Rational, ...]
    # A residual (skip) connection: this layer's output is f(z⁽ˡ⁾) + a⁽ᵏ⁾ for skip = k < l (a⁽⁰⁾ = x)
    skip: int | None = None
    # A conv1d layer's shared kernel (None: a dense layer). Its `weights` are then the kernel laid out
    # as the banded matrix it acts as (row i holds k at columns i … i+K−1, 0 elsewhere) and `bias` the
    # one shared b at every position, so that sizes and the layer above read it as any layer; its rules read the kernel.
    kernel: tuple[sp.Rational, ...] | None = None

    @property
    def units(self) -> int:
        return len(self.weights)


class OptimizerKind(str, Enum):
    """The optimizers a network file may name (`optimizer.kind`)."""

    MOMENTUM = "momentum"
    ADAM = "adam"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Optimizer:
    """How the gradient becomes a step (docs/rules-and-slips.md): momentum, v ← β·v + ∂L/∂w and
    w ← w − η·v; or Adam, m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ),
    v̂ = v/(1 − β₂ᵗ), w ← w − η·m̂/(√v̂ + ε). The state starts at 0 (t at `t0`, steps before these);
    `steps` (1 or 2) are taken, the gradient recomputed at the new weights for the second."""

    kind: OptimizerKind
    beta: sp.Rational = sp.Rational(9, 10)  # momentum's β
    beta1: sp.Rational = sp.Rational(9, 10)
    beta2: sp.Rational = sp.Rational(999, 1000)
    epsilon: sp.Rational = sp.Rational(1, 10**8)
    steps: int = 1
    t0: int = 0
    # The state before the first step where it is not 0: (state, parameter, value), e.g.
    # ("velocity", "W1[0][1]", 1/10); the state is "velocity" (momentum), "m" or "v" (Adam).
    initial: tuple[tuple[str, str, sp.Rational], ...] = ()

    def start(self, state: str, parameter: str) -> sp.Rational:
        """A state's value before step 1 (0 unless the file gave one)."""
        return next((value for name, p, value in self.initial if (name, p) == (state, parameter)), sp.Integer(0))

    def to_json(self, layers: tuple[Layer, ...]) -> dict[str, Any]:
        from backprop_tutor.engine.numbers import json_number

        if self.kind is OptimizerKind.MOMENTUM:
            data: dict[str, Any] = {"kind": self.kind.value, "beta": json_number(self.beta)}
        else:
            data = {"kind": self.kind.value, "beta1": json_number(self.beta1), "beta2": json_number(self.beta2),
                    "epsilon": json_number(self.epsilon)}
            if self.t0:
                data["t"] = self.t0
        data["steps"] = self.steps
        for state in dict.fromkeys(name for name, _, _ in self.initial):
            families = dict.fromkeys(p.split("[")[0] for name, p, _ in self.initial if name == state)
            data[state] = {f: self._family_json(state, f, layers[int(f[1:]) - 1], json_number) for f in families}
        return data

    def _family_json(self, state: str, family: str, layer: Layer, number) -> list:
        """A state's start for a whole W{l} or b{l}, shaped like it, zeros filled in."""
        if family[0] == "b":
            return [number(self.start(state, f"{family}[{j}]")) for j in range(layer.units)]
        return [[number(self.start(state, f"{family}[{j}][{k}]")) for k in range(len(row))]
                for j, row in enumerate(layer.weights)]


@dataclass(frozen=True)
class Network:
    input: tuple[sp.Rational, ...]
    target: tuple[sp.Rational, ...]
    layers: tuple[Layer, ...]
    loss: str
    learning_rate: sp.Rational
    name: str | None = None
    weight_decay: sp.Rational = sp.Integer(0)  # λ of the L2 term (λ/2)·Σ w² added to the loss; biases excluded
    optimizer: Optimizer | None = None  # None: plain gradient descent, w ← w − η·∂L/∂w
    # A mini-batch: ((input, target), …) per example, or None for one example. `input` and `target`
    # are then the first example's, so that every shape read from them holds.
    examples: tuple[tuple[tuple[sp.Rational, ...], tuple[sp.Rational, ...]], ...] | None = None
    # A recurrent cell unrolled over time (`recurrent:` in the file): layers 1..T are its steps,
    # sharing layer 1's W = [[w_x, w_h]] and b; layer T+1 is the output. None: a feed-forward network.
    recurrent: Recurrent | None = None

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.input),) + tuple(layer.units for layer in self.layers)

    @property
    def parameter_count(self) -> int:
        return sum(layer.units * (len(layer.weights[0]) + 1) for layer in self.layers)

    def to_json(self) -> dict[str, Any]:
        from backprop_tutor.engine.numbers import json_number

        def vec(values):
            return [json_number(v) for v in values]

        data: dict[str, Any] = {"name": self.name} if self.name is not None else {}
        if self.recurrent is not None:
            return {**data, **self.recurrent.to_json(self)}
        if self.examples is None:
            data.update(input=vec(self.input), target=vec(self.target))
        else:
            data["examples"] = [{"input": vec(x), "target": vec(t)} for x, t in self.examples]
        data.update(
            layers=[
                {"activation": layer.activation, "weights": [vec(r) for r in layer.weights],
                 "bias": vec(layer.bias), **({"skip": layer.skip} if layer.skip is not None else {})} \
                if layer.kernel is None else conv_json(layer)
                for layer in self.layers
            ],
            loss=self.loss,
            learning_rate=json_number(self.learning_rate),
        )
        if self.weight_decay:
            data["weight_decay"] = json_number(self.weight_decay)
        if self.optimizer is not None:
            data["optimizer"] = self.optimizer.to_json(self.layers)
        return data


def load_network(path: str | Path) -> Network:
    """Read a YAML or JSON network file; NetworkError names the file on any problem."""
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise NetworkError(f"the file is {size / 1e6:.1f} MB", source=source,
                               fix=f"a network file is at most {MAX_FILE_BYTES // 1_000_000} MB (is this the right file?)")
        raw = read_bytes(path, MAX_FILE_BYTES, "a network file")  # a FIFO or a device is refused, not read forever
    except FileNotFoundError:
        raise NetworkError("no such file", source=source) from None
    except OSError as e:
        raise NetworkError(f"cannot read ({e.strerror})", source=source) from None
    except ReadProblem as e:
        fix = "is this the right file?" if "larger" in str(e) else None
        raise NetworkError(str(e), source=source, fix=fix) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NetworkError("not a text file (it is not UTF-8): expected YAML or JSON", source=source) from None
    return network_from_dict(_parse_text(text, source, path.suffix.lower()), source)


def _parse_text(text: str, source: str, suffix: str) -> Any:
    if not text.strip():
        raise NetworkError(f"the file is empty: expected a mapping with keys {', '.join(_REQUIRED)}", source=source)
    try:
        if suffix == ".json":
            try:
                return json.loads(text)
            except json.JSONDecodeError as e:
                raise NetworkError(f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})",
                                   source=source) from None
        from backprop_tutor.engine import yamlio

        try:
            return yamlio.load(text)
        except yamlio.YAMLError as e:
            raise NetworkError(yaml_problem(e), source=source) from None
    # Both parsers recurse once per bracket, and Python reads an integer of more than 4300 digits
    # only on request: neither is a network file, and neither may end in a traceback.
    except RecursionError:
        raise NetworkError("nested too deeply (a network file nests a few lists: layers, weights, rows)",
                           source=source) from None
    except ValueError as e:
        if "integer string conversion" not in str(e):
            raise
        raise NetworkError(f"a number has more than {sys.get_int_max_str_digits()} digits",
                           source=source, fix=f"use at most {MAX_DIGITS} digits") from None


def network_from_dict(data: Any, source: str = "network") -> Network:
    """Validate a parsed network mapping; errors read `SOURCE: FIELD: problem; fix`."""

    def fail(field: str, message: str, fix: str | None = None) -> NetworkError:
        return NetworkError(message, source=source, key=field, fix=fix)

    if not isinstance(data, dict):
        raise NetworkError(f"expected a mapping with keys {', '.join(_REQUIRED)}, found {describe(data)}", source=source)
    check_keys(data, _KEYS, "", fail, "allowed keys")
    if "recurrent" in data:
        return _recurrent_network(data, source, fail)
    first = "examples[0]." if "examples" in data else ""  # a batch's first example stands in for input and target
    data = _first_example(data, fail)
    for key in _REQUIRED:
        if key not in data:
            raise fail(key, f"missing; add `{key}: {_EXAMPLES[key]}`")

    raw_layers = data["layers"]
    if not isinstance(raw_layers, list) or not raw_layers:
        raise fail("layers", "expected a non-empty list of layers (activation, weights, bias)")
    _check_size(raw_layers, fail)
    x = _vector(data["input"], f"{first}input", fail)
    layers: list[Layer] = []
    below = len(x)
    below_name = "the input"
    for i, raw in enumerate(raw_layers):
        typed = isinstance(raw, dict) and "type" in raw
        layer = _typed_layer(raw, i, below, fail) if typed else _layer(raw, f"layers[{i}]", below, below_name, fail)
        if layer.activation == activations.SOFTMAX and i != len(raw_layers) - 1:
            raise fail(f"layers[{i}].activation", "softmax is allowed only on the output (last) layer")
        layers.append(_skip(raw, i, layer, [len(x)] + [done.units for done in layers], fail))
        below, below_name = layer.units, f"layers[{i}]"

    t = _vector(data["target"], f"{first}target", fail)
    if len(t) != below:
        raise fail(f"{first}target", f"has {_count(len(t), 'entry', 'entries')} but the output layer has "
                   f"{_count(below, 'unit', 'units')}; give one target per output")
    loss = data["loss"]
    if loss not in losses.LOSSES:
        raise fail("loss", f"unknown loss {loss!r}{did_you_mean(loss, losses.NAMES)}; use one of {', '.join(losses.NAMES)}")
    output = layers[-1].activation
    if loss == "cross_entropy" and output != activations.SOFTMAX:
        raise fail("loss", f"cross_entropy needs a softmax output layer, but the last layer is {output}; "
                   "set its activation to softmax, or use bce for sigmoid outputs")
    if loss in ("bce", "cross_entropy"):
        for j, v in enumerate(t):
            if v < 0 or v > 1:
                raise fail(f"{first}target[{j}]", f"{data['target'][j]} is outside [0, 1]; {loss} needs targets "
                           "that are probabilities")
    if loss == "bce" and output not in ("sigmoid", activations.SOFTMAX):
        raise fail("loss", f"bce needs outputs between 0 and 1, but the last layer is {output}; "
                   "set its activation to sigmoid")
    rate = _number(data["learning_rate"], "learning_rate", fail)
    if rate <= 0:
        raise fail("learning_rate", "must be positive (a step against the gradient), e.g. 0.5")
    name = data.get("name")
    if name is not None and not isinstance(name, (str, int, float)):
        raise fail("name", "expected a short text")
    decay = _weight_decay(data.get("weight_decay"), fail)
    optimizer = _optimizer(data["optimizer"], layers, fail) if data.get("optimizer") is not None else None
    examples = _examples(data, layers, fail)
    if examples is not None and (decay or optimizer is not None):  # their rules are written for one example
        raise fail("examples", "a mini-batch cannot be combined with weight_decay or an optimizer yet; "
                   "give one example (input and target), or leave weight_decay and optimizer out")
    _skip_alone(layers, examples is not None, bool(decay), optimizer is not None, fail)
    if any(layer.kernel is not None for layer in layers) and (examples is not None or decay or optimizer is not None
                                                              or any(layer.skip is not None for layer in layers)):
        raise fail("layers[0].type", "a conv1d layer cannot be combined with examples, weight_decay, an optimizer "
                   "or a skip yet; leave them out (one example, plain gradient descent, no skip)")
    network = Network(x, t, tuple(layers), loss, rate, None if name is None else str(name), decay, optimizer,
                      examples)
    if network.parameter_count > MAX_PARAMETERS:
        raise fail("layers", f"{network.parameter_count} parameters", fix=f"the tutor solves networks of at most "
                   f"{MAX_PARAMETERS}")
    return network


def _check_size(raw_layers: list, fail) -> None:
    """Refuse more than MAX_PARAMETERS parameters before reading any number: YAML aliases let a
    46 KB file name the same row a million times, and each entry would be converted. Counted from
    the lengths alone, and the count stops at the limit."""
    count = 0
    for i, raw in enumerate(raw_layers):
        rows = raw.get("weights") if isinstance(raw, dict) else None
        for row in rows if isinstance(rows, list) else ():
            count += 1 + (len(row) if isinstance(row, list) else 0)  # the unit's weights and its bias
            if count > MAX_PARAMETERS:
                raise fail(f"layers[{i}].weights", f"more than {MAX_PARAMETERS} parameters",
                           fix=f"the tutor solves networks of at most {MAX_PARAMETERS}")


_EXAMPLES = {
    "input": "[0.05, 0.10]",
    "target": "[0.01, 0.99]",
    "layers": "[{activation: sigmoid, weights: [[0.15, 0.20]], bias: [0.35]}]",
    "loss": "half_sse",
    "learning_rate": "0.5",
}


def _layer(raw: Any, field: str, below: int, below_name: str, fail) -> Layer:
    if not isinstance(raw, dict):
        raise fail(field, f"expected a mapping with activation, weights and bias, found {describe(raw)}")
    check_keys(raw, _LAYER_KEYS, field + ".", fail, "allowed keys")
    if "activation" not in raw:
        raise fail(f"{field}.activation", f"missing; use one of {', '.join(activations.NAMES)}")
    act = raw["activation"]
    if act not in activations.NAMES:
        raise fail(f"{field}.activation",
                   f"unknown activation {act!r}{did_you_mean(act, activations.NAMES)}; use one of {', '.join(activations.NAMES)}")
    if "weights" not in raw:
        raise fail(f"{field}.weights", f"missing; give one row per unit, each with {below} entries")
    rows = raw["weights"]
    if not isinstance(rows, list) or not rows:
        raise fail(f"{field}.weights", "expected a list of rows, one per unit of this layer, e.g. [[0.15, 0.20], [0.25, 0.30]]")
    if not all(isinstance(r, list) for r in rows):
        flat = all(not isinstance(r, (list, dict)) for r in rows)
        fix = f"; for a single unit write [[{', '.join(str(r) for r in rows)}]]" if flat else ""
        raise fail(f"{field}.weights", f"expected a list of rows (lists of numbers){fix}")
    weights = tuple(_vector(r, f"{field}.weights[{j}]", fail) for j, r in enumerate(rows))
    widths = {len(r) for r in weights}
    if len(widths) > 1:
        raise fail(f"{field}.weights", "ragged rows (" + ", ".join(str(len(r)) for r in weights)
                   + " entries): every row needs one entry per unit below")
    if widths != {below}:
        raise fail(f"{field}.weights",
                   f"rows have {_count(widths.pop(), 'entry', 'entries')} but {below_name} has "
                   f"{_count(below, 'unit', 'units')}; "
                   "weights[j][k] goes from unit k below to unit j of this layer")
    units = len(weights)
    if act == activations.SOFTMAX and units < 2:
        raise fail(f"{field}.activation", "softmax over a single unit is always 1; use sigmoid for one output")
    if "bias" in raw:
        bias = _vector(raw["bias"], f"{field}.bias", fail)
        if len(bias) != units:
            raise fail(f"{field}.bias", f"has {_count(len(bias), 'entry', 'entries')} but the layer has "
                       f"{_count(units, 'unit', 'units')} (rows of weights); give one bias per unit")
    else:
        bias = tuple(sp.Integer(0) for _ in range(units))
    return Layer(act, weights, bias)


def _vector(raw: Any, field: str, fail) -> tuple[sp.Rational, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail(field, f"expected a non-empty list of numbers, found {describe(raw)}")
    if len(raw) > MAX_PARAMETERS:  # before converting: the list may be an alias repeated
        raise fail(field, f"{len(raw)} entries", fix=f"the tutor solves networks of at most {MAX_PARAMETERS} "
                   "parameters")
    return tuple(_number(v, f"{field}[{i}]", fail) for i, v in enumerate(raw))


def _number(raw: Any, field: str, fail) -> sp.Rational:
    if isinstance(raw, bool):
        raise fail(field, f"expected a number, found {str(raw).lower()}")
    if isinstance(raw, int):
        value = sp.Integer(raw)
    elif isinstance(raw, float):
        if math.isnan(raw):
            raise fail(field, f"expected a finite number, found {raw}")
        if math.isinf(raw):  # YAML read a number past a double's range (1e400) as infinity
            raise fail(field, f"{raw} is out of range; use numbers between −{MAX_MAGNITUDE} and {MAX_MAGNITUDE}")
        value = _text_number(repr(raw), raw, field, fail)  # the shortest decimal that round-trips: 0.15 → 3/20
    elif isinstance(raw, str) and (match := _NUMBER_TEXT.fullmatch(raw)) and (match["int"] or match["frac"]):
        value = _text_number(raw, raw, field, fail, match)
    else:
        raise fail(field, f"expected a number (like 0.25 or '1/3'), found {describe(raw)}")
    if abs(value) > MAX_MAGNITUDE:
        raise fail(field, f"{_shown(raw)} is out of range; use numbers between −{MAX_MAGNITUDE} and {MAX_MAGNITUDE}")
    return value


def _text_number(text: str, raw: Any, field: str, fail, match: re.Match | None = None) -> sp.Rational:
    """A decimal or fraction read exactly, once its digits and exponent are known to be in range."""
    match = match or _NUMBER_TEXT.fullmatch(text)
    digits = (match["int"] + match["frac"]).lstrip("0")
    exponent_text = (match["exp"] or "0").lstrip("+-").lstrip("0") or "0"
    denominator = (match["den"] or "1").lstrip("0")
    limits = f"use 0 or numbers between 1e-{MAX_EXPONENT} and {MAX_MAGNITUDE} in size"
    if len(digits) > MAX_DIGITS or len(denominator) > MAX_DIGITS:
        raise fail(field, f"{_shown(raw)} has more than {MAX_DIGITS} digits; use at most {MAX_DIGITS}")
    if not denominator:
        raise fail(field, f"{_shown(raw)} divides by zero; write a number, like 0.25 or '1/3'")
    if not digits:
        return sp.Integer(0)
    # the size of the number in powers of ten, from the text: 0.00012e-3 → −7
    exponent = int(exponent_text) if len(exponent_text) <= 6 else 10**6
    exponent = -exponent if (match["exp"] or "").startswith("-") else exponent
    leading = len(match["int"].lstrip("0")) - 1 if match["int"].lstrip("0") else \
        -(len(match["frac"]) - len(match["frac"].lstrip("0")) + 1)
    size = exponent + leading - (len(denominator) - 1)
    if size > MAX_EXPONENT:
        raise fail(field, f"{_shown(raw)} is out of range; use numbers between −{MAX_MAGNITUDE} and {MAX_MAGNITUDE}")
    if size < -MAX_EXPONENT - 1:
        raise fail(field, f"{_shown(raw)} is out of range; {limits}")
    value = sp.Rational(text.replace(" ", "").replace("\t", ""))
    if abs(value) < sp.Rational(1, 10**MAX_EXPONENT):
        raise fail(field, f"{_shown(raw)} is out of range; {limits}")
    return value


def _shown(raw: Any) -> str:
    """A number as the file wrote it, cut short when long (a 5000-digit number in one line)."""
    text = str(raw).strip()
    return text if len(text) <= 30 else text[:27] + "..."


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def unit_network(activation: str) -> Network:
    """One unit of the given activation, for evaluating f and f′ with the network rules at a z
    given directly (an activation problem overrides z1[0]; the rest never comes into it)."""
    zero = sp.Integer(0)
    return Network((zero,), (zero,), (Layer(activation, ((zero,),), (zero,)),), "half_sse", sp.Integer(1),
                   f"one {activation} unit")


# --- weight decay and the optimizer (issue 15) -------------------------------------------------------

OPTIMIZERS = tuple(k.value for k in OptimizerKind)  # as a network file names them
_OPTIMIZER_KEYS = {OptimizerKind.MOMENTUM: ("kind", "beta", "steps", "velocity"),
                   OptimizerKind.ADAM: ("kind", "beta1", "beta2", "epsilon", "t", "steps", "m", "v")}
STATES = {OptimizerKind.MOMENTUM: ("velocity",), OptimizerKind.ADAM: ("m", "v")}
MAX_STEPS = 2  # one and two steps: enough to see the state carry over, and each step is a full backprop


def _weight_decay(raw: Any, fail) -> sp.Rational:
    if raw is None:
        return sp.Integer(0)
    decay = _number(raw, "weight_decay", fail)
    if decay < 0:
        raise fail("weight_decay", "must be 0 or more (λ of the L2 term (λ/2)·Σ w²), e.g. 0.01")
    return decay


def _optimizer(raw: Any, layers: list[Layer], fail) -> Optimizer:
    if not isinstance(raw, dict):
        raise fail("optimizer", f"expected a mapping such as {{kind: momentum, beta: 0.9}}, found {describe(raw)}")
    kind = raw.get("kind")
    if kind not in OPTIMIZERS:
        raise fail("optimizer.kind", f"{'missing' if kind is None else f'unknown optimizer {kind!r}'}"
                   f"{did_you_mean(kind, OPTIMIZERS) if isinstance(kind, str) else ''}; use one of {', '.join(OPTIMIZERS)}")
    kind = OptimizerKind(kind)
    check_keys(raw, _OPTIMIZER_KEYS[kind], "optimizer.", fail, f"allowed keys for {kind}")
    fraction = {name: _fraction(raw, name, fail) for name in _OPTIMIZER_KEYS[kind] if name.startswith("beta")}
    steps = _count_field(raw, "steps", 1, 1, MAX_STEPS, fail)
    initial = tuple(entry for state in STATES[kind] if state in raw
                    for entry in _initial_state(raw[state], state, layers, fail))
    if kind is OptimizerKind.MOMENTUM:
        return Optimizer(kind, beta=fraction["beta"], steps=steps, initial=initial)
    epsilon = _number(raw["epsilon"], "optimizer.epsilon", fail) if "epsilon" in raw else Optimizer.epsilon
    if epsilon <= 0:
        raise fail("optimizer.epsilon", "must be positive (it keeps √v̂ + ε away from 0), e.g. 1e-8")
    return Optimizer(kind, beta1=fraction["beta1"], beta2=fraction["beta2"], epsilon=epsilon, steps=steps,
                     t0=_count_field(raw, "t", 0, 0, 10**6, fail), initial=initial)


def _fraction(raw: dict, name: str, fail) -> sp.Rational:
    """A decay rate β in [0, 1); the defaults are the usual 0.9 (β, β₁) and 0.999 (β₂)."""
    if name not in raw:
        return getattr(Optimizer, name)
    value = _number(raw[name], f"optimizer.{name}", fail)
    if not 0 <= value < 1:
        raise fail(f"optimizer.{name}", f"{_shown(raw[name])} is outside [0, 1); a decay rate such as 0.9 keeps "
                   "that fraction of the state each step")
    return value


def _count_field(raw: dict, name: str, default: int, low: int, high: int, fail) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(f"optimizer.{name}", f"expected a whole number from {low} to {high}, found {describe(value)}")
    return value


def _initial_state(raw: Any, state: str, layers: list[Layer], fail) -> tuple[tuple[str, str, sp.Rational], ...]:
    """`velocity: {W1: [[0.1, 0]], b1: [0.02]}`: a state's start, by parameter, shaped like it
    (parameters left out start at 0); Adam's v, a mean of squares, is never negative."""
    field = f"optimizer.{state}"
    if not isinstance(raw, dict):
        raise fail(field, f"expected a mapping such as {{W1: [[0.1, 0.0]], b1: [0.0]}}, found {describe(raw)}")
    names = [f"{letter}{l}" for l in range(1, len(layers) + 1) for letter in "Wb"]
    check_keys(raw, names, field + ".", fail, "the parameters of this network")
    out = []
    for name, given in raw.items():
        layer = layers[int(name[1:]) - 1]
        where = f"{field}.{name}"
        if name[0] == "W":
            if not isinstance(given, list) or len(given) != layer.units:
                raise fail(where, f"expected {layer.units} row(s) like the weights, found {describe(given)}")
            rows = [_vector(row, f"{where}[{j}]", fail) for j, row in enumerate(given)]
            if any(len(row) != len(layer.weights[0]) for row in rows):
                raise fail(where, f"every row needs {len(layer.weights[0])} entries, like the weights")
            entries = [(f"{name}[{j}][{k}]", v) for j, row in enumerate(rows) for k, v in enumerate(row)]
        else:
            values = _vector(given, where, fail)
            if len(values) != layer.units:
                raise fail(where, f"expected {layer.units} entries, like the bias")
            entries = [(f"{name}[{j}]", v) for j, v in enumerate(values)]
        for parameter, value in entries:
            if state == "v" and value < 0:
                raise fail(where, "Adam's v is a mean of squared gradients: it is never negative")
            if value:
                out.append((state, parameter, value))
    return tuple(out)


# --- mini-batches -----------------------------------------------------------------------------------

def _first_example(data: dict, fail) -> dict:
    """A batch file (`examples`) checked for its form, and read as its first example would be, so
    that one validation serves both forms; `_examples` then checks every example."""
    if "examples" not in data:
        return data
    both = [key for key in ("input", "target") if key in data]
    if both:
        raise fail("examples", f"given with {' and '.join(both)}; give either input and target (one example) or "
                   "examples (a mini-batch), not both")
    batch = data["examples"]
    if not isinstance(batch, list) or not batch:
        raise fail("examples", f"expected a non-empty list of {{input: [...], target: [...]}}, found {describe(batch)}")
    if len(batch) > MAX_EXAMPLES:
        raise fail("examples", f"{len(batch)} examples", fix=f"a mini-batch here has at most {MAX_EXAMPLES}")
    for e, example in enumerate(batch):
        if not isinstance(example, dict):
            raise fail(f"examples[{e}]", f"expected a mapping with input and target, found {describe(example)}")
        check_keys(example, ("input", "target"), f"examples[{e}].", fail, "allowed keys")
        for key in ("input", "target"):
            if key not in example:
                raise fail(f"examples[{e}].{key}", f"missing; add `{key}: {_EXAMPLES[key]}`")
    return {**data, "input": batch[0]["input"], "target": batch[0]["target"]}


MAX_EXAMPLES = 64


def _examples(data: dict, layers: list, fail) -> tuple | None:
    """Every example's (input, target), each checked against the network as `input` and `target` are."""
    if "examples" not in data:
        return None
    out = []
    for e, example in enumerate(data["examples"]):
        # lengths before numbers: 64 aliases of a 20,000-entry list are not converted to be refused
        inputs, outputs = example["input"], example["target"]
        if isinstance(inputs, list) and inputs and len(inputs) != len(layers[0].weights[0]):
            raise fail(f"examples[{e}].input", f"has {_count(len(inputs), 'entry', 'entries')} but the first layer's "
                       f"rows have {len(layers[0].weights[0])}; every example has one input per unit of layer 0")
        if isinstance(outputs, list) and outputs and len(outputs) != layers[-1].units:
            raise fail(f"examples[{e}].target", f"has {_count(len(outputs), 'entry', 'entries')} but the output layer "
                       f"has {_count(layers[-1].units, 'unit', 'units')}; give one target per output")
        x = _vector(inputs, f"examples[{e}].input", fail)
        t = _vector(outputs, f"examples[{e}].target", fail)
        if data["loss"] in ("bce", "cross_entropy") and any(v < 0 or v > 1 for v in t):
            raise fail(f"examples[{e}].target", f"is outside [0, 1]; {data['loss']} needs targets that are probabilities")
        out.append((x, t))
    return tuple(out)


def example_network(network: Network, e: int) -> Network:
    """Example e (1-based) of a mini-batch as a network of that one example."""
    from dataclasses import replace

    x, t = network.examples[e - 1]
    return replace(network, input=x, target=t, examples=None)


# --- residual (skip) connections (issue 15) ------------------------------------------------------------

def _skip(raw: dict, i: int, layer: Layer, widths: list[int], fail) -> Layer:
    """`skip: k` on layer l = i + 1: a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ᵏ⁾, the ResNet form; k < l, a⁽⁰⁾ = x, equal widths.
    `widths` are the widths of a⁽⁰⁾ … a⁽ˡ⁻¹⁾."""
    if raw.get("skip") is None:
        return layer
    field, k, l = f"layers[{i}].skip", raw["skip"], i + 1
    if isinstance(k, bool) or not isinstance(k, int):
        raise fail(field, f"expected a layer number (0 for the input x, up to {l - 1}), found {describe(k)}")
    if not 0 <= k < l:
        raise fail(field, f"{k} is not a layer below layer {l}; a skip adds a⁽ᵏ⁾ of an earlier layer, "
                   f"k from 0 (the input x) to {l - 1}")
    if layer.activation == activations.SOFTMAX:
        raise fail(field, "a softmax layer cannot take a skip (its outputs must stay probabilities); "
                   "put the skip on an elementwise layer")
    if widths[k] != layer.units:
        raise fail(field, f"layer {k} has {_count(widths[k], 'unit', 'units')} but layer {l} has {layer.units}; "
                   "a skip adds a⁽ᵏ⁾ entry by entry, so the two widths must be equal")
    return replace(layer, skip=k)


def _skip_alone(layers: list[Layer], batch: bool, decay: bool, optimizer: bool, fail) -> None:
    """Skips are written and tested for one example under plain gradient descent, without decay."""
    with_skip = next((i for i, layer in enumerate(layers) if layer.skip is not None), None)
    others = [name for name, given in (("examples", batch), ("weight_decay", decay), ("optimizer", optimizer))
              if given]
    if with_skip is not None and others:
        raise fail(f"layers[{with_skip}].skip", f"a skip connection cannot be combined with {' or '.join(others)} "
                   "yet; leave the skip out, or the " + " and ".join(others))

# --- a recurrent cell unrolled over time (issue 15) ---------------------------------------------------
# The simplest faithful form: one hidden unit, h_t = f(w_x·x_t + w_h·h_{t−1} + b) for t = 1..T
# (T = 2 or 3), and one output unit o = g(w_o·h_T + b_o) whose loss against the target is the loss
# (on the last output only). It is loaded as the unrolled network with tied weights: layers 1..T are
# the cell's steps (one Layer, W = [[w_x, w_h]], b = [b]), layer T+1 the output; x[t−1] is x_t.

RECURRENT_STEPS = (2, 3)
_RECURRENT_KEYS = ("inputs", "h0", "w_x", "w_h", "b", "activation", "output", "target")
_RECURRENT_TOP = ("name", "recurrent", "loss", "learning_rate")
_OUTPUT_KEYS = ("w", "b", "activation")


@dataclass(frozen=True)
class Recurrent:
    h0: sp.Rational  # the state before the first step

    def to_json(self, network: Network) -> dict[str, Any]:
        from backprop_tutor.engine.numbers import json_number

        cell, out = network.layers[0], network.layers[-1]
        (w_x, w_h), = cell.weights
        return {"recurrent": {"inputs": [json_number(v) for v in network.input], "h0": json_number(self.h0),
                              "w_x": json_number(w_x), "w_h": json_number(w_h), "b": json_number(cell.bias[0]),
                              "activation": cell.activation,
                              "output": {"w": json_number(out.weights[0][0]), "b": json_number(out.bias[0]),
                                         "activation": out.activation},
                              "target": json_number(network.target[0])},
                "loss": network.loss, "learning_rate": json_number(network.learning_rate)}


def _recurrent_network(data: dict, source: str, fail) -> Network:
    """`recurrent: {inputs, h0, w_x, w_h, b, activation, output: {w, b, activation}, target}` beside
    loss and learning_rate; the extensions written for feed-forward networks are refused."""
    for key in data:
        if key not in _RECURRENT_TOP:
            raise fail(key, f"cannot be combined with recurrent; a recurrent network file has "
                       f"{', '.join(_RECURRENT_TOP)} (the inputs and target go inside recurrent)")
    raw = data["recurrent"]
    if not isinstance(raw, dict):
        raise fail("recurrent", "expected a mapping such as {inputs: [0.5, -0.3], h0: 0, w_x: 0.8, w_h: 0.6, b: 0.1, "
                   f"activation: tanh, output: {{w: 1.2, b: 0}}, target: 0.4}}, found {describe(raw)}")
    check_keys(raw, _RECURRENT_KEYS, "recurrent.", fail, "allowed keys")
    for key in ("inputs", "w_x", "w_h", "output", "target"):
        if key not in raw:
            raise fail(f"recurrent.{key}", "missing; a recurrent network needs inputs, w_x, w_h, output and target")
    for key in ("loss", "learning_rate"):
        if key not in data:
            raise fail(key, f"missing; add `{key}: {_EXAMPLES[key]}`")
    inputs = raw["inputs"]
    if not isinstance(inputs, list) or len(inputs) not in RECURRENT_STEPS:
        found = _count(len(inputs), "input", "inputs") if isinstance(inputs, list) else describe(inputs)
        raise fail("recurrent.inputs", f"expected one input per time step, 2 or 3 of them (the cell is unrolled "
                   f"2 or 3 steps), found {found}")
    x = _vector(inputs, "recurrent.inputs", fail)
    number = {key: _number(raw.get(key, 0), f"recurrent.{key}", fail) for key in ("h0", "w_x", "w_h", "b")}
    cell = Layer(_one_unit_activation(raw, "recurrent.activation", "tanh", fail), ((number["w_x"], number["w_h"]),),
                 (number["b"],))
    output = raw["output"]
    if not isinstance(output, dict) or "w" not in output:
        raise fail("recurrent.output", f"expected a mapping such as {{w: 1.2, b: 0, activation: identity}}, found "
                   f"{describe(output)}")
    check_keys(output, _OUTPUT_KEYS, "recurrent.output.", fail, "allowed keys")
    out = Layer(_one_unit_activation(output, "recurrent.output.activation", "identity", fail),
                ((_number(output["w"], "recurrent.output.w", fail),),), (_number(output.get("b", 0), "recurrent.output.b", fail),))
    t = (_number(raw["target"], "recurrent.target", fail),)
    loss = data["loss"]
    if not isinstance(loss, str) or loss not in losses.LOSSES or loss == "cross_entropy":
        raise fail("loss", f"{describe(loss) if not isinstance(loss, str) else repr(loss)} is not a loss of a recurrent network's one output; use half_sse, sse, mse or bce")
    if loss == "bce" and (out.activation != "sigmoid" or not 0 <= t[0] <= 1):
        raise fail("loss", "bce needs a sigmoid output (recurrent.output.activation) and a target in [0, 1]")
    rate = _number(data["learning_rate"], "learning_rate", fail)
    if rate <= 0:
        raise fail("learning_rate", "must be positive (a step against the gradient), e.g. 0.5")
    name = data.get("name")
    return Network(x, t, (cell,) * len(x) + (out,), loss, rate, None if name is None else str(name),
                   recurrent=Recurrent(number["h0"]))


def _one_unit_activation(raw: dict, field: str, default: str, fail) -> str:
    act = raw.get("activation", default)
    if act not in activations.ELEMENTWISE:
        names = tuple(activations.ELEMENTWISE)
        raise fail(field, f"unknown activation {act!r}{did_you_mean(act, names) if isinstance(act, str) else ''}; "
                   f"one unit takes one of {', '.join(names)}")
    return act

# --- a conv1d layer (issue 15): one channel, a shared kernel, stride 1, no padding ---------------------

LAYER_TYPES = ("dense", "conv1d")
_CONV_KEYS = ("type", "activation", "kernel", "bias")


def _typed_layer(raw: dict, i: int, below: int, fail) -> Layer:
    """`{type: conv1d, kernel: [k0, k1, k2], bias: b, activation: relu}`: zᵢ = Σⱼ kⱼ·xᵢ₊ⱼ + b for
    i = 0 … n − K (n − K + 1 outputs). Only the first layer, stride 1 and no padding: enough to see the
    kernel's gradient sum over positions, and the rules are written for that alone."""
    field = f"layers[{i}]"
    kind = raw["type"]
    if kind == "dense":
        return _layer({k: v for k, v in raw.items() if k != "type"}, field, below, "the layer below", fail)
    if kind != "conv1d":
        raise fail(f"{field}.type", f"unknown layer type {describe(kind)}; use dense or conv1d")
    for key in ("stride", "padding"):
        if key in raw:
            raise fail(f"{field}.{key}", "only stride 1, no padding: leave it out")
    check_keys(raw, _CONV_KEYS, field + ".", fail, "allowed keys for conv1d")
    if i != 0:
        raise fail(f"{field}.type", "a conv1d layer must be the first layer (it reads the input); "
                   "the layers after it are dense")
    act = raw.get("activation")
    if act not in activations.ELEMENTWISE:
        names = [n for n in activations.NAMES if n != activations.SOFTMAX]
        raise fail(f"{field}.activation", f"{'missing' if act is None else f'unknown activation {act!r}'}"
                   f"{did_you_mean(act, names) if isinstance(act, str) else ''}; use one of {', '.join(names)}")
    if "kernel" not in raw:
        raise fail(f"{field}.kernel", "missing; give the shared kernel, e.g. kernel: [0.5, -0.2, 0.1]")
    kernel = _vector(raw["kernel"], f"{field}.kernel", fail)
    if len(kernel) > below:
        raise fail(f"{field}.kernel", f"has {_count(len(kernel), 'entry', 'entries')} but the input has "
                   f"{_count(below, 'entry', 'entries')}; the kernel must fit in the input (no padding)")
    bias = _number(raw.get("bias", 0), f"{field}.bias", fail)
    K, positions = len(kernel), below - len(kernel) + 1
    zero = sp.Integer(0)
    banded = tuple(tuple(kernel[c - p] if 0 <= c - p < K else zero for c in range(below)) for p in range(positions))
    return Layer(act, banded, (bias,) * positions, kernel=kernel)  # one b, shared by every position


def conv_json(layer: Layer) -> dict[str, Any]:
    from backprop_tutor.engine.numbers import json_number

    return {"type": "conv1d", "activation": layer.activation, "kernel": [json_number(k) for k in layer.kernel],
            "bias": json_number(layer.bias[0])}


def is_conv(network: Network, l: int) -> bool:
    """Whether layer l (1-based) is a conv1d layer."""
    return network.layers[l - 1].kernel is not None

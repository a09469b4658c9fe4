"""Quantity ids: the names of what a problem can ask for, parsed once into a typed value.

`delta2[0]`, `dW1`, `W1_new[0][1]`, `nudge(W2[0][1], 0.01)` (network problems), `value`,
`derivative_at`, `derivative` (activation problems), `value`, `grad[x]` (expression problems).
The catalogue and the notation are in docs/rules-and-slips.md. Everything after the template
loader passes QuantityId around, never the text.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from backprop_tutor.errors import TutorError


class QuantityError(TutorError):
    """A quantity name that the problem does not have; the message says why."""


class Kind(Enum):
    """What a quantity is. The value is the name used in quantity ids."""

    INPUT = "x"
    TARGET = "t"
    WEIGHT = "W"
    BIAS = "b"
    Z = "z"
    A = "a"
    SLOPE = "fprime"
    LOSS = "loss"
    LOSS_GRADIENT = "dL_da"
    DELTA = "delta"
    WEIGHT_GRADIENT = "dW"
    BIAS_GRADIENT = "db"
    WEIGHT_NEW = "W_new"
    BIAS_NEW = "b_new"
    LOSS_AFTER = "loss_after"
    NUDGE = "nudge"
    # activation problems (value and derivative_at are a1[0] and fprime1[0] of a one-unit graph)
    DERIVATIVE = "derivative"
    # expression problems
    VALUE = "value"
    GRADIENT = "grad"
    # weight decay (network.weight_decay): the loss is data_loss + decay, ∂L/∂w is dW_data + λ·w
    DATA_LOSS = "data_loss"
    DECAY = "decay"
    DATA_GRADIENT = "dW_data"
    # an optimizer's state, per parameter and step: v(W1[0][0], 1) … (`of` the parameter, `h` the step)
    STEP_GRADIENT = "g"
    VELOCITY = "v"  # momentum's velocity; Adam's second moment
    MOMENT = "m"  # Adam's first moment
    M_HAT = "mhat"
    V_HAT = "vhat"
    STEPPED = "new"  # the parameter after step s
    # residual networks: ∂L/∂a⁽ˡ⁾, through the layers above, plus through the skips that read a⁽ˡ⁾
    ACTIVATION_GRADIENT = "da"
    # a conv1d layer (network.Layer.kernel): its shared kernel K1[j], ∂L/∂K1[j] and the kernel after the step
    KERNEL = "K"
    KERNEL_GRADIENT = "dK"
    KERNEL_NEW = "K_new"

    # Members are singletons: identity hashing is exact, and far cheaper than Enum's hash of
    # the name (quantity ids are dictionary keys on the engine's hot path).
    __hash__ = object.__hash__

    @property
    def given(self) -> bool:
        return self in _GIVEN

    @property
    def layered(self) -> bool:
        return self in _LAYERED


_GIVEN = frozenset({Kind.INPUT, Kind.TARGET, Kind.WEIGHT, Kind.BIAS})
_LAYERED = frozenset({Kind.WEIGHT, Kind.BIAS, Kind.Z, Kind.A, Kind.SLOPE, Kind.DELTA, Kind.WEIGHT_GRADIENT,
                      Kind.BIAS_GRADIENT, Kind.WEIGHT_NEW, Kind.BIAS_NEW, Kind.DATA_GRADIENT,
                      Kind.ACTIVATION_GRADIENT})
# Per parameter and step: `of` names the weight or bias, `h` the step ("1", "2").
OPTIMIZER_STATE = (Kind.STEP_GRADIENT, Kind.VELOCITY, Kind.MOMENT, Kind.M_HAT, Kind.V_HAT, Kind.STEPPED)


class QuantityId(NamedTuple):
    """One quantity, or (with fewer indices than it has) a whole vector or matrix of them.

    `layer` is 1-based for layered kinds (None otherwise); `index` the 0-based entry indices;
    `variable` the variable of grad[v]; `of` and `h` the parameter and step of a nudge ratio.
    A named tuple because ids are the keys of every memo of the engine: tuple hashing and
    equality run in C. Never compare ids by order (the kinds do not have one): sort by `text`."""

    kind: Kind
    layer: int | None = None
    index: tuple[int, ...] = ()
    variable: str | None = None
    of: QuantityId | None = None
    h: str | None = None  # the step as written, e.g. "0.01" (exact: sympy.Rational(h))
    example: int | None = None  # 1-based example of a mini-batch (e2.delta1[0]); None: the batch's, or the only one

    @property
    def text(self) -> str:
        if self.kind is Kind.NUDGE:
            return f"nudge({self.of.text}, {self.h})"
        if self.kind is Kind.GRADIENT:
            return f"grad[{self.variable}]"
        if self.kind in OPTIMIZER_STATE:
            return f"{self.kind.value}({self.of.text}, {self.h})"
        if self.kind is Kind.DATA_GRADIENT:
            return f"dW{self.layer}_data" + "".join(f"[{i}]" for i in self.index)
        name = self.kind.value
        if self.kind in (Kind.WEIGHT_NEW, Kind.BIAS_NEW, Kind.KERNEL_NEW):
            name = f"{name[0]}{self.layer}_new"
        elif self.layer is not None:
            name = f"{name}{self.layer}"
        prefix = f"e{self.example}." if self.example is not None else ""
        return prefix + name + "".join(f"[{i}]" for i in self.index)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"QuantityId({self.text})"

    def entry(self, *index: int) -> QuantityId:
        """This quantity with more indices: delta1.entry(0) is delta1[0]."""
        return QuantityId(self.kind, self.layer, self.index + index, self.variable, self.of, self.h, self.example)

    @property
    def family(self) -> QuantityId:
        """The whole vector or matrix this entry belongs to: delta1[0] → delta1."""
        return QuantityId(self.kind, self.layer, (), self.variable, self.of, self.h, self.example) if self.index else self


def q(kind: Kind, layer: int | None = None, *index: int) -> QuantityId:
    """Shorthand for building ids in code: q(Kind.DELTA, 2, 0) is delta2[0]."""
    return QuantityId(kind, layer, tuple(index))


_NETWORK = re.compile(r"(?P<name>z|a|fprime|delta|dW|db|W|b)(?P<layer>\d+)(?P<new>_new)?(?P<idx>(?:\[\d+\])*)"
                      r"|(?P<plain>x|t|dL_da|loss_after|loss)(?P<idx2>(?:\[\d+\])*)")
_NUDGE = re.compile(r"nudge\((?P<param>[^,()]+),(?P<h>[^,()]+)\)")
_INDEX = re.compile(r"\[(\d+)\]")
_STEP = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_BY_NAME = {k.value: k for k in Kind}
NETWORK_EXAMPLES = "z1[0], a2[1], delta2[0], dW1[0][1], db2[0], W2_new[0][0], loss, loss_after or nudge(W2[0][0], 0.01)"


def parse_network_quantity(text: str) -> QuantityId:
    """A network quantity's text → its id. QuantityError names what is wrong; whether the
    layer and indices exist in a given network is checked by the solution that answers it."""
    compact = text.replace(" ", "")
    example = _EXAMPLE.match(compact)
    if example:
        return _of_example(text, parse_network_quantity(compact[example.end():]), int(example[1]))
    nudge = _NUDGE.fullmatch(compact)
    if nudge:
        param = parse_network_quantity(nudge["param"])
        if param.kind not in (Kind.WEIGHT, Kind.BIAS, Kind.KERNEL) or len(param.index) != (2 if param.kind is Kind.WEIGHT else 1):
            raise QuantityError(f"{text!r}: a nudge moves one weight or bias, e.g. nudge(W2[0][1], 0.01)")
        if not _STEP.fullmatch(nudge["h"]) or float(nudge["h"]) == 0:
            raise QuantityError(f"{text!r}: the step h must be a nonzero decimal number, e.g. 0.01")
        return QuantityId(Kind.NUDGE, of=param, h=nudge["h"])
    state = _STATE.fullmatch(compact)
    if state:
        return _optimizer_state(text, state)
    if compact in ("decay", "data_loss"):
        return QuantityId(_BY_NAME[compact])
    data = _DATA_GRADIENT.fullmatch(compact)
    if data and int(data[1]) > 0:
        return QuantityId(Kind.DATA_GRADIENT, int(data[1]), _indices(data[2]))
    da = _ACTIVATION_GRADIENT.fullmatch(compact)
    if da and int(da[1]) > 0:
        return QuantityId(Kind.ACTIVATION_GRADIENT, int(da[1]), _indices(da[2]))
    kernel = _KERNEL.fullmatch(compact)
    if kernel and int(kernel[2]) > 0:
        if kernel[1] == "dK" and kernel[3]:
            raise QuantityError(f"{text!r}: only K, W and b have an updated value (_new)")
        return QuantityId(_BY_NAME[kernel[1] + (kernel[3] or "")], int(kernel[2]), _indices(kernel[4]))
    match = _NETWORK.fullmatch(compact)
    if not match:
        raise QuantityError(f"{text!r} is not a quantity; use names such as {NETWORK_EXAMPLES}")
    if match["plain"]:
        return QuantityId(_BY_NAME[match["plain"]], None, _indices(match["idx2"]))
    name, layer = match["name"], int(match["layer"])
    if match["new"]:
        if name not in ("W", "b"):
            raise QuantityError(f"{text!r}: only W and b have an updated value (_new)")
        name += "_new"
    if name == "a" and layer == 0:
        return QuantityId(Kind.INPUT, None, _indices(match["idx"]))
    if layer == 0:
        raise QuantityError(f"{text!r}: layers are numbered from 1 (the input is x, or a0)")
    return QuantityId(_BY_NAME[name], layer, _indices(match["idx"]))


# An activation problem is one unit of a one-layer network: its value and slope are these.
ACTIVATION_VALUE = q(Kind.A, 1, 0)
ACTIVATION_SLOPE = q(Kind.SLOPE, 1, 0)


def parse_activation_quantity(text: str) -> QuantityId:
    """value → a1[0], derivative_at → fprime1[0] (the one unit of an activation problem), derivative."""
    name = text.strip()
    if name == "value":
        return ACTIVATION_VALUE
    if name == "derivative_at":
        return ACTIVATION_SLOPE
    if name == "derivative":
        return QuantityId(Kind.DERIVATIVE)
    raise QuantityError(f"{text!r} is not a quantity of an activation problem; use value, derivative_at or derivative")


def parse_expression_quantity(text: str) -> QuantityId:
    """value, or grad[v] for a variable v."""
    compact = text.replace(" ", "")
    if compact == "value":
        return QuantityId(Kind.VALUE)
    match = re.fullmatch(r"grad\[([A-Za-z][A-Za-z0-9_]*)\]", compact)
    if match:
        return QuantityId(Kind.GRADIENT, variable=match[1])
    raise QuantityError(f"{text!r} is not a quantity of an expression problem; use value or grad[v] for a variable v")


def _indices(text: str) -> tuple[int, ...]:
    return tuple(int(i) for i in _INDEX.findall(text))


_DATA_GRADIENT = re.compile(r"dW(\d+)_data((?:\[\d+\])*)")
_ACTIVATION_GRADIENT = re.compile(r"da(\d+)((?:\[\d+\])*)")  # da1[0] = ∂L/∂a⁽¹⁾₀
_STATE = re.compile(r"(?P<kind>g|v|m|mhat|vhat|new)\((?P<param>[^,()]+),(?P<step>[^,()]+)\)")


def _optimizer_state(text: str, match: re.Match) -> QuantityId:
    """v(W1[0][0], 2): an optimizer's state for one weight or bias after a step (1 or 2)."""
    param = parse_network_quantity(match["param"])
    if param.kind not in (Kind.WEIGHT, Kind.BIAS) or len(param.index) != (2 if param.kind is Kind.WEIGHT else 1):
        raise QuantityError(f"{text!r}: an optimizer's state is per weight or bias, e.g. v(W2[0][1], 1)")
    if match["step"] not in ("1", "2"):
        raise QuantityError(f"{text!r}: the step is 1 or 2, e.g. v(W2[0][1], 2)")
    return QuantityId(_BY_NAME[match["kind"]], of=param, h=match["step"])


# --- mini-batches: per-example quantities --------------------------------------------------------

_EXAMPLE = re.compile(r"e(\d+)\.")
# What each example of a mini-batch has of its own; weights, biases and their updates are shared,
# and loss, dW, db without an example are the batch's (the mean over the examples).
PER_EXAMPLE = frozenset({Kind.INPUT, Kind.TARGET, Kind.Z, Kind.A, Kind.SLOPE, Kind.LOSS, Kind.LOSS_GRADIENT,
                         Kind.DELTA, Kind.WEIGHT_GRADIENT, Kind.BIAS_GRADIENT})


def _of_example(text: str, quantity: QuantityId, example: int) -> QuantityId:
    if quantity.kind not in PER_EXAMPLE or quantity.example is not None:
        raise QuantityError(f"{text!r}: only x, t, z, a, fprime, loss, dL_da, delta, dW and db belong to one "
                            "example, e.g. e1.dW1[0][0]")
    if example < 1:
        raise QuantityError(f"{text!r}: examples are numbered from 1 (e1, e2, …)")
    return quantity._replace(example=example)


def of_example(quantity: QuantityId, example: int | None) -> QuantityId:
    """The quantity as example `example` has it (weights and biases are every example's)."""
    return quantity._replace(example=example) if quantity.kind in PER_EXAMPLE else quantity


# --- a conv1d layer's kernel (issue 15): K1[j], dK1[j], K1_new[j] ------------------------------------

_KERNEL = re.compile(r"(K|dK)(\d+)(_new)?((?:\[\d+\])*)")
_GIVEN = _GIVEN | {Kind.KERNEL}
_LAYERED = _LAYERED | {Kind.KERNEL, Kind.KERNEL_GRADIENT, Kind.KERNEL_NEW}

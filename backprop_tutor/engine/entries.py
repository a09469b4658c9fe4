"""Which entries a quantity id stands for in a network, and their values as nested tuples.

`delta1` is the vector (delta1[0], delta1[1], …), `dW2` the matrix of dW2[j][k]; a full id is
one entry. The shapes follow the network: a layer's units, its fan-in, the outputs.
"""

from __future__ import annotations

from typing import Any

from backprop_tutor.engine import activations
from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.network import Network
from backprop_tutor.engine.quantities import OPTIMIZER_STATE, Kind, QuantityError, QuantityId
from backprop_tutor.engine.rules import no_softmax_slope, optimizer_rule

_MATRICES = (Kind.WEIGHT, Kind.WEIGHT_GRADIENT, Kind.WEIGHT_NEW, Kind.DATA_GRADIENT)
_SCALARS = (Kind.LOSS, Kind.LOSS_AFTER, Kind.NUDGE, Kind.DATA_LOSS, Kind.DECAY) + OPTIMIZER_STATE


def shape(network: Network, quantity: QuantityId) -> tuple[int, ...]:
    """The full shape of the quantity's family: () for a number, (n,) or (rows, columns)."""
    kind, L = quantity.kind, len(network.layers)
    if kind in _SCALARS:
        if kind is Kind.NUDGE or kind in OPTIMIZER_STATE:
            entries(network, quantity.of)  # the nudged (or optimized) parameter must exist
        if kind in OPTIMIZER_STATE:
            optimizer_rule(network, quantity)  # the network has this optimizer, and takes that step
        return ()
    if kind is Kind.INPUT:
        return (len(network.input),)
    if kind in (Kind.TARGET, Kind.LOSS_GRADIENT):
        return (len(network.target),)
    if not kind.layered:
        raise QuantityError(f"{quantity.text!r} is not a quantity of a network")
    if not 1 <= quantity.layer <= L:
        raise QuantityError(f"{quantity.text!r}: the network has layers 1 to {L}")
    layer = network.layers[quantity.layer - 1]
    if kind is Kind.SLOPE and layer.activation == activations.SOFTMAX:
        raise no_softmax_slope(quantity)
    if layer.kernel is not None or kind in _KERNEL:
        return conv_shape(quantity, layer)
    return (layer.units, len(layer.weights[0])) if kind in _MATRICES else (layer.units,)


def entries(network: Network, quantity: QuantityId) -> Any:
    """The entry ids: one id, a tuple of ids, or a tuple of tuples. QuantityError when an index
    does not exist."""
    full = shape(network, quantity)
    if len(quantity.index) > len(full):
        what = ("a number: no index", "a vector: one index", "a matrix: two indices")[len(full)]
        raise QuantityError(f"{quantity.text!r}: too many indices ({quantity.family.text} is {what})")
    for i, n in zip(quantity.index, full):
        if i >= n:
            raise QuantityError(f"{quantity.text!r}: index {i} is out of range (there are {n} entries)")

    def expand(q: QuantityId, rest: tuple[int, ...]):
        if not rest:
            return q
        return tuple(expand(q.entry(i), rest[1:]) for i in range(rest[0]))

    return expand(quantity, full[len(quantity.index):])


def flat(nested: Any) -> list:
    """Entry ids (`entries(...)`) or values shaped like them, in row order."""
    if isinstance(nested, QuantityId) or not isinstance(nested, tuple):
        return [nested]
    return [e for item in nested for e in flat(item)]


def values(evaluation: Evaluation, quantity: QuantityId, finish: bool = True) -> Any:
    """The quantity's values in the evaluation, shaped like `entries`; `finish` turns the
    arithmetic's numbers into what the rest of the package uses (SymPy Floats, exact forms)."""
    return evaluation.values(entries(evaluation.network, quantity), finish)


# --- a conv1d layer: its kernel K{l}[j] and one shared bias b{l}[0] in place of W{l} and b{l} -------------

_KERNEL = (Kind.KERNEL, Kind.KERNEL_GRADIENT, Kind.KERNEL_NEW)
_SHARED = (Kind.BIAS, Kind.BIAS_GRADIENT, Kind.BIAS_NEW)


def conv_shape(quantity: QuantityId, layer) -> tuple[int, ...]:
    kind, l = quantity.kind, quantity.layer
    if layer.kernel is None:
        raise QuantityError(f"{quantity.text!r}: layer {l} is not a conv1d layer (it has no kernel)")
    if kind in _MATRICES:
        raise QuantityError(f"{quantity.text!r}: layer {l} is a conv1d layer; its parameters are the kernel K{l} "
                            f"and the shared bias b{l}[0]")
    return (len(layer.kernel),) if kind in _KERNEL else (1,) if kind in _SHARED else (layer.units,)

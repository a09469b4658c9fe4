"""`tutor why --vanishing`: the vanishing gradient, seen in numbers on a deep chain.

A chain of DEPTH one-unit layers (engine/chain.py), run twice with the same weights, biases,
input and target: every layer sigmoid, then every layer relu. Down the chain δ is a running
product, δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾·w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾); with σ′ ≤ 1/4 each sigmoid layer shrinks it, while a
relu unit that is active (z > 0) has relu′ = 1 and passes δ on times its weight alone. The
rows (f′, the factor |w·f′|, δ, |∂L/∂w⁽ˡ⁾| and its ratio to the layer above) are the engine's,
at 50 digits (worked/deep_chain.py).

Values are drawn with random.Random(seed): positive input, weights in [1/2, 3/2] and biases in
[0, 1/2], so every relu unit is active and the comparison is about f′ alone, not about a dead
unit; a target below 0 keeps o − t away from 0 in both chains. A draw is kept when the relu
chain's first-layer gradient is at least MIN_RATIO times the sigmoid chain's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import sympy as sp

from backprop_tutor.engine.network import Network, network_from_dict
from backprop_tutor.engine.numbers import json_number
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.errors import TutorError
from backprop_tutor.worked.deep_chain import COMPARED, ChainRow, chain_rows, with_activation

DEPTH = 8
MIN_RATIO = 10  # the lesson's claim: sigmoid's first-layer gradient is at least 10× smaller than relu's
MAX_DRAWS = 100
RELU_MARGIN = sp.Rational(1, 10)  # every relu z at least this far above 0: active, and not near the kink


@dataclass(frozen=True)
class Chain:
    activation: str
    rows: tuple[ChainRow, ...]  # from the output layer down to layer 1

    @property
    def first_layer_gradient(self) -> sp.Float:
        return self.rows[-1].gradient

    @property
    def slopes(self) -> tuple[sp.Float, ...]:
        """f′(z⁽¹⁾) … f′(z⁽ᴸ⁻¹⁾), the slopes in δ⁽¹⁾'s product, from layer 1 up."""
        return tuple(row.slope for row in reversed(self.rows[1:]))

    @property
    def slope_product(self) -> sp.Float:
        return sp.Mul(*self.slopes)

    def to_json(self) -> dict[str, Any]:
        return {"activation": self.activation, "first_layer_gradient": json_number(self.first_layer_gradient),
                "slope_product": json_number(self.slope_product),
                "layers": [{"layer": r.layer, "z": json_number(r.z), "slope": json_number(r.slope),
                            "factor": None if r.factor is None else json_number(r.factor),
                            "delta": json_number(r.delta), "gradient": json_number(r.gradient),
                            "ratio": None if r.ratio is None else json_number(r.ratio)} for r in self.rows]}


@dataclass(frozen=True)
class Vanishing:
    seed: int
    network: Network  # the chain with sigmoid layers; the relu chain differs only in activations
    chains: tuple[Chain, ...]  # sigmoid, relu

    @property
    def ratio(self) -> sp.Float:
        """|∂L/∂w⁽¹⁾| of the relu chain over that of the sigmoid chain."""
        sigmoid, relu = self.chains
        return abs(relu.first_layer_gradient) / abs(sigmoid.first_layer_gradient)

    def to_json(self) -> dict[str, Any]:
        net = self.network
        return {"seed": self.seed, "depth": len(net.layers), "input": json_number(net.input[0]),
                "target": json_number(net.target[0]), "loss": net.loss,
                "weights": [json_number(layer.weights[0][0]) for layer in net.layers],
                "biases": [json_number(layer.bias[0]) for layer in net.layers],
                "chains": [chain.to_json() for chain in self.chains], "ratio": json_number(self.ratio)}


def _draw(rng: random.Random) -> Network:
    def tenth(low: int, high: int) -> str:  # a network file's number, as a decimal with one place
        return str(sp.Rational(rng.randint(low, high), 10))

    layers = [{"activation": "sigmoid", "weights": [[tenth(5, 15)]], "bias": [tenth(0, 5)]} for _ in range(DEPTH)]
    return network_from_dict({"input": [tenth(5, 10)], "target": [tenth(-10, -2)], "layers": layers,
                              "loss": "half_sse", "learning_rate": "1/10"}, "the vanishing lesson")


def vanishing(seed: int) -> Vanishing:
    rng = random.Random(seed)
    for _ in range(MAX_DRAWS):
        network = _draw(rng)
        solutions = [solve_network(with_activation(network, name)) for name in COMPARED]
        relu = solutions[1].numeric
        if any(relu.z[l][0] < RELU_MARGIN for l in range(1, DEPTH + 1)):
            continue
        chains = tuple(Chain(name, chain_rows(sol)) for name, sol in zip(COMPARED, solutions))
        lesson = Vanishing(seed, network, chains)
        if lesson.ratio >= MIN_RATIO:
            return lesson
    raise TutorError(f"no chain for seed {seed} showed the vanishing gradient in {MAX_DRAWS} draws; try another seed")

"""A deep chain: a network of one-unit layers, each with one input, at least MIN_LAYERS deep.

There backprop is a single running product, δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾·w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾), and the worked
solution (worked/deep_chain.py), a slip (dropped_chain_weight) and the vanishing-gradient lesson
show it as one. Any valid network file of 1-unit layers is a chain; no new layer type.
"""

from __future__ import annotations

from backprop_tutor.engine.network import Network

MIN_LAYERS = 4  # below this a chain is an ordinary small network; the product has too few factors to see


def is_deep_chain(network: Network) -> bool:
    """Every layer one unit with one input, and at least MIN_LAYERS layers."""
    return (len(network.layers) >= MIN_LAYERS and len(network.input) == 1
            and all(len(layer.weights) == 1 and len(layer.weights[0]) == 1 for layer in network.layers))

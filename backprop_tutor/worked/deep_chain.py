"""A deep chain: a network of 1-unit layers, where backprop is one running product.

In a chain δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾·w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾): each layer down multiplies δ by one factor
w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾), and ∂L/∂w⁽ˡ⁾ = δ⁽ˡ⁾·a⁽ˡ⁻¹⁾. With sigmoid f′ ≤ 1/4, so the factor shrinks δ
unless |w| > 4; with relu f′ = 1 where the unit is active, and the factor is the weight. The
step shows the product with numbers, then |∂L/∂w⁽ˡ⁾| layer by layer with its ratio to the layer
above, then the same chain with sigmoid and with relu. Every number is the engine's (50 digits).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.arithmetic import PRECISE
from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.network import Network
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import prime, symbol, times, value_text
from backprop_tutor.worked.steps import Lines, Step

COMPARED = ("sigmoid", "relu")
_F_PRIME = {False: "f′", True: "f'"}


@dataclass(frozen=True)
class ChainRow:
    """One layer of the chain, from the engine's numbers. `factor` is |w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾)|, by
    which |δ| shrinks from layer l + 1 to l; `ratio` is |∂L/∂w⁽ˡ⁾| / |∂L/∂w⁽ˡ⁺¹⁾| (None at the top)."""

    layer: int
    z: sp.Float
    slope: sp.Float
    weight_above: sp.Rational | None
    factor: sp.Float | None
    delta: sp.Float
    gradient: sp.Float  # ∂L/∂w⁽ˡ⁾
    ratio: sp.Float | None


def chain_rows(sol: NetworkSolution) -> tuple[ChainRow, ...]:
    """The chain's rows from the output layer down to layer 1."""
    n, layers = sol.numeric, sol.network.layers
    rows = []
    for l in range(sol.depth, 0, -1):
        top = l == sol.depth
        w_above = None if top else layers[l].weights[0][0]
        above = None if top else n.grad_W[l + 1][0][0]
        gradient = n.grad_W[l][0][0]
        rows.append(ChainRow(l, n.z[l][0], n.slope[l][0], w_above,
                             None if top else abs(w_above * n.slope[l][0]), n.delta[l][0], gradient,
                             None if top or above == 0 else abs(gradient) / abs(above)))
    return tuple(rows)


def with_activation(network: Network, name: str) -> Network:
    """The same chain (weights, biases, input, target, loss) with every layer's activation `name`."""
    return replace(network, layers=tuple(replace(layer, activation=name) for layer in network.layers))


def first_layer_gradient(network: Network) -> sp.Float:
    """∂L/∂w⁽¹⁾ of a chain, by the engine's rules at 50 digits (no nudges, no worked steps)."""
    return Evaluation(network, PRECISE).values(q(Kind.WEIGHT_GRADIENT, 1, 0, 0), finish=True)


def compared(network: Network) -> dict[str, sp.Float]:
    """∂L/∂w⁽¹⁾ of the same chain with every layer sigmoid and with every layer relu."""
    return {name: first_layer_gradient(with_activation(network, name)) for name in COMPARED}


def _inactive(relu_gradient, tex: bool = False) -> str:
    if relu_gradient != 0:
        return ""
    slope = r"$\mathrm{relu}' = 0$" if tex else "relu′ = 0"
    return f"; here a relu unit with z < 0 has {slope} and stops the gradient altogether"


def chain_step(sol: NetworkSolution) -> Step:
    """The worked step for a deep chain (shown only when `is_deep_chain`)."""
    net, L = sol.network, sol.depth
    rows = chain_rows(sol)
    lines = Lines()
    lines.say("Every layer has one unit, so each hidden delta has one term: going down one layer multiplies δ by "
              "one more factor, the weight above times the local slope.",
              r"Every layer has one unit, so each hidden delta has one term: going down one layer multiplies "
              r"$\delta$ by one more factor, the weight above times the local slope.")
    lines.math(lambda tex: f"{symbol('delta', 'l', tex=tex)} = {symbol('delta', 'l+1', tex=tex)}{times(tex)}"
               f"{symbol('w', 'l+1', tex=tex)}{times(tex)}{_F_PRIME[tex]}({symbol('z', 'l', tex=tex)})")
    for row in rows[1:]:
        l = row.layer
        lines.math(lambda tex, row=row, l=l: f"{symbol('delta', l, tex=tex)} = "
                   + num.product([sol.numeric.delta[l + 1][0], row.weight_above, row.slope], tex=tex)
                   + f" = {value_text(row.delta, tex)}")
    names = [layer.activation for layer in net.layers[:-1]]
    slopes = " · ".join(f"{prime(name)}({symbol('z', l)})" for l, name in enumerate(names, 1))
    lines.say(f"So {symbol('delta', 1)} = {symbol('delta', L)} · {symbol('w', 2)}·…·{symbol('w', L)} · {slopes}: "
              "one weight and one slope per layer below the output.")
    lines.say("|∂L/∂w⁽ˡ⁾| = |δ⁽ˡ⁾·a⁽ˡ⁻¹⁾| layer by layer, and its ratio to the layer above:",
              r"$|\partial L/\partial w^{(l)}| = |\delta^{(l)} a^{(l-1)}|$ layer by layer, and its ratio to the layer above:")
    header = ("layer", "f′(z)", "|w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾)|", "|∂L/∂w⁽ˡ⁾|", "ratio to layer above")
    table = [header] + [(str(r.layer), num.pretty(r.slope), "—" if r.factor is None else num.pretty(r.factor),
                         num.pretty(abs(r.gradient)), "—" if r.ratio is None else num.pretty(r.ratio)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    text_rows = ["  " + "  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in table]
    tex_rows = [" & ".join(f"${num.latex(v)}$" if v is not None else "---"
                           for v in (r.slope, r.factor, abs(r.gradient), r.ratio)) for r in rows]
    lines.text += text_rows
    lines.tex.append(r"\begin{tabular}{rrrrr} layer & $f'(z)$ & $|w^{(l+1)} f'(z^{(l)})|$ & "
                     r"$|\partial L/\partial w^{(l)}|$ & ratio \\ \hline " + " ".join(
                         f"{r.layer} & {cells} \\\\" for r, cells in zip(rows, tex_rows)) + r" \end{tabular}")
    lines.say("(The ratio of the gradients differs from the factor by a⁽ˡ⁻¹⁾/a⁽ˡ⁾, the inputs the two weights "
              "multiply; the factor is the ratio of the deltas.)",
              r"(The ratio of the gradients differs from the factor by $a^{(l-1)}/a^{(l)}$, the inputs the two "
              r"weights multiply; the factor is the ratio of the deltas.)")
    gradients = compared(net)
    sig, relu = gradients["sigmoid"], gradients["relu"]
    lines.say(f"The same chain (same weights, biases and input) with every layer sigmoid gives ∂L/∂w⁽¹⁾ = "
              f"{num.pretty(sig)}; with every layer relu, {num.pretty(relu)}. σ′ ≤ 1/4, so a sigmoid layer's "
              f"factor |w·σ′| is at most |w|/4 and δ shrinks at every layer whose weight is below 4 in size; "
              f"relu′ = 1 where a unit is active (z > 0), so there the factor is the weight alone{_inactive(relu)}.",
              rf"The same chain (same weights, biases and input) with every layer sigmoid gives "
              rf"$\partial L/\partial w^{{(1)}} = {num.latex(sig)}$; with every layer relu, ${num.latex(relu)}$. "
              r"$\sigma' \le 1/4$, so a sigmoid layer's factor $|w \sigma'|$ is at most $|w|/4$ and $\delta$ shrinks "
              r"at every layer whose weight is below 4 in size; $\mathrm{relu}' = 1$ where a unit is active ($z > 0$), "
              r"so there the factor is the weight alone" + _inactive(relu, tex=True).replace("z < 0", "$z < 0$") + ".")
    return lines.step(f"The deep chain: {symbol('delta', 1)} as a product, and the gradient layer by layer",
                      q(Kind.DELTA, 1), q(Kind.WEIGHT_GRADIENT, 1))

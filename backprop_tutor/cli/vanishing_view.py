"""`tutor why --vanishing` on screen: the sigmoid chain and the relu chain of learner/vanishing.py,
each as a table of f′, the factor |w·f′|, |∂L/∂w⁽ˡ⁾| and its ratio to the layer above, with bars
on one log scale shared by the two tables (so the bars compare); the product of the slopes
written out; and one sentence of what the earliest layer receives in each, and why."""

from __future__ import annotations

import sympy as sp
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_tutor.cli.bars import bars
from backprop_tutor.engine import numbers as num
from backprop_tutor.learner.vanishing import Chain, Vanishing
from backprop_tutor.worked.notation import prime, symbol

DIGITS = 4
BAR_WIDTH = 16
_STYLES = {"sigmoid": "red", "relu": "green"}


def _p(value) -> str:
    return num.pretty(value, DIGITS)


def _table(chain: Chain, drawn: list[str], log: bool) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False,
                  title=f"{chain.activation} chain", title_justify="left", title_style="bold",
                  caption=f"bars: |∂L/∂w⁽ˡ⁾| on a {'log' if log else 'linear'} scale shared by the two chains",
                  caption_justify="left")
    for column in ("layer", "f′(z)", "|w⁽ˡ⁺¹⁾·f′|", "|∂L/∂w⁽ˡ⁾|", "ratio"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("", justify="left", no_wrap=True)
    for row, bar in zip(chain.rows, drawn):
        table.add_row(str(row.layer), _p(row.slope), "—" if row.factor is None else _p(row.factor),
                      _p(abs(row.gradient)), "—" if row.ratio is None else _p(row.ratio),
                      Text(bar, style=_STYLES.get(chain.activation, "")))
    return table


def _product(chain: Chain) -> list[Text]:
    """The slopes' product on two lines: a piped formula line is never wrapped, so each stays short."""
    f = prime(chain.activation)
    last = len(chain.slopes)
    return [Text(f"The product of the slopes {f}({symbol('z', 1)})·…·{f}({symbol('z', last)}):"),
            Text(f"  {' · '.join(_p(s) for s in chain.slopes)} = {_p(chain.slope_product)}")]


def render(lesson: Vanishing) -> RenderableType:
    sigmoid, relu = lesson.chains
    net = lesson.network
    depth = len(net.layers)
    header = Text("Why deep sigmoid networks learn slowly: the vanishing gradient", style="bold")
    header.append(f"  (seed {lesson.seed})", style="dim")
    weights = ", ".join(_p(layer.weights[0][0]) for layer in net.layers)
    biases = ", ".join(_p(layer.bias[0]) for layer in net.layers)
    intro = Text(f"A chain of {depth} one-unit layers, x = {_p(net.input[0])} → … → o, loss ½(t − o)² with "
                 f"t = {_p(net.target[0])}; weights {symbol('w', 1)}…{symbol('w', depth)} = {weights}; biases {biases}. The same chain "
                 f"twice: every layer sigmoid, then every layer relu. Down the chain backprop is one running product, "
                 f"δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾·w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾), so each layer multiplies δ by its factor |w⁽ˡ⁺¹⁾·f′(z⁽ˡ⁾)|.")
    drawn, log = bars([[float(abs(r.gradient)) for r in chain.rows] for chain in lesson.chains], BAR_WIDTH)
    parts: list[RenderableType] = [header, intro]
    for chain, chain_bars in zip(lesson.chains, drawn):
        parts += [Text(""), _table(chain, chain_bars, log), *_product(chain)]
    factors = [row.factor for row in sigmoid.rows[1:]]
    bound = sp.Rational(1, 4) ** len(sigmoid.slopes)
    parts += [Text(""), Text(
        f"The earliest layer's gradient ∂L/∂w⁽¹⁾: {_p(sigmoid.first_layer_gradient)} with sigmoid, "
        f"{_p(relu.first_layer_gradient)} with relu, which is {_p(lesson.ratio)} times larger. Why: σ′(z) = σ(1 − σ) ≤ 1/4, "
        f"so each sigmoid layer multiplies δ by |w·σ′| ≤ |w|/4 (here {_p(min(factors))} to {_p(max(factors))}), "
        f"{len(factors)} times over, and the {len(factors)} slopes alone multiply to at most (1/4)^{len(factors)} = "
        f"{_p(bound)}; every relu unit here is active (z > 0), relu′ = 1, and δ is multiplied by the weights alone.")]
    return Group(*parts)

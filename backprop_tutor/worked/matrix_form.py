"""Backprop in matrix form, as a textbook writes it for whole layers (docs/formats.md, Templates):

    δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ f′(z⁽ˡ⁾),   ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ,   W⁽ˡ⁾ ← W⁽ˡ⁾ − η ∂L/∂W⁽ˡ⁾

with every matrix and vector written out with its numbers. The values are the engine's (the
same rules, evaluated unit by unit); only the transposed product (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾, which the
unit-by-unit solution never names, is summed here, in SymPy, from the engine's own δ.

Text writes a matrix row by row, `[0.1 0.2; 0.3 0.4]`, a column vector `[0.1; 0.2]` and a row
vector `[0.1 0.2]`; LaTeX writes each as a bmatrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import partial, prime, symbol, times
from backprop_tutor.worked.slopes import unit_slope
from backprop_tutor.worked.steps import Lines, Step



def number(value: sp.Expr, tex: bool) -> str:
    return num.latex(value) if tex else num.pretty(value)


def matrix(rows: Sequence[Sequence[sp.Expr]], tex: bool) -> str:
    if tex:
        return (r"\begin{bmatrix}" + r" \\ ".join(" & ".join(number(v, tex) for v in row) for row in rows)
                + r"\end{bmatrix}")
    return "[" + "; ".join(" ".join(number(v, tex) for v in row) for row in rows) + "]"


def column(values: Sequence[sp.Expr], tex: bool) -> str:
    return matrix([[v] for v in values], tex)


def row(values: Sequence[sp.Expr], tex: bool) -> str:
    return matrix([list(values)], tex)


def transposed(rows: Sequence[Sequence[sp.Expr]]) -> list[list[sp.Expr]]:
    return [list(c) for c in zip(*rows)]


def _name(letter: str, l: int, tex: bool) -> str:
    """A whole layer's matrix or vector: W⁽²⁾, δ⁽¹⁾, a⁽⁰⁾."""
    return symbol(letter, l, tex=tex)


def _transpose(text: str, tex: bool) -> str:
    return rf"\left({text}\right)^{{\mathsf{{T}}}}" if tex else f"({text})ᵀ"


def _odot(tex: bool) -> str:
    return r" \odot " if tex else " ⊙ "


def _chain(tex: bool, lhs: str, relation: str, *sides: str) -> str:
    """`lhs = s₁ = s₂ …` on one line of text; in LaTeX one side per line, aligned at the
    relation, as whole matrices side by side run off the page."""
    if not tex:
        return f"{lhs} {relation} " + " = ".join(sides)
    first, *rest = sides
    return (rf"\begin{{aligned}} {lhs} &{relation} {first}" + "".join(rf" \\ &= {side}" for side in rest)
            + r" \end{aligned}")


def backpropagated(sol: NetworkSolution, l: int) -> list[sp.Expr]:
    """(W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾: what reaches each unit k of layer l from the layer above."""
    above, delta = sol.network.layers[l].weights, sol.numeric.delta[l + 1]
    return [sp.Add(*(above[j][k] * delta[j] for j in range(len(delta)))) for k in range(len(above[0]))]


def output_delta(sol: NetworkSolution) -> Step:
    """δ⁽ᴸ⁾ as one vector equation (the unit-by-unit step before it derives each entry)."""
    n, L = sol.numeric, sol.depth
    name = sol.network.layers[-1].activation
    lines = Lines()
    lines.say("The same in vectors: ⊙ multiplies entry by entry.",
              r"The same in vectors: $\odot$ multiplies entry by entry.")
    lines.math(lambda tex: _chain(tex, _name('delta', L, tex), "=",
                                  f"{partial('L', _name('a', L, tex), tex)}{_odot(tex)}{prime(name, tex)}({_name('z', L, tex)})",
                                  f"{column(n.dL_da, tex)}{_odot(tex)}{column(n.slope[L], tex)}", column(n.delta[L], tex)))
    return lines.step(f"The output delta {symbol('delta', L)} as a vector")


def hidden_delta(sol: NetworkSolution, l: int) -> Step:
    n = sol.numeric
    name = sol.network.layers[l - 1].activation
    W = sol.network.layers[l].weights
    sent = backpropagated(sol, l)
    lines = Lines()
    lines.say(f"Unit k of layer {l} feeds every unit of layer {l + 1}; transposing {_name('W', l + 1, False)} sends "
              f"each {symbol('delta', l + 1, 'j')} back along the weight it came through, and reuses {_name('delta', l + 1, False)}:",
              rf"Unit $k$ of layer {l} feeds every unit of layer {l + 1}; transposing ${_name('W', l + 1, True)}$ sends "
              rf"each $\delta^{{({l + 1})}}_j$ back along the weight it came through, and reuses ${_name('delta', l + 1, True)}$:")
    lines.math(lambda tex: f"{_name('delta', l, tex)} = {_transpose(_name('W', l + 1, tex), tex)} {_name('delta', l + 1, tex)}"
               f"{_odot(tex)}{prime(name, tex)}({_name('z', l, tex)})")
    lines.math(lambda tex: _chain(tex, f"{_transpose(_name('W', l + 1, tex), tex)} {_name('delta', l + 1, tex)}", "=",
                                  f"{matrix(transposed(W), tex)} {column(n.delta[l + 1], tex)}", column(sent, tex)))
    lines.say(f"The local slopes {prime(name)}({_name('z', l, False)}), entry by entry:",
              rf"The local slopes ${prime(name, True)}({_name('z', l, True)})$, entry by entry:")
    for j in range(len(n.slope[l])):
        lines.math(lambda tex, j=j: unit_slope(sol, l, j, tex))
    lines.math(lambda tex: _chain(tex, _name('delta', l, tex), "=", f"{column(sent, tex)}{_odot(tex)}{column(n.slope[l], tex)}",
                                  column(n.delta[l], tex)))
    return lines.step(f"Backward pass: hidden delta {symbol('delta', l)} = ({symbol('W', l + 1)})ᵀ{symbol('delta', l + 1)} "
                      f"⊙ f′({symbol('z', l)})", q(Kind.SLOPE, l), q(Kind.DELTA, l))


def gradients(sol: NetworkSolution, l: int) -> Step:
    n = sol.numeric
    rows, cols = len(n.delta[l]), len(n.a[l - 1])
    lines = Lines()
    lines.say(f"An outer product: entry (j, k) is {symbol('delta', l, 'j')}·{symbol('a', l - 1, 'k')}, so the gradient "
              f"has the shape of {_name('W', l, False)} ({rows}×{cols}).",
              rf"An outer product: entry $(j, k)$ is $\delta^{{({l})}}_j \, a^{{({l - 1})}}_k$, so the gradient has the "
              rf"shape of ${_name('W', l, True)}$ (${rows} \times {cols}$).")
    decay = sol.network.weight_decay  # with weight decay, + λW: the derivative of (λ/2)·Σ w²

    def plus_decay(tex: bool, shown: bool) -> str:
        if not decay:
            return ""
        if shown:
            return f" + {number(decay, tex)}{times(tex)}{matrix(sol.network.layers[l - 1].weights, tex)}"
        return (r" + \lambda " if tex else " + λ") + _name('W', l, tex)

    lines.math(lambda tex: _chain(tex, partial('L', _name('W', l, tex), tex), "=",
                                  f"{_name('delta', l, tex)} {_transpose(_name('a', l - 1, tex), tex)}" + plus_decay(tex, False),
                                  f"{column(n.delta[l], tex)} {row(n.a[l - 1], tex)}" + plus_decay(tex, True),
                                  matrix(n.grad_W[l], tex)))
    lines.math(lambda tex: f"{partial('L', _name('b', l, tex), tex)} = {_name('delta', l, tex)} = {column(n.grad_b[l], tex)}")
    if l == 1:
        lines.say("Here a⁽⁰⁾ is the input x.", r"Here $a^{(0)}$ is the input $x$.")
    return lines.step(f"Gradients of layer {l}: ∂L/∂{symbol('W', l)} = {symbol('delta', l)}({symbol('a', l - 1)})ᵀ",
                      q(Kind.WEIGHT_GRADIENT, l), q(Kind.BIAS_GRADIENT, l))


def update(sol: NetworkSolution) -> Step:
    net, n = sol.network, sol.numeric
    eta = net.learning_rate
    lines = Lines()
    lines.say(f"One step of gradient descent on every weight at once, η = {num.pretty(eta)}:",
              rf"One step of gradient descent on every weight at once, $\eta = {num.latex(eta)}$:")
    for l, layer in enumerate(net.layers, 1):
        for letter, given, gradient, new, shown in (("W", layer.weights, n.grad_W[l], n.W_new[l], matrix),
                                                     ("b", layer.bias, n.grad_b[l], n.b_new[l], column)):
            lines.math(lambda tex, l=l, letter=letter, given=given, gradient=gradient, new=new, shown=shown: _chain(
                tex, _name(letter, l, tex), r"\leftarrow" if tex else "←",
                f"{shown(given, tex)} {'-' if tex else '−'} {number(eta, tex)}{times(tex)}{shown(gradient, tex)}",
                shown(new, tex)))
    return lines.step("The update, whole matrices at once", *(q(kind, l) for l in range(1, sol.depth + 1)
                                                             for kind in (Kind.WEIGHT_NEW, Kind.BIAS_NEW)))

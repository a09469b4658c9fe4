"""The worked steps of a conv1d layer: the convolution position by position, and the kernel's
gradient as the sum over positions, each with its numbers (engine/rules.py, the conv1d rules).

zᵢ = Σⱼ kⱼ·a⁽ˡ⁻¹⁾ᵢ₊ⱼ + b: one kernel k and one bias b, shared by every position i, so each kⱼ
reaches the loss through every zᵢ, and ∂L/∂kⱼ = Σᵢ δᵢ·a⁽ˡ⁻¹⁾ᵢ₊ⱼ, ∂L/∂b = Σᵢ δᵢ.
"""

from __future__ import annotations

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import function, partial, symbol, times, value_text, vector
from backprop_tutor.worked.steps import Lines, Step

DETAIL_POSITIONS = 6  # positions written out in full; the rest are in the tables


def _sum_sign(tex: bool, over: str) -> str:
    return rf"\sum_{{{over}}} " if tex else "Σ" + {"i": "ᵢ", "j": "ⱼ"}[over] + " "


def conv_forward(sol: NetworkSolution, l: int) -> Step:
    net, n = sol.network, sol.numeric
    layer = net.layers[l - 1]
    K, positions = len(layer.kernel), layer.units
    lines = Lines()
    lines.say(f"A conv1d layer: one kernel k = {vector(layer.kernel, False)} and one bias b = {num.pretty(layer.bias[0])}, "
              f"shared by every position; stride 1, no padding, so {len(n.a[l - 1])} inputs give "
              f"{len(n.a[l - 1])} − {K} + 1 = {positions} positions. At position i the kernel covers "
              f"{symbol('a', l - 1, 'i')} … {symbol('a', l - 1, f'i+{K - 1}')}:",
              rf"A conv1d layer: one kernel $k = {vector(layer.kernel, True)}$ and one bias "
              rf"$b = {num.latex(layer.bias[0])}$, shared by every position; stride 1, no padding, so "
              rf"{len(n.a[l - 1])} inputs give ${len(n.a[l - 1])} - {K} + 1 = {positions}$ positions. At position $i$ "
              rf"the kernel covers $a^{{({l - 1})}}_i \dots a^{{({l - 1})}}_{{i+{K - 1}}}$:")
    lines.math(lambda tex: f"{symbol('z', l, 'i', tex=tex)} = {_sum_sign(tex, 'j')}{symbol('k', None, 'j', tex=tex)}"
               f"{times(tex)}{symbol('a', l - 1, 'i+j', tex=tex)} + b")
    for i in range(min(positions, DETAIL_POSITIONS)):
        def weighted(tex: bool, i=i) -> str:
            terms = [f"{symbol('k', None, j, tex=tex)}{times(tex)}{symbol('a', l - 1, i + j, tex=tex)}" for j in range(K)]
            numbers = [num.product([layer.kernel[j], n.a[l - 1][i + j]], tex=tex) for j in range(K)]
            return (f"{symbol('z', l, i, tex=tex)} = " + " + ".join(terms) + " + b = "
                    + num.signed_sum(numbers + [value_text(layer.bias[0], tex)], tex) + f" = {value_text(n.z[l][i], tex)}")
        lines.math(weighted)
        lines.math(lambda tex, i=i: f"{symbol('a', l, i, tex=tex)} = {function(layer.activation, tex)}"
                   f"({value_text(n.z[l][i], tex)}) = {value_text(n.a[l][i], tex)}")
    _more(lines, positions)
    if l == 1:
        lines.say(f"Here a⁽⁰⁾ is the input x = {vector(net.input, False)}.",
                  rf"Here $a^{{(0)}}$ is the input $x = {vector(net.input, True)}$.")
    return lines.step(f"Forward pass, layer {l} (conv1d): the kernel slid along the input", q(Kind.Z, l), q(Kind.A, l))


def conv_gradients(sol: NetworkSolution, l: int) -> Step:
    n = sol.numeric
    layer = sol.network.layers[l - 1]
    K, positions = len(layer.kernel), layer.units
    dK, db = sol.value(q(Kind.KERNEL_GRADIENT, l)), sol.value(q(Kind.BIAS_GRADIENT, l, 0))
    lines = Lines()
    lines.say("Each kⱼ is used at every position (it multiplies a⁽ˡ⁻¹⁾ᵢ₊ⱼ in every zᵢ), so its gradient sums over the "
              "positions i; so does the shared bias's:",
              r"Each $k_j$ is used at every position (it multiplies $a^{(l-1)}_{i+j}$ in every $z_i$), so its gradient "
              r"sums over the positions $i$; so does the shared bias's:")
    lines.math(lambda tex: f"{partial('L', symbol('k', None, 'j', tex=tex), tex)} = {_sum_sign(tex, 'i')}"
               f"{symbol('delta', l, 'i', tex=tex)}{times(tex)}{symbol('a', l - 1, 'i+j', tex=tex)}"
               + (r",\quad " if tex else ",  ") + f"{partial('L', 'b', tex)} = {_sum_sign(tex, 'i')}"
               f"{symbol('delta', l, 'i', tex=tex)}")
    shown = range(min(positions, DETAIL_POSITIONS))
    for j in range(K):
        def kernel(tex: bool, j=j) -> str:
            terms = " + ".join(f"{symbol('delta', l, i, tex=tex)}{times(tex)}{symbol('a', l - 1, i + j, tex=tex)}"
                               for i in shown)
            numbers = num.signed_sum([num.product([n.delta[l][i], n.a[l - 1][i + j]], tex=tex) for i in shown], tex)
            more = (r" + \dots" if tex else " + …") if positions > DETAIL_POSITIONS else ""
            return (f"{partial('L', symbol('k', None, j, tex=tex), tex)} = {terms}{more} = {numbers}{more}"
                    f" = {value_text(dK[j], tex)}")
        lines.math(kernel)
    lines.math(lambda tex: f"{partial('L', 'b', tex)} = "
               + num.signed_sum([value_text(n.delta[l][i], tex) for i in shown], tex)
               + ((r" + \dots" if tex else " + …") if positions > DETAIL_POSITIONS else "") + f" = {value_text(db, tex)}")
    return lines.step(f"Gradients of layer {l} (conv1d): the kernel's sums over positions",
                      q(Kind.KERNEL_GRADIENT, l), q(Kind.BIAS_GRADIENT, l))


def conv_update(lines: Lines, sol: NetworkSolution, l: int) -> None:
    """k ← k − η·∂L/∂k for each kⱼ, and the shared b, inside the update step."""
    net = sol.network
    layer = net.layers[l - 1]
    dK, new = sol.value(q(Kind.KERNEL_GRADIENT, l)), sol.value(q(Kind.KERNEL_NEW, l))
    minus = {True: "-", False: "−"}
    for j, k in enumerate(layer.kernel):
        lines.math(lambda tex, j=j, k=k: f"{symbol('k', None, j, tex=tex)} = {value_text(k, tex)} {minus[tex]} "
                   f"{num.product([net.learning_rate, dK[j]], tex=tex)} = {value_text(new[j], tex)}")
    db, b_new = sol.numeric.grad_b[l][0], sol.numeric.b_new[l][0]
    lines.math(lambda tex: f"b = {value_text(layer.bias[0], tex)} {minus[tex]} "
               f"{num.product([net.learning_rate, db], tex=tex)} = {value_text(b_new, tex)}")


def _more(lines: Lines, positions: int) -> None:
    if positions > DETAIL_POSITIONS:
        lines.say(f"… and likewise for the other {positions - DETAIL_POSITIONS} positions (all values are in the tables).")

"""Residual (skip) connections in the worked solution: the forward sum and the two backward paths.

A layer with `skip: k` outputs a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ᵏ⁾, so a⁽ᵏ⁾ reaches the loss along two paths:
through the layers above it, and straight through the skip, where ∂a⁽ˡ⁾/∂a⁽ᵏ⁾ = 1. The step at
the skip's source writes ∂L/∂a⁽ᵏ⁾ = (path 1) + (path 2) with the numbers, then δ⁽ᵏ⁾ = f′·∂L/∂a⁽ᵏ⁾.
Every number is the engine's (engine/rules.py: skip_activation, skip_gradient, skip_delta).
"""

from __future__ import annotations

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.rules import skipped_to
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import function, partial, prime, symbol, times, value_text
from backprop_tutor.worked.steps import Lines, Step


def _da(l: int, k, tex: bool) -> str:
    return partial("L", symbol("a", l, k, tex=tex), tex)


def skip_activation(sol: NetworkSolution, l: int, j: int, tex: bool) -> str:
    """a⁽ˡ⁾ⱼ = f(z⁽ˡ⁾ⱼ) + a⁽ᵏ⁾ⱼ = f(−0.077) + 0.462 = −0.0771 + 0.462 = 0.385."""
    net, n = sol.network, sol.numeric
    name, k = net.layers[l - 1].activation, net.layers[l - 1].skip
    fz = n.a[l][j] - n.a[k][j]  # f(z⁽ˡ⁾ⱼ): the engine's a less the skipped a it added
    return (f"{symbol('a', l, j, tex=tex)} = {function(name, tex)}({symbol('z', l, j, tex=tex)}) + "
            f"{symbol('a', k, j, tex=tex)} = {function(name, tex)}({value_text(n.z[l][j], tex)}) + "
            f"{num.factor(n.a[k][j], tex=tex)} = {num.signed_sum([value_text(fz, tex), n.a[k][j]], tex)} = "
            f"{value_text(n.a[l][j], tex)}")


def skip_delta_step(sol: NetworkSolution, l: int) -> Step:
    """The hidden delta at a skip's source l: ∂L/∂a⁽ˡ⁾ along both paths, then δ⁽ˡ⁾ = f′·∂L/∂a⁽ˡ⁾."""
    net, n = sol.network, sol.numeric
    name, above, receivers = net.layers[l - 1].activation, net.layers[l], skipped_to(net, l)
    lines = Lines()
    def intro(tex: bool) -> str:
        a = (lambda layer: f"${symbol('a', layer, tex=True)}$") if tex else (lambda layer: symbol("a", layer))
        one = rf"$\partial a/\partial a^{{({l})}} = 1$" if tex else f"∂a/∂{symbol('a', l)} = 1"
        return (f"{a(l)} reaches the loss along two paths: through layer {l + 1} (its weights), and through the skip "
                f"into {', '.join(a(m) for m in receivers)} = f(z) + {a(l)}, where {one}. "
                "The gradients from both paths add:")
    lines.say(intro(False), intro(True))
    lines.math(lambda tex: f"{_da(l, 'k', tex)} = "
               + (rf"\sum_j w^{{({l + 1})}}_{{jk}} \delta^{{({l + 1})}}_j" if tex
                  else f"Σⱼ {symbol('w', l + 1, 'jk')} {symbol('delta', l + 1, 'j')}")
               + "".join(f" + {_da(m, 'k', tex)}" for m in receivers))
    for k in range(len(n.a[l])):
        for m in receivers:  # the gradient arriving at the skip's end, as the layers above gave it
            lines.math(lambda tex, m=m, k=k: f"{_da(m, k, tex)} = {value_text(sol.value(q(Kind.ACTIVATION_GRADIENT, m, k)), tex)}"
                       + (" (the loss's derivative)" if m == sol.depth and not tex else ""))

        def paths(tex: bool, k=k) -> str:
            layers_path = num.signed_sum([num.product([above.weights[j][k], n.delta[l + 1][j]], tex=tex)
                                          for j in range(above.units)], tex)
            skip_values = [sol.value(q(Kind.ACTIVATION_GRADIENT, m, k)) for m in receivers]
            total = sol.value(q(Kind.ACTIVATION_GRADIENT, l, k))
            through = total - sp.Add(*skip_values)  # the engine's two paths, not Σ w·δ written again here
            if above.units > 1:
                layers_path = rf"\left({layers_path}\right)" if tex else f"({layers_path})"
            return (f"{_da(l, k, tex)} = {num.signed_sum([layers_path, *skip_values], tex)}"
                    + f" = {num.signed_sum([value_text(through, tex), *skip_values], tex)}"
                    + f" = {value_text(total, tex)}")
        lines.math(paths)
        lines.math(lambda tex, k=k: f"{symbol('delta', l, k, tex=tex)} = {prime(name, tex)}({symbol('z', l, k, tex=tex)})"
                   f"{times(tex)}{_da(l, k, tex)} = {num.product([n.slope[l][k], sol.value(q(Kind.ACTIVATION_GRADIENT, l, k))], tex=tex)}"
                   f" = {value_text(n.delta[l][k], tex)}")
    lines.say("Leaving out the skip's path would keep only the first sum: the skip is a second road for the gradient, "
              "which is why deep residual networks still train.")
    return lines.step(f"Backward pass: {symbol('delta', l)} at the skip's source (two paths add)",
                      q(Kind.ACTIVATION_GRADIENT, l), q(Kind.DELTA, l))

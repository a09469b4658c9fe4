"""The worked solution of a network, as ordered steps with the numbers substituted.

Each formula is written by one function taking `tex`, called once for the Unicode text and once
for LaTeX, so the two versions cannot drift apart. Layers wider than DETAIL_UNITS show the
first units in full and say where the rest are (every value is in the tables).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import kinks
from backprop_tutor.engine import losses
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.quantities import Kind, QuantityId, q
from backprop_tutor.engine.rules import softmax_jacobian_entry
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.engine.cancellation import cancelled_delta
from backprop_tutor.worked import matrix_form as matrix_form_steps
from backprop_tutor.engine.chain import is_deep_chain
from backprop_tutor.worked.deep_chain import chain_step
from backprop_tutor.engine.rules import has_skips, skipped_to
from backprop_tutor.worked.residual import skip_activation, skip_delta_step
from backprop_tutor.engine.rules import conv_layers
from backprop_tutor.worked.conv1d import conv_forward, conv_gradients, conv_update
from backprop_tutor.worked.optimizer import decay_lines, decay_rule_line, decayed_gradient, optimizer_steps
from backprop_tutor.worked.notation import (apart, formula, function, parameter_letter, parameter_symbol, partial,
                                            prime, symbol, sympy_unicode, times, value_text, vector)
from backprop_tutor.worked.slopes import substituted, unit_slope
from backprop_tutor.worked.steps import Lines as _Lines, Step, WhyStep
from backprop_tutor.worked.texescape import escape

DETAIL_UNITS = 4


def network_steps(sol: NetworkSolution, matrix_form: bool = False) -> tuple[Step, ...]:
    """`matrix_form`: the backward pass and the update with whole vectors and matrices
    (worked/matrix_form.py), for a problem that asks for them; otherwise unit by unit. A mini-batch
    is worked example by example (worked/minibatch.py), unit by unit."""
    if sol.network.examples is not None:
        from backprop_tutor.worked.minibatch import minibatch_steps

        return minibatch_steps(sol)
    if sol.network.recurrent is not None:
        return _recurrent(sol)
    L = sol.depth
    softmax = sol.network.layers[-1].activation == activations.SOFTMAX
    steps = [_setup(sol)]
    steps += [conv_forward(sol, l) if l in conv_layers(sol.network) else _forward_layer(sol, l) for l in range(1, L + 1)]
    steps.append(_loss(sol))
    steps.append(_why(sol))
    steps.append(_loss_gradient(sol))  # its own step: a part may ask ∂L/∂o before δ, and see it alone
    steps.append(_output_delta(sol))
    if softmax:
        steps.append(_softmax_shortcut(sol))
    if matrix_form and not has_skips(sol.network):  # a skip's second path is worked unit by unit
        steps += [matrix_form_steps.output_delta(sol)] if not softmax else []
        steps += [matrix_form_steps.hidden_delta(sol, l) for l in range(L - 1, 0, -1)]
        steps += [matrix_form_steps.gradients(sol, l) for l in range(1, L + 1)]
        steps += optimizer_steps(sol) if sol.network.optimizer else [matrix_form_steps.update(sol)]
    else:
        for l in range(L - 1, 0, -1):  # the slopes apart from δ: a part may ask f′ before δ, and see it alone
            steps += [_hidden_slopes(sol, l), skip_delta_step(sol, l) if skipped_to(sol.network, l) else _hidden_delta(sol, l)]
        steps += [conv_gradients(sol, l) if l in conv_layers(sol.network) else _gradients(sol, l) for l in range(1, L + 1)]
        if is_deep_chain(sol.network):  # the product δ⁽¹⁾ is, and the gradient shrinking (or not) down the chain
            steps.append(chain_step(sol))
        steps += optimizer_steps(sol) if sol.network.optimizer else [_update(sol)]
    steps.append(_nudges(sol))
    steps.append(_loss_after(sol))
    return tuple(steps)


def _units(n: int) -> range:
    return range(min(n, DETAIL_UNITS))


def _more(lines: _Lines, n: int, what: str) -> None:
    if n > DETAIL_UNITS:
        lines.say(f"… and likewise for the other {n - DETAIL_UNITS} {what} (all values are in the tables).")


def _act_formula(name: str, arg: str, tex: bool) -> str:
    return f"{function(name, tex)}({arg})"


def _setup(sol: NetworkSolution) -> Step:
    net = sol.network
    lines = _Lines()
    sizes = "-".join(str(s) for s in net.sizes)
    acts = ", ".join(f"layer {l}: {layer.activation}" for l, layer in enumerate(net.layers, 1))
    lines.say(f"A {sizes} network ({acts}); layers are numbered 0 (input) to {sol.depth} (output).")
    lines.say("w⁽ˡ⁾ⱼₖ is the weight from unit k of layer l−1 to unit j of layer l; b⁽ˡ⁾ⱼ is the bias of unit j.",
              r"$w^{(l)}_{jk}$ is the weight from unit $k$ of layer $l-1$ to unit $j$ of layer $l$; "
              r"$b^{(l)}_j$ is the bias of unit $j$.")
    loss = losses.LOSSES[net.loss]
    lines.say(f"Loss {net.loss}: {loss.unicode} ({loss.factor_note}).",
              rf"Loss \texttt{{{escape(net.loss)}}}: ${loss.latex}$ ({escape(loss.factor_note)}).")
    lines.say(f"Learning rate η = {num.pretty(net.learning_rate)}.", rf"Learning rate $\eta = {num.latex(net.learning_rate)}$.")
    for name in dict.fromkeys(layer.activation for layer in net.layers):
        if name == activations.SOFTMAX:
            lines.say(activations.SOFTMAX_UNICODE, f"${activations.SOFTMAX_LATEX}$")
            continue
        act = activations.ELEMENTWISE[name]
        lines.say(f"{act.unicode};  {act.derivative_unicode}" + (f"  ({act.kink_note})" if act.kink_note else ""),
                  f"${act.latex}$; ${act.derivative_latex}$" + (f" ({escape(act.kink_note)})" if act.kink_note else ""))
    return lines.step("The network and its conventions")


def _forward_layer(sol: NetworkSolution, l: int) -> Step:
    net, n = sol.network, sol.numeric
    layer = net.layers[l - 1]
    lines = _Lines()
    for j in _units(layer.units):
        def weighted(tex: bool, j=j) -> str:
            terms = [f"{symbol('w', l, j, k, tex=tex)}{times(tex)}{symbol('a', l - 1, k, tex=tex)}"
                     for k in range(len(layer.weights[j]))]
            numbers = [num.product([layer.weights[j][k], n.a[l - 1][k]], tex=tex) for k in range(len(layer.weights[j]))]
            return (f"{symbol('z', l, j, tex=tex)} = " + " + ".join(terms) + f" + {symbol('b', l, j, tex=tex)}"
                    + " = " + num.signed_sum(numbers + [value_text(layer.bias[j], tex)], tex) + f" = {value_text(n.z[l][j], tex)}")
        lines.math(weighted)
        if layer.skip is not None:  # a residual layer: a = f(z) + a⁽ᵏ⁾
            lines.math(lambda tex, j=j: skip_activation(sol, l, j, tex))
        elif layer.activation != activations.SOFTMAX:
            lines.math(lambda tex, j=j: f"{symbol('a', l, j, tex=tex)} = {_act_formula(layer.activation, symbol('z', l, j, tex=tex), tex)}"
                       f" = {_act_formula(layer.activation, value_text(n.z[l][j], tex), tex)} = {value_text(n.a[l][j], tex)}")
    _more(lines, layer.units, "units")
    if layer.activation == activations.SOFTMAX:
        total = activations.softmax_sum(n.z[l])
        lines.say(f"Softmax: oⱼ = e^(zⱼ) / Σₖ e^(zₖ), with Σₖ e^(zₖ) = {num.pretty(total)}.",
                  rf"Softmax: $o_j = e^{{z_j}} / \sum_k e^{{z_k}}$, with $\sum_k e^{{z_k}} = {num.latex(total)}$.")
        for j in _units(layer.units):
            lines.math(lambda tex, j=j: f"{symbol('a', l, j, tex=tex)} = "
                       + (rf"\frac{{e^{{{value_text(n.z[l][j], tex)}}}}}{{{num.latex(total)}}}" if tex
                          else f"e^({value_text(n.z[l][j], tex)}) / {num.pretty(total)}")
                       + f" = {value_text(n.a[l][j], tex)}")
    if l == 1:
        lines.say(f"Here a⁽⁰⁾ is the input x = {vector(net.input)}.", rf"Here $a^{{(0)}}$ is the input $x = {vector(net.input, True)}$.")
    return lines.step(f"Forward pass, layer {l}: weighted sums {symbol('z', l)} and activations {symbol('a', l)}",
                      q(Kind.Z, l), q(Kind.A, l))


def _loss(sol: NetworkSolution) -> Step:
    net, n = sol.network, sol.numeric
    loss = losses.LOSSES[net.loss]
    o, t = n.a[-1], net.target
    lines = _Lines()
    lines.say(f"{loss.unicode}, with o = {symbol('a', sol.depth)} and the target t = {vector(t)}.",
              rf"${loss.latex}$, with $o = a^{{({sol.depth})}}$ and the target $t = {vector(t, True)}$.")
    # with weight decay, this is the data loss, and the decay term comes on top
    data = sol.value(q(Kind.DATA_LOSS)) if net.weight_decay else n.loss
    name = (lambda tex: r"L_{\text{data}}" if tex else "L_data") if net.weight_decay else (lambda tex: "L")
    if len(o) <= 2 * DETAIL_UNITS:
        lines.math(lambda tex: f"{name(tex)} = {loss.substituted(o, t, tex)} = {value_text(data, tex)}")
    else:
        lines.math(lambda tex: f"{name(tex)} = {value_text(data, tex)}")
    if net.weight_decay:
        decay_lines(lines, sol)
    return lines.step("The loss", q(Kind.LOSS), q(Kind.DECAY))


def _why(sol: NetworkSolution) -> WhyStep:
    lines = _Lines()
    net = sol.network
    lines.say("To lower L we must know, for every weight w, how much L changes when w is nudged: "
              "the ratio ΔL/Δw (change in L over change in w) as the nudge shrinks, which is ∂L/∂w.",
              r"To lower $L$ we must know, for every weight $w$, how much $L$ changes when $w$ is "
              r"nudged: the ratio $\Delta L / \Delta w$ as the nudge $\Delta w$ shrinks, which is $\partial L/\partial w$.")
    lines.say(f"Gradient descent then moves each weight against it: w ← w − η·∂L/∂w with η = {num.pretty(net.learning_rate)}, "
              "so a weight whose increase would raise the loss is decreased, and vice versa.",
              r"Gradient descent then moves each weight against it: $w \leftarrow w - \eta \, \partial L/\partial w$ with "
              rf"$\eta = {num.latex(net.learning_rate)}$, so a weight whose increase would raise the loss is decreased, "
              "and vice versa.")
    lines.say("Backpropagation finds all the ∂L/∂w at once with the chain rule, from the output back: "
              "first δ = ∂L/∂z for each layer, each reusing the δ of the layer above.",
              r"Backpropagation finds all the $\partial L/\partial w$ at once with the chain rule, from the output back: "
              r"first $\delta = \partial L/\partial z$ for each layer, each reusing the $\delta$ of the layer above.")
    step = lines.step("Why we need the derivatives")
    return WhyStep(step.title, step.text, step.latex, step.computes)


def _loss_gradient(sol: NetworkSolution) -> Step:
    net, n = sol.network, sol.numeric
    L = sol.depth
    lines = _Lines()
    lines.say("The backward pass starts at the loss: how L changes with each output.",
              "The backward pass starts at the loss: how $L$ changes with each output.")
    for j in _units(len(n.a[-1])):
        lines.math(lambda tex, j=j: f"{partial('L', symbol('a', L, j, tex=tex), tex)} = "
                   + _gradient_formula(net.loss, len(n.a[-1]), j, tex) + f" = {value_text(n.dL_da[j], tex)}")
    _more(lines, len(n.a[-1]), "outputs")
    return lines.step(f"Backward pass: the loss's derivative ∂L/∂{symbol('a', L)}", q(Kind.LOSS_GRADIENT))


def _output_delta(sol: NetworkSolution) -> Step:
    net, n = sol.network, sol.numeric
    L = sol.depth
    name = net.layers[-1].activation
    lines = _Lines()
    if name == activations.SOFTMAX:
        lines.say("Softmax couples the outputs: every oⱼ = e^(zⱼ)/S, with S = Σᵢ e^(zᵢ), depends on every zₖ. "
                  "The quotient rule, with ∂e^(zⱼ)/∂zₖ = e^(zⱼ) when j = k (else 0) and ∂S/∂zₖ = e^(zₖ), gives "
                  "∂oⱼ/∂zₖ = (e^(zⱼ)·[j = k]·S − e^(zⱼ)e^(zₖ))/S² = oⱼ([j = k] − oₖ): "
                  "oₖ(1 − oₖ) when j = k, −oⱼoₖ otherwise. So the chain rule sums over j:",
                  r"Softmax couples the outputs: every $o_j = e^{z_j}/S$, with $S = \sum_i e^{z_i}$, depends on every "
                  r"$z_k$. The quotient rule, with $\partial e^{z_j}/\partial z_k = e^{z_j}$ when $j = k$ (else 0) and "
                  r"$\partial S/\partial z_k = e^{z_k}$, gives $\frac{\partial o_j}{\partial z_k} = "
                  r"\frac{e^{z_j}[j = k]\,S - e^{z_j} e^{z_k}}{S^2} = o_j([j = k] - o_k)$: $o_k(1 - o_k)$ when $j = k$, "
                  r"$-o_j o_k$ otherwise. So the chain rule sums over $j$:")
        size = len(n.a[-1])
        for k in _units(size):
            column = [softmax_jacobian_entry(n.a[L], j, k) for j in range(size)]  # ∂oⱼ/∂zₖ, the shown k only
            for j in range(size):
                lines.math(lambda tex, j=j, k=k, entry=column[j]: _jacobian_entry(n.a[L], j, k, entry, tex))

            def chain(tex: bool, k=k, column=column) -> str:
                terms = [num.product([n.dL_da[j], column[j]], tex=tex) for j in range(size)]
                head = (rf"\delta^{{({L})}}_{{{k}}} = \sum_j \frac{{\partial L}}{{\partial o_j}} \frac{{\partial o_j}}{{\partial z_{{{k}}}}}"
                        if tex else f"{symbol('delta', L, k)} = Σⱼ ∂L/∂oⱼ · ∂oⱼ/∂z{symbol('', None, k)}")
                return f"{head} = {num.signed_sum(terms, tex)} = {value_text(n.delta[L][k], tex)}"
            lines.math(chain)
    else:
        lines.say(f"Chain rule: {symbol('delta', L, 'j')} = ∂L/∂{symbol('a', L, 'j')} · {prime(name)}({symbol('z', L, 'j')}).",
                  rf"Chain rule: $\delta^{{({L})}}_j = \frac{{\partial L}}{{\partial a^{{({L})}}_j}} \cdot {prime(name, True)}(z^{{({L})}}_j)$.")
        slopes = n.slope[L]
        for j in _units(len(n.a[-1])):
            _slope(lines, sol, L, j)
            lines.math(lambda tex, j=j: f"{symbol('delta', L, j, tex=tex)} = {num.product([n.dL_da[j], slopes[j]], tex=tex)} = {value_text(n.delta[L][j], tex)}")
            _cancellation(lines, sol, j)
        _more(lines, len(n.a[-1]), "outputs")
    return lines.step(f"Backward pass: the output delta {symbol('delta', L)} = ∂L/∂{symbol('z', L)}",
                      q(Kind.SLOPE, L), q(Kind.DELTA, L))


def _jacobian_entry(p, j: int, k: int, entry: sp.Expr, tex: bool) -> str:
    """`∂p₁/∂z₀ = −p₁·p₀ = −0.3·0.5 = −0.15`, or on the diagonal `p₀(1 − p₀) = 0.5·0.5 = 0.25`:
    the softmax's derivative with the probabilities put in; `entry` is the engine's value."""
    pj, pk = (symbol("o", None, i, tex=tex) for i in (j, k))
    head = (rf"\frac{{\partial {pj}}}{{\partial {symbol('z', None, k, tex=True)}}}" if tex
            else f"∂{pj}/∂{symbol('z', None, k)}")
    minus = "-" if tex else "−"
    if j == k:
        rule = f"{pk}(1 {minus} {pk})"
        numbers = (f"{value_text(p[k], tex)}" + (r" \cdot " if tex else "·") + f"({num.difference(1, p[k], tex=tex)})"
                   + f" = {num.product([p[k], 1 - p[k]], tex=tex)}")
    else:
        rule = f"{minus}{pj}" + (r" \cdot " if tex else "·") + pk
        numbers = f"{minus}{num.product([p[j], p[k]], tex=tex)}"
    return f"{head} = {rule} = {numbers} = {value_text(entry, tex)}"


def _softmax_shortcut(sol: NetworkSolution) -> Step:
    net, n = sol.network, sol.numeric
    L = sol.depth
    lines = _Lines()
    total = sum(net.target)
    if losses.LOSSES[net.loss].softmax_shortcut and total == 1:
        lines.say("With cross-entropy and targets that sum to 1, the sum above collapses: ∂L/∂zₖ = oₖ − tₖ.",
                  r"With cross-entropy and targets that sum to 1, the sum above collapses: $\partial L/\partial z_k = o_k - t_k$.")
        # The collapse written out, as the sigmoid + bce cancellation is: ∂L/∂oⱼ = −tⱼ/oⱼ meets oⱼ(δⱼₖ − oₖ).
        lines.say("Σⱼ (−tⱼ/oⱼ)·∂oⱼ/∂zₖ = −tₖ(1 − oₖ) + Σⱼ≠ₖ tⱼoₖ = −tₖ + oₖ·Σⱼ tⱼ = oₖ − tₖ, since Σⱼ tⱼ = 1:",
                  r"$\sum_j \left(-\frac{t_j}{o_j}\right) \frac{\partial o_j}{\partial z_k} = -t_k(1 - o_k) + \sum_{j \ne k} t_j o_k"
                  r" = -t_k + o_k \sum_j t_j = o_k - t_k$, since $\sum_j t_j = 1$:")
        for k in _units(len(net.target)):
            lines.math(lambda tex, k=k: f"{symbol('delta', L, k, tex=tex)} = {num.difference(n.a[L][k], net.target[k], tex=tex)} = "
                       f"{value_text(n.delta[L][k], tex)}")
        lines.say("Same numbers as the full chain: the shortcut is the chain rule, simplified.")
    else:
        lines.say(f"The shortcut δ = p − t holds for cross-entropy with targets summing to 1; here (loss {net.loss}, "
                  f"Σt = {num.pretty(total)}) the full chain above is the answer.")
    return lines.step("The softmax + cross-entropy shortcut", q(Kind.DELTA, L))


def _hidden_slopes(sol: NetworkSolution, l: int) -> Step:
    name, n = sol.network.layers[l - 1].activation, sol.numeric
    lines = _Lines()
    lines.say(f"Each unit of layer {l} passes its δ on through its local slope {prime(name)}(z), from the rule:",
              rf"Each unit of layer {l} passes its $\delta$ on through its local slope ${prime(name, True)}(z)$, from the rule:")
    for k in _units(len(n.slope[l])):
        _slope(lines, sol, l, k)
    _more(lines, len(n.slope[l]), "units")
    return lines.step(f"Backward pass: the local slopes {prime(name)}({symbol('z', l)})", q(Kind.SLOPE, l))


def _hidden_delta(sol: NetworkSolution, l: int) -> Step:
    net, n = sol.network, sol.numeric
    name = net.layers[l - 1].activation
    above = net.layers[l]
    slopes = n.slope[l]
    lines = _Lines()
    lines.say(f"Unit k of layer {l} feeds every unit j of layer {l + 1}, so its delta sums over them and reuses {symbol('delta', l + 1)}:",
              rf"Unit $k$ of layer {l} feeds every unit $j$ of layer {l + 1}, so its delta sums over them and reuses $\delta^{{({l + 1})}}$:")
    lines.math(lambda tex: f"{symbol('delta', l, 'k', tex=tex)} = {prime(name, tex)}({symbol('z', l, 'k', tex=tex)})"
               + (rf" \cdot \sum_j w^{{({l + 1})}}_{{jk}} \delta^{{({l + 1})}}_j" if tex else f" · Σⱼ {symbol('w', l + 1, 'jk')} {symbol('delta', l + 1, 'j')}"))
    for k in _units(len(slopes)):
        def chain(tex: bool, k=k) -> str:
            terms = [num.product([above.weights[j][k], n.delta[l + 1][j]], tex=tex) for j in range(above.units)]
            inner = num.signed_sum(terms, tex)
            if above.units > 1:
                inner = rf"\left({inner}\right)" if tex else f"({inner})"
            return (f"{symbol('delta', l, k, tex=tex)} = {value_text(slopes[k], tex)}{times(tex)}{inner}"
                    f" = {value_text(n.delta[l][k], tex)}")
        lines.math(chain)
    _more(lines, len(slopes), "units")
    return lines.step(f"Backward pass: hidden delta {symbol('delta', l)} (reuses {symbol('delta', l + 1)})",
                      q(Kind.DELTA, l))


def _slope(lines: _Lines, sol: NetworkSolution, l: int, j: int) -> None:
    """f′ at unit j of layer l from the textbook form, numbers put in (worked/slopes.py)."""
    lines.math(lambda tex: unit_slope(sol, l, j, tex))


def _cancellation(lines: _Lines, sol: NetworkSolution, j: int) -> None:
    """Where f′ cancels the denominator of ∂L/∂o (sigmoid with bce: o(1 − o)), the simplification
    a teacher shows, δ = ∂L/∂o · f′(z) = (o − t)/(o(1 − o)) · o(1 − o) = o − t, then its numbers."""
    net, n = sol.network, sol.numeric
    shown = cancelled_delta(net.loss, net.layers[-1].activation, len(net.target), j)
    if shown is None:
        return
    o, t = losses.symbols(len(net.target))
    L = sol.depth
    factor = "" if shown.factor == 1 else formula(shown.factor)

    def simplification(tex: bool) -> str:
        difference, slope = formula(shown.difference, tex), formula(shown.slope, tex)
        if tex:
            scale = "" if shown.factor == 1 else sp.latex(shown.factor) + r" \cdot "
            quotient = rf"{scale}\frac{{{difference}}}{{{slope}}} \cdot {slope}"
        else:
            quotient = (f"{factor}·" if factor else "") + f"({difference})/({slope}) · {slope}"
        numbers = substituted(shown.result, {o[j]: n.a[L][j], t[j]: net.target[j]}, tex)[0]
        return (f"{symbol('delta', L, j, tex=tex)} = {quotient} = {formula(shown.result, tex)} = {formula(numbers, tex)}"
                f" = {value_text(n.delta[L][j], tex)}")

    lines.say("The slope cancels the denominator of ∂L/∂o, which is why δ is so simple:",
              r"The slope cancels the denominator of $\partial L/\partial o$, which is why $\delta$ is so simple:")
    lines.math(simplification)


def _gradients(sol: NetworkSolution, l: int) -> Step:
    n = sol.numeric
    lines = _Lines()
    lines.math(lambda tex: f"{partial('L', symbol('w', l, 'jk', tex=tex), tex)} = {symbol('delta', l, 'j', tex=tex)}"
               f"{times(tex)}{symbol('a', l - 1, 'k', tex=tex)}{apart(tex)}"
               f"{partial('L', symbol('b', l, 'j', tex=tex), tex)} = {symbol('delta', l, 'j', tex=tex)}")
    if sol.network.weight_decay:
        decay_rule_line(lines)
    for j in _units(len(n.delta[l])):
        for k in _units(len(n.a[l - 1])):
            if sol.network.weight_decay:
                lines.math(lambda tex, j=j, k=k: decayed_gradient(sol, l, j, k, tex))
                continue
            lines.math(lambda tex, j=j, k=k: f"{partial('L', symbol('w', l, j, k, tex=tex), tex)} = "
                       f"{num.product([n.delta[l][j], n.a[l - 1][k]], tex=tex)} = {value_text(n.grad_W[l][j][k], tex)}")
        lines.math(lambda tex, j=j: f"{partial('L', symbol('b', l, j, tex=tex), tex)} = {value_text(n.grad_b[l][j], tex)}")
    _more(lines, len(n.delta[l]), "units")
    return lines.step(f"Gradients of layer {l}", q(Kind.WEIGHT_GRADIENT, l), q(Kind.BIAS_GRADIENT, l))


def _update(sol: NetworkSolution) -> Step:
    net, n = sol.network, sol.numeric
    lines = _Lines()
    lines.say(f"One step of gradient descent with η = {num.pretty(net.learning_rate)}: w ← w − η·∂L/∂w, b ← b − η·∂L/∂b.",
              rf"One step of gradient descent with $\eta = {num.latex(net.learning_rate)}$: "
              r"$w \leftarrow w - \eta \, \partial L/\partial w$, $b \leftarrow b - \eta \, \partial L/\partial b$.")
    for l, layer in enumerate(net.layers, 1):
        if layer.kernel is not None:
            conv_update(lines, sol, l)
            continue
        for j in _units(layer.units):
            for k in _units(len(layer.weights[j])):
                lines.math(lambda tex, l=l, j=j, k=k, w=layer.weights[j][k]: f"{symbol('w', l, j, k, tex=tex)} = "
                           f"{value_text(w, tex)} − {num.product([net.learning_rate, n.grad_W[l][j][k]], tex=tex)} = {value_text(n.W_new[l][j][k], tex)}"
                           .replace("−", "-" if tex else "−"))
            lines.math(lambda tex, l=l, j=j, v=layer.bias[j]: f"{symbol('b', l, j, tex=tex)} = "
                       f"{value_text(v, tex)} {'-' if tex else '−'} {num.product([net.learning_rate, n.grad_b[l][j]], tex=tex)} = {value_text(n.b_new[l][j], tex)}")
        _more(lines, layer.units, f"units of layer {l}")
    return lines.step("The update", *(q(kind, l) for l in range(1, sol.depth + 1)
                                      for kind in (Kind.WEIGHT_NEW, Kind.BIAS_NEW, Kind.KERNEL_NEW)))


def _nudges(sol: NetworkSolution) -> Step:
    """Nudge ratios beside the derivatives. Where a unit's z sits exactly at a kink of its
    activation (relu at 0), a check whose ratios from the right and from the left part shows
    both sides and says that ∂L/∂w there is a convention, not a limit."""
    lines = _Lines()
    kinked = kinks.network_kinks(sol)
    two_sided = kinks.sided_checks(sol)
    intro = ("Check the derivatives by nudging: change one weight by h, recompute the loss, and compare the ratio "
             "(L(w+h) − L(w))/h with ∂L/∂w. ",
             r"Check the derivatives by nudging: change one weight by $h$, recompute the loss, and compare the ratio "
             r"$\bigl(L(w+h) - L(w)\bigr)/h$ with $\partial L/\partial w$. ")
    if not kinked:
        lines.say(intro[0] + "As h shrinks the ratio becomes the derivative.",
                  intro[1] + "As $h$ shrinks the ratio becomes the derivative.")
    else:
        where = ("Where the activations are smooth, the ratio becomes the derivative as h shrinks; but "
                 + "; ".join(f"{symbol('z', u.layer, u.unit)} = {num.pretty(u.kink.arguments[0])} sits exactly at the "
                             f"{'jump' if u.kink.jumps else 'kink'} of {u.activation}" for u in kinked)
                 + ", where it has no derivative. Backprop uses a convention there: "
                 + "; ".join(dict.fromkeys(u.kink.convention_text(num.pretty) for u in kinked)) + ".")
        lines.say(intro[0] + where, intro[1] + escape(where))

    def rows(check, p: str, ratios) -> None:
        for h, ratio in ratios:
            gap = ratio - check.derivative
            lines.math(lambda tex, h=h, ratio=ratio, gap=gap: f"h = {value_text(h, tex)}: "
                       + (rf"\frac{{L({p}+h) - L({p})}}{{h}}" if tex else f"(L({p}+h) − L({p}))/h")
                       + f" = {num.latex(ratio, 10) if tex else num.pretty(ratio, 10)}{apart(tex)}"
                       + ("difference " if not tex else r"\text{difference } ") + f"{value_text(gap, tex, 3)}")

    for check in sol.nudges:
        target, target_tex = parameter_symbol(check.parameter), parameter_symbol(check.parameter, tex=True)
        lines.say(f"{target}: ∂L/∂{target} = {num.pretty(check.derivative, 10)}",
                  rf"${target_tex}$: $\partial L/\partial {target_tex} = {num.latex(check.derivative, 10)}$")
        p = parameter_letter(check.parameter)
        ratios = [(h, ratio) for h, _, ratio, _ in check.rows]
        sided = two_sided.get(check.parameter)
        if sided is None:
            rows(check, p, ratios)
            continue
        rows(check, p, ratios + [(h, ratio) for h, _, ratio in sided.below])
        right, left = sided.right, sided.left

        def side(slope, which: str) -> str:
            return (f"from the {which} they approach {num.pretty(slope, 10)}" if slope is not None
                    else f"from the {which} they grow without bound (the loss jumps)")
        lines.say(f"The one-sided ratios differ: {side(right, 'right (h > 0)')}, {side(left, 'left (h < 0)')}. "
                  f"∂L/∂{target} = {num.pretty(check.derivative, 10)} is the convention's value, and gradient descent "
                  f"uses it, although a tiny change of {target} moves L at a different rate on each side.")
    title = ("Why it works: the derivative is the limit of the nudge ratio" if not kinked
             else "Why it works, and where it does not: nudge ratios on both sides of a kink")
    return lines.step(title, QuantityId(Kind.NUDGE))


def _loss_after(sol: NetworkSolution) -> Step:
    n = sol.numeric
    lines = _Lines()
    change = n.loss_after - n.loss
    lines.math(lambda tex: f"L = {value_text(n.loss, tex)} " + (r"\to" if tex else "→") + f" {value_text(n.loss_after, tex)}"
               + (rf"{apart(tex)}\Delta L" if tex else f"{apart(tex)}ΔL") + f" = {value_text(change, tex)}")
    if change < 0:
        lines.say("The loss went down: stepping every weight against its derivative moved downhill.")
    elif change > 0:
        lines.say("The loss went up: the learning rate is too large for this point, so the step overshot the valley.")
    else:
        lines.say("The loss did not move: every derivative is 0 (as with a step activation), so descent has no direction to follow.")
    two = sol.network.optimizer is not None and sol.network.optimizer.steps == 2
    return lines.step(f"The loss after {'two steps' if two else 'one step'}", q(Kind.LOSS_AFTER))


@lru_cache(maxsize=None)  # the same few formulas in every problem; printing them costs
def _gradient_formula(loss: str, n: int, j: int, tex: bool) -> str:
    """∂L/∂oⱼ as SymPy derived it, printed: `o₀ − t₀`, `(2/3)·(o₀ − t₀)` …"""
    gradient = losses.LOSSES[loss].gradient(n)[j]
    return sp.latex(gradient) if tex else sympy_unicode(gradient)


def _recurrent(sol: NetworkSolution) -> tuple[Step, ...]:
    """A recurrent cell unrolled over time (worked/recurrent.py), around the output's usual steps."""
    from backprop_tutor.worked import recurrent

    return tuple(recurrent.recurrent_steps(sol) + [_loss(sol), _why(sol), _loss_gradient(sol), _output_delta(sol)]
                 + recurrent.backward_steps(sol) + [_nudges(sol), _loss_after(sol)])

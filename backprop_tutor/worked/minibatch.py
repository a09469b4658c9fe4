"""The worked solution of a mini-batch: each example's forward and backward pass (the single
example's steps, applied to that example), then the batch's loss and gradients as the means of
the examples' with the sum written out in numbers, then the update and the checks of one example.
"""

from __future__ import annotations

from dataclasses import replace

from backprop_tutor.engine import activations
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.network import example_network
from backprop_tutor.engine.quantities import Kind, of_example, q
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked import network as single
from backprop_tutor.worked.notation import partial, sub, symbol, value_text, vector
from backprop_tutor.worked.steps import Lines, Step


def minibatch_steps(sol: NetworkSolution) -> tuple[Step, ...]:
    B = len(sol.network.examples)
    steps = [single._setup(sol), _batch_setup(sol)]
    for e in range(1, B + 1):
        steps += _example_steps(sol, e)
    steps.append(_batch_loss(sol))
    steps.append(single._why(sol))
    steps += [_batch_gradients(sol, l) for l in range(1, sol.depth + 1)]
    steps += [single._update(sol), single._nudges(sol), single._loss_after(sol)]
    return tuple(steps)


def _batch_setup(sol: NetworkSolution) -> Step:
    B = len(sol.network.examples)
    lines = Lines()
    lines.say(f"A mini-batch of B = {B} examples: the batch's loss is the mean of the examples' losses, "
              f"L = (1/B) Σₑ Lₑ, so every gradient is the mean of the examples' gradients, "
              f"∂L/∂w = (1/B) Σₑ ∂Lₑ/∂w (the derivative of a sum is the sum of the derivatives).",
              rf"A mini-batch of $B = {B}$ examples: the batch's loss is the mean of the examples' losses, "
              r"$L = \frac{1}{B} \sum_e L_e$, so every gradient is the mean of the examples' gradients, "
              r"$\partial L/\partial w = \frac{1}{B} \sum_e \partial L_e/\partial w$ (the derivative of a sum is the "
              r"sum of the derivatives).")
    lines.say("Each example goes through the forward and backward pass on its own, with the same weights; "
              "only then are the gradients averaged and the weights updated, once.")
    return lines.step("A mini-batch: the loss and the gradients are means over the examples")


def example_view(sol: NetworkSolution, e: int) -> NetworkSolution:
    """Example e alone, as a one-example solution: its input and target, its own pass."""
    return NetworkSolution(example_network(sol.network, e), sol.numeric.examples[e - 1], sol.evaluation)


def _example_steps(sol: NetworkSolution, e: int) -> list[Step]:
    """The single example's steps for example e, titled with it and computing its quantities."""
    view = example_view(sol, e)
    L = sol.depth
    steps = [single._forward_layer(view, l) for l in range(1, L + 1)]
    steps += [single._loss(view), single._loss_gradient(view), single._output_delta(view)]
    if sol.network.layers[-1].activation == activations.SOFTMAX:
        steps.append(single._softmax_shortcut(view))
    for l in range(L - 1, 0, -1):
        steps += [single._hidden_slopes(view, l), single._hidden_delta(view, l)]
    steps += [single._gradients(view, l) for l in range(1, L + 1)]
    first = steps[0]
    x, t = view.network.input, view.network.target
    intro = (f"Example {e}: x = {vector(x)}, t = {vector(t)}. In the steps of this example L is its own "
             f"loss L{sub(str(e))} and ∂L/∂w its own gradient ∂L{sub(str(e))}/∂w.",
             rf"Example {e}: $x = {vector(x, True)}$, $t = {vector(t, True)}$. In the steps of this example "
             rf"$L$ is its own loss $L_{{{e}}}$ and $\partial L/\partial w$ its own gradient $\partial L_{{{e}}}/\partial w$.")
    steps[0] = replace(first, text=intro[0] + "\n" + first.text, latex=intro[1] + "\n\n" + first.latex)
    return [replace(s, title=f"Example {e}: {s.title[0].lower()}{s.title[1:]}",
                    computes=tuple(of_example(c, e) for c in s.computes)) for s in steps]


def _mean(values, tex: bool) -> str:
    """(1/B)(v₁ + v₂ + …) with the numbers: ½(0.12 − 0.05)."""
    B = len(values)
    inner = num.signed_sum(list(values), tex)
    if tex:
        return rf"\frac{{1}}{{{B}}}\left({inner}\right)"
    return f"{_FRACTIONS.get(B, f'(1/{B})')}({inner})"


_FRACTIONS = {1: "", 2: "½", 3: "⅓", 4: "¼", 5: "⅕", 6: "⅙", 8: "⅛"}


def _terms(symbol_of, B: int, tex: bool) -> str:
    """(1/B)(s₁ + s₂ + …) in symbols: ½(L₁ + L₂)."""
    return _mean([symbol_of(e) for e in range(1, B + 1)], tex)


def _batch_loss(sol: NetworkSolution) -> Step:
    n = sol.numeric
    B = len(n.examples)
    lines = Lines()
    lines.math(lambda tex: f"L = {_terms(lambda e: f'L_{{{e}}}' if tex else f'L{sub(str(e))}', B, tex)} = "
               f"{_mean([each.loss for each in n.examples], tex)} = {value_text(n.loss, tex)}")
    return lines.step("The batch's loss: the mean of the examples' losses", q(Kind.LOSS))


def _batch_gradients(sol: NetworkSolution, l: int) -> Step:
    n = sol.numeric
    B = len(n.examples)
    lines = Lines()

    def mean_of(name: str, tex: bool) -> str:
        return _terms(lambda e: partial(f"L_{{{e}}}" if tex else f"L{sub(str(e))}", name, tex), B, tex)

    for j in single._units(len(n.grad_b[l])):
        for k in single._units(len(n.grad_W[l][j])):
            lines.math(lambda tex, j=j, k=k: f"{partial('L', symbol('w', l, j, k, tex=tex), tex)} = "
                       f"{mean_of(symbol('w', l, j, k, tex=tex), tex)} = "
                       f"{_mean([each.grad_W[l][j][k] for each in n.examples], tex)} = {value_text(n.grad_W[l][j][k], tex)}")
        lines.math(lambda tex, j=j: f"{partial('L', symbol('b', l, j, tex=tex), tex)} = "
                   f"{mean_of(symbol('b', l, j, tex=tex), tex)} = "
                   f"{_mean([each.grad_b[l][j] for each in n.examples], tex)} = {value_text(n.grad_b[l][j], tex)}")
    single._more(lines, len(n.grad_b[l]), "units")
    return lines.step(f"The batch's gradients of layer {l}: the means of the examples'",
                      q(Kind.WEIGHT_GRADIENT, l), q(Kind.BIAS_GRADIENT, l))

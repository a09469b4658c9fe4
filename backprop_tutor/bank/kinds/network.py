"""Network problems: a network file's body in the template; the engine's full solution."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sympy as sp

from backprop_tutor.bank.kinds import Instance, ProblemKind
from backprop_tutor.bank.problem import Part, Problem, Statement, Value
from backprop_tutor.bank.second_methods import CHECK_REL, H, FloatNetwork, close
from backprop_tutor.engine import activations, losses
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.arithmetic import PRECISE
from backprop_tutor.engine.entries import flat
from backprop_tutor.engine.network import Network, example_network, is_conv, network_from_dict
from backprop_tutor.engine.quantities import Kind, QuantityId, parse_network_quantity
from backprop_tutor.engine.rules import nudged_loss
from backprop_tutor.engine.solution import NetworkSolution, solve_network
from backprop_tutor.errors import NetworkError, TemplateError
from backprop_tutor.worked.notation import symbol
from backprop_tutor.worked.texescape import escape

_SATURATING = ("sigmoid", activations.SOFTMAX)
CONVENTIONS = ("Conventions: z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f(z⁽ˡ⁾), a⁽⁰⁾ = x, δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾; "
               "w⁽ˡ⁾ⱼₖ (row j, column k of W⁽ˡ⁾) is the weight from unit k of layer l−1 to unit j of layer l; "
               "units are numbered from 0.")
CONVENTIONS_LATEX = (r"Conventions: $z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$, $a^{(l)} = f(z^{(l)})$, $a^{(0)} = x$, "
                     r"$\delta^{(l)} = \partial L / \partial z^{(l)}$; $w^{(l)}_{jk}$ (row $j$, column $k$ of $W^{(l)}$) is "
                     r"the weight from unit $k$ of layer $l-1$ to unit $j$ of layer $l$; units are numbered from 0.")


class NetworkKind(ProblemKind):
    name = "network"

    def parse_quantity(self, text: str) -> QuantityId:
        return parse_network_quantity(text)

    def check_choices(self, body: Any, choice) -> None:
        if isinstance(body, dict):
            choice(body.get("loss"), losses.NAMES, "a loss")
            for layer in body.get("layers") or []:
                if isinstance(layer, dict):
                    choice(layer.get("activation"), activations.NAMES, "an activation")
            cell = body.get("recurrent")
            if isinstance(cell, dict):  # a recurrent cell and its output: one unit each
                choice(cell.get("activation"), tuple(activations.ELEMENTWISE), "an activation")
                if isinstance(cell.get("output"), dict):
                    choice(cell["output"].get("activation"), tuple(activations.ELEMENTWISE), "an activation")

    def instantiate(self, body: Any, where: str, seed: int) -> Instance:
        try:
            network = network_from_dict(body, f"{where} (seed {seed})")
            solution = solve_network(network)
        except NetworkError as e:
            raise e.located(source=e.source or f"{where} (seed {seed})", into=TemplateError) from None
        from backprop_tutor.worked.network import network_steps

        return Instance(solution, statement(network), lambda: network_steps(solution),
                        lambda: network_steps(solution, matrix_form=True))

    def value(self, solution: NetworkSolution, quantity: QuantityId) -> Value:
        return Value(solution.value(quantity))

    def violated(self, constraints, solution: NetworkSolution) -> str | None:
        numeric = solution.numeric
        for l, layer in enumerate(solution.network.layers, 1):
            kinked = layer.activation in activations.ELEMENTWISE and activations.ELEMENTWISE[layer.activation].kinked
            passes = numeric.examples or (numeric,)  # a mini-batch: every example's units
            if kinked and any(abs(v) < constraints.kink_margin for p in passes for v in p.z[l]):
                return "kink_margin"
            if constraints.saturation and layer.activation in _SATURATING:
                low, high = constraints.saturation
                if any(not low <= v <= high for p in passes for v in p.a[l]):
                    return "saturation"
        if not constraints.loss[0] <= numeric.loss <= constraints.loss[1]:
            return "loss"
        if solution.network.recurrent is not None and not _every_step_contributes(solution):
            return "every_step_contributes"
        if numeric.examples and not _distinct_examples(numeric):
            return "distinct_examples"
        if not _both_paths_count(solution):
            return "skip_paths"
        if any(layer.kernel is not None and layer.kernel == layer.kernel[::-1] for layer in solution.network.layers):
            return "kernel_symmetric"  # it reads the same backwards: a flipped kernel could not be seen
        return None

    def network(self, solution: NetworkSolution) -> Network | None:
        """The network, for a view that draws it as a table of layers (W, b); None for a
        recurrent cell (h₀ and the state carried from step to step) or a convolution (one kernel
        and a shared bias), which such a table cannot show: the statement's own lines say them."""
        net = solution.network
        return None if net.recurrent is not None or any(layer.kernel is not None for layer in net.layers) else net

    def graph(self, solution: NetworkSolution) -> tuple[Network, dict]:
        return solution.network, {}

    def second_method(self, problem: Problem, part: Part) -> list[str]:
        """Deltas and gradients by central differences of the engine's loss at 50 digits (δ⁽ˡ⁾ⱼ is
        ∂L/∂b⁽ˡ⁾ⱼ); forward values and nudge ratios by an independent double-precision pass.
        Given numbers and updates are checked through the quantities they come from."""
        solution: NetworkSolution = problem.solution
        reference = FloatNetwork(solution.network)
        issues = []
        for quantity, value in zip(flat(solution.entries(part.quantity)), flat(part.value.approx)):
            expected = _second_method(solution, reference, quantity)
            if expected is not None and not close(value, expected, CHECK_REL):
                issues.append(f"{quantity.text} = {sp.N(value, 15)} but a second method gives {sp.N(expected, 15)}")
        return issues

    def solution_json(self, problem: Problem) -> dict[str, Any]:
        from backprop_tutor.worked.solution_json import network_json

        return network_json(problem.solution, problem.steps)

    def tables(self, problem: Problem):
        from backprop_tutor.worked.report import network_report

        return network_report(problem.solution, problem.steps).tables


NETWORK = NetworkKind()


def _second_method(solution: NetworkSolution, reference: FloatNetwork, quantity: QuantityId):
    kind = quantity.kind
    # a batch's own gradients: central differences of the batch's loss, below, as for one example
    batch_gradient = kind in (Kind.WEIGHT_GRADIENT, Kind.BIAS_GRADIENT) and quantity.example is None
    if solution.network.examples is not None and not batch_gradient:
        return _batch_second_method(solution, quantity)
    if solution.network.recurrent is not None and kind in (Kind.Z, Kind.A, Kind.DELTA) \
            and quantity.layer <= len(solution.network.input):
        return _recurrent_second_method(solution.network, quantity)
    if kind is Kind.DELTA and is_conv(solution.network, quantity.layer):
        return _second_method(dense_twin(solution), reference, quantity)
    if kind in (Kind.DELTA, Kind.WEIGHT_GRADIENT, Kind.BIAS_GRADIENT, Kind.KERNEL_GRADIENT):
        parameter = QuantityId(_NUDGED.get(kind, Kind.BIAS), quantity.layer, quantity.index)
        with PRECISE.context():
            up = nudged_loss(solution.evaluation, parameter, H)
            down = nudged_loss(solution.evaluation, parameter, "-" + H)
            return PRECISE.finish((up - down) / (2 * PRECISE.given(sp.Rational(H))))
    if kind in (Kind.Z, Kind.A):
        zs, acts, _ = reference.forward()
        return (zs if kind is Kind.Z else acts)[quantity.layer][quantity.index[0]]
    if kind is Kind.LOSS:
        return reference.forward()[2]
    if kind is Kind.NUDGE:
        h = float(quantity.h)
        of = quantity.of
        return (reference.moved(of.kind, of.layer, of.index, h).forward()[2] - reference.forward()[2]) / h
    return None


def _batch_second_method(solution: NetworkSolution, quantity: QuantityId):
    """A mini-batch: an example's quantity by the one-example methods on that example alone; the
    batch's loss and nudge ratios as the means of the examples' (the batch's loss is their mean);
    (the batch's gradients are checked by central differences of the batch's loss, in _second_method)."""
    examples = [solve_network(example_network(solution.network, e)) for e in range(1, len(solution.network.examples) + 1)]
    if quantity.example is not None:
        alone = examples[quantity.example - 1]
        return _second_method(alone, FloatNetwork(alone.network), quantity._replace(example=None))
    if quantity.kind in (Kind.LOSS, Kind.NUDGE):
        return sum(_second_method(alone, FloatNetwork(alone.network), quantity) for alone in examples) / len(examples)
    return None


def _vector_text(values, tex: bool = False) -> str:
    if tex:
        return r"\begin{pmatrix}" + r" \\ ".join(num.latex(v) for v in values) + r"\end{pmatrix}"
    return "(" + ", ".join(num.pretty(v) for v in values) + ")"


def _matrix_text(rows, tex: bool = False) -> str:
    if tex:
        return r"\begin{pmatrix}" + r" \\ ".join(" & ".join(num.latex(v) for v in row) for row in rows) + r"\end{pmatrix}"
    return "[" + "; ".join(" ".join(num.pretty(v) for v in row) for row in rows) + "]"


@lru_cache(maxsize=None)  # a handful of losses and sizes; factoring the loss is slow
def constant_factor(loss: str, n: int) -> sp.Rational:
    """The constant in front of the loss's sum for n outputs (½, 1, 1/n, −1/n, −1), read off the
    loss's own SymPy expression. A statement names the factor but never ∂L/∂o: that derivative
    is what a loss_derivative part asks, and δ itself where the output is linear."""
    return sp.factor_terms(losses.LOSSES[loss].expr(n)).as_coeff_Mul()[0]


def statement(network: Network) -> Statement:
    if network.recurrent is not None:
        return _recurrent_statement(network)
    loss = losses.LOSSES[network.loss]
    sizes = "-".join(str(s) for s in network.sizes)
    given = [f"A {sizes} network with input x = {_vector_text(network.input)} and target t = "
             f"{_vector_text(network.target)}."]
    tex = [f"A {sizes} network with input $x = {_vector_text(network.input, True)}$ and target "
           f"$t = {_vector_text(network.target, True)}$."]
    if network.examples is not None:
        given, tex = _batch_given(network, sizes)
    for l, layer in enumerate(network.layers, 1):
        if layer.kernel is not None:  # a conv1d layer: its kernel and one shared bias, not the banded matrix
            given.append(conv_given(layer, l))
            tex.append(conv_given(layer, l, True))
            continue
        given.append(f"Layer {l} ({layer.activation}): W{symbol('', l)} = {_matrix_text(layer.weights)}, "
                     f"b{symbol('', l)} = {_vector_text(layer.bias)}")
        tex.append(f"Layer {l} ({escape(layer.activation)}): $W^{{({l})}} = {_matrix_text(layer.weights, True)}$, "
                   f"$b^{{({l})}} = {_vector_text(layer.bias, True)}$.")
    n = len(network.target)
    factor = constant_factor(network.loss, n)
    outputs = f"n = {n} output{'s' * (n != 1)}"
    notes = (f"Loss: {network.loss}, {loss.unicode}, over {outputs} (mind the constant factor: "
             f"{str(factor).replace('-', '−')} in front of the sum, and it carries into every derivative). "
             f"Learning rate η = {num.pretty(network.learning_rate)}.", CONVENTIONS)
    tex.append(f"Loss: \\texttt{{{escape(network.loss)}}}, ${loss.latex}$, over $n = {n}$ output{'s' * (n != 1)} (mind the constant "
               f"factor: ${sp.latex(factor)}$ in front of the sum, and it carries into every derivative). "
               f"Learning rate $\\eta = {num.latex(network.learning_rate)}$.")
    tex.append(CONVENTIONS_LATEX)
    return Statement("", tuple(given), notes, tuple(tex))


def _batch_given(network: Network, sizes: str) -> tuple[list[str], list[str]]:
    """A mini-batch's examples, one line each, and what its loss is."""
    B = len(network.examples)
    given = [f"A {sizes} network trained on a mini-batch of B = {B} examples; the batch's loss is the mean of the "
             "examples' losses, L = (1/B) Σₑ Lₑ."]
    tex = [f"A {sizes} network trained on a mini-batch of $B = {B}$ examples; the batch's loss is the mean of the "
           r"examples' losses, $L = \frac{1}{B} \sum_e L_e$."]
    for e, (x, t) in enumerate(network.examples, 1):
        given.append(f"Example {e}: x = {_vector_text(x)}, t = {_vector_text(t)}.")
        tex.append(f"Example {e}: $x = {_vector_text(x, True)}$, $t = {_vector_text(t, True)}$.")
    return given, tex


# A mini-batch's gradients must tell its slips apart: the first example's (one_example_only) and
# the sum (summed_not_averaged, B times the mean) each this far, relatively, from the mean.
DISTINCT = 0.05


def _distinct_examples(numeric) -> bool:
    """Every parameter's gradient differs, by DISTINCT of the largest example's, between the mean,
    the first example's and the sum: otherwise a slip in averaging could not be seen."""
    B = len(numeric.examples)
    for l in range(1, len(numeric.grad_W)):
        pairs = [(numeric.grad_W[l][j][k], [p.grad_W[l][j][k] for p in numeric.examples])
                 for j in range(len(numeric.grad_W[l])) for k in range(len(numeric.grad_W[l][j]))]
        pairs += [(numeric.grad_b[l][j], [p.grad_b[l][j] for p in numeric.examples]) for j in range(len(numeric.grad_b[l]))]
        for mean, each in pairs:
            scale = max(abs(g) for g in each)
            if abs(each[0] - mean) <= DISTINCT * scale or abs((B - 1) * mean) <= DISTINCT * scale:
                return False
    return True


SKIP_SHARE = 0.15  # each path's share of ∂L/∂a⁽ᵏ⁾ at a skip's source, in size, at least


def _both_paths_count(solution: NetworkSolution) -> bool:
    """At every skip's source, the path through the layers and the path through the skip each
    carry at least SKIP_SHARE of the gradient's size, so that leaving either out shows."""
    from backprop_tutor.engine.rules import skipped_to

    net, n = solution.network, solution.numeric
    for k in range(1, len(net.layers)):
        for i in range(len(n.a[k]) if skipped_to(net, k) else 0):
            skip = sum(solution.value(QuantityId(Kind.ACTIVATION_GRADIENT, m, (i,))) for m in skipped_to(net, k))
            through = solution.value(QuantityId(Kind.ACTIVATION_GRADIENT, k, (i,))) - skip  # the engine's total, less the skip
            size = abs(skip) + abs(through)
            if min(abs(skip), abs(through)) < SKIP_SHARE * size:
                return False
    return True

# --- a recurrent cell unrolled over time ---------------------------------------------------------------

# Each step's terms of the shared weights' gradients, δₜ·xₜ and δₜ·hₜ₋₁, at least this fraction of
# the largest: a step that adds (almost) nothing could not tell the sum over time from its last term.
STEP_SHARE = 0.02


def _every_step_contributes(solution: NetworkSolution) -> bool:
    n, net = solution.numeric, solution.network
    T = len(net.input)
    h = (net.recurrent.h0,) + tuple(n.a[t][0] for t in range(1, T + 1))
    for factors in (net.input, h[:T]):
        terms = [abs(n.delta[t][0] * factors[t - 1]) for t in range(1, T + 1)]
        if min(terms) < STEP_SHARE * max(terms):
            return False
    return True


def _recurrent_statement(network: Network) -> Statement:
    """The cell, its numbers and the loss, in the textbook's notation with the quantity names beside."""
    T = len(network.input)
    cell, out = network.layers[0], network.layers[-1]
    (w_x, w_h), = cell.weights
    xs = ", ".join(num.pretty(v) for v in network.input)
    xs_tex = ", ".join(num.latex(v) for v in network.input)
    f, g = cell.activation, out.activation
    given = (f"A recurrent cell with one {f} unit, unrolled over T = {T} steps: z₁ = w_x·x₁ + w_h·h₀ + b, "
             f"h₁ = {f}(z₁), and likewise at each later step from the state before it, with inputs x₁…x{'₂₃'[T - 2]} = {xs} and h₀ = {num.pretty(network.recurrent.h0)}.",
             f"Shared by every step: w_x = {num.pretty(w_x)}, w_h = {num.pretty(w_h)}, b = {num.pretty(cell.bias[0])}. "
             f"Output ({g}): o = {g}(w_o·h{'₂₃'[T - 2]} + b_o), w_o = {num.pretty(out.weights[0][0])}, "
             f"b_o = {num.pretty(out.bias[0])}; target t = {num.pretty(network.target[0])}.")
    tex = (rf"A recurrent cell with one \texttt{{{escape(f)}}} unit, unrolled over $T = {T}$ steps: $h_t = f(z_t)$, "
           rf"$z_t = w_x x_t + w_h h_{{t-1}} + b$, with inputs $x_1, \dots, x_{T} = {xs_tex}$ and "
           rf"$h_0 = {num.latex(network.recurrent.h0)}$.",
           rf"Shared by every step: $w_x = {num.latex(w_x)}$, $w_h = {num.latex(w_h)}$, $b = {num.latex(cell.bias[0])}$. "
           rf"Output (\texttt{{{escape(g)}}}): $o = g(w_o h_{T} + b_o)$, $w_o = {num.latex(out.weights[0][0])}$, "
           rf"$b_o = {num.latex(out.bias[0])}$; target $t = {num.latex(network.target[0])}$.")
    loss = losses.LOSSES[network.loss]
    factor = constant_factor(network.loss, 1)
    notes = (f"Loss: {network.loss}, {loss.unicode}, on the last output only (mind the constant factor: "
             f"{str(factor).replace('-', '−')} in front, and it carries into every derivative). Learning rate η = "
             f"{num.pretty(network.learning_rate)}.",
             f"Names: step t is layer t, so step t's z, h, f′(z) and δ = ∂L/∂z are z{{t}}[0], a{{t}}[0], "
             f"fprime{{t}}[0] and delta{{t}}[0]; W1 = [[w_x, w_h]] and b1 = [b] (every step's; in the index convention w⁽ˡ⁾ⱼₖ, row j "
             f"and column k of W⁽ˡ⁾, w_x = w⁽¹⁾₀₀ and w_h = w⁽¹⁾₀₁), so ∂L/∂w_x = dW1[0][0], "
             f"∂L/∂w_h = dW1[0][1], ∂L/∂b = db1[0]; the output is layer {T + 1} (W{T + 1} = [[w_o]], b{T + 1} = [b_o]).")
    tex_notes = (rf"Loss: \texttt{{{escape(network.loss)}}}, ${loss.latex}$, on the last output only (mind the "
                 rf"constant factor: ${sp.latex(factor)}$ in front). Learning rate "
                 rf"$\eta = {num.latex(network.learning_rate)}$.",)
    return Statement("", given, notes, tex + tex_notes)


def _unrolled(network: Network, nudge: tuple[int, float] = (0, 0.0)) -> tuple[list, list, float]:
    """An independent double-precision pass of the unrolled cell: (z by step, h by step, loss);
    `nudge` adds to one step's z (so that δₜ = ∂L/∂zₜ is a central difference)."""
    from backprop_tutor.bank.second_methods import FLOAT_ACTIVATIONS

    cell, out = network.layers[0], network.layers[-1]
    (w_x, w_h), = cell.weights
    f, h, zs, hs = FLOAT_ACTIVATIONS[cell.activation], float(network.recurrent.h0), [None], [None]
    for t, x in enumerate(network.input, 1):
        z = float(w_x) * float(x) + float(w_h) * h + float(cell.bias[0]) + (nudge[1] if nudge[0] == t else 0.0)
        h = f(z)
        zs.append(z)
        hs.append(h)
    o = FLOAT_ACTIVATIONS[out.activation](float(out.weights[0][0]) * h + float(out.bias[0]))
    return zs, hs, float(losses.LOSSES[network.loss].expr(1).subs(
        dict(zip(_loss_args(), (o, float(network.target[0]))))))


def _loss_args():
    o, t = losses.symbols(1)
    return (*o, *t)


def _recurrent_second_method(network: Network, quantity: QuantityId):
    """zₜ and hₜ by the plain pass; δₜ by a central difference of the loss in zₜ (step h = 1e-6)."""
    t = quantity.layer
    if quantity.kind is Kind.DELTA:
        step = 1e-6
        return (_unrolled(network, (t, step))[2] - _unrolled(network, (t, -step))[2]) / (2 * step)
    zs, hs, _ = _unrolled(network)
    return (zs if quantity.kind is Kind.Z else hs)[t]

def conv_given(layer, l: int, tex: bool = False) -> str:
    """A conv1d layer as its statement gives it: the kernel, the one shared bias, stride 1, no padding."""
    K, P = len(layer.kernel), layer.units
    if tex:
        return (f"Layer {l} (conv1d, {escape(layer.activation)}): kernel $k = {_vector_text(layer.kernel, True)}$, "
                f"shared bias $b = {num.latex(layer.bias[0])}$; stride 1, no padding, so "
                f"$z^{{({l})}}_i = \\sum_{{j=0}}^{{{K - 1}}} k_j \\, a^{{({l - 1})}}_{{i+j}} + b$ for $i = 0, \\dots, {P - 1}$.")
    return (f"Layer {l} (conv1d, {layer.activation}): kernel k = {_vector_text(layer.kernel)}, shared bias "
            f"b = {num.pretty(layer.bias[0])}; stride 1, no padding, so z{symbol('', l)}ᵢ = Σⱼ kⱼ·a{symbol('', l - 1)}ᵢ₊ⱼ + b "
            f"for i = 0 … {P - 1}.")


# --- a conv1d layer's second methods --------------------------------------------------------------

_NUDGED = {Kind.WEIGHT_GRADIENT: Kind.WEIGHT, Kind.KERNEL_GRADIENT: Kind.KERNEL}  # ∂L/∂K1[j]: L moved in K1[j]


def dense_twin(solution: NetworkSolution) -> NetworkSolution:
    """The network with its conv1d layer read as the dense layer it acts as (the banded matrix, a bias
    per position): the same losses, so δ⁽¹⁾ᵢ is ∂L/∂b⁽¹⁾ᵢ there, which the shared bias cannot give."""
    from dataclasses import replace

    layers = tuple(replace(layer, kernel=None) for layer in solution.network.layers)
    return solve_network(replace(solution.network, layers=layers))

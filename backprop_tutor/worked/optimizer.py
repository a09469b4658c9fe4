"""Worked steps for weight decay and the optimizers (issue 15): the decay term in the loss and
in each weight's gradient, and momentum's or Adam's state written out step by step.

Every number is the engine's (the solution's evaluation); this module only writes them out,
each formula one function of `tex` as in worked/network.py.
"""

from __future__ import annotations


from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.network import OptimizerKind
from backprop_tutor.engine.quantities import Kind, QuantityId, q
from backprop_tutor.engine.rules import parameters, start, state, weights
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import parameter_symbol, partial, symbol, times, value_text
from backprop_tutor.worked.steps import Lines, Step

DETAIL_PARAMETERS = 6  # parameters written out in full per step; the rest are in the tables


def _minus(tex: bool) -> str:
    return "-" if tex else "−"


# --- weight decay ------------------------------------------------------------------------------------

def decay_lines(lines: Lines, sol: NetworkSolution) -> None:
    """Under the loss: decay = (λ/2)·Σ w² with the weights put in, and L = data loss + decay."""
    net = sol.network
    rate, shown = net.weight_decay, weights(net)[:DETAIL_PARAMETERS]
    data, decay = sol.value(q(Kind.DATA_LOSS)), sol.value(q(Kind.DECAY))
    lines.say(f"Weight decay (L2) with λ = {num.pretty(rate)} adds (λ/2)·Σ w² over every weight (the biases are "
              "not decayed):",
              rf"Weight decay (L2) with $\lambda = {num.latex(rate)}$ adds $\frac{{\lambda}}{{2}} \sum w^2$ over every "
              "weight (the biases are not decayed):")

    def penalty(tex: bool) -> str:
        squares = [f"({value_text(sol.value(w), tex)})^2" if tex else f"({value_text(sol.value(w), tex)})²" for w in shown]
        more = " + \\dots" if tex else " + …"
        half = rf"\frac{{{num.latex(rate)}}}{{2}}" if tex else f"({num.pretty(rate)}/2)"
        inner = " + ".join(squares) + (more if len(weights(net)) > len(shown) else "")
        return f"{half}" + (rf"\left[{inner}\right]" if tex else f"[{inner}]") + f" = {value_text(decay, tex)}"

    lines.math(penalty)
    lines.math(lambda tex: (r"L = L_{\text{data}} + \tfrac{\lambda}{2}\sum w^2 = " if tex else "L = L_data + (λ/2)·Σ w² = ")
               + num.signed_sum([data, decay], tex) + f" = {value_text(sol.numeric.loss, tex)}")


def decayed_gradient(sol: NetworkSolution, l: int, j: int, k: int, tex: bool) -> str:
    """∂L/∂w = δ·a + λ·w = 0.03·0.5 + 0.1·0.2 = 0.035: the decay term with its numbers."""
    n, net = sol.numeric, sol.network
    w = net.layers[l - 1].weights[j][k]
    terms = [num.product([n.delta[l][j], n.a[l - 1][k]], tex=tex), num.product([net.weight_decay, w], tex=tex)]
    lam = r"\lambda" if tex else "λ"
    return (f"{partial('L', symbol('w', l, j, k, tex=tex), tex)} = {symbol('delta', l, j, tex=tex)}{times(tex)}"
            f"{symbol('a', l - 1, k, tex=tex)} + {lam}{times(tex)}{symbol('w', l, j, k, tex=tex)} = "
            f"{num.signed_sum(terms, tex)} = {value_text(n.grad_W[l][j][k], tex)}")


def decay_rule_line(lines: Lines) -> None:
    lines.say("With weight decay each weight's gradient gains the derivative of (λ/2)·w², which is λ·w "
              "(the biases have none):",
              r"With weight decay each weight's gradient gains the derivative of $\frac{\lambda}{2} w^2$, which is "
              r"$\lambda w$ (the biases have none):")


# --- optimizers ------------------------------------------------------------------------------------------

def optimizer_steps(sol: NetworkSolution) -> list[Step]:
    """One step per optimizer step: its gradient (backprop again at the moved weights for the
    second), then each parameter's state and new value."""
    optimizer = sol.network.optimizer
    last = optimizer.steps
    # W_new and b_new are the parameters after the last step: the last step shows them
    after = tuple(q(kind, l) for l in range(1, sol.depth + 1) for kind in (Kind.WEIGHT_NEW, Kind.BIAS_NEW))
    return [_optimizer_step(sol, s, after if s == last else ()) for s in range(1, last + 1)]


def _optimizer_step(sol: NetworkSolution, s: int, after: tuple[QuantityId, ...]) -> Step:
    net = sol.network
    optimizer = net.optimizer
    lines = Lines()
    eta = net.learning_rate
    if optimizer.kind is OptimizerKind.MOMENTUM:
        lines.say(f"Momentum with β = {num.pretty(optimizer.beta)}, η = {num.pretty(eta)}: v ← β·v + ∂L/∂w, then "
                  f"w ← w − η·v (the velocity starts at {'the given values' if optimizer.initial else '0'}).",
                  rf"Momentum with $\beta = {num.latex(optimizer.beta)}$, $\eta = {num.latex(eta)}$: "
                  r"$v \leftarrow \beta v + \partial L/\partial w$, then $w \leftarrow w - \eta v$ (the velocity starts at "
                  + ("the given values)." if optimizer.initial else "0)."))
    else:
        t = optimizer.t0 + s
        lines.say(f"Adam with β₁ = {num.pretty(optimizer.beta1)}, β₂ = {num.pretty(optimizer.beta2)}, "
                  f"ε = {num.pretty(optimizer.epsilon)}, η = {num.pretty(eta)}, at t = {t}: m ← β₁m + (1 − β₁)g, "
                  "v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), w ← w − η·m̂/(√v̂ + ε) "
                  f"(m and v start at {'the given values' if optimizer.initial else '0'}).",
                  rf"Adam with $\beta_1 = {num.latex(optimizer.beta1)}$, $\beta_2 = {num.latex(optimizer.beta2)}$, "
                  rf"$\epsilon = {num.latex(optimizer.epsilon)}$, $\eta = {num.latex(eta)}$, at $t = {t}$: "
                  r"$m \leftarrow \beta_1 m + (1 - \beta_1) g$, $v \leftarrow \beta_2 v + (1 - \beta_2) g^2$, "
                  r"$\hat m = m/(1 - \beta_1^t)$, $\hat v = v/(1 - \beta_2^t)$, "
                  r"$w \leftarrow w - \eta \hat m/(\sqrt{\hat v} + \epsilon)$ ($m$ and $v$ start at "
                  + ("the given values)." if optimizer.initial else "0)."))
    if s > 1:
        lines.say(f"The gradient g of step {s} is backprop again, at the weights after step {s - 1}; the state "
                  f"carries over from step {s - 1}.")
    computes: list[QuantityId] = []
    shown = parameters(net)
    for p in shown[:DETAIL_PARAMETERS]:
        computes += _parameter_lines(lines, sol, p, s)
    if len(shown) > DETAIL_PARAMETERS:
        lines.say(f"… and likewise for the other {len(shown) - DETAIL_PARAMETERS} parameters (all values are in the tables).")
    for p in shown[DETAIL_PARAMETERS:]:
        computes += [state(kind, p, s) for kind in _KINDS[optimizer.kind]]
    return lines.step(f"{'Momentum' if optimizer.kind is OptimizerKind.MOMENTUM else 'Adam'}, step {s}", *computes, *after)


_KINDS = {OptimizerKind.MOMENTUM: (Kind.STEP_GRADIENT, Kind.VELOCITY, Kind.STEPPED),
          OptimizerKind.ADAM: (Kind.STEP_GRADIENT, Kind.MOMENT, Kind.VELOCITY, Kind.M_HAT, Kind.V_HAT, Kind.STEPPED)}


def _parameter_lines(lines: Lines, sol: NetworkSolution, p: QuantityId, s: int) -> list[QuantityId]:
    """The state of one parameter at step s, each update with its numbers."""
    net = sol.network
    optimizer = net.optimizer
    value = {kind: sol.value(state(kind, p, s)) for kind in _KINDS[optimizer.kind]}
    before = {kind: (sol.value(state(kind, p, s - 1)) if s > 1 else start(net, kind, p))
              for kind in _KINDS[optimizer.kind] if kind in (Kind.MOMENT, Kind.VELOCITY)}
    w_before = sol.value(state(Kind.STEPPED, p, s - 1))

    def name(letter: str, tex: bool) -> str:
        return f"{letter}_{{{parameter_symbol(p, tex=True)}}}" if tex else f"{letter}[{parameter_symbol(p)}]"

    g = lambda tex: name("g", tex)  # noqa: E731 - one short name per line below
    lines.math(lambda tex: f"{g(tex)} = {value_text(value[Kind.STEP_GRADIENT], tex)}")
    if optimizer.kind is OptimizerKind.MOMENTUM:
        lines.math(lambda tex: f"{name('v', tex)} = " + num.signed_sum(
            [num.product([optimizer.beta, before[Kind.VELOCITY]], tex=tex), value[Kind.STEP_GRADIENT]], tex)
            + f" = {value_text(value[Kind.VELOCITY], tex)}")
        update = [value[Kind.VELOCITY]]
    else:
        for kind, beta, letter, squared in ((Kind.MOMENT, optimizer.beta1, "m", False), (Kind.VELOCITY, optimizer.beta2, "v", True)):
            lines.math(lambda tex, kind=kind, beta=beta, letter=letter, squared=squared: f"{name(letter, tex)} = " + num.signed_sum(
                [num.product([beta, before[kind]], tex=tex),
                 num.product([1 - beta], tex=tex) + (r" \cdot " if tex else "·")
                 + (num.squared if squared else num.factor)(value[Kind.STEP_GRADIENT], tex=tex)], tex)
                + f" = {value_text(value[kind], tex)}")
        t = optimizer.t0 + s
        for hat, raw, beta, letter in ((Kind.M_HAT, Kind.MOMENT, optimizer.beta1, "m̂"), (Kind.V_HAT, Kind.VELOCITY, optimizer.beta2, "v̂")):
            lines.math(lambda tex, hat=hat, raw=raw, beta=beta, letter=letter: f"{name(_hat_tex(letter) if tex else letter, tex)} = "
                       + (rf"\frac{{{value_text(value[raw], tex)}}}{{1 - {num.latex(beta)}^{{{t}}}}}" if tex
                          else f"{value_text(value[raw], tex)}/(1 − {num.pretty(beta)}^{t})")
                       + f" = {value_text(value[hat], tex)}")
        update = [value[Kind.M_HAT], value[Kind.V_HAT]]

    def step_line(tex: bool) -> str:
        target = parameter_symbol(p, tex=tex)
        if optimizer.kind is OptimizerKind.MOMENTUM:
            moved = num.product([net.learning_rate, update[0]], tex=tex)
        else:
            root = rf"\sqrt{{{value_text(update[1], tex)}}}" if tex else f"√{value_text(update[1], tex)}"
            moved = (rf"{num.latex(net.learning_rate)} \cdot \frac{{{value_text(update[0], tex)}}}{{{root} + {num.latex(optimizer.epsilon)}}}"
                     if tex else f"{num.pretty(net.learning_rate)}·{num.factor(update[0])}/({root} + {num.pretty(optimizer.epsilon)})")
        arrow = r"\leftarrow" if tex else "←"
        return f"{target} {arrow} {value_text(w_before, tex)} {_minus(tex)} {moved} = {value_text(value[Kind.STEPPED], tex)}"

    lines.math(step_line)
    return [state(kind, p, s) for kind in _KINDS[optimizer.kind]]


def _hat_tex(letter: str) -> str:
    return r"\hat " + letter[0]

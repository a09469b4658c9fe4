"""A recurrent cell unrolled over time: the worked forward pass, backpropagation through time,
the shared weights' gradients as sums over time, and why those sums lose their early terms.

The network is the unrolled one of engine/network.py (`recurrent:`): steps t = 1..T are layers
1..T and share W1 = [[w_x, w_h]] and b1 = [b]; the output is layer T+1. Notation here is the
textbook's, zₜ, hₜ, δₜ = ∂L/∂zₜ; the quantity names beside it are z{t}[0], a{t}[0], delta{t}[0].
Every number is the engine's.
"""

from __future__ import annotations

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import apart, function, partial, prime, sub, times, value_text
from backprop_tutor.worked.steps import Lines, Step


def _s(name: str, t, tex: bool) -> str:
    """hₜ, z₂, δ₃ (h_{t} in LaTeX)."""
    base = {"delta": r"\delta" if tex else "δ"}.get(name, name)
    return f"{base}_{{{t}}}" if tex else f"{base}{sub(str(t))}" if str(t).isdigit() else f"{base}_{t}"


class Unrolled:
    """The cell's numbers by time step, read from the solution (index t; h[0] is h₀)."""

    def __init__(self, sol: NetworkSolution) -> None:
        net, n = sol.network, sol.numeric
        self.T = T = len(net.input)
        (self.w_x, self.w_h), = net.layers[0].weights
        self.b, self.w_o, self.b_o = net.layers[0].bias[0], net.layers[-1].weights[0][0], net.layers[-1].bias[0]
        self.f, self.g = net.layers[0].activation, net.layers[-1].activation
        self.x = (None,) + tuple(net.input)
        self.h = (net.recurrent.h0,) + tuple(n.a[t][0] for t in range(1, T + 1))
        self.z = (None,) + tuple(n.z[t][0] for t in range(1, T + 1))
        self.slope = (None,) + tuple(n.slope[t][0] for t in range(1, T + 1))
        self.delta = (None,) + tuple(n.delta[t][0] for t in range(1, T + 2))
        self.grad_x, self.grad_h = n.grad_W[1][0]
        self.grad_b = n.grad_b[1][0]


def recurrent_steps(sol: NetworkSolution) -> list[Step]:
    """The steps of a recurrent network before the shared ones (loss, ∂L/∂o, output delta)."""
    u = Unrolled(sol)
    return [_setup(sol, u)] + [_forward_step(u, t) for t in range(1, u.T + 1)] + [_output(sol, u)]


def backward_steps(sol: NetworkSolution) -> list[Step]:
    """Through time, the sums over time, why they shrink, and the update."""
    u = Unrolled(sol)
    return ([_slopes(u), _last_delta(u)] + [_earlier_delta(u, t) for t in range(u.T - 1, 0, -1)]
            + [_sums_over_time(sol, u), _vanishing(u), _update(sol, u)])


def _setup(sol: NetworkSolution, u: Unrolled) -> Step:
    lines = Lines()
    f, g = function(u.f), function(u.g)
    lines.say(f"A recurrent cell unrolled over T = {u.T} steps: one hidden unit, hₜ = {f}(zₜ) with "
              f"zₜ = w_x·xₜ + w_h·hₜ₋₁ + b, and one output o = {g}(w_o·h{sub(str(u.T))} + b_o); the loss is on the last "
              "output only.",
              rf"A recurrent cell unrolled over $T = {u.T}$ steps: one hidden unit, $h_t = {function(u.f, True)}(z_t)$ "
              r"with $z_t = w_x x_t + w_h h_{t-1} + b$, and one output "
              rf"$o = {function(u.g, True)}(w_o h_{{{u.T}}} + b_o)$; the loss is on the last output only.")
    xs = ", ".join(f"x{sub(str(t))} = {num.pretty(u.x[t])}" for t in range(1, u.T + 1))
    lines.say(f"{xs}, h₀ = {num.pretty(u.h[0])}; w_x = {num.pretty(u.w_x)}, w_h = {num.pretty(u.w_h)}, "
              f"b = {num.pretty(u.b)} (every step uses these same three); w_o = {num.pretty(u.w_o)}, "
              f"b_o = {num.pretty(u.b_o)}; target t = {num.pretty(sol.network.target[0])}, "
              f"η = {num.pretty(sol.network.learning_rate)}.")
    lines.say(f"As quantities: step t is layer t (zₜ = z{{t}}[0], hₜ = a{{t}}[0], δₜ = delta{{t}}[0]); "
              f"W1 = [[w_x, w_h]] and b1 = [b] are shared; the output is layer {u.T + 1}.",
              rf"As quantities: step $t$ is layer $t$ ($z_t$ = \texttt{{z{{t}}[0]}}, $h_t$ = \texttt{{a{{t}}[0]}}, "
              rf"$\delta_t$ = \texttt{{delta{{t}}[0]}}); \texttt{{W1}} = [[$w_x$, $w_h$]] and \texttt{{b1}} = [$b$] "
              rf"are shared; the output is layer {u.T + 1}.")
    return lines.step("The unrolled network")


def _forward_step(u: Unrolled, t: int) -> Step:
    lines = Lines()
    lines.math(lambda tex: f"{_s('z', t, tex)} = w_x{times(tex)}{_s('x', t, tex)} + w_h{times(tex)}{_s('h', t - 1, tex)} + b"
               f" = {num.product([u.w_x, u.x[t]], tex=tex)} + {num.product([u.w_h, u.h[t - 1]], tex=tex)} + "
               f"{num.factor(u.b, tex=tex)} = {value_text(u.z[t], tex)}")
    lines.math(lambda tex: f"{_s('h', t, tex)} = {function(u.f, tex)}({_s('z', t, tex)}) = "
               f"{function(u.f, tex)}({value_text(u.z[t], tex)}) = {value_text(u.h[t], tex)}")
    return lines.step(f"Forward, step {t}", q(Kind.Z, t), q(Kind.A, t))


def _output(sol: NetworkSolution, u: Unrolled) -> Step:
    n, L = sol.numeric, u.T + 1
    lines = Lines()
    lines.math(lambda tex: f"{_s('z', 'o', tex)} = w_o{times(tex)}{_s('h', u.T, tex)} + b_o = "
               f"{num.product([u.w_o, u.h[u.T]], tex=tex)} + {num.factor(u.b_o, tex=tex)} = {value_text(n.z[L][0], tex)}")
    lines.math(lambda tex: f"o = {function(u.g, tex)}({value_text(n.z[L][0], tex)}) = {value_text(n.a[L][0], tex)}")
    return lines.step("Forward, the output", q(Kind.Z, L), q(Kind.A, L))


def _slopes(u: Unrolled) -> Step:
    lines = Lines()
    lines.say("The local slopes of the cell at each step, for the backward pass:")
    for t in range(1, u.T + 1):
        lines.math(lambda tex, t=t: f"{prime(u.f, tex)}({_s('z', t, tex)}) = {value_text(u.slope[t], tex)}")
    return lines.step("Backward through time: the local slopes", *(q(Kind.SLOPE, t) for t in range(1, u.T + 1)))


def _delta_formula(u: Unrolled, t: int, above, weight: str, value):
    """δₜ = δ_above·weight·f′(zₜ) with the numbers (δ_above is the next step's, or the output's)."""
    return lambda tex: (f"{_s('delta', t, tex)} = {_s('delta', above, tex)}{times(tex)}{weight}{times(tex)}"
                        f"{prime(u.f, tex)}({_s('z', t, tex)}) = "
                        f"{num.product([u.delta[t + 1], value, u.slope[t]], tex=tex)} = {value_text(u.delta[t], tex)}")


def _last_delta(u: Unrolled) -> Step:
    T, lines = u.T, Lines()
    lines.say(f"h{sub(str(T))} reaches the loss through the output, so δ{sub(str(T))} = δ_o·w_o·{prime(u.f)}(z{sub(str(T))}).",
              rf"$h_{{{T}}}$ reaches the loss through the output, so "
              rf"$\delta_{{{T}}} = \delta_o w_o {prime(u.f, True)}(z_{{{T}}})$.")
    lines.math(_delta_formula(u, T, "o", "w_o", u.w_o))
    return lines.step(f"Backward through time: δ{sub(str(T))}, the last step", q(Kind.DELTA, T))


def _earlier_delta(u: Unrolled, t: int) -> Step:
    lines = Lines()
    lines.say(f"z{sub(str(t))} reaches the loss only through h{sub(str(t))}, which step {t + 1} multiplies by w_h: "
              "δₜ = δₜ₊₁·w_h·f′(zₜ).",
              rf"$z_{{{t}}}$ reaches the loss only through $h_{{{t}}}$, which step {t + 1} multiplies by $w_h$: "
              r"$\delta_t = \delta_{t+1} w_h f'(z_t)$.")
    lines.math(_delta_formula(u, t, t + 1, "w_h", u.w_h))
    return lines.step(f"Backward through time: δ{sub(str(t))}", q(Kind.DELTA, t))


def _sum_line(u: Unrolled, name: str, factors, total, tex: bool) -> str:
    """∂L/∂w_h = δ₃·h₂ + δ₂·h₁ + δ₁·h₀ = … + … + … = …, from the last step back."""
    steps = range(u.T, 0, -1)
    symbols = " + ".join(_s("delta", t, tex) + (f"{times(tex)}{factors[t][0]}" if factors else "") for t in steps)
    numbers = " + ".join(num.factor(u.delta[t] * (factors[t][1] if factors else 1), tex=tex) for t in steps)
    products = " + ".join(num.product([u.delta[t], factors[t][1]], tex=tex) for t in steps) if factors else None
    derivative = partial('L', name, tex)
    middle = f" = {products}" if products else ""
    return f"{derivative} = {symbols}{middle} = {numbers} = {value_text(total, tex)}"


def _sums_over_time(sol: NetworkSolution, u: Unrolled) -> Step:
    n, L = sol.numeric, u.T + 1
    lines = Lines()
    lines.say("Each of w_x, w_h and b is one weight used at every step, so its gradient is the sum over time of what "
              "each use contributes, δₜ times what it multiplied there.",
              r"Each of $w_x$, $w_h$ and $b$ is one weight used at every step, so its gradient is the sum over time of "
              r"what each use contributes, $\delta_t$ times what it multiplied there.")
    x = {t: (_s("x", t, False), u.x[t]) for t in range(1, u.T + 1)}
    x_tex = {t: (_s("x", t, True), u.x[t]) for t in range(1, u.T + 1)}
    h = {t: (_s("h", t - 1, False), u.h[t - 1]) for t in range(1, u.T + 1)}
    h_tex = {t: (_s("h", t - 1, True), u.h[t - 1]) for t in range(1, u.T + 1)}
    lines.math(lambda tex: _sum_line(u, "w_h", h_tex if tex else h, u.grad_h, tex))
    lines.math(lambda tex: _sum_line(u, "w_x", x_tex if tex else x, u.grad_x, tex))
    lines.math(lambda tex: _sum_line(u, "b", None, u.grad_b, tex))
    lines.say("The output's weights are used once: ", r"The output's weights are used once: ")
    lines.math(lambda tex: f"{partial('L', 'w_o', tex)} = {_s('delta', 'o', tex)}{times(tex)}{_s('h', u.T, tex)} = "
               f"{num.product([u.delta[L], u.h[u.T]], tex=tex)} = {value_text(n.grad_W[L][0][0], tex)}"
               f"{apart(tex)}{partial('L', 'b_o', tex)} = {_s('delta', 'o', tex)} = {value_text(n.grad_b[L][0], tex)}")
    return lines.step("The shared weights' gradients: sums over time", q(Kind.WEIGHT_GRADIENT, 1),
                      q(Kind.BIAS_GRADIENT, 1), q(Kind.WEIGHT_GRADIENT, L), q(Kind.BIAS_GRADIENT, L))


_OUTCOME = {"shrinks": "So the early steps' terms of ∂L/∂w_h and ∂L/∂w_x carry less of the loss's signal, and over "
                        "many steps almost none: the gradient vanishes through time.",
            "grows": "Here the factors' product is above 1 in size: over many steps such a gradient explodes "
                     "instead of vanishing."}


def _vanishing(u: Unrolled) -> Step:
    """Each step back multiplies δ by w_h·f′(zₜ): the product of those factors, with the numbers."""
    lines = Lines()
    factors = {t: u.w_h * u.slope[t] for t in range(1, u.T)}
    product = sp.Mul(*factors.values())
    lines.math(lambda tex: f"{_s('delta', 1, tex)} = {_s('delta', u.T, tex)}{times(tex)}" + times(tex).join(
        f"(w_h{times(tex)}{prime(u.f, tex)}({_s('z', t, tex)}))" for t in range(u.T - 1, 0, -1)) +
        f" = {num.factor(u.delta[u.T], tex=tex)}{times(tex)}" + times(tex).join(
            num.factor(factors[t], tex=tex) for t in range(u.T - 1, 0, -1)) + f" = {value_text(u.delta[1], tex)}")
    terms = ", ".join(f"|δ{sub(str(t))}| = {num.pretty(abs(u.delta[t]))}" for t in range(u.T, 0, -1))
    shrink = "shrinks" if abs(product) < 1 else "grows"
    lines.say(f"Why gradients vanish through time: each step back multiplies δ by w_h·{prime(u.f)}(z) of that step, here "
              f"{' and '.join(num.pretty(factors[t]) for t in range(u.T - 1, 0, -1))}; {prime(u.f)} ≤ "
              f"{'1' if u.f == 'tanh' else '1/4' if u.f == 'sigmoid' else 'its maximum'}, so unless |w_h| is large each "
              f"factor is below 1 in size and the signal from the loss {shrink} (×{num.pretty(abs(product))} over "
              f"{u.T - 1} step{'s' * (u.T > 2)} here): {terms}. " + _OUTCOME[shrink])
    return lines.step("Why the gradient shrinks through time")


def _update(sol: NetworkSolution, u: Unrolled) -> Step:
    n, L, eta = sol.numeric, u.T + 1, sol.network.learning_rate
    lines = Lines()
    lines.say(f"One step of gradient descent with η = {num.pretty(eta)} (each shared weight once, with its summed "
              "gradient):", rf"One step of gradient descent with $\eta = {num.latex(eta)}$ (each shared weight once, "
              "with its summed gradient):")
    rows = [("w_x", u.w_x, u.grad_x, n.W_new[1][0][0]), ("w_h", u.w_h, u.grad_h, n.W_new[1][0][1]),
            ("b", u.b, u.grad_b, n.b_new[1][0]), ("w_o", u.w_o, n.grad_W[L][0][0], n.W_new[L][0][0]),
            ("b_o", u.b_o, n.grad_b[L][0], n.b_new[L][0])]
    for name, old, grad, new in rows:
        lines.math(lambda tex, name=name, old=old, grad=grad, new=new: f"{name} = {value_text(old, tex)} "
                   f"{'-' if tex else '−'} {num.product([eta, grad], tex=tex)} = {value_text(new, tex)}")
    return lines.step("The update", q(Kind.WEIGHT_NEW, 1), q(Kind.BIAS_NEW, 1), q(Kind.WEIGHT_NEW, L),
                      q(Kind.BIAS_NEW, L))

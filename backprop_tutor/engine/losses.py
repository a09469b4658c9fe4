"""Loss functions: SymPy definitions over outputs o and targets t, derivatives by SymPy.

Each loss is written once as a SymPy expression in the symbols o0..o(n−1), t0..t(n−1); its
gradient ∂L/∂oⱼ is `sympy.diff` of that expression. The statements name the constant factor,
because the ½ in half_sse and the 1/n in mse are exactly where learners lose marks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from backprop_tutor.engine import numbers as num


@dataclass(frozen=True)
class Loss:
    name: str
    build: Callable[[Sequence[sp.Symbol], Sequence[sp.Symbol]], sp.Expr]
    unicode: str
    latex: str
    factor_note: str  # the constant factor, said in words
    # How a worked solution writes the loss with the numbers put in: the factor in front of the
    # bracketed sum for n outputs ("" for none), and the sum's term for one output (oⱼ, tⱼ).
    shown_factor: Callable[[int, bool], str]
    shown_term: Callable[[sp.Expr, sp.Expr, bool], str]
    softmax_shortcut: bool = False  # after softmax, ∂L/∂zⱼ = oⱼ − tⱼ when the targets sum to 1

    def expr(self, n: int) -> sp.Expr:
        return _expr(self.name, n)

    def gradient(self, n: int) -> tuple[sp.Expr, ...]:
        """(∂L/∂o₀, …, ∂L/∂oₙ₋₁) as SymPy expressions in the o and t symbols."""
        return _gradient(self.name, n)

    def substituted(self, o: Sequence[sp.Expr], t: Sequence[sp.Expr], tex: bool = False) -> str:
        """The loss with the outputs and targets put in, Unicode or LaTeX (without "L ="):
        ½[(0.01 − 0.75)² + (0.99 − 0.77)²], −[0·ln(0.2) + 1·ln(0.8)] …"""
        factor = self.shown_factor(len(o), tex)
        inner = " + ".join(self.shown_term(oj, tj, tex) for oj, tj in zip(o, t))
        if not factor:
            return inner
        return rf"{factor}\left[{inner}\right]" if tex else f"{factor}[{inner}]"


@lru_cache(maxsize=None)
def symbols(n: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    o = sp.symbols(f"o0:{n}", real=True)
    t = sp.symbols(f"t0:{n}", real=True)
    return tuple(o), tuple(t)


@lru_cache(maxsize=None)
def _expr(name: str, n: int) -> sp.Expr:
    o, t = symbols(n)
    return LOSSES[name].build(o, t)


@lru_cache(maxsize=None)
def _gradient(name: str, n: int) -> tuple[sp.Expr, ...]:
    o, _ = symbols(n)
    expr = _expr(name, n)
    return tuple(sp.diff(expr, oj) for oj in o)


def _squares(o, t):
    return sp.Add(*[(tj - oj) ** 2 for oj, tj in zip(o, t)])


# --- the display of the substituted loss (numbers at the worked solution's digits) -------------------

def _number(value: sp.Expr, tex: bool) -> str:
    return num.latex(value) if tex else num.pretty(value)


def _ln(value: sp.Expr, tex: bool) -> str:
    return (r"\ln" if tex else "ln") + f"({_number(value, tex)})"


def _times(tex: bool) -> str:
    return r" \cdot " if tex else "·"


def _square_term(o: sp.Expr, t: sp.Expr, tex: bool) -> str:
    difference = num.difference(t, o, tex=tex)
    return f"({difference})^2" if tex else f"({difference})²"


def _log_term(o: sp.Expr, t: sp.Expr, tex: bool) -> str:
    return f"{_number(t, tex)}{_times(tex)}{_ln(o, tex)}"


def _binary_log_term(o: sp.Expr, t: sp.Expr, tex: bool) -> str:
    return f"{_log_term(o, t, tex)} + {_log_term(1 - o, 1 - t, tex)}"


_LOSSES = [
    Loss(
        "half_sse", lambda o, t: _squares(o, t) / 2,
        "L = ½ Σⱼ (tⱼ − oⱼ)²", r"L = \tfrac{1}{2} \sum_j (t_j - o_j)^2",
        "the factor ½ cancels the 2 of the power rule: ∂L/∂oⱼ = oⱼ − tⱼ",
        lambda n, tex: r"\tfrac{1}{2}" if tex else "½", _square_term,
    ),
    Loss(
        "sse", lambda o, t: _squares(o, t),
        "L = Σⱼ (tⱼ − oⱼ)²", r"L = \sum_j (t_j - o_j)^2",
        "no ½ here, so the power rule leaves a 2: ∂L/∂oⱼ = 2(oⱼ − tⱼ)",
        lambda n, tex: "", _square_term,
    ),
    Loss(
        "mse", lambda o, t: _squares(o, t) / len(o),
        "L = (1/n) Σⱼ (tⱼ − oⱼ)²", r"L = \frac{1}{n} \sum_j (t_j - o_j)^2",
        "the mean divides by n, the number of outputs: ∂L/∂oⱼ = (2/n)(oⱼ − tⱼ)",
        lambda n, tex: rf"\tfrac{{1}}{{{n}}}" if tex else f"(1/{n})", _square_term,
    ),
    Loss(
        "bce",
        lambda o, t: -sp.Add(*[tj * sp.log(oj) + (1 - tj) * sp.log(1 - oj) for oj, tj in zip(o, t)])
        / len(o),
        "L = −(1/n) Σⱼ [tⱼ ln oⱼ + (1 − tⱼ) ln(1 − oⱼ)]",
        r"L = -\frac{1}{n} \sum_j \bigl[t_j \ln o_j + (1 - t_j) \ln(1 - o_j)\bigr]",
        "averaged over the n outputs: ∂L/∂oⱼ = (1/n)(oⱼ − tⱼ)/(oⱼ(1 − oⱼ))",
        lambda n, tex: rf"-\tfrac{{1}}{{{n}}}" if tex else f"−(1/{n})", _binary_log_term,
    ),
    Loss(
        "cross_entropy", lambda o, t: -sp.Add(*[tj * sp.log(oj) for oj, tj in zip(o, t)]),
        "L = −Σⱼ tⱼ ln oⱼ", r"L = -\sum_j t_j \ln o_j",
        "a sum, not a mean (no 1/n); after softmax, ∂L/∂zⱼ simplifies to oⱼ − tⱼ when Σ t = 1",
        lambda n, tex: "-" if tex else "−", _log_term, softmax_shortcut=True,
    ),
]

LOSSES: dict[str, Loss] = {loss.name: loss for loss in _LOSSES}
NAMES: tuple[str, ...] = tuple(LOSSES)

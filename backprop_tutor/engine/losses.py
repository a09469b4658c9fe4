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



@dataclass(frozen=True)
class Loss:
    name: str
    build: Callable[[Sequence[sp.Symbol], Sequence[sp.Symbol]], sp.Expr]
    unicode: str
    latex: str
    factor_note: str  # the constant factor, said in words

    def expr(self, n: int) -> sp.Expr:
        return _expr(self.name, n)

    def gradient(self, n: int) -> tuple[sp.Expr, ...]:
        """(∂L/∂o₀, …, ∂L/∂oₙ₋₁) as SymPy expressions in the o and t symbols."""
        return _gradient(self.name, n)


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


_LOSSES = [
    Loss(
        "half_sse", lambda o, t: _squares(o, t) / 2,
        "L = ½ Σⱼ (tⱼ − oⱼ)²", r"L = \tfrac{1}{2} \sum_j (t_j - o_j)^2",
        "the factor ½ cancels the 2 of the power rule: ∂L/∂oⱼ = oⱼ − tⱼ",
    ),
    Loss(
        "sse", lambda o, t: _squares(o, t),
        "L = Σⱼ (tⱼ − oⱼ)²", r"L = \sum_j (t_j - o_j)^2",
        "no ½ here, so the power rule leaves a 2: ∂L/∂oⱼ = 2(oⱼ − tⱼ)",
    ),
    Loss(
        "mse", lambda o, t: _squares(o, t) / len(o),
        "L = (1/n) Σⱼ (tⱼ − oⱼ)²", r"L = \frac{1}{n} \sum_j (t_j - o_j)^2",
        "the mean divides by n, the number of outputs: ∂L/∂oⱼ = (2/n)(oⱼ − tⱼ)",
    ),
    Loss(
        "bce",
        lambda o, t: -sp.Add(*[tj * sp.log(oj) + (1 - tj) * sp.log(1 - oj) for oj, tj in zip(o, t)])
        / len(o),
        "L = −(1/n) Σⱼ [tⱼ ln oⱼ + (1 − tⱼ) ln(1 − oⱼ)]",
        r"L = -\frac{1}{n} \sum_j \bigl[t_j \ln o_j + (1 - t_j) \ln(1 - o_j)\bigr]",
        "averaged over the n outputs: ∂L/∂oⱼ = (1/n)(oⱼ − tⱼ)/(oⱼ(1 − oⱼ))",
    ),
    Loss(
        "cross_entropy", lambda o, t: -sp.Add(*[tj * sp.log(oj) for oj, tj in zip(o, t)]),
        "L = −Σⱼ tⱼ ln oⱼ", r"L = -\sum_j t_j \ln o_j",
        "a sum, not a mean (no 1/n); after softmax, ∂L/∂zⱼ simplifies to pⱼ − tⱼ when Σ t = 1",
    ),
]

LOSSES: dict[str, Loss] = {loss.name: loss for loss in _LOSSES}
NAMES: tuple[str, ...] = tuple(LOSSES)

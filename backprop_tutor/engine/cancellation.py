"""Where the output slope cancels the loss's derivative: sigmoid with binary cross-entropy,
∂L/∂o · σ′(z) = (o − t)/(o(1 − o)) · o(1 − o) = o − t. A teacher shows this simplification
because it is why logistic regression's δ is so simple; SymPy decides where it happens (for
every loss and activation), so no pair is named here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from backprop_tutor.engine import losses
from backprop_tutor.engine.activations import ELEMENTWISE, a
from backprop_tutor.engine.derivations import add, mul, neg


@dataclass(frozen=True)
class Cancellation:
    """∂L/∂oⱼ = factor·(oⱼ − tⱼ)/slope, so δⱼ = ∂L/∂oⱼ · slope = factor·(oⱼ − tⱼ)."""

    factor: sp.Expr  # a constant: 1, or 1/n for a mean
    difference: sp.Expr  # oⱼ − tⱼ, unevaluated so that it prints in that order
    slope: sp.Expr  # f′ written in oⱼ: oⱼ(1 − oⱼ)

    @property
    def result(self) -> sp.Expr:
        return self.difference if self.factor == 1 else mul(self.factor, self.difference)


@lru_cache(maxsize=None)
def cancelled_delta(loss: str, activation: str, n: int, j: int) -> Cancellation | None:
    """The cancellation, when ∂L/∂oⱼ · f′ is a constant times oⱼ − tⱼ; None where the slope
    does not cancel (f′ is not written in o, or the loss has no o(1 − o) to cancel)."""
    act = ELEMENTWISE.get(activation)
    if act is None or act.output_slope is None:
        return None
    o, t = losses.symbols(n)
    slope = act.output_slope.xreplace({a: o[j]})
    factor = sp.cancel(losses.LOSSES[loss].gradient(n)[j] * slope / (o[j] - t[j]))
    if factor.free_symbols:
        return None
    return Cancellation(factor, add(o[j], neg(t[j])), slope)

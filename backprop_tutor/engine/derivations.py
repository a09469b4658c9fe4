"""Each activation's derivative derived as a teacher writes it on the board: f rewritten, then
the chain, product or quotient rule, then the algebra down to the textbook form (σ(z)(1 − σ(z)),
1 − tanh²(z), …).

Every line is a SymPy expression kept unevaluated (so it prints as written) in z and in a few
named functions the textbook uses (σ, Φ, φ, and gelu_tanh's inner u); `expanded` puts their
definitions back, and the tests check that every line equals `sympy.diff` of the activation.
Piecewise activations are derived branch by branch; the kink convention is the activation's
own `kink_note`. The last line of a branch is the form worked solutions substitute numbers
into (worked/slopes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial

import sympy as sp

from backprop_tutor.engine.activations import GELU_TANH_CUBIC, LEAKY_SLOPE, z

sigma = sp.Function("sigma")  # σ(z) = 1/(1 + e^(−z))
Phi = sp.Function("Phi")  # Φ(z), the standard normal CDF
phi = sp.Function("phi")  # φ(z) = Φ′(z), its density
u = sp.Function("u")  # gelu_tanh's inner argument √(2/π)(z + 0.044715·z³)

# Decimal constants print as the decimals a textbook writes (0.01, not 1/100); `expanded`
# puts their exact values back.
LEAKY = sp.Symbol("0.01")
CUBIC = sp.Symbol("0.044715")
CUBIC3 = sp.Symbol("0.134145")  # 3 · 0.044715, the cubic term's derivative
_CONSTANTS = {LEAKY: LEAKY_SLOPE, CUBIC: GELU_TANH_CUBIC, CUBIC3: 3 * GELU_TANH_CUBIC}

_x = sp.Dummy("x")
_DEFINITIONS = {
    sigma: sp.Lambda(_x, 1 / (1 + sp.exp(-_x))),
    Phi: sp.Lambda(_x, (1 + sp.erf(_x / sp.sqrt(2))) / 2),
    phi: sp.Lambda(_x, sp.exp(-_x**2 / 2) / sp.sqrt(2 * sp.pi)),
    u: sp.Lambda(_x, sp.sqrt(2 / sp.pi) * (_x + GELU_TANH_CUBIC * _x**3)),
}
NAMED = tuple(_DEFINITIONS)

# Unevaluated builders: the expression keeps the order and grouping it is written in.
add = partial(sp.Add, evaluate=False)
mul = partial(sp.Mul, evaluate=False)
power = partial(sp.Pow, evaluate=False)
neg = partial(sp.Mul, -1, evaluate=False)
HALF = sp.Rational(1, 2)


def over(numerator: sp.Expr, denominator: sp.Expr) -> sp.Expr:
    reciprocal = power(denominator, -1)
    return reciprocal if numerator == 1 else mul(numerator, reciprocal)


@lru_cache(maxsize=4096)  # the worked slopes expand the same few forms for every unit of every variant
def expanded(expr: sp.Expr) -> sp.Expr:
    """The expression with σ, Φ, φ, u and the decimal constants replaced by their definitions."""
    for function, definition in _DEFINITIONS.items():
        expr = expr.replace(function, definition)
    return expr.xreplace(_CONSTANTS)


@dataclass(frozen=True)
class Line:
    """One line of a derivation: the rule or algebra that gives it, and f′(z) written so."""

    reason: str  # Unicode
    reason_latex: str  # LaTeX text mode, math in $…$
    expr: sp.Expr  # f′(z), unevaluated


@dataclass(frozen=True)
class Branch:
    """A derivation on one side of a kink (or everywhere, for a smooth activation)."""

    condition: sp.Boolean  # where it holds (sp.true for a smooth activation)
    start: sp.Expr  # f(z) on this side, written the way it is differentiated
    lines: tuple[Line, ...]

    @property
    def result(self) -> sp.Expr:
        """The textbook form of f′ on this side: what numbers are substituted into."""
        return self.lines[-1].expr


def branch_at(name: str, value: sp.Expr) -> Branch:
    """The branch whose formula gives f′ at `value`: the first whose condition holds, else the
    last, as the activation's Piecewise does (so relu′(0) = 0 and leaky_relu′(0) = 0.01)."""
    branches = DERIVATIONS[name]
    for branch in branches[:-1]:
        if bool(branch.condition.subs(z, value)):
            return branch
    return branches[-1]


def _smooth(start: sp.Expr, *lines: Line) -> tuple[Branch, ...]:
    return (Branch(sp.true, start, lines),)


_E_MINUS = sp.exp(-z)
_E_PLUS = sp.exp(z)
_ONE_PLUS_E = add(1, _E_MINUS)

DERIVATIONS: dict[str, tuple[Branch, ...]] = {
    "identity": _smooth(
        z, Line("power rule: d z/dz = 1", r"power rule: $dz/dz = 1$", sp.Integer(1)),
    ),
    "sigmoid": _smooth(
        power(_ONE_PLUS_E, -1),
        Line("chain rule: the power −1 brings down −(1 + e^(−z))^(−2), times the inner derivative "
             "d(1 + e^(−z))/dz = −e^(−z)",
             r"chain rule: the power $-1$ brings down $-(1 + e^{-z})^{-2}$, times the inner derivative "
             r"$\frac{d}{dz}(1 + e^{-z}) = -e^{-z}$",
             mul(neg(power(_ONE_PLUS_E, -2)), neg(_E_MINUS))),
        Line("the two minus signs cancel", "the two minus signs cancel",
             over(_E_MINUS, power(_ONE_PLUS_E, 2))),
        Line("split the fraction: 1/(1 + e^(−z)) · e^(−z)/(1 + e^(−z)); the first factor is σ(z), and "
             "e^(−z)/(1 + e^(−z)) = 1 − 1/(1 + e^(−z)) = 1 − σ(z)",
             r"split the fraction: $\frac{1}{1 + e^{-z}} \cdot \frac{e^{-z}}{1 + e^{-z}}$; the first factor is $\sigma(z)$, "
             r"and $\frac{e^{-z}}{1 + e^{-z}} = 1 - \frac{1}{1 + e^{-z}} = 1 - \sigma(z)$",
             mul(sigma(z), add(1, neg(sigma(z))))),
    ),
    "tanh": _smooth(
        over(sp.sinh(z), sp.cosh(z)),
        Line("quotient rule (u/v)′ = (u′v − uv′)/v², with sinh′ = cosh and cosh′ = sinh",
             r"quotient rule $(u/v)' = (u'v - uv')/v^2$, with $\sinh' = \cosh$ and $\cosh' = \sinh$",
             over(add(mul(sp.cosh(z), sp.cosh(z)), neg(mul(sp.sinh(z), sp.sinh(z)))), power(sp.cosh(z), 2))),
        Line("divide each term by cosh²(z)", r"divide each term by $\cosh^2(z)$",
             add(1, neg(over(power(sp.sinh(z), 2), power(sp.cosh(z), 2))))),
        Line("sinh/cosh = tanh", r"$\sinh/\cosh = \tanh$", add(1, neg(power(sp.tanh(z), 2)))),
    ),
    "relu": (
        Branch(z > 0, z, (Line("for z > 0, relu(z) = z, and d z/dz = 1", r"for $z > 0$, $\operatorname{relu}(z) = z$, and $dz/dz = 1$",
                               sp.Integer(1)),)),
        Branch(z < 0, sp.Integer(0), (Line("for z < 0, relu(z) = 0, a constant, whose derivative is 0",
                                           r"for $z < 0$, $\operatorname{relu}(z) = 0$, a constant, whose derivative is 0",
                                           sp.Integer(0)),)),
    ),
    "leaky_relu": (
        Branch(z > 0, z, (Line("for z > 0, leaky_relu(z) = z, and d z/dz = 1",
                               r"for $z > 0$, $\operatorname{leaky\_relu}(z) = z$, and $dz/dz = 1$", sp.Integer(1)),)),
        Branch(z < 0, mul(LEAKY, z), (Line("for z < 0, leaky_relu(z) = 0.01·z, a constant times z, whose derivative is the constant",
                                           r"for $z < 0$, $\operatorname{leaky\_relu}(z) = 0.01\,z$, a constant times $z$, whose derivative is the constant",
                                           LEAKY),)),
    ),
    "softplus": _smooth(
        sp.log(add(1, _E_PLUS)),
        Line("chain rule: d ln(v)/dv = 1/v with v = 1 + e^z, times dv/dz = e^z",
             r"chain rule: $\frac{d}{dv}\ln v = 1/v$ with $v = 1 + e^{z}$, times $\frac{dv}{dz} = e^{z}$",
             mul(over(1, add(1, _E_PLUS)), _E_PLUS)),
        Line("divide top and bottom by e^z", r"divide top and bottom by $e^{z}$", over(1, _ONE_PLUS_E)),
        Line("which is the sigmoid", "which is the sigmoid", sigma(z)),
    ),
    "elu": (
        Branch(z > 0, z, (Line("for z > 0, elu(z) = z, and d z/dz = 1", r"for $z > 0$, $\operatorname{elu}(z) = z$, and $dz/dz = 1$",
                               sp.Integer(1)),)),
        Branch(z < 0, add(_E_PLUS, -1), (Line("for z < 0, elu(z) = e^z − 1: the exponential is its own derivative and the constant's is 0",
                                              r"for $z < 0$, $\operatorname{elu}(z) = e^{z} - 1$: the exponential is its own derivative and the constant's is 0",
                                              _E_PLUS),)),
    ),
    "silu": _smooth(
        mul(z, sigma(z)),
        Line("product rule (z·σ(z))′ = 1·σ(z) + z·σ′(z), with σ′(z) = σ(z)(1 − σ(z))",
             r"product rule $(z\,\sigma(z))' = 1 \cdot \sigma(z) + z\,\sigma'(z)$, with $\sigma'(z) = \sigma(z)(1 - \sigma(z))$",
             add(sigma(z), mul(z, sigma(z), add(1, neg(sigma(z)))))),
        Line("take out the common factor σ(z)", r"take out the common factor $\sigma(z)$",
             mul(sigma(z), add(1, mul(z, add(1, neg(sigma(z))))))),
    ),
    "gelu": _smooth(
        mul(z, Phi(z)),
        Line("product rule (z·Φ(z))′ = Φ(z) + z·Φ′(z); Φ(z) = (1 + erf(z/√2))/2, and by the chain rule "
             "Φ′(z) = ½ · (2/√π)·e^(−z²/2) · 1/√2",
             r"product rule $(z\,\Phi(z))' = \Phi(z) + z\,\Phi'(z)$; $\Phi(z) = \tfrac{1}{2}(1 + \operatorname{erf}(z/\sqrt{2}))$, "
             r"and by the chain rule $\Phi'(z) = \tfrac{1}{2} \cdot \tfrac{2}{\sqrt{\pi}} e^{-z^2/2} \cdot \tfrac{1}{\sqrt{2}}$",
             add(Phi(z), mul(z, HALF, over(2, sp.sqrt(sp.pi)), sp.exp(-z**2 / 2), over(1, sp.sqrt(2))))),
        Line("the constants make 1/√(2π): Φ′(z) is the normal density φ(z) = e^(−z²/2)/√(2π)",
             r"the constants make $1/\sqrt{2\pi}$: $\Phi'(z)$ is the normal density $\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}$",
             add(Phi(z), mul(z, phi(z)))),
    ),
    "gelu_tanh": _smooth(
        mul(HALF, z, add(1, sp.tanh(u(z)))),
        Line("product rule on ½·z·(1 + tanh u), then the chain rule for tanh u: (1 − tanh² u)·u′(z), "
             "with u = √(2/π)(z + 0.044715·z³) and u′(z) = √(2/π)(1 + 3·0.044715·z²)",
             r"product rule on $\tfrac{1}{2} z (1 + \tanh u)$, then the chain rule for $\tanh u$: $(1 - \tanh^2 u)\,u'(z)$, "
             r"with $u = \sqrt{2/\pi}\,(z + 0.044715 z^3)$ and $u'(z) = \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715 z^2)$",
             add(mul(HALF, add(1, sp.tanh(u(z)))),
                 mul(HALF, z, add(1, neg(power(sp.tanh(u(z)), 2))), sp.sqrt(2 / sp.pi), add(1, mul(CUBIC3, power(z, 2)))))),
    ),
    "step": (
        Branch(z > 0, sp.Integer(1), (Line("for z > 0, step(z) = 1, a constant: its derivative is 0",
                                           r"for $z > 0$, $\operatorname{step}(z) = 1$, a constant: its derivative is 0",
                                           sp.Integer(0)),)),
        Branch(z < 0, sp.Integer(0), (Line("for z < 0, step(z) = 0, a constant: its derivative is 0",
                                           r"for $z < 0$, $\operatorname{step}(z) = 0$, a constant: its derivative is 0",
                                           sp.Integer(0)),)),
    ),
}

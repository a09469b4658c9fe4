"""Activation functions: SymPy definitions, derivatives taken by SymPy, display forms.

Every activation is a SymPy expression in one symbol; its derivative is `sympy.diff` of that
expression, never typed by hand. The `textbook` derivative is only a *display* form (what a
lecture writes, e.g. σ(z)(1 − σ(z))); the tests check that it equals SymPy's derivative.

Conventions at kinks (stated in worked solutions where they matter): relu′(0) = 0,
leaky_relu′(0) = 0.01, step(0) = 1 and step′ = 0 everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import mpmath
import sympy as sp
from sympy.core.basic import Basic
from sympy.functions.elementary.piecewise import ExprCondPair

from backprop_tutor.engine.dag import free_symbols_of, tree_larger_than
from backprop_tutor.engine.numbers import WORK_DPS

z = sp.Symbol("z", real=True)
a = sp.Symbol("a", real=True)  # a unit's output, f(z)

LEAKY_SLOPE = sp.Rational(1, 100)
GELU_TANH_CUBIC = sp.Rational(44715, 1_000_000)


@dataclass(frozen=True)
class Activation:
    name: str
    expr: sp.Expr  # f(z)
    unicode: str  # "σ(z) = 1/(1 + e^(−z))"
    latex: str
    textbook_derivative: sp.Expr  # display form of f′(z), verified against sympy.diff
    derivative_unicode: str
    derivative_latex: str
    kink_note: str = ""  # the convention at a point where f is not differentiable
    symbol: str = ""  # how text names f (σ for sigmoid); the name when not given

    def __post_init__(self) -> None:
        if not self.symbol:
            object.__setattr__(self, "symbol", self.name)

    @cached_property
    def derivative(self) -> sp.Expr:
        return sp.diff(self.expr, z)

    @cached_property
    def kinked(self) -> bool:
        """Defined piecewise, so not differentiable at the joins (relu, leaky_relu, elu, step)."""
        return self.expr.has(sp.Piecewise)

    @cached_property
    def output_slope(self) -> sp.Expr | None:
        """f′ written in the unit's output a = f(z) where the textbook writes it so (σ′ = a(1 − a),
        tanh′ = 1 − a²), found by putting a for f(z) in the textbook derivative; None where f′
        needs z itself (relu, softplus, …) or is a constant."""
        form = self.textbook_derivative.xreplace({self.expr: a})
        return form if a in form.free_symbols and z not in form.free_symbols else None

    @cached_property
    def _numeric(self):
        return sp.lambdify(z, self.expr, "mpmath")

    def __call__(self, value: sp.Expr) -> sp.Expr:
        """f at a number: exact for an exact one, at the Float's own precision for a Float."""
        if value.is_Float:
            return float_call(self._numeric, value)
        if value.is_Atom or not tree_larger_than(value, AS_WRITTEN_SIZE) or not free_symbols_of(value):
            return self.expr.xreplace({z: value})
        if self.kinked:
            return _piecewise_as_written(self.expr, value)
        with sp.evaluate(False):  # gelu_tanh(gelu_tanh(…)): SymPy would ask whether z³ of a nest is finite
            return self.expr.xreplace({z: value})

    def prime(self, value: sp.Expr) -> sp.Expr:
        """f′ at an exact number, exactly."""
        return self.derivative.xreplace({z: value})


# An argument of a formula past this many nodes is put into f as written, not simplified on the way:
# SymPy's simplification of f(a nest) costs more with every level of the nest (seconds at six).
AS_WRITTEN_SIZE = 40


def _piecewise_as_written(expr: sp.Piecewise, value: sp.Expr) -> sp.Piecewise:
    """A piecewise f of an argument itself piecewise in a variable (elu(elu(z))), built as
    written. SymPy's Piecewise would fold the argument's pieces into its conditions as sets,
    which took seconds for elu nested four deep and grows with every level; this form means the
    same and is evaluated as it stands (engine/bounded.py)."""
    pairs = []
    with sp.evaluate(False):
        for expression, condition in expr.args:
            if condition is not sp.true:
                condition = condition.func(*(side.xreplace({z: value}) for side in condition.args))
            pairs.append(Basic.__new__(ExprCondPair, expression.xreplace({z: value}), condition))
    return Basic.__new__(sp.Piecewise, *pairs)


def float_call(function, *values: sp.Float) -> sp.Float:
    """A lambdified SymPy expression evaluated by mpmath at the Floats' own precision: the same
    number SymPy's evalf gives, without rebuilding and re-simplifying the expression tree."""
    prec = max(v._prec for v in values)
    with mpmath.workprec(prec):
        result = mpmath.mpf(function(*[mpmath.mpf(v._mpf_) for v in values]))
    return sp.Float._new(result._mpf_, prec)


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def _phi(x: sp.Expr) -> sp.Expr:
    """Standard normal CDF Φ(x)."""
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


_GELU_TANH_INNER = sp.sqrt(2 / sp.pi) * (z + GELU_TANH_CUBIC * z**3)

_ELEMENTWISE = [
    Activation(
        "identity", z, "f(z) = z", r"f(z) = z",
        sp.Integer(1), "f′(z) = 1", r"f'(z) = 1",
    ),
    Activation(
        "sigmoid", _sigmoid(z), "σ(z) = 1/(1 + e^(−z))", r"\sigma(z) = \frac{1}{1 + e^{-z}}",
        _sigmoid(z) * (1 - _sigmoid(z)), "σ′(z) = σ(z)(1 − σ(z))",
        r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))", symbol="σ",
    ),
    Activation(
        "tanh", sp.tanh(z), "tanh(z)", r"\tanh(z)",
        1 - sp.tanh(z) ** 2, "tanh′(z) = 1 − tanh²(z)", r"\tanh'(z) = 1 - \tanh^2(z)",
    ),
    Activation(
        "relu", sp.Piecewise((z, z > 0), (0, True)), "relu(z) = max(0, z)",
        r"\operatorname{relu}(z) = \max(0, z)",
        sp.Piecewise((1, z > 0), (0, True)), "relu′(z) = 1 if z > 0, else 0",
        r"\operatorname{relu}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
        "relu′(0) = 0 by convention",
    ),
    Activation(
        "leaky_relu", sp.Piecewise((z, z > 0), (LEAKY_SLOPE * z, True)),
        "leaky_relu(z) = z if z > 0, else 0.01·z",
        r"\operatorname{leaky\_relu}(z) = \begin{cases} z & z > 0 \\ 0.01\,z & z \le 0 \end{cases}",
        sp.Piecewise((1, z > 0), (LEAKY_SLOPE, True)), "leaky_relu′(z) = 1 if z > 0, else 0.01",
        r"\operatorname{leaky\_relu}'(z) = \begin{cases} 1 & z > 0 \\ 0.01 & z \le 0 \end{cases}",
        "leaky_relu′(0) = 0.01 by convention",
    ),
    Activation(
        "softplus", sp.log(1 + sp.exp(z)), "softplus(z) = ln(1 + e^z)",
        r"\operatorname{softplus}(z) = \ln(1 + e^{z})",
        _sigmoid(z), "softplus′(z) = σ(z)", r"\operatorname{softplus}'(z) = \sigma(z)",
    ),
    Activation(
        "elu", sp.Piecewise((z, z > 0), (sp.exp(z) - 1, True)),
        "elu(z) = z if z > 0, else e^z − 1",
        r"\operatorname{elu}(z) = \begin{cases} z & z > 0 \\ e^{z} - 1 & z \le 0 \end{cases}",
        sp.Piecewise((1, z > 0), (sp.exp(z), True)), "elu′(z) = 1 if z > 0, else e^z",
        r"\operatorname{elu}'(z) = \begin{cases} 1 & z > 0 \\ e^{z} & z \le 0 \end{cases}",
    ),
    Activation(
        "silu", z * _sigmoid(z), "silu(z) = z·σ(z)", r"\operatorname{silu}(z) = z\,\sigma(z)",
        _sigmoid(z) * (1 + z * (1 - _sigmoid(z))), "silu′(z) = σ(z)(1 + z(1 − σ(z)))",
        r"\operatorname{silu}'(z) = \sigma(z)\,\bigl(1 + z\,(1 - \sigma(z))\bigr)",
    ),
    Activation(
        "gelu", z * _phi(z), "gelu(z) = z·Φ(z),  Φ(z) = (1 + erf(z/√2))/2",
        r"\operatorname{gelu}(z) = z\,\Phi(z),\quad \Phi(z) = \tfrac{1}{2}\bigl(1 + \operatorname{erf}(z/\sqrt{2})\bigr)",
        _phi(z) + z * sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi), "gelu′(z) = Φ(z) + z·φ(z),  φ(z) = e^(−z²/2)/√(2π)",
        r"\operatorname{gelu}'(z) = \Phi(z) + z\,\varphi(z),\quad \varphi(z) = \frac{e^{-z^2/2}}{\sqrt{2\pi}}",
    ),
    Activation(
        "gelu_tanh", z / 2 * (1 + sp.tanh(_GELU_TANH_INNER)),
        "gelu_tanh(z) = ½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³)))",
        r"\operatorname{gelu_{tanh}}(z) = \tfrac{1}{2} z \bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,(z + 0.044715 z^3)\bigr)\bigr)",
        (1 + sp.tanh(_GELU_TANH_INNER)) / 2
        + z / 2 * (1 - sp.tanh(_GELU_TANH_INNER) ** 2) * sp.sqrt(2 / sp.pi) * (1 + 3 * GELU_TANH_CUBIC * z**2),
        "gelu_tanh′(z) = ½(1 + tanh u) + ½·z·(1 − tanh² u)·√(2/π)·(1 + 0.134145·z²),  u = √(2/π)(z + 0.044715·z³)",
        r"\operatorname{gelu_{tanh}}'(z) = \tfrac{1}{2}(1 + \tanh u) + \tfrac{1}{2} z (1 - \tanh^2 u)\sqrt{2/\pi}\,(1 + 0.134145 z^2)",
    ),
    Activation(
        "step", sp.Piecewise((1, z >= 0), (0, True)), "step(z) = 1 if z ≥ 0, else 0",
        r"\operatorname{step}(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}",
        sp.Integer(0), "step′(z) = 0 (wherever it is defined)", r"\operatorname{step}'(z) = 0",
        "step′ = 0: a nudge to the weights never changes the output, so the gradient is 0 and nothing learns",
    ),
]

ELEMENTWISE: dict[str, Activation] = {a.name: a for a in _ELEMENTWISE}

SOFTMAX = "softmax"
SOFTMAX_UNICODE = "softmax(z)ⱼ = e^(zⱼ) / Σₖ e^(zₖ)"
SOFTMAX_LATEX = r"\operatorname{softmax}(z)_j = \frac{e^{z_j}}{\sum_k e^{z_k}}"

NAMES: tuple[str, ...] = tuple(ELEMENTWISE) + (SOFTMAX,)


def display_name(name: str) -> str:
    """How text names an activation: its symbol (σ for sigmoid), or the name itself (softmax)."""
    return ELEMENTWISE[name].symbol if name in ELEMENTWISE else name


def softmax(values: list[sp.Expr]) -> list[sp.Expr]:
    total = sp.Add(*[sp.exp(v) for v in values])
    return [sp.exp(v) / total for v in values]


def softmax_sum(values) -> sp.Float:
    """Σₖ e^(zₖ), the softmax's denominator, at 50-digit decimals."""
    return sp.Add(*[sp.exp(v) for v in values]).evalf(WORK_DPS)

"""Symbols as docs/formats.md writes them, in Unicode (w⁽²⁾₀₁) and LaTeX (w^{(2)}_{01})."""

from __future__ import annotations

import re

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.numbers import superscript
from backprop_tutor.engine.quantities import Kind

_SUB = str.maketrans("0123456789jk,i+", "₀₁₂₃₄₅₆₇₈₉ⱼₖ,ᵢ₊")  # i, +: a conv1d position i + j

# Inside a formula the identity is "id"; every other activation is named by its display symbol
# (activations.display_name: σ for sigmoid).
_FUNCTION_UNICODE = {"identity": "id"}
_FUNCTION_LATEX = {"sigmoid": r"\sigma", "tanh": r"\tanh", "identity": r"\mathrm{id}"}
_INDEXED = re.compile(r"\b([ot])(\d+)")  # o0, t12: SymPy's names of the loss's outputs and targets


def sub(text: str) -> str:
    return text.translate(_SUB)


def symbol(name: str, layer: int | str | None = None, *indices: int | str, tex: bool = False) -> str:
    """`symbol("w", 2, 0, 1)` → w⁽²⁾₀₁; with tex=True → w^{(2)}_{01}."""
    # Indices run together (w₀₁) while every one is a single digit; past 9 a comma keeps them apart.
    sep = "," if any(len(str(i)) > 1 for i in indices) else ""
    index = sep.join(str(i) for i in indices)
    if tex:
        base = {"delta": r"\delta", "eta": r"\eta"}.get(name, name)
        layer_part = f"^{{({layer})}}" if layer is not None else ""
        index_part = f"_{{{index}}}" if index else ""
        return f"{base}{layer_part}{index_part}"
    base = {"delta": "δ", "eta": "η"}.get(name, name)
    layer_part = superscript(f"({layer})") if layer is not None else ""
    return f"{base}{layer_part}{sub(index)}"


def parameter_letter(parameter) -> str:
    """w for a weight, b for a bias."""
    return "w" if parameter.kind is Kind.WEIGHT else "k" if parameter.kind is Kind.KERNEL else "b"


def parameter_symbol(parameter, tex: bool = False) -> str:
    """A weight or bias by its id: W2[0][1] → w⁽²⁾₀₁, b1[0] → b⁽¹⁾₀."""
    return symbol(parameter_letter(parameter), parameter.layer, *parameter.index, tex=tex)


def function(name: str, tex: bool = False) -> str:
    """How an activation is named inside a formula: σ, tanh, relu …"""
    if tex:
        escaped = name.replace("_", "\\_")
        return _FUNCTION_LATEX.get(name, rf"\operatorname{{{escaped}}}")
    return _FUNCTION_UNICODE.get(name) or activations.display_name(name)


def prime(name: str, tex: bool = False) -> str:
    return function(name, tex) + ("'" if tex else "′")


def sympy_unicode(expr: sp.Expr) -> str:
    """A one-line Unicode form of a small SymPy expression: o₀ − t₀, −t₀/o₀, e^(−z)/(1 + e^(−z))^2 …"""
    text = (sp.sstr(expr).replace("**", "^").replace("*", "·").replace("exp(", "e^(").replace("-", "−")
            .replace("log", "ln"))
    return _INDEXED.sub(lambda m: m[1] + sub(m[2]), text)


# A written formula (engine/derivations.py) in Unicode: SymPy's names to the textbook's symbols.
_FORMULA_UNICODE = (("**2", "²"), ("**3", "³"), ("**", "^"), ("*", "·"), ("exp(", "e^("), ("sqrt(", "√("),
                    ("sigma(", "σ("), ("Phi(", "Φ("), ("phi(", "φ("), ("log(", "ln("), ("pi", "π"), ("-", "−"))

_ROOT_OF_ONE = re.compile(r"√\((\w)\)")  # √(2) → √2, √(π) → √π


def formula(expr: sp.Expr, tex: bool = False) -> str:
    """A formula printed in the order and grouping it was written in (order='none'), so an
    unevaluated line of a derivation reads as the teacher wrote it: σ(z)·(1 − σ(z)), 1 − tanh(z)²."""
    if tex:
        return sp.latex(expr, order="none", ln_notation=True, mul_symbol="dot").replace(r"\phi", r"\varphi")
    text = sp.sstr(expr, order="none")
    for old, new in _FORMULA_UNICODE:
        text = text.replace(old, new)
    return _INDEXED.sub(lambda m: m[1] + sub(m[2]), _ROOT_OF_ONE.sub(r"√\1", text))


def partial(numerator: str, denominator: str, tex: bool = False) -> str:
    if tex:
        return rf"\frac{{\partial {numerator}}}{{\partial {denominator}}}"
    return f"∂{numerator}/∂{denominator}"


def times(tex: bool = False) -> str:
    return r" \cdot " if tex else "·"


def apart(tex: bool) -> str:
    """Between two formulas on one line: a comma and a quad of space, not words run together."""
    return r",\quad " if tex else ",  "


def value_text(value, tex: bool, digits: int = num.SHOW_DIGITS) -> str:
    """A number as a worked step prints it: LaTeX, or Unicode text."""
    return num.latex(value, digits) if tex else num.pretty(value, digits)


def vector(values, tex: bool = False) -> str:
    inner = ", ".join(value_text(v, tex) for v in values)
    return rf"\left({inner}\right)" if tex else f"({inner})"


def points(value: float) -> str:
    """A part's worth as the sheets and the practice loop say it: 1 point, 2.5 points."""
    return f"{value:g} point" + ("" if value == 1 else "s")

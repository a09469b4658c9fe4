"""A unit's slope f′(z) as a teacher writes it in a δ step: the textbook form, then the numbers
put in, then the value: σ′(z) = σ(z)(1 − σ(z)) = 0.7·(1 − 0.7) = 0.7·0.3 = 0.21, or
tanh′(z) = 1 − tanh(z)² = 1 − 0.235² = 0.944. The learner's own rule, visibly used.

The form is the last line of the activation's derivation (engine/derivations.py), on the side of
the kink where z lies; each σ(z), tanh(z), Φ(z) … in it is replaced by its value, computed by
SymPy at the worked solution's 50 digits, and z by the unit's z.
"""

from __future__ import annotations

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activations import ELEMENTWISE, z
from backprop_tutor.engine.derivations import branch_at, expanded
from backprop_tutor.worked.notation import formula, prime, symbol
from backprop_tutor.worked.texescape import escape


def slope_chain(name: str, z_label: str, z_value: sp.Expr, slope: sp.Expr, tex: bool = False) -> str:
    """`σ(z⁽¹⁾₀)·(1 − σ(z⁽¹⁾₀)) = 0.467546·(1 − 0.467546) = 0.467546·0.532454 = 0.248947`: the form,
    the numbers, the sums worked out, and `slope` (the engine's f′(z)); for a piecewise
    activation, which side of the kink z is on."""
    branch = branch_at(name, z_value)
    form = branch.result
    numbers, values = _numbers_in(form, z_value, tex)
    shown = [formula(_unevaluated_xreplace(form, {z: sp.Symbol(z_label)}), tex), formula(numbers, tex),
             formula(_sums_worked_out(numbers, values, tex), tex), _fmt(slope, tex)]
    chain = " = ".join(dict.fromkeys(shown))  # a line that adds nothing (a bare number) is said once
    if branch.condition is not sp.true:
        side = "> 0" if z_value > 0 else (r"\le 0" if tex else "≤ 0")
        label = formula(sp.Symbol(z_label), tex)
        chain += (rf", \quad \text{{as }} {label} = {_fmt(z_value, tex)} {side}" if tex
                  else f", as {label} = {_fmt(z_value, tex)} {side}")
        note = ELEMENTWISE[name].kink_note
        if z_value == 0 and note:  # on the kink itself the convention decides
            chain += rf" \text{{ ({escape(note)})}}" if tex else f" ({note})"
    return chain


def unit_slope(sol, l: int, j: int, tex: bool = False) -> str:
    """`σ′(z⁽ˡ⁾ⱼ) = σ(z⁽ˡ⁾ⱼ)·(1 − σ(z⁽ˡ⁾ⱼ)) = … = 0.21`: unit j of layer l's slope, as one line of a
    worked δ step (unit by unit or in matrix form)."""
    name, n = sol.network.layers[l - 1].activation, sol.numeric
    label = symbol('z', l, j, tex=tex)
    return f"{prime(name, tex)}({label}) = " + slope_chain(name, label, n.z[l][j], n.slope[l][j], tex)


def substituted(expr: sp.Expr, values: dict[sp.Symbol, sp.Expr], tex: bool = False) -> tuple[sp.Expr, dict]:
    """`expr` with each symbol of `values` written as its number (negative ones in parentheses),
    still unevaluated so that it prints as a product or sum of numbers; and the numbers by name."""
    shown = {s: _number_symbol(v, tex) for s, v in values.items()}
    return _unevaluated_xreplace(expr, shown), {shown[s]: v for s, v in values.items()}


def _unevaluated_xreplace(expr: sp.Expr, rule: dict) -> sp.Expr:
    """xreplace that keeps the written order and grouping (xreplace itself re-evaluates)."""
    if expr in rule:
        return rule[expr]
    if not expr.args:
        return expr
    return expr.func(*[_unevaluated_xreplace(arg, rule) for arg in expr.args], evaluate=False)


def _numbers_in(form: sp.Expr, z_value: sp.Expr, tex: bool) -> tuple[sp.Expr, dict]:
    """The form with every function of z (σ(z), tanh(z), e^z …; outermost first, so tanh(u(z)) is
    one number) replaced by its value, and then z itself."""
    values: dict[sp.Symbol, sp.Expr] = {}

    def walk(node: sp.Expr) -> sp.Expr:
        if isinstance(node, sp.exp) and node.args[0] == z:
            # e^z is written e^(−1.12) with z put in, then its value: the power is the rule
            return sp.exp(sp.Symbol(num.latex(z_value) if tex else num.pretty(z_value)), evaluate=False)
        if isinstance(node, sp.Function) and node.has(z):
            value = num.evaluated(expanded(node).xreplace({z: z_value}))
            symbol = _number_symbol(value, tex)
            values[symbol] = value
            return symbol
        if not node.args:
            return node
        return node.func(*[walk(arg) for arg in node.args], evaluate=False)

    numbers, named = substituted(walk(form), {z: z_value}, tex)
    return numbers, {**values, **named}


def _sums_worked_out(expr: sp.Expr, values: dict, tex: bool) -> sp.Expr:
    """Each innermost sum of numbers replaced by its value: 0.7·(1 − 0.7) → 0.7·0.3."""
    if not expr.args:
        return expr
    if isinstance(expr, sp.Add) and not any(arg.has(sp.Add) for arg in expr.args):
        value = num.evaluated(expanded(expr.xreplace(values)))
        symbol = _number_symbol(value, tex)
        values[symbol] = value
        return symbol
    return expr.func(*[_sums_worked_out(arg, values, tex) for arg in expr.args], evaluate=False)


def _number_symbol(value: sp.Expr, tex: bool) -> sp.Symbol:
    """A number as a symbol named by its printed decimals, so SymPy prints it as written."""
    return sp.Symbol(num.factor(value, tex=tex))


def _fmt(value: sp.Expr, tex: bool) -> str:
    return num.latex(value) if tex else num.pretty(value)

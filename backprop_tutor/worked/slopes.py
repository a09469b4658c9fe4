"""A unit's slope f′(z) as a teacher writes it in a δ step: the textbook form, then the numbers
put in, then the value: σ′(z) = σ(z)(1 − σ(z)) = 0.7·(1 − 0.7) = 0.7·0.3 = 0.21, or
tanh′(z) = 1 − tanh(z)² = 1 − 0.235² = 0.944. The learner's own rule, visibly used.

The form is the last line of the activation's derivation (engine/derivations.py), on the side of
the kink where z lies; each σ(z), tanh(z), Φ(z) … in it is replaced by its value, computed by
SymPy at the worked solution's 50 digits, and z by the unit's z.
"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activations import ELEMENTWISE, z
from backprop_tutor.engine.derivations import branch_at, expanded
from backprop_tutor.worked.notation import formula, prime, symbol, value_text
from backprop_tutor.worked.texescape import escape


def slope_chain(name: str, z_label: str, z_value: sp.Expr, slope: sp.Expr, tex: bool = False) -> str:
    """`σ(z⁽¹⁾₀)·(1 − σ(z⁽¹⁾₀)) = 0.467546·(1 − 0.467546) = 0.467546·0.532454 = 0.248947`: the form,
    the numbers, the sums worked out, and `slope` (the engine's f′(z)); for a piecewise
    activation, which side of the kink z is on."""
    branch = branch_at(name, z_value)
    lines, places = _chain_template(branch.result, z_label, tex)
    numbers = {place: (num.latex(z_value) if tex else num.pretty(z_value)) if how is _PLAIN_Z
               else num.factor(_evaluate(how, z_value), tex=tex) for place, how in places.items()}
    shown = [_filled(line, numbers) for line in lines] + [value_text(slope, tex)]
    chain = " = ".join(dict.fromkeys(shown))  # a line that adds nothing (a bare number) is said once
    if branch.condition is not sp.true:
        side = "> 0" if z_value > 0 else (r"\le 0" if tex else "≤ 0")
        label = formula(sp.Symbol(z_label), tex)
        chain += (rf", \quad \text{{as }} {label} = {value_text(z_value, tex)} {side}" if tex
                  else f", as {label} = {value_text(z_value, tex)} {side}")
        note = ELEMENTWISE[name].kink_note
        if z_value == 0 and note:  # on the kink itself the convention decides
            chain += rf" \text{{ ({escape(note)})}}" if tex else f" ({note})"
    return chain


# A slope line is printed once per form, unit and format with placeholders for its numbers, and
# filled in per variant: printing SymPy expressions costs far more than the arithmetic.
_PLAIN_Z = object()  # the placeholder of z written plainly, as in e^(−1.12)


@lru_cache(maxsize=1024)
def _chain_template(form: sp.Expr, z_label: str, tex: bool) -> tuple[tuple[str, ...], dict[str, object]]:
    """The form, the form with its numbers put in, and the sums worked out, printed with
    placeholders; and what each placeholder stands for (an expression in z, or _PLAIN_Z)."""
    places: dict[sp.Symbol, object] = {}

    def place(meaning) -> sp.Symbol:
        for name, known in places.items():
            if known == meaning:
                return name
        name = sp.Symbol("QQQ" + "abcdefghijklmnopqrstuvwxyz"[len(places)])  # letters only: printed as is
        places[name] = meaning
        return name

    def walk(node: sp.Expr) -> sp.Expr:
        if isinstance(node, sp.exp) and node.args[0] == z:  # e^z: the power is the rule, z put in
            return sp.exp(place(_PLAIN_Z), evaluate=False)
        if node == z or isinstance(node, sp.Function) and node.has(z):  # outermost first: tanh(u(z)) is one number
            return place(node)
        if not node.args:
            return node
        return node.func(*[walk(arg) for arg in node.args], evaluate=False)

    def sums(node: sp.Expr) -> sp.Expr:
        """Each innermost sum of numbers replaced by its value: 0.7·(1 − 0.7) → 0.7·0.3."""
        if not node.args:
            return node
        if isinstance(node, sp.Add) and not any(arg.has(sp.Add) for arg in node.args):
            meaning = node.xreplace({s: m for s, m in places.items() if m is not _PLAIN_Z})
            return place(meaning)
        return node.func(*[sums(arg) for arg in node.args], evaluate=False)

    numbers = walk(form)
    worked = sums(numbers)
    lines = (formula(_unevaluated_xreplace(form, {z: sp.Symbol(z_label)}), tex), formula(numbers, tex),
             formula(worked, tex))
    return lines, {str(name): meaning for name, meaning in places.items()}


def _filled(line: str, numbers: dict[str, str]) -> str:
    for place in sorted(numbers, key=len, reverse=True):
        line = line.replace(place, numbers[place])
    return line


@lru_cache(maxsize=1024)
def _evaluator(meaning: sp.Expr):
    """`meaning` (an expression in z) as an mpmath function: evaluating it at the worked
    solution's 50 digits takes microseconds, where substituting into SymPy takes a millisecond."""
    return sp.lambdify(z, expanded(meaning), "mpmath")


@lru_cache(maxsize=4096)  # the text and the LaTeX of a slope line ask for the same numbers
def _evaluate(meaning: sp.Expr, z_value: sp.Expr) -> sp.Float:
    with mpmath.workdps(num.WORK_DPS):
        at = mpmath.mpf(str(num.evaluated(z_value)))  # 50 significant digits, whatever z's form
        return sp.Float(_evaluator(meaning)(at), num.WORK_DPS)


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


def _number_symbol(value: sp.Expr, tex: bool) -> sp.Symbol:
    """A number as a symbol named by its printed decimals, so SymPy prints it as written."""
    return sp.Symbol(num.factor(value, tex=tex))

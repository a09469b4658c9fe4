"""Numbers as a careful textbook prints them.

Signs are written once and with a real minus (−): `a − 0.1` or `a + (−0.1)`, never `+ -0.1`,
`--x` or `-0.0`. Functions here take SymPy numbers (exact or Float) and return text; nothing
else in the package formats numbers by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

import sympy as sp
from mpmath.libmp import to_str

from backprop_tutor.engine.bounded import ExponentTooLarge, graph_number

MINUS = "−"
KEY_DIGITS = 12  # answer keys and JSON: at least 12 significant digits
SHOW_DIGITS = 6  # numbers substituted into a worked step, for readability
WORK_DPS = 50  # precision of the numeric pass

_PLAIN, _RAISED = "0123456789-+()LlT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ᴸˡᵀ"
_SUPERSCRIPT = str.maketrans(_PLAIN, _RAISED)
UNRAISED = dict(zip(_RAISED, _PLAIN))  # ² → 2, ᴸ → L: for typesetting a raised character
SUPERSCRIPT_DIGITS = dict(zip(_RAISED[:12], _PLAIN[:12]))  # ² → 2, ⁻ → -: for reading x² back


def superscript(text: str) -> str:
    """Digits, signs, brackets and the letters L, l, T raised: `(2)` → ⁽²⁾, `-7` → ⁻⁷."""
    return text.translate(_SUPERSCRIPT)


def to_decimal(value: sp.Expr, digits: int = KEY_DIGITS) -> Decimal:
    """The value rounded to `digits` significant digits, as an exact Decimal (never −0)."""
    if getattr(value, "is_Float", False):
        return _float_decimal(value._mpf_, digits)
    if getattr(value, "is_Rational", False):
        return _rational_decimal(value.p, value.q, digits)
    return _exact_decimal(value, digits)


def _exact_decimal(value: sp.Expr, digits: int) -> Decimal:
    number = evaluated(value)
    if not number.is_number or not number.is_real:
        raise ValueError(f"not a real number: {value}")
    return _float_decimal(number._mpf_, digits) if number.is_Float else _rounded(str(number), digits)


@lru_cache(maxsize=4096)
def evaluated(value: sp.Expr) -> sp.Expr:
    """An exact form at WORK_DPS digits, once: a worked solution prints the same node's value at
    6 and at 12 digits, and the key needs its 50-digit decimal too. Evaluated as a graph
    (engine/bounded.py `graph_number`), SymPy's adaptive evalf only where that cannot vouch for
    the digits."""
    return exact_number(value, WORK_DPS)


def exact_number(value: sp.Expr, digits: int) -> sp.Expr:
    """`sp.N(value, digits)`, at a cost that grows with the form's distinct subexpressions rather
    than with the tree they unfold to."""
    if getattr(value, "is_number", False) and not value.free_symbols:
        try:
            number = graph_number(value, digits)
        except ExponentTooLarge:
            number = None
        if number is not None:
            return number
    return sp.N(value, digits)


@lru_cache(maxsize=65536)
def _rational_decimal(p: int, q: int, digits: int) -> Decimal:
    """A given number (a weight, an input) rounded exactly: p/q to `digits` significant digits."""
    return Context(prec=digits, rounding=ROUND_HALF_EVEN).divide(Decimal(p), Decimal(q)).normalize() + 0


@lru_cache(maxsize=65536)  # a worked solution shows each number several times
def _float_decimal(mpf: tuple, digits: int) -> Decimal:
    """Keyed by the binary mantissa and exponent: hashing and comparing SymPy Floats costs more
    than the rounding."""
    return _rounded(to_str(mpf, digits + 5), digits)  # mpmath prints digits + 5 places; Decimal rounds once


def _rounded(text: str, digits: int) -> Decimal:
    d = Context(prec=digits, rounding=ROUND_HALF_EVEN).create_decimal(text)
    return Decimal(0) if d.is_zero() else d.normalize()


def plain(value: sp.Expr, digits: int = KEY_DIGITS) -> str:
    """ASCII decimal a learner could type back: `-0.0380982`, `1.5e-07`. No `-0`."""
    d = to_decimal(value, digits)
    if d == 0:
        return "0"
    exponent = d.adjusted()
    if -5 <= exponent < 12:
        text = format(d, "f")
    else:
        mantissa = d.scaleb(-exponent).normalize()
        text = f"{format(mantissa, 'f')}e{exponent}"
    return text


def typed(value) -> str:
    """A number, vector (tuple) or matrix (tuple of tuples) as a learner types it: `0.138498561629`,
    `[0.1, -0.2]`, `[[1, 2], [3, 4]]`. The answer keys are written this way."""
    if isinstance(value, tuple):
        return "[" + ", ".join(typed(v) for v in value) + "]"
    return plain(value)


def pretty(value: sp.Expr, digits: int = SHOW_DIGITS) -> str:
    """Unicode decimal for display: `−0.0380982`, `1.5×10⁻⁷`."""
    text = plain(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}×10{superscript(exponent)}"
    return text.replace("-", MINUS)


def latex(value: sp.Expr, digits: int = SHOW_DIGITS) -> str:
    text = plain(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{exponent}}}"
    return text


def is_negative(value: sp.Expr, digits: int = SHOW_DIGITS) -> bool:
    return to_decimal(value, digits) < 0


def factor(value: sp.Expr, digits: int = SHOW_DIGITS, tex: bool = False) -> str:
    """A number used as a factor: negative ones in parentheses, `(−0.3)`."""
    text = latex(value, digits) if tex else pretty(value, digits)
    return f"({text})" if is_negative(value, digits) else text


def squared(value: sp.Expr, digits: int = SHOW_DIGITS, tex: bool = False) -> str:
    """`(−0.3)²`, `(1.5×10⁻⁹)²`: the square of a number, parenthesised where the power would
    otherwise reach only its last part (LaTeX refuses `10^{-9}^2` outright)."""
    text = factor(value, digits, tex)
    if not text.startswith("(") and ("×" in text or r"\times" in text):
        text = f"({text})"
    return text + ("^2" if tex else "²")


def product(values: Sequence[sp.Expr], digits: int = SHOW_DIGITS, tex: bool = False) -> str:
    """`0.15·(−0.3)·0.1`: every factor after the first parenthesised when negative."""
    dot = r" \cdot " if tex else "·"
    return dot.join(factor(v, digits, tex) for v in values)


def signed_sum(terms: Sequence[str | sp.Expr], tex: bool = False) -> str:
    """Join terms with + and −. A term is already-formatted text or a number.

    Text terms that start with a minus sign are folded into the operator: `a − 0.1`.
    """
    minus = "-" if tex else MINUS
    out = ""
    for i, term in enumerate(terms):
        text = term if isinstance(term, str) else (latex(term) if tex else pretty(term))
        negative = text.startswith(("-", MINUS))
        body = text[1:] if negative else text
        if i == 0:
            out = text
        else:
            out += f" {minus} {body}" if negative else f" + {body}"
    return out or "0"


def difference(a: sp.Expr, b: sp.Expr, digits: int = SHOW_DIGITS, tex: bool = False) -> str:
    """`a − b` with b's sign folded: `0.75 − 0.01`, `0.2 − (−0.3)` is written `0.2 + 0.3`."""
    fmt = latex if tex else pretty
    minus = "-" if tex else MINUS
    if is_negative(b, digits):
        return f"{fmt(a, digits)} + {fmt(-b, digits)}"
    return f"{fmt(a, digits)} {minus} {fmt(b, digits)}"


def json_number(value: sp.Expr) -> float | int:
    """A JSON number: an int when the value is an exact integer, else the nearest double."""
    if isinstance(value, sp.Integer):
        return int(value)
    result = float(sp.N(value, 30))
    return 0.0 if result == 0 else result


DEFAULT_TOLERANCE = ("relative", 1e-3)  # four significant figures pass
ABSOLUTE_FLOOR = 1e-12  # a relative tolerance also accepts this close, so that a key of 0 can be met


def within(value, expected, tolerance: tuple[str, float]) -> bool:
    """Whether a number is close enough to the expected one: `("relative", r)` (or within 1e-12,
    so that a key of 0 can be met), `("absolute", a)`, or `("sigfigs", n)`: the same n
    significant digits. The one closeness test of the package: grading, self-test, second methods."""
    kind, amount = tolerance
    diff = abs(value - expected)
    if kind == "absolute":
        return diff <= amount
    if kind == "sigfigs":
        return to_decimal(sp.Float(value, 30), int(amount)) == to_decimal(sp.Float(expected, 30), int(amount))
    return diff <= amount * abs(expected) or diff <= ABSOLUTE_FLOOR

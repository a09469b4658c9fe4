"""Numbers as a careful textbook prints them."""

from __future__ import annotations

import sympy as sp

from backprop_tutor.engine import numbers as num


def test_plain_has_twelve_significant_digits_and_no_negative_zero():
    assert num.plain(1 / (1 + sp.exp(-sp.Rational(27, 80)))) == "0.583583115517"
    assert num.plain(sp.Float("-0.0", 50)) == "0"
    assert num.plain(sp.Float("-1e-30", 50)) == "-1e-30"
    assert num.plain(sp.Rational(3, 20)) == "0.15"


def test_pretty_uses_a_real_minus_and_powers_of_ten():
    assert num.pretty(sp.Rational(-1, 10)) == "−0.1"
    assert num.pretty(sp.Float("1.5e-7", 50)) == "1.5×10⁻⁷"


def test_signs_are_written_once():
    assert num.signed_sum(["0.15·0.05", "−0.03", sp.Rational(7, 20)]) == "0.15·0.05 − 0.03 + 0.35"
    assert num.signed_sum([sp.Rational(-1, 2), sp.Rational(-1, 4)]) == "−0.5 − 0.25"
    assert num.product([sp.Rational(1, 2), sp.Rational(-3, 10)]) == "0.5·(−0.3)"
    assert num.difference(sp.Rational(1, 5), sp.Rational(-3, 10)) == "0.2 + 0.3"
    assert num.difference(sp.Rational(1, 5), sp.Rational(3, 10)) == "0.2 − 0.3"


def test_latex_forms():
    assert num.latex(sp.Float("-2.5e-9", 50)) == r"-2.5 \times 10^{-9}"
    assert num.product([sp.Rational(1, 2), sp.Rational(-3, 10)], tex=True) == r"0.5 \cdot (-0.3)"


def test_json_numbers():
    assert num.json_number(sp.Integer(3)) == 3 and isinstance(num.json_number(sp.Integer(3)), int)
    assert num.json_number(sp.Float("-0.0", 50)) == 0.0


def test_a_square_holds_its_whole_number():
    tiny = sp.Rational(99999, 10**13)
    assert num.squared(tiny, tex=True) == r"(9.9999 \times 10^{-9})^2"  # never 10^{-9}^2, which LaTeX refuses
    assert num.squared(tiny) == "(9.9999×10⁻⁹)²"
    assert num.squared(sp.Rational(-3, 10), tex=True) == "(-0.3)^2"
    assert num.squared(sp.Rational(3, 10)) == "0.3²"

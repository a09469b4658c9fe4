"""Parser guards beyond tests/test_parser.py: numbers that are not real, not finite or too big
to write must be a format error (never a crash in printing or int-to-str conversion)."""

from __future__ import annotations

import builtins
import re
import time

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.engine.parsing import parse, parse_expression, to_sympy

x = sp.Symbol("x", real=True)

REFUSED = [
    ("1e5000", "the number '1e5000' at position 1 is out of range"),
    ("1e-5000", "the number '1e-5000' at position 1 is out of range"),
    ("2*3E+1001", "the number '3E+1001' at position 3 is out of range"),
    ("(1+10^-500)^(10^4)", "that large (or small)"),  # |base| ≈ 1, but 5 million digits
    ("(10^-400)^30", "that large (or small)"),
    ("sqrt(-1)", "not a real number"), ("√(0 - 4)", "not a real number"),
    ("log(-1)", "not a real number"), ("ln(0)", "not defined"), ("(-8)^(1/3)", "not a real number"),
    ("log(x, 1)", "base of a log"), ("log(x, 0)", "base of a log"), ("log(x, -2)", "base of a log"),
    ("exp(10^100)", "too large"), ("exp(exp(exp(exp(100))))", "too large"),
    ("e^(e^(e^(e^(e^9))))", "that large"), ("sigmoid(-10^6)", "too large (or too small)"),
]


@pytest.mark.parametrize("text,message", REFUSED, ids=[t for t, _ in REFUSED])
def test_numbers_that_cannot_be_answers_are_format_errors(text, message, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("evaluation of text was attempted")

    for owner, name in [(builtins, "eval"), (builtins, "exec"), (sp, "sympify"), (sp, "parse_expr")]:
        monkeypatch.setattr(owner, name, forbidden)
    start = time.perf_counter()
    with pytest.raises(AnswerFormatError, match=re.escape(message)):
        parse_expression(text)
    assert time.perf_counter() - start < 2


ACCEPTED = [
    ("1e3", sp.Integer(1000)), ("2.5e-3", sp.Rational(1, 400)), ("10^1000", sp.Integer(10) ** 1000),
    ("(10^-400)^2", sp.Rational(1, 10**800)), ("0.5^1000", sp.Rational(1, 2**1000)), ("sqrt(2)", sp.sqrt(2)),
    ("ln(2)", sp.log(2)), ("log(8, 2)", sp.Integer(3)), ("x^(1/3)", x ** sp.Rational(1, 3)),
    ("sqrt(x)", sp.sqrt(x)), ("log(x)", sp.log(x)), ("exp(100)", sp.exp(100)), ("2^0.5", sp.sqrt(2)),
    ("tanh(10^999)", sp.tanh(sp.Integer(10) ** 999)),
]


@pytest.mark.parametrize("text,expected", ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_ordinary_numbers_still_pass(text, expected):
    assert sp.simplify(parse_expression(text) - expected) == 0


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789eE.-+^*/() ,xsqrtlogexpn", max_size=30))
def test_number_heavy_text_only_ever_raises_the_format_error(text):
    start = time.perf_counter()
    try:
        to_sympy(parse(text))
    except AnswerFormatError as e:
        assert str(e) and "\n" not in str(e)
    assert time.perf_counter() - start < 2

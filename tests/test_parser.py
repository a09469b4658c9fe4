"""The safe parser: every documented syntax, and hostile input that must never run code."""

from __future__ import annotations

import builtins
import time

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.engine.parsing import parse, parse_expression, to_sympy, unparse, variables_of

x, y, z, w, a = (sp.Symbol(n, real=True) for n in "xyzwa")
sig = lambda v: 1 / (1 + sp.exp(-v))  # noqa: E731

SYNTAX = [
    ("0.25", sp.Rational(1, 4)), ("-3e-2", sp.Rational(-3, 100)), ("3/4", sp.Rational(3, 4)), (".5", sp.Rational(1, 2)),
    ("0.7*(1-0.7)*0.4", sp.Rational(21, 250)), ("1 - tanh(x)^2", 1 - sp.tanh(x) ** 2), ("sech(x)**2", sp.sech(x) ** 2),
    ("σ(z)(1-σ(z))", sig(z) * (1 - sig(z))), ("sigma(z)*(1 - sigma(z))", sig(z) * (1 - sig(z))),
    ("sigmoid(z)", sig(z)), ("2x", 2 * x), ("2 x", 2 * x), ("x y", x * y), ("(x)(y)", x * y), ("2(x+1)", 2 * (x + 1)),
    ("1/2x", x / 2), ("x²", x**2), ("x³", x**3), ("tanh²(x)", sp.tanh(x) ** 2), ("tanh^2(x)", sp.tanh(x) ** 2),
    ("e^x", sp.exp(x)), ("e^-x", sp.exp(-x)), ("exp(-x)", sp.exp(-x)), ("ln(x)", sp.log(x)), ("log(x)", sp.log(x)),
    ("sqrt(x)", sp.sqrt(x)), ("√(x)", sp.sqrt(x)), ("abs(x)", sp.Abs(x)), ("max(x, y)", sp.Max(x, y)),
    ("min(x, 0)", sp.Min(x, 0)), ("π", sp.pi), ("pi/4", sp.pi / 4), ("2^-1", sp.Rational(1, 2)), ("-x^2", -(x**2)),
    ("2^3^2", sp.Integer(512)), ("x·y", x * y), ("x × y", x * y), ("x − y", x - y), ("x ÷ y", x / y),
    ("cosh(x)", sp.cosh(x)), ("sinh(x)", sp.sinh(x)), ("softplus(x)", sp.log(1 + sp.exp(x))),
    ("silu(x)", x * sig(x)), ("erf(x)", sp.erf(x)), ("x⁻¹", 1 / x),
]


@pytest.mark.parametrize("text,expected", SYNTAX, ids=[t for t, _ in SYNTAX])
def test_syntax(text, expected):
    value = parse_expression(text)
    assert sp.simplify(value - expected) == 0


def test_vectors_and_matrices():
    assert to_sympy(parse("[0.1, -0.2]")) == [sp.Rational(1, 10), sp.Rational(-1, 5)]
    assert to_sympy(parse("[[1, 2], [3, 4]]")) == [[1, 2], [3, 4]]
    with pytest.raises(AnswerFormatError, match="rows of different lengths"):
        parse("[[1, 2], [3]]")
    with pytest.raises(AnswerFormatError, match="mixes numbers and rows"):
        parse("[1, [2]]")


def test_a_declared_variable_before_a_bracket_multiplies_and_an_unknown_one_is_a_function():
    assert parse_expression("a(1-a)", variables=["a"]) == a * (1 - a)
    with pytest.raises(AnswerFormatError, match=r"unknown function 'a' at position 1; .* write a\*\(…\)"):
        parse("a(1-a)")


def test_declared_variables_split_concatenations_and_reject_others():
    assert parse_expression("wx", variables=["w", "x"]) == w * x
    assert parse_expression("2wx", variables=["w", "x"]) == 2 * w * x
    with pytest.raises(AnswerFormatError, match=r"unknown name 'q' at position 3; variables here: w, x"):
        parse("w*q", variables=["w", "x"])
    with pytest.raises(AnswerFormatError, match=r"unknown name 'x' at position 1 \(a number is expected here; no variables\)"):
        parse("x", variables=())


def test_variables_in_order_and_echo():
    assert variables_of(parse("w*x + b + w")) == ("w", "x", "b")
    assert unparse(parse("σ(z)(1-σ(z))")) == "σ(z)·(1 − σ(z))"
    assert unparse(parse("1 - tanh(x)^2")) == "1 − tanh(x)²"
    assert unparse(parse("[0.1, -0.2]")) == "[0.1, −0.2]"


MARKER = "backprop_tutor_pwned"
HOSTILE = [
    "__import__('os').system('touch /tmp/backprop_tutor_pwned')", "().__class__", "().__class__.__bases__[0]",
    "lambda: 1", "lambda x: x", "exec('1')", "eval('1')", "open('/etc/passwd')", "1; 2", "x = 1", "import os",
    "Symbol('x')", "x.real", "x.__class__", "globals()", "getattr(x, 'real')", "__builtins__", "'quoted'",
    '"quoted"', "\\x41", "`ls`", "$(ls)", "{1: 2}", "x @ y", "x if y else z", "x for x in y", "[x for x in y]",
    "1 " * 600, "a" * 1_000_000, "(" * 5000 + "1" + ")" * 5000, "[" * 5000, "1\x00", "\x07\x08", "x\u200by",
    "ｘ", "х", "9^9^9^9", "10^100000", "2**2**2**2**2**2", "x^100000", "exp(exp(exp(exp(100))))",
    "1/0", "0^-1", "sin(x)", "pow(2, 3)", "max(x)", "log()", "tanh(1, 2)", ")", "(", "[1, 2", "1 +", "* 2", "2 3",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_a_format_error_and_runs_nothing(text, monkeypatch, tmp_path):
    def forbidden(*args, **kwargs):
        raise AssertionError("evaluation of text was attempted")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sp, "sympify", forbidden)
    monkeypatch.setattr(sp, "parse_expr", forbidden)
    start = time.perf_counter()
    try:
        value = to_sympy(parse(text, variables=["x", "y"]))
    except AnswerFormatError as e:
        assert str(e) and "\n" not in str(e)
    else:  # a few are harmless expressions (exp(exp(...)) is a valid, huge number): never code
        assert isinstance(value, (sp.Basic, list))
    assert time.perf_counter() - start < 2
    assert not (tmp_path.parent / MARKER).exists()


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_ever_raises_the_format_error(text):
    try:
        to_sympy(parse(text))
    except AnswerFormatError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xy0123456789.+-*/^()[], eσ²tanhsigmoidexplnmax", max_size=40))
def test_math_like_text_only_ever_raises_the_format_error(text):
    try:
        to_sympy(parse(text, variables=["x", "y"]))
    except AnswerFormatError:
        pass

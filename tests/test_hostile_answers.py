"""Hostile answers (issue 13, points 1 and 2): every answer ends as correct, incorrect or invalid,
within a bounded time; `tutor check` keeps its exit codes for verdicts (3 is the grader failing);
no length of input reaches Python's recursion limit. A grammar-built fuzzer checks the same over
well-formed answers: every function of the parser, powers, nesting, huge, tiny and complex forms.
"""

from __future__ import annotations

import os
import time

import mpmath
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.cli.app import cli
from backprop_tutor.engine import parsing
from backprop_tutor.engine.bounded import bounded_value
from backprop_tutor.grading import answers
from backprop_tutor.grading.answers import GradingFailure, grade, target_for_expected
from backprop_tutor.grading.grade import grade_part
from backprop_tutor.grading.result import Status

BOUND = 2.0  # seconds for the whole grading of one answer (docs/formats.md, "The grading budget")
GUARD = "a guard, not a verdict"  # the wall-clock last resort's message: never the outcome of these
NOT_REAL = "a power is not a real number"
NOT_EVALUATED = "a division cannot be evaluated to a number"


@pytest.fixture(scope="module")
def problems():
    bank = Bank.open()
    return {t: generate(bank.load(t), 1, worked=False) for t in ("activation_derivative_symbolic", "mlp_2_2_1")}


def check(*args: str):
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["check", *args])
    assert time.perf_counter() - started < BOUND
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# --- point 1: answers that crashed the grader ------------------------------------------------------

CRASHERS = [  # answer, expected: --expected number, --expected formula in z
    ("1/softplus(-700)", (2, NOT_EVALUATED), (2, NOT_EVALUATED)),  # ZeroDivisionError before
    ("max(0, (-1)^pi)", (2, NOT_REAL), (2, NOT_REAL)),  # ValueError: not comparable
    ("step((-1)^pi)", (2, NOT_REAL), (2, NOT_REAL)),  # TypeError: truth value of a Relational
    ("relu((-1)^z)", (2, "unknown name 'z'"), (1, "Not equivalent")),  # complex at every test point
    ("gelu_tanh(sinh(z^100))", (2, "unknown name 'z'"), (1, "Not equivalent")),
    ("gelu_tanh(sinh(2^100))", (2, "sinh(…) is a number too large"), (2, "sinh(…) is a number too large")),
]


@pytest.mark.parametrize("answer,as_number,as_formula", CRASHERS, ids=[c[0] for c in CRASHERS])
def test_answers_that_crashed_the_grader_get_a_verdict(answer, as_number, as_formula, problems):
    for expected, (code, message) in (("0.5", as_number), ("sigmoid(z)*(1-sigmoid(z))", as_formula)):
        result = check("--expected", expected, answer)
        assert result.exit_code == code, result.output
        assert message in " ".join(result.output.split())
    # and through template parts, with the same verdicts: a number part, a formula part, a vector part
    status = {1: Status.INCORRECT, 2: Status.INVALID}
    for template, part, (code, message) in (("mlp_2_2_1", "delta2", as_number),
                                            ("activation_derivative_symbolic", "derivative", as_formula),
                                            ("mlp_2_2_1", "delta1", (2, ""))):
        started = time.perf_counter()
        verdict = grade_part(problems[template], part, answer, {})
        assert time.perf_counter() - started < BOUND
        assert verdict.status is status[code] and message in verdict.feedback, (part, verdict)


def test_an_internal_failure_is_exit_3_and_one_line_not_incorrect(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(answers, "compare", broken)
    for args in (["--expected", "0.5", "0.5"], ["mlp_2_2_1", "--seed", "1", "--part", "delta2", "0.5"]):
        result = check(*args)
        assert result.exit_code == 3
        assert result.output.strip().splitlines() == [
            "Error: internal error: this answer could not be graded (RuntimeError); please report it with the answer"]


def test_the_safety_net_raises_its_own_exception_from_every_entry_point(monkeypatch, problems):
    monkeypatch.setattr(answers, "compare", lambda *a, **k: 1 / 0)
    with pytest.raises(GradingFailure, match="ZeroDivisionError"):
        grade(target_for_expected("0.5"), "0.5")
    with pytest.raises(GradingFailure, match="ZeroDivisionError"):
        grade_part(problems["mlp_2_2_1"], "delta2", "0.5")


def test_practice_goes_on_after_an_answer_the_grader_fails_on(monkeypatch, tmp_path):
    real = answers.compare

    def fails_on_42(read, value, tolerance):
        if str(read) == "42":
            raise RuntimeError("a bug")
        return real(read, value, tolerance)

    monkeypatch.setattr(answers, "compare", fails_on_42)
    result = CliRunner().invoke(cli, ["practice", "--template", "mlp_2_2_1", "--seed", "1", "--count", "1",
                                      "--db", str(tmp_path / "p.sqlite3")], input="42\nquit\n")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "internal error: this answer could not be graded (RuntimeError)" in " ".join(result.output.split())
    assert "a2>" in result.output.split("internal error")[1]  # asked again: no attempt spent


# --- point 2: no length crashes the parser ---------------------------------------------------------

LONG = [
    ("e" * 990, "the name at position 1 is 990 letters long; names of at most 50 letters are read"),
    ("z" * 990, "the name at position 1 is 990 letters long; names of at most 50 letters are read"),
    ("ze" * 500, "the name at position 1 is 1,000 letters long; names of at most 50 letters are read"),
    ("2*" + "z" * 51, "the name at position 3 is 51 letters long; names of at most 50 letters are read"),
    ("z" * 5000, "the answer is 5,000 characters long; at most 1,000 are read"),
    ("(" * 3000 + "z" + ")" * 3000, "the answer is 6,001 characters long; at most 1,000 are read"),
    ("(" * 60 + "z" + ")" * 60, "brackets nested more than 50 deep"),
    ("-" * 300 + "z", "brackets nested more than 50 deep"),
    ("sigmoid(" * 60 + "z" + ")" * 60, "brackets nested more than 50 deep"),
]


@pytest.mark.parametrize("answer,message", LONG, ids=[f"{a[:6]}…{len(a)}" for a, _ in LONG])
def test_long_answers_are_invalid_with_the_limit_named(answer, message):
    for expected in ("z", "0.5"):
        result = check("--expected", expected, answer)
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split()).replace("- ", "-")


def test_the_longest_chains_the_limits_allow_still_get_a_verdict():
    """Within the limits the AST is as deep as a 1,000-character answer can make it."""
    target = target_for_expected("z")
    for answer in (" ".join(["z"] * 500), "+".join(["z"] * 500), "/".join(["z"] * 500),
                   " ".join(["z" * 50] * 19), "(" * 49 + " ".join(["z"] * 400) + ")" * 49):
        assert grade(target, answer).status in (Status.INCORRECT, Status.INVALID)
    assert grade(target, "+".join(["z"] * 333) + "-332z").status is Status.CORRECT


def test_the_limits_are_documented():
    from pathlib import Path

    formats = (Path(__file__).parents[1] / "docs" / "formats.md").read_text()
    for limit in (f"{parsing.MAX_LENGTH:,} characters", f"{parsing.MAX_DEPTH} deep",
                  f"{parsing.MAX_NAME} letters"):
        assert limit in formats, limit


# --- point 3: the whole grading of one answer is bounded, by counts, not a clock ---------------------

def _nest(function: str, depth: int, inner: str) -> str:
    return f"{function}(" * depth + inner + ")" * depth


# Written here by hand, not from the package's SymPy definitions: the independent reference.
_REFERENCE = {
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)), "tanh": mpmath.tanh,
    "relu": lambda x: x if x > 0 else 0 * x, "leaky_relu": lambda x: x if x > 0 else x / 100,
    "elu": lambda x: x if x > 0 else mpmath.exp(x) - 1, "softplus": lambda x: mpmath.log(1 + mpmath.exp(x)),
    "silu": lambda x: x / (1 + mpmath.exp(-x)), "gelu": lambda x: x * (1 + mpmath.erf(x / mpmath.sqrt(2))) / 2,
    "gelu_tanh": lambda x: x / 2 * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf("0.044715") * x**3))),
    "step": lambda x: 1 if x >= 0 else 0,
}
# Each level of gelu_tanh names its argument three times, elu three, silu and gelu twice: the tree
# of 24 levels has 3^24 nodes. Before, gelu_tanh 5 deep took 10 s, elu 5 deep more than 10 s.
NESTS = [(f, depth) for f in sorted(_REFERENCE) for depth in (6, 24)]


@pytest.mark.parametrize("function,depth", NESTS, ids=[f"{f}^{d}" for f, d in NESTS])
def test_deep_nests_are_graded_within_the_bound_and_correctly(function, depth):
    key = _nest(function, depth, "z")
    target = target_for_expected(key)
    for answer, status in ((key, Status.CORRECT), (key + " + 0.001", Status.INCORRECT)):
        started = time.perf_counter()
        verdict = grade(target, answer)
        assert time.perf_counter() - started < BOUND, answer
        assert verdict.status is status, (answer, verdict.feedback)
    # the nest as read has the values of the nest composed by hand, at 30 digits
    read, _ = answers.read_answer(key, ("z",))
    for z in ("-0.7", "0.3", "1.9"):
        with mpmath.workdps(40):
            expected = mpmath.mpf(z)
            for _ in range(depth):
                expected = _REFERENCE[function](expected)
            expected = sp.Float(mpmath.nstr(expected, 35), 40)
        value = bounded_value(read, 30, {sp.Symbol("z", real=True): sp.Rational(z)})
        assert abs(value - expected) <= sp.Float("1e-25") * max(1, abs(value)), (z, value)


NUMBER_NESTS = [_nest("sigmoid", 40, "1e99"), _nest("gelu_tanh", 24, "1.5"), _nest("silu", 24, "1.5"),
                _nest("gelu", 24, "1.5"), _nest("elu", 24, "-1.5"), _nest("tanh", 30, "10^99")]


@pytest.mark.parametrize("answer", NUMBER_NESTS, ids=[a[:12] + f"…{a.count('(')}" for a in NUMBER_NESTS])
def test_nests_of_numbers_are_graded_within_the_bound(answer):
    """A number made of functions: sigmoid 8 deep on 1e99 took 1.7 s and doubled with every level."""
    for target, status in ((target_for_expected("0.5"), Status.INCORRECT), (target_for_expected(answer), Status.CORRECT)):
        started = time.perf_counter()
        assert grade(target, answer).status is status
        assert time.perf_counter() - started < BOUND


def test_an_answer_of_many_different_nests_is_graded_within_the_bound():
    """Twenty different elu nests, 390 characters: 6 s before (each built and simplified anew)."""
    answer = "+".join(f"elu(elu(elu(z+{k})))" for k in range(1, 21))
    started = time.perf_counter()
    assert grade(target_for_expected("z^2"), answer).status is Status.INCORRECT
    assert time.perf_counter() - started < BOUND


def test_a_part_with_four_hostile_earlier_answers_is_graded_within_the_bound():
    """The earlier answers are read within the same budget: 6.5 s before."""
    hostile = _nest("gelu_tanh", 20, "1.5")
    started = time.perf_counter()
    result = check("mlp_2_2_1", "--seed", "1", "--part", "dW1", _nest("sigmoid", 30, "1e99"),
                   *[f"--earlier={part}={hostile}" for part in ("a2", "delta2", "db2")],
                   "--earlier", f"delta1=[{hostile}, {hostile}]")
    assert time.perf_counter() - started < BOUND
    assert result.exit_code in (1, 2), result.output
    assert GUARD not in result.output


HOSTILE = [c[0] for c in CRASHERS] + NUMBER_NESTS[:2] + [
    _nest("elu", 16, "z"), "sigmoid(1e99)", "exp(99^2)", "9^9^9", "1/(cosh(1)^2 - sinh(1)^2 - 1)"]


def test_the_verdict_does_not_depend_on_the_clock(monkeypatch):
    """The same verdict with the wall-clock guard at its 10 s and with no guard at all: the budget
    that decides is counted, so a slow machine decides as a fast one."""
    targets = (target_for_expected("0.5"), target_for_expected("sigmoid(z)*(1-sigmoid(z))"))
    timed = [grade(t, a) for t in targets for a in HOSTILE]
    monkeypatch.setattr(answers, "TIME_LIMIT", 10_000.0)
    untimed = [grade(t, a) for t in targets for a in HOSTILE]
    assert [(r.status, r.feedback) for r in timed] == [(r.status, r.feedback) for r in untimed]
    assert not [r for r in timed if GUARD in r.feedback]


# --- the grammar fuzzer ----------------------------------------------------------------------------

_ARITY = {name: arity for name, (arity, _) in parsing._FUNCTIONS.items()}
_NUMBERS = ["0", "1", "2", "0.5", "-3", "1e300", "1e-300", "1e999", "1e-999", "10^999", "10^-999",
            "700", "-700", "9^9^9", "0.0001", "3/4", "pi", "e"]
_COMPLEX = ["(-1)^pi", "sqrt(-2)", "log(-3)", "(-8)^(1/3)", "(-1)^z", "(-z^2-1)^0.5", "log(0)", "1/0",
            "(0)^-1", "0^0"]


def _answers(variable: str):
    atoms = st.sampled_from(_NUMBERS + _COMPLEX + [variable, variable, f"2{variable}"])

    def extend(inner):
        def call(name_args):
            name, args = name_args
            return f"{name}({', '.join(args)})"

        names = st.sampled_from(sorted(set(_ARITY) | {"sigma", "σ", "ln"}))
        calls = names.flatmap(lambda n: st.lists(inner, min_size=_ARITY[parsing._ALIASES.get(n, n)][0],
                                                 max_size=_ARITY[parsing._ALIASES.get(n, n)][0] + 1)
                              .map(lambda args, n=n: call((n, args))))
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "**", " "]), inner).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})" if t[1] in ("^", "**") else f"{t[0]}{t[1]}{t[2]}")
        return st.one_of(calls, binary, inner.map(lambda a: f"-({a})"), inner.map(lambda a: f"({a})^100"),
                         inner.map(lambda a: f"exp(exp({a}))"))

    return st.recursive(atoms, extend, max_leaves=8)


def _fuzz(examples: int):
    return settings(max_examples=int(os.environ.get("TUTOR_FUZZ_EXAMPLES", examples)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@_fuzz(150)  # a few seconds, for every run
@given(number=_answers("z"), formula=_answers("z"))
# what the fuzzer found past the clock's guard (10 s), before they were bounded by counts:
@example(number="exp(exp(-(-3+(1e300)^100)))", formula="((-(1e300*(-1)^z))^100)^100")
@example(number="exp(exp(((1e-300)^100)^100))", formula="exp(exp(((1e-300)^100)^100))")
# and inside the grader: SymPy refused to compare an argument it knows is never real
@example(number="0", formula="max(0, (-z^2-1)^0.5)")
@example(number="0", formula="relu((-z^2-1)^0.5)")
# a power of a piecewise function: SymPy raises each piece, (z/100)^1000000 included
@example(number="0", formula="(((leaky_relu(2z))^100)^100)^100")
def test_grammar_built_answers_always_get_a_verdict_in_bounded_time(problems, number, formula):
    _a_verdict_in_bounded_time(problems, number, formula)


@pytest.mark.slow
@_fuzz(3000)  # a few thousand, as CI runs every slow test (about two minutes)
@given(number=_answers("z"), formula=_answers("z"))
def test_thousands_of_grammar_built_answers_get_a_verdict_in_bounded_time(problems, number, formula):
    _a_verdict_in_bounded_time(problems, number, formula)


def _a_verdict_in_bounded_time(problems, number, formula):
    for problem, part, answer in ((problems["mlp_2_2_1"], "delta2", number.replace("z", "2")),
                                  (problems["activation_derivative_symbolic"], "derivative", formula)):
        started = time.perf_counter()
        verdict = grade_part(problem, part, answer, {})  # GradingFailure or any other exception fails here
        assert verdict.status in (Status.CORRECT, Status.INCORRECT, Status.INVALID)
        assert GUARD not in verdict.feedback, answer
        assert time.perf_counter() - started < BOUND, answer

"""Hostile answers to the grader (issue 13, points 3 and 4): test points no learner can aim at,
an echo with its signs folded, and a deterministic bound on the grading of one answer and of one
submission (the same verdict on a fast machine and a slow one)."""

from __future__ import annotations

import random
import time
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.cli.app import cli
from backprop_tutor.grading.answers import grade, target_for_expected
from backprop_tutor.grading.grade import grade_part

REFUSED = ("a number above 10^100 as an exponent or inside a function (e^x, b^x, σ(x) …) is not evaluated; "
           "simplify it")


def _fixed_seed_points(count: int = 8) -> list[Fraction]:
    """The points the grader used before: Random(0), hundredths in [−2.5, 2.5]."""
    rng = random.Random(0)
    return [Fraction(rng.randint(-250, 250), 100) for _ in range(count)]


def _vanishing(key: str) -> str:
    """The key plus a polynomial that is 0 at exactly the old fixed test points."""
    return key + " + " + "".join(f"(z - {p.numerator}/{p.denominator})" for p in _fixed_seed_points())


def _symbolic_problem():
    return generate(Bank.open().load("activation_derivative_symbolic"), 9, worked=False)


# --- point 4: test points nobody can aim at ----------------------------------------------------------

def test_a_polynomial_vanishing_at_the_old_test_points_is_incorrect():
    answer = _vanishing("σ(z)(1 - σ(z))")
    result = grade_part(_symbolic_problem(), "derivative", answer)
    assert (result.status, result.score, result.feedback) == ("incorrect", 0, "Not equivalent to the expected expression.")
    against_expected = grade(target_for_expected("sigmoid(z)*(1 - sigmoid(z))"), answer)
    assert against_expected.status == "incorrect"


@pytest.mark.parametrize("answer", ["σ(z)(1-σ(z))", "σ(z) - σ(z)^2", "e^(-z)/(1+e^(-z))^2", "sigmoid(z)*sigmoid(-z)"])
def test_equivalent_forms_are_still_correct(answer):
    assert grade_part(_symbolic_problem(), "derivative", answer).status == "correct"


@pytest.mark.parametrize("typed, echo", [
    ("z - -53/100", "z + 53/100"), ("z + -0.5z", "z − 0.5·z"), ("--z", "z"), ("z - -(-3)", "z − 3"),
    ("(z - -7/20)(z + -1)", "(z + 7/20)·(z − 1)"), ("(-2)^2 - -z", "(−2)² + z"),
])
def test_the_echo_folds_signs(typed, echo):
    result = grade(target_for_expected("z"), typed)
    assert result.interpreted_as == echo


def test_the_echo_of_the_vanishing_polynomial_has_no_double_minus():
    echo = grade_part(_symbolic_problem(), "derivative", _vanishing("σ(z)(1 - σ(z))")).interpreted_as
    assert "− −" not in echo and "(z + 53/100)" in echo


# --- point 3: a deterministic budget per answer and per submission -------------------------------------

H = "sigmoid(1e740)"
MANY = "+".join(f"sigmoid(1e{999 - i})" for i in range(80))[:1000].rsplit("+", 1)[0]


def _mlp():
    return generate(Bank.open().load("mlp_2_2_1"), 7, worked=False)


def _timed(grading):
    """(result, CPU seconds): CPU time, so that other work on a shared machine does not count."""
    start = time.process_time()
    result = grading()
    return result, time.process_time() - start


@pytest.mark.parametrize("case, grading", [
    ("a huge exponent", lambda: grade_part(_mlp(), "delta2", H)),
    ("four earlier answers", lambda: grade_part(_mlp(), "db2", H, {"a2": H, "delta2": H, "delta1": f"[{H}, {H}]",
                                                                   "dW1": H})),
    ("dozens of huge exponents", lambda: grade(target_for_expected("0.5"), MANY)),
    ("a formula", lambda: grade_part(_symbolic_problem(), "derivative", "σ(z)(1 - σ(z)) + " + H + " - 1")),
    ("nested exponentials", lambda: grade(target_for_expected("0.25"), "exp(exp(exp(6)))")),
    ("a power", lambda: grade(target_for_expected("0.25"), "2^(1e99*1e99)")),
])
def test_slow_answers_are_refused_within_the_budget_the_same_way_twice(case, grading):
    first, seconds = _timed(grading)
    second, _ = _timed(grading)
    assert (first.status, first.feedback) == ("invalid", REFUSED)
    assert first == second
    assert seconds < 2


@pytest.mark.parametrize("answer", ["gelu_tanh(" * 5 + "z" + ")" * 5, "tanh(" * 45 + "z" + ")" * 45])
def test_a_deeply_nested_formula_is_evaluated_as_a_graph_within_the_budget(answer):
    """gelu_tanh names its argument three times: evaluated as a tree (SymPy's evalf, adaptive
    precision at every level) five levels took seconds a point; as a graph, milliseconds."""
    grading = lambda: grade_part(_symbolic_problem(), "derivative", answer)  # noqa: E731
    first, seconds = _timed(grading)
    second, _ = _timed(grading)
    assert (first.status, first.feedback) == ("incorrect", "Not equivalent to the expected expression.")
    assert first == second and seconds < 2


def test_an_exponent_at_a_test_point_above_the_budget_is_not_the_key():
    """Where only a test point makes the exponent huge, the answer is not evaluated there: it is
    not the key (the tiny term below would otherwise hide under the 1e-9 test)."""
    answer = "1 - tanh(x)^2 + 1e-200*exp(exp(exp(exp(x))))"
    result, seconds = _timed(lambda: grade(target_for_expected("1 - tanh(x)^2"), answer))
    assert result.status == "incorrect" and seconds < 2


def test_one_answer_file_full_of_slow_answers_is_graded_within_a_bound(tmp_path):
    runner = CliRunner()
    out = tmp_path / "hw"
    made = runner.invoke(cli, ["generate", "mlp_2_2_1", "deep_2_2_2_1", "--count", "1", "--seed", "3", "--out", str(out)])
    assert made.exit_code == 0, made.output
    answers = out / "answers" / "s01.yaml"
    labels = yaml.safe_load(answers.read_text())
    answers.write_text(yaml.safe_dump({label: MANY for label in labels}, allow_unicode=True))
    start = time.process_time()
    graded = runner.invoke(cli, ["grade", str(out / "set.json"), str(answers), "--out", str(tmp_path / "grades.csv")])
    assert graded.exit_code == 0, graded.output
    assert time.process_time() - start < 2 * len(labels) and time.process_time() - start < 10
    rows = (tmp_path / "grades.csv").read_text().splitlines()[1:]
    assert len(rows) == len(labels) and all(",0," in row and "invalid_answer" in row for row in rows)

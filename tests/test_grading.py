"""The grader: a table of (expected, answer, verdict), derived mistake diagnosis on generated
problems (the mistaken answers built here by hand from the engine's correct quantities), error
carried forward, and `tutor check`."""

from __future__ import annotations

import json

import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.bank.generate import generate
from backprop_tutor.bank.template import template_from_dict
from backprop_tutor.engine.quantities import parse_network_quantity
from backprop_tutor.grading.answers import grade, target_for_expected
from backprop_tutor.grading.grade import grade_part

TABLE = [
    # numbers and tolerance
    ("0.25", "0.25", "correct"), ("0.25", "1/4", "correct"), ("0.25", "0.2500", "correct"), ("0.25", "2.5e-1", "correct"),
    ("0.25", "0.2502", "correct"), ("0.25", "0.2503", "incorrect"), ("0.25", "-0.25", "incorrect"),
    ("0.138498561629", "0.1385", "correct"), ("0.138498561629", "0.138", "incorrect"), ("0.084", "0.7*(1-0.7)*0.4", "correct"),
    ("-0.0380982", "-0.03810", "correct"), ("-0.0380982", "−0.0381", "correct"), ("1e-6", "0.000001", "correct"),
    ("1e-6", "0.0000011", "incorrect"), ("3", "3", "correct"), ("3", "x", "invalid"), ("3", "", "invalid"),
    ("3", "3 4", "invalid"), ("3", "[3]", "invalid"), ("0.5", "1/(1+exp(0))", "correct"), ("0.5", "sigmoid(0)", "correct"),
    ("0.5", "σ(0)", "correct"), ("2.718281828", "e", "correct"), ("0.7615941559557649", "tanh(1)", "correct"),
    # activation derivatives, every equivalent form
    ("1 - tanh(x)^2", "sech(x)^2", "correct"), ("1 - tanh(x)^2", "sech²(x)", "correct"),
    ("1 - tanh(x)^2", "1-tanh²(x)", "correct"), ("1 - tanh(x)^2", "1/cosh(x)^2", "correct"),
    ("1 - tanh(x)^2", "4/(e^x + e^-x)^2", "correct"), ("1 - tanh(x)^2", "1 + tanh(x)^2", "incorrect"),
    ("1 - tanh(x)^2", "tanh(x)", "incorrect"), ("1 - tanh(x)^2", "sech(x)", "incorrect"),
    ("sigmoid(z)*(1 - sigmoid(z))", "σ(z)(1-σ(z))", "correct"), ("sigmoid(z)*(1 - sigmoid(z))", "σ(z) - σ(z)^2", "correct"),
    ("sigmoid(z)*(1 - sigmoid(z))", "e^(-z)/(1+e^(-z))^2", "correct"), ("sigmoid(z)*(1 - sigmoid(z))", "exp(-z)/(1+exp(-z))²", "correct"),
    ("sigmoid(z)*(1 - sigmoid(z))", "sigmoid(z)*sigmoid(-z)", "correct"), ("sigmoid(z)*(1 - sigmoid(z))", "σ(z)(1+σ(z))", "incorrect"),
    ("sigmoid(z)*(1 - sigmoid(z))", "σ(z)", "incorrect"), ("sigmoid(z)*(1 - sigmoid(z))", "q", "invalid"),
    ("sigmoid(z)", "softplus'(z)", "invalid"), ("log(1 + exp(z))", "softplus(z)", "correct"),
    ("z*sigmoid(z)", "silu(z)", "correct"), ("z*sigmoid(z)", "z/(1+e^-z)", "correct"),
    ("2*x", "2x", "correct"), ("2*x", "x+x", "correct"), ("2*x", "x^2", "incorrect"), ("x^2", "x²", "correct"),
    ("x^2", "x·x", "correct"), ("exp(x)", "e^x", "correct"), ("log(x)", "ln(x)", "correct"),
    ("sqrt(x)", "x^(1/2)", "correct"), ("sqrt(x)", "√x", "correct"), ("w*x + b", "b + xw", "correct"),
    ("max(x, 0)", "relu(x)", "correct"), ("relu(x)", "x", "incorrect"),
    # vectors and matrices
    ("[0.1, -0.2]", "[0.1, -0.2]", "correct"), ("[0.1, -0.2]", "[1/10, -1/5]", "correct"),
    ("[0.1, -0.2]", "[0.1, 0.2]", "incorrect"), ("[0.1, -0.2]", "[0.1]", "incorrect"), ("[0.1, -0.2]", "0.1", "invalid"),
    ("[0.1, -0.2]", "[-0.2, 0.1]", "incorrect"), ("[[1, 2], [3, 4]]", "[[1, 2], [3, 4]]", "correct"),
    ("[[1, 2], [3, 4]]", "[[1, 3], [2, 4]]", "incorrect"), ("[[1, 2], [3, 4]]", "[[1, 2]]", "incorrect"),
    ("[[1, 2], [3, 4]]", "[1, 2, 3, 4]", "incorrect"), ("[[1, 2], [3, 4]]", "[[1, 2], [3]]", "invalid"),
    # hostile in the middle of grading
    ("0.25", "__import__('os')", "invalid"), ("0.25", "9^9^9^9", "invalid"), ("0.25", "1/0", "invalid"),
]


@pytest.mark.parametrize("expected,answer,verdict", TABLE, ids=[f"{e}|{a}" for e, a, _ in TABLE])
def test_verdicts(expected, answer, verdict):
    assert grade(target_for_expected(expected), answer).status == verdict


def test_the_table_is_large_enough():
    assert len(TABLE) >= 60


def test_tolerance_edges():
    target = target_for_expected("100")
    assert grade(target, "100.09").status == "correct" and grade(target, "100.11").status == "incorrect"


# --- derived diagnosis on generated problems ----------------------------------------------------

def _template(loss: str = "half_sse", hidden: str = "sigmoid", outputs: int = 1, rate: float = 0.5, square=False):
    n_hidden = outputs if square else 2
    body = {
        "input": "$x", "target": "$t",
        "layers": [{"activation": hidden, "weights": "$W1", "bias": "$b1"},
                   {"activation": "sigmoid", "weights": "$W2", "bias": "$b2"}],
        "loss": loss, "learning_rate": rate,
    }
    quantities = [("o", "a2[0]", "forward_pass"), ("d2", "delta2[0]", "output_delta"), ("d1", "delta1", "hidden_delta"),
                  ("gw", "dW1", "weight_gradient"), ("gw2", "dW2", "weight_gradient"),
                  ("w_new", "W2_new[0][0]", "update"), ("after", "loss_after", "update")]
    data = {
        "title": "test", "kind": "network", "level": 2,
        "skills": ["forward_pass", "output_delta", "hidden_delta", "weight_gradient", "update"],
        "parameters": {
            "x": {"decimal": [-1, 1], "places": 2, "nonzero": True, "shape": [2]},
            "t": {"decimal": [0.1, 0.9], "places": 2, "shape": [outputs]},
            "W1": {"decimal": [-1, 1], "places": 2, "nonzero": True, "shape": [n_hidden, 2]},
            "b1": {"decimal": [-0.5, 0.5], "places": 2, "shape": [n_hidden]},
            "W2": {"decimal": [-1, 1], "places": 2, "nonzero": True, "shape": [outputs, n_hidden]},
            "b2": {"decimal": [-0.5, 0.5], "places": 2, "shape": [outputs]},
        },
        "network": body,
        "parts": [{"id": i, "prompt": i, "quantity": q, "skill": s} for i, q, s in quantities],
    }
    return template_from_dict(data, "test", "test.yaml")


def _text(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return sp.sstr(sp.N(value, 15))


def _q(problem, name):
    return problem.solution.value(parse_network_quantity(name))


SLIP_CASES = [
    # (slip, template options, part, how a learner makes the slip, from the engine's correct numbers)
    ("error_sign", {}, "d2", lambda p: -_q(p, "delta2[0]")),
    ("forgot_activation_slope", {}, "d2", lambda p: _q(p, "a2[0]") - _q(p, "t[0]")),
    ("slope_at_activation", {}, "d2", lambda p: (_q(p, "a2[0]") - _q(p, "t[0]")) * _sig_prime(_q(p, "a2[0]"))),
    ("activation_for_slope", {}, "d2", lambda p: (_q(p, "a2[0]") - _q(p, "t[0]")) * _q(p, "a2[0]")),
    ("kept_power_two", {}, "d2", lambda p: 2 * _q(p, "delta2[0]")),
    ("dropped_power_two", {"loss": "sse"}, "d2", lambda p: _q(p, "delta2[0]") / 2),
    ("dropped_mean", {"loss": "mse", "outputs": 2}, "d2", lambda p: 2 * _q(p, "delta2[0]")),
    ("dropped_fanout_term", {"outputs": 2}, "d1",
     lambda p: tuple(_q(p, f"fprime1[{k}]") * _q(p, f"W2[0][{k}]") * _q(p, "delta2[0]") for k in range(2))),
    ("weights_not_transposed", {"outputs": 2, "square": True}, "d1",
     lambda p: tuple(_q(p, f"fprime1[{k}]") * sum(_q(p, f"W2[{k}][{j}]") * _q(p, f"delta2[{j}]") for j in range(2))
                     for k in range(2))),
    ("swapped_indices", {"outputs": 2, "square": True}, "gw",
     lambda p: tuple(tuple(_q(p, f"delta1[{k}]") * _q(p, f"x[{j}]") for k in range(2)) for j in range(2))),
    ("update_sign", {}, "w_new", lambda p: _q(p, "W2[0][0]") + sp.Rational(1, 2) * _q(p, "dW2[0][0]")),
    ("forgot_learning_rate", {"rate": 0.1}, "w_new", lambda p: _q(p, "W2[0][0]") - _q(p, "dW2[0][0]")),
    ("updated_weights_in_backward", {}, "d1",
     lambda p: tuple(_q(p, f"fprime1[{k}]") * _q(p, f"W2_new[0][{k}]") * _q(p, "delta2[0]") for k in range(2))),
]


def _sig_prime(s):
    v = 1 / (1 + sp.exp(-s))
    return v * (1 - v)


@pytest.mark.parametrize("slip,options,part,mistaken", SLIP_CASES, ids=[c[0] for c in SLIP_CASES])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_slip_is_diagnosed_and_never_fires_on_the_key(slip, options, part, mistaken, seed):
    problem = generate(_template(**options), seed)
    key = next(p.answer for p in problem.parts if p.id == part)
    assert grade_part(problem, part, key).status == "correct"
    result = grade_part(problem, part, _text(mistaken(problem)))
    assert result.status == "incorrect"
    assert result.diagnosis == slip, result.feedback
    assert key not in result.feedback


def test_symbolic_slips_are_named():
    from backprop_tutor.bank.generate import generate as gen

    data = {"title": "t", "kind": "activation", "level": 1, "skills": ["activation_derivative"],
            "parameters": {"f": {"choice": ["tanh"]}, "p": {"decimal": [0.1, 1], "places": 2}},
            "activation": {"function": "$f", "point": "$p"},
            "parts": [{"id": "d", "prompt": "f′(z)", "quantity": "derivative", "skill": "activation_derivative"}]}
    problem = gen(template_from_dict(data, "t", "t.yaml"), 0)
    assert grade_part(problem, "d", "sech(z)^2").status == "correct"
    assert grade_part(problem, "d", "1 + tanh(z)^2").diagnosis == "slope_sign_flipped"
    assert grade_part(problem, "d", "tanh(z)").diagnosis == "activation_for_slope"
    assert grade_part(problem, "d", "sech(z)").diagnosis == "sech_not_squared"


@pytest.mark.parametrize("f,right,slip,diagnosis", [
    ("sigmoid", "a(1-a)", "a(1+a)", "slope_sign_flipped"),
    ("tanh", "1 - a²", "1 + a^2", "slope_sign_flipped"),
])
def test_an_answer_may_be_written_in_the_parts_intermediates(f, right, slip, diagnosis):
    """`where: {a: "{f}(z)"}`: a(1 − a) is read as σ(z)(1 − σ(z)), and slips written in a are
    still diagnosed; the check is SymPy's, after substitution, not a string match."""
    from backprop_tutor.bank.generate import generate as gen

    data = {"title": "t", "kind": "activation", "level": 1, "skills": ["activation_derivative"],
            "parameters": {"f": {"choice": [f]}, "p": {"decimal": [0.1, 1], "places": 2}},
            "activation": {"function": "$f", "point": "$p"},
            "parts": [{"id": "d", "prompt": "f′(z), with a = f(z)", "quantity": "derivative",
                       "skill": "activation_derivative", "where": {"a": "{f}(z)"}}]}
    problem = gen(template_from_dict(data, "t", "t.yaml"), 0)
    assert problem.parts[0].to_json()["where"] == {"a": f"{f}(z)"}
    assert grade_part(problem, "d", right).status == "correct"
    assert grade_part(problem, "d", slip).diagnosis == diagnosis
    assert grade_part(problem, "d", "a").status == "incorrect"
    assert grade_part(problem, "d", "b(1-b)").status == "invalid"  # only the defined names


def test_the_shipped_symbolic_template_accepts_a_for_sigma():
    template = _load("activation_derivative_symbolic")
    problem = next(p for p in (generate(template, s) for s in range(60)) if dict(p.parameters)["f"] == "sigmoid")
    assert grade_part(problem, "derivative", "a(1 - a)").status == "correct"
    assert grade_part(problem, "derivative", "a(1 - a)^2").status == "incorrect"


def test_error_carried_forward_credits_a_consistent_later_part():
    problem = generate(_template(), 3)
    wrong_delta1 = tuple(2 * v for v in _q(problem, "delta1"))
    dW1_given_wrong = tuple(tuple(d * _q(problem, f"x[{k}]") for k in range(2)) for d in wrong_delta1)
    earlier = {"d1": _text(wrong_delta1)}
    result = grade_part(problem, "gw", _text(dW1_given_wrong), earlier)
    assert result.status == "correct" and result.diagnosis is None and result.carried_from == ("d1",)
    assert "part d1" in result.feedback
    assert grade_part(problem, "gw", _text(dW1_given_wrong)).status == "incorrect"  # without the earlier answer


# --- tutor check --------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_check_against_a_template_part():
    key = next(p.answer for p in generate(_load("mlp_2_2_1"), 7).parts if p.id == "delta2")
    result = run("check", "mlp_2_2_1", "--seed", "7", "--part", "delta2", "--", key)
    assert result.exit_code == 0 and result.stdout.startswith("Correct")
    wrong = run("check", "mlp_2_2_1", "--seed", "7", "--part", "delta2", "--format", "json", "--", key.lstrip("-"))
    assert wrong.exit_code == 1
    data = json.loads(wrong.stdout)
    assert set(data) == {"status", "score", "interpreted_as", "expected", "feedback", "diagnosis", "carried_from"}
    assert data["status"] == "incorrect" and data["diagnosis"] == "error_sign" and data["carried_from"] == []


def test_check_takes_a_negative_answer_without_a_double_dash():
    key = next(p.answer for p in generate(_load("mlp_2_2_1"), 7).parts if p.id == "delta2")
    assert key.startswith("-")
    assert CliRunner().invoke(cli, ["check", "mlp_2_2_1", "--seed", "7", "--part", "delta2", key]).exit_code == 0
    flipped = CliRunner().invoke(cli, ["check", "--expected", "-tanh(x)", "-tanh(x)", "-f", "json"])
    assert flipped.exit_code == 0 and json.loads(flipped.stdout)["status"] == "correct"
    assert "check [OPTIONS] [TEMPLATE] ANSWER" in CliRunner().invoke(cli, ["check", "-h"]).stdout
    typo = CliRunner().invoke(cli, ["check", "--sed", "7", "mlp_2_2_1", "1"])
    assert typo.exit_code == 2 and "No such option '--sed'. Did you mean '--seed'?" in typo.output


def test_check_invalid_and_usage_errors_exit_2():
    result = run("check", "--expected", "0.25", "__import__('os')", "--format", "json")
    assert result.exit_code == 2 and json.loads(result.stdout)["status"] == "invalid"
    assert run("check", "mlp_2_2_1", "0.1").exit_code == 2
    assert run("check", "mlp_2_2_1", "--seed", "1", "--part", "nope", "0.1").exit_code == 2


def test_check_expected_uses_its_own_variables():
    assert run("check", "--expected", "1 - tanh(x)^2", "sech(x)^2").exit_code == 0
    result = run("check", "--expected", "1 - tanh(x)^2", "sech(y)^2", "--format", "json")
    assert result.exit_code == 2 and "unknown name 'y'" in json.loads(result.stdout)["feedback"]


def _load(template_id):
    from backprop_tutor.bank.folders import Bank

    return Bank.open().load(template_id)


GRADER_HOSTILE = ["exp(exp(exp(exp(100))))", "x**x**x**x**x**x", "9^9^9^9", "__import__('os').system('true')",
                  "(" * 5000, "1" * 1_000_000, "\x00", "tanh(" * 60 + "1" + ")" * 60, "10^-100000",
                  "gamma(1)", "1e999999", "[" + "1," * 400 + "1]", "e^(e^(e^(e^(e^9))))"]


@pytest.mark.parametrize("answer", GRADER_HOSTILE, ids=range(len(GRADER_HOSTILE)))
@pytest.mark.parametrize("expected", ["0.25", "1 - tanh(x)^2", "[0.1, 0.2]"])
def test_hostile_answers_are_graded_quickly_without_crashing(expected, answer):
    import time

    start = time.perf_counter()
    result = grade(target_for_expected(expected), answer)
    assert result.status in ("invalid", "incorrect")
    assert time.perf_counter() - start < 2.5


# --- every slip on the shipped bank ----------------------------------------------------------------
# (tests/test_slip_matrix.py grades every slip's answer on every template, computed independently)

NETWORK_TEMPLATES = [t.id for t in Bank.open().templates() if t.kind.name == "network"]


def test_the_shipped_bank_exercises_every_slip():
    """Every slip with a rule changes the key of some part of some shipped template, so the
    bank gives each one a chance to be diagnosed."""
    from backprop_tutor.engine.arithmetic import FLOATS
    from backprop_tutor.engine.entries import entries
    from backprop_tutor.engine.evaluation import Evaluation
    from backprop_tutor.engine.slips import SLIPS

    reachable = set()
    for template_id in NETWORK_TEMPLATES:
        problem = generate(_load(template_id), 0)
        network = problem.solution.network
        base = Evaluation(network, FLOATS)
        for part in problem.parts:
            ids = entries(network, part.quantity)
            key = base.values(ids)
            for slip in SLIPS:
                for scope in slip.scopes(network):
                    try:
                        value = base.with_rules(slip.rules(scope)).values(ids)
                    except Exception:
                        continue
                    if not _close(value, key, ("relative", 1e-3)):
                        reachable.add(slip.name)
    assert reachable == {s.name for s in SLIPS if s.rule is not None}, {s.name for s in SLIPS} - reachable


def _close(a, b, tolerance) -> bool:
    from backprop_tutor.grading.answers import within

    if isinstance(a, tuple):
        return all(_close(x, y, tolerance) for x, y in zip(a, b))
    return within(a, b, tolerance)


def test_softmax_output_delta_is_credited_from_the_learners_own_p():
    """δ⁽ᴸ⁾ = p − t for softmax with cross-entropy: a wrong p carried into δ earns the credit."""
    from backprop_tutor.bank.folders import Bank
    from backprop_tutor.bank.generate import generate
    from backprop_tutor.grading.grade import grade_part

    problem = generate(Bank.open().load("softmax_cross_entropy_2_3_2"), 1)
    t = problem.solution.network.target
    p = [0.5, 0.5]
    delta = "[" + ", ".join(repr(pj - float(tj)) for pj, tj in zip(p, t)) + "]"
    result = grade_part(problem, "delta2", delta, {"p": "[0.5, 0.5]"})
    assert (result.status, result.diagnosis, result.carried_from) == ("correct", None, ("p",))
    assert "the error began in part p" in result.feedback
    wrong = grade_part(problem, "delta2", "[0.7, -0.7]", {"p": "[0.5, 0.5]"})
    assert wrong.status == "incorrect"


def test_an_earlier_answer_that_overflows_carries_no_credit():
    """A learner's earlier 1e308 makes the re-run overflow to inf; inf must match nothing
    (a relative tolerance of inf would otherwise accept any answer)."""
    problem = generate(_load("mlp_2_2_1"), 7)
    result = grade_part(problem, "delta2", "1e300", {"a2": "1e308"})
    assert (result.status, result.score, result.carried_from) == ("incorrect", 0, ())
    assert grade_part(problem, "dW1", "1", {"delta1": "[1e308, 1e308]", "a2": "nan"}).status == "incorrect"


def test_check_refuses_an_earlier_answer_to_a_part_that_is_not_earlier():
    unknown = run("check", "mlp_2_2_1", "--seed", "7", "--part", "dW1", "--earlier", "dw2=1", "--", "-0.105")
    assert unknown.exit_code == 2
    assert unknown.stderr == "Error: --earlier dw2: not a part before dW1; the parts before it are a2, delta2, delta1\n"
    later = run("check", "mlp_2_2_1", "--seed", "7", "--part", "a2", "--earlier", "delta1=1", "--", "0.4")
    assert later.exit_code == 2 and "not a part before a2" in later.stderr


@pytest.mark.parametrize("template_id, seed, part, answer", [
    ("relu_hidden_2_3_1", 1, "slopes", "[1, 1, 1]"),
    ("activation_derivative_at_point", 1, "slope", "1"),
])
def test_a_slope_of_1_where_the_slope_is_asked_gets_advice_about_the_slope(template_id, seed, part, answer):
    """A forgotten f′ shows downstream as a missing factor, but in f′ itself as a plain 1: the
    advice is about f′'s value, not about a factor missing from δ (one rule for every kind)."""
    problem = generate(Bank.open().load(template_id), seed)
    assert all(v != 1 for v in sp.flatten([problem.part(part).value.approx]))
    result = grade_part(problem, part, answer)
    assert result.status == "incorrect" and result.diagnosis == "forgot_activation_slope"
    assert "is not simply 1" in result.feedback and "δ" not in result.feedback, result.feedback

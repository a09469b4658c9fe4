"""The symbols a prompt invites are the symbols the grader accepts: "in terms of o and t",
"an expression in z", "write a for f(z)". Every such part of the bank reads an answer written
in them, by grade_part, `tutor check`, `tutor practice` and `tutor grade` alike; and o − t for
the sigmoid + bce output delta is graded correct because it is (checked against a central
difference of the loss, not against the key)."""

from __future__ import annotations

import csv
import math
import re

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.cli.app import cli
from backprop_tutor.grading.grade import grade_part
from backprop_tutor.grading.result import Status

SEEDS = range(5)
_INVITATIONS = (re.compile(r"in terms of ((?:\w+(?:,\s*|\s+and\s+|\s+or\s+)?)+)"),
                re.compile(r"expression in (\w+)"), re.compile(r"write (\w+) for"))


def invited(prompt: str) -> set[str]:
    names = set()
    for pattern in _INVITATIONS:
        for match in pattern.finditer(prompt):
            names |= {w for w in re.split(r",\s*|\s+and\s+|\s+or\s+", match[1]) if w}
    return names


def accepted(part) -> set[str]:
    return set(part.value.variables) | {name for name, _ in part.where}


def symbolic_parts():
    for template in Bank.open().templates():
        for seed in SEEDS:
            problem = generate(template, seed, worked=False)
            for part in problem.parts:
                if invited(part.prompt) or accepted(part):
                    yield problem, part


def test_the_bank_has_parts_that_invite_symbols():
    templates = {problem.template for problem, part in symbolic_parts() if invited(part.prompt)}
    assert {"neuron_sigmoid_bce", "activation_derivative_symbolic"} <= templates


def test_every_invited_symbol_is_accepted():
    refused = [f"{problem.template} seed {problem.seed} {part.id}: invites {sorted(invited(part.prompt))}, "
               f"accepts {sorted(accepted(part))}"
               for problem, part in symbolic_parts() if not invited(part.prompt) <= accepted(part)]
    assert not refused


def test_an_answer_in_every_accepted_symbol_is_read_and_graded():
    """Each defined name, put in beside the key and taken away as what it stands for, leaves the
    key: so the answer is correct exactly when the name is read as its definition."""
    for problem, part in symbolic_parts():
        for name, stands_for in part.where:
            answer = f"({part.answer}) + {name} - ({stands_for})"
            result = grade_part(problem, part.id, answer)
            assert result.status is Status.CORRECT, (problem.template, problem.seed, part.id, answer, result.feedback)


def _bce_delta_by_central_difference(problem) -> float:
    """∂L/∂b = δ for L = −[t ln σ(w·x + b) + (1 − t) ln(1 − σ(w·x + b))], in floats."""
    layer = problem.solution.network.layers[0]
    x = [float(v) for v in problem.solution.network.input]
    t = float(problem.solution.network.target[0])
    w = [float(v) for v in layer.weights[0]]

    def loss(b: float) -> float:
        o = 1 / (1 + math.exp(-(sum(wi * xi for wi, xi in zip(w, x)) + b)))
        return -(t * math.log(o) + (1 - t) * math.log(1 - o))

    b, h = float(layer.bias[0]), 1e-6
    return (loss(b + h) - loss(b - h)) / (2 * h)


@pytest.mark.parametrize("seed", range(20))
def test_o_minus_t_is_the_bce_delta_and_is_graded_correct(seed):
    problem = generate(Bank.open().load("neuron_sigmoid_bce"), seed, worked=False)
    o = float(problem.solution.numeric.a[1][0])
    t = float(problem.solution.network.target[0])
    assert math.isclose(o - t, _bce_delta_by_central_difference(problem), rel_tol=1e-6)
    for answer in ("o - t", "o−t", "-(t - o)", "(o - t)*1"):
        assert grade_part(problem, "delta", answer).status is Status.CORRECT
    assert grade_part(problem, "delta", "t - o").status is Status.INCORRECT
    assert grade_part(problem, "delta", "o - t + 0.1").status is Status.INCORRECT


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def test_tutor_check_accepts_the_invited_symbols():
    result = run("check", "neuron_sigmoid_bce", "--seed", "3", "--part", "delta", "o - t")
    assert result.exit_code == 0 and result.output.startswith("Correct") and "understood as: o − t" in result.output
    result = run("check", "neuron_sigmoid_bce", "--seed", "3", "--part", "delta", "q - t")
    assert result.exit_code == 2 and "variables here: o, t" in result.output + result.stderr


def test_practice_accepts_the_invited_symbols(tmp_path):
    problem = generate(Bank.open().load("neuron_sigmoid_bce"), 5, worked=False)
    result = run("practice", "--template", "neuron_sigmoid_bce", "--seed", "5", "--count", "1",
                 "--db", tmp_path / "p.sqlite3", input=f"{problem.part('dL_do').answer}\no - t\nquit\n")
    after = result.output[result.output.index("delta> "):]
    assert after.startswith("delta> Correct"), after[:200]


def test_tutor_grade_accepts_the_invited_symbols(tmp_path):
    out = tmp_path / "set"
    assert run("generate", "neuron_sigmoid_bce", "--count", "2", "--seed", "11", "--out", out).exit_code == 0
    answers = out / "answers" / "s01.yaml"
    blank = yaml.safe_load(answers.read_text(encoding="utf-8"))
    answers.write_text(yaml.safe_dump({**blank, "1.delta": "o - t"}), encoding="utf-8")
    result = run("grade", out / "set.json", answers, "--out", tmp_path / "g.csv")
    assert result.exit_code in (0, 1), result.output
    rows = [r for r in csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8"))
            if r["student"] == "s01" and r["part"] == "delta"]
    assert rows and float(rows[0]["score"]) == 1.0, rows


# --- a prompt that writes its quantity in o and t (issue 12, point 3) ---------------------------

def _loss_in_o(problem):
    """L as a function of the single output o, from the loss's definition (PRODUCT.md), in floats."""
    t = float(problem.solution.network.target[0])
    name = problem.solution.network.loss
    if name == "bce":
        return lambda o: -(t * math.log(o) + (1 - t) * math.log(1 - o))
    return lambda o: {"half_sse": 0.5, "sse": 1.0, "mse": 1.0}[name] * (t - o) ** 2


def _dL_do_in_o_and_t(loss: str) -> str:
    return {"bce": "-t/o + (1-t)/(1-o)", "half_sse": "o - t", "sse": "2(o - t)", "mse": "2(o - t)"}[loss]


def dL_do_parts():
    """Every single-output part asking ∂L/∂o: its prompt (and the statement's loss) write it in o and t."""
    for template in Bank.open().templates():
        for seed in SEEDS:
            problem = generate(template, seed, worked=False)
            for part in problem.parts:
                if re.search(r"∂L/∂o(?![₀-₉ⱼ])", part.prompt):
                    yield problem, part


def test_every_part_asking_dL_do_reads_o_and_t():
    found = list(dL_do_parts())
    assert {p.template for p, _ in found} >= {"neuron_sigmoid_bce", "neuron_squared_error"}
    assert all({"o", "t"} <= accepted(part) for _, part in found), [(p.template, q.id) for p, q in found]


def test_dL_do_written_in_o_and_t_is_graded_by_its_value():
    """The derivative of the loss in o, written in o and t, is correct because it is: its value at
    the draw matches a central difference of L(o)."""
    for problem, part in dL_do_parts():
        o = float(problem.solution.numeric.a[1][0])
        loss, h = _loss_in_o(problem), 1e-6
        answer = _dL_do_in_o_and_t(problem.solution.network.loss)
        t = float(problem.solution.network.target[0])
        value = eval(answer.replace("2(", "2*("), {}, {"o": o, "t": t})  # our own fixed text, not a learner's
        assert math.isclose(value, (loss(o + h) - loss(o - h)) / (2 * h), rel_tol=1e-5)
        assert grade_part(problem, part.id, answer).status is Status.CORRECT, (problem.template, problem.seed, answer)


def test_the_issue_answer_is_correct_by_check():
    result = run("check", "neuron_sigmoid_bce", "--seed", "3", "--part", "dL_do", "--", "-t/o + (1-t)/(1-o)")
    assert result.exit_code == 0 and result.output.startswith("Correct"), result.output


def test_a_wrong_formula_in_the_defined_names_is_told_its_value():
    problem = generate(Bank.open().load("neuron_sigmoid_bce"), 3, worked=False)
    o = float(problem.solution.numeric.a[1][0])
    t = float(problem.solution.network.target[0])
    result = grade_part(problem, "dL_do", "o + t")
    assert result.status is Status.INCORRECT
    said = re.fullmatch(r"o \+ t = (\S+) here, not the expected value\.", result.feedback)
    assert said, result.feedback
    assert math.isclose(float(said[1].replace("−", "-")), o + t, rel_tol=1e-5)
    # a plain number keeps the plain reason: there is no formula to evaluate for the learner
    assert "here" not in grade_part(problem, "dL_do", "0.3").feedback


def test_an_unknown_name_in_a_number_part_reads_as_one_sentence():
    result = run("check", "neuron_sigmoid_bce", "--seed", "3", "--part", "dw", "q")
    text = " ".join((result.output + result.stderr).split())
    assert result.exit_code == 2
    assert "unknown name 'q' at position 1 (a number is expected here; no variables)" in text
    assert "none:" not in text

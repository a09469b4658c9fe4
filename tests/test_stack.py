"""Formula parts as STACK questions: every formula key of the bank, and every function of the
answer syntax, in Maxima that means the same (checked by evaluating the Maxima text
independently, at random points, against our parser's value); the STACK XML shape; essay mode
byte for byte as before STACK questions existed; a bad --moodle-formulas in one line."""

from __future__ import annotations

import dataclasses
import html
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import mpmath
import pytest
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.cli.app import cli
from backprop_tutor.engine.activations import ELEMENTWISE
from backprop_tutor.engine.parsing import FUNCTION_NAMES, parse, to_sympy
from backprop_tutor.homework.maxima import MaximaError, functions_of, to_maxima
from backprop_tutor.homework.moodle import quiz_xml

SEEDS = range(12)
GOLDEN = Path(__file__).parent / "golden" / "moodle-essay-seed7.xml"
ESSAY_SET = ["activation_derivative_symbolic", "mlp_2_2_1", "activation_derivative_at_point"]


def formula_parts():
    bank = Bank.open()
    for template in bank.templates():
        for seed in SEEDS:
            problem = generate(template, seed)
            parts = [p for p in problem.parts if p.value.expression]
            if not parts:
                break  # a template without formula parts has none at any seed
            for part in parts:
                yield template.id, seed, problem, part


FORMULA_PARTS = list(formula_parts())


# --- an evaluator of Maxima text that shares nothing with homework.maxima ------------------------

_MAXIMA_NAMES = {"exp": mpmath.exp, "log": mpmath.log, "sqrt": mpmath.sqrt, "abs": abs, "tanh": mpmath.tanh,
                 "sinh": mpmath.sinh, "cosh": mpmath.cosh, "sech": mpmath.sech, "erf": mpmath.erf, "max": max,
                 "min": min, "E": mpmath.e, "PI": mpmath.pi, "mpf": mpmath.mpf,
                 "_if": lambda condition, then, otherwise: then if condition else otherwise}


def maxima_value(text: str, point: dict[str, mpmath.mpf]):
    """Maxima's syntax back into Python's, by rules of Maxima's grammar, then evaluated by mpmath."""
    assert re.fullmatch(r"[\w%+\-*/^(),.>= ]+", text), text  # nothing but what Maxima's arithmetic needs
    py = text.replace("%e", "E").replace("%pi", "PI").replace("^", "**")
    py = py.replace("(if ", "_if(").replace(" then ", ", ").replace(" else ", ", ")
    py = re.sub(r"\b\d+\b", lambda m: f"mpf({m.group()})", py)  # exact integers: 1/100 is not float division
    with mpmath.workdps(40):
        return eval(py, {"__builtins__": {}, **_MAXIMA_NAMES}, dict(point))  # noqa: S307 — test-only, our own text


def parser_value(text: str, variables, where, point):
    defined = {name: to_sympy(parse(expression, variables)) for name, expression in where}
    value = to_sympy(parse(text, tuple(variables) + tuple(defined)), defined)
    return value.evalf(40, subs={s: point[s.name] for s in value.free_symbols})


def assert_same(text: str, variables=("z",), where=(), points: int = 8, seed: int = 0) -> str:
    maxima = to_maxima(text, variables, dict(where))
    rng = random.Random(seed)
    tried = [{v: mpmath.mpf(0) for v in variables}] + [
        {v: mpmath.mpf(rng.uniform(-3, 3)) for v in variables} for _ in range(points)]
    for point in tried:
        ours = parser_value(text, variables, where, {k: float(v) for k, v in point.items()})
        theirs = maxima_value(maxima, point)
        assert abs(float(theirs) - float(ours)) <= 1e-12 * max(1.0, abs(float(ours))), (text, maxima, point)
    return maxima


def test_the_bank_has_formula_parts_in_every_form_it_draws():
    keys = {part.answer for _, _, _, part in FORMULA_PARTS}
    assert FORMULA_PARTS and len(keys) >= 4, keys  # sigmoid, tanh, softplus and silu drawn over the seeds


@pytest.mark.parametrize("template_id, seed, problem, part", FORMULA_PARTS,
                         ids=[f"{t}-{s}-{p.id}" for t, s, _, p in FORMULA_PARTS])
def test_every_formula_key_means_the_same_in_maxima(template_id, seed, problem, part):
    assert_same(part.answer, part.value.variables, part.where, seed=seed)
    for name, expression in part.where:  # the key written with the part's own names, and the names alone
        assert_same(name, part.value.variables, part.where, seed=seed)
        assert_same(expression, part.value.variables, seed=seed)


ONE_ARGUMENT = sorted(set(FUNCTION_NAMES) - {"log", "max", "min"})  # log is ln; those three below


@pytest.mark.parametrize("name", ONE_ARGUMENT)
def test_every_function_of_the_answer_syntax_means_the_same_in_maxima(name):
    argument = "z^2 + 1/3" if name in ("sqrt", "ln") else "2*z - 1/3"  # inside their real domain
    assert_same(f"{name}({argument})", seed=len(name))
    assert_same(f"-{name}(0.5*{argument})^2 + e^{name}({argument})/pi", seed=len(name) + 1)


@pytest.mark.parametrize("text", [
    "log(z^2 + 2)", "ln(z^2 + 2, 3)", "max(z, 1 - z, 0.25)", "min(z, -z)", "z - -z", "2^-z", "abs(z)^2^0.5",
    "-z^2", "(z - 1)/(z + 1)/(z - 3)", "1e-3*z", "step(z)*relu(z - 1) - leaky_relu(-z)", "σ(z)(1 − σ(z))",
])
def test_operators_and_brackets_mean_the_same_in_maxima(text):
    assert_same(text)


def test_step_is_one_at_zero_and_leaky_relu_keeps_its_slope():
    assert maxima_value(to_maxima("step(z)"), {"z": mpmath.mpf(0)}) == 1
    assert abs(maxima_value(to_maxima("leaky_relu(z)"), {"z": mpmath.mpf(-2)}) + mpmath.mpf("0.02")) < 1e-15
    assert set(ELEMENTWISE) <= set(FUNCTION_NAMES)


def test_decimals_become_exact_fractions_and_constants_maxima_names():
    assert to_maxima("0.01*z + e^z - pi") == "(1/100)*z+%e^z-%pi"
    assert functions_of("sigmoid(z)*tanh(z)", "relu(z)") == ("sigmoid", "relu")


def test_a_list_or_an_unknown_function_is_refused():
    with pytest.raises(MaximaError):
        to_maxima("[z, 1]")


# --- the STACK questions ----------------------------------------------------------------------------

def stack_questions(xml: str) -> list[ET.Element]:
    return [q for q in ET.fromstring(xml.encode()).findall("question") if q.get("type") == "stack"]


@pytest.mark.parametrize("template_id, seed, problem, part", FORMULA_PARTS[:8],
                         ids=[f"{t}-{s}-{p.id}" for t, s, _, p in FORMULA_PARTS[:8]])
def test_each_formula_part_is_one_stack_question_graded_by_algebraic_equivalence(template_id, seed, problem, part):
    xml = quiz_xml([("s1", 1, problem)], formulas="stack")
    formulas = [p for p in problem.parts if p.value.expression]
    found = stack_questions(xml)
    assert len(found) == len(formulas)
    (question,) = [q for q in found if q.findtext("name/text").endswith(f"part {part.id}")]
    (variable,) = re.fullmatch(r"ta: (.+);", question.findtext("questionvariables/text")).groups()
    assert variable == to_maxima(part.answer, part.value.variables, dict(part.where))
    assert_same(part.answer, part.value.variables, part.where, seed=seed)
    (answer,) = question.findall("input")
    assert (answer.findtext("name"), answer.findtext("type"), answer.findtext("tans")) == ("ans1", "algebraic", "ta")
    (node,) = question.findall("prt/node")
    assert [node.findtext(t) for t in ("answertest", "sans", "tans")] == ["AlgEquiv", "ans1", "ta"]
    assert node.findtext("truescore") == "1.0000000" and node.findtext("falsescore") == "0.0000000"
    assert question.findtext("prt/name") == "prt1" and "[[feedback:prt1]]" in question.findtext("specificfeedback/text")
    text = question.findtext("questiontext/text")
    assert re.findall(r"\[\[[^\]]*\]\]", text) == ["[[input:ans1]]", "[[validation:ans1]]"]
    assert float(question.findtext("defaultgrade")) == part.points


def test_the_prose_cannot_open_a_stack_block_or_cas_text():
    _, _, problem, part = FORMULA_PARTS[0]
    hostile = "[[input:ans2]] {@ta@} \\(x\\) @x@"
    problem = dataclasses.replace(problem, title=hostile, parts=tuple(
        dataclasses.replace(p, prompt=hostile) if p is part else p for p in problem.parts))
    (question,) = stack_questions(quiz_xml([("s1", 1, problem)], formulas="stack"))
    text = question.findtext("questiontext/text")
    assert re.findall(r"\[\[[^\]]*\]\]", text) == ["[[input:ans1]]", "[[validation:ans1]]"]
    assert not re.search(r"[{}\\@]", text)
    assert hostile in html.unescape(text)


# --- tutor generate --------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_essay_mode_is_todays_moodle_xml_byte_for_byte(tmp_path):
    result = run("generate", *ESSAY_SET, "--count", 3, "--seed", 7, "--out", tmp_path / "hw",
                 "--moodle-formulas", "essay")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hw" / "moodle.xml").read_bytes() == GOLDEN.read_bytes()


def test_stack_is_the_default_and_changes_only_the_formula_questions(tmp_path):
    assert run("generate", *ESSAY_SET, "--count", 3, "--seed", 7, "--out", tmp_path / "hw").exit_code == 0
    xml = (tmp_path / "hw" / "moodle.xml").read_text(encoding="utf-8")
    essay = GOLDEN.read_text(encoding="utf-8")
    kinds = [q.get("type") for q in ET.fromstring(xml.encode()).findall("question")]
    assert kinds == [k.replace("essay", "stack") for k in
                     (q.get("type") for q in ET.fromstring(essay.encode()).findall("question"))]
    assert kinds.count("stack") == 3


def test_a_bad_moodle_formulas_value_is_a_one_line_usage_error(tmp_path):
    result = run("generate", "mlp_2_2_1", "--count", 1, "--out", tmp_path / "hw", "--moodle-formulas", "cloze")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith(
        "Error: Invalid value for '--moodle-formulas': 'cloze' is not one of 'stack', 'essay'"), result.output
    assert not (tmp_path / "hw").exists()


def with_key(part, answer: str, variables: tuple[str, ...]):
    return dataclasses.replace(part, answer=answer, where=(),
                               value=dataclasses.replace(part.value, variables=variables))


def test_a_variable_named_like_the_key_is_not_overwritten():
    _, _, problem, part = FORMULA_PARTS[0]
    problem = dataclasses.replace(problem, parts=(with_key(part, "ta*ta_ + 1", ("ta", "ta_")),))
    (question,) = stack_questions(quiz_xml([("s1", 1, problem)], formulas="stack"))
    assert question.findtext("questionvariables/text") == "ta__: ta*ta_+1;"
    assert question.findtext("input/tans") == question.findtext("prt/node/tans") == "ta__"


def test_the_question_text_does_not_tell_which_activations_the_key_uses():
    _, _, problem, part = FORMULA_PARTS[0]
    problem = dataclasses.replace(problem, parts=(with_key(part, "relu(z)*softplus(z)", ("z",)),))
    (question,) = stack_questions(quiz_xml([("s1", 1, problem)], formulas="stack"))
    (advice,) = re.findall(r"<p>Type the formula.*?</p>", html.unescape(question.findtext("questiontext/text")))
    assert "sigmoid(u) as" in advice and "relu" not in advice and "softplus" not in advice


def test_a_key_with_no_maxima_form_is_one_line_naming_the_part_and_the_way_out():
    _, _, problem, part = FORMULA_PARTS[0]
    problem = dataclasses.replace(problem, parts=(with_key(part, "[z, 1]", ("z",)),))
    with pytest.raises(MaximaError) as caught:
        quiz_xml([("s1", 1, problem)], formulas="stack")
    assert str(caught.value) == (f"problem 1 ({problem.template}): parts.{part.id}: the key '[z, 1]': a list has "
                                 "no single Maxima formula here; generate with --moodle-formulas essay")

"""The Moodle XML export: valid XML of the shape Moodle imports, for every shipped template;
every key and tolerance checked against the set's keys and the grader; Cloze text that the
question text cannot break; byte-identical output."""

from __future__ import annotations

import dataclasses
import html
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction
from functools import cache

import pytest
import sympy as sp

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.grading.answers import DEFAULT_TOLERANCE, read_answer, within
from backprop_tutor.homework.moodle import quiz_xml, tolerance_band

TEMPLATES = list(Bank.open().paths())
SUBQUESTION = re.compile(r"\{(\d+):NUMERICAL:=([^:}]+):([^}]+)\}")
# Moodle's own ANSWER_REGEX (question/type/multianswer/questiontype.php), with the
# variable-width look-behind split into three, as Python needs
_ALTERNATIVE = r"(=|%(-?[0-9]+(?:[.,][0-9]*)?)%)?(.+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$))(#(.*?(?<!\\)(?=[~}]|$)))?"
_TYPES = ("NUMERICAL|NM|MULTICHOICE|MC|MULTICHOICE_V|MCV|MULTICHOICE_H|MCH|SHORTANSWER|SA|MW|SHORTANSWER_C|SAC|MWC|"
          "MULTICHOICE_S|MCS|MULTICHOICE_VS|MCVS|MULTICHOICE_HS|MCHS|MULTIRESPONSE|MR|MULTIRESPONSE_H|MRH|"
          "MULTIRESPONSE_S|MRS|MULTIRESPONSE_HS|MRHS")
MOODLE_ANSWER = re.compile(r"\{([0-9]*):(" + _TYPES + "):(" + _ALTERNATIVE + "(~" + _ALTERNATIVE + r")*)\}", re.DOTALL)


@cache
def problem(template_id: str, seed: int):
    return generate(Bank.open().load(template_id), seed)


def parse(xml: str) -> ET.Element:
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')
    return ET.fromstring(xml.encode("utf-8"))


def leaves(value) -> list:
    return [x for v in value for x in leaves(v)] if isinstance(value, (list, tuple)) else [value]


def numeric_parts(p):
    return [part for part in p.parts if not part.value.expression]


def exact(text: str) -> sp.Rational:
    return sp.Rational(str(Fraction(Decimal(text))))


def questions(root: ET.Element, kind: str | None = None) -> list[ET.Element]:
    return [q for q in root.findall("question") if kind is None or q.get("type") == kind]


def numeric_question(root: ET.Element) -> ET.Element:
    q, = questions(root, "cloze") or questions(root, "numerical")
    return q


def expected_kinds(p) -> list[str]:
    numeric = numeric_parts(p)
    if len(numeric) == 1 and numeric[0].value.form == "number":
        head = ["numerical"]
    else:
        head = ["cloze"] if numeric else []
    return head + ["essay"] * (len(p.parts) - len(numeric))


def numeric_answers(question: ET.Element) -> list[tuple[str, str]]:
    """(key, tolerance) of every number a numerical or cloze question accepts, in order."""
    if question.get("type") == "numerical":
        answer = question.find('answer[@fraction="100"]')
        return [(answer.findtext("text"), answer.findtext("tolerance"))]
    return [(key, tol) for _, key, tol in SUBQUESTION.findall(question.findtext("questiontext/text"))]


# -- structure ------------------------------------------------------------------------------

@pytest.mark.parametrize("template_id", TEMPLATES)
def test_every_template_exports_the_questions_moodle_expects(template_id):
    entries = [("s1", 1, problem(template_id, 0)), ("s2", 1, problem(template_id, 1))]
    root = parse(quiz_xml(entries))
    assert root.tag == "quiz"
    category, sub, *rest = questions(root)
    assert category.get("type") == "category" and sub.get("type") == "category"
    assert category.findtext("category/text") == "$course$/top/backprop-tutor"
    assert sub.findtext("category/text") == f"$course$/top/backprop-tutor/Problem 1 ({template_id})"
    assert [q.get("type") for q in rest] == [k for _, _, p in entries for k in expected_kinds(p)]
    for q in rest:
        assert q.findtext("name/text") and q.findtext("questiontext/text")
        assert q.find("questiontext").get("format") == "html"
    position = iter(rest)
    for student, number, p in entries:
        if numeric_parts(p):
            q = next(position)
            assert q.findtext("name/text") == f"{student} – problem {number}: {p.title}"
            count = sum(len(leaves(read_answer(part.answer)[0])) for part in numeric_parts(p))
            if q.get("type") == "numerical":
                assert q.find('answer[@fraction="100"]/text') is not None
                assert q.find('answer[@fraction="100"]/tolerance') is not None
            else:
                text = q.findtext("questiontext/text")
                assert len(SUBQUESTION.findall(text)) == count
                assert len(MOODLE_ANSWER.findall(text)) == count  # as Moodle itself finds them
            assert len(numeric_answers(q)) == count
        for part in p.parts:
            if part.value.expression:
                q = next(position)
                assert q.findtext("name/text") == f"{student} – problem {number} part {part.id} (manual grading)"
                assert q.findtext("graderinfo/text") == part.answer


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_every_number_in_the_xml_is_the_key_exactly(template_id):
    p = problem(template_id, 0)
    written = [key for key, _ in numeric_answers(numeric_question(parse(quiz_xml([("s1", 1, p)]))))]
    keys = [key for part in numeric_parts(p) for key in leaves(read_answer(part.answer)[0])]
    assert [exact(text) for text in written] == keys
    # the digits too, not just the value: each entry's text as it appears in set.json
    assert written == [t for part in numeric_parts(p) for t in re.findall(r"[^\[\],\s]+", part.answer)]


def test_the_statement_is_kept_verbatim_in_a_pre_block_and_the_prompts_follow():
    p = problem("mlp_2_2_1", 3)
    q, = questions(parse(quiz_xml([("s1", 1, p)])), "cloze")
    text = q.findtext("questiontext/text")
    statement = re.search(r"<pre[^>]*>(.*?)</pre>", text, re.DOTALL).group(1)
    assert html.unescape(statement) == p.statement.text
    visible = html.unescape(re.sub(r"<[^>]+>", "", text))
    positions = [visible.index(part.prompt) for part in p.parts]
    assert positions == sorted(positions)


def test_general_feedback_gives_every_key():
    p = problem("relu_hidden_2_3_1", 0)
    q, = questions(parse(quiz_xml([("s1", 1, p)])), "cloze")
    feedback = html.unescape(q.findtext("generalfeedback/text"))
    for part in p.parts:
        assert f"{part.id} = {part.answer}" in feedback


# -- tolerance ------------------------------------------------------------------------------

def check_tolerances(p, xml: str) -> int:
    """Every number's Moodle window against the grader's: rel·|key| (floor 1e-12) or the absolute
    amount; a value just inside it is accepted by the grader, one just outside rejected."""
    answers = iter(numeric_answers(numeric_question(parse(xml))))
    checked = 0
    for part in numeric_parts(p):
        kind, amount = part.tolerance or DEFAULT_TOLERANCE
        for value in leaves(part.value.approx):
            key, tol = next(answers)
            key_d, tol_d = Decimal(key), Decimal(tol)
            if kind == "relative":
                assert tol_d == max(Decimal(str(amount)) * abs(key_d), Decimal("1e-12"))
            elif kind == "absolute":
                assert tol_d == Decimal(str(amount))
            for sign in (1, -1):
                inside = exact(key) + sign * exact(tol) * sp.Rational(999, 1000)
                outside = exact(key) + sign * exact(tol) * sp.Rational(1001, 1000)
                assert within(inside, value, (kind, amount)), (part.id, key, tol)
                assert not within(outside, value, (kind, amount)), (part.id, key, tol)
            checked += 1
    assert next(answers, None) is None
    return checked


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_the_moodle_tolerance_is_the_graders_window_around_the_key(template_id):
    for seed in (0, 1):
        p = problem(template_id, seed)
        assert check_tolerances(p, quiz_xml([("s1", 1, p)])) == sum(
            len(leaves(part.value.approx)) for part in numeric_parts(p))


def test_relative_tolerance_is_rel_times_the_key_and_a_zero_key_gets_the_graders_floor():
    p = problem("relu_hidden_2_3_1", 0)  # a1 = [0.37, 0.13, 0]
    q, = questions(parse(quiz_xml([("s1", 1, p)])), "cloze")
    answers = numeric_answers(q)
    assert answers[:3] == [("0.37", "0.00037"), ("0.13", "0.00013"), ("0", "1e-12")]


@pytest.mark.parametrize("tolerance", [("absolute", 0.001), ("relative", 1e-6), ("absolute", 0.5)])
def test_template_tolerances_carry_over(tolerance):
    base = problem("mlp_2_2_1", 3)
    p = dataclasses.replace(base, parts=tuple(dataclasses.replace(part, tolerance=tolerance) for part in base.parts))
    assert check_tolerances(p, quiz_xml([("s1", 1, p)])) == 6


def test_significant_figures_become_the_rounded_key_and_half_a_unit_in_the_last_kept_digit():
    base = problem("mlp_2_2_1", 3)
    part = dataclasses.replace(base.parts[0], tolerance=("sigfigs", 3))  # a2 = 0.562950693534
    q, = questions(parse(quiz_xml([("s1", 1, dataclasses.replace(base, parts=(part,)))])), "numerical")
    assert numeric_answers(q)[0] == ("0.563", "0.0005")  # the grader compares roundings: centred on one


@pytest.mark.parametrize("key", ["0.0628602241622", "0.562950693534", "-0.0829246623601", "12.3449", "0.000999951",
                                 "-0.000999951", "99.96"])
@pytest.mark.parametrize("figures", [2, 3, 4])
def test_a_significant_figures_band_accepts_what_the_grader_accepts(key, figures):
    """Numbers across the band and beyond it: Moodle's and QTI's test (|x − centre| ≤ width)
    agrees with the grader's (the same n figures) on every one off the band's two edges."""
    centre, width = tolerance_band(key, ("sigfigs", figures))
    value = sp.Rational(key)
    for step in range(-40, 41):
        typed = sp.Rational(centre) + sp.Rational(step, 16) * exact(str(width))
        if abs(abs(typed - sp.Rational(centre)) - exact(str(width))) == 0:
            continue  # an edge: which side a tie rounds to is the grader's rounding, not a band's
        assert (abs(typed - sp.Rational(centre)) <= exact(str(width))) == within(typed, value, ("sigfigs", figures)), \
            (key, figures, typed)


# -- question types and weights ---------------------------------------------------------------

def test_a_single_number_is_a_numerical_question():
    base = problem("neuron_one_input", 0)
    part = dataclasses.replace(base.parts[1], points=2)  # o = 0.715042105701
    root = parse(quiz_xml([("s1", 4, dataclasses.replace(base, parts=(part,)))]))
    q, = questions(root, "numerical")
    assert len(questions(root)) == 3  # the category, the problem's subcategory, the question
    assert q.findtext("name/text") == f"s1 – problem 4: {base.title}"
    assert q.findtext("defaultgrade") == "2"
    answer = q.find('answer[@fraction="100"]')
    assert answer.findtext("text") == "0.715042105701"
    assert Decimal(answer.findtext("tolerance")) == Decimal("0.000715042105701")
    assert answer.find("feedback").get("format") == "html"
    assert q.findtext("unitgradingtype") == "0"
    assert part.prompt in html.unescape(q.findtext("questiontext/text"))


def test_a_symbolic_part_is_an_essay_and_the_numeric_question_says_so():
    p = problem("activation_derivative_symbolic", 1)  # derivative (symbolic), slope (number)
    root = parse(quiz_xml([("s1", 2, p)]))
    numerical, = questions(root, "numerical")
    essay, = questions(root, "essay")
    assert "graded by hand" in numerical.findtext("questiontext/text")
    assert "part derivative" in numerical.findtext("questiontext/text")
    assert essay.findtext("name/text") == "s1 – problem 2 part derivative (manual grading)"
    assert essay.findtext("graderinfo/text") == "1 - tanh(z)^2"
    assert essay.find("graderinfo").get("format") == "plain_text"
    assert p.parts[0].prompt in html.unescape(essay.findtext("questiontext/text"))
    assert "1 - tanh(z)^2" in html.unescape(essay.findtext("generalfeedback/text"))


def test_a_problem_with_only_symbolic_parts_is_only_essays():
    base = problem("activation_derivative_symbolic", 0)
    p = dataclasses.replace(base, parts=base.parts[:1])
    root = parse(quiz_xml([("s1", 1, p)]))
    assert [q.get("type") for q in questions(root)] == ["category", "category", "essay"]


def test_weights_are_whole_and_proportional_to_points_across_the_quiz():
    base = problem("mlp_2_2_1", 3)  # a2, delta2, delta1 (vector of 2), dW1, db2
    points = {"a2": 2, "delta2": 0.5, "delta1": 1, "dW1": 1.5, "db2": 1}
    p = dataclasses.replace(base, parts=tuple(dataclasses.replace(part, points=points[part.id]) for part in base.parts))
    single = dataclasses.replace(base, parts=(dataclasses.replace(base.parts[0], points=3),))
    root = parse(quiz_xml([("s1", 1, p), ("s1", 2, single)]))
    cloze, = questions(root, "cloze")
    weights = [int(w) for w, _, _ in SUBQUESTION.findall(cloze.findtext("questiontext/text"))]
    shares = [Fraction(2), Fraction(1, 2), Fraction(1, 2), Fraction(1, 2), Fraction(3, 2), Fraction(1)]
    assert weights == [4, 1, 1, 1, 3, 2]  # k = 2, the smallest that makes every share whole
    assert {Fraction(w) / s for w, s in zip(weights, shares)} == {2}
    numerical, = questions(root, "numerical")
    assert numerical.findtext("defaultgrade") == "6"  # the same k for the other problem


def test_category_is_configurable_and_must_not_be_empty():
    root = parse(quiz_xml([], category="week 3/backprop"))
    assert root.findtext("question/category/text") == "$course$/top/week 3/backprop"
    with pytest.raises(ValueError):
        quiz_xml([], category=" ")


# -- cloze escaping and determinism -----------------------------------------------------------

@pytest.mark.parametrize("prompt", [
    'A tricky } prompt # with ~ tildes / slashes "quotes" and \\ backslashes',
    "Looks like a subquestion: {1:NUMERICAL:=9:0} and a placeholder {#1}; a { alone",
    "<b>not markup</b> & more",
])
def test_prompt_text_cannot_break_the_cloze_syntax(prompt):
    base = problem("mlp_2_2_1", 3)
    p = dataclasses.replace(base, parts=tuple(dataclasses.replace(part, prompt=prompt) for part in base.parts),
                            statement=dataclasses.replace(base.statement, notes=base.statement.notes + (prompt,)))
    q, = questions(parse(quiz_xml([("s1", 1, p)])), "cloze")
    text = q.findtext("questiontext/text")
    found = MOODLE_ANSWER.findall(text)
    unharmed = numeric_answers(numeric_question(parse(quiz_xml([("s1", 1, base)]))))
    assert [m[2] for m in found] == [f"={key}:{tol}" for key, tol in unharmed]
    assert len(found) == 6
    assert not re.search(r"\{#\d+\}", text)  # Moodle splices subquestions back in at {#N}
    visible = html.unescape(re.sub(r"<[^>]+>", "", MOODLE_ANSWER.sub("", text)))
    assert visible.count(prompt) == 5 + 1  # every part, and the statement


def test_output_is_deterministic():
    entries = [("s1", 1, problem("vectorized_backprop", 0)), ("s2", 1, problem("activation_derivative_symbolic", 1))]
    assert quiz_xml(entries) == quiz_xml(list(entries))
    fresh = [(s, n, generate(Bank.open().load(p.template), p.seed)) for s, n, p in entries]
    assert quiz_xml(fresh) == quiz_xml(entries)


def test_each_problem_number_has_its_own_subcategory_with_every_students_variant():
    entries = [(s, n, problem(t, seed)) for seed, s in enumerate(("s1", "s2"))
               for n, t in enumerate(("mlp_2_2_1", "neuron_sigmoid_bce"), 1)]
    root = parse(quiz_xml(entries, category="hw1"))
    layout = [q.findtext("category/text") if q.get("type") == "category" else q.findtext("name/text")
              for q in questions(root)]
    assert layout == ["$course$/top/hw1", "$course$/top/hw1/Problem 1 (mlp_2_2_1)",
                      f"s1 – problem 1: {entries[0][2].title}", f"s2 – problem 1: {entries[0][2].title}",
                      "$course$/top/hw1/Problem 2 (neuron_sigmoid_bce)",
                      f"s1 – problem 2: {entries[1][2].title}", f"s2 – problem 2: {entries[1][2].title}"]

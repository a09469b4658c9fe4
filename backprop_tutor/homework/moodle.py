"""A homework set as a Moodle XML quiz import (docs.moodle.org/en/Moodle_XML_format).

The questions are filed by problem number: a subcategory `Problem n (template)` under the
quiz's category holds every student's variant of problem n. Each problem becomes, in order:
- its numeric parts as one question: `numerical` when they are a single number, otherwise
  `cloze` with one NUMERICAL subquestion per number (a vector or matrix gets one per entry);
- each symbolic part as a `stack` question (homework.stack: STACK, Moodle's computer-algebra
  type, grades it by algebraic equivalence to the key), or with formulas="essay" as an `essay`
  question graded by hand, with the key in the grader information (Moodle's own numeric types
  cannot compare expressions).

Tolerance. Moodle's tolerance is absolute, around the key as written. A relative tolerance
r becomes r·|key|, computed exactly from the key's decimal digits, but never below 1e-12:
the grader also accepts any answer within 1e-12 of the key (`engine.numbers.within`), which is what
keeps a key of 0 answerable. An absolute tolerance is used as it is. A tolerance of n
significant figures becomes half a unit in the n-th significant digit of the key; the
grader's window (the rounding interval that holds the exact value) has the same width but
need not be centred on the key, so there the two can differ by up to that half unit.

Weights. Every question's mark is k × its points, and a vector or matrix part's points are
shared equally among its entries; k is the smallest whole number that makes every
subquestion weight whole across the whole quiz (k = 1 when no points need splitting).
One k for the whole quiz, because Moodle gives a cloze question the sum of its subquestion
weights as its mark: with a k per problem, a problem with a vector part would count double
against one without.

Cloze syntax. Moodle finds subquestions with a regular expression over the HTML question
text, `{N:NUMERICAL:…}`, and later splices them back in at `{#N}`. So the only text inside
braces is the weight, the key and the tolerance (checked to be plain numbers; nothing to
escape), and every `{` and `}` of the prose is written as a character reference, which the
browser shows as a brace and the parser does not see.
"""

from __future__ import annotations

import io
import math
import re
from enum import Enum
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import TextIO

from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.numbers import DEFAULT_TOLERANCE
from backprop_tutor.bank.problem import Part, Problem

RELATIVE_FLOOR = Decimal(str(num.ABSOLUTE_FLOOR))  # the grader's floor (engine.numbers.within)
# A subset of Moodle's NUMBER_REGEX (question/type/multianswer): no decimal comma, so that
# Decimal reads it too.
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;"})


class Formulas(str, Enum):
    """How moodle.xml asks a formula part: a STACK question Moodle grades, or an essay graded by hand."""

    STACK = "stack"
    ESSAY = "essay"


FORMULAS = tuple(f.value for f in Formulas)  # the names `--moodle-formulas` takes


def quiz_xml(entries: Sequence[tuple[str, int, Problem]], category: str = "backprop-tutor",
             formulas: Formulas | str = Formulas.ESSAY) -> str:
    """entries: (student id, problem number from 1, Problem) in order; returns a Moodle XML quiz import.

    `category` is created under the course's top category; a `/` in it separates
    subcategories, as in Moodle's own exports. `formulas`: how formula parts are asked (FORMULAS);
    essay here, as before STACK questions existed; `tutor generate` asks for stack by default."""
    numbers = sorted({int(n) for _, n, _ in entries})
    groups = [(number, [(student, problem) for student, n, problem in entries if int(n) == number])
              for number in numbers]
    text = io.StringIO()
    write_quiz(text, groups, weight_scale([problem for _, _, problem in entries]), category, formulas)
    return text.getvalue()


def write_quiz(handle: TextIO, groups: Iterable[tuple[int, Iterable[tuple[str, Problem]]]], scale: int,
               category: str = "backprop-tutor", formulas: Formulas | str = Formulas.ESSAY) -> None:
    """quiz_xml's text, written into `handle` a question at a time, so that a class's quiz is never
    whole in memory (`tutor generate` reads the problems back from disk, one at a time).

    groups: (problem number, its (student id, Problem) in order), by increasing number; `scale`
    is weight_scale of every problem in them."""
    if not category.strip():
        raise ValueError("the Moodle category name is empty")
    if formulas not in FORMULAS:
        raise ValueError(f"formula parts are asked as one of {', '.join(FORMULAS)}, not {formulas!r}")
    formulas = Formulas(formulas)  # the name given (`tutor generate --moodle-formulas`) as its member
    # ET.indent of the whole quiz gives <quiz>, each question at one level in, </quiz>: the same
    # bytes come from indenting each question at level 1 and writing it on its own line.
    handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')

    def flush(quiz: ET.Element) -> None:
        for question in quiz:
            ET.indent(question, "  ", level=1)
            handle.write("\n  " + ET.tostring(question, encoding="unicode"))

    quiz = ET.Element("quiz")
    question = ET.SubElement(quiz, "question", type="category")
    _text(question, "category", f"$course$/top/{category.strip()}")
    _text(question, "info", "", "html")
    flush(quiz)
    # One subcategory per problem number, holding every student's variant of it, so a quiz can
    # draw "a random question from Problem 2" without the instructor sorting 90 questions by hand.
    for number, group in groups:
        for k, (student, problem) in enumerate(group):
            quiz = ET.Element("quiz")
            if k == 0:
                question = ET.SubElement(quiz, "question", type="category")
                _text(question, "category", f"$course$/top/{category.strip()}/Problem {number} ({problem.template})")
                _text(question, "info", "", "html")
            _add_problem(quiz, str(student), number, problem, scale, formulas)
            flush(quiz)
    handle.write("\n</quiz>\n")


def _add_problem(quiz: ET.Element, student: str, number: int, problem: Problem, scale: int,
                 formulas: Formulas = Formulas.STACK) -> None:
    numeric = [p for p in problem.parts if not p.value.expression]
    heading = f"<p><strong>Problem {number}: {html_text(problem.title)}</strong></p>\n{statement_html(problem)}"
    name = f"{student} – problem {number}: {problem.title}"
    if len(numeric) == 1 and numeric[0].value.form == "number":
        _numerical(quiz, name, heading, problem, numeric[0], scale, formulas)
    elif numeric:
        _cloze(quiz, name, heading, problem, scale, formulas)
    for part in problem.parts:
        if part.value.expression and formulas is Formulas.ESSAY:
            essay_name = f"{student} – problem {number} part {part.id} (manual grading)"
            _essay(quiz, essay_name, number, problem, part, scale)
        elif part.value.expression:
            from backprop_tutor.homework import stack  # here: stack builds on this module's helpers

            stack.add_question(quiz, f"{student} – problem {number} part {part.id}", number, problem, part, scale)


def _numerical(quiz, name: str, heading: str, problem: Problem, part: Part, scale: int, formulas: Formulas) -> None:
    body = [heading] + [_asked_apart(p, formulas) if p.value.expression else f"<p>{_label(p)}{html_text(p.prompt)}</p>"
                        for p in problem.parts]
    question = _question(quiz, "numerical", name, "\n".join(body), _general_feedback(problem))
    element(question, "defaultgrade", str(points(part) * scale))
    element(question, "penalty", "0.3333333")
    element(question, "hidden", "0")
    [(_, key, _)], = entries(part)
    centre, width = tolerance_band(key, part.tolerance)
    answer = ET.SubElement(question, "answer", fraction="100", format="moodle_auto_format")
    element(answer, "text", centre)
    element(answer, "tolerance", decimal_text(width))
    _text(answer, "feedback", "Correct.", "html")
    # A numerical question without units: Moodle's own export writes these four.
    element(question, "unitgradingtype", "0")
    element(question, "unitpenalty", "0.1000000")
    element(question, "showunits", "3")
    element(question, "unitsleft", "0")


def _cloze(quiz, name: str, heading: str, problem: Problem, scale: int, formulas: Formulas) -> None:
    body = [heading]
    for part in problem.parts:
        if part.value.expression:
            body.append(_asked_apart(part, formulas))
            continue
        rows = entries(part)
        weight = points(part) * scale / sum(len(row) for row in rows)
        assert weight.denominator == 1, "the scale makes every weight whole"
        lines = [" &nbsp; ".join((f"{html_text(label)} " if label else "") + _numerical_blank(weight, key, part)
                                 for label, key, _ in row) for row in rows]
        body.append(f"<p>{_label(part)}{html_text(part.prompt)}<br>\n" + "<br>\n".join(lines) + "</p>")
    question = _question(quiz, "cloze", name, "\n".join(body), _general_feedback(problem))
    element(question, "penalty", "0.3333333")
    element(question, "hidden", "0")


def _essay(quiz, name: str, number: int, problem: Problem, part: Part, scale: int) -> None:
    text = (f"<p><strong>Problem {number}: {html_text(problem.title)}, part {html_text(part.id)}</strong></p>\n"
            f"{statement_html(problem)}\n<p>{html_text(part.prompt)}</p>")
    question = _question(quiz, "essay", name, text, f"<p>Key: {html_text(part.answer)}</p>")
    element(question, "defaultgrade", str(points(part) * scale))
    element(question, "penalty", "0")
    element(question, "hidden", "0")
    element(question, "responseformat", "plain")
    element(question, "responserequired", "1")
    element(question, "responsefieldlines", "5")
    element(question, "attachments", "0")
    element(question, "attachmentsrequired", "0")
    # plain_text: the grader sees the key exactly as the tutor prints it, never reinterpreted as HTML.
    _text(question, "graderinfo", part.answer, "plain_text")
    _text(question, "responsetemplate", "", "html")


def _question(quiz, kind: str, name: str, text: str, feedback: str) -> ET.Element:
    question = ET.SubElement(quiz, "question", type=kind)
    _text(question, "name", name)
    _text(question, "questiontext", text, "html")
    _text(question, "generalfeedback", feedback, "html")
    return question


def entries(part: Part) -> list[list[tuple[str, str, object]]]:
    """The numbers of a part by row: (label, the key's text for it, the engine's value); one row
    for a number or a vector, one per row of a matrix. The key is `numbers.typed` of the same
    values, so these texts are exactly the key's entries."""
    form, approx = part.value.form, part.value.approx
    if form == "number":
        rows = [[("", num.plain(approx), approx)]]
    elif form == "vector":
        rows = [[(f"[{i}]", num.plain(v), v) for i, v in enumerate(approx)]]
    else:
        rows = [[(f"[{i}][{j}]", num.plain(v), v) for j, v in enumerate(row)] for i, row in enumerate(approx)]
    if not rows or not all(row and all(_NUMBER.fullmatch(key) for _, key, _ in row) for row in rows):
        raise ValueError(f"part {part.id}: the key {part.answer!r} is not a {form} of plain decimal numbers")
    return rows


def tolerance_band(key: str, tolerance: tuple[str, float] | None) -> tuple[str, Decimal]:
    """The answers the grader accepts for `key` (numbers.within), as a centre and a half-width:
    the key ∓ its tolerance; for n significant figures, the key rounded to n figures ∓ half a
    unit in its last place (the grader compares the roundings, so the band is centred on the
    rounded key, not on the key: 0.06286… to 3 figures takes 0.06294 and refuses 0.06282)."""
    kind, amount = tolerance or DEFAULT_TOLERANCE
    value = Decimal(key)
    # str() first: Decimal(0.001) would carry the binary float's 60 digits into the XML
    amount = Decimal(str(amount))
    if kind == "absolute":
        return key, amount
    if kind == "sigfigs":
        return (key, Decimal(0)) if value == 0 else _rounding_band(value, int(amount))
    return key, max(amount * abs(value), RELATIVE_FLOOR)


def _rounding_band(value: Decimal, figures: int) -> tuple[str, Decimal]:
    """The numbers that round to the same `figures` significant figures as `value`, as a centre
    and a half-width. Half a unit in the last kept figure each side of the rounded value r, but
    where r is a power of ten the figures below it are a tenth as wide (0.00100 to 3 figures is
    0.0009995 … 0.001005), so the band is centred between its two ends rather than on r."""
    rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - figures + 1), rounding=ROUND_HALF_EVEN)
    unit = Decimal(1).scaleb(rounded.adjusted() - figures + 1)
    toward_zero = unit / 10 if abs(rounded) == Decimal(1).scaleb(rounded.adjusted()) else unit
    low, high = ((rounded - toward_zero / 2, rounded + unit / 2) if rounded > 0
                 else (rounded - unit / 2, rounded + toward_zero / 2))
    return decimal_text((low + high) / 2), (high - low) / 2


def _numerical_blank(weight: Fraction, key: str, part: Part) -> str:
    centre, width = tolerance_band(key, part.tolerance)
    return f"{{{weight}:NUMERICAL:={centre}:{decimal_text(width)}}}"


def points(part: Part) -> Fraction:
    # limit_denominator: points such as 1/3 arrive as 0.3333333333333333, whose exact
    # denominator would make every weight in the quiz astronomically large
    return Fraction(str(part.points)).limit_denominator(1000)


def weight_scale(problems: Iterable[Problem]) -> int:
    """The k of the module's docstring for these problems: the least common multiple of the
    subquestion weights' denominators (so a class's k is the lcm of its students' ks)."""
    scale = 1
    for problem in problems:
        for part in problem.parts:
            share = points(part) / (1 if part.value.expression else sum(len(row) for row in entries(part)))
            scale = math.lcm(scale, share.denominator)
    return scale


def _general_feedback(problem: Problem) -> str:
    keys = [f"{html_text(p.id)} = {html_text(p.answer)}" for p in problem.parts if not p.value.expression]
    return "<p>Key: " + "; ".join(keys) + "</p>"


def _asked_apart(part: Part, formulas: Formulas) -> str:
    where = ("This part is graded by hand: answer it in the separate essay question" if formulas is Formulas.ESSAY
             else "Answer this part in the separate question")
    return f"<p>{_label(part)}{html_text(part.prompt)}<br>\n<em>{where} for part {html_text(part.id)}.</em></p>"


def _label(part: Part) -> str:
    return f"<strong>({html_text(part.id)})</strong> "


def statement_html(problem: Problem) -> str:
    # pre keeps the statement's line breaks and alignment; pre-wrap still folds its long lines
    return f'<pre style="white-space: pre-wrap">{html_text(problem.statement.text)}</pre>'


def html_text(text: str) -> str:
    return text.translate(_HTML)


def decimal_text(value: Decimal) -> str:
    """A tolerance as both Moodle's numerical importer and its cloze parser read it: 0.000138, 1e-12."""
    value = value.normalize()
    if value == 0:
        return "0"
    if -6 <= value.adjusted() < 12:
        return format(value, "f")
    return format(value, "e").replace("e+", "e")


def element(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    """A child element holding `text` (moodle.xml's and qti.zip's XML alike)."""
    child = ET.SubElement(parent, tag, attributes)
    child.text = text
    return child


def _text(parent: ET.Element, tag: str, text: str, text_format: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, tag, format=text_format) if text_format else ET.SubElement(parent, tag)
    element(node, "text", text)
    return node

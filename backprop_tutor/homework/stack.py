"""A formula part as a STACK question (qtype_stack, Moodle's computer-algebra question type), so
that Moodle grades it: the key in Maxima (homework.maxima) as the question variable `ta`, one
algebraic input `ans1` whose teacher's answer is `ta`, and a potential response tree `prt1` of one
node that gives full marks when the answer is algebraically equivalent to the key (AlgEquiv).

STACK's question text is itself a template: `{@…@}` and `{#…#}` are evaluated by the CAS,
`[[…]]` are blocks and `\\(`, `\\[` are MathJax. So besides Moodle's HTML escaping, every `[`,
`\\` and `@` of the prose is written as a character reference, which the browser shows as the
character and STACK's parser does not see (the `{` and `}` already are: moodle.html_text).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from backprop_tutor.bank.problem import Part, Problem
from backprop_tutor.homework import maxima
from backprop_tutor.homework.moodle import _question, _text, element, html_text, points, statement_html

_CASTEXT = str.maketrans({"[": "&#91;", "\\": "&#92;", "@": "&#64;"})
INPUT, PRT, KEY = "ans1", "prt1", "ta"


def key_name(variables) -> str:
    """`ta`, or `ta_`, `ta__` … when the part has a variable of that name (it would be overwritten)."""
    name = KEY
    while name in variables:
        name += "_"
    return name


def add_question(quiz: ET.Element, name: str, number: int, problem: Problem, part: Part, scale: int) -> ET.Element:
    """Append the STACK question for formula part `part` of `problem` (problem number `number`)."""
    try:
        key = maxima.to_maxima(part.answer, part.value.variables, dict(part.where))
    except maxima.MaximaError as e:
        raise maxima.MaximaError(f"the key {part.answer!r}: {e.problem}", source=f"problem {number} ({problem.template})",
                                 key=f"parts.{part.id}", fix="generate with --moodle-formulas essay") from None
    name_of_key = key_name(part.value.variables)
    text = (f"<p><strong>Problem {number}: {_prose(problem.title)}, part {_prose(part.id)}</strong></p>\n"
            f"{_prose(statement_html(problem), escaped=True)}\n<p>{_prose(part.prompt)}</p>\n"
            f"<p>{_prose(_how_to_write(part))}</p>\n<p>[[input:{INPUT}]] [[validation:{INPUT}]]</p>")
    question = _question(quiz, "stack", name, text, f"<p>Key: {_prose(part.answer)}</p>")
    element(question, "defaultgrade", str(points(part) * scale))
    element(question, "penalty", "0.1000000")
    element(question, "hidden", "0")
    _text(question, "questionvariables", f"{name_of_key}: {key};")
    _text(question, "specificfeedback", f"[[feedback:{PRT}]]", "html")
    _text(question, "questionnote", "")
    element(question, "questionsimplify", "1")
    element(question, "assumepositive", "0")
    element(question, "assumereal", "1")  # our variables are real (engine.parsing makes them so)
    _text(question, "prtcorrect", "Correct answer, well done.", "html")
    _text(question, "prtpartiallycorrect", "Your answer is partially correct.", "html")
    _text(question, "prtincorrect", "Incorrect answer.", "html")
    element(question, "multiplicationsign", "dot")
    element(question, "sqrtsign", "1")
    element(question, "complexno", "symi")  # i a letter like any other (%i is √−1): our answers are real
    element(question, "variantsselectionseed", "")
    _input(question, name_of_key)
    _prt(question, name_of_key)
    return question


def _input(question: ET.Element, key: str) -> None:
    box = ET.SubElement(question, "input")
    for tag, text in (("name", INPUT), ("type", "algebraic"), ("tans", key), ("boxsize", "40"),
                      ("strictsyntax", "1"), ("insertstars", "0"), ("syntaxhint", ""),
                      # diff would let Maxima do the differentiating the part asks for
                      ("forbidwords", "diff,integrate"), ("forbidfloat", "0"), ("requirelowestterms", "0"),
                      ("checkanswertype", "0"), ("mustverify", "1"), ("showvalidation", "1")):
        element(box, tag, text)


def _prt(question: ET.Element, key: str) -> None:
    prt = ET.SubElement(question, "prt")
    element(prt, "name", PRT)
    element(prt, "value", "1.0000000")
    element(prt, "autosimplify", "1")
    _text(prt, "feedbackvariables", "")
    node = ET.SubElement(prt, "node")
    for tag, text in (("name", "0"), ("answertest", "AlgEquiv"), ("sans", INPUT), ("tans", key),
                      ("testoptions", ""), ("quiet", "0")):
        element(node, tag, text)
    for branch, score in (("true", "1.0000000"), ("false", "0.0000000")):
        element(node, f"{branch}scoremode", "=")
        element(node, f"{branch}score", score)
        element(node, f"{branch}penalty", "")
        element(node, f"{branch}nextnode", "-1")
        element(node, f"{branch}answernote", f"{PRT}-0-{branch[0].upper()}")
        _text(node, f"{branch}feedback", "", "html")


def _how_to_write(part: Part) -> str:
    """What Moodle reads: Maxima's names, the activations written out, no names of the prompt's own."""
    variables = ", ".join(part.value.variables)
    lines = [f"Type the formula{f' in {variables}' if variables else ''}: * for products, ^ for powers, "
             "exp, log, sqrt, tanh, erf, max, min, %e and %pi as in Maxima."]
    # σ, which prompts offer, and the activations of the prompt's own names; never the key's, which
    # would tell the student what the answer is made of
    used = dict.fromkeys(("sigmoid",) + maxima.functions_of(*(expression for _, expression in part.where)))
    written = [f"{name}(u) as {maxima.to_maxima(f'{name}(u)')}" for name in used]
    lines.append("Moodle does not know the activations: write " + "; ".join(written) + ".")
    if part.where:
        lines.append("Write " + ", ".join(f"{name} = {expression}" for name, expression in part.where)
                     + " out in full: Moodle does not know the name.")
    return " ".join(lines)


def _prose(text: str, escaped: bool = False) -> str:
    return (text if escaped else html_text(text)).translate(_CASTEXT)

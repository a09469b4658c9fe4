"""A homework set as an IMS QTI 1.2 package, the "QTI .zip file" that Canvas imports as a quiz.

The zip holds `imsmanifest.xml` and one assessment, `ID/ID.xml`, laid out as Canvas's own
quiz exports are. Canvas reads the question type from each item's `qtimetadata`
(`question_type`, `points_possible`):
- each number of a numeric part is a `numerical_question` (a vector or matrix part gives one
  question per entry, its points shared equally among them): an exact answer, the key, with a
  margin written as the bounds `vargte`/`varlte`. The margin is the grader's tolerance, the same
  width as in moodle.xml (moodle.tolerance_band): r·|key| for a relative tolerance r (the
  default 1e-3; never below the grader's 1e-12 floor), an absolute one as it is, and for n
  significant figures half a unit in the n-th figure around the key rounded to n figures;
- each symbolic part is an `essay_question` marked as graded by hand, with the key in the
  question's general comments, which Canvas shows the grader beside the answer.
Canvas's `fill_in_multiple_blanks_question` is not used: it compares each blank as text, so it
could not give a vector's entries the grader's tolerance.

Question groups. A Canvas question group draws whole questions, each one on its own: it has no
way to draw several questions of one variant together. So the questions are grouped by what
they ask: one group per problem and question (`Problem 2 (mlp_2_2_1): part dW1 [0][1]`) holding
every student's variant of it, drawn once (`selection_number` 1) for each student. Every
question carries its variant's whole statement, so each one can be answered on its own; two
questions of one problem may come from different variants.

The package is written a question at a time (the class is never whole in memory) and its
bytes depend only on the set: every zip entry has the same fixed timestamp.
"""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import BinaryIO

from backprop_tutor.bank.problem import Part, Problem
from backprop_tutor.homework.moodle import (decimal_text, element, entries, html_text, points, statement_html,
                                           tolerance_band)

QTI_NAMESPACE = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
_STAMP = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: the bytes must not depend on the day
# A slot is one question of a problem: (part id, entry label: "" for a number, "[i]" or "[i][j]"
# for an entry; None for a symbolic part, which is one essay).
Slot = tuple[str, str | None]


def package_id(set_seed: int, template_ids: Sequence[str]) -> str:
    """The assessment's identifier: Canvas matches re-imports by it, so it names the set, not the run."""
    digest = hashlib.sha256(f"{set_seed}:{','.join(template_ids)}".encode()).hexdigest()[:16]
    return f"backprop_tutor_{digest}"


def write_package(handle: BinaryIO, groups: Iterable[tuple[int, Callable[[], Iterable[tuple[str, Problem]]]]],
                  ident: str, title: str = "") -> None:
    """The QTI zip into `handle`. groups: (problem number, a function giving its (student id,
    Problem) in roster order, afresh on each call: each question's group reads them once more)."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as package:
        with _member(package, "imsmanifest.xml") as text:
            text.write(_manifest(ident, title))
        with _member(package, f"{ident}/{ident}.xml") as text:
            _write_assessment(text, groups, ident, title or "Homework")


def _member(package: zipfile.ZipFile, name: str) -> io.TextIOWrapper:
    info = zipfile.ZipInfo(name, _STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return io.TextIOWrapper(package.open(info, "w"), encoding="utf-8", newline="\n")


def _manifest(ident: str, title: str) -> str:
    manifest = ET.Element("manifest", {
        "identifier": f"{ident}_manifest", "xmlns": "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"})
    metadata = ET.SubElement(manifest, "metadata")
    element(metadata, "schema", "IMS Content")
    element(metadata, "schemaversion", "1.1.3")
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    resource = ET.SubElement(resources, "resource", identifier=ident, type="imsqti_xmlv1p2",
                             href=f"{ident}/{ident}.xml")
    ET.SubElement(resource, "file", href=f"{ident}/{ident}.xml")
    ET.indent(manifest, "  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(manifest, encoding="unicode") + "\n"


def _write_assessment(text: io.TextIOWrapper, groups, ident: str, title: str) -> None:
    # The frame is written by hand so that the items can be written one at a time between its
    # tags; each item is indented as ET.indent would indent it inside the whole document.
    text.write('<?xml version="1.0" encoding="UTF-8"?>\n'
               f'<questestinterop xmlns="{QTI_NAMESPACE}">\n'
               f'  <assessment ident="{ident}" title={_attribute(title)}>\n'
               '    <section ident="root_section">')
    for number, variants in groups:
        slots, share = _questions(problem for _, problem in variants())
        for s, slot in enumerate(slots):
            section = ET.Element("section", ident=f"p{number}_q{s + 1}")
            for k, (student, problem) in enumerate(variants()):
                if slot not in _slots(problem):  # a variant of another shape (a conv1d kernel of 2, not 3)
                    continue
                if len(section) == 0:
                    section.set("title", f"Problem {number} ({problem.template}): {_slot_name(slot)}")
                    _selection(section, share[slot])
                _item(section, f"p{number}_q{s + 1}_v{k + 1}", str(student), number, problem, slot, share[slot])
            ET.indent(section, "  ", level=3)
            text.write("\n      " + ET.tostring(section, encoding="unicode"))
    text.write("\n    </section>\n  </assessment>\n</questestinterop>\n")


def _slots(problem: Problem) -> list[Slot]:
    return [(part.id, None) if part.value.expression else (part.id, label)
            for part in problem.parts for row in ([[("", "", None)]] if part.value.expression else entries(part))
            for label, _, _ in row]


def _questions(problems: Iterable[Problem]) -> tuple[list[Slot], dict[Slot, Fraction]]:
    """The questions of one problem over all its variants, in order, and the points of each.
    Mostly every variant asks the same ones. Where the shapes vary (conv1d_kernel_gradient draws
    a kernel of 2 or 3), every question any variant asks is a group, holding the variants that
    ask it, and a part's points are shared among as many questions as its largest variant has:
    each quiz taker draws one question of every group, so everyone answers the same number of
    questions for the same points."""
    slots: list[Slot] = []
    widest: dict[str, int] = {}
    points_of: dict[str, Fraction] = {}
    for problem in problems:
        for slot in _slots(problem):
            if slot not in slots:  # after its part's other questions: dK1 [2] follows dK1 [1]
                same_part = [i for i, known in enumerate(slots) if known[0] == slot[0]]
                slots.insert(same_part[-1] + 1 if same_part else len(slots), slot)
        for part in problem.parts:
            count = 1 if part.value.expression else sum(len(row) for row in entries(part))
            widest[part.id] = max(widest.get(part.id, 0), count)
            points_of.setdefault(part.id, points(part))
    return slots, {slot: points_of[slot[0]] / widest[slot[0]] for slot in slots}


def _slot_name(slot: Slot) -> str:
    part, label = slot
    return f"part {part}" + (" (graded by hand)" if label is None else f" {label}" if label else "")


def _part(problem: Problem, slot: Slot) -> Part:
    return next(part for part in problem.parts if part.id == slot[0])


def _points_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.6g}"


def _selection(section: ET.Element, each: Fraction) -> None:
    selection = ET.SubElement(ET.SubElement(section, "selection_ordering"), "selection")
    element(selection, "selection_number", "1")
    element(ET.SubElement(selection, "selection_extension"), "points_per_item", _points_text(each))


def _item(section: ET.Element, ident: str, student: str, number: int, problem: Problem, slot: Slot,
          share: Fraction) -> None:
    part, (_, label) = _part(problem, slot), slot
    essay = label is None
    item = ET.SubElement(section, "item", ident=ident, title=f"{student} – problem {number}: {_slot_name(slot)}")
    fields = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
    for name, value in (("question_type", "essay_question" if essay else "numerical_question"),
                        ("points_possible", _points_text(share))):
        field = ET.SubElement(fields, "qtimetadatafield")
        element(field, "fieldlabel", name)
        element(field, "fieldentry", value)
    if essay:
        ask = ("<p><em>This part is graded by hand: type the expression as you would in the answer "
               "file.</em></p>")
    else:
        which = f"entry {html_text(label)} of " if label else ""
        ask = f"<p>Enter {which}part {html_text(part.id)} as a number.</p>"
    presentation = ET.SubElement(item, "presentation")
    _html(presentation, f"<p><strong>Problem {number}: {html_text(problem.title)}, part {html_text(part.id)}"
                        f"</strong></p>\n{statement_html(problem)}\n<p>{html_text(part.prompt)}</p>\n{ask}")
    response = ET.SubElement(presentation, "response_str", ident="response1", rcardinality="Single")
    fib = ET.SubElement(response, "render_fib", fibtype="String" if essay else "Decimal")
    ET.SubElement(fib, "response_label", ident="answer1")
    processing = ET.SubElement(item, "resprocessing")
    ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0",
                  varname="SCORE", vartype="Decimal")
    if essay:
        condition = ET.SubElement(processing, "respcondition", {"continue": "Yes"})
        ET.SubElement(ET.SubElement(condition, "conditionvar"), "other")
        ET.SubElement(condition, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
        condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
        ET.SubElement(ET.SubElement(condition, "conditionvar"), "other")
        feedback = ET.SubElement(item, "itemfeedback", ident="general_fb")
        _html(ET.SubElement(feedback, "flow_mat"), f"<p>Key for the grader: {html_text(part.answer)}</p>")
        return
    key = next(key for row in entries(part) for entry, key, _ in row if entry == label)
    centre, width = tolerance_band(key, part.tolerance)
    condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
    either = ET.SubElement(ET.SubElement(condition, "conditionvar"), "or")
    element(either, "varequal", key, respident="response1")
    bounds = ET.SubElement(either, "and")
    element(bounds, "vargte", decimal_text(Decimal(centre) - width), respident="response1")
    element(bounds, "varlte", decimal_text(Decimal(centre) + width), respident="response1")
    element(condition, "setvar", "100", action="Set", varname="SCORE")


def _html(parent: ET.Element, text: str) -> None:
    element(ET.SubElement(parent, "material"), "mattext", text, texttype="text/html")


def _attribute(value: str) -> str:
    # ET's own escaping, so the hand-written frame quotes a title exactly as an element would
    return ET.tostring(ET.Element("a", v=value), encoding="unicode")[len("<a v="):-len(" />")]

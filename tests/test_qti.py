"""`tutor generate --qti` (issue 16, point 1): a QTI 1.2 zip of the shape Canvas imports; every
numeric question's bounds are the grader's tolerance around set.json's key; symbolic parts are
essays with the key for the grader; one group per question drawing one variant; the same bytes
for the same seed; and a generate without --qti writes what it wrote before."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine.numbers import ABSOLUTE_FLOOR, DEFAULT_TOLERANCE

# a matrix and vector part, a part with its own tolerance (relative 1e-6), a symbolic part
TEMPLATES = ["relu_hidden_2_3_1", "finite_difference_nudge", "activation_derivative_symbolic"]
Q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
STUDENTS = 3


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("qti") / "hw"
    result = run("generate", *TEMPLATES, "--count", STUDENTS, "--seed", 5, "--out", out, "--qti")
    assert result.exit_code == 0, result.output
    assert "qti.zip" in result.output
    return out


def package(out: Path) -> tuple[zipfile.ZipFile, ET.Element, ET.Element]:
    archive = zipfile.ZipFile(out / "qti.zip")
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    href, = [f.get("href") for f in manifest.iter(f"{CP}file")]
    return archive, manifest, ET.fromstring(archive.read(href))


def fields(item: ET.Element) -> dict[str, str]:
    return {f.findtext(f"{Q}fieldlabel"): f.findtext(f"{Q}fieldentry") for f in item.iter(f"{Q}qtimetadatafield")}


def set_parts(out: Path) -> dict[tuple[str, int, str], dict]:
    data = json.loads((out / "set.json").read_text(encoding="utf-8"))
    return {(s["id"], p["number"], part["id"]): part
            for s in data["students"] for p in s["problems"] for part in p["parts"]}


def entry(answer: str, label: str) -> Decimal:
    """The key's number at `label` ("", "[i]" or "[i][j]"), read from set.json's text (parse_float
    keeps its digits exactly)."""
    value = json.loads(answer, parse_float=Decimal, parse_int=Decimal)
    for index in re.findall(r"\[(\d+)\]", label):
        value = value[int(index)]
    return value


def items_with_keys(out: Path, root: ET.Element):
    """(item, its set.json part, the entry label or None for an essay) for every item."""
    parts = set_parts(out)
    for item in root.iter(f"{Q}item"):
        student, rest = item.get("title").split(" – problem ")
        number, slot = rest.split(": part ")
        essay = slot.endswith(" (graded by hand)")
        part_id, _, label = slot.removesuffix(" (graded by hand)").partition(" ")
        yield item, parts[(student, int(number), part_id)], None if essay else label


def test_the_manifest_references_exactly_the_files_in_the_zip(made):
    archive, manifest, _ = package(made)
    names = set(archive.namelist())
    referenced = {f.get("href") for f in manifest.iter(f"{CP}file")}
    resource, = manifest.iter(f"{CP}resource")
    assert resource.get("type") == "imsqti_xmlv1p2"
    assert referenced and referenced <= names
    assert names == referenced | {"imsmanifest.xml"}


def test_one_group_per_question_each_drawing_one_of_every_students_variants(made):
    _, _, root = package(made)
    outer, = root.find(f"{Q}assessment").findall(f"{Q}section")
    sections = outer.findall(f"{Q}section")
    parts = set_parts(made)
    # a group per number of a numeric part and per symbolic part, in every problem
    expected = sum(_slots(part) for (student, _, _), part in parts.items() if student == "s01")
    assert len(sections) == expected
    for section in sections:
        assert section.findtext(f"{Q}selection_ordering/{Q}selection/{Q}selection_number") == "1"
        items = section.findall(f"{Q}item")
        assert [i.get("title").split(" – ")[0] for i in items] == [f"s0{k}" for k in range(1, STUDENTS + 1)]
        titles = {i.get("title").split(": ", 1)[1] for i in items}
        assert len(titles) == 1, titles  # one question, every student's variant of it
        points = section.findtext(f"{Q}selection_ordering/{Q}selection/{Q}selection_extension/{Q}points_per_item")
        assert {fields(i)["points_possible"] for i in items} == {points}
    idents = [i.get("ident") for i in root.iter(f"{Q}item")]
    assert len(idents) == len(set(idents)) == len(sections) * STUDENTS


def _slots(part: dict) -> int:
    value = json.loads(part["answer"]) if part["answer"].startswith("[") else 0
    if not isinstance(value, list):
        return 1
    return sum(len(row) if isinstance(row, list) else 1 for row in value)


def test_every_numeric_bound_is_the_graders_tolerance_around_the_key(made):
    _, _, root = package(made)
    checked = 0
    for item, part, label in items_with_keys(made, root):
        if label is None:
            continue
        assert fields(item)["question_type"] == "numerical_question"
        key = entry(part["answer"], label)
        kind, amount = next(iter(part["tolerance"].items())) if "tolerance" in part else DEFAULT_TOLERANCE
        assert kind == "relative"
        condition = item.find(f"{Q}resprocessing/{Q}respcondition/{Q}conditionvar/{Q}or")
        assert Decimal(condition.findtext(f"{Q}varequal")) == key
        low = Decimal(condition.findtext(f"{Q}and/{Q}vargte"))
        high = Decimal(condition.findtext(f"{Q}and/{Q}varlte"))
        assert low <= key <= high
        width = max(Decimal(str(amount)) * abs(key), Decimal(str(ABSOLUTE_FLOOR)))
        assert (low, high) == (key - width, key + width)
        checked += 1
    assert checked >= STUDENTS * 10
    # the part with its own tolerance (relative 1e-6) was among those checked against it
    assert sum("tolerance" in part for _, part, _ in items_with_keys(made, root)) == STUDENTS


def test_a_symbolic_part_is_a_marked_essay_with_the_key_for_the_grader(made):
    _, _, root = package(made)
    essays = [(item, part) for item, part, label in items_with_keys(made, root) if label is None]
    assert len(essays) == STUDENTS
    for item, part in essays:
        assert fields(item)["question_type"] == "essay_question"
        assert "graded by hand" in item.findtext(f"{Q}presentation/{Q}material/{Q}mattext")
        comment = item.find(f"{Q}itemfeedback[@ident='general_fb']")
        assert f"Key for the grader: {part['answer']}" in comment.findtext(f"{Q}flow_mat/{Q}material/{Q}mattext")
        assert item.find(f"{Q}resprocessing//{Q}displayfeedback").get("linkrefid") == "general_fb"


def test_the_same_seed_gives_the_same_bytes_and_fixed_timestamps(made, tmp_path):
    again = tmp_path / "again"
    result = run("generate", *TEMPLATES, "--count", STUDENTS, "--seed", 5, "--out", again, "--qti", "--jobs", 2)
    assert result.exit_code == 0, result.output
    assert (again / "qti.zip").read_bytes() == (made / "qti.zip").read_bytes()
    assert {i.date_time for i in zipfile.ZipFile(made / "qti.zip").infolist()} == {(1980, 1, 1, 0, 0, 0)}
    other = tmp_path / "other"
    assert run("generate", *TEMPLATES, "--count", STUDENTS, "--seed", 6, "--out", other, "--qti").exit_code == 0
    assert (other / "qti.zip").read_bytes() != (made / "qti.zip").read_bytes()


def test_the_package_stays_inside_out(made):
    archive = zipfile.ZipFile(made / "qti.zip")
    assert all(not n.startswith("/") and ".." not in n.split("/") for n in archive.namelist())
    assert not list(made.glob(".generating-*"))
    assert not (made.parent / "qti.zip").exists()


def test_without_qti_nothing_changes(made, tmp_path):
    plain = tmp_path / "plain"
    assert run("generate", *TEMPLATES, "--count", STUDENTS, "--seed", 5, "--out", plain).exit_code == 0
    assert not (plain / "qti.zip").exists()
    for path in plain.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (made / path.relative_to(plain)).read_bytes(), path
    assert {p.relative_to(made) for p in made.rglob("*") if p.is_file()} - \
        {p.relative_to(plain) for p in plain.rglob("*") if p.is_file()} == {Path("qti.zip")}


def test_force_without_qti_removes_the_old_package(made, tmp_path):
    out = tmp_path / "hw"
    assert run("generate", TEMPLATES[0], "--count", 2, "--seed", 1, "--out", out, "--qti").exit_code == 0
    assert (out / "qti.zip").is_file()
    assert run("generate", TEMPLATES[0], "--count", 2, "--seed", 1, "--out", out, "--force").exit_code == 0
    assert not (out / "qti.zip").exists()  # a stale quiz of another set is not left beside this one


def test_a_title_with_markup_is_escaped(tmp_path):
    out = tmp_path / "hw"
    title = 'HW "3" <backprop> & more'
    result = run("generate", TEMPLATES[2], "--count", 1, "--seed", 1, "--out", out, "--qti", "--title", title)
    assert result.exit_code == 0, result.output
    _, _, root = package(out)
    assert root.find(f"{Q}assessment").get("title") == title


# The QTI ASI 1.2.1 DTD (ims_qtiasiv1p2p1.dtd), transcribed for the elements the package uses:
# each element's content model as a regular expression over its children's names (each followed
# by a space), its required attributes, and the values its enumerated attributes allow. An
# element not listed here may not appear, except inside selection_extension, which the DTD
# declares ANY (Canvas puts points_per_item there).
_ANY_CONDITION = ("(not|and|or|unanswered|other|varequal|varlt|varlte|vargt|vargte|varsubset|varinside|varsubstring"
                  "|durequal|durlt|durlte|durgt|durgte) ")
DTD_CONTENT = {
    "questestinterop": r"(qticomment )?(objectbank |assessment |((section|item) )+)",
    "assessment": r"(qticomment )?(duration )?(qtimetadata )*(objectives )*(assessmentcontrol )*(rubric )*"
                  r"(presentation_material )?(outcomes_processing )*(assessproc_extension )?(assessfeedback )*"
                  r"(selection_ordering )?(reference )?((sectionref|section) )+",
    "section": r"(qticomment )?(duration )?(qtimetadata )*(objectives )*(sectioncontrol )*(sectionprecondition )*"
               r"(sectionpostcondition )*(rubric )*(presentation_material )?(outcomes_processing )*"
               r"(sectionproc_extension )?(sectionfeedback )*(selection_ordering )?(reference )?"
               r"((itemref|item|sectionref|section) )*",
    "selection_ordering": r"(qticomment )?(sequence_parameter )*(selection )*(order )?",
    "selection": r"(sourcebank_ref )?(selection_number )?(selection_metadata )?"
                 r"((and_selection|or_selection|not_selection|selection_extension) )?",
    "item": r"(qticomment )?(duration )?(itemmetadata )?(objectives )*(itemcontrol )*(itemprecondition )*"
            r"(itempostcondition )*((itemrubric|rubric) )*(presentation )?(resprocessing )*(itemproc_extension )?"
            r"(itemfeedback )*(reference )?",
    "itemmetadata": r"(qtimetadata )*",  # and the qmd_ elements, which the package does not use
    "qtimetadata": r"(vocabulary )?(qtimetadatafield )+",
    "qtimetadatafield": r"fieldlabel fieldentry ",
    "presentation": r"(qticomment )?(flow |((material|response_lid|response_xy|response_str|response_num|response_grp"
                    r"|response_extension) )+)",
    "material": r"(qticomment )?((mattext|matemtext|matimage|mataudio|matvideo|matapplet|matapplication|matref"
                r"|matbreak|mat_extension) )+(altmaterial )*",
    "response_str": r"((material|material_ref) )?((render_choice|render_hotspot|render_slider|render_fib"
                    r"|render_extension) )((material|material_ref) )?",
    "render_fib": r"((material|material_ref|response_label|flow_label) )*(response_na )?",
    "response_label": r"((qticomment|material|material_ref|flow_mat) )*",
    "resprocessing": r"(qticomment )?outcomes ((respcondition|itemproc_extension) )+",
    "outcomes": r"(qticomment )?(decvar (interpretvar )*)+",
    "respcondition": r"(qticomment )?conditionvar (setvar )*(displayfeedback )*(respcond_extension )?",
    "conditionvar": f"({_ANY_CONDITION[:-2]}|var_extension) )+",
    "or": f"({_ANY_CONDITION})+",
    "and": f"({_ANY_CONDITION})+",
    "itemfeedback": r"((flow_mat|material|solution|hint) )+",
    "flow_mat": r"(qticomment )?((flow_mat|material|material_ref) )+",
    **{text: "" for text in ("selection_number", "fieldlabel", "fieldentry", "mattext", "decvar", "varequal",
                             "vargte", "varlte", "setvar", "other", "displayfeedback")},  # (#PCDATA)
}
DTD_REQUIRED = {"assessment": {"ident"}, "section": {"ident"}, "item": {"ident"}, "response_str": {"ident"},
                "response_label": {"ident"}, "itemfeedback": {"ident"}, "displayfeedback": {"linkrefid"},
                **{v: {"respident"} for v in ("varequal", "vargte", "varlte")}}
DTD_CHOICES = {("response_str", "rcardinality"): {"Single", "Multiple", "Ordered"},
               ("render_fib", "fibtype"): {"String", "Integer", "Decimal", "Scientific"},
               ("decvar", "vartype"): {"Integer", "String", "Decimal", "Scientific", "Boolean", "Enumerated", "Set"},
               ("setvar", "action"): {"Set", "Add", "Subtract", "Multiply", "Divide"},
               ("respcondition", "continue"): {"Yes", "No"},
               ("displayfeedback", "feedbacktype"): {"Response", "Solution", "Hint"}}


def _dtd_problems(element: ET.Element) -> list[str]:
    tag = element.tag.removeprefix(Q)
    if tag == "selection_extension":  # ANY
        return []
    if tag not in DTD_CONTENT:
        return [f"<{tag}> is not an element the package may use"]
    problems = []
    children = "".join(child.tag.removeprefix(Q) + " " for child in element)
    if not re.fullmatch(DTD_CONTENT[tag], children):  # (#PCDATA) is ""
        problems.append(f"<{tag}> holds {children!r}")
    problems += [f"<{tag}> lacks {name}" for name in DTD_REQUIRED.get(tag, set()) - set(element.attrib)]
    problems += [f"<{tag} {name}={element.get(name)!r}>" for (t, name), allowed in DTD_CHOICES.items()
                 if t == tag and name in element.attrib and element.get(name) not in allowed]
    return problems + [p for child in element for p in _dtd_problems(child)]


def test_the_assessment_follows_the_qti_1_2_dtd(made):
    _, _, root = package(made)
    assert root.tag == f"{Q}questestinterop"
    assert _dtd_problems(root) == []
    # the checker can fail: an item without its ident, a section after the items, a stray element
    broken = ET.fromstring(ET.tostring(root))
    item = next(broken.iter(f"{Q}item"))
    del item.attrib["ident"]
    ET.SubElement(item, f"{Q}presentation")
    ET.SubElement(next(broken.iter(f"{Q}conditionvar")), f"{Q}bogus")
    assert sorted(_dtd_problems(broken)) == sorted([
        "<item> lacks ident",
        "<item> holds 'itemmetadata presentation resprocessing presentation '",
        "<presentation> holds ''",  # an empty presentation: the DTD wants material or a response
        "<bogus> is not an element the package may use",
        next(p for p in _dtd_problems(broken) if p.startswith("<conditionvar> holds"))])


def test_the_manifest_has_the_content_packagings_required_structure(made):
    _, manifest, _ = package(made)
    assert manifest.tag == f"{CP}manifest" and manifest.get("identifier")
    assert [child.tag.removeprefix(CP) for child in manifest] == ["metadata", "organizations", "resources"]
    resources = manifest.find(f"{CP}resources")
    for resource in resources:
        assert resource.get("identifier") and resource.get("type") == "imsqti_xmlv1p2"
        assert [f.get("href") for f in resource.findall(f"{CP}file")] == [resource.get("href")]
    identifiers = [r.get("identifier") for r in resources]
    assert len(identifiers) == len(set(identifiers))


def test_variants_of_different_shapes_share_the_questions_and_the_points(tmp_path):
    """conv1d_kernel_gradient draws a kernel of 2 or 3, so its variants ask 2 or 3 numbers for the
    kernel gradient: each number any variant asks is a group of the variants that ask it, and a
    part's points are shared among as many questions as its largest variant has, so every quiz
    taker answers as many questions for as many points."""
    out = tmp_path / "conv"
    result = run("generate", "conv1d_kernel_gradient", "--count", 4, "--seed", 5, "--out", out, "--qti")
    assert result.exit_code == 0, result.output
    parts = set_parts(out)
    sizes = {len(json.loads(part["answer"])) for (_, _, part_id), part in parts.items() if part_id == "dK1"}
    assert sizes == {2, 3}  # both shapes are in this class
    _, _, root = package(out)
    sections = root.find(f"{Q}assessment").find(f"{Q}section").findall(f"{Q}section")
    titles = [s.get("title").split(": ", 1)[1] for s in sections]
    assert titles[titles.index("part dK1 [0]"):titles.index("part dK1 [0]") + 3] == \
        ["part dK1 [0]", "part dK1 [1]", "part dK1 [2]"]
    total = Fraction(0)
    for section in sections:
        share = section.findtext(f"{Q}selection_ordering/{Q}selection/{Q}selection_extension/{Q}points_per_item")
        total += Fraction(share).limit_denominator(1000)
        for item, part, label in items_with_keys(out, section):
            assert fields(item)["points_possible"] == share
            if label is not None:  # each variant asks this number: its own key, within the tolerance
                condition = item.find(f"{Q}resprocessing/{Q}respcondition/{Q}conditionvar/{Q}or")
                assert Decimal(condition.findtext(f"{Q}varequal")) == entry(part["answer"], label)
    kernel = [s for s in sections if s.get("title").endswith("part dK1 [2]")][0]
    assert len(kernel.findall(f"{Q}item")) == sum(size == 3 for size in (
        len(json.loads(part["answer"])) for (_, _, part_id), part in parts.items() if part_id == "dK1"))
    assert total == sum(part["points"] for (student, _, _), part in parts.items() if student == "s01")

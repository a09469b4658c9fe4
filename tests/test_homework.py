"""tutor generate and tutor grade: the set's layout and contract, the variant rule, rosters,
byte-identical regeneration (any --jobs), and a graded 30-student roundtrip."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.homework import assignment as homework
from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.bank.generate import generate
from backprop_tutor.grading.answers import decimal_comma
from backprop_tutor.worked.render import markdown_cell

TEMPLATES = ["mlp_2_2_1", "activation_derivative_symbolic", "neuron_sigmoid_bce"]


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def roster(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "class.csv"
    rows = ["id,name"] + [f"stu{i:02d},Student {i}" for i in range(1, 31)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def class_set(tmp_path_factory, roster) -> Path:
    out = tmp_path_factory.mktemp("hw") / "hw1"
    result = run("generate", *TEMPLATES, "--roster", roster, "--seed", 2026, "--out", out)
    assert result.exit_code == 0, result.output + result.stderr
    return out


def load(out: Path) -> dict:
    return json.loads((out / "set.json").read_text())


# --- the variant rule and the roster --------------------------------------------------------

def test_the_variant_seed_is_the_documented_sha256_rule():
    for seed, student, n in [(0, "s01", 1), (2026, "stu17", 3), (7, "Ana-María", 2)]:
        digest = hashlib.sha256(f"{seed}:{student}:{n}".encode("utf-8")).digest()
        assert homework.variant_seed(seed, student, n) == int.from_bytes(digest[:4], "big")


def test_a_students_variant_depends_on_nothing_else_in_the_roster(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id\nx1\nx2\n")
    b.write_text("id\nzz\nx2\nx9\n")
    assert run("generate", "mlp_2_2_1", "--roster", a, "--seed", 3, "--out", tmp_path / "A").exit_code == 0
    assert run("generate", "mlp_2_2_1", "--roster", b, "--seed", 3, "--out", tmp_path / "B").exit_code == 0
    for kind in ("sheets/x2.md", "keys/x2.tex", "answers/x2.yaml"):
        assert (tmp_path / "A" / kind).read_bytes() == (tmp_path / "B" / kind).read_bytes()


@pytest.mark.parametrize("text, message", [
    ("name,email\nAna,a@x\n", "the roster needs a column headed 'id' (one line of column names first, then one student per line); columns found: 'name', 'email'"),
    ("id,name\ns1,A\ns2,B\ns1,C\n", "line 4: duplicate id 's1' (first on line 2)"),
    ("id,name\ns1,A\n,B\n", "line 3: empty id; every student needs one"),
    ("id\n../evil\n", "line 2: id '../evil' cannot name a file"),
    ("id\nd&e_100%\n", "line 2: id 'd&e_100%' cannot name a file; use letters, digits, spaces and - _ . @"),
    ("id\n", "the roster has an id column but no students"),
    ("", "the roster needs a column headed 'id' (one line of column names first, then one student per line); columns found: none (the file is empty)"),
])
def test_a_bad_roster_is_one_line_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "class.csv"
    path.write_text(text)
    result = run("generate", "mlp_2_2_1", "--roster", path, "--seed", 1, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"Error: {path}: {message}"] or \
        result.stderr.strip().startswith(f"Error: {path}: {message}"), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out" / "set.json").exists()


@pytest.mark.parametrize("text, ids", [
    ("\ufeffid , name\r\n s1 ,A\r\n\r\ns2,B\r\n", ["s1", "s2"]),  # Excel: BOM, CRLF, a blank line
    ("Name;ID;Email\nAna;ana.garcia;a@x\nBo;bo@uni.edu;b@x\n", ["ana.garcia", "bo@uni.edu"]),  # European Excel
    ("name\tid\nJosé Pérez\tJosé Pérez\n", ["José Pérez"]),  # tabs, accents, a space
])
def test_rosters_as_spreadsheets_write_them_are_read(tmp_path, text, ids):
    path = tmp_path / "class.csv"
    path.write_bytes(text.encode())
    assert homework.read_roster(path) == ids


@pytest.mark.parametrize("args, message", [
    (["mlp_2_2_1", "--seed", "1"], "give the students with exactly one of --count N or --roster FILE.csv"),
    (["mlp_2_2_1", "--count", "2", "--roster", "r.csv", "--seed", "1"], "exactly one of --count N or --roster"),
    (["no_such_template", "--count", "2", "--seed", "1"], "no_such_template"),
    (["mlp_2_2_1", "--count", "0", "--seed", "1"], "--count"),
])
def test_generate_usage_errors_exit_2_in_one_line(tmp_path, args, message):
    result = run("generate", *args, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_non_empty_out_is_not_overwritten_without_force(tmp_path):
    out = tmp_path / "hw"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run("generate", "mlp_2_2_1", "--count", 2, "--seed", 1, "--out", out)
    assert result.exit_code == 2 and "the folder is not empty" in result.stderr and "--force" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert run("generate", "mlp_2_2_1", "--count", 2, "--seed", 1, "--out", out, "--force").exit_code == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "set.json").exists()


def test_ctrl_c_while_generating_writes_nothing(tmp_path, monkeypatch):
    from backprop_tutor.homework import writer as homework_writer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(homework_writer, "render_all", interrupted)
    result = run("generate", "mlp_2_2_1", "--count", 3, "--seed", 1, "--out", tmp_path / "hw")
    assert result.exit_code == 130 and "interrupted: nothing was written" in result.stderr
    assert not (tmp_path / "hw").exists() or not any((tmp_path / "hw").iterdir())


# --- what the set holds --------------------------------------------------------------------

def test_the_set_has_every_file_of_the_layout(class_set):
    data = load(class_set)
    ids = [s["id"] for s in data["students"]]
    assert ids == [f"stu{i:02d}" for i in range(1, 31)]
    expected = {"set.json", "moodle.xml"} | {f"{d}/{i}.{e}" for i in ids for d, e in
                                             [("sheets", "md"), ("sheets", "tex"), ("keys", "md"), ("keys", "tex"),
                                              ("answers", "yaml")]}
    assert set(files_of(class_set)) == expected


def test_set_json_keeps_the_contract_and_its_keys_are_the_engines(class_set):
    data = load(class_set)
    assert data["seed"] == 2026 and data["templates"] == TEMPLATES
    bank = Bank.open()
    for student in data["students"][:5]:
        assert [p["template"] for p in student["problems"]] == TEMPLATES
        for n, record in enumerate(student["problems"], 1):
            assert record["seed"] == homework.variant_seed(2026, student["id"], n)
            problem = generate(bank.load(record["template"]), record["seed"])
            assert [{k: p[k] for k in ("id", "prompt", "answer", "skill")} for p in record["parts"]] == \
                [{"id": p.id, "prompt": p.prompt, "answer": p.answer, "skill": p.skill} for p in problem.parts]


def test_students_get_different_variants(class_set):
    data = load(class_set)
    firsts = {json.dumps(s["problems"][0]["parts"]) for s in data["students"]}
    assert len(firsts) >= 25  # 30 students, a few coincidences at most


def test_the_blank_answer_file_maps_every_label_to_empty_text(class_set):
    data = load(class_set)
    student = data["students"][3]
    answers = yaml.safe_load((class_set / "answers" / f"{student['id']}.yaml").read_text())
    labels = [f"{p['number']}.{q['id']}" for p in student["problems"] for q in p["parts"]]
    assert list(answers) == labels and set(answers.values()) == {""}


def test_the_sheet_labels_every_part_and_gives_no_answer_away(class_set):
    data = load(class_set)
    student = data["students"][0]
    sheet = (class_set / "sheets" / f"{student['id']}.md").read_text()
    key = (class_set / "keys" / f"{student['id']}.md").read_text()
    for p in student["problems"]:
        for q in p["parts"]:
            assert f"`{p['number']}.{q['id']}`" in sheet
            assert q["answer"] not in sheet or len(q["answer"]) < 4
            assert markdown_cell(q["answer"]) in key  # as Markdown text: a vector's brackets escaped
    assert "Worked solution" in key and "Worked solution" not in sheet


def test_regenerating_gives_byte_identical_output_for_any_jobs(tmp_path, roster, class_set):
    again = tmp_path / "again"
    result = run("generate", *TEMPLATES, "--roster", roster, "--seed", 2026, "--out", again, "--jobs", 2)
    assert result.exit_code == 0, result.stderr
    assert files_of(again) == files_of(class_set)


# --- LaTeX ----------------------------------------------------------------------------------

def test_the_latex_sheets_and_keys_of_every_template_compile_with_pdflatex(tmp_path):
    from backprop_tutor.homework import writer as homework_writer

    if homework_writer.latex_tool() is None:
        if os.environ.get("TUTOR_REQUIRE_LATEX"):
            pytest.fail("pdflatex is missing; .ci/run should have installed TeX Live")
        pytest.skip("no pdflatex here; .ci/run installs TeX Live, so CI runs this test")
    everything = [t.id for t in Bank.open().templates()]
    out = tmp_path / "all"
    result = run("generate", *everything, "--count", 2, "--seed", 5, "--out", out, "--pdf", "--jobs", 2)
    assert result.exit_code == 0, result.output + result.stderr
    for folder in ("sheets", "keys"):
        for student in ("s01", "s02"):
            pdf = out / folder / f"{student}.pdf"
            assert pdf.read_bytes()[:5] == b"%PDF-", pdf
    assert not list(out.rglob("*.aux")) and not list(out.rglob("*.log"))


def test_pdf_without_latex_says_so_plainly(tmp_path, monkeypatch):
    from backprop_tutor.homework import writer as homework_writer

    monkeypatch.setattr(homework_writer, "latex_tool", lambda: None)
    result = run("generate", "mlp_2_2_1", "--count", 1, "--seed", 1, "--out", tmp_path / "hw", "--pdf")
    assert result.exit_code == 1
    assert "--pdf: neither latexmk nor pdflatex is installed" in result.stderr
    assert (tmp_path / "hw" / "sheets" / "s01.tex").exists()


# --- grading --------------------------------------------------------------------------------

def keys_of(student: dict) -> dict[str, str]:
    return {f"{p['number']}.{q['id']}": q["answer"] for p in student["problems"] for q in p["parts"]}


def wrong(answer: str, k: int) -> str:
    """A wrong answer of the same shape: every number scaled by a factor that differs from part
    to part (equal keys such as δ and ∂L/∂b must not become consistently wrong, which the grader
    rightly credits as an error carried forward), an expression doubled."""
    if re.search(r"[a-z]", answer):
        return f"2*({answer})"
    return re.sub(r"-?\d+\.?\d*(?:e-?\d+)?", lambda m: repr(float(m[0]) * (1.5 + k / 7) or 0.5), answer)


@pytest.fixture(scope="module")
def graded(class_set, tmp_path_factory):
    data = load(class_set)
    subs = tmp_path_factory.mktemp("subs")
    students = data["students"]
    for i, student in enumerate(students):
        name = subs / f"{student['id']}.yaml"
        if i == 28:
            continue  # never handed in
        if i == 29:
            name.write_text('"1.a2": [0.1\n')  # malformed
            continue
        answers = keys_of(student)
        if i % 2:
            answers = {k: wrong(v, j) for j, (k, v) in enumerate(answers.items())}
        if i == 3:
            answers["1.delta2"] = answers["1.delta2"]  # wrong already
            sign = keys_of(student)["1.delta2"]
            answers["1.delta2"] = sign[1:] if sign.startswith("-") else "-" + sign
        name.write_text(yaml.safe_dump(answers, allow_unicode=True))
    (subs / "nobody.yaml").write_text('"1.a2": "0.5"\n')
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    result = run("grade", class_set / "set.json", subs, "--out", out, env={"COLUMNS": "200"})
    rows = list(csv.DictReader(out.open(newline="")))
    return result, rows, out, students


def test_grading_runs_exit_0_and_writes_the_contract_columns(graded):
    result, rows, out, _ = graded
    assert result.exit_code == 0, result.output + result.stderr
    assert out.read_text().splitlines()[0] == "student,problem,part,answer,score,diagnosis,carried_from"


def test_keys_submitted_as_answers_score_full_marks(graded):
    _, rows, _, students = graded
    for student in students[0:28:2]:
        mine = [r for r in rows if r["student"] == student["id"]]
        assert len(mine) == len(keys_of(student))
        assert all(r["score"] == "1" and r["diagnosis"] == "" for r in mine), mine


def test_wrong_answers_score_zero(graded):
    _, rows, _, students = graded
    for student in students[1:28:2]:
        if student["id"] == students[3]["id"]:
            continue
        mine = [r for r in rows if r["student"] == student["id"]]
        assert len(mine) == len(keys_of(student))
        assert all(r["score"] == "0" for r in mine), [r for r in mine if r["score"] != "0"]


def test_a_diagnosable_mistake_is_named_and_the_error_carried_forward_is_credited(graded):
    _, rows, _, students = graded
    mine = {r["part"]: r for r in rows if r["student"] == students[3]["id"] and r["problem"] == "1"}
    assert mine["delta2"]["score"] == "0" and mine["delta2"]["diagnosis"], mine["delta2"]
    assert mine["db2"]["score"] == "0"  # db2 = δ⁽²⁾ but the learner's own db2 is wrong by 1.5×


def test_missing_malformed_and_unknown_submissions_get_their_own_rows(graded):
    result, rows, _, students = graded
    by = {r["student"]: r for r in rows if r["problem"] == ""}
    assert by[students[28]["id"]]["diagnosis"] == "no_submission" and by[students[28]["id"]]["score"] == "0"
    assert by[students[29]["id"]]["diagnosis"].startswith("malformed_submission: ")
    assert "not valid YAML (line 2, column" in by[students[29]["id"]]["diagnosis"]
    assert by["nobody"]["diagnosis"].startswith("unknown_student: ") and by["nobody"]["score"] == ""
    assert "Needs attention" in result.output and "nobody" in result.output


def test_the_summary_gives_the_class_mean_and_the_most_missed_parts(graded):
    result, rows, _, students = graded
    graded_rows = [r for r in rows if r["problem"] not in ("",) and r["score"] != ""]
    total = sum(len(keys_of(s)) for s in students)
    mean = sum(float(r["score"]) for r in graded_rows) / total  # every part is worth 1 point
    assert f"Class mean: {mean:.1%}" in result.output
    assert "Most missed parts" in result.output
    assert "error_sign ×" in " ".join(result.output.split()), result.output


def test_each_student_gets_a_feedback_file(graded):
    _, rows, out, students = graded
    folder = out.parent / "feedback"
    assert sorted(p.stem for p in folder.glob("*.md")) == sorted(s["id"] for s in students)
    text = (folder / f"{students[1]['id']}.md").read_text()
    assert text.startswith(f"# Feedback: {students[1]['name']} ({students[1]['id']})\n\nScore: 0/") and "expected: `" in text
    assert "No answer file was handed in." in (folder / f"{students[28]['id']}.md").read_text()


def test_yaml_numbers_and_lists_written_without_quotes_are_graded_as_typed(class_set, tmp_path):
    student = load(class_set)["students"][0]
    keys = keys_of(student)
    text = "\n".join(f'"{k}": {v}' for k, v in keys.items() if not re.search(r"[a-z]", v))  # unquoted
    (tmp_path / f"{student['id']}.yaml").write_text(text + "\n")
    out = tmp_path / "g.csv"
    assert run("grade", class_set, tmp_path / f"{student['id']}.yaml", "--out", out).exit_code == 0
    rows = [r for r in csv.DictReader(out.open()) if r["student"] == student["id"]]
    answered = [r for r in rows if r["answer"]]
    assert answered and all(r["score"] == "1" for r in answered)
    assert {r["diagnosis"] for r in rows if not r["answer"]} == {"no_answer"}


def test_a_changed_template_is_graded_against_set_json_with_a_note(class_set, tmp_path):
    data = load(class_set)
    data["students"] = data["students"][:1]
    record = data["students"][0]["problems"][0]
    record["parts"][0]["answer"] = "0.123456"  # as if the bank had changed since
    (tmp_path / "set.json").write_text(json.dumps(data))
    sid = data["students"][0]["id"]
    (tmp_path / f"{sid}.yaml").write_text('"1.a2": "0.123456"\n')
    out = tmp_path / "g.csv"
    result = run("grade", tmp_path / "set.json", tmp_path / f"{sid}.yaml", "--out", out)
    assert result.exit_code == 0
    rows = {r["part"]: r for r in csv.DictReader(out.open()) if r["problem"] == "1"}
    assert rows["a2"]["score"] == "1"
    assert "the bank's keys differ from set.json's" in " ".join(result.output.split())


@pytest.mark.parametrize("setup, message", [
    (lambda d: (d / "set.json").write_text("{not json"), "not a set.json written by tutor generate"),
    (lambda d: (d / "set.json").write_text('{"students": [{"id": 3}]}'), "students[0]: needs an 'id'"),
])
def test_grade_usage_errors_exit_2(tmp_path, setup, message):
    setup(tmp_path)
    (tmp_path / "s01.yaml").write_text("{}")
    result = run("grade", tmp_path / "set.json", tmp_path / "s01.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_grade_needs_existing_files(tmp_path):
    result = run("grade", tmp_path / "nope.json", tmp_path / "x.yaml")
    assert result.exit_code == 2 and "does not exist" in result.stderr


# --- the Moodle import ----------------------------------------------------------------------

def test_every_number_in_moodle_xml_is_the_key_in_set_json(class_set):
    """moodle.xml against set.json, not against the engine: what the LMS grades by is what
    tutor grade grades by. Symbolic parts are STACK questions with the key attached."""
    assert moodle_matches_set(class_set) > 30 * 5


def test_moodle_xml_of_every_template_matches_set_json(every_template):
    assert moodle_matches_set(every_template) > 3 * 21


def moodle_matches_set(class_set: Path) -> int:
    import html
    import xml.etree.ElementTree as ET
    from decimal import Decimal

    quiz = ET.parse(class_set / "moodle.xml").getroot()
    assert quiz.tag == "quiz" and quiz[0].get("type") == "category"
    questions: dict[tuple[str, int], list] = {}
    for q in quiz[1:]:
        if q.get("type") == "category":
            continue
        name = q.findtext("name/text")
        student, n = re.match(r"(\S+) – problem (\d+)", name).groups()
        questions.setdefault((student, int(n)), []).append(q)
    checked = 0
    for student in load(class_set)["students"]:
        for record in student["problems"]:
            found = questions.pop((student["id"], record["number"]))
            numeric = [p for p in record["parts"] if re.fullmatch(r"[-+\d.e\[\], ]+", p["answer"])]
            symbolic = [p for p in record["parts"] if p not in numeric]
            keys = [Decimal(x) for p in numeric for x in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", p["answer"])]
            formulas = [q for q in found if q.get("type") == "stack"]  # tutor generate's default
            assert [html.unescape(q.findtext("generalfeedback/text")) for q in formulas] == [
                f"<p>Key: {p['answer']}</p>" for p in symbolic]
            graded = [q for q in found if q.get("type") != "stack"]
            if not keys:
                assert not graded
                continue
            (q,) = graded
            if q.get("type") == "numerical":
                got = [Decimal(a.findtext("text")) for a in q.findall("answer") if a.get("fraction") == "100"]
                assert q.find("answer/tolerance") is not None
            else:
                assert q.get("type") == "cloze"
                text = html.unescape(q.findtext("questiontext/text"))
                got = [Decimal(key) for key in re.findall(r"\{\d+:NUMERICAL:=([^:}]+):[^}]+\}", text)]
            assert got == keys, (student["id"], record["number"])
            checked += len(keys)
    assert not questions
    return checked


def test_force_replaces_the_old_set_entirely(tmp_path):
    out = tmp_path / "hw"
    assert run("generate", "mlp_2_2_1", "--count", 3, "--seed", 7, "--out", out).exit_code == 0
    (out / "sheets" / "s03.pdf").write_bytes(b"%PDF- an old compiled sheet")
    (out / "grading-notes.txt").write_text("mine")
    assert run("generate", "mlp_2_2_1", "--count", 2, "--seed", 99, "--out", out, "--force").exit_code == 0
    assert sorted(p.name for p in (out / "answers").iterdir()) == ["s01.yaml", "s02.yaml"]
    assert not (out / "sheets" / "s03.pdf").exists() and not (out / "keys" / "s03.md").exists()
    assert "Set seed 99" in (out / "sheets" / "s01.md").read_text()
    assert (out / "grading-notes.txt").read_text() == "mine"  # not a file of the set: left alone


# --- every template, and the files students really hand in -------------------------------------

@pytest.fixture(scope="module")
def every_template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("all") / "set"
    ids = [t.id for t in Bank.open().templates()]
    assert run("generate", *ids, "--count", 3, "--seed", 11, "--out", out).exit_code == 0
    return out


def test_every_template_grades_keys_right_and_wrong_answers_wrong_without_errors(every_template, tmp_path):
    """s01 hands in the keys; s02 a different wrong number in every part (so error carried
    forward is tried on every later part, softmax included); s03 only the first part of each
    problem wrong."""
    students = load(every_template)["students"]
    for student, how in zip(students, ("keys", "all wrong", "first wrong")):
        answers = keys_of(student)
        firsts = {f"{p['number']}.{p['parts'][0]['id']}" for p in student["problems"]}
        for j, label in enumerate(answers):
            if how == "all wrong" or (how == "first wrong" and label in firsts):
                answers[label] = wrong(answers[label], j)
        (tmp_path / f"{student['id']}.yaml").write_text(yaml.safe_dump(answers, allow_unicode=True))
    out = tmp_path / "g.csv"
    result = run("grade", every_template, tmp_path, "--out", out)
    assert result.exit_code == 0, result.output + result.stderr
    rows = list(csv.DictReader(out.open()))
    assert not [r for r in rows if r["diagnosis"].startswith(("grading_error", "invalid_answer"))]
    by = {s["id"]: [r for r in rows if r["student"] == s["id"]] for s in students}
    assert all(r["score"] == "1" for r in by["s01"])
    assert all(r["score"] == "0" for r in by["s02"]), [r for r in by["s02"] if r["score"] != "0"]
    firsts = {(str(p["number"]), p["parts"][0]["id"]) for p in students[2]["problems"]}
    assert all((r["score"] == "0") == ((r["problem"], r["part"]) in firsts) for r in by["s03"])


def test_a_failure_inside_one_answer_is_a_row_and_everyone_else_is_graded(class_set, tmp_path, monkeypatch):
    from backprop_tutor.grading import grade as grading

    real = grading.grade_part

    def flaky(problem, part_id, text, earlier=None):
        if text == "13.5":
            raise RuntimeError("simulated")
        return real(problem, part_id, text, earlier)

    monkeypatch.setattr(grading, "grade_part", flaky)
    a, b = load(class_set)["students"][:2]
    (tmp_path / f"{a['id']}.yaml").write_text('"1.a2": "13.5"\n')
    (tmp_path / f"{b['id']}.yaml").write_text(yaml.safe_dump(keys_of(b)))
    out = tmp_path / "g.csv"
    result = run("grade", class_set, tmp_path, "--out", out)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    failed = [r for r in rows if r["diagnosis"].startswith("grading_error: RuntimeError: simulated")]
    assert [(r["student"], r["part"], r["score"]) for r in failed] == [(a["id"], "a2", "0")]
    assert all(r["score"] == "1" for r in rows if r["student"] == b["id"])
    attention = result.stdout.split("Needs attention:", 1)[1]  # the instructor is told, as the student was
    assert f"{a['id']} 1.a2: grading_error: RuntimeError: simulated" in " ".join(attention.split())


def test_answer_files_are_matched_as_students_save_them(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("id\nJosé\ncarol\nbo\ndan\n", encoding="utf-8")
    hw = tmp_path / "hw"
    assert run("generate", "neuron_one_input", "--roster", roster, "--seed", 1, "--out", hw).exit_code == 0
    subs = tmp_path / "subs"
    subs.mkdir()
    import unicodedata

    (subs / (unicodedata.normalize("NFD", "José") + ".yaml")).write_text("{}")  # macOS file name
    (subs / "Carol.YAML").write_text("{}")  # another case, upper-case extension
    (subs / "bo.yml").write_text("{}")
    (subs / "dan.yaml.txt").write_text("{}")  # saved by Notepad
    out = tmp_path / "g.csv"
    result = run("grade", hw, subs, subs / "bo.yml", "--out", out)  # bo named twice: one submission
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    whole = {r["student"]: r["diagnosis"] for r in rows if r["problem"] == ""}
    assert whole == {"dan": "no_submission", "dan.yaml": f"skipped_file: {subs / 'dan.yaml.txt'} is not a .yaml or .yml file"}
    for student in ("José", "carol", "bo"):
        assert {r["diagnosis"] for r in rows if r["student"] == student} == {"no_answer"}


def test_grading_with_no_matching_file_says_so(class_set, tmp_path):
    (tmp_path / "someone.yaml").write_text("{}")
    result = run("grade", class_set, tmp_path / "someone.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code == 0
    assert "No answer file could be graded" in result.output and "Class mean" not in result.output
    assert "answered correctly" not in result.output


def test_a_decimal_comma_and_an_unknown_label_are_explained(class_set, tmp_path):
    student = load(class_set)["students"][0]
    (tmp_path / f"{student['id']}.yaml").write_text('"1.a2": 0,4283\n"1.a3": "0.1"\n')
    out = tmp_path / "g.csv"
    assert run("grade", class_set, tmp_path, "--out", out).exit_code == 0
    rows = {r["part"]: r for r in csv.DictReader(out.open())}
    assert rows["a2"]["diagnosis"] == "invalid_answer" and rows["a2"]["score"] == "0"
    assert rows["a3"]["diagnosis"] == "unknown_label: '1.a3' is not a label of this set (labels look like '1.a2')"
    feedback = (out.parent / "feedback" / f"{student['id']}.md").read_text()
    assert decimal_comma("0,4283") in feedback  # the message check and practice give too
    assert "'1.a3' is not a label of this set" in feedback


def test_a_hand_edited_set_json_is_a_usage_error_not_a_traceback(class_set, tmp_path):
    data = load(class_set)
    data["students"][0]["problems"][0]["parts"][0]["points"] = "x"
    (tmp_path / "set.json").write_text(json.dumps(data))
    (tmp_path / "a.yaml").write_text("{}")
    result = run("grade", tmp_path / "set.json", tmp_path / "a.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code == 2 and "parts[0].points: must be a number ≥ 0, not 'x'" in result.stderr


def test_the_sheet_and_answer_file_say_how_precise_an_answer_must_be(class_set):
    sid = load(class_set)["students"][0]["id"]
    assert "within 0.1% of the exact value" in (class_set / "sheets" / f"{sid}.md").read_text()
    assert "within 0.1% of the exact value" in (class_set / "answers" / f"{sid}.yaml").read_text()


# --- regrading some students into the gradebook ------------------------------------------------

def copy_of_gradebook(graded, folder: Path) -> Path:
    """The graded class's grades.csv and feedback/, copied so that a test may regrade into them."""
    import shutil

    out = graded[2]
    shutil.copytree(out.parent, folder)
    return folder / out.name


def lines_without(data: bytes, student: str) -> list[bytes]:
    return [line for line in data.splitlines(keepends=True) if not line.startswith(f"{student},".encode())]


def rows_of(out: Path, student: str) -> list[dict]:
    return [r for r in csv.DictReader(out.open(newline="", encoding="utf-8")) if r["student"] == student]


def test_a_late_submission_is_merged_and_everyone_elses_rows_and_feedback_stay_byte_identical(class_set, graded,
                                                                                               tmp_path):
    students = graded[3]
    out = copy_of_gradebook(graded, tmp_path / "grades")
    before, feedback_before = out.read_bytes(), files_of(out.parent / "feedback")
    late = students[28]  # never handed in: no_submission in the first run
    assert [r["diagnosis"] for r in rows_of(out, late["id"])] == ["no_submission"]
    path = tmp_path / f"{late['id']}.yaml"
    path.write_text(yaml.safe_dump(keys_of(late), allow_unicode=True))
    result = run("grade", class_set, path, "--out", out, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output + result.stderr
    assert lines_without(out.read_bytes(), late["id"]) == lines_without(before, late["id"])
    feedback_after = files_of(out.parent / "feedback")
    mine = f"{late['id']}.md"
    assert {k: v for k, v in feedback_after.items() if k != mine} == {k: v for k, v in feedback_before.items()
                                                                      if k != mine}
    rows = rows_of(out, late["id"])
    assert [f"{r['problem']}.{r['part']}" for r in rows] == list(keys_of(late))
    assert all(r["score"] == "1" and r["diagnosis"] == "" for r in rows)  # the keys, handed in late
    assert "No answer file was handed in" not in feedback_after[mine].decode()
    words = " ".join(result.output.split())
    assert f"Regraded 1 of 30 students: {late['id']} ({len(rows)}/{len(rows)})." in words
    assert "Kept the rows of 29 students as they were in" in words and students[0]["id"] in words


def test_a_late_file_graded_into_a_new_gradebook_spares_the_others_feedback(class_set, graded, tmp_path):
    """--out is new but feedback/ beside it holds the class's feedback: a student with no file in
    this run keeps theirs (--fresh replaces it); the late student's is written."""
    students = graded[3]
    out = copy_of_gradebook(graded, tmp_path / "grades")
    feedback_before = files_of(out.parent / "feedback")
    late = students[28]
    path = tmp_path / f"{late['id']}.yaml"
    path.write_text(yaml.safe_dump(keys_of(late), allow_unicode=True))
    result = run("grade", class_set, path, "--out", out.parent / "late.csv", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output + result.stderr
    feedback_after = files_of(out.parent / "feedback")
    mine = f"{late['id']}.md"
    assert {k: v for k, v in feedback_after.items() if k != mine} == {k: v for k, v in feedback_before.items()
                                                                      if k != mine}
    assert "No answer file was handed in" not in feedback_after[mine].decode()
    assert "Kept the feedback files of 29 students with no answer file in this run" in " ".join(result.output.split())
    assert run("grade", class_set, path, "--out", out.parent / "late.csv", "--fresh").exit_code == 0
    other = (out.parent / "feedback" / f"{students[0]['id']}.md").read_text()
    assert "No answer file was handed in" in other


def test_student_regrades_only_the_named_students_files(class_set, graded, tmp_path):
    students = graded[3]
    out = copy_of_gradebook(graded, tmp_path / "grades")
    before, feedback_before = out.read_bytes(), files_of(out.parent / "feedback")
    folder = tmp_path / "resubmitted"
    folder.mkdir()
    first, second = students[0], students[2]  # both answered with the keys the first time
    for student in (first, second):
        answers = {k: wrong(v, j) for j, (k, v) in enumerate(keys_of(student).items())}
        (folder / f"{student['id']}.yaml").write_text(yaml.safe_dump(answers, allow_unicode=True))
    result = run("grade", class_set, folder, "--student", first["id"], "--out", out)
    assert result.exit_code == 0, result.output + result.stderr
    assert all(r["score"] == "0" for r in rows_of(out, first["id"]))  # regraded from the new file
    assert lines_without(out.read_bytes(), first["id"]) == lines_without(before, first["id"])  # second's too
    changed = {k for k, v in files_of(out.parent / "feedback").items() if feedback_before[k] != v}
    assert changed == {f"{first['id']}.md"}


def test_fresh_replaces_the_gradebook_and_a_foreign_out_is_refused(class_set, graded, tmp_path):
    students = graded[3]
    out = copy_of_gradebook(graded, tmp_path / "grades")
    path = tmp_path / f"{students[0]['id']}.yaml"
    path.write_text(yaml.safe_dump(keys_of(students[0]), allow_unicode=True))
    assert run("grade", class_set, path, "--out", out, "--fresh").exit_code == 0
    assert [r["diagnosis"] for r in rows_of(out, students[2]["id"])] == ["no_submission"]
    assert "No answer file was handed in" in (out.parent / "feedback" / f"{students[2]['id']}.md").read_text()
    foreign = tmp_path / "marks.csv"
    foreign.write_text("name,mark\nana,3\n")
    result = run("grade", class_set, path, "--out", foreign)
    assert result.exit_code == 2 and "not a gradebook written by tutor grade" in result.stderr
    assert foreign.read_text() == "name,mark\nana,3\n"


@pytest.mark.parametrize("student, message", [("stu1", "not a student of the set (did you mean 'stu"),
                                              ("stu05", "no answer file of stu05 among the submissions given")])
def test_a_bad_student_option_is_one_line(class_set, tmp_path, student, message):
    path = tmp_path / "stu01.yaml"
    path.write_text("{}")
    result = run("grade", class_set, path, "--student", student, "--out", tmp_path / "g.csv")
    assert result.exit_code == 2 and f"--student {student}: {message}" in result.stderr

"""Hostile files (issue 13, points 5, 8 and 9): no file a student or a hand stops the class,
no cell of a CSV the tool writes is a live formula, and no path is written outside its folder.

Each test asserts the exact outcome (the row's status and message, the exit code, the cell) and
a generous bound on time, so a hang fails rather than stalls the suite.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine import yamlio
from backprop_tutor.engine.files import ReadProblem, read_text
from backprop_tutor.homework import writer
from backprop_tutor.homework.gradebook import csv_safe, csv_unsafe

TEMPLATE = "activation_derivative_symbolic"  # two parts, graded fast

# 342 bytes of YAML that stand for 9⁹ strings ("billion laughs")
BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi")))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def class_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "hw"
    result = run("generate", TEMPLATE, "--count", 30, "--seed", 13, "--out", out)
    assert result.exit_code == 0, result.output + result.stderr
    return out


def keys(out: Path) -> dict[str, dict[str, str]]:
    """Each student's correct answers, label → key."""
    data = json.loads((out / "set.json").read_text())
    return {s["id"]: {f"{n}.{p['id']}": p["answer"] for n, pr in enumerate(s["problems"], 1) for p in pr["parts"]}
            for s in data["students"]}


def correct_file(answers: dict[str, str]) -> str:
    return "".join(f"{json.dumps(label)}: {json.dumps(key)}\n" for label, key in answers.items())


# --- point 5: the read helper and the YAML loader --------------------------------------------

def test_read_text_refuses_special_and_oversized_files(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 101)
    start = time.monotonic()
    cases = {"/dev/zero": "is a device, not an answer file", str(fifo): "is a FIFO (named pipe), not an answer file",
             str(tmp_path): "is a directory, not an answer file",
             str(big): "larger than 0.1 kB, the limit for an answer file",
             str(tmp_path / "none.yaml"): "no such file"}
    for path, message in cases.items():
        with pytest.raises(ReadProblem) as e:
            read_text(path, 100, "an answer file")
        assert str(e.value) == message
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("text, message", [
    (BOMB, "its aliases expand to more than 100,000 values (the limit)"),
    ("a: " + "[" * 3000 + "]" * 3000, "collections nested more than 100 deep (the limit)"),
    ("a: &a [*a]\n", "a recursive alias (a collection that contains itself)"),
    ('"1.a": ' + "9" * 5000, "a number longer than 4300 digits (the limit); quote it if it is meant as text"),
], ids=["alias-bomb", "nested-3000", "recursive-alias", "5000-digits"])
def test_the_yaml_loader_refuses_hostile_documents(text, message):
    assert len(BOMB) < 350  # the bomb is 337 bytes
    start = time.monotonic()
    with pytest.raises(yamlio.LimitError) as e:
        yamlio.load(text)
    assert str(e.value) == message
    assert time.monotonic() - start < 5


def test_the_yaml_loader_still_reads_small_aliases():
    assert yamlio.load("x: &x [1, 2]\ny: *x\n") == {"x": [1, 2], "y": [1, 2]}


def test_a_network_file_that_is_a_fifo_is_one_line(tmp_path):
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    result = run("solve", "--network", fifo)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {fifo}: is a FIFO (named pipe), not a network file\n"


def test_a_roster_that_is_a_fifo_or_an_open_quote_is_one_line(tmp_path):
    fifo = tmp_path / "class.csv"
    os.mkfifo(fifo)
    result = run("generate", TEMPLATE, "--roster", fifo, "--out", tmp_path / "a")
    assert (result.exit_code, result.stderr) == (2, f"Error: {fifo}: is a FIFO (named pipe), not a roster\n")
    quote = tmp_path / "quote.csv"
    quote.write_text('id\n"' + "x" * 200_000 + "\n")
    result = run("generate", TEMPLATE, "--roster", quote, "--out", tmp_path / "b")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {quote}: line 2: not a CSV roster (field larger than field limit (131072)); "
                             "is a quote left open?\n")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- the class of 30 -----------------------------------------------------------------------

def test_a_class_of_30_with_10_hostile_files_is_graded(class_set, tmp_path):
    answers = keys(class_set)
    subs = tmp_path / "submitted"
    subs.mkdir()
    for i in range(1, 21):
        sid = f"s{i:02d}"
        (subs / f"{sid}.yaml").write_text(correct_file(answers[sid]))
    slope = "1.slope"
    (subs / "s21.yaml").write_text(f'"{slope}": "{"(" * 3000}1{")" * 3000}"\n')  # an answer nested 3000 deep
    (subs / "s22.yaml").write_text(f'"{slope}": {"9" * 5000}\n')
    os.mkfifo(subs / "s23.yaml")
    (subs / "s24.yaml").write_text(BOMB)
    (subs / "s25.yaml").symlink_to("/dev/zero")
    (subs / "s26.yaml").write_text(f'"{slope}": "=HYPERLINK(\\"http://x\\")"\n')
    (subs / "s27.yaml").write_text("# padding\n" * 200_000)
    (subs / "s28.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    (subs / "s29.yaml").write_bytes('"1.slope": "für"\n'.encode("latin-1"))
    (subs / "s30.yaml").write_text(correct_file(answers["s30"]) + '"@SUM(1+1)": "-0.5"\n')
    (subs / "-=cmd.yaml").write_text("{}\n")  # a file name that is a formula
    before = tree(class_set)
    out = tmp_path / "grades"
    start = time.monotonic()
    result = run("grade", class_set, subs, "--out", out / "grades.csv")
    assert result.exit_code == 0, result.output + result.stderr
    assert time.monotonic() - start < 120
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_student: dict[str, list[dict]] = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    for i in range(1, 21):  # everyone else: graded, full marks
        graded = by_student[f"s{i:02d}"]
        assert [(r["part"], r["score"], r["diagnosis"]) for r in graded] == [("derivative", "1", ""), ("slope", "1", "")]
    malformed = {
        "s22": "s22.yaml is past a limit: a number longer than 4300 digits (the limit); quote it if it is meant as text",
        "s23": "s23.yaml: is a FIFO (named pipe), not an answer file",
        "s24": "s24.yaml is past a limit: its aliases expand to more than 100,000 values (the limit)",
        "s25": "s25.yaml: is a device, not an answer file",
        "s27": "s27.yaml: larger than 1 MB, the limit for an answer file",
        "s28": "s28.yaml is past a limit: collections nested more than 100 deep (the limit)",
        "s29": "s29.yaml: not UTF-8 text, so not an answer file",
    }
    for sid, message in malformed.items():
        assert [(r["problem"], r["score"], r["diagnosis"]) for r in by_student[sid]] == \
            [("", "0", f"malformed_submission: {message}")], sid
    nested = {r["part"]: r for r in by_student["s21"]}  # a graded row each: no answer, and not gradable
    assert nested["derivative"]["diagnosis"] == "no_answer" and nested["slope"]["score"] == "0"
    assert nested["slope"]["diagnosis"].split(":")[0] in ("invalid_answer", "grading_error")
    injected = {r["part"]: r for r in by_student["s26"]}
    assert injected["slope"]["answer"] == "'=HYPERLINK(\"http://x\")"  # shown as text, never run
    label = [r for r in by_student["s30"] if r["diagnosis"].startswith("unknown_label")]
    assert [(r["problem"], r["answer"]) for r in label] == [("'@SUM(1+1)", "-0.5")]  # -0.5 stays a number
    assert by_student["'-=cmd"][0]["diagnosis"].startswith("unknown_student")
    # nothing written outside the output folder, and the set untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades", "submitted"]
    assert tree(out) == {"grades.csv", "feedback"} | {f"feedback/s{i:02d}.md" for i in range(1, 31)}
    assert tree(class_set) == before


# --- point 8: CSV cells -------------------------------------------------------------------

@pytest.mark.parametrize("cell, written", [
    ("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-3/4", "'-3/4"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("-0.5", "-0.5"), ("+3", "+3"), ("-1e-3", "-1e-3"), ("0.25", "0.25"), ("s01", "s01"),
    ("'=1", "'=1"), ("-", "'-"), ("", ""),
])
def test_csv_cells_are_neutralised_the_owasp_way(cell, written):
    assert csv_safe(cell) == written
    assert csv_safe(csv_safe(cell)) == written  # a merged gradebook is not prefixed twice


def test_a_formula_id_reads_back_as_the_id():
    assert csv_unsafe(csv_safe("-x")) == "-x" and csv_unsafe("s01") == "s01" and csv_unsafe("-0.5") == "-0.5"


def test_a_regrade_merges_a_formula_student_without_duplicating_rows(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("id\n-ana\n@bob\n")
    out = tmp_path / "hw"
    assert run("generate", TEMPLATE, "--roster", roster, "--seed", 1, "--out", out).exit_code == 0
    subs = tmp_path / "subs"
    subs.mkdir()
    answers = keys(out)
    for sid in answers:
        (subs / f"{sid}.yaml").write_text(correct_file(answers[sid]))
    grades = tmp_path / "grades.csv"
    assert run("grade", out, subs, "--out", grades).exit_code == 0
    result = run("grade", out, subs / "-ana.yaml", "--out", grades)  # merged into the gradebook
    assert result.exit_code == 0, result.output + result.stderr
    rows = list(csv.reader(grades.open(newline="", encoding="utf-8")))
    assert [r[0] for r in rows[1:]] == ["'-ana", "'-ana", "'@bob", "'@bob"]


def test_a_gradebook_field_over_the_csv_limit_is_one_line(class_set, tmp_path):
    grades = tmp_path / "grades.csv"
    grades.write_text("student,problem,part,answer,score,diagnosis,carried_from\n\"" + "x" * 200_000 + "\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "s01.yaml").write_text("{}\n")
    result = run("grade", class_set, subs, "--out", grades)
    assert result.exit_code == 2
    assert result.stderr == (f"Error: --out {grades}: cannot read the gradebook to merge into (field larger than "
                             "field limit (131072)); give another --out, or add --fresh to replace it\n")


# --- point 9: paths come only from us -------------------------------------------------------

@pytest.mark.parametrize("sid", ["../../x", "/tmp/evil", "..", ".hidden", "a/b", "a\\b"])
def test_a_set_with_a_path_for_an_id_is_refused(class_set, tmp_path, sid):
    data = json.loads((class_set / "set.json").read_text())
    data["students"][0]["id"] = sid
    hw = tmp_path / "deep" / "er" / "hw"
    hw.mkdir(parents=True)
    (hw / "set.json").write_text(json.dumps(data))
    subs = tmp_path / "subs"
    subs.mkdir()
    result = run("grade", hw, subs, "--out", hw / "grades.csv")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {hw / 'set.json'}: students[0].id: {sid!r} cannot name a file; use letters, "
                             "digits, spaces and - _ . @ (not . first)\n")
    assert tree(tmp_path) == {"deep", "deep/er", "deep/er/hw", "deep/er/hw/set.json", "subs"}


def test_no_written_path_leaves_its_folder(tmp_path):
    with pytest.raises(Exception, match="outside"):
        writer.inside(tmp_path / "out", tmp_path / "out" / ".." / "x.md")
    assert writer.inside(tmp_path, tmp_path / "sheets" / "s01.md") == tmp_path / "sheets" / "s01.md"


def test_an_id_starting_with_a_dash_never_reaches_latex_as_an_option(tmp_path, monkeypatch):
    commands = []

    class Done:
        returncode, stdout = 0, ""

    def fake_run(command, **kwargs):
        commands.append(command)
        return Done()

    monkeypatch.setattr(writer.subprocess, "run", fake_run)
    tex = tmp_path / "-shell-escape.tex"
    tex.write_text("")
    for tool in ("latexmk", "pdflatex"):
        assert writer.compile_pdf(tex, tool) is None
    assert {c[-1] for c in commands} == {"./-shell-escape.tex"}

"""tutor grade --export canvas|moodle: the gradebook in the CSV layout each LMS imports, built
from grades.csv and set.json (homework/lms_export.py; docs/formats.md, "Homework set")."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.homework import lms_export

TEMPLATES = ["activation_derivative_symbolic", "neuron_sigmoid_bce"]
# A roster name and id a spreadsheet would run as formulas (ids may hold - and @, not lead with .)
NAMES = {"s1": "Ana Lima", "s2": "=HYPERLINK(\"http://x\")", "-s3": "", "s4": "@Bo"}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def read(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(newline="", encoding="utf-8")))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Four students: s1 all keys, s2 the keys with one part of each problem wrong, -s3 an empty
    answer file, s4 no file at all."""
    root = tmp_path_factory.mktemp("lms")
    roster = root / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"{i},{n}\n" for i, n in NAMES.items()))
    result = run("generate", *TEMPLATES, "--roster", roster, "--seed", "5", "--title", "HW 2", "--out", root / "set")
    assert result.exit_code == 0, result.output
    data = json.loads((root / "set" / "set.json").read_text())
    subs = root / "subs"
    subs.mkdir()
    for student in data["students"]:
        keys = {f"{n}.{q['id']}": q["answer"] for n, p in enumerate(student["problems"], 1) for q in p["parts"]}
        if student["id"] == "s2":
            for n in (1, 2):
                first = next(k for k in keys if k.startswith(f"{n}."))
                keys[first] = "12345"
        if student["id"] == "-s3":
            keys = {}
        if student["id"] != "s4":
            (subs / f"{student['id']}.yaml").write_text(yaml.safe_dump(keys, allow_unicode=True))
    return root, data, subs


def grade(graded, out: Path, *extra):
    root, data, subs = graded
    result = run("grade", root / "set" / "set.json", subs, "--out", out, "--fresh", *extra)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def exported(graded, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    grade(graded, out, "--export", "canvas", "--export", "MOODLE")
    return out, read(out.parent / "grades-canvas.csv"), read(out.parent / "grades-moodle.csv")


def sums(grades_csv: Path) -> dict[str, dict[int, float]]:
    """Per student, per problem: the sum of the part scores grades.csv gives."""
    out: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for row in csv.DictReader(grades_csv.open(newline="")):
        if row["problem"].isdigit() and row["score"]:
            out[row["student"].removeprefix("'")][int(row["problem"])] += float(row["score"])
    return out


def points(data: dict) -> list[float]:
    return [sum(q.get("points", 1) for q in p["parts"]) for p in data["students"][0]["problems"]]


def test_canvas_header_and_points_possible_row_are_as_canvas_documents(graded, exported):
    _, data, _ = graded
    _, canvas, _ = exported
    # Canvas Instructor Guide, "How do I import grades in the Gradebook?": Student, ID, SIS User ID,
    # SIS Login ID, Section, then one column per assignment; the second row is Points Possible.
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    titles = [p.get("title", p["template"]) for p in data["students"][0]["problems"]]
    assert canvas[0][5:] == [f"HW 2 - {n}. {t}" for n, t in enumerate(titles, 1)] + ["Final Points"]
    assert canvas[1][:5] == ["Points Possible", "", "", "", ""]
    assert [float(c) for c in canvas[1][5:-1]] == points(data)
    assert float(canvas[1][-1]) == sum(points(data))


def test_moodle_header_is_an_id_number_a_name_and_a_column_per_problem(graded, exported):
    _, data, _ = graded
    _, _, moodle = exported
    # https://docs.moodle.org/311/en/Grade_import: every column is mapped on import; "ID number"
    # maps to the user's idnumber field ("Identify user by"), each grade column to a grade item.
    titles = [p.get("title", p["template"]) for p in data["students"][0]["problems"]]
    assert moodle[0] == ["ID number", "Full name", *(f"HW 2 - {n}. {t}" for n, t in enumerate(titles, 1)), "Total"]


def test_one_row_per_student_in_roster_order_with_the_sums_of_grades_csv(graded, exported):
    _, data, _ = graded
    out, canvas, moodle = exported
    expected = sums(out)
    ids = [s["id"] for s in data["students"]]
    assert [r[2] for r in canvas[2:]] == ["s1", "s2", "'-s3", "s4"]
    assert [r[0] for r in moodle[1:]] == ["s1", "s2", "'-s3", "s4"]
    for sid, c_row, m_row in zip(ids, canvas[2:], moodle[1:]):
        per = [expected[sid][n] for n in range(1, len(points(data)) + 1)]
        assert [float(c) for c in c_row[5:-1]] == pytest.approx(per)
        assert [float(c) for c in m_row[2:-1]] == pytest.approx(per)
        assert float(c_row[-1]) == pytest.approx(sum(per)) == float(m_row[-1])
    full = sum(points(data))
    assert float(canvas[2][-1]) == full  # all keys
    assert 0 < float(canvas[3][-1]) < full  # one wrong part in each problem
    # an empty answer file and no file at all: 0 in every column (a set not handed in counts nothing)
    assert canvas[4][5:] == canvas[5][5:] == ["0"] * (len(points(data)) + 1)


def test_names_and_ids_cannot_run_as_formulas(exported):
    _, canvas, moodle = exported
    assert [r[0] for r in canvas[2:]] == ["Ana Lima", "'=HYPERLINK(\"http://x\")", "'-s3", "'@Bo"]
    assert [r[1] for r in moodle[1:]] == ["Ana Lima", "'=HYPERLINK(\"http://x\")", "", "'@Bo"]


def test_without_a_name_in_the_roster_moodle_has_no_name_column_and_canvas_shows_the_id():
    data = {"title": "", "students": [{"id": "a", "problems": [
        {"template": "t", "seed": 1, "title": "Chain (12)", "parts": [{"id": "x", "answer": "1", "points": 2}]}]}]}
    rows = [["a", "1", "x", "1", "1.5", "", ""]]
    assert lms_export.moodle(data, rows) == [["ID number", "1. Chain [12]", "Total"], ["a", "1.5", "1.5"]]
    # a trailing "(12)" would be read by Canvas as an existing assignment's id
    assert lms_export.canvas(data, rows)[2] == ["a", "", "a", "", "", "1.5", "1.5"]


def test_a_bad_export_is_a_one_line_usage_error(graded, tmp_path):
    root, _, subs = graded
    result = run("grade", root / "set" / "set.json", subs, "--out", tmp_path / "g.csv", "--export", "blackboard")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith(
        "Error: Invalid value for '--export': 'blackboard' is not one of 'canvas', 'moodle'"), result.output
    assert not (tmp_path / "g.csv").exists()


def test_without_export_nothing_new_is_written_and_grades_csv_is_the_same(graded, exported, tmp_path):
    out = tmp_path / "grades.csv"
    grade(graded, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback", "grades.csv"]
    assert out.read_bytes() == exported[0].read_bytes()


def test_the_export_files_sit_beside_out():
    assert lms_export.file_name("canvas", "grades.csv") == "grades-canvas.csv"
    assert lms_export.file_name("moodle", "hw.1.csv") == "hw.1-moodle.csv"
    assert lms_export.file_name("moodle", "grades") == "grades-moodle.csv"


def test_a_regrade_exports_the_whole_class_with_the_kept_rows(graded, exported, tmp_path):
    root, _, subs = graded
    out = tmp_path / "grades.csv"
    out.write_bytes(exported[0].read_bytes())
    result = run("grade", root / "set" / "set.json", subs, "--out", out, "--student", "s1", "--export", "canvas")
    assert result.exit_code == 0, result.output
    assert read(tmp_path / "grades-canvas.csv") == exported[1]


def test_the_cli_offers_exactly_the_exporters():
    # the command lists the choices itself: importing lms_export would load sympy for tutor --help
    from backprop_tutor.cli.homework import grade as command

    choice = next(p for p in command.params if p.name == "exports").type
    assert tuple(choice.choices) == lms_export.FORMATS == tuple(lms_export.EXPORTERS)

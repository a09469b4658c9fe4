"""A sheet and its key are headed with the student's name where the roster has a `name`
column ("Homework: Ana Silva"), and with the set's --title where one is given; neither changes
anyone's problems, which depend on the set seed and the id alone (docs/formats.md)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from backprop_tutor.cli.app import cli


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def make_set(tmp_path, roster_text: str, *extra, folder="set"):
    roster = tmp_path / f"{folder}.csv"
    roster.write_text(roster_text, encoding="utf-8")
    out = tmp_path / folder
    result = run("generate", "neuron_one_input", "--roster", roster, "--seed", "5", "--out", out, *extra)
    assert result.exit_code == 0, result.output + result.stderr
    return out


def first_line(path) -> str:
    return path.read_text(encoding="utf-8").split("\n", 1)[0]


def test_sheets_and_keys_use_the_roster_name(tmp_path):
    out = make_set(tmp_path, "id;Name\na01;  Ana   Silva \nb02;\n")
    assert first_line(out / "sheets" / "a01.md") == "# Homework: Ana Silva"
    assert first_line(out / "keys" / "a01.md") == "# Answer key: Ana Silva"
    assert r"\section*{Homework: Ana Silva}" in (out / "sheets" / "a01.tex").read_text(encoding="utf-8")
    assert r"\title{Answer key: Ana Silva}" in (out / "keys" / "a01.tex").read_text(encoding="utf-8")
    assert first_line(out / "sheets" / "b02.md") == "# Homework: b02"  # a blank name: the id
    students = json.loads((out / "set.json").read_text(encoding="utf-8"))["students"]
    assert [s.get("name") for s in students] == ["Ana Silva", None]


def test_a_name_or_a_title_changes_no_problem(tmp_path):
    named = make_set(tmp_path, "id,name\na01,Ana Silva\n", "--title", "Week 3", folder="named")
    plain = make_set(tmp_path, "id\na01\n", folder="plain")
    problems = [[p | {"title": None} for p in json.loads((out / "set.json").read_text(encoding="utf-8"))["students"][0]
                 ["problems"]] for out in (named, plain)]
    assert problems[0] == problems[1]
    assert (named / "answers" / "a01.yaml").read_text() == (plain / "answers" / "a01.yaml").read_text()


def test_the_title_heads_every_sheet_and_key(tmp_path):
    out = make_set(tmp_path, "id,name\na01,Zoë & Co_1\n", "--title", "Homework 3: backprop {50%}")
    # Markdown reads Co_1 literally only with its underscore escaped (a roster name is text)
    assert first_line(out / "sheets" / "a01.md") == r"# Homework 3: backprop {50%} — Zoë & Co\_1"
    assert first_line(out / "keys" / "a01.md") == r"# Homework 3: backprop {50%} — answer key: Zoë & Co\_1"
    assert r"\section*{Homework 3: backprop \{50\%\} --- Zoë \& Co\_1}" in (out / "sheets" / "a01.tex").read_text()
    assert r"\title{Homework 3: backprop \{50\%\} --- answer key: Zoë \& Co\_1}" in (out / "keys" / "a01.tex").read_text()


def test_a_blank_title_is_one_line_error(tmp_path):
    result = run("generate", "neuron_one_input", "--count", "1", "--seed", "1", "--title", "  ", "--out", tmp_path / "s")
    assert result.exit_code == 2 and "--title: the title is empty" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "s").exists()


def test_generate_help_shows_the_title_option():
    result = run("generate", "--help")
    assert "--title" in result.output and "--title" in result.output.split("Examples:")[1]


def test_a_name_pdflatex_cannot_typeset_falls_back_to_the_id_with_one_warning(tmp_path):
    """Cyrillic, CJK and Vietnamese need LaTeX language packages the build does not install: the
    .tex heading uses the id rather than print "????", one warning names those students, and the
    Markdown (which has no such limit) keeps every name."""
    names = {"a01": "Анна Петрова", "a02": "李雷", "a03": "Ngọc Ánh", "a04": "José Núñez"}
    roster = tmp_path / "r.csv"
    roster.write_text("id,name\n" + "".join(f"{i},{n}\n" for i, n in names.items()), encoding="utf-8")
    result = run("generate", "neuron_one_input", "--roster", roster, "--seed", "5", "--out", tmp_path / "s")
    assert result.exit_code == 0, result.output + result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "a01, a02, a03;" in warnings[0] and "a04" not in warnings[0], result.stderr
    for sid, name in names.items():
        who = "José Núñez" if sid == "a04" else sid
        assert rf"\section*{{Homework: {who}}}" in (tmp_path / "s" / "sheets" / f"{sid}.tex").read_text(encoding="utf-8")
        assert rf"\title{{Answer key: {who}}}" in (tmp_path / "s" / "keys" / f"{sid}.tex").read_text(encoding="utf-8")
        assert first_line(tmp_path / "s" / "sheets" / f"{sid}.md") == f"# Homework: {name}"
    assert "?" not in (tmp_path / "s" / "sheets" / "a02.tex").read_text(encoding="utf-8").split(r"\section*")[1].split("\n")[0]


def test_a_roster_of_typesettable_names_gives_no_warning(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("id,name\na01,Zoë Ångström\n", encoding="utf-8")
    result = run("generate", "neuron_one_input", "--roster", roster, "--seed", "5", "--out", tmp_path / "s")
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_grading_heads_each_feedback_file_with_the_title_and_the_name(tmp_path):
    out = make_set(tmp_path, "id,name\na01,Ana Silva\nb02,\n", "--title", "Week 3")
    assert json.loads((out / "set.json").read_text(encoding="utf-8"))["title"] == "Week 3"
    submitted = tmp_path / "in"
    submitted.mkdir()
    (submitted / "a01.yaml").write_text("{}\n", encoding="utf-8")
    result = run("grade", out / "set.json", submitted, "--out", tmp_path / "grades.csv")
    assert result.exit_code == 0, result.output
    assert first_line(tmp_path / "feedback" / "a01.md") == "# Week 3 — feedback: Ana Silva (a01)"
    assert first_line(tmp_path / "feedback" / "b02.md") == "# Week 3 — feedback: b02"
    plain = make_set(tmp_path, "id\na01\n", folder="plain")
    assert "title" not in json.loads((plain / "set.json").read_text(encoding="utf-8"))

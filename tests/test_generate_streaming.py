"""tutor generate streams the class to disk (issue 13, point 11): each student's files are written
before the next student is rendered, and the set is byte for byte what rendering the whole class
in memory gives; an interrupted or failed run still leaves the folder as it was.
(benchmarks/bench_memory.py measures the peak memory of 1000 students.)"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.homework import assignment as homework
from backprop_tutor.homework import writer
from backprop_tutor.homework.moodle import quiz_xml

TEMPLATES = ["neuron_one_input", "activation_derivative_symbolic"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_each_students_files_are_on_disk_before_the_next_student_is_rendered(tmp_path, monkeypatch):
    out = tmp_path / "hw"
    render = writer.render_student
    rendered: list[str] = []

    def checked(templates, student, *args, **kwargs):
        if rendered:  # the previous student's five files are written (in the staging folder) already
            written = {p.name for p in out.rglob(f"{rendered[-1]}.*")}
            assert written == {f"{rendered[-1]}.{ext}" for ext in ("md", "tex", "yaml")}, written
            assert len(list(out.rglob(f"{rendered[-1]}.*"))) == 5
        rendered.append(student)
        return render(templates, student, *args, **kwargs)

    monkeypatch.setattr(writer, "render_student", checked)
    result = run("generate", *TEMPLATES, "--count", 3, "--seed", 5, "--out", out)
    assert result.exit_code == 0, result.output
    assert rendered == ["s01", "s02", "s03"]
    assert sorted(p.name for p in out.iterdir()) == ["answers", "keys", "moodle.xml", "set.json", "sheets"]


def test_the_streamed_set_is_the_set_rendered_whole_in_memory(tmp_path):
    """set.json, moodle.xml and every student's files, against the class rendered into one list
    and serialised whole, as generate did before it streamed."""
    roster = tmp_path / "class.csv"
    roster.write_text("id,name\nana,Ana Silva\nbo 2,Bø\nc.d@x,\n", encoding="utf-8")
    out = tmp_path / "hw"
    result = run("generate", *TEMPLATES, "--roster", roster, "--seed", 9, "--title", "HW 3", "--out", out,
                 "--jobs", 2)
    assert result.exit_code == 0, result.output
    bank = Bank.open()
    students, names = homework.read_roster_names(roster)
    files = [writer.render_student([bank.load(t) for t in TEMPLATES], s, 9, names.get(s, ""), "HW 3")
             for s in students]
    expected = {relative: content.encode() for f in files for relative, content in f.texts}
    document = homework.set_json(TEMPLATES, 9, [f.record for f in files], "HW 3")
    expected["set.json"] = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    expected["moodle.xml"] = quiz_xml([(f.student, n, p) for f in files for n, p in enumerate(f.problems, 1)],
                                      formulas="stack").encode()  # tutor generate's default
    assert files_of(out) == dict(sorted(expected.items()))


def test_the_quiz_written_a_question_at_a_time_is_the_whole_tree_indented():
    bank = Bank.open()
    entries = [(s, n, writer.render_student([bank.load(t)], s, 3).problems[0])
               for n, t in enumerate(["mlp_2_2_1", "softmax_cross_entropy_2_3_2", "activation_derivative_symbolic"], 1)
               for s in ("s1", "s2")]
    text = quiz_xml(entries)
    root = ET.fromstring(text.encode("utf-8"))
    for element in root.iter():  # as built: no text but the leaves'
        if len(element):
            element.text = None
        element.tail = None
    ET.indent(root, "  ")
    assert text == '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def test_ctrl_c_half_way_through_the_class_leaves_the_old_set_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "hw"
    assert run("generate", TEMPLATES[0], "--count", 3, "--seed", 1, "--out", out).exit_code == 0
    before = files_of(out)
    render = writer.render_student

    def interrupted(templates, student, *args, **kwargs):
        if student == "s03":  # s01 and s02 are written by now
            raise KeyboardInterrupt
        return render(templates, student, *args, **kwargs)

    monkeypatch.setattr(writer, "render_student", interrupted)
    result = run("generate", *TEMPLATES, "--count", 4, "--seed", 2, "--out", out, "--force")
    assert result.exit_code == 130 and "interrupted: nothing was written" in result.stderr
    assert files_of(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["answers", "keys", "moodle.xml", "set.json", "sheets"]


def test_a_student_that_fails_half_way_leaves_no_folder_behind(tmp_path, monkeypatch):
    render = writer.render_student

    def failing(templates, student, *args, **kwargs):
        if student == "s02":
            raise RuntimeError("a template that cannot be drawn")
        return render(templates, student, *args, **kwargs)

    monkeypatch.setattr(writer, "render_student", failing)
    result = run("generate", TEMPLATES[0], "--count", 3, "--seed", 1, "--out", tmp_path / "term" / "hw")
    assert isinstance(result.exception, RuntimeError)
    assert list(tmp_path.iterdir()) == []


def test_a_run_killed_outright_leaves_a_folder_the_next_run_removes(tmp_path):
    """kill -9 skips every `finally`: its staging folder stays, named by its process id, and the
    next run into the folder removes it once that process is gone (a running one's is kept)."""
    import subprocess
    import sys

    out = tmp_path / "set"
    out.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = out / f".generating-{gone.stdout.strip()}-abc"
    (abandoned / "sheets").mkdir(parents=True)
    (abandoned / "sheets" / "s1.md").write_text("half a set", encoding="utf-8")
    running = out / f".generating-{os.getpid()}-xyz"
    running.mkdir()
    result = CliRunner().invoke(cli, ["generate", "mlp_2_2_1", "--count", "1", "--seed", "3", "--out", str(out),
                                      "--force"])
    assert result.exit_code == 0, result.output
    assert not abandoned.exists()
    assert running.exists()

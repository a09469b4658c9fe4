"""Hostile templates (issue 13, point 10): each is one line at load, never a traceback, a hang or
a template that grades nothing; and one broken template in a user's bank folder costs only itself
in `tutor bank list`, `tutor stats` and `tutor practice`.

The small self-contained templates of tests/test_bank_templates_bad.py are the bases here too.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from test_bank_templates_bad import ACTIVATION, NETWORK, edit, invalid_line, validate

BOUND = 5.0  # seconds; generous, against a slow shared machine, but far below a hang

# --- each a one-line error at load ------------------------------------------------------------

TOLERANCE = ["parts", 0, "tolerance"]
NUMBERS = [
    ("points-nan", edit(NETWORK, (["parts", 0, "points"], float("nan"))),
     "parts[0].points: expected a number from 0.01 to 1000, found nan"),
    ("points-inf", edit(NETWORK, (["parts", 0, "points"], float("inf"))),
     "parts[0].points: expected a number from 0.01 to 1000, found inf"),
    ("points-tiny-exponent", edit(NETWORK, (["parts", 0, "points"], 1e-300)),
     "parts[0].points: expected a number from 0.01 to 1000, found 1e-300"),
    # unquoted, a float cannot hold these: they were 0.0 and inf, the one silently accepted
    ("points-underflowing", edit(NETWORK, (["parts", 0, "points"], 0.125)).replace("0.125", "1e-5000"),
     "parts[0].points: expected a number from 0.01 to 1000, found '1e-5000'"),
    ("tolerance-underflowing", edit(NETWORK, (TOLERANCE, {"relative": 0.125})).replace("0.125", "1e-5000"),
     "parts[0].tolerance.relative: expected a number of at least 1e-12, found '1e-5000'"),
    ("tolerance-nan", edit(NETWORK, (TOLERANCE, {"relative": float("nan")})),
     "parts[0].tolerance.relative: expected a number of at least 1e-12, found nan"),
    ("tolerance-inf", edit(NETWORK, (TOLERANCE, {"absolute": float("inf")})),
     "parts[0].tolerance.absolute: expected a number of at least 1e-12, found inf"),
    ("tolerance-tiny-exponent", edit(NETWORK, (TOLERANCE, {"relative": 1e-300})),
     "parts[0].tolerance.relative: expected a number of at least 1e-12, found 1e-300"),
    ("relative-tolerance-accepting-everything", edit(NETWORK, (TOLERANCE, {"relative": 1})),
     "parts[0].tolerance.relative: 1 accepts every number of the right sign; a relative tolerance is below 1, "
     "e.g. 1e-3"),
    # a huge count of significant figures ran out of memory in the self-test
    ("sigfigs-huge", edit(NETWORK, (TOLERANCE, {"sigfigs": 10**11})),
     "parts[0].tolerance.sigfigs: expected a whole number from 1 to 15, found 100000000000"),
]

MISTAKE = ["parts", 1, "mistakes"]
MISTAKES = [
    # a line break once made the factor's pattern fail to match: AttributeError
    ("mistake-two-lines", edit(NETWORK, (MISTAKE, [{"name": "error_sign", "value": "-delta2[0]\n+ 1",
                                                    "feedback": "Flipped."}])),
     "parts[1].mistakes[0].value: expected one line such as \"-delta2[0]\" or \"2*dW1[0][0]\", "
     "found '-delta2[0]\\n+ 1'"),
    ("mistake-not-text", edit(NETWORK, (MISTAKE, [{"name": "error_sign", "value": {"a": 1}, "feedback": "F."}])),
     "parts[1].mistakes[0].value: expected one line such as \"-delta2[0]\" or \"2*dW1[0][0]\", found {'a': 1}"),
    ("mistake-huge-factor", edit(NETWORK, (MISTAKE, [{"name": "error_sign", "value": "9" * 5000 + "*delta2[0]",
                                                      "feedback": "F."}])),
     "parts[1].mistakes[0].value: the factor 99999999999999999999… has more than 12 characters"),
    # not a quantity: one line, named when the template is first generated from (as validate does)
    ("mistake-malformed", edit(NETWORK, (MISTAKE, [{"name": "error_sign", "value": "3*(((", "feedback": "F."}])),
     "parts.delta2.mistakes: '(((' is not a quantity; use names such as z1[0], a2[1], delta2[0], dW1[0][1], "
     "db2[0], W2_new[0][0], loss, loss_after or nudge(W2[0][0], 0.01)"),
]

NUDGE = ["parts", 3, "quantity"]
NUDGES = [
    # 1e-400 was read as 0.0, and 1e-300 failed "nonzero_answers" 182 times in 200 draws
    ("nudge-tiny-exponent", edit(NETWORK, (NUDGE, "nudge(W2[0][1], 1e-300)")),
     "parts[3].quantity: the nudge step 1e-300 is outside 1e-08 to 10 in size; use a step such as 0.01"),
    ("nudge-underflowing-to-zero", edit(NETWORK, (NUDGE, "nudge(W2[0][1], 1e-99999999)")),
     "parts[3].quantity: the nudge step 1e-99999999 is outside 1e-08 to 10 in size; use a step such as 0.01"),
    ("nudge-a-parameters-tiny-choice", edit(NETWORK, (NUDGE, "nudge(W2[0][1], $h)"),
                                            (["parameters", "h"], {"choice": [0.01, 1e-30]})),
     "parts[3].quantity: the nudge step 1e-30 is outside 1e-08 to 10 in size; use a step such as 0.01"),
]

CONTROL = [
    # an escape code in a title coloured the terminal, and any C0 character broke moodle.xml and pdflatex
    ("title-escape-code", edit(NETWORK, (["title"], "\x1b[31mRed")),
     "title: holds the control character '\\x1b' at position 0; no control character may appear in it"),
    ("title-nul", edit(NETWORK, (["title"], "A\x00B")),
     "title: holds the control character '\\x00' at position 1; no control character may appear in it"),
    ("title-line-break", edit(NETWORK, (["title"], "Two\nlines")),
     "title: holds the control character '\\n' at position 3; no control character may appear in it"),
    ("prompt-form-feed", edit(ACTIVATION, (["parts", 0, "prompt"], "f′\x0c(z0).")),
     "parts[0].prompt: holds the control character '\\x0c' at position 2; no control character other than a line "
     "break or a tab may appear in it"),
    ("choice-escape-code", edit(NETWORK, (["parameters", "act", "choice"], ["sigmoid", "tanh\x1b[0m"])),
     "parameters.act.choice[1]: holds the control character '\\x1b' at position 4; no control character may appear "
     "in it"),
    ("hint-bell", edit(NETWORK, (["parts", 0, "hints"], ["Forward pass.\x07"])),
     "parts[0].hints[0]: holds the control character '\\x07' at position 13; no control character other than a "
     "line break or a tab may appear in it"),
    ("feedback-delete", edit(NETWORK, (MISTAKE, [{"name": "error_sign", "value": "-delta2[0]",
                                                  "feedback": "Flipped\x7f."}])),
     "parts[1].mistakes[0].feedback: holds the control character '\\x7f' at position 7; no control character "
     "other than a line break or a tab may appear in it"),
]


@pytest.mark.parametrize("name,text,message", NUMBERS + MISTAKES + NUDGES + CONTROL,
                         ids=[c[0] for c in NUMBERS + MISTAKES + NUDGES + CONTROL])
def test_hostile_template_is_one_line_at_load(tmp_path, name, text, message):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    start = time.monotonic()
    line = invalid_line(validate(path), path)
    assert time.monotonic() - start < BOUND
    assert line == message


def test_an_absolute_tolerance_larger_than_every_key_fails_validate(tmp_path):
    """0 would be graded correct on every draw: the part grades nothing."""
    path = tmp_path / "lenient.yaml"
    path.write_text(edit(NETWORK, (TOLERANCE, {"absolute": 1000})), encoding="utf-8")
    result = CliRunner().invoke(cli, ["bank", "validate", "--seeds", "3", str(path)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"FAILED   {path}",
        "  - part o: the absolute tolerance 1000 is at least every entry of the key on every seed, so 0 is graded "
        "correct; make it much smaller than the key",
        "1 template: 0 ok, 1 failed the self-test, 0 malformed",
    ]


def test_a_fitting_absolute_tolerance_passes_validate(tmp_path):
    path = tmp_path / "fitting.yaml"
    path.write_text(edit(NETWORK, (TOLERANCE, {"absolute": 1e-6})), encoding="utf-8")
    result = CliRunner().invoke(cli, ["bank", "validate", "--seeds", "3", str(path)])
    assert result.exit_code == 0, result.output


# --- one broken template in a bank folder costs only itself -----------------------------------

@pytest.fixture
def hostile_bank(tmp_path, monkeypatch) -> Path:
    """A user's folder: one good template, a bad title, a file that is not YAML, and one whose
    catalogue fields are good but whose parts are not (it fails only when loaded)."""
    monkeypatch.setenv("TUTOR_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "good.yaml").write_text(edit(ACTIVATION), encoding="utf-8")
    (folder / "bad_title.yaml").write_text(edit(ACTIVATION, (["title"], "\x1b[2J")), encoding="utf-8")
    (folder / "not_yaml.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    (folder / "bad_points.yaml").write_text(edit(ACTIVATION, (["parts", 0, "points"], float("nan"))),
                                            encoding="utf-8")
    os.mkfifo(folder / "pipe.yaml")  # read, it would block every command for ever
    return folder


def _skipped(stderr: str) -> list[str]:
    return sorted(line.split(":")[0] for line in stderr.splitlines() if line.startswith("skipped  "))


def test_bank_list_reports_a_broken_template_and_lists_the_rest(hostile_bank):
    for _ in range(2):  # the second time from the catalogue cache, which must not hide the broken ones
        result = CliRunner().invoke(cli, ["bank", "list", "--bank", str(hostile_bank),
                                                          "--only-bank", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert [row["id"] for row in json.loads(result.stdout)] == ["bad_points", "good"]
        assert _skipped(result.stderr) == [f"skipped  {hostile_bank / 'bad_title.yaml'}",
                                           f"skipped  {hostile_bank / 'not_yaml.yaml'}",
                                           f"skipped  {hostile_bank / 'pipe.yaml'}"]
        assert f"{hostile_bank / 'pipe.yaml'}: is a FIFO (named pipe), not a template" in result.stderr
        assert "\x1b" not in result.stderr.replace("'\\x1b", "")


def test_stats_reports_a_broken_template_and_counts_the_rest(hostile_bank, tmp_path):
    result = CliRunner().invoke(cli, ["stats", "--db", str(tmp_path / "p.sqlite3"), "--bank",
                                                      str(hostile_bank), "--only-bank", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["skills"]) == ["activation_derivative"]
    assert len(_skipped(result.stderr)) == 3


def test_practice_skips_a_template_that_fails_to_load(hostile_bank, tmp_path):
    """Chosen by the catalogue, bad_points fails when loaded: reported once, and the session goes on
    with the good one, every problem of it."""
    start = time.monotonic()
    result = CliRunner().invoke(
        cli, ["practice", "--db", str(tmp_path / "p.sqlite3"), "--bank", str(hostile_bank), "--only-bank",
              "--seed", "1", "--count", "3"], input="skip\n" * 3)
    assert time.monotonic() - start < 3 * BOUND
    assert result.exit_code == 0, result.output
    assert result.stdout.count("(good, seed") == 3, result.stdout
    assert _skipped(result.stderr) == [f"skipped  {hostile_bank / name}.yaml"
                                       for name in ("bad_points", "bad_title", "not_yaml", "pipe")]
    assert result.stderr.count("bad_points.yaml") == 1


# --- point 11: a submissions folder -------------------------------------------------------------

def _two_students(tmp_path) -> tuple[Path, dict]:
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nalice\nbob\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["generate", "activation_derivative_at_point", "--roster", str(roster),
                                      "--seed", "1", "--out", str(tmp_path / "hw")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "hw" / "set.json").read_text(encoding="utf-8"))
    alice = data["students"][0]
    keys = {f"{p['number']}.{q['id']}": q["answer"] for p in alice["problems"] for q in p["parts"]}
    return tmp_path / "hw" / "set.json", keys


def _grade(set_json: Path, subs: Path, tmp_path: Path) -> tuple[object, list[list[str]]]:
    import csv

    out = tmp_path / "grades.csv"
    start = time.monotonic()
    result = CliRunner().invoke(cli, ["grade", str(set_json), str(subs), "--out", str(out)])
    assert time.monotonic() - start < 3 * BOUND
    assert result.exit_code == 0, result.output
    return result, list(csv.reader(out.open(newline="", encoding="utf-8")))[1:]


def test_an_exact_file_name_wins_over_a_case_insensitive_one(tmp_path):
    """ALICE.yaml sorts before alice.yaml; it matched alice first and alice.yaml was the duplicate."""
    set_json, keys = _two_students(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.yaml").write_text(json.dumps(keys), encoding="utf-8")
    (subs / "ALICE.yaml").write_text(json.dumps({k: "0" for k in keys}), encoding="utf-8")
    _, rows = _grade(set_json, subs, tmp_path)
    assert [r[4] for r in rows if r[0] == "alice" and r[1]] == ["1", "1"]  # every part of alice.yaml correct
    assert ["alice", "", "", "", "", f"duplicate_submission: {subs / 'ALICE.yaml'} (graded {subs / 'alice.yaml'})",
            ""] in rows


def test_odd_entries_of_a_submissions_folder_are_reported_and_names_escaped(tmp_path):
    import os

    set_json, keys = _two_students(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.yaml").write_text(json.dumps(keys), encoding="utf-8")
    (subs / "folder.yaml").mkdir()
    (subs / "gone.yaml").symlink_to(tmp_path / "nowhere")
    os.mkfifo(subs / "pipe.yaml")  # read, it would block the grader for ever
    (subs / "\x1b[2Jevil.yaml").write_text("x: 1\n", encoding="utf-8")
    result, rows = _grade(set_json, subs, tmp_path)
    odd = {r[0]: r[5] for r in rows if r[0] not in ("alice", "bob")}
    assert odd == {
        "folder": f"skipped_file: {subs}/folder.yaml is a folder (only the answer files directly in the folder "
                  "given are read)",
        "gone": f"skipped_file: {subs}/gone.yaml is a link to nothing",
        "pipe": f"skipped_file: {subs}/pipe.yaml is not a regular file (a pipe, socket or device)",
        "\\x1b[2Jevil": f"unknown_student: {subs}/\\x1b[2Jevil.yaml matches no student of the set",
    }
    assert "\x1b" not in result.output


# --- point 11: answer files read numbers as YAML 1.2 writes them ------------------------------

def test_answer_files_read_0x1f_and_1_30_as_the_text_they_are(tmp_path):
    """YAML 1.1 read 0x1F as 31 and 1:30 as 90, and a float 1e-5000 as 0.0; a student who typed them
    did not mean those."""
    from backprop_tutor.homework.gradebook import answer_text, read_submission

    path = tmp_path / "alice.yaml"
    path.write_text('"1.a": 0x1F\n"1.b": 1:30\n"1.c": 017\n"1.d": 1_000\n"1.e": 0.25\n"1.f": -3\n"1.g": 1e-3\n'
                    '"1.h": [0.1, -2]\n"1.i":\n"1.j": 1e-5000\n', encoding="utf-8")
    answers = {label: answer_text(value) for label, value in read_submission(path).items()}
    assert answers == {"1.a": "0x1F", "1.b": "1:30", "1.c": "017", "1.d": "1_000", "1.e": "0.25", "1.f": "-3",
                       "1.g": "0.001", "1.h": "[0.1, -2]", "1.i": "", "1.j": "1e-5000"}


# --- point 11: the practice history file --------------------------------------------------------

def test_the_practice_history_never_writes_through_a_link(tmp_path):
    readline = pytest.importorskip("readline")
    from backprop_tutor.cli.learner import load_history, save_history

    target = tmp_path / "someone_elses_file"
    target.write_text("precious\n", encoding="utf-8")
    history = tmp_path / "practice-history"
    history.symlink_to(target)
    readline.clear_history()
    load_history(readline, history)  # a link is not read either
    assert readline.get_current_history_length() == 0
    readline.add_history("0.25")
    save_history(readline, history)
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert not history.is_symlink() and "0.25" in history.read_text(encoding="utf-8")
    assert oct(history.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_a_pipe_as_the_practice_history_is_not_opened(tmp_path):
    import os

    readline = pytest.importorskip("readline")
    from backprop_tutor.cli.learner import load_history

    history = tmp_path / "practice-history"
    os.mkfifo(history)
    start = time.monotonic()
    load_history(readline, history)  # opening the pipe would wait for a writer for ever
    assert time.monotonic() - start < BOUND


# --- point 11: a failed generate leaves no empty folders behind --------------------------------

def test_a_generate_that_cannot_write_leaves_no_empty_folders(tmp_path, monkeypatch):
    """A disk that fills up at the first file: --out and its parents, made by this run, go again."""
    import errno

    def disk_full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", disk_full)
    out = tmp_path / "term" / "hw1"
    result = CliRunner().invoke(cli, ["generate", "activation_derivative_at_point", "--count", "2", "--seed", "1",
                                      "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: --out {out}: cannot write (No space left on device)\n"
    assert list(tmp_path.iterdir()) == []


def test_a_generate_that_fails_half_way_keeps_what_was_there(tmp_path):
    """A file named keys where the keys/ folder goes: sheets/, made just before, is removed; the
    folder given and its file stay as they were."""
    out = tmp_path / "hw1"
    out.mkdir()
    (out / "keys").write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["generate", "activation_derivative_at_point", "--count", "2", "--seed", "1",
                                      "--out", str(out), "--force"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: --out {out}: cannot write (File exists)\n"
    assert [p.name for p in out.iterdir()] == ["keys"] and (out / "keys").read_text(encoding="utf-8") == "mine\n"

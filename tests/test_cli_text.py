"""Text from templates, files and learners prints as written: the CLI's Console reads none of it
as rich markup ("[x]" would vanish, "[/x]" would crash) nor as emoji codes (":up:")."""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli

MARKUP = r"[/x] [a, b] \[c] :up:"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
WIDE = {"COLUMNS": "200"}


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture
def bank(tmp_path):
    """neuron_one_input, with markup-like text in its title and first prompt (single-quoted
    YAML, so the backslash stays a backslash)."""
    source = Bank.open().path("neuron_one_input").read_text(encoding="utf-8")
    source = source.replace('title: "The smallest network: one input, one weight, one bias"', f"title: 'Odd {MARKUP}'")
    source = source.replace('prompt: "The pre-activation z = w·x + b."', f"prompt: 'z {MARKUP}'")
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "odd.yaml").write_text(source, encoding="utf-8")
    return folder


def test_a_shipped_prompt_in_square_brackets_keeps_them():
    # bce's prompt writes L = −[t ln o + (1 − t) ln(1 − o)]; rich's markup once printed "L = −".
    text = run("solve", "neuron_sigmoid_bce", "--seed", 1, env=WIDE).stdout
    assert "−[t ln o + (1 − t) ln(1 − o)]" in text


def test_solve_and_bank_show_print_template_text_verbatim(bank):
    for args in (("solve", "odd"), ("bank", "show", "odd")):
        result = run(*args, "--seed", 1, "--bank", bank, "--only-bank", env=WIDE)
        assert result.exit_code == 0, result.output
        assert f"z {MARKUP}" in result.stdout, result.stdout


def test_bank_list_in_a_terminal_prints_titles_verbatim(bank):
    result = run("bank", "list", "--bank", bank, "--only-bank", env={**WIDE, "FORCE_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "\x1b[" in result.stdout  # the rich table, not the piped rows
    assert f"Odd {MARKUP}" in ANSI.sub("", result.stdout)


def test_the_grade_summary_prints_titles_verbatim(bank, tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("id\ns01\n")
    out = tmp_path / "hw"
    assert run("generate", "odd", "--roster", roster, "--seed", 1, "--out", out, "--bank", bank).exit_code == 0
    (tmp_path / "s01.yaml").write_text(yaml.safe_dump({"1.z": "0"}))
    result = run("grade", out / "set.json", tmp_path / "s01.yaml", "--out", tmp_path / "g.csv", "--bank", bank,
                 env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Most missed parts" in result.stdout and f"Odd {MARKUP}" in result.stdout, result.stdout


# Every command that shows text from a template, a roster, an answer or a file, in a terminal
# (rich) and piped: rich markup, a link, an empty list and a closing tag print as written.
MARKS = "[bold]x[/bold] [red] [, , ] [link=https://example.com]site[/link]"
TERMINAL = {"COLUMNS": "400", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
PIPED = {"COLUMNS": "400"}


@pytest.fixture
def marked(tmp_path):
    """neuron_one_input with MARKS in its title, statement, first prompt, first hint and a
    mistake's feedback."""
    source = Bank.open().path("neuron_one_input").read_text(encoding="utf-8")
    for old, new in (('title: "The smallest network: one input, one weight, one bias"', f"title: 'Marked {MARKS}'"),
                     ("  {loss} loss. Follow", f"  {{loss}} loss. {MARKS} Follow"),
                     ('prompt: "The pre-activation z = w·x + b."', f"prompt: 'z {MARKS}'"),
                     ('- "A neuron first forms', f"- 'hint {MARKS}'\n      - \"A neuron first forms"),
                     ('feedback: "The sign is flipped:', f"feedback: 'sign {MARKS}'}}\n      - {{name: x, value: x, feedback: \"")):
        assert old in source, old
        source = source.replace(old, new, 1)
    source = re.sub(r"      - \{name: x, value: x, feedback: .*\n", "", source)  # the rest of the replaced feedback
    source = source.replace('      - "z = w·x + b."\n', "")  # still three hints
    folder = tmp_path / "marked_bank"
    folder.mkdir()
    (folder / "marked.yaml").write_text(source, encoding="utf-8")
    return folder


def shown(result) -> str:
    assert result.exit_code in (0, 1), result.output
    return ANSI.sub("", result.output)


@pytest.mark.parametrize("env", [TERMINAL, PIPED], ids=["terminal", "piped"])
def test_every_command_prints_markup_like_text_as_written(marked, tmp_path, env):
    bank = ("--bank", marked, "--only-bank")
    for args in (("solve", "marked", "--seed", 1), ("bank", "show", "marked", "--seed", 1)):
        result = run(*args, *bank, env=env)
        assert ("\x1b[" in result.stdout) == (env is TERMINAL)  # rich drew it, or the plain text did
        out = shown(result)
        for text in (f"Marked {MARKS}", f"z {MARKS}", f"loss. {MARKS} Follow"):
            assert text in out, (args, text)
    assert f"Marked {MARKS}" in shown(run("bank", "list", *bank, env=env))

    db = tmp_path / "[red] progress.sqlite3"
    session = "hint\n12345\nskip\nskip\nskip\nskip\nskip\n"
    practice = CliRunner().invoke(cli, ["practice", "--template", "marked", "--seed", "1", "--count", "1",
                                        "--db", str(db), *map(str, bank)], input=session, env=env)
    out = shown(practice)
    for text in (f"Marked {MARKS}", f"z {MARKS}", f"hint {MARKS}"):
        assert text in out, text
    fresh = tmp_path / "[bold]x[/bold].sqlite3"
    assert f"No practice saved yet in {fresh}." in shown(run("stats", "--db", fresh, env=env)).replace("\n", "")
    assert "forward_pass" in shown(run("stats", "--db", db, *bank, env=env))

    import json

    key = json.loads(run("solve", "marked", "--seed", 1, "--format", "json", *bank).stdout)
    delta = next(p["answer"] for p in key["parts"] if p["id"] == "delta")
    negated = delta[1:] if delta.startswith("-") else "-" + delta
    assert f"sign {MARKS}" in shown(run("check", "marked", "--seed", 1, "--part", "delta", negated, *bank, env=env))

    out_dir = tmp_path / f"hw {MARKS}"
    roster = tmp_path / "class.csv"
    roster.write_text("id\ns01\n")
    generated = shown(run("generate", "marked", "--roster", roster, "--seed", 1, "--out", out_dir, *bank, env=env))
    assert f"to {out_dir}/" in generated
    answers = tmp_path / "returned"
    answers.mkdir()
    (answers / "s01.yaml").write_text(f"'1.z': '{MARKS}'\n", encoding="utf-8")
    (answers / "[yellow].yaml").write_text("'1.z': '0'\n", encoding="utf-8")
    graded = shown(run("grade", out_dir / "set.json", answers, "--out", tmp_path / "g.csv", *bank, env=env))
    assert f"Marked {MARKS}" in graded and "[yellow]" in graded
    feedback = (tmp_path / "feedback" / "s01.md").read_text(encoding="utf-8")
    assert MARKS in feedback

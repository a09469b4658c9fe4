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

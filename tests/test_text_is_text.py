"""What a learner and an instructor read is what was written: numbers in YAML read as numbers
(`1e-3` too), a template shown as its file, text from files never read as rich markup, and
piped or saved output plain, with prose wrapped and equations whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.cli.app import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args, env=None, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, input=input, catch_exceptions=False)


# --- YAML numbers: one loader, YAML 1.2 floats ---------------------------------------------------


def readme_template() -> str:
    """The template example of the README's "Writing a template", exactly as printed there."""
    section = README.read_text(encoding="utf-8").split("### Writing a template", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_template_example_is_a_valid_template(tmp_path):
    source = readme_template()
    assert "tolerance: {relative: 1e-3}" in source
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "readme_example.yaml").write_text(source, encoding="utf-8")
    result = run("bank", "validate", folder / "readme_example.yaml", "--seeds", 2)
    assert result.exit_code == 0, result.output
    from backprop_tutor.bank.template import load_template

    (part,) = load_template(folder / "readme_example.yaml").parts
    assert part.tolerance == ("relative", 0.001)


@pytest.mark.parametrize("text, value", [("1e-3", 0.001), ("1E5", 100000.0), (".5e2", 50.0), ("-2e+3", -2000.0),
                                         ("+1.5e-1", 0.15), ("1.", 1.0), (".5", 0.5)])
def test_exponents_read_as_numbers(text, value):
    from backprop_tutor.engine import yamlio

    assert yamlio.load(f"x: {text}") == {"x": value}
    assert yamlio.load(f"x: '{text}'") == {"x": text}  # quoted stays text


@pytest.mark.parametrize("text, value", [("12", 12), ("0x1f", 31), ("1_000", 1000), ("1.2.3", "1.2.3"), ("1e", "1e"),
                                         ("e5", "e5"), ("yes", True), ("~", None)])
def test_everything_else_reads_as_safe_load_reads_it(text, value):
    from backprop_tutor.engine import yamlio

    assert yamlio.load(f"x: {text}") == yaml.safe_load(f"x: {text}")
    assert yamlio.load(f"x: {text}") == {"x": value}


def test_yamlio_builds_no_python_objects():
    from backprop_tutor.engine import yamlio

    with pytest.raises(yamlio.YAMLError):
        yamlio.load("!!python/object/apply:os.system ['true']")


def test_a_network_file_with_exponents_is_the_same_network(write_network, example):
    plain = run("solve", "--network", write_network(example, "plain.yaml"), "--format", "json")
    source = write_network(example, "exp.yaml").read_text(encoding="utf-8")
    source = source.replace("0.05", "5e-2").replace("learning_rate: 0.5", "learning_rate: 5E-1")
    assert "5e-2" in source and "5E-1" in source
    exponents = run("solve", "--network", write_network(source, "exp.yaml"), "--format", "json")
    assert exponents.exit_code == 0, exponents.output
    assert exponents.stdout == plain.stdout


def test_an_answer_file_with_an_exponent_is_graded_as_that_number(tmp_path):
    from backprop_tutor.homework.gradebook import read_submission

    path = tmp_path / "s01.yaml"
    path.write_text('"1.a": 1e-3\n"1.b": 2.5E2\n"1.c": "1e-3"\n', encoding="utf-8")
    assert read_submission(path) == {"1.a": 0.001, "1.b": 250.0, "1.c": "1e-3"}


# --- tutor bank show: the file as it is ----------------------------------------------------------


def shipped_templates() -> dict[str, Path]:
    from backprop_tutor.bank.folders import Bank

    return Bank.open().paths()


@pytest.mark.parametrize("columns", ["20", "200"])
def test_bank_show_piped_is_the_file_byte_for_byte(columns):
    for template_id, path in shipped_templates().items():
        result = run("bank", "show", template_id, env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == path.read_bytes(), template_id
        assert yaml.safe_load(result.stdout) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_bank_show_in_a_narrow_terminal_keeps_every_line_of_the_file_whole():
    templates = shipped_templates()
    widest = max(templates, key=lambda t: max(map(len, templates[t].read_text(encoding="utf-8").splitlines())))
    source = templates[widest].read_bytes()
    assert max(map(len, source.decode().splitlines())) > 40  # so a 40-column terminal would cut it
    result = run("bank", "show", widest, "--seed", 1, env={"COLUMNS": "40", "FORCE_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert source in result.stdout_bytes
    assert "A sample problem" in result.stdout  # a person at a terminal still sees one

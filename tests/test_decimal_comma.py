"""A decimal comma (0,5) is explained by one message, wherever the answer is typed: `tutor check`,
`tutor practice` and (in tests/test_homework.py) `tutor grade`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.grading.answers import decimal_comma


def words(text: str) -> str:
    return " ".join(text.split())  # the console wraps at 80 columns


@pytest.mark.parametrize("args", [["mlp_2_2_1", "--seed", "7", "--part", "a2"], ["--expected", "0.5"]])
def test_check_explains_a_decimal_comma_and_it_costs_nothing(args):
    text = CliRunner().invoke(cli, ["check", *args, "0,4668"])
    assert text.exit_code == 2
    assert words(text.output) == f"Invalid: {decimal_comma('0,4668')} (this costs no attempt)"
    as_json = json.loads(CliRunner().invoke(cli, ["check", *args, "--format", "json", " -0,5 "]).output)
    assert as_json["status"] == "invalid" and as_json["feedback"] == decimal_comma("-0,5")


def test_the_message_names_both_spellings():
    assert decimal_comma("-0,25") == "write decimals with a point: -0.25, not -0,25"


def test_practice_explains_a_decimal_comma_the_same_way(tmp_path):
    result = CliRunner().invoke(cli, ["practice", "--template", "mlp_2_2_1", "--seed", "7", "--count", "1",
                                      "--db", str(tmp_path / "p.sqlite3")], input="0,4668\nquit\n")
    assert f"a2> Invalid: {decimal_comma('0,4668')} (this costs no attempt)" in words(result.output)


@pytest.mark.parametrize("answer", ["[0,5]", "max(0,5)", "[0, 5]"])
def test_a_comma_between_entries_or_arguments_is_not_a_decimal_comma(answer):
    result = CliRunner().invoke(cli, ["check", "--expected", "[0, 5]" if "[" in answer else "5", answer])
    assert "write decimals" not in result.output


# --- a decimal comma inside a vector or a formula (issue 12, point 10) -------------------------

def _key_with_commas(template: str, seed: int, part_id: str) -> tuple[str, int]:
    """The part's own key entries written with decimal commas and no space after them, as a
    European learner types them; and how many entries the key has."""
    from backprop_tutor.bank.folders import Bank
    from backprop_tutor.bank.generate import generate

    value = generate(Bank.open().load(template), seed, worked=False).part(part_id).value.approx
    entries = [f"{float(v):.4f}".replace(".", ",") for v in value]
    return "[" + ", ".join(entries) + "]", len(entries)


def test_a_vector_written_with_decimal_commas_is_invalid_not_wrong():
    answer, n = _key_with_commas("relu_hidden_2_3_1", 11, "a1")
    assert n >= 2 and ",," not in answer
    result = CliRunner().invoke(cli, ["check", "relu_hidden_2_3_1", "--seed", "11", "--part", "a1", answer])
    assert result.exit_code == 2
    assert words(result.output) == f"Invalid: {decimal_comma(answer)} (this costs no attempt)"
    # the message points each decimal comma, and only those, to a point
    assert decimal_comma(answer).startswith("write decimals with a point: [") and ", not [" in decimal_comma(answer)
    assert decimal_comma("[0,97, 0, 0,13]") == "write decimals with a point: [0.97, 0, 0.13], not [0,97, 0, 0,13]"


def test_a_formula_with_a_decimal_comma_is_explained():
    result = CliRunner().invoke(cli, ["check", "--expected", "2*x", "0,5x"])
    assert result.exit_code == 2
    assert words(result.output) == f"Invalid: {decimal_comma('0,5x')} (this costs no attempt)"


@pytest.mark.parametrize("expected, answer", [("[1, 2]", "[1,2]"), ("5", "max(0,5)"), ("[[1, 2], [3, 4]]", "[[1,2],[3,4]]")])
def test_commas_that_fit_the_shape_stay_separators(expected, answer):
    result = CliRunner().invoke(cli, ["check", "--expected", expected, answer])
    assert result.exit_code == 0 and result.output.startswith("Correct"), result.output


def test_practice_gives_a_vector_with_decimal_commas_the_same_explanation(tmp_path):
    answer, _ = _key_with_commas("relu_hidden_2_3_1", 11, "a1")
    result = CliRunner().invoke(cli, ["practice", "--template", "relu_hidden_2_3_1", "--seed", "11", "--count", "1",
                                      "--db", str(tmp_path / "p.sqlite3")], input=f"{answer}\nquit\n")
    assert f"Invalid: {decimal_comma(answer)} (this costs no attempt)" in words(result.output)


def test_grade_gives_a_vector_with_decimal_commas_the_same_explanation(tmp_path):
    import csv

    import yaml

    out = tmp_path / "set"
    assert CliRunner().invoke(cli, ["generate", "relu_hidden_2_3_1", "--count", "1", "--seed", "11",
                                    "--out", str(out)]).exit_code == 0
    problem = json.loads((out / "set.json").read_text())["students"][0]["problems"][0]
    answer, _ = _key_with_commas("relu_hidden_2_3_1", problem["seed"], "a1")
    answers = out / "answers" / "s01.yaml"
    answers.write_text(yaml.safe_dump({"1.a1": answer}), encoding="utf-8")
    assert CliRunner().invoke(cli, ["grade", str(out / "set.json"), str(answers),
                                    "--out", str(tmp_path / "g.csv")]).exit_code in (0, 1)
    row = next(r for r in csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8")) if r["part"] == "a1")
    assert row["diagnosis"] == "invalid_answer" and row["score"] == "0"
    from backprop_tutor.worked.render import markdown_text

    feedback = (tmp_path / "feedback" / "s01.md").read_text(encoding="utf-8")
    assert markdown_text(decimal_comma(answer)) in " ".join(feedback.split())  # as Markdown text

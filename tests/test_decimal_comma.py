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

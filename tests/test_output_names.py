"""One name for the network's outputs. The statement's loss line writes them oⱼ (L = −Σⱼ tⱼ ln oⱼ),
so a template that called them pⱼ in its prompts, hints or statement gave the learner two names
for one thing (issue 12, point 7: softmax_regression_3_class said pⱼ and then oⱼ)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.cli.app import cli

# p as an output's name: pⱼ, p₀, p_c, "p = …", "p − t" (not inside a word, not ∂p-free text like "pass")
_P_NAME = re.compile(r"(?<![A-Za-z_])p(?:[ⱼₖ₀-₉]|_[a-z]| = | − )")
_O_NAME = re.compile(r"(?<![A-Za-z_])o(?:[ⱼₖ₀-₉]|_[a-z]| = | − )")


def texts(problem) -> str:
    lines = [problem.statement.text]
    for part in problem.parts:
        lines += [part.prompt, *part.hints]
    return "\n".join(lines)


@pytest.mark.parametrize("template", sorted(Bank.open().paths()))
def test_outputs_have_one_name(template):
    for seed in range(3):
        problem = generate(Bank.open().load(template), seed, worked=False)
        text = texts(problem)
        assert not (_P_NAME.search(text) and _O_NAME.search(text)), (template, seed, _P_NAME.findall(text))


def test_the_softmax_regression_statement_names_its_outputs_once():
    result = CliRunner().invoke(cli, ["solve", "softmax_regression_3_class", "--seed", "1"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0
    statement = result.output[: result.output.index("Questions and answer keys")]  # the problem as posed
    assert "oⱼ" in statement and not _P_NAME.search(statement)

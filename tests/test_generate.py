"""The generator and the shipped bank: every template × several seeds generates, states its
conventions, is deterministic across processes and hash seeds, and matches golden output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.bank.generate import generate
from backprop_tutor.bank.report import problem_json

GOLDEN = Path(__file__).parent / "golden"
TEMPLATES = list(Bank.open().paths())
SEEDS = (0, 1, 7)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_bank_has_at_least_thirteen_templates_across_levels():
    templates = Bank.open().templates()
    assert len(templates) >= 13
    assert {t.level for t in templates} == {1, 2, 3}
    assert {t.kind.name for t in templates} == {"network", "activation", "expression"}


@pytest.mark.parametrize("template_id", TEMPLATES)
@pytest.mark.parametrize("seed", SEEDS)
def test_template_generates_a_sound_problem(template_id, seed):
    template = Bank.open().load(template_id)
    problem = generate(template, seed)
    assert [p.id for p in problem.parts] == [s.id for s in template.parts]
    for part in problem.parts:
        assert part.answer and part.prompt and "{" not in part.prompt
        assert all("{" not in hint for hint in part.hints)
        for text in (part.prompt, *part.hints):  # textbook signs: `+ (−0.4)`, never `+ −0.4` or `+ -0.4`
            assert not re.search(r"[+\-−·×*/]\s*[−-]\d", text), text
    if problem.kind.name == "network":
        loss = problem.solution.network.loss
        statement = problem.statement.text
        assert f"Loss: {loss}," in statement and "mind the constant factor" in statement
        assert "w⁽ˡ⁾ⱼₖ" in statement  # the index convention
    assert problem.steps


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_every_part_has_a_step_that_computes_it(template_id):
    problem = generate(Bank.open().load(template_id), 1)
    for part in problem.parts:
        assert any(step.shows(part.quantity) for step in problem.steps), part.quantity.text


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_seeds_give_different_problems(template_id):
    template = Bank.open().load(template_id)
    prints = {generate(template, seed).fingerprint() for seed in range(10)}
    assert len(prints) == 10


_DUMP = """
import json, sys
from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.bank.report import problem_json
bank = Bank.open()
out = {i: problem_json(generate(bank.load(i), 3)) for i in bank.paths()}
sys.stdout.write(json.dumps(out, sort_keys=True, ensure_ascii=False))
"""


def test_deterministic_across_processes_and_hash_seeds(tmp_path):
    outputs = set()
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        # cwd elsewhere, so the installed package is imported, not the source tree
        result = subprocess.run([sys.executable, "-c", _DUMP], capture_output=True, text=True, env=env, check=True,
                                cwd=tmp_path)
        outputs.add(result.stdout)
    assert len(outputs) == 1


GOLDEN_CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_output(name):
    template_id, seed = re.fullmatch(r"(.+)-seed(\d+)", name).groups()
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(problem_json(generate(Bank.open().load(template_id), int(seed)))))
    assert actual == expected


def test_golden_covers_every_kind():
    kinds = {Bank.open().load(re.fullmatch(r"(.+)-seed\d+", n)[1]).kind.name for n in GOLDEN_CASES}
    assert kinds == {"network", "activation", "expression"}


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "latex"])
def test_solve_template_in_every_format(fmt):
    result = run("solve", "mlp_2_2_1", "--seed", "4", "--format", fmt)
    assert result.exit_code == 0
    assert result.stdout == run("solve", "mlp_2_2_1", "--seed", "4", "--format", fmt).stdout  # byte-identical
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["template"] == "mlp_2_2_1" and data["seed"] == 4
        assert [p["id"] for p in data["parts"]] == ["a2", "delta2", "delta1", "dW1", "db2"]
        assert all(set(p) >= {"id", "prompt", "answer", "skill", "points"} for p in data["parts"])
    if fmt == "text":
        assert "mlp_2_2_1, seed 4" in result.stdout


def test_solve_without_seed_prints_the_seed_it_drew():
    result = run("solve", "mlp_2_2_1", "--format", "json")
    assert result.exit_code == 0
    seed = int(re.fullmatch(r"seed (\d+) \(repeat with --seed \1\)\n", result.stderr)[1])
    assert json.loads(result.stdout)["seed"] == seed
    assert run("solve", "mlp_2_2_1", "--seed", str(seed), "--format", "json").stdout == result.stdout


def test_unknown_template():
    result = run("solve", "mlp_2_1_2", "--seed", "1")
    assert result.exit_code == 2
    assert result.stderr == "Error: unknown template 'mlp_2_1_2' (did you mean 'mlp_2_2_1'?); `tutor bank list` shows them all\n"


def test_bank_list_json_lists_every_template():
    data = json.loads(run("bank", "list", "--format", "json").stdout)
    assert [row["id"] for row in data] == TEMPLATES
    assert all(set(row) == {"id", "title", "kind", "skills", "level"} for row in data)


def test_bank_list_piped_is_one_row_per_template():
    lines = run("bank", "list").stdout.splitlines()
    assert lines[0].split() == ["id", "level", "kind", "title", "skills"]
    assert [line.split()[0] for line in lines[1:]] == TEMPLATES
    assert all(line == line.rstrip() for line in lines)


def test_bank_show_prints_the_template_and_a_sample():
    # The sample is for a person at a terminal; piped, bank show is the file alone (test_text_is_text.py).
    result = CliRunner().invoke(cli, ["bank", "show", "mlp_2_2_1", "--seed", "2"], env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0
    assert "title: Backprop through a 2-2-1 network" in result.stdout and "mlp_2_2_1, seed 2" in result.stdout


def test_custom_bank_alongside_and_instead(tmp_path, monkeypatch):
    source = Bank.open().path("mlp_2_2_1").read_text(encoding="utf-8")
    (tmp_path / "my_problem.yaml").write_text(source.replace("Backprop through a 2-2-1 network", "Mine"), encoding="utf-8")
    ids = [r["id"] for r in json.loads(run("bank", "list", "--bank", str(tmp_path), "--format", "json").stdout)]
    assert "my_problem" in ids and "mlp_2_2_1" in ids
    only = [r["id"] for r in json.loads(run("bank", "list", "--bank", str(tmp_path), "--only-bank", "--format", "json").stdout)]
    assert only == ["my_problem"]
    monkeypatch.setenv("TUTOR_BANK", str(tmp_path))
    assert run("solve", "my_problem", "--seed", "1").exit_code == 0


def test_installed_command_finds_the_shipped_bank_from_another_directory(tmp_path):
    tutor = Path(sys.executable).parent / "tutor"
    if not tutor.exists():
        pytest.skip("the tutor script is not installed beside this Python")
    result = subprocess.run([str(tutor), "bank", "list", "--format", "json"], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert "mlp_2_2_1" in [row["id"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize("count, noun", [(1, "1 student ×"), (2, "2 students ×")])
def test_generate_agrees_its_noun_with_the_number_of_students(tmp_path, count, noun):
    result = CliRunner().invoke(cli, ["generate", "neuron_one_input", "--count", str(count), "--seed", "1",
                                      "--out", str(tmp_path / "hw")])
    assert result.exit_code == 0, result.output
    assert f"files for {noun} 1 problem " in result.output

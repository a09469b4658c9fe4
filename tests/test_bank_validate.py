"""`tutor bank validate`: the shipped bank passes its self-test; broken templates get one
precise line and exit 2; a template whose seeds repeat fails the self-test with exit 1."""

from __future__ import annotations


import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.bank.folders import shipped_bank
from backprop_tutor.cli.app import cli

GOOD = yaml.safe_load((shipped_bank() / "mlp_2_2_1.yaml").read_text(encoding="utf-8"))


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_shipped_bank_passes_its_self_test():
    result = run("bank", "validate")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1].endswith("0 failed the self-test, 0 malformed")


def test_repeating_seeds_fail_the_self_test(tmp_path):
    data = {**GOOD, "parameters": {**GOOD["parameters"], "x": {"choice": [[0.5, -0.5]]}, "t": {"choice": [0.9]},
                                   "W1": {"choice": [[[0.1, 0.2], [0.3, -0.4]]]}, "b1": {"choice": [[0.1, 0.1]]},
                                   "W2": {"choice": [[[0.5, -0.5]]]}, "b2": {"choice": [0.2]},
                                   "act": {"choice": ["tanh"]}}}
    path = tmp_path / "same.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run("bank", "validate", "--seeds", "3", str(path))
    assert result.exit_code == 1
    assert "seeds 0 and 1 give the same problem; widen the parameter ranges" in result.stdout


def _edit(change):
    data = yaml.safe_load(yaml.safe_dump(GOOD, allow_unicode=True))
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _drop(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BROKEN = [
    ("unknown-key", _set(["difficulty"], 2),
     "difficulty: unknown key; allowed: id, title, kind, skills, level, statement, parameters, network, activation, "
     "expression, constraints, parts"),
    ("missing-title", _drop(["title"]), "title: missing (a template needs title, kind, skills, level, parts)"),
    ("level-type", _set(["level"], "hard"), "level: expected 1, 2 or 3, found 'hard'"),
    ("level-range", _set(["level"], 4), "level: expected 1, 2 or 3, found 4"),
    ("kind", _set(["kind"], "netwrok"), "kind: unknown kind 'netwrok' (did you mean 'network'?); use one of network, "
                                        "activation, expression"),
    ("skill", _set(["skills"], ["output_delta", "backprop"]),
     "skills[1]: unknown skill 'backprop'; use one of forward_pass, activation_derivative, chain_rule, loss_derivative, "
     "output_delta, hidden_delta, weight_gradient, bias_gradient, update, finite_difference, vectorized"),
    ("empty-skills", _set(["skills"], []), "skills: expected a non-empty list of skills from: forward_pass"),
    ("empty-choice", _set(["parameters", "act"], {"choice": []}), "parameters.act.choice: expected a non-empty list of options"),
    ("range-order", _set(["parameters", "t"], {"decimal": [0.9, 0.1]}), "parameters.t.decimal: low 0.9 is above high 0.1"),
    ("places", _set(["parameters", "t"], {"decimal": [0.1, 0.9], "places": 9}),
     "parameters.t.places: expected a whole number of decimal places from 0 to 6"),
    ("shape", _set(["parameters", "x"], {"decimal": [-1, 1], "shape": [2, 2, 2]}),
     "parameters.x.shape: expected [n] for a vector or [rows, columns] for a matrix"),
    ("wrong-type", _set(["parameters", "x"], "0.5"),
     "parameters.x: expected a mapping such as {decimal: [-1, 1], places: 2} or {choice: [sigmoid, tanh]}"),
    ("two-kinds", _set(["parameters", "x"], {"decimal": [-1, 1], "choice": [1]}),
     "parameters.x: give exactly one of choice, integer or decimal"),
    ("undefined-ref", _set(["network", "input"], "$xx"),
     "network.input: $xx is not a parameter (did you mean 'x'?); parameters: W1, W2, act, b1, b2, t, x"),
    ("impossible-constraint", lambda d: d.update(constraints={"saturation": [0.4999, 0.5001], "max_draws": 30}),
     "constraints.saturation: no variant satisfied the constraints in 30 draws for seed 0 (saturation failed 30 "
     "times); use smaller weights, or widen/disable constraints.saturation"),
    ("unknown-activation", _set(["network", "layers", 1, "activation"], "sigmoidal"),
     "layers[1].activation: unknown activation 'sigmoidal' (did you mean 'sigmoid'?)"),
    ("softmax-hidden", _set(["network", "layers", 0, "activation"], "softmax"),
     "layers[0].activation: softmax is allowed only on the output (last) layer"),
    ("quantity-layer", _set(["parts", 3, "quantity"], "dW3[0][1]"), "parts.dW1.quantity: 'dW3[0][1]': the network has layers 1 to 2"),
    ("quantity-index", _set(["parts", 2, "quantity"], "delta1[5]"),
     "parts.delta1.quantity: 'delta1[5]': index 5 is out of range (there are 2 entries)"),
    ("quantity-name", _set(["parts", 2, "quantity"], "gradient"), "parts.delta1.quantity: 'gradient' is not a quantity"),
    ("duplicate-part", _set(["parts", 1, "id"], "a2"), "parts[1].id: duplicate part id 'a2'; every part needs its own id"),
    ("part-skill", _set(["parts", 0, "skill"], "update"),
     "parts[0].skill: 'update' is not among the template's skills (forward_pass, output_delta, hidden_delta, "
     "weight_gradient, bias_gradient); add it there"),
    ("too-many-hints", _set(["parts", 0, "hints"], ["a", "b", "c", "d"]),
     "parts[0].hints: expected up to 3 hints, from the rule to the formula to the numbers"),
    ("tolerance", _set(["parts", 0, "tolerance"], {"percent": 1}),
     "parts[0].tolerance: expected one of {relative: 1e-3}, {absolute: 0.001}, {sigfigs: 3}"),
    ("mistake-feedback", _set(["parts", 1, "mistakes"], [{"value": "-delta2[0]"}]), "parts[1].mistakes[0]: needs both value and feedback"),
    ("id-differs", _set(["id"], "other_name"), "id: 'other_name' differs from the file name; the id is the file stem, 'broken' (or leave id out)"),
    ("placeholder", _set(["parts", 0, "prompt"], "What is {nonsense}?"), "parts.a2.prompt: {nonsense} is neither a parameter nor a quantity"),
    ("missing-section", _drop(["network"]), "network: missing: a network template describes its network here"),
]


@pytest.mark.parametrize("name,change,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_template_gets_one_precise_line(tmp_path, name, change, message):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(_edit(change), allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = run("bank", "validate", str(path))
    assert result.exit_code == 2
    line = next(l for l in result.stdout.splitlines() if l.startswith("invalid"))
    assert str(path) in line and message in line, line
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name,text,message", [
    ("syntax", "title: x\nkind: [network\n", "not valid YAML (line 3, column 1:"),
    ("empty", "", "the file is empty; a template needs title, kind, skills, level, parts"),
    ("list", "- a\n- b\n", "expected a mapping with keys title, kind, skills, level, parts, found a list"),
])
def test_unreadable_template_files(tmp_path, name, text, message):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("bank", "validate", str(path))
    assert result.exit_code == 2 and message in result.stdout


def test_a_broken_template_does_not_stop_the_others(tmp_path):
    (tmp_path / "good.yaml").write_text((shipped_bank() / "mlp_2_2_1.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("title: [", encoding="utf-8")
    result = run("bank", "validate", "--seeds", "3", str(tmp_path))
    assert result.exit_code == 2
    assert "ok       good" in result.stdout and "invalid" in result.stdout


def test_solve_with_a_broken_template_is_one_line(tmp_path):
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(_edit(_set(["level"], 9))), encoding="utf-8")
    result = run("solve", "broken", "--seed", "1", "--bank", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1

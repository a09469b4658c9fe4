"""`tutor bank validate` on broken templates: exit code 2, one line that names the file, the key
and the fix, and never a traceback.

Complements tests/test_bank_validate.py (which edits a copy of the shipped mlp_2_2_1 template): the
templates here are small self-contained network, activation and expression templates, so these
tests do not change when the shipped bank does, and they cover the keys that file does not —
integer ranges, shapes, constraints, part fields, mistakes, quantities of every kind, the
activation and expression sections, and files that are not templates at all.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from backprop_tutor.cli.app import cli

NETWORK = {
    "title": "A 2-2-1 network",
    "kind": "network",
    "level": 2,
    "skills": ["forward_pass", "output_delta", "hidden_delta", "weight_gradient"],
    "parameters": {
        "act": {"choice": ["sigmoid", "tanh"]},
        "x": {"decimal": [-1, 1], "places": 1, "nonzero": True, "shape": [2]},
        "t": {"decimal": [0.1, 0.9], "places": 1},
        "W1": {"decimal": [-1, 1], "places": 1, "nonzero": True, "shape": [2, 2]},
        "W2": {"decimal": [-1, 1], "places": 1, "nonzero": True, "shape": [1, 2]},
    },
    "network": {
        "input": "$x",
        "target": ["$t"],
        "layers": [{"activation": "$act", "weights": "$W1"}, {"activation": "sigmoid", "weights": "$W2"}],
        "loss": "half_sse",
        "learning_rate": 0.5,
    },
    "parts": [
        {"id": "o", "prompt": "The output o.", "quantity": "a2[0]", "skill": "forward_pass",
         "hints": ["Forward pass.", "o = σ(z).", "z = {z2[0]}."]},
        {"id": "delta2", "prompt": "δ⁽²⁾₀.", "quantity": "delta2[0]", "skill": "output_delta",
         "mistakes": [{"name": "error_sign", "value": "-delta2[0]", "feedback": "The sign is flipped."}]},
        {"id": "delta1", "prompt": "δ⁽¹⁾.", "quantity": "delta1", "skill": "hidden_delta"},
        {"id": "dW1", "prompt": "∂L/∂w⁽¹⁾₀₁.", "quantity": "dW1[0][1]", "skill": "weight_gradient"},
    ],
}

ACTIVATION = {
    "title": "An activation at a point",
    "kind": "activation",
    "level": 1,
    "skills": ["activation_derivative"],
    "parameters": {"f": {"choice": ["sigmoid", "tanh"]}, "z0": {"decimal": [-2, 2], "places": 2, "nonzero": True}},
    "activation": {"function": "$f", "point": "$z0"},
    "parts": [{"id": "slope", "prompt": "f′(z0).", "quantity": "derivative_at", "skill": "activation_derivative"}],
}

EXPRESSION = {
    "title": "The chain rule",
    "kind": "expression",
    "level": 1,
    "skills": ["chain_rule"],
    "parameters": {"w": {"decimal": [-1, 1], "places": 1, "nonzero": True},
                   "x": {"decimal": [-2, 2], "places": 1, "nonzero": True}},
    "expression": {"text": "tanh(w*x)", "at": {"w": "$w", "x": "$x"}},
    "parts": [{"id": "dw", "prompt": "∂f/∂w.", "quantity": "grad[w]", "skill": "chain_rule"}],
}

DROP = object()


def edit(base: dict, *changes) -> str:
    """A copy of `base` with each (path, value) applied (value DROP deletes the key), as YAML."""
    data = copy.deepcopy(base)
    for path, value in changes:
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def validate(path: Path):
    return CliRunner().invoke(cli, ["bank", "validate", str(path)])


def invalid_line(result, path: Path) -> str:
    """The run printed exactly one `invalid` line, for this file, then the summary."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines
    assert lines[1] == "1 template: 0 ok, 0 failed the self-test, 1 malformed"
    prefix = f"invalid  {path}: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0][len(prefix):]


ACTIVATION_NAMES = "identity, sigmoid, tanh, relu, leaky_relu, softplus, elu, silu, gelu, gelu_tanh, step"

# (name, template text, the message after "FILE: "). The whole line is compared, except where the
# message ends with "…": then it is a prefix (the rest lists a registry that may grow).
PRECISE = [
    # --- parameters
    ("integer-low-above-high", edit(NETWORK, (["parameters", "n"], {"integer": [5, 1]})),
     "parameters.n.integer: low 5 is above high 1"),
    ("integer-not-whole", edit(NETWORK, (["parameters", "n"], {"integer": [0.5, 3]})),
     "parameters.n.integer: expected two whole numbers [low, high]"),
    ("range-not-a-pair", edit(NETWORK, (["parameters", "t"], {"decimal": [0.1]})),
     "parameters.t.decimal: expected [low, high], two numbers"),
    ("shape-too-big", edit(NETWORK, (["parameters", "x", "shape"], [65])),
     "parameters.x.shape[0]: expected a size from 1 to 64, or $name of an earlier parameter"),
    ("shape-refers-to-a-later-parameter",
     edit(NETWORK, (["parameters", "x", "shape"], ["$n"]), (["parameters", "n"], {"choice": [2]})),
     "parameters.x.shape[0]: expected a size from 1 to 64, or $name of an earlier parameter"),
    ("places-on-a-choice", edit(NETWORK, (["parameters", "act", "places"], 2)),
     "parameters.act.places: only a decimal parameter has places"),
    ("nonzero-not-boolean", edit(NETWORK, (["parameters", "x", "nonzero"], "yes please")),
     "parameters.x.nonzero: expected true or false"),
    ("parameter-name", edit(NETWORK, (["parameters", "2x"], {"choice": [1]})),
     "parameters.2x: a parameter name is a letter followed by letters, digits or _"),
    ("parameters-not-a-mapping", edit(NETWORK, (["parameters"], ["x", "t"])),
     "parameters: expected a mapping of name → {choice | integer | decimal …}"),
    ("parameter-unknown-key", edit(NETWORK, (["parameters", "t", "step"], 0.1)),
     "parameters.t.step: unknown key; allowed: choice, integer, decimal, places, nonzero, shape"),
    # --- top level
    ("skills-not-a-list", edit(NETWORK, (["skills"], "forward_pass")),
     "skills: expected a non-empty list of skills from: forward_pass, activation_derivative, …"),
    ("title-a-number", edit(NETWORK, (["title"], 42)), "title: expected text, found the number 42"),
    ("section-of-another-kind", edit(NETWORK, (["activation"], {"function": "sigmoid", "point": 1})),
     "activation: belongs to kind activation, but this template is kind network"),
    ("statement-placeholder", edit(NETWORK, (["statement"], "A {activation} network.")),
     "statement: {activation} is not a parameter"),
    # --- constraints
    ("constraint-unknown-key", edit(NETWORK, (["constraints"], {"margin": 0.1})),
     "constraints.margin: unknown key (did you mean 'kink_margin'?); allowed: kink_margin, saturation, "
     "nonzero_answers, loss, max_draws"),
    ("saturation-order", edit(NETWORK, (["constraints"], {"saturation": [0.9, 0.1]})),
     "constraints.saturation: expected [low, high] with 0 ≤ low < high ≤ 1, or false to allow saturation"),
    ("max-draws-zero", edit(NETWORK, (["constraints"], {"max_draws": 0})),
     "constraints.max_draws: expected a whole number from 1 to 10000"),
    ("loss-range-negative", edit(NETWORK, (["constraints"], {"loss": [-1, 5]})),
     "constraints.loss: expected [low, high] with 0 ≤ low < high"),
    ("kink-margin-negative", edit(NETWORK, (["constraints"], {"kink_margin": -0.1})),
     "constraints.kink_margin: expected a number ≥ 0 (how far every z must stay from a kink)"),
    ("nonzero-answers-not-boolean", edit(NETWORK, (["constraints"], {"nonzero_answers": "sometimes"})),
     "constraints.nonzero_answers: expected true or false"),
    ("impossible-saturation-at-a-point",
     edit(ACTIVATION, (["parameters", "f"], {"choice": ["sigmoid"]}),
          (["parameters", "z0"], {"decimal": [8, 9], "places": 1}), (["constraints"], {"max_draws": 10})),
     "constraints.saturation: no variant satisfied the constraints in 10 draws for seed 0 (saturation failed 10 "
     "times); use smaller weights, or widen/disable constraints.saturation"),
    # --- parts
    ("parts-empty", edit(NETWORK, (["parts"], [])),
     "parts: expected a non-empty list of parts, each with id, prompt, quantity and skill"),
    ("part-without-quantity", edit(NETWORK, (["parts", 0, "quantity"], DROP)),
     "parts[0].quantity: missing (a part needs id, prompt, quantity and skill)"),
    ("part-unknown-key", edit(NETWORK, (["parts", 0, "answer"], "0.5")),
     "parts[0].answer: unknown key; allowed: id, prompt, quantity, skill, points, tolerance, hints, mistakes, "
     "may_be_zero, where"),
    ("part-id-with-a-space", edit(NETWORK, (["parts", 0, "id"], "part one")),
     "parts[0].id: expected a short name of letters, digits and _ (it is typed in answer files)"),
    ("points-zero", edit(NETWORK, (["parts", 0, "points"], 0)), "parts[0].points: expected a number from 0.01 to 1000, found 0"),
    ("tolerance-negative", edit(NETWORK, (["parts", 0, "tolerance"], {"relative": -0.01})),
     "parts[0].tolerance.relative: expected a number of at least 1e-12, found -0.01"),
    ("sigfigs-not-whole", edit(NETWORK, (["parts", 0, "tolerance"], {"sigfigs": 2.5})),
     "parts[0].tolerance.sigfigs: expected a whole number from 1 to 15, found 2.5"),
    ("may-be-zero-not-boolean", edit(NETWORK, (["parts", 0, "may_be_zero"], "no")),
     "parts[0].may_be_zero: expected true or false"),
    ("mistake-unknown-key",
     edit(NETWORK, (["parts", 1, "mistakes"], [{"value": "-delta2[0]", "feedback": "Flipped.", "hint": "y"}])),
     "parts[1].mistakes[0].hint: unknown key; allowed: value, feedback, name"),
    ("mistake-name-not-a-slip",
     edit(NETWORK, (["parts", 1, "mistakes"], [{"value": "-delta2[0]", "feedback": "Flipped.", "name": "error_sing"}])),
     "parts[1].mistakes[0].name: 'error_sing' is not a slip of the catalogue (did you mean 'error_sign'?); use one of "
     "forgot_bias, forgot_activation, forgot_activation_slope, slope_at_activation, activation_for_slope, "
     "slope_sign_flipped, sech_not_squared, loss_half_missing, error_sign, kept_power_two, dropped_power_two, "
     "dropped_mean, softmax_jacobian_dropped, weights_not_transposed, dropped_fanout_term, "
     "updated_weights_in_backward, swapped_indices, preactivation_for_activation, wrong_layer_activation, "
     "forgot_input_factor, update_sign, forgot_learning_rate, derivative_not_ratio, forgot_weight_decay, momentum_sign, "
     "adam_no_bias_correction, swapped_inputs, dropped_chain_weight, summed_not_averaged, one_example_only…"),  # the catalogue grows (conv1d, …)
    ("mistake-without-a-name",
     edit(NETWORK, (["parts", 1, "mistakes"], [{"value": "-delta2[0]", "feedback": "Flipped."}])),
     "parts[1].mistakes[0].name: missing; name the mistake with a slip of the catalogue (docs/rules-and-slips.md), "
     "e.g. error_sign"),
    ("mistake-name-twice",
     edit(NETWORK, (["parts", 1, "mistakes"], [{"value": "-delta2[0]", "feedback": "Flipped.", "name": "error_sign"},
                                               {"value": "2*delta2[0]", "feedback": "Doubled.",
                                                "name": "error_sign"}])),
     "parts[1].mistakes[1].name: 'error_sign' is already the name of another mistake of this part"),
    ("mistake-not-a-mapping", edit(NETWORK, (["parts", 1, "mistakes"], ["-delta2[0]"])),
     "parts[1].mistakes[0]: expected {value: EXPRESSION over quantities, feedback: TEXT}"),
    ("mistake-quantity-the-network-lacks",
     edit(NETWORK, (["parts", 1, "mistakes"], [{"value": "-delta3[0]", "feedback": "Wrong layer.",
                                                "name": "error_sign"}])),
     "parts.delta2.mistakes: 'delta3[0]': the network has layers 1 to 2"),
    ("quantity-refers-to-an-undefined-parameter", edit(NETWORK, (["parts", 3, "quantity"], "nudge(W2[0][1], $h)")),
     "parts[3].quantity: $h is not a parameter; parameters: W1, W2, act, t, x"),
    ("hint-placeholder", edit(EXPRESSION, (["parts", 0, "hints"], ["{grad[y]}"])),
     "parts.dw.hints: {grad[y]} is neither a parameter nor a quantity"),
    # --- network quantities
    ("fprime-of-softmax",
     edit(NETWORK, (["network", "layers", 1], {"activation": "softmax", "weights": [[0.5, -0.5], [0.3, 0.2]]}),
          (["network", "target"], [1, 0]), (["network", "loss"], "cross_entropy"),
          (["parts", 0, "quantity"], "fprime2[0]")),
     "parts.o.quantity: 'fprime2[0]': softmax has a Jacobian, not one f′ per unit; ask for delta instead"),
    ("updated-delta", edit(NETWORK, (["parts", 3, "quantity"], "delta1_new[0]")),
     "parts.dW1.quantity: 'delta1_new[0]': only W and b have an updated value (_new)"),
    ("nudge-a-missing-weight", edit(NETWORK, (["parts", 3, "quantity"], "nudge(W2[0][5], 0.01)")),
     "parts.dW1.quantity: 'W2[0][5]': index 5 is out of range (there are 2 entries)"),
    ("nudge-by-zero", edit(NETWORK, (["parts", 3, "quantity"], "nudge(W2[0][1], 0)")),
     "parts.dW1.quantity: 'nudge(W2[0][1], 0)': the step h must be a nonzero decimal number, e.g. 0.01"),
    ("too-many-indices", edit(NETWORK, (["parts", 3, "quantity"], "dW1[0][1][0]")),
     "parts.dW1.quantity: 'dW1[0][1][0]': too many indices (dW1 is a matrix: two indices)"),
    # --- the network section, after substitution
    ("unknown-activation-among-the-choices", edit(NETWORK, (["parameters", "act"], {"choice": ["swish"]})),
     "parameters.act.choice[0]: 'swish' is not an activation; use one of identity, sigmoid, …"),
    ("network-without-target", edit(NETWORK, (["network", "target"], DROP)),
     "network (seed 0): target: missing; add `target: [0.01, 0.99]`"),
    ("weights-of-the-wrong-shape", edit(NETWORK, (["network", "layers", 1, "weights"], [[0.1, 0.2, 0.3]])),
     "network (seed 0): layers[1].weights: rows have 3 entries but layers[0] has 2 units; weights[j][k] goes "
     "from unit k below to unit j of this layer"),
    ("unknown-loss", edit(NETWORK, (["network", "loss"], "l2")),
     "network (seed 0): loss: unknown loss 'l2'; use one of half_sse, sse, mse, bce, cross_entropy"),
    # --- activation and expression templates
    ("activation-without-point", edit(ACTIVATION, (["activation"], {"function": "$f"})),
     "activation: expected {function: NAME, point: NUMBER}"),
    ("activation-asked-for-a-network-quantity", edit(ACTIVATION, (["parts", 0, "quantity"], "delta1[0]")),
     "parts.slope.quantity: 'delta1[0]' is not a quantity of an activation problem; use value, derivative_at "
     "or derivative"),
    ("expression-gradient-of-a-missing-variable", edit(EXPRESSION, (["parts", 0, "quantity"], "grad[b]")),
     "parts.dw.quantity: 'grad[b]' is not a quantity of this expression; use value or one of grad[w], grad[x]"),
    ("skill-listed-but-no-part-practises-it", edit(ACTIVATION, (["skills"], ["activation_derivative", "update"])),
     "skills: 'update' is listed but no part practises it; add a part with that skill or remove it"),
    # --- intermediates a part's answer may be written in
    ("where-not-a-mapping", edit(ACTIVATION, (["parts", 0, "where"], ["a"])),
     'parts[0].where: expected a mapping of names to expressions, e.g. {a: "sigmoid(z)"}'),
    ("where-names-a-function", edit(ACTIVATION, (["parts", 0, "where"], {"tanh": "tanh(z)"})),
     "parts[0].where.tanh: 'tanh' is a function or constant a learner may type; choose another name"),
    ("where-on-a-numeric-part-names-no-number", edit(ACTIVATION, (["parts", 0, "where"], {"a": "{f}(z)"})),
     "parts.slope.where.a: 'sigmoid(z)' is not a number of this problem (unknown name 'z' at position 9 "
     "(a number is expected here; no variables)); name a quantity or parameter in braces, e.g. o: \"{a1[0]}\""),
    ("where-not-an-expression-in-the-variables",
     edit(ACTIVATION, (["parts", 0, "quantity"], "derivative"), (["parts", 0, "where"], {"a": "{f}(y)"})),
     "parts.slope.where.a: 'sigmoid(y)' is not an expression in z: unknown name 'y' at position 9; …"),
    ("expression-section-not-a-mapping", edit(EXPRESSION, (["expression"], "tanh(w*x)")),
     "expression: expected {text: EXPRESSION, at: {variable: value, …}}"),
]


def _check(line: str, message: str) -> None:
    if message.endswith("…"):
        assert line.startswith(message[:-1]), line
    else:
        assert line == message, line


@pytest.mark.parametrize("name,text,message", PRECISE, ids=[c[0] for c in PRECISE])
def test_broken_template_gets_one_precise_line(tmp_path, name, text, message):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    _check(invalid_line(validate(path), path), message)


def test_the_base_templates_are_good(tmp_path):
    """The three bases validate, so each broken case is broken by its own change alone."""
    for name, base in (("network", NETWORK), ("activation", ACTIVATION), ("expression", EXPRESSION)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(edit(base), encoding="utf-8")
        result = CliRunner().invoke(cli, ["bank", "validate", "--seeds", "3", str(path)])
        assert result.exit_code == 0, result.output


# Exit 2, one line naming the file and the key, no traceback; messages that embed a drawn value
# or a long list are pinned by their gist.
IMPRECISE = [
    ("title-empty", edit(NETWORK, (["title"], "")), "title: is empty; write the text"),
    ("hint-empty", edit(NETWORK, (["parts", 0, "hints"], ["fine", ""])), "parts[0].hints[1]: is empty; write the hint, or remove it"),
    ("activation-unknown-function", edit(ACTIVATION, (["activation", "function"], "swish")),
     "unknown activation 'swish'; use one of " + ACTIVATION_NAMES),
    ("activation-point-not-a-number", edit(ACTIVATION, (["activation", "point"], "near zero")),
     "expected a number, found 'near zero'"),
    ("expression-at-unused-variable", edit(EXPRESSION, (["expression", "at", "b"], 0.5)),
     "expression.at: 'b' is not in the expression; leave it out"),
    ("expression-at-missing-variable", edit(EXPRESSION, (["expression", "at"], {"w": "$w"})),
     "expression.at: no value for 'x'; give it one, e.g. x=0.5 in expression.at"),
    ("expression-syntax", edit(EXPRESSION, (["expression", "text"], "tanh(w*x")), "expression (seed 0): "),
    ("expression-unknown-function", edit(EXPRESSION, (["expression", "text"], "swish(w*x)")), "unknown function 'swish'"),
]


@pytest.mark.parametrize("name,text,gist", IMPRECISE, ids=[c[0] for c in IMPRECISE])
def test_broken_template_is_one_line_even_where_the_wording_is_vague(tmp_path, name, text, gist):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    assert gist in invalid_line(validate(path), path)


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("title: Gradient für alle\n".encode("latin-1"))
    assert invalid_line(validate(path), path) == "not a text file (it is not UTF-8)"


def test_a_file_too_large_to_be_a_template(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * 25_000, encoding="utf-8")
    assert invalid_line(validate(path), path) == "larger than 200 kB, the limit for a template"


def test_a_scalar_file(tmp_path):
    path = tmp_path / "scalar.yaml"
    path.write_text("just some text\n", encoding="utf-8")
    assert invalid_line(validate(path), path) == (
        "expected a mapping with keys title, kind, skills, level, parts, found the text 'just some text'")


def test_a_yaml_error_names_its_line(tmp_path):
    path = tmp_path / "tabs.yaml"
    path.write_text("title: ok\nkind: network\nskills:\n\t- forward_pass\n", encoding="utf-8")
    line = invalid_line(validate(path), path)
    assert line.startswith("not valid YAML (line 4, column 1: "), line


def test_a_comment_only_file_is_empty(tmp_path):
    path = tmp_path / "comments.yaml"
    path.write_text("# a template, one day\n", encoding="utf-8")
    assert invalid_line(validate(path), path) == (
        "the file is empty; a template needs title, kind, skills, level, parts")

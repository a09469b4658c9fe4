"""The slip matrix: every slip of docs/rules-and-slips.md, in every scope it can be made in, on
every network template of the bank, is diagnosed by name wherever it shows up.

The slipped answers come from tests/reference_backprop.py, an independent double-precision
pass written from the specification (it imports nothing of the engine or the grader); the
first tests check that reference against the engine's correct values.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import reference_backprop as R
from backprop_tutor.grading.grade import grade_part
from matrix_cases import BANK, NETWORK_TEMPLATES, SEEDS, network, numeric_parts, problem, quantity, slip_runs



def template_mistakes(template_id: str, seed: int, part) -> list[tuple[str, object]]:
    """The template's own mistakes of a part: (the name a grader reports, the reference's value)."""
    spec = next(s for s in BANK.load(template_id).parts if s.id == part.id)
    correct = R.evaluate(network(problem(template_id, seed)))
    return [(m.name, R.expression_value(correct, f"({m.scale})*{m.quantity}"))
            for i, m in enumerate(spec.mistakes)]


def case(template_id, seed, part) -> str:
    return f"{template_id} seed {seed} part {part.id} ({quantity(part)})"


# --- the reference agrees with the engine ----------------------------------------------------

@pytest.mark.parametrize("template_id", NETWORK_TEMPLATES)
def test_reference_matches_the_engine_on_every_part(template_id):
    for seed in (*SEEDS, 3, 4):
        p = problem(template_id, seed)
        correct = R.evaluate(network(p))
        for part in numeric_parts(p):
            mine, engine = R.value(correct, quantity(part)), R.as_floats(part.value.approx)
            assert R.same(mine, engine, rel=1e-9), f"{case(template_id, seed, part)}: reference {mine}, engine {engine}"


def _network(hidden: str, output: str, loss: str) -> dict:
    units = 3 if output == "softmax" else 2
    target = [0.0, 1.0, 0.0] if output == "softmax" else [0.0, 1.0] if loss == "bce" else [0.3, -0.4]
    hidden_layer = {"activation": hidden, "weights": [[0.4, -0.6], [-0.9, 0.3], [0.7, 0.5]], "bias": [0.1, -0.2, 0.3]}
    output_layer = {"activation": output, "weights": [[0.5, -0.7, 0.2], [-0.3, 0.8, 0.6], [0.9, -0.2, -0.5]][:units],
                    "bias": [0.05, -0.15, 0.1][:units]}
    return {"input": [0.6, -0.9], "target": target, "layers": [hidden_layer, output_layer], "loss": loss,
            "learning_rate": 0.3}


@pytest.mark.parametrize("activation", R.ELEMENTWISE)
def test_reference_matches_the_engine_for_every_activation_and_loss(activation, tmp_path):
    """Beyond the bank: each activation (hidden z on both sides of 0) under each loss, against
    `tutor solve --network … --format json` (the public contract)."""
    from backprop_tutor.cli.app import cli

    for output, loss in [(activation, "half_sse"), (activation, "sse"), (activation, "mse"), ("sigmoid", "bce"),
                         ("softmax", "cross_entropy")]:
        net = _network(activation, output, loss)
        path = tmp_path / f"{output}-{loss}.json"
        path.write_text(json.dumps(net), encoding="utf-8")
        result = CliRunner().invoke(cli, ["solve", "--network", str(path), "--format", "json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        mine = R.evaluate(net)
        engine = {**data["activations"], **data["preactivations"], **data["deltas"], "loss": data["loss"],
                  "loss_after": data["loss_after"]}
        engine.update({f"d{name}": v for name, v in data["gradients"].items()})
        engine.update({f"{name}_new": v for name, v in data["updated"].items()})
        for name, v in engine.items():
            assert R.same(R.value(mine, name), v, rel=1e-9), \
                f"{activation}/{output}/{loss}: {name}: reference {R.value(mine, name)}, engine {v}"


def test_reference_slips_by_hand():
    """A few slipped values worked by hand on PRODUCT.md's 2-2-2 example, so that the reference's
    slips are checked against something other than itself."""
    from conftest import EXAMPLE

    correct = R.evaluate(EXAMPLE)
    o, t = R.value(correct, "a2"), EXAMPLE["target"]
    assert R.value(R.evaluate(EXAMPLE, "error_sign"), "delta2[0]") == pytest.approx(-correct["delta2[0]"])
    assert R.value(R.evaluate(EXAMPLE, "forgot_activation_slope", 2), "delta2") == pytest.approx(
        [oj - tj for oj, tj in zip(o, t)])
    assert R.evaluate(EXAMPLE, "kept_power_two")["dW1[0][1]"] == pytest.approx(2 * correct["dW1[0][1]"])
    swapped = R.evaluate(EXAMPLE, "swapped_indices", 2)
    assert swapped["dW2[0][1]"] == pytest.approx(correct["delta2[1]"] * correct["a1[0]"])
    transposed = R.evaluate(EXAMPLE, "weights_not_transposed", 1)
    W2 = EXAMPLE["layers"][1]["weights"]
    assert transposed["delta1[0]"] == pytest.approx(
        correct["fprime1[0]"] * (W2[0][0] * correct["delta2[0]"] + W2[0][1] * correct["delta2[1]"]))
    updated = R.evaluate(EXAMPLE, "updated_weights_in_backward", 1)
    assert updated["delta1[1]"] == pytest.approx(
        correct["fprime1[1]"] * sum(correct[f"W2_new[{j}][1]"] * correct[f"delta2[{j}]"] for j in range(2)))
    assert R.evaluate(EXAMPLE, "forgot_learning_rate", 1)["b1_new[0]"] == pytest.approx(0.35 - correct["db1[0]"])
    assert R.evaluate(EXAMPLE, "loss_half_missing")["loss"] == pytest.approx(2 * correct["loss"])
    assert R.scopes(EXAMPLE, "dropped_mean") == [] and R.scopes(EXAMPLE, "sech_not_squared") == []
    assert R.scopes(EXAMPLE, "forgot_bias") == [1, 2, "all"] and R.scopes(EXAMPLE, "error_sign") == [None]
    with pytest.raises(R.NotApplicable):
        R.evaluate(EXAMPLE, "preactivation_for_activation", 1)
    # overrides: a learner's a1[0] changes z2 and (sigmoid) fprime1[0], and nothing upstream
    moved = R.evaluate(EXAMPLE, overrides={"a1[0]": 0.5})
    assert moved["z1[0]"] == correct["z1[0]"] and moved["fprime1[0]"] == 0.25
    assert moved["z2[0]"] == pytest.approx(correct["z2[0]"] + 0.40 * (0.5 - correct["a1[0]"]))
    assert R.nudge(EXAMPLE, "W1[0][0]", 1e-6) == pytest.approx(correct["dW1[0][0]"], rel=1e-4)


def test_template_mistake_names_are_catalogue_names():
    """docs/rules-and-slips.md: a template's own mistake is named after a catalogue slip (or one
    of the few names without a rule), because the name is the diagnosis a gradebook shows."""
    allowed = set(R.CATALOGUE) | set(R.OTHER_MISTAKE_NAMES)
    wrong = [f"{t.id} part {spec.id}: {m.name or '(unnamed)'}"
             for t in BANK.templates() for spec in t.parts for m in spec.mistakes if m.name not in allowed]
    assert not wrong, "mistake names outside the catalogue:\n" + "\n".join(wrong)


# --- the matrix ------------------------------------------------------------------------------

@pytest.mark.parametrize("template_id", NETWORK_TEMPLATES)
def test_every_slip_is_diagnosed_wherever_it_shows(template_id):
    """For each seed, slip, scope and numeric part: the slipped answer scores 0 and is diagnosed
    as that slip, or as any slip/scope or template mistake of the part that gives the same
    answer within tolerance (the grader cannot tell those apart). The key is correct."""
    failures = []
    for seed in SEEDS:
        p = problem(template_id, seed)
        runs = slip_runs(template_id, seed)
        for part in numeric_parts(p):
            q, tol = quantity(part), part.tolerance
            key = R.as_floats(part.value.approx)
            result = grade_part(p, part.id, part.answer)
            if result.status != "correct" or result.diagnosis is not None or result.score != part.points:
                failures.append(f"{case(template_id, seed, part)}: the key {part.answer} graded {result.status}, "
                                f"score {result.score}, diagnosis {result.diagnosis}")
            values = {made: R.value(r, q) for made, r in runs.items()}
            mistakes = template_mistakes(template_id, seed, part)
            answers: dict[str, tuple[object, list]] = {}
            for made, v in values.items():
                if R.complete(v) and not R.close(v, key, tol):
                    answers.setdefault(R.answer_text(v), (v, []))[1].append(made)
            for text, (v, made_by) in answers.items():
                aliases = {slip for (slip, _), w in values.items() if R.complete(w) and R.close(v, w, tol)}
                aliases |= {name for name, w in mistakes if R.complete(w) and R.close(v, w, tol)}
                result = grade_part(p, part.id, text)
                ok = result.status == "incorrect" and result.score == 0 and result.diagnosis in aliases
                if not ok:
                    slips = ", ".join(f"{slip}@{scope}" for slip, scope in made_by)
                    failures.append(f"{case(template_id, seed, part)}: {slips} gives {text}: graded {result.status}, "
                                    f"score {result.score}, diagnosis {result.diagnosis!r}; expected one of "
                                    f"{sorted(aliases)}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:60])

"""Deep chains of 1-unit layers: the engine's gradients against a 50-digit central difference of a
loss written out here by hand (mpmath, not the engine's rules); the worked chain step's table
against the engine; the vanishing lesson's claims on its numbers; `tutor why --vanishing` against
a golden file, piped (prose wrapped at 80 columns).

Regenerate the golden after a deliberate change with TUTOR_UPDATE_GOLDEN=1."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine.chain import is_deep_chain
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.learner.vanishing import MIN_RATIO, vanishing
from backprop_tutor.worked.deep_chain import chain_rows, chain_step, compared, with_activation
from backprop_tutor.worked.network import network_steps

GOLDEN = Path(__file__).parent / "golden" / "why-vanishing-seed1-80.txt"
H = mpmath.mpf("1e-15")
REL = 1e-9

# f written out for mpmath, independently of engine/activations.py
_F = {"sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)), "tanh": mpmath.tanh, "relu": lambda z: max(z, mpmath.mpf(0))}


def _chain(activation: str, depth: int, seed: int) -> dict:
    rng = random.Random(seed)

    def d(low, high):
        return str(sp.Rational(rng.randint(low, high), 10))

    layers = [{"activation": activation, "weights": [[d(-15, 15) or "1"]], "bias": [d(-5, 5)]} for _ in range(depth)]
    return {"input": [d(2, 10)], "target": [d(-5, 5)], "layers": layers, "loss": "half_sse", "learning_rate": "0.1"}


def _loss(data: dict, moved: tuple[str, int] | None = None, h=0) -> mpmath.mpf:
    """½(t − o)² of the chain by hand, with weight ("W", l) or bias ("b", l) moved by h."""
    a = mpmath.mpf(sp.Rational(data["input"][0]).p) / sp.Rational(data["input"][0]).q
    for l, layer in enumerate(data["layers"], 1):
        w, b = (mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q for v in (layer["weights"][0][0], layer["bias"][0]))
        w += h if moved == ("W", l) else 0
        b += h if moved == ("b", l) else 0
        a = _F[layer["activation"]](w * a + b)
    t = sp.Rational(data["target"][0])
    return (mpmath.mpf(t.p) / t.q - a) ** 2 / 2


def _close(engine, reference) -> bool:
    return abs(engine - reference) <= REL * max(abs(reference), mpmath.mpf("1e-40"))


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("depth", [4, 6, 10])
def test_every_gradient_agrees_with_a_50_digit_central_difference(activation, depth):
    for seed in range(3):
        data = _chain(activation, depth, seed)
        sol = solve_network(network_from_dict(data, "test"))
        assert is_deep_chain(sol.network)
        with mpmath.workdps(50):
            for l in range(1, depth + 1):
                for kind, gradient in (("W", sol.numeric.grad_W[l][0][0]), ("b", sol.numeric.grad_b[l][0])):
                    fd = (_loss(data, (kind, l), H) - _loss(data, (kind, l), -H)) / (2 * H)
                    engine = mpmath.mpf(sp.Float(gradient, 50))
                    assert _close(engine, fd), f"{activation} depth {depth} seed {seed} d{kind}{l}: {engine} vs {fd}"


def _printed_table(text: str) -> dict[int, list[str]]:
    """layer → f′, factor, |∂L/∂w|, ratio, as printed (a bar may follow them)."""
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+[█▏▎▍▌▋▊▉]+)?$", text, re.M)
    return {int(r[0]): list(r[1:]) for r in rows}


def _number(text: str) -> float:
    mantissa, _, exponent = text.replace("−", "-").partition("×10")
    power = exponent.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789"))
    return float(mantissa) * 10 ** int(power or 0)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_the_printed_ratio_is_the_engines_gradient_ratio_and_the_factor_the_delta_ratio(activation):
    data = _chain(activation, 7, 11)
    sol = solve_network(network_from_dict(data, "test"))
    step = next(s for s in network_steps(sol) if s.title.startswith("The deep chain"))
    table = _printed_table(step.text)
    assert sorted(table) == list(range(1, 8))
    n = sol.numeric
    for l in range(1, 7):
        above = abs(n.grad_W[l + 1][0][0])
        if above:
            assert _number(table[l][3]) == pytest.approx(float(abs(n.grad_W[l][0][0]) / above), rel=1e-5)
        if n.delta[l + 1][0]:
            assert _number(table[l][1]) == pytest.approx(float(abs(n.delta[l][0] / n.delta[l + 1][0])), rel=1e-5)
    assert table[7][1] == table[7][3] == "—"


def test_the_chain_step_is_shown_only_for_deep_chains():
    shallow = _chain("sigmoid", 3, 0)
    sol = solve_network(network_from_dict(shallow, "test"))
    assert not is_deep_chain(sol.network)
    assert not any(s.title.startswith("The deep chain") for s in network_steps(sol))


def test_the_comparison_is_each_chain_solved_alone():
    network = network_from_dict(_chain("tanh", 5, 2), "test")
    for name, gradient in compared(network).items():
        alone = solve_network(with_activation(network, name)).value(q(Kind.WEIGHT_GRADIENT, 1, 0, 0))
        assert gradient == alone


@pytest.mark.parametrize("seed", range(5))
def test_the_vanishing_lessons_claims_hold_on_its_numbers(seed):
    lesson = vanishing(seed)
    sigmoid, relu = lesson.chains
    assert (sigmoid.activation, relu.activation) == ("sigmoid", "relu")
    assert abs(sigmoid.first_layer_gradient) * MIN_RATIO <= abs(relu.first_layer_gradient)
    assert all(0 < s <= sp.Rational(1, 4) for s in sigmoid.slopes)
    assert all(s - 1 == 0 for s in relu.slopes) and all(row.z > 0 for row in relu.rows)
    for chain in lesson.chains:
        for row, above in zip(chain.rows[1:], chain.rows):
            assert abs(row.factor - abs(row.delta / above.delta)) < 1e-40
            assert abs(row.ratio - abs(row.gradient / above.gradient)) < 1e-40
    # the first-layer gradient against the hand-written loss
    for chain in lesson.chains:
        data = with_activation(lesson.network, chain.activation).to_json()
        with mpmath.workdps(50):
            fd = (_loss(data, ("W", 1), H) - _loss(data, ("W", 1), -H)) / (2 * H)
            assert _close(mpmath.mpf(sp.Float(chain.first_layer_gradient, 50)), fd)


def test_each_sigmoid_factor_printed_is_the_printed_ratio_of_deltas():
    lesson = vanishing(1)
    out = CliRunner().invoke(cli, ["why", "--vanishing", "--seed", "1"]).output
    sigmoid_part = out.split("relu chain")[0]
    table = _printed_table(sigmoid_part)
    for row, above in zip(lesson.chains[0].rows[1:], lesson.chains[0].rows):
        assert _number(table[row.layer][1]) == pytest.approx(float(abs(row.delta / above.delta)), rel=1e-3)


def test_why_vanishing_matches_the_golden_file_piped():
    result = CliRunner().invoke(cli, ["why", "--vanishing", "--seed", "1"])
    assert result.exit_code == 0, result.output
    if os.environ.get("TUTOR_UPDATE_GOLDEN"):
        GOLDEN.write_text(result.output, encoding="utf-8")
    assert result.output == GOLDEN.read_text(encoding="utf-8")
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert CliRunner().invoke(cli, ["why", "--vanishing", "--seed", "1"]).output == result.output


def test_why_vanishing_json_is_the_documented_object():
    data = json.loads(CliRunner().invoke(cli, ["why", "--vanishing", "--seed", "1", "--format", "json"]).output)
    assert set(data) == {"seed", "depth", "input", "target", "loss", "weights", "biases", "chains", "ratio"}
    assert [c["activation"] for c in data["chains"]] == ["sigmoid", "relu"]
    assert [row["layer"] for row in data["chains"][0]["layers"]] == list(range(8, 0, -1))
    assert data["ratio"] >= MIN_RATIO


def test_why_vanishing_refuses_what_if_in_one_line():
    result = CliRunner().invoke(cli, ["why", "--vanishing", "--what-if"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_chain_rows_run_from_the_output_down():
    sol = solve_network(network_from_dict(_chain("sigmoid", 5, 4), "test"))
    assert [r.layer for r in chain_rows(sol)] == [5, 4, 3, 2, 1]
    assert chain_step(sol).shows(q(Kind.WEIGHT_GRADIENT, 1, 0, 0))

"""Issue 12, points 11 and 3: a network's δ steps substitute numbers into the slope's textbook
form (σ′(z) = σ(z)(1 − σ(z)) = 0.7·0.3 = 0.21), for every activation, and sigmoid + bce shows
why δ = o − t. The shown numbers are checked against a finite difference of the activation."""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine import losses
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activations import ELEMENTWISE, z
from backprop_tutor.engine.cancellation import cancelled_delta
from backprop_tutor.engine.network import network_from_dict
from backprop_tutor.engine.parsing import parse_expression
from backprop_tutor.engine.solution import solve_network
from backprop_tutor.worked.network import network_steps
from backprop_tutor.worked.notation import prime, symbol

POINTS = ("0.3", "-0.5", "1.7", "0")


def _network(hidden: str, output: str, z1: str, loss: str = "half_sse") -> dict:
    """One unit per layer, input 1 and weight 1, so z⁽¹⁾₀ = 1 + bias is where we choose."""
    return {"input": [1], "target": [0.3], "loss": loss, "learning_rate": 0.5,
            "layers": [{"activation": hidden, "weights": [[1]], "bias": [str(sp.Rational(z1) - 1)]},
                       {"activation": output, "weights": [[0.5]], "bias": [0.1]}]}


def _central(name: str, point: sp.Expr) -> sp.Float:
    """f′ by a central difference of f itself at 60 digits: shares nothing with the derivative."""
    f, h = ELEMENTWISE[name].expr, sp.Rational(1, 10**20)
    return (sp.N(f.subs(z, point + h), 60) - sp.N(f.subs(z, point - h), 60)) / (2 * h)


def _value(text: str) -> sp.Expr:
    """A shown line of numbers, read by the learner's own parser (√ and π spelled out for it)."""
    text = re.sub(r"√(\w)", r"sqrt(\1)", text).replace("π", "pi")
    return sp.N(parse_expression(text), 30)


def _slope_line(steps, layer: int, name: str) -> str:
    head = f"  {prime(name)}({symbol('z', layer, 0)}) = "
    found = [line for s in steps for line in s.text.splitlines() if line.startswith(head)]
    assert len(found) == 1, (head, [s.text for s in steps])
    return found[0][len(head):]


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("layer", [1, 2], ids=["hidden", "output"])
def test_the_slope_is_the_textbook_form_with_the_numbers_put_in(name, point, layer):
    data = _network(name, "sigmoid", point) if layer == 1 else _network("identity", name, point)
    if layer == 2:  # the output unit's z is 0.5·z⁽¹⁾ + 0.1: choose z⁽¹⁾ so that z⁽²⁾ is the point
        data["layers"][0]["bias"] = [str((sp.Rational(point) - sp.Rational(1, 10)) * 2 - 1)]
    sol = solve_network(network_from_dict(data))
    z_value, slope = sol.numeric.z[layer][0], sol.numeric.slope[layer][0]
    assert abs(z_value - sp.Rational(point)) < 1e-40
    line, _, side = _slope_line(network_steps(sol), layer, name).partition(", as ")
    shown = line.split(" = ")
    assert shown[-1] == num.pretty(slope)  # the engine's f′, printed
    for numbers in shown[1:-1]:  # every line of numbers multiplies out to it (6 digits shown)
        assert _value(numbers) == pytest.approx(float(slope), rel=1e-5, abs=1e-6)
    if ELEMENTWISE[name].kinked:
        assert side.startswith(f"{symbol('z', layer, 0)} = {num.pretty(z_value)} {'>' if z_value > 0 else '≤'} 0")
    if sp.Rational(point) != 0 or not ELEMENTWISE[name].kinked:
        assert float(_central(name, sp.Rational(point))) == pytest.approx(float(slope), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name, form, numbers", [
    ("sigmoid", "σ(z⁽¹⁾₀)·(1 − σ(z⁽¹⁾₀))", r"^\d\.\d+·\(1 − \d\.\d+\)$"),
    ("tanh", "1 − tanh(z⁽¹⁾₀)²", r"^1 − \d\.\d+²$"),
    ("gelu", "Φ(z⁽¹⁾₀) + z⁽¹⁾₀·φ(z⁽¹⁾₀)", r"^\d\.\d+ \+ 0\.3·\d\.\d+$"),
    ("softplus", "σ(z⁽¹⁾₀)", r"^\d\.\d+$"),
])
def test_the_learners_own_rule_is_visibly_used(name, form, numbers):
    steps = network_steps(solve_network(network_from_dict(_network(name, "sigmoid", "0.3"))))
    shown = _slope_line(steps, 1, name).split(" = ")
    assert shown[0] == form and re.match(numbers, shown[1])


def test_sigmoid_shows_the_factors_then_their_product():
    """σ(z)(1 − σ(z)) = 0.7·(1 − 0.7) = 0.7·0.3: the second factor worked out before multiplying."""
    sol = solve_network(network_from_dict(_network("sigmoid", "sigmoid", "0.3")))
    a = sol.numeric.a[1][0]
    shown = _slope_line(network_steps(sol), 1, "sigmoid").split(" = ")
    assert shown[2] == f"{num.pretty(a)}·{num.pretty(1 - a)}"


def test_latex_carries_the_same_substitution():
    sol = solve_network(network_from_dict(_network("tanh", "sigmoid", "-0.5")))
    step = next(s for s in network_steps(sol) if s.title.startswith("Backward pass: the local slopes"))
    t = num.latex(sp.tanh(sp.Rational(-1, 2)))
    assert r"\tanh'(z^{(1)}_{0}) = 1 - \tanh^{2}" in step.latex and f"1 - ({t})^{{2}}" in step.latex


def test_tutor_solve_markdown_shows_the_substituted_slope():
    result = CliRunner().invoke(cli, ["solve", "mlp_2_2_1", "--seed", "3", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "tanh′(z⁽¹⁾₀) = 1 − tanh(z⁽¹⁾₀)² = 1 − " in result.stdout
    assert "σ′(z⁽²⁾₀) = σ(z⁽²⁾₀)·(1 − σ(z⁽²⁾₀)) = " in result.stdout


# --- point 3: why δ = σ − t for sigmoid with binary cross-entropy ------------------------------

@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_slope_cancels_for_sigmoid_and_bce(n):
    o, t = losses.symbols(n)
    gradient = losses.LOSSES["bce"].gradient(n)[0]
    shown = cancelled_delta("bce", "sigmoid", n, 0)
    sigma_prime = o[0] * (1 - o[0])  # σ′ = σ(1 − σ), written in the output o = σ(z)
    assert sp.simplify(shown.factor * (o[0] - t[0]) / shown.slope - gradient) == 0
    assert sp.simplify(shown.slope - sigma_prime) == 0
    assert sp.simplify(shown.result - gradient * sigma_prime) == 0


@pytest.mark.parametrize("loss, activation", [("half_sse", "sigmoid"), ("mse", "sigmoid"), ("bce", "tanh"),
                                              ("bce", "relu"), ("half_sse", "tanh")])
def test_no_cancellation_is_claimed_where_there_is_none(loss, activation):
    assert cancelled_delta(loss, activation, 1, 0) is None


def test_neuron_sigmoid_bce_shows_why_delta_is_o_minus_t():
    result = CliRunner().invoke(cli, ["solve", "neuron_sigmoid_bce", "--seed", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    step = next(s for s in data["steps"] if s["title"].startswith("Backward pass: the output delta"))
    o, t = data["activations"]["a1"][0], data["network"]["target"][0]
    line = next(l for l in step["text"].splitlines() if "(o₀ − t₀)/(o₀·(1 − o₀)) · o₀·(1 − o₀) = o₀ − t₀ = " in l)
    numbers, value = line.split(" = ")[-2:]
    assert _value(numbers) == pytest.approx(o - t, rel=1e-5)  # the simplified form, with the numbers in
    assert float(value) == pytest.approx(data["deltas"]["delta1"][0], rel=1e-5)
    assert r"\frac{o_{0} - t_{0}}{o_{0} \cdot \left(1 - o_{0}\right)}" in step["latex"]


def test_softmax_cross_entropy_shows_the_collapse():
    result = CliRunner().invoke(cli, ["solve", "softmax_regression_3_class", "--seed", "1", "--format", "markdown"])
    assert result.exit_code == 0
    assert "= −tₖ + oₖ·Σⱼ tⱼ = oₖ − tₖ, since Σⱼ tⱼ = 1" in result.stdout


@pytest.mark.parametrize("template, seed", [("softmax_cross_entropy_2_3_2", 3), ("softmax_regression_3_class", 1)])
def test_the_softmax_jacobian_is_derived_and_each_entry_worked_out(template, seed):
    """∂pⱼ/∂zₖ by the quotient rule, then each entry with the probabilities put in: the shown
    product equals the shown entry, which equals a 40-digit central difference of the softmax."""
    from backprop_tutor.bank.folders import Bank
    from backprop_tutor.bank.generate import generate

    problem = generate(Bank.open().load(template), seed)
    [step] = [s for s in problem.steps if s.title.startswith("Backward pass: the output delta")]
    assert "quotient rule" in step.text and "SymPy" not in step.text
    network = problem.kind.network(problem.solution)
    L = len(network.layers)
    zs = problem.solution.numeric.z[L]
    size = len(zs)
    entries = re.findall(r"^\s*∂o(\S)/∂z(\S) = (.+) = (\S+)$", step.text, re.M)
    assert len(entries) == size * size
    sub = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")

    def softmax(values, j):
        return sp.exp(values[j]) / sum(sp.exp(v) for v in values)

    for j, k, numbers, entry in entries:
        j, k = int(j.translate(sub)), int(k.translate(sub))
        value = sp.Float(entry.replace("−", "-"))
        product = numbers.split(" = ")[-1].replace("−", "-").replace("(", "").replace(")", "").split("·")
        assert abs(sp.prod([sp.Float(f) for f in product]) - value) < 1e-5
        h = sp.Rational(1, 10**12)
        moved = [v + (h if i == k else 0) for i, v in enumerate(zs)]
        back = [v - (h if i == k else 0) for i, v in enumerate(zs)]
        difference = sp.N((softmax(moved, j) - softmax(back, j)) / (2 * h), 40)
        assert abs(value - difference) < 1e-5, (j, k)


@pytest.mark.parametrize("template", ["activation_derivative_symbolic", "activation_derivative_at_point"])
def test_activation_templates_work_the_slope_out_at_the_point(template):
    """The 'At z = …' step writes f′(z) by its rule with the numbers put in, not a bare value; the
    value it ends on is the activation's slope there (a 40-digit central difference)."""
    from backprop_tutor.bank.folders import Bank
    from backprop_tutor.bank.generate import generate

    for seed in range(8):
        problem = generate(Bank.open().load(template), seed)
        sol = problem.solution
        [step] = [s for s in problem.steps if s.title.startswith("At z =")]
        line = step.text.splitlines()[1]
        worked = line.split(", as ")[0]
        assert worked.count(" = ") >= 2 or ELEMENTWISE[sol.name].kinked, line  # the rule, then numbers
        shown = sp.Float(worked.rsplit(" = ", 1)[1].replace("−", "-"))
        f, h = ELEMENTWISE[sol.name].expr, sp.Rational(1, 10**15)
        if ELEMENTWISE[sol.name].kinked and sol.point == 0:
            continue
        expected = sp.N((f.xreplace({z: sol.point + h}) - f.xreplace({z: sol.point - h})) / (2 * h), 40)
        assert abs(shown - expected) < 1e-5 * max(1, abs(expected)), line

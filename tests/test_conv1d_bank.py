"""The conv1d templates in the bank: the reference's conv1d pass and slips worked by hand, sizes
drawn as sums ("$n - $K + 1"), symmetric kernels redrawn, and the second method checking kernel
parts (a wrong ∂L/∂k is caught by a central difference of the loss in the kernel entry)."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

import reference_backprop as R
from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.bank.kinds.network import NETWORK
from backprop_tutor.bank.template import template_from_dict
from backprop_tutor.errors import TemplateError

CONV_TEMPLATES = ("conv1d_kernel_gradient", "conv1d_relu_dense")

# x = (1, 2, 3, 4), k = (0.5, −1), b = 0.1, identity; a linear unit with w = (1, 2, 3) and target 0
NET = {"input": [1.0, 2.0, 3.0, 4.0], "target": [0.0],
       "layers": [{"type": "conv1d", "activation": "identity", "kernel": [0.5, -1.0], "bias": 0.1},
                  {"activation": "identity", "weights": [[1.0, 2.0, 3.0]], "bias": [0.0]}],
       "loss": "half_sse", "learning_rate": 0.1}


def test_reference_conv_pass_and_slips_by_hand():
    x, (k0, k1), b, w = NET["input"], NET["layers"][0]["kernel"], 0.1, [1.0, 2.0, 3.0]
    z = [k0 * x[i] + k1 * x[i + 1] + b for i in range(3)]
    o = sum(wi * zi for wi, zi in zip(w, z))
    delta = [wi * o for wi in w]  # δ⁽²⁾ = o − t = o, identity everywhere
    r = R.evaluate(NET)
    assert R.value(r, "z1") == pytest.approx(z)
    assert R.value(r, "delta1") == pytest.approx(delta)
    assert R.value(r, "dK1") == pytest.approx([sum(delta[i] * x[i + j] for i in range(3)) for j in range(2)])
    assert R.value(r, "db1[0]") == pytest.approx(sum(delta))
    assert R.value(r, "K1_new[1]") == pytest.approx(k1 - 0.1 * R.value(r, "dK1[1]"))
    one = R.evaluate(NET, "forgot_sum_over_positions", 1)
    assert R.value(one, "dK1") == pytest.approx([delta[0] * x[0], delta[0] * x[1]])
    flipped = R.evaluate(NET, "kernel_flipped", 1)
    assert R.value(flipped, "z1") == pytest.approx([k1 * x[i] + k0 * x[i + 1] + b for i in range(3)])
    # the conv layer has neither a forgot_bias nor a weight-gradient slip of its own (the engine's rule sites)
    assert R.scopes(NET, "forgot_bias") == [2] and R.scopes(NET, "swapped_indices") == [2]
    assert R.scopes(NET, "kernel_flipped") == [1] and R.scopes(NET, "forgot_sum_over_positions") == [1]
    single = copy.deepcopy(NET)
    single["layers"][0]["kernel"] = [0.5]
    single["layers"][1]["weights"] = [[1.0, 2.0, 3.0, 4.0]]
    assert R.scopes(single, "kernel_flipped") == []  # one weight reads the same backwards


@pytest.mark.parametrize("template_id", CONV_TEMPLATES)
def test_conv_templates_draw_consistent_sizes_and_no_symmetric_kernel(template_id):
    template = Bank.open().load(template_id)
    sizes = set()
    for seed in range(30):
        net = generate(template, seed).solution.network
        conv, dense = net.layers
        assert conv.kernel != conv.kernel[::-1], seed
        assert len(dense.weights[0]) == len(net.input) - len(conv.kernel) + 1 == conv.units
        sizes.add((len(net.input), len(conv.kernel)))
    if template_id == "conv1d_kernel_gradient":  # inputs of 4 or 5, kernels of 2 or 3
        assert sizes == {(4, 2), (4, 3), (5, 2), (5, 3)}


def test_a_shape_may_be_a_sum_and_nothing_else():
    template = Bank.open().load("conv1d_kernel_gradient")
    data = {"title": "t", "kind": "network", "level": 1, "skills": ["forward_pass"], "statement": "s",
            "parameters": {"n": {"choice": [4]}, "x": {"decimal": [-1, 1], "shape": ["$n * 2"]}},
            "network": {}, "parts": []}
    with pytest.raises(TemplateError, match=r"parameters\.x\.shape\[0\]: expected a size from 1 to 64"):
        template_from_dict(data, "bad", "bad.yaml")
    assert any(p.shape == (1, "$n - $K + 1") for p in template.parameters)


@pytest.mark.parametrize("template_id", CONV_TEMPLATES)
def test_the_second_method_checks_kernel_parts(template_id):
    p = generate(Bank.open().load(template_id), 5)
    for part in p.parts:
        if part.id not in ("dK1", "delta1", "nudge_k0"):
            continue
        assert NETWORK.second_method(p, part) == []
        approx = part.value.approx
        off = tuple(v * 1.01 for v in approx) if isinstance(approx, tuple) else approx * 1.01
        issues = NETWORK.second_method(p, replace(part, value=replace(part.value, approx=off)))
        assert len(issues) == (len(approx) if isinstance(approx, tuple) else 1), issues


def test_nudges_of_the_kernel_and_the_shared_bias():
    """nudge(K1[j], h) and nudge(b1[0], h) of a conv1d layer move every position: the engine, the
    reference and the second method's float pass agree, and the ratios approach ∂L/∂k and ∂L/∂b."""
    from backprop_tutor.bank.second_methods import FloatNetwork
    from backprop_tutor.engine.network import network_from_dict
    from backprop_tutor.engine.quantities import Kind, parse_network_quantity
    from backprop_tutor.engine.solution import solve_network

    net = copy.deepcopy(NET)
    net["layers"][0]["activation"] = "tanh"
    solution = solve_network(network_from_dict(net))
    floats = FloatNetwork(solution.network)
    r = R.evaluate(net)
    for text, kind, idx, gradient in (("K1[1]", Kind.KERNEL, (1,), "dK1[1]"), ("b1[0]", Kind.BIAS, (0,), "db1[0]")):
        engine = float(solution.value(parse_network_quantity(f"nudge({text}, 0.001)")))
        mine = R.nudge(net, text, 0.001)
        second = (floats.moved(kind, 1, idx, 0.001).forward()[2] - floats.forward()[2]) / 0.001
        assert engine == pytest.approx(mine, rel=1e-9) and engine == pytest.approx(second, rel=1e-6)
        assert mine == pytest.approx(r[gradient], rel=1e-2)


def test_dot_of_a_conv_problem_is_one_line_naming_why():
    from click.testing import CliRunner

    from backprop_tutor.cli.app import cli

    result = CliRunner().invoke(cli, ["solve", "conv1d_kernel_gradient", "--seed", "2", "--format", "dot"])
    assert result.exit_code == 2
    assert "so is a conv1d layer's shared kernel" in " ".join(result.output.split())


@pytest.mark.parametrize("template_id", ["conv1d_relu_dense", "conv1d_kernel_gradient"])
def test_practice_shows_the_kernel_not_a_banded_matrix(template_id):
    """A table of layers would show the kernel as a banded W with a bias per position, hiding the
    shared kernel and bias the parts ask about: practice shows the statement's own lines."""
    from rich.console import Console

    from backprop_tutor.cli.practice_view import problem_view

    problem = generate(Bank.open().load(template_id), 1)
    assert NETWORK.network(problem.solution) is None  # the kind says a table cannot show it
    console = Console(width=100, record=True)
    console.print(problem_view(problem, "", 1, None))
    shown = console.export_text()
    assert "kernel k = (" in shown and "shared bias b = " in shown and "W (row j = unit j)" not in shown

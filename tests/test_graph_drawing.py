"""The computational graph drawn (issue 14, point 4): in the terminal when it fits, else the table;
as Graphviz DOT and as TikZ, for expressions and networks. The goldens under tests/golden/graph
are checked against values computed here independently (CS231n's neuron, by finite differences).

Regenerate the goldens after a deliberate change with TUTOR_UPDATE_GOLDEN=1."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.engine.expression import parse_assignments, solve_expression
from backprop_tutor.worked.graph_drawing import draw_dot, draw_text, draw_tikz
from backprop_tutor.worked.graph_layout import expression_graph

from conftest import EXAMPLE

GOLDEN = Path(__file__).parent / "golden" / "graph"
TANH = ("tanh(w*x + b)", "w=0.5,x=1,b=0")
# CS231n's neuron (the "circuit" of its backprop notes): drawn within 80 columns
NEURON = ("sigmoid(w0*x0 + w1*x1 + w2)", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3")
# the neuron feeding a tanh: 115 columns drawn, so 120 draws it and 80 cannot
WIDE = ("tanh(sigmoid(w0*x0 + w1*x1 + w2)*w3)", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3,w3=0.5")
SHARED = ("x*y + x^2", "x=3,y=-2")


def run(*args: str, columns: int = 80):
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(cli, list(args), catch_exceptions=False)


def graph(case):
    return expression_graph(solve_expression(case[0], parse_assignments(case[1])))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TUTOR_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed (TUTOR_UPDATE_GOLDEN=1 rewrites it)"


def drawing_in(stdout: str) -> str:
    """The drawing's lines out of `tutor solve`'s text: from the first box to the blank line after it."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┌"))
    end = next(i for i in range(start, len(lines))
               if lines[i] == "" and not any(ch in lines[i + 1] for ch in "┌│└─"))
    return "\n".join(lines[start:end]) + "\n"


_EDGE = re.compile(r'"([^"]+)" -> "([^"]+)" \[label=<([^<]*)(?:<BR/><FONT COLOR="[^"]+">([^<]*)</FONT>)?>\];')


def edges(dot: str) -> list[tuple[str, str, float, float | None]]:
    """(source, target, value, gradient) of every edge, the numbers read back from the labels."""
    def number(text: str) -> float:
        text = text.replace("−", "-")
        mantissa, _, exponent = text.partition("×10")
        raised = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
        return float(mantissa) * (10 ** int(exponent.translate(raised)) if exponent else 1)

    return [(m[1], m[2], number(m[3]), number(m[4]) if m[4] is not None else None) for m in _EDGE.finditer(dot)]


# --- goldens -------------------------------------------------------------------------------------------


def test_the_terminal_drawing_at_80_columns_is_the_golden():
    result = run("solve", "--expression", TANH[0], "--at", TANH[1], columns=80)
    assert result.exit_code == 0
    check_golden("tanh-80.txt", drawing_in(result.stdout))
    assert "Computational graph (topological order)" not in result.stdout  # the drawing stands for the table
    assert "Computational graph: values above the wires, gradients below" in result.stdout
    assert all(line == line.rstrip() for line in result.stdout.splitlines())  # piped: no trailing spaces


def rich_text(case, width: int) -> list[str]:
    """What `tutor solve --expression` shows in a terminal `width` columns wide (rich)."""
    from rich.console import Console

    from backprop_tutor.cli.render import render_rich
    from backprop_tutor.worked.expression import expression_steps
    from backprop_tutor.worked.graph_drawing import with_drawing
    from backprop_tutor.worked.report import expression_report

    sol = solve_expression(case[0], parse_assignments(case[1]))
    report = with_drawing(expression_report(sol, expression_steps(sol)), expression_graph(sol), width)
    with open(os.devnull, "w") as sink:
        console = Console(width=width, record=True, color_system=None, file=sink)
        console.print(render_rich(report))
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_the_terminal_drawing_at_120_columns_is_the_golden():
    """A terminal 120 wide draws what 80 cannot; piped text stays 80 wide at any COLUMNS."""
    shown = rich_text(WIDE, 120)
    start = shown.index(next(line for line in shown if line.startswith("┌")))
    rows = len(draw_text(graph(WIDE)))
    check_golden("wide-120.txt", "\n".join(shown[start:start + rows]) + "\n")
    assert max(len(line) for line in shown[start:start + rows]) <= 120
    assert not any("columns wide" in line for line in shown)
    assert not any(line.startswith("┌") for line in rich_text(WIDE, 80))


def test_the_cs231n_neuron_is_drawn_in_80_columns():
    result = run("solve", "--expression", NEURON[0], "--at", NEURON[1], columns=80)
    assert result.exit_code == 0
    drawn = drawing_in(result.stdout)
    check_golden("neuron-80.txt", drawn)
    assert max(len(line) for line in drawn.splitlines()) <= 80


def test_a_drawing_wider_than_the_screen_falls_back_to_the_table_with_one_line():
    result = run("solve", "--expression", WIDE[0], "--at", WIDE[1], columns=80)
    assert result.exit_code == 0
    assert "┌" not in result.stdout
    assert "Computational graph (topological order)" in result.stdout
    note = [line for line in result.stdout.splitlines() if "columns wide" in line]
    assert note == ["The graph drawn is 115 columns wide, more than 80: shown as a table."]


def test_dot_and_tikz_are_the_goldens():
    check_golden("tanh.dot", draw_dot(graph(TANH)))
    check_golden("tanh.tex", draw_tikz(graph(TANH)))
    check_golden("shared.txt", "\n".join(draw_text(graph(SHARED))) + "\n")
    check_golden("neuron.dot", run("solve", "--expression", NEURON[0], "--at", NEURON[1], "--format", "dot").stdout)


def test_the_network_dot_is_the_golden(write_network):
    result = run("solve", "--network", str(write_network(EXAMPLE)), "--format", "dot")
    assert result.exit_code == 0
    check_golden("network.dot", result.stdout)


# --- the numbers, checked independently -----------------------------------------------------------------


def test_the_neuron_golden_has_cs231n_gradients_and_central_differences():
    """The golden DOT's numbers against f computed here with math, and its gradients against
    (f(v + h) − f(v − h))/2h: nothing of the engine is used."""
    at = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)

    def f(v):
        return 1 / (1 + math.exp(-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"])))

    read = {source: (value, grad) for source, target, value, grad in edges((GOLDEN / "neuron.dot").read_text("utf-8"))}
    labels = dict(zip(["n0", "n1", "n3", "n4", "n7"], ["w0", "x0", "w1", "x1", "w2"]))
    h = 1e-6
    for node, name in labels.items():
        value, grad = read[node]
        assert value == at[name]
        slope = (f({**at, name: at[name] + h}) - f({**at, name: at[name] - h})) / (2 * h)
        assert grad == pytest.approx(slope, rel=5e-4), name
    assert read["n9"][0] == pytest.approx(f(at), rel=5e-4) and read["n9"][1] == 1
    # the lecture notes' numbers: ∂f/∂w0 = −0.2, ∂f/∂x0 = 0.39, ∂f/∂w1 = −0.39, ∂f/∂x1 = −0.59, ∂f/∂w2 = 0.2
    assert [round(read[n][1], 2) for n in labels] == [-0.2, 0.39, -0.39, -0.59, 0.2]


@pytest.mark.parametrize("case", [TANH, NEURON, SHARED, ("max(x, y)*z/(1 + e^x)", "x=2,y=-1,z=3")])
def test_each_edge_carries_its_sources_value_and_gradient(case):
    sol = solve_expression(case[0], parse_assignments(case[1]))
    by_id = {n.id: n for n in sol.nodes}
    read = edges(draw_dot(expression_graph(sol)))
    assert len(read) == sum(len(n.inputs) for n in sol.nodes) + 1  # every input wire, and the output's
    for source, target, value, grad in read:
        node = by_id[source.split(".")[0]]  # n0.2: the second copy of a variable used twice
        assert value == pytest.approx(float(node.value), rel=1e-3, abs=1e-12)
        if grad is not None:
            assert grad == pytest.approx(float(node.grad), rel=1e-3, abs=1e-12)
        else:  # only a fixed exponent has no gradient drawn
            assert by_id[target].op == "pow" and node.op == "const"
    assert {s for s, t, *_ in read if t == "_out"} == {sol.output}


def test_a_variable_used_twice_is_drawn_at_each_use_with_its_whole_gradient():
    dot = draw_dot(graph(SHARED))
    copies = [(s, grad) for s, t, value, grad in edges(dot) if s.split(".")[0] == "n0"]
    assert copies == [("n0", 4.0), ("n0.2", 4.0)]  # ∂(xy + x²)/∂x = y + 2x = 4


def test_the_network_edges_are_the_solutions_numbers(write_network):
    data = edges(run("solve", "--network", str(write_network(EXAMPLE)), "--format", "dot").stdout)
    by_edge = {(s, t): (v, g) for s, t, v, g in data}
    assert by_edge[("w2_0_0", "z2_0")] == (0.4, pytest.approx(0.082167, rel=1e-3))  # the well-known 0.0821670
    assert by_edge[("z2_1", "a2_1")][1] == pytest.approx(-0.0380982, rel=1e-3)  # δ⁽²⁾₁
    assert by_edge[("L", "_out")] == (pytest.approx(0.298371, rel=1e-3), 1)
    assert by_edge[("w1_0_0", "z1_0")][1] == pytest.approx(0.000438568, rel=1e-3)


# --- the tools read what we write ----------------------------------------------------------------------


def require(tool: str) -> None:
    """Skip where `tool` is missing, unless CI (.ci/run) said it installed it."""
    if shutil.which(tool) is None:
        if os.environ.get("TUTOR_REQUIRE_LATEX" if tool == "pdflatex" else "TUTOR_REQUIRE_DOT"):
            pytest.fail(f"{tool} is missing; .ci/run should have installed it")
        pytest.skip(f"no {tool} here; .ci/run installs it, so CI runs this test")


def test_the_dot_parses_with_graphviz(tmp_path, write_network):
    require("dot")
    outputs = [run("solve", "--expression", case[0], "--at", case[1], "--format", "dot").stdout
               for case in (TANH, NEURON, SHARED)]
    outputs.append(run("solve", "--network", str(write_network(EXAMPLE)), "--format", "dot").stdout)
    outputs.append(run("solve", "mlp_2_2_1", "--seed", "7", "--format", "dot").stdout)
    for text in outputs:
        svg = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60)
        assert svg.returncode == 0 and not svg.stderr, svg.stderr.decode()
        assert b"<svg" in svg.stdout


def test_the_tikz_compiles_with_pdflatex(tmp_path, write_network):
    require("pdflatex")
    if subprocess.run(["kpsewhich", "tikz.sty"], capture_output=True, text=True).stdout.strip() == "":
        if os.environ.get("TUTOR_REQUIRE_LATEX"):
            pytest.fail("tikz.sty is missing; .ci/run should have installed texlive-pictures")
        pytest.skip("no TikZ here (texlive-pictures); .ci/run installs it")
    documents = {"expression": ("--expression", SHARED[0], "--at", SHARED[1]),
                 "network": ("--network", str(write_network(EXAMPLE)))}
    for name, args in documents.items():
        text = run("solve", *args, "--format", "latex").stdout
        assert r"\begin{tikzpicture}" in text and r"\usepackage{tikz}" in text
        (tmp_path / f"{name}.tex").write_text(text, encoding="utf-8")
        build = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert build.returncode == 0, build.stdout[-2000:]
        assert (tmp_path / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"


# --- the command line ---------------------------------------------------------------------------------


def test_an_activation_problem_has_no_graph_to_draw():
    result = CliRunner().invoke(cli, ["solve", "activation_derivative_at_point", "--seed", "3", "--format", "dot"])
    assert result.exit_code == 2
    assert "has none" in result.stderr


def test_a_network_says_where_its_graph_is_drawn(write_network):
    result = run("solve", "--network", str(write_network(EXAMPLE)))
    assert "The computational graph is drawn by -f dot (Graphviz) and -f latex (TikZ)." in result.stdout
    assert "Forward pass" in result.stdout  # the tables stay


def test_the_terminal_draws_the_same_lines_as_a_pipe():
    shown = rich_text(TANH, 80)
    for line in draw_text(graph(TANH)):
        assert line in shown


def test_piped_text_is_80_columns_wide_whatever_columns_says():
    assert run("solve", "--expression", NEURON[0], "--at", NEURON[1], columns=200).stdout == \
        run("solve", "--expression", NEURON[0], "--at", NEURON[1], columns=80).stdout

"""A solution laid out for reading: a title, a few tables, and the worked steps.

The three output formats (rich text, Markdown, LaTeX) render this one model, so a table or a
step added here appears in all of them. Cells exist in Unicode and in LaTeX.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from backprop_tutor.engine import kinks, numbers as num
from backprop_tutor.engine.quantities import Kind, q
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import function, parameter_symbol, symbol
from backprop_tutor.worked.steps import Step, WhyStep
from backprop_tutor.worked.texescape import escape

KEY = num.KEY_DIGITS


@dataclass(frozen=True)
class Cell:
    text: str
    tex: str


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: tuple[bool, ...] = ()  # right-align these columns


@dataclass(frozen=True)
class Figure:
    """A drawing of the computational graph (worked/graph_drawing.py), shown before the tables."""

    title: str
    lines: tuple[str, ...]  # the text drawing; () where there is none (see `note`)
    tex: str  # a TikZ picture, for LaTeX output; "" elsewhere
    note: str = ""  # one line: why the graph is not drawn here
    replaces: str = ""  # the title of the table the drawing stands for


@dataclass(frozen=True)
class Report:
    title: str
    summary: tuple[str, ...]
    tables: tuple[Table, ...]
    steps: tuple[Step, ...]
    figure: Figure | None = None

    def shown_tables(self) -> tuple[Table, ...]:
        """The tables to print: those with rows, but the one the figure's drawing stands for."""
        drawn = self.figure.replaces if self.figure and self.figure.lines else None
        return tuple(t for t in self.tables if t.rows and t.title != drawn)


def why_once(reports: list[Report]) -> list[Report]:
    """The reports of one document (a homework key) with the why-derivatives paragraph kept
    only where it first appears: read once, it answers the question; on every problem it is
    noise the reader learns to skip."""
    seen = False
    out = []
    for report in reports:
        steps = []
        for step in report.steps:
            if isinstance(step, WhyStep):
                if seen:
                    continue
                seen = True
            steps.append(step)
        out.append(replace(report, steps=tuple(steps)))
    return out


def number(value, digits: int = KEY) -> Cell:
    return Cell(num.pretty(value, digits), f"${num.latex(value, digits)}$")


def sym(name: str, layer=None, *indices, ) -> Cell:
    return Cell(symbol(name, layer, *indices), "$" + symbol(name, layer, *indices, tex=True) + "$")


def text(value: str) -> Cell:
    return Cell(value, escape(value))


def network_report(sol: NetworkSolution, steps: tuple[Step, ...]) -> Report:
    net, n = sol.network, sol.numeric
    L = sol.depth
    title = net.name or "Network " + "-".join(str(s) for s in net.sizes)
    summary = (
        f"Loss L = {num.pretty(n.loss, KEY)}  →  after one step {num.pretty(n.loss_after, KEY)}",
        f"Loss {net.loss}, learning rate η = {num.pretty(net.learning_rate)}",
    )
    # a mini-batch: each example's rows, the example first
    batch = tuple((text(str(e)),) for e in range(1, len(n.examples) + 1)) or ((),)
    forward = [
        (*example, text(str(l)), text(str(j)), number(p.z[l][j]), text(function(net.layers[l - 1].activation)),
         number(p.a[l][j]))
        for example, p in zip(batch, n.examples or (n,)) for l in range(1, L + 1) for j in range(len(p.z[l]))
    ]
    backward = [
        (*example, text(str(l)), text(str(j)), number(p.delta[l][j]))
        for example, p in zip(batch, n.examples or (n,)) for l in range(L, 0, -1) for j in range(len(p.delta[l]))
    ]
    first = ("example",) if n.examples else ()
    params = []
    for l, layer in enumerate(net.layers, 1):
        if layer.kernel is not None:  # a conv1d layer: its kernel and the one shared bias
            dK, K_new = sol.value(q(Kind.KERNEL_GRADIENT, l)), sol.value(q(Kind.KERNEL_NEW, l))
            params += [(sym("k", l, j), number(k), number(dK[j]), number(K_new[j])) for j, k in enumerate(layer.kernel)]
            params.append((sym("b", l), number(layer.bias[0]), number(n.grad_b[l][0]), number(n.b_new[l][0])))
            continue
        for j in range(layer.units if n.grad_b[l] else 0):  # a recurrent cell's later steps share layer 1's
            for k in range(len(layer.weights[j])):
                params.append((sym("w", l, j, k), number(layer.weights[j][k]), number(n.grad_W[l][j][k]), number(n.W_new[l][j][k])))
            params.append((sym("b", l, j), number(layer.bias[j]), number(n.grad_b[l][j]), number(n.b_new[l][j])))
    nudges = []
    two_sided = kinks.sided_checks(sol)
    for check in sol.nudges:
        name = Cell(parameter_symbol(check.parameter), "$" + parameter_symbol(check.parameter, tex=True) + "$")
        for h, moved, ratio, gap in check.rows:
            nudges.append((name, number(h), number(moved), number(ratio), number(gap, 3)))
        for h, moved, ratio in two_sided[check.parameter].below if check.parameter in two_sided else ():
            nudges.append((name, number(h), number(moved), number(ratio), number(ratio - check.derivative, 3)))
    nudge_title = ("Nudge check: (L(w+h) − L(w))/h → ∂L/∂w" if not two_sided else
                   "Nudge check at a kink: where the ratios for h and −h part, ∂L/∂w is a convention")
    tables = (
        Table("Forward pass", (*first, "layer", "unit", "z", "f", "a = f(z)"), tuple(forward),
              (True,) * len(first) + (True, True, True, False, True)),
        Table("Backward pass: δ = ∂L/∂z", (*first, "layer", "unit", "δ"), tuple(backward),
              (True,) * len(first) + (True, True, True)),
        Table("Gradients and one step of gradient descent" + (" (the batch's mean gradients)" if first else ""), ("parameter", "value", "∂L/∂·", "after the step"),
              tuple(params), (False, True, True, True)),
        Table(nudge_title, ("parameter", "h", "L(w+h)", "ratio", "ratio − ∂L/∂w"),
              tuple(nudges), (False, True, True, True, True)),
    )
    return Report(title, summary, tables, steps)


GRAPH_TABLE = "Computational graph (topological order)"


def expression_report(sol, steps: tuple[Step, ...]) -> Report:
    """An expression's computational graph: each node's value, local derivatives and gradient."""
    at = ", ".join(f"{name} = {num.pretty(value)}" for name, value in sol.at.items())
    summary = (f"f = {sol.echo}   at {at}", f"f = {num.pretty(sol.value, KEY)}",
               "∇f: " + ", ".join(f"∂f/∂{name} = {num.pretty(g, KEY)}" for name, g in sol.gradient.items()))
    nodes = tuple(
        (text(node.id), text(node.op), text(node.label), number(node.value),
         text(", ".join(f"∂/∂{i} = {num.pretty(d)}" for i, d in node.local)), number(node.grad))
        for node in sol.nodes
    )
    gradient = tuple((text(f"∂f/∂{name}"), number(g)) for name, g in sol.gradient.items())
    tables = (
        Table(GRAPH_TABLE, ("node", "op", "computes", "value", "local derivatives", "∂f/∂node"),
              nodes, (False, False, False, True, False, True)),
        Table("Gradient", ("derivative", "value"), gradient, (False, True)),
    )
    return Report(f"f = {sol.echo}", summary, tables, steps)

"""A laid-out graph (worked/graph_layout.py) drawn three ways: as text for the terminal, as
Graphviz DOT, and as a TikZ picture. Every drawing writes the same labels: a box per node, and on
each wire its value above and its gradient below, to DIGITS significant digits.

The text drawing routes a tree (an expression's graph) without crossings: each lane is three
rows (the value, the wire through the box, the gradient) and a blank one; a wire runs along its
source's lane to a junction two columns before its target's box, then up to the target's lane.
Its width is measured by the caller, who falls back to a table when it is wider than the screen.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape as html_escape

from backprop_tutor.engine import numbers as num
from backprop_tutor.worked.graph_layout import Graph, Wire
from backprop_tutor.worked.report import GRAPH_TABLE, Figure, Report

DIGITS = 4  # significant digits on a wire: enough to check an answer graded within 1e-3
LANE_ROWS = 4  # value, wire, gradient, and a blank row between lanes
TITLE = "Computational graph: values above the wires, gradients below"


def _value(wire: Wire) -> str:
    return num.pretty(wire.value, DIGITS)


def _grad(wire: Wire) -> str:
    return "" if wire.grad is None else num.pretty(wire.grad, DIGITS)


# --- text -------------------------------------------------------------------------------------------


def draw_text(graph: Graph) -> tuple[str, ...] | None:
    """The drawing's lines (no trailing spaces); None for a graph that is not a tree."""
    if not graph.tree:
        return None
    columns = 1 + max(b.column for b in graph.boxes)
    out_wire = {w.source: w for w in graph.wires}
    box_width = [0] * columns
    gap = [0] * columns
    for b in graph.boxes:
        wire = out_wire[b.key]
        box_width[b.column] = max(box_width[b.column], len(b.text) + 4)
        room = max(len(_value(wire)), len(_grad(wire)))
        gap[b.column] = max(gap[b.column], room + (3 if wire.target is None else 4))  # a space each side, the junction
    left = [0] * columns
    for c in range(1, columns):
        left[c] = left[c - 1] + box_width[c - 1] + gap[c - 1]
    lanes = 1 + max(int(b.lane) for b in graph.boxes)
    grid = [[" "] * (left[-1] + box_width[-1] + gap[-1]) for _ in range(lanes * LANE_ROWS - 1)]

    def put(row: int, col: int, text: str) -> None:
        grid[row][col:col + len(text)] = list(text)

    for b in graph.boxes:
        top, x, w = int(b.lane) * LANE_ROWS, left[b.column], len(b.text) + 4  # the column is as wide as its widest
        put(top, x, "┌" + "─" * (w - 2) + "┐")
        put(top + 1, x, ("│" if b.leaf else "┤") + f" {b.text} " + "├")
        put(top + 2, x, "└" + "─" * (w - 2) + "┘")
        wire = out_wire[b.key]
        start = x + w
        end = left[graph.box(wire.target).column] - 2 if wire.target else x + box_width[b.column] + gap[b.column]
        put(top + 1, start, "─" * (end - start))
        put(top, start + 1, _value(wire))
        put(top + 2, start + 1, _grad(wire))
    for b in graph.boxes:  # the junctions, drawn over the wires' ends
        rows = sorted(int(graph.box(w.source).lane) * LANE_ROWS + 1 for w in graph.inputs_of(b.key))
        if not rows:
            continue
        x = left[b.column] - 2
        for row in range(rows[0], rows[-1] + 1):
            first, last = row == rows[0], row == rows[-1]
            if first:
                grid[row][x] = "─" if last else "┬"
            elif row in rows:
                grid[row][x] = "┘" if last else "┤"
            else:
                grid[row][x] = "│"
        grid[rows[0]][x + 1] = "─"
    return tuple("".join(row).rstrip() for row in grid)


def with_drawing(report: Report, graph: Graph | None, width: int) -> Report:
    """The report with the graph drawn in front of its tables, standing for the table of the
    graph's nodes; when the drawing is wider than `width` (or the graph is no tree), the tables
    stay and one line says why."""
    if graph is None:
        return report
    lines = draw_text(graph)
    if lines is None:
        note = "The computational graph is drawn by -f dot (Graphviz) and -f latex (TikZ)."  # not a tree
        return replace(report, figure=Figure(TITLE, (), "", note))
    wide = max(len(line) for line in lines)
    if wide > width:
        note = f"The graph drawn is {wide} columns wide, more than {width}: shown as a table."
        return replace(report, figure=Figure(TITLE, (), "", note))
    return replace(report, figure=Figure(TITLE, lines, "", replaces=GRAPH_TABLE))


# --- DOT ---------------------------------------------------------------------------------------------

GRAD_COLOUR = "#b03020"


def draw_dot(graph: Graph) -> str:
    """Graphviz DOT, left to right; each edge labelled value over gradient (the gradient red)."""
    out = ["digraph computational_graph {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];',
           '  edge [fontname="Helvetica", fontsize=10];', f"  label={_dot_string(graph.title)};", "  labelloc=t;"]
    for b in graph.boxes:
        style = ', style=rounded' if b.leaf else ""
        out.append(f"  {_dot_string(b.key)} [label={_dot_string(b.text)}{style}];")
    out.append('  "_out" [shape=point, width=0.06];')
    for w in graph.wires:
        label = html_escape(_value(w))
        if w.grad is not None:
            label += f'<BR/><FONT COLOR="{GRAD_COLOUR}">{html_escape(_grad(w))}</FONT>'
        target = _dot_string(w.target or "_out")
        out.append(f"  {_dot_string(w.source)} -> {target} [label=<{label}>];")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- TikZ --------------------------------------------------------------------------------------------

TIKZ_PACKAGES = r"\usepackage{tikz}"


def draw_tikz(graph: Graph) -> str:
    """A tikzpicture (needs \\usepackage{tikz}), scaled down to the line when wider."""
    names = {b.key: f"v{i}" for i, b in enumerate(graph.boxes)}
    out = [r"\begin{center}", r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
           r"\begin{tikzpicture}[x=2.8cm, y=1.1cm, >=stealth,",
           r"  box/.style={draw, minimum height=5mm, inner sep=3pt},",
           r"  leaf/.style={box, rounded corners=2pt},",
           r"  value/.style={font=\scriptsize, inner sep=1pt, above, sloped},",
           r"  grad/.style={font=\scriptsize, inner sep=1pt, below, sloped, text=red!70!black}]"]
    for b in graph.boxes:
        style = "leaf" if b.leaf else "box"
        out.append(rf"\node[{style}] ({names[b.key]}) at ({b.column}, {-b.lane:g}) {{${b.tex}$}};")
    for w in graph.wires:
        labels = rf"node[value] {{${num.latex(w.value, DIGITS)}$}}"
        if w.grad is not None:
            labels += rf" node[grad] {{${num.latex(w.grad, DIGITS)}$}}"
        end = f"({names[w.target]})" if w.target else "++(0.8, 0)"
        source = f"({names[w.source]})" if w.target else f"({names[w.source]}.east)"
        out.append(rf"\draw[->] {source} -- {labels} {end};")
    out += [r"\end{tikzpicture}}", r"\end{center}"]
    return "\n".join(out)


def with_tikz(report: Report, graph: Graph | None) -> Report:
    """The report with the graph's TikZ picture in front of its tables (LaTeX output)."""
    if graph is None:
        return report
    return replace(report, figure=Figure(TITLE, (), draw_tikz(graph)))

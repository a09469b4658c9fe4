"""A solution's computational graph, laid out for drawing (worked/graph_drawing.py draws it).

The picture is the circuit of lecture notes: inputs on the left, the output on the right, each
node a box, and on every wire the value it carries (above) and the gradient of the output with
respect to that value (below). A wire leaving a node carries the node's value and ∂f/∂node (a
variable used twice is drawn once per use, each copy with its total ∂f/∂x).

Columns are the longest path from the inputs; an input (a variable, a number, a weight) stands
in the column just before its first user (a network's weights beside the activations they
multiply), so a parameter of the last layer is not drawn at the far left with a wire across the
whole picture. An expression's graph is a tree once its shared
variables are copied per use, so each leaf gets a lane of its own and each operation takes the
lane of its first input: the text drawing needs nothing more to route its wires without
crossings. A network's graph is not a tree (every activation feeds every unit above it); it is
drawn in DOT and TikZ, where wires may cross.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine.arithmetic import PRECISE
from backprop_tutor.engine.evaluation import Evaluation

from backprop_tutor.engine.expression import ExpressionSolution, GraphNode
from backprop_tutor.engine.quantities import Kind, QuantityId
from backprop_tutor.engine.solution import NetworkSolution
from backprop_tutor.worked.notation import function, symbol

_OP_TEXT = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "^", "neg": "−", "pos": "+"}
_OP_TEX = {"add": "+", "sub": "-", "mul": r"\times", "div": r"\div", "pow": r"\wedge", "neg": "-", "pos": "+"}


@dataclass(frozen=True)
class Box:
    key: str  # unique in the drawing (a copied variable gets n0, n0.2, …)
    text: str  # what the box says, Unicode
    tex: str  # the same, LaTeX math
    column: int
    lane: float  # top to bottom; whole numbers for a tree
    leaf: bool


@dataclass(frozen=True)
class Wire:
    source: str  # a Box key
    target: str | None  # None: the output's wire, leaving the picture
    value: sp.Expr
    grad: sp.Expr | None  # None where no gradient flows back (a fixed exponent)


@dataclass(frozen=True)
class Graph:
    title: str
    boxes: tuple[Box, ...]
    wires: tuple[Wire, ...]
    tree: bool  # every box has at most one wire out: the text drawing can route it

    def box(self, key: str) -> Box:
        return next(b for b in self.boxes if b.key == key)

    def inputs_of(self, key: str) -> tuple[Wire, ...]:
        return tuple(w for w in self.wires if w.target == key)


def graph_of(solution) -> Graph | None:
    """The graph of an expression's or a network's solution; None for what has none (an
    activation problem)."""
    if isinstance(solution, ExpressionSolution):
        return expression_graph(solution)
    if isinstance(solution, NetworkSolution) and solution.network.recurrent is not None:
        return None  # a recurrent cell's unrolled graph is not drawn (its worked steps show each step)
    if isinstance(solution, NetworkSolution) and solution.network.examples is not None:
        # every example has the same graph: the first one's is drawn, with its own loss and gradients
        from dataclasses import replace

        from backprop_tutor.worked.minibatch import example_view

        drawn = network_graph(example_view(solution, 1))
        return replace(drawn, title=f"example 1 of the batch of {len(solution.network.examples)} (L₁, ∂L₁/∂·): "
                       + drawn.title)
    if isinstance(solution, NetworkSolution) and any(layer.kernel is not None for layer in solution.network.layers):
        return None  # a conv1d layer's shared kernel is not one wire per weight: no drawing yet
    if isinstance(solution, NetworkSolution):
        return network_graph(solution)
    return None


def expression_graph(sol: ExpressionSolution) -> Graph:
    by_id = {n.id: n for n in sol.nodes}
    boxes: dict[str, dict] = {}
    wires: list[Wire] = []
    uses: dict[str, int] = {}
    lanes = [0]  # the next free lane

    def place(node: GraphNode) -> tuple[str, int, int]:
        """The node's box (a copy per use of a variable), its column and lane; its subtree first
        (recursion is safe: the parser nests at most 50 deep)."""
        if not node.inputs:
            uses[node.id] = uses.get(node.id, 0) + 1
            key = node.id if uses[node.id] == 1 else f"{node.id}.{uses[node.id]}"
            boxes[key] = {"node": node, "column": 0, "lane": lanes[0]}
            lanes[0] += 1
            return key, 0, boxes[key]["lane"]
        placed = [place(by_id[i]) for i in node.inputs]
        column = 1 + max(c for _, c, _ in placed)
        key = node.id
        boxes[key] = {"node": node, "column": column, "lane": placed[0][2]}
        flows = {i for i, _ in node.local}
        for (child, _, _), input_id in zip(placed, node.inputs):
            source = by_id[input_id]
            wires.append(Wire(child, key, source.value, source.grad if input_id in flows else None))
        return key, column, placed[0][2]

    root = by_id[sol.output]
    out_key, _, _ = place(root)
    wires.append(Wire(out_key, None, root.value, root.grad))
    _pull_leaves_right(boxes, wires)
    laid = tuple(Box(key, _node_text(b["node"]), _node_tex(b["node"]), b["column"], b["lane"], not b["node"].inputs)
                 for key, b in boxes.items())
    return Graph(f"f = {sol.echo}", laid, tuple(wires), tree=True)


def _pull_leaves_right(boxes: dict[str, dict], wires: list[Wire]) -> None:
    """An input stands just before its user (its lane is its own, so nothing is in the way)."""
    for wire in wires:
        if wire.target is not None and wire.source in boxes and not boxes[wire.source]["node"].inputs:
            boxes[wire.source]["column"] = boxes[wire.target]["column"] - 1


def _node_text(node: GraphNode) -> str:
    if not node.inputs:
        return node.label
    if node.op in _OP_TEXT:
        return _OP_TEXT[node.op]
    return function(node.op) if node.op in activations.ELEMENTWISE else node.op  # σ, as the formulas write it


def _node_tex(node: GraphNode) -> str:
    if not node.inputs:
        return sp.latex(node.value) if node.op == "const" else _tex_name(node.label)
    if node.op in _OP_TEX:
        return _OP_TEX[node.op]
    return r"\operatorname{" + node.op.replace("_", r"\_") + "}"


def _tex_name(name: str) -> str:
    """A variable as LaTeX math: one letter as is, a longer name upright."""
    return name if len(name) == 1 else r"\mathrm{" + name.replace("_", r"\_") + "}"


def network_graph(sol: NetworkSolution) -> Graph:
    """x → z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾ → a⁽¹⁾ = f(z⁽¹⁾) → … → L: a box per input, weight, bias,
    pre-activation and activation, and the loss. Each wire carries its source's value and ∂L/∂ of it."""
    net, n = sol.network, sol.numeric
    grad_a = _activation_gradients(sol)
    columns: list[list[Box]] = []
    wires: list[Wire] = []

    def add(column: int, key: str, text: str, tex: str, leaf: bool) -> str:
        while len(columns) <= column:
            columns.append([])
        columns[column].append(Box(key, text, tex, column, 0, leaf))
        return key

    for k in range(len(n.a[0])):
        add(0, f"a0_{k}", symbol("x", None, k), symbol("x", None, k, tex=True), True)
    for l, layer in enumerate(net.layers, 1):
        # a layer's weights and biases stand beside the activations they multiply, so no wire
        # into z⁽ˡ⁾ passes through a column of boxes
        below, z_col, a_col = 2 * l - 2, 2 * l - 1, 2 * l
        for j in range(layer.units):
            z = add(z_col, f"z{l}_{j}", symbol("z", l, j), symbol("z", l, j, tex=True), False)
            for k in range(len(layer.weights[j])):
                w = add(below, f"w{l}_{j}_{k}", symbol("w", l, j, k), symbol("w", l, j, k, tex=True), True)
                wires.append(Wire(w, z, layer.weights[j][k], n.grad_W[l][j][k]))
                wires.append(Wire(f"a{l - 1}_{k}", z, n.a[l - 1][k], grad_a[l - 1][k]))
            b = add(below, f"b{l}_{j}", symbol("b", l, j), symbol("b", l, j, tex=True), True)
            wires.append(Wire(b, z, layer.bias[j], n.grad_b[l][j]))
            name = function(layer.activation)
            a = add(a_col, f"a{l}_{j}", f"{name}: {symbol('a', l, j)}",
                    f"{function(layer.activation, True)}: {symbol('a', l, j, tex=True)}", False)
            wires.append(Wire(z, a, n.z[l][j], n.delta[l][j]))
    L = len(net.layers)
    loss = add(2 * L + 1, "L", f"L ({net.loss})", r"L\ (\mathrm{" + net.loss.replace("_", r"\_") + "})", False)
    for j, value in enumerate(n.a[L]):
        wires.append(Wire(f"a{L}_{j}", loss, value, n.dL_da[j]))
    wires.append(Wire(loss, None, n.loss, sp.Integer(1)))
    boxes = []
    for column in columns:  # each column's boxes centred on one line
        middle = (len(column) - 1) / 2
        boxes += [Box(b.key, b.text, b.tex, b.column, i - middle, b.leaf) for i, b in enumerate(column)]
    title = net.name or "Network " + "-".join(str(s) for s in net.sizes)
    return Graph(title, tuple(boxes), tuple(wires), tree=False)


def _activation_gradients(sol: NetworkSolution) -> list[list[sp.Expr]]:
    """∂L/∂a⁽ˡ⁾ₖ for every layer, the input's included, by the engine's `activation_gradient` rule.
    Evaluated on the drawn network itself: a batch's example view shares the batch's evaluation."""
    net, n = sol.network, sol.numeric
    ids = [[QuantityId(Kind.ACTIVATION_GRADIENT, l, (k,)) for k in range(len(n.a[l]))] for l in range(len(net.layers) + 1)]
    flat = Evaluation(net, PRECISE).values(tuple(i for row in ids for i in row), finish=True)
    values = iter(flat)
    return [[next(values) for _ in row] for row in ids]

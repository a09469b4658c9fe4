"""The computational graph of an expression, evaluated and backpropagated exactly.

The graph mirrors what was typed (not SymPy's canonical form): one node per variable (shared
by every use), per number, and per operation, in post-order from left to right. Each operation
is a SymPy expression in placeholders u0, u1, …; its local derivatives are `sympy.diff` of it.
Backprop then walks the nodes in reverse, adding upstream·local into each input, as in
micrograd: add passes the gradient through, multiply swaps the other input's value in, max
routes it to the larger input.

Ties: max(u, v) routes the whole gradient to the first argument when u = v (min likewise);
relu′(0) = 0 and abs′(0) = 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from backprop_tutor.engine import numbers as num
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.engine.parsing import (_FUNCTIONS, Call, Constant, Name, Number, Unary, Vector, _split,
                                    check_number, check_power, parse, to_sympy, unparse, variables_of)
from backprop_tutor.worked.steps import Step
from backprop_tutor.worked.texescape import escape

_U = sp.symbols("u0:8", real=True)
_OP_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow"}
_RULES = {
    "add": "add passes the gradient to both inputs unchanged",
    "sub": "subtract passes it on, with a minus sign for the second input",
    "mul": "multiply swaps: each input gets the other input's value times the upstream gradient",
    "div": "divide: ∂(u/v)/∂u = 1/v and ∂(u/v)/∂v = −u/v²",
    "max": "max routes the whole gradient to the larger input (the first one at a tie)",
    "min": "min routes the whole gradient to the smaller input (the first one at a tie)",
    "neg": "negation flips the sign",
}


@dataclass(frozen=True)
class GraphNode:
    id: str
    op: str  # var, const, add, sub, mul, div, pow, neg, or a function name
    label: str  # the subexpression it computes, as typed
    inputs: tuple[str, ...]
    value: sp.Expr
    local: tuple[tuple[str, sp.Expr], ...]  # (input id, ∂node/∂input), exact
    grad: sp.Expr  # ∂f/∂node, exact


@dataclass(frozen=True)
class ExpressionSolution:
    expression: str
    echo: str
    expr: sp.Expr
    at: dict
    value: sp.Expr
    gradient: dict
    nodes: tuple[GraphNode, ...]
    steps: tuple[Step, ...]


@lru_cache(maxsize=None)
def _op_expr(op: str, arity: int) -> sp.Expr:
    u = _U[:arity]
    if op == "add":
        return u[0] + u[1]
    if op == "sub":
        return u[0] - u[1]
    if op == "mul":
        return u[0] * u[1]
    if op == "div":
        return u[0] / u[1]
    if op == "pow":
        return u[0] ** u[1]
    if op == "neg":
        return -u[0]
    if op == "pos":
        return u[0]
    if op in ("max", "min"):
        better = (lambda a, b: a >= b) if op == "max" else (lambda a, b: a <= b)
        branches = [(u[i], sp.And(*[better(u[i], u[k]) for k in range(arity) if k != i])) for i in range(arity - 1)]
        return sp.Piecewise(*branches, (u[arity - 1], True))
    if op == "abs":
        return sp.Piecewise((u[0], u[0] > 0), (-u[0], u[0] < 0), (0, True))
    return _FUNCTIONS[op][1](list(u))


def parse_assignments(text: str) -> dict[str, sp.Expr]:
    """`w=0.5,x=1,b=0` → exact values. Values are numbers or arithmetic (1/3, pi/4), no variables."""
    values: dict[str, sp.Expr] = {}
    if not text.strip():
        return values
    for pair in _top_level_pieces(text):
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise AnswerFormatError(f"--at: {pair.strip()!r} is not NAME=VALUE; write e.g. --at w=0.5,x=1")
        if not name.isidentifier() or not name[0].isalpha():
            raise AnswerFormatError(f"--at: {name!r} is not a variable name")
        if name in values:
            raise AnswerFormatError(f"--at gives {name!r} twice")
        try:
            number = to_sympy(parse(value, variables=()))
        except AnswerFormatError as e:
            raise AnswerFormatError(f"--at {name}={value.strip()}: {e}") from None
        if isinstance(number, list) or not (number.is_real and number.is_finite):
            raise AnswerFormatError(f"--at {name}={value.strip()}: expected a real number")
        values[name] = number
    return values


def _top_level_pieces(text: str) -> list[str]:
    """Split at commas outside brackets, so `w=max(1, 2)` stays one pair."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "([") - (ch in ")]")
        if ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    return pieces + [text[start:]]


def _parse_for(text: str, at: Mapping[str, sp.Expr]):
    """Parse with the names of --at declared (so `wx` means w·x and `e` may be a variable); when a
    name has no value, say which one: a name that is not a run of given names."""
    try:
        return parse(text, variables=tuple(at))
    except AnswerFormatError as declared:
        loose = parse(text)  # a syntax error is reported as such
        for name in variables_of(loose):
            if name not in at and _split(name, set(at)) is None:
                raise AnswerFormatError(f"no value for {name!r}: add it to --at, e.g. --at {name}=0.5") from None
        raise declared from None


def solve_expression(text: str, at: Mapping[str, sp.Expr]) -> ExpressionSolution:
    tree = _parse_for(text, at)
    if isinstance(tree, Vector):
        raise AnswerFormatError("a single expression is expected, not a list")
    names = variables_of(tree)
    for name in at:
        if name not in names:
            raise AnswerFormatError(f"--at gives {name!r}, which the expression does not use")
    builder = _Builder(at)
    output = builder.visit(tree)
    nodes = builder.nodes
    grads = _backward(nodes, output)
    finished = tuple(
        GraphNode(n["id"], n["op"], n["label"], n["inputs"], n["value"], n["local"], grads.get(n["id"], sp.Integer(0)))
        for n in nodes
    )
    by_id = {n.id: n for n in finished}
    gradient = {name: by_id[builder.variables[name]].grad for name in names}
    expr = to_sympy(tree)
    solution = ExpressionSolution(text, unparse(tree), expr, dict(at), by_id[output].value, gradient, finished, ())
    return ExpressionSolution(**{**solution.__dict__, "steps": _steps(solution, output)})


class _Builder:
    def __init__(self, at: Mapping[str, sp.Expr]):
        self.at = at
        self.nodes: list[dict] = []
        self.variables: dict[str, str] = {}

    def add(self, op: str, label: str, inputs: tuple[str, ...], value: sp.Expr, local=()) -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append({"id": node_id, "op": op, "label": label, "inputs": inputs, "value": value, "local": local})
        return node_id

    def value_of(self, node_id: str) -> sp.Expr:
        return self.nodes[int(node_id[1:])]["value"]

    def visit(self, n) -> str:
        if isinstance(n, Name):
            if n.name not in self.variables:
                self.variables[n.name] = self.add("var", n.name, (), self.at[n.name])
            return self.variables[n.name]
        if isinstance(n, Number):
            return self.add("const", n.text, (), sp.Rational(n.text))
        if isinstance(n, Constant):
            return self.add("const", unparse(n), (), to_sympy(n))
        if isinstance(n, Vector):
            raise AnswerFormatError("vectors cannot appear inside an expression")
        if isinstance(n, Unary):
            children, op = (n.operand,), ("neg" if n.op == "-" else "pos")
        elif isinstance(n, Call):
            children, op = n.args, n.func
        else:
            children, op = (n.left, n.right), _OP_NAMES[n.op]
        inputs = tuple(self.visit(c) for c in children)
        values = [self.value_of(i) for i in inputs]
        expr = _op_expr(op, len(inputs))
        subs = dict(zip(_U, values))
        label = unparse(n)
        if op == "pow":  # x^y at x=10, y=10^5 must be refused before it is computed
            try:
                check_power(*values)
            except AnswerFormatError as e:
                raise AnswerFormatError(f"{label} at node n{len(self.nodes)}: {e}") from None
        value = _checked(expr.xreplace(subs), label, f"n{len(self.nodes)}")
        local = []
        for k, input_id in enumerate(inputs):
            if self.nodes[int(input_id[1:])]["op"] == "const" and op == "pow" and k == 1:
                continue  # a fixed exponent needs no derivative (and ln of a negative base has none)
            derivative = _checked(sp.diff(expr, _U[k]).xreplace(subs), label, f"n{len(self.nodes)}")
            local.append((input_id, derivative))
        return self.add(op, label, inputs, value, tuple(local))


def _checked(value: sp.Expr, label: str, node_id: str) -> sp.Expr:
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise AnswerFormatError(f"{label} is not defined at these values (node {node_id}: division by zero "
                                "or an infinite value)")
    approx = sp.N(value, 20)
    if not approx.is_real:
        raise AnswerFormatError(f"{label} is not a real number at these values (node {node_id}: e.g. the log or "
                                "square root of a negative number)")
    return check_number(value, f"{label} at these values (node {node_id})")  # exp(10^999): exact, unprintable


def _backward(nodes: list[dict], output: str) -> dict[str, sp.Expr]:
    grads: dict[str, sp.Expr] = {output: sp.Integer(1)}
    for node in reversed(nodes):
        upstream = grads.get(node["id"])
        if upstream is None:
            continue
        for input_id, local in node["local"]:
            grads[input_id] = grads.get(input_id, sp.Integer(0)) + upstream * local
    return grads


# --- the worked solution -----------------------------------------------------------------------

def _steps(sol: ExpressionSolution, output: str) -> tuple[Step, ...]:
    by_id = {n.id: n for n in sol.nodes}
    at = ", ".join(f"{k} = {num.pretty(v)}" for k, v in sol.at.items())
    ops = [n for n in sol.nodes if n.op not in ("var", "const")]
    forward_text, forward_tex = [], []
    for n in ops:
        args = ", ".join(f"{i} = {num.pretty(by_id[i].value)}" for i in n.inputs)
        forward_text.append(f"  {n.id} = {n.label} = {num.pretty(n.value)}    ({n.op} of {args})")
        forward_tex.append(rf"\[ {n.id} = {sp.latex(_label_expr(n, by_id))} = {num.latex(n.value)} \]")
    steps = [Step("The graph, forward", f"f = {sol.echo} at {at}, one node per operation:\n" + "\n".join(forward_text),
                  f"f = {escape(sol.echo)} at {escape(at)}, one node per operation:\n" + "\n".join(forward_tex))]
    back_text = [f"  ∂f/∂{output} = 1 (the output)"]
    back_tex = [rf"\[ \frac{{\partial f}}{{\partial {output}}} = 1 \]"]
    users: dict[str, list[tuple[GraphNode, sp.Expr]]] = {}
    for n in sol.nodes:
        for input_id, local in n.local:
            users.setdefault(input_id, []).append((n, local))
    for n in reversed(sol.nodes):
        if n.id == output or n.id not in users or n.op == "const":
            continue
        terms = [num.product([user.grad, local]) for user, local in users[n.id]]
        symbols = " + ".join(f"∂f/∂{user.id}·∂{user.id}/∂{n.id}" for user, _ in users[n.id])
        rules = sorted({_RULES[user.op] for user, _ in users[n.id] if user.op in _RULES})
        note = f"    ({'; '.join(rules)})" if rules else ""
        name = n.label if n.op == "var" else n.id
        back_text.append(f"  ∂f/∂{name} = {symbols} = {num.signed_sum(terms)} = {num.pretty(n.grad)}{note}")
        tex_terms = [num.product([user.grad, local], tex=True) for user, local in users[n.id]]
        back_tex.append(rf"\[ \frac{{\partial f}}{{\partial {escape(name) if n.op != 'var' else name}}} = "
                        f"{num.signed_sum(tex_terms, tex=True)} = {num.latex(n.grad)} \\]")
    steps.append(Step("Backward: the chain rule, node by node from the output",
                      "\n".join(back_text), "\n".join(back_tex)))
    grads = ", ".join(f"∂f/∂{k} = {num.pretty(g)}" for k, g in sol.gradient.items())
    steps.append(Step("The gradient", grads, escape(grads)))
    steps.append(_nudge_step(sol))
    return tuple(steps)


def _label_expr(n: GraphNode, by_id) -> sp.Expr:
    return sp.Symbol(n.label.replace(" ", "")) if n.op in ("var", "const") else _op_expr(n.op, len(n.inputs)).xreplace(
        {u: sp.Symbol(i) for u, i in zip(_U, n.inputs)})


def _nudge_step(sol: ExpressionSolution) -> Step:
    """The derivative seen as a limit: nudge the first variable and watch the ratio."""
    if not sol.gradient:
        return Step("No variables", "The expression is a constant: its value does not depend on anything.",
                    "The expression is a constant.")
    name = next(iter(sol.gradient))
    symbol = next(s for s in sol.expr.free_symbols if s.name == name)
    point = {s: sol.at[s.name] for s in sol.expr.free_symbols}
    base = sp.N(sol.expr.xreplace(point), 50)
    text, tex = [], []
    for h in ("0.1", "0.01", "0.001"):
        step = sp.Rational(h)
        moved = sp.N(sol.expr.xreplace({**point, symbol: point[symbol] + step}), 50)
        ratio = (moved - base) / step
        text.append(f"  h = {h}: (f({name}+h) − f({name}))/h = {num.pretty(ratio, 8)}")
        tex.append(rf"\[ h = {h}: \frac{{f({name}+h) - f({name})}}{{h}} = {num.latex(ratio, 8)} \]")
    derivative = num.pretty(sol.gradient[name], 8)
    return Step(f"Why: nudge {name} and watch f",
                f"Change {name} a little and f changes by about ∂f/∂{name} times as much:\n" + "\n".join(text)
                + f"\nThe ratios approach ∂f/∂{name} = {derivative}.",
                f"Change ${name}$ a little and $f$ changes by about $\\partial f/\\partial {name}$ times as much:\n"
                + "\n".join(tex) + f"\nThe ratios approach ${num.latex(sol.gradient[name], 8)}$.")

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
from functools import cached_property, lru_cache

import mpmath
import sympy as sp

from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.engine.numbers import exact_number
from backprop_tutor.engine.parsing import (_FUNCTIONS, Call, Constant, Name, Number, Unary, Vector, _split,
                                    check_power, check_size, parse, to_sympy, unparse, variables_of)

_U = sp.symbols("u0:8", real=True)
_OP_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow"}


@dataclass(frozen=True)
class GraphNode:
    id: str
    op: str  # var, const, add, sub, mul, div, pow, neg, or a function name
    label: str  # the subexpression it computes, as typed
    inputs: tuple[str, ...]
    value: sp.Expr
    local: tuple[tuple[str, sp.Expr], ...]  # (input id, ∂node/∂input), exact
    grad: sp.Expr  # ∂f/∂node, exact

    def formula(self) -> sp.Expr:
        """The operation on its inputs, named by their ids (n2 = n0·n1): how a step writes the node."""
        return _formula(self.op, self.inputs)


@dataclass(frozen=True)
class ExpressionSolution:
    expression: str
    echo: str
    expr: sp.Expr
    at: dict
    value: sp.Expr
    gradient: dict
    nodes: tuple[GraphNode, ...]

    @property
    def output(self) -> str:
        """The id of the node that computes f: the root, which post-order puts last."""
        return self.nodes[-1].id

    def nudged(self, name: str, h: sp.Rational, dps: int = 50) -> sp.Float:
        """f with the variable `name` moved by h, to `dps` digits: (f(x+h) − f(x))/h approaches ∂f/∂x,
        the derivative seen as a limit."""
        return self._numeric_at({**self.at, name: self.at[name] + h}, dps)

    def nudge_ratio(self, name: str, h: sp.Rational) -> sp.Float:
        """(f(x + h) − f(x))/h for the variable `name`."""
        return (self.nudged(name, h) - self._unmoved) / h

    @cached_property
    def _unmoved(self) -> sp.Float:
        """f at the point itself, to 50 digits: the f(x) of every nudge ratio, computed once."""
        return self._numeric_at(self.at, 50)

    def _numeric_at(self, point: Mapping[str, sp.Expr], dps: int) -> sp.Float:
        approx = _numeric_value(self.nodes, point, dps)
        if approx is not None:
            return approx
        # A variable may be gone from the whole form (x*y - y*x + y); moving it then changes nothing.
        return sp.N(self.expr.xreplace({s: point[s.name] for s in self.expr.free_symbols}), dps)


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


@lru_cache(maxsize=4096)  # the variants of a template share the shape of their graph
def _formula(op: str, inputs: tuple[str, ...]) -> sp.Expr:
    return _op_expr(op, len(inputs)).xreplace({u: sp.Symbol(i) for u, i in zip(_U, inputs)})


@lru_cache(maxsize=None)  # an op's local derivative is the same formula in every graph; diff costs
def _local_expr(op: str, arity: int, k: int) -> sp.Expr:
    """∂op/∂(input k), in the placeholders u0, u1, …"""
    if op == "pow" and k == 0:
        # The power rule as written, u1·u0^(u1 − 1): SymPy's own diff gives u1·u0^u1/u0, which is
        # 0/0 at u0 = 0, so x² at x = 0 was refused as "not defined".
        return _U[1] * _U[0] ** (_U[1] - 1)
    return sp.diff(_op_expr(op, arity), _U[k])


def parse_assignments(text: str, option: str = "--at") -> dict[str, sp.Expr]:
    """`w=0.5,x=1,b=0` → exact values. Values are numbers or arithmetic (1/3, pi/4), no variables.
    Errors name `option` as their source: --at on the command line, expression.at in a template."""
    values: dict[str, sp.Expr] = {}
    if not text.strip():
        return values
    for pair in _top_level_pieces(text):
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise AnswerFormatError(f"{pair.strip()!r} is not NAME=VALUE", source=option,
                                    fix=f"write e.g. {option} w=0.5,x=1")
        if not name.isidentifier() or not name[0].isalpha():
            raise AnswerFormatError(f"{name!r} is not a variable name", source=option)
        if name in values:
            raise AnswerFormatError(f"{name!r} is given twice", source=option)
        where = f"{option} {name}={value.strip()}"
        try:
            number = to_sympy(parse(value, variables=()))
        except AnswerFormatError as e:
            raise e.located(source=where) from None
        if isinstance(number, list) or not (number.is_real and number.is_finite):
            raise AnswerFormatError("expected a real number", source=where)
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


def _parse_for(text: str, at: Mapping[str, sp.Expr], option: str):
    """Parse with the names of --at declared (so `wx` means w·x and `e` may be a variable); when a
    name has no value, say which one: a name that is not a run of given names."""
    try:
        return parse(text, variables=tuple(at), subject="the expression")
    except AnswerFormatError as declared:
        loose = parse(text, subject="the expression")  # a syntax error is reported as such
        for name in variables_of(loose):
            if name not in at and _split(name, set(at)) is None:
                raise AnswerFormatError(f"no value for {name!r}", source=option,
                                        fix=f"give it one, e.g. {name}=0.5 in {option}") from None
        raise declared from None


def solve_expression(text: str, at: Mapping[str, sp.Expr], option: str = "--at") -> ExpressionSolution:
    """The expression's graph, evaluated at `at` and backpropagated. AnswerFormatError about the
    text has no source; one about the values has `option` as its source."""
    tree = _parse_for(text, at, option)
    if isinstance(tree, Vector):
        raise AnswerFormatError("a single expression is expected, not a list")
    depth = _call_depth(tree)
    if depth > MAX_CALL_DEPTH:
        raise AnswerFormatError(f"functions nested {depth} deep", fix=f"`tutor solve --expression` works through "
                                f"functions nested at most {MAX_CALL_DEPTH} deep")
    names = variables_of(tree)
    for name in at:
        if name not in names:
            raise AnswerFormatError(f"{name!r} is not in the expression", source=option, fix="leave it out")
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
    return ExpressionSolution(text, unparse(tree), expr, dict(at), by_id[output].value, gradient, finished)


# The worked steps print every node's ∂f/∂node from its exact form, and each is a product over the
# nest above it (tanh(tanh(…)) 20 deep took 25 s, 49 deep 283 s): the cost grows faster than the
# nest, so the depth is limited up front (docs/formats.md): tanh or sigmoid 8 deep solves in about 2 s.
MAX_CALL_DEPTH = 8


def _call_depth(tree) -> int:
    """How deeply function calls nest in the tree (walked without recursion)."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Call):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((arg, depth) for arg in node.args)
        elif isinstance(node, Unary):
            stack.append((node.operand, depth))
        elif hasattr(node, "left"):
            stack.extend(((node.left, depth), (node.right, depth)))
        elif isinstance(node, Vector):
            stack.extend((item, depth) for item in getattr(node, "items", ()))
    return deepest


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
        divisor = values[1] if op == "div" else values[0] if op == "pow" and exact_number(values[1], 15) < 0 else None
        if divisor is not None and _exactly_zero(divisor):
            raise AnswerFormatError(f"{label} is not defined at these values (node n{len(self.nodes)}: division by "
                                    "zero, the divisor simplifies to 0)")
        value = _checked(expr.xreplace(subs), label, f"n{len(self.nodes)}")
        local = []
        for k, input_id in enumerate(inputs):
            if self.nodes[int(input_id[1:])]["op"] == "const" and op == "pow" and k == 1:
                continue  # a fixed exponent needs no derivative (and ln of a negative base has none)
            derivative = _checked(_local_expr(op, len(inputs), k).xreplace(subs), label, f"n{len(self.nodes)}")
            local.append((input_id, derivative))
        return self.add(op, label, inputs, value, tuple(local))


def _exactly_zero(value: sp.Expr) -> bool:
    """Whether an exact form is 0 though SymPy left it unsimplified (cosh(w)² − sinh(w)² − 1): its
    decimals are then rounding noise (−0.e-165), and 1/it printed as −1.5×10¹⁶⁴ with a zero
    gradient. Only a value whose decimals are already near 0 is simplified, so the cost is rare."""
    if value.is_Rational:
        return value == 0
    approx = exact_number(value, 30)
    if approx.is_real is not False and approx != 0 and abs(approx) > sp.Float("1e-25"):
        return False
    return bool(value.equals(0))


def _checked(value: sp.Expr, label: str, node_id: str) -> sp.Expr:
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise AnswerFormatError(f"{label} is not defined at these values (node {node_id}: division by zero "
                                "or an infinite value)")
    approx = exact_number(value, 20)
    if not approx.is_real:
        raise AnswerFormatError(f"{label} is not a real number at these values (node {node_id}: e.g. the log or "
                                "square root of a negative number)")
    # exp(10^999) is exact but unprintable. The size is judged from `approx` (asking SymPy whether an
    # exact nest is real, or for its sign, costs more than the whole evaluation); a Rational's by its digits.
    check_size(value if value.is_Rational else approx, f"{label} at these values (node {node_id})")
    return value


def _backward(nodes: list[dict], output: str) -> dict[str, sp.Expr]:
    grads: dict[str, sp.Expr] = {output: sp.Integer(1)}
    for node in reversed(nodes):
        upstream = grads.get(node["id"])
        if upstream is None:
            continue
        for input_id, local in node["local"]:
            grads[input_id] = grads.get(input_id, sp.Integer(0)) + upstream * local
    return grads


# --- f near the point, numerically ---------------------------------------------------------------

_GUARDS = (10, 20)  # extra digits of two numeric passes, which must agree


def _numeric_value(nodes: tuple[GraphNode, ...], point: Mapping[str, sp.Expr], dps: int) -> sp.Float | None:
    """f at `point` to `dps` digits by mpmath through the graph, node by node, each operation
    lambdified once: the number evalf gives of the whole exact form, without building that form
    (SymPy's automatic simplification of a nest of exp and powers costs ~10 times the arithmetic).

    None, for the caller to evaluate exactly, when this cannot be trusted: a node branches (max,
    relu, step …: a rounding error could take the other branch, and step would jump), a value leaves
    the reals, or the two passes disagree in the digits asked for (a sum cancelled most of them;
    evalf would have raised its precision)."""
    if any(n.inputs and _branches(n.op, len(n.inputs)) for n in nodes):
        return None
    passes = []
    for guard in _GUARDS:
        with mpmath.workdps(dps + guard):
            values: dict[str, mpmath.mpf] = {}
            try:
                for n in nodes:
                    if n.op == "var":
                        value = _mp(point[n.label])
                    elif n.op == "const":
                        value = _mp(n.value)
                    else:
                        value = _op_numeric(n.op, len(n.inputs))(*(values[i] for i in n.inputs))
                    if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
                        return None
                    values[n.id] = value
            except (ArithmeticError, ValueError):  # 1/0, log(0) …
                return None
            passes.append(values[nodes[-1].id])
    with mpmath.workdps(dps + _GUARDS[-1]):
        rough, fine = passes
        if abs(rough - fine) > abs(fine) * mpmath.mpf(10) ** -(dps + 2):
            return None
    return sp.Float(fine, dps)


def _mp(value: sp.Expr) -> mpmath.mpf:
    """An exact number (3/10, pi, e) at mpmath's working precision."""
    if value.is_Rational:
        return mpmath.mpf(value.p) / value.q
    return mpmath.mpf(sp.N(value, mpmath.mp.dps)._mpf_)


@lru_cache(maxsize=None)
def _branches(op: str, arity: int) -> bool:
    return _op_expr(op, arity).has(sp.Piecewise, sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign)


@lru_cache(maxsize=None)
def _op_numeric(op: str, arity: int):
    return sp.lambdify(_U[:arity], _op_expr(op, arity), "mpmath")

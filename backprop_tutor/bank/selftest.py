"""`tutor bank validate`: the self-test of a template.

For each of N seeds: generate; read every key back as a learner's answer and compare it with the
engine's value; check every numeric key by a second method (central finite differences of the
loss for gradients and deltas, an independent double-precision forward pass for values);
then check that no two seeds gave the same problem. Returns the list of problems found.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import sympy as sp

from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.bank.generate import generate
from backprop_tutor.engine.numbers import WORK_DPS
from backprop_tutor.bank.problem import Part, Problem
from backprop_tutor.bank.template import load_template

KEY_REL = 1e-10  # keys carry 12 significant digits
CHECK_REL = 1e-7  # second methods in double precision / finite differences
H = sp.Float("1e-20", WORK_DPS)


def check_template(path: Path, seeds: int = 20) -> list[str]:
    template = load_template(path)
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    for seed in range(seeds):
        problem = generate(template, seed)
        previous = seen.setdefault(problem.fingerprint(), seed)
        if previous != seed:
            problems.append(f"seeds {previous} and {seed} give the same problem; widen the parameter ranges")
        for part in problem.parts:
            for issue in _check_key(part) + _check_second_method(problem, part):
                problems.append(f"seed {seed}, part {part.id}: {issue}")
    return problems


# --- keys, read back as a learner's answer ------------------------------------------------------

def _check_key(part: Part) -> list[str]:
    from backprop_tutor.grading.grade import grade, target_of
    from backprop_tutor.engine.parsing import parse, to_sympy

    graded = grade(target_of(part), part.answer)
    if graded.status != "correct":
        return [f"the key {part.answer!r}, graded as a learner's answer, is {graded.status}: {graded.feedback}"]

    try:
        read = to_sympy(parse(part.answer, part.value.variables if part.value.expression else ()))
    except AnswerFormatError as e:
        return [f"the key {part.answer!r} cannot be read back as an answer: {e}"]
    if part.value.expression:
        return [] if _same_function(read, part.value.exact, part.value.variables) else [
            f"the key {part.answer!r} does not equal the engine's expression {part.value.exact}"]
    expected = part.value.approx
    try:
        ok = _close_nested(read, expected, KEY_REL)
    except (TypeError, ValueError):
        ok = False
    return [] if ok else [f"the key {part.answer!r} does not read back as the engine's value"]


def _same_function(a: sp.Expr, b: sp.Expr, variables) -> bool:
    rng = random.Random(0)
    symbols = {s.name: s for s in a.free_symbols | b.free_symbols}
    for _ in range(6):
        point = {symbols[v]: sp.Rational(rng.randint(-300, 300), 100) for v in variables if v in symbols}
        x, y = sp.N(a.xreplace(point), 30), sp.N(b.xreplace(point), 30)
        if not _close(x, y, 1e-12):
            return False
    return True


def _close_nested(read, expected, rel: float) -> bool:
    if isinstance(expected, tuple):
        rows = list(read) if isinstance(read, (list, tuple)) else None
        return rows is not None and len(rows) == len(expected) and all(
            _close_nested(r, e, rel) for r, e in zip(rows, expected))
    return not isinstance(read, (list, tuple)) and _close(read, expected, rel)


def _close(a, b, rel: float) -> bool:
    a, b = sp.N(a, 30), sp.N(b, 30)
    if not (a.is_number and b.is_number and a.is_real and b.is_real):
        return False
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-15


# --- second methods -----------------------------------------------------------------------------

def _check_second_method(problem: Problem, part: Part) -> list[str]:
    if part.value.expression:
        return _check_symbolic_derivative(problem, part)
    if problem.kind == "network":
        return _check_network_part(problem, part)
    if problem.kind == "activation":
        return _check_activation_part(problem, part)
    return _check_expression_part(problem, part)


def _entries(quantity: str, value) -> list[tuple[str, object]]:
    """A vector or matrix quantity, split into its scalar entries with their names."""
    if isinstance(value, tuple):
        out = []
        for i, v in enumerate(value):
            out += _entries(f"{quantity}[{i}]", v)
        return out
    return [(quantity, value)]


def _check_network_part(problem: Problem, part: Part) -> list[str]:
    sol = problem.solution
    quantity = part.quantity
    reference = _FloatNetwork(sol.network)
    issues = []
    for name, value in _entries(quantity, part.value.approx):
        expected = _second_method(sol, reference, name)
        if expected is not None and not _close(value, expected, CHECK_REL):
            issues.append(f"{name} = {sp.N(value, 15)} but a second method gives {sp.N(expected, 15)}")
    return issues


def _second_method(sol, ref: "_FloatNetwork", name: str):
    from backprop_tutor.engine.backprop import loss_at, nudged, parameters

    m = re.fullmatch(r"(dW|db|delta)(\d+)((?:\[\d+\])+)", name)
    if m:
        layer, idx = int(m[2]), [int(i) for i in re.findall(r"\d+", m[3])]
        W, b = parameters(sol.network)
        if m[1] == "dW":
            j, k = idx
            up, down = loss_at(sol.network, nudged(W, layer, j, k, H), b), loss_at(sol.network, nudged(W, layer, j, k, -H), b)
        else:
            (j,) = idx  # δ⁽ˡ⁾ⱼ = ∂L/∂b⁽ˡ⁾ⱼ
            up, down = loss_at(sol.network, W, nudged(b, layer, j, -1, H)), loss_at(sol.network, W, nudged(b, layer, j, -1, -H))
        return (up - down) / (2 * H)
    m = re.fullmatch(r"(z|a)(\d+)\[(\d+)\]", name)
    if m:
        zs, acts, _ = ref.forward()
        return (zs if m[1] == "z" else acts)[int(m[2])][int(m[3])]
    if name == "loss":
        return ref.forward()[2]
    m = re.fullmatch(r"nudge\((W|b)(\d+)((?:\[\d+\])+),([0-9.eE+-]+)\)", name)
    if m:
        h = float(m[4])
        idx = tuple(int(i) for i in re.findall(r"\d+", m[3]))
        return (ref.moved(m[1], int(m[2]), idx, h).forward()[2] - ref.forward()[2]) / h
    return None  # given numbers and updates are checked through the quantities they come from


def _check_activation_part(problem: Problem, part: Part) -> list[str]:
    from backprop_tutor.engine.activations import ELEMENTWISE

    sol = problem.solution
    f = ELEMENTWISE[sol.name]
    quantity = part.quantity
    if quantity == "derivative_at":
        fd = (sp.N(f(sol.point + H), WORK_DPS) - sp.N(f(sol.point - H), WORK_DPS)) / (2 * H)
        if not _close(part.value.approx, fd, CHECK_REL):
            return [f"f′({sol.point}) = {sp.N(part.value.approx, 15)} but a central difference gives {sp.N(fd, 15)}"]
    if quantity == "value":
        direct = _FLOAT_ACTIVATIONS[sol.name](float(sol.point))
        if not _close(part.value.approx, direct, CHECK_REL):
            return [f"f({sol.point}) = {sp.N(part.value.approx, 15)} but double precision gives {direct}"]
    return []


def _check_symbolic_derivative(problem: Problem, part: Part) -> list[str]:
    from backprop_tutor.engine.activations import ELEMENTWISE, z

    if problem.kind != "activation":
        return []
    f = ELEMENTWISE[problem.solution.name]
    rng = random.Random(1)
    for _ in range(4):
        point = sp.Rational(rng.randint(-250, 250), 100)
        fd = (sp.N(f(point + H), WORK_DPS) - sp.N(f(point - H), WORK_DPS)) / (2 * H)
        mine = sp.N(part.value.exact.xreplace({z: point}), WORK_DPS)
        if not _close(mine, fd, CHECK_REL):
            return [f"the derivative key at z = {point} gives {sp.N(mine, 15)}, a central difference {sp.N(fd, 15)}"]
    return []


def _check_expression_part(problem: Problem, part: Part) -> list[str]:
    sol = problem.solution
    quantity = part.quantity
    m = re.fullmatch(r"grad\[(\w+)\]", quantity.replace(" ", ""))
    if not m:
        return []
    from backprop_tutor.engine.parsing import parse, to_sympy

    expr = to_sympy(parse(sol.expression))
    symbols = {s.name: s for s in expr.free_symbols}
    point = {symbols[k]: v for k, v in sol.at.items() if k in symbols}
    var = symbols[m[1]]
    up = sp.N(expr.xreplace({**point, var: point[var] + H}), WORK_DPS)
    down = sp.N(expr.xreplace({**point, var: point[var] - H}), WORK_DPS)
    fd = (up - down) / (2 * H)
    if not _close(part.value.approx, fd, CHECK_REL):
        return [f"∂f/∂{m[1]} = {sp.N(part.value.approx, 15)} but a central difference gives {sp.N(fd, 15)}"]
    return []


# --- an independent forward pass in double precision --------------------------------------------

def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


_FLOAT_ACTIVATIONS = {
    "identity": lambda x: x,
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "relu": lambda x: x if x > 0 else 0.0,
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    "softplus": lambda x: math.log1p(math.exp(x)),
    "elu": lambda x: x if x > 0 else math.expm1(x),
    "silu": lambda x: x * _sigmoid(x),
    "gelu": lambda x: x * (1 + math.erf(x / math.sqrt(2))) / 2,
    "gelu_tanh": lambda x: x / 2 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "step": lambda x: 1.0 if x >= 0 else 0.0,
}


class _FloatNetwork:
    def __init__(self, network, W=None, b=None):
        self.network = network
        self.W = W or [[[float(w) for w in row] for row in layer.weights] for layer in network.layers]
        self.b = b or [[float(v) for v in layer.bias] for layer in network.layers]

    def moved(self, which: str, layer: int, idx: tuple, h: float) -> "_FloatNetwork":
        W = [[list(r) for r in m] for m in self.W]
        b = [list(v) for v in self.b]
        if which == "W":
            W[layer - 1][idx[0]][idx[1]] += h
        else:
            b[layer - 1][idx[0]] += h
        return _FloatNetwork(self.network, W, b)

    def forward(self):
        a = [float(v) for v in self.network.input]
        zs, acts = [[]], [a]
        for layer, W, b in zip(self.network.layers, self.W, self.b):
            z = [sum(w * x for w, x in zip(row, a)) + bj for row, bj in zip(W, b)]
            if layer.activation == "softmax":
                top = max(z)
                e = [math.exp(v - top) for v in z]
                a = [v / sum(e) for v in e]
            else:
                a = [_FLOAT_ACTIVATIONS[layer.activation](v) for v in z]
            zs.append(z)
            acts.append(a)
        t = [float(v) for v in self.network.target]
        n = len(a)
        squares = sum((tj - oj) ** 2 for oj, tj in zip(a, t))
        loss = {
            "half_sse": lambda: squares / 2,
            "sse": lambda: squares,
            "mse": lambda: squares / n,
            "bce": lambda: -sum(tj * math.log(oj) + (1 - tj) * math.log(1 - oj) for oj, tj in zip(a, t)) / n,
            "cross_entropy": lambda: -sum(tj * math.log(oj) for oj, tj in zip(a, t) if tj),
        }[self.network.loss]()
        return zs, acts, loss

"""A formula answer against its key: a cheap symbolic proof, then test points no learner can aim
at, then simplify (docs/formats.md, "How a formula is compared with the key")."""

from __future__ import annotations

import hashlib
import random

import sympy as sp

from backprop_tutor.engine.bounded import bounded_value
from backprop_tutor.engine.dag import free_symbols_of, tree_larger_than


TEST_POINTS = 12  # points a formula must agree at, when no cheap symbolic proof settles it
POINT_GRID = 1000  # test points are multiples of 1/1000 in [−2.5, 2.5]
PROOF_SIZE = 60  # operations in each expression, at most, for the symbolic proof to be tried
PROOF_POWER = 6  # and no integer power above this (expanding (z + 1)^1000 is costly)
PROOF_TREE = 20 * PROOF_SIZE  # nodes of the tree, at most, before the operations are counted


def equivalent(a: sp.Expr, b: sp.Expr, variables: tuple[str, ...], points: int = TEST_POINTS) -> bool:
    """A cheap symbolic proof first, then evaluation at test points, then SymPy's simplify only
    when the points cannot decide.

    The proof is `expand(a − b) == 0` on small expressions only (a size cap, not a timer, so the
    verdict is the same on every machine); it settles the usual forms (σ(z) − σ(z)² against
    σ(z)(1 − σ(z))). Otherwise an answer that agrees at `points` test points to 1e-9 is accepted
    (WeBWorK's test). The points come from a hash of the answer, not a fixed seed: a
    learner who adds c·(z − p₁)(z − p₂)… to the key changes the points by writing it, so no
    answer can be made to vanish at them. Simplify settles the rest: expressions undefined at
    every point tried."""
    if a is b or _fingerprint(a) == _fingerprint(b) or _difference_vanishes(sp.expand, a, b):
        return True
    verdict = _agree_at_points(a, b, variables, points)
    if verdict is not None:
        return verdict
    return _difference_vanishes(sp.simplify, a, b)


def _small(expr: sp.Expr) -> bool:
    """Whether an expression is small enough for expand/simplify to be cheap: few operations
    and no large integer power."""
    if tree_larger_than(expr, PROOF_TREE):  # count_ops and atoms walk the tree, 3^depth for elu nests
        return False
    if any(p.exp.is_Integer and abs(p.exp) > PROOF_POWER for p in expr.atoms(sp.Pow)):
        return False
    return sp.count_ops(expr) <= PROOF_SIZE


def _difference_vanishes(rewrite, a: sp.Expr, b: sp.Expr) -> bool:
    """Whether `rewrite` (expand, simplify) takes a − b to 0; tried on small expressions only."""
    if not (_small(a) and _small(b)):
        return False
    try:
        return rewrite(a - b) == 0
    except (TypeError, ValueError, RecursionError, ArithmeticError):
        return False


def _point_source(answer: sp.Expr, variables: tuple[str, ...]) -> random.Random:
    """The random source of the test points: seeded by a hash of the answer as read (so `2z` and
    `2*z` get the same points, and the same answer always the same verdict). The answer alone,
    not the key: every form diagnosis tries is then compared at the same points, where the
    answer's values are already known (_value_at)."""
    text = _fingerprint(answer) + "\n" + ",".join(variables)
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def _fingerprint(expr: sp.Expr) -> str:
    """A digest of the expression's tree, in SymPy's canonical order of arguments. Not srepr or
    str: those sort the terms of a sum for printing, which evaluates them (e^(−10^740) included),
    and write out every repeat of a shared subexpression (3^depth of them for elu nests). Each
    distinct node is digested once, from its type, its value and its arguments' digests.
    Remembered for the few expressions in play: equivalent() and the test points ask for the same
    answer's and key's digests once per comparison and once per point."""
    kept = _DIGESTS.get(id(expr))
    if kept is not None and kept[0] is expr:  # the same object (held here, so its id is not reused)
        return kept[1]
    digest = _digest(expr)
    if len(_DIGESTS) >= _VALUES_KEPT:
        _DIGESTS.clear()
    _DIGESTS[id(expr)] = (expr, digest)
    return digest


def _digest(expr: sp.Expr) -> str:
    digests: dict[int, str] = {}
    stack = [expr]
    while stack:
        node = stack[-1]
        if id(node) in digests:
            stack.pop()
            continue
        waiting = [arg for arg in node.args if id(arg) not in digests]
        if waiting:  # its arguments first
            stack.extend(waiting)
            continue
        stack.pop()
        if node.is_Rational:  # in hex: a 5000-digit integer is past Python's limit for decimal text
            text = f"{type(node).__name__}:{node.p:x}/{node.q:x}"
        elif node.is_Atom:
            text = f"{type(node).__name__}:{node}"
        else:
            text = f"{type(node).__name__}(" + ",".join(digests[id(arg)] for arg in node.args) + ")"
        digests[id(node)] = hashlib.sha256(text.encode()).hexdigest()[:32]
    return digests[id(expr)]


def _agree_at_points(a: sp.Expr, b: sp.Expr, variables: tuple[str, ...], points: int) -> bool | None:
    """True/False when the values at test points decide; None when too few points were defined."""
    symbols = {s.name: s for s in (free_symbols_of(a) | free_symbols_of(b))}
    rng = _point_source(a, variables)
    half = POINT_GRID * 5 // 2
    tried = 0
    for _ in range(points * 3):
        point = {symbols[v]: sp.Rational(rng.randint(-half, half), POINT_GRID) for v in variables if v in symbols}
        y = _value_at(b, tuple(point.items()))
        if y is None:
            continue  # the expected expression cannot be evaluated here: try another point
        x = _value_at(a, tuple(point.items()))
        if x is None:
            return False  # the answer cannot even be evaluated here (e^(e^(e^(e^(4z))))): not the key
        if not (x.is_number and y.is_number) or x.free_symbols or y.free_symbols:
            return False
        if not (y.is_real and y.is_finite):
            continue  # the expected expression is undefined here: try another point
        tried += 1
        if not (x.is_real and x.is_finite) or abs(x - y) > 1e-9 * max(1, abs(y)):
            return False
        if tried >= points:
            return True
    return None


def _value_at(expr: sp.Expr, point: tuple) -> sp.Expr | None:
    """The expression at a test point, within the budget; None where it cannot be evaluated.
    Cached: diagnosis compares one answer with many forms at the same points. Keyed by the
    expression's digest, not the expression: looking up an equal but distinct one would make
    SymPy compare the two trees node by node (3^depth nodes for an elu nest)."""
    key = (_fingerprint(expr), point)
    if key not in _VALUES:
        if len(_VALUES) >= _VALUES_KEPT:
            _VALUES.clear()
        try:
            _VALUES[key] = bounded_value(expr, 30, dict(point))
        except (ArithmeticError, ValueError, TypeError, RecursionError):
            _VALUES[key] = None
    return _VALUES[key]


_VALUES: dict = {}
_VALUES_KEPT = 256
_DIGESTS: dict[int, tuple[sp.Expr, str]] = {}

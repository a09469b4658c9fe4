"""Kinks: where a piecewise function (relu, leaky_relu, step, abs, max, min) has no derivative.

At a kink the ratio (f(x + h) − f(x))/h tends to one slope from the right (h > 0) and another
from the left (h < 0), so "the ratio becomes the derivative" is false there; the value backprop
uses is a convention (relu′(0) = 0 …). A kink is found exactly: a condition of the function's
SymPy Piecewise sits on its boundary at the exact point (its two sides are equal), and the
branches on either side give different slopes or values. No float is compared.

The one-sided slopes come from the branch that holds at point + t·direction for every small
t > 0: each condition is linear in the arguments (z > 0, u0 ≥ u1), so its sign for small t is
that of its gap at the point or, when the gap is 0, of the gap's rate along the direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from backprop_tutor.engine.bounded import truth
from backprop_tutor.engine import activations
from backprop_tutor.engine.entries import values
from backprop_tutor.engine.evaluation import Evaluation
from backprop_tutor.engine.expression import ExpressionSolution
from backprop_tutor.engine.quantities import Kind, QuantityId, q
from backprop_tutor.engine.arithmetic import PRECISE
from backprop_tutor.engine.rules import gradient_of, nudged_loss
from backprop_tutor.engine.solution import NetworkSolution

# Conventions the common frameworks share (PyTorch, TensorFlow and JAX take relu′(0) = 0,
# leaky_relu′(0) = the negative slope, abs′(0) = sign(0) = 0); the others are this tool's own.
FRAMEWORK_CONVENTIONS = frozenset({"relu", "leaky_relu", "abs"})


@dataclass(frozen=True)
class Kink:
    """A function whose arguments sit where its one-sided slopes (or values) part."""

    function: str  # relu, abs, max …
    arguments: tuple[sp.Expr, ...]  # the exact point
    convention: tuple[sp.Expr, ...]  # the slopes the engine uses there (∂f/∂argument)
    jumps: bool  # the function's value itself changes across the point (step)

    def convention_text(self, pretty) -> str:
        """relu′(0) = 0, as this tool and most frameworks take it; `pretty` prints a number."""
        if len(self.arguments) == 1:
            rule = f"{self.function}′({pretty(self.arguments[0])}) = {pretty(self.convention[0])}"
        else:
            shares = ", ".join(pretty(s) for s in self.convention)
            rule = (f"at the tie {self.function}({', '.join(pretty(a) for a in self.arguments)}) the slopes "
                    f"with respect to its arguments are taken as {shares} (the whole gradient to the first)")
        who = "as this tool and most frameworks take it" if self.function in FRAMEWORK_CONVENTIONS \
            else "as this tool takes it"
        return f"{rule}, {who}"


def kink_at(function: str, expr: sp.Expr, args: Sequence[sp.Symbol], point: Sequence[sp.Expr]) -> Kink | None:
    """The kink of `expr` (a function of `args`) at the exact `point`, or None where it is smooth.
    Checked along each argument's own axis: moving it right and left must give the same slope
    and value, or the point is a kink."""
    if not isinstance(expr, sp.Piecewise) or not _on_boundary(expr, args, point):
        return None
    value = expr.xreplace(dict(zip(args, point)))
    parted = jumps = False
    for k in range(len(args)):
        sides = []
        for sign in (1, -1):
            direction = [sp.Integer(sign if i == k else 0) for i in range(len(args))]
            sides.append(one_sided(expr, args, point, direction))
        (right, right_slopes), (left, left_slopes) = sides
        jumps = jumps or right != value or left != value
        parted = parted or jumps or right_slopes[k] != left_slopes[k]
    if not parted:
        return None
    convention = tuple(sp.diff(expr, a).xreplace(dict(zip(args, point))) for a in args)
    return Kink(function, tuple(point), convention, jumps)


def activation_kink(name: str, z: sp.Expr) -> Kink | None:
    """The kink of an elementwise activation at an exact z (relu at 0), or None."""
    act = activations.ELEMENTWISE[name]
    return kink_at(name, act.expr, (activations.z,), (z,))


def one_sided(expr: sp.Expr, args: Sequence[sp.Symbol], point: Sequence[sp.Expr],
              direction: Sequence[sp.Expr]) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """The value and the gradient of the branch of `expr` that holds just past `point` along
    `direction` (at the point itself when the direction is 0)."""
    at = dict(zip(args, point))
    piece = expr
    if isinstance(expr, sp.Piecewise):
        piece = next(e for e, cond in expr.args if _holds(cond, at, dict(zip(args, direction))))
    return piece.xreplace(at), tuple(sp.diff(piece, a).xreplace(at) for a in args)


def _holds(cond, at: Mapping, direction: Mapping) -> bool:
    def compare(relation) -> bool:  # its sign at the point, or, at 0, the sign it moves to
        gap = relation.lhs - relation.rhs
        now = gap.xreplace(at)
        rate = sp.Add(*[sp.diff(gap, s).xreplace(at) * d for s, d in direction.items()])
        sign = sp.sign(now) if now != 0 else sp.sign(rate)
        return bool(type(relation)(sign, 0))

    return truth(cond, compare)


def _on_boundary(expr: sp.Piecewise, args: Sequence[sp.Symbol], point: Sequence[sp.Expr]) -> bool:
    at = dict(zip(args, point))
    return any((r.lhs - r.rhs).xreplace(at) == 0 for _, cond in expr.args
               for r in cond.atoms(sp.core.relational.Relational))  # a Piecewise's conditions are SymPy


# --- the computational graph of an expression -----------------------------------------------------

@dataclass(frozen=True)
class GraphKink:
    node: str  # the node's id
    label: str  # the subexpression, as typed
    kink: Kink


def graph_kinks(sol: ExpressionSolution) -> tuple[GraphKink, ...]:
    """The nodes of the graph that sit at a kink of their operation, in graph order."""
    by_id = {n.id: n for n in sol.nodes}
    found = []
    for n in sol.nodes:
        if not n.inputs:
            continue
        formula = n.formula()
        args = tuple(sp.Symbol(i) for i in n.inputs)
        kink = kink_at(n.op, formula, args, tuple(by_id[i].value for i in n.inputs))
        if kink is not None:
            found.append(GraphKink(n.id, n.label, kink))
    return tuple(found)


def one_sided_derivative(sol: ExpressionSolution, name: str, sign: int) -> sp.Expr | None:
    """lim (f(x + s·h) − f(x))/(s·h) as h → 0⁺ for the variable `name` (s = sign), exactly, by
    carrying each node's rate of change forward through the graph and taking, at a piecewise
    node, the branch its inputs move into. None when f jumps there (the ratio has no limit)."""
    by_id = {n.id: n for n in sol.nodes}
    rate: dict[str, sp.Expr] = {}
    for n in sol.nodes:
        if n.op == "var":
            rate[n.id] = sp.Integer(sign if n.label == name else 0)
            continue
        if not n.inputs:
            rate[n.id] = sp.Integer(0)
            continue
        formula = n.formula()
        if isinstance(formula, sp.Piecewise):
            args = tuple(sp.Symbol(i) for i in n.inputs)
            value, slopes = one_sided(formula, args, tuple(by_id[i].value for i in n.inputs),
                                      tuple(rate[i] for i in n.inputs))
            if value != n.value:
                return None
            rate[n.id] = sp.Add(*[s * rate[i] for s, i in zip(slopes, n.inputs)])
        else:
            local = dict(n.local)  # a fixed exponent has no local derivative; its rate is 0
            rate[n.id] = sp.Add(*[local[i] * rate[i] for i in n.inputs if i in local])
    return rate[sol.output] * sign  # the rate along s·h, per unit of s·h


# --- the units of a network ----------------------------------------------------------------------

# A 50-digit z this close to a breakpoint is asked whether it is exactly there (from the exact
# pass); the decision is the exact comparison, the bound only spares the exact pass elsewhere.
_NEAR = sp.Float("1e-40")
# The tiny move that tells which side of its kink a unit goes when a parameter moves: far below
# any nudge step, far above the 50-digit pass's rounding.
_PROBE = sp.Rational(1, 10**20)


@dataclass(frozen=True)
class UnitKink:
    layer: int
    unit: int
    activation: str
    kink: Kink

    @property
    def z(self) -> QuantityId:
        return q(Kind.Z, self.layer, self.unit)


def network_kinks(sol: NetworkSolution) -> tuple[UnitKink, ...]:
    """The units whose z⁽ˡ⁾ⱼ sits exactly at a kink (or jump) of their activation."""
    found = []
    for l, layer in enumerate(sol.network.layers, 1):
        act = activations.ELEMENTWISE.get(layer.activation)
        if act is None or not act.kinked:
            continue
        for j, z in enumerate(sol.numeric.z[l]):
            if not any(abs(z - b) < _NEAR for b in _breakpoints(layer.activation)):
                continue
            exact = sol.exact.z[l][j]
            kink = activation_kink(layer.activation, exact) if exact is not None else None
            if kink is not None:
                found.append(UnitKink(l, j, layer.activation, kink))
    return tuple(found)


@lru_cache(maxsize=None)  # one solve per activation, not one per unit of every variant
def _breakpoints(name: str) -> tuple[sp.Expr, ...]:
    act = activations.ELEMENTWISE[name]
    relations = {r for _, cond in act.expr.args for r in cond.atoms(sp.core.relational.Relational)}
    return tuple(dict.fromkeys(root for r in sorted(relations, key=str) for root in sp.solve(r.lhs - r.rhs, activations.z)))


def one_sided_gradient(sol: NetworkSolution, parameter: QuantityId, sign: int,
                       kinked: tuple[UnitKink, ...]) -> sp.Float | None:
    """lim (L(w + s·h) − L(w))/(s·h) as h → 0⁺: backprop re-run with each kinked unit's f′
    replaced by the slope on the side its z moves to (found by moving w by s·10⁻²⁰); None when
    a unit's value jumps there (step), so the ratio has no limit."""
    evaluation = sol.evaluation
    with evaluation.ops.context():  # the moved weight at the pass's own precision
        moved_parameter = evaluation.value(parameter) + evaluation.ops.given(sign * _PROBE)
    probe = evaluation.rerun({parameter: moved_parameter})
    slopes = {}
    for unit in kinked:
        moved = values(probe, unit.z) - unit.kink.arguments[0]
        side = 0 if abs(moved) < _NEAR else (1 if moved > 0 else -1)
        act = activations.ELEMENTWISE[unit.activation]
        value, (slope,) = one_sided(act.expr, (activations.z,), unit.kink.arguments, (sp.Integer(side),))
        if value != act.expr.xreplace({activations.z: unit.kink.arguments[0]}):
            return None
        with evaluation.ops.context():
            slopes[q(Kind.SLOPE, unit.layer, unit.unit)] = evaluation.ops.given(slope)
    sided = Evaluation(sol.network, evaluation.ops, evaluation.rules, slopes, base=evaluation)
    return values(sided, gradient_of(parameter))


def _moved_loss(sol: NetworkSolution, parameter: QuantityId, h: str) -> sp.Float:
    """L(w + h): the engine's forward pass run again (rules.nudged_loss), as a nudge check's row has it."""
    with PRECISE.context():
        return PRECISE.finish(nudged_loss(sol.evaluation, parameter, h))


def nudge_ratio(sol: NetworkSolution, parameter: QuantityId, h: str) -> sp.Float:
    """(L(w + h) − L(w))/h for any h, negative ones too: the forward pass run again."""
    return values(sol.evaluation, QuantityId(Kind.NUDGE, of=parameter, h=h))


@dataclass(frozen=True)
class SidedCheck:
    """A nudge check at a kink whose ratios from the two sides part: their limits (None where the
    loss jumps) and the ratios for −h beside the check's own for h."""

    right: sp.Float | None
    left: sp.Float | None
    below: tuple[tuple[sp.Expr, sp.Float, sp.Float], ...]  # (−h, L(w − h), its ratio) for each h of the check


def sided_checks(sol: NetworkSolution) -> dict[QuantityId, SidedCheck]:
    """The solution's nudge checks whose one-sided limits differ, by parameter; {} when no unit
    sits at a kink (a parameter that does not move the kinked unit keeps its plain check)."""
    kinked = network_kinks(sol)
    found = {}
    for check in sol.nudges if kinked else ():
        right, left = (one_sided_gradient(sol, check.parameter, s, kinked) for s in (1, -1))
        if right is not None and left is not None and right == left:
            continue
        below = tuple((-h, _moved_loss(sol, check.parameter, str(-h)), nudge_ratio(sol, check.parameter, str(-h)))
                      for h, *_ in check.rows)
        found[check.parameter] = SidedCheck(right, left, below)
    return found


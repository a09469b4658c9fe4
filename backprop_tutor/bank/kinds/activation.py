"""Activation problems: one activation f at a point z — its value f(z), its slope f′(z), and f′
as a formula. Graded with the network rules of a single unit, so a slip in f′ is named as it
would be inside a network, and f′ computed from a learner's own f(z) earns its credit."""

from __future__ import annotations

import random
from typing import Any

import sympy as sp

from backprop_tutor.bank.kinds import Instance, ProblemKind
from backprop_tutor.bank.problem import Part, Problem, Statement, Value
from backprop_tutor.bank.second_methods import CHECK_REL, FLOAT_ACTIVATIONS, central, close
from backprop_tutor.engine import activations, slips
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.activation import UNIT_Z, ActivationSolution, solve_activation
from backprop_tutor.engine.network import Network, unit_network
from backprop_tutor.engine.quantities import ACTIVATION_SLOPE, ACTIVATION_VALUE, Kind, QuantityId, parse_activation_quantity
from backprop_tutor.errors import TemplateError
from backprop_tutor.worked.texescape import escape

VALUE, SLOPE = ACTIVATION_VALUE, ACTIVATION_SLOPE


class ActivationKind(ProblemKind):
    name = "activation"

    def parse_quantity(self, text: str) -> QuantityId:
        return parse_activation_quantity(text)

    def check_choices(self, body: Any, choice) -> None:
        if isinstance(body, dict):
            choice(body.get("function"), tuple(activations.ELEMENTWISE), "an activation")

    def instantiate(self, body: Any, where: str, seed: int) -> Instance:
        from backprop_tutor.worked.activation import activation_steps

        name, point = _body(body, where)
        solution = solve_activation(name, point)
        return Instance(solution, statement(name, point), lambda: activation_steps(solution))

    def value(self, solution: ActivationSolution, quantity: QuantityId) -> Value:
        if quantity == VALUE:
            return Value(num.evaluated(solution.value), solution.value)
        if quantity == SLOPE:
            return Value(num.evaluated(solution.slope), solution.slope)
        textbook = activations.ELEMENTWISE[solution.name].textbook_derivative
        return Value(textbook, textbook, expression=True, variables=(activations.z.name,))

    def violated(self, constraints, solution: ActivationSolution) -> str | None:
        if activations.ELEMENTWISE[solution.name].kinked and abs(solution.point) < constraints.kink_margin:
            return "kink_margin"
        if constraints.saturation and solution.name == "sigmoid":
            low, high = constraints.saturation
            if not low <= sp.N(solution.value) <= high:
                return "saturation"
        return None

    def graph(self, solution: ActivationSolution) -> tuple[Network, dict]:
        return unit_network(solution.name), {UNIT_Z: solution.point}

    def symbolic_slips(self, solution: ActivationSolution) -> tuple[tuple[str, Any, str], ...]:
        return tuple((name, form, slips.feedback(name, solution.name, asked=True))  # the part asks for f′ itself
                     for name, form in slips.symbolic_forms(solution.name))

    def second_method(self, problem: Problem, part: Part) -> list[str]:
        solution: ActivationSolution = problem.solution
        f = activations.ELEMENTWISE[solution.name]
        if part.quantity.kind is Kind.DERIVATIVE:
            rng = random.Random(1)
            for _ in range(4):
                point = sp.Rational(rng.randint(-250, 250), 100)
                mine, fd = sp.N(part.value.exact.xreplace({activations.z: point}), num.WORK_DPS), central(f, point)
                if not close(mine, fd, CHECK_REL):
                    return [f"the derivative key at z = {point} gives {sp.N(mine, 15)}, a central difference "
                            f"{sp.N(fd, 15)}"]
            return []
        if part.quantity == SLOPE:
            fd = central(f, solution.point)
            if not close(part.value.approx, fd, CHECK_REL):
                return [f"f′({solution.point}) = {sp.N(part.value.approx, 15)} but a central difference gives "
                        f"{sp.N(fd, 15)}"]
        if part.quantity == VALUE:
            direct = FLOAT_ACTIVATIONS[solution.name](float(solution.point))
            if not close(part.value.approx, direct, CHECK_REL):
                return [f"f({solution.point}) = {sp.N(part.value.approx, 15)} but double precision gives {direct}"]
        return []

    def solution_json(self, problem: Problem) -> dict[str, Any]:
        from backprop_tutor.worked.solution_json import activation_json

        return activation_json(problem.solution, problem.steps)


ACTIVATION = ActivationKind()


def _body(body: Any, where: str) -> tuple[str, sp.Rational]:
    if not isinstance(body, dict) or set(body) != {"function", "point"}:
        raise TemplateError(f"{where}: expected {{function: NAME, point: NUMBER}}")
    name = body["function"]
    if name not in activations.ELEMENTWISE:
        raise TemplateError(f"{where}.function: unknown activation {name!r}; use one of "
                            + ", ".join(activations.ELEMENTWISE))
    try:
        point = sp.Rational(str(body["point"]))
    except (TypeError, ValueError):
        raise TemplateError(f"{where}.point: expected a number, found {body['point']!r}") from None
    return name, point


def statement(name: str, point: sp.Rational) -> Statement:
    act = activations.ELEMENTWISE[name]
    note = f" ({act.kink_note})" if act.kink_note else ""
    given = (f"The activation {name}: {act.unicode}{note}.", f"The point: z = {num.pretty(point)}.")
    tex = (f"The activation \\texttt{{{escape(name)}}}: ${act.latex}${escape(note)}.",
           f"The point: $z = {num.latex(point)}$.")
    return Statement("", given, (), tex)

"""Expression problems: any expression at given values, differentiated through its
computational graph (engine/expression.py)."""

from __future__ import annotations

import re
from typing import Any

import sympy as sp

from backprop_tutor.bank.kinds import Instance, ProblemKind
from backprop_tutor.bank.problem import Part, Problem, Statement, Value
from backprop_tutor.bank.template import REFERENCE
from backprop_tutor.bank.second_methods import CHECK_REL, central, close
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.expression import ExpressionSolution, parse_assignments, solve_expression
from backprop_tutor.engine.quantities import Kind, QuantityError, QuantityId, parse_expression_quantity
from backprop_tutor.errors import AnswerFormatError, TemplateError
from backprop_tutor.worked.texescape import escape



class ExpressionKind(ProblemKind):
    name = "expression"

    def parse_quantity(self, text: str) -> QuantityId:
        return parse_expression_quantity(text)

    def check_choices(self, body: Any, choice) -> None:
        if isinstance(body, dict) and isinstance(body.get("text"), str):
            from backprop_tutor.engine.parsing import FUNCTION_NAMES

            for ref in REFERENCE.findall(body["text"]):
                if re.search(rf"\${ref}\s*\(", body["text"]):
                    choice(f"${ref}", FUNCTION_NAMES, "a function")

    def instantiate(self, body: Any, where: str, seed: int) -> Instance:
        from backprop_tutor.worked.expression import expression_steps

        text, at = _body(body, where)
        try:
            solution = solve_expression(text, parse_assignments(at, "expression.at"), "expression.at")
        except AnswerFormatError as e:
            raise e.located(f"{where} (seed {seed})", e.source or "expression.text", TemplateError) from None
        return Instance(solution, statement(solution), lambda: expression_steps(solution))

    def value(self, solution: ExpressionSolution, quantity: QuantityId) -> Value:
        if quantity.kind is Kind.VALUE:
            return Value(num.evaluated(solution.value), solution.value)
        if quantity.variable in solution.gradient:
            g = solution.gradient[quantity.variable]
            return Value(num.evaluated(g), g)
        names = ", ".join(f"grad[{v}]" for v in solution.gradient)
        raise QuantityError(f"{quantity.text!r} is not a quantity of this expression; use value or one of {names}")

    def second_method(self, problem: Problem, part: Part) -> list[str]:
        if part.quantity.kind is not Kind.GRADIENT:
            return []
        from backprop_tutor.engine.parsing import parse, to_sympy

        solution: ExpressionSolution = problem.solution
        expr = to_sympy(parse(solution.expression))
        symbols = {s.name: s for s in expr.free_symbols}
        point = {symbols[k]: v for k, v in solution.at.items() if k in symbols}
        var = symbols[part.quantity.variable]
        fd = central(lambda v: expr.xreplace({**point, var: v}), point[var])
        if not close(part.value.approx, fd, CHECK_REL):
            return [f"∂f/∂{var} = {sp.N(part.value.approx, 15)} but a central difference gives {sp.N(fd, 15)}"]
        return []

    def solution_json(self, problem: Problem) -> dict[str, Any]:
        from backprop_tutor.worked.solution_json import expression_json

        return expression_json(problem.solution, problem.steps)


EXPRESSION = ExpressionKind()


def _body(body: Any, where: str) -> tuple[str, str]:
    if not isinstance(body, dict) or set(body) != {"text", "at"} or not isinstance(body["at"], dict):
        raise TemplateError(f"{where}: expected {{text: EXPRESSION, at: {{variable: value, …}}}}")
    at = ",".join(f"{k}={v}" for k, v in body["at"].items())
    return str(body["text"]), at


def statement(solution: ExpressionSolution) -> Statement:
    at = ", ".join(f"{k} = {num.pretty(v)}" for k, v in solution.at.items())
    given = (f"f = {solution.echo}", f"at {at}.")
    return Statement("", given, (), (f"$f = {sp.latex(solution.expr)}$", f"at {escape(at)}."))

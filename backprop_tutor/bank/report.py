"""A bank problem for reading: its report (statement, questions with keys, the kind's tables,
the worked solution) and its Solution JSON (docs/formats.md) with template, seed and parts."""

from __future__ import annotations

from typing import Any

from backprop_tutor.bank.problem import Problem
from backprop_tutor.worked.report import Cell, Report, Table, text
from backprop_tutor.worked.texescape import escape


def problem_report(problem: Problem) -> Report:
    """A bank problem: the statement, the questions with their keys, and the worked solution."""
    questions = Table("Questions and answer keys", ("part", "question", "key", "skill"),
                      tuple((text(p.id), text(p.prompt), Cell(p.answer, r"\texttt{" + escape(p.answer) + "}"), text(p.skill))
                            for p in problem.parts))
    title = f"{problem.title}  ({problem.template}, seed {problem.seed})"
    return Report(title, problem.statement.lines, (questions,) + problem.kind.tables(problem), problem.steps)


def problem_json(problem: Problem) -> dict[str, Any]:
    """A bank problem as the Solution JSON of its kind, with template, seed and its own parts."""
    data = problem.kind.solution_json(problem)
    data["statement"] = problem.statement.text
    data["parts"] = [p.to_json() for p in problem.parts]
    data["template"] = problem.template
    data["seed"] = problem.seed
    return data

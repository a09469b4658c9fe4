"""A generated problem: what a learner is asked, the keys, and the worked solution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backprop_tutor.engine.legacy_values import Value
from backprop_tutor.worked.steps import Step


@dataclass(frozen=True)
class Part:
    id: str
    prompt: str
    answer: str  # the key, as a learner would type it
    skill: str
    points: float
    value: Value  # the engine's value, for grading
    quantity: str = ""  # what the template asked for, e.g. "delta1" or "dW2[0][1]"
    tolerance: tuple[str, float] | None = None
    hints: tuple[str, ...] = ()
    mistakes: tuple[tuple[Value, str, str], ...] = ()  # (value, feedback, name or "")
    where: tuple[tuple[str, str], ...] = ()  # (name, expression): intermediates an answer may use

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "prompt": self.prompt, "answer": self.answer, "skill": self.skill,
                                "points": self.points}
        if self.tolerance:
            data["tolerance"] = {self.tolerance[0]: self.tolerance[1]}
        if self.where:
            data["where"] = dict(self.where)
        return data


@dataclass(frozen=True)
class Problem:
    template: str
    seed: int
    title: str
    kind: str
    level: int
    skills: tuple[str, ...]
    statement: str  # Unicode, with the conventions that matter
    statement_latex: str
    parameters: tuple[tuple[str, str], ...]  # (name, value as text), in drawing order
    parts: tuple[Part, ...]
    solution: Any  # NetworkSolution | ActivationSolution | ExpressionSolution
    steps: tuple[Step, ...]
    draws: int = 1  # how many draws the constraints took

    def fingerprint(self) -> tuple:
        """What makes two variants the same problem: the drawn parameters."""
        return self.parameters

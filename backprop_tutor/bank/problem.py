"""A generated problem: what a learner is asked, the keys, and the worked solution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from backprop_tutor.engine.numbers import DEFAULT_TOLERANCE
from backprop_tutor.engine.quantities import QuantityId
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.worked.steps import Step
from backprop_tutor.worked.texescape import escape

if TYPE_CHECKING:
    from backprop_tutor.bank.kinds import ProblemKind


@dataclass(frozen=True)
class Value:
    """A part's key: numbers (scalar, vector or matrix of 50-digit Floats) or an expression."""

    approx: object  # sp.Expr | tuple | tuple[tuple]
    exact: object = None
    expression: bool = False  # True: a symbolic answer in `variables`
    variables: tuple[str, ...] = ()

    @property
    def form(self) -> str:
        if self.expression:
            return "expression"
        if isinstance(self.approx, tuple):
            return "matrix" if self.approx and isinstance(self.approx[0], tuple) else "vector"
        return "number"


@dataclass(frozen=True)
class Mistake:
    """A template author's named mistake for a part: `scale` times a quantity (`-delta2[0]`,
    `2*dL_da[0]`), with the author's feedback. Its value is worked out when an answer is graded,
    from the learner's own earlier answers where the problem's graph has them."""

    name: str  # a slip of the catalogue (docs/rules-and-slips.md)
    feedback: str
    scale: sp.Rational
    quantity: QuantityId


@dataclass(frozen=True)
class Part:
    id: str
    prompt: str
    answer: str  # the key, as a learner would type it
    skill: str
    points: float
    value: Value  # the engine's value, for grading
    quantity: QuantityId  # what the template asked for, e.g. delta1 or dW2[0][1]
    tolerance: tuple[str, float] | None = None
    hints: tuple[str, ...] = ()
    mistakes: tuple[Mistake, ...] = ()
    where: tuple[tuple[str, str], ...] = ()  # (name, expression): intermediates an answer may use

    @property
    def within(self) -> tuple[str, float]:
        """The part's tolerance, or the default: a relative 1e-3."""
        return self.tolerance or DEFAULT_TOLERANCE

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "prompt": self.prompt, "answer": self.answer, "skill": self.skill,
                                "points": self.points}
        if self.tolerance:
            data["tolerance"] = {self.tolerance[0]: self.tolerance[1]}
        if self.where:
            data["where"] = dict(self.where)
        return data


@dataclass(frozen=True)
class Statement:
    """What a problem gives, in parts a view can place: the template's own words (set by the
    generator; a kind writes the rest), the given numbers (the network, the point, the
    expression), and the notes on conventions; the given and the notes also in LaTeX."""

    intro: str
    given: tuple[str, ...]
    notes: tuple[str, ...]
    body_latex: tuple[str, ...]

    @property
    def latex(self) -> str:
        return "\n\n".join(((escape(self.intro),) if self.intro else ()) + self.body_latex)

    @property
    def lines(self) -> tuple[str, ...]:
        return ((self.intro,) if self.intro else ()) + self.given + self.notes

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Problem:
    template: str
    seed: int
    title: str
    kind: ProblemKind
    level: int
    skills: tuple[str, ...]
    statement: Statement
    parameters: tuple[tuple[str, str], ...]  # (name, value as text), in drawing order
    parts: tuple[Part, ...]
    solution: Any  # NetworkSolution | ActivationSolution | ExpressionSolution, as the kind makes it
    steps: tuple[Step, ...]
    draws: int = 1  # how many draws the constraints took

    def fingerprint(self) -> tuple:
        """What makes two variants the same problem: the drawn parameters."""
        return self.parameters

    def part(self, part_id: str) -> Part:
        for part in self.parts:
            if part.id == part_id:
                return part
        ids = ", ".join(p.id for p in self.parts)
        raise AnswerFormatError(f"no part {part_id!r} in {self.template}; its parts are {ids}")

    def earlier(self, part: Part) -> tuple[Part, ...]:
        """The parts asked before this one."""
        return self.parts[: self.parts.index(part)]

    def steps_for(self, part: Part) -> tuple[Step, ...]:
        """The steps of the worked solution that compute the part's quantity."""
        return tuple(step for step in self.steps if step.shows(part.quantity))

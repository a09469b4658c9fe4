"""What grading an answer gives: a status, a score, what was understood, and the feedback."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Status(str, Enum):
    """An answer is correct, incorrect (scored, with feedback) or invalid (not an answer at all:
    it costs no attempt). A str so that JSON and comparisons read "correct"."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    INVALID = "invalid"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Result:
    status: Status
    score: float
    interpreted_as: str | None
    expected: str
    feedback: str
    diagnosis: str | None = None  # a slip of the catalogue (docs/rules-and-slips.md), or None
    points: float = 1
    carried_from: tuple[str, ...] = ()  # earlier parts whose (wrong) values the credit was computed from

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "score": self.score, "interpreted_as": self.interpreted_as,
                "expected": self.expected, "feedback": self.feedback, "diagnosis": self.diagnosis,
                "carried_from": list(self.carried_from)}

"""What the saved history says about each skill, as the two models read it: observations
(right or wrong, one per graded attempt, for mastery in learner/mastery.py) and reviews (one
rating per skill per problem, for the schedule in learner/reviews.py). Pure functions over the
store's records; the rules are documented in docs/formats.md, "Mastery and reviews".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from backprop_tutor.grading.result import Status
from backprop_tutor.learner.store import Attempt, Outcome, PartOutcome, StoreError, utc


def moment(at: str) -> datetime:
    """A stored time (ISO 8601) as an aware UTC datetime; a time without a zone is taken as UTC,
    as the store writes it."""
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise StoreError(f"a saved time {at!r} is not an ISO 8601 date-time; the progress file was "
                         f"not written by backprop-tutor, or was edited") from None
    return utc(when)


@dataclass(frozen=True)
class Observation:
    """One piece of evidence about a skill: the learner showed it (`correct`) or did not."""

    at: datetime
    skill: str
    correct: bool


def observations(attempts: Sequence[Attempt], outcomes: Sequence[Outcome]) -> list[Observation]:
    """Every graded attempt, in the order they were made, as one observation; a correct one on a
    part where a hint was taken counts as not knowing. A part that ended with its solution
    revealed, or with a hint and then no graded attempt, adds one observation of not knowing. A
    plain skip says nothing.

    Attempts are matched to the outcome of their part: each outcome claims the `attempts` earliest
    unclaimed attempts of its (session, template, seed, part), so a part left unfinished in one
    session is not matched to the same problem practised again in another (`--template X --seed
    7` twice). Attempts of a part that never ended keep their own verdict."""
    queues: dict[tuple, deque[int]] = {}
    for index, attempt in enumerate(attempts):
        queues.setdefault((attempt.session, attempt.template, attempt.seed, attempt.part), deque()).append(index)
    hinted: set[int] = set()
    extra: list[Observation] = []
    for outcome in outcomes:
        queue = queues.get((outcome.session, outcome.template, outcome.seed, outcome.part), deque())
        claimed = [queue.popleft() for _ in range(min(outcome.attempts, len(queue)))]
        if outcome.hints:
            hinted.update(claimed)
        if outcome.outcome == PartOutcome.REVEALED or (outcome.hints and not claimed):
            extra.append(Observation(moment(outcome.at), outcome.skill, False))
    seen = [Observation(moment(a.at), a.skill, a.status == Status.CORRECT and i not in hinted)
            for i, a in enumerate(attempts)]
    # sorted() is stable: an attempt and its part's outcome in the same second keep that order
    return sorted(seen + extra, key=lambda o: o.at)


class Grade(IntEnum):
    """How a review went; the values are FSRS's ratings (Again 1, Hard 2, Good 3)."""

    AGAIN = 1  # missed, revealed, or given up on after a wrong answer
    HARD = 2  # right, but after a hint or a wrong attempt
    GOOD = 3  # right at the first attempt, no hint


@dataclass(frozen=True)
class Review:
    at: datetime
    skill: str
    grade: Grade


def part_grade(outcome: Outcome) -> Grade | None:
    """A part's grade; None for a part skipped without an answer (no evidence either way)."""
    if outcome.outcome == PartOutcome.CORRECT:
        return Grade.GOOD if outcome.attempts == 1 and outcome.hints == 0 else Grade.HARD
    if outcome.outcome == PartOutcome.SKIPPED and outcome.attempts == 0 and outcome.hints == 0:
        return None
    return Grade.AGAIN


def reviews(outcomes: Sequence[Outcome]) -> list[Review]:
    """One review per skill per problem (the parts of one problem that practise a skill are one
    review of it, graded by the worst of them, at the time the last of them ended), in order."""
    problems: dict[tuple, list[Outcome]] = {}
    for outcome in outcomes:
        problems.setdefault((outcome.session, outcome.template, outcome.seed, outcome.skill), []).append(outcome)
    found = []
    for (_, _, _, skill), parts in problems.items():
        grades = [g for g in map(part_grade, parts) if g is not None]
        if grades:
            found.append(Review(max(moment(p.at) for p in parts), skill, min(grades)))
    return sorted(found, key=lambda r: r.at)

"""What the saved history says: per-skill statistics, mastery, the reviews due, the streak, the
skills to work on next, and which problem to practise next. Pure functions over the store's
records; the time now is passed in.

Mastery is the probability that the learner knows a skill, by Bayesian knowledge tracing over the
whole history (learner/mastery.py); a skill is mastered from MASTERED = 0.95. When to practise a
skill again is FSRS's due date (learner/reviews.py). The next problem reviews the most overdue
skill, on the template it was last practised on (with fresh numbers); when nothing is due, it
practises the least-mastered skill. FSRS brings a missed skill back a minute later, at the next
problem, so it replaces the earlier rule of a revisit three problems later.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from backprop_tutor.grading.result import Status
from backprop_tutor.learner.evidence import moment, observations, reviews
from backprop_tutor.learner.mastery import MASTERED, mastery, trajectories
from backprop_tutor.learner.reviews import due_dates, due_now, next_due
from backprop_tutor.learner.store import Attempt, Outcome, PartOutcome

NEXT_SKILLS = 3


def utc_now() -> datetime:
    """The clock the callers pass in: UTC, the zone the store writes."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class History:
    """The models replayed over the whole history: each skill's mastery after each observation,
    and each reviewed skill's due date."""

    trajectories: dict[str, list[tuple[datetime, float]]]
    due: dict[str, datetime]

    @classmethod
    def of(cls, attempts: Sequence[Attempt], outcomes: Sequence[Outcome]) -> History:
        return cls(trajectories(observations(attempts, outcomes)), due_dates(reviews(outcomes)))

    def mastery(self, skill: str) -> float:
        return mastery(skill, self.trajectories.get(skill))

    def trajectories_since(self, start: datetime | None) -> dict[str, list[tuple[datetime, float]]]:
        """The trajectories' points at or after `start`; skills with none left out."""
        kept = {skill: [point for point in points if start is None or point[0] >= start]
                for skill, points in self.trajectories.items()}
        return {skill: points for skill, points in kept.items() if points}


@dataclass(frozen=True)
class SkillStats:
    skill: str
    attempts: int
    correct: int
    mastery: float
    due: datetime | None
    last_practised: str | None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.attempts if self.attempts else None

    @property
    def mastered(self) -> bool:
        return self.mastery >= MASTERED

    def to_json(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "correct": self.correct,
                "accuracy": None if self.accuracy is None else round(self.accuracy, 4),
                "mastery": round(self.mastery, 4), "mastered": self.mastered,
                "due": None if self.due is None else self.due.isoformat(timespec="seconds"),
                "last_practised": self.last_practised}


def skill_stats(attempts: Sequence[Attempt], history: History, known: Sequence[str] = (),
                outcomes: Sequence[Outcome] = ()) -> dict[str, SkillStats]:
    """Every skill attempted, reviewed or `known` (with zeros), sorted by name. The counts are of
    `attempts` (a window of the history, for --since); mastery and due date of all of it. A skill
    was last practised at its last attempt, or at the end of a part of `outcomes` that taught it
    without one (a solution revealed, a hint taken): both are evidence the models use."""
    by_skill: dict[str, list[Attempt]] = {s: [] for s in [*known, *history.due, *history.trajectories]}
    for attempt in attempts:
        by_skill.setdefault(attempt.skill, []).append(attempt)
    last: dict[str, tuple[datetime, str]] = {}
    for record in [*attempts, *(o for o in outcomes if o.attempts or o.hints or o.outcome == PartOutcome.REVEALED)]:
        when = moment(record.at)
        if record.skill not in last or when >= last[record.skill][0]:
            last[record.skill] = (when, record.at)
        by_skill.setdefault(record.skill, [])
    return {skill: SkillStats(skill, len(tried), sum(a.status == Status.CORRECT for a in tried),
                              history.mastery(skill), history.due.get(skill),
                              last[skill][1] if skill in last else None)
            for skill, tried in sorted(by_skill.items())}


def since(records: Sequence[Any], start: datetime | None) -> list[Any]:
    """The attempts or outcomes made at or after `start` (all of them when it is None)."""
    return list(records) if start is None else [r for r in records if moment(r.at) >= start]


def streak(attempts: Sequence[Attempt]) -> int:
    """Correct attempts in a row at the end of the history."""
    count = 0
    for attempt in reversed(attempts):
        if attempt.status != Status.CORRECT:
            break
        count += 1
    return count


def least_mastered(stats: dict[str, SkillStats]) -> list[str]:
    """Skills not yet mastered, least mastered first; of equal mastery, a skill tried comes
    before one never tried."""
    return [s.skill for s in sorted((s for s in stats.values() if not s.mastered), key=_need)]


def _need(s: SkillStats) -> tuple:
    """The order of practice: least mastered first; of equal mastery, a skill tried first."""
    return s.mastery, s.attempts == 0, s.skill


def problems_done(outcomes: Sequence[Outcome]) -> list[tuple[str, int, bool]]:
    """(template, seed, solved cleanly) per problem, in the order they were practised."""
    order: dict[tuple, list[Outcome]] = {}
    for outcome in outcomes:
        order.setdefault((outcome.session, outcome.template, outcome.seed), []).append(outcome)
    return [(template, seed, all(o.outcome == PartOutcome.CORRECT for o in parts))
            for (_, template, seed), parts in order.items()]


def summary(history: History, attempts: Sequence[Attempt], outcomes: Sequence[Outcome], now: datetime,
            known: Sequence[str] = (), start: datetime | None = None) -> dict[str, Any]:
    """The `tutor stats --format json` object, `history` being History.of(attempts, outcomes).
    With `start` (--since), the counts are of the attempts and problems since then; mastery and
    due dates are still of the whole history (what the learner knows now rests on all of it)."""
    window = since(attempts, start)
    stats = skill_stats(window, history, known, since(outcomes, start))
    correct = sum(a.status == Status.CORRECT for a in window)
    coming = next_due(history.due, now)
    return {
        "since": None if start is None else start.isoformat(timespec="seconds"),
        "attempts": len(window),
        "correct": correct,
        "accuracy": round(correct / len(window), 4) if window else None,
        "streak": streak(window),
        "problems": len(problems_done(since(outcomes, start))),
        "skills": {name: s.to_json() for name, s in stats.items()},
        "next": least_mastered(stats)[:NEXT_SKILLS],
        "due": due_now(history.due, now),
        "next_review": None if coming is None else {"skill": coming[0],
                                                    "due": coming[1].isoformat(timespec="seconds")},
    }


@dataclass(frozen=True)
class Choice:
    template: str
    reason: str  # shown to the learner: why this problem now


def choose_next(templates: Sequence[Any], attempts: Sequence[Attempt], outcomes: Sequence[Outcome],
                rng: random.Random, now: datetime, review_only: bool = False) -> Choice | None:
    """The next template among `templates` (each with .id, .skills, .level): a review of the most
    overdue skill they practise, else (unless `review_only`, then None) one practising the
    least-mastered skill, easiest level first, least practised first."""
    history = History.of(attempts, outcomes)
    offered = sorted({skill for t in templates for skill in t.skills})
    due = [skill for skill in due_now(history.due, now) if skill in offered]
    if due:
        skill = due[0]
        why = (f"a review, due since {history.due[skill]:%Y-%m-%d %H:%M} "
               f"(mastery {history.mastery(skill):.0%})")
        ids = {t.id for t in templates}
        last = [o.template for o in outcomes if o.skill == skill and o.template in ids]
        return Choice(last[-1] if last else _easiest(templates, skill, outcomes, rng), f"{skill}: {why}")
    if review_only:
        return None
    stats = skill_stats(attempts, history, offered)
    skill = min(offered, key=lambda s: _need(stats[s]))
    why = ("a skill you have not practised yet" if stats[skill].attempts == 0
           else f"your least-mastered skill (mastery {stats[skill].mastery:.0%})")
    return Choice(_easiest(templates, skill, outcomes, rng), f"{skill}: {why}")


def _easiest(templates: Sequence[Any], skill: str, outcomes: Sequence[Outcome], rng: random.Random) -> str:
    """A template practising `skill`: the easiest level, the least practised, then drawn."""
    served: dict[str, int] = {}
    for template, _, _ in problems_done(outcomes):
        served[template] = served.get(template, 0) + 1
    fitting = [t for t in templates if skill in t.skills]
    best = min((t.level, served.get(t.id, 0)) for t in fitting)
    tied = sorted(t.id for t in fitting if (t.level, served.get(t.id, 0)) == best)
    return tied[rng.randrange(len(tied))]

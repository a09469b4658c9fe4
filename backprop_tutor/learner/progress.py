"""What the saved history says: per-skill statistics, mastery, the streak, the skills to work on
next, and which problem to practise next. Pure functions over the store's records.

Mastery is recent accuracy weighed by evidence: of the last RECENT attempts at a skill, the
correct ones divided by max(MIN_EVIDENCE, how many there were). One lucky answer is 0.2, not
1.0; ten right in a row is 1.0. A skill counts as mastered from MASTERED.

Spaced practice: a template whose last problem was not solved cleanly (a part missed, revealed
or skipped) comes back, with fresh numbers, once REVISIT_GAP other problems have been done.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backprop_tutor.grading.result import Status
from backprop_tutor.learner.store import Attempt, Outcome, PartOutcome

RECENT = 10
MIN_EVIDENCE = 5
MASTERED = 0.8
REVISIT_GAP = 3
NEXT_SKILLS = 3


@dataclass(frozen=True)
class SkillStats:
    skill: str
    attempts: int
    correct: int
    mastery: float
    last_practised: str | None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.attempts if self.attempts else None

    def to_json(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "correct": self.correct,
                "accuracy": None if self.accuracy is None else round(self.accuracy, 4),
                "mastery": round(self.mastery, 4), "mastered": self.mastery >= MASTERED,
                "last_practised": self.last_practised}


def skill_stats(attempts: Sequence[Attempt], known: Sequence[str] = ()) -> dict[str, SkillStats]:
    """Every skill attempted, plus the `known` ones (with zeros), sorted by name."""
    by_skill: dict[str, list[Attempt]] = {s: [] for s in known}
    for attempt in attempts:
        by_skill.setdefault(attempt.skill, []).append(attempt)
    out = {}
    for skill in sorted(by_skill):
        history = by_skill[skill]
        recent = history[-RECENT:]
        right = sum(a.status == Status.CORRECT for a in recent)
        out[skill] = SkillStats(skill, len(history), sum(a.status == Status.CORRECT for a in history),
                                right / max(MIN_EVIDENCE, len(recent)), history[-1].at if history else None)
    return out


def streak(attempts: Sequence[Attempt]) -> int:
    """Correct attempts in a row at the end of the history."""
    count = 0
    for attempt in reversed(attempts):
        if attempt.status != Status.CORRECT:
            break
        count += 1
    return count


def weakest_first(stats: dict[str, SkillStats]) -> list[str]:
    """Skills not yet mastered, weakest first; a skill tried and failed comes before one never tried."""
    open_skills = [s for s in stats.values() if s.mastery < MASTERED]
    return [s.skill for s in sorted(open_skills, key=lambda s: (s.mastery, s.attempts == 0, s.skill))]


def problems_done(outcomes: Sequence[Outcome]) -> list[tuple[str, int, bool]]:
    """(template, seed, solved cleanly) per problem, in the order they were practised."""
    order: dict[tuple, list[Outcome]] = {}
    for outcome in outcomes:
        order.setdefault((outcome.session, outcome.template, outcome.seed), []).append(outcome)
    return [(template, seed, all(o.outcome == PartOutcome.CORRECT for o in parts))
            for (_, template, seed), parts in order.items()]


def revisits_due(outcomes: Sequence[Outcome]) -> list[str]:
    """Templates whose last problem went wrong at least REVISIT_GAP problems ago, oldest first."""
    done = problems_done(outcomes)
    last: dict[str, tuple[int, bool]] = {}
    for index, (template, _, clean) in enumerate(done):
        last[template] = (index, clean)
    due = [(index, template) for template, (index, clean) in last.items()
           if not clean and len(done) - 1 - index >= REVISIT_GAP]
    return [template for _, template in sorted(due)]


def summary(attempts: Sequence[Attempt], outcomes: Sequence[Outcome], known: Sequence[str] = ()) -> dict[str, Any]:
    """The `tutor stats --format json` object."""
    stats = skill_stats(attempts, known)
    correct = sum(a.status == Status.CORRECT for a in attempts)
    return {
        "attempts": len(attempts),
        "correct": correct,
        "accuracy": round(correct / len(attempts), 4) if attempts else None,
        "streak": streak(attempts),
        "problems": len(problems_done(outcomes)),
        "skills": {name: s.to_json() for name, s in stats.items()},
        "next": weakest_first(stats)[:NEXT_SKILLS],
        "revisits_due": revisits_due(outcomes),
    }


@dataclass(frozen=True)
class Choice:
    template: str
    reason: str  # shown to the learner: why this problem now


def choose_next(templates: Sequence[Any], attempts: Sequence[Attempt], outcomes: Sequence[Outcome],
                rng: random.Random) -> Choice:
    """The next template among `templates` (each with .id, .skills, .level): a revisit that is due,
    else one practising the weakest skill, easiest level first, least practised first."""
    ids = {t.id for t in templates}
    for template in revisits_due(outcomes):
        if template in ids:
            return Choice(template, "a revisit: this one went wrong a few problems ago")
    offered = sorted({skill for t in templates for skill in t.skills})
    stats = skill_stats(attempts, offered)
    skill = min(offered, key=lambda s: (stats[s].mastery, stats[s].attempts == 0, s))
    served = {}
    for template, _, _ in problems_done(outcomes):
        served[template] = served.get(template, 0) + 1
    fitting = [t for t in templates if skill in t.skills]
    best = min((t.level, served.get(t.id, 0)) for t in fitting)
    tied = sorted(t.id for t in fitting if (t.level, served.get(t.id, 0)) == best)
    mastery = stats[skill].mastery
    why = ("a skill you have not practised yet" if stats[skill].attempts == 0
           else f"your weakest skill (mastery {mastery:.0%})")
    return Choice(tied[rng.randrange(len(tied))], f"{skill}: {why}")

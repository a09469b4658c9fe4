"""When each skill should be practised again: FSRS, the spaced-repetition scheduler Anki adopted
(the `fsrs` package), one card per skill, replayed from the skill's reviews
(learner/evidence.py). Pure: the time now is always passed in. docs/formats.md, "Mastery and
reviews", documents the settings.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from backprop_tutor.learner.evidence import Review


def scheduler():
    """FSRS with its published defaults (retention 0.9, learning steps 1 and 10 minutes,
    relearning 10 minutes), except fuzzing: off, so the same history always gives the same due
    dates. fsrs is imported here, not at the top, so commands that schedule nothing never load it."""
    from fsrs import Scheduler

    return Scheduler(enable_fuzzing=False)


def due_dates(history: Iterable[Review]) -> dict[str, datetime]:
    """Each reviewed skill's next due date (UTC), by name."""
    history = list(history)
    if not history:
        return {}  # and fsrs is not even imported
    from fsrs import Card, Rating

    fsrs = scheduler()
    cards: dict[str, Card] = {}
    for review in history:
        # card_id given: fsrs would otherwise read the clock (and sleep a millisecond) to make one
        card = cards.get(review.skill) or Card(card_id=len(cards) + 1, due=review.at)
        cards[review.skill], _ = fsrs.review_card(card, Rating(int(review.grade)), review.at)
    return {skill: cards[skill].due for skill in sorted(cards)}


def due_now(due: Mapping[str, datetime], now: datetime) -> list[str]:
    """The skills due at `now`, most overdue first (ties by name)."""
    return [skill for skill, when in sorted(due.items(), key=lambda item: (item[1], item[0])) if when <= now]


def next_due(due: Mapping[str, datetime], now: datetime,
             skills: Collection[str] | None = None) -> tuple[str, datetime] | None:
    """The first review after `now` (of `skills`, when given): (skill, when), or None."""
    later = sorted((when, skill) for skill, when in due.items() if when > now and (skills is None or skill in skills))
    return (later[0][1], later[0][0]) if later else None

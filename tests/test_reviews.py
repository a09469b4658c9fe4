"""Reviews scheduled by FSRS: each part's grade, one review per skill per problem, due dates equal
to the fsrs library's own scheduler driven by hand for the same history, and the order in which
practice serves them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Card, Rating, Scheduler

from backprop_tutor.learner import progress
from backprop_tutor.learner.evidence import Grade, part_grade, reviews
from backprop_tutor.learner.reviews import due_dates, due_now, next_due
from backprop_tutor.learner.store import Outcome, PartOutcome

T0 = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


def ended(skill: str, how: str, when: timedelta, attempts: int = 1, hints: int = 0, template: str = "mlp_2_2_1",
          seed: int = 1, part: str = "p", session: int = 1) -> Outcome:
    return Outcome(template, seed, part, skill, PartOutcome(how), attempts, hints, float(how == "correct"), 1.0,
                   session, (T0 + when).isoformat())


@pytest.mark.parametrize("how, attempts, hints, grade", [
    ("correct", 1, 0, Grade.GOOD),
    ("correct", 2, 0, Grade.HARD),
    ("correct", 1, 1, Grade.HARD),
    ("missed", 3, 0, Grade.AGAIN),
    ("revealed", 0, 0, Grade.AGAIN),
    ("skipped", 1, 0, Grade.AGAIN),  # given up after a wrong answer
    ("skipped", 0, 1, Grade.AGAIN),  # a hint, then given up
    ("skipped", 0, 0, None),  # never tried: no evidence
])
def test_each_part_is_graded_as_documented(how, attempts, hints, grade):
    assert part_grade(ended("s", how, timedelta(0), attempts, hints)) is grade


def test_the_parts_of_one_problem_are_one_review_graded_by_the_worst():
    outcomes = [ended("hidden_delta", "correct", timedelta(minutes=1), part="d0"),
                ended("hidden_delta", "correct", timedelta(minutes=2), attempts=2, part="d1"),
                ended("output_delta", "correct", timedelta(minutes=3), part="o"),
                ended("hidden_delta", "correct", timedelta(days=1), seed=2, part="d0")]
    found = [(r.at - T0, r.skill, r.grade) for r in reviews(outcomes)]
    assert found == [(timedelta(minutes=2), "hidden_delta", Grade.HARD), (timedelta(minutes=3), "output_delta", Grade.GOOD),
                     (timedelta(days=1), "hidden_delta", Grade.GOOD)]


# A learner's history of one skill over three weeks: a miss, a correct after a hint, clean corrects.
HISTORY = [("missed", 3, 0, timedelta(0)), ("correct", 1, 1, timedelta(minutes=4)),
           ("correct", 1, 0, timedelta(minutes=20)), ("correct", 1, 0, timedelta(days=3)),
           ("correct", 2, 0, timedelta(days=9)), ("correct", 1, 0, timedelta(days=21))]
RATINGS = [Rating.Again, Rating.Hard, Rating.Good, Rating.Good, Rating.Hard, Rating.Good]


def test_due_dates_are_the_fsrs_schedulers_for_the_same_history():
    outcomes = [ended("hidden_delta", how, when, attempts, hints, seed=n)
                for n, (how, attempts, hints, when) in enumerate(HISTORY)]
    ours = due_dates(reviews(outcomes))
    # the library, driven by hand: one card, one review_card per problem, fuzzing off
    scheduler, card = Scheduler(enable_fuzzing=False), Card(card_id=1, due=T0)
    dues = []
    for rating, (_, _, _, when) in zip(RATINGS, HISTORY):
        card, _ = scheduler.review_card(card, rating, T0 + when)
        dues.append(card.due)
    assert ours == {"hidden_delta": dues[-1]}
    intervals = [due - (T0 + when) for due, (_, _, _, when) in zip(dues, HISTORY)]
    assert intervals[0] == timedelta(minutes=1) and intervals[5] > intervals[3] > timedelta(days=1)  # spaced
    # every prefix of the history too
    for n in range(1, len(HISTORY)):
        assert due_dates(reviews(outcomes[:n]))["hidden_delta"] == dues[n - 1]


def test_the_first_review_follows_the_learning_steps():
    # FSRS's defaults: a miss comes back after 1 minute, a clean first answer after 10
    missed = due_dates(reviews([ended("a", "missed", timedelta(0), 3)]))["a"]
    clean = due_dates(reviews([ended("a", "correct", timedelta(0))]))["a"]
    assert (missed - T0, clean - T0) == (timedelta(minutes=1), timedelta(minutes=10))


def test_due_now_is_most_overdue_first_and_next_due_is_the_first_to_come():
    due = {"a": T0 + timedelta(hours=1), "b": T0 - timedelta(days=2), "c": T0 - timedelta(hours=1),
           "d": T0 + timedelta(hours=5)}
    assert due_now(due, T0) == ["b", "c"]
    assert next_due(due, T0) == ("a", T0 + timedelta(hours=1))
    assert next_due(due, T0, skills={"d", "b"}) == ("d", T0 + timedelta(hours=5))
    assert next_due({}, T0) is None


# --- which problem practice serves -----------------------------------------------------------------

@dataclass(frozen=True)
class T:
    id: str
    skills: tuple
    level: int


TEMPLATES = [T("easy_forward", ("forward_pass",), 1), T("chain", ("chain_rule",), 1),
             T("hard_deltas", ("chain_rule", "hidden_delta"), 3), T("deltas", ("hidden_delta",), 2)]


def test_a_due_review_comes_first_on_the_template_it_was_practised_on():
    outcomes = [ended("hidden_delta", "missed", timedelta(0), 3, template="hard_deltas"),
                ended("forward_pass", "correct", timedelta(minutes=1), template="easy_forward")]
    choice = progress.choose_next(TEMPLATES, [], outcomes, random.Random(0), T0 + timedelta(minutes=5))
    assert choice.template == "hard_deltas"
    assert choice.reason.startswith("hidden_delta: a review, due since 2026-03-02 18:01")


def test_of_two_due_reviews_the_most_overdue_comes_first():
    outcomes = [ended("forward_pass", "missed", timedelta(0), 3, template="easy_forward"),
                ended("hidden_delta", "missed", timedelta(minutes=2), 3, template="deltas")]
    now = T0 + timedelta(hours=1)
    assert progress.choose_next(TEMPLATES, [], outcomes, random.Random(0), now).template == "easy_forward"


def test_with_nothing_due_the_least_mastered_skill_is_practised_and_review_only_serves_nothing():
    outcomes = [ended("forward_pass", "correct", timedelta(0), template="easy_forward")]  # due in 10 minutes
    now = T0 + timedelta(minutes=5)
    choice = progress.choose_next(TEMPLATES, [], outcomes, random.Random(0), now)
    assert "review" not in choice.reason and choice.template in {"chain", "deltas"}
    assert progress.choose_next(TEMPLATES, [], outcomes, random.Random(0), now, review_only=True) is None


def test_a_due_skill_no_template_offers_is_not_served():
    outcomes = [ended("update", "missed", timedelta(0), 3, template="sgd_step")]
    choice = progress.choose_next(TEMPLATES, [], outcomes, random.Random(0), T0 + timedelta(days=1))
    assert "review" not in choice.reason

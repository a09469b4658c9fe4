"""Mastery by Bayesian knowledge tracing: the update against values computed by hand, what counts
as evidence (hints and revealed solutions as not knowing), and a simulated learner who knows some
skills and not others."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from fractions import Fraction as F

import pytest

from backprop_tutor.grading.result import Status
from backprop_tutor.learner.evidence import Observation, moment, observations
from backprop_tutor.learner.mastery import DEFAULT, MASTERED, PER_SKILL, Knowledge, knowledge, trajectories, update
from backprop_tutor.learner.store import Attempt, Outcome, PartOutcome

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def tried(part: str, right: bool, seconds: int, skill: str = "hidden_delta", seed: int = 1,
          session: int = 1) -> Attempt:
    return Attempt("mlp_2_2_1", seed, part, skill, "0.5", Status.CORRECT if right else Status.INCORRECT,
                   float(right), 1.0, None, at(seconds), session)


def ended(part: str, how: PartOutcome, attempts: int, hints: int, seconds: int, skill: str = "hidden_delta",
          seed: int = 1, session: int = 1) -> Outcome:
    return Outcome("mlp_2_2_1", seed, part, skill, how, attempts, hints, float(how is PartOutcome.CORRECT), 1.0,
                   session, at(seconds))


# --- the update ----------------------------------------------------------------------------------

EXACT = Knowledge(prior=F(1, 5), learn=F(1, 20), guess=F(1, 4), slip=F(1, 10))


def test_the_defaults_are_the_documented_ones():
    assert (DEFAULT.prior, DEFAULT.learn, DEFAULT.guess, DEFAULT.slip) == (0.2, 0.05, 0.25, 0.1)
    assert MASTERED == 0.95
    assert knowledge("hidden_delta") is DEFAULT and knowledge("forward_pass") is PER_SKILL["forward_pass"]


def test_a_right_answer_by_hand():
    # P(K|right) = 0.2·0.9 / (0.2·0.9 + 0.8·0.25) = 0.18/0.38 = 9/19; then learning:
    # 9/19 + (10/19)·0.05 = 1/2
    assert update(EXACT.prior, True, EXACT) == F(1, 2)


def test_a_wrong_answer_by_hand():
    # from 1/2: P(K|wrong) = 0.5·0.1 / (0.5·0.1 + 0.5·0.75) = 2/17; then 2/17 + (15/17)·0.05 = 11/68
    assert update(F(1, 2), False, EXACT) == F(11, 68)


def test_the_float_defaults_give_the_same_numbers():
    p = update(DEFAULT.prior, True, DEFAULT)
    assert p == pytest.approx(0.5)
    assert update(p, False, DEFAULT) == pytest.approx(11 / 68)


def test_four_clean_answers_from_the_prior_make_a_skill_mastered_three_do_not():
    p = DEFAULT.prior
    for _ in range(3):
        p = update(p, True, DEFAULT)
    assert p < MASTERED
    assert update(p, True, DEFAULT) >= MASTERED


@pytest.mark.parametrize("bad", [dict(guess=0.6, slip=0.5), dict(prior=0), dict(learn=1), dict(slip=0)])
def test_parameters_that_make_no_sense_are_refused(bad):
    with pytest.raises(ValueError, match="out of range"):
        Knowledge(**bad)


def test_a_trajectory_is_per_skill_and_in_order():
    seen = [Observation(T0, "a", True), Observation(T0 + timedelta(1), "b", False),
            Observation(T0 + timedelta(2), "a", False)]
    paths = trajectories(seen)
    assert [t for t, _ in paths["a"]] == [T0, T0 + timedelta(2)]
    assert [p for _, p in paths["a"]] == pytest.approx([0.5, 11 / 68])
    assert paths["b"][0][1] == pytest.approx(update(0.2, False, DEFAULT))


# --- what counts as evidence ---------------------------------------------------------------------

def verdicts(attempts, outcomes) -> list[bool]:
    return [o.correct for o in observations(attempts, outcomes)]


def test_each_graded_attempt_is_an_observation():
    attempts = [tried("d", False, 1), tried("d", True, 2)]
    assert verdicts(attempts, [ended("d", PartOutcome.CORRECT, 2, 0, 2)]) == [False, True]


def test_a_right_answer_after_a_hint_counts_as_not_knowing():
    attempts = [tried("d", False, 1), tried("d", True, 2)]
    assert verdicts(attempts, [ended("d", PartOutcome.CORRECT, 2, 1, 2)]) == [False, False]


def test_a_revealed_solution_is_one_more_observation_of_not_knowing():
    attempts = [tried("d", False, 1)]
    assert verdicts(attempts, [ended("d", PartOutcome.REVEALED, 1, 0, 5)]) == [False, False]
    assert verdicts([], [ended("d", PartOutcome.REVEALED, 0, 0, 5)]) == [False]


def test_a_hint_then_a_skip_is_not_knowing_a_plain_skip_says_nothing():
    assert verdicts([], [ended("d", PartOutcome.SKIPPED, 0, 2, 5)]) == [False]
    assert verdicts([], [ended("d", PartOutcome.SKIPPED, 0, 0, 5)]) == []


def test_a_hint_on_one_part_does_not_touch_another_part_or_problem():
    attempts = [tried("d", True, 1), tried("e", True, 2), tried("d", True, 3, seed=2)]
    outcomes = [ended("d", PartOutcome.CORRECT, 1, 1, 1), ended("e", PartOutcome.CORRECT, 1, 0, 2),
                ended("d", PartOutcome.CORRECT, 1, 0, 3, seed=2)]
    assert verdicts(attempts, outcomes) == [False, True, True]


def test_attempts_of_a_part_left_open_keep_their_verdict():
    # the same part done twice (two sessions, same seed); the second never ended
    attempts = [tried("d", True, 1), tried("d", True, 10)]
    assert verdicts(attempts, [ended("d", PartOutcome.CORRECT, 1, 1, 1)]) == [False, True]


def test_a_part_left_open_in_one_session_is_not_matched_to_the_same_part_in_the_next():
    # `tutor practice --template X --seed 7` twice: a wrong answer left open in session 1, then in
    # session 2 a hint and a right answer; the hint belongs to session 2's answer
    attempts = [tried("d", False, 1, session=1), tried("d", True, 10, session=2)]
    assert verdicts(attempts, [ended("d", PartOutcome.CORRECT, 1, 1, 10, session=2)]) == [False, False]


def test_observations_are_in_time_order_with_their_skill():
    seen = observations([tried("d", True, 1, skill="x"), tried("e", False, 2, skill="y")],
                        [ended("e", PartOutcome.REVEALED, 1, 0, 3, skill="y")])
    assert [(o.at, o.skill, o.correct) for o in seen] == [(moment(at(1)), "x", True), (moment(at(2)), "y", False),
                                                          (moment(at(3)), "y", False)]


# --- a simulated learner ---------------------------------------------------------------------------

KNOWS, GUESSES = 1 - DEFAULT.slip, DEFAULT.guess  # P(right) when a skill is known, and when it is not
TRUTH = {"hidden_delta": KNOWS, "output_delta": GUESSES, "weight_gradient": KNOWS, "update": GUESSES}
N = 10  # problems within which a known skill is mastered
RUNS = 200


def simulate(seed: int, problems: int) -> dict[str, list[float]]:
    """A learner who answers each skill's part with its TRUTH probability, up to three attempts
    as in a practice session; per skill, mastery after each problem."""
    rng = random.Random(seed)
    attempts, outcomes, clock = [], [], 0
    ends: dict[str, list[datetime]] = {}
    for n in range(problems):
        for skill, p in TRUTH.items():
            for tries in range(1, 4):
                clock += 1
                right = rng.random() < p
                attempts.append(tried(skill, right, clock, skill, seed=n))
                if right or tries == 3:
                    outcomes.append(ended(skill, PartOutcome.CORRECT if right else PartOutcome.MISSED, tries, 0,
                                          clock, skill, seed=n))
                    ends.setdefault(skill, []).append(moment(at(clock)))
                    break
    paths = trajectories(observations(attempts, outcomes))
    return {skill: [[p for t, p in paths[skill] if t <= end][-1] for end in ends[skill]] for skill in TRUTH}


def test_a_simulated_learner_masters_what_it_knows_and_not_what_it_does_not():
    """Known skills (right 90 % of the time) are mastered within N = 10 problems in every one of
    200 runs; skills it does not know (right 25 % of the time, a guess) are not mastered after 2N =
    20 problems in at least 98 % of runs, and are ever counted mastered on the way in at most 10 %."""
    known_in, unknown_end, unknown_ever = [], [], []
    for seed in range(RUNS):
        after = simulate(seed, 2 * N)
        for skill, p in TRUTH.items():
            if p == KNOWS:
                known_in.append(next(n for n, m in enumerate(after[skill], 1) if m >= MASTERED))
            else:
                unknown_end.append(after[skill][-1] >= MASTERED)
                unknown_ever.append(max(after[skill]) >= MASTERED)
    assert max(known_in) <= N
    assert sum(unknown_end) / len(unknown_end) <= 0.02
    assert sum(unknown_ever) / len(unknown_ever) <= 0.10

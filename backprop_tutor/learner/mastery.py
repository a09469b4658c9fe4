"""Mastery of a skill as the probability that the learner knows it: Bayesian knowledge tracing
(Corbett & Anderson, 1995). Pure functions; the parameters and why they are what they are are in
docs/formats.md, "Mastery and reviews".

A skill is known or not. Before any evidence it is known with probability `prior`. A learner who
knows it answers right unless they slip (`slip`); one who does not can still be right (`guess`).
After each observation the probability is updated by Bayes' rule, then the learner may have
learnt the skill from the attempt itself (`learn`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from backprop_tutor.learner.evidence import Observation

MASTERED = 0.95  # the threshold of Corbett & Anderson, used by most tutors built on BKT


@dataclass(frozen=True)
class Knowledge:
    """The four parameters of knowledge tracing for one skill."""

    prior: float = 0.2  # P(known) before the first attempt: most skills here are new to the learner
    learn: float = 0.05  # P(not known → known) at each attempt: one answer seldom teaches a skill
    guess: float = 0.25  # P(right | not known): an exact answer is hard to guess blind, but the
    #                      second and third tries come after feedback naming the slip
    slip: float = 0.1  # P(wrong | known): an arithmetic slip, a rounding too early

    def __post_init__(self) -> None:
        # guess + slip < 1: otherwise a right answer would be evidence of not knowing
        if not (0 < self.prior < 1 and 0 <= self.learn < 1 and 0 < self.guess < 1 and 0 < self.slip < 1
                and self.guess + self.slip < 1):
            raise ValueError(f"knowledge tracing parameters out of range: {self}")


DEFAULT = Knowledge()
# Skills the learner we build for brings: they can differentiate tanh, and a forward pass is the
# arithmetic they already do; what they lack is why backprop needs it.
PER_SKILL: dict[str, Knowledge] = {
    "activation_derivative": Knowledge(prior=0.5),
    "forward_pass": Knowledge(prior=0.5),
}


def knowledge(skill: str) -> Knowledge:
    return PER_SKILL.get(skill, DEFAULT)


def update(p: float, correct: bool, k: Knowledge) -> float:
    """P(known) after one observation: Bayes' rule on the answer, then the chance to learn."""
    if correct:
        posterior = p * (1 - k.slip) / (p * (1 - k.slip) + (1 - p) * k.guess)
    else:
        posterior = p * k.slip / (p * k.slip + (1 - p) * (1 - k.guess))
    return posterior + (1 - posterior) * k.learn


def trajectories(seen: Iterable[Observation]) -> dict[str, list[tuple[datetime, float]]]:
    """Per skill, P(known) after each of its observations, in order (the first point is the
    first observation's, not the prior)."""
    out: dict[str, list[tuple[datetime, float]]] = {}
    for observation in seen:
        points = out.setdefault(observation.skill, [])
        k = knowledge(observation.skill)
        p = points[-1][1] if points else k.prior
        points.append((observation.at, update(p, observation.correct, k)))
    return out


def mastery(skill: str, trajectory: list[tuple[datetime, float]] | None) -> float:
    """P(known) now: the last point of the skill's trajectory, or its prior when it has none."""
    return trajectory[-1][1] if trajectory else knowledge(skill).prior

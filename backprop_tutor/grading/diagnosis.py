"""Which slip a wrong answer shows: the engine re-run with one rule replaced by its buggy form
(engine/slips.py), at one layer or at all of them, from the learner's own earlier answers.

A template's named mistakes are tried first (their authors wrote their feedback for that part),
then every slip of the catalogue. Of the slips whose result the answer matches, the one whose
rule lies nearest the asked quantity is named (with η = 0.5, leaving out η and keeping the 2 of
the power rule give the same update; for an update part the update's own slip is the likely
one). A slip that an earlier answer shows the learner did not make is never named: the rules
that explain that earlier answer would, with the slip, have given something else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from backprop_tutor.bank.problem import Mistake, Part, Problem
from backprop_tutor.engine import slips
from backprop_tutor.engine.entries import entries, flat
from backprop_tutor.engine.quantities import QuantityError
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.grading.answers import TIME_LIMIT, equivalent, floats, same, time_limit
from backprop_tutor.grading.earlier import RERUN_ERRORS, Answered, Earlier
from backprop_tutor.engine.evaluation import Evaluation

_CANNOT = (slips.NotApplicable, QuantityError) + RERUN_ERRORS


@dataclass(frozen=True)
class Diagnosis:
    slip: str  # a name of the catalogue (docs/rules-and-slips.md)
    feedback: str


def diagnose(problem: Problem, part: Part, read: Any, answer: Any, earlier: Earlier | None) -> Diagnosis | None:
    """`read`: the answer as parsed; `answer`: its numbers (grading/answers.numbers), None for a
    formula or when it has none."""
    if part.value.expression:
        try:
            with time_limit(TIME_LIMIT):  # every candidate form is compared with the answer
                return _formula(problem, part, read)
        except AnswerFormatError:
            return None
    if answer is None:
        return None
    tolerance = part.within
    evidence = _Evidence(earlier)
    for root in _starting_points(earlier, part):
        for mistake in part.mistakes:
            value = _mistake_value(problem, mistake, root)
            if value is not None and same(answer, value, tolerance) and not evidence.rules_out_name(mistake.name):
                return Diagnosis(mistake.name, mistake.feedback)
        if root is not None:
            found = _slip(problem, earlier, part, answer, tolerance, root, evidence)
            if found is not None:
                return found
    return None


def _starting_points(earlier: Earlier | None, part: Part) -> list[Evaluation | None]:
    """Where the re-runs start: from the learner's own earlier numbers (a slip on top of their
    own path), then, if those differ from the engine's, from the engine's (the learner may have
    computed this part from the right values after all). None: the problem has no graph."""
    if earlier is None:
        return [None]
    own = earlier.own_path(part)
    if not earlier.answered:
        return [own]
    return [own, earlier.engine_path()]


def _slip(problem: Problem, earlier: Earlier, part: Part, answer, tolerance, root: Evaluation,
          evidence: _Evidence) -> Diagnosis | None:
    network = earlier.network
    targets = entries(network, part.quantity)
    try:
        root.values(targets)
    except _CANNOT:
        return None
    distance = root.distances(flat(targets))
    candidates = []
    for order, slip in enumerate(slips.SLIPS):
        for scope in slip.scopes(network):
            nearest = min((distance.get((slip.replaces, layer), math.inf) for layer in scope), default=math.inf)
            if nearest == math.inf:
                continue  # the slip's rule does not lead to this part (or the learner's answers cut it off)
            try:
                value = root.with_rules(slip.rules(scope)).values(targets)
            except _CANNOT:
                continue
            if same(answer, value, tolerance):
                candidates.append((nearest, len(scope) > 1, order, slip, scope))
    for nearest, _, _, slip, scope in sorted(candidates, key=lambda c: c[:3]):
        if not evidence.rules_out(slip, scope):
            return Diagnosis(slip.name, slips.feedback_at(slip.name, network, scope, asked=nearest == 0))
    return None


class _Evidence:
    """What the learner's earlier answers show: the slips they did not make."""

    def __init__(self, earlier: Earlier | None):
        self.earlier = earlier
        self._right: list[tuple[Answered, Evaluation]] | None = None

    def rules_out(self, slip: slips.Slip, scope: tuple) -> bool:
        """An earlier answer that the rules explain, and that the slip at this scope would have changed."""
        if self.earlier is None:
            return False
        if self._right is None:
            self._right = self.earlier.shown_right()
        for answered, evaluation in self._right:
            try:
                value = evaluation.with_rules(slip.rules(scope)).values(entries(self.earlier.network,
                                                                                answered.part.quantity))
            except _CANNOT:
                continue
            if not same(answered.value, value, answered.part.within):
                return True
        return False

    def rules_out_name(self, name: str) -> bool:
        """A template's mistake named after a slip: ruled out when the slip cannot be made in
        this network (kept_power_two under sse), or every place it could be made is ruled out."""
        slip = slips.BY_NAME.get(name)
        if self.earlier is None or slip is None or slip.rule is None:
            return False
        scopes = slip.scopes(self.earlier.network)
        return not scopes or all(self.rules_out(slip, scope) for scope in scopes)


def _mistake_value(problem: Problem, mistake: Mistake, root: Evaluation | None) -> Any:
    """The mistake's number(s), from the learner's earlier answers where the graph has them."""
    if root is not None:
        try:
            return _scaled(root.values(entries(root.network, mistake.quantity)), float(mistake.scale))
        except _CANNOT:
            pass
    value = problem.kind.value(problem.solution, mistake.quantity)
    if value.expression:
        return None
    return _scaled(floats(value.approx), float(mistake.scale))


def _formula(problem: Problem, part: Part, read) -> Diagnosis | None:
    """A formula answer (f′ as an expression): the template's mistakes, then the classic slips
    in writing f′."""
    if isinstance(read, list):
        return None
    variables = part.value.variables
    for mistake in part.mistakes:
        value = problem.kind.value(problem.solution, mistake.quantity)
        if value.expression and equivalent(read, mistake.scale * value.exact, variables):
            return Diagnosis(mistake.name, mistake.feedback)
    for name, form, feedback in problem.kind.symbolic_slips(problem.solution):
        if equivalent(read, form, variables):
            return Diagnosis(name, feedback)
    return None


def _scaled(value, factor: float):
    if isinstance(value, tuple):
        return tuple(_scaled(v, factor) for v in value)
    return value * factor


"""A learner's earlier answers in a problem, as values the engine's rules can be re-run from.

Error carried forward and diagnosis both start from them: a later part is graded against what
the rules compute from the learner's own earlier numbers, and a slip that an earlier answer
shows the learner did not make is never offered as the explanation of a later one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backprop_tutor.bank.problem import Part, Problem
from backprop_tutor.engine.arithmetic import FLOATS
from backprop_tutor.engine.entries import entries, flat
from backprop_tutor.engine.evaluation import GRADER, Evaluation
from backprop_tutor.engine.network import Network
from backprop_tutor.engine.quantities import QuantityId
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.grading.answers import numbers, read_answer, same

# Why a re-run with a learner's numbers can fail: their number overflows a float, lies outside
# a function's domain (the log of a negative output), or the slip needs an index that is not there.
RERUN_ERRORS = (ArithmeticError, ValueError, TypeError)


@dataclass(frozen=True)
class Answered:
    """An earlier part the learner answered with numbers."""

    part: Part
    value: Any  # floats, shaped like the part's quantity
    entries: tuple[QuantityId, ...]  # the part's entries, in row order


@dataclass
class Earlier:
    """The problem's graph, and the learner's earlier numeric answers in the order asked."""

    problem: Problem
    network: Network
    given: dict[QuantityId, float]  # what the kind gives beyond the network file (an activation's z)
    answered: list[Answered] = field(default_factory=list)
    _own: dict[str, Evaluation] = field(default_factory=dict, repr=False)
    _engine: Evaluation | None = field(default=None, repr=False)

    @classmethod
    def read(cls, problem: Problem, part: Part, texts: Mapping[str, str] | None) -> Earlier | None:
        """None when the problem is not computed by the network rules."""
        graph = problem.kind.graph(problem.solution)
        if graph is None:
            return None
        network, given = graph
        earlier = cls(problem, network, {q: float(v) for q, v in given.items()})
        for other in problem.earlier(part):
            text = (texts or {}).get(other.id)
            if text is None or other.value.expression:
                continue
            try:
                read, _ = read_answer(text)
            except AnswerFormatError:
                continue
            value = numbers(read)
            ids = entries(network, other.quantity)
            if value is not None and _shaped(value, ids):
                earlier.answered.append(Answered(other, value, tuple(flat(ids))))
        return earlier

    def own_path(self, part: Part) -> Evaluation:
        """The rules run from the learner's earlier numbers, never from their own answer to the
        part being graded (it is not its own input). Made once per part: error carried forward
        and diagnosis both start from it."""
        if part.id not in self._own:
            own = set(flat(entries(self.network, part.quantity)))
            overrides = dict(self.given)
            for answered in self.answered:
                overrides.update((q, v) for q, v in zip(answered.entries, flat(answered.value)) if q not in own)
            self._own[part.id] = Evaluation(self.network, FLOATS, GRADER, overrides)
        return self._own[part.id]

    def engine_path(self) -> Evaluation:
        """The rules run from the problem's own numbers alone, as if nothing had been answered."""
        if self._engine is None:
            self._engine = Evaluation(self.network, FLOATS, GRADER, dict(self.given))
        return self._engine

    def upstream(self, part: Part) -> set[QuantityId]:
        """The entries the part is computed from, by the rules alone (no answer cutting them off)."""
        return self.engine_path().ancestors(flat(entries(self.network, part.quantity)))

    def source(self, quantity: QuantityId) -> Part | None:
        """The last earlier part whose answer gave this entry."""
        found = None
        for answered in self.answered:
            if quantity in answered.entries:
                found = answered.part
        return found

    def shown_right(self) -> list[tuple[Answered, Evaluation]]:
        """The earlier answers the rules explain — the key, or what follows from the learner's own
        wrong earlier numbers — each with the evaluation that explains it. That evaluation takes
        only the *wrong* earlier numbers as given: a right one is recomputed, so a slip made
        before it still shows downstream (a slip that moves δ⁽²⁾ by less than the tolerance can
        still move δ⁽¹⁾ by more)."""
        out, wrong = [], dict(self.given)
        for answered in self.answered:
            evaluation = Evaluation(self.network, FLOATS, GRADER, dict(wrong))
            try:
                value = evaluation.values(entries(self.network, answered.part.quantity))
                right = same(answered.value, value, answered.part.within)
            except RERUN_ERRORS:
                right = False
            if right:
                out.append((answered, evaluation))
            else:
                wrong.update(zip(answered.entries, flat(answered.value)))
        return out


def _shaped(value, ids) -> bool:
    if isinstance(ids, QuantityId):
        return not isinstance(value, tuple)
    return isinstance(value, tuple) and len(value) == len(ids) and all(_shaped(v, i) for v, i in zip(value, ids))


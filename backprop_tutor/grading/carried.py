"""Error carried forward: a later part graded against what the rules compute from the
learner's own earlier answers. A part such as ∂L/∂w⁽¹⁾₀₁ = δ⁽¹⁾₀·x₁ is right *given* the
learner's δ⁽¹⁾₀ even when that δ was wrong; it earns the credit, and the verdict says which
earlier answer it was carried from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backprop_tutor.bank.problem import Part
from backprop_tutor.engine.entries import entries
from backprop_tutor.grading.answers import same
from backprop_tutor.grading.earlier import RERUN_ERRORS, Earlier

EXACT = ("relative", 1e-9)  # a learner's number that is the engine's (not merely within tolerance)


@dataclass(frozen=True)
class Carried:
    parts: tuple[str, ...]  # the earlier parts whose own numbers the credit was computed from
    began: str | None  # the part where the learner's error began (None: their numbers were only rounded)
    quantities: tuple[str, ...]  # the entries used, as ids

    @property
    def feedback(self) -> str:
        names = ", ".join(self.quantities[:3]) + (" …" if len(self.quantities) > 3 else "")
        if self.began:
            return (f"Correct given your value for {names} (part {', '.join(self.parts)}); "
                    f"the error began in part {self.began}.")
        return f"Correct given your rounded value for {names} (part {', '.join(self.parts)})."


def carried(earlier: Earlier, part: Part, answer: Any, tolerance: tuple[str, float]) -> Carried | None:
    """The credit, when `answer` (floats) is what the rules give from the learner's earlier
    numbers and those numbers are not simply the engine's."""
    if not earlier.answered:
        return None
    evaluation = earlier.own_path(part)
    try:
        value = evaluation.values(entries(earlier.network, part.quantity))
    except RERUN_ERRORS:
        return None
    if not same(answer, value, tolerance):
        return None
    problem = earlier.problem
    used, wrong = {}, {}
    for quantity in sorted(evaluation.used - set(earlier.given), key=lambda q: q.text):
        source = earlier.source(quantity)
        mine = evaluation.overrides[quantity]
        engine = float(problem.kind.value(problem.solution, quantity).approx)
        if source is None or same(mine, engine, EXACT):
            continue
        used.setdefault(source.id, []).append(quantity.text)
        if not same(mine, engine, source.within):
            wrong[source.id] = True
    if not used:
        return None
    order = [p.id for p in problem.parts]
    parts = tuple(sorted(used, key=order.index))
    return Carried(parts, _began(earlier, part, parts, wrong), tuple(q for p in parts for q in used[p]))


def _began(earlier: Earlier, part: Part, parts: tuple[str, ...], wrong: dict) -> str | None:
    """Where the error began: the first earlier answer that this part is computed from, that
    was off, and that no earlier answer explains (a δ right given a wrong ∂L/∂o carries the
    error; it does not begin it)."""
    if not wrong:
        return None
    upstream = earlier.upstream(part)
    explained = {answered.part.id for answered, _ in earlier.shown_right()}
    for answered in earlier.answered:
        if answered.part.id not in explained and upstream.intersection(answered.entries):
            return answered.part.id
    return next(p for p in parts if p in wrong)

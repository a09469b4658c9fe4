"""`tutor bank validate`: an absolute tolerance that accepts everything.

A relative tolerance of 1 or more is refused when the template is loaded (bank/template.py); an
absolute one can be judged only against the keys it will be applied to. If on every drawn
variant it is at least as large as every entry of the key, then 0 (and the key with its sign
flipped) is graded correct on every variant: the part grades nothing, so the self-test fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from backprop_tutor.bank.problem import Problem


def swamping_tolerances(problems: Iterable[Problem]) -> list[str]:
    """One problem per part whose absolute tolerance covers its whole key on every variant."""
    swamped: dict[str, tuple[float, bool]] = {}  # part id → (tolerance, covered on every variant so far)
    for problem in problems:
        for part in problem.parts:
            if not part.tolerance or part.tolerance[0] != "absolute" or part.value.expression:
                continue
            tolerance = part.tolerance[1]
            entries = list(_flat(part.value.approx))
            covered = bool(entries) and all(abs(v) <= tolerance for v in entries)
            previous = swamped.get(part.id, (tolerance, True))[1]
            swamped[part.id] = (tolerance, previous and covered)
    return [f"part {pid}: the absolute tolerance {tolerance} is at least every entry of the key on every seed, so "
            "0 is graded correct; make it much smaller than the key"
            for pid, (tolerance, every) in swamped.items() if every]


def _flat(value) -> Iterable[float]:
    if isinstance(value, tuple):
        for v in value:
            yield from _flat(v)
    else:
        yield float(value)

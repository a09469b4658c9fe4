"""The bank's network problems as the matrix tests (test_slip_matrix, test_carried_forward_matrix)
see them: generated once per template and seed, with the reference's results beside them."""

from __future__ import annotations

from functools import lru_cache

import reference_backprop as R
from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate

SEEDS = (0, 1, 2)
BANK = Bank.open()
NETWORK_TEMPLATES = tuple(t.id for t in BANK.templates() if t.kind.name == "network")


@lru_cache(maxsize=None)
def problem(template_id: str, seed: int):
    return generate(BANK.load(template_id), seed)


def quantity(part) -> str:
    return part.quantity.text


def numeric_parts(p) -> list:
    return [part for part in p.parts if not part.value.expression]


def network(p) -> dict:
    return p.solution.network.to_json()


@lru_cache(maxsize=None)
def slip_runs(template_id: str, seed: int) -> dict:
    """(slip, scope) → the reference's results, for every slip and scope that can be made."""
    net = network(problem(template_id, seed))
    return {(slip, scope): R.evaluate(net, slip, scope) for slip in R.CATALOGUE for scope in R.scopes(net, slip)}

"""Error carried forward, and no false advice, on every network template of the bank.

ECF: a later part P answered consistently with a wrong earlier answer to E (the reference
recomputes P with the learner's E in place of the engine's) earns full marks, and the result
says it was carried from E; an answer consistent with neither scores 0.

No false advice: when the earlier parts were answered with their keys, a wrong answer to P is
never diagnosed as a slip those answers show the learner did not make.

Values come from tests/reference_backprop.py (independent of the engine and the grader).
"""

from __future__ import annotations

import math

import pytest

import reference_backprop as R
from backprop_tutor.grading.grade import grade_part
from matrix_cases import NETWORK_TEMPLATES, SEEDS, network, numeric_parts, problem, quantity, slip_runs

SHIFT = 0.25  # a wrong answer where the key is 0
NEITHER = 1.5


def case(template_id, seed, part) -> str:
    return f"{template_id} seed {seed} part {part.id} ({quantity(part)})"


def wrong(v, factor: float = 1.3, shift: float = SHIFT):
    """Each entry scaled by `factor`, or shifted where it is 0."""
    if isinstance(v, list):
        return [wrong(item, factor, shift) for item in v]
    return v * factor if abs(v) > 1e-12 else v + shift


def evaluate(net, slip=None, scope=None, overrides=None):
    """The reference's results, or None where its arithmetic fails on a learner's value
    (the log of a negative output, a division by 0)."""
    try:
        return R.evaluate(net, slip, scope, overrides)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def value(results, q):
    if results is None:
        return None
    try:
        v = R.value(results, q)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return v if R.complete(v) else None


def ecf_pairs(template_id: str, seed: int):
    """(E, P, E's wrong value, P recomputed from it) for every later P that depends on E."""
    p = problem(template_id, seed)
    net = network(p)
    correct = R.evaluate(net)
    parts = numeric_parts(p)
    for i, later in enumerate(parts):
        for earlier in parts[:i]:
            given = wrong(R.value(correct, quantity(earlier)))
            carried = value(evaluate(net, overrides=R.entries(quantity(earlier), given)), quantity(later))
            if carried is None or R.same(carried, R.value(correct, quantity(later))):
                continue  # P does not depend on E (or cannot be recomputed from this value)
            yield earlier, later, given, carried


# --- error carried forward -------------------------------------------------------------------

@pytest.mark.parametrize("template_id", NETWORK_TEMPLATES)
def test_an_answer_consistent_with_a_wrong_earlier_answer_earns_full_marks(template_id):
    failures, tried = [], 0
    for seed in SEEDS:
        p = problem(template_id, seed)
        for earlier, later, given, carried in ecf_pairs(template_id, seed):
            key, tol = R.as_floats(later.value.approx), later.tolerance
            if R.close(carried, key, tol):
                continue  # the carried value is the key: nothing to carry
            tried += 1
            before = {earlier.id: R.answer_text(given)}
            where = f"{case(template_id, seed, later)} after {earlier.id} = {before[earlier.id]}"
            result = grade_part(p, later.id, R.answer_text(carried), earlier=before)
            carried_from = tuple(getattr(result, "carried_from", ()))
            if result.status != "correct" or result.score != later.points or earlier.id not in carried_from:
                failures.append(f"{where}: {R.answer_text(carried)} (carried) graded {result.status}, score "
                                f"{result.score} of {later.points}, carried_from {carried_from}")
            neither = wrong(carried, NEITHER, 0.37)
            if R.close(neither, key, tol) or R.close(neither, carried, tol):
                continue
            result = grade_part(p, later.id, R.answer_text(neither), earlier=before)
            if result.status != "incorrect" or result.score != 0:
                failures.append(f"{where}: {R.answer_text(neither)} (neither) graded {result.status}, score "
                                f"{result.score}, carried_from {tuple(getattr(result, 'carried_from', ()))}")
    assert not failures, f"{len(failures)} of {tried} pairs fail:\n" + "\n".join(failures[:60])


def test_every_template_with_dependent_parts_has_ecf_pairs():
    """The matrix is not empty by accident: templates whose later parts build on earlier ones
    give pairs (a template of independent parts, such as the nudge ratio beside ∂L/∂w, may not)."""
    counts = {t: sum(1 for seed in SEEDS for _ in ecf_pairs(t, seed)) for t in NETWORK_TEMPLATES}
    assert sum(counts.values()) > 100, counts
    for template_id in ("mlp_2_2_1", "sigmoid_2_2_2_two_outputs", "gradient_descent_step", "vectorized_backprop"):
        assert counts.get(template_id, 0) > 0, counts


# --- no false advice -------------------------------------------------------------------------

def consistent_with_keys(template_id: str, seed: int, slip: str, earlier_parts) -> list:
    """The scopes of `slip` under which every earlier part keeps its key's value (within its
    tolerance); entries the slip cannot produce show nothing either way."""
    runs = slip_runs(template_id, seed)
    found = []
    for (name, scope), results in runs.items():
        if name != slip:
            continue
        if all(_agrees(R.as_floats(e.value.approx), R.value(results, quantity(e)), e.tolerance) for e in earlier_parts):
            found.append(scope)
    return found


def _agrees(key, slipped, tolerance) -> bool:
    if isinstance(key, list):
        return all(_agrees(k, s, tolerance) for k, s in zip(key, slipped))
    if slipped is None or not math.isfinite(slipped):
        return True
    return R.close(key, slipped, tolerance)


@pytest.mark.parametrize("template_id", NETWORK_TEMPLATES)
def test_no_slip_is_diagnosed_that_the_earlier_answers_rule_out(template_id):
    failures, tried = [], 0
    for seed in SEEDS:
        p = problem(template_id, seed)
        runs = slip_runs(template_id, seed)
        parts = numeric_parts(p)
        for i, part in enumerate(parts):
            earlier_parts = parts[:i]
            if not earlier_parts:
                continue
            before = {e.id: e.answer for e in p.parts[: p.parts.index(part)]}
            key, tol = R.as_floats(part.value.approx), part.tolerance
            answers: dict[str, str] = {}
            for (slip, scope), results in runs.items():
                v = R.value(results, quantity(part))
                if R.complete(v) and not R.close(v, key, tol):
                    answers.setdefault(R.answer_text(v), f"{slip}@{scope}")
            for made, v in (("key×1.1", wrong(key, 1.1, 0.0)), ("−key", wrong(key, -1.0, 0.0))):
                if not R.close(v, key, tol):
                    answers.setdefault(R.answer_text(v), made)
            for text, made in answers.items():
                tried += 1
                result = grade_part(p, part.id, text, earlier=before)
                if result.diagnosis not in R.CATALOGUE:
                    continue
                if consistent_with_keys(template_id, seed, result.diagnosis, earlier_parts):
                    continue
                if not any(slip == result.diagnosis for slip, _ in runs):
                    why = "a slip that cannot be made in this network"
                else:
                    why = f"but the keys given for {', '.join(e.id for e in earlier_parts)} rule it out in every scope"
                failures.append(f"{case(template_id, seed, part)}: {text} ({made}) diagnosed "
                                f"{result.diagnosis!r}, {why}")
    assert not failures, f"{len(failures)} of {tried} answers fail:\n" + "\n".join(failures[:60])

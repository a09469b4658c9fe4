"""Problem part + answer text → Result. A badly formed answer is `invalid` (costs no attempt); a
wrong one is `incorrect`, with the slip it shows when one matches; never an exception.

The order: the key; then the learner's own earlier answers (error carried forward: a part right
given their earlier numbers earns its credit); then the diagnosis (grading/diagnosis.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from backprop_tutor.bank.problem import Problem
from backprop_tutor.errors import AnswerFormatError
from backprop_tutor.grading.answers import internal_error, judge, numbers, read_for, target_of
from backprop_tutor.grading.carried import carried
from backprop_tutor.grading.diagnosis import diagnose
from backprop_tutor.grading.earlier import Earlier
from backprop_tutor.grading.result import Result, Status


def grade_part(problem: Problem, part_id: str, text: str, earlier: Mapping[str, str] | None = None) -> Result:
    """Grade one part of a generated problem; `earlier` maps the ids of parts answered before
    to the learner's answers (for error carried forward, and so that diagnosis starts from them).
    AnswerFormatError only when the problem has no such part; GradingFailure (answers.py) when the
    grader itself fails, which is no verdict."""
    part = problem.part(part_id)
    try:
        return _grade(problem, part, text, earlier)
    except Exception as e:  # the safety net: an unexpected exception is not a verdict
        raise internal_error(e) from e


def _grade(problem: Problem, part, text: str, earlier: Mapping[str, str] | None) -> Result:
    target = target_of(part)
    try:
        read, echo = read_for(target, text)
    except AnswerFormatError as e:
        return Result(Status.INVALID, 0, None, target.key, str(e), None, target.points)
    result = judge(target, read, echo, text)
    if result.status is not Status.INCORRECT:
        return result
    if part.value.expression:  # a formula has no graph: no earlier answers to carry, no re-runs
        answer, context = None, None
    else:
        answer, context = numbers(read), Earlier.read(problem, part, earlier)
    if context is not None and answer is not None:
        credit = carried(context, part, answer, target.within)
        if credit is not None:
            return Result(Status.CORRECT, target.points, echo, target.key, credit.feedback, None, target.points,
                          credit.parts)
    found = diagnose(problem, part, read, answer, context)
    if found is None:
        return result
    return replace(result, feedback=found.feedback, diagnosis=found.slip)

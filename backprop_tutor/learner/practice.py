"""The practice session: problems, parts, attempts, hints, score. No terminal in here.

`Session` talks through two callables: `ask(prompt) -> str` (raising EOFError or
KeyboardInterrupt when the learner leaves) and `show(renderable)`; every graded attempt goes
to the store before the next question is asked. Which problems come is decided by `plan`:
the given template, or what the history says (a review that is due, else the least-mastered
skill; learner/progress.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backprop_tutor.errors import TutorError, did_you_mean
from backprop_tutor.bank.problem import Part, Problem
from backprop_tutor.learner.progress import choose_next, utc_now
from backprop_tutor.learner.store import Attempt, Outcome, PartOutcome, Store

ATTEMPTS = 3
_QUIT_WORDS = ("quit", "exit", "q")


# --- which problems ------------------------------------------------------------------------------

def select_templates(templates: Sequence[Any], skill: str | None = None, level: int | None = None) -> list[Any]:
    """The templates that fit --skill and --level; a TutorError naming the choices when none do."""
    chosen = list(templates)
    if skill is not None:
        skills = sorted({s for t in templates for s in t.skills})
        if skill not in skills:
            hint = did_you_mean(skill, skills)
            raise TutorError(f"--skill: unknown skill {skill!r}{hint}; the bank practises {', '.join(skills)}")
        chosen = [t for t in chosen if skill in t.skills]
    if level is not None:
        chosen = [t for t in chosen if t.level == level]
    if not chosen:
        what = " and ".join(x for x in (f"skill {skill}" if skill else "", f"level {level}" if level else "") if x)
        raise TutorError(f"no template in the bank practises {what}; `tutor bank list` shows skills and levels")
    return chosen


def plan(bank, store: Store, seed: int, count: int, template: str | None = None,
         skill: str | None = None, level: int | None = None, review_only: bool = False,
         clock: Callable[[], datetime] = utc_now) -> Iterator[tuple[Problem, str]]:
    """(problem, why this one) lazily, so each choice sees the attempts saved before it (and the
    time from `clock`). Problem n uses seed + n: the first one is `tutor solve TEMPLATE --seed
    SEED`. With `review_only`, the plan ends early when no review is due any more."""
    from backprop_tutor.bank.generate import generate

    if template is not None:
        fixed = bank.load(template)
        for n in range(count):
            yield generate(fixed, seed + n), ""
        return
    templates = select_templates(bank.entries(), skill, level)  # the catalogue; only the chosen one is loaded
    for n in range(count):
        chosen = _next_template(bank, templates, store, f"practice:{seed}:{n}", clock(), review_only)
        if chosen is None:
            return
        yield generate(chosen[0], seed + n), chosen[1]


def _next_template(bank, templates: list[Any], store: Store, draw: str, now: datetime,
                   review_only: bool) -> tuple[Any, str] | None:
    """The next template, loaded. One whose title and skills read well but whose parts do not
    load is reported (when the bank reports broken templates) and never chosen again, so one
    bad file in a user's bank ends no session; without a reporter its error stands. None when
    only reviews are wanted and none is due."""
    from backprop_tutor.errors import TemplateError

    while True:
        choice = choose_next(templates, store.attempts(), store.outcomes(), random.Random(draw), now, review_only)
        if choice is None:
            return None
        try:
            return bank.load(choice.template), choice.reason
        except TemplateError as e:
            report = getattr(bank, "on_broken", None)
            if report is None:
                raise
            report(e)
            templates[:] = [t for t in templates if t.id != choice.template]
            if not templates:
                raise TutorError("no template in the bank that fits could be loaded; "
                                 "`tutor bank validate` shows what is wrong with them") from None


# --- the session ---------------------------------------------------------------------------------

@dataclass
class PartRecord:
    """How one part went."""

    part: Part
    outcome: PartOutcome | None = None  # None while the part is open
    attempts: int = 0
    hints: int = 0
    score: float = 0
    answers: list[str] = field(default_factory=list)  # graded answers, in order
    understood: list[str] = field(default_factory=list)  # the same, as the parser understood them
    values: list[Any] = field(default_factory=list)  # ... and the exact values they were read as


class Leave(Exception):
    """The learner typed quit (or left with Ctrl-D / Ctrl-C)."""


@dataclass
class Session:
    """`view` builds what is shown (cli/practice_view.py: rich renderables); `show` shows it."""

    store: Store
    ask: Callable[[str], str]
    show: Callable[[Any], None]
    view: Any
    score: float = 0
    points: float = 0
    problems: int = 0

    def run(self, problems: Iterable[tuple[Problem, str]], total: int | None = None) -> None:
        """Practise until the problems run out or the learner leaves; the score is shown either way."""
        try:
            for number, (problem, reason) in enumerate(problems, 1):
                self.practise(problem, reason, number, total)
        except (Leave, EOFError, KeyboardInterrupt):
            self.show(self.view.leaving(self.score, self.points, self.problems))
            return
        self.show(self.view.session_end(self.score, self.points, self.problems))

    def practise(self, problem: Problem, reason: str = "", number: int = 1, total: int | None = None) -> list[PartRecord]:
        self.show(self.view.problem_view(problem, reason, number, total))
        records: list[PartRecord] = []
        earlier: dict[str, str] = {}
        for index, part in enumerate(problem.parts, 1):
            record = PartRecord(part)
            records.append(record)
            self.show(self.view.part_prompt(part, index, len(problem.parts)))
            try:
                self._ask_part(problem, record, earlier)
            finally:
                # A part counts toward Y in `Score: X/Y` once it was tried or ended; leaving at
                # a fresh prompt does not cost the learner its points.
                if record.outcome or record.attempts:
                    self.points += part.points
        self.problems += 1
        self.show(self.view.review(problem, records))
        got = sum(r.score for r in records)
        self.show(self.view.problem_score(got, sum(p.points for p in problem.parts), self.score, self.points,
                                     self.problems))
        return records

    def _ask_part(self, problem: Problem, record: PartRecord, earlier: dict[str, str]) -> None:
        from backprop_tutor.grading.answers import GradingFailure
        from backprop_tutor.grading.grade import grade_part
        from backprop_tutor.grading.result import Result, Status

        part = record.part
        while True:
            text = self.ask(f"{part.id}> ").strip()
            word = text.lower()
            if word in _QUIT_WORDS:
                raise Leave
            if not text or word in ("help", "?"):
                self.show(self.view.commands_help())
                continue
            if word == "hint":
                self.show(self.view.hint(part, record.hints))
                record.hints = min(record.hints + 1, len(part.hints))
                continue
            if word in ("solution", "skip"):
                self._end(problem, record, PartOutcome.REVEALED if word == "solution" else PartOutcome.SKIPPED)
                self.show(self.view.reveal(part, problem.steps_for(part)) if word == "solution" else self.view.skipped(part))
                return
            value = _value_of(part, text)
            if value is not None and value in record.values:
                attempt = record.values.index(value)
                self.show(self.view.repeated(attempt + 1, record.understood[attempt]))
                continue  # the same verdict again would only cost an attempt
            try:
                result = grade_part(problem, part.id, text, earlier)
            except GradingFailure as e:  # the grader failed, not the learner: no attempt, the session goes on
                result = Result(Status.INVALID, 0, None, part.answer, str(e), None, part.points)
            if result.status is Status.INVALID:
                self.show(self.view.verdict(result))
                continue  # costs no attempt and is not saved
            # Stored before it is shown: a terminal closed right after "Correct" loses nothing.
            record.attempts += 1
            record.answers.append(text)
            record.understood.append(result.interpreted_as)
            record.values.append(value)
            earlier[part.id] = text  # later parts are graded against it too (error carried forward)
            self.store.record_attempt(Attempt(problem.template, problem.seed, part.id, part.skill, text,
                                              result.status, result.score, result.points, result.diagnosis))
            if result.status is Status.CORRECT:
                record.score = result.score
                self.score += result.score
                self._end(problem, record, PartOutcome.CORRECT)
            elif record.attempts >= ATTEMPTS:
                self._end(problem, record, PartOutcome.MISSED)
            self.show(self.view.verdict(result))
            if record.outcome is PartOutcome.CORRECT:
                return
            if record.outcome is PartOutcome.MISSED:
                self.show(self.view.out_of_attempts(part, problem.steps_for(part)))
                return
            self.show(self.view.try_again(record.attempts, ATTEMPTS, record.hints < len(part.hints)))

    def _end(self, problem: Problem, record: PartRecord, outcome: PartOutcome) -> None:
        """The part is over: how it went is stored before anything about it is shown."""
        record.outcome = outcome
        part = record.part
        self.store.record_outcome(Outcome(problem.template, problem.seed, part.id, part.skill, outcome,
                                          record.attempts, record.hints, record.score, part.points))


def _value_of(part: Part, text: str) -> Any:
    """The exact value an answer is read as, or None when it is not an answer (grading says
    why). Two answers of the same value get the same verdict, so `0.1`, ` 0.10 ` and `1/10`, or
    `2x` and `x*2`, are one answer."""
    from backprop_tutor.errors import AnswerFormatError
    from backprop_tutor.grading.answers import read_for, target_of

    try:
        return read_for(target_of(part), text)[0]
    except AnswerFormatError:
        return None
    except Exception:  # noqa: BLE001 - whatever failed here, grade_part's safety net reports it
        return None

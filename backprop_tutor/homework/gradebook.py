"""`tutor grade`'s core: a set.json and the students' answer files → one graded row per part,
and what the instructor and each student should read about it. No printing, no writing.

Each problem is regenerated from its template and seed, so the grader has the whole worked
solution to diagnose mistakes and carry errors forward. If the bank no longer gives the key
recorded in set.json (a template was edited or removed since), that problem is graded against
set.json's own keys instead: still exact, without the diagnosis.
"""

from __future__ import annotations

import json
import re
import stat
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Sequence

from backprop_tutor.engine import yamlio
from backprop_tutor.engine.files import ReadProblem, read_text
from backprop_tutor.errors import TutorError, yaml_problem
from backprop_tutor.worked.render import markdown_code, markdown_text
from backprop_tutor.homework.assignment import ID_RULE, HomeworkError, valid_id

# Read limits (docs/formats.md, "Limits"): checked before parsing, so one file cannot stall a class.
MAX_ANSWER_FILE_BYTES = 1_000_000  # a filled-in answer file is a few kB
MAX_SET_BYTES = 256_000_000  # set.json of 100,000 students (tutor generate's most) is far less

COLUMNS = ("student", "problem", "part", "answer", "score", "diagnosis", "carried_from")


# CSV formula injection (OWASP): a spreadsheet runs a cell that begins with = + - @ (or a tab or
# carriage return, which some strip first) as a formula, and answers, labels, file names and ids
# are the students' text. Such a cell is written with a ' in front, which the spreadsheet shows
# as text; a plain number (-0.5, +3, -1e-3) is left alone so it stays a number.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def csv_safe(cell: Any) -> str:
    """A cell as tutor writes it into a CSV (docs/formats.md, "Gradebook")."""
    text = str(cell)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_unsafe(cell: str) -> str:
    """A cell read back from a gradebook tutor wrote: the ' that csv_safe put in front removed
    (a student id never begins with ', so the id column reads back as the id)."""
    return cell[1:] if cell.startswith("'") and csv_safe(cell[1:]) == cell else cell


class RowStatus(str, Enum):
    """What a gradebook row is: a graded answer, or why there was nothing to grade."""

    GRADED = "graded"
    NO_ANSWER = "no_answer"
    INVALID_ANSWER = "invalid_answer"
    GRADING_ERROR = "grading_error"
    NO_SUBMISSION = "no_submission"
    MALFORMED = "malformed_submission"
    UNKNOWN_STUDENT = "unknown_student"
    UNKNOWN_LABEL = "unknown_label"
    DUPLICATE = "duplicate_submission"
    SKIPPED = "skipped_file"


@dataclass(frozen=True)
class Row:
    student: str
    problem: int | str
    part: str
    answer: str
    score: float | str  # points earned; "" where nothing was gradable (an unknown file or label)
    status: RowStatus = RowStatus.GRADED
    detail: str = ""  # what the status is about (the file, the error)
    diagnosis: str | None = None  # the slip a graded answer shows (docs/rules-and-slips.md)
    feedback: str = ""  # for the student's feedback file, not the CSV
    key: str = ""
    points: float = 0
    carried_from: tuple[str, ...] = ()  # earlier parts the credit was computed from

    @property
    def diagnosis_cell(self) -> str:
        """The CSV's diagnosis: the slip of a graded answer, else the status and its detail."""
        if self.status is RowStatus.GRADED:
            return self.diagnosis or ""
        return f"{self.status.value}: {self.detail}" if self.detail else self.status.value

    @property
    def cause(self) -> str:
        """Why a part was missed, for the class summary."""
        if self.status is RowStatus.GRADED:
            return self.diagnosis or "undiagnosed"
        return self.status.value

    def csv(self) -> list:
        score = f"{self.score:g}" if isinstance(self.score, (int, float)) else self.score
        return [self.student, self.problem, self.part, self.answer, score, self.diagnosis_cell,
                " ".join(self.carried_from)]


@dataclass
class StudentGrade:
    student: str
    name: str = ""  # the roster's name, as set.json has it
    title: str = ""  # the set's title (tutor generate --title)
    rows: list[Row] = field(default_factory=list)
    points: float = 0  # what the set was worth for this student
    submitted: Path | None = None
    readable: bool = False  # the answer file was read (not malformed)
    problem_titles: dict[int, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(r.score for r in self.rows if isinstance(r.score, (int, float)))


@dataclass
class Gradebook:
    students: list[StudentGrade]
    unknown: list[Row]  # files that match no student
    fallback: list[str]  # problems graded against set.json's keys, and why

    def rows(self) -> list[Row]:
        return [r for s in self.students for r in s.rows] + self.unknown


def load_set(path: Path) -> dict:
    """set.json, checked for what grading needs; a clear error otherwise."""
    try:
        data = json.loads(read_text(path, MAX_SET_BYTES, "a set.json"))
    except ReadProblem as e:
        raise HomeworkError(f"{path}: {e}") from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise HomeworkError(f"{path}: not a set.json written by tutor generate ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("students"), list):
        raise HomeworkError(f"{path}: not a set.json written by tutor generate (no 'students' list)")
    for i, student in enumerate(data["students"]):
        where = f"{path}: students[{i}]"
        if not isinstance(student, dict) or not isinstance(student.get("id"), str):
            raise HomeworkError(f"{where}: needs an 'id'")
        if not valid_id(student["id"]):  # ids name feedback files: ../../x must not write outside the folder
            raise HomeworkError(f"{where}.id: {student['id']!r} cannot name a file; {ID_RULE}")
        problems = student.get("problems")
        if not isinstance(problems, list):
            raise HomeworkError(f"{where}: needs a 'problems' list")
        for j, problem in enumerate(problems):
            if not (isinstance(problem, dict) and isinstance(problem.get("template"), str)
                    and isinstance(problem.get("seed"), int) and isinstance(problem.get("parts"), list)):
                raise HomeworkError(f"{where}.problems[{j}]: needs 'template', 'seed' and 'parts'")
            for k, part in enumerate(problem["parts"]):
                at = f"{where}.problems[{j}].parts[{k}]"
                if not (isinstance(part, dict) and isinstance(part.get("id"), str) and isinstance(part.get("answer"), str)):
                    raise HomeworkError(f"{at}: needs 'id' and 'answer'")
                points = part.get("points", 1)
                if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
                    raise HomeworkError(f"{at}.points: must be a number ≥ 0, not {points!r}")
                tolerance = part.get("tolerance")
                if tolerance is not None and not (
                        isinstance(tolerance, dict) and len(tolerance) == 1
                        and next(iter(tolerance)) in ("relative", "absolute", "sigfigs")
                        and isinstance(next(iter(tolerance.values())), (int, float))):
                    raise HomeworkError(f"{at}.tolerance: must be like {{\"relative\": 0.001}}, not {tolerance!r}")
    return data


def answer_text(value: Any) -> str | None:
    """An answer as the student typed it. YAML reads an unquoted 0.25 as a number and [1, 2] as a
    list; both are turned back into the text they came from (Python's repr of a float is the
    shortest text that reads back to it, so 0.1385 stays 0.1385)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        items = [answer_text(v) for v in value]
        return None if any(i is None for i in items) else "[" + ", ".join(items) + "]"
    return None


def read_submission(path: Path) -> dict[str, Any]:
    """An answer file: a mapping of labels to answers. Raises HomeworkError saying what is wrong."""
    try:
        text = read_text(path, MAX_ANSWER_FILE_BYTES, "an answer file")
    except ReadProblem as e:
        raise HomeworkError(f"{path.name}: {e}") from None
    try:
        data = yamlio.load_answers(text)  # 0x1F and 1:30 stay the text they are
    except yamlio.YAMLError as e:
        raise HomeworkError(f"{path.name} is {yaml_problem(e)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HomeworkError(f"{path.name} should map labels like \"1.a2\" to answers, not be a {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _problem(bank, record: dict, cache: dict):
    """The regenerated problem, or None when the bank no longer gives set.json's keys."""
    from backprop_tutor.bank.generate import generate

    key = (record["template"], record["seed"])
    if key not in cache:
        try:
            problem = generate(bank.load(record["template"]), record["seed"], worked=False)
        except TutorError as e:
            cache[key] = (None, str(e))
        else:
            recorded = {p["id"]: p["answer"] for p in record["parts"]}
            now = {p.id: p.answer for p in problem.parts}
            same = recorded == now
            cache[key] = (problem if same else None,
                          "" if same else f"{record['template']} seed {record['seed']}: the bank's keys differ from "
                                          "set.json's (the template changed since the set was generated)")
    return cache[key]


def _recorded_target(part: dict, label: str):
    """Grade against the key written in set.json (exact, but without diagnosis)."""
    from dataclasses import replace

    from backprop_tutor.grading.answers import target_for_expected

    try:
        target = target_for_expected(part["answer"])
    except TutorError as e:
        raise HomeworkError(f"set.json: the key of {label}, {part['answer']!r}, cannot be read ({e})") from None
    tolerance = part.get("tolerance")
    if isinstance(tolerance, dict) and len(tolerance) == 1:
        (kind, amount), = tolerance.items()
        target = replace(target, tolerance=(kind, float(amount)))
    return replace(target, points=float(part.get("points", 1)))


def grade_student(record: dict, answers: dict[str, Any], bank, cache: dict, fallback: list[str]) -> StudentGrade:
    from backprop_tutor.grading.answers import grade
    from backprop_tutor.grading.grade import grade_part
    from backprop_tutor.grading.result import Status

    student = StudentGrade(record["id"])
    labels = set()
    for n, problem_record in enumerate(record["problems"], 1):
        problem, why = _problem(bank, problem_record, cache)
        if problem is None and why not in fallback:
            fallback.append(why)
        student.problem_titles[n] = problem_record.get("title", problem_record["template"])
        earlier: dict[str, str] = {}
        for part in problem_record["parts"]:
            label = f"{n}.{part['id']}"
            labels.add(label)
            points = float(part.get("points", 1))
            student.points += points
            text = answer_text(answers.get(label))
            if text is None:
                student.rows.append(Row(student.student, n, part["id"], str(answers.get(label)), 0,
                                        RowStatus.INVALID_ANSWER, feedback="Not an answer: write it as text, e.g. "
                                        "\"0.25\" or \"[0.1, -0.2]\".", key=part["answer"], points=points))
                continue
            if not text:
                student.rows.append(Row(student.student, n, part["id"], "", 0, RowStatus.NO_ANSWER,
                                        feedback="No answer given.", key=part["answer"], points=points))
                continue
            try:
                if problem is not None:
                    result = grade_part(problem, part["id"], text, earlier)
                else:
                    result = grade(_recorded_target(part, label), text)
            except HomeworkError:
                raise
            except Exception as e:  # one answer must never stop a class's grading; the row says what happened
                student.rows.append(Row(student.student, n, part["id"], text, 0, RowStatus.GRADING_ERROR,
                                        f"{type(e).__name__}: {e}", feedback="This answer could not be graded "
                                        "automatically; your instructor will look at it.", key=part["answer"],
                                        points=points))
                continue
            if result.status is Status.INVALID:
                student.rows.append(Row(student.student, n, part["id"], text, 0, RowStatus.INVALID_ANSWER,
                                        feedback=result.feedback, key=part["answer"], points=points))
                continue
            earlier[part["id"]] = text
            score = result.score if result.status is Status.CORRECT else 0
            student.rows.append(Row(student.student, n, part["id"], text, score, diagnosis=result.diagnosis,
                                    feedback=result.feedback, key=part["answer"], points=points,
                                    carried_from=result.carried_from))
    example = min(labels, default="1.a", key=lambda l: (len(l), l))
    for label in sorted(set(answers) - labels):
        n, _, part_id = label.partition(".")
        message = f"{label!r} is not a label of this set (labels look like {example!r})"
        student.rows.append(Row(student.student, n, part_id, answer_text(answers[label]) or "", "",
                                RowStatus.UNKNOWN_LABEL, message, feedback=message + "; that answer was not graded."))
    return student


def _no_work(record: dict, status: RowStatus, message: str) -> StudentGrade:
    student = StudentGrade(record["id"])
    student.points = sum(float(p.get("points", 1)) for pr in record["problems"] for p in pr["parts"])
    student.rows.append(Row(student.student, "", "", "", 0, status, message, feedback=message))
    return student


_ANSWER_SUFFIXES = (".yaml", ".yml")


def submission_files(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(the answer files named, a folder standing for the .yaml/.yml files in it; the other
    entries found in those folders, each with why it was not read: reported, never passed over
    in silence). Hidden files (.DS_Store, editor swap files) alone are left out unsaid."""
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in paths:
        found = sorted(path.iterdir()) if path.is_dir() else [path]
        for p in found:
            if path.is_dir():
                if p.name.startswith("."):
                    continue
                why = _not_an_answer_file(p)
                # A pipe, device or dangling link named ID.yaml is that student's submission: it gets
                # the student's own row saying what it is (engine/files.py will not read it), not a
                # skipped_file row that would leave the student marked as never handing in.
                if why and not (p.suffix.lower() in _ANSWER_SUFFIXES and not p.is_dir()):
                    skipped.append((p, why))
                    continue
            if p.resolve() not in seen:  # the same file named twice is one submission (a dangling link resolves to its name)
                seen.add(p.resolve())
                files.append(p)
    return files, skipped


def _not_an_answer_file(path: Path) -> str | None:
    """Why an entry of a submissions folder is not read as an answer file; None when it is one."""
    try:
        mode = path.stat().st_mode  # through a link, to what it names
    except FileNotFoundError:
        return "is a link to nothing" if path.is_symlink() else "has gone"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if stat.S_ISDIR(mode):
        return "is a folder (only the answer files directly in the folder given are read)"
    if not stat.S_ISREG(mode):  # a FIFO, socket or device: reading one could block or never end
        return "is not a regular file (a pipe, socket or device)"
    if path.suffix.lower() not in _ANSWER_SUFFIXES:
        return "is not a .yaml or .yml file"
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """A file name as it may be shown: control characters as \\xNN, so a name holding terminal
    escape codes is printed, not obeyed, in the terminal or a spreadsheet."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def _exact(stem: str, ids: dict[str, str]) -> bool:
    return unicodedata.normalize("NFC", stem) in ids


def _match(stem: str, ids: dict[str, str]) -> str | None:
    """The student an answer file belongs to: its stem is the id, compared in Unicode NFC (macOS
    writes file names decomposed), and without regard to case when that is unambiguous."""
    stem = unicodedata.normalize("NFC", stem)
    if stem in ids:
        return ids[stem]
    folded = [sid for key, sid in ids.items() if key.casefold() == stem.casefold()]
    return folded[0] if len(folded) == 1 else None


def grade_set(data: dict, submissions: Sequence[Path], bank, only: Sequence[str] = ()) -> Gradebook:
    """Every student's answer file graded; with `only` (student ids), those students' files alone,
    and the other files are not even looked at (docs/formats.md: regrading some students)."""
    records = {s["id"]: s for s in data["students"]}
    ids = {unicodedata.normalize("NFC", sid): sid for sid in records}
    chosen = {_chosen(sid, ids) for sid in only}
    by_student: dict[str, Path] = {}
    unknown: list[Row] = []
    files, skipped = submission_files(submissions)
    for path, why in [] if chosen else skipped:
        unknown.append(Row(printable(path.stem), "", "", "", "", RowStatus.SKIPPED, f"{printable(str(path))} {why}"))
    # exact matches first: ALICE.yaml, matched without regard to case, never takes alice's place
    # from alice.yaml (it is the duplicate), whatever order the folder lists them in
    for path in sorted(files, key=lambda p: not _exact(p.stem, ids)):
        student = _match(path.stem, ids)
        if chosen and student not in chosen:
            continue
        if student is None:
            why = _not_an_answer_file(path)  # a pipe or dangling link named after no student: say what it is
            unknown.append(Row(printable(path.stem), "", "", "", "", RowStatus.SKIPPED if why else RowStatus.UNKNOWN_STUDENT,
                               f"{printable(str(path))} {why or 'matches no student of the set'}"))
        elif student in by_student:
            unknown.append(Row(student, "", "", "", "", RowStatus.DUPLICATE,
                               f"{printable(str(path))} (graded {printable(str(by_student[student]))})"))
        else:
            by_student[student] = path
    missing = sorted(chosen - set(by_student))
    if missing:
        raise HomeworkError(f"--student {missing[0]}: no answer file of {missing[0]} among the submissions given")
    students, cache, fallback = [], {}, []
    for student_id, record in records.items():
        path = by_student.get(student_id)
        if path is None:
            students.append(_no_work(record, RowStatus.NO_SUBMISSION, ""))
            continue
        try:
            answers = read_submission(path)
        except HomeworkError as e:
            grade = _no_work(record, RowStatus.MALFORMED, str(e))
        else:
            grade = grade_student(record, answers, bank, cache, fallback)
            grade.readable = True
        grade.submitted = path
        students.append(grade)
    for grade in students:  # the feedback is headed as the sheet was: the set's title, the student's name
        name, title = records[grade.student].get("name", ""), data.get("title", "")
        grade.name, grade.title = (name if isinstance(name, str) else ""), (title if isinstance(title, str) else "")
    return Gradebook(students, unknown, fallback)


def _chosen(student: str, ids: dict[str, str]) -> str:
    """A --student id as the set spells it; a HomeworkError naming the near miss otherwise."""
    from backprop_tutor.errors import did_you_mean

    found = _match(student, ids)
    if found is None:
        raise HomeworkError(f"--student {student}: not a student of the set{did_you_mean(student, ids.values())}")
    return found


@dataclass(frozen=True)
class Missed:
    label: str  # "2.delta1"
    title: str
    missed: int
    of: int
    diagnoses: tuple[tuple[str, int], ...]  # most common first


@dataclass(frozen=True)
class Summary:
    students: int
    submitted: int  # handed in a file, readable or not
    readable: int  # ... that could be read and graded
    mean: float  # fraction of the points, over all students (no submission counts 0)
    mean_submitted: float  # over the students whose file was graded
    most_missed: tuple[Missed, ...]


def summarise(book: Gradebook, top: int = 5) -> Summary:
    graded = [s for s in book.students if s.submitted is not None]
    fractions = {s.student: (s.score / s.points if s.points else 0.0) for s in book.students}
    missed: Counter[tuple[int, str]] = Counter()
    tried: Counter[tuple[int, str]] = Counter()
    diagnoses: dict[tuple[int, str], Counter[str]] = {}
    titles: dict[int, str] = {}
    position: dict[tuple[int, str], int] = {}  # ties in the ranking keep the set's order
    for s in graded:
        titles.update(s.problem_titles)
        for r in s.rows:
            if not isinstance(r.problem, int) or not isinstance(r.score, (int, float)):
                continue
            key = (r.problem, r.part)
            tried[key] += 1
            if r.score < r.points:
                missed[key] += 1
                diagnoses.setdefault(key, Counter())[r.cause] += 1
                position.setdefault(key, len(position))
    order = sorted(missed, key=lambda k: (-missed[k], position[k]))[:top]
    most = tuple(Missed(f"{n}.{part}", titles.get(n, ""), missed[(n, part)], tried[(n, part)],
                        tuple(sorted(diagnoses[(n, part)].items(), key=lambda kv: (-kv[1], kv[0]))))
                 for n, part in order)
    everyone = sum(fractions.values()) / len(fractions) if fractions else 0.0
    readable = [s for s in graded if s.readable]
    handed_in = sum(fractions[s.student] for s in readable) / len(readable) if readable else 0.0
    return Summary(len(book.students), len(graded), sum(s.readable for s in graded), everyone, handed_in, most)


def feedback_markdown(student: StudentGrade) -> str:
    """The student's own report: each part with their answer, the verdict, what went wrong."""
    # ids, titles, answers and messages (which echo answers) are text, never Markdown
    who = f"{student.name} ({student.student})" if student.name else student.student
    heading = f"{student.title} — feedback: {who}" if student.title else f"Feedback: {who}"
    out = [f"# {markdown_text(heading)}", "",
           f"Score: {student.score:g}/{student.points:g}", ""]
    current = None
    for r in student.rows:
        if not isinstance(r.problem, int):
            if student.submitted is None:
                out += ["No answer file was handed in.", ""]
            elif r.feedback:
                out += [f"- {markdown_text(r.feedback)}", ""]
            else:
                out += [f"- {markdown_text(r.diagnosis_cell)}", ""]
            continue
        if r.problem != current:
            current = r.problem
            out += [f"## Problem {r.problem}: {markdown_text(student.problem_titles.get(r.problem, ''))}", ""]
        verdict = "correct" if isinstance(r.score, (int, float)) and r.score >= r.points > 0 else "not correct"
        out.append(f"- **{r.problem}.{markdown_text(r.part)}** ({r.score:g}/{r.points:g}, {verdict}): "
                   f"your answer {markdown_code(r.answer or '—')}")
        if r.feedback and (verdict != "correct" or r.carried_from):  # a plain "Correct." says nothing more
            out.append(f"  - {markdown_text(r.feedback)}")
        if verdict != "correct" and r.key:
            out.append(f"  - expected: {markdown_code(r.key)}")
        out.append("")
    return "\n".join(out)

"""A class's homework set: who the students are, which variant each one gets, and the
`set.json` that records it all (docs/formats.md, "Homework set").

The variant rule is public and stable, so anyone can check a student's problem by hand:

    seed of problem n for student s = int(sha256(f"{set seed}:{s}:{n}").hexdigest()[:8], 16)

(problems numbered from 1). It depends on the student's id and nothing else about the roster,
so adding a student later, or reordering the roster, changes no one else's problems.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from backprop_tutor import __version__
from backprop_tutor.engine.files import ReadProblem, read_text
from backprop_tutor.errors import TutorError
from backprop_tutor.bank.problem import Problem
from backprop_tutor.bank.template import Template

SEED_RULE = 'int(sha256(f"{set seed}:{student id}:{problem number}").hexdigest()[:8], 16)'
FORMAT = 1


class HomeworkError(TutorError):
    """A roster, a set.json or a submission is not usable."""


@dataclass(frozen=True)
class Assignment:
    """One student's problems, numbered from 1 in the order of the templates."""

    student: str
    problems: tuple[Problem, ...]
    name: str = ""  # the roster's name column, where it has one
    title: str = ""  # the set's title (tutor generate --title), where given

    @property
    def who(self) -> str:
        """How the sheets address the student: by name where the roster gives one, else by id."""
        return self.name or self.student


def variant_seed(set_seed: int, student: str, number: int) -> int:
    digest = hashlib.sha256(f"{set_seed}:{student}:{number}".encode()).hexdigest()
    return int(digest[:8], 16)


def numbered_students(count: int) -> list[str]:
    """`--count N`: s01 … sNN, zero-padded so they sort in order."""
    width = max(2, len(str(count)))
    return [f"s{i:0{width}d}" for i in range(1, count + 1)]


MAX_ROSTER_BYTES = 10_000_000  # docs/formats.md, "Limits": 100,000 students in well under 10 MB

_ID = re.compile(r"[\w@.\- ]+")  # \w: letters (any script), digits and _
ID_RULE = "use letters, digits, spaces and - _ . @ (not . first)"


def valid_id(student: str) -> bool:
    """A student id can name a file in a set's folders (answers/<id>.yaml, feedback/<id>.md):
    no / or \\, no .. or leading dot, nothing but letters, digits, spaces and - _ . @. The one
    rule for rosters and for set.json (docs/formats.md)."""
    return bool(_ID.fullmatch(student)) and not student.startswith(".")


def read_roster(path: Path) -> list[str]:
    """The `id` column of a CSV roster, in order (read_roster_names has the names too)."""
    return read_roster_names(path)[0]


def read_roster_names(path: Path) -> tuple[list[str], dict[str, str]]:
    """The `id` column of a CSV roster, in order, and the `name` column where there is one
    (id → name, for the students whose name is not blank). Comma, semicolon (European
    spreadsheets) or tab separated; the headers in any case. Ids name files
    (answers/<id>.yaml) and appear in LaTeX, so they are letters, digits, spaces and - _ . @,
    unique and non-empty; a name is any text, shown on the student's sheet and key."""
    try:
        text = read_text(path, MAX_ROSTER_BYTES, "a roster", encoding="utf-8-sig")  # Excel writes a BOM
    except ReadProblem as e:
        fix = "; save it as CSV (UTF-8)" if "UTF-8" in str(e) else ""
        raise HomeworkError(f"{path}: {e}{fix}") from None
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count) if any(d in header for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:  # csv.Error: a field over the csv module's limit (an unclosed quote swallows the file), a NUL
        lines = [(reader.line_num, row) for row in reader]
    except csv.Error as e:
        raise HomeworkError(f"{path}: line {reader.line_num}: not a CSV roster ({e}); "
                            "is a quote left open?") from None
    columns = [c.strip() for c in lines[0][1]] if lines else []
    folded = [c.casefold() for c in columns]
    if "id" not in folded:
        found = ", ".join(repr(c) for c in columns) or "none (the file is empty)"
        raise HomeworkError(f"{path}: the roster needs a column headed 'id' (one line of column names first, "
                            f"then one student per line); columns found: {found}")
    column = folded.index("id")
    name_column = folded.index("name") if "name" in folded else None
    names: dict[str, str] = {}
    students: list[str] = []
    first_line: dict[str, int] = {}
    for line, row in lines[1:]:
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        student = unicodedata.normalize("NFC", row[column].strip() if column < len(row) else "")
        if not student:
            raise HomeworkError(f"{path}: line {line}: empty id; every student needs one")
        if not valid_id(student):
            raise HomeworkError(f"{path}: line {line}: id {student!r} cannot name a file; {ID_RULE}")
        if student in first_line:
            raise HomeworkError(f"{path}: line {line}: duplicate id {student!r} (first on line {first_line[student]})")
        first_line[student] = line
        students.append(student)
        name = row[name_column].strip() if name_column is not None and name_column < len(row) else ""
        if name:
            names[student] = unicodedata.normalize("NFC", " ".join(name.split()))
    if not students:
        raise HomeworkError(f"{path}: the roster has an id column but no students")
    return students, names


def assign(templates: list[Template], student: str, set_seed: int, name: str = "", title: str = "") -> Assignment:
    """The variant depends on the id alone: a name or a title changes what the sheets say, never the problems."""
    from backprop_tutor.bank.generate import generate

    return Assignment(student, tuple(generate(t, variant_seed(set_seed, student, n))
                                     for n, t in enumerate(templates, 1)), name, title)


def check_title(title: str) -> str:
    """`--title`: one line of text, printed as the heading of every sheet and key."""
    title = " ".join(title.split())
    if not title:
        raise HomeworkError("--title: the title is empty; give a few words, e.g. --title 'Homework 3: backprop'")
    if len(title) > 200:
        raise HomeworkError(f"--title: {len(title)} characters; a heading of at most 200 fits a page")
    return title


def student_json(assignment: Assignment) -> dict:
    return {"id": assignment.student, **({"name": assignment.name} if assignment.name else {}),
            "problems": [{"number": n, "template": p.template, "seed": p.seed, "title": p.title,
                          "parts": [part.to_json() for part in p.parts]}
                         for n, p in enumerate(assignment.problems, 1)]}


def set_json(template_ids: list[str], set_seed: int, students: list[dict], title: str = "") -> dict:
    return {"format": FORMAT, "generator": f"backprop-tutor {__version__}", "seed": set_seed,
            "seed_rule": SEED_RULE, **({"title": title} if title else {}), "templates": template_ids,
            "students": students}


def blank_answers(assignment: Assignment) -> str:
    """answers/<id>.yaml: every key with an empty answer, and how to fill it in."""
    lines = [f"# Answers of {assignment.student}. Write each answer between the quotes, as you would type it",
             "# in the terminal: 0.1385, -3/4, [0.1, -0.2], [[1, 2], [3, 4]], 1 - tanh(z)^2.",
             "# Numbers count within 0.1% of the exact value: give at least 4 significant digits.",
             "# Leave a part blank if you have no answer. Keep the keys as they are."]
    for n, problem in enumerate(assignment.problems, 1):
        lines.append(f"# Problem {n}: {problem.title}")
        lines += [f'"{n}.{part.id}": ""' for part in problem.parts]
    return "\n".join(lines) + "\n"

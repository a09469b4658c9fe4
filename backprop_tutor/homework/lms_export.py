"""The gradebook as an LMS imports it: one row per student of the set, one column per problem
(the sum of that problem's part scores), and the total. `tutor grade --export canvas|moodle`.

Built from the rows of grades.csv (after a merge, so a regrade's export is the whole class's)
and set.json (the roster's ids and names, each problem's title and points). Pure: rows of
cells in, rows of cells out; the command writes them (docs/formats.md, "Homework set").
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Sequence

from backprop_tutor.homework.gradebook import COLUMNS, csv_safe

FORMATS = ("canvas", "moodle")

# Canvas, "How do I import grades in the Gradebook?" (Instructor Guide) and its gradebook export:
# the first five columns identify the student (Canvas matches a row by ID, SIS User ID or SIS
# Login ID), a second row "Points Possible" gives each assignment's points, and a column with
# no "(id)" creates a new assignment. "Final Points" is one of the export's read-only columns,
# which an import ignores: the total is there to read, Canvas computes its own.
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_TOTAL = "Final Points"
CANVAS_POINTS_ROW = "Points Possible"

# Moodle, https://docs.moodle.org/311/en/Grade_import (CSV grade import): each column is mapped
# on import; "Identify user by" maps "ID number" to the user's idnumber field, and each grade
# column is mapped to a grade item (or "new grade item"). The total is for reading: map it to
# "Ignore", Moodle computes the course total itself.
MOODLE_ID = "ID number"
MOODLE_NAME = "Full name"
MOODLE_TOTAL = "Total"

_STUDENT, _PROBLEM, _SCORE = COLUMNS.index("student"), COLUMNS.index("problem"), COLUMNS.index("score")
_CANVAS_ID_SUFFIX = re.compile(r"\((\d+)\)\s*$")


def number(value: float) -> str:
    """A score as both LMSs read it: plain decimal, never 1e+06, at most six decimals."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def problems(data: dict) -> list[tuple[str, float]]:
    """(column title, points) of each problem of the set, numbered from 1 as the labels are.
    Every student has the same templates, so the same parts and points; the most any student's
    problem is worth is taken, should a set.json differ."""
    titles: dict[int, str] = {}
    points: dict[int, float] = defaultdict(float)
    for student in data["students"]:
        for n, record in enumerate(student["problems"], 1):
            titles.setdefault(n, str(record.get("title", record["template"])))
            points[n] = max(points[n], sum(float(p.get("points", 1)) for p in record["parts"]))
    set_title = data.get("title") if isinstance(data.get("title"), str) else ""
    columns = []
    for n in sorted(titles):
        title = f"{set_title} - {n}. {titles[n]}" if set_title else f"{n}. {titles[n]}"
        # Canvas reads a trailing "(123)" as the id of an existing assignment: a title never names one
        columns.append((_CANVAS_ID_SUFFIX.sub(r"[\1]", title), points[n]))
    return columns


def scores(data: dict, rows: Sequence[Sequence[str]]) -> dict[str, list[float]]:
    """Each student of the set → the points earned per problem, summed over the gradebook's part
    rows. A student with no row that scores (no_submission, malformed_submission) has 0 in each
    problem: a set not handed in counts nothing, as in the class mean."""
    count = len(problems(data))
    earned = {s["id"]: [0.0] * count for s in data["students"]}
    for row in rows:
        if len(row) <= _SCORE or row[_STUDENT] not in earned:
            continue  # rows about files that match no student of the set
        try:
            n, score = int(row[_PROBLEM]), float(row[_SCORE])
        except ValueError:
            continue  # a row of the whole student (no_submission) or with nothing gradable
        if 1 <= n <= count:
            earned[row[_STUDENT]][n - 1] += score
    return earned


def _name(student: dict) -> str:
    name = student.get("name")
    return name if isinstance(name, str) else ""


def canvas(data: dict, rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """The Canvas gradebook import: header, Points Possible, a row per student. The roster id is
    the SIS User ID (Canvas's own numeric ID is not known here); Student is the name, else the id."""
    columns = problems(data)
    earned = scores(data, rows)
    out = [[*CANVAS_IDENTITY, *(title for title, _ in columns), CANVAS_TOTAL],
           [CANVAS_POINTS_ROW, "", "", "", "", *(number(p) for _, p in columns), number(sum(p for _, p in columns))]]
    for student in data["students"]:
        per = earned[student["id"]]
        out.append([_name(student) or student["id"], "", student["id"], "", "", *map(number, per), number(sum(per))])
    return [[csv_safe(cell) for cell in row] for row in out]


def moodle(data: dict, rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """The Moodle CSV grade import: ID number (the roster id), the name where the roster gives
    any, a column per problem, the total."""
    columns = problems(data)
    earned = scores(data, rows)
    named = any(_name(s) for s in data["students"])
    out = [[MOODLE_ID, *([MOODLE_NAME] if named else []), *(title for title, _ in columns), MOODLE_TOTAL]]
    for student in data["students"]:
        per = earned[student["id"]]
        out.append([student["id"], *([_name(student)] if named else []), *map(number, per), number(sum(per))])
    return [[csv_safe(cell) for cell in row] for row in out]


EXPORTERS = {"canvas": canvas, "moodle": moodle}


def file_name(fmt: str, out_name: str) -> str:
    """grades.csv → grades-canvas.csv: beside --out, in its folder."""
    stem, dot, suffix = out_name.rpartition(".")
    return f"{stem}-{fmt}.{suffix}" if dot and stem else f"{out_name}-{fmt}.csv"

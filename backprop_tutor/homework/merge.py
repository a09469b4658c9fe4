"""Regrading some students into an existing gradebook, leaving everyone else's rows as they were.

A late answer file, or one student's file graded again, must not turn the rest of the class
into `no_submission`: the students graded in this run replace their own rows; every other
student keeps the rows the gradebook already has, cell for cell. The contract is in
docs/formats.md (Homework set). No writing here: the command writes the rows and the feedback
files of `Merged.written` only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from backprop_tutor.engine.files import ReadProblem, read_text
from backprop_tutor.homework.assignment import HomeworkError
from backprop_tutor.homework.gradebook import COLUMNS, Gradebook, StudentGrade, csv_unsafe


MAX_GRADEBOOK_BYTES = 256_000_000  # docs/formats.md, "Limits"


@dataclass(frozen=True)
class Merged:
    rows: list[list[str]]  # the gradebook's rows, header excluded, in the set's order of students
    regraded: tuple[StudentGrade, ...]  # graded from an answer file in this run
    added: tuple[StudentGrade, ...]  # no row before and no file now: their no_submission rows are new
    kept: tuple[str, ...]  # students of the set whose earlier rows were kept as they were

    @property
    def written(self) -> tuple[StudentGrade, ...]:
        """The students whose feedback files are (re)written: no one else's is touched."""
        return self.regraded + self.added


def read_gradebook(path: Path) -> list[list[str]]:
    """The rows of a gradebook written by tutor grade (header excluded); [] when there is none."""
    if not path.exists():
        return []
    try:
        rows = list(csv.reader(io.StringIO(read_text(path, MAX_GRADEBOOK_BYTES, "a gradebook"), newline="")))
    except (ReadProblem, csv.Error) as e:  # csv.Error: a field over the csv module's limit, a stray NUL
        raise HomeworkError(f"--out {path}: cannot read the gradebook to merge into ({e}); "
                            "give another --out, or add --fresh to replace it") from None
    if not rows or tuple(rows[0]) != COLUMNS:
        raise HomeworkError(f"--out {path}: not a gradebook written by tutor grade (its first line should be "
                            f"{','.join(COLUMNS)}); give another --out, or add --fresh to replace it")
    return [[csv_unsafe(row[0]), *row[1:]] if row else row for row in rows[1:]]  # ids as the set has them


def merge(book: Gradebook, previous: list[list[str]]) -> Merged:
    """This run's rows for the students it graded from a file (and for files it reported); the
    earlier rows of everyone else. A student of the set with neither gets this run's row."""
    new: dict[str, list[list[str]]] = {}
    for row in book.rows():
        new.setdefault(row.student, []).append([str(cell) for cell in row.csv()])
    before: dict[str, list[list[str]]] = {}
    for cells in previous:
        before.setdefault(cells[0], []).append(cells)
    regraded = tuple(s for s in book.students if s.submitted is not None)
    replaced = {s.student for s in regraded} | {r.student for r in book.unknown}
    in_set = [s.student for s in book.students]
    others = [name for name in dict.fromkeys([*before, *new]) if name not in set(in_set)]  # files, not students
    rows: list[list[str]] = []
    for name in in_set + others:
        rows += new.get(name, []) if name in replaced or name not in before else before[name]
    added = tuple(s for s in book.students if s.submitted is None and s.student not in before)
    kept = tuple(name for name in in_set if name not in replaced and name in before)
    return Merged(rows, regraded, added, kept)

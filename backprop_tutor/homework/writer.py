"""`tutor generate`'s work: every student's files, rendered (on several cores if asked) and
then written into the set's folder.

Everything is rendered in memory first and written at the end, so an interrupted run leaves
no half-made set behind. Students are rendered independently and collected in roster order,
which is why `--jobs N` gives byte-identical output to `--jobs 1`.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

from backprop_tutor.engine.files import ReadProblem, read_text
from backprop_tutor.homework import assignment as homework
from backprop_tutor.homework.gradebook import MAX_SET_BYTES
from backprop_tutor.homework import sheets
from backprop_tutor.bank.problem import Problem
from backprop_tutor.bank.template import Template
from backprop_tutor.worked.report import why_once

@dataclass(frozen=True)
class StudentFiles:
    student: str
    record: dict  # the student's entry in set.json
    texts: tuple[tuple[str, str], ...]  # (path relative to --out, content)
    problems: tuple[Problem, ...]  # without the worked solution: the Moodle export needs only text and keys


def render_student(templates: Sequence[Template], student: str, set_seed: int, name: str = "",
                   title: str = "") -> StudentFiles:
    assignment = homework.assign(list(templates), student, set_seed, name, title)
    reports = why_once(sheets.key_reports(assignment))  # a key with many problems says why once
    texts = ((f"sheets/{student}.md", sheets.sheet_markdown(assignment, set_seed)),
             (f"sheets/{student}.tex", sheets.sheet_latex(assignment, set_seed)),
             (f"keys/{student}.md", sheets.key_markdown(assignment, set_seed, reports)),
             (f"keys/{student}.tex", sheets.key_latex(assignment, set_seed, reports)),
             (f"answers/{student}.yaml", homework.blank_answers(assignment)))
    light = tuple(replace(p, solution=None, steps=()) for p in assignment.problems)
    return StudentFiles(student, homework.student_json(assignment), texts, light)


_worker_args: tuple = ()


def _init_worker(templates, set_seed, names, title) -> None:
    global _worker_args
    _worker_args = (templates, set_seed, names, title)


def _render_in_worker(student: str) -> StudentFiles:
    templates, set_seed, names, title = _worker_args
    return render_student(templates, student, set_seed, names.get(student, ""), title)


def render_all(templates: Sequence[Template], students: Sequence[str], set_seed: int, jobs: int = 1,
               advance: Callable[[], None] = lambda: None, names: Mapping[str, str] | None = None,
               title: str = "") -> list[StudentFiles]:
    """Every student's files, in roster order; `advance` is called once per student done.
    `names` (id → the roster's name) and `title` change the sheets' headings only."""
    names = dict(names or {})
    if jobs <= 1 or len(students) < 2:
        out = []
        for student in students:
            out.append(render_student(templates, student, set_seed, names.get(student, ""), title))
            advance()
        return out
    # fork where the platform has it: the workers inherit SymPy already imported.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    chunk = max(1, len(students) // (jobs * 8))
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                             initargs=(list(templates), set_seed, names, title)) as pool:
        out = []
        for files in pool.map(_render_in_worker, students, chunksize=chunk):
            out.append(files)
            advance()
        return out


def set_document(template_ids: Sequence[str], set_seed: int, files: Sequence[StudentFiles], title: str = "") -> str:
    data = homework.set_json(list(template_ids), set_seed, [f.record for f in files], title)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def previous_set_files(out: Path) -> list[Path]:
    """The files an earlier set in `out` wrote (read from its set.json), PDFs included, so that
    `--force` leaves no sheet, key or answer file of the old set behind: a student dropped from
    the roster must not be handed an old answer file."""
    try:
        data = json.loads(read_text(out / "set.json", MAX_SET_BYTES, "a set.json"))
        ids = [s["id"] for s in data["students"] if isinstance(s["id"], str)]
    except (ReadProblem, ValueError, KeyError, TypeError, RecursionError):
        return []
    files = [out / "set.json", out / "moodle.xml"]
    for student in ids:
        if "/" in student or "\\" in student or student.startswith("."):
            continue  # never follow a hand-edited id out of the folder
        files += [out / "sheets" / f"{student}.{ext}" for ext in ("md", "tex", "pdf")]
        files += [out / "keys" / f"{student}.{ext}" for ext in ("md", "tex", "pdf")]
        files.append(out / "answers" / f"{student}.yaml")
    return [f for f in files if f.is_file()]


def write_set(out: Path, template_ids: Sequence[str], set_seed: int, files: Sequence[StudentFiles],
              moodle_xml: str, title: str = "") -> int:
    """Write the set into `out`; returns the number of files written. set.json goes last, so a
    folder with a set.json is a complete set."""
    count = 0
    for old in previous_set_files(out):
        old.unlink()
    for sub in ("sheets", "keys", "answers"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for f in files:
        for relative, content in f.texts:
            inside(out, out / relative).write_text(content, encoding="utf-8")
            count += 1
    (out / "moodle.xml").write_text(moodle_xml, encoding="utf-8")
    (out / "set.json").write_text(set_document(template_ids, set_seed, files, title), encoding="utf-8")
    return count + 2


def inside(folder: Path, path: Path) -> Path:
    """`path`, checked to stay in `folder` (ids are validated where they are read; this is the
    last guard, so that no id, however it got in, writes outside the set's folder)."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise homework.HomeworkError(f"{path}: outside {folder}; nothing is written there")
    return path


def latex_tool() -> str | None:
    for tool in ("latexmk", "pdflatex"):
        if shutil.which(tool):
            return tool
    return None


def compile_pdf(tex: Path, tool: str) -> str | None:
    """Compile one .tex beside itself; None on success, else the first LaTeX error line.
    Auxiliary files are removed so the folder holds only what an instructor hands out."""
    folder, stem = tex.parent, tex.stem
    if tool == "latexmk":
        commands = [["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet", f"./{tex.name}"]]
    else:  # twice: longtable settles its column widths on the second run
        commands = [["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"./{tex.name}"]] * 2
    # ./ first: a roster id like -shell-escape would otherwise reach the tool as an option
    try:
        for command in commands:
            run = subprocess.run(command, cwd=folder, capture_output=True, text=True, errors="replace", timeout=300)
            if run.returncode != 0:
                log = folder / f"{stem}.log"
                text = log.read_text(errors="replace") if log.exists() else run.stdout
                errors = [line for line in text.splitlines() if line.startswith("!")]
                return errors[0] if errors else f"{command[0]} exited with {run.returncode}"
        return None
    except subprocess.TimeoutExpired:
        return f"{tool} took more than 300 s"
    finally:
        for ext in (".aux", ".log", ".fls", ".fdb_latexmk", ".out"):
            (folder / f"{stem}{ext}").unlink(missing_ok=True)


def compile_all(paths: Sequence[Path], tool: str, jobs: int = 1,
                advance: Callable[[], None] = lambda: None) -> list[tuple[Path, str]]:
    """Compile every .tex (each in its own process, `jobs` at a time); the failures."""
    failures = []
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for path, error in zip(paths, pool.map(lambda p: compile_pdf(p, tool), paths)):
            if error:
                failures.append((path, error))
            advance()
    return failures

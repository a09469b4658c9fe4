"""`tutor generate`'s work: every student's files, rendered (on several cores if asked) and
written as they come, so that a class of any size takes the memory of a few students.

Students are rendered independently and arrive in roster order, which is why `--jobs N` gives
byte-identical output to `--jobs 1`. Each student's files are written as soon as they are
rendered, into a hidden staging folder inside the set's folder; set.json is written there a
student at a time, and each problem, without its worked solution, is spooled to a temporary
file for moodle.xml, which is written last (its weights depend on every problem of the class).
Only when every student is done are the files moved into place, the earlier set's files
removed first and set.json last. So an interrupted or failed run leaves no half-made set
behind, and leaves the set it was to replace untouched.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import pickle
import shutil
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping, Sequence, TextIO

from backprop_tutor.engine.files import ReadProblem, read_text
from backprop_tutor.homework import assignment as homework
from backprop_tutor.homework import html_pages, moodle, qti as qti_package
from backprop_tutor.homework.gradebook import MAX_SET_BYTES
from backprop_tutor.homework import sheets
from backprop_tutor.bank.problem import Problem
from backprop_tutor.bank.template import Template
from backprop_tutor.worked.report import why_once

FOLDERS = ("sheets", "keys", "answers")  # a student's files, one in each (two in sheets and keys)


@dataclass(frozen=True)
class StudentFiles:
    student: str
    record: dict  # the student's entry in set.json
    texts: tuple[tuple[str, str], ...]  # (path relative to --out, content)
    problems: tuple[Problem, ...]  # without the worked solution: the Moodle export needs only text and keys


def render_student(templates: Sequence[Template], student: str, set_seed: int, name: str = "",
                   title: str = "", html: bool = False) -> StudentFiles:
    """The student's files; with `html`, the sheet and key as HTML pages too."""
    assignment = homework.assign(list(templates), student, set_seed, name, title)
    reports = why_once(sheets.key_reports(assignment))  # a key with many problems says why once
    texts = ((f"sheets/{student}.md", sheets.sheet_markdown(assignment, set_seed)),
             (f"sheets/{student}.tex", sheets.sheet_latex(assignment, set_seed)),
             (f"keys/{student}.md", sheets.key_markdown(assignment, set_seed, reports)),
             (f"keys/{student}.tex", sheets.key_latex(assignment, set_seed, reports)),
             (f"answers/{student}.yaml", homework.blank_answers(assignment)))
    if html:
        texts += ((f"sheets/{student}.html", html_pages.sheet_html(assignment, set_seed)),
                  (f"keys/{student}.html", html_pages.key_html(assignment, set_seed, reports)))
    light = tuple(replace(p, solution=None, steps=()) for p in assignment.problems)
    return StudentFiles(student, homework.student_json(assignment), texts, light)


_worker_args: tuple = ()


def _init_worker(templates, set_seed, names, title, html) -> None:
    global _worker_args
    _worker_args = (templates, set_seed, names, title, html)


def _render_in_worker(student: str) -> StudentFiles:
    templates, set_seed, names, title, html = _worker_args
    return render_student(templates, student, set_seed, names.get(student, ""), title, html)


def render_all(templates: Sequence[Template], students: Sequence[str], set_seed: int, jobs: int = 1,
               advance: Callable[[], None] = lambda: None, names: Mapping[str, str] | None = None,
               title: str = "", html: bool = False) -> Iterator[StudentFiles]:
    """Every student's files, one at a time in roster order; `advance` is called once per student
    done. With one job, the next student is rendered only once the caller asks for it. `names`
    (id → the roster's name) and `title` change the sheets' headings only; `html` adds the HTML
    sheet and key."""
    names = dict(names or {})
    if jobs <= 1 or len(students) < 2:
        for student in students:
            yield render_student(templates, student, set_seed, names.get(student, ""), title, html)
            advance()
        return
    # fork where the platform has it: the workers inherit SymPy already imported.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    chunk = max(1, min(len(students) // (jobs * 8), 16))  # bounded: a chunk's results arrive together
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                               initargs=(list(templates), set_seed, names, title, html))
    try:
        for files in pool.map(_render_in_worker, students, chunksize=chunk):  # in order, as they come
            yield files
            advance()
    finally:  # a failed write stops the run: the students not yet started are not rendered
        pool.shutdown(wait=True, cancel_futures=True)


class SetDocument:
    """set.json written a student at a time: byte for byte json.dumps(set_json(...), indent=2)
    of the whole class, which is never held in memory."""

    def __init__(self, handle: TextIO, template_ids: Sequence[str], set_seed: int, title: str = ""):
        head = _json(homework.set_json(list(template_ids), set_seed, [], title))
        assert head.endswith('"students": []\n}'), "the students come last in set.json"
        handle.write(head[:-len("]\n}")])
        self.handle, self.count = handle, 0

    def add(self, record: dict) -> None:
        self.handle.write(("," if self.count else "") + "\n    " + _json(record).replace("\n", "\n    "))
        self.count += 1

    def close(self) -> None:
        self.handle.write(("\n  " if self.count else "") + "]\n}\n")


def _json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)  # a string's line breaks are escaped: \\n


def previous_set_files(out: Path) -> list[Path]:
    """The files an earlier set in `out` wrote (read from its set.json), PDFs included, so that
    `--force` leaves no sheet, key or answer file of the old set behind: a student dropped from
    the roster must not be handed an old answer file."""
    try:
        data = json.loads(read_text(out / "set.json", MAX_SET_BYTES, "a set.json"))
        ids = [s["id"] for s in data["students"] if isinstance(s["id"], str)]
    except (ReadProblem, ValueError, KeyError, TypeError, RecursionError):
        return []
    files = [out / "set.json", out / "moodle.xml", out / "qti.zip", out / "index.html"]
    for student in ids:
        if "/" in student or "\\" in student or student.startswith("."):
            continue  # never follow a hand-edited id out of the folder
        files += [out / folder / f"{student}.{ext}" for folder in ("sheets", "keys") for ext in ("md", "tex", "pdf", "html")]
        files.append(out / "answers" / f"{student}.yaml")
    return [f for f in files if f.is_file()]


def generate_set(out: Path, template_ids: Sequence[str], templates: Sequence[Template], students: Sequence[str],
                 set_seed: int, jobs: int = 1, advance: Callable[[], None] = lambda: None,
                 names: Mapping[str, str] | None = None, title: str = "", formulas: str = "stack",
                 qti: bool = False, html: bool = False) -> int:
    """Render every student and write the set into `out` (the module's docstring says how), with
    qti.zip when `qti`, and with `html` each sheet and key as a page and index.html; returns the
    number of files written. Only the files of the student being written are in memory at any
    time. `formulas`: how moodle.xml asks formula parts (moodle.FORMULAS)."""
    for folder in FOLDERS:  # a file where a folder goes fails here, before any work
        (out / folder).mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-", dir=out))
    try:
        rendered = render_all(templates, students, set_seed, jobs, advance, names, title, html)
        count = _stage(staging, template_ids, set_seed, rendered, title, formulas, qti, html)
        for old in previous_set_files(out):
            old.unlink()
        for folder in FOLDERS:
            for name in os.listdir(staging / folder):
                os.replace(staging / folder / name, inside(out, out / folder / name))
        os.replace(staging / "moodle.xml", out / "moodle.xml")
        for optional, wanted in (("qti.zip", qti), ("index.html", html)):
            if wanted:
                os.replace(staging / optional, inside(out, out / optional))
        os.replace(staging / "set.json", out / "set.json")  # last: a folder with a set.json is a complete set
        return count
    finally:
        shutil.rmtree(staging, ignore_errors=True)


STAGING = ".generating-"  # then the process id of the run writing it


def _remove_abandoned(out: Path) -> None:
    """Remove the staging folders of runs that were killed outright (kill -9, a power cut), whose
    `finally` never ran: their process is gone. A run still going keeps its folder."""
    for folder in out.glob(f"{STAGING}*"):
        pid = folder.name[len(STAGING):].split("-")[0]
        if folder.is_dir() and not folder.is_symlink() and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _stage(staging: Path, template_ids: Sequence[str], set_seed: int, rendered: Iterable[StudentFiles],
           title: str = "", formulas: str = "stack", qti: bool = False, html: bool = False) -> int:
    """Write each student's files into `staging` as they come, set.json with them; then moodle.xml
    (and qti.zip) from the spooled problems, and index.html from the roster. The number of files
    written."""
    for folder in FOLDERS:
        (staging / folder).mkdir()
    count, scale = 2, 1
    spools: dict[int, IO[bytes]] = {}  # problem number → its variants, pickled in roster order
    roster: list[tuple[str, str]] = []  # (id, name): all index.html needs of a student
    with ExitStack() as stack:
        document = SetDocument(stack.enter_context((staging / "set.json").open("w", encoding="utf-8")),
                               template_ids, set_seed, title)
        for files in rendered:
            for relative, content in files.texts:
                inside(staging, staging / relative).write_text(content, encoding="utf-8")
                count += 1
            document.add(files.record)
            roster.append((files.student, files.record.get("name", "")))
            for number, problem in enumerate(files.problems, 1):
                if number not in spools:
                    spools[number] = stack.enter_context(tempfile.TemporaryFile(dir=staging))
                pickle.dump((files.student, problem), spools[number], pickle.HIGHEST_PROTOCOL)
            scale = math.lcm(scale, moodle.weight_scale(files.problems))
        document.close()
        with (staging / "moodle.xml").open("w", encoding="utf-8") as handle:
            moodle.write_quiz(handle, [(number, _unspooled(spools[number])) for number in sorted(spools)], scale,
                              formulas=formulas)
        if qti:  # read from the same spools, once per question: each question is its own Canvas group
            with (staging / "qti.zip").open("wb") as handle:
                qti_package.write_package(handle, [(number, lambda spool=spools[number]: _unspooled(spool))
                                                   for number in sorted(spools)],
                                          qti_package.package_id(set_seed, template_ids), title)
            count += 1
        if html:
            (staging / "index.html").write_text(html_pages.index_html(set_seed, list(template_ids), roster, title),
                                                encoding="utf-8")
            count += 1
    return count


def _unspooled(spool: IO[bytes]) -> Iterator[tuple[str, Problem]]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


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

"""The instructor's commands: `tutor generate` (a class's homework) and `tutor grade`.

Registered on the `tutor` group at the end of cli/app.py; engine imports stay inside the commands
so `tutor --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backprop_tutor.cli.common import (UsageError, bank_options, count as count_of, drawn_seed, fail_on_tutor_errors,
                                       make_console, open_bank)


def _console():
    return make_console(stderr=True)


def _progress(console, label: str, total: int):
    """A progress bar on stderr when a person is watching; silent when piped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                    disable=not console.is_terminal or total < 2, transient=True)


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; give a folder for the set")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(f"--out {out}: the folder is not empty; choose a new one, or add --force to overwrite "
                         "the files tutor generate writes there")


@click.command()
@click.argument("template_ids", nargs=-1, required=True, metavar="TEMPLATE...")
@click.option("--count", "-n", type=click.IntRange(1, 100_000), help="Students s01 … sNN (or use --roster).")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="A CSV with an 'id' column: one variant per student id.")
@click.option("--seed", type=click.IntRange(0), help="The set's seed (drawn and printed when omitted).")
@click.option("--title", help="The heading of every sheet and key, in place of 'Homework' (e.g. 'Homework 3: backprop').")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="The folder to write the set into.")
@click.option("--force", is_flag=True, help="Write into a non-empty --out, replacing the files of a set.")
@click.option("--pdf", is_flag=True, help="Also compile the LaTeX sheets and keys (needs latexmk or pdflatex).")
@click.option("--qti", is_flag=True, help="Also write qti.zip, a QTI 1.2 quiz for Canvas's 'QTI .zip file' import.")
@click.option("--html", is_flag=True,
              help="Also write each sheet and key as a self-contained HTML page (formulas as MathML) and index.html.")
@click.option("--jobs", "-j", type=click.IntRange(0), default=1, show_default=True,
              help="Processes to use; 0 = one per core. The output is the same for any value.")
@click.option("--moodle-formulas", type=click.Choice(["stack", "essay"]), default="stack", show_default=True,
              help="moodle.xml's formula parts: STACK questions Moodle grades (needs the qtype_stack plugin), "
                   "or essays graded by hand.")
@bank_options
@fail_on_tutor_errors
def generate(template_ids, count, roster, seed, title, out, force, pdf, qti, html, jobs, moodle_formulas, banks,
             only_bank) -> None:
    """Generate a class's homework: one variant per student, with keys and a Moodle import.

    Each student's problem n uses the seed sha256("SEED:ID:n") (first 8 hex digits), so the same
    roster and seed give the same set anywhere. A roster's 'name' column, where it has one, heads
    each student's sheet and key ("Homework: Ana Silva"). Writes into OUT: set.json (for tutor grade),
    sheets/ID.md and .tex, keys/ID.md and .tex, answers/ID.yaml (blank, for the student) and
    moodle.xml (its formula parts as STACK questions graded by algebraic equivalence; essays
    with --moodle-formulas essay); with --qti also qti.zip (a QTI 1.2 quiz for Canvas: a question
    group per problem and question, from which each student draws one variant); with --html
    also sheets/ID.html and keys/ID.html (pages that open in any browser, no network needed:
    formulas as MathML, the key's worked steps collapsible) and index.html linking them all.

    \b
    Examples:
      tutor generate mlp_2_2_1 softmax_cross_entropy_2_3_2 --count 30 --seed 2026 --out hw1
      tutor generate mlp_2_2_1 gradient_descent_step --roster class.csv --seed 7 --out hw2 --pdf --jobs 0
      tutor generate mlp_2_2_1 --roster class.csv --seed 7 --title "Homework 3: backprop" --out hw3
      tutor generate mlp_2_2_1 gradient_descent_step --count 40 --seed 11 --out hw4 --qti
      tutor generate mlp_2_2_1 --roster class.csv --seed 7 --out hw5 --html
    """
    import os

    from backprop_tutor.homework import assignment as homework
    from backprop_tutor.homework import writer as homework_writer

    if (count is None) == (roster is None):
        raise UsageError("give the students with exactly one of --count N or --roster FILE.csv")
    _check_out(out, force)
    bank = open_bank(banks, only_bank)
    templates = [bank.load(t) for t in template_ids]
    students, names = homework.read_roster_names(roster) if roster else (homework.numbered_students(count), {})
    title = homework.check_title(title) if title is not None else ""
    seed = drawn_seed(seed)
    jobs = jobs or os.cpu_count() or 1
    console = _console()
    from backprop_tutor.homework.tidy import Folders

    folders = Folders.before(out)  # a failed run removes the folders it made, left empty
    try:
        with _progress(console, "generating", len(students)) as bar:
            task = bar.add_task("generate", total=len(students))
            written = homework_writer.generate_set(out, template_ids, templates, students, seed, jobs,
                                                   lambda: bar.advance(task), names, title, moodle_formulas,
                                                   qti, html)
    except BaseException as e:  # whatever stops the run (a template that fails too), it leaves no folder behind
        folders.remove_new()
        if isinstance(e, KeyboardInterrupt):
            click.echo("interrupted: nothing was written", err=True)
            sys.exit(130)
        if isinstance(e, OSError):
            raise UsageError(f"--out {out}: cannot write ({e.strerror})") from None
        raise
    problems = len(templates)
    count = len(students)
    package = ("qti.zip, " if qti else "") + ("index.html, " if html else "")
    click.echo(f"wrote {written} files for {count_of(count, 'student')} × {count_of(problems, 'problem')} "
               f"to {out}/ (set seed {seed}): set.json, moodle.xml, {package}sheets/, keys/, answers/")
    _warn_untypesettable_names(students, names)
    if pdf:
        _compile(out, students, jobs, console)
    formats = ".tex/.pdf/.html" if html else ".tex/.pdf"
    click.echo(f"next: give each student sheets/<id>.md (or {formats}) and answers/<id>.yaml; grade the returned "
               f"answer files with: tutor grade {out / 'set.json'} RETURNED_FOLDER --out grades.csv")
    if html:  # it links the keys too: the instructor's page, never the class's
        click.echo(f"{out / 'index.html'} links every sheet and key: it is for you, not for the students")


def _warn_untypesettable_names(students: list[str], names: dict[str, str]) -> None:
    """One line naming the students whose .tex/.pdf are headed by id: pdflatex cannot set their names."""
    from backprop_tutor.homework.sheets import typesettable

    by_id = [s for s in students if names.get(s) and not typesettable(names[s])]
    if by_id:
        click.echo(f"warning: pdflatex cannot typeset the names of {', '.join(by_id)}; their .tex/.pdf sheets "
                   "and keys are headed by id (the .md files keep the name)", err=True)


def _compile(out: Path, students: list[str], jobs: int, console) -> None:
    from backprop_tutor.homework import writer as homework_writer

    tool = homework_writer.latex_tool()
    if tool is None:
        click.echo("--pdf: neither latexmk nor pdflatex is installed, so no PDFs were made; the .tex files are "
                   "written. Install TeX Live (e.g. apt-get install texlive-latex-base texlive-latex-recommended) "
                   "and run again with --force --pdf.", err=True)
        sys.exit(1)
    paths = [out / folder / f"{s}.tex" for s in students for folder in ("sheets", "keys")]
    try:
        with _progress(console, f"{tool}", len(paths)) as bar:
            task = bar.add_task("pdf", total=len(paths))
            failures = homework_writer.compile_all(paths, tool, jobs, lambda: bar.advance(task))
    except KeyboardInterrupt:
        click.echo("interrupted: the .tex files are written; some PDFs may be missing", err=True)
        sys.exit(130)
    for path, error in failures:
        click.echo(f"--pdf: {path}: {error}", err=True)
    if failures:
        sys.exit(1)
    click.echo(f"compiled {len(paths)} PDFs with {tool} (sheets/ID.pdf, keys/ID.pdf)")


@click.command()
@click.argument("set_file", metavar="SET.json", type=click.Path(exists=True, path_type=Path))
@click.argument("submissions", nargs=-1, required=True, metavar="SUBMISSIONS...",
                type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default="grades.csv",
              show_default=True, help="The gradebook CSV: student, problem, part, answer, score, diagnosis, carried_from.")
@click.option("--feedback", type=click.Path(file_okay=False, path_type=Path),
              help="Where each student's feedback (ID.md) goes. Default: feedback/ beside --out.")
@click.option("--student", "-s", "only", multiple=True, metavar="ID",
              help="Grade only this student's answer file among SUBMISSIONS (repeatable); the others' rows "
                   "and feedback stay as they are.")
@click.option("--fresh", is_flag=True,
              help="Replace an existing --out instead of merging into it: every student of the set gets new "
                   "rows and a new feedback file (no file: no_submission).")
# the choices are lms_export.FORMATS, written out: importing it would load sympy for tutor --help
@click.option("--export", "exports", multiple=True, type=click.Choice(("canvas", "moodle"), case_sensitive=False),
              help="Also write the gradebook as this LMS imports it, beside --out (grades-canvas.csv, "
                   "grades-moodle.csv): a row per student, a column per problem, the total. Repeatable.")
@bank_options
@fail_on_tutor_errors
def grade(set_file, submissions, out, feedback, only, fresh, exports, banks, only_bank) -> None:
    """Grade a class's answer files against their set.

    SUBMISSIONS are answer files named ID.yaml (as tutor generate wrote them into answers/,
    filled in) or folders of them. Every part is graded like tutor check: exact keys within
    tolerance, diagnosed mistakes, and credit for errors carried forward. Exit 0 whenever
    grading ran, whatever the scores; 2 on a usage error.

    When --out exists already, grading merges into it: the students whose answer files are
    given (or named by --student) are regraded, their rows replaced and their feedback files
    rewritten; every other student's rows and feedback file are kept as they were. So a late
    submission is graded on its own without touching the rest of the class. --fresh starts the
    gradebook over instead.

    \b
    Examples:
      tutor grade hw1/set.json submitted/ --out grades.csv
      tutor grade hw1 late/s07.yaml --out grades.csv
      tutor grade hw1 submitted/ --student s03 --student s11 --out grades.csv
      tutor grade hw1 submitted/ --out grades.csv --fresh
      tutor grade hw1 submitted/ --out grades.csv --export canvas --export moodle
    """
    from backprop_tutor.homework import gradebook
    from backprop_tutor.homework.merge import merge, read_gradebook

    if set_file.is_dir():
        set_file = set_file / "set.json"
    data = gradebook.load_set(set_file)
    previous = [] if fresh else read_gradebook(out)
    bank = open_bank(banks, only_bank)
    try:
        book = gradebook.grade_set(data, submissions, bank, only)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)
    merged = merge(book, previous)
    feedback = feedback or out.parent / "feedback"
    spared = _write(out, merged, feedback, fresh)
    _export(out, data, merged.rows, exports)
    if merged.kept:
        _print_regraded(book, merged, out, feedback)
    else:
        _print_summary(book, gradebook.summarise(book), out, feedback)
    if spared:
        make_console().print(f"Kept the feedback files of {count_of(len(spared), 'student')} with no answer file in "
                             f"this run, written by an earlier grading: {_names(spared)} (--fresh replaces them).")


def _write(out: Path, merged, feedback: Path, fresh: bool) -> list[str]:
    """Write the gradebook and the feedback files of `merged.written`; return the students whose
    earlier feedback was spared. The feedback folder may hold an earlier grading's files even
    when --out is new (a late file graded into late.csv beside grades.csv): "No answer file was
    handed in" must not replace a student's real feedback unless --fresh says so."""
    import csv

    from backprop_tutor.homework import gradebook
    from backprop_tutor.homework.writer import inside

    spared = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(gradebook.COLUMNS)
            writer.writerows([gradebook.csv_safe(cell) for cell in row] for row in merged.rows)  # no live formulas
        feedback.mkdir(parents=True, exist_ok=True)
        for student in merged.written:
            path = inside(feedback, feedback / f"{student.student}.md")  # ids are checked in load_set too
            if student.submitted is None and not fresh and path.exists():
                spared.append(student.student)
                continue
            path.write_text(gradebook.feedback_markdown(student), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write the grades: {e.filename}: {e.strerror}") from None
    return spared


def _export(out: Path, data: dict, rows, exports) -> None:
    """The LMS gradebooks asked for, next to --out (docs/formats.md, "Homework set")."""
    import csv

    from backprop_tutor.homework import lms_export
    from backprop_tutor.homework.writer import inside

    for fmt in dict.fromkeys(e.lower() for e in exports):  # --export canvas twice writes it once
        path = inside(out.parent, out.parent / lms_export.file_name(fmt, out.name))
        try:
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(lms_export.EXPORTERS[fmt](data, rows))
        except OSError as e:
            raise UsageError(f"cannot write the grades: {e.filename}: {e.strerror}") from None
        click.echo(f"wrote {path} ({fmt} gradebook import)")


def _names(names, most: int = 20) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _print_regraded(book, merged, out: Path, feedback: Path) -> None:
    """Some students regraded into an existing gradebook: who was, and whose rows were kept."""
    from rich.text import Text

    console = make_console()
    scores = [f"{s.student} ({s.score:g}/{s.points:g})" for s in merged.regraded]
    console.print(Text.assemble((f"Regraded {len(merged.regraded)} of {count_of(len(book.students), 'student')}", "bold"),
                                f": {_names(scores) or 'none'}."))
    if merged.added:
        console.print(f"Added {len(merged.added)} without a submission (each counts as 0): "
                      f"{_names([s.student for s in merged.added])}.")
    if merged.kept:
        console.print(f"Kept the rows of {count_of(len(merged.kept), 'student')} as they were in {out}: "
                      f"{_names(list(merged.kept))}.")
    console.print(f"Wrote {out}; feedback files in {feedback}/ only for the students regraded or added.")
    _print_attention([r for s in merged.written for r in s.rows] + book.unknown, book.fallback)


def _print_summary(book, summary, out: Path, feedback: Path) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    missing, malformed = summary.students - summary.submitted, summary.submitted - summary.readable
    notes = [f"{missing} without a submission" if missing else "", f"{malformed} malformed" if malformed else ""]
    notes = [n for n in notes if n]
    console.print(f"Graded {summary.readable} of {summary.students} students"
                  + (f" ({', '.join(notes)}: each counts as 0)" if notes else "")
                  + f": {out}, feedback in {feedback}/")
    if not summary.readable:
        console.print(Text.assemble(("No answer file could be graded.", "bold yellow"),
                                    " Answer files are named ID.yaml after the student ids in set.json; see the "
                                    "list below."))
    else:
        console.print(Text.assemble((f"Class mean: {summary.mean:.1%}", "bold"),
                                    f"  ({summary.mean_submitted:.1%} over those graded)" if notes else ""))
    if summary.most_missed:
        table = Table(title="Most missed parts", title_justify="left", title_style="bold cyan", box=box.SIMPLE_HEAD,
                      header_style="bold")
        for column, right in (("part", False), ("problem", False), ("missed", True), ("diagnosed mistakes", False)):
            table.add_column(column, justify="right" if right else "left", overflow="fold")
        for m in summary.most_missed:
            causes = ", ".join(f"{name} ×{n}" for name, n in m.diagnoses)
            table.add_row(m.label, m.title, f"{m.missed}/{m.of}", causes)
        console.print(table)
    elif summary.readable:
        console.print("Every graded part was answered correctly.")
    _print_attention([r for s in book.students for r in s.rows] + book.unknown, book.fallback)


def _print_attention(rows, fallback) -> None:
    """The rows an instructor must look at: no file, a file that could not be used, an answer the
    grader failed on."""
    from rich.text import Text

    from backprop_tutor.homework.gradebook import RowStatus

    console = make_console()
    attention = [r for r in rows if not isinstance(r.problem, int) or r.status is RowStatus.GRADING_ERROR]
    if attention:
        console.print(Text("Needs attention:", style="bold yellow"))
        for r in attention:
            where = f" {r.problem}.{r.part}" if isinstance(r.problem, int) else ""
            console.print(f"  {r.student}{where}: {r.diagnosis_cell}")
    for why in fallback:
        console.print(Text.assemble(("note:", "yellow"), f" {why}; graded against set.json's keys, without diagnosis"))

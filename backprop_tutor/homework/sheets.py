"""A student's problem sheet and worked-solution key, in Markdown and in LaTeX.

Each part is labelled with its answer-file key ("1.a2"), so a student copies the label and
the answer into answers/<id>.yaml without translating numbering schemes.
"""

from __future__ import annotations

from dataclasses import replace

from backprop_tutor.homework.assignment import Assignment
from backprop_tutor.worked.notation import points
from backprop_tutor.worked.render import (LATEX_PREAMBLE, latex_body, markdown_cell, markdown_paragraphs, markdown_text,
                                          render_markdown)
from backprop_tutor.bank.report import problem_report
from backprop_tutor.worked.report import Cell, Table, text
from backprop_tutor.worked.texescape import escape


PRECISION = ("A number counts as correct within 0.1% of the exact value, so give at least 4 significant "
             "digits; formulas may be written in any equivalent form.")


def intro(assignment: Assignment, set_seed: int) -> str:
    count = len(assignment.problems)
    return (f"Set seed {set_seed}, {count} problem{'s' if count != 1 else ''}. Write your answers in "
            f"answers/{assignment.student}.yaml, each under the label shown (problem number, dot, part). "
            + PRECISION)


def own_tolerance(part) -> str:
    """A part whose tolerance is not the default says so beside its question."""
    if not part.tolerance:
        return ""
    kind, amount = part.tolerance
    return {"relative": f" (within {amount:.2%} of the exact value)", "absolute": f" (within ±{amount:g})",
            "sigfigs": f" (to {amount:g} significant figures)"}[kind]


def sheet_heading(assignment: Assignment, who: str | None = None) -> str:
    """"Homework: Ana Silva", or with the set's own title: "Homework 3: backprop — Ana Silva"."""
    who = who or assignment.who
    return f"{assignment.title} — {who}" if assignment.title else f"Homework: {who}"


def key_heading(assignment: Assignment, who: str | None = None) -> str:
    who = who or assignment.who
    return f"{assignment.title} — answer key: {who}" if assignment.title else f"Answer key: {who}"


def typesettable(text: str) -> bool:
    """Whether pdflatex, with the packages of a plain TeX Live (T1, utf8: Latin letters with
    accents), typesets every character of `text`: the LaTeX escape prints any other as "?".
    Cyrillic, CJK or Vietnamese would need language packages the build does not install."""
    return escape(text).count("?") == text.count("?")


def latex_who(assignment: Assignment) -> str:
    """The student as the .tex files name them: by name, or by id when the name would print as
    "????" (the caller warns, naming those students)."""
    return assignment.who if typesettable(assignment.who) else assignment.student


def sheet_markdown(assignment: Assignment, set_seed: int) -> str:
    # names, titles and prompts come from files: escaped, so "*Ana*" is not read as emphasis
    out = [f"# {markdown_text(sheet_heading(assignment))}", "", markdown_text(intro(assignment, set_seed)), ""]
    for n, problem in enumerate(assignment.problems, 1):
        out += [f"## Problem {n}: {markdown_text(problem.title)}", ""]
        out += markdown_paragraphs(problem.statement.lines)
        out += ["| label | question | points |", "|---|---|---:|"]
        out += [f"| `{n}.{p.id}` | {markdown_cell(p.prompt + own_tolerance(p))} | {p.points:g} |" for p in problem.parts]
        out.append("")
    return "\n".join(out)


def sheet_latex(assignment: Assignment, set_seed: int) -> str:
    out = [LATEX_PREAMBLE, r"\begin{document}", rf"\section*{{{escape(sheet_heading(assignment, latex_who(assignment)))}}}",
           escape(intro(assignment, set_seed)), ""]
    for n, problem in enumerate(assignment.problems, 1):
        out += [rf"\subsection*{{Problem {n}: {escape(problem.title)}}}", problem.statement.latex, "",
                r"\begin{description}"]
        out += [rf"\item[\texttt{{{n}.{escape(p.id)}}}] {escape(p.prompt + own_tolerance(p))} \hfill ({points(p.points)})"
                for p in problem.parts]
        out += [r"\end{description}", ""]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def _key_report(problem, n: int):
    """The problem's report with the questions labelled as in the answer file. Keys may break
    after a comma, so a long vector wraps inside its column instead of running off the page."""
    report = problem_report(problem)
    keys = Table("Questions and answer keys", ("label", "question", "key"),
                 tuple((Cell(f"{n}.{p.id}", rf"\texttt{{{n}.{escape(p.id)}}}"), text(p.prompt),
                        Cell(p.answer, r"\texttt{" + escape(p.answer).replace(", ", r",\allowbreak{} ") + "}"))
                       for p in problem.parts))
    return replace(report, title=f"Problem {n}: {problem.title}", tables=(keys,) + report.tables[1:])


def origin(problem) -> str:
    return f"Template {problem.template}, seed {problem.seed}."


def key_reports(assignment: Assignment) -> list:
    """Each problem's report for its key: made once, rendered as Markdown and as LaTeX."""
    return [_key_report(problem, n) for n, problem in enumerate(assignment.problems, 1)]


def key_markdown(assignment: Assignment, set_seed: int, reports: list | None = None) -> str:
    reports = reports or key_reports(assignment)
    out = [f"# {markdown_text(key_heading(assignment))}", "", f"Set seed {set_seed}. The worked solution of every problem.", ""]
    for n, problem in enumerate(assignment.problems, 1):
        body = render_markdown(reports[n - 1], depth=2, summary=False).split("\n")
        out += body[:2] + markdown_paragraphs([origin(problem), *problem.statement.lines]) + body[2:]
    return "\n".join(out) + "\n"


def key_latex(assignment: Assignment, set_seed: int, reports: list | None = None) -> str:
    reports = reports or key_reports(assignment)
    out = [LATEX_PREAMBLE, r"\begin{document}", rf"\title{{{escape(key_heading(assignment, latex_who(assignment)))}}}",
           r"\date{}", r"\maketitle", f"Set seed {set_seed}. The worked solution of every problem.", ""]
    for n, problem in enumerate(assignment.problems, 1):
        body = latex_body(reports[n - 1], summary=False, nested=True)
        out += body[:1] + [escape(origin(problem)), "", problem.statement.latex, ""] + body[1:]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"

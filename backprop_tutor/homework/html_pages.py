"""A student's problem sheet and key as HTML pages, and the set's index.html that links them
(docs/formats.md, Homework set): `tutor generate --html`.

The same content as the Markdown and LaTeX files (homework/sheets.py), laid out by
worked/html.py: the statements and formulas as MathML, each key's worked steps collapsible.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from backprop_tutor.homework.assignment import Assignment
from backprop_tutor.homework.sheets import intro, key_heading, key_reports, origin, own_tolerance, sheet_heading
from backprop_tutor.worked.html import page, report_body
from backprop_tutor.worked.latex_html import latex_blocks, latex_inline
from backprop_tutor.worked.texescape import escape as tex_escape


def sheet_html(assignment: Assignment, set_seed: int) -> str:
    heading = sheet_heading(assignment)
    out = [f"<h1>{escape(heading)}</h1>", f"<p>{escape(intro(assignment, set_seed))}</p>"]
    for n, problem in enumerate(assignment.problems, 1):
        out += [f"<h2>Problem {n}: {escape(problem.title)}</h2>", latex_blocks(problem.statement.latex),
                "<table>", '<thead><tr><th>label</th><th>question</th><th class="num">points</th></tr></thead>', "<tbody>"]
        # a prompt's formulas typeset as the .tex sheet typesets them (its text escaped on the way)
        out += [f"<tr><td><code>{escape(f'{n}.{p.id}')}</code></td><td>{latex_inline(tex_escape(p.prompt + own_tolerance(p)))}"
                f'</td><td class="num">{p.points:g}</td></tr>' for p in problem.parts]
        out += ["</tbody>", "</table>"]
    return page(heading, out)


def key_html(assignment: Assignment, set_seed: int, reports: list | None = None) -> str:
    reports = reports or key_reports(assignment)
    heading = key_heading(assignment)
    out = [f"<h1>{escape(heading)}</h1>", f"<p>Set seed {set_seed}. The worked solution of every problem.</p>"]
    for n, problem in enumerate(assignment.problems, 1):
        statement = [f"<p>{escape(origin(problem))}</p>", latex_blocks(problem.statement.latex)]
        out += report_body(reports[n - 1], depth=2, summary=False, before=statement)
    return page(heading, out)


def index_html(set_seed: int, template_ids: list[str], students: list[tuple[str, str]], title: str = "") -> str:
    """The set's front page: its title, seed and templates, and every student's sheet and key
    (`students`: (id, name), name "" where the roster gives none), linked relative to DIR."""
    heading = title or "Homework"
    out = [f"<h1>{escape(heading)}</h1>",
           f"<p>Set seed {set_seed}; templates: {escape(', '.join(template_ids))}; "
           f"{len(students)} student{'s' if len(students) != 1 else ''}.</p>",
           '<table>', "<thead><tr><th>student</th><th>name</th><th>sheet</th><th>key</th></tr></thead>", "<tbody>"]
    for student, name in students:
        link = quote(student)  # an id may hold a space or @ (docs/formats.md, Ids)
        out.append(f"<tr><td>{escape(student)}</td><td>{escape(name)}</td>"
                   f'<td><a href="sheets/{escape(link)}.html">sheet</a></td>'
                   f'<td><a href="keys/{escape(link)}.html">key</a></td></tr>')
    out += ["</tbody>", "</table>"]
    return page(heading, out)

"""Render a Report as a self-contained HTML page (docs/formats.md, HTML): the mathematics as
MathML, the tables as tables, each worked step a <details> the reader opens and closes.

Self-contained: one inline stylesheet, no script, no link or source outside the page, so a page
opens from a folder, a USB stick or an LMS upload with no network. Every text from a file (a
title, a template's prompt, a roster's name) is escaped here; formulas are built by
worked/latex_html.py from the LaTeX the report already carries.
"""

from __future__ import annotations

from html import escape

from backprop_tutor.worked.latex_html import latex_blocks, latex_inline
from backprop_tutor.worked.report import Report, Table

STYLESHEET = """
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 62rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.6rem; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; }
code { font-family: ui-monospace, monospace; font-size: 0.95em; }
code.unconverted { color: #b03020; }
pre.drawing { overflow-x: auto; line-height: 1.05; background: #fafafa; padding: 0.5rem; }
div.display { overflow-x: auto; margin: 0.4rem 0; }
details.step { border-left: 3px solid #ccd; padding-left: 0.8rem; margin: 0.6rem 0; }
details.step > summary { cursor: pointer; font-weight: 600; }
nav.index li { margin: 0.2rem 0; }
@media print {
  body { max-width: none; margin: 0; }
  details.step { border-left: none; padding-left: 0; break-inside: avoid; }
  /* a printed key shows every step, open or folded, without the fold's marker */
  details.step::details-content { content-visibility: visible; display: block; }
  details.step > summary { list-style: none; }
}
""".strip()


def page(title: str, body: list[str]) -> str:
    """A whole HTML document around `body` (HTML lines): `title` is text, escaped here."""
    head = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>", f"<style>\n{STYLESHEET}\n</style>", '</head>', '<body>']
    return "\n".join(head + body + ['</body>', '</html>']) + "\n"


def render_html(report: Report) -> str:
    """`tutor solve --format html`: the report as its own page."""
    return page(report.title, report_body(report))


def report_body(report: Report, depth: int = 1, summary: bool = True, before: list[str] | None = None) -> list[str]:
    """The report's HTML: its title as a heading of level `depth` (a homework key nests each
    problem one level down), the summary (left out for a key, which shows the statement in
    `before`, placed after the title), the drawing, the tables, and the steps."""
    h, sub = f"h{depth}", f"h{depth + 1}"
    out = [f"<{h}>{escape(report.title)}</{h}>", *(before or [])]
    if summary:
        out += ["<ul>", *(f"<li>{escape(line)}</li>" for line in report.summary), "</ul>"]
    figure = report.figure
    if figure and figure.lines:
        out += [f"<{sub}>{escape(figure.title)}</{sub}>", f'<pre class="drawing">{escape(chr(10).join(figure.lines))}</pre>']
    elif figure and figure.note:
        out.append(f"<p>{escape(figure.note)}</p>")
    for table in report.shown_tables():
        out += [f"<{sub}>{escape(table.title)}</{sub}>", *table_html(table)]
    out.append(f"<{sub}>Worked solution</{sub}>")
    for number, step in enumerate(report.steps, 1):
        # the first step open, the rest closed: the page reads as an outline of the solution
        out += [f'<details class="step"{" open" if number == 1 else ""}>',
                f"<summary>{number}. {escape(step.title)}</summary>", latex_blocks(step.latex), "</details>"]
    return out


def table_html(table: Table) -> list[str]:
    """A table: a header row of the column names, then a row per entry, each cell's LaTeX as
    HTML with MathML; numeric columns right-aligned (class num)."""
    def align(i: int) -> str:
        return ' class="num"' if i < len(table.numeric) and table.numeric[i] else ""

    out = ["<table>", "<thead><tr>" + "".join(f"<th{align(i)}>{escape(c)}</th>" for i, c in enumerate(table.columns))
           + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td{align(i)}>{latex_inline(cell.tex)}</td>" for i, cell in enumerate(row)) + "</tr>"
            for row in table.rows]
    out += ["</tbody>", "</table>"]
    return out

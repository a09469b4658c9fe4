"""Render a Report as Markdown or a LaTeX document (cli/render.py draws it in the terminal)."""

from __future__ import annotations

import re

from backprop_tutor.worked.report import Report
from backprop_tutor.worked.texescape import escape


def markdown_cell(text: str) -> str:
    """Text inside a Markdown table cell: a | would end the cell, a line break the row."""
    return text.replace("|", r"\|").replace("\n", " ")


def render_markdown(report: Report, depth: int = 1, summary: bool = True) -> str:
    """The report as Markdown; `depth` is the level of its title (a homework key nests each
    problem one level down), `summary` False leaves out the summary list (the key shows the
    statement itself)."""
    h = "#" * depth
    out = [f"{h} {report.title}", ""]
    if summary:
        out += [f"- {line}" for line in report.summary] + [""]
    for table in report.tables:
        if not table.rows:
            continue
        out += [f"{h}# {table.title}", "", "| " + " | ".join(table.columns) + " |",
                "|" + "|".join("---:" if (table.numeric[i] if i < len(table.numeric) else False) else "---"
                               for i in range(len(table.columns))) + "|"]
        out += ["| " + " | ".join(markdown_cell(cell.text) for cell in row) + " |" for row in table.rows]
        out.append("")
    out += [f"{h}# Worked solution", ""]
    for number, step in enumerate(report.steps, 1):
        out += [f"{h}## {number}. {step.title}", "", "```text", step.text, "```", ""]
    return "\n".join(out)


LATEX_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}  % Type 1 fonts: no bitmap fonts generated at build time
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{longtable}
\usepackage[margin=2cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
\allowdisplaybreaks
% A display wider than the line (a long forward-pass sum) is set as a paragraph of its own,
% which TeX may break after an = or a +; any other stays a centred display.
\newsavebox{\fitbox}
\newcommand{\fitdisplay}[1]{\sbox{\fitbox}{$\displaystyle #1$}%
  \ifdim\wd\fitbox>\linewidth\par\noindent\hangindent=2em\hangafter=1 $\displaystyle #1$\par
  \else\[ #1 \]\fi}
"""

# Displays shorter than this (in LaTeX source characters) always fit the line; longer ones let
# TeX measure them (\fitdisplay).
_FITS = 160
_DISPLAY = re.compile(r"^\\\[ (.*) \\\]$", re.M)


def fitted(latex: str) -> str:
    r"""A step's LaTeX with its long displays wrapped in \fitdisplay, so none runs into the margin."""
    return _DISPLAY.sub(lambda m: m[0] if len(m[1]) < _FITS else rf"\fitdisplay{{{m[1]}}}", latex)


def render_latex(report: Report) -> str:
    body = latex_body(report)
    return "\n".join([LATEX_PREAMBLE, r"\begin{document}", *body, r"\end{document}"]) + "\n"


def latex_body(report: Report, summary: bool = True, nested: bool = False) -> list[str]:
    """The report's lines inside a document. On its own, the worked solution is a section
    beside the title; `nested` (each problem of a homework key) keeps it inside the problem."""
    worked, step = ("subsection", "subsubsection") if nested else ("section", "subsection")
    out = [rf"\section*{{{escape(report.title)}}}"]
    if summary:
        out += [r"\begin{itemize}", *(rf"\item {escape(line)}" for line in report.summary), r"\end{itemize}"]
    for table in report.tables:
        if not table.rows:
            continue
        spec = "".join(_latex_column(table, i) for i in range(len(table.columns)))
        out += [rf"\subsection*{{{escape(table.title)}}}", rf"\begin{{longtable}}{{{spec}}}",
                " & ".join(escape(c) for c in table.columns) + r" \\ \hline"]
        out += [" & ".join(cell.tex for cell in row) + r" \\" for row in table.rows]
        out.append(r"\end{longtable}")
    out.append(rf"\{worked}*{{Worked solution}}")
    for number, s in enumerate(report.steps, 1):
        out += [rf"\{step}*{{{number}. {escape(s.title)}}}", fitted(s.latex), ""]
    return out


def _wide(table, i: int) -> bool:
    numeric = i < len(table.numeric) and table.numeric[i]
    return not numeric and any(len(row[i].text) > 30 for row in table.rows)


def _latex_column(table, i: int) -> str:
    """Numbers align right; prose long enough to run off the page wraps in a paragraph column
    (the wide columns share two thirds of the line)."""
    if i < len(table.numeric) and table.numeric[i]:
        return "r"
    if not _wide(table, i):
        return "l"
    share = 0.66 / sum(_wide(table, k) for k in range(len(table.columns)))
    return rf"p{{{min(share, 0.45):.2f}\linewidth}}"

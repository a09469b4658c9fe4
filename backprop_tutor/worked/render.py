"""Render a Report as Markdown or a LaTeX document (cli/render.py draws it in the terminal)."""

from __future__ import annotations

import re

from backprop_tutor.worked.report import Report
from backprop_tutor.worked.texescape import escape


# Text from templates, rosters, network and answer files is text: in Markdown a *x*, _x_, [x](y),
# <b>, `x`, a leading # or "1." would be read as formatting. A backslash before any ASCII
# punctuation makes it literal (CommonMark), so these are escaped wherever such text is written.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")  # &amp; would print as &
_LIST_MARKER = re.compile(r"^(\s*)(?:([-+])|(\d+)([.)]))(?=\s|$)", re.MULTILINE)


def markdown_text(text: str) -> str:
    """Plain text as Markdown that renders exactly as written (our own Markdown goes around it)."""
    text = _ENTITY.sub(r"\\&", _MARKDOWN_SPECIAL.sub(r"\\\1", text))
    return _LIST_MARKER.sub(lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"), text)


def markdown_cell(text: str) -> str:
    """Text inside a Markdown table cell: literal, and a line break would end the row."""
    return markdown_text(text).replace("\n", " ")


def markdown_code(text: str) -> str:
    """Text as an inline code span (literal already); a backtick inside needs a longer fence."""
    ticks = _longest_backticks(text)
    fence = "`" * (ticks + 1)
    return f"{fence} {text} {fence}" if ticks else f"{fence}{text}{fence}"


def markdown_paragraphs(lines) -> list[str]:
    """Lines of text as separate paragraphs: no hard line break ("  " at a line's end) needed."""
    return [part for line in lines for part in (markdown_text(line), "")]


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in the text it encloses."""
    return "`" * max(3, 1 + _longest_backticks(text))


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def render_markdown(report: Report, depth: int = 1, summary: bool = True) -> str:
    """The report as Markdown; `depth` is the level of its title (a homework key nests each
    problem one level down), `summary` False leaves out the summary list (the key shows the
    statement itself)."""
    h = "#" * depth
    out = [f"{h} {markdown_text(report.title)}", ""]
    if summary:
        out += [f"- {markdown_cell(line)}" for line in report.summary] + [""]
    for table in report.tables:
        if not table.rows:
            continue
        out += [f"{h}# {markdown_text(table.title)}", "", "| " + " | ".join(map(markdown_cell, table.columns)) + " |",
                "|" + "|".join("---:" if (table.numeric[i] if i < len(table.numeric) else False) else "---"
                               for i in range(len(table.columns))) + "|"]
        out += ["| " + " | ".join(markdown_cell(cell.text) for cell in row) + " |" for row in table.rows]
        out.append("")
    out += [f"{h}# Worked solution", ""]
    for number, step in enumerate(report.steps, 1):
        fence = _fence(step.text)
        out += [f"{h}## {number}. {markdown_text(step.title)}", "", f"{fence}text", step.text, fence, ""]
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
    # TikZ (TeX Live's pgf) is loaded only for a drawing: a homework key compiles without it
    preamble = LATEX_PREAMBLE + (r"\usepackage{tikz}" + "\n" if report.figure and report.figure.tex else "")
    return "\n".join([preamble, r"\begin{document}", *body, r"\end{document}"]) + "\n"


def latex_body(report: Report, summary: bool = True, nested: bool = False) -> list[str]:
    """The report's lines inside a document. On its own, the worked solution is a section
    beside the title; `nested` (each problem of a homework key) keeps it inside the problem."""
    worked, step = ("subsection", "subsubsection") if nested else ("section", "subsection")
    out = [rf"\section*{{{escape(report.title)}}}"]
    if summary:
        out += [r"\begin{itemize}", *(rf"\item {escape(line)}" for line in report.summary), r"\end{itemize}"]
    if report.figure and report.figure.tex:
        out += [rf"\subsection*{{{escape(report.figure.title)}}}", report.figure.tex]
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

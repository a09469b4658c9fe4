"""The LaTeX tutor writes (a step's `latex`, a statement, a table cell) as HTML with MathML.

A step's LaTeX is its typeset form, made once where the step is made (worked/steps.py: prose
escaped by worked/texescape.py with its formulas as $…$, displays as \\[ … \\], now and then a
tabular); the HTML pages (docs/formats.md) show that same typesetting rather than a second one.
Only that small subset of LaTeX is read here: paragraphs, $…$, \\[ … \\], tabular, and the text
escapes texescape.py writes. Any other command is shown as its source in a
`<code class="unconverted">`, which the test of every template looks for.
"""

from __future__ import annotations

import html
import re

from backprop_tutor.worked.mathml import mathml, unconverted
from backprop_tutor.worked.texescape import TEXT_ESCAPES

_BLOCK = re.compile(r"\\\[(.*?)\\\]|\\begin\{tabular\}\{[^}]*\}(.*?)\\end\{tabular\}", re.S)
# The text escapes of worked/texescape.py read back, and the few commands tutor writes around text.
_SYMBOLS = {**{tex: char for char, tex in TEXT_ESCAPES.items()}, "~": "\u00a0"}  # a bare ~ is a tie
_WRAPPERS = {"texttt": "code", "textsuperscript": "sup", "emph": "em", "textbf": "strong", "textit": "em"}
_SPACING = {r"\allowbreak{}": "<wbr>", r"\hfill": " ", r"\\": "<br>", r"\hline": ""}
_INLINE = re.compile(r"(?<!\\)\$(?P<math>.+?)(?<!\\)\$|\\(?P<wrap>" + "|".join(_WRAPPERS) + r")\{", re.S)
_TEXT_TOKEN = re.compile("|".join(re.escape(s) for s in sorted({**_SYMBOLS, **_SPACING}, key=len, reverse=True))
                         + r"|\\[A-Za-z]+(?:\{\})?|\\.")


def latex_blocks(latex: str) -> str:
    """Paragraphs (a blank line apart), displays and tabulars as HTML blocks."""
    out = []
    for paragraph in re.split(r"\n\s*\n", latex.strip()):
        last = 0
        for match in _BLOCK.finditer(paragraph):
            out.append(_paragraph(paragraph[last:match.start()]))
            if match[1] is not None:
                out.append(f'<div class="display">{mathml(match[1].strip(), display=True)}</div>')
            else:
                out.append(_tabular(match[2]))
            last = match.end()
        out.append(_paragraph(paragraph[last:]))
    return "\n".join(block for block in out if block)


def latex_inline(latex: str) -> str:
    """Text with $…$ formulas, as inline HTML: each formula one <math> element, and the text
    commands tutor writes around text (\\texttt{…}, which may hold a formula) as elements."""
    out, last = [], 0
    for match in _INLINE.finditer(latex):
        if match.start() < last:  # inside a group already read
            continue
        out.append(_text(latex[last:match.start()]))
        if match["math"] is not None:
            out.append(mathml(match["math"].strip()))
            last = match.end()
        else:
            end = _group_end(latex, match.end())
            tag = _WRAPPERS[match["wrap"]]
            out.append(f"<{tag}>{latex_inline(latex[match.end():end])}</{tag}>")
            last = end + 1
    out.append(_text(latex[last:]))
    return "".join(out)


def _group_end(latex: str, start: int) -> int:
    """The index of the } that closes the group opening just before `start` (the end, if none)."""
    depth, i = 1, start
    while i < len(latex):
        if latex[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(latex[i], 0)
        if depth == 0:
            return i
        i += 1
    return len(latex)


def _paragraph(latex: str) -> str:
    latex = latex.strip()
    return f"<p>{latex_inline(latex)}</p>" if latex else ""


def _tabular(body: str) -> str:
    r"""A tabular as a table: rows end at \\, cells split at &, and the rows above the first
    \hline are its header (as tutor writes them)."""
    rows: list[str] = []
    header = 0
    for row in re.split(r"\\\\", body):
        row = row.strip()
        if row.startswith(r"\hline"):
            header = header or len(rows)
            row = row.removeprefix(r"\hline").strip()
        if row:
            rows.append(row)
    out = ['<table class="worked">']
    for i, row in enumerate(rows):
        cell = "th" if i < header else "td"
        out.append("<tr>" + "".join(f"<{cell}>{latex_inline(c.strip())}</{cell}>" for c in _cells(row)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _cells(row: str) -> list[str]:
    r"""A row's cells: split at each & that is not \& and not inside $…$."""
    cells, current, math = [], [], False
    i = 0
    while i < len(row):
        ch = row[i]
        if ch == "\\" and i + 1 < len(row):
            current.append(row[i:i + 2])
            i += 2
            continue
        if ch == "$":
            math = not math
        if ch == "&" and not math:
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    return cells


def _text(latex: str) -> str:
    """Text-mode LaTeX as escaped HTML text."""
    out, last = [], 0
    for match in _TEXT_TOKEN.finditer(latex):
        out.append(html.escape(latex[last:match.start()]))
        token = match[0]
        if token in _SYMBOLS:
            out.append(html.escape(_SYMBOLS[token]))
        elif token in _SPACING:
            out.append(_SPACING[token])
        else:
            out.append(unconverted(token))
        last = match.end()
    out.append(html.escape(latex[last:]))
    return "".join(out)

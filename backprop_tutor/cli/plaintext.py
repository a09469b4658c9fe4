"""A Report (worked/report.py) as plain text, for a pipe or a file (`tutor solve … | less`,
`--out solution.txt`): no colour, no box drawn to a terminal's width, no trailing spaces.

Prose is wrapped at WIDTH, but only between two words: a formula is never broken, wherever it
sits. Lines that are formulas by themselves (a worked step's indented lines) and the rows of
tables are never wrapped at all; a long one runs past WIDTH, whole, as an equation should.
"""

from __future__ import annotations

import re

from backprop_tutor.worked.report import Report, Table

WIDTH = 80
STEP_INDENT = "   "

# A word of prose: two or more letters (hyphens and apostrophes inside), with its punctuation.
# "w", "L", "a⁽¹⁾", "0.5", "=", "tanh(z)" are not: a space beside one of them may be inside a
# formula, so a line is never broken there.
_WORD = re.compile(r"[(\[\"'“‘]*[^\W\d_]{2,}(?:[-'’][^\W\d_]+)*[)\]\"'”’.,;:!?]*")


_OPERATORS = ("", "=", "+", "−", "-", "·", "×", "/", "→", "←", "≈", "<", ">", "≤", "≥")


def _is_word(token: str) -> bool:
    return _WORD.fullmatch(token) is not None


def _breaks(tokens: list[str]) -> list[bool]:
    """Whether the line may break before each token after the first: between two words, or
    after a , ; or : outside brackets (between two formulas of a list, or after the prose that
    introduces one)."""
    out, depth = [], 0
    for before, token in zip(tokens, tokens[1:]):
        depth = max(0, depth + sum(before.count(c) for c in "([{") - sum(before.count(c) for c in ")]}"))
        out.append(_is_word(before) and _is_word(token) or depth == 0 and before[-1:] in (",", ";", ":")
                   and token[:1] not in _OPERATORS)
    return out


def wrap_prose(line: str, width: int = WIDTH, indent: str = "") -> list[str]:
    """`line` in lines of at most `width` characters (with `indent`), broken only where
    _breaks allows; a run that cannot be broken is kept whole, however long."""
    tokens = line.split(" ")
    chunks: list[str] = [tokens[0]]  # the runs that may not be broken
    for token, may_break in zip(tokens[1:], _breaks(tokens)):
        if may_break:
            chunks.append(token)
        else:
            chunks[-1] += " " + token
    out = [indent + chunks[0]]
    for chunk in chunks[1:]:
        if len(out[-1]) + 1 + len(chunk) <= width:
            out[-1] += " " + chunk
        else:
            out.append(indent + chunk)
    return [line.rstrip() for line in out]


def _table(table: Table) -> list[str]:
    rows = [list(table.columns)] + [[cell.text.replace("\n", " ") for cell in row] for row in table.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.columns))]

    def line(cells: list[str]) -> str:
        right = [i < len(table.numeric) and table.numeric[i] for i in range(len(cells))]
        return ("  " + "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right))).rstrip()

    return [table.title, "", line(rows[0]), "  " + "  ".join("─" * w for w in widths), *map(line, rows[1:]), ""]


def _text_lines(text: str, indent: str = "") -> list[str]:
    """Lines of a summary or a worked step: indented ones are formulas (never wrapped), the
    others prose."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            out.append("")
        elif line[0].isspace():
            out.append((indent + line).rstrip())
        else:
            out += wrap_prose(line, WIDTH, indent)
    return out


def render_plain(report: Report) -> str:
    out = [report.title, "=" * min(len(report.title), WIDTH)]
    for line in report.summary:
        out += _text_lines(line)
    out.append("")
    if report.figure and report.figure.note:
        out += wrap_prose(report.figure.note) + [""]
    if report.figure and report.figure.lines:
        out += wrap_prose(report.figure.title) + ["", *report.figure.lines, ""]
    for table in report.shown_tables():
        out += _table(table)
    out += ["Worked solution", "=" * len("Worked solution"), ""]
    for number, step in enumerate(report.steps, 1):
        out += wrap_prose(f"{number}. {step.title}")
        out += _text_lines(step.text, STEP_INDENT)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"

"""Plain Unicode text (titles, prose, column names) made safe for pdflatex, typeset as a reader
expects: each formula inside the prose (∂L/∂oⱼ = oⱼ − tⱼ) one piece of math, $\\partial
L/\\partial o_{j} = o_{j} - t_{j}$, and the words around it text."""

from __future__ import annotations

import re
import unicodedata

from backprop_tutor.engine.numbers import UNRAISED
from backprop_tutor.worked.texmath import formula_runs, typeset

# The characters text mode must escape, and the punctuation it writes with ASCII: what
# worked/latex_html.py reads back as text.
TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "$": r"\$", "…": r"\ldots{}", "—": "---", "–": "--",
}
_REPLACE = {
    **TEXT_ESCAPES,
    "−": "-", "→": r"$\to$", "←": r"$\leftarrow$", "η": r"$\eta$", "δ": r"$\delta$", "σ": r"$\sigma$",
    "∂": r"$\partial$", "·": r"$\cdot$", "′": "'", "Σ": r"$\Sigma$", "≈": r"$\approx$", "½": r"$\tfrac12$",
    "≥": r"$\ge$", "≤": r"$\le$", "⊙": r"$\odot$", "×": r"$\times$", "Φ": r"$\Phi$", "φ": r"$\varphi$",
    "√": r"$\surd$", "π": r"$\pi$", "ε": r"$\varepsilon$",
}
_ASCII_MATH = re.compile(r"[=+*/<>^]|(?<![A-Za-z0-9])[A-Za-z]\(| - ")  # an ASCII formula: 1 - tanh(z)^2
_AFTER_WORD = re.compile(r"\w\s+$")
_DIGITS_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))


# A power written as text, `e^z`, `e^(−z)`, `(1 + x)^2`: typeset as a superscript, never as a
# printed caret. An exponent of plain letters, digits and signs becomes math ($e^{-z}$); any other
# is raised text, escaped like the rest.
_POWER = re.compile(r"(?<![A-Za-z\\])([A-Za-z])?\^(\((?:[^()]|\([^()]*\))*\)|[−-]?[A-Za-z0-9.]+|[^\s])")
_SIMPLE_EXPONENT = re.compile(r"[A-Za-z0-9.+/ −ⱼₖ₀-₉-]+")
_JOINED_MATH = re.compile(r"(?<!\\)\$\$")  # `$\delta$$^{(2)}$` → `$\delta^{(2)}$`: one formula, not two

_TABLE = str.maketrans(_REPLACE)
_OTHER = re.compile(r"[^\x00-\x7f]")
# Raised and lowered characters come in runs (w⁽²⁾₀₁): each run is one super- or subscript.
_UNRAISE = str.maketrans(UNRAISED)
_UNLOWER = str.maketrans({**_DIGITS_SUB, "ⱼ": "j", "ₖ": "k", "ᵢ": "i", "₊": "+", "₋": "-"})
_LOWERED = "".join(_DIGITS_SUB) + "ⱼₖᵢ₊₋"  # ᵢ₊ⱼ: a conv1d position i + j
_LOWERED_RUN = re.compile(f"[{_LOWERED}]+")
_SCRIPT_RUN = re.compile(f"([{''.join(UNRAISED)}]+)|([{_LOWERED}]+)")


def escape(text: str) -> str:
    """Plain Unicode text (titles, prose, column names) made safe for pdflatex: each formula in
    it one piece of math (worked/texmath.py), the words between escaped as text."""
    if text.isascii() and not _ASCII_MATH.search(text):  # a name, an id, a number: no formula
        return _text(text)
    out, before = [], ""
    for piece, math in formula_runs(text):
        out.append(f"${typeset(piece, _AFTER_WORD.search(before) is not None)}$" if math else _text(piece))
        before = piece
    return _JOINED_MATH.sub("", "".join(out))


def _text(text: str) -> str:
    """Text without formulas: powers raised, the known characters translated in one pass
    (str.translate runs in C: this is on every line of every key), and neighbouring bits of
    math joined into one."""
    if "^" not in text:
        return _JOINED_MATH.sub("", _plain(text))
    out, last = [], 0
    for match in _POWER.finditer(text):
        out += [_plain(text[last:match.start()]), _power(match[1] or "", match[2])]
        last = match.end()
    out.append(_plain(text[last:]))
    return _JOINED_MATH.sub("", "".join(out))


def _plain(text: str) -> str:
    if not _SCRIPT_RUN.search(text):
        return _OTHER.sub(_kept_or_unknown, text.translate(_TABLE))
    out, last = [], 0
    for match in _SCRIPT_RUN.finditer(text):  # w⁽²⁾₀₁ → w$^{(2)}_{01}$, not one formula per character
        out.append(_OTHER.sub(_kept_or_unknown, text[last:match.start()].translate(_TABLE)))
        raised, lowered = match[1], match[2]
        out.append(f"$^{{{raised.translate(_UNRAISE)}}}$" if raised else f"$_{{{lowered.translate(_UNLOWER)}}}$")
        last = match.end()
    out.append(_OTHER.sub(_kept_or_unknown, text[last:].translate(_TABLE)))
    return "".join(out)


def _power(base: str, exponent: str) -> str:
    inner = exponent[1:-1] if exponent.startswith("(") and exponent.endswith(")") else exponent
    if _SIMPLE_EXPONENT.fullmatch(inner):
        lowered = _LOWERED_RUN.sub(lambda m: f"_{{{m[0].translate(_UNLOWER)}}}", inner)
        return f"${base}^{{{lowered.replace('−', '-')}}}$"
    return rf"{_plain(base)}\textsuperscript{{{_plain(inner)}}}"


def _kept_or_unknown(match: re.Match) -> str:
    """The accented Latin letters of names, which T1 + utf8 typeset; anything else becomes ?, as
    pdflatex has no glyph for it and must never fail the build."""
    ch = match[0]
    return ch if 0xC0 <= ord(ch) < 0x180 and unicodedata.category(ch).startswith("L") else "?"

"""Plain Unicode text (titles, prose, column names) made safe for pdflatex."""

from __future__ import annotations

import re
import unicodedata

from backprop_tutor.engine.numbers import UNRAISED

_REPLACE = {
    "\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "$": r"\$",
    "−": "-", "→": r"$\to$", "←": r"$\leftarrow$", "η": r"$\eta$", "δ": r"$\delta$", "σ": r"$\sigma$",
    "∂": r"$\partial$", "·": r"$\cdot$", "′": "'", "Σ": r"$\Sigma$", "≈": r"$\approx$", "½": r"$\tfrac12$",
    "≥": r"$\ge$", "≤": r"$\le$", "⊙": r"$\odot$", "×": r"$\times$", "Φ": r"$\Phi$", "φ": r"$\varphi$",
    "√": r"$\surd$", "π": r"$\pi$", "ε": r"$\varepsilon$", "…": r"\ldots{}", "—": "---", "–": "--",
    "ⱼ": r"$_j$", "ₖ": r"$_k$", "⁽": r"$^($", "⁾": r"$^)$",
}
_DIGITS_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))


_TABLE = str.maketrans({**{ch: f"$_{{{d}}}$" for ch, d in _DIGITS_SUB.items()},
                        **{ch: f"$^{{{d}}}$" for ch, d in UNRAISED.items()}, **_REPLACE})
_OTHER = re.compile(r"[^\x00-\x7f]")


def escape(text: str) -> str:
    """Plain Unicode text (titles, column names) made safe for pdflatex: the known characters
    translated in one pass (str.translate runs in C: this is on every line of every key)."""
    return _OTHER.sub(_kept_or_unknown, text.translate(_TABLE))


def _kept_or_unknown(match: re.Match) -> str:
    """The accented Latin letters of names, which T1 + utf8 typeset; anything else becomes ?, as
    pdflatex has no glyph for it and must never fail the build."""
    ch = match[0]
    return ch if 0xC0 <= ord(ch) < 0x180 and unicodedata.category(ch).startswith("L") else "?"

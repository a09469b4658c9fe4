"""Plain Unicode text (titles, prose, column names) made safe for pdflatex."""

from __future__ import annotations

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
_DIGITS_SUP = UNRAISED
_DIGITS_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))


def escape(text: str) -> str:
    """Plain Unicode text (titles, column names) made safe for pdflatex."""
    out = []
    for ch in text:
        if ch in _REPLACE:
            out.append(_REPLACE[ch])
        elif ch in _DIGITS_SUP:
            out.append(f"$^{{{_DIGITS_SUP[ch]}}}$")
        elif ch in _DIGITS_SUB:
            out.append(f"$_{{{_DIGITS_SUB[ch]}}}$")
        elif ord(ch) < 128 or (0xC0 <= ord(ch) < 0x180 and unicodedata.category(ch).startswith("L")):
            out.append(ch)  # ASCII, and the accented Latin letters of names, which T1 + utf8 typeset
        else:
            out.append("?")  # pdflatex cannot typeset what it has no glyph for; never fail the build
    return "".join(out)

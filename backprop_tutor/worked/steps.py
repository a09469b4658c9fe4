"""A worked solution is an ordered list of steps; each has a title, plain Unicode text, LaTeX."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Unicode, numbers substituted, one idea per line
    latex: str  # the same content as LaTeX math/text (no document preamble)

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "text": self.text, "latex": self.latex}

"""A worked solution is an ordered list of steps; each has a title, plain Unicode text, LaTeX,
and the ids of the quantities it computes (so a view finds a part's step by what it asks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backprop_tutor.engine.quantities import QuantityId
from backprop_tutor.worked.texescape import escape

Formula = Callable[[bool], str]  # called with tex=False for the Unicode text, tex=True for LaTeX


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Unicode, numbers substituted, one idea per line
    latex: str  # the same content as LaTeX math/text (no document preamble)
    computes: tuple[QuantityId, ...] = ()  # whole quantities: delta1, dW2, loss; a bare kind (nudge) is all of it

    def shows(self, quantity: QuantityId) -> bool:
        """Whether this step computes `quantity` (an entry or a whole vector or matrix)."""
        return quantity.family in self.computes or QuantityId(quantity.kind) in self.computes

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "text": self.text, "latex": self.latex}


@dataclass(frozen=True)
class WhyStep(Step):
    """The paragraph on why backprop needs derivatives. A document with many problems (a
    homework key) shows it once, not once per problem (worked/report.py `why_once`)."""


class Lines:
    """Collects a step's lines in both notations. A formula is one function of `tex`, called
    once for the text and once for LaTeX, so the two versions cannot drift apart."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tex: list[str] = []

    def say(self, text: str, tex: str | None = None) -> None:
        self.text.append(text)
        self.tex.append(tex if tex is not None else escape(text))

    def math(self, formula: Formula) -> None:
        self.text.append("  " + formula(False))
        self.tex.append(r"\[ " + formula(True) + r" \]")

    def step(self, title: str, *computes: QuantityId) -> Step:
        return Step(title, "\n".join(self.text), paragraphs(self.tex), computes)


def paragraphs(tex: list[str]) -> str:
    """LaTeX lines joined as TeX reads them: a blank line between said lines, else TeX runs
    them into one paragraph ("η = 0.5. tanh(z); …"); a display stays with the line it follows."""
    out = tex[:1]
    for line in tex[1:]:
        out += ["\n" if line.startswith(r"\[") else "\n\n", line]
    return "".join(out)

"""A worked solution is an ordered list of steps; each has a title, plain Unicode text, LaTeX,
and the ids of the quantities it computes (so a view finds a part's step by what it asks)."""

from __future__ import annotations

from dataclasses import dataclass

from backprop_tutor.engine.quantities import QuantityId


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

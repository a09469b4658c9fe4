"""Problem kinds: network, activation, expression. Each is a type that knows its own template
body, quantities, solution, statement, constraints, second-method checks and JSON, so nothing
else in the package switches on the kind's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backprop_tutor.engine.quantities import QuantityId

if TYPE_CHECKING:
    from backprop_tutor.bank.problem import Part, Problem, Statement, Value
    from backprop_tutor.bank.template import Constraints
    from backprop_tutor.engine.network import Network
    from backprop_tutor.worked.report import Table
    from backprop_tutor.worked.steps import Step


@dataclass(frozen=True)
class Instance:
    """One draw made concrete: the kind's solution, its statement, and its worked steps (made
    only for the draw that is kept)."""

    solution: Any
    statement: Statement
    steps: Callable[[], tuple[Step, ...]]
    matrix_steps: Callable[[], tuple[Step, ...]] | None = None  # in matrix form, for a kind that has one


class ProblemKind(ABC):
    name: str  # as templates and the solution JSON spell it

    def __repr__(self) -> str:
        return f"<kind {self.name}>"

    @abstractmethod
    def parse_quantity(self, text: str) -> QuantityId:
        """A part's `quantity:` text → its id (QuantityError when it is not one of this kind's)."""

    def check_choices(self, body: Any, choice: Callable[[Any, tuple[str, ...], str], None]) -> None:
        """Template validation: `choice(ref, allowed, what)` checks that a `$parameter` used as an
        activation, loss or function only ever draws a known name."""

    @abstractmethod
    def instantiate(self, body: Any, where: str, seed: int) -> Instance:
        """The body with the drawn values substituted → solution, statement (without the
        template's own words, which the generator adds) and steps."""

    @abstractmethod
    def value(self, solution: Any, quantity: QuantityId) -> Value:
        """What the quantity is in this solution (QuantityError when the solution has no such)."""

    def violated(self, constraints: Constraints, solution: Any) -> str | None:
        """The name of a constraint the draw breaks, or None."""
        return None

    def network(self, solution: Any) -> Network | None:
        """The network a view can draw, if the problem is about one."""
        return None

    def graph(self, solution: Any) -> tuple[Network, dict] | None:
        """The network whose rules compute this problem's quantities, and the values it is
        given beyond the file's (the grader re-runs these rules with slips and with a learner's
        earlier answers); None when the problem is not computed by the network rules."""
        return None

    def symbolic_slips(self, solution: Any) -> tuple[tuple[str, Any, str], ...]:
        """For a formula part: (slip name, the wrong formula, feedback)."""
        return ()

    @abstractmethod
    def second_method(self, problem: Problem, part: Part) -> list[str]:
        """`tutor bank validate`: the part's key checked by an independent method; the issues."""

    @abstractmethod
    def solution_json(self, problem: Problem) -> dict[str, Any]:
        """The Solution JSON of docs/formats.md for this kind (without template, seed and parts)."""

    def tables(self, problem: Problem) -> tuple[Table, ...]:
        """The report's tables beyond the questions."""
        return ()


# Where each kind lives. A kind is imported on first use, and only the kind a template needs:
# each pulls in its part of the engine and of worked/, which practice's first prompt waits for.
_HOMES = {"network": ("backprop_tutor.bank.kinds.network", "NETWORK"),
          "activation": ("backprop_tutor.bank.kinds.activation", "ACTIVATION"),
          "expression": ("backprop_tutor.bank.kinds.expression", "EXPRESSION")}
NAMES = tuple(_HOMES)  # the kinds' names, without importing them


def kind(name: str) -> ProblemKind:
    """The kind called `name` (KeyError when there is none)."""
    from importlib import import_module

    module, attribute = _HOMES[name]
    return getattr(import_module(module), attribute)


def kinds() -> dict[str, ProblemKind]:
    """Every kind, by name."""
    return {name: kind(name) for name in NAMES}

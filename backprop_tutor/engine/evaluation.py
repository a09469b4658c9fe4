"""Evaluating the rules over the graph of a network's quantities.

An Evaluation pulls a quantity: it asks the rule book which rule computes it, evaluates what
that rule reads (iteratively, so a deep network cannot exhaust Python's stack), and memoises
every entry. Three things can differ between evaluations of the same network:

- the numbers (`ops`: exact forms, 50-digit decimals or floats, engine/arithmetic.py);
- the rules (`rules`: the standard book, or one with a rule replaced by a slip);
- `overrides`: values put in place of the engine's, such as a learner's earlier answers, or
  a nudged weight.

An evaluation is either a root, or derived from a root (`with_rules`, `rerun`): then it
recomputes only what the difference reaches — the entries whose rule or override differs,
and everything downstream of them in the root's graph — and takes every other value from
the root. A slip in layer 1, or a nudged weight, costs only what lies below it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backprop_tutor.engine.arithmetic import PRECISE
from backprop_tutor.engine.network import Network
from backprop_tutor.engine.quantities import Kind, QuantityError, QuantityId, of_example
from backprop_tutor.engine.rules import TEXTBOOK_SLOPE, Rule, check_example, own_parameters, standard_rule


EVERY_LAYER = "every layer"


@dataclass(frozen=True)
class RuleBook:
    """The standard rules, with some replaced at some places: ((rule name, layer), rule), the
    later replacement winning; EVERY_LAYER for all the places of that rule."""

    replaced: tuple[tuple[tuple[str, int | str | None], Rule], ...] = ()

    def rule_for(self, network: Network, quantity: QuantityId) -> Rule:
        rule = standard_rule(network, quantity)
        for (name, layer), replacement in reversed(self.replaced):
            if name == rule.name and (layer == quantity.layer or layer == EVERY_LAYER):
                return replacement
        return rule

    def replacing(self, name: str, layers: tuple[int | str | None, ...], rule: Rule) -> RuleBook:
        return RuleBook(self.replaced + tuple(((name, layer), rule) for layer in layers))


STANDARD = RuleBook()
# The grader's re-runs: the standard rules, with f′ computed as on paper (from a for sigmoid
# and tanh), so that a learner's own a carries into f′ (rules.TEXTBOOK_SLOPE).
GRADER = STANDARD.replacing("activation_slope", (EVERY_LAYER,), TEXTBOOK_SLOPE)


def given_value(network: Network, quantity: QuantityId):
    """x, t, W and b: the numbers of the network file (exact rationals)."""
    try:
        if quantity.kind in (Kind.INPUT, Kind.TARGET):
            check_example(network, quantity)
        if quantity.example is not None:
            return network.examples[quantity.example - 1][quantity.kind is Kind.TARGET][quantity.index[0]]
        if quantity.kind is Kind.INPUT:
            return network.input[quantity.index[0]]
        if quantity.kind is Kind.TARGET:
            return network.target[quantity.index[0]]
        if not own_parameters(network, quantity.layer):
            raise QuantityError(f"{quantity.text!r}: every step of a recurrent cell shares W1 and b1")
        layer = network.layers[quantity.layer - 1]
        if quantity.kind is Kind.WEIGHT:
            j, k = quantity.index
            return layer.weights[j][k]
        if quantity.kind is Kind.KERNEL:
            return layer.kernel[quantity.index[0]]
        (j,) = quantity.index
        return layer.bias[j]
    except (IndexError, ValueError, TypeError):  # TypeError: the kernel of a layer that has none
        raise QuantityError(f"{quantity.text!r} is not a number of this network") from None


@dataclass
class Evaluation:
    network: Network
    ops: Any = PRECISE
    rules: RuleBook = STANDARD
    overrides: Mapping[QuantityId, Any] = field(default_factory=dict)
    base: Evaluation | None = None  # the root this evaluation differs from (None: a root)
    used: set[QuantityId] = field(default_factory=set)  # the overrides this evaluation has read

    def __post_init__(self) -> None:
        if self.base is not None and self.base.base is not None:
            raise ValueError("an evaluation is derived from a root evaluation")
        self._memo: dict[QuantityId, Any] = {}
        self._reruns: dict = {}
        self._plans = _plans(self.network, self.rules)
        if self.base is None:
            self._differs_maps: dict[tuple, dict[QuantityId, bool]] = {}
        else:
            self._changed = self._changed_overrides()
            self._other_rules = self.rules != self.base.rules
            # Whether an entry differs from the root depends only on the rules and on which entries
            # are overridden or changed, not on the values: reruns that nudge the same weight by
            # different steps share one map.
            shape = (self.rules, frozenset(self.overrides), frozenset(self._changed))
            self._differs: dict[QuantityId, bool] = self.base._differs_maps.setdefault(shape, {})

    # --- asking for values ------------------------------------------------------------------------

    def value(self, quantity: QuantityId) -> Any:
        """One entry (`delta2[0]`; see engine/entries.py for whole vectors and matrices)."""
        with self.ops.context():
            return self._value(quantity)

    def values(self, ids: Any, finish: bool = False) -> Any:
        """Entries shaped as given (an id, a tuple of ids, a tuple of tuples); `finish` turns the
        arithmetic's numbers into the package's (SymPy Floats, exact forms)."""
        ops = self.ops

        def walk(item):
            if isinstance(item, QuantityId):
                value = self._value(item)
                return ops.finish(value) if finish else value
            return tuple(walk(i) for i in item)

        with ops.context():
            return walk(ids)

    def with_rules(self, rules: RuleBook) -> Evaluation:
        """The same numbers and overrides under other rules, sharing what they leave unchanged."""
        return Evaluation(self.network, self.ops, rules, self.overrides, base=self._root)

    def rerun(self, parameters: Mapping[QuantityId, Any], key: Any = None) -> Evaluation:
        """The forward pass again with some parameters replaced (a nudge, the step's new weights).
        Only parameters carry over: a learner's own z or a is about the first pass, not this one.
        Reruns made with the same `key` are one rerun."""
        if key is not None and key in self._reruns:
            return self._reruns[key]
        rerun = Evaluation(self.network, self.ops, self.rules, dict(parameters), base=self._root)
        if key is not None:
            self._reruns[key] = rerun
        return rerun

    def ancestors(self, targets) -> set[QuantityId]:
        """Every entry the targets are computed from, in this evaluation's graph."""
        self.values(tuple(targets))
        seen, frontier = set(targets), list(targets)
        while frontier:
            node = frontier.pop()
            plan = None if node in self.overrides else self._plans.get(node)
            for read in _depends_on(plan) if plan else ():
                if read not in seen:
                    seen.add(read)
                    frontier.append(read)
        return seen

    def distances(self, targets) -> dict[tuple[str, int | None], int]:
        """For each rule and layer, how many steps back from the targets its nearest entry lies
        in what this evaluation has computed (0: the rule that computes the targets)."""
        out: dict[tuple[str, int | None], int] = {}
        frontier, seen, depth = list(targets), set(targets), 0
        while frontier:
            following = []
            for node in frontier:
                plan = self._plans.get(node)
                if plan is None or node in self.overrides:
                    continue
                out.setdefault((plan[0].name, node.layer), depth)
                for read in _depends_on(plan):
                    if read not in seen:
                        seen.add(read)
                        following.append(read)
            frontier, depth = following, depth + 1
        return out

    @property
    def _root(self) -> Evaluation:
        return self if self.base is None else self.base

    # --- computing --------------------------------------------------------------------------------

    def _plan(self, node: QuantityId) -> tuple[Rule, tuple[QuantityId, ...]]:
        plan = self._plans.get(node)
        if plan is None:
            rule = self.rules.rule_for(self.network, node)
            reads = rule.reads(self.network, node)
            if node.example is not None:  # an example's rule reads that example's quantities
                reads = tuple(of_example(read, node.example) for read in reads)
            plan = self._plans[node] = (rule, reads)
        return plan

    def _value(self, target: QuantityId) -> Any:
        memo = self._memo
        if target in memo:
            return memo[target]
        base = self.base
        if base is not None and not self._differs_from_root(target):
            return base._value(target)
        overrides = self.overrides
        stack = [target]
        waiting: set[QuantityId] = set()
        while stack:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            if base is not None and not self._differs_from_root(node):
                memo[node] = base._value(node)
                stack.pop()
                continue
            if node in overrides:
                value = overrides[node]
                self.used.add(node)
            elif node.kind.given:
                value = self.ops.given(given_value(self.network, node))
            else:
                rule, reads = self._plan(node)
                missing = [r for r in reads if r not in memo]
                if missing:
                    if node in waiting:
                        raise RuntimeError(f"the rules for {node.text} depend on themselves")
                    waiting.add(node)
                    stack.extend(missing)
                    continue
                value = rule.formula(Site(self, node), [memo[r] for r in reads])
            memo[node] = value
            stack.pop()
        return memo[target]

    # --- what a derived evaluation must recompute ---------------------------------------------------

    def _changed_overrides(self) -> set[QuantityId]:
        mine, roots = self.overrides, self.base.overrides
        return {n for n in set(mine) | set(roots) if mine.get(n, _MISSING) is not roots.get(n, _MISSING)}

    def _differs_from_root(self, target: QuantityId) -> bool:
        """Whether the entry's value may differ from the root's: its rule or override differs,
        or that of something it reads (walked back iteratively, memoised)."""
        known, root = self._differs, self.base
        if target in known:
            return known[target]
        stack = [target]
        while stack:
            node = stack[-1]
            if node in known:
                stack.pop()
                continue
            if node in self._changed:
                known[node] = True
            elif node.kind.given or node in self.overrides:
                known[node] = False
            else:
                rule, reads = self._plan(node)
                # a rule that reruns the forward pass depends on every forward rule, not only on its reads
                if rule is not root._plan(node)[0] or (rule.reruns and self._other_rules):
                    known[node] = True
                else:
                    pending = [r for r in reads if r not in known]
                    if pending:
                        stack.extend(pending)
                        continue
                    known[node] = any(known[r] for r in reads)
            stack.pop()
        return known[target]


_MISSING = object()
_LOSS = QuantityId(Kind.LOSS)
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plans(network: Network, rules: RuleBook) -> dict[QuantityId, tuple[Rule, tuple[QuantityId, ...]]]:
    """{entry: (rule, what it reads)} for a network under a rule book: the same for every
    evaluation, so kept while the network lives (the grader re-runs the same few books)."""
    books = _PLANS.get(network)
    if books is None:
        books = _PLANS[network] = {}
    return books.setdefault(rules, {})


def _depends_on(plan: tuple[Rule, tuple[QuantityId, ...]]) -> tuple[QuantityId, ...]:
    """What an entry's value comes from: what its rule reads, and the loss for a rule that reruns
    the forward pass (it depends on every forward rule through it)."""
    rule, reads = plan
    return reads + (_LOSS,) if rule.reruns else reads


@dataclass(frozen=True)
class Site:
    """Where a rule is applied: the evaluation it runs in and the entry it computes."""

    evaluation: Evaluation
    quantity: QuantityId

    @property
    def network(self) -> Network:
        return self.evaluation.network

    @property
    def ops(self):
        return self.evaluation.ops

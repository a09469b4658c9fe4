"""A SymPy expression walked as the graph it is, each distinct subexpression once.

An answer like elu(elu(…(z)…)) names its argument three times at every level, so its tree is
3^depth nodes while its graph stays small. SymPy's own walks (free_symbols, count_ops, str) go
through the tree; the walks here cost what the graph costs, or stop at a stated size.
"""

from __future__ import annotations

from collections.abc import Iterator

import sympy as sp


def distinct_nodes(expr: sp.Basic) -> Iterator[sp.Basic]:
    """Every subexpression of `expr` (itself included), each object once."""
    seen: set[int] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(node.args)


def free_symbols_of(expr: sp.Basic) -> set[sp.Symbol]:
    """`expr.free_symbols` for the forms the parser builds (no bound variables), by the graph."""
    return {node for node in distinct_nodes(expr) if node.is_Symbol}


def tree_larger_than(expr: sp.Basic, limit: int) -> bool:
    """Whether the tree (shared subexpressions counted each time they appear) has more than
    `limit` nodes; the walk stops as soon as it knows."""
    count, stack = 0, [expr]
    while stack:
        count += 1
        if count > limit:
            return True
        stack.extend(stack.pop().args)
    return False

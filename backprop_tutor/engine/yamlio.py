"""The project's one way to read YAML (templates, network files, answer files).

PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: `1e-3`, `1E5` and
`.5e2` are read as strings, so the README's `tolerance: {relative: 1e-3}` was refused as "not a
number". This loader is yaml.SafeLoader (no Python objects, nothing run) with the float rule
widened to YAML 1.2's: an exponent with or without a dot or a sign. Everything else is
SafeLoader's.

Hostile documents are refused with a YAMLError, never a crash or a hang (docs/formats.md,
"Limits"): a document with anchors is composed by the Python loader, which counts the nodes
the document would have with every alias expanded and refuses more than MAX_EXPANDED_NODES
(a 337-byte "billion laughs" stands for 9⁹ lists); nesting deeper than MAX_DEPTH, and a
number too long for Python to read (a 5000-digit integer), are refused too.
"""

from __future__ import annotations

import math
import re
import sys
from typing import Any

import yaml

YAMLError = yaml.YAMLError

MAX_EXPANDED_NODES = 100_000  # far above any template or answer file; far below a bomb
MAX_DEPTH = 100  # collections inside collections; a template needs about 5

_FLOAT_TAG = "tag:yaml.org,2002:float"
# Integers stay integers: a float needs a dot or an exponent (the resolver for floats is tried
# before the one for integers).
_FLOAT = re.compile(r"""^(?:
      [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?     # 1.5  1.  1.5e3
    | [-+]?[0-9][0-9_]*[eE][-+]?[0-9]+                   # 1e-3  1E5
    | [-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?            # .5  .5e2
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*        # 190:20:30.15 (YAML 1.1 base 60)
    | [-+]?\.(?:inf|Inf|INF)
    | \.(?:nan|NaN|NAN)
    )$""", re.VERBOSE)


class LimitError(yaml.YAMLError):
    """A document past one of this module's limits (aliases, nesting, a number's length)."""

    is_limit = True  # valid YAML, refused for its size: errors.yaml_problem says so


class ProjectLoader(yaml.SafeLoader):
    """SafeLoader whose floats are YAML 1.2's, and whose composer bounds what aliases expand
    to and how deep collections nest (see the module's docstring)."""

    def compose_document(self):
        node = super().compose_document()
        _check_expansion(node)
        return node

    def compose_node(self, parent, index):
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise LimitError(f"collections nested more than {MAX_DEPTH} deep (the limit)")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_expansion(root) -> None:
    """Refuse a node graph whose expansion (every alias replaced by a copy of its anchor's
    node) has more than MAX_EXPANDED_NODES nodes. Sizes are memoised per node, so the count
    costs one visit per distinct node, however large the expansion; a node that contains itself
    (a recursive alias) is refused outright."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise LimitError("a recursive alias (a collection that contains itself)")
        open_.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                raise LimitError(f"its aliases expand to more than {MAX_EXPANDED_NODES:,} values (the limit)")
        open_.discard(key)
        sizes[key] = total
        return total

    if root is not None:
        size(root)


def _set_float_rule(loader: type) -> None:
    loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))
    for first in "-+0123456789.":  # the float rule first again, as in SafeLoader, ahead of int
        rules = loader.yaml_implicit_resolvers[first]
        rules.insert(0, rules.pop())


def _float_or_text(loader, node) -> float | str:
    """A YAML float, or its text when a float cannot hold it: an unquoted 1e-5000 is 0.0 to
    Python and 1e5000 is inf. The text goes on to be read as an exact number (a network file's
    weights are) or refused with the field named, as the quoted '1e-5000' is."""
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    if isinstance(value, float):
        mantissa = re.split("[eE]", node.value)[0]
        if (value == 0 and re.search("[1-9]", mantissa)) or (math.isinf(value) and "inf" not in node.value.lower()):
            return node.value
    return value


def _widen_floats(loader: type) -> None:
    _set_float_rule(loader)
    loader.add_constructor(_FLOAT_TAG, _float_or_text)


_widen_floats(ProjectLoader)
# libyaml's parser, when PyYAML has it, builds the same data about ten times faster (the whole
# bank in 20 ms, not 200); the resolver, and so the float rule, is the Python one either way.
if hasattr(yaml, "CSafeLoader"):
    class _FastLoader(yaml.CSafeLoader):
        pass

    _widen_floats(_FastLoader)
else:
    _FastLoader = ProjectLoader


def load(text: str, answers: bool = False) -> Any:
    """The document in `text`; raises YAMLError (yaml.YAMLError) when it is not valid YAML, with
    the Python parser's wording ("expected ',' or ']', but got ':'"), clearer than libyaml's,
    or when it is past a limit (LimitError). `answers`: numbers as an answer file reads them."""
    fast, slow = (_FastAnswerLoader, _AnswerLoader) if answers else (_FastLoader, ProjectLoader)
    try:
        if "&" in text:  # anchors, so maybe aliases: the bounded Python composer (no bank template has one)
            return _checked(text, slow)
        try:
            return _checked(text, fast)
        except yaml.YAMLError:
            return _checked(text, slow)  # raises the clearer error, or a LimitError
    except LimitError:
        raise
    except RecursionError:
        raise LimitError(f"collections nested more than {MAX_DEPTH} deep (the limit)") from None
    except ValueError as e:  # int() of a number past Python's 4300 digits
        if "digits" in str(e):
            raise LimitError(f"a number longer than {sys.get_int_max_str_digits()} digits (the limit); "
                             "quote it if it is meant as text") from None
        raise LimitError(f"a value that cannot be read ({e})".splitlines()[0]) from None


def _checked(text: str, loader: type) -> Any:
    data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    if loader in (_FastLoader, _FastAnswerLoader):
        _check_depth(data)
    return data


def _check_depth(data: Any) -> None:
    """libyaml composes in C, where compose_node cannot count: the depth of the data, instead
    (nodes shared by aliases never reach here: a document with anchors takes the Python path)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > MAX_DEPTH:
                raise LimitError(f"collections nested more than {MAX_DEPTH} deep (the limit)")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items if isinstance(v, (list, dict)))


# --- answer files ------------------------------------------------------------------------------
# In an answer file a plain number is an answer the student typed, and YAML 1.1 reads some as
# something else: 0x1F as 31, 1:30 as 90 (base 60), 017 as 15 (octal), 1_000 as 1000. Here only
# a decimal integer without leading zeros and a YAML 1.2 float are numbers; everything else
# stays the text it is, and the grader reads that text as it reads a typed answer.
_INT_TAG = "tag:yaml.org,2002:int"
_ANSWER_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_ANSWER_FLOAT = re.compile(r"""^(?:
      [-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][-+]?[0-9]+
    | [-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)
    | [-+]?\.(?:inf|Inf|INF)
    | \.(?:nan|NaN|NAN)
    )$""", re.VERBOSE)


def _answer_numbers(loader: type) -> None:
    loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_FLOAT_TAG, _INT_TAG)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(_INT_TAG, _ANSWER_INT, list("-+0123456789"))
    loader.add_implicit_resolver(_FLOAT_TAG, _ANSWER_FLOAT, list("-+0123456789."))


class _AnswerLoader(ProjectLoader):
    pass


class _FastAnswerLoader(_FastLoader):
    pass


_answer_numbers(_AnswerLoader)
_answer_numbers(_FastAnswerLoader)


def load_answers(text: str) -> Any:
    """An answer file's document: as `load` (the same limits), but numbers only as YAML 1.2
    writes them (above)."""
    return load(text, answers=True)

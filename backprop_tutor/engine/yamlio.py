"""The project's one way to read YAML (templates, network files, answer files).

PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: `1e-3`, `1E5` and
`.5e2` are read as strings, so the README's `tolerance: {relative: 1e-3}` was refused as "not a
number". This loader is yaml.SafeLoader (no Python objects, nothing run) with the float rule
widened to YAML 1.2's: an exponent with or without a dot or a sign. Everything else is
SafeLoader's.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

YAMLError = yaml.YAMLError

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


class ProjectLoader(yaml.SafeLoader):
    """SafeLoader whose floats are YAML 1.2's (see the module's docstring)."""


def _widen_floats(loader: type) -> None:
    loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))
    for first in "-+0123456789.":  # the float rule first again, as in SafeLoader, ahead of int
        rules = loader.yaml_implicit_resolvers[first]
        rules.insert(0, rules.pop())


_widen_floats(ProjectLoader)
# libyaml's parser, when PyYAML has it, builds the same data about ten times faster (the whole
# bank in 20 ms, not 200); the resolver, and so the float rule, is the Python one either way.
if hasattr(yaml, "CSafeLoader"):
    class _FastLoader(yaml.CSafeLoader):
        pass

    _widen_floats(_FastLoader)
else:
    _FastLoader = ProjectLoader


def load(text: str) -> Any:
    """The document in `text`; raises YAMLError (yaml.YAMLError) when it is not valid YAML, with
    the Python parser's wording ("expected ',' or ']', but got ':'"), clearer than libyaml's."""
    try:
        return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        return yaml.load(text, Loader=ProjectLoader)  # noqa: S506 - raises the clearer error


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
    """An answer file's document: as `load`, but numbers only as YAML 1.2 writes them (above)."""
    try:
        return yaml.load(text, Loader=_FastAnswerLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        return yaml.load(text, Loader=_AnswerLoader)  # noqa: S506 - raises the clearer error

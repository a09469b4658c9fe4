"""The core's own exceptions. Only the CLI turns them into a message and an exit code.

An error carries what a reader needs as fields — the file (or option) it is about, the key in
it, the problem, and the fix — and reads as one line, `SOURCE: KEY: PROBLEM; FIX`. Code that
sees an error from a layer below relocates it (`located`) instead of rewriting its text.
"""

from __future__ import annotations

from typing import TypeVar

E = TypeVar("E", bound="TutorError")


class TutorError(Exception):
    """Base class: a problem with the user's input, explained in one line."""

    def __init__(self, problem: str, *, source: str | None = None, key: str | None = None, fix: str | None = None):
        super().__init__(problem)
        self.problem = problem
        self.source = source  # a file, an option such as --at, or "the answer"
        self.key = key  # where in it: layers[1].weights, parts.delta2.quantity
        self.fix = fix

    def __str__(self) -> str:
        text = ": ".join(part for part in (self.source, self.key, self.problem) if part)
        return f"{text}; {self.fix}" if self.fix else text

    def located(self: E, source: str | None = None, key: str | None = None, into: type[E] | None = None) -> E:
        """The same error placed inside something larger: another source, the key under a
        prefix (the network section of a template), possibly as another kind of error."""
        cls = into or type(self)
        new_key = ".".join(k for k in (key, self.key) if k) or None
        return cls(self.problem, source=source if source is not None else self.source, key=new_key, fix=self.fix)


class NetworkError(TutorError):
    """A network file (or dictionary) is malformed."""


class AnswerFormatError(TutorError):
    """Text that is not a well-formed answer or expression; it costs no attempt."""


class TemplateError(TutorError):
    """A problem template is malformed."""


def yaml_problem(error) -> str:
    """A PyYAML error as one line: `not valid YAML (line 3, column 7: found a tab)`, or for a
    document refused for its size (engine/yamlio.py), `past a limit: …`."""
    if getattr(error, "is_limit", False):
        return f"past a limit: {error}"
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"not valid YAML ({where}{getattr(error, 'problem', None) or error})"


def did_you_mean(word, choices) -> str:
    """` (did you mean 'sigmoid'?)` for a near miss among `choices`, else ""."""
    import difflib

    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value) -> str:
    """What a value read from a file is, for `expected …, found …`."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"the text {shown!r}"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list"}.get(type(value), f"the number {value!r}")


def check_keys(data: dict, allowed, prefix: str, fail, listed: str = "allowed") -> None:
    """Every key of a mapping read from a file is one of `allowed`; `fail(key, message)` makes the error."""
    for key in data:
        if key not in allowed:
            raise fail(f"{prefix}{key}", f"unknown key{did_you_mean(key, allowed)}; {listed}: {', '.join(allowed)}")

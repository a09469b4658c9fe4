"""A grading Result as the learner reads it: the verdict word first, then what was understood,
then the feedback. Builds a renderable; the caller prints it."""

from __future__ import annotations

from rich.text import Text

from backprop_tutor.grading.result import Result, Status

_STYLE = {Status.CORRECT: "bold green", Status.INCORRECT: "bold red", Status.INVALID: "bold yellow"}
_VERDICT = {Status.CORRECT: "Correct", Status.INCORRECT: "Incorrect", Status.INVALID: "Invalid"}


def render_result(result: Result, show_expected: bool = False) -> Text:
    out = Text()
    out.append(_VERDICT[result.status], style=_STYLE[result.status])
    if result.status is Status.INVALID:
        out.append(f": {result.feedback} (this costs no attempt)")
        return out
    out.append(f"  ({result.score:g}/{result.points:g})")
    if result.interpreted_as is not None:
        out.append("\n  understood as: ", style="dim")
        out.append(result.interpreted_as)
    if result.status is Status.CORRECT and result.carried_from:  # says whose values earned the credit
        out.append(f"\n  {result.feedback}")
    if result.status is Status.INCORRECT:
        out.append(f"\n  {result.feedback}")
        if show_expected:
            out.append(f"\n  expected: {result.expected}")
    return out

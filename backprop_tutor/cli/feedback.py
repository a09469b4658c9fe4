"""A grading Result as the learner reads it: the verdict word first, then what was understood,
then the feedback. Builds a renderable; the caller prints it."""

from __future__ import annotations

from rich.text import Text

from backprop_tutor.grading.grade import CORRECT, INCORRECT, Result

_STYLE = {CORRECT: "bold green", INCORRECT: "bold red"}


def render_result(result: Result, show_expected: bool = False) -> Text:
    verdict = {"correct": "Correct", "incorrect": "Incorrect", "invalid": "Invalid"}[result.status]
    out = Text()
    out.append(verdict, style=_STYLE.get(result.status, "bold yellow"))
    if result.status == "invalid":
        out.append(f": {result.feedback} (this costs no attempt)")
        return out
    out.append(f"  ({result.score:g}/{result.points:g})")
    if result.interpreted_as is not None:
        out.append("\n  understood as: ", style="dim")
        out.append(result.interpreted_as)
    if result.status == CORRECT and result.feedback != "Correct.":
        out.append(f"\n  {result.feedback}")
    if result.status == INCORRECT:
        out.append(f"\n  {result.feedback}")
        if show_expected:
            out.append(f"\n  expected: {result.expected}")
    return out

"""What a practice session shows: functions that build rich renderables; the caller prints.

Verdicts come from feedback.render_result, so `tutor practice` and `tutor check` speak alike.
Numbers come from the engine (numbers.pretty), never formatted here from floats.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from backprop_tutor.engine import numbers as num
from backprop_tutor.worked.notation import function, points
from backprop_tutor.bank.problem import Part, Problem
from backprop_tutor.cli.common import count
from backprop_tutor.learner.store import PartOutcome
from backprop_tutor.worked.steps import Step


def _points(value: float) -> str:
    return f"{value:g}"


def problem_view(problem: Problem, reason: str, number: int, total: int | None, boxed: bool = True) -> RenderableType:
    of = f"/{total}" if total else ""
    title = Text(f"Problem {number}{of}: {problem.title}", style="bold")
    title.append(f"  ({problem.template}, seed {problem.seed}, level {problem.level})", style="dim")
    parts: list[RenderableType] = [Text(""), title]
    if reason:
        parts.append(Text(f"Chosen for {reason}.", style="dim"))
    statement = problem.statement
    net = problem.kind.network(problem.solution)
    # the network drawn, in place of the statement's lines that list it (where a table of layers can
    # show it: the kind says)
    if net is not None:
        words = ((statement.intro,) if statement.intro else ()) + statement.notes
        shown: RenderableType = Group(_diagram(net), _layers(net), Text("\n".join(words)))
    else:
        shown = Text(statement.text)
    parts.append(Panel(shown, box=box.ROUNDED, expand=False) if boxed else shown)
    parts.append(Text(f"{len(problem.parts)} parts. Type an answer at each prompt, or: hint, solution, skip, quit.",
                      style="dim"))
    return Group(*parts)


def _diagram(net) -> Text:
    """x (2) ──▶ [tanh × 2] ──▶ [σ × 1] ──▶ L: the shape of the network in one line."""
    out = Text(f"x ({len(net.input)})")
    for l, layer in enumerate(net.layers, 1):
        out.append(" ──▶ ")
        out.append(f"[{function(layer.activation)} × {layer.units}]", style="bold")
    out.append(f" ──▶ L = {net.loss}")
    return out


def _vector(values) -> str:
    return "(" + ", ".join(num.pretty(v) for v in values) + ")"


def _matrix(rows) -> str:
    return "\n".join("[" + "  ".join(num.pretty(v) for v in row) + "]" for row in rows)


def _layers(net) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for column in ("layer", "f", "W (row j = unit j)", "b"):
        table.add_column(column, overflow="fold")
    table.add_row("0 input", "", _given(net, "x", 0), "")
    for l, layer in enumerate(net.layers, 1):
        table.add_row(str(l), layer.activation, Text(_matrix(layer.weights)), Text(_vector(layer.bias)))
    table.add_row("target", "", _given(net, "t", 1), "")
    return table


def _given(net, name: str, which: int) -> str:
    """x = (…) or t = (…); for a mini-batch, each example's on its own line."""
    if net.examples is None:
        return f"{name} = " + _vector((net.input, net.target)[which])
    return "\n".join(f"example {e}: {name} = {_vector(pair[which])}" for e, pair in enumerate(net.examples, 1))


def part_prompt(part: Part, index: int, count: int) -> Text:
    out = Text(f"\nPart {index}/{count} ", style="bold cyan")
    out.append(f"[{part.id}] ", style="cyan")
    out.append(f"({points(part.points)})  ", style="dim")
    out.append(part.prompt)
    return out


def commands_help() -> Text:
    return Text("Type your answer (a number, [vector], [[matrix]] or formula), or: "
                "hint (the next hint), solution (the worked step; scores 0), skip, quit.", style="dim")


def verdict(result) -> RenderableType:
    from backprop_tutor.cli.feedback import render_result

    return render_result(result)


def repeated(attempt: int, understood: str) -> Text:
    """An answer already graded at this part: the verdict word of an answer that costs nothing."""
    out = Text("Invalid", style="bold yellow")
    out.append(f": the same as your attempt {attempt} (")
    out.append(understood)
    out.append("), which was not correct; it is not graded again (this costs no attempt)")
    return out


def try_again(used: int, allowed: int, more_hints: bool) -> Text:
    left = allowed - used
    tail = "; type hint for a hint" if more_hints else ""
    return Text(f"  {count(left, 'attempt')} left{tail}.", style="dim")


def hint(part: Part, given: int) -> Text:
    if not part.hints:
        return Text("No hints for this part; type solution to see the worked step.", style="yellow")
    if given >= len(part.hints):
        return Text(f"No more hints (all {len(part.hints)} given); type solution to see the worked step.",
                    style="yellow")
    out = Text(f"Hint {given + 1}/{len(part.hints)}: ", style="bold yellow")
    out.append(part.hints[given])
    return out


def _steps(steps: tuple[Step, ...], highlight: str = "bold green") -> list[RenderableType]:
    out: list[RenderableType] = []
    for step in steps:
        out.append(Text(step.title, style=highlight))
        out.append(Padding(Text(step.text), (0, 0, 0, 3)))
    return out


def _answer(part: Part) -> Text:
    out = Text("The answer: ", style="bold")
    out.append(part.answer)
    return out


def out_of_attempts(part: Part, steps: tuple[Step, ...]) -> RenderableType:
    return Group(Text(f"That was attempt 3 of 3. Here is the worked step for {part.id}:", style="bold yellow"),
                 *_steps(steps), _answer(part))


def reveal(part: Part, steps: tuple[Step, ...]) -> RenderableType:
    return Group(Text(f"The worked step for {part.id} (this part scores 0):", style="bold yellow"),
                 *_steps(steps), _answer(part))


def skipped(part: Part) -> Text:
    return Text(f"Skipped {part.id} (scores 0); it is highlighted in the worked solution at the end.", style="yellow")


_OUTCOME = {PartOutcome.CORRECT: ("✓ correct", "green"), PartOutcome.MISSED: ("✗ missed", "bold red"),
            PartOutcome.REVEALED: ("✗ shown", "bold red"), PartOutcome.SKIPPED: ("✗ skipped", "bold red")}


def review(problem: Problem, records) -> RenderableType:
    """The worked solution, with the parts the learner got wrong (and their steps) in red."""
    table = Table(title="Your answers", title_justify="left", title_style="bold cyan", box=box.SIMPLE_HEAD,
                  header_style="bold")
    for column in ("part", "you", "result", "key"):
        table.add_column(column, overflow="fold")
    wrong_steps: dict[Step, list[str]] = {}
    for r in records:
        label, style = _OUTCOME.get(r.outcome, ("—", "dim"))
        if r.outcome is PartOutcome.CORRECT and r.attempts > 1:
            label, style = f"✓ on attempt {r.attempts}", "yellow"
        yours = r.answers[-1] if r.answers else "—"
        table.add_row(Text(r.part.id, style=style), Text(yours), Text(label, style=style), Text(r.part.answer))
        if r.outcome in (PartOutcome.MISSED, PartOutcome.REVEALED, PartOutcome.SKIPPED):
            for step in problem.steps_for(r.part):
                wrong_steps.setdefault(step, []).append(r.part.id)
    parts: list[RenderableType] = [Text(""), table, Text("Worked solution", style="bold underline")]
    for index, step in enumerate(problem.steps, 1):
        title = Text(f"{index}. {step.title}", style="bold red" if step in wrong_steps else "bold green")
        if step in wrong_steps:
            title.append(f"   ◀ your part {', '.join(wrong_steps[step])} went wrong here", style="red")
        parts.append(title)
        parts.append(Padding(Text(step.text), (0, 0, 1, 3)))
    return Group(*parts)


def problem_score(got: float, out_of: float, total: float, total_points: float, problems: int) -> Text:
    out = Text(f"Score: {_points(got)}/{_points(out_of)}", style="bold")
    out.append(" on this problem")
    if problems > 1:
        out.append(f"; {_points(total)}/{_points(total_points)} over {problems} problems this session")
    return out


def leaving(score: float, points: float, problems: int) -> Text:
    out = Text(f"\nScore: {_points(score)}/{_points(points)}", style="bold")
    out.append(f" this session ({count(problems, 'problem')} finished). "
               "Your progress is saved; `tutor stats` shows it.")
    return out


def session_end(score: float, points: float, problems: int) -> Text:
    out = Text(f"\nSession over: {_points(score)}/{_points(points)} over {count(problems, 'problem')}. ", style="bold")
    out.append("Your progress is saved; `tutor stats` shows it.")
    return out


class Unboxed:
    """This module's views for a pipe (a transcript, a log): the same, with the problem's
    statement unboxed, so that its prose can be wrapped as prose (cli/common.make_console)."""

    def __getattr__(self, name: str):
        return globals()[name]

    @staticmethod
    def problem_view(problem: Problem, reason: str, number: int, total: int | None) -> RenderableType:
        return problem_view(problem, reason, number, total, boxed=False)


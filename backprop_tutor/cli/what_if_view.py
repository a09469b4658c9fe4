"""`tutor why --what-if` on screen: each experiment's title, what changed, its numbers, a table
of the loss per step with bars (the real run and the changed ones on one scale, so the bars
compare), and one sentence of what it shows, chosen by the numbers.

Every number is the engine's, printed by numbers.pretty; only the measured times are not
reproducible, and their line says so.
"""

from __future__ import annotations


import sympy as sp
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_tutor.engine import numbers as num
from backprop_tutor.learner.what_if import (Experiment, NUDGE_H, RATE_FACTOR, SATURATED_Z, STEPS, Costs, Descents, Run,
                                            WhatIf)
from backprop_tutor.worked.notation import function, symbol
from backprop_tutor.cli.bars import bars

DIGITS = 4
MEASURED = "Measured on this machine:"  # the one line that differs between runs


def _loss_table(runs: tuple[Run, ...]) -> Table:
    width = 16 if len(runs) == 2 else 8
    drawn, log = bars([[float(v) for v in run.losses] for run in runs], width)
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False,
                  caption=f"bars: L on a {'log' if log else 'linear'} scale shared by the runs", caption_justify="left")
    table.add_column("step", justify="right", no_wrap=True)
    for run in runs:
        table.add_column(f"L ({run.label})", justify="right", no_wrap=True)
    for run in runs:
        table.add_column(run.label, justify="left", no_wrap=True)
    styles = ("green", "red", "yellow")
    for k in range(STEPS + 1):
        table.add_row(str(k), *(num.pretty(run.losses[k], DIGITS) for run in runs),
                      *(Text(drawn[i][k], style=styles[i]) for i in range(len(runs))))
    return table


def _title(n: int, text: str) -> Text:
    return Text(f"What if {n}: {text}", style="bold cyan")


def _p(value) -> str:
    return num.pretty(value, DIGITS)


def _drop_slope(n: int, e: Descents, f: str) -> list[RenderableType]:
    real, dropped = e.real, e.changed[0]
    numbers = Text(f"∂L/∂w at the start: true {_p(e.true_gradient)}, with {f}′(z) = {f}′({_p(real.z)}) = "
                   f"{_p(real.slope)}; with f′ dropped {_p(e.dropped_gradient)}, the true one divided by "
                   f"{f}′(z).")
    worse = dropped.losses[-1] > real.losses[-1] or dropped.rises
    wrong_way = (e.true_gradient > 0) != (e.dropped_gradient > 0)
    if dropped.losses == real.losses:
        shows = (f"Here {f}′(z) = 1 at every step, so dropping it changes nothing: both runs take the same "
                 "steps (another --seed, or another activation, shows the difference).")
    elif wrong_way:
        shows = (f"Without f′ the gradient points the wrong way ({f}′(z) is negative here), so descent climbs: "
                 f"the loss went from {_p(dropped.losses[0])} to {_p(dropped.losses[-1])}.")
    elif worse:
        shows = (f"Without f′ every step is 1/{f}′(z) times too long, and descent does worse: it ended at "
                 f"L = {_p(dropped.losses[-1])} where the real descent reached {_p(real.losses[-1])}.")
    else:
        shows = (f"Without f′ every step is 1/{f}′(z) times too long; here that happened to land lower "
                 f"(L = {_p(dropped.losses[-1])} against {_p(real.losses[-1])}), but the gradient is not the "
                 "derivative, and a wrong-sized step is luck, not learning.")
    return [_title(n, f"we drop f′ (pretend {f}′ = 1)"),
            Text(f"Changed: the engine's activation_slope rule replaced by 1 in layer 1 (the slip "
                 f"forgot_activation_slope); η = {_p(real.learning_rate)} as before."),
            numbers, _loss_table((real, dropped)), Text(shows)]


def _saturated(n: int, e: Descents, f: str) -> list[RenderableType]:
    real, stalled = e.real, e.changed[0]
    return [_title(n, "the unit is saturated"),
            Text(f"Changed: w = {_p(real.weights[0])} → {_p(stalled.weights[0])}, so z⁽¹⁾ = {_p(stalled.z)} "
                 f"(|z| = {SATURATED_Z}) where {f} is flat."),
            Text(f"{f}′(z) = {_p(stalled.slope)} (it was {_p(real.slope)}); ∂L/∂w = {_p(stalled.gradients[0])} "
                 f"(it was {_p(real.gradients[0])}), while the loss is {_p(stalled.losses[0])}."),
            _loss_table((real, stalled)),
            Text(f"With f′ ≈ 0 the gradient vanishes and learning stalls: in {STEPS} steps the loss moved by "
                 f"{_p(stalled.change)}, against {_p(real.change)} for the real run.")]


def _learning_rate(n: int, e: Descents) -> list[RenderableType]:
    real, large, small = e.real, *e.changed
    w2 = symbol("w", 2)
    rose = next((i for i, (a, b) in enumerate(zip(large.losses, large.losses[1:]), 1) if b > a), None)
    big = (f"η = 3/L″ overshoots: every step lands further past the bottom, and the loss rose from "
           f"{_p(large.losses[0])} to {_p(large.losses[-1])}" if rose == 1 else
           f"η = 3/L″ overshoots from step {rose}, ending at {_p(large.losses[-1])}" if rose else
           f"η = {_p(large.learning_rate)} did not overshoot here")
    return [_title(n, "the learning rate is too large, or too small"),
            Text(f"Changed: we move the output weight {w2} = {_p(real.weights[0])} instead of w, because L is a "
                 f"parabola in it, L″ = (a⁽¹⁾)² = {_p(e.curvature)}: a step overshoots the bottom when η > 1/L″ and "
                 f"lands further from it than it started when η > 2/L″ = {_p(2 / e.curvature)}. η = "
                 f"{_p(real.learning_rate)} → {_p(large.learning_rate)} (3/L″) and {_p(small.learning_rate)} "
                 f"(η / {RATE_FACTOR}); the same start, ∂L/∂{w2} = {_p(real.gradients[0])}."),
            _loss_table((real, large, small)),
            Text(f"{big}; η / {RATE_FACTOR} crawls: it lowered the loss by {_p(-small.change)} where "
                 f"η = {_p(real.learning_rate)} lowered it by {_p(-real.change)}.")]


def _costs(n: int, c: Costs) -> list[RenderableType]:
    shape = "-".join(map(str, c.layers))
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for column, right in (("method", False), ("forward", True), ("backward", True), ("passes", False)):
        table.add_column(column, justify="right" if right else "left", no_wrap=True)
    drawn, _ = bars([[c.nudge_passes, c.backprop_forward + c.backprop_backward]], 24, may_log=False)
    table.add_row("nudging (central differences)", str(c.nudge_passes), "0", Text(drawn[0][0], style="red"))
    table.add_row("backprop", str(c.backprop_forward), str(c.backprop_backward), Text(drawn[0][1] or "▏", style="green"))
    out = [_title(n, "we nudge every weight instead of backprop"),
           Text(f"Changed: a larger random network, {shape} (tanh, P = {c.parameters} weights and biases), every "
                f"∂L/∂θ at once, in floats through the engine's rules."),
           Text(f"Nudging each θ by ±h, h = {num.pretty(sp.Float(NUDGE_H))}: (L(θ+h) − L(θ−h))/2h, two forward "
                f"passes per parameter, 2P = {c.nudge_passes}. Backprop: one forward pass and one backward pass. "
                f"The two sets of gradients agree to {num.pretty(sp.Float(c.largest_gap), 2)}."),
           table]
    if c.nudge_seconds is not None:
        ratio = c.nudge_seconds / c.backprop_seconds if c.backprop_seconds else float("inf")
        out.append(Text(f"{MEASURED} nudging {c.nudge_seconds:.3g} s, backprop {c.backprop_seconds:.3g} s "
                        f"({ratio:.0f}× faster)."))
    out.append(Text(f"Backprop's cost does not grow with the number of parameters: it pays two passes where "
                    f"nudging pays {c.nudge_passes}, which is why networks are trained with backprop."))
    return out


def render(result: WhatIf) -> RenderableType:
    lesson = result.lesson
    f = function(lesson.activation)
    header = Text("What if …? The lesson's network under changed rules", style="bold")
    header.append(f"  (activation {lesson.activation}, seed {lesson.seed})", style="dim")
    intro = Text(f"Each descent moves one weight alone, w = w⁽¹⁾₀₀ unless it says otherwise, {STEPS} steps of "
                 "w ← w − η·∂L/∂w, beside the real one (as in `tutor why`); the bars of a table share one scale.")
    parts: list[RenderableType] = [header, intro]
    for n, e in enumerate(result.experiments, 1):
        parts.append(Text(""))
        if isinstance(e, Costs):
            parts += _costs(n, e)
        elif e.name is Experiment.DROP_SLOPE:
            parts += _drop_slope(n, e, f)
        elif e.name is Experiment.SATURATED:
            parts += _saturated(n, e, f)
        else:
            parts += _learning_rate(n, e)
    return Group(*parts)

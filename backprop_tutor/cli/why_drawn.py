"""The limit, drawn in the terminal: L as a function of the one weight w, the secants from w to
w + h for the h of the nudge table, and the tangent at w whose slope is ∂L/∂w.

Drawn in characters, not with a plotting library, so the lesson needs no matplotlib and the
picture is the same on every machine (a golden test holds it): one mark per line (• the curve,
1 to 4 the secants of h = 10⁻¹ to 10⁻⁴, T the tangent), coloured in a terminal and plain when
piped. Each column of the plot is one w; a line is drawn from its height at the column's left
edge to its height at the right edge, so a steep line stays joined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from backprop_tutor.engine import numbers as num
from backprop_tutor.learner.why import Lesson

HEIGHT = 15  # rows of the plot area
MAX_WIDTH = 120  # a wider terminal gets a plot this wide: more columns show nothing more
CURVE, TANGENT = "•", "T"
SECANT_STYLES = ("yellow", "green", "cyan", "blue")
KEY = num.KEY_DIGITS


@dataclass(frozen=True)
class _Line:
    """y = height + slope·(w − w₀): a secant or the tangent."""
    mark: str
    style: str
    slope: sp.Expr
    label: str


class LimitPlot:
    """The drawing as a rich renderable, `width` columns wide (None: the console's width, at
    most MAX_WIDTH)."""

    def __init__(self, lesson: Lesson, width: int | None = None):
        self.lesson = lesson
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width if self.width is not None else min(options.max_width, MAX_WIDTH)
        yield from drawing(self.lesson, width)


def lines_of(lesson: Lesson) -> list[_Line]:
    """The secants, largest h first (their slopes are the nudge table's ratios), then the tangent."""
    secants = [_Line(str(k), SECANT_STYLES[(k - 1) % len(SECANT_STYLES)], n.ratio,
                     f"secant from w to w + {num.pretty(n.h)}: slope {num.pretty(n.ratio, KEY)}")
               for k, n in enumerate(lesson.nudges, 1)]
    tangent = _Line(TANGENT, "bold red", lesson.derivative, f"tangent at w: slope ∂L/∂w = {num.pretty(lesson.derivative, KEY)}")
    return secants + [tangent]


def drawing(lesson: Lesson, width: int) -> list[Text]:
    low, high = lesson.window
    w0, l0 = lesson.weight, lesson.loss
    # y labels to 3 significant digits, the plot area to their right after "│"
    curve_width = max(width - 12, 20)
    curve = lesson.curve(curve_width + 1)  # the loss at each column's edges
    losses = [float(loss) for _, loss in curve]
    bottom, top = min(losses), max(losses)
    pad = (top - bottom) * 0.05 or max(abs(top), 1) * 0.05
    bottom, top = max(bottom - pad, 0.0) if bottom >= 0 else bottom - pad, top + pad  # a loss is never below 0
    labels = [num.pretty(sp.Float(top), 3), num.pretty(sp.Float((top + bottom) / 2), 3), num.pretty(sp.Float(bottom), 3)]
    margin = max(len(label) for label in labels) + 1
    columns = width - margin - 1
    if columns != curve_width:
        curve = lesson.curve(columns + 1)
        losses = [float(loss) for _, loss in curve]

    grid: list[list[tuple[str, str]]] = [[(" ", "")] * columns for _ in range(HEIGHT)]

    def row(y: float) -> float:
        return (top - y) / (top - bottom) * HEIGHT  # 0 at the top edge, HEIGHT at the bottom

    def stroke(left: float, right: float, column: int, mark: str, style: str) -> None:
        """The line from its height at the column's left edge to that at its right edge, clipped."""
        first, last = sorted((row(left), row(right)))
        for r in range(max(math.floor(first), 0), min(math.floor(last), HEIGHT - 1) + 1):
            grid[r][column] = (mark, style)

    step = float(high - low) / columns
    lines = lines_of(lesson)  # the tangent over the secants, the curve over both: where a line
    for line in lines:  # shows, it has left what is drawn over it
        for c in range(columns):
            at = [float(l0 + line.slope * (sp.Float(float(low) + (c + e) * step) - w0)) for e in (0, 1)]
            stroke(at[0], at[1], c, line.mark, line.style)
    for c in range(columns):
        stroke(losses[c], losses[c + 1], c, CURVE, "bold")
    shown = {mark for cells in grid for mark, _ in cells}

    out = [Text("L".rjust(margin - 1))]
    for r in range(HEIGHT):
        label = labels[0] if r == 0 else labels[1] if r == HEIGHT // 2 else labels[2] if r == HEIGHT - 1 else ""
        text = Text(label.rjust(margin - 1) + " │")
        for mark, style in grid[r]:
            text.append(mark, style=style or None)
        out.append(text)
    out.append(Text(" " * margin + "└" + "─" * columns))
    # the ends' ticks inside the plot's width, the middle one (w) centred under its column
    ticks = [(margin + 1, num.pretty(low)), (margin + 1 + columns // 2 - len(num.pretty(w0)) // 2, num.pretty(w0)),
             (margin + 1 + columns - len(num.pretty(high)), num.pretty(high))]
    axis = list("w".rjust(margin - 1)) + [" "] * (columns + 2)
    for start, tick in ticks:
        axis[start:start + len(tick)] = list(tick)
    out.append(Text("".join(axis).rstrip()))
    out.append(Text(f"  {CURVE} ", style="bold").append(f"L(w), the loss as w alone changes (at w = {num.pretty(w0)}, "
                                                       f"L = {num.pretty(l0)})"))
    for line in lines:
        entry = Text(f"  {line.mark} ", style=line.style).append(line.label)
        if line.mark not in shown:
            entry.append(" (covered at this scale)", style="dim")
        out.append(entry)
    return out

"""The why lesson on screen (rich renderables) and on paper (a matplotlib PNG).

Every number shown is the engine's, printed by numbers.pretty; the bars of the loss chart and
the plotted curves are drawings of those numbers.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backprop_tutor.engine import activations
from backprop_tutor.engine import numbers as num
from backprop_tutor.worked.notation import function, symbol
from backprop_tutor.learner.why import CONVERGED, Lesson
from backprop_tutor.cli.bars import bars
from backprop_tutor.cli.common import pyplot, save_png
from backprop_tutor.cli.why_drawn import LimitPlot, lines_of

KEY = num.KEY_DIGITS
BAR = 20
def _bars(losses) -> tuple[list[str], str]:
    """Bars for the loss column. Descent often takes the loss down many orders of magnitude in
    a few steps; linear bars would then vanish after step 2, so past a 100× range the bars are
    drawn on a log scale (and the column says so)."""
    (drawn,), log = bars([[float(v) for v in losses]], BAR)
    return drawn, "chart of L (log scale)" if log else "chart of L"


def render(lesson: Lesson, plot_width: int | None = None) -> RenderableType:
    """The lesson; its drawing `plot_width` columns wide (None: the console's width)."""
    net = lesson.network
    first, second = net.layers
    f = function(lesson.activation)
    w = symbol("w", 1, 0, 0)
    n = lesson.solution.numeric
    d = lesson.derivative
    header = Text("Why does backprop need derivatives?", style="bold")
    header.append(f"  (activation {lesson.activation}, seed {lesson.seed})", style="dim")
    network = Text(f"The network:\n  x → z⁽¹⁾ = w·x + b⁽¹⁾ → a⁽¹⁾ = {f}(z⁽¹⁾) → o = w⁽²⁾·a⁽¹⁾ + b⁽²⁾\n")
    network.append(f"  L = ½(t − o)²,  x = {num.pretty(net.input[0])},  t = {num.pretty(net.target[0])},  "
                   f"b⁽¹⁾ = {num.pretty(first.bias[0])},  w⁽²⁾ = {num.pretty(second.weights[0][0])},  "
                   f"b⁽²⁾ = {num.pretty(second.bias[0])}\n")
    network.append(f"  the weight we study: w = {w} = {num.pretty(lesson.weight)}\n")
    network.append(f"  forward pass: z⁽¹⁾ = {num.pretty(lesson.z)},  a⁽¹⁾ = {num.pretty(n.a[1][0])},  "
                   f"o = {num.pretty(n.a[2][0])},  L = {num.pretty(lesson.loss)}")

    nudges = Table(title="1. Nudge w by h and watch the loss", title_justify="left", title_style="bold cyan",
                   box=box.SIMPLE_HEAD, header_style="bold")
    for column in ("h", "L(w+h)", "ratio (L(w+h) − L(w))/h", "|ratio − ∂L/∂w|"):
        nudges.add_column(column, justify="right", no_wrap=True)
    for row in lesson.nudges:
        nudges.add_row(num.pretty(row.h), num.pretty(row.loss, KEY), num.pretty(row.ratio, KEY), num.pretty(row.error, 3))
    if lesson.learns:
        after = Text(f"As h shrinks, the ratio closes in on ∂L/∂w = {num.pretty(d, KEY)}: "
                     "the derivative is the limit of this ratio.")
    else:
        after = Text(f"The ratio is 0 for every h: {lesson.activation} is flat on both sides of its jump, so "
                     f"nudging w leaves the loss at {num.pretty(lesson.loss, KEY)}; ∂L/∂w = 0 "
                     f"(because {f}′ = 0).")

    drawn = Text("The limit, drawn: L as a function of w, the secants from w to w + h of the table, and the "
                 "tangent at w whose slope is ∂L/∂w. As h shrinks, the secants close on the tangent.",
                 style="bold cyan")

    steps = len(lesson.descent) - 1
    ran = f"converged after {steps} steps" if lesson.converged else f"{steps} steps"
    descent = Table(title=f"2. Gradient descent on w: w ← w − η·∂L/∂w, η = {num.pretty(net.learning_rate)}, "
                          f"{ran}", title_justify="left", title_style="bold cyan", box=box.SIMPLE_HEAD,
                    header_style="bold")
    bars, chart = _bars([s.loss for s in lesson.descent])
    for column, right in (("step", True), ("w", True), ("∂L/∂w", True), ("L", True), (chart, False)):
        descent.add_column(column, justify="right" if right else "left", no_wrap=True)
    for k, s in enumerate(lesson.descent):
        descent.add_row(str(k), num.pretty(s.weight), num.pretty(s.gradient), num.pretty(s.loss),
                        Text(bars[k], style="green"))
    start, end = lesson.descent[0], lesson.descent[-1]
    if lesson.learns:
        fell = Text(f"The loss fell from {num.pretty(start.loss)} to {num.pretty(end.loss)} in {steps} steps.")
        if lesson.converged:
            fell.append(f" It is below {num.pretty(CONVERGED)} now: descent has converged (w has reached the "
                        "bottom of the valley), so further steps would change nothing worth printing.")
        way = "increasing" if d < 0 else "decreasing"
        why = Text(f"Why: the derivative ∂L/∂w says which way and how fast the loss changes when w moves: here it "
                   f"is {num.pretty(d)}, so {way} w lowers L, by about {num.pretty(abs(d))} per unit of w. "
                   "Gradient descent follows it downhill, each step moving w against the derivative, and that is "
                   "why backprop computes ∂L/∂w for every weight.", style="bold")
    else:
        fell = Text(f"w stays at {num.pretty(end.weight)} and the loss stays at {num.pretty(end.loss)}: "
                    "descent does not move.")
        why = Text(f"Why: the derivative says which way and how fast the loss changes when w moves, and here it "
                   f"is 0, because {f}′(z) = 0 wherever it is defined. Gradient descent can only follow the "
                   "derivative, so with a step activation nothing learns; that is why networks use activations "
                   "with a slope, like sigmoid, tanh or relu.", style="bold")
    return Group(header, Text(""), network, Text(""), _chain(lesson), Text(""), nudges, after, Text(""), drawn,
                 LimitPlot(lesson, plot_width), Text(""), descent, fell, Text(""), why)


def _chain(lesson: Lesson) -> RenderableType:
    """Backprop's ∂L/∂w, factor by factor: each with its value and what it means, f′ by the
    learner's own rule, the product, and which factor makes the gradient small."""
    factors = lesson.factors
    title = Text("Backprop, by the chain rule, factor by factor:", style="bold cyan")
    title.append("\n  ∂L/∂w = "
                 + "·".join(f"({f.symbol})" if " " in f.symbol else f.symbol for f in factors) + " = ")
    title.append(num.pretty(lesson.derivative, KEY), style="bold")
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    table.add_column("factor", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("what it means")
    for factor in factors:
        table.add_row(factor.symbol, num.pretty(factor.value), factor.meaning)
    slope = factors[2]
    notes = Text(f"  By the rule, with z⁽¹⁾ = {num.pretty(lesson.z)} put in: {slope.working}\n")
    notes.append(f"  The product: {num.product([f.value for f in factors])} = {num.pretty(lesson.derivative)} = ∂L/∂w.\n")
    small = lesson.small_factor
    if small is None:
        smallest = min(factors, key=lambda f: abs(f.value))
        notes.append(f"  No factor is small (the smallest in size is {smallest.symbol} = {num.pretty(smallest.value)}), "
                     "so the gradient is not small either.")
    else:
        size = "zero" if lesson.derivative == 0 else "small"
        notes.append(f"  {small.symbol} = {num.pretty(small.value)} is what makes ∂L/∂w {size}: {small.small_because}.",
                     style="bold")
    return Group(title, table, notes)


def plot(lesson: Lesson, path: Path) -> None:
    """The activation with its tangent at z, the loss along the descent, and L(w) with the
    secants and the tangent, as a PNG."""
    save_png(figure_of(lesson), path)


def _limit(axes, lesson: Lesson) -> None:
    """L(w) with the secants of the nudge table and the tangent at w: one matplotlib line each."""
    curve = lesson.curve(121)
    ws = [float(w) for w, _ in curve]
    axes.plot(ws, [float(loss) for _, loss in curve], color="black", linewidth=2, label="L(w)")
    w0, l0 = lesson.weight, lesson.loss
    for line in lines_of(lesson):
        axes.plot(ws, [float(l0 + line.slope * (w - w0)) for w, _ in curve],
                  "-" if line.mark == "T" else ":", label=line.label)
    axes.scatter([float(w0)], [float(l0)], color="black", zorder=3)
    low, high = min(float(loss) for _, loss in curve), max(float(loss) for _, loss in curve)
    pad = (high - low) * 0.05 or 0.05
    axes.set_ylim(low - pad, high + pad)
    axes.set_xlabel("w")
    axes.set_ylabel("loss L")
    axes.set_title("Secants from w to w + h close on the tangent")
    axes.legend(fontsize="x-small")


def figure_of(lesson: Lesson):
    """The plot's matplotlib figure (the caller closes it)."""
    plt = pyplot()
    import sympy as sp
    from matplotlib.ticker import MaxNLocator

    act = activations.ELEMENTWISE[lesson.activation]
    z0 = lesson.z
    zs = [z0 + sp.Rational(k - 60, 20) for k in range(121)]
    values = [float(act(sp.Float(v, 30))) for v in zs]
    slope, height = lesson.slope, act(z0)
    tangent = [float(height + slope * (v - z0)) for v in zs]

    figure, (left, right, limit) = plt.subplots(1, 3, figsize=(15, 4))
    left.plot([float(v) for v in zs], values, label=f"{lesson.activation}(z)")
    left.plot([float(v) for v in zs], tangent, "--", label=f"tangent at z = {num.pretty(z0)}, slope {num.pretty(slope)}")
    left.plot([float(z0)], [float(height)], "o", color="black")
    left.set_xlabel("z")
    left.set_title("The activation and its derivative (the tangent's slope)")
    left.legend(fontsize="small")
    losses = [float(s.loss) for s in lesson.descent]
    right.plot(range(len(losses)), losses, "o-")
    right.set_xlabel("gradient descent step")
    right.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole: no tick at step 2.5
    right.set_ylabel("loss L")
    right.set_title(f"The loss, with ∂L/∂w = {num.pretty(lesson.derivative)} at the start")
    _limit(limit, lesson)
    figure.tight_layout()
    return figure

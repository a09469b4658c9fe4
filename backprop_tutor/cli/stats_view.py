"""`tutor stats` on screen (a table, mastery over time as one line of bars per skill, what to do
next) and on paper (mastery per skill over time, a matplotlib PNG).

The chart in the terminal is a row of block characters per skill rather than a plotted chart
(plotext and the like): eleven skills' lines crossing in one 80-column plot cannot be told apart,
a row each can; and block characters are text, the same piped as in a terminal, with no
dependency to install.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

import click

from backprop_tutor.cli.common import count as count_of, print_rows, pyplot, save_png, terminal_console
from backprop_tutor.learner.mastery import MASTERED

Trajectories = dict[str, list[tuple[datetime, float]]]

CHART_WIDTH = 40  # bars per skill at most: with the longest skill name and the figures, 80 columns
BARS = "▁▂▃▄▅▆▇"  # P(known) below MASTERED, in seven equal steps
FULL = "█"  # mastered


def _percent(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _minute(iso: str | None, never: str) -> str:
    return never if iso is None else iso[:16]  # 2026-12-03T14:00: one word, to the minute


def print_stats(data: dict, trajectories: Trajectories, path: Path) -> None:
    since = f" since {data['since'][:16]}" if data["since"] else ""
    if not data["attempts"] and not data["problems"]:  # a part shown with `solution` is practice too
        saved = f"in {path}{since}" if since else f"yet in {path}"
        click.echo(f"No practice saved {saved}. Start with: tutor practice")
        return
    out = terminal_console()
    say = click.echo if out is None else out.print  # in a terminal, wrapped between words
    # A command the learner may copy, or a line of the chart, is never broken across lines: it
    # gets a line of its own, unwrapped, under the sentence (which may wrap between words).
    whole = click.echo if out is None else functools.partial(out.print, no_wrap=True, overflow="ignore", crop=False)
    say(f"{count_of(data['attempts'], 'attempt')}{since}, {data['correct']} correct "
        f"({_percent(data['accuracy'])}); {count_of(data['problems'], 'problem')} "
        f"practised; current streak: {data['streak']} correct in a row.")
    columns = ("skill", "correct", "mastery", "review due", "last practised")
    cells = [[name, f"{s['correct']}/{s['attempts']}", _percent(s["mastery"]) + (" ✓" if s["mastered"] else ""),
              _minute(s["due"], "—"), _minute(s["last_practised"], "never")]
             for name, s in data["skills"].items()]
    print_rows(columns, cells, right=("correct", "mastery"), whole=columns)  # 76 wide
    say(f"Mastery is the probability that you know the skill; ✓ from {MASTERED:.0%}.")
    chart = chart_lines(trajectories)
    if chart:
        say(f"Mastery over time, one bar per answer ({FULL} mastered):")
        for line in chart:
            whole(line)
    if data["due"]:
        say(f"Due for review: {', '.join(data['due'])}. This practises them:")
        whole("  tutor practice --review")
    if data["next"]:
        say(f"Work on next: {', '.join(data['next'])}. To practise the first:")
        whole(f"  tutor practice --skill {data['next'][0]}")


def chart_lines(trajectories: Trajectories) -> list[str]:
    """One line per skill with a trajectory: its name, a bar per answer (the last CHART_WIDTH
    answers when there are more, so the line ends at today) and where it started and ends."""
    width = max((len(skill) for skill in trajectories), default=0)
    lines = []
    for skill, points in sorted(trajectories.items()):
        values = [p for _, p in points]
        shown = values[-CHART_WIDTH:]
        lines.append(f"{skill.ljust(width)}  {''.join(map(bar, shown)).ljust(CHART_WIDTH)}  "
                     f"{_percent(values[0]):>4} → {_percent(values[-1]):>4}")
    return lines


def bar(p: float) -> str:
    return FULL if p >= MASTERED else BARS[min(len(BARS) - 1, int(p / MASTERED * len(BARS)))]


def plot(trajectories: Trajectories, path: Path, since: str | None) -> None:
    """Mastery per skill over time as a PNG: a step line per skill, the MASTERED line dashed."""
    plt = pyplot()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    figure, axes = plt.subplots(figsize=(9, 5))
    for skill, points in sorted(trajectories.items()):
        axes.step([t for t, _ in points], [p for _, p in points], where="post", marker=".", label=skill)
    axes.axhline(MASTERED, color="black", linestyle="--", linewidth=1)
    axes.annotate(f"mastered ({MASTERED:.0%})", (0, MASTERED), xycoords=("axes fraction", "data"),
                  xytext=(4, 4), textcoords="offset points", fontsize="small")
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_ylim(0, 1.02)
    axes.set_ylabel("P(knows the skill)")
    axes.set_title("Mastery per skill" + (f" since {since[:16]}" if since else "") + " (UTC)")
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    save_png(figure, path)

"""A Report (worked/report.py) as rich renderables for the terminal.

`render_rich` builds renderables and leaves printing to the caller (one Console in the CLI),
which also decides colour: none when piped or when NO_COLOR is set.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from backprop_tutor.worked.report import Report


def render_rich(report: Report) -> RenderableType:
    parts: list[RenderableType] = [
        Panel(Text("\n".join(report.summary)), title=Text(report.title, style="bold"), title_align="left",
              box=box.ROUNDED, expand=False)
    ]
    figure = report.figure
    if figure and figure.note:
        parts.append(Text(figure.note, style="dim"))
    if figure and figure.lines:
        parts.append(Text(figure.title, style="bold cyan"))
        parts.append(Text("\n".join(figure.lines), no_wrap=True, overflow="ignore"))
    for table in report.shown_tables():
        out = RichTable(title=table.title, title_justify="left", title_style="bold cyan", box=box.SIMPLE_HEAD,
                        header_style="bold")
        for i, column in enumerate(table.columns):
            right = table.numeric[i] if i < len(table.numeric) else False
            # Numbers never wrap (a split decimal misleads); prose columns fold to fit the terminal.
            out.add_column(column, justify="right" if right else "left", no_wrap=right, overflow="fold")
        for row in table.rows:
            out.add_row(*[cell.text for cell in row])
        parts.append(out)
    parts.append(Text("Worked solution", style="bold underline"))
    for number, step in enumerate(report.steps, 1):
        parts.append(Text(f"{number}. {step.title}", style="bold green"))
        parts.append(Padding(Text(step.text), (0, 0, 1, 3)))
    return Group(*parts)

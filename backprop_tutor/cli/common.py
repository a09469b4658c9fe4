"""What every `tutor` command shares: the one-line usage error, the core-error wrapper, the
--bank options and the seed rule. Its own module so cli/app.py and the command modules it
registers (cli/learner.py, cli/homework.py) can all import it without importing each other.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click


class UsageError(click.ClickException):
    """A user's input is wrong: one line, exit code 2."""

    exit_code = 2


def fail_on_tutor_errors(func):
    """Turn the core's exceptions into one-line CLI errors."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from backprop_tutor.errors import TutorError

        try:
            return func(*args, **kwargs)
        except TutorError as e:
            raise UsageError(str(e)) from None

    return wrapper


def bank_options(func):
    """--bank DIR (repeatable) and --only-bank, spelled the same on every command that reads templates."""
    func = click.option("--only-bank", is_flag=True,
                        help="Use only the folders given by --bank / TUTOR_BANK, not the shipped bank.")(func)
    return click.option("--bank", "banks", multiple=True, type=click.Path(file_okay=False, path_type=Path),
                        help="Another folder of YAML templates (repeatable; also TUTOR_BANK).")(func)


def open_bank(banks, only_bank: bool, skip_broken: bool = False):
    """The bank of --bank/--only-bank. With skip_broken (bank list, stats, practice), a broken
    template is one line on stderr and the catalogue goes on without it."""
    from backprop_tutor.bank.folders import Bank

    return Bank.open(banks, only_bank, broken_reporter() if skip_broken else None)


def broken_reporter():
    """Prints each broken template once, however often the catalogue is read in one command."""
    told: set[str] = set()

    def report(error) -> None:
        if str(error) not in told:
            told.add(str(error))
            click.echo(f"skipped  {error}", err=True)

    return report


def drawn_seed(seed: int | None) -> int:
    """The seed to use; a drawn one is printed so the run can be reproduced."""
    if seed is not None:
        return seed
    import secrets

    seed = secrets.randbelow(1_000_000)
    click.echo(f"seed {seed} (repeat with --seed {seed})", err=True)
    return seed


def count(n: int, noun: str) -> str:
    """`1 student`, `3 students`: a number with its noun agreeing (nouns here take an s)."""
    return f"{n} {noun}{'s' * (n != 1)}"


def make_console(prose: bool = False, **options):
    """The CLI's rich Console. Markup, emoji codes and highlighting are off: prompts, titles, paths
    and answers come from templates, files and learners, and a "[x]" or ":up:" in them must print
    as written (rich would swallow the one and draw the other); our own styling is applied as Text
    styles. Colour still follows the terminal: none when piped or when NO_COLOR is set.

    `prose`: when piped, rich does not wrap at all and each long line is wrapped as prose instead
    (cli/plaintext.py: between words only), so a formula in it is never broken."""
    from rich.console import Console

    console = Console(markup=False, emoji=False, highlight=False, **options)
    if not console.is_terminal:
        # Piped or redirected, rich still pads table cells and wrapped lines to the width with
        # spaces; a file or a pipe gets each line without them.
        if prose:
            console = Console(markup=False, emoji=False, highlight=False, **{**options, "width": UNWRAPPED})
        console.file = TrimmedLines(console.file, PROSE_WIDTH if prose else None)
    return console


PROSE_WIDTH = 80
UNWRAPPED = 10_000  # wide enough that rich breaks no line of ours


class TrimmedLines:
    """A text stream that drops the spaces at the end of every line written through it. A line
    still being written (a prompt, before the learner types) is passed on when flushed, its end
    spaces held back until something other than the line's end follows them."""

    def __init__(self, stream, width: int | None = None):
        self.stream = stream
        self.width = width  # wrap longer lines as prose (between words only); None: leave them
        self.pending = ""  # the unfinished line, not yet written
        self.held = ""  # spaces at the end of a flushed unfinished line

    def write(self, text: str) -> int:
        *ended, self.pending = (self.pending + text).split("\n")
        for line in ended:
            for part in self._wrapped(line):
                self._emit(part)
                self.stream.write("\n")
                self.held = ""
        return len(text)

    def _wrapped(self, line: str) -> list[str]:
        line = line.rstrip(" ")  # rich pads some lines to the (unwrapped) width
        body = line.lstrip(" ")
        if self.width is None or len(line) <= self.width or "  " in body:
            return [line]  # short, or aligned in columns (a table row, two formulas side by side)
        from backprop_tutor.cli.plaintext import wrap_prose

        return wrap_prose(body, self.width, " " * (len(line) - len(body)))

    def flush(self) -> None:
        if self.pending:
            self._emit(self.pending)
            self.pending = ""
        self.stream.flush()

    def _emit(self, part: str) -> None:
        """Write `part` of the current line, holding back its end spaces."""
        shown = part.rstrip(" ")
        if shown:
            self.stream.write(self.held + shown)
            self.held = ""
        self.held += part[len(shown):]

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name):
        return getattr(self.stream, name)


def print_rows(columns: tuple[str, ...], cells: list[list[str]], right: tuple[str, ...] = (),
               whole: tuple[str, ...] = (), beneath: dict[str, str] | None = None) -> None:
    """A table: rich in a terminal; piped, one aligned row per line, for grep and cut.

    In the terminal, a cell of a `whole` column (an id or a date, typed back or read as one
    token) is never wrapped; the other columns wrap between words, and fold a word only when it
    is longer than its column (never "…"). `beneath` = {column: above} shows that column's cell
    on a dim line headed "column:" under the `above` cell instead of beside it, so the ids, a title and its
    skills fit in 80 columns. Piped, every column is beside the others, whole."""
    out = terminal_console()
    if out is None:
        widths = [max(len(c) for c in column) for column in zip(columns, *cells)]
        for line in [list(columns), *cells]:
            click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    beneath = beneath or {}
    # collapse_padding and no edges: the gaps between columns are two spaces, the most width
    # left for the text at 80 columns
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", collapse_padding=True, pad_edge=False, show_edge=False)
    shown = [c for c in columns if c not in beneath]
    for column in shown:
        heading = " · ".join([column, *(below for below, above in beneath.items() if above == column)])
        table.add_column(heading, justify="right" if column in right else "left", no_wrap=column in whole,
                         overflow="fold")
    for line in cells:
        row = dict(zip(columns, line))
        texts = {column: Text(row[column]) for column in shown}
        for below, above in beneath.items():
            # labelled, not only dim: under NO_COLOR dimness is all that would tell it from the title
            texts[above].append(f"\n{below}: {row[below]}", style="dim")
        table.add_row(*(texts[column] for column in shown))
    out.print(table)


def terminal_console():
    """make_console() when stdout is a terminal (as rich decides), else None: the caller prints
    plain lines. The plain case is settled without importing rich when stdout is not a tty and
    nothing (FORCE_COLOR, TTY_COMPATIBLE) tells rich otherwise; that import is a good part of
    the time `tutor bank list | grep …` takes."""
    if "FORCE_COLOR" not in os.environ and "TTY_COMPATIBLE" not in os.environ:
        isatty = getattr(sys.stdout, "isatty", None)
        try:
            if isatty is None or not isatty():
                return None
        except ValueError:  # a closed stdout: rich says no terminal too
            return None
    out = make_console()
    return out if out.is_terminal else None


def pyplot():
    """matplotlib's pyplot, drawing to files (Agg: no window, the same PNG on every machine);
    a TutorError saying how to install it when it is missing."""
    from backprop_tutor.errors import TutorError

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TutorError("--plot needs matplotlib: pip install 'backprop-tutor[plot]' (or pip install matplotlib)") from None
    return plt


def save_png(figure, path: Path) -> None:
    """`figure` written to `path` as a PNG, then closed; a path that cannot be written is one line."""
    from backprop_tutor.errors import TutorError

    try:
        figure.savefig(path, format="png", dpi=100)
    except OSError as e:
        raise TutorError(f"--plot {path}: cannot write ({e.strerror})") from None
    finally:
        pyplot().close(figure)

"""The learner's commands: `tutor practice`, `tutor stats`, `tutor why`.

Registered on the `tutor` group at the end of cli/app.py. This module does not import cli/app.py
(app.py imports it, and would then load it half-made); what the commands share comes from
cli/common.py.
Engine imports stay inside the commands so `tutor --help` stays fast.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from backprop_tutor.cli.common import UsageError, bank_options, drawn_seed as _seed, make_console
from backprop_tutor.cli.common import fail_on_tutor_errors as _fail_on_tutor_errors
from backprop_tutor.cli.common import open_bank as _open_bank


def db_option(func):
    return click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path),
                        help="The progress file (SQLite). Default: TUTOR_DB, else progress.sqlite3 in your "
                             "user data folder.")(func)


def _terminal_input(console, history: Path | None = None):
    """input() with line editing and history (readline) when a person is typing; the history
    is kept between sessions in `history` (beside the progress file), so ↑ finds yesterday's
    answers too. Answers read from a pipe get their prompt through `console`, so a piped
    transcript has no prompt's space left at the end of a line."""
    if not sys.stdin.isatty():
        def piped(prompt: str) -> str:
            console.print(prompt, end="", soft_wrap=True)
            console.file.flush()
            return input()

        return piped
    try:
        import readline  # importing it is what gives input() editing and history
    except ImportError:  # Windows without pyreadline: plain input still works
        return input
    if history is not None:
        import atexit

        load_history(readline, history)
        readline.set_history_length(1000)
        atexit.register(save_history, readline, history)
    return input


def load_history(readline, history: Path) -> None:
    """The answers of earlier sessions, from a regular file only: a link is not followed and a
    pipe or device is not opened (reading one would wait for ever); then no history."""
    import stat

    try:
        if stat.S_ISREG(history.lstat().st_mode):
            readline.read_history_file(history)
    except OSError:
        pass  # no history yet, or unreadable: start afresh


def save_history(readline, history: Path) -> None:
    """The history written as the progress store is kept safe: a new file of the learner's own
    (0600) beside it, moved into place. A link at `history` is replaced, never written through,
    so a link planted there cannot make practice overwrite the file it points to."""
    import os
    import tempfile

    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{history.name}.", dir=history.parent)
    except OSError:
        return
    os.close(handle)
    try:
        readline.write_history_file(temporary)
        os.replace(temporary, history)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


@click.command()
@click.option("--template", "-t", help="Practise this template (see `tutor bank list`); default: chosen for you.")
@click.option("--skill", "--topic", "skill", help="Only templates that practise this skill, e.g. hidden_delta.")
@click.option("--level", type=click.IntRange(1, 3), help="Only templates of this level (1–3).")
@click.option("--count", "-n", type=click.IntRange(1), default=5, show_default=True, help="How many problems.")
@click.option("--seed", type=click.IntRange(0),
              help="Problem n uses seed + n (drawn and printed when left out).")
@click.option("--review", is_flag=True,
              help="Only the skills due for review; when none is, say when the next one is due.")
@db_option
@bank_options
@_fail_on_tutor_errors
def practice(template, skill, level, count, seed, review, db, banks, only_bank) -> None:
    """Practise in the terminal: each part is checked, mistakes are explained, progress is saved.

    At the prompt type your answer (0.25, 3/4, [0.1, -0.2], 1 - tanh(z)^2 ...), or
    hint (the next of three hints), solution (the worked step), skip, or quit. Three attempts
    per part; an answer that cannot be read, or one you tried already (0.1 again, or 1/10),
    costs none. After each problem comes its worked
    solution, with the parts you missed highlighted. Without --template, the next problem
    reviews the skill most overdue for review (spaced repetition: a skill you missed comes back
    at the next problem, one you know after days), else practises your least-mastered skill.
    Every graded answer is saved at once; Ctrl-D or Ctrl-C leaves and prints the score.

    \b
    Examples:
      tutor practice
      tutor practice --review
      tutor practice --skill hidden_delta --count 3
      tutor practice --template mlp_2_2_1 --seed 7
      tutor practice --level 1 --db ./my-progress.sqlite3
    """
    from backprop_tutor.cli import practice_view
    from backprop_tutor.learner.practice import Session, plan
    from backprop_tutor.learner.store import Store, default_path

    if template is not None and (skill is not None or level is not None or review):
        raise UsageError("--template picks the problem itself; leave out --skill, --level and --review with it")
    bank = _open_bank(banks, only_bank, skip_broken=True)
    if template is not None:
        bank.path(template)  # an unknown id fails here, before the session starts
    else:
        from backprop_tutor.learner.practice import select_templates

        chosen = select_templates(bank.entries(), skill, level)  # the catalogue: no SymPy before the first problem
    path = db or default_path()
    if review and _nothing_due(path, sorted({s for t in chosen for s in t.skills})):
        return
    seed = _seed(seed)
    console = make_console(prose=True)
    ask = _terminal_input(console, path.with_name("practice-history"))
    view = practice_view if console.is_terminal else practice_view.Unboxed()  # piped: a transcript
    with Store.open(path) as store:
        store.start_session(seed)
        session = Session(store, ask, console.print, view)
        session.run(plan(bank, store, seed, count, template, skill, level, review), count)


def _nothing_due(path: Path, skills: list[str]) -> bool:
    """For --review: True, after one line saying so, when none of `skills` is due for review now."""
    from backprop_tutor.learner.progress import History, utc_now
    from backprop_tutor.learner.reviews import due_now, next_due
    from backprop_tutor.learner.store import Store

    history = History(trajectories={}, due={})
    if path.exists():
        with Store.open(path) as store:
            history = History.of(store.attempts(), store.outcomes())
    now = utc_now()
    if any(skill in skills for skill in due_now(history.due, now)):
        return False
    coming = next_due(history.due, now, skills)
    if coming is None:
        click.echo("No reviews due: a skill is scheduled for review once you have practised it. "
                   "Start with: tutor practice")
    else:
        click.echo(f"No reviews due. The next one is due {coming[1]:%Y-%m-%d %H:%M} UTC (skill {coming[0]}).")
    return True


def _check_png(plot_file: Path | None) -> None:
    if plot_file is not None and plot_file.suffix.lower() != ".png":
        raise UsageError(f"--plot {plot_file}: the plot is a PNG; give a file name ending in .png")


SINCE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def since_start(value: str, now):
    """--since as an aware UTC datetime: a time before `now` (Nh, Nd, Nw: hours, days, weeks) or a
    date or date-time (ISO 8601, UTC unless it names its zone); one line when it is neither."""
    from datetime import datetime, timedelta

    from backprop_tutor.learner.store import utc

    text = value.strip()
    try:
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses
        if re.fullmatch(r"[0-9]+[hdwHDW]", text):
            return now - timedelta(**{SINCE_UNITS[text[-1].lower()]: int(text[:-1])})
        return utc(datetime.fromisoformat(text))
    except OverflowError:  # 99999999d, or a date at the edge of the calendar moved to UTC
        raise UsageError(f"--since {value}: outside the calendar (years 1 to 9999)") from None
    except ValueError:
        raise UsageError(f"--since {value}: give a time ago (7d, 12h, 2w) or a date (2026-11-01)") from None


@click.command()
@db_option
@click.option("--since", metavar="WHEN",
              help="Count and chart only what was practised since then: 7d, 12h, 2w, or a date (2026-11-01, UTC). "
                   "Mastery and review dates still come from your whole history.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw mastery per skill over time to this PNG (needs matplotlib).")
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Output format.")
@bank_options
@_fail_on_tutor_errors
def stats(db, since, plot_file, fmt, banks, only_bank) -> None:
    """Your progress per skill: mastery, when each skill is due for review, what to work on next.

    Mastery is the probability that you know a skill, updated after every graded answer
    (Bayesian knowledge tracing): a hint or a revealed solution counts as not knowing it yet;
    from 95 % a skill counts as mastered. Review dates come from a spaced-repetition scheduler
    (FSRS) and your answers at each skill. Below the table, one bar per answer shows how mastery
    moved.

    \b
    Examples:
      tutor stats
      tutor stats --since 7d
      tutor stats --plot progress.png
      tutor stats --format json
      tutor stats --db ./my-progress.sqlite3
    """
    from backprop_tutor.learner.progress import History, summary, utc_now
    from backprop_tutor.learner.store import Store, default_path

    _check_png(plot_file)
    now = utc_now()
    start = None if since is None else since_start(since, now)
    path = db if db is not None else default_path()
    known = sorted({s for e in _open_bank(banks, only_bank, skip_broken=True).entries() for s in e.skills})  # the catalogue: no SymPy
    attempts, outcomes = [], []
    if path.exists():
        with Store.open(path) as store:
            attempts, outcomes = store.attempts(), store.outcomes()
    history = History.of(attempts, outcomes)
    data = summary(history, attempts, outcomes, now, known, start)
    shown = history.trajectories_since(start)
    if plot_file is not None:
        from backprop_tutor.cli.stats_view import plot

        if not shown:
            raise UsageError(f"--plot: no answers saved{' since ' + data['since'][:16] if start else ''} "
                             f"in {path}: nothing to draw")
        plot(shown, plot_file, data["since"])
        click.echo(f"wrote {plot_file}", err=True)
    if fmt == "json":
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from backprop_tutor.cli.stats_view import print_stats

    print_stats(data, shown, path)


def _activations() -> tuple[str, ...]:
    # The names without importing SymPy (kept equal to why.CHOICES by a test).
    return ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "silu", "gelu", "gelu_tanh",
            "step")


@click.command()
@click.option("--activation", "-a", type=click.Choice(_activations()), default="tanh", show_default=True,
              help="The hidden activation; step shows why a zero derivative cannot learn.")
@click.option("--seed", type=click.IntRange(0), help="The network's values (drawn and printed when left out).")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the activation with its tangent, the falling loss, and L(w) with the secants and "
                   "tangent to this PNG (needs matplotlib).")
@click.option("--what-if", "what_if", is_flag=True,
              help="Run the same network under changed rules beside the real descent: f′ dropped, a saturated "
                   "unit, η too large and too small, and nudging every weight against backprop.")
@click.option("--vanishing", is_flag=True,
              help="The vanishing gradient: a chain of 8 sigmoid units against the same chain of relus, "
                   "|∂L/∂w| layer by layer.")
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Output format.")
@_fail_on_tutor_errors
def why(activation, seed, plot_file, what_if, vanishing, fmt) -> None:
    """Why backprop needs derivatives, answered with numbers.

    A small network, one weight w and the loss L: ∂L/∂w written as its chain-rule factors
    (o − t)·w⁽²⁾·f′(z)·x, each with its value and meaning, and which one makes it small; nudge w
    by h = 0.1, 0.01, 0.001, 0.0001 and watch (L(w+h) − L(w))/h become ∂L/∂w, drawn as the
    secants of L(w) closing on its tangent; then run gradient descent, w ← w − η·∂L/∂w, and
    watch the loss fall. With --activation step the derivative is 0, and nothing moves.

    \b
    Examples:
      tutor why
      tutor why --activation sigmoid --seed 3
      tutor why --activation step
      tutor why --seed 3 --plot why.png
      tutor why --format json
      tutor why --what-if
      tutor why --vanishing --seed 1
    """
    if vanishing:
        return _vanishing(what_if, seed, plot_file, fmt)
    if what_if:
        return _what_if(activation, seed, plot_file, fmt)
    from backprop_tutor.learner.why import lesson

    _check_png(plot_file)
    result = lesson(activation, _seed(seed))
    if plot_file is not None:
        from backprop_tutor.cli.why_view import plot

        plot(result, plot_file)
        click.echo(f"wrote {plot_file}", err=True)
    if fmt == "json":
        import json

        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    from backprop_tutor.cli.common import PROSE_WIDTH
    from backprop_tutor.cli.why_view import render

    console = make_console(prose=True)
    # piped, prose lines are not wrapped but the drawing is as wide as prose is wrapped
    console.print(render(result, None if console.is_terminal else PROSE_WIDTH))


def _vanishing(what_if, seed, plot_file, fmt) -> None:
    """`tutor why --vanishing`: learner/vanishing.py's two chains, as text or JSON."""
    if what_if or plot_file is not None:
        raise UsageError("--vanishing is a lesson of its own; leave out --what-if and --plot")
    from backprop_tutor.learner.vanishing import vanishing

    result = vanishing(_seed(seed))
    if fmt == "json":
        import json

        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    from backprop_tutor.cli.vanishing_view import render

    make_console(prose=True).print(render(result))


def _what_if(activation, seed, plot_file, fmt) -> None:
    """`tutor why --what-if`: the experiments of learner/what_if.py, as text or JSON."""
    from backprop_tutor.learner.what_if import check_activation, what_if

    if plot_file is not None:
        raise UsageError("--plot draws the lesson itself; leave it out with --what-if")
    check_activation(activation)  # before a seed is drawn and printed for nothing
    result = what_if(activation, _seed(seed))
    if fmt == "json":
        import json

        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    from backprop_tutor.cli.what_if_view import render

    make_console(prose=True).print(render(result))

"""`tutor progress export` and `tutor progress import`: a learner's history moved between
machines. The file is learner/transfer.py's, the merge learner/store.py's; this is the shell.

Registered on the `tutor` group at the end of cli/app.py. Nothing here imports SymPy or rich.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backprop_tutor.cli.common import UsageError, count, fail_on_tutor_errors
from backprop_tutor.cli.learner import db_option


@click.group()
def progress() -> None:
    """Move your progress to another machine: export it to a file there, import it here.

    An import merges: what the progress file holds already is kept, and only records it does
    not hold are added, so importing a file twice, or two machines' files into each other,
    counts nothing twice. `tutor stats` then shows both histories as one, in the order they
    happened. The file format is a public contract (docs/formats.md, "Progress export").

    \b
    Examples:
      tutor progress export progress.json               # on the old machine
      tutor progress import progress.json               # on the new one
      tutor progress export - --db ./my-progress.sqlite3 > progress.json
    """


@progress.command("export")
@click.argument("file", metavar="FILE.json", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--force", is_flag=True, help="Replace FILE.json if it exists.")
@db_option
@fail_on_tutor_errors
def export(file: Path, force: bool, db: Path | None) -> None:
    """Write every session, attempt and outcome of your progress file to FILE.json (- for
    standard output). An existing file is kept unless --force is given.

    \b
    Examples:
      tutor progress export progress.json
      tutor progress export progress.json --force
      tutor progress export - --db ./my-progress.sqlite3
    """
    from datetime import datetime, timezone

    from backprop_tutor.learner.store import Store, default_path
    from backprop_tutor.learner.transfer import export_text, write_export

    path = db if db is not None else default_path()
    if not path.exists():  # Store.open would create an empty file: a misspelt --db should not
        raise UsageError(f"{path}: no progress file here, so nothing to export; name yours with --db PATH")
    with Store.open(path) as store:
        history = store.history()
    text = export_text(history, datetime.now(timezone.utc))
    to_stdout = str(file) == "-"
    if to_stdout:
        click.echo(text, nl=False)
    else:
        write_export(file, text, force)
    sizes = {table: len(records) for table, records in history.items()}
    # on stderr: with -, standard output is the file and nothing else
    click.echo(f"Exported {_counted(sizes['attempts'], sizes['outcomes'], sizes['sessions'])} from {path} to "
               f"{'standard output' if to_stdout else file}.", err=True)


@progress.command("import")
@click.argument("file", metavar="FILE.json", type=click.Path(path_type=Path, allow_dash=True))  # read_export checks it
@db_option
@fail_on_tutor_errors
def import_(file: Path, db: Path | None) -> None:
    """Merge FILE.json (- for standard input), written by `tutor progress export`, into your
    progress file (made if there is none). Records already there are skipped; the rest go in as one transaction, so an
    import stopped half-way (Ctrl-C) adds nothing. A file that is not a progress export, or has
    any field wrong, is refused as a whole, with the record and field named.

    \b
    Examples:
      tutor progress import progress.json
      tutor progress import progress.json --db ./my-progress.sqlite3
      ssh old-laptop tutor progress export - | tutor progress import -
    """
    from backprop_tutor.learner.store import Store, default_path
    from backprop_tutor.learner.transfer import read_export

    history = read_export(file, sys.stdin.buffer)  # all of it checked before the store is opened
    path = db if db is not None else default_path()
    with Store.open(path) as store:
        counts = store.merge(history)
    (attempts, attempts_here), (outcomes, outcomes_here) = counts["attempts"], counts["outcomes"]
    click.echo(f"Imported {_counted(attempts, outcomes)} from {'standard input' if str(file) == '-' else file} into {path} "
               f"({attempts_here + outcomes_here} already there).")


def _counted(attempts: int, outcomes: int, sessions: int | None = None) -> str:
    """`3 attempts and 2 outcomes`, or `3 attempts, 2 outcomes and 1 session`."""
    parts = [count(attempts, "attempt"), count(outcomes, "outcome")]
    if sessions is not None:
        parts.append(count(sessions, "session"))
    return ", ".join(parts[:-1]) + " and " + parts[-1]

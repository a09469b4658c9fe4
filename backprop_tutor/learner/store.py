"""The progress store: every graded attempt and every finished part, in SQLite.

One file per learner, in the user data folder (platformdirs) unless --db PATH or TUTOR_DB names
another. Each write is its own transaction, committed before the session asks anything else,
so a killed terminal loses nothing. WAL mode and a busy timeout let two sessions write at once.
The schema is versioned with PRAGMA user_version; MIGRATIONS[i] takes version i to i + 1, and
a file that cannot be read becomes one StoreError naming the file and the way out.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

from backprop_tutor.errors import TutorError
from backprop_tutor.grading.result import Status

ENV = "TUTOR_DB"
FILE_NAME = "progress.sqlite3"
BUSY_TIMEOUT_MS = 10_000

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 0 → 1: sessions and graded attempts
        """CREATE TABLE sessions (
               id INTEGER PRIMARY KEY,
               started TEXT NOT NULL,
               seed INTEGER)""",
        """CREATE TABLE attempts (
               id INTEGER PRIMARY KEY,
               session INTEGER REFERENCES sessions(id),
               at TEXT NOT NULL,
               template TEXT NOT NULL,
               seed INTEGER NOT NULL,
               part TEXT NOT NULL,
               skill TEXT NOT NULL,
               answer TEXT NOT NULL,
               status TEXT NOT NULL CHECK (status IN ('correct', 'incorrect')),
               score REAL NOT NULL,
               points REAL NOT NULL,
               diagnosis TEXT)""",
    ),
    (  # 1 → 2: how each part ended (for revisits of old mistakes), indexes for stats
        """CREATE TABLE outcomes (
               id INTEGER PRIMARY KEY,
               session INTEGER REFERENCES sessions(id),
               at TEXT NOT NULL,
               template TEXT NOT NULL,
               seed INTEGER NOT NULL,
               part TEXT NOT NULL,
               skill TEXT NOT NULL,
               outcome TEXT NOT NULL CHECK (outcome IN ('correct', 'missed', 'revealed', 'skipped')),
               attempts INTEGER NOT NULL,
               hints INTEGER NOT NULL,
               score REAL NOT NULL,
               points REAL NOT NULL)""",
        "CREATE INDEX attempts_by_skill ON attempts(skill)",
        "CREATE INDEX outcomes_by_template ON outcomes(template)",
    ),
)
VERSION = len(MIGRATIONS)


class StoreError(TutorError):
    """The progress file cannot be opened, read or written."""


class PartOutcome(str, Enum):
    """How a practised part ended."""

    CORRECT = "correct"
    MISSED = "missed"  # three wrong attempts
    REVEALED = "revealed"  # asked for the solution
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Attempt:
    template: str
    seed: int
    part: str
    skill: str
    answer: str
    status: Status  # correct or incorrect (an invalid answer is not an attempt)
    score: float
    points: float
    diagnosis: str | None = None
    at: str = ""


@dataclass(frozen=True)
class Outcome:
    template: str
    seed: int
    part: str
    skill: str
    outcome: PartOutcome
    attempts: int
    hints: int
    score: float
    points: float
    session: int | None = None
    at: str = ""


def default_path() -> Path:
    """TUTOR_DB, else progress.sqlite3 in the user data folder."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("backprop-tutor")) / FILE_NAME


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """An open progress file. Use `Store.open(path)`; close it (or use `with`) when done."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection
        self.session: int | None = None

    @classmethod
    def open(cls, path: str | Path | None = None) -> Store:
        path = Path(path) if path is not None else default_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _unusable(path, f"cannot create its folder: {e.strerror}") from None
        try:
            # isolation_level=None: autocommit; each write below is one committed transaction
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as e:
            raise _unusable(path, str(e)) from None
        store = cls(path, connection)
        try:
            store._guard(store._prepare)
        except BaseException:
            connection.close()
            raise
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _guard(self, action, *args):
        try:
            return action(*args)
        except sqlite3.DatabaseError as e:
            raise _unusable(self.path, str(e)) from None

    def _prepare(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self.migrate()

    def version(self) -> int:
        return self._guard(lambda: self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema to VERSION, one migration per transaction. BEGIN IMMEDIATE takes the
        write lock before the version is read, so two sessions opening a new file at once
        cannot both apply the same migration."""
        while True:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                current = self._db.execute("PRAGMA user_version").fetchone()[0]
                if current > VERSION:
                    raise StoreError(f"{self.path}: this progress file was written by a newer backprop-tutor "
                                     f"(schema {current}, this one knows {VERSION}); upgrade, or use --db PATH")
                if current == VERSION:
                    self._db.execute("COMMIT")
                    return
                for statement in MIGRATIONS[current]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {current + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # nothing to roll back: the first statement failed
                raise

    # --- writing ----------------------------------------------------------------------------------

    def start_session(self, seed: int | None) -> int:
        cursor = self._guard(self._db.execute, "INSERT INTO sessions (started, seed) VALUES (?, ?)", (_now(), seed))
        self.session = cursor.lastrowid
        return self.session

    def record_attempt(self, attempt: Attempt) -> None:
        self._insert("attempts", attempt)

    def record_outcome(self, outcome: Outcome) -> None:
        self._insert("outcomes", outcome)

    def _insert(self, table: str, record: Attempt | Outcome) -> None:
        # Columns named by the record's fields: the dataclass is the one place they are spelled.
        values = {**asdict(record), "session": self.session, "at": record.at or _now()}
        values = {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}
        columns = ", ".join(values)
        self._guard(self._db.execute, f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in values)})",
                    values)

    # --- reading ----------------------------------------------------------------------------------

    def attempts(self) -> list[Attempt]:
        return [replace(a, status=Status(a.status)) for a in self._select("attempts", Attempt)]

    def outcomes(self) -> list[Outcome]:
        return [replace(o, outcome=PartOutcome(o.outcome)) for o in self._select("outcomes", Outcome)]

    def _select(self, table: str, record: type):
        columns = ", ".join(f.name for f in fields(record))
        rows = self._guard(lambda: self._db.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall())
        return [record(*row) for row in rows]


def _unusable(path: Path, reason: str) -> StoreError:
    return StoreError(f"{path}: cannot use this progress file ({reason}); move it aside "
                      f"(mv '{path}' '{path}.broken') to start a fresh history, or choose another file with --db PATH")

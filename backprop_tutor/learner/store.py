"""The progress store: every graded attempt and every finished part, in SQLite.

One file per learner, in the user data folder (platformdirs) unless --db PATH or TUTOR_DB names
another. Each write is its own transaction, committed before the session asks anything else,
so a killed terminal loses nothing. WAL mode and a busy timeout let two sessions write at once.
The schema is versioned with PRAGMA user_version; MIGRATIONS[i] takes version i to i + 1, and
a file that cannot be read becomes one StoreError naming the file and the way out.

Every session, attempt and outcome has a uid, the same on every machine it is copied to, so a
history can be exported and merged into another file any number of times without counting
anything twice (`history`, `merge`; the file format is docs/formats.md, "Progress export").
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

from backprop_tutor.errors import TutorError
from backprop_tutor.grading.result import Status

ENV = "TUTOR_DB"
FILE_NAME = "progress.sqlite3"
BUSY_TIMEOUT_MS = 10_000

def _fill_uids(db: sqlite3.Connection) -> None:
    """Migration 3: a uid for every record already there, from its content and how many records
    alike came before it. Deterministic, so two copies of one old file (a file copied to a second
    machine before this version) give each record the same uid, and merge without doubles. The
    content is every column but id, session and uid as the table is at version 2, read as it is
    (not through today's records, which a later version may give more fields)."""
    for table in ("sessions", "attempts", "outcomes"):
        cursor = db.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cursor.description]
        seen: dict[str, int] = {}
        for row in cursor.fetchall():
            record = dict(zip(names, row))
            key = json.dumps([table, *(v for k, v in record.items() if k not in ("id", "session", "uid"))])
            seen[key] = seen.get(key, 0) + 1
            uid = hashlib.sha256(f"{key}#{seen[key]}".encode()).hexdigest()[:32]
            db.execute(f"UPDATE {table} SET uid = ? WHERE id = ?", (uid, record["id"]))


MIGRATIONS: tuple[tuple, ...] = (  # each step SQL, or a function of the connection
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
    (  # 2 → 3: a uid per record, so a history merged into another file twice is counted once
        "ALTER TABLE sessions ADD COLUMN uid TEXT",
        "ALTER TABLE attempts ADD COLUMN uid TEXT",
        "ALTER TABLE outcomes ADD COLUMN uid TEXT",
        _fill_uids,
        "CREATE UNIQUE INDEX sessions_by_uid ON sessions(uid)",
        "CREATE UNIQUE INDEX attempts_by_uid ON attempts(uid)",
        "CREATE UNIQUE INDEX outcomes_by_uid ON outcomes(uid)",
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
    session: int | None = None  # the session's id in this file (set by the store on writing)
    uid: str = ""  # given by the store on writing


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
    uid: str = ""


@dataclass(frozen=True)
class Session:
    started: str
    seed: int | None
    uid: str = ""


# The record each table holds; its fields are the table's columns (besides the id).
RECORDS: dict[str, type] = {"sessions": Session, "attempts": Attempt, "outcomes": Outcome}


# The order they happened in; the id orders records of the same second.
_ORDER = {"sessions": "started, id", "attempts": "at, id", "outcomes": "at, id"}
# A record whose uid is here already is skipped; any other constraint broken is still an error
# (INSERT OR IGNORE would skip a record that breaks a CHECK in silence).
_KNOWN = "ON CONFLICT (uid) DO NOTHING"


def columns(table: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(RECORDS[table]))


def default_path() -> Path:
    """TUTOR_DB, else progress.sqlite3 in the user data folder."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("backprop-tutor")) / FILE_NAME


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def utc(when: datetime) -> datetime:
    """`when` as an aware UTC datetime; one without a zone is UTC, the zone the store writes."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _new_uid() -> str:
    # Random, not a hash of the content: two attempts alike in every field within one second
    # (the resolution of `at`) are still two attempts.
    return uuid.uuid4().hex


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

    @contextmanager
    def _transaction(self):
        """One transaction, committed at the end or rolled back on any exception (Ctrl-C too).
        BEGIN IMMEDIATE takes the write lock first, so what is read inside it stays true."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # nothing to roll back: the first statement failed
            raise

    def migrate(self) -> None:
        """Bring the schema to VERSION, one migration per transaction. The write lock is taken
        before the version is read, so two sessions opening a new file at once cannot both apply
        the same migration."""
        while True:
            with self._transaction():
                current = self._db.execute("PRAGMA user_version").fetchone()[0]
                if current > VERSION:
                    raise StoreError(f"{self.path}: this progress file was written by a newer backprop-tutor "
                                     f"(schema {current}, this one knows {VERSION}); upgrade, or use --db PATH")
                if current == VERSION:
                    return
                for step in MIGRATIONS[current]:
                    step(self._db) if callable(step) else self._db.execute(step)
                self._db.execute(f"PRAGMA user_version = {current + 1}")

    # --- writing ----------------------------------------------------------------------------------

    def start_session(self, seed: int | None) -> int:
        cursor = self._guard(self._db.execute, "INSERT INTO sessions (started, seed, uid) VALUES (?, ?, ?)",
                             (_now(), seed, _new_uid()))
        self.session = cursor.lastrowid
        return self.session

    def record_attempt(self, attempt: Attempt) -> None:
        self._insert("attempts", attempt)

    def record_outcome(self, outcome: Outcome) -> None:
        self._insert("outcomes", outcome)

    def _insert(self, table: str, record: Attempt | Outcome) -> None:
        # Columns named by the record's fields: the dataclass is the one place they are spelled.
        values = {**asdict(record), "session": self.session, "at": record.at or _now(), "uid": record.uid or _new_uid()}
        self._guard(self._db.execute, _insert_statement(table, values), _plain(values))

    # --- reading ----------------------------------------------------------------------------------

    def attempts(self) -> list[Attempt]:
        return [replace(a, status=Status(a.status)) for a in self._select("attempts", Attempt)]

    def outcomes(self) -> list[Outcome]:
        return [replace(o, outcome=PartOutcome(o.outcome)) for o in self._select("outcomes", Outcome)]

    def _select(self, table: str, record: type):
        # In the order they happened: a history merged from another machine (`merge`) is
        # interleaved with this one's by time, not appended after it.
        rows = self._guard(lambda: self._db.execute(
            f"SELECT {', '.join(columns(table))} FROM {table} ORDER BY {_ORDER[table]}").fetchall())
        return [record(*row) for row in rows]

    # --- moving a history between files -----------------------------------------------------------

    def history(self) -> dict[str, list[dict]]:
        """Every session, attempt and outcome, as {table: [{column: value}]} in the order they
        happened, each record's `session` given as that session's uid: ids are this file's own."""
        def rows(table: str) -> list[dict]:
            names = columns(table)
            selected = ["(SELECT uid FROM sessions WHERE sessions.id = t.session)" if c == "session" else f"t.{c}"
                        for c in names]
            query = f"SELECT {', '.join(selected)} FROM {table} AS t ORDER BY {_ORDER[table]}"
            return [dict(zip(names, row)) for row in self._db.execute(query)]

        return self._guard(lambda: {table: rows(table) for table in RECORDS})

    def merge(self, history: Mapping[str, Iterable[Mapping]]) -> dict[str, tuple[int, int]]:
        """Add the records of `history` (as `history()` gives them: each `session` a session's
        uid, every one of which is among history["sessions"] or this file's) that this file does
        not hold yet, by uid, in one transaction: all of them or, on any error or Ctrl-C, none.
        Returns {table: (added, already here)}."""
        def add(table: str, records: Iterable[Mapping], session_ids: Mapping[str, int] | None) -> tuple[int, int]:
            added = present = 0
            for record in records:
                values = {c: record[c] for c in columns(table)}  # only our columns reach the SQL
                if session_ids is not None and values["session"] is not None:
                    values["session"] = session_ids[values["session"]]
                cursor = self._db.execute(_insert_statement(table, values, _KNOWN), _plain(values))
                added += cursor.rowcount
                present += 1 - cursor.rowcount
            return added, present

        def merged() -> dict[str, tuple[int, int]]:
            with self._transaction():
                counts = {"sessions": add("sessions", history["sessions"], None)}
                session_ids = dict(self._db.execute("SELECT uid, id FROM sessions"))
                for table in ("attempts", "outcomes"):
                    counts[table] = add(table, history[table], session_ids)
                return counts

        return self._guard(merged)


def _insert_statement(table: str, values: Mapping, on_conflict: str = "") -> str:
    return (f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(':' + c for c in values)}) {on_conflict}")


def _plain(values: Mapping) -> dict:
    return {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}


def _unusable(path: Path, reason: str) -> StoreError:
    return StoreError(f"{path}: cannot use this progress file ({reason}); move it aside "
                      f"(mv '{path}' '{path}.broken') to start a fresh history, or choose another file with --db PATH")

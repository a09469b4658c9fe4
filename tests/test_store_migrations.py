"""Old progress files are migrated forward without losing an attempt, and every record gets a
uid: the same one in every copy of a file, a different one for every record, even two alike in
every field (docs/formats.md, "Progress store")."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from backprop_tutor.learner.store import MIGRATIONS, VERSION, Attempt, Store, columns

AT = "2025-01-01T09:00:00+00:00"
ATTEMPT = ("mlp_2_2_1", 7, "a2", "forward_pass", "0.46", "correct", 1.0, 1.0)


def old_file(path: Path, version: int) -> Path:
    """A file as backprop-tutor wrote it at schema `version`: a session, an attempt with a slip, and
    two attempts alike in every field, made with that version's own statements; at 2, an outcome."""
    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:version]:
        for statement in migration:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO sessions (started, seed) VALUES (?, 3)", (AT,))
    insert = ("INSERT INTO attempts (session, at, template, seed, part, skill, answer, status, score, points, diagnosis) "
              "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    db.execute(insert, (AT, "mlp_2_2_1", 7, "delta2", "output_delta", "0.1", "incorrect", 0.0, 1.0, "error_sign"))
    db.execute(insert, (AT, *ATTEMPT, None))
    db.execute(insert, (AT, *ATTEMPT, None))  # typed twice in one second: still two attempts
    if version >= 2:
        db.execute("INSERT INTO outcomes (session, at, template, seed, part, skill, outcome, attempts, hints, score, "
                   "points) VALUES (1, ?, 'mlp_2_2_1', 7, 'a2', 'forward_pass', 'correct', 1, 0, 1, 1)", (AT,))
    db.commit()
    db.close()
    return path


def content(path: Path, table: str) -> list[tuple]:
    """The rows as the old version saw them: every column but the uid."""
    names = [c for c in columns(table) if c != "uid"]
    return sqlite3.connect(path).execute(f"SELECT id, {', '.join(names)} FROM {table} ORDER BY id").fetchall()


@pytest.mark.parametrize("version", range(1, VERSION))
def test_an_old_file_is_migrated_to_the_newest_schema_keeping_every_record(tmp_path, version):
    path = old_file(tmp_path / "old.sqlite3", version)
    before = {table: content(path, table) for table in ("sessions", "attempts")}
    with Store.open(path) as store:
        assert store.version() == VERSION
        assert [(a.part, a.answer, a.status, a.diagnosis) for a in store.attempts()] == [
            ("delta2", "0.1", "incorrect", "error_sign"), ("a2", "0.46", "correct", None), ("a2", "0.46", "correct", None)]
        assert len(store.outcomes()) == (1 if version >= 2 else 0)
    assert {table: content(path, table) for table in before} == before  # not a field changed
    for table in ("sessions", "attempts", "outcomes"):
        uids = [row[0] for row in sqlite3.connect(path).execute(f"SELECT uid FROM {table}")]
        assert None not in uids and len(set(uids)) == len(uids), table


def test_two_copies_of_one_old_file_give_each_record_the_same_uid(tmp_path):
    first = old_file(tmp_path / "here.sqlite3", 2)
    second = shutil.copy(first, tmp_path / "there.sqlite3")  # copied to a laptop before upgrading
    uids = []
    for path in (first, second):
        Store.open(path).close()
        uids.append(sqlite3.connect(path).execute("SELECT uid FROM attempts ORDER BY id").fetchall())
    assert uids[0] == uids[1]


def test_a_migration_that_fails_leaves_the_file_at_its_old_version(tmp_path, monkeypatch):
    path = old_file(tmp_path / "old.sqlite3", 2)
    before = content(path, "attempts")
    import backprop_tutor.learner.store as store_module

    def interrupted(db):
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS[:2], (*MIGRATIONS[2][:4], interrupted)))
    with pytest.raises(KeyboardInterrupt):
        Store.open(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "uid" not in [row[1] for row in db.execute("PRAGMA table_info(attempts)")]
    assert content(path, "attempts") == before


def test_new_records_get_their_own_uids_even_when_alike(tmp_path):
    with Store.open(tmp_path / "p.sqlite3") as store:
        store.start_session(1)
        for _ in range(2):
            store.record_attempt(Attempt(*ATTEMPT, at=AT))
        attempts = store.attempts()
    assert len(attempts) == 2 and attempts[0].uid != attempts[1].uid and all(a.uid for a in attempts)
    assert attempts[0].session == attempts[1].session is not None

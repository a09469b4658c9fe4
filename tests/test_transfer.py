"""`tutor progress export` / `import`: a history moved to another machine reads back exactly,
an import merges and counts nothing twice, and a bad file is one line that changes nothing
(docs/formats.md, "Progress export")."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.cli.app import cli
from backprop_tutor.learner import transfer
from backprop_tutor.learner.progress import History, summary
from backprop_tutor.learner.store import VERSION, Attempt, Outcome, PartOutcome, Store, columns

from test_startup import imported, roots


def practised(path: Path, day: int, seed: int = 1) -> Path:
    """A session of a few attempts and outcomes, at distinct times of 2025-03-`day`."""
    with Store.open(path) as store:
        store.start_session(seed)
        for minute, (part, skill, answer, status) in enumerate([
                ("z", "forward_pass", "0.4", "incorrect"), ("z", "forward_pass", "0.5", "correct"),
                ("delta2", "output_delta", "-0.1", "incorrect"), ("delta2", "output_delta", "0.1", "incorrect"),
                ("a2", "activation_derivative", "1 - tanh(z)^2", "correct")]):
            at = f"2025-03-{day:02d}T10:{minute:02d}:00+00:00"
            store.record_attempt(Attempt("mlp_2_2_1", seed, part, skill, answer, status,
                                         float(status == "correct"), 1.0, "error_sign" if answer == "-0.1" else None,
                                         at))
            if status == "correct" or answer == "0.1":
                store.record_outcome(Outcome("mlp_2_2_1", seed, part, skill,
                                             PartOutcome.CORRECT if status == "correct" else PartOutcome.REVEALED,
                                             2, 1, float(status == "correct"), 1.0, at=at))
    return path


def tutor(*args: str):
    return CliRunner().invoke(cli, list(args))


def ok(*args: str):
    result = tutor(*args)
    assert result.exit_code == 0, result.output
    return result


def stats(db: Path) -> tuple[str, str]:
    """`tutor stats` as JSON and as text."""
    return ok("stats", "--db", str(db), "--format", "json").stdout, ok("stats", "--db", str(db)).stdout


def rows(db: Path) -> dict[str, list[tuple]]:
    """Every record of the file, ids and all."""
    connection = sqlite3.connect(db)
    return {table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("sessions", "attempts", "outcomes")}


# --- the round trip --------------------------------------------------------------------------------

def test_export_then_import_into_an_empty_store_reproduces_stats_exactly(tmp_path):
    here = practised(tmp_path / "here.sqlite3", 1)
    practised(here, 2, seed=2)
    file = tmp_path / "progress.json"
    exported = ok("progress", "export", str(file), "--db", str(here))
    assert exported.stderr == f"Exported 10 attempts, 6 outcomes and 2 sessions from {here} to {file}.\n"
    there = tmp_path / "new" / "there.sqlite3"  # a new machine: no file, no folder yet
    result = ok("progress", "import", str(file), "--db", str(there))
    assert result.stdout == f"Imported 10 attempts and 6 outcomes from {file} into {there} (0 already there).\n"
    assert stats(there) == stats(here)
    assert json.loads(stats(there)[0])["attempts"] == 10  # the history is really there
    with Store.open(here) as a, Store.open(there) as b:
        assert a.history() == b.history()  # every field of every record, uids included


def test_importing_twice_adds_nothing(tmp_path):
    file = tmp_path / "progress.json"
    ok("progress", "export", str(file), "--db", str(practised(tmp_path / "here.sqlite3", 1)))
    there = tmp_path / "there.sqlite3"
    ok("progress", "import", str(file), "--db", str(there))
    before, shown = rows(there), stats(there)
    again = ok("progress", "import", str(file), "--db", str(there))
    assert again.stdout == f"Imported 0 attempts and 0 outcomes from {file} into {there} (8 already there).\n"
    assert rows(there) == before and stats(there) == shown


def test_importing_into_the_store_it_came_from_adds_nothing(tmp_path):
    here = practised(tmp_path / "here.sqlite3", 1)
    file = tmp_path / "progress.json"
    ok("progress", "export", str(file), "--db", str(here))
    before = rows(here)
    assert "Imported 0 attempts and 0 outcomes" in ok("progress", "import", str(file), "--db", str(here)).stdout
    assert rows(here) == before


def test_two_machines_merge_into_one_history_in_the_order_it_happened(tmp_path):
    home = practised(tmp_path / "home.sqlite3", 1)
    practised(home, 3, seed=3)
    laptop = practised(tmp_path / "laptop.sqlite3", 2, seed=2)  # practised in between
    files = {}
    for name, db in (("home", home), ("laptop", laptop)):
        files[name] = tmp_path / f"{name}.json"
        ok("progress", "export", str(files[name]), "--db", str(db))
    with Store.open(home) as a, Store.open(laptop) as b:
        union = sorted(a.attempts() + b.attempts(), key=lambda x: x.at)
        outcomes = sorted(a.outcomes() + b.outcomes(), key=lambda x: x.at)
    ok("progress", "import", str(files["laptop"]), "--db", str(home))
    ok("progress", "import", str(files["home"]), "--db", str(laptop))
    for db in (home, laptop):
        with Store.open(db) as store:
            assert [a.uid for a in store.attempts()] == [a.uid for a in union]
            assert [o.uid for o in store.outcomes()] == [o.uid for o in outcomes]
            attempts, outcomes_here = store.attempts(), store.outcomes()
            history = History.of(attempts, outcomes_here)
            now = datetime.now(timezone.utc)
            assert summary(history, attempts, outcomes_here, now)["problems"] == 3  # sessions kept apart
    assert stats(home) == stats(laptop)
    assert json.loads(stats(home)[0])["attempts"] == 15


def test_copies_of_one_old_file_merge_without_doubles(tmp_path):
    """A file copied to a second machine before uids existed: both copies agree on the old records."""
    from test_store_migrations import old_file

    first = old_file(tmp_path / "first.sqlite3", 2)
    second = tmp_path / "second.sqlite3"
    second.write_bytes(first.read_bytes())
    practised(second, 5)  # practised more on the second machine, after upgrading
    file = tmp_path / "second.json"
    ok("progress", "export", str(file), "--db", str(second))
    result = ok("progress", "import", str(file), "--db", str(first))
    assert "Imported 5 attempts and 3 outcomes" in result.stdout and "(4 already there)" in result.stdout
    assert stats(first) == stats(second)


def test_export_to_standard_output_prints_only_the_file(tmp_path):
    here = practised(tmp_path / "here.sqlite3", 1)
    result = ok("progress", "export", "-", "--db", str(here))
    data = json.loads(result.stdout)
    assert (data["format"], data["version"]) == ("backprop-tutor-progress", transfer.VERSION)
    assert [list(r) for r in data["attempts"]] == [list(transfer.SCHEMA["attempts"])] * 5
    assert result.stderr.startswith("Exported 5 attempts") and "to standard output" in result.stderr


def test_the_file_is_one_record_per_line(tmp_path):
    file = tmp_path / "p.json"
    ok("progress", "export", str(file), "--db", str(practised(tmp_path / "here.sqlite3", 1)))
    lines = file.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["{", '  "format": "backprop-tutor-progress",', '  "version": 1,']
    assert sum(line.startswith('    {"uid": ') for line in lines) == 1 + 5 + 3


def test_the_schema_checked_on_import_is_the_stores_columns():
    for table, fields in transfer.SCHEMA.items():
        assert set(fields) == set(columns(table)), table


def test_the_documented_export_names_every_field():
    """docs/formats.md is the contract: its table of fields names each one the file has."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "formats.md").read_text(encoding="utf-8")
    section = doc.split("## Progress export", 1)[1].split("\n## ", 1)[0]
    documented = {name for line in section.splitlines() if line.startswith("| `")
                  for name in line.split("|")[1].replace("`", "").replace(",", " ").split()}
    assert documented == {"format", "version", "exported"} | {f for fields in transfer.SCHEMA.values() for f in fields}


# --- export: what it refuses -----------------------------------------------------------------------

def test_export_keeps_an_existing_file_unless_forced(tmp_path):
    here = practised(tmp_path / "here.sqlite3", 1)
    file = tmp_path / "progress.json"
    file.write_text("mine")
    result = tutor("progress", "export", str(file), "--db", str(here))
    assert result.exit_code == 2
    assert result.output == f"Error: {file}: exists already; choose another name, or add --force to replace it\n"
    assert file.read_text() == "mine"
    ok("progress", "export", str(file), "--db", str(here), "--force")
    assert json.loads(file.read_text())["format"] == "backprop-tutor-progress"
    assert file.stat().st_mode & 0o777 == 0o600  # a history is private
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_export_of_no_progress_file_says_so_and_creates_nothing(tmp_path):
    missing = tmp_path / "typo.sqlite3"
    result = tutor("progress", "export", str(tmp_path / "p.json"), "--db", str(missing))
    assert result.exit_code == 2
    assert result.output == f"Error: {missing}: no progress file here, so nothing to export; name yours with --db PATH\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["folder", "no such folder"])
def test_export_where_no_file_can_be_written_is_one_line(tmp_path, where):
    here = practised(tmp_path / "here.sqlite3", 1)
    target = tmp_path if where == "folder" else tmp_path / "nowhere" / "p.json"
    result = tutor("progress", "export", str(target), "--db", str(here))
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output
    assert result.output.startswith(f"Error: {target}: ")


def test_an_interrupted_export_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(transfer.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        transfer.write_export(tmp_path / "p.json", "{}", force=False)
    assert list(tmp_path.iterdir()) == []


# --- import: hostile files -------------------------------------------------------------------------

def good() -> dict:
    uid = "a" * 32
    return {"format": "backprop-tutor-progress", "version": 1, "exported": "2025-03-02T00:00:00+00:00",
            "sessions": [{"uid": uid, "started": "2025-03-01T10:00:00+00:00", "seed": 1}],
            "attempts": [{"uid": "b" * 32, "session": uid, "at": "2025-03-01T10:00:00+00:00", "template": "mlp_2_2_1",
                          "seed": 1, "part": "z", "skill": "forward_pass", "answer": "0.5", "status": "correct",
                          "score": 1.0, "points": 1.0, "diagnosis": None}],
            "outcomes": [{"uid": "c" * 32, "session": uid, "at": "2025-03-01T10:00:00+00:00", "template": "mlp_2_2_1",
                          "seed": 1, "part": "z", "skill": "forward_pass", "outcome": "correct", "attempts": 1,
                          "hints": 0, "score": 1.0, "points": 1.0}]}


def spoilt(change) -> str:
    data = good()
    change(data)
    return json.dumps(data)


def set_field(table: str, field: str, value):
    return lambda data: data[table][0].__setitem__(field, value)


HOSTILE = {
    "empty": ("", "not JSON (line 1, column 1: Expecting value); give a file written by `tutor progress export`"),
    "not JSON": ("{'format': 1}", "not JSON (line 1, column 2: Expecting property name enclosed in double quotes); "
                                  "give a file written by `tutor progress export`"),
    "a list": ("[]", 'not a progress export (format: missing, not "backprop-tutor-progress"); give a file written by '
                     "`tutor progress export`"),
    "another format": (spoilt(lambda d: d.__setitem__("format", "anki")),
                       'not a progress export (format: "anki", not "backprop-tutor-progress"); give a file written by '
                       "`tutor progress export`"),
    "version 99": (spoilt(lambda d: d.__setitem__("version", 99)),
                   "version: 99 is newer than this backprop-tutor reads (1); upgrade backprop-tutor on this machine"),
    "version 0": (spoilt(lambda d: d.__setitem__("version", 0)),
                  "version: 0: expected a version number from 1; give a file written by `tutor progress export`"),
    "version as text": (spoilt(lambda d: d.__setitem__("version", "1")),
                        'version: "1": expected a version number from 1; give a file written by `tutor progress export`'),
    "no attempts": (spoilt(lambda d: d.pop("attempts")),
                    "attempts: missing; give a file written by `tutor progress export`"),
    "an extra key": (spoilt(lambda d: d.__setitem__("extra", [])), '"extra" is not a field of a progress export of version 1'),
    "an escape code as a key": (spoilt(lambda d: d.__setitem__("\x1b[2J", [])),
                                '"\\u001b[2J" is not a field of a progress export of version 1'),
    "attempts not a list": (spoilt(lambda d: d.__setitem__("attempts", {})), "attempts: expected a list of records"),
    "a record not an object": (spoilt(lambda d: d["attempts"].append(3)),
                               'attempts[1]: expected a record, {"uid": …, …}'),
    "missing field": (spoilt(lambda d: d["attempts"][0].pop("status")), "attempts[0].status: missing"),
    "unknown field": (spoilt(set_field("outcomes", "colour", "red")),
                      'outcomes[0]: "colour" is not a field of outcomes in version 1'),
    "bad status": (spoilt(set_field("attempts", "status", "invalid")),
                   'attempts[0].status: "invalid": expected one of correct, incorrect'),
    "bad outcome": (spoilt(set_field("outcomes", "outcome", "won")),
                    'outcomes[0].outcome: "won": expected one of correct, missed, revealed, skipped'),
    "seed as text": (spoilt(set_field("attempts", "seed", "7")),
                     'attempts[0].seed: "7": expected a whole number (of at most 19 digits)'),
    "seed true": (spoilt(set_field("attempts", "seed", True)),
                  "attempts[0].seed: true: expected a whole number (of at most 19 digits)"),
    "seed past SQLite": (spoilt(set_field("attempts", "seed", 2**63)),
                         "attempts[0].seed: 9223372036854775808: expected a whole number (of at most 19 digits)"),
    "a time before 1970 in UTC": (spoilt(set_field("attempts", "at", "0001-01-01T00:00:00+01:00")),
                                  'attempts[0].at: "0001-01-01T00:00:00+01:00": expected a time from 1970 to 2999'),
    "a time at the calendar's end": (spoilt(set_field("outcomes", "at", "9999-12-31T23:59:00+00:00")),
                                     'outcomes[0].at: "9999-12-31T23:59:00+00:00": expected a time from 1970 to 2999'),
    "a key twice": (json.dumps(good())[:-1] + ', "attempts": []}',
                    'not JSON as tutor writes it ("attempts" appears twice in one object); give a file written by '
                    "`tutor progress export`"),
    "NaN score": ('{"format": "backprop-tutor-progress", "score": NaN}',
                  "not JSON as tutor writes it (NaN is not a number); give a file written by `tutor progress export`"),
    "infinite score": (spoilt(set_field("attempts", "score", 1e999)).replace("Infinity", "1e999"),
                       "attempts[0].score: Infinity: expected a number"),
    "negative hints": (spoilt(set_field("outcomes", "hints", -1)), "outcomes[0].hints: -1: expected a count, 0 or more"),
    "bad time": (spoilt(set_field("attempts", "at", "yesterday")),
                 'attempts[0].at: "yesterday": expected a time, e.g. 2025-03-01T09:30:00+00:00'),
    "bad uid": (spoilt(set_field("attempts", "uid", "../x")),
                'attempts[0].uid: "../x": expected a uid: 1 to 64 letters, digits, - and _'),
    "a uid twice": (spoilt(lambda d: d["attempts"].append(dict(d["attempts"][0], answer="0.6"))),
                    'attempts[1].uid: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" is also attempts[0]\'s; every record has its own uid'),
    "no such session": (spoilt(set_field("outcomes", "session", "d" * 32)),
                        'outcomes[0].session: "dddddddddddddddddddddddddddddddd" is not the uid of a session in this file'),
    "an escape code in a skill": (spoilt(set_field("attempts", "skill", "\x1b[2J")),
                                  'attempts[0].skill: "\\u001b[2J": expected a name: 1 to 200 characters, no control characters'),
    "a lone surrogate": (spoilt(set_field("attempts", "answer", "\ud800")),
                         'attempts[0].answer: "\\ud800": expected text (this has a lone surrogate)'),
    "nested too deep": ("[" * 100_000, "not JSON as tutor writes it (nested too deep); give a file written by "
                                       "`tutor progress export`"),
    "not UTF-8": (b"\xff\xfe{}", "not UTF-8 text, so not a progress export; give a file written by `tutor progress export`"),
}


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("store", ["empty", "none", "filled"])
def test_a_bad_file_is_one_line_and_changes_nothing(tmp_path, name, store):
    content, message = HOSTILE[name]
    file = tmp_path / "bad.json"
    file.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    db = tmp_path / "p.sqlite3"
    if store == "empty":
        Store.open(db).close()
    elif store == "filled":
        practised(db, 1)
    before = rows(db) if db.exists() else None
    result = tutor("progress", "import", str(file), "--db", str(db))
    assert result.exit_code == 2
    assert result.output == f"Error: {file}: {message}\n"
    assert (rows(db) if db.exists() else None) == before  # with no store, none is made


def test_times_in_other_zones_are_stored_in_utc_and_read_in_the_order_they_happened(tmp_path):
    """The store orders records by their time's text, so an import writes every time in UTC: 12:00
    at +05:00 is 07:00 UTC, before 10:00 UTC, though its text sorts after."""
    data = good()
    late, early = dict(data["attempts"][0]), dict(data["attempts"][0])
    late.update(uid="late", at="2026-11-01T10:00:00+00:00", status="incorrect", score=0.0)
    early.update(uid="early", at="2026-11-01T12:00:00+05:00", status="correct", score=1.0)
    data["attempts"] = [late, early]
    file = tmp_path / "zones.json"
    file.write_text(json.dumps(data))
    db = tmp_path / "p.sqlite3"
    ok("progress", "import", str(file), "--db", str(db))
    with Store.open(db) as store:
        assert [(a.uid, a.at) for a in store.attempts()] == [("early", "2026-11-01T07:00:00+00:00"),
                                                              ("late", "2026-11-01T10:00:00+00:00")]
    assert json.loads(stats(db)[0])["streak"] == 0  # the last answer was the wrong one


def test_an_export_piped_into_an_import_moves_the_history(tmp_path):
    home = practised(tmp_path / "home.sqlite3", 2)
    exported = ok("progress", "export", "-", "--db", str(home)).stdout
    laptop = tmp_path / "laptop.sqlite3"
    result = CliRunner().invoke(cli, ["progress", "import", "-", "--db", str(laptop)], input=exported)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported ") and " from standard input into " in result.stdout
    assert stats(laptop) == stats(home)
    bad = CliRunner().invoke(cli, ["progress", "import", "-", "--db", str(laptop)], input="{")
    assert bad.exit_code == 2 and bad.output.startswith("Error: standard input: not JSON")


def test_the_good_file_of_those_tests_imports(tmp_path):
    """The control: each hostile file above is this one spoilt in one place."""
    file = tmp_path / "good.json"
    file.write_text(json.dumps(good()))
    result = ok("progress", "import", str(file), "--db", str(tmp_path / "p.sqlite3"))
    assert "Imported 1 attempt and 1 outcome" in result.stdout


@pytest.mark.parametrize("what", ["missing", "folder", "too large"])
def test_a_file_that_cannot_be_read_is_one_line(tmp_path, monkeypatch, what):
    file = tmp_path / "p.json"
    if what == "folder":
        file.mkdir()
    elif what == "too large":
        monkeypatch.setattr(transfer, "LIMIT", 100)
        file.write_text(json.dumps(good()))
    result = tutor("progress", "import", str(file), "--db", str(tmp_path / "p.sqlite3"))
    problem = {"missing": "no such file", "folder": "is a directory, not a progress export",
               "too large": "larger than 0.1 kB, the limit for a progress export"}[what]
    assert result.exit_code == 2
    assert result.output == f"Error: {file}: {problem}\n"
    assert not (tmp_path / "p.sqlite3").exists()


def test_a_store_from_a_newer_version_is_refused_on_import(tmp_path):
    db = tmp_path / "new.sqlite3"
    sqlite3.connect(db).execute(f"PRAGMA user_version = {VERSION + 1}").connection.commit()
    file = tmp_path / "good.json"
    file.write_text(json.dumps(good()))
    result = tutor("progress", "import", str(file), "--db", str(db))
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert "newer backprop-tutor" in result.output


def test_an_import_stopped_half_way_adds_nothing(tmp_path):
    """Ctrl-C after the sessions and attempts went in, before the outcomes: one transaction, so none."""
    file = tmp_path / "p.json"
    ok("progress", "export", str(file), "--db", str(practised(tmp_path / "here.sqlite3", 1)))
    history = transfer.read_export(file)

    def outcomes_then_ctrl_c():
        yield history["outcomes"][0]
        raise KeyboardInterrupt

    db = practised(tmp_path / "there.sqlite3", 2)
    before = rows(db)
    with Store.open(db) as store, pytest.raises(KeyboardInterrupt):
        store.merge({**history, "outcomes": outcomes_then_ctrl_c()})
    assert rows(db) == before
    with Store.open(db) as store:  # and the file is usable afterwards
        assert store.merge(history)["attempts"] == (5, 0)


@pytest.mark.parametrize("command", ["export", "import"])
def test_progress_commands_import_neither_sympy_nor_rich(tmp_path, command):
    db = practised(tmp_path / "here.sqlite3", 1)
    file = tmp_path / "p.json"
    if command == "import":
        ok("progress", "export", str(file), "--db", str(db))
    loaded = roots(imported(tmp_path, ["progress", command, str(file), "--db", str(tmp_path / "there.sqlite3")
                                       if command == "import" else str(db)]))
    assert "backprop_tutor" in loaded and not loaded & {"sympy", "mpmath", "rich"}


def test_progress_help_shows_examples():
    for args in (["progress"], ["progress", "export"], ["progress", "import"]):
        text = ok(*args, "--help").output
        assert "Examples:" in text and "tutor progress " in text.split("Examples:")[1]

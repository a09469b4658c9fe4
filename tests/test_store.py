"""The progress store and what `tutor stats` reads from it: schema and migrations, durability,
two writers at once, a corrupted file, and the statistics themselves."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.learner import progress
from backprop_tutor.cli.app import cli
from backprop_tutor.learner.store import MIGRATIONS, VERSION, Attempt, Outcome, Store, StoreError, default_path


def attempt(skill: str, status: str, template: str = "mlp_2_2_1", part: str = "a2", at: str = "") -> Attempt:
    """An attempt; without `at`, the store writes the time it is recorded."""
    return Attempt(template, 7, part, skill, "0.5", status, 1.0 if status == "correct" else 0.0, 1.0, None, at)


def outcome(template: str, result: str = "correct", session: int = 1, seed: int = 1) -> Outcome:
    return Outcome(template, seed, "p", "forward_pass", result, 1, 0, 1.0 if result == "correct" else 0.0, 1.0,
                   session)


# --- the file ------------------------------------------------------------------------------------

def test_a_new_file_gets_the_current_schema_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "progress.sqlite3"
    with Store.open(path) as store:
        assert store.version() == VERSION
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION


def test_an_old_file_is_migrated_and_keeps_its_attempts(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO attempts (session, at, template, seed, part, skill, answer, status, score, points) "
               "VALUES (NULL, '2024-01-01T00:00:00+00:00', 'mlp_2_2_1', 7, 'a2', 'forward_pass', '0.46', 'correct', 1, 1)")
    db.commit()
    db.close()
    with Store.open(path) as store:
        assert store.version() == VERSION
        assert [a.answer for a in store.attempts()] == ["0.46"]
        assert store.outcomes() == []  # the table added by migration 2 exists


def test_a_file_from_a_newer_version_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "new.sqlite3"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {VERSION + 1}").connection.commit()
    with pytest.raises(StoreError, match="newer backprop-tutor.*--db PATH"):
        Store.open(path)


def test_every_write_is_committed_at_once(tmp_path):
    path = tmp_path / "p.sqlite3"
    store = Store.open(path)
    store.start_session(3)
    store.record_attempt(attempt("forward_pass", "correct"))
    # another connection sees it while the first is still open: nothing waits for close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM attempts").fetchone()[0] == 1
    store.close()


def test_the_default_file_honours_TUTOR_DB(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_DB", str(tmp_path / "x.sqlite3"))
    assert default_path() == tmp_path / "x.sqlite3"
    monkeypatch.delenv("TUTOR_DB")
    assert default_path().name == "progress.sqlite3"
    assert "backprop-tutor" in str(default_path())


WRITER = textwrap.dedent("""
    import sys
    from backprop_tutor.learner.store import Attempt, Store
    store = Store.open(sys.argv[1])
    store.start_session(int(sys.argv[2]))
    for i in range(60):
        store.record_attempt(Attempt("mlp_2_2_1", int(sys.argv[2]), "a2", "forward_pass", str(i), "correct", 1, 1))
    store.close()
""")


def test_two_sessions_writing_at_once_both_keep_their_attempts(tmp_path):
    path = tmp_path / "shared.sqlite3"  # new: both also race to create the schema
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(seed)], stderr=subprocess.PIPE)
               for seed in (1, 2)]
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err.decode()
    db = sqlite3.connect(path)
    assert db.execute("SELECT seed, count(*) FROM attempts GROUP BY seed ORDER BY seed").fetchall() == [(1, 60), (2, 60)]
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2


@pytest.mark.parametrize("content", [b"this is not a database\n" * 10, b"SQLite format 3\x00" + b"\xff" * 2000])
def test_a_corrupted_file_is_one_clear_line_naming_it_and_the_way_out(tmp_path, content):
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    message = str(caught.value)
    assert str(path) in message and "move it aside" in message and "--db PATH" in message
    for args in (["stats", "--db", str(path)], ["practice", "--db", str(path), "--seed", "1"]):
        result = CliRunner().invoke(cli, args, input="")
        assert result.exit_code == 2
        assert result.output.strip().splitlines() == [f"Error: {message}"]
        assert "Traceback" not in result.output


def test_a_folder_given_as_the_db_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["stats", "--db", str(tmp_path)])
    assert result.exit_code == 2
    assert "Error:" in result.output and "Traceback" not in result.output


# --- what the history says -----------------------------------------------------------------------

NOON = "2026-01-05T12:00:00+00:00"


def test_mastery_is_the_knowledge_tracing_probability_over_the_whole_history():
    history = progress.History.of([attempt("output_delta", "correct", at=NOON)], [])
    stats = progress.skill_stats([], history, ["hidden_delta"])  # counts of an empty window
    assert stats["output_delta"].mastery == pytest.approx(0.5)  # one right answer from the prior 0.2
    assert (stats["output_delta"].attempts, stats["output_delta"].mastered) == (0, False)
    assert stats["hidden_delta"].mastery == pytest.approx(0.2)  # never tried: the prior
    ten = progress.History.of([attempt("output_delta", "correct", at=NOON)] * 10, [])
    assert progress.skill_stats([], ten)["output_delta"].mastered


def test_streak_counts_the_correct_answers_at_the_end():
    assert progress.streak([attempt("a", "correct"), attempt("a", "incorrect")] + [attempt("a", "correct")] * 3) == 3
    assert progress.streak([]) == 0


# --- tutor stats ---------------------------------------------------------------------------------

def _filled(path: Path) -> None:
    with Store.open(path) as store:
        store.start_session(1)
        for a in [attempt("forward_pass", "correct"), attempt("output_delta", "incorrect", part="delta2"),
                  attempt("output_delta", "correct", part="delta2")]:
            store.record_attempt(a)
        store.record_outcome(outcome("mlp_2_2_1"))


def test_stats_json_is_the_documented_object(tmp_path):
    path = tmp_path / "p.sqlite3"
    _filled(path)
    result = CliRunner().invoke(cli, ["stats", "--db", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["attempts"], data["correct"], data["streak"], data["problems"]) == (3, 2, 1, 1)
    # by hand: wrong from the prior 0.2 gives 0.02/0.62 = 1/31, learning 1/31 + (30/31)·0.05 = 5/62;
    # then right: (5/62)·0.9 / ((5/62)·0.9 + (57/62)·0.25) = 0.24, learning 0.24 + 0.76·0.05 = 0.278
    assert data["skills"]["output_delta"] == {"attempts": 2, "correct": 1, "accuracy": 0.5, "mastery": 0.278,
                                              "mastered": False, "due": None,
                                              "last_practised": data["skills"]["output_delta"]["last_practised"]}
    assert data["skills"]["forward_pass"]["due"] is not None  # its part ended: a review is scheduled
    assert data["since"] is None and data["next_review"]["skill"] == "forward_pass"
    assert data["skills"]["hidden_delta"]["attempts"] == 0  # every skill of the bank is listed
    assert len(data["next"]) == progress.NEXT_SKILLS


def test_stats_text_when_piped_is_plain_aligned_rows(tmp_path):
    path = tmp_path / "p.sqlite3"
    _filled(path)
    result = CliRunner().invoke(cli, ["stats", "--db", str(path)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "3 attempts, 2 correct (67%); 1 problem practised; current streak: 1 correct in a row."
    assert lines[1].split() == ["skill", "correct", "mastery", "review", "due", "last", "practised"]
    assert any(line.split()[:4] == ["output_delta", "1/2", "28%", "—"] for line in lines)
    assert lines[-2].startswith("Work on next: ")
    assert lines[-1].split()[:3] == ["tutor", "practice", "--skill"]  # the command on a line of its own
    assert "\x1b[" not in result.output


def test_stats_without_a_history_says_how_to_start_and_creates_nothing(tmp_path):
    path = tmp_path / "none.sqlite3"
    result = CliRunner().invoke(cli, ["stats", "--db", str(path)])
    assert result.exit_code == 0
    assert result.output == f"No practice saved yet in {path}. Start with: tutor practice\n"
    assert not path.exists()
    data = json.loads(CliRunner().invoke(cli, ["stats", "--db", str(path), "--format", "json"]).output)
    assert (data["attempts"], data["correct"], data["accuracy"]) == (0, 0, None)


def test_stats_counts_a_problem_whose_parts_were_only_shown(tmp_path):
    """`solution` on every part stores outcomes and no attempt: stats must not say nothing was saved."""
    from click.testing import CliRunner

    from backprop_tutor.cli.app import cli

    db = tmp_path / "p.sqlite3"
    shown = CliRunner().invoke(cli, ["practice", "--template", "neuron_one_input", "--seed", "2", "--count", "1",
                                     "--db", str(db)], input="solution\nsolution\nquit\n")
    assert shown.exit_code == 0, shown.output
    result = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert "No practice saved yet" not in result.output
    assert result.output.startswith("0 attempts, 0 correct (—); 1 problem practised;"), result.output

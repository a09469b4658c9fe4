"""`tutor stats` with mastery, review dates, --since and --plot, and `tutor practice` serving due
reviews first (and only them with --review), end to end through the command line on a progress
file written with the store's API."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.grading.result import Status
from backprop_tutor.learner.practice import plan
from backprop_tutor.learner.store import Attempt, Outcome, PartOutcome, Store

NOW = datetime.now(timezone.utc)


def ago(**delta) -> str:
    return (NOW - timedelta(**delta)).isoformat(timespec="seconds")


def part(store: Store, skill: str, right: bool, when: str, template: str = "mlp_2_2_1", seed: int = 1,
         hints: int = 0) -> None:
    """One part answered once, right or wrong (then missed), at `when`."""
    status = Status.CORRECT if right else Status.INCORRECT
    store.record_attempt(Attempt(template, seed, skill, skill, "0.5", status, float(right), 1.0, None, when))
    store.record_outcome(Outcome(template, seed, skill, skill, PartOutcome.CORRECT if right else PartOutcome.MISSED,
                                 1, hints, float(right), 1.0, store.session, when))


@pytest.fixture
def db(tmp_path) -> Path:
    """Over six weeks: output_delta right five times (mastered, next review in days); an hour
    ago: hidden_delta missed on mlp_2_2_1 (due again a minute later)."""
    path = tmp_path / "p.sqlite3"
    with Store.open(path) as store:
        store.start_session(1)
        for n, days in enumerate([40, 39, 35, 28, 1]):
            part(store, "output_delta", True, ago(days=days), seed=n)
        part(store, "hidden_delta", False, ago(hours=1), seed=9)
    return path


def stats(*args: str) -> tuple[int, str]:
    """The exit code, and what was printed: on stdout, or the error on stderr."""
    result = CliRunner().invoke(cli, ["stats", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def test_json_gives_each_skills_probability_mastered_and_due(db):
    code, out = stats("--db", str(db), "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    output_delta, hidden_delta = data["skills"]["output_delta"], data["skills"]["hidden_delta"]
    # right five times from the prior 0.2: 0.5, 0.793, 0.936, 0.982, 0.9953 (tests/test_mastery.py)
    assert output_delta["mastery"] == pytest.approx(0.9953, abs=1e-4) and output_delta["mastered"] is True
    assert hidden_delta["mastery"] == pytest.approx(0.0806, abs=1e-4) and hidden_delta["mastered"] is False
    assert datetime.fromisoformat(hidden_delta["due"]) == datetime.fromisoformat(ago(hours=1)) + timedelta(minutes=1)
    assert datetime.fromisoformat(output_delta["due"]) > NOW  # five right answers: next review in days
    assert data["skills"]["update"]["due"] is None  # never practised: nothing scheduled
    assert data["due"] == ["hidden_delta"]
    assert data["next_review"]["skill"] == "output_delta"
    assert (data["attempts"], data["correct"], data["problems"], data["since"]) == (6, 5, 6, None)


def test_the_table_shows_probabilities_due_dates_and_the_chart(db):
    code, out = stats("--db", str(db))
    assert code == 0, out
    lines = out.splitlines()
    row = next(line.split() for line in lines if line.startswith("output_delta "))
    assert row[:3] == ["output_delta", "5/5", "100%"] and row[3] == "✓"
    row = next(line.split() for line in lines if line.startswith("hidden_delta "))
    assert row[:3] == ["hidden_delta", "0/1", "8%"]
    assert "Mastery over time, one bar per answer (█ mastered):" in lines
    chart = {line.split()[0]: line for line in lines[lines.index("Mastery over time, one bar per answer (█ mastered):") + 1:]
             if line.split() and line.split()[0] in ("output_delta", "hidden_delta")}
    assert chart["output_delta"].split()[1] == "▄▆▇██" and chart["output_delta"].split()[2:] == ["50%", "→", "100%"]
    assert chart["hidden_delta"].split()[1] == "▁" and chart["hidden_delta"].split()[2:] == ["8%", "→", "8%"]
    assert "Due for review: hidden_delta. This practises them:" in lines and "  tutor practice --review" in lines


def test_a_skill_learnt_only_from_a_revealed_solution_was_practised_then(db):
    when = ago(minutes=30)
    with Store.open(db) as store:
        store.start_session(2)
        store.record_outcome(Outcome("mlp_2_2_1", 4, "z1", "weight_gradient", PartOutcome.REVEALED, 0, 0, 0.0, 1.0,
                                     store.session, when))
        store.record_outcome(Outcome("mlp_2_2_1", 4, "b1", "bias_gradient", PartOutcome.SKIPPED, 0, 0, 0.0, 1.0,
                                     store.session, when))  # a plain skip: not practice
    skills = json.loads(stats("--db", str(db), "--format", "json")[1])["skills"]
    assert (skills["weight_gradient"]["attempts"], skills["weight_gradient"]["last_practised"]) == (0, when)
    assert skills["weight_gradient"]["mastery"] < 0.2 and skills["weight_gradient"]["due"] is not None
    assert skills["bias_gradient"]["last_practised"] is None


def test_since_counts_and_charts_the_window_but_mastery_is_of_the_whole_history(db):
    before = datetime.now(timezone.utc).replace(microsecond=0)  # the command reads the clock itself
    code, out = stats("--db", str(db), "--since", "12h", "--format", "json")
    after = datetime.now(timezone.utc)
    assert code == 0, out
    data = json.loads(out)
    assert (data["attempts"], data["correct"], data["problems"]) == (1, 0, 1)
    assert data["skills"]["output_delta"]["attempts"] == 0 and data["skills"]["output_delta"]["mastered"] is True
    assert before - timedelta(hours=12) <= datetime.fromisoformat(data["since"]) <= after - timedelta(hours=12)
    text = stats("--db", str(db), "--since", "12h")[1]
    assert text.startswith(f"1 attempt since {data['since'][:16]}, 0 correct (0%);")
    chart = text.split("(█ mastered):\n")[1]
    assert "hidden_delta" in chart and "output_delta" not in chart.split("Due for review")[0]


@pytest.mark.parametrize("since, attempts", [("1w", 2), ("12h", 1), ("30d", 3), ("2000-01-01", 6),
                                             ("2999-01-01T00:00+02:00", 0)])
def test_since_takes_weeks_hours_days_and_dates(db, since, attempts):
    code, out = stats("--db", str(db), "--since", since, "--format", "json")
    assert code == 0, out
    assert json.loads(out)["attempts"] == attempts


def test_since_with_nothing_in_the_window_says_so(db):
    code, out = stats("--db", str(db), "--since", "2999-01-01")
    assert (code, out) == (0, f"No practice saved in {db} since 2999-01-01T00:00. Start with: tutor practice\n")


@pytest.mark.parametrize("since", ["7x", "d", "-3d", "yesterday", "2026-13-01", "²d", "1e3d", ""])
def test_a_bad_since_is_one_line_and_exit_2(db, since):
    code, out = stats("--db", str(db), "--since", since)
    assert code == 2
    assert out == f"Error: --since {since}: give a time ago (7d, 12h, 2w) or a date (2026-11-01)\n"


@pytest.mark.parametrize("since", ["99999999d", "9999999999d", "0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00"])
def test_a_since_outside_the_calendar_is_one_line_and_exit_2(db, since):
    code, out = stats("--db", str(db), "--since", since)
    assert (code, out) == (2, f"Error: --since {since}: outside the calendar (years 1 to 9999)\n")


def test_plot_writes_a_png_of_mastery_over_time(db, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "mastery.png"
    code, out = stats("--db", str(db), "--plot", str(png), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["skills"]  # the JSON is still printed
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.parametrize("args, message", [
    (["--plot", "mastery.pdf"], "Error: --plot mastery.pdf: the plot is a PNG; give a file name ending in .png"),
    (["--plot", "m.png", "--since", "2999-01-01"], "Error: --plot: no answers saved since 2999-01-01T00:00 in"),
])
def test_plot_refuses_what_it_cannot_draw_in_one_line(db, tmp_path, args, message):
    code, out = stats("--db", str(db), *args)
    assert code == 2 and out.startswith(message) and len(out.splitlines()) == 1, out


# --- practice: reviews first ------------------------------------------------------------------------

def practise(db: Path, *args: str, lines: str = "quit\n"):
    result = CliRunner().invoke(cli, ["practice", "--db", str(db), "--seed", "3", "--count", "1", *args], input=lines)
    assert "Traceback" not in result.output, result.output
    return result


@pytest.mark.parametrize("review", [False, True])
def test_practice_serves_the_due_review_first_on_its_template(db, review):
    result = practise(db, *(["--review"] if review else []))
    assert result.exit_code == 0, result.output
    assert re.search(r"\(mlp_2_2_1, seed 3,\s+level 2\)", result.output)
    assert "Chosen for hidden_delta: a review, due since " in result.output


def test_review_with_nothing_due_says_when_the_next_one_is(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store.open(path) as store:
        store.start_session(1)
        part(store, "output_delta", True, ago(minutes=2))  # due 10 minutes after
    result = practise(path, "--review")
    due = datetime.fromisoformat(ago(minutes=2)) + timedelta(minutes=10)
    assert (result.exit_code, result.output) == (
        0, f"No reviews due. The next one is due {due:%Y-%m-%d %H:%M} UTC (skill output_delta).\n")


def test_review_with_nothing_practised_says_how_to_start(tmp_path):
    result = practise(tmp_path / "p.sqlite3", "--review")
    assert result.exit_code == 0
    assert result.output == ("No reviews due: a skill is scheduled for review once you have practised it. "
                             "Start with: tutor practice\n")


def test_review_is_refused_with_a_template(db):
    result = practise(db, "--review", "--template", "mlp_2_2_1")
    assert result.exit_code == 2 and result.output.startswith("Error: --template picks the problem itself")


def test_a_review_plan_ends_when_nothing_is_due_any_more(db):
    with Store.open(db) as store:
        store.start_session(3)
        problems = plan(Bank.open(), store, 3, 5, review_only=True, clock=lambda: NOW)
        problem, reason = next(problems)
        assert problem.template == "mlp_2_2_1" and reason.startswith("hidden_delta: a review")
        part(store, "hidden_delta", True, NOW.isoformat(timespec="seconds"), seed=3)  # reviewed: due in minutes
        assert next(problems, None) is None

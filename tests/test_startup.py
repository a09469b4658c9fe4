"""Commands that do no mathematics start without SymPy, and `bank list` and `stats` stay readable
at 80 columns: ids, skills and dates are never cut. (How fast, is measured by
benchmarks/bench_startup.py, not here.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.bank import catalogue_cache
from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.grading.result import Status
from backprop_tutor.learner.store import Attempt, Outcome, PartOutcome, Store

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WORD = re.compile(r"[\w:-]+")  # ids, skills and dates (2026-01-31T09:15) are each one word
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
TERMINAL_80 = {"COLUMNS": "80", "LINES": "50", "FORCE_COLOR": "1"}

# Runs the console script's entry point in this process, then writes the modules it imported.
RUNNER = """
import atexit, json, sys
out, sys.argv = sys.argv[1], ["tutor", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from backprop_tutor.cli import main
main()
"""


@pytest.fixture(scope="module")
def progress(tmp_path_factory) -> Path:
    """A progress file with attempts at a few skills (so `stats` prints dates), one of them with
    the longest skill name, and due for review (so its row has two dates)."""
    path = tmp_path_factory.mktemp("startup") / "progress.sqlite3"
    with Store.open(path) as store:
        store.start_session(1)
        for n, (skill, status) in enumerate([("activation_derivative", Status.CORRECT),
                                             ("output_delta", Status.INCORRECT), ("hidden_delta", Status.CORRECT),
                                             ("finite_difference", Status.INCORRECT)]):
            store.record_attempt(Attempt("mlp_2_2_1", 1, f"p{n}", skill, "0.5", status, 1.0, 1.0))
            if n % 2 == 0:  # ended: a review date too, beside the date it was practised
                store.record_outcome(Outcome("mlp_2_2_1", 1, f"p{n}", skill, PartOutcome.CORRECT, 1, 0, 1.0, 1.0))
    return path


def imported(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> set[str]:
    return command(tmp_path, args, env)[0]


def command(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The modules `tutor ARGS` imported, and what it printed."""
    modules = tmp_path / "modules.json"
    result = subprocess.run([sys.executable, "-c", RUNNER, str(modules), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(modules.read_text())), result.stdout


def roots(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["bank", "list"], ["bank", "list", "--format", "json"],
                                  ["stats"], ["stats", "--format", "json"], ["bank", "--help"]],
                         ids=" ".join)
def test_commands_without_mathematics_import_neither_sympy_nor_rich_when_piped(tmp_path, progress, args):
    if args[0] == "stats":
        args = [*args, "--db", str(progress)]
    loaded = roots(imported(tmp_path, args))
    assert "backprop_tutor" in loaded  # the runner did run the command
    assert not loaded & {"sympy", "mpmath", "rich"}, sorted(loaded & {"sympy", "mpmath", "rich"})


@pytest.mark.parametrize("args", [["bank", "list"], ["stats"]], ids=" ".join)
def test_their_terminal_tables_draw_with_rich_but_still_without_sympy(tmp_path, progress, args):
    if args[0] == "stats":
        args = [*args, "--db", str(progress)]
    loaded = roots(imported(tmp_path, args, TERMINAL_80))
    assert "rich" in loaded  # FORCE_COLOR: the rich table was drawn
    assert not loaded & {"sympy", "mpmath"}


def test_practice_still_generates_with_sympy(tmp_path):
    # the control: the runner sees what a command imports
    loaded = roots(imported(tmp_path, ["solve", "neuron_one_input", "--seed", "1"]))
    assert {"sympy", "rich"} <= loaded


# --- 80 columns ----------------------------------------------------------------------------------

def run(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return ANSI.sub("", result.stdout)


def lines_words(text: str) -> list[list[str]]:
    return [WORD.findall(line) for line in text.splitlines()]


def catalogue() -> list[dict]:
    return json.loads(run(["bank", "list", "--format", "json"]))


def listed(row: dict, labelled: bool = False) -> list[str]:
    """The words a template's entry shows, in order: nothing cut, nothing left out; `labelled`:
    the skills on their own line, headed "skills:"."""
    return [row["id"], str(row["level"]), row["kind"], *WORD.findall(row["title"]),
            *(["skills:"] if labelled else []), *row["skills"]]


@pytest.mark.parametrize("env", [TERMINAL_80, {**TERMINAL_80, "NO_COLOR": "1"}], ids=["colour", "no-colour"])
def test_bank_list_at_80_columns_wraps_titles_and_keeps_ids_and_skills_whole(env):
    text = run(["bank", "list"], env)
    assert max(len(line) for line in text.splitlines()) <= 80
    # a template's rows begin with its id at the margin; its title and skills continue indented
    header, rule, *blocks = re.split(r"\n(?=\S)", text.rstrip("\n"))
    assert WORD.findall(header) == ["id", "level", "kind", "title", "skills"] and set(rule) == {"─"}
    assert [WORD.findall(block) for block in blocks] == [listed(row, labelled=True) for row in catalogue()]
    # without colour, dimness cannot tell the skills from the title: their line says what it is
    for block, row in zip(blocks, catalogue()):
        skills_line = next(line for line in block.splitlines() if row["skills"][0] in line.split())
        assert skills_line.split()[0] == "skills:", block


def test_bank_list_piped_is_one_whole_row_per_template():
    lines = run(["bank", "list"], {"COLUMNS": "80"}).splitlines()
    assert [WORD.findall(line) for line in lines[1:]] == [listed(row) for row in catalogue()]


@pytest.mark.parametrize("env", [TERMINAL_80, {"COLUMNS": "80"}], ids=["terminal", "piped"])
def test_stats_at_80_columns_keeps_every_skill_and_date_whole(progress, env):
    data = json.loads(run(["stats", "--db", str(progress), "--format", "json"]))
    text = run(["stats", "--db", str(progress)], env)
    if env is TERMINAL_80:
        assert max(len(line) for line in text.splitlines()) <= 80
    rows: dict[str, list[str]] = {}
    for words in map(WORD.findall, text.splitlines()):
        if words and words[0] in data["skills"]:
            rows.setdefault(words[0], words)  # the table's row; the chart's line for the skill comes later
    assert set(rows) == set(data["skills"])  # every skill, whole, at the start of its own row
    for skill, stats in data["skills"].items():
        dates = [w for w in rows[skill] if DATE.fullmatch(w)]
        due = [] if stats["due"] is None else [stats["due"][:16]]
        if stats["last_practised"] is None:
            assert dates == due and rows[skill][-1] == "never"
        else:
            assert dates == [*due, stats["last_practised"][:16]], rows[skill]  # date and time, to the minute
    advice = WORD.findall(text.split("Work on next:")[1])  # wrapped between words in a terminal
    assert set(data["next"]) <= set(advice), advice
    # the command to copy is whole on a line of its own, whatever the width
    assert f"tutor practice --skill {data['next'][0]}" in [line.strip() for line in text.splitlines()]


@pytest.mark.parametrize("width", ["40", "80"])
def test_stats_never_breaks_inside_a_command(progress, width):
    text = run(["stats", "--db", str(progress)], {**TERMINAL_80, "COLUMNS": width})
    data = json.loads(run(["stats", "--db", str(progress), "--format", "json"]))
    lines = [line.strip() for line in text.splitlines()]
    assert f"tutor practice --skill {data['next'][0]}" in lines
    assert not any(line.endswith("(tutor practice") or line.startswith("--skill") for line in lines)


# --- the catalogue remembered between runs ----------------------------------------------------------

def test_a_second_bank_list_reads_no_yaml_and_prints_the_same(tmp_path):
    env = {"TUTOR_CACHE": str(tmp_path / "cache")}
    first, printed = command(tmp_path, ["bank", "list"], env)
    again, printed_again = command(tmp_path, ["bank", "list"], env)
    assert "yaml" in roots(first) and "yaml" not in roots(again)
    assert printed_again == printed


@pytest.fixture
def own_bank(tmp_path, monkeypatch):
    """A bank of one template, mine.yaml, and a function that rewrites its title; a cache of its own."""
    monkeypatch.setenv("TUTOR_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "bank"
    folder.mkdir()
    source = Bank.open().path("neuron_one_input").read_text(encoding="utf-8")
    file = folder / "mine.yaml"

    def titled(title: str) -> None:
        before = file.stat().st_mtime_ns if file.exists() else 0
        file.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", source), encoding="utf-8")
        os.utime(file, ns=(before + 10**9, before + 10**9))  # a new time, even within the clock's tick

    return folder, titled


def listed_titles(folder: Path) -> list[str]:
    return [row["title"] for row in json.loads(run(["bank", "list", "--bank", str(folder), "--only-bank",
                                                    "--format", "json"]))]


def test_an_edited_template_is_read_again(own_bank):
    folder, titled = own_bank
    titled("Before")
    assert listed_titles(folder) == ["Before"]
    titled("Afters")  # the same size: only the time tells
    assert listed_titles(folder) == ["Afters"]
    titled("''")  # and a mistake made since is reported (and left out), not hidden by the cache
    result = CliRunner().invoke(cli, ["bank", "list", "--bank", str(folder), "--only-bank"])
    assert result.exit_code == 0 and result.stderr.startswith("skipped  "), result.stderr
    assert result.stderr.endswith("mine.yaml: title: is empty; write the text\n"), result.stderr


def test_entries_checked_by_another_version_are_checked_again(own_bank):
    folder, titled = own_bank
    titled("Real")
    assert listed_titles(folder) == ["Real"]
    file = catalogue_cache.cache_file()
    data = json.loads(file.read_text(encoding="utf-8"))
    data["rules"] = "0.0.1 " + data["rules"].split(" ", 1)[1]
    for entry in data["files"].values():
        entry["entry"]["title"] = "Stale"
    file.write_text(json.dumps(data), encoding="utf-8")
    assert listed_titles(folder) == ["Real"]


@pytest.mark.parametrize("spoil", ["not json", "half an entry", "a file where the folder should be"])
def test_a_spoilt_or_unwritable_cache_is_not_used_and_never_an_error(own_bank, monkeypatch, tmp_path, spoil):
    folder, titled = own_bank
    titled("Real")
    assert listed_titles(folder) == ["Real"]
    file = catalogue_cache.cache_file()
    if spoil == "not json":
        file.write_text("{not json", encoding="utf-8")
    elif spoil == "half an entry":
        data = json.loads(file.read_text(encoding="utf-8"))
        for entry in data["files"].values():
            del entry["entry"]["kind"]
        file.write_text(json.dumps(data), encoding="utf-8")
    else:
        blocker = tmp_path / "blocker"
        blocker.write_text("")
        monkeypatch.setenv("TUTOR_CACHE", str(blocker))
    assert listed_titles(folder) == ["Real"]
    if spoil != "a file where the folder should be":
        assert json.loads(file.read_text(encoding="utf-8"))["files"]  # written afresh

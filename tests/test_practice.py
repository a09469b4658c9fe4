"""`tutor practice`: the session loop through CliRunner (input=) and through a real
pseudo-terminal (pexpect), what it saves, and a killed terminal that loses nothing."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_tutor.bank.folders import Bank
from backprop_tutor.cli.app import cli
from backprop_tutor.bank.generate import generate
from backprop_tutor.learner.store import Attempt, Store

TEMPLATE, SEED = "mlp_2_2_1", 7


@pytest.fixture(scope="module")
def problem():
    return generate(Bank.open().load(TEMPLATE), SEED)


@pytest.fixture(scope="module")
def key(problem):
    return {part.id: part.answer for part in problem.parts}


def practise(db: Path, lines: list[str], *args: str):
    result = CliRunner().invoke(cli, ["practice", "--template", TEMPLATE, "--seed", str(SEED), "--count", "1",
                                      "--db", str(db), *args], input="".join(line + "\n" for line in lines))
    assert "Traceback" not in result.output, result.output
    return result


def saved(db: Path, table: str = "attempts") -> list[tuple]:
    columns = "part, answer, status" if table == "attempts" else "part, outcome, attempts, hints"
    return sqlite3.connect(db).execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()


def test_all_correct_scores_full_marks_and_saves_every_attempt(tmp_path, key):
    db = tmp_path / "p.sqlite3"
    result = practise(db, list(key.values()))
    assert result.exit_code == 0, result.output
    assert result.output.count("> Correct  (1/1)") == 5
    assert "Score: 5/5 on this problem" in result.output
    assert "Session over: 5/5 over 1 problem." in result.output
    assert saved(db) == [(part, answer, "correct") for part, answer in key.items()]
    assert [row[1] for row in saved(db, "outcomes")] == ["correct"] * 5


def test_the_problem_is_shown_with_its_network_and_conventions(tmp_path, key):
    output = practise(tmp_path / "p.sqlite3", ["quit"]).output
    assert "Problem 1/1: Backprop through a 2-2-1 network  (mlp_2_2_1, seed 7, level 2)" in output
    assert "x (2) ──▶ [tanh × 2] ──▶ [σ × 1] ──▶ L = half_sse" in output
    flowing = " ".join(output.replace("│", " ").split())  # the statement wraps inside its panel
    assert "t = (0.8)" in output and "Conventions:" in output and "mind the constant factor: 1/2" in flowing
    assert "Part 1/5 [a2] (1 point)  The output o = a⁽²⁾₀." in output


def test_a_wrong_answer_gets_its_diagnosis_without_the_answer(tmp_path, key):
    output = practise(tmp_path / "p.sqlite3", [key["a2"], "0.0829", "quit"]).output
    verdict = output[output.index("delta2> ") + len("delta2> "):]
    assert verdict.startswith("Incorrect  (0/1)\n  understood as: 0.0829\n"
                              "  The sign is flipped: (t − o)² has the inner derivative −1 with respect to o.\n  2 attempts left")
    assert "0.0829246" not in verdict.split("Score")[0]  # the key is not given away


def test_an_invalid_answer_costs_no_attempt_and_is_not_saved(tmp_path, key):
    db = tmp_path / "p.sqlite3"
    output = practise(db, ["foo(", "__import__('os')", "0.1", "0.2", "quit"]).output
    assert output.count("Invalid: ") == 2 and "(this costs no attempt)" in output
    assert "2 attempts left" in output and "1 attempt left" in output
    assert "attempt 3 of 3" not in output  # two graded attempts so far: the part is still open
    assert saved(db) == [("a2", "0.1", "incorrect"), ("a2", "0.2", "incorrect")]


def test_three_misses_show_the_parts_worked_step_and_move_on(tmp_path, key):
    db = tmp_path / "p.sqlite3"
    output = practise(db, ["0.1", "0.2", "0.3", "quit"]).output
    shown = output[output.index("That was attempt 3 of 3. Here is the worked step for a2:"):]
    assert shown.split("\n")[1] == "Forward pass, layer 2: weighted sums z⁽²⁾ and activations a⁽²⁾"
    assert "a⁽²⁾₀ = σ(z⁽²⁾₀) = σ(−0.132853) = 0.466836" in shown
    assert f"The answer: {key['a2']}" in shown
    assert "Part 2/5 [delta2]" in shown
    assert saved(db, "outcomes") == [("a2", "missed", 3, 0)]


def test_hints_are_graduated_one_per_request(tmp_path, problem):
    hints = problem.parts[0].hints
    output = practise(tmp_path / "p.sqlite3", ["hint"] * 4 + ["quit"]).output
    for n, hint in enumerate(hints, 1):
        assert f"Hint {n}/3: {hint.split(chr(10))[0][:30]}" in output
    assert output.index("Hint 1/3") < output.index("Hint 2/3") < output.index("Hint 3/3")
    assert "No more hints (all 3 given); type solution to see the worked step." in output


def test_solution_shows_the_step_and_scores_zero(tmp_path, key):
    db = tmp_path / "p.sqlite3"
    output = practise(db, [key["a2"], "solution", "quit"]).output
    assert "The worked step for delta2 (this part scores 0):\nBackward pass: the output delta δ⁽²⁾ = ∂L/∂z⁽²⁾" in output
    assert f"The answer: {key['delta2']}" in output
    assert "Score: 1/2 this session" in output  # a2 right, delta2 shown; delta1, untried when quitting, not counted
    assert saved(db, "outcomes") == [("a2", "correct", 1, 0), ("delta2", "revealed", 0, 0)]


def test_skip_moves_on_and_the_review_highlights_the_wrong_parts(tmp_path, key):
    lines = [key["a2"], key["delta2"], key["delta1"], "skip", key["db2"]]
    output = practise(tmp_path / "p.sqlite3", lines).output
    assert "Skipped dW1 (scores 0)" in output
    review = output[output.index("Your answers"):]
    assert re.search(r"dW1\s+—\s+✗ skipped\s+-0\.0534266984167", review)
    assert "Gradients of layer 1   ◀ your part dW1 went wrong here" in review
    assert "Score: 4/5 on this problem" in review


def test_quit_prints_the_score(tmp_path, key):
    result = practise(tmp_path / "p.sqlite3", [key["a2"], "quit"])
    assert result.exit_code == 0
    assert "Score: 1/1 this session (0 problems finished)." in result.output  # delta2 untried


def test_end_of_input_ctrl_d_leaves_cleanly_with_the_score(tmp_path, key):
    result = practise(tmp_path / "p.sqlite3", [key["a2"], "0.5"])  # then the input ends
    assert result.exit_code == 0
    assert "Score: 1/2 this session" in result.output


def test_later_parts_are_graded_against_the_learners_earlier_answers(tmp_path, problem):
    wrong = "[-0.1, -0.0248153087204]"  # δ⁽¹⁾₀ wrong; ∂L/∂w⁽¹⁾₀₁ = δ⁽¹⁾₀·x₁ = −0.1·0.7 follows from it
    key = {p.id: p.answer for p in problem.parts}
    output = practise(tmp_path / "p.sqlite3", [key["a2"], key["delta2"], "[0, 0]", "[1, 1]", wrong, "-0.07", "quit"]).output
    after = output[output.index("dW1> ") + len("dW1> "):]
    assert after.startswith("Correct  (1/1)")
    assert ("Correct given your value for delta1[0] (part delta1); the error began in part delta1."
            in " ".join(after.split()))


def test_the_same_seed_gives_the_same_session(tmp_path, key):
    lines = [key["a2"], "0.1", "hint", "skip", "quit"]
    first = practise(tmp_path / "a.sqlite3", lines).output
    assert practise(tmp_path / "b.sqlite3", lines).output == first


def test_without_a_template_the_least_mastered_skill_is_practised(tmp_path):
    db = tmp_path / "p.sqlite3"
    with Store.open(db) as store:
        store.start_session(0)
        for template in Bank.open().templates():  # every skill mastered ...
            for skill in set(template.skills) - {"chain_rule"}:
                for _ in range(10):
                    store.record_attempt(Attempt(template.id, 0, "p", skill, "1", "correct", 1, 1))
        for _ in range(3):  # ... but the chain rule
            store.record_attempt(Attempt("chain_rule_graph", 0, "p", "chain_rule", "1", "incorrect", 0, 1))
    result = CliRunner().invoke(cli, ["practice", "--seed", "4", "--count", "1", "--db", str(db)], input="quit\n")
    assert result.exit_code == 0, result.output
    assert re.search(r"\(chain_rule_graph, seed 4,\s+level 1\)", result.output)
    # three wrong answers from the prior 0.2: 0.081, 0.061, 0.058 (each pulled up by learn = 0.05)
    assert "Chosen for chain_rule: your least-mastered skill (mastery 6%)." in result.output


@pytest.mark.parametrize("args, message", [
    (["--template", "mlp_221"], "Error: unknown template 'mlp_221' (did you mean 'mlp_2_2_1'?)"),
    (["--skill", "backprop"], "Error: --skill: unknown skill 'backprop'"),
    (["--skill", "vectorized", "--level", "1"], "Error: no template in the bank practises skill vectorized and level 1"),
    (["--template", "mlp_2_2_1", "--level", "1"], "Error: --template picks the problem itself"),
])
def test_bad_selection_is_one_line_and_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["practice", "--db", str(tmp_path / "p.sqlite3"), "--seed", "1", *args])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("template", [t.id for t in Bank.open().templates()])
def test_every_part_of_every_template_has_its_worked_step(template):
    problem = generate(Bank.open().load(template), 1)
    for part in problem.parts:
        assert problem.steps_for(part), f"{template}: part {part.id} ({part.quantity.text}) has no worked step"


# --- a real terminal -----------------------------------------------------------------------------

pexpect = pytest.importorskip("pexpect")


def spawn(db: Path):
    env = dict(os.environ, TERM="dumb", NO_COLOR="1", COLUMNS="200")
    child = pexpect.spawn(sys.executable, ["-m", "backprop_tutor", "practice", "--template", TEMPLATE, "--seed",
                                           str(SEED), "--count", "1", "--db", str(db)],
                          env=env, encoding="utf-8", timeout=30, dimensions=(50, 200))
    child.expect_exact("a2> ")
    return child


def test_in_a_terminal_answers_hints_and_ctrl_d(tmp_path, key):
    db = tmp_path / "p.sqlite3"
    child = spawn(db)
    child.sendline("bad(")
    child.expect_exact("Invalid: ")
    child.expect_exact("a2> ")
    child.sendline("hint")
    child.expect_exact("Hint 1/3: ")
    child.expect_exact("a2> ")
    child.sendline(key["a2"])
    child.expect_exact("Correct  (1/1)")
    child.expect_exact("delta2> ")
    child.sendline("0.0829")
    child.expect_exact("Incorrect  (0/1)")
    child.expect_exact("The sign is flipped")
    child.expect_exact("delta2> ")
    child.sendeof()
    child.expect_exact("Score: 1/2 this session")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in child.before
    assert saved(db) == [("a2", key["a2"], "correct"), ("delta2", "0.0829", "incorrect")]


def test_in_a_terminal_ctrl_c_leaves_cleanly_with_the_score(tmp_path, key):
    child = spawn(tmp_path / "p.sqlite3")
    child.sendline(key["a2"])
    child.expect_exact("delta2> ")
    # CPython's readline can miss a SIGINT that lands between printing the prompt and waiting for
    # a key (its select() then waits on); on a loaded machine the test can hit that window, so it
    # presses Ctrl-C again, as a person would, until the session answers.
    for _ in range(5):
        child.sendintr()
        if child.expect_exact(["Score: 1/1 this session", pexpect.TIMEOUT], timeout=6) == 0:
            break
    else:
        pytest.fail("Ctrl-C did not end the session")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in child.before


def test_kill_9_in_the_middle_of_a_session_loses_no_graded_attempt(tmp_path, key):
    db = tmp_path / "p.sqlite3"
    child = spawn(db)
    child.sendline(key["a2"])
    child.expect_exact("delta2> ")
    child.sendline("0.5")
    child.expect_exact("2 attempts left")
    child.expect_exact("delta2> ")  # the next prompt: the attempt is already committed
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signal.SIGKILL
    assert saved(db) == [("a2", key["a2"], "correct"), ("delta2", "0.5", "incorrect")]


def test_in_a_terminal_the_up_arrow_recalls_answers_from_an_earlier_session(tmp_path):
    db = tmp_path / "p.sqlite3"
    child = spawn(db)
    child.sendline("0.31415")
    child.expect_exact("a2> ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert "0.31415" in (tmp_path / "practice-history").read_text()
    child = spawn(db)
    child.send("\x1b[A\x1b[A")  # ↑↑: past yesterday's quit, its answer
    child.sendline("")
    child.expect_exact("understood as: 0.31415")
    child.sendline("quit")
    child.expect(pexpect.EOF)


# --- stored before shown -------------------------------------------------------------------------

class TerminalClosed(Exception):
    """What the display raises when the terminal goes away mid-session."""


class ClosingView:
    """practice_view, except that its verdict is a marker the display cannot show."""

    VERDICT = object()

    def __getattr__(self, name):
        from backprop_tutor.cli import practice_view

        return getattr(practice_view, name)

    def verdict(self, result):
        return self.VERDICT


def closing_session(store, answers):
    from backprop_tutor.learner.practice import Session

    typed = iter(answers)

    def show(renderable):
        if renderable is ClosingView.VERDICT:
            raise TerminalClosed

    return Session(store, lambda prompt: next(typed), show, ClosingView())


@pytest.mark.parametrize("answer, status", [("key", "correct"), ("0.1", "incorrect")])
def test_an_attempt_is_stored_before_its_verdict_is_shown(tmp_path, problem, key, answer, status):
    text = key["a2"] if answer == "key" else answer
    with Store.open(tmp_path / "p.sqlite3") as store:
        store.start_session(SEED)
        with pytest.raises(TerminalClosed):
            closing_session(store, [text]).practise(problem)
        assert [(a.part, a.answer, a.status) for a in store.attempts()] == [("a2", text, status)]
        # a part that ended with that answer has its outcome stored as well
        assert [(o.part, o.outcome) for o in store.outcomes()] == ([("a2", "correct")] if status == "correct" else [])


def test_a_part_that_ends_is_stored_before_its_last_verdict_is_shown(tmp_path, problem):
    with Store.open(tmp_path / "p.sqlite3") as store:
        store.start_session(SEED)
        session = closing_session(store, ["0.1", "0.2", "0.3"])
        shown = session.show
        verdicts = []

        def show(renderable):  # the first two verdicts are shown; the terminal closes at the third
            if renderable is ClosingView.VERDICT:
                verdicts.append(renderable)
                if len(verdicts) < 3:
                    return
            shown(renderable)

        session.show = show
        with pytest.raises(TerminalClosed):
            session.practise(problem)
        assert [a.answer for a in store.attempts()] == ["0.1", "0.2", "0.3"]
        assert [(o.part, o.outcome, o.attempts) for o in store.outcomes()] == [("a2", "missed", 3)]


# --- a repeated answer ---------------------------------------------------------------------------

def test_the_same_wrong_answer_again_is_refused_and_costs_no_attempt(tmp_path, key):
    db = tmp_path / "p.sqlite3"
    # " 0.10 " and "1/10" are 0.1 again (spacing, a trailing zero, a fraction): one answer
    output = practise(db, ["0.1", " 0.10 ", "1/10", "0.2", "0.1", "0.3", "quit"]).output
    words = " ".join(output.split())  # the console wraps at 80 columns
    assert words.count("a2> Invalid: the same as your attempt 1 (0.1), which was not correct; it is not graded "
                       "again (this costs no attempt)") == 3
    assert saved(db) == [("a2", "0.1", "incorrect"), ("a2", "0.2", "incorrect"), ("a2", "0.3", "incorrect")]
    assert output.index("1 attempt left") < output.index("That was attempt 3 of 3")


def test_a_repeated_formula_is_the_same_after_reading(tmp_path):
    result = CliRunner().invoke(cli, ["practice", "--template", "activation_derivative_symbolic", "--seed", "1",
                                      "--count", "1", "--db", str(tmp_path / "p.sqlite3")],
                                input="2z\nz*2\n2 * z\nquit\n")
    assert "Traceback" not in result.output, result.output
    assert result.output.count("the same as your attempt 1") == 2
    assert [row[1] for row in saved(tmp_path / "p.sqlite3")] == ["2z"]

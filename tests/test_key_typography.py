"""Homework keys read as a teacher would write them (issue 12, point 14): the paragraph on why
backprop needs derivatives once per key, not once per problem; powers such as e^z raised, a
change written Δ, formulas on one line spaced by \\quad; and the key compiles with pdflatex."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from backprop_tutor.bank.folders import Bank
from backprop_tutor.homework.writer import render_student
from backprop_tutor.worked.texescape import escape

# Several network problems per key (each has a why step), and the template whose prompt says e^z.
TEMPLATES = ("mlp_2_2_1", "vectorized_backprop", "deep_2_2_2_1", "softmax_regression_3_class",
             "activation_derivative_symbolic", "neuron_sigmoid_bce")
STUDENTS = ("ana", "ben")
WHY = "Why we need the derivatives"
_MATH_LINE = re.compile(r"^\\\[ (.*) \\\]$", re.M)


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    bank = Bank.open()
    templates = [bank.load(t) for t in TEMPLATES]
    out = {}
    for student in STUDENTS:
        out.update({path: text for path, text in render_student(templates, student, 11).texts
                    if path.startswith("keys/")})
    return out


def test_every_key_says_why_once(keys):
    assert len(keys) == 2 * len(STUDENTS)
    for path, text in keys.items():
        assert text.count(WHY) == 1, path


def test_a_single_solution_still_says_why():
    from backprop_tutor.bank.generate import generate

    problem = generate(Bank.open().load("mlp_2_2_1"), 3)
    assert sum(WHY in step.title for step in problem.steps) == 1


def test_powers_are_raised_not_printed_as_carets(keys):
    for path, text in keys.items():
        if path.endswith(".tex"):
            assert r"\textasciicircum" not in text, path
            assert "$e^{z}$" in text  # activation_derivative_symbolic: "… exp, e^z …"
            assert "$^($" not in text and "$$" not in text  # w⁽²⁾ is one superscript, not three


@pytest.mark.parametrize("text, tex", [
    ("e^z", "$e^{z}$"), ("1/(1 + e^(−z))", "$1/(1 + e^{-z})$"), ("e^(zⱼ)", "$e^{z_{j}}$"),
    ("(1 + x)^2", "$(1 + x)^{2}$"), ("z⁽²⁾ and δ⁽³⁾₀", r"$z^{(2)}$ and $\delta^{(3)}_{0}$"),
    ("a ^ b", r"a \textasciicircum{} b"), ("cost $5", r"cost \$5"),
])
def test_escape_typesets_powers_and_indices(text, tex):
    assert escape(text) == tex


def test_a_change_is_a_delta_and_formulas_are_spaced(keys):
    for path, text in keys.items():
        if not path.endswith(".tex"):
            continue
        math = _MATH_LINE.findall(text)
        after = [m for m in math if r"\to" in m and m.startswith("L = ")]
        assert after and all(re.search(r",\\quad \\Delta L = -?\d", m) for m in after), path
        assert not any("change" in m for m in math), path  # a word in math italics
        gradients = [m for m in math if r"\partial w^{(1)}_{jk}}" in m]
        assert gradients and all(r",\quad \frac{\partial L}{\partial b" in m for m in gradients), path
    why = [t for p, t in keys.items() if p.endswith(".tex")][0]
    assert r"$\Delta L / \Delta w$" in why and r"$\partial L/\partial w$" in why


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_the_key_compiles(keys, tmp_path):
    for path, text in keys.items():
        if path.endswith(".tex"):
            tex = tmp_path / path.split("/")[-1]
            tex.write_text(text, encoding="utf-8")
            run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                                 cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=120)
            assert run.returncode == 0, [l for l in run.stdout.splitlines() if l.startswith("!")][:3]

"""Formulas inside prose are typeset as one piece of math in LaTeX (issue 12, point 14): not
∂ by ∂ with upright letters and a hyphen for a minus; the words around them stay text; the
said lines of a step are separate paragraphs; a key with every template compiles without a
line running into the margin."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from backprop_tutor.bank.folders import Bank
from backprop_tutor.homework.writer import render_student
from backprop_tutor.worked.texescape import escape


@pytest.fixture(scope="module")
def key() -> str:
    """The LaTeX key of one student with every template of the bank."""
    files = render_student(Bank.open().templates(), "ana", 11)
    return dict(files.texts)["keys/ana.tex"]


@pytest.mark.parametrize("text, tex", [
    ("the factor ½ cancels the 2 of the power rule: ∂L/∂oⱼ = oⱼ − tⱼ",
     r"the factor $\tfrac12$ cancels the 2 of the power rule: $\partial L/\partial o_{j} = o_{j} - t_{j}$"),
    ("ratio − ∂L/∂w", r"ratio ${}- \partial L/\partial w$"),  # binary minus after the word
    ("The ratios approach ∂f/∂x = 0", r"The ratios approach $\partial f/\partial x = 0$"),
    ("tanh(z); tanh′(z) = 1 − tanh²(z)", r"$\tanh(z)$; $\tanh'(z) = 1 - \tanh^{2}(z)$"),
    ("why σ′ cancels", r"why $\sigma'$ cancels"),  # a prime, not a closing quote
    ("The loss L = −Σⱼ tⱼ ln pⱼ.", r"The loss $L = -\sum_{j} t_{j} \ln p_{j}$."),
    ("leaky_relu′(0) = 0.01 by convention", r"$\operatorname{leaky\_relu}'(0) = 0.01$ by convention"),
    ("(averaged: ∂L/∂oⱼ = (1/n)(oⱼ − tⱼ))", r"(averaged: $\partial L/\partial o_{j} = (1/n)(o_{j} - t_{j})$)"),
])
def test_a_formula_in_prose_is_one_piece_of_math(text, tex):
    assert escape(text) == tex


@pytest.mark.parametrize("text", [
    "as a 2×3 matrix", "a sum, not a mean", "I think a b", "in terms of o and t?",
    "A 2-2-1 network (layer 1: tanh); layers are numbered 0 (input) to 2 (output).",
    "Ana Silva's key", "W1_new", "-0.000213700055203", "[0.84, -0.56]", "n2",
])
def test_words_stay_text(text):
    """A lone letter beside words or a number is English ("a", "I"), a label with hyphens is a
    label, a number alone in a cell keeps its text; only the 2×3 is math."""
    tex = escape(text)
    assert not re.search(r"\$[^$]*[A-Za-z][^$]*\$", tex.replace(r"\times", "")), tex


def test_no_formula_is_typeset_symbol_by_symbol(key):
    # the old escaping: $\partial$L, o$_{j}$, σ′ as a quote
    assert not re.search(r"\$\\partial\$|[A-Za-z]\$_\{|\$\\sigma\$'", key)
    assert r"$\partial L/\partial o_{j} = o_{j} - t_{j}$" in key
    assert r"$\partial L/\partial w^{(1)}_{00}$" in key


def test_said_lines_are_paragraphs(key):
    """Two said lines in a row would be one paragraph to TeX: each ends with a blank line."""
    from backprop_tutor.worked.steps import Lines

    lines = Lines()
    lines.say("Learning rate η = 0.5.")
    lines.say("tanh(z); tanh′(z) = 1 − tanh²(z)")
    lines.math(lambda tex: "z = 1" if tex else "z = 1")
    lines.say("So it goes.")
    latex = lines.step("Title").latex
    assert latex.split("\n\n") == [r"Learning rate $\eta = 0.5$.",
                                   "$\\tanh(z)$; $\\tanh'(z) = 1 - \\tanh^{2}(z)$\n\\[ z = 1 \\]", "So it goes."]
    # in a key, too: the learning rate is its own paragraph, not the tail of the loss's line
    assert "\n\nLearning rate $\\eta = " in key and not re.search(r"[^\n]\nLearning rate", key)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_every_template_compiles_within_the_margin(key, tmp_path):
    (tmp_path / "key.tex").write_text(key, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "key.tex"],
                         cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=300)
    assert run.returncode == 0, [line for line in run.stdout.splitlines() if line.startswith("!")][:3]
    log = (tmp_path / "key.log").read_text(encoding="utf-8", errors="replace")
    overfull = [float(m) for m in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert all(width <= 20 for width in overfull), sorted(overfull)[-3:]

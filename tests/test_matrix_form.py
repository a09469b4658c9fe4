"""The matrix-form templates are solved with whole vectors and matrices (issue 12, point 13):
δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ f′(z⁽ˡ⁾), ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ and W ← W − η∂L/∂W, every matrix shown
with its numbers. The shown matrices are read back from the text and multiplied here in plain
Python (Fractions), and the results checked against the independent reference backprop; the
other network templates keep the unit-by-unit solution."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

import reference_backprop as R
from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.worked.notation import prime
from backprop_tutor.worked.render import render_latex, render_markdown
from backprop_tutor.bank.report import problem_report

MATRIX_TEMPLATES = ("vectorized_backprop", "vectorized_update_2_3_2")
SEEDS = (0, 1, 7)
SHOWN = 1e-5  # the steps print 6 significant digits
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_BLOCK = re.compile(r"\[([^\[\]]*)\]")


def _number(text: str) -> Fraction:
    text = text.replace("−", "-")
    if "×10" in text:
        mantissa, exponent = text.split("×10")
        return Fraction(mantissa) * Fraction(10) ** int(exponent.translate(_SUPERSCRIPT))
    return Fraction(text)


def _blocks(line: str) -> list[list[list[Fraction]]]:
    """Every `[a b; c d]` of a line, as rows of numbers (a column vector is n×1, a row 1×n)."""
    return [[[_number(x) for x in row.split()] for row in block.split(";")] for block in _BLOCK.findall(line)]


def _matmul(A, B):
    assert len(A[0]) == len(B), "shapes do not chain"
    return [[sum(A[i][t] * B[t][j] for t in range(len(B))) for j in range(len(B[0]))] for i in range(len(A))]


def _close(shown, exact, rel=SHOWN) -> bool:
    shown, exact = [float(x) for r in shown for x in r], [float(x) for r in exact for x in r]
    return len(shown) == len(exact) and all(abs(s - e) <= rel * max(abs(e), 1e-6) for s, e in zip(shown, exact))


def _line(step, start: str) -> str:
    [line] = [l.strip() for l in step.text.splitlines() if l.strip().startswith(start)]
    return line


def _step(problem, title_start: str):
    [step] = [s for s in problem.steps if s.title.startswith(title_start)]
    return step


def _problems():
    bank = Bank.open()
    return [generate(bank.load(t), seed) for t in MATRIX_TEMPLATES for seed in SEEDS]


@pytest.fixture(scope="module")
def problems():
    return _problems()


def test_hidden_delta_is_the_transposed_weights_times_the_delta_above(problems):
    for problem in problems:
        net = problem.solution.network.to_json()
        reference = R.evaluate(net)
        step = _step(problem, "Backward pass: hidden delta δ⁽¹⁾")
        Wt, d2, sent = _blocks(_line(step, "(W⁽²⁾)ᵀ δ⁽²⁾ ="))
        assert Wt == [[Fraction(w) for w in col] for col in zip(*[[Fraction(str(v)) for v in r] for r in net["layers"][1]["weights"]])]
        assert _close(d2, [[d] for d in R.value(reference, "delta2")])
        assert _close(sent, _matmul(Wt, d2))
        summed, slopes, delta1 = _blocks(_line(step, "δ⁽¹⁾ = ["))
        assert summed == sent
        assert _close(delta1, [[s[0] * f[0]] for s, f in zip(summed, slopes)], 2 * SHOWN)
        assert _close(delta1, [[d] for d in R.value(reference, "delta1")])
        # each entry of f′(z⁽¹⁾) is worked out from the learner's own rule, ending on the value used
        activation = net["layers"][0]["activation"]
        for j, slope in enumerate(slopes):
            worked = _line(step, f"{prime(activation)}(z⁽¹⁾{'₀₁₂₃'[j]}) =")
            assert _close([[_number(worked.rsplit(" = ", 1)[1])]], [slope])


def test_weight_gradients_are_outer_products(problems):
    for problem in problems:
        reference = R.evaluate(problem.solution.network.to_json())
        for l in (1, 2):
            step = _step(problem, f"Gradients of layer {l}")
            delta, a_row, grad = _blocks(_line(step, f"∂L/∂W{'⁽¹⁾' if l == 1 else '⁽²⁾'} ="))
            assert len(delta[0]) == 1 and len(a_row) == 1  # a column times a row
            assert _close(grad, _matmul(delta, a_row), 2 * SHOWN)
            assert _close(grad, R.value(reference, f"dW{l}"))
            assert _close(a_row, [R.value(reference, f"a{l - 1}")])


def test_the_update_moves_whole_matrices(problems):
    for problem in problems:
        net = problem.solution.network.to_json()
        eta = Fraction(str(net["learning_rate"]))
        reference = R.evaluate(net)
        step = _step(problem, "The update, whole matrices at once")
        for l in (1, 2):
            W, grad, new = _blocks(_line(step, f"W{'⁽¹⁾' if l == 1 else '⁽²⁾'} ←"))
            assert _close(new, [[w - eta * g for w, g in zip(rw, rg)] for rw, rg in zip(W, grad)], 2 * SHOWN)
            assert _close(new, R.value(reference, f"W{l}_new"))


def test_the_latex_shows_the_same_matrices_as_bmatrix(problems):
    problem = problems[0]
    step = _step(problem, "Backward pass: hidden delta δ⁽¹⁾")
    assert r"\left(W^{(2)}\right)^{\mathsf{T}} \delta^{(2)}" in step.latex
    assert step.latex.count(r"\begin{bmatrix}") == 6  # Wᵀ, δ⁽²⁾, the product; it, f′, δ⁽¹⁾
    text_numbers = re.findall(r"−?\d[\d.]*", " ".join(b for b in _BLOCK.findall(_line(step, "δ⁽¹⁾ = ["))))
    for number in text_numbers:
        assert number.replace("−", "-") in step.latex
    gradient = _step(problem, "Gradients of layer 1")
    assert r"\delta^{(1)} \left(a^{(0)}\right)^{\mathsf{T}}" in gradient.latex
    report = problem_report(problem)
    assert "(W⁽²⁾)ᵀ δ⁽²⁾ = [" in render_markdown(report)
    assert r"\begin{bmatrix}" in render_latex(report)


@pytest.mark.parametrize("template", ["mlp_2_2_1", "deep_2_2_2_1", "softmax_cross_entropy_2_3_2"])
def test_other_templates_keep_the_unit_by_unit_solution(template):
    problem = generate(Bank.open().load(template), 1)
    text = "\n".join(s.text for s in problem.steps)
    latex = "\n".join(s.latex for s in problem.steps)
    assert "Σⱼ" in text and "ᵀ" not in text and r"\begin{bmatrix}" not in latex
    assert "The update, whole matrices at once" not in [s.title for s in problem.steps]

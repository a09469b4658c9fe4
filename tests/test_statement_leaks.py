"""A statement gives the data and asks; it never answers. For every template and 20 seeds, no
asked part's value or formula appears in what a learner sees before asking for a hint: the
title, the statement (plain and LaTeX), every prompt (a sheet shows them all at once) and the
template's own mistake feedback (shown after a wrong answer, before any hint).

- A value counts as shown when a number in that text, of 3 or more significant digits, is the
  value rounded to that many digits (so 0.0511, −1.78 and 0.051107836 all count). Shorter
  numbers are the given data's (weights of one or two decimals) and would match by chance; so
  would a value that equals a drawn parameter exactly (a weight a zero gradient leaves alone).
- A formula is a part's answer in symbols: a formula part's key (f′ in z, or in a = f(z)), and
  for ∂L/∂oⱼ and the output δⱼ their closed form in oⱼ and tⱼ (what those parts exist to make
  the learner derive). Every stretch of the text that reads as a formula in o, t, n (p, a, σ
  for the outputs; subscripts and layer marks dropped) is parsed and compared, at random
  points, with the true derivative, which this test gets from SymPy by differentiating the
  loss of the activated outputs itself, not from the engine's rules. So "2(oⱼ − tⱼ)",
  "(2/n)(oⱼ − tⱼ)" with n = 2, "pⱼ − tⱼ" and "σ − t" are all caught, however printed.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from decimal import Decimal

import pytest
import sympy as sp

from backprop_tutor.bank.folders import Bank
from backprop_tutor.bank.generate import generate
from backprop_tutor.engine import activations, losses, slips
from backprop_tutor.engine.parsing import parse, to_sympy
from backprop_tutor.engine.quantities import Kind
from backprop_tutor.errors import AnswerFormatError

SEEDS = range(20)
TEMPLATES = [t.id for t in Bank.open().templates()]


def shown_before_hints(problem) -> tuple[str, ...]:
    return (problem.title, problem.statement.text, problem.statement.latex,
            *(part.prompt for part in problem.parts),
            *(m.feedback for part in problem.parts for m in part.mistakes),
            *slip_feedback(problem))


def slip_feedback(problem) -> set[str]:
    """Every feedback the engine's slips could give on this problem after a wrong answer, before
    any hint: each slip, for each activation of the problem, about a later quantity or about the
    asked one itself."""
    network = problem.kind.network(problem.solution)
    names = ({layer.activation for layer in network.layers} if network is not None
             else {getattr(problem.solution, "name", "")})
    return {slips.feedback(slip.name, activation, layer, asked) for slip in slips.SLIPS for activation in names
            for layer in (None, 1) for asked in (False, True)}


# --- values ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])[−-]?(?:\d+\.\d+|\d+)")


def _numbers(text: str) -> list[Decimal]:
    return [Decimal(m[0].replace("−", "-")) for m in _NUMBER.finditer(text)]


def _significant(d: Decimal) -> int:
    return len(d.as_tuple().digits) if d else 0


def _shows(token: Decimal, value: Decimal) -> bool:
    ulp = Decimal(1).scaleb(token.as_tuple().exponent)
    return abs(value - token) <= ulp / 2 * Decimal("1.000001")


def _entries(value):
    if isinstance(value, tuple):
        for v in value:
            yield from _entries(v)
    else:
        yield Decimal(str(sp.N(value, 30)))


def value_leaks(problem) -> list[str]:
    given = {d for _, text in problem.parameters for d in _numbers(text)}
    tokens = [d for text in shown_before_hints(problem) for d in _numbers(text) if _significant(d) >= 3]
    found = []
    for part in problem.parts:
        if part.value.expression:
            continue
        for v in _entries(part.value.approx):
            if v != 0 and v not in given:
                found += [f"{part.id} = {v:.12g} shown as {t}" for t in tokens if _shows(t, v)]
    return found


# --- formulas -------------------------------------------------------------------------------------

o, t, n, zs = sp.Symbol("o"), sp.Symbol("t"), sp.Symbol("n"), sp.Symbol("z")
_OUTPUT_NAMES = ("o", "p", "a", "y")  # what a text may call an output
_FUNCTIONS = r"exp|ln|log|tanh|sigmoid|sech|sqrt|softplus|σ"
_RUN = re.compile(rf"(?:\d+(?:\.\d+)?|\b[otpnayz]\b|\b(?:{_FUNCTIONS})(?=\()|[-+*/^()]| )+")


def _normalised(text: str) -> str:
    """Unicode and LaTeX notation → what the answer parser reads: subscripts and layer marks
    dropped (the statement's j is any output), a lone σ standing for the output σ(z)."""
    text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", text)
    text = re.sub(r"_\{[^{}]*\}|_[A-Za-z0-9]|\^\{\([^{}]*\)\}", "", text)
    text = re.sub(r"\\(left|right|,|;|!)", "", text)
    for a, b in (("\\cdot", "*"), ("\\times", "*"), ("\\sigma", "σ"), ("\\ln", "ln"), ("\\exp", "exp"), ("{", "("),
                 ("}", ")"), ("−", "-"), ("·", "*"), ("×", "*"), ("²", "^2")):
        text = text.replace(a, b)
    text = re.sub(r"⁽[^⁾]*⁾|[ⱼₖᵢₗ₀-₉]", "", text)
    return re.sub(r"σ(?![(′'])", "o", text)


def _balanced(text: str) -> str:
    text = text.strip()
    while text and text.count("(") != text.count(")"):
        if text.count("(") > text.count(")") and text.startswith("("):
            text = text[1:].strip()
        elif text.count(")") > text.count("(") and text.endswith(")"):
            text = text[:-1].strip()
        else:
            return ""
    return text


def candidates(text: str, names: tuple[str, ...]) -> set[str]:
    """Every stretch of up to 8 words of the text that could be a formula in `names`."""
    out = set()
    for run in _RUN.findall(_normalised(text)):
        words = run.split()
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + 8) + 1):
                piece = _balanced(" ".join(words[i:j]))
                if piece and re.search(rf"\b({'|'.join(names)})\b", piece):
                    out.add(piece)
    return out


def _read(piece: str, names: tuple[str, ...]):
    try:
        value = to_sympy(parse(piece, names), {name: sp.Symbol(name) for name in names})
    except (AnswerFormatError, TypeError, ValueError, ZeroDivisionError):
        return None
    return value if isinstance(value, sp.Expr) and value.free_symbols else None


def _same_at(points, candidate, truths) -> bool:
    for point, truth in zip(points, truths):
        try:
            mine = complex(sp.N(candidate.xreplace(point), 20))
        except (TypeError, ValueError):
            return False
        if abs(mine - truth) > 1e-9 * max(1, abs(truth)):
            return False
    return True


def _output_points(network, quantity, rng):
    """(point in o, t, n) → the true ∂L/∂o₀ or δ₀ there: SymPy differentiates the loss of the
    activated outputs at random pre-activations and targets."""
    size = len(network.target)
    z = sp.symbols(f"z0:{size}")
    layer = network.layers[-1]
    if layer.activation == activations.SOFTMAX:
        total = sp.Add(*[sp.exp(v) for v in z])
        outputs = [sp.exp(v) / total for v in z]
    else:
        f = activations.ELEMENTWISE[layer.activation].expr
        outputs = [f.xreplace({activations.z: v}) for v in z]
    os_, ts = losses.symbols(size)
    loss = losses.LOSSES[network.loss].expr(size)
    points = []
    for _ in range(4):
        zv = [sp.Rational(rng.randint(-150, 150), 100) for _ in z]
        tv = [sp.Rational(rng.randint(5, 95), 100) for _ in z]
        if network.loss == "cross_entropy":  # its p − t shortcut holds for targets summing to 1
            tv = [v / sum(tv) for v in tv]
        ov = [sp.N(out.xreplace(dict(zip(z, zv))), 30) for out in outputs]
        at = {**dict(zip(os_, ov)), **dict(zip(ts, tv))}
        if quantity.kind is Kind.LOSS_GRADIENT:
            truth = sp.diff(loss, os_[0]).xreplace(at)
        else:
            composed = loss.xreplace(dict(zip(os_, outputs)))
            truth = sp.diff(composed, z[0]).xreplace({**dict(zip(z, zv)), **dict(zip(ts, tv))})
        points.append(({o: ov[0], t: tv[0], n: size}, complex(sp.N(truth, 30))))
    return points


def _asks_output_formula(problem, part) -> bool:
    quantity, network = part.quantity, problem.kind.network(problem.solution)
    return network is not None and (quantity.kind is Kind.LOSS_GRADIENT
                                    or (quantity.kind is Kind.DELTA and quantity.layer == len(network.layers)))


def formula_leaks(problem) -> list[str]:
    found = []
    rng = random.Random(0)
    texts = shown_before_hints(problem)
    for part in problem.parts:
        if part.value.expression:
            names = tuple(part.value.variables) + tuple(name for name, _ in part.where)
            defined = {sp.Symbol(name): to_sympy(parse(text, part.value.variables), {"z": zs})
                       for name, text in part.where}
            exact = part.value.exact.xreplace({activations.z: zs})
            tried = [{zs: sp.Rational(rng.randint(-200, 200), 100)} for _ in range(4)]
            points = [(point, complex(sp.N(exact.xreplace(point), 30))) for point in tried]

            def expand(c, defined=defined):
                return c.xreplace(defined).xreplace({sp.Symbol("z"): zs})
        elif _asks_output_formula(problem, part):
            names = _OUTPUT_NAMES + ("t", "n")
            points = _output_points(problem.kind.network(problem.solution), part.quantity, rng)

            def expand(c):
                return c.xreplace({sp.Symbol(name): o for name in _OUTPUT_NAMES})
        else:
            continue
        for text in texts:
            for piece in candidates(text, names):
                read = _read(piece, names)
                if read is not None and _same_at([p for p, _ in points], expand(read), [v for _, v in points]):
                    found.append(f"{part.id}: its formula {piece!r} in {text[:60]!r}…")
    return found


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_no_statement_gives_an_asked_part_away(template_id):
    template = Bank.open().load(template_id)
    leaks = []
    for seed in SEEDS:
        problem = generate(template, seed, worked=False)
        leaks += [f"seed {seed}: {leak}" for leak in value_leaks(problem) + formula_leaks(problem)]
    assert not leaks, "\n".join(leaks[:10])


# The detector itself: it must catch every way a leak is printed, or the test above proves nothing.

def _with_intro(template_id: str, seed: int, intro: str):
    problem = generate(Bank.open().load(template_id), seed, worked=False)
    return replace(problem, statement=replace(problem.statement, intro=intro))


@pytest.mark.parametrize("template_id, text", [
    ("neuron_squared_error", "∂L/∂oⱼ = 2(oⱼ − tⱼ)"),
    ("neuron_squared_error", r"$\partial L/\partial o_j = 2\left(o_{j} - t_{j}\right)$"),
    ("neuron_squared_error", "no ½, so 2*o - 2*t."),
    ("neuron_squared_error", "It is 2·(o₀ − t₀)."),
    ("softmax_cross_entropy_2_3_2", "see it collapse to p − t."),
    ("softmax_cross_entropy_2_3_2", r"$\delta_j = p_j - t_j$"),
    ("neuron_sigmoid_bce", "and why δ = σ − t"),
    ("neuron_sigmoid_bce", "∂L/∂oⱼ = (1/n)(oⱼ − tⱼ)/(oⱼ(1 − oⱼ))"),
    ("relu_hidden_2_3_1", "the ½ cancels the 2: ∂L/∂oⱼ = oⱼ − tⱼ"),
    ("activation_derivative_symbolic", "Known forms: σ′ = σ(1 − σ), tanh′ = 1 − tanh², softplus′ = σ(z), "
                                       "silu′ = σ(z)(1 + z(1 − σ(z)))."),
])
def test_the_detector_finds_a_formula_however_printed(template_id, text):
    assert formula_leaks(_with_intro(template_id, 0, text))


def test_the_detector_finds_the_mean_factor_with_n_put_in():
    seed = next(s for s in SEEDS if "mse" in generate(Bank.open().load("mse_constant_factor"), s, False).statement.text)
    assert formula_leaks(_with_intro("mse_constant_factor", seed, "∂L/∂oⱼ = (2/n)(oⱼ − tⱼ)"))


def test_the_detector_finds_a_value_at_any_precision():
    problem = generate(Bank.open().load("mlp_2_2_1"), 3, worked=False)
    delta = Decimal(problem.part("delta2").answer)
    for shown in (f"{delta:.3}", f"{delta:.6}", problem.part("delta2").answer):
        assert value_leaks(_with_intro("mlp_2_2_1", 3, f"δ = {shown.replace('-', '−')}."))
    assert not value_leaks(_with_intro("mlp_2_2_1", 3, f"δ = {delta * 2:.3}."))


# --- a revealed step gives away no later part --------------------------------------------------------

NETWORK_TEMPLATES = [t.id for t in Bank.open().templates() if t.kind.name == "network"]
_BACKWARD = (Kind.LOSS_GRADIENT, Kind.SLOPE, Kind.DELTA)


@pytest.mark.parametrize("template_id", NETWORK_TEMPLATES)
def test_the_step_revealed_for_a_part_computes_no_later_part(template_id):
    """`solution` (or three misses) in practice shows the steps that compute the part: none of them
    may compute a later part of the backward pass (∂L/∂o, f′, δ), or revealing dL_do would print
    δ = o − t beside it. (A forward step still shows z with a = f(z), a gradient step ∂L/∂W with
    ∂L/∂b, the update W with b: each pair is one line of work apart.)"""
    template = Bank.open().load(template_id)
    for seed in range(3):
        problem = generate(template, seed)
        for i, part in enumerate(problem.parts):
            shown = problem.steps_for(part)
            assert shown, part.id
            for later in problem.parts[i + 1:]:
                if later.quantity.kind not in _BACKWARD or later.quantity.family == part.quantity.family:
                    continue  # another entry of the same vector: the same step computes both
                assert not any(step.shows(later.quantity) for step in shown), (seed, part.id, later.id)

"""Template + seed → Problem. Deterministic: randomness only through random.Random, seeded by
text (which Python hashes with SHA-512, independent of PYTHONHASHSEED and platform).

Constraints are enforced by redrawing, at most `max_draws` times; when they never hold, the
error says which constraint failed most and how to relax it. What a body means, which
quantities it has and which constraints apply is the template's kind's (bank/kinds/).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import sympy as sp

from backprop_tutor.bank.kinds import Instance, ProblemKind
from backprop_tutor.bank.problem import Mistake, Part, Problem, Value
from backprop_tutor.bank.template import REFERENCE, Parameter, PartSpec, Template, shape_size
from backprop_tutor.engine import numbers as num
from backprop_tutor.engine.quantities import QuantityError, QuantityId
from backprop_tutor.errors import AnswerFormatError, TemplateError

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
ZERO = 1e-9


def generate(template: Template, seed: int, worked: bool = True) -> Problem:
    """`worked=False` leaves out the worked solution's steps (grading needs only the values)."""
    rng = random.Random(f"{template.id}:{seed}")
    failures: Counter[str] = Counter()
    for draw in range(1, template.constraints.max_draws + 1):
        values = _draw(template.parameters, rng)
        instance = _instantiate(template, values, seed)
        violated = template.kind.violated(template.constraints, instance.solution)
        if violated is None:  # the parts (prompts, hints, keys) only for a draw that may be kept
            resolve = _resolver(template.kind, instance)
            parts = tuple(_part(template, spec, values, resolve) for spec in template.parts)
            violated = _zero_answer(template, parts)
        if violated is None:
            return Problem(template.id, seed, template.title, template.kind, template.level, template.skills,
                           instance.statement, tuple((k, _show(v)) for k, v in values.items()), parts,
                           instance.solution, _steps(template, instance) if worked else (), draw)
        failures[violated] += 1
    name, count = failures.most_common(1)[0]
    raise TemplateError(
        f"{template.source}: constraints.{name}: no variant satisfied the constraints in "
        f"{template.constraints.max_draws} draws for seed {seed} ({name} failed {count} times); "
        f"{_RELAX[name]}")


MATRIX_SKILL = "vectorized"


def _steps(template: Template, instance: Instance) -> tuple:
    """A template with the skill `vectorized` asks for whole vectors and matrices, so its
    worked solution is in matrix form where the kind has one (docs/formats.md, Templates)."""
    if MATRIX_SKILL in template.skills and instance.matrix_steps is not None:
        return instance.matrix_steps()
    return instance.steps()


_RELAX = {
    "kink_margin": "widen the parameter ranges or lower constraints.kink_margin",
    "saturation": "use smaller weights, or widen/disable constraints.saturation",
    "loss": "widen constraints.loss or change the targets",
    "nonzero_answers": "change the parameters so no asked answer is 0, or set may_be_zero on that part",
    "distinct_examples": "draw the examples' inputs and targets from wider ranges, so that their gradients differ",
    "kernel_symmetric": "draw the conv1d kernel from a wider range, so that it does not read the same backwards",
}


# --- drawing ------------------------------------------------------------------------------------

def _draw(parameters: tuple[Parameter, ...], rng: random.Random) -> dict:
    values: dict[str, Any] = {}
    for p in parameters:
        shape = tuple(shape_size(d, values) for d in p.shape)
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape):
            raise TemplateError(f"parameters.{p.name}.shape: sizes must be whole numbers ≥ 1, got {list(shape)}")
        if not shape:
            values[p.name] = _scalar(p, rng)
        elif len(shape) == 1:
            values[p.name] = tuple(_scalar(p, rng) for _ in range(shape[0]))
        else:
            values[p.name] = tuple(tuple(_scalar(p, rng) for _ in range(shape[1])) for _ in range(shape[0]))
    return values


def _scalar(p: Parameter, rng: random.Random):
    if p.kind == "choice":
        return p.spec[rng.randrange(len(p.spec))]
    if p.kind == "integer":
        while True:
            value = rng.randint(p.spec[0], p.spec[1])
            if not (p.nonzero and value == 0):
                return sp.Integer(value)
    scale = 10**p.places
    low, high = round(Decimal(str(p.spec[0])) * scale), round(Decimal(str(p.spec[1])) * scale)
    if p.nonzero and low == high == 0:
        raise TemplateError(f"parameters.{p.name}: nonzero, but the range holds only 0")
    while True:
        value = rng.randint(low, high)
        if not (p.nonzero and value == 0):
            return sp.Rational(value, scale)


def _show(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, sp.Basic):
        return num.plain(value)
    return str(value)


def _substitute(body: Any, values: dict) -> Any:
    """Replace "$name" in the template body by the drawn values (as text the loaders accept)."""
    if isinstance(body, str):
        if REFERENCE.fullmatch(body):
            return _data(values[body[1:]])
        return REFERENCE.sub(lambda m: _show(values[m[1]]), body)
    if isinstance(body, dict):
        return {k: _substitute(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [_substitute(v, values) for v in body]
    return body


def _data(value):
    if isinstance(value, tuple):
        return [_data(v) for v in value]
    if isinstance(value, sp.Rational):
        return num.plain(value) if value.q in (1, 2, 4, 5, 8, 10, 20, 25, 50, 100, 1000, 10000) else str(value)
    return value


# --- building -----------------------------------------------------------------------------------

def _instantiate(template: Template, values: dict, seed: int) -> Instance:
    body = _substitute(template.body, values)
    intro = _fill(template.statement, values, None, f"{template.source}: statement") if template.statement else ""
    instance = template.kind.instantiate(body, f"{template.source}: {template.kind.name}", seed)
    return replace(instance, statement=replace(instance.statement, intro=intro))


def _resolver(kind: ProblemKind, instance: Instance):
    """Quantity text → (its id, its Value in this draw); QuantityError when it has none. Each
    quantity is resolved once: the prompt, the hints and the mistakes name the same few."""
    known: dict[str, tuple[QuantityId, Value]] = {}

    def resolve(text: str) -> tuple[QuantityId, Value]:
        if text not in known:
            quantity = kind.parse_quantity(text)
            known[text] = (quantity, kind.value(instance.solution, quantity))
        return known[text]
    return resolve


# --- parts --------------------------------------------------------------------------------------

def _part(template: Template, spec: PartSpec, values: dict, resolve) -> Part:
    where = f"{template.source}: parts.{spec.id}"
    text = REFERENCE.sub(lambda m: _show(values[m[1]]), spec.quantity)
    try:
        quantity, value = resolve(text)
    except QuantityError as e:
        raise e.located(template.source, f"parts.{spec.id}.quantity", TemplateError) from None
    prompt = _fill(spec.prompt, values, resolve, f"{where}.prompt")
    hints = tuple(_fill(h, values, resolve, f"{where}.hints") for h in spec.hints)
    mistakes = []
    for m in spec.mistakes:
        try:
            of, _ = resolve(m.quantity)
        except QuantityError as e:
            raise e.located(template.source, f"parts.{spec.id}.mistakes", TemplateError) from None
        mistakes.append(Mistake(m.name, _fill(m.feedback, values, resolve, where), m.scale, of))
    defined = _where(spec, value, values, resolve, where)
    return Part(spec.id, prompt, answer_key(value), spec.skill, spec.points, value, quantity,
                spec.tolerance, hints, tuple(mistakes), defined)


def _where(spec: PartSpec, value: Value, values: dict, resolve, where: str) -> tuple[tuple[str, str], ...]:
    """The names a part's prompt invites, each with what it stands for, placeholders filled and
    checked to parse: for a formula, an intermediate in its variables (a = σ(z)); for a number,
    one of this draw's numbers at the key's precision (o = a⁽¹⁾₀), so that "in terms of o and t"
    accepts o − t."""
    from backprop_tutor.engine.parsing import parse

    out = []
    for name, text in spec.where:
        if name in value.variables:
            raise TemplateError(f"{where}.where.{name}: {name!r} is already a variable of this part; choose another name")
        filled = _fill(text, values, None if value.expression else resolve, f"{where}.where.{name}", keys=True)
        try:
            parse(filled, value.variables)
        except AnswerFormatError as e:
            if value.expression:
                raise TemplateError(f"{where}.where.{name}: {filled!r} is not an expression in "
                                    f"{', '.join(value.variables)}: {e}") from None
            raise TemplateError(f"{where}.where.{name}: {filled!r} is not a number of this problem ({e}); "
                                f"name a quantity or parameter in braces, e.g. o: \"{{a1[0]}}\"") from None
        out.append((name, filled))
    return tuple(out)


def answer_key(value: Value) -> str:
    """The key as a learner would type it: 0.138498561629, [0.1, -0.2], [[1, 2], [3, 4]], 1 - tanh(z)^2."""
    if value.expression:
        from backprop_tutor.engine.activation import answer_text

        return answer_text(value.exact)
    return num.typed(value.approx)


def _display(value) -> str:
    """A vector or matrix at display precision, for prompts and hints: (0.25, −0.0381)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_display(v) for v in value) + ")"
    return num.pretty(value)


_AFTER_OPERATOR = re.compile(r"[+\-−·×*/]\s*$")


def _fill(text: str, values: dict, resolve, where: str, keys: bool = False) -> str:
    """Placeholders: {name} of a parameter shows its value; {quantity} shows the engine's number
    (at display precision, or as the key when `keys`: what a `where` name stands for is graded).
    A negative number right after an operator is parenthesised, as a textbook writes it:
    `{w}·{x} + {b}` becomes `0.5·(−1.2) + (−0.4)`, never `+ −0.4`."""
    def replace(match: re.Match) -> str:
        shown = _shown(match)
        if shown.startswith("−") and _AFTER_OPERATOR.search(text, 0, match.start()):
            return f"({shown})"
        return shown

    def _shown(match: re.Match) -> str:
        key = REFERENCE.sub(lambda m: _show(values[m[1]]) if m[1] in values else m[0], match[1].strip())
        if key in values:
            return _show(values[key]).replace("-", "−")
        if resolve is None:
            raise TemplateError(f"{where}: {{{key}}} is not a parameter")
        try:
            _, value = resolve(key)
        except QuantityError:
            raise TemplateError(f"{where}: {{{key}}} is neither a parameter nor a quantity") from None
        if value.expression or keys:
            return answer_key(value)
        if value.form == "number":
            return num.pretty(value.approx)
        return _display(value.approx)

    return _PLACEHOLDER.sub(replace, text)


# --- constraints --------------------------------------------------------------------------------

def _zero_answer(template: Template, parts: tuple[Part, ...]) -> str | None:
    if template.constraints.nonzero_answers:
        for spec, part in zip(template.parts, parts):
            if not spec.may_be_zero and not part.value.expression and _has_zero(part.value.approx):
                return "nonzero_answers"
    return None


def _has_zero(value) -> bool:
    if isinstance(value, tuple):
        return any(_has_zero(v) for v in value)
    return abs(value) < ZERO

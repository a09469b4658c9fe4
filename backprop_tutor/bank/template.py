"""Problem templates: the YAML schema, validated on load.

A template is data: one YAML file per template, id = file stem. Every error names the file, the
key and what would be valid, as a TemplateError. The file is read, and its title, kind, skills
and level checked, by bank/catalogue.py (with engine/yamlio.py, a safe loader that reads 1e-3
as a number).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy as sp

from backprop_tutor.bank.catalogue import entry_from_dict, failure, read_yaml
from backprop_tutor.bank.catalogue import check_skill as _skill
from backprop_tutor.bank.catalogue import check_text as _text
from backprop_tutor.bank.kinds import NAMES as KINDS
from backprop_tutor.bank.kinds import ProblemKind
from backprop_tutor.bank.kinds import kind as problem_kind_named
from backprop_tutor.errors import check_keys, did_you_mean

DEFAULT_MAX_DRAWS = 200

_PART_KEYS = ("id", "prompt", "quantity", "skill", "points", "tolerance", "hints", "mistakes", "may_be_zero", "where")
_PARAM_KINDS = ("choice", "integer", "decimal")
_PARAM_KEYS = _PARAM_KINDS + ("places", "nonzero", "shape")
_CONSTRAINT_KEYS = ("kink_margin", "saturation", "nonzero_answers", "loss", "max_draws")
_TOLERANCE_KEYS = ("relative", "absolute", "sigfigs")
_MISTAKE_KEYS = ("value", "feedback", "name")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Limits on a part's numbers (docs/formats.md, Templates): a weight below MIN_POINTS prints as 0
# in every score; a relative tolerance of 1 or more accepts every number of the right sign, one
# below MIN_TOLERANCE asks for more digits than the 12 a key carries; more than MAX_SIGFIGS
# significant figures is more than a double holds (and a huge count ran out of memory).
POINTS_RANGE = (0.01, 1000)
MIN_TOLERANCE = 1e-12
MAX_SIGFIGS = 15
# A nudge's step h (nudge(W2[0][1], h)): below 1e-8 the double-precision second method of `bank
# validate` cannot tell the ratio from the derivative, and 1e-400 read as 0; above 10 it is no nudge.
NUDGE_STEP = (1e-8, 10)
MAX_SCALE_DIGITS = 12  # a mistake's factor, as in "2*dW1[0][0]": a few digits, not a number to compute


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # choice | integer | decimal
    spec: Any  # the list of choices, or [low, high]
    places: int = 2
    nonzero: bool = False
    shape: tuple = ()  # () scalar, (n,) vector, (n, m) matrix; entries int or parameter names


@dataclass(frozen=True)
class Mistake:
    """`{name: error_sign, value: "-delta2[0]", feedback: …}`: a quantity, negated or scaled."""

    name: str  # the diagnosis it is, a slip of the catalogue (docs/rules-and-slips.md)
    feedback: str
    scale: sp.Rational
    quantity: str  # the quantity's text, e.g. "delta2[0]"


@dataclass(frozen=True)
class PartSpec:
    id: str
    prompt: str
    quantity: str
    skill: str
    points: float = 1
    tolerance: tuple[str, float] | None = None  # ("relative", 1e-3) …
    hints: tuple[str, ...] = ()
    mistakes: tuple[Mistake, ...] = ()
    may_be_zero: bool = False
    # intermediate quantities a learner may write the answer in: (name, expression text),
    # e.g. ("a", "{f}(z)") so that a(1 − a) is read as σ(z)(1 − σ(z))
    where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Constraints:
    kink_margin: float = 0.05
    saturation: tuple[float, float] | None = (0.05, 0.95)
    nonzero_answers: bool = True
    loss: tuple[float, float] = (1e-3, 10.0)
    max_draws: int = DEFAULT_MAX_DRAWS


@dataclass(frozen=True)
class Template:
    id: str
    source: str  # the file it came from
    title: str
    kind: ProblemKind
    skills: tuple[str, ...]
    level: int
    statement: str
    parameters: tuple[Parameter, ...]
    body: Any  # the network / activation / expression section, with $references
    constraints: Constraints
    parts: tuple[PartSpec, ...] = field(default=())


def load_template(path: str | Path) -> Template:
    path = Path(path)
    return template_from_dict(read_yaml(path), path.stem, str(path))


def template_from_dict(data: Any, stem: str, source: str) -> Template:
    entry = entry_from_dict(data, stem, source)  # the file's shape, title, kind, skills and level
    fail = failure(source)
    kind, title, skills, level = entry.kind, entry.title, list(entry.skills), entry.level
    problem_kind = problem_kind_named(kind)
    statement = _text(data.get("statement", ""), "statement", fail, allow_empty=True)
    parameters = _parameters(data.get("parameters", {}), fail)
    names = {p.name for p in parameters}
    for other in KINDS:
        if other != kind and other in data:
            raise fail(other, f"belongs to kind {other}, but this template is kind {kind}")
    if kind not in data:
        raise fail(kind, f"missing: a {kind} template describes its {kind} here")
    body = data[kind]
    _check_references(body, names, kind, fail)
    problem_kind.check_choices(body, _choice_check({p.name: p for p in parameters}, fail))
    constraints = _constraints(data.get("constraints", {}), fail)
    parts = _parts(data["parts"], skills, names, fail)
    _check_nudges(parts, {p.name: p for p in parameters}, fail)
    return Template(stem, source, title, problem_kind, tuple(skills), level, statement, parameters, body, constraints,
                    parts)


def _parameters(raw: Any, fail) -> tuple[Parameter, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise fail("parameters", "expected a mapping of name → {choice | integer | decimal …}")
    out: list[Parameter] = []
    seen: set[str] = set()
    for name, spec in raw.items():
        key = f"parameters.{name}"
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise fail(key, "a parameter name is a letter followed by letters, digits or _")
        if not isinstance(spec, dict):
            raise fail(key, "expected a mapping such as {decimal: [-1, 1], places: 2} or {choice: [sigmoid, tanh]}")
        check_keys(spec, _PARAM_KEYS, key + ".", fail)
        kinds = [k for k in _PARAM_KINDS if k in spec]
        if len(kinds) != 1:
            raise fail(key, "give exactly one of choice, integer or decimal")
        kind = kinds[0]
        value = spec[kind]
        if kind == "choice":
            if not isinstance(value, list) or not value:
                raise fail(f"{key}.choice", "expected a non-empty list of options")
            for i, option in enumerate(value):  # a text option is shown in prompts: no control characters
                if isinstance(option, str):
                    _text(option, f"{key}.choice[{i}]", fail, allow_empty=True, one_line=True)
        else:
            if (not isinstance(value, list) or len(value) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
                raise fail(f"{key}.{kind}", "expected [low, high], two numbers")
            if value[0] > value[1]:
                raise fail(f"{key}.{kind}", f"low {value[0]} is above high {value[1]}")
            if kind == "integer" and not all(isinstance(v, int) for v in value):
                raise fail(f"{key}.integer", "expected two whole numbers [low, high]")
        places = spec.get("places", 2)
        if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 6:
            raise fail(f"{key}.places", "expected a whole number of decimal places from 0 to 6")
        if "places" in spec and kind != "decimal":
            raise fail(f"{key}.places", "only a decimal parameter has places")
        nonzero = spec.get("nonzero", False)
        if not isinstance(nonzero, bool):
            raise fail(f"{key}.nonzero", "expected true or false")
        shape = spec.get("shape", [])
        if not isinstance(shape, list) or len(shape) > 2:
            raise fail(f"{key}.shape", "expected [n] for a vector or [rows, columns] for a matrix")
        for i, dim in enumerate(shape):
            if isinstance(dim, str) and _SIZE.fullmatch(dim) and set(REFERENCE.findall(dim)) <= seen:
                continue
            if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= 64:
                raise fail(f"{key}.shape[{i}]", "expected a size from 1 to 64, or $name of an earlier parameter")
        seen.add(name)
        out.append(Parameter(name, kind, value, places, nonzero, tuple(shape)))
    return tuple(out)


REFERENCE = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*)")  # $name: a drawn parameter's value


def _check_references(value: Any, names: set[str], key: str, fail) -> None:
    """Every "$name" in the body (whole values or inside text) names a parameter."""
    if isinstance(value, str):
        for ref in REFERENCE.findall(value):
            if ref not in names:
                known = ", ".join(sorted(names)) or "none defined"
                raise fail(key, f"${ref} is not a parameter{did_you_mean(ref, tuple(names))}; parameters: {known}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_references(v, names, f"{key}.{k}", fail)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_references(v, names, f"{key}[{i}]", fail)


def _choice_check(parameters: dict, fail):
    """A parameter used as an activation, function or loss: every choice must be a known name,
    checked now rather than only when some seed happens to draw the bad one."""
    def check(ref: Any, allowed: tuple[str, ...], what: str) -> None:
        if isinstance(ref, str) and REFERENCE.fullmatch(ref) and ref[1:] in parameters:
            p = parameters[ref[1:]]
            for i, choice in enumerate(p.spec if p.kind == "choice" else []):
                if choice not in allowed:
                    raise fail(f"parameters.{p.name}.choice[{i}]", f"{choice!r} is not {what}"
                               f"{did_you_mean(choice, allowed)}; use one of {', '.join(allowed)}")
    return check


def _constraints(raw: Any, fail) -> Constraints:
    if raw is None:
        return Constraints()
    if not isinstance(raw, dict):
        raise fail("constraints", f"expected a mapping with keys from: {', '.join(_CONSTRAINT_KEYS)}")
    check_keys(raw, _CONSTRAINT_KEYS, "constraints.", fail)
    c = Constraints()
    margin = raw.get("kink_margin", c.kink_margin)
    if not _is_number(margin) or margin < 0:
        raise fail("constraints.kink_margin", "expected a number ≥ 0 (how far every z must stay from a kink)")
    saturation = raw.get("saturation", list(c.saturation))
    if saturation is not False:
        if not (isinstance(saturation, list) and len(saturation) == 2 and all(_is_number(v) for v in saturation)
                and 0 <= saturation[0] < saturation[1] <= 1):
            raise fail("constraints.saturation", "expected [low, high] with 0 ≤ low < high ≤ 1, or false to allow saturation")
        saturation = tuple(saturation)
    else:
        saturation = None
    nonzero = raw.get("nonzero_answers", c.nonzero_answers)
    if not isinstance(nonzero, bool):
        raise fail("constraints.nonzero_answers", "expected true or false")
    loss = raw.get("loss", list(c.loss))
    if not (isinstance(loss, list) and len(loss) == 2 and all(_is_number(v) for v in loss) and 0 <= loss[0] < loss[1]):
        raise fail("constraints.loss", "expected [low, high] with 0 ≤ low < high")
    draws = raw.get("max_draws", c.max_draws)
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= 10_000:
        raise fail("constraints.max_draws", "expected a whole number from 1 to 10000")
    return Constraints(float(margin), saturation, nonzero, (float(loss[0]), float(loss[1])), draws)


def _parts(raw: Any, skills: list, names: set[str], fail) -> tuple[PartSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail("parts", "expected a non-empty list of parts, each with id, prompt, quantity and skill")
    out: list[PartSpec] = []
    seen: set[str] = set()
    for i, part in enumerate(raw):
        key = f"parts[{i}]"
        if not isinstance(part, dict):
            raise fail(key, "expected a mapping with id, prompt, quantity and skill")
        check_keys(part, _PART_KEYS, key + ".", fail)
        for required in ("id", "prompt", "quantity", "skill"):
            if required not in part:
                raise fail(f"{key}.{required}", "missing (a part needs id, prompt, quantity and skill)")
        pid = part["id"]
        if not isinstance(pid, str) or not re.fullmatch(r"[A-Za-z0-9_]+", pid):
            raise fail(f"{key}.id", "expected a short name of letters, digits and _ (it is typed in answer files)")
        if pid in seen:
            raise fail(f"{key}.id", f"duplicate part id {pid!r}; every part needs its own id")
        seen.add(pid)
        skill = _skill(part["skill"], f"{key}.skill", fail)
        if skill not in skills:
            raise fail(f"{key}.skill", f"{skill!r} is not among the template's skills ({', '.join(skills)}); add it there")
        prompt = _text(part["prompt"], f"{key}.prompt", fail)
        quantity = _text(part["quantity"], f"{key}.quantity", fail)
        _check_references(quantity, names, f"{key}.quantity", fail)
        points = part.get("points", 1)
        low, high = POINTS_RANGE
        if not _is_number(points) or not low <= points <= high:
            raise fail(f"{key}.points", f"expected a number from {low} to {high}, found {points!r}")
        tolerance = _tolerance(part["tolerance"], f"{key}.tolerance", fail) if "tolerance" in part else None
        hints = part.get("hints", [])
        if not isinstance(hints, list) or len(hints) > 3:
            raise fail(f"{key}.hints", "expected up to 3 hints, from the rule to the formula to the numbers")
        for h, hint in enumerate(hints):
            if not isinstance(hint, str) or not hint.strip():
                raise fail(f"{key}.hints[{h}]", "is empty; write the hint, or remove it")
            _text(hint, f"{key}.hints[{h}]", fail)  # no control characters either
        mistakes = [_mistake(mistake, f"{key}.mistakes[{m}]", fail)
                     for m, mistake in enumerate(part.get("mistakes", []) or [])]
        for m, mistake in enumerate(mistakes):
            if any(mistake.name == other.name for other in mistakes[:m]):
                raise fail(f"{key}.mistakes[{m}].name", f"{mistake.name!r} is already the name of another mistake of "
                           "this part")
        may_be_zero = part.get("may_be_zero", False)
        if not isinstance(may_be_zero, bool):
            raise fail(f"{key}.may_be_zero", "expected true or false")
        where = _where(part.get("where", {}), f"{key}.where", fail)
        out.append(PartSpec(pid, prompt, quantity, skill, points, tolerance, tuple(hints), tuple(mistakes), may_be_zero,
                            where))
    unused = [s for s in skills if all(p.skill != s for p in out)]
    if unused:
        raise fail("skills", f"{unused[0]!r} is listed but no part practises it; add a part with that skill or remove it")
    return tuple(out)


def _tolerance(tol: Any, key: str, fail) -> tuple[str, float]:
    """{relative: r} with MIN_TOLERANCE ≤ r < 1, {absolute: a} finite and ≥ MIN_TOLERANCE, or
    {sigfigs: n} with 1 ≤ n ≤ MAX_SIGFIGS. An absolute tolerance larger than every key is caught
    by `tutor bank validate`, which sees the keys (grading/tolerance_check.py)."""
    if not isinstance(tol, dict) or len(tol) != 1 or next(iter(tol)) not in _TOLERANCE_KEYS:
        raise fail(key, "expected one of {relative: 1e-3}, {absolute: 0.001}, {sigfigs: 3}")
    (kind, value), = tol.items()
    key = f"{key}.{kind}"
    if kind == "sigfigs":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIGFIGS:
            raise fail(key, f"expected a whole number from 1 to {MAX_SIGFIGS}, found {value!r}")
    elif not _is_number(value) or not value >= MIN_TOLERANCE:
        raise fail(key, f"expected a number of at least {MIN_TOLERANCE}, found {value!r}")
    elif kind == "relative" and value >= 1:
        raise fail(key, f"{value!r} accepts every number of the right sign; a relative tolerance is below 1, "
                   "e.g. 1e-3")
    return kind, value


_NUDGE = re.compile(r"nudge\([^,]*,\s*([^)]*?)\s*\)")


def _check_nudges(parts: tuple[PartSpec, ...], parameters: dict[str, Parameter], fail) -> None:
    """Every nudge step h, written out or a parameter's choices and bounds, has NUDGE_STEP[0] ≤
    |h| ≤ NUDGE_STEP[1]. A step that is not a number is left to generation, which names it."""
    low, high = NUDGE_STEP
    for i, part in enumerate(parts):
        for key, text in [(f"parts[{i}].quantity", part.quantity)] + [
                (f"parts[{i}].mistakes[{m}].value", mistake.quantity) for m, mistake in enumerate(part.mistakes)]:
            for step in _NUDGE.findall(text):
                if REFERENCE.fullmatch(step) and step[1:] in parameters:
                    p = parameters[step[1:]]
                    values = p.spec if p.kind == "choice" else [max(abs(v) for v in p.spec)]
                else:
                    values = [step]
                for value in values:
                    try:  # exactly, so 1e-400 is not taken for 0 (which generation names as no step)
                        h = Decimal(str(value)).copy_abs()  # abs() would round 1e-99999999 to 0
                    except (ArithmeticError, ValueError):
                        continue
                    if h.is_finite() and h != 0 and not Decimal(str(low)) <= h <= Decimal(str(high)):
                        raise fail(key, f"the nudge step {value} is outside {low:g} to {high:g} in size; "
                                   "use a step such as 0.01")


_SCALED = re.compile(r"\s*(?:(-)|(\d+(?:\.\d*)?|\.\d+)\s*\*)?\s*(\S.*?)\s*", re.DOTALL)


def _mistake(raw: Any, key: str, fail) -> Mistake:
    from backprop_tutor.engine.slips import NAMES

    if not isinstance(raw, dict):
        raise fail(key, "expected {value: EXPRESSION over quantities, feedback: TEXT}")
    check_keys(raw, _MISTAKE_KEYS, key + ".", fail)
    if "value" not in raw or "feedback" not in raw:
        raise fail(key, "needs both value and feedback")
    if "name" not in raw:
        raise fail(f"{key}.name", "missing", fix="name the mistake with a slip of the catalogue "
                   "(docs/rules-and-slips.md), e.g. error_sign")
    name = raw["name"]
    if not isinstance(name, str) or name not in NAMES:
        raise fail(f"{key}.name", f"{name!r} is not a slip of the catalogue{did_you_mean(name, NAMES)}",
                   fix="use one of " + ", ".join(NAMES))
    value = raw["value"]
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise fail(f"{key}.value", f"expected one line such as \"-delta2[0]\" or \"2*dW1[0][0]\", found {value!r}")
    sign, scale, quantity = _SCALED.fullmatch(value).groups()
    if scale and len(scale) > MAX_SCALE_DIGITS:
        raise fail(f"{key}.value", f"the factor {scale[:20]}… has more than {MAX_SCALE_DIGITS} characters")
    factor = sp.Rational(scale) if scale else sp.Integer(-1 if sign else 1)
    return Mistake(name, _text(raw["feedback"], f"{key}.feedback", fail), factor, quantity)


def _where(raw: Any, key: str, fail) -> tuple[tuple[str, str], ...]:
    """`where: {a: "{f}(z)"}`: names for intermediate quantities, checked here; the expressions
    are parsed at generation, once their placeholders have values."""
    from backprop_tutor.engine.parsing import FUNCTION_NAMES

    if not isinstance(raw, dict):
        raise fail(key, 'expected a mapping of names to expressions, e.g. {a: "sigmoid(z)"}')
    out = []
    for name, expression in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise fail(f"{key}.{name}", "expected a name of letters, digits and _ starting with a letter")
        if name in FUNCTION_NAMES or name in ("e", "pi"):
            raise fail(f"{key}.{name}", f"{name!r} is a function or constant a learner may type; choose another name")
        out.append((name, _text(expression, f"{key}.{name}", fail)))
    return tuple(out)


def _is_number(value: Any) -> bool:
    """A finite int or float: .nan and .inf are YAML floats, but no count of points or tolerance."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# A shape's size may also be a sum of earlier parameters and whole numbers, "$n - $K + 1": a conv1d
# layer's positions, which the dense layer above it must match, follow from the input's and kernel's sizes.
_SIZE = re.compile(r"\$[A-Za-z][A-Za-z0-9_]*(\s*[+-]\s*(\$[A-Za-z][A-Za-z0-9_]*|\d+))*")


def shape_size(dim: Any, values: dict) -> Any:
    """A shape entry's size for drawn `values`: a number, $name, or a sum such as "$n - $K + 1"."""
    if not isinstance(dim, str):
        return dim
    total, sign = 0, 1
    for token in re.findall(r"\$[A-Za-z][A-Za-z0-9_]*|\d+|[+-]", dim):
        if token in "+-":
            sign = 1 if token == "+" else -1
            continue
        size = values[token[1:]] if token.startswith("$") else int(token)
        if not isinstance(size, (int, sp.Integer)) or isinstance(size, bool):
            return size  # not a whole number: refused where the shape is used
        total += sign * int(size)
    return total

"""Template + seed → Problem. Deterministic: randomness only through random.Random, seeded by
text (which Python hashes with SHA-512, independent of PYTHONHASHSEED and platform).

Constraints are enforced by redrawing, at most `max_draws` times; when they never hold, the
error says which constraint failed most and how to relax it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

import sympy as sp

from backprop_tutor.engine import activations
from backprop_tutor.engine import losses
from backprop_tutor.engine import numbers as num
from backprop_tutor.errors import AnswerFormatError, NetworkError, TemplateError
from backprop_tutor.worked.notation import symbol
from backprop_tutor.bank.problem import Part, Problem
from backprop_tutor.engine.legacy_values import QuantityError, Value, network_value
from backprop_tutor.bank.template import Constraints, Parameter, PartSpec, Template

_REF = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*)")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_KINKED = ("relu", "leaky_relu", "elu", "step")
_SATURATING = ("sigmoid", "softmax")
ZERO = 1e-9


@dataclass(frozen=True)
class _Instance:
    """One draw: the parameter values and what the engine made of them."""

    values: dict
    solution: Any
    resolve: Any  # quantity text → Value
    statement: tuple[str, str]
    steps: Callable[[], tuple]  # the worked solution, made only for the draw that is kept


def generate(template: Template, seed: int, worked: bool = True) -> Problem:
    """`worked=False` leaves out the worked solution's steps (grading needs only the values)."""
    rng = random.Random(f"{template.id}:{seed}")
    failures: Counter[str] = Counter()
    for draw in range(1, template.constraints.max_draws + 1):
        values = _draw(template.parameters, rng)
        instance = _instantiate(template, values, seed)
        parts = tuple(_part(template, spec, instance, seed) for spec in template.parts)
        violated = _violated(template, instance, parts)
        if violated is None:
            return Problem(template.id, seed, template.title, template.kind, template.level, template.skills,
                           instance.statement[0], instance.statement[1],
                           tuple((k, _show(v)) for k, v in values.items()), parts, instance.solution,
                           instance.steps() if worked else (), draw)
        failures[violated] += 1
    name, count = failures.most_common(1)[0]
    raise TemplateError(
        f"{template.source}: constraints.{name}: no variant satisfied the constraints in "
        f"{template.constraints.max_draws} draws for seed {seed} ({name} failed {count} times); "
        f"{_RELAX[name]}")


_RELAX = {
    "kink_margin": "widen the parameter ranges or lower constraints.kink_margin",
    "saturation": "use smaller weights, or widen/disable constraints.saturation",
    "loss": "widen constraints.loss or change the targets",
    "nonzero_answers": "change the parameters so no asked answer is 0, or set may_be_zero on that part",
}


# --- drawing ------------------------------------------------------------------------------------

def _draw(parameters: tuple[Parameter, ...], rng: random.Random) -> dict:
    values: dict[str, Any] = {}
    for p in parameters:
        shape = tuple(values[d[1:]] if isinstance(d, str) else d for d in p.shape)
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
        if _REF.fullmatch(body):
            return _data(values[body[1:]])
        return _REF.sub(lambda m: _show(values[m[1]]), body)
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

def _instantiate(template: Template, values: dict, seed: int) -> _Instance:
    body = _substitute(template.body, values)
    where = f"{template.source}: {template.kind}"
    intro = _fill(template.statement, values, None, f"{template.source}: statement") if template.statement else ""
    if template.kind == "network":
        from backprop_tutor.engine.backprop import solve_network
        from backprop_tutor.engine.network import network_from_dict
        from backprop_tutor.worked.network import network_steps

        try:
            network = network_from_dict(body, f"{where} (seed {seed})")
        except NetworkError as e:
            raise TemplateError(str(e)) from None
        solution = solve_network(network)
        return _Instance(values, solution, lambda q: network_value(solution, q),
                         _network_statement(intro, network), lambda: network_steps(solution))
    if template.kind == "activation":
        from backprop_tutor.engine.activation import activation_steps, solve_activation

        name, point = _activation_body(body, where)
        solution = solve_activation(name, point)
        return _Instance(values, solution, lambda q: _activation_value(solution, q),
                         _activation_statement(intro, name, point), lambda: activation_steps(solution))
    from backprop_tutor.engine.expression import parse_assignments, solve_expression

    text, at = _expression_body(body, where)
    try:
        solution = solve_expression(text, parse_assignments(at))
    except AnswerFormatError as e:
        message = str(e).replace("--at", "expression.at").replace("the answer", "expression.text")
        raise TemplateError(f"{where} (seed {seed}): {message}") from None
    return _Instance(values, solution, lambda q: _expression_value(solution, q),
                     _expression_statement(intro, solution), lambda: tuple(solution.steps))


def _activation_body(body: Any, where: str) -> tuple[str, sp.Rational]:
    if not isinstance(body, dict) or set(body) != {"function", "point"}:
        raise TemplateError(f"{where}: expected {{function: NAME, point: NUMBER}}")
    name = body["function"]
    if name not in activations.ELEMENTWISE:
        raise TemplateError(f"{where}.function: unknown activation {name!r}; use one of "
                            + ", ".join(activations.ELEMENTWISE))
    try:
        point = sp.Rational(str(body["point"]))
    except (TypeError, ValueError):
        raise TemplateError(f"{where}.point: expected a number, found {body['point']!r}") from None
    return name, point


def _expression_body(body: Any, where: str) -> tuple[str, str]:
    if not isinstance(body, dict) or set(body) != {"text", "at"} or not isinstance(body["at"], dict):
        raise TemplateError(f"{where}: expected {{text: EXPRESSION, at: {{variable: value, …}}}}")
    at = ",".join(f"{k}={_show_data(v)}" for k, v in body["at"].items())
    return str(body["text"]), at


def _show_data(value) -> str:
    return str(value)


def _activation_value(sol, text: str) -> Value:
    from backprop_tutor.engine.activation import z

    text = text.strip()
    if text == "value":
        return Value(sp.N(sol.value, num.WORK_DPS), sol.value)
    if text == "derivative_at":
        return Value(sp.N(sol.slope, num.WORK_DPS), sol.slope)
    if text == "derivative":
        textbook = activations.ELEMENTWISE[sol.name].textbook_derivative
        return Value(textbook, textbook, expression=True, variables=(z.name,))
    raise QuantityError(f"{text!r} is not a quantity of an activation problem; use value, derivative_at or derivative")


def _expression_value(sol, text: str) -> Value:
    text = text.replace(" ", "")
    if text == "value":
        return Value(sp.N(sol.value, num.WORK_DPS), sol.value)
    match = re.fullmatch(r"grad\[([A-Za-z][A-Za-z0-9_]*)\]", text)
    if match and match[1] in sol.gradient:
        g = sol.gradient[match[1]]
        return Value(sp.N(g, num.WORK_DPS), g)
    names = ", ".join(f"grad[{v}]" for v in sol.gradient)
    raise QuantityError(f"{text!r} is not a quantity of this expression; use value or one of {names}")


# --- parts --------------------------------------------------------------------------------------

def _part(template: Template, spec: PartSpec, instance: _Instance, seed: int) -> Part:
    where = f"{template.source}: parts.{spec.id}"
    quantity = _REF.sub(lambda m: _show(instance.values[m[1]]), spec.quantity).replace(" ", "")
    try:
        value = instance.resolve(quantity)
    except QuantityError as e:
        raise TemplateError(f"{where}.quantity: {e}") from None
    prompt = _fill(spec.prompt, instance.values, instance.resolve, f"{where}.prompt")
    hints = tuple(_fill(h, instance.values, instance.resolve, f"{where}.hints") for h in spec.hints)
    mistakes = []
    for m in spec.mistakes:
        try:
            mistakes.append((_mistake_value(m.value, instance.resolve), _fill(m.feedback, instance.values, instance.resolve, where),
                             m.name))
        except QuantityError as e:
            raise TemplateError(f"{where}.mistakes: {e}") from None
    defined = _where(spec, value, instance, where)
    return Part(spec.id, prompt, answer_key(value), spec.skill, spec.points, value, quantity,
                spec.tolerance, hints, tuple(mistakes), defined)


def _where(spec: PartSpec, value: Value, instance: _Instance, where: str) -> tuple[tuple[str, str], ...]:
    """The part's intermediates with placeholders filled, each checked to parse in its variables."""
    from backprop_tutor.engine.parsing import parse

    if spec.where and not value.expression:
        raise TemplateError(f"{where}.where: only a part whose answer is an expression can define intermediates")
    out = []
    for name, text in spec.where:
        if name in value.variables:
            raise TemplateError(f"{where}.where.{name}: {name!r} is already a variable of this part; choose another name")
        filled = _fill(text, instance.values, None, f"{where}.where.{name}")
        try:
            parse(filled, value.variables)
        except AnswerFormatError as e:
            raise TemplateError(f"{where}.where.{name}: {filled!r} is not an expression in "
                                f"{', '.join(value.variables)}: {e}") from None
        out.append((name, filled))
    return tuple(out)


def _mistake_value(text: str, resolve) -> Value:
    """A mistake is a quantity, optionally negated or scaled: `-delta2[0]`, `2*dL_da[0]`."""
    match = re.fullmatch(r"\s*(?:(-)|([0-9.]+)\s*\*)?\s*(.+?)\s*", text)
    sign, scale, name = match[1], match[2], match[3]
    value = resolve(name)
    factor = sp.Rational(scale) if scale else (-1 if sign else 1)
    return Value(_scale(value.approx, factor), None, value.expression, value.variables)


def _scale(value, factor):
    if isinstance(value, tuple):
        return tuple(_scale(v, factor) for v in value)
    return value * factor


def answer_key(value: Value) -> str:
    """The key as a learner would type it: 0.138498561629, [0.1, -0.2], [[1, 2], [3, 4]], 1 - tanh(z)^2."""
    if value.expression:
        from backprop_tutor.engine.activation import answer_text

        return answer_text(value.exact)
    if value.form == "matrix":
        return "[" + ", ".join("[" + ", ".join(num.plain(v) for v in row) + "]" for row in value.approx) + "]"
    if value.form == "vector":
        return "[" + ", ".join(num.plain(v) for v in value.approx) + "]"
    return num.plain(value.approx)


def _display(value) -> str:
    """A vector or matrix at display precision, for prompts and hints: (0.25, −0.0381)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_display(v) for v in value) + ")"
    return num.pretty(value)


_AFTER_OPERATOR = re.compile(r"[+\-−·×*/]\s*$")


def _fill(text: str, values: dict, resolve, where: str) -> str:
    """Placeholders: {name} of a parameter shows its value; {quantity} shows the engine's number.
    A negative number right after an operator is parenthesised, as a textbook writes it:
    `{w}·{x} + {b}` becomes `0.5·(−1.2) + (−0.4)`, never `+ −0.4`."""
    def replace(match: re.Match) -> str:
        shown = _shown(match)
        if shown.startswith("−") and _AFTER_OPERATOR.search(text, 0, match.start()):
            return f"({shown})"
        return shown

    def _shown(match: re.Match) -> str:
        key = _REF.sub(lambda m: _show(values[m[1]]) if m[1] in values else m[0], match[1].strip())
        if key in values:
            return _show(values[key]).replace("-", "−")
        if resolve is None:
            raise TemplateError(f"{where}: {{{key}}} is not a parameter")
        try:
            value = resolve(key)
        except QuantityError:
            raise TemplateError(f"{where}: {{{key}}} is neither a parameter nor a quantity") from None
        if value.expression:
            return answer_key(value)
        if value.form == "number":
            return num.pretty(value.approx)
        return _display(value.approx)

    return _PLACEHOLDER.sub(replace, text)


# --- constraints --------------------------------------------------------------------------------

def _violated(template: Template, instance: _Instance, parts: tuple[Part, ...]) -> str | None:
    c: Constraints = template.constraints
    sol = instance.solution
    if template.kind == "network":
        for l, layer in enumerate(sol.network.layers, 1):
            if layer.activation in _KINKED and any(abs(v) < c.kink_margin for v in sol.numeric.z[l]):
                return "kink_margin"
            if c.saturation and layer.activation in _SATURATING:
                if any(not c.saturation[0] <= v <= c.saturation[1] for v in sol.numeric.a[l]):
                    return "saturation"
        if not c.loss[0] <= sol.numeric.loss <= c.loss[1]:
            return "loss"
    elif template.kind == "activation":
        if sol.name in _KINKED and abs(sol.point) < c.kink_margin:
            return "kink_margin"
        if c.saturation and sol.name == "sigmoid" and not c.saturation[0] <= sp.N(sol.value) <= c.saturation[1]:
            return "saturation"
    if c.nonzero_answers:
        for spec, part in zip(template.parts, parts):
            if not spec.may_be_zero and not part.value.expression and _has_zero(part.value.approx):
                return "nonzero_answers"
    return None


def _has_zero(value) -> bool:
    if isinstance(value, tuple):
        return any(_has_zero(v) for v in value)
    return abs(value) < ZERO


# --- statements ---------------------------------------------------------------------------------

def _vector_text(values, tex: bool = False) -> str:
    if tex:
        return r"\begin{pmatrix}" + r" \\ ".join(num.latex(v) for v in values) + r"\end{pmatrix}"
    return "(" + ", ".join(num.pretty(v) for v in values) + ")"


def _matrix_text(rows, tex: bool = False) -> str:
    if tex:
        return r"\begin{pmatrix}" + r" \\ ".join(" & ".join(num.latex(v) for v in row) for row in rows) + r"\end{pmatrix}"
    return "[" + "; ".join(" ".join(num.pretty(v) for v in row) for row in rows) + "]"


def _network_statement(intro: str, network) -> tuple[str, str]:
    from backprop_tutor.worked.texescape import escape

    loss = losses.LOSSES[network.loss]
    sizes = "-".join(str(s) for s in network.sizes)
    text = [intro] if intro else []
    tex = [escape(intro)] if intro else []
    text.append(f"A {sizes} network with input x = {_vector_text(network.input)} and target t = {_vector_text(network.target)}.")
    tex.append(f"A {sizes} network with input $x = {_vector_text(network.input, True)}$ and target "
               f"$t = {_vector_text(network.target, True)}$.")
    for l, layer in enumerate(network.layers, 1):
        text.append(f"Layer {l} ({layer.activation}): W{symbol('', l)} = {_matrix_text(layer.weights)}, "
                    f"b{symbol('', l)} = {_vector_text(layer.bias)}")
        tex.append(f"Layer {l} ({escape(layer.activation)}): $W^{{({l})}} = {_matrix_text(layer.weights, True)}$, "
                   f"$b^{{({l})}} = {_vector_text(layer.bias, True)}$.")
    text.append(f"Loss: {network.loss}, {loss.unicode} (mind the constant factor: {loss.factor_note}). "
                f"Learning rate η = {num.pretty(network.learning_rate)}.")
    tex.append(f"Loss: \\texttt{{{escape(network.loss)}}}, ${loss.latex}$ (mind the constant factor: "
               f"{escape(loss.factor_note)}). Learning rate $\\eta = {num.latex(network.learning_rate)}$.")
    convention = ("Conventions: z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f(z⁽ˡ⁾), a⁽⁰⁾ = x, δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾; "
                  "w⁽ˡ⁾ⱼₖ (row j, column k of W⁽ˡ⁾) is the weight from unit k of layer l−1 to unit j of layer l; "
                  "units are numbered from 0.")
    text.append(convention)
    tex.append(r"Conventions: $z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$, $a^{(l)} = f(z^{(l)})$, $a^{(0)} = x$, "
               r"$\delta^{(l)} = \partial L / \partial z^{(l)}$; $w^{(l)}_{jk}$ (row $j$, column $k$ of $W^{(l)}$) is "
               r"the weight from unit $k$ of layer $l-1$ to unit $j$ of layer $l$; units are numbered from 0.")
    return "\n".join(text), "\n\n".join(tex)


def _activation_statement(intro: str, name: str, point: sp.Rational) -> tuple[str, str]:
    from backprop_tutor.worked.texescape import escape

    act = activations.ELEMENTWISE[name]
    note = f" ({act.kink_note})" if act.kink_note else ""
    text = ([intro] if intro else []) + [f"The activation {name}: {act.unicode}{note}.", f"The point: z = {num.pretty(point)}."]
    tex = ([escape(intro)] if intro else []) + [f"The activation \\texttt{{{escape(name)}}}: ${act.latex}${escape(note)}.",
                                                  f"The point: $z = {num.latex(point)}$."]
    return "\n".join(text), "\n\n".join(tex)


def _expression_statement(intro: str, sol) -> tuple[str, str]:
    from backprop_tutor.worked.texescape import escape

    at = ", ".join(f"{k} = {num.pretty(v)}" for k, v in sol.at.items())
    text = ([intro] if intro else []) + [f"f = {sol.echo}", f"at {at}."]
    tex = ([escape(intro)] if intro else []) + [f"$f = {sp.latex(sol.expr) if hasattr(sol, 'expr') else escape(sol.echo)}$",
                                                  f"at {escape(at)}."]
    return "\n".join(text), "\n\n".join(tex)

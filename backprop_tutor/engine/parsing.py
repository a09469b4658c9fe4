"""A safe reader for mathematical text: learners' answers and `--expression`.

Nothing here evaluates text as Python (no eval, exec, sympify or parse_expr: those call eval).
A whitelisting tokenizer admits only numbers, names, operators and brackets; a recursive-descent
parser builds a small frozen AST; `to_sympy` builds SymPy objects through their constructors,
refusing numbers too large to be an answer and numbers that are not real. Limits (docs/formats.md):
1,000 characters, nesting depth 50, names of at most 50 letters. Together they bound the depth of
the AST (a run like `xxxx…` is split into a chain of products), so nothing here or in the
recursive walks over the AST can reach Python's recursion limit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import mpmath
import sympy as sp

from backprop_tutor.engine.activations import ELEMENTWISE, display_name
from backprop_tutor.engine.bounded import graph_number
from backprop_tutor.engine.numbers import SUPERSCRIPT_DIGITS, exact_number, superscript
from backprop_tutor.errors import AnswerFormatError

MAX_LENGTH = 1000
MAX_DEPTH = 50
MAX_NAME = 50  # letters in one name: a 990-letter run split into products reached the recursion limit
MAX_DIGITS = 10_000  # |result| of a numeric power may have at most this many digits
MAX_SYMBOLIC_EXPONENT = 1000

# name → (arity: (min, max), builder)
_ALIASES = {"sigma": "sigmoid", "σ": "sigmoid", "ln": "log"}
_FUNCTIONS = {
    "sigmoid": ((1, 1), lambda a: ELEMENTWISE["sigmoid"](a[0])),
    "tanh": ((1, 1), lambda a: sp.tanh(a[0])),
    "sinh": ((1, 1), lambda a: sp.sinh(a[0])),
    "cosh": ((1, 1), lambda a: sp.cosh(a[0])),
    "sech": ((1, 1), lambda a: sp.sech(a[0])),
    "exp": ((1, 1), lambda a: sp.exp(a[0])),
    "log": ((1, 2), lambda a: sp.log(*a)),
    "sqrt": ((1, 1), lambda a: sp.sqrt(a[0])),
    "abs": ((1, 1), lambda a: sp.Abs(a[0])),
    "erf": ((1, 1), lambda a: sp.erf(a[0])),
    "max": ((2, 8), lambda a: sp.Max(*a)),
    "min": ((2, 8), lambda a: sp.Min(*a)),
}
for _name in ELEMENTWISE:
    if _name not in _FUNCTIONS:
        _FUNCTIONS[_name] = ((1, 1), lambda a, _f=ELEMENTWISE[_name]: _f(a[0]))
_CONSTANTS = {"e": sp.E, "pi": sp.pi}
FUNCTION_NAMES = tuple(sorted(set(_FUNCTIONS) | set(_ALIASES) - {"σ"}))

_SYMBOLS = {"·": "*", "×": "*", "∗": "*", "⋅": "*", "−": "-", "–": "-", "÷": "/", "π": "pi"}
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z][A-Za-z0-9_]*|σ)"
                    r"|(?P<op>\*\*|[-+*/^()\[\],√]))")


# --- the AST ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Number:
    text: str


@dataclass(frozen=True)
class Name:
    name: str  # a variable


@dataclass(frozen=True)
class Constant:
    name: str  # e or pi


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "+"
    operand: object


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / ^
    left: object
    right: object


@dataclass(frozen=True)
class Vector:
    items: tuple


Node = Number | Name | Constant | Call | Unary | Binary | Vector


# --- tokens -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Tok:
    kind: str  # num, name, op, end
    text: str
    pos: int  # 1-based position in the original text


def _tokens(text: str, subject: str) -> list[_Tok]:
    if len(text) > MAX_LENGTH:
        raise AnswerFormatError(f"{subject} is {len(text):,} characters long; at most {MAX_LENGTH:,} are read")
    out: list[_Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in SUPERSCRIPT_DIGITS:  # x² → x^(2); runs like ⁻¹ become one exponent
            j = i
            while j < len(text) and text[j] in SUPERSCRIPT_DIGITS:
                j += 1
            digits = "".join(SUPERSCRIPT_DIGITS[c] for c in text[i:j])
            if not re.fullmatch(r"[-+]?\d+", digits):
                raise AnswerFormatError(f"the superscript at position {i + 1} is not a whole number")
            out += [_Tok("op", "^", i + 1), _Tok("op", "(", i + 1), _Tok("num", digits.lstrip("+"), i + 1),
                    _Tok("op", ")", i + 1)] if not digits.startswith("-") else [
                _Tok("op", "^", i + 1), _Tok("op", "(", i + 1), _Tok("op", "-", i + 1), _Tok("num", digits[1:], i + 1),
                _Tok("op", ")", i + 1)]
            i = j
            continue
        if ch in _SYMBOLS:
            mapped = _SYMBOLS[ch]
            out.append(_Tok("name" if mapped == "pi" else "op", mapped, i + 1))
            i += 1
            continue
        if ch.isspace():
            if ch not in " \t\n\r":
                raise AnswerFormatError(f"the character U+{ord(ch):04X} at position {i + 1} is not allowed in an answer")
            i += 1
            continue
        match = _TOKEN.match(text, i)
        if not match or match.end() == i:
            raise AnswerFormatError(_bad_character(ch, i + 1))
        kind = match.lastgroup
        if kind == "name" and len(match[kind]) > MAX_NAME:
            raise AnswerFormatError(f"the name at position {match.start(kind) + 1} is {len(match[kind]):,} letters long; "
                                    f"names of at most {MAX_NAME} letters are read (write products with '*')")
        out.append(_Tok(kind, match[kind], match.start(kind) + 1))
        i = match.end()
    out.append(_Tok("end", "", len(text) + 1))
    return out


def _bad_character(ch: str, pos: int) -> str:
    shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
    why = {";": " (one answer at a time)", "=": " (give only the value)", ".": " (no attribute access)",
           "_": " (names start with a letter)", '"': " (no quotes)", "'": " (no quotes)", "\\": "",
           "{": " (use round brackets)", "}": " (use round brackets)"}.get(ch, "")
    return f"the character {shown} at position {pos} is not allowed in an answer{why}"


# --- the parser ---------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str, variables: Collection[str] | None, subject: str):
        self.subject = subject
        self.tokens = _tokens(text, subject)
        self.i = 0
        self.depth = 0
        self.variables = None if variables is None else set(variables)

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.i]

    def take(self, text: str | None = None) -> _Tok:
        tok = self.tok
        if text is not None and tok.text != text:
            raise AnswerFormatError(self._expected(f"'{text}'"))
        self.i += 1
        return tok

    def _expected(self, what: str) -> str:
        tok = self.tok
        if tok.kind == "end":
            return f"{self.subject} ends too early: {what} expected"
        return f"unexpected {tok.text!r} at position {tok.pos}: {what} expected"

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise AnswerFormatError(f"brackets nested more than {MAX_DEPTH} deep")

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise AnswerFormatError(f"{self.subject} is empty")
        node = self.sum()
        if self.tok.kind != "end":
            if self.tok.text in ")]":
                raise AnswerFormatError(f"unmatched {self.tok.text!r} at position {self.tok.pos}")
            raise AnswerFormatError(self._expected("an operator"))
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.tok.text in ("+", "-") and self.tok.kind == "op":
            op = self.take().text
            node = Binary(op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while True:
            if self.tok.kind == "op" and self.tok.text in ("*", "/"):
                op = self.take().text
                node = Binary(op, node, self.unary())
            elif self.tok.kind in ("num", "name") or self.tok.text in ("(", "√"):
                if self.tok.kind == "num" and self.tokens[self.i - 1].kind == "num":
                    raise AnswerFormatError(f"two numbers in a row at position {self.tok.pos}; "
                                            "put an operator between them")
                node = Binary("*", node, self.power())  # implicit multiplication: 2x, σ(z)(1 − σ(z))
            else:
                return node

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text in ("-", "+"):
            op = self.take().text
            self.nest()
            operand = self.unary()
            self.depth -= 1
            return Unary(op, operand)
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.tok.text in ("^", "**"):
            self.take()
            self.nest()
            exponent = self.unary()  # right-associative; allows 2^-1
            self.depth -= 1
            return Binary("^", base, exponent)
        return base

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            exponent = re.search(r"[eE]([-+]?\d+)$", tok.text)
            if exponent and abs(int(exponent[1])) > MAX_SYMBOLIC_EXPONENT:  # before Rational() builds it
                raise AnswerFormatError(f"the number {tok.text!r} at position {tok.pos} is out of range "
                                        f"(powers of ten up to {MAX_SYMBOLIC_EXPONENT} are read)")
            return Number(tok.text)
        if tok.text == "(":
            self.take()
            self.nest()
            node = self.sum()
            self.depth -= 1
            if self.tok.text != ")":
                raise AnswerFormatError(self._expected(f"')' to close the '(' at position {tok.pos}"))
            self.take()
            return node
        if tok.text == "[":
            return self.vector()
        if tok.text == "√":
            self.take()
            self.nest()
            arg = self.power()
            self.depth -= 1
            return Call("sqrt", (arg,))
        if tok.kind == "name":
            return self.name()
        raise AnswerFormatError(self._expected("a number, a name or '('"))

    def vector(self) -> Node:
        start = self.take("[")
        self.nest()
        items = self.comma_list()
        if self.tok.text != "]":
            raise AnswerFormatError(self._expected(f"',' or ']' to close the '[' at position {start.pos}"))
        self.take()
        self.depth -= 1
        rows = [isinstance(item, Vector) for item in items]
        if any(rows) and not all(rows):
            raise AnswerFormatError(f"the list at position {start.pos} mixes numbers and rows")
        if all(rows) and len({len(item.items) for item in items}) > 1:
            raise AnswerFormatError(f"the matrix at position {start.pos} has rows of different lengths")
        if all(rows) and any(isinstance(x, Vector) for item in items for x in item.items):
            raise AnswerFormatError("only vectors and matrices are understood, not deeper lists")
        return Vector(tuple(items))

    def comma_list(self) -> list[Node]:
        """One or more sums separated by commas: a vector's entries, a function's arguments."""
        items = [self.sum()]
        while self.tok.text == ",":
            self.take()
            items.append(self.sum())
        return items

    def name(self) -> Node:
        tok = self.take()
        word = _ALIASES.get(tok.text, tok.text)
        is_variable = self.variables is not None and tok.text in self.variables
        if word in _FUNCTIONS and not is_variable:
            return self.call(word, tok)
        if self.variables is None:
            follows = self.tok
            if follows.text == "(" and follows.pos == tok.pos + len(tok.text) and word not in _CONSTANTS:
                raise AnswerFormatError(f"unknown function {tok.text!r} at position {tok.pos}; known: "
                                        f"{', '.join(FUNCTION_NAMES)} (for a product write {tok.text}*(…))")
            return Constant(word) if word in _CONSTANTS else Name(tok.text)
        if is_variable:
            return Name(tok.text)
        if word in _CONSTANTS:
            return Constant(word)
        parts = _split(tok.text, self.variables)
        if parts is None:
            if not self.variables:
                raise AnswerFormatError(f"unknown name {tok.text!r} at position {tok.pos} "
                                        "(a number is expected here; no variables)")
            raise AnswerFormatError(f"unknown name {tok.text!r} at position {tok.pos}; "
                                    f"variables here: {', '.join(sorted(self.variables))}")
        node: Node = parts[0]
        for part in parts[1:]:
            node = Binary("*", node, part)
        return node

    def call(self, func: str, tok: _Tok) -> Node:
        exponent = None
        if self.tok.text in ("^", "**"):  # tanh^2(x) and tanh²(x) mean tanh(x)^2
            self.take()
            if self.tok.text == "(" and self.tokens[self.i + 1].kind == "num" and self.tokens[self.i + 2].text == ")":
                self.take()
                exponent = Number(self.take().text)
                self.take(")")
            elif self.tok.kind == "num":
                exponent = Number(self.take().text)
            else:
                raise AnswerFormatError(f"after {tok.text}^ a whole number is expected, as in {tok.text}^2(x)")
        if self.tok.text != "(":
            raise AnswerFormatError(f"{tok.text} at position {tok.pos} needs its argument in brackets, e.g. {tok.text}(x)")
        open_ = self.take()
        self.nest()
        args = self.comma_list()
        if self.tok.text != ")":
            raise AnswerFormatError(self._expected(f"')' to close {tok.text}( at position {open_.pos}"))
        self.take()
        self.depth -= 1
        low, high = _FUNCTIONS[func][0]
        if not low <= len(args) <= high:
            count = f"{low}" if low == high else f"{low} to {high}"
            raise AnswerFormatError(f"{tok.text} takes {count} argument{'s' if high > 1 else ''}, not {len(args)}")
        node: Node = Call(func, tuple(args))
        return Binary("^", node, exponent) if exponent is not None else node


def _split(word: str, variables: set[str]) -> list[Node] | None:
    """`wx` with variables {w, x} → [w, x]: a run of known names written without a sign. At
    each position the longest name that leaves a splittable rest; worked out from the end, so a
    long run of look-alike names costs neither exponential time nor recursion depth."""
    known = sorted(variables | set(_CONSTANTS), key=len, reverse=True)
    step: dict[int, str | None] = {len(word): ""}  # position → the name to take there (None: no split)
    for start in range(len(word) - 1, -1, -1):
        step[start] = next((name for name in known
                            if word.startswith(name, start) and step.get(start + len(name)) is not None), None)
    if step[0] is None:
        return None
    nodes: list[Node] = []
    start = 0
    while start < len(word):
        name = step[start]
        nodes.append(Name(name) if name in variables else Constant(name))
        start += len(name)
    return nodes


def parse(text: str, variables: Collection[str] | None = None, subject: str = "the answer") -> Node:
    """Text → AST. With `variables`, only those names (and known functions/constants) are allowed.
    `subject` is what the messages call the text (the answer, the expression, a template's key)."""
    if not isinstance(text, str):
        raise AnswerFormatError(f"{subject} is not text")
    return _Parser(text, variables, subject).parse()


# --- to SymPy -----------------------------------------------------------------------------------

def to_sympy(node: Node, symbols: Mapping[str, sp.Symbol] | None = None):
    """AST → SymPy expression; a vector → list, a matrix → list of lists."""
    symbols = dict(symbols or {})

    def build(n: Node):
        if isinstance(n, Number):
            return sp.Rational(n.text)
        if isinstance(n, Name):
            if n.name not in symbols:
                symbols[n.name] = sp.Symbol(n.name, real=True)
            return symbols[n.name]
        if isinstance(n, Constant):
            return _CONSTANTS[n.name]
        if isinstance(n, Vector):
            return [build(item) for item in n.items]
        if isinstance(n, Unary):
            value = _scalar(build(n.operand), "a sign")
            return -value if n.op == "-" else value
        if isinstance(n, Call):
            args = [_decimal_if_nested(_scalar(build(a), n.func)) for a in n.args]
            if n.func == "log" and len(args) == 2 and args[1].is_number and (args[1] <= 0 or args[1] == 1):
                raise AnswerFormatError("the base of a log must be positive and not 1")
            shown = f"{_SHOW_FUNCTION.get(n.func, n.func)}(…)"
            try:
                built = _FUNCTIONS[n.func][1](args)
            except (TypeError, ValueError):  # relu, max, step compare: SymPy refuses an argument never real
                raise AnswerFormatError(_NOT_REAL.format(where=f"the argument of {shown}")) from None
            return check_number(built, shown)
        left = _scalar(build(n.left), f"'{n.op}'")
        right = _scalar(build(n.right), f"'{n.op}'")
        if n.op == "+":
            return left + right
        if n.op == "-":
            return left - right
        if n.op == "*":
            return left * right
        if n.op == "/":
            if right == 0:
                raise AnswerFormatError("division by zero")
            return check_number(left / right, "a division")  # 1/softplus(-700): a divisor evaluating to 0
        return check_number(_power(left, right), "a power")

    return build(node)


def _decimal_if_nested(value):
    """A function's argument that is a number made of functions (sigmoid(sigmoid(10^99))), to
    60 digits: the exact nest is worth nothing to the grader, which compares numbers to 1e-9 at
    most, and SymPy asks evalf about it anew at each level it is wrapped in (twice the time per
    level). A form whose digits cannot be vouched for stays exact."""
    if (isinstance(value, sp.Expr) and value.is_number and not value.is_Rational and not value.is_Float
            and not value.free_symbols and value.has(sp.Function)):
        try:
            return graph_number(value, NESTED_DIGITS) or value
        except ArithmeticError:
            return value
    return value


NESTED_DIGITS = 60


def _scalar(value, where: str):
    if isinstance(value, list):
        raise AnswerFormatError(f"a vector cannot be used with {where}; give vectors and matrices as plain lists")
    return value


def _log10_size(value: sp.Expr, where: str = "a number") -> float:
    """How many decimal digits writing `value` exactly takes (numerator or denominator), roughly,
    without building anything big: 1/10^500 is small but has 500 digits, like 10^500."""
    if isinstance(value, sp.Rational):
        return max(math.log10(abs(value.p)) if value.p else 0.0, math.log10(value.q))
    # Evaluate first, then take abs: abs() of an exact form makes SymPy look for its sign
    # symbolically, which costs far more than the evaluation (most of an expression problem's time).
    approx = mpmath.mpf(abs(_approx(value, where)))  # mpmath floats have unbounded exponents
    return 0.0 if approx == 0 else abs(float(mpmath.log10(approx)))


def check_power(base: sp.Expr, exponent: sp.Expr) -> None:
    """Refuse base^exponent when the result would be too large to be an answer (9^9^9^9,
    (1 + 10^-500)^10000) or undefined (0^-1), judging from sizes without computing the power."""
    if not (exponent.is_number and not exponent.free_symbols):
        return
    size = abs(exact_number(exponent, 15))
    if base.is_number and not base.free_symbols:
        if base not in (0, 1, -1) and size * _log10_size(base) > MAX_DIGITS:
            raise AnswerFormatError("a number that large (or small) cannot be an answer here")
    elif size > MAX_SYMBOLIC_EXPONENT:
        raise AnswerFormatError(f"an exponent above {MAX_SYMBOLIC_EXPONENT} cannot be an answer here")
    else:  # (10^300·z)^100 is 10^30000·z^100 to SymPy: the number in front is raised too
        coefficient = _coefficient(base)
        if coefficient not in (0, 1, -1) and size * _log10_size(coefficient) > MAX_DIGITS:
            raise AnswerFormatError("a number that large (or small) cannot be an answer here")
    if base == 0 and exponent.is_negative:
        raise AnswerFormatError("division by zero (0 to a negative power)")


def _coefficient(base: sp.Expr) -> sp.Expr:
    """The number SymPy takes out of a power's base: 10^300 in 10^300·z, and in (10^300·z)^100."""
    if base.is_Pow and base.exp.is_number:
        return _coefficient(base.base) ** base.exp
    if isinstance(base, sp.Piecewise):  # (leaky_relu(2z))^100 is a Piecewise of (2z)^100 and (z/100)^100
        return max((_coefficient(piece) for piece, _ in base.args), key=lambda c: _log10_size(c))
    return base.as_coeff_Mul()[0]


def check_number(value: sp.Expr, where: str) -> sp.Expr:
    """A number computed from an answer must be real, finite and of a writable size:
    log(0), sqrt(-1), (-8)^(1/3) and exp(10^100) are not answers (and would crash printing).
    Judged from its decimals, evaluated once: asking SymPy whether an exact nest is real asks
    evalf the same question again at every level of the nest."""
    if not (value.is_number and not value.free_symbols):
        return value
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise AnswerFormatError(f"{where} is not defined (division by zero or the log of 0)")
    if value.has(sp.I):
        raise AnswerFormatError(_NOT_REAL.format(where=where))
    approx = _approx(value, where)
    if approx.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise AnswerFormatError(f"{where} is not defined (division by zero or the log of 0)")
    real, imaginary = approx.as_real_imag()
    if imaginary != 0 and abs(imaginary) > 1e-12 * max(1, abs(real)):  # (-1)^π: max and step would crash on it
        raise AnswerFormatError(_NOT_REAL.format(where=where))
    check_size(value if value.is_Rational else real, where)
    return value


_NOT_REAL = "{where} is not a real number (e.g. the log or square root of a negative number)"


def _approx(value: sp.Expr, where: str) -> sp.Expr:
    """`value` to 15 digits. SymPy's evaluation can fail on forms that are fine in exact terms
    (log(1 + e^-700) evaluates to 0, so 1/softplus(-700) divides by zero): such an answer cannot
    be graded, which is an invalid answer, not a crash."""
    try:
        return exact_number(value, 15)
    except (ArithmeticError, ValueError, TypeError) as e:
        raise AnswerFormatError(f"{where} cannot be evaluated to a number (a divisor too close to 0, or a number "
                                f"past {MAX_DIGITS:,} digits)") from e


def check_size(value: sp.Expr, where: str) -> sp.Expr:
    """A number of a writable size: exp(10^100) and 1/10^50000 are not answers. `value` may be an
    exact form or its decimal approximation (except a Rational, whose size is its digits)."""
    if _log10_size(value, where) > MAX_DIGITS:
        raise AnswerFormatError(f"{where} is a number too large (or too small) to be an answer here")
    return value


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    check_power(base, exponent)
    return sp.Pow(base, exponent)


def parse_expression(text: str, variables: Collection[str] | None = None) -> sp.Expr:
    value = to_sympy(parse(text, variables))
    if isinstance(value, list):
        raise AnswerFormatError("a single expression is expected here, not a list")
    return value


def variables_of(node: Node) -> tuple[str, ...]:
    """The variables, in order of first appearance."""
    seen: dict[str, None] = {}

    def walk(n):
        if isinstance(n, Name):
            seen.setdefault(n.name, None)
        elif isinstance(n, (Call, Vector)):
            for child in (n.args if isinstance(n, Call) else n.items):
                walk(child)
        elif isinstance(n, Unary):
            walk(n.operand)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)

    walk(node)
    return tuple(seen)


# --- the echo: the answer as it was understood ----------------------------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}
_SHOW_FUNCTION = {"log": "ln", "sqrt": "√"}  # the activations by their display names (σ)


def unparse(node: Node) -> str:
    """A readable Unicode form: σ(z)·(1 − σ(z)), x², [0.1, −0.2]."""
    return _show(node, 0)


def _show(n: Node, outer: int) -> str:
    if isinstance(n, Number):
        return n.text
    if isinstance(n, Name):
        return n.name
    if isinstance(n, Constant):
        return "π" if n.name == "pi" else "e"
    if isinstance(n, Vector):
        return "[" + ", ".join(_show(i, 0) for i in n.items) + "]"
    if isinstance(n, Call):
        name = _SHOW_FUNCTION.get(n.func) or display_name(n.func)
        return f"{name}(" + ", ".join(_show(a, 0) for a in n.args) + ")"
    if isinstance(n, Unary):
        text = ("−" if n.op == "-" else "+") + _show(n.operand, _PRECEDENCE["neg"])
        return f"({text})" if outer > _PRECEDENCE["neg"] or outer == _PRECEDENCE["*"] + 0.5 else text
    prec = _PRECEDENCE[n.op]
    if n.op == "^":
        left = _show(n.left, prec + 1)
        if isinstance(n.right, Number) and re.fullmatch(r"\d+", n.right.text):
            text = left + superscript(n.right.text)
        elif isinstance(n.right, Unary) and isinstance(n.right.operand, Number) and re.fullmatch(r"\d+", n.right.operand.text):
            text = left + superscript("-" + n.right.operand.text)
        else:
            text = f"{left}^{_show(n.right, prec)}"
    else:
        symbol = {"+": " + ", "-": " − ", "*": "·", "/": "/"}[n.op]
        right_prec = prec + 1 if n.op in ("-", "/") else prec
        text = _show(n.left, prec) + symbol + _show(n.right, right_prec + (0.5 if n.op == "*" else 0))
    return f"({text})" if prec < outer else text

"""A formula key in Maxima's syntax, for STACK (Moodle's CAS question type) to grade.

The key is read by the tutor's own parser (engine.parsing) and its tree written out again, so
nothing is translated by text substitution. Maxima knows exp, log, sqrt, abs, tanh, sinh, cosh,
sech, erf, max and min under our names; the activations it lacks are written as their
definitions (engine.activations), in forms its simplifier can compare (AlgEquiv):
sigmoid(u) = 1/(1+exp(-u)), relu(u) = max(0, u), leaky_relu(u) = max(u, u/100) (the two
agree because the slope is between 0 and 1), elu(u) = max(0, u) + min(0, exp(u) - 1),
softplus, silu, gelu (through erf) and gelu_tanh as written; only step, whose value at 0 is 1,
needs an `if`. Decimals become exact fractions (0.01 → 1/100), because Maxima's floats would
make AlgEquiv compare rounded numbers; e and pi become %e and %pi.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction

from backprop_tutor.engine.activations import GELU_TANH_CUBIC, LEAKY_SLOPE
from backprop_tutor.engine.parsing import Binary, Call, Constant, Name, Number, Unary, Vector, parse
from backprop_tutor.errors import TutorError

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}
_ATOM = 5
_NATIVE = {"tanh", "sinh", "cosh", "sech", "exp", "sqrt", "abs", "erf", "max", "min"}
_CONSTANTS = {"e": "%e", "pi": "%pi"}

assert 0 <= LEAKY_SLOPE <= 1, "leaky_relu = max(u, slope·u) holds only for a slope in [0, 1]"


def _fraction(value) -> str:
    value = Fraction(str(value))
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


# name → the definition, from its argument's text (already bracketed); the result is bracketed
_DEFINITIONS: dict[str, Callable[[str], str]] = {
    "identity": lambda u: u,
    "sigmoid": lambda u: f"(1/(1+exp(-{u})))",
    "relu": lambda u: f"max(0,{u})",
    "leaky_relu": lambda u: f"max({u},({_fraction(LEAKY_SLOPE)})*{u})",
    "softplus": lambda u: f"log(1+exp({u}))",
    "elu": lambda u: f"(max(0,{u})+min(0,exp({u})-1))",
    "silu": lambda u: f"({u}/(1+exp(-{u})))",
    "gelu": lambda u: f"({u}*(1+erf({u}/sqrt(2)))/2)",
    "gelu_tanh": lambda u: f"({u}*(1+tanh(sqrt(2/%pi)*({u}+({_fraction(GELU_TANH_CUBIC)})*{u}^3)))/2)",
    "step": lambda u: f"(if {u} >= 0 then 1 else 0)",
}


class MaximaError(TutorError, ValueError):
    """A formula with no Maxima form here (a list, or a function this module does not know)."""


def to_maxima(text: str, variables: tuple[str, ...] | None = None, where: Mapping[str, str] | None = None) -> str:
    """A formula key (our answer syntax) → Maxima. A name defined in `where` is replaced by its
    expression (bracketed), as the grader reads it: STACK forbids question variables in answers,
    so the key must be in the part's variables alone. variables None: any name is a variable."""
    defined = {name: _write(parse(expression, variables), 0, {}) for name, expression in (where or {}).items()}
    return _write(parse(text, None if variables is None else tuple(variables) + tuple(defined)), 0, {k: f"({v})" for k, v in defined.items()})


def _write(node, outer: float, defined: Mapping[str, str]) -> str:
    if isinstance(node, Number):
        value = _fraction(node.text)
        return f"({value})" if "/" in value and outer > 0 else value
    if isinstance(node, Name):
        return defined.get(node.name, node.name)
    if isinstance(node, Constant):
        return _CONSTANTS[node.name]
    if isinstance(node, Vector):
        raise MaximaError("a list has no single Maxima formula here")
    if isinstance(node, Call):
        args = [_write(a, 0, defined) for a in node.args]
        if node.func in _NATIVE:
            return f"{node.func}({','.join(args)})"
        if node.func == "log":  # log(x, b): the base b, as engine.parsing reads it (SymPy's log(x, b))
            return f"log({args[0]})" if len(args) == 1 else f"(log({args[0]})/log({args[1]}))"
        if node.func in _DEFINITIONS:
            return _DEFINITIONS[node.func](_write(node.args[0], _ATOM, defined))
        raise MaximaError(f"the function {node.func} has no Maxima form here")
    if isinstance(node, Unary):
        text = ("-" if node.op == "-" else "") + _write(node.operand, _PRECEDENCE["neg"] + 0.5, defined)
        return f"({text})" if outer > 0 else text  # never a--b or a*-b, whose reading varies
    prec = _PRECEDENCE[node.op]
    if node.op == "^":  # both sides bracketed unless atoms: no reliance on Maxima's ^ associativity
        text = f"{_write(node.left, _ATOM, defined)}^{_write(node.right, _ATOM, defined)}"
    else:
        right = prec + 0.5 if node.op in ("-", "/") else prec  # a-(b-c), a/(b*c) keep their brackets
        text = f"{_write(node.left, prec, defined)}{node.op}{_write(node.right, right, defined)}"
    return f"({text})" if prec < outer else text


def functions_of(*texts: str) -> tuple[str, ...]:
    """The activations the formulas call that Maxima lacks (written out by to_maxima), in order
    of first appearance: what a student must be told to write out."""
    seen: dict[str, None] = {}

    def walk(node) -> None:
        if isinstance(node, Call) and node.func in _DEFINITIONS:
            seen.setdefault(node.func, None)
        for child in (node.args if isinstance(node, Call) else node.items if isinstance(node, Vector)
                      else (node.operand,) if isinstance(node, Unary)
                      else (node.left, node.right) if isinstance(node, Binary) else ()):
            walk(child)

    for text in texts:
        walk(parse(text))
    return tuple(seen)

"""The formulas inside a line of prose, found and typeset as LaTeX math: in "the factor ½ cancels
the 2 of the power rule: ∂L/∂oⱼ = oⱼ − tⱼ" the run `∂L/∂oⱼ = oⱼ − tⱼ` is one formula
($\\partial L/\\partial o_{j} = o_{j} - t_{j}$, italic letters, a real minus), the words text.

A formula run is a maximal stretch of math tokens (letters with their scripts and primes,
numbers, ∂, operators, brackets, function calls) and the spaces between them. Words end a run.
A run becomes math only if it holds evidence of being one (an operator, a Greek letter, ∂, a
script, a prime, a function call): a lone "a" or "I" in a sentence, "layer 1" or "A 2-2-1
network" stay words."""

from __future__ import annotations

import re

from backprop_tutor.engine.numbers import UNRAISED

_RAISED = "".join(UNRAISED)
_LOWERED = dict(zip("₀₁₂₃₄₅₆₇₈₉ⱼₖᵢ₊₋", "0123456789jki+-"))  # ᵢ₊ⱼ: a conv1d position i + j
_GREEK = {"α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
          "η": r"\eta", "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "π": r"\pi", "σ": r"\sigma",
          "τ": r"\tau", "φ": r"\varphi", "ω": r"\omega", "Δ": r"\Delta", "Σ": r"\sum", "Φ": r"\Phi"}
_OPERATORS = {"=": "=", "+": "+", "−": "-", "-": "-", "·": r"\cdot", "×": r"\times", "/": "/",
              "→": r"\to", "←": r"\leftarrow", "≥": r"\ge", "≤": r"\le", "≈": r"\approx",
              "⊙": r"\odot", "<": "<", ">": ">", "*": r"\cdot", "∂": r"\partial", "½": r"\tfrac12",
              "√": r"\surd"}
_NAMED = {"tanh", "ln", "exp", "log", "sin", "cos", "max", "min"}  # LaTeX has \tanh, \ln, …
# A function's name is math when it is called (tanh(z), tanh²(z), relu′(0)); ln, exp and log
# also before a bare argument (t ln o).
_BARE_ARGUMENT = {"ln", "exp", "log"}
_FUNCTIONS = _NAMED | {"sigmoid", "softmax", "softplus", "relu", "leaky_relu"}

_TOKEN = re.compile(
    rf"(?P<space> +)|(?P<word>[A-Za-z][A-Za-z_]*[A-Za-z0-9_]*|[A-Za-z]\d+)|(?P<number>\d+(?:\.\d+)?)"
    rf"|(?P<greek>[{''.join(_GREEK)}])|(?P<raised>[{_RAISED}]+)|(?P<lowered>[{''.join(_LOWERED)}]+)"
    rf"|(?P<prime>′+)|(?P<power>\^(?=\S))|(?P<open>[(\[])|(?P<close>[)\]])"
    rf"|(?P<op>[{re.escape(''.join(_OPERATORS))}])|(?P<other>.)", re.S)
_MATH = {"greek", "raised", "lowered", "prime", "power", "op", "open", "close", "number", "space"}
_EVIDENCE = {"greek", "raised", "lowered", "prime", "power", "op", "call", "applied"}
_BINARY = {"=", "+", "−", "-", "·", "×", "/", "→", "≥", "≤", "≈", "⊙", "<", ">", "*"}


def formula_runs(text: str) -> list[tuple[str, bool]]:
    """`text` cut into pieces, each (piece, is_formula), in order; joined they give `text`."""
    tokens = _classify([(m.lastgroup, m[0]) for m in _TOKEN.finditer(text)])
    out: list[tuple[str, bool]] = []
    run: list[tuple[str, str]] = []
    for kind, value in tokens + [("other", "")]:
        if kind in _MATH or kind in ("letter", "call", "applied"):
            run.append((kind, value))
            continue
        out += _settle(run)
        run = []
        out.append((value, False))
    return [(piece, math) for piece, math in _merge(out) if piece]


def typeset(run: str, after_word: bool = False) -> str:
    """A formula run as LaTeX math (without the dollars); `after_word`: the run follows a word
    ("ratio − ∂L/∂w"), so an operator it starts with keeps a binary operator's spacing."""
    tokens = _classify([(m.lastgroup, m[0]) for m in _TOKEN.finditer(run)])
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "power":
            exponent, i = _exponent(tokens, i + 1)
            out.append(f"^{{{exponent}}}")
            continue
        out.append(_token(kind, value))
        i += 1
    latex = re.sub(" +", " ", "".join(out)).strip()
    latex = re.sub(r" +(?=[\^_')\]/])", "", latex)  # \sigma' and \delta^{(2)}, not \sigma ' and \delta ^
    latex = re.sub(r"(\\[A-Za-z]+) (?=\()", r"\1", latex)  # \sigma(z), not \sigma (z)
    binary = [kind == "op" and value in _BINARY for kind, value in tokens if kind != "space"]
    if after_word and len(binary) > 1 and binary[0]:
        latex = "{}" + latex
    if len(binary) > 1 and binary[-1]:
        latex += "{}"
    return latex


def _classify(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Words become letters (x, u1), calls (tanh(, relu′) or stay words; a hyphen inside a
    word or a label (one-hot, 2-2-1) is a hyphen, not a minus."""
    out = []
    for i, (kind, value) in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        before = tokens[i - 1] if i else ("", "")
        if kind == "word":
            if len(value) == 1 or re.fullmatch(r"[A-Za-z]\d+", value):
                kind = "applied" if after[1] == "(" else "letter"  # f(z), L(w): a function applied
            elif after[0] in ("prime", "raised") or after[1] == "(" or (
                    value in _BARE_ARGUMENT and after[0] == "space" and i + 2 < len(tokens)
                    and tokens[i + 2][0] in ("letter", "word") and len(tokens[i + 2][1]) == 1):
                kind = "call"
            elif value in _FUNCTIONS and _after_operator(tokens, i):
                kind = "call"  # f = tanh: the function itself
        elif kind == "op" and value == "-" and before[0] in ("word", "number", "letter") \
                and after[0] in ("word", "number"):
            kind = "other"
        out.append((kind, value))
    return out


def _after_operator(tokens: list[tuple[str, str]], i: int) -> bool:
    before = [token for token in tokens[max(0, i - 2):i] if token[0] != "space"]
    return bool(before) and before[-1][0] == "op"


def _settle(run: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    """A stretch of math tokens as pieces: brackets that do not close inside it are prose
    (the parenthesis of an aside), a bracket after a closed group and a space starts a new
    formula, and a piece without evidence (a lone letter, a number) stays text."""
    if not run:
        return []
    unmatched, stack = set(), []
    for i, (kind, value) in enumerate(run):
        if kind == "open":
            stack.append(i)
        elif kind == "close":
            if stack and "([".index(run[stack[-1]][1]) == ")]".index(value):
                stack.pop()
            else:
                unmatched.add(i)
    unmatched |= set(stack)
    pieces, current = [], []
    for i, token in enumerate(run):
        aside = (token[0] == "open" and i >= 2 and run[i - 1][0] == "space"
                 and run[i - 2][0] == "close")
        if i in unmatched or aside:
            pieces.append(current)
            current = []
            if i in unmatched:
                pieces.append([("other", token[1])])
                continue
        current.append(token)
    pieces.append(current)
    out = []
    for piece in pieces:
        text = "".join(value for _, value in piece)
        if piece and piece[0][0] == "other":
            out.append((text, False))
            continue
        head, piece, tail = _prose_edges(piece)
        core = "".join(value for _, value in piece)
        if core and any(kind in _EVIDENCE for kind, _ in piece) and not _signed_number(piece):
            out += [(head, False), (core, True), (tail, False)]
        else:
            out.append((text, False))
    return out


def _prose_edges(piece: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]], str]:
    """Spaces at either end, and a lone letter there that stands beside a number or a letter
    rather than an operator ("as a 2×3 matrix"), are prose: (before, formula, after)."""
    start, end = 0, len(piece)
    while True:
        while start < end and piece[start][0] == "space":
            start += 1
        while end > start and piece[end - 1][0] == "space":
            end -= 1
        inner = piece[start:end]
        if len(inner) > 2 and inner[0][0] == "letter" and inner[1][0] == "space" \
                and inner[2][0] in ("number", "letter", "applied"):
            start += 1
        elif len(inner) > 2 and inner[-1][0] == "letter" and inner[-2][0] == "space" \
                and inner[-3][0] in ("number", "letter"):
            end -= 1
        else:
            break
    return _joined(piece[:start]), piece[start:end], _joined(piece[end:])


def _joined(tokens: list[tuple[str, str]]) -> str:
    return "".join(value for _, value in tokens)


def _signed_number(piece: list[tuple[str, str]]) -> bool:
    """−0.5 on its own is a number in a table cell, not a formula."""
    solid = [token for token in piece if token[0] != "space"]
    return len(solid) == 2 and solid[0][1] in ("−", "-") and solid[1][0] == "number"


def _merge(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for piece, math in pieces:
        if out and not math and not out[-1][1]:
            out[-1] = (out[-1][0] + piece, False)
        else:
            out.append((piece, math))
    return out


def _token(kind: str, value: str) -> str:
    if kind == "greek":
        return _GREEK[value] + " "
    if kind == "raised":
        return "^{" + value.translate(str.maketrans(UNRAISED)) + "}"
    if kind == "lowered":
        return "_{" + value.translate(str.maketrans(_LOWERED)) + "}"
    if kind == "prime":
        return "'" * len(value)
    if kind == "op":
        return _OPERATORS[value] + (" " if _OPERATORS[value].startswith("\\") else "")
    if kind == "call":
        return "\\" + value if value in _NAMED else r"\operatorname{" + value.replace("_", r"\_") + "}"
    return value


def _exponent(tokens: list[tuple[str, str]], i: int) -> tuple[str, int]:
    """The exponent after ^: a bracketed group (its brackets dropped, e^(−z) → e^{-z}) or one
    token with its sign (e^z, x^-2)."""
    if i < len(tokens) and tokens[i][1] == "(":
        depth, j = 0, i
        while j < len(tokens):
            depth += {"(": 1, ")": -1}.get(tokens[j][1], 0)
            if depth == 0:
                break
            j += 1
        return typeset("".join(v for _, v in tokens[i + 1:j])), j + 1
    j = i + (i < len(tokens) and tokens[i][1] in "−-")
    return typeset("".join(v for _, v in tokens[i:j + 1])), j + 1

"""One LaTeX formula as a MathML element, which browsers render natively (docs/formats.md, HTML).

latex2mathml does the conversion. A few things are settled around it, because it passes some
input through as it came: the text of \\text{…} (where a template's or roster's `<`, `&` or `"`
would become markup), a backslash it does not know (`\\foo` would show as "\\foo"),
`\\operatorname{leaky\\_relu}` (which it splits into letters after an empty operator), and the
aligned environment (which it does not know: split, the same layout, stands in). Its
output is parsed again and every element checked to be MathML before it is used; anything it
cannot convert, or converts into something else, is shown as its LaTeX source in a
`<code class="unconverted">`, which a test of every template looks for.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from xml.etree import ElementTree

MATHML = "http://www.w3.org/1998/Math/MathML"
UNCONVERTED = "unconverted"  # the class of a formula shown as its source

# Characters that must reach the page as text: stand-ins from Unicode's private use area cross
# the converter untouched and become character references afterwards.
_STAND_IN = {"<": "\ue000", ">": "\ue001", "&": "\ue002", '"': "\ue003", "{": "\ue004", "}": "\ue005"}
_RESTORED = {v: f"&#{ord(k)};" for k, v in _STAND_IN.items()}
_TEXT_ESCAPES = {r"\_": "_", r"\&": "&", r"\%": "%", r"\#": "#", r"\$": "$", r"\{": _STAND_IN["{"],
                 r"\}": _STAND_IN["}"]}
_TEXT = re.compile(r"\\(text|texttt|operatorname)\{((?:[^{}]|\{[^{}]*\})*)\}")
_ELEMENT = re.compile(r"<(?!/)([A-Za-z]+)")
# The presentation MathML elements latex2mathml writes: anything else in its output (a tag made
# of a \text's content, say) refuses the formula.
_ALLOWED = {"math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
            "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom",
            "menclose", "merror", "ms"}

# A minus sign before a number, where it cannot be a subtraction (first in its row, or after an
# operator that is not a closing bracket or a prime): latex2mathml writes it as an operator of
# its own, which browsers space as a binary minus, "( − 0.7)". One number token keeps it tight.
_SIGNED = re.compile(r"(<mrow>|<math[^>]*>|<mtd>|<mo[^>]*>([^<]*)</mo>)<mo>&#x02212;</mo><mn>([^<]*)</mn>")
_NOT_BEFORE_A_SIGN = {"&#x00029;", "&#x0005D;", "&#x0007C;", "&#x0007D;", "&#x02016;", "&#x02032;"}  # ) ] | } ‖ ′


def _signed_numbers(converted: str) -> str:
    def joined(match: re.Match) -> str:
        if match[2] in _NOT_BEFORE_A_SIGN:
            return match[0]
        return f"{match[1]}<mn>&#x02212;{match[3]}</mn>"

    return _SIGNED.sub(joined, converted)


# Half of a class's formulas are the same in every key (symbols, the conventions, short numbers):
# converted once each. Bounded, so memory stays flat over a class of any size.
@lru_cache(maxsize=8192)
def mathml(tex: str, display: bool = False) -> str:
    """`tex` (math mode, without delimiters) as one <math> element, inline or as a block."""
    try:
        from latex2mathml.converter import convert  # imported here: `tutor --help` never loads it

        converted = convert(_prepared(tex), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - the converter raises many kinds on input it cannot read
        return unconverted(tex)
    if "\\" in converted or not _is_mathml(converted):
        return unconverted(tex)
    converted = _signed_numbers(converted)
    for stand_in, reference in _RESTORED.items():
        converted = converted.replace(stand_in, reference)
    # HTML puts <math> in the MathML namespace itself; without the attribute no URL is left in a page
    return converted.replace(f' xmlns="{MATHML}"', "", 1)


def unconverted(tex: str) -> str:
    return f'<code class="{UNCONVERTED}">{html.escape(tex)}</code>'


def _prepared(tex: str) -> str:
    """The formula with the text inside \\text{…} and \\texttt{…} unescaped and made inert (a
    formula inside the text, `\\text{ ($x = 0$ by convention)}`, back in the formula), and a
    function name with an underscore (leaky_relu) written as such text, one upright word."""
    def text(match: re.Match) -> str:
        command, inner = match[1], match[2]
        if command == "operatorname":
            if r"\_" not in inner:
                return match[0]
            command = "text"
        pieces = re.split(r"(?<!\\)\$", inner)  # text, formula, text, …
        return "".join(piece if i % 2 else _inert(command, piece) for i, piece in enumerate(pieces) if piece)

    # latex2mathml has no aligned environment (it reads each & as a letter); split is the same
    # layout, and it has that
    return _TEXT.sub(text, tex).replace(r"\begin{aligned}", r"\begin{split}").replace(r"\end{aligned}", r"\end{split}")


def _inert(command: str, text: str) -> str:
    for escaped, plain in _TEXT_ESCAPES.items():
        text = text.replace(escaped, plain)
    text = "".join(_STAND_IN.get(ch, ch) if ch in '<>&"' else ch for ch in text)
    return rf"\{command}{{{text}}}"


def _is_mathml(converted: str) -> bool:
    """Whether the converter's output is well-formed MathML and nothing but MathML."""
    if any(tag not in _ALLOWED for tag in _ELEMENT.findall(converted)):
        return False
    try:
        root = ElementTree.fromstring(converted)
    except ElementTree.ParseError:
        return False
    return root.tag == f"{{{MATHML}}}math"

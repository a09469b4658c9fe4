"""The bank's catalogue: a template's id, title, kind, level and skills, read with YAML alone.

`tutor bank list`, `tutor stats` and the choice of the next practice problem need only these.
Loading a whole template (bank/template.py) builds SymPy objects, and importing SymPy alone takes
longer than everything those commands do; this module imports neither SymPy nor the kinds.

The file is read and these fields are checked here, once: bank/template.py starts from an Entry
and checks the rest, so the catalogue and the loader cannot disagree about a template's title
or skills, nor word the same mistake two ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop_tutor.bank.kinds import NAMES as KINDS
from backprop_tutor.engine.files import ReadProblem, read_bytes
from backprop_tutor.errors import TemplateError, check_keys, describe, did_you_mean, yaml_problem

SKILLS = ("forward_pass", "activation_derivative", "chain_rule", "loss_derivative", "output_delta",
          "hidden_delta", "weight_gradient", "bias_gradient", "update", "finite_difference", "vectorized")
MAX_TEMPLATE_BYTES = 200_000
TOP_KEYS = ("id", "title", "kind", "skills", "level", "statement", "parameters", "network", "activation",
            "expression", "constraints", "parts")
REQUIRED = ("title", "kind", "skills", "level", "parts")


@dataclass(frozen=True)
class Entry:
    """A template as the catalogue lists it (docs/formats.md, Templates)."""

    id: str  # the file stem
    source: str  # the file it came from
    title: str
    kind: str  # one of bank.kinds.NAMES
    skills: tuple[str, ...]
    level: int


def read_entry(path: str | Path) -> Entry:
    path = Path(path)
    return entry_from_dict(read_yaml(path), path.stem, str(path))


def read_yaml(path: Path) -> Any:
    """A template file's data: at most MAX_TEMPLATE_BYTES of UTF-8, parsed by a safe loader."""
    source = str(path)
    try:
        text = read_bytes(path, MAX_TEMPLATE_BYTES, "a template").decode("utf-8")
    except ReadProblem as e:
        raise TemplateError(str(e), source=source) from None
    except UnicodeDecodeError:
        raise TemplateError("not a text file (it is not UTF-8)", source=source) from None
    from backprop_tutor.engine import yamlio

    try:
        return yamlio.load(text)
    except yamlio.YAMLError as e:
        raise TemplateError(yaml_problem(e), source=source) from None


def entry_from_dict(data: Any, stem: str, source: str) -> Entry:
    """The top of a template checked: a mapping of known keys with the required ones, the id,
    title, kind, skills and level; each mistake a TemplateError naming the file and the key."""
    fail = failure(source)
    if data is None:
        raise TemplateError("the file is empty", source=source, fix=f"a template needs {', '.join(REQUIRED)}")
    if not isinstance(data, dict):
        raise TemplateError(f"expected a mapping with keys {', '.join(REQUIRED)}, found {describe(data)}", source=source)
    check_keys(data, TOP_KEYS, "", fail)
    for key in REQUIRED:
        if key not in data:
            raise fail(key, "missing (a template needs " + ", ".join(REQUIRED) + ")")
    if "id" in data and data["id"] != stem:
        raise fail("id", f"{data['id']!r} differs from the file name; the id is the file stem, {stem!r} (or leave id out)")
    title = check_text(data["title"], "title", fail, one_line=True)
    kind = data["kind"]
    if kind not in KINDS:
        raise fail("kind", f"unknown kind {kind!r}{did_you_mean(kind, KINDS)}; use one of {', '.join(KINDS)}")
    skills = data["skills"]
    if not isinstance(skills, list) or not skills:
        raise fail("skills", f"expected a non-empty list of skills from: {', '.join(SKILLS)}")
    for i, skill in enumerate(skills):
        check_skill(skill, f"skills[{i}]", fail)
    level = data["level"]
    if isinstance(level, bool) or level not in (1, 2, 3):
        raise fail("level", f"expected 1, 2 or 3, found {level!r}")
    return Entry(stem, source, title, kind, tuple(skills), level)


def failure(source: str):
    """`fail(key, message, fix)`: the TemplateError of one key of the file `source`."""
    def fail(key: str, message: str, fix: str | None = None) -> TemplateError:
        return TemplateError(message, source=source, key=key, fix=fix)

    return fail


def check_skill(value: Any, key: str, fail) -> str:
    if value not in SKILLS:
        raise fail(key, f"unknown skill {value!r}{did_you_mean(value, SKILLS)}; use one of {', '.join(SKILLS)}")
    return value


# Control characters (C0, DEL, C1): XML 1.0 forbids most of them, so one in a title made moodle.xml
# ill-formed; pdflatex stops on them; in a terminal they are escape codes. A text may hold line
# breaks and tabs; a title, which is one line of a listing, not even those.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_text(value: Any, key: str, fail, allow_empty: bool = False, one_line: bool = False) -> str:
    if not isinstance(value, str):
        raise fail(key, f"expected text, found {describe(value)}")
    if not allow_empty and not value.strip():
        raise fail(key, "is empty; write the text")
    control = (_CONTROL_IN_LINE if one_line else _CONTROL).search(value)
    if control:
        where = "" if one_line else " other than a line break or a tab"
        raise fail(key, f"holds the control character {control[0]!r} at position {control.start()}; "
                   f"no control character{where} may appear in it")
    return value

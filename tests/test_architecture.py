"""The architecture of docs/architecture.md holds: imports point down the layers, only the
command line talks to the terminal, the command line starts without the engine, and the slip
catalogue the grader uses is the one the docs publish."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "2 kept, 0 broken" in out


def test_the_command_line_starts_without_sympy_or_rich():
    """`tutor --help` must be instant: the engine and the terminal library load inside commands."""
    code = "import sys, backprop_tutor.cli; print(sorted(m for m in ('sympy', 'rich', 'mpmath') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _table(doc: str, heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after `heading`, cells stripped of backticks."""
    text = doc.split(heading, 1)[1]
    rows = []
    for line in text.splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip().strip("`") for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # after the header and the ---


def test_the_documented_slips_are_the_graders():
    from backprop_tutor.engine import rules, slips

    doc = (ROOT / "docs" / "rules-and-slips.md").read_text(encoding="utf-8")
    documented = {row[0]: row[1] for row in _table(doc, "## Slips")}
    with_rules = {s.name: s.replaces for s in slips.SLIPS if s.rule is not None}
    assert documented == with_rules
    ruleless = {row[0] for row in _table(doc, "which have no rule of their own")}
    assert ruleless == {s.name for s in slips.SLIPS if s.rule is None}
    assert {row[0] for row in _table(doc, "## Rules")} == {r.name for r in rules.RULES}


def test_formats_doc_lists_the_catalogue_names():
    """docs/formats.md sends readers to the catalogue and names its slips."""
    from backprop_tutor.engine import slips

    formats = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    assert "rules-and-slips.md" in formats
    for name in ("forgot_activation_slope", "slope_at_activation", "error_sign", "kept_power_two",
                 "weights_not_transposed"):
        assert name in slips.BY_NAME and name in formats


def test_docstrings_cite_only_the_repository():
    """Code cites the project's own docs, never a file outside the repository."""
    outside = re.compile(r"\.\./shared|PRODUCT\.md|STYLE\.md|learner-question")
    for path in (ROOT / "backprop_tutor").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not outside.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_every_subpackage_is_packaged():
    """A plain `pip install .` ships what pyproject lists; a new subpackage must be listed too."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "backprop_tutor").rglob("__init__.py")}
    assert found <= listed, found - listed


def test_the_kind_names_templates_may_use_are_the_kinds():
    """bank/kinds.NAMES (read before any kind is imported) names exactly the kinds there are."""
    from backprop_tutor.bank.kinds import NAMES, kinds

    assert NAMES == tuple(kinds()) and all(kind.name == name for name, kind in kinds().items())
